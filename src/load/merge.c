/*-------------------------------------------------------------------------
 *
 * merge.c
 *		  The incremental merge in C: each pulled row applied to the target
 *		  by a lookup on its primary key index.
 *
 * An incremental run merges the rows it pulls as they stream from MySQL
 * (sink.c hands each converted batch here), so its cost is that of the
 * changes, not of the table: for every row one probe of the target's
 * primary key index (or none, when the row is the one that follows the
 * last row found in the heap: rows that come in the heap's order); a row
 * whose columns are byte for byte those of the target's copy is left alone
 * (not rewritten: its xmin stays), a row that differs is updated in place,
 * a new one is inserted with its index entries.  This is what "INSERT ...
 * ON CONFLICT (key) DO UPDATE ...  WHERE NOT record_image_eq(...)" does
 * (incremental.c's EtlPullMerge, which stays for the targets this path
 * does not take), in the shape of PostgreSQL's logical replication apply
 * (execReplication.c): the table AM's insert and update,
 * ExecInsertIndexTuples, ExecConstraints.
 *
 * An ordered merge (EtlPullMergerOrdered, for load/rowdiff.c) takes the
 * rows in key order and walks the primary key index beside them instead
 * of probing it per row, deleting the target rows the source lacks.
 *
 * Only a target the same statement would load with nothing more than
 * that takes this path (EtlPullMergeUnsuitable): a plain heap table with
 * no triggers (which also rules out foreign keys and deferred
 * constraints), no row level security, no rules, no stored generated
 * columns, whose primary key is the source's key.  Publications need
 * nothing: the heap's updates are WAL-logged with their key for logical
 * decoding, and the primary key is the replica identity.
 *
 * The load holds the target in ExclusiveLock, so no other session writes
 * or locks its rows while the merge runs: the probes read one snapshot
 * taken after that lock, and no tuple needs locking before its update.
 * Under REPEATABLE READ a row committed after the transaction's snapshot
 * is a serialization failure, as the SQL statement reports it.
 *
 * IDENTIFICATION
 *		  src/load/merge.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/heapam.h"
#include "access/nbtree.h"
#include "access/relscan.h"
#include "access/tableam.h"
#include "access/sysattr.h"
#include "access/xact.h"
#include "catalog/pg_am.h"
#include "catalog/pg_class.h"
#include "executor/executor.h"
#include "miscadmin.h"
#include "parser/parse_relation.h"
#include "utils/datum.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"

#include "etl_pull.h"
#include "load/load.h"

struct EtlPullMerger
{
	Relation	rel;
	MemoryContext cxt;			/* the scan's: lives as long as the merge */
	ResultRelInfo *rri;
	EState	   *estate;
	Relation	index;			/* the target's primary key */
	IndexScanDesc scan;
	ScanKeyData skey[INDEX_MAX_KEYS];
	int			nkeys;
	Snapshot	snapshot;		/* taken under the load's lock */
	TupleTableSlot *found;		/* the target's copy of a row */
	TupleTableSlot *updated;	/* the row an update writes */
	bool	   *mapped;			/* per attribute: a source column fills it */
	CommandId	cid;
	int64	   *merged;			/* rows inserted or updated, the caller's */
	int64		ninserted;
	int64		nupdated;

	/* an ordered merge (EtlPullMergerOrdered): a walk of the primary key */
	bool		ordered;
	IndexScanDesc walk;
	bool		walk_at;		/* m->found holds the walk's next target row */
	bool		walk_done;		/* the walk has passed the target's last row */
	bool		keep_gap;		/* keep the target rows before the next row */
	FmgrInfo	cmp;			/* the key's btree order */
	Oid			collation;
	bool		have_last;
	Datum		last;			/* the last row's key, in cxt */
	int64	   *deleted;		/* rows deleted, the caller's */
	ItemPointerData last_tid;		/* where the last probe found its row */
	bool		in_order;		/* the rows come in the heap's order */
};

/*
 * Why the C merge cannot load "rel" whose key, for the source, is the
 * target attributes keyattnums[0..nkeys-1]; NULL if it can, with the
 * primary key index in *indexoid.  The reasons are the things the SQL
 * merge would run that this path does not (or would refuse itself).
 */
