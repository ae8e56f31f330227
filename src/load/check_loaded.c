/*-------------------------------------------------------------------------
 *
 * check_loaded.c
 *		  Setting verify: a full load checks the rows it wrote against the
 *		  source before it commits.
 *
 * The check reads the source under the load's own MySQL snapshot, on the
 * load's connection, still inside the transaction the rows were read in:
 * so it compares with exactly the rows the load read, whatever the source
 * does meanwhile (a check after commit would race it).  The stream
 * strategy checks its new heap just before the swap
 * (load/strategy_swap.c), copy and standard the target after their rows
 * (load.c); the parallel
 * strategy's rows come from its workers' snapshots, which the backend's
 * connection does not share, so a table with verify loads with stream
 * instead.  "count" compares the row counts, "full" the range hashes of
 * every row (verify.c).  A difference is an ERROR, SQLSTATE 22000
 * (data_exception: the data differs, which a trigger on the target can
 * cause; not XX001, which alerting reads as PostgreSQL's own corruption):
 * the load's transaction rolls back, the target keeps its old rows and the
 * failed run says what differed, with verify_status "different".
 *
 * IDENTIFICATION
 *		  src/load/check_loaded.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "etl_pull.h"
#include "catalog/etl_catalog.h"
#include "remote/remote.h"
#include "verify/verify.h"
#include "load/load.h"

/* What the check found, for the error's detail */
static char *
difference(EtlPullVerifyResult *res, bool count_only)
{
	if (count_only)
		return psprintf("verify count: " INT64_FORMAT " rows at the source, " INT64_FORMAT " loaded.",
						res->source_rows, res->target_rows);
	return EtlPullVerifySummary(res);
}

/*
 * A difference found on a source without a snapshot (MyISAM, Aria: the
 * check reads the table as it is now) whose UPDATE_TIME moved since the
 * load began reading it, or cannot tell: the source's own writes may be
 * the difference, which the error says instead of blaming the target.
 * (A MyISAM table with an integer key never gets here: it settles, see
 * settle.c.)
 */
static void
source_changed(EtlPullLoad *load, EtlPullVerifyResult *res, bool count_only)
{
	EtlPullStamp now;

	if (!EtlPullSourceLocksOnRead(load->source))
		return;
	(void) EtlPullSourceStamp(load->conn, load->source, &now);
	if (EtlPullSourceUnchanged(&load->read_from, &now))
		return;
	ereport(ERROR,
			(errcode(ERRCODE_DATA_EXCEPTION),
			 errmsg("the rows loaded into %s differ from MySQL table \"%s.%s\", which changed during the load",
					load->target_qname, load->source->db, load->source->table),
			 errdetail("%s", difference(res, count_only)),
			 errhint("The target keeps its old rows.  The table uses storage engine %s, which no snapshot covers: its UPDATE_TIME moved after the load began reading it, so rows written since differ.  %s",
					 EtlPullPrintable(load->source->engine, 64),
					 EtlPullSourceChunkKey(load->source, NULL) == NULL &&
					 EtlPullSourceLocksOnRead(load->source) ?
					 "Load it when the source is quiet, set \"source_lock\" to \"read\" (its writers then wait for the whole read and check), or give it a single integer primary key (MyISAM): such a table is re-checked until it settles." :
					 "Load it again.")));
}

/*
 * Check "rows" (the target, or the new heap about to be swapped in)
 * against the source under the load's snapshot.
 */
void
EtlPullCheckLoaded(EtlPullLoad *load, Relation rows)
{
	EtlPullTable *table = load->table;
	bool		count_only = (table->verify == ETL_VERIFY_COUNT);
	EtlPullVerify *v;
	EtlPullVerifyResult res;

	if (table->verify == ETL_VERIFY_OFF)
		return;
	if (load->conn == NULL)
		elog(ERROR, "the load's connection is closed before its check");
	v = EtlPullVerifyBegin(load->conn, table, load->source, rows, load->attnums,
						   ETL_VERIFY_ROWS_PER_RANGE);
	EtlPullVerifyRanges(v, count_only, &res);
	if (!count_only)
		EtlPullVerifyRows(v, 10, &res);
	EtlPullVerifyEnd(v);
	/* recorded in etl_pull.runs.verify_status, the failed run's too */
	load->result->verify_status = count_only ?
		(EtlPullVerifyEqual(&res) ? "equal" : "different") :
		EtlPullVerifyStatus(&res);
	if (!EtlPullVerifyEqual(&res))
		source_changed(load, &res, count_only);
	if (!EtlPullVerifyEqual(&res))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("the rows loaded into %s differ from MySQL table \"%s.%s\"",
						load->target_qname, load->source->db, load->source->table),
				 errdetail("%s", difference(&res, count_only)),
				 errhint("The target keeps its old rows.  A trigger, rule or default on the target may change the rows as they are written.")));
	if (!count_only && res.uncompared != NIL)
		EtlPullRunNote(load->result, "verify full: " INT64_FORMAT " rows without a difference from the source's, %d ranges, but %s",
					   res.source_rows, res.ranges,
					   EtlPullVerifyUncompared(res.uncompared, res.uncompared_why));
	else
		EtlPullRunNote(load->result, "verify %s: " INT64_FORMAT " rows equal to the source's%s",
					   count_only ? "count" : "full", res.source_rows,
					   count_only ? "" : psprintf(", %d ranges", res.ranges));
}
