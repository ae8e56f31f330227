/*-------------------------------------------------------------------------
 *
 * apply.c
 *		  The binary log's row events applied to the targets of a
 *		  stream's tables, inside the worker's open transaction.
 *
 * Each row goes through the same converters as a load's (convert.c: the
 * type mapping, zero dates, time zone, charset rules), so a streamed row
 * and a loaded one are the same bytes.  An insert or an update is an
 * upsert of the after image by primary key (merge.c's merge: a probe of
 * the primary key index, an unchanged row left alone, a changed one
 * updated in place, a new one inserted), whether or not the update moved
 * a stamp; a delete deletes by the before image's key; an update that
 * changes the key is a delete of the old key, then an upsert.  TRUNCATE
 * empties the target.  Because images are whole rows, applying a change
 * a second time, or a change older than the target's rows, converges to
 * the source's state once the stream passes the point where the rows
 * were read: that is what makes a snapshot taken while the source writes
 * exact (worker.c).
 *
 * Rows are applied one at a time, each made visible to the next (merge.c's
 * EtlPullMergerNextCommand), so a transaction that changes one row twice,
 * or moves keys along (UPDATE t SET id = id + 1), applies as it ran.
 * Nothing is kept per row: a row's decoded images and converted values
 * live in contexts reset per row and per event, so memory stays flat for
 * a group of millions of rows (116 measures it).  Of a before image only
 * the key's columns are decoded (the rest is stepped over) and converted,
 * and an update's only when its key's bytes differ from its after image's.
 * A target is opened once per PostgreSQL transaction, in
 * ExclusiveLock (as loads hold it: readers go on, writers wait), after
 * the table's "loading" advisory lock, so a load_table of it waits for the
 * stream's commit and the other way round.  The target's own code
 * (constraints, index expressions) runs as its owner, in a
 * security-restricted operation, as a load runs it; targets with
 * triggers, rules or row security are refused, as the C merge refuses
 * them.
 *
 * IDENTIFICATION
 *		  src/stream/apply.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/table.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "executor/executor.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/fmgrprotos.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"

#include "etl_pull.h"
#include "catalog/etl_catalog.h"
#include "remote/remote.h"
#include "load/load.h"
#include "load/progress.h"
#include "stream/stream.h"
#include "stream/event.h"

/* One binlog table of the stream */
typedef struct StreamTable
{
	EtlPullTable *table;
	EtlPullSource *source;
	const char *db;				/* the source's database */
	char	   *qname;			/* the target, quoted */
	AttrNumber *attnums;		/* target attribute of each source column */
	AttrNumber *keyattnums;		/* the key's, in key order */
	int		   *keysrc;			/* the key's source columns, in key order */
	bool	   *is_key;		/* per source column: whether the key has it */
	int			nkeys;
	EtlPullConverter *conv;		/* built on first use, for the stream */
	int			natts;
	char	   *skip_file;		/* its events up to here are in its snapshot */
	uint64		skip_offset;
	bool		skip_all;		/* being copied again: every event skipped */

	/* while open, in the current transaction */
	bool		open;
	Relation	rel;
	Oid			owner;
	EtlPullSink *sink;
	EtlPullMerger *merger;
	TupleTableSlot *keyslot;	/* a before image, for a delete */
	int64		merged;
} StreamTable;

struct EtlPullApply
{
	MemoryContext cxt;			/* the stream's: tables, converters */
	MemoryContext rowcxt;		/* reset per row */
	int			ntables;
	StreamTable *tables;
	Oid			runner;			/* the stream's role */
};

/*
 * The apply state of the stream's binlog tables "tables" (EtlPullTable *),
 * their sources described on "conn", in the current memory context (which
 * must outlive transactions).
 */
EtlPullApply *
EtlPullApplyCreate(List *tables, EtlPullConnection *conn)
{
	EtlPullApply *a = palloc0(sizeof(EtlPullApply));
	ListCell   *lc;
	int			n = 0;

	a->cxt = CurrentMemoryContext;
	a->rowcxt = AllocSetContextCreate(a->cxt, "etl_pull stream row",
									  ALLOCSET_DEFAULT_SIZES);
	a->runner = GetUserId();
	a->tables = palloc0(sizeof(StreamTable) * Max(list_length(tables), 1));
	foreach(lc, tables)
	{
		StreamTable *t = &a->tables[n++];
		List	   *key;
		ListCell   *lk;
		int			k = 0;
		const char *why;

		t->table = (EtlPullTable *) lfirst(lc);
		t->source = EtlPullDescribeTableSource(conn, t->table);
		t->db = t->source->db;
		why = EtlPullStreamUnsuitable(t->table, t->source);
		if (why != NULL)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_TABLE_DEFINITION),
					 errmsg("%s", why)));
		t->qname = quote_qualified_identifier(t->table->target_schema,
											  t->table->target_relname);
		key = EtlPullSourceKey(t->source);
		t->nkeys = list_length(key);
		t->keyattnums = palloc0(sizeof(AttrNumber) * t->nkeys);
		t->keysrc = palloc0(sizeof(int) * t->nkeys);
		t->is_key = palloc0(sizeof(bool) * t->source->ncolumns);
		foreach(lk, key)
		{
			EtlPullSourceColumn *col = (EtlPullSourceColumn *) lfirst(lk);

			t->keysrc[k] = (int) (col - t->source->columns);
			t->is_key[t->keysrc[k]] = true;
			t->keyattnums[k] = (AttrNumber) t->keysrc[k];	/* source index, for now */
			k++;
		}
	}
	a->ntables = n;
	return a;
}

