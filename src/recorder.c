/*-------------------------------------------------------------------------
 *
 * recorder.c
 *		  Recording a failed run in etl_pull.runs, although the load's own
 *		  transaction is rolled back.
 *
 * A successful run is recorded in the load's transaction, so the run row
 * commits with the data.  A failed run's transaction aborts, taking any
 * row it wrote with it; so the leader hands the run's description to a
 * short-lived background worker through a DSM segment, and the worker
 * inserts the row in a transaction of its own and commits it.  The worker
 * connects to the same database as the extension's owner (the role that
 * writes etl_pull's bookkeeping in the leader too) with search_path pinned,
 * as every etl_pull worker does (EtlPullWorkerConnect), since ALTER
 * DATABASE ... SET search_path reaches workers, and names everything
 * schema-qualified; every value in the row
 * comes from the leader, as a parameter.
 *
 * IDENTIFICATION
 *		  src/recorder.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "storage/dsm.h"
#include "tcop/tcopprot.h"
#include "utils/builtins.h"
#include "utils/snapmgr.h"

#include "etl_pull.h"
#include "bgworker.h"
#include "recorder.h"

#define RECORD_NSTRINGS 7

/* The run as handed to the worker, in a DSM segment */
typedef struct RunRecord
{
	Oid			dboid;
	Oid			owner;			/* the extension's owner: the worker's role */
	int64		run_id;
	bool		recorded;		/* set by the worker after its commit */
	double		seconds;
	int64		rows;
	int64		bytes;
	int64		peak_memory_kb;
	int64		rejected_rows;
	Size		offsets[RECORD_NSTRINGS];	/* into data; 0 means NULL */
	char		data[FLEXIBLE_ARRAY_MEMBER];
} RunRecord;

static const char *
record_string(RunRecord *rec, int i)
{
	return rec->offsets[i] ? rec->data + rec->offsets[i] - 1 : NULL;
}

/*
 * Record a failed run of "table" with error message "error".  Never
 * throws for a recording problem: a WARNING says the run could not be
 * recorded, and the caller goes on to report the load's own error.
 */
void
EtlPullRecordFailedRun(EtlPullTable *table, EtlPullRunResult *r,
					   const char *error)
{
	const char *strings[RECORD_NSTRINGS];
	Size		len = 0;
	Size		pos = 0;
	dsm_segment *seg;
	RunRecord  *rec;
	BackgroundWorkerHandle *handle;
	BgwHandleStatus status;
	pid_t		pid;
	int			i;

	strings[0] = table->name;
	strings[1] = table->server_name;
	strings[2] = GetUserNameFromId(GetUserId(), false);
	strings[3] = r->strategy;
	strings[4] = r->strategy_reason;
	strings[5] = r->extraction ? r->extraction : "full";
	strings[6] = error;
	for (i = 0; i < RECORD_NSTRINGS; i++)
		if (strings[i])
			len += strlen(strings[i]) + 1;

	seg = dsm_create(offsetof(RunRecord, data) + len + 1, 0);
	rec = (RunRecord *) dsm_segment_address(seg);
	memset(rec, 0, offsetof(RunRecord, data));
	rec->dboid = MyDatabaseId;
	rec->owner = EtlPullExtensionOwner();
	rec->run_id = r->run_id;
	rec->seconds = r->seconds;
	rec->rows = r->rows;
	rec->bytes = r->bytes;
	rec->peak_memory_kb = r->peak_memory_kb;
	rec->rejected_rows = r->rejected_rows;
	for (i = 0; i < RECORD_NSTRINGS; i++)
	{
		if (strings[i] == NULL)
			continue;
		strcpy(rec->data + pos, strings[i]);
		rec->offsets[i] = pos + 1;
		pos += strlen(strings[i]) + 1;
	}

	if (!EtlPullStartWorker("etl_pull_recorder_main", "etl_pull run recorder",
							seg, 0, &handle))
	{
		ereport(WARNING,
				(errcode(ERRCODE_INSUFFICIENT_RESOURCES),
				 errmsg("could not record the failed run of table \"%s\"", table->name),
				 errdetail("No background worker slot was free."),
				 errhint("Consider increasing the configuration parameter \"%s\".",
						 "max_worker_processes")));
		dsm_detach(seg);
		return;
	}
	status = WaitForBackgroundWorkerStartup(handle, &pid);
	if (status == BGWH_STARTED)
		status = WaitForBackgroundWorkerShutdown(handle);
	if (!rec->recorded)
		ereport(WARNING,
				(errmsg("could not record the failed run of table \"%s\"", table->name),
				 errdetail("The recording worker did not finish; see the server log.")));
	dsm_detach(seg);
}

/*
 * Background worker: insert the run row described in the DSM segment.
 */
void
etl_pull_recorder_main(Datum main_arg)
{
	dsm_segment *seg;
	RunRecord  *rec;
	Oid			argtypes[13] = {TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID,
	TEXTOID, FLOAT8OID, INT8OID, INT8OID, INT8OID, INT8OID, INT8OID};
	Datum		args[13];
	char		nulls[14];
	int			i;
	int			slot;

	seg = EtlPullWorkerAttach(main_arg, &slot);
	rec = (RunRecord *) dsm_segment_address(seg);
	EtlPullWorkerConnect(rec->dboid, rec->owner);

	memset(nulls, ' ', sizeof(nulls) - 1);
	nulls[13] = '\0';
	for (i = 0; i < RECORD_NSTRINGS; i++)
	{
		const char *s = record_string(rec, i);

		if (s)
			args[i] = CStringGetTextDatum(s);
		else
			nulls[i] = 'n';
	}
	args[7] = Float8GetDatum(rec->seconds);
	args[8] = Int64GetDatum(rec->rows);
	args[9] = Int64GetDatum(rec->bytes);
	args[10] = Int64GetDatum(rec->peak_memory_kb);
	args[11] = Int64GetDatum(rec->rejected_rows);
	args[12] = Int64GetDatum(rec->run_id);

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	SPI_connect();
	PushActiveSnapshot(GetTransactionSnapshot());
	pgstat_report_activity(STATE_RUNNING, "etl_pull: recording a failed run");
	if (SPI_execute_with_args("INSERT INTO etl_pull.runs"
							  " (table_name, server, run_as, strategy, strategy_reason,"
							  "  extraction, error, seconds, rows, bytes, peak_memory_kb,"
							  "  rejected_rows, run_id, started_at, finished_at, status)"
							  " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12,"
							  "  $13, pg_catalog.clock_timestamp() OPERATOR(pg_catalog.-)"
							  "   pg_catalog.make_interval(secs => $8),"
							  "  pg_catalog.clock_timestamp(), 'failed')",
							  13, argtypes, args, nulls, false, 0) != SPI_OK_INSERT)
		elog(ERROR, "could not insert into etl_pull.runs");
	SPI_finish();
	PopActiveSnapshot();
	CommitTransactionCommand();
	pgstat_report_activity(STATE_IDLE, NULL);

	rec->recorded = true;
	dsm_detach(seg);
}
