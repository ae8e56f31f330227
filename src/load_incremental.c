/*-------------------------------------------------------------------------
 *
 * load_incremental.c
 *		  An incremental run: the rows past the watermark, staged and
 *		  merged into the target by primary key.
 *
 * The rows the watermark predicate selects stream through a sink into a
 * temporary staging table, which is merged into the target with plain SQL
 * (incremental.c), so the target's triggers and constraints apply; then,
 * if asked, the target rows gone from the source are deleted.  An
 * append-only table (no primary key) first deletes the target's copies of
 * the rows it pulls again, and appends the staged rows.  The orchestrator
 * (load.c) reads the watermark and builds the predicate; a table's first
 * run, and a forced one, is a full load by a strategy instead.
 *
 * IDENTIFICATION
 *		  src/load_incremental.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "executor/spi.h"
#include "nodes/makefuncs.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"

#include "load.h"

/* Run one utility statement through SPI */
static void
exec_utility(const char *sql, bool check)
{
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute(sql, false, 0) != SPI_OK_UTILITY && check)
		elog(ERROR, "could not run \"%s\"", sql);
	SPI_finish();
}

/*
 * Create the temporary staging table "stage_name" like the target (an
 * earlier load of it in this transaction may have left one) and return
 * its OID.
 */
static Oid
create_stage(EtlPullLoad *load, const char *stage_name, const char *stage_qname)
{
	if (OidIsValid(RangeVarGetRelid(makeRangeVar("pg_temp", (char *) stage_name, -1),
									NoLock, true)))
		exec_utility(psprintf("DROP TABLE %s", stage_qname), false);
	exec_utility(psprintf("CREATE TEMP TABLE %s (LIKE %s) ON COMMIT DROP",
						  quote_identifier(stage_name), load->target_qname),
				 true);
	CommandCounterIncrement();
	return get_relname_relid(stage_name, LookupExplicitNamespace("pg_temp", false));
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

	/*
	 * Append-only: the target's copies of the rows pulled again go first
	 * (all of them when everything is pulled again).
	 */
	if (table->append_only)
	{
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

	stage = table_open(create_stage(load, stage_name, stage_qname),
					   AccessExclusiveLock);
	EtlPullMatchColumns(load, stage, stage_qname, &stage_attnums);
	EtlPullStreamIntoSink(load, stage, stage_attnums,
						  EtlPullSinkBegin(stage, stage, table->batch_size,
										   TABLE_INSERT_SKIP_FSM, NULL, 0, false),
						  load->where);
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
	{
		List	   *key = EtlPullSourceKey(load->source);

		if (list_length(key) != 1 || pk == NIL)
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("\"delete_missing\" needs a single-column integer primary key")));
		load->result->deleted_rows =
			EtlPullDeleteMissing(load->conn, load->source,
								 (EtlPullSourceColumn *) linitial(key),
								 load->target_qname);
	}

	exec_utility(psprintf("DROP TABLE %s", stage_qname), false);
}

/*
 * Recorded as "stream", as 1.0 recorded it: the staged rows stream through
 * the same sink as the stream strategy's.  Not a strategy a table can ask
 * for: the orchestrator runs it when the watermark says to.
 */
const EtlPullStrategyRoutine EtlPullIncrementalStrategy = {
	.name = "stream",
	.privileges = ACL_INSERT | ACL_UPDATE,
	.unsuitable = NULL,
	.load = load_incremental
};
