/*-------------------------------------------------------------------------
 *
 * sink.c
 *		  Batched bulk insertion of converted rows into a heap.
 *
 * The design follows COPY FROM's multi-insert buffer: an array of slots,
 * each made when a row first needs it (a 100-row table makes 100, not
 * batch_size), is filled in place (the converters write straight into
 * each slot's tts_values/tts_isnull), constraints are checked per row
 * against the target's definition, and a full batch goes to
 * table_multi_insert with a BulkInsertState, so each heap page is locked
 * and WAL-logged once.  All per-row memory lives in one batch context
 * that is reset after every flush, which keeps the backend's memory flat
 * however large the table.
 *
 * Rows may be written into a different relation than the one whose
 * constraints are checked: a full reload fills a transient heap with the
 * target's row type and swaps it in at the end (see load.c).  A merging
 * sink (EtlPullSinkBeginMerge) hands each batch to merge.c instead, which
 * applies the rows to the target by primary key.
 *
 * IDENTIFICATION
 *		  src/load/sink.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/heapam.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/executor.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "parser/parse_coerce.h"
#include "parser/parse_relation.h"
#include "rewrite/rewriteHandler.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/resowner.h"

#include "etl_pull.h"
#include "load/load.h"

/* flush a batch early once its rows hold this much memory */
#define SINK_MAX_BATCH_BYTES	(16 * 1024 * 1024)

/* The default of a target column no source column fills */
typedef struct ColumnDefault
{
	AttrNumber	attnum;
	ExprState  *expr;
} ColumnDefault;

struct EtlPullSink
{
	Relation	target;			/* whose constraints rows must satisfy */
	Relation	into;			/* where rows are written */
	EState	   *estate;
	ResultRelInfo *rri;
	TupleTableSlot **slots;
	int			nslots;
	int			nmade;			/* slots made so far: slots[0 .. nmade - 1] */
	int			nused;
	bool		tuples;			/* slots for minimal tuples */
	MemoryContext slotcxt;		/* where the slots are made, and */
	ResourceOwner slotowner;	/* who holds their pins: EtlPullSinkBegin's */
	BulkInsertState bistate;
	CommandId	cid;
	int			ti_options;
	bool		check_constraints;
	bool		insert_indexes;
	ColumnDefault *defaults;	/* evaluated for every row */
	int			ndefaults;
	MemoryContext batchcxt;
	MemoryContext callercxt;	/* between Next and RowDone */
	EtlPullMerger *merger;		/* a merging sink, or NULL */
};

/*
 * Start a sink.  "target" supplies the row type and constraints, "into"
 * receives the rows (it may be the target itself, whose indexes are then
 * maintained).  ti_options are table_multi_insert's options; the caller
 * decides which are safe (e.g. TABLE_INSERT_FROZEN only for a relation
 * created in this transaction).  attnums (nmapped of them) are the target
 * columns the caller fills; the others get their defaults, as an INSERT
 * naming only the mapped columns would give them (a domain column without
 * a default gets a NULL checked against the domain, as the planner does).
 * With attnums NULL no default is evaluated.  With "tuples" the rows come
 * formed, through EtlPullSinkAddTuple.
 */