/* The stream's table registered as "name", or NULL */
EtlPullStreamTable *
EtlPullApplyFindName(EtlPullApply *a, const char *name)
{
	int			i;

	for (i = 0; i < a->ntables; i++)
		if (strcmp(a->tables[i].table->name, name) == 0)
			return (EtlPullStreamTable *) &a->tables[i];
	return NULL;
}

/* The stream's table for MySQL's "db"."table", or NULL: not one of ours */
EtlPullStreamTable *
EtlPullApplyFind(EtlPullApply *a, const char *db, const char *table)
{
	int			i;

	for (i = 0; i < a->ntables; i++)
		if (strcmp(a->tables[i].db, db) == 0 &&
			strcmp(a->tables[i].source->table, table) == 0)
			return (EtlPullStreamTable *) &a->tables[i];
	return NULL;
}

/*
 * Whether table map "map" describes the table as the stream knows it (its
 * description when the stream started): as many columns, and the same
 * names where the log gives them (binlog_row_metadata = FULL).  A map that
 * does not is a schema change at the source: the stream snapshots the
 * table again (worker.c) rather than read its rows with the wrong layout.
 */
bool
EtlPullApplyMapMatches(EtlPullStreamTable *st, const EtlPullTableMap *map)
{
	StreamTable *t = (StreamTable *) st;
	int			i;

	if (map->ncols != t->source->ncolumns)
		return false;
	for (i = 0; map->names != NULL && i < map->ncols; i++)
		if (map->names[i] == NULL ||
			pg_strcasecmp(map->names[i], t->source->columns[i].name) != 0)
			return false;
	return true;
}

/*
 * The table is being copied again (snapshot.c's worker): the stream skips
 * every event of it until it is made again with the new copy's position
 */
void
EtlPullApplySkipAll(EtlPullStreamTable *st)
{
	((StreamTable *) st)->skip_all = true;
}

/*
 * The table's events up to "file" at "offset" are in its snapshot (whose
 * copy began after that position): the stream skips them
 */
void
EtlPullApplySkipUntil(EtlPullApply *a, EtlPullStreamTable *st, const char *file,
					  uint64 offset)
{
	StreamTable *t = (StreamTable *) st;

	t->skip_file = MemoryContextStrdup(a->cxt, file);
	t->skip_offset = offset;
}

/*
 * Whether the table's event that ends at "file", "next" is in its snapshot
 * already.  Binary log files of one server sort by name.
 */
bool
EtlPullApplySkips(EtlPullStreamTable *st, const char *file, uint64 next)
{
	StreamTable *t = (StreamTable *) st;
	int			c;

	if (t->skip_all)
		return true;
	if (t->skip_file == NULL)
		return false;
	c = strcmp(file, t->skip_file);
	return c < 0 || (c == 0 && next <= t->skip_offset);
}

/* The registered name of a stream's table */
const char *
EtlPullApplyTableName(EtlPullStreamTable *st)
{
	return ((StreamTable *) st)->table->name;
}

/* The source's description of a stream's table, as the stream started */
const EtlPullSource *
EtlPullApplySource(EtlPullStreamTable *st)
{
	return ((StreamTable *) st)->source;
}

/*
 * Open table "t" for the current transaction: its loading lock, the
 * target in ExclusiveLock, the stream role's rights, the merge.
 */