const char *
EtlPullMergeUnsuitable(Relation rel, AttrNumber *keyattnums, int nkeys,
					   Oid *indexoid)
{
	TupleDesc	tupdesc = RelationGetDescr(rel);
	Relation	index;
	Oid			pk;
	const char *why = NULL;
	int			i;

	if (rel->rd_rel->relkind != RELKIND_RELATION)
		return "it is not a plain table";
	if (rel->rd_rel->relam != HEAP_TABLE_AM_OID)
		return "it does not use the heap table access method";
	if (rel->trigdesc != NULL)
		return "it has triggers (or foreign keys, or deferrable constraints)";
	if (rel->rd_rel->relrowsecurity)
		return "it has row level security enabled";
	if (rel->rd_rules != NULL)
		return "it has rules";
	if (tupdesc->constr && tupdesc->constr->has_generated_stored)
		return "it has generated columns";
#if PG_VERSION_NUM >= 180000
	pk = RelationGetPrimaryKeyIndex(rel, false);
#else
	pk = RelationGetPrimaryKeyIndex(rel);
#endif
	if (!OidIsValid(pk))
		return "it has no primary key";

	index = index_open(pk, AccessShareLock);
	if (!index->rd_index->indimmediate)
		why = "its primary key is deferrable";
	else if (index->rd_rel->relam != BTREE_AM_OID)
		why = "its primary key is not a btree";
	else if (IndexRelationGetNumberOfKeyAttributes(index) != nkeys)
		why = "its primary key is not the source's key";
	for (i = 0; why == NULL && i < nkeys; i++)
	{
		int			k;

		for (k = 0; k < nkeys; k++)
			if (index->rd_index->indkey.values[k] == keyattnums[i])
				break;
		if (k == nkeys)
			why = "its primary key is not the source's key";
	}
	index_close(index, NoLock);
	*indexoid = pk;
	return why;
}

/*
 * Tell the executor which columns an update writes: the mapped ones
 * outside the primary key, as UPDATE ... SET of those columns would.  The
 * index code reads them (index_unchanged_by_update) to hint a btree that
 * an index whose columns are not among them gets a new version of an
 * unchanged entry, worth a bottom-up deletion pass before a page split;
 * with no columns named every index would get the hint, and the passes on
 * indexes whose entries did change cost a visit of the heap for nothing.
 */
static void
set_updated_cols(EtlPullMerger *m)
{
	TupleDesc	tupdesc = RelationGetDescr(m->rel);
	Bitmapset  *cols = NULL;
	int			i;
	int			k;

	for (i = 0; i < tupdesc->natts; i++)
	{
		bool		key = false;

		for (k = 0; k < m->nkeys; k++)
			if (m->index->rd_index->indkey.values[k] == i + 1)
				key = true;
		if (m->mapped[i] && !key)
			cols = bms_add_member(cols, i + 1 - FirstLowInvalidHeapAttributeNumber);
	}
#if PG_VERSION_NUM >= 160000
	getRTEPermissionInfo(m->estate->es_rteperminfos,
						 exec_rt_fetch(m->rri->ri_RangeTableIndex,
									   m->estate))->updatedCols = cols;
#else
	exec_rt_fetch(m->rri->ri_RangeTableIndex, m->estate)->updatedCols = cols;
#endif
}

/*
 * Start merging into the relation of "rri" (whose indexes the caller has
 * opened, ExecOpenIndices) by its primary key "indexoid".  attnums
 * (nmapped) are the attributes the incoming rows fill; an update keeps the
 * others as they are.  The count of rows inserted or updated goes to
 * *merged.  Call in the memory context that is to hold the merge's state.
 */