EtlPullSink *
EtlPullSinkBegin(Relation target, Relation into, int batch_size,
				 int ti_options, AttrNumber *attnums, int nmapped, bool tuples)
{
	EtlPullSink *sink = palloc0(sizeof(EtlPullSink));
	RangeTblEntry *rte;
#if PG_VERSION_NUM >= 160000
	List	   *perminfos = NIL;
	RTEPermissionInfo *perminfo;
#endif
	int			i;

	sink->target = target;
	sink->into = into;
	sink->nslots = batch_size;
	sink->ti_options = ti_options;
	sink->cid = GetCurrentCommandId(true);
	sink->bistate = GetBulkInsertState();

	/* an executor state, as COPY FROM builds one, for constraint checks */
	sink->estate = CreateExecutorState();
	rte = makeNode(RangeTblEntry);
	rte->rtekind = RTE_RELATION;
	rte->relid = RelationGetRelid(target);
	rte->relkind = target->rd_rel->relkind;
	rte->rellockmode = RowExclusiveLock;
#if PG_VERSION_NUM >= 160000
	perminfo = addRTEPermissionInfo(&perminfos, rte);
	perminfo->requiredPerms = ACL_INSERT;
#else
	rte->requiredPerms = ACL_INSERT;
#endif
#if PG_VERSION_NUM >= 180000
	ExecInitRangeTable(sink->estate, list_make1(rte), perminfos,
					   bms_make_singleton(1));
#elif PG_VERSION_NUM >= 160000
	ExecInitRangeTable(sink->estate, list_make1(rte), perminfos);
#else
	ExecInitRangeTable(sink->estate, list_make1(rte));
#endif
	sink->rri = makeNode(ResultRelInfo);
	InitResultRelInfo(sink->rri, target, 1, NULL, 0);
	sink->check_constraints = (target->rd_att->constr != NULL);
	if (into == target && target->rd_rel->relhasindex)
	{
		ExecOpenIndices(sink->rri, false);
		sink->insert_indexes = (sink->rri->ri_NumIndices > 0);
	}

	if (attnums != NULL)
	{
		TupleDesc	tupdesc = RelationGetDescr(target);
		int			a;

		sink->defaults = palloc(sizeof(ColumnDefault) * tupdesc->natts);
		for (a = 1; a <= tupdesc->natts; a++)
		{
			Form_pg_attribute att = TupleDescAttr(tupdesc, a - 1);
			Node	   *def;

			if (att->attisdropped || att->attgenerated)
				continue;
			for (i = 0; i < nmapped; i++)
				if (attnums[i] == a)
					break;
			if (i < nmapped)
				continue;
			def = build_column_default(target, a);
			if (def == NULL && get_typtype(att->atttypid) == TYPTYPE_DOMAIN)
				def = coerce_to_domain((Node *) makeNullConst(att->atttypid,
															  att->atttypmod,
															  att->attcollation),
									   InvalidOid, -1, att->atttypid,
									   COERCION_IMPLICIT, COERCE_IMPLICIT_CAST,
									   -1, false);
			if (def == NULL)
				continue;
			sink->defaults[sink->ndefaults].attnum = a;
			sink->defaults[sink->ndefaults].expr = ExecPrepareExpr((Expr *) def,
																	sink->estate);
			sink->ndefaults++;
		}
	}

	sink->slots = palloc(sizeof(TupleTableSlot *) * sink->nslots);
	sink->nmade = 0;
	sink->tuples = tuples;
	sink->slotcxt = CurrentMemoryContext;
	sink->slotowner = CurrentResourceOwner;

	sink->batchcxt = AllocSetContextCreate(CurrentMemoryContext,
										   "etl_pull batch context",
										   ALLOCSET_DEFAULT_SIZES);
	return sink;
}

static void row_done(EtlPullSink *sink, bool materialize);

/* a merging sink's batches: small, a merge gains nothing from big ones */
#define SINK_MERGE_BATCH	64

/*
 * Start a sink that merges its rows into "target" by the primary key
 * index "indexoid" (merge.c; EtlPullMergeUnsuitable must have allowed it)
 * instead of appending them.  attnums (nmapped) are the columns the caller
 * fills; a new row gets the others' defaults, an updated one keeps them.
 * The rows inserted or updated are counted in *merged.  Constraints are
 * checked by the merge, on the row it writes.
 */
