/*-------------------------------------------------------------------------
 *
 * strategy_swap.c
 *		  The stream and parallel strategies: fill a new heap, then swap
 *		  it into the target.
 *
 * Design.  These strategies never write into the live target.  They fill a
 * transient heap that has the target's row type (make_new_heap, as REFRESH
 * MATERIALIZED VIEW does), using multi-insert with skip-FSM and frozen
 * tuples, which are safe because that heap is new in this transaction.
 * When every row is in, the transient heap's storage is swapped into the
 * target (finish_heap_swap), which keeps the target's OID, grants,
 * dependent views and indexes, rebuilding the indexes in bulk from the new
 * rows.  During the load the target is held in ExclusiveLock: readers go on
 * reading the old rows, writers and a second load wait; only the swap
 * itself takes AccessExclusiveLock, waiting for it at most
 * etl_pull.swap_lock_timeout.  Any error before commit leaves the old rows
 * in place.
 *
 * A swap bypasses what a target's triggers, rules and row security would
 * do, and logical decoding does not see a new relfilenode: such targets,
 * and those in a publication, are left to copy or standard.
 *
 * The parallel strategy is the stream strategy with its rows read by
 * background workers, key range by key range, under one snapshot
 * (parallel.c); this backend stays the only writer.
 *
 * IDENTIFICATION
 *		  src/load/strategy_swap.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/multixact.h"
#include "access/table.h"
#include "access/tableam.h"
#include "catalog/pg_class.h"
#include "catalog/pg_publication.h"
#include "catalog/pg_type.h"
#include "commands/cluster.h"
#include "miscadmin.h"
#include "storage/lmgr.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/relcache.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "etl_pull.h"
#include "catalog/etl_catalog.h"
#include "load/load.h"
#include "load/parallel.h"
#include "load/progress.h"

/*
 * The name of a publication the target is in (by name, through its
 * schema, or FOR ALL TABLES), or NULL.
 */
static char *
target_publication(Relation rel)
{
	List	   *pubs;

	if (!is_publishable_relation(rel))
		return NULL;
	pubs = GetRelationPublications(RelationGetRelid(rel));
	pubs = list_concat(pubs, GetSchemaPublications(RelationGetNamespace(rel)));
	pubs = list_concat(pubs, GetAllTablesPublications());
	if (pubs == NIL)
		return NULL;
	return get_publication_name(linitial_oid(pubs), false);
}

/*
 * Why a swap cannot load this target, or NULL if it can.  It needs a plain
 * heap whose triggers, rules and row security a swap would not bypass, and
 * which no publication replicates: subscribers would keep the old rows.
 */
static const char *
swap_unsuitable(EtlPullLoad *load, Relation rel)
{
	char	   *pubname;

	if (rel == NULL)
		return NULL;			/* a target to create: a plain table */
	if (rel->rd_rel->relkind == RELKIND_PARTITIONED_TABLE)
		return "the target is partitioned";
	if (rel->rd_rel->relkind == RELKIND_FOREIGN_TABLE)
		return "the target is a foreign table";
	if (rel->rd_rel->relkind != RELKIND_RELATION)
		return "the target is not a table";
	if (rel->rd_rel->relispartition)
		return "the target is a partition";
	if (rel->trigdesc != NULL)
		return "the target has triggers";
	if (rel->rd_rules != NULL)
		return "the target has rules";
	if (rel->rd_rel->relrowsecurity)
		return "the target has row-level security";
	if (rel->rd_att->constr && rel->rd_att->constr->has_generated_stored)
		return "the target has generated columns";
	if ((pubname = target_publication(rel)) != NULL)
		return psprintf("the target is in publication \"%s\"", pubname);
	return NULL;
}

/*
 * Whether the target has an index besides its primary key: the swap's
 * rebuild then sorts keys that come in heap order, in
 * etl_pull.index_build_memory (EtlPullIndexBuildBegin).  A primary key
 * alone is rebuilt in etl_pull.pg_settings' maintenance_work_mem: its
 * keys come sorted, and a small sort spills them cheaply.
 */
static bool
has_secondary_index(Oid target_oid)
{
	Relation	rel = table_open(target_oid, NoLock);
	List	   *indexes = RelationGetIndexList(rel);
	bool		secondary = list_length(indexes) > (OidIsValid(rel->rd_pkindex) ? 1 : 0);

	list_free(indexes);
	table_close(rel, NoLock);
	return secondary;
}

/*
 * Swap a filled transient heap into the target: the only moment readers
 * wait.  The MySQL side is closed first, letting MySQL purge (after the
 * check of setting verify, which reads it under the load's snapshot).
 */
static void
swap_into_target(EtlPullLoad *load, Oid newheap, char relpersistence)
{
	int			nestlevel = -1;
	TimestampTz start;

	/*
	 * setting verify: the new rows against the source, still in its
	 * snapshot; a load that settles (settle.c) checks the target after the
	 * swap instead, and keeps its connection for it
	 */
	if (!load->settles)
	{
		if (load->table->verify != ETL_VERIFY_OFF)
		{
			Relation	newrel = table_open(newheap, NoLock);

			EtlPullCheckLoaded(load, newrel);
			table_close(newrel, NoLock);
		}
		EtlPullLoadDoneReading(load);
	}
	EtlPullProgressPhase(ETL_PHASE_SWAPPING);
	start = GetCurrentTimestamp();
	EtlPullLockTargetExclusive(load, "swap in the loaded rows",
							   "the target keeps its old rows");
	if (has_secondary_index(load->target_oid))
		nestlevel = EtlPullIndexBuildBegin();
	finish_heap_swap(load->target_oid, newheap, false, false, true, true,
					 RecentXmin, ReadNextMultiXactId(), relpersistence);
	if (nestlevel >= 0)
		EtlPullIndexBuildEnd(nestlevel);
	load->swap_seconds = EtlPullSecondsSince(start);
}

