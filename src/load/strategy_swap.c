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
 * A small table (etl_pull.in_place_threshold_rows) is loaded in place
 * instead (EtlPullStreamInPlace): the source's rows merged into the
 * target itself by primary key in one ordered walk, as a diff run merges
 * them (rowdiff.c), equal rows left alone, in the load's transaction.  A
 * swap's fixed cost (a new heap and its catalog rows, the index rebuild,
 * whose build syncs its file, the old files dropped at commit) was most of
 * a 100-row table's load; in place nothing is created, so there is no
 * file to sync at commit, and a row that did not change is not written.
 * The targets and the privileges are the swap's (INSERT and TRUNCATE: the
 * load replaces every row, as TRUNCATE then INSERT would, and ends with the
 * same rows), the values the same converters'; readers keep seeing the
 * old rows until commit, and an error rolls the merge back with the rest.
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
#include "storage/bufmgr.h"
#include "storage/lmgr.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/relcache.h"
#include "utils/snapmgr.h"
#include "utils/rel.h"
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

/*
 * Whether a source column fills target column "att" (number "a"): by
 * load->attnums, or by name where there are none (etl_pull.plan())
 */
static bool
source_fills(EtlPullLoad *load, Form_pg_attribute att, int a)
{
	int			i;

	for (i = 0; i < load->source->ncolumns; i++)
		if (load->attnums ? load->attnums[i] == a :
			strcmp(load->source->columns[i].target_name,
				   NameStr(att->attname)) == 0)
			return true;
	return false;
}

/*
 * Whether every column of target "rel" is filled from a source column: a
 * merge keeps the value an updated row has in a column no source column
 * fills, where a swap writes every row anew with its default (a column
 * the source dropped or renamed, under on_schema_change = evolve).  Matched
 * by load->attnums, or by name in etl_pull.plan(), which has none.
 */
static bool
every_column_filled(EtlPullLoad *load, Relation rel)
{
	TupleDesc	desc = RelationGetDescr(rel);
	int			a;

	for (a = 1; a <= desc->natts; a++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, a - 1);

		if (!att->attisdropped && !source_fills(load, att, a))
			return false;
	}
	return true;
}

/*
 * Whether the stream strategy loads target "rel" in place, and why not
 * (NULL: it does).  A source table (not a view, whose
 * size MySQL does not say) of at most etl_pull.in_place_threshold_rows
 * rows (TABLE_ROWS: exact for MyISAM and Aria, an estimate for InnoDB),
 * with a single integer primary key whose rows the target can be merged
 * with row by row (rowdiff.c: a created target gets that key), every
 * target column filled from the source (every_column_filled), a MyISAM
 * source read in key ranges and re-checked (load->settles: the merge
 * reads in key ranges, which only the re-check makes exact), on_error
 * not reject (a rejected row's key is unknown, so a merge would keep the
 * target's old row where a swap drops it), into a target of at most
 * *limit pages: 8 plus four times the pages the source's rows take
 * (DATA_LENGTH), so that walking the target's old rows stays cheap; its
 * dead rows count, so a target that in-place loads have bloated (autovacuum
 * off, say) is swapped again, which compacts it.
 */
static const char *
in_place_unsuitable(EtlPullLoad *load, Relation rel, int64 *limit,
					BlockNumber *pages)
{
	EtlPullSource *source = load->source;
	Oid			indexoid;
	const char *why;

	*limit = 8 + 4 * ((source->estimated_bytes + BLCKSZ - 1) / BLCKSZ);
	*pages = 0;
	if (EtlPullInPlaceThresholdRows <= 0)
		return "etl_pull.in_place_threshold_rows is 0";
	if (source->engine == NULL)
		return "the source is a view, of unknown size";
	if (source->estimated_rows > EtlPullInPlaceThresholdRows)
		return psprintf(INT64_FORMAT " rows > etl_pull.in_place_threshold_rows (%d)",
						source->estimated_rows, EtlPullInPlaceThresholdRows);
	if (load->table->on_error == ETL_ON_ERROR_REJECT)
		return "on_error is reject";
	/* the merge reads in key ranges: a MyISAM table's are then re-checked */
	if (EtlPullSourceLocksOnRead(source) && !load->settles)
	{
		const char *whole = source->whole_read;

		if (whole == NULL)
			(void) EtlPullSourceChunkKey(source, &whole);
		return psprintf("the source is read in one statement (%s)",
						whole ? whole : "it is not re-checked");
	}
	if ((why = EtlPullRowDiffUnsuitable(load, rel, &indexoid)) != NULL)
		return why;
	if (!every_column_filled(load, rel))
		return "the target has columns no source column fills, which a swap writes with their defaults";
	*pages = RelationGetNumberOfBlocks(rel);
	if (*pages > *limit)
		return psprintf("the target's %u pages > " INT64_FORMAT, *pages, *limit);
	return NULL;
}

/*
 * Whether the stream strategy loads target "rel" in place
 * (in_place_unsuitable), once load->settles is known (load.c's
 * pick_strategy; etl_pull.plan() after its own settle check): sets
 * load->in_place and, for a small table, appends to the run's
 * strategy_reason why it is or is not in place; returns that clause, or
 * NULL.
 */
const char *
EtlPullStreamInPlace(EtlPullLoad *load, Relation rel)
{
	EtlPullSource *source = load->source;
	int64		limit;
	BlockNumber pages;
	const char *why = in_place_unsuitable(load, rel, &limit, &pages);
	char	   *clause = NULL;

	load->in_place = (why == NULL);
	if (load->in_place)
		clause = psprintf("in place: " INT64_FORMAT " rows <= etl_pull.in_place_threshold_rows (%d), the target's %u pages <= " INT64_FORMAT ": the rows merged into the target by primary key, not swapped in",
						  source->estimated_rows, EtlPullInPlaceThresholdRows,
						  pages, limit);
	else if (source->engine != NULL && EtlPullInPlaceThresholdRows > 0 &&
			 source->estimated_rows <= EtlPullInPlaceThresholdRows)
		clause = psprintf("swapped, not in place: %s", why);
	if (clause != NULL)
		load->result->strategy_reason =
			psprintf("%s; %s", load->result->strategy_reason, clause);
	return clause;
}

/*
 * In place: the source's rows merged into the target by primary key in
 * one ordered walk (rowdiff.c, as a diff run merges them: equal rows left
 * alone, the others updated, inserted or deleted), counted as the run's
 * rows; the connection stays open for setting verify's check and the
 * settle passes, as copy's does (load.c)
 */
static void
load_in_place(EtlPullLoad *load)
{
	Relation	rel = table_open(load->target_oid, NoLock);
	Oid			indexoid;
	const char *why = EtlPullRowDiffUnsuitable(load, rel, &indexoid);
	int64		merged;
	int64		deleted;

	if (why != NULL)
		elog(ERROR, "in-place load of %s unsuitable: %s", load->target_qname, why);
	load->in_place_written = EtlPullRowDiff(load, rel, indexoid, "in place",
											true, &merged, &deleted);
	table_close(rel, NoLock);
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
	if (load->in_place)
		load_in_place(load);
	else
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

		if (att->attisdropped || source_fills(load, att, a))
			continue;
		if (att->atthasdef || get_typtype(att->atttypid) == TYPTYPE_DOMAIN)
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