static void
apply_open(EtlPullApply *a, StreamTable *t)
{
	Oid			nspid = get_namespace_oid(t->table->target_schema, true);
	Oid			relid = OidIsValid(nspid) ?
		get_relname_relid(t->table->target_relname, nspid) : InvalidOid;
	AttrNumber	keyattnums[INDEX_MAX_KEYS];
	Oid			indexoid;
	const char *why;
	AclResult	acl;
	MemoryContext oldcxt;
	EtlPullLoad load;
	int			k;

	if (!OidIsValid(relid))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("target %s of table \"%s\" does not exist", t->qname,
						t->table->name),
				 errhint("Stop the stream, then start it again: a table without its snapshot is loaded first.")));
	DirectFunctionCall2(pg_advisory_xact_lock_int4,
						Int32GetDatum(ETL_PULL_MARKER),
						Int32GetDatum(t->table->lock_key));
	t->rel = table_open(relid, ExclusiveLock);
	EtlPullCheckTargetRelation(relid, t->qname);
	acl = pg_class_aclcheck(relid, a->runner, ACL_INSERT | ACL_UPDATE | ACL_DELETE);
	if (acl != ACLCHECK_OK)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied for table %s", t->qname),
				 errdetail("The stream applies inserts, updates and deletes as role \"%s\", which needs INSERT, UPDATE and DELETE on it.",
						   GetUserNameFromId(a->runner, false))));
	if (EtlPullRowSecurityApplies(relid, a->runner, true))
		EtlPullRefuseRowSecurity(relid, a->runner, t->qname, "the binary log's stream");

	oldcxt = MemoryContextSwitchTo(a->cxt);
	if (t->attnums == NULL)
	{
		memset(&load, 0, sizeof(load));
		load.table = t->table;
		load.source = t->source;
		load.caller = a->runner;
		EtlPullMatchColumns(&load, t->rel, t->qname, &t->attnums);
		for (k = 0; k < t->nkeys; k++)
			t->keyattnums[k] = t->attnums[t->keyattnums[k]];
		t->natts = RelationGetDescr(t->rel)->natts;
		t->conv = EtlPullMakeConverters(t->table, t->source,
										RelationGetDescr(t->rel), t->attnums);
	}
	MemoryContextSwitchTo(oldcxt);
	if (RelationGetDescr(t->rel)->natts != t->natts)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("target %s of table \"%s\" changed its columns while streaming",
						t->qname, t->table->name),
				 errhint("Stop the stream, then start it again.")));
	memcpy(keyattnums, t->keyattnums, sizeof(AttrNumber) * t->nkeys);
	why = EtlPullMergeUnsuitable(t->rel, keyattnums, t->nkeys, &indexoid);
	if (why != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("the binary log's stream cannot apply changes to table %s because %s",
						t->qname, why)));
	t->owner = t->rel->rd_rel->relowner;

	/* the sink and merge live in the transaction */
	oldcxt = MemoryContextSwitchTo(TopTransactionContext);
	t->merged = 0;
	t->sink = EtlPullSinkBeginMerge(t->rel, 1, t->attnums, t->source->ncolumns,
									indexoid, &t->merged);
	t->merger = EtlPullSinkMerger(t->sink);
	t->keyslot = MakeSingleTupleTableSlot(RelationGetDescr(t->rel), &TTSOpsVirtual);
	MemoryContextSwitchTo(oldcxt);
	t->open = true;
}

/* Run as the target's owner (restricted), or back */
static void
as_owner(StreamTable *t, EtlPullUserState *st)
{
	GetUserIdAndSecContext(&st->userid, &st->sec_context);
	if (t->owner != st->userid)
		SetUserIdAndSecContext(t->owner, st->sec_context |
							   SECURITY_LOCAL_USERID_CHANGE |
							   SECURITY_RESTRICTED_OPERATION);
}

static void
as_runner(EtlPullUserState *st)
{
	SetUserIdAndSecContext(st->userid, st->sec_context);
}

/*
 * The key of a before image (of which only the key's columns are decoded:
 * EtlPullApplyRows), converted into t->keyslot
 */
static void
key_of(StreamTable *t, char **values, unsigned long *lengths)
{
	TupleTableSlot *slot = t->keyslot;

	ExecClearTuple(slot);
	EtlPullConvertColumns(t->conv, values, lengths, slot->tts_values,
						  slot->tts_isnull, t->is_key);
	ExecStoreVirtualTuple(slot);
}

/* Whether the key columns of two images of the log are the same bytes */
static bool
same_key_bytes(StreamTable *t, char **a, unsigned long *a_len,
			   char **b, unsigned long *b_len)
{
	int			k;

	for (k = 0; k < t->nkeys; k++)
	{
		int			c = t->keysrc[k];

		if ((a[c] == NULL) != (b[c] == NULL))
			return false;
		if (a[c] != NULL &&
			(a_len[c] != b_len[c] || memcmp(a[c], b[c], a_len[c]) != 0))
			return false;
	}
	return true;
}

/* Whether the before and after images have the same key */
static bool
same_key(StreamTable *t, TupleTableSlot *before, Datum *after, bool *after_null)
{
	int			k;

	for (k = 0; k < t->nkeys; k++)
	{
		int			i = t->keyattnums[k] - 1;
		Form_pg_attribute att = TupleDescAttr(before->tts_tupleDescriptor, i);

		if (before->tts_isnull[i] != after_null[i])
			return false;
		if (!before->tts_isnull[i] &&
			!datum_image_eq(before->tts_values[i], after[i], att->attbyval, att->attlen))
			return false;
	}
	return true;
}