EtlPullMerger *
EtlPullMergerBegin(ResultRelInfo *rri, EState *estate, Oid indexoid,
				   AttrNumber *attnums, int nmapped, int64 *merged)
{
	EtlPullMerger *m = palloc0(sizeof(EtlPullMerger));
	Relation	rel = rri->ri_RelationDesc;
	TupleDesc	tupdesc = RelationGetDescr(rel);
	int			i;

	m->rel = rel;
	m->cxt = CurrentMemoryContext;
	m->rri = rri;
	m->estate = estate;
	m->merged = merged;
	m->cid = GetCurrentCommandId(true);
	m->index = index_open(indexoid, RowExclusiveLock);
	m->nkeys = IndexRelationGetNumberOfKeyAttributes(m->index);

	/*
	 * The key's equality operators, from its operator classes, as the
	 * unique index itself compares (execReplication.c's
	 * build_replindex_scan_key); only the arguments change per row.
	 */
	for (i = 0; i < m->nkeys; i++)
	{
		Oid			optype = m->index->rd_opcintype[i];
		Oid			opfamily = m->index->rd_opfamily[i];
		Oid			op = get_opfamily_member(opfamily, optype, optype,
											 BTEqualStrategyNumber);

		if (!OidIsValid(op))
			elog(ERROR, "missing operator %d(%u,%u) in opfamily %u",
				 BTEqualStrategyNumber, optype, optype, opfamily);
		ScanKeyInit(&m->skey[i], i + 1, BTEqualStrategyNumber,
					get_opcode(op), (Datum) 0);
		m->skey[i].sk_collation = m->index->rd_indcollation[i];
	}

	/* after the load's lock: every committed row, and nobody else writing */
	m->snapshot = RegisterSnapshot(GetLatestSnapshot());
#if PG_VERSION_NUM >= 180000
	m->scan = index_beginscan(rel, m->index, m->snapshot, NULL, m->nkeys, 0);
#else
	m->scan = index_beginscan(rel, m->index, m->snapshot, m->nkeys, 0);
#endif
	m->found = table_slot_create(rel, NULL);
	m->updated = MakeSingleTupleTableSlot(tupdesc, &TTSOpsVirtual);
	m->mapped = palloc0(sizeof(bool) * tupdesc->natts);
	for (i = 0; i < nmapped; i++)
		m->mapped[attnums[i] - 1] = true;
	ItemPointerSetInvalid(&m->last_tid);
	m->in_order = false;
	set_updated_cols(m);
	return m;
}

/* Whether the mapped columns of the two slots are the same bytes */
static bool
same_image(EtlPullMerger *m, TupleTableSlot *a, TupleTableSlot *b)
{
	TupleDesc	tupdesc = RelationGetDescr(m->rel);
	int			i;

	for (i = 0; i < tupdesc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(tupdesc, i);

		if (!m->mapped[i])
			continue;
		if (a->tts_isnull[i] != b->tts_isnull[i])
			return false;
		if (a->tts_isnull[i])
			continue;
		if (!datum_image_eq(a->tts_values[i], b->tts_values[i],
							att->attbyval, att->attlen))
			return false;
	}
	return true;
}

/* Insert "slot" (defaults filled in) with its index entries */
static void
merge_insert(EtlPullMerger *m, TupleTableSlot *slot)
{
	List	   *recheck;

	if (m->rel->rd_att->constr)
		ExecConstraints(m->rri, slot, m->estate);
	table_tuple_insert(m->rel, slot, m->cid, 0, NULL);
	if (m->rri->ri_NumIndices > 0)
	{
#if PG_VERSION_NUM >= 160000
		recheck = ExecInsertIndexTuples(m->rri, slot, m->estate, false, false,
										NULL, NIL, false);
#else
		recheck = ExecInsertIndexTuples(m->rri, slot, m->estate, false, false,
										NULL, NIL);
#endif
		list_free(recheck);
	}
}

/*
 * Update the target's row in m->found with the mapped columns of "slot",
 * keeping the others; new index entries unless the update was HOT.
 */
static void
merge_update(EtlPullMerger *m, TupleTableSlot *slot)
{
	TupleDesc	tupdesc = RelationGetDescr(m->rel);
	TupleTableSlot *upd = m->updated;
	TM_FailureData tmfd;
	LockTupleMode lockmode;
	TM_Result	res;
	List	   *recheck = NIL;
	int			i;
#if PG_VERSION_NUM >= 160000
	TU_UpdateIndexes update_indexes;
#else
	bool		update_indexes;
#endif

	ExecClearTuple(upd);
	for (i = 0; i < tupdesc->natts; i++)
	{
		TupleTableSlot *from = m->mapped[i] ? slot : m->found;

		upd->tts_values[i] = from->tts_values[i];
		upd->tts_isnull[i] = from->tts_isnull[i];
	}
	ExecStoreVirtualTuple(upd);

	CheckCmdReplicaIdentity(m->rel, CMD_UPDATE);
	if (m->rel->rd_att->constr)
		ExecConstraints(m->rri, upd, m->estate);
	res = table_tuple_update(m->rel, &m->found->tts_tid, upd, m->cid,
							 m->snapshot, InvalidSnapshot, true, &tmfd,
							 &lockmode, &update_indexes);
	if (res == TM_SelfModified)
		ereport(ERROR,
				(errcode(ERRCODE_CARDINALITY_VIOLATION),
				 errmsg("MySQL returned the same primary key twice for table %s",
						RelationGetRelationName(m->rel)),
				 errdetail("A primary key identifies one row; the run cannot tell which copy to keep.")));
	if (res != TM_Ok)
		elog(ERROR, "unexpected table_tuple_update status: %u", res);

#if PG_VERSION_NUM >= 160000
	if (m->rri->ri_NumIndices > 0 && update_indexes != TU_None)
		recheck = ExecInsertIndexTuples(m->rri, upd, m->estate, true, false,
										NULL, NIL,
										update_indexes == TU_Summarizing);
#else
	if (m->rri->ri_NumIndices > 0 && update_indexes)
		recheck = ExecInsertIndexTuples(m->rri, upd, m->estate, true, false,
										NULL, NIL);
#endif
	list_free(recheck);
}