EtlPullSink *
EtlPullSinkBeginMerge(Relation target, int batch_size, AttrNumber *attnums,
					  int nmapped, Oid indexoid, int64 *merged)
{
	EtlPullSink *sink = EtlPullSinkBegin(target, target,
										 Min(batch_size, SINK_MERGE_BATCH),
										 0, attnums, nmapped, false);

	/* the indexes are open (insert_indexes), the primary key among them */
	if (!sink->insert_indexes)
		elog(ERROR, "a merging sink needs the target's indexes");
	sink->check_constraints = false;
	sink->merger = EtlPullMergerBegin(sink->rri, sink->estate, indexoid,
									  attnums, nmapped, merged);
	return sink;
}

/* Write the buffered rows and start a new batch */
static void
flush(EtlPullSink *sink)
{
	MemoryContext oldcxt;
	int			i;

	if (sink->nused == 0)
		return;

	/* heap_multi_insert leaks into the current context: use the batch's */
	oldcxt = MemoryContextSwitchTo(sink->batchcxt);
	if (sink->merger)
	{
		for (i = 0; i < sink->nused; i++)
		{
			CHECK_FOR_INTERRUPTS();
			(void) EtlPullMergerApply(sink->merger, sink->slots[i]);
			ResetPerTupleExprContext(sink->estate);
		}
	}
	else
		table_multi_insert(sink->into, sink->slots, sink->nused, sink->cid,
						   sink->ti_options, sink->bistate);
	if (sink->insert_indexes && !sink->merger)
	{
		for (i = 0; i < sink->nused; i++)
		{
			List	   *recheck;

#if PG_VERSION_NUM >= 160000
			recheck = ExecInsertIndexTuples(sink->rri, sink->slots[i],
											sink->estate, false, false,
											NULL, NIL, false);
#else
			recheck = ExecInsertIndexTuples(sink->rri, sink->slots[i],
											sink->estate, false, false,
											NULL, NIL);
#endif
			list_free(recheck);
		}
	}
	MemoryContextSwitchTo(oldcxt);

	for (i = 0; i < sink->nused; i++)
		ExecClearTuple(sink->slots[i]);
	sink->nused = 0;
	MemoryContextReset(sink->batchcxt);
	ResetPerTupleExprContext(sink->estate);
}

/*
 * The next row's slot, made when first needed: each slot pins the
 * target's tuple descriptor in the resource owner, a cost per slot that
 * a small table should not pay for a whole batch it never fills.  It is
 * made in the memory context and under the resource owner of
 * EtlPullSinkBegin, as if made there (not in a row's subtransaction, whose
 * abort would take the pin with it).
 */
static TupleTableSlot *
next_slot(EtlPullSink *sink)
{
	if (sink->nused == sink->nmade)
	{
		MemoryContext oldcxt = MemoryContextSwitchTo(sink->slotcxt);
		ResourceOwner oldowner = CurrentResourceOwner;

		CurrentResourceOwner = sink->slotowner;
		sink->slots[sink->nmade] = sink->tuples ?
			MakeSingleTupleTableSlot(RelationGetDescr(sink->target), &TTSOpsMinimalTuple) :
			table_slot_create(sink->target, NULL);
		sink->nmade++;
		CurrentResourceOwner = oldowner;
		MemoryContextSwitchTo(oldcxt);
	}
	return sink->slots[sink->nused];
}

/*
 * Hand out the values/nulls arrays of the next row's slot, and switch
 * into the batch memory context for the caller's conversions.  The caller
 * fills every attribute and then calls EtlPullSinkRowDone.
 */
void
EtlPullSinkNext(EtlPullSink *sink, Datum **values, bool **nulls)
{
	TupleTableSlot *slot = next_slot(sink);

	ExecClearTuple(slot);
	*values = slot->tts_values;
	*nulls = slot->tts_isnull;
	sink->callercxt = MemoryContextSwitchTo(sink->batchcxt);
}

/*
 * Accept the row filled since EtlPullSinkNext: fill in the defaults, check
 * the target's NOT NULL and CHECK constraints, and flush when the batch is
 * full.
 */
void
EtlPullSinkRowDone(EtlPullSink *sink)
{
	row_done(sink, false);
}