/*
 * Upsert an after image.  With "before" (an update's before image), a key
 * the update changed is deleted first: when the key columns' bytes in the
 * two images differ, the before image is converted and its key compared
 * with the after image's converted one (only then: most updates leave the
 * key alone, and their before image is never converted).
 */
static void
upsert(StreamTable *t, char **values, unsigned long *lengths,
	   char **before, unsigned long *before_len)
{
	Datum	   *d;
	bool	   *n;

	EtlPullSinkNext(t->sink, &d, &n);
	EtlPullConvertRow(t->conv, values, lengths, d, n);
	if (before != NULL && !same_key_bytes(t, before, before_len, values, lengths))
	{
		key_of(t, before, before_len);
		if (!same_key(t, t->keyslot, d, n))
		{
			EtlPullMergerNextCommand(t->merger);
			(void) EtlPullMergerDelete(t->merger, t->keyslot);
		}
	}
	EtlPullMergerNextCommand(t->merger);
	EtlPullSinkRowDone(t->sink);
}

/*
 * Apply every row of rows event "ev" (of kind WRITE, UPDATE or DELETE_ROWS)
 * to the target of "st", whose table map is "map".  Returns the number of
 * rows applied.
 */
int64
EtlPullApplyRows(EtlPullApply *a, EtlPullStreamTable *st, const EtlPullEvent *ev,
				 const EtlPullTableMap *map)
{
	StreamTable *t = (StreamTable *) st;
	int			ncols = t->source->ncolumns;
	char	  **before = palloc0(sizeof(char *) * ncols);
	char	  **after = palloc0(sizeof(char *) * ncols);
	unsigned long *before_len = palloc0(sizeof(unsigned long) * ncols);
	unsigned long *after_len = palloc0(sizeof(unsigned long) * ncols);
	size_t		pos = 0;
	int64		rows = 0;
	EtlPullUserState us;
	MemoryContext oldcxt;

	if (!EtlPullApplyMapMatches(st, map))
		elog(ERROR, "table map of \"%s.%s\" does not match its description",
			 t->db, t->source->table);
	if (!t->open)
		apply_open(a, t);
	as_owner(t, &us);
	oldcxt = MemoryContextSwitchTo(a->rowcxt);
	for (;;)
	{
		bool		more;

		CHECK_FOR_INTERRUPTS();
		MemoryContextReset(a->rowcxt);
		more = EtlPullRowsNext(ev, map, &pos, before, before_len, after, after_len,
							   t->is_key);
		if (!more)
			break;
		switch (ev->kind)
		{
			case ETL_PULL_EV_WRITE_ROWS:
				upsert(t, after, after_len, NULL, NULL);
				break;
			case ETL_PULL_EV_DELETE_ROWS:
				EtlPullMergerNextCommand(t->merger);
				key_of(t, before, before_len);
				(void) EtlPullMergerDelete(t->merger, t->keyslot);
				break;
			case ETL_PULL_EV_UPDATE_ROWS:
				upsert(t, after, after_len, before, before_len);
				break;
			default:
				elog(ERROR, "not a rows event: %d", (int) ev->kind);
		}
		rows++;
	}
	MemoryContextSwitchTo(oldcxt);
	MemoryContextReset(a->rowcxt);
	as_runner(&us);
	return rows;
}

/* A TRUNCATE of the source table of "st": empty the target */
void
EtlPullApplyTruncate(EtlPullApply *a, EtlPullStreamTable *st)
{
	StreamTable *t = (StreamTable *) st;
	EtlPullUserState us;

	if (!t->open)
		apply_open(a, t);
	as_owner(t, &us);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute(psprintf("DELETE FROM ONLY %s", t->qname), false, 0) != SPI_OK_DELETE)
		elog(ERROR, "could not empty %s", t->qname);
	SPI_finish();
	as_runner(&us);
}

/*
 * Before the transaction commits: end what each open table started (its
 * merge and indexes); the locks stay until the commit
 */
void
EtlPullApplyClose(EtlPullApply *a)
{
	int			i;

	for (i = 0; i < a->ntables; i++)
	{
		StreamTable *t = &a->tables[i];

		if (!t->open)
			continue;
		EtlPullSinkEnd(t->sink);
		ExecDropSingleTupleTableSlot(t->keyslot);
		table_close(t->rel, NoLock);
		t->open = false;
	}
}

/* After the transaction aborted: nothing is open any more */
void
EtlPullApplyForget(EtlPullApply *a)
{
	int			i;

	for (i = 0; i < a->ntables; i++)
		a->tables[i].open = false;
}