/*
 * Whether the row after the last one found, in the heap, is the target's
 * row for the key of "slot" (then in m->found).  Rows that come in the
 * order of the target's heap (the binary log of a statement over a table
 * loaded in key order; a pull in key order) are found there without a
 * descent of the index.  The tuple must be visible to the merge's
 * snapshot and carry the same key bytes: the primary key admits one such
 * row, so it is the one the index would give.
 */
static bool
probe_next(EtlPullMerger *m, TupleTableSlot *slot)
{
	int16	   *indkey = m->index->rd_index->indkey.values;
	ItemPointerData tid;
	int			i;

	if (!m->in_order)
		return false;
	tid = m->last_tid;
	if (ItemPointerGetOffsetNumber(&tid) >= MaxHeapTuplesPerPage)
		return false;
	ItemPointerSetOffsetNumber(&tid, ItemPointerGetOffsetNumber(&tid) + 1);
	if (!table_tuple_fetch_row_version(m->rel, &tid, m->snapshot, m->found))
		return false;
	for (i = 0; i < m->nkeys; i++)
	{
		int			a = indkey[i] - 1;
		Form_pg_attribute att = TupleDescAttr(RelationGetDescr(m->rel), a);
		bool		isnull;
		Datum		d = slot_getattr(m->found, a + 1, &isnull);

		if (isnull || slot->tts_isnull[a] ||
			!datum_image_eq(d, slot->tts_values[a], att->attbyval, att->attlen))
		{
			ExecClearTuple(m->found);
			return false;
		}
	}
	return true;
}

/*
 * Probe the primary key for the key of "slot": whether the target has the
 * row, then in m->found
 */
static bool
probe(EtlPullMerger *m, TupleTableSlot *slot)
{
	int16	   *indkey = m->index->rd_index->indkey.values;
	bool		hit;
	MemoryContext oldcxt;
	int			i;

	slot_getallattrs(slot);
	if (probe_next(m, slot))
	{
		m->last_tid = m->found->tts_tid;
		return true;
	}
	for (i = 0; i < m->nkeys; i++)
	{
		m->skey[i].sk_argument = slot->tts_values[indkey[i] - 1];
		if (slot->tts_isnull[indkey[i] - 1])
			m->skey[i].sk_flags |= SK_ISNULL;
		else
			m->skey[i].sk_flags &= ~SK_ISNULL;
	}

	/*
	 * The probe runs in the scan's own context: the index AM keeps what it
	 * allocates there across rows (btree's list of dead entries to mark).
	 */
	oldcxt = MemoryContextSwitchTo(m->cxt);
	index_rescan(m->scan, m->skey, m->nkeys, NULL, 0);
	hit = index_getnext_slot(m->scan, ForwardScanDirection, m->found);
	MemoryContextSwitchTo(oldcxt);

	/* the next row to come may follow this one in the heap */
	m->in_order = false;
	if (hit)
	{
		ItemPointer tid = &m->found->tts_tid;

		m->in_order = ItemPointerIsValid(&m->last_tid) &&
			ItemPointerGetBlockNumber(tid) == ItemPointerGetBlockNumber(&m->last_tid) &&
			ItemPointerGetOffsetNumber(tid) == ItemPointerGetOffsetNumber(&m->last_tid) + 1;
		m->last_tid = *tid;
	}
	return hit;
}