/*
 * Add a row whose values were converted elsewhere: they are copied into
 * the next slot (materialized, so the caller may free them), then as
 * EtlPullSinkRowDone.
 */
void
EtlPullSinkAddValues(EtlPullSink *sink, Datum *values, bool *nulls)
{
	Datum	   *v;
	bool	   *n;
	int			natts = RelationGetDescr(sink->target)->natts;

	EtlPullSinkNext(sink, &v, &n);
	memcpy(v, values, sizeof(Datum) * natts);
	memcpy(n, nulls, sizeof(bool) * natts);
	row_done(sink, true);
}

static void
row_done(EtlPullSink *sink, bool materialize)
{
	TupleTableSlot *slot = sink->slots[sink->nused];
	int			i;

	/* defaults, evaluated in the batch context (we are still in it) */
	for (i = 0; i < sink->ndefaults; i++)
	{
		AttrNumber	a = sink->defaults[i].attnum;

		slot->tts_values[a - 1] = ExecEvalExpr(sink->defaults[i].expr,
											   GetPerTupleExprContext(sink->estate),
											   &slot->tts_isnull[a - 1]);
	}
	ExecStoreVirtualTuple(slot);
	if (materialize)
		ExecMaterializeSlot(slot);
	if (sink->check_constraints)
		ExecConstraints(sink->rri, slot, sink->estate);
	sink->nused++;
	MemoryContextSwitchTo(sink->callercxt);

	if (sink->nused >= sink->nslots ||
		MemoryContextMemAllocated(sink->batchcxt, false) > SINK_MAX_BATCH_BYTES)
		flush(sink);
}

/*
 * Add a tuple formed elsewhere (by a parallel worker, which converted the
 * row and checked NOT NULL; the caller knows the target needs no other
 * check and no default).  The tuple is copied.
 */
void
EtlPullSinkAddTuple(EtlPullSink *sink, MinimalTuple tuple)
{
	TupleTableSlot *slot = next_slot(sink);
	MinimalTuple copy;

	ExecClearTuple(slot);
	copy = (MinimalTuple) MemoryContextAlloc(sink->batchcxt, tuple->t_len);
	memcpy(copy, tuple, tuple->t_len);
	ExecForceStoreMinimalTuple(copy, slot, false);
	sink->nused++;
	if (sink->nused >= sink->nslots ||
		MemoryContextMemAllocated(sink->batchcxt, false) > SINK_MAX_BATCH_BYTES)
		flush(sink);
}

/*
 * Drop the row filled since EtlPullSinkNext (it was rejected).
 */
void
EtlPullSinkRowSkip(EtlPullSink *sink)
{
	ExecClearTuple(sink->slots[sink->nused]);
	MemoryContextSwitchTo(sink->callercxt);
}

/*
 * Write the rows accepted so far, for a caller that must act between two
 * rows in their order (an ordered merge's EtlPullMergerKeepGap)
 */
void
EtlPullSinkFlush(EtlPullSink *sink)
{
	flush(sink);
}

/*
 * Flush what is left and release the sink's resources.
 */
void
EtlPullSinkEnd(EtlPullSink *sink)
{
	int			i;

	flush(sink);
	if (sink->merger)
		EtlPullMergerEnd(sink->merger);
	FreeBulkInsertState(sink->bistate);
	table_finish_bulk_insert(sink->into, sink->ti_options);
	if (sink->insert_indexes)
		ExecCloseIndices(sink->rri);
	/* newest first: the resource owner finds each pin at once */
	for (i = sink->nmade - 1; i >= 0; i--)
		ExecDropSingleTupleTableSlot(sink->slots[i]);
	FreeExecutorState(sink->estate);
	MemoryContextDelete(sink->batchcxt);
}

/*
 * The merge of a merging sink (EtlPullSinkBeginMerge), for a caller that
 * also deletes by key between its rows (the binary log's stream)
 */
EtlPullMerger *
EtlPullSinkMerger(EtlPullSink *sink)
{
	return sink->merger;
}