/* Fills the transient heap "newrel" of target "rel" with every row */
typedef void (*FillHeap) (EtlPullLoad *load, Relation rel, Relation newrel);

/*
 * Load by swap: a transient heap with the target's row type, tablespace
 * and access method, filled by "fill", then swapped in.
 */
static void
load_by_swap(EtlPullLoad *load, FillHeap fill)
{
	Relation	rel = table_open(load->target_oid, NoLock);
	char		relpersistence = rel->rd_rel->relpersistence;
	Oid			newheap;
	Relation	newrel;

	newheap = make_new_heap(load->target_oid, rel->rd_rel->reltablespace,
							rel->rd_rel->relam, relpersistence,
							ExclusiveLock);
	newrel = table_open(newheap, NoLock);
	fill(load, rel, newrel);
	table_close(newrel, NoLock);
	table_close(rel, NoLock);
	swap_into_target(load, newheap, relpersistence);
}

/* A sink into the transient heap: multi-insert, no FSM, frozen tuples */
static EtlPullSink *
heap_sink(EtlPullLoad *load, Relation rel, Relation newrel, bool tuples)
{
	return EtlPullSinkBegin(rel, newrel, load->table->batch_size,
							TABLE_INSERT_SKIP_FSM | TABLE_INSERT_FROZEN,
							load->attnums, load->source->ncolumns, tuples);
}

/* Stream: the rows of one query on the load's connection */
static void
fill_stream(EtlPullLoad *load, Relation rel, Relation newrel)
{
	EtlPullStreamIntoSink(load, rel, load->attnums,
						  heap_sink(load, rel, newrel, false), NULL, true);
}

static void
load_stream(EtlPullLoad *load)
{
	load_by_swap(load, fill_stream);
}

/*
 * Whether the parallel workers can convert the rows themselves: only the
 * NOT NULL constraints to check (the workers do), no default to fill, no
 * row to reject (rejects are written in this backend's transaction), and
 * only converters that run no user code (a domain's CHECK or a type's
 * input function may run SQL, which needs this backend's snapshot).
 */
static bool
workers_can_convert(EtlPullLoad *load, Relation rel)
{
	TupleDesc	tupdesc = RelationGetDescr(rel);
	int			a;

	if (load->table->on_error == ETL_ON_ERROR_REJECT)
		return false;
	if (tupdesc->constr && tupdesc->constr->num_check > 0)
		return false;
	if (!EtlPullConvertersTrusted(EtlPullMakeConverters(load->table, load->source,
														tupdesc, load->attnums)))
		return false;
	for (a = 1; a <= tupdesc->natts; a++)
	{
		Form_pg_attribute att = TupleDescAttr(tupdesc, a - 1);
		int			i;

		if (att->attisdropped)
			continue;
		for (i = 0; i < load->source->ncolumns; i++)
			if (load->attnums[i] == a)
				break;
		if (i == load->source->ncolumns &&
			(att->atthasdef || get_typtype(att->atttypid) == TYPTYPE_DOMAIN))
			return false;
	}
	return true;
}

/*
 * Parallel: as stream, but the rows are read by background workers.  When
 * the target allows it the workers also convert the rows and send formed
 * tuples, leaving this backend only the writing.
 */
static void
fill_parallel(EtlPullLoad *load, Relation rel, Relation newrel)
{
	bool		tuples = workers_can_convert(load, rel);
	int64		rows_before = load->result->rows;
	EtlPullParallel *par;
	EtlPullSink *sink;
	char	   *position;

	par = EtlPullParallelBegin(load->conn, load->caller, load->table,
							   load->source, rel, load->attnums, tuples,
							   load->table->parallel_chunks, load->held,
							   &position);
	load->result->source_position = position;
	sink = heap_sink(load, rel, newrel, tuples);
	if (tuples)
	{
		MinimalTuple tuple;

		while (EtlPullParallelNextTuple(par, &tuple))
		{
			CHECK_FOR_INTERRUPTS();
			EtlPullSinkAddTuple(sink, tuple);
			EtlPullCountRow(&load->progress, tuple->t_len);
		}
		EtlPullSinkEnd(sink);
	}
	else
		EtlPullRowsIntoSink(load, par, rel, load->attnums, sink);
	EtlPullParallelEnd(par, load->result->rows - rows_before);
}

static void
load_parallel(EtlPullLoad *load)
{
	load_by_swap(load, fill_parallel);
}

const EtlPullStrategyRoutine EtlPullStreamStrategy = {
	.name = "stream",
	.privileges = ACL_INSERT | ACL_TRUNCATE,
	.unsuitable = swap_unsuitable,
	.load = load_stream
};

const EtlPullStrategyRoutine EtlPullParallelStrategy = {
	.name = "parallel",
	.privileges = ACL_INSERT | ACL_TRUNCATE,
	.unsuitable = swap_unsuitable,
	.load = load_parallel
};