/*
 * An ordered merge: the rows come in ascending order of a single-column
 * key, and the whole target is to become what they are (load/rowdiff.c).
 * Instead of a probe per row, the merge walks the primary key index
 * forward beside them, a merge join: a target row whose key comes before
 * the next row's is absent from the source and is deleted (unless a
 * rejected row lay there: EtlPullMergerKeepGap), one with the same key is
 * the row's copy.  The walk reads the merge's snapshot, taken before any
 * of its writes, so it sees neither the rows it inserts nor the new
 * versions of those it updates.  The rows deleted are counted in
 * *deleted.  Call before the first row.
 */
void
EtlPullMergerOrdered(EtlPullMerger *m, int64 *deleted)
{
	MemoryContext oldcxt = MemoryContextSwitchTo(m->cxt);

	if (m->nkeys != 1)
		elog(ERROR, "an ordered merge needs a single-column key");
	fmgr_info_copy(&m->cmp, index_getprocinfo(m->index, 1, BTORDER_PROC),
				   m->cxt);
	m->collation = m->index->rd_indcollation[0];
#if PG_VERSION_NUM >= 180000
	m->walk = index_beginscan(m->rel, m->index, m->snapshot, NULL, 0, 0);
#else
	m->walk = index_beginscan(m->rel, m->index, m->snapshot, 0, 0);
#endif
	index_rescan(m->walk, NULL, 0, NULL, 0);
	MemoryContextSwitchTo(oldcxt);
	m->ordered = true;
	m->deleted = deleted;
}

/*
 * The target rows between the last row merged and the next are kept: a
 * row the caller could not convert (rejected) lies there, and its key is
 * unknown
 */
void
EtlPullMergerKeepGap(EtlPullMerger *m)
{
	m->keep_gap = true;
}

/* Delete the target's row in m->found (counted in an ordered merge) */
static void
delete_found(EtlPullMerger *m)
{
	TM_FailureData tmfd;
	TM_Result	res;

	CheckCmdReplicaIdentity(m->rel, CMD_DELETE);
	res = table_tuple_delete(m->rel, &m->found->tts_tid, m->cid, m->snapshot,
							 InvalidSnapshot, true, &tmfd, false);
	if (res != TM_Ok)
		elog(ERROR, "unexpected table_tuple_delete status: %u", res);
	if (m->deleted)
		(*m->deleted)++;
}

/*
 * The next target row of the walk into m->found (m->walk_at), unless the
 * walk is done; false then.  Runs in the scan's context, as probe().
 */
static bool
walk_next(EtlPullMerger *m)
{
	MemoryContext oldcxt;

	if (m->walk_at)
		return true;
	if (m->walk_done)
		return false;
	CHECK_FOR_INTERRUPTS();
	oldcxt = MemoryContextSwitchTo(m->cxt);
	m->walk_at = index_getnext_slot(m->walk, ForwardScanDirection, m->found);
	MemoryContextSwitchTo(oldcxt);
	m->walk_done = !m->walk_at;
	return m->walk_at;
}

/*
 * Walk the target up to the key of "slot": delete the target rows before
 * it (the source has none there), and say whether the target has the row
 * (then in m->found, the walk past it).  The rows must come in strictly
 * ascending key order: a row out of order is a protocol violation (MySQL
 * was asked for ORDER BY the key).
 */
static bool
walk_to(EtlPullMerger *m, TupleTableSlot *slot)
{
	AttrNumber	keyatt = m->index->rd_index->indkey.values[0];
	Datum		key;
	bool		keep = m->keep_gap;

	slot_getallattrs(slot);
	if (slot->tts_isnull[keyatt - 1])
		ereport(ERROR,
				(errcode(ERRCODE_PROTOCOL_VIOLATION),
				 errmsg("MySQL returned a row with a NULL primary key for table %s",
						RelationGetRelationName(m->rel))));
	key = slot->tts_values[keyatt - 1];
	if (m->have_last &&
		DatumGetInt32(FunctionCall2Coll(&m->cmp, m->collation, m->last, key)) >= 0)
		ereport(ERROR,
				(errcode(ERRCODE_PROTOCOL_VIOLATION),
				 errmsg("MySQL returned the rows of table %s out of primary key order",
						RelationGetRelationName(m->rel)),
				 errdetail("The rows were asked for in ascending order of the key; a key came after a greater or equal one.")));
	m->keep_gap = false;
	while (walk_next(m))
	{
		int32		c;

		slot_getsomeattrs(m->found, keyatt);
		c = DatumGetInt32(FunctionCall2Coll(&m->cmp, m->collation,
											m->found->tts_values[keyatt - 1],
											key));
		if (c > 0)
			break;
		m->walk_at = false;
		if (c == 0)
			return true;
		if (!keep)
			delete_found(m);
		ExecClearTuple(m->found);
	}
	return false;
}

