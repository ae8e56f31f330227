/*-------------------------------------------------------------------------
 *
 * strategy_incremental.c
 *		  An incremental run: the rows past the watermark merged into the
 *		  target by primary key.
 *
 * The rows the watermark predicate selects stream through a merging sink
 * straight into the target (merge.c: one primary key probe per row, only
 * changed rows rewritten), when the target is a plain table the C merge
 * can load (EtlPullMergeUnsuitable).  Otherwise (triggers, row level
 * security, ...) they stream into a temporary staging table, which is
 * merged into the target with plain SQL (incremental.c), so the target's
 * triggers, policies and rules apply.  Then, if asked, the target rows
 * gone from the source are deleted.  An
 * append-only table (no primary key) first deletes the target's copies of
 * the rows it pulls again, and appends the staged rows.  The orchestrator
 * (load.c) reads the watermark and builds the predicate; a table's first
 * run, and a forced one, is a full load by a strategy instead.
 *
 * IDENTIFICATION
 *		  src/load/strategy_incremental.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"

#include "etl_pull.h"
#include "remote/remote.h"
#include "load/load.h"
#include "load/progress.h"

/* What an append-only run does, as its strategy_reason says it */
#define APPEND_ONLY_PATH \
	"incremental, append-only: the target's copies of the rows pulled again deleted, then the pulled rows staged and appended"

/*
 * How an incremental run merges into "rel": the run's strategy_reason,
 * and in *indexoid the primary key index of a merge as the rows stream
 * (InvalidOid: the run stages and merges in SQL).  load->attnums maps the
 * source's columns to the target's, or is NULL (etl_pull.plan(): by name).
 */
static const char *
merge_path(EtlPullLoad *load, Relation rel, Oid *indexoid)
{
	EtlPullSource *source = load->source;
	AttrNumber	keyatts[INDEX_MAX_KEYS];
	int			nkeys = 0;
	const char *why;
	int			i;

	*indexoid = InvalidOid;
	for (i = 0; i < source->ncolumns; i++)
		if (source->columns[i].pk_position > 0 && nkeys < INDEX_MAX_KEYS)
			keyatts[nkeys++] = load->attnums ? load->attnums[i] :
				get_attnum(RelationGetRelid(rel), source->columns[i].target_name);
	if (!EtlPullEnableOptimizations)
		why = "etl_pull.enable_optimizations is off";
	else if ((why = EtlPullMergeUnsuitable(rel, keyatts, nkeys, indexoid)) != NULL)
		why = psprintf("table %s cannot be merged row by row because %s",
					   load->target_qname, why);
	if (why != NULL)
	{
		*indexoid = InvalidOid;
		return psprintf("incremental: staged, then merged by primary key in SQL: %s", why);
	}
	return "incremental: merged by primary key lookups as the rows stream";
}

/*
 * What an incremental run past the watermark does with the rows it pulls
 * into the existing target "rel", as the run's strategy_reason says it
 * (etl_pull.plan() asks)
 */
const char *
EtlPullIncrementalPath(EtlPullLoad *load, Relation rel)
{
	Oid			indexoid;

	if (load->table->append_only)
		return APPEND_ONLY_PATH;
	return merge_path(load, rel, &indexoid);
}

/*
 * Merge the pulled rows into the target as they stream, by primary key
 * lookups, if the target allows it (merge.c).  Returns false, with the
 * reason recorded, when it does not: the caller stages and merges by SQL.
 */
static bool
merge_streaming(EtlPullLoad *load)
{
	Relation	rel = table_open(load->target_oid, NoLock);
	Oid			indexoid;

	load->result->strategy_reason = merge_path(load, rel, &indexoid);
	if (!OidIsValid(indexoid))
	{
		table_close(rel, NoLock);
		return false;
	}
	EtlPullProgressPhase(ETL_PHASE_MERGING);
	EtlPullStreamIntoSink(load, rel, load->attnums,
						  EtlPullSinkBeginMerge(rel, load->table->batch_size,
												load->attnums, load->source->ncolumns,
												indexoid,
												&load->result->merged_rows),
						  load->where, false);
	table_close(rel, NoLock);
	return true;
}

/* delete_missing: the target rows whose key is gone from the source */
static void
delete_missing(EtlPullLoad *load, bool has_pk)
{
	List	   *key = EtlPullSourceKey(load->source);

	if (list_length(key) != 1 || !has_pk)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("\"delete_missing\" needs a single-column integer primary key")));
	load->result->deleted_rows =
		EtlPullDeleteMissing(load->conn, load->source,
							 (EtlPullSourceColumn *) linitial(key),
							 load->target_qname);
}

static void
load_incremental(EtlPullLoad *load)
{
	EtlPullTable *table = load->table;
	char	   *stage_name = psprintf("etl_pull_stage_%u", load->target_oid);
	char	   *stage_qname = quote_qualified_identifier("pg_temp", stage_name);
	Relation	stage;
	AttrNumber *stage_attnums;
	List	   *columns = NIL;
	List	   *pk = NIL;
	int			i;
	ListCell   *lc;

	/* the deletes below need DELETE as well */
	if (table->append_only || table->delete_missing)
		EtlPullCheckTargetPrivileges(load, ACL_DELETE);

	if (!table->append_only && merge_streaming(load))
	{
		if (table->delete_missing)
			delete_missing(load, true);
		return;
	}

	/*
	 * Append-only: the target's copies of the rows pulled again go first
	 * (all of them when everything is pulled again).
	 */
	if (table->append_only)
	{
		load->result->strategy_reason = APPEND_ONLY_PATH;
		if (load->where != NULL)
		{
			Relation	rel = table_open(load->target_oid, NoLock);

			(void) EtlPullDeleteReloaded(table, load->source, rel,
										 load->target_qname, load->attnums,
										 load->incremental_cols,
										 load->reload_bounds);
			table_close(rel, NoLock);
		}
		else
			EtlPullDeleteTargetRows(load);
	}

	stage = EtlPullOpenStage(load, stage_name, stage_qname, &stage_attnums);
	EtlPullStreamIntoSink(load, stage, stage_attnums,
						  EtlPullSinkBegin(stage, stage, table->batch_size,
										   TABLE_INSERT_SKIP_FSM, NULL, 0, false),
						  load->where, false);
	table_close(stage, NoLock);

	EtlPullProgressPhase(ETL_PHASE_MERGING);
	for (i = 0; i < load->source->ncolumns; i++)
		columns = lappend(columns,
						  (char *) quote_identifier(load->source->columns[i].target_name));
	if (!table->append_only)
		foreach(lc, EtlPullSourceKey(load->source))
			pk = lappend(pk, (char *) quote_identifier(((EtlPullSourceColumn *) lfirst(lc))->target_name));
	load->result->merged_rows = EtlPullMerge(load->target_qname, stage_qname,
											 columns, pk);

	if (table->delete_missing)
		delete_missing(load, pk != NIL);

	EtlPullDropStage(stage_qname);
}

/*
 * Recorded as "stream", as 1.0 recorded it: the staged rows stream through
 * the same sink as the stream strategy's.  Not a strategy a table can ask
 * for: the orchestrator runs it when the watermark says to.  The merge
 * reads the target's rows to compare them (and the deletes to choose
 * them), so it needs SELECT too.
 */
const EtlPullStrategyRoutine EtlPullIncrementalStrategy = {
	.name = "stream",
	.privileges = ACL_INSERT | ACL_UPDATE | ACL_SELECT,
	.unsuitable = NULL,
	.load = load_incremental
};