/* Remember "slot"'s key, the last merged, in the merge's context */
static void
walk_remember(EtlPullMerger *m, TupleTableSlot *slot)
{
	AttrNumber	keyatt = m->index->rd_index->indkey.values[0];
	Form_pg_attribute att = TupleDescAttr(RelationGetDescr(m->rel), keyatt - 1);
	MemoryContext oldcxt;

	if (att->attbyval)
		m->last = slot->tts_values[keyatt - 1];
	else
	{
		if (m->have_last)
			pfree(DatumGetPointer(m->last));
		oldcxt = MemoryContextSwitchTo(m->cxt);
		m->last = datumCopy(slot->tts_values[keyatt - 1], false, att->attlen);
		MemoryContextSwitchTo(oldcxt);
	}
	m->have_last = true;
}

/*
 * The source's rows have all been merged (the caller's sink flushed):
 * delete the target rows the walk has not reached, past the last row,
 * unless a rejected row lay there
 */
void
EtlPullMergerFinishWalk(EtlPullMerger *m)
{
	bool		keep = m->keep_gap;

	while (walk_next(m))
	{
		m->walk_at = false;
		if (!keep)
			delete_found(m);
		ExecClearTuple(m->found);
	}
}

/* The rows an ordered merge inserted and updated */
void
EtlPullMergerCounts(EtlPullMerger *m, int64 *inserted, int64 *updated)
{
	*inserted = m->ninserted;
	*updated = m->nupdated;
}

/*
 * Merge one row, its values in slot->tts_values (every attribute: the
 * unmapped ones hold their defaults, for an insert).  Returns whether the
 * row was inserted or updated.  Allocates in the current memory context,
 * which the caller resets.
 */
bool
EtlPullMergerApply(EtlPullMerger *m, TupleTableSlot *slot)
{
	bool		changed = true;
	bool		hit;

	if (m->ordered)
	{
		hit = walk_to(m, slot);
		walk_remember(m, slot);
	}
	else
		hit = probe(m, slot);
	if (!hit)
	{
		merge_insert(m, slot);
		m->ninserted++;
	}
	else
	{
		/* REPEATABLE READ: a row the transaction cannot see, as SQL says */
		if (IsolationUsesXactSnapshot() &&
			!table_tuple_satisfies_snapshot(m->rel, m->found,
											GetTransactionSnapshot()))
			ereport(ERROR,
					(errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
					 errmsg("could not serialize access due to concurrent update")));
		slot_getallattrs(m->found);
		if (same_image(m, slot, m->found))
			changed = false;
		else
		{
			merge_update(m, slot);
			m->nupdated++;
		}
	}
	/* an ordered merge's miss leaves the walk's next target row there */
	if (hit || !m->ordered)
		ExecClearTuple(m->found);
	if (changed)
		(*m->merged)++;
	return changed;
}

/* End the merge; the indexes stay open for the caller to close */
void
EtlPullMergerEnd(EtlPullMerger *m)
{
	index_endscan(m->scan);
	if (m->walk)
		index_endscan(m->walk);
	index_close(m->index, NoLock);
	UnregisterSnapshot(m->snapshot);
	ExecDropSingleTupleTableSlot(m->found);
	ExecDropSingleTupleTableSlot(m->updated);
}

/*
 * Make the rows written so far visible to the merge's next probe, for a
 * caller that may merge the same key twice (the binary log's stream: an
 * insert and an update of one row in one transaction): a new command, and
 * the probes' snapshot moved to it, as logical replication's apply does
 * between changes.
 */
void
EtlPullMergerNextCommand(EtlPullMerger *m)
{
	CommandCounterIncrement();
	m->cid = GetCurrentCommandId(true);
	m->snapshot->curcid = m->cid;
}

/*
 * Delete the target's row whose primary key is that of "slot" (its key
 * attributes set; the others are not read).  Returns whether there was
 * one.  Index entries stay for VACUUM, as for any delete.
 */
bool
EtlPullMergerDelete(EtlPullMerger *m, TupleTableSlot *slot)
{
	if (!probe(m, slot))
		return false;
	delete_found(m);
	ExecClearTuple(m->found);
	return true;
}
