/*-------------------------------------------------------------------------
 *
 * recorder.c
 *		  The rows of etl_pull.runs: one writer for a successful run and a
 *		  failed one, and the worker that records a failed run although the
 *		  load's own transaction is rolled back.
 *
 * One function (write_run_row) owns the INSERT into etl_pull.runs: its
 * column list and its parameters, built from the run's EtlPullRunResult,
 * its status and its error.  A successful run is recorded in the load's
 * transaction, so the run row commits with the data.  A failed run's
 * transaction aborts, taking any row it wrote with it; so the leader hands
 * the run's description to a short-lived background worker through a DSM
 * segment, and the worker rebuilds the EtlPullRunResult from it and
 * inserts the row through the same writer, in a transaction of its own,
 * and commits it.  So a failed row has every column a successful one has,
 * as far as the load got before it failed.
 *
 * The worker connects to the same database as the extension's owner (the
 * role that writes etl_pull's bookkeeping in the leader too) with
 * search_path pinned, as every etl_pull worker does (EtlPullWorkerConnect),
 * since ALTER DATABASE ... SET search_path reaches workers; the writer runs
 * its statement as the owner with search_path pinned in either process
 * (EtlPullOwnerExec), and names everything schema-qualified; every value
 * in the row comes from the leader, as a parameter.
 *
 * EtlPullRecordedRun wraps what load_table and verify_table run, so that
 * both record their run, succeeded or failed, the same way; it remembers
 * the id of the last outermost run it recorded (EtlPullLastRunId), which
 * a load_all worker reports for a table whose load failed.  A load that
 * on_busy = skip skips is recorded too, with status "skipped"
 * (EtlPullRecordSkippedRun).
 *
 * IDENTIFICATION
 *		  src/catalog/recorder.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "storage/dsm.h"
#include "storage/shm_toc.h"
#include "tcop/tcopprot.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/resowner.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "bgworker.h"
#include "etl_pull.h"
#include "catalog/etl_catalog.h"

/*
 * The segment handed to the worker, laid out by a shm_toc: the fixed part,
 * and each of the run's strings under a key of its own (a NULL string has
 * no key).
 */
#define RECORDER_MAGIC					UINT64CONST(0x6574706c72756e73)
#define RECORDER_KEY_RUN				UINT64CONST(1)	/* RunRecord */
#define RECORDER_KEY_TABLE_NAME			UINT64CONST(2)
#define RECORDER_KEY_SERVER				UINT64CONST(3)
#define RECORDER_KEY_RUN_AS				UINT64CONST(4)
#define RECORDER_KEY_STRATEGY			UINT64CONST(5)
#define RECORDER_KEY_STRATEGY_REASON	UINT64CONST(6)
#define RECORDER_KEY_EXTRACTION			UINT64CONST(7)
#define RECORDER_KEY_SOURCE_POSITION	UINT64CONST(8)
#define RECORDER_KEY_ERROR				UINT64CONST(9)
#define RECORDER_KEY_NOTES				UINT64CONST(10)
#define RECORDER_KEY_SCHEMA_CHANGES		UINT64CONST(11)
#define RECORDER_KEY_VERIFY_STATUS		UINT64CONST(12)

#define RECORDER_NSTRINGS 11	/* the keys TABLE_NAME to VERIFY_STATUS */

/* the parameters of write_run_row's INSERT */
#define RUN_ROW_NPARAMS 20

/*
 * The run in progress in this process that no other run encloses (a load
 * that the target's code starts runs inside another), or 0; and the last
 * such run recorded, succeeded or failed, or 0 since EtlPullForgetLastRun
 */
static int64 outermost_run = 0;
static int64 last_run = 0;

/* The fixed part of the run as handed to the worker */
typedef struct RunRecord
{
	Oid			dboid;
	Oid			owner;			/* the extension's owner: the worker's role */
	bool		recorded;		/* set by the worker after its commit */
	/* the numbers of the run's EtlPullRunResult */
	int64		run_id;
	int64		rows;
	int64		bytes;
	int64		rejected_rows;
	int64		merged_rows;
	int64		deleted_rows;
	double		seconds;
	int64		peak_memory_kb;
} RunRecord;

/* A string of the run in the worker's segment, or NULL */
static const char *
record_string(shm_toc *toc, uint64 key)
{
	return shm_toc_lookup(toc, key, true);
}

/*
 * Parameter i: text "s", or NULL.  The text is made valid in the database's
 * encoding first (EtlPullValidText): an error or a note may quote what a
 * MySQL server sent, and one invalid byte in etl_pull.runs would make
 * pg_dump's copy of the whole table unrestorable.
 */
static void
text_param(Datum *args, char *nulls, int i, const char *s)
{
	if (s)
		args[i] = CStringGetTextDatum(EtlPullValidText(s, strlen(s),
													   GetDatabaseEncoding(), NULL));
	else
	{
		args[i] = (Datum) 0;
		nulls[i] = 'n';
	}
}

/*
 * Insert the row of run "r" of registered table "table_name" (through
 * server "server", by role "run_as"), with "status" and "error" (NULL for
 * none), into etl_pull.runs: the one place that knows the table's columns.
 * Runs the INSERT as the extension's owner with search_path pinned
 * (EtlPullOwnerExec), in the caller's transaction; every value is a
 * parameter, and a NULL string is a NULL column, but for extraction, which
 * is "full" unless the load said otherwise (a skipped run's is NULL).
 * started_at is now less the run's seconds.
 */
static void
write_run_row(const char *table_name, const char *server, const char *run_as,
			  const EtlPullRunResult *r, const char *status, const char *error)
{
	Oid			argtypes[RUN_ROW_NPARAMS] = {INT8OID, TEXTOID, TEXTOID, TEXTOID, TEXTOID,
		TEXTOID, TEXTOID, TEXTOID, FLOAT8OID, INT8OID, INT8OID, INT8OID,
	INT8OID, INT8OID, INT8OID, TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID};
	Datum		args[RUN_ROW_NPARAMS];
	char		nulls[RUN_ROW_NPARAMS + 1];
	bool		has_notes;
	bool		has_changes;
	bool		has_verify;
	Oid			runs;

	memset(nulls, ' ', RUN_ROW_NPARAMS);
	nulls[RUN_ROW_NPARAMS] = '\0';
	args[0] = Int64GetDatum(r->run_id);
	text_param(args, nulls, 1, table_name);
	text_param(args, nulls, 2, server);
	text_param(args, nulls, 3, run_as);
	text_param(args, nulls, 4, status);
	text_param(args, nulls, 5, r->strategy);
	text_param(args, nulls, 6, r->strategy_reason);
	text_param(args, nulls, 7, r->extraction ? r->extraction :
			   strcmp(status, "skipped") == 0 ? NULL : "full");
	args[8] = Float8GetDatum(r->seconds);
	args[9] = Int64GetDatum(r->rows);
	args[10] = Int64GetDatum(r->bytes);
	args[11] = Int64GetDatum(r->peak_memory_kb);
	args[12] = Int64GetDatum(r->rejected_rows);
	args[13] = Int64GetDatum(r->merged_rows);
	args[14] = Int64GetDatum(r->deleted_rows);
	text_param(args, nulls, 15, r->source_position);
	text_param(args, nulls, 16, error);
	text_param(args, nulls, 17, r->notes);
	text_param(args, nulls, 18, r->schema_changes);
	text_param(args, nulls, 19, r->verify_status);

	/*
	 * notes came with 1.2, schema_changes with 1.3, verify_status with 1.4: a
	 * catalog not updated yet has no place for them
	 */
	runs = get_relname_relid("runs", get_namespace_oid("etl_pull", false));
	has_notes = get_attnum(runs, "notes") != InvalidAttrNumber;
	has_changes = has_notes && get_attnum(runs, "schema_changes") != InvalidAttrNumber;
	has_verify = has_changes && get_attnum(runs, "verify_status") != InvalidAttrNumber;
	EtlPullOwnerExec(psprintf("INSERT INTO etl_pull.runs"
							  " (run_id, table_name, server, run_as, status, strategy,"
							  "  strategy_reason, extraction, started_at, finished_at,"
							  "  seconds, rows, bytes, peak_memory_kb, rejected_rows,"
							  "  merged_rows, deleted_rows, source_position, error%s%s%s)"
							  " VALUES ($1, $2, $3, $4, $5, $6, $7, $8,"
							  "  pg_catalog.clock_timestamp() OPERATOR(pg_catalog.-)"
							  "   pg_catalog.make_interval(secs => $9),"
							  "  pg_catalog.clock_timestamp(), $9, $10, $11, $12, $13,"
							  "  $14, $15, $16, $17%s%s%s)",
							  has_notes ? ", notes" : "",
							  has_changes ? ", schema_changes" : "",
							  has_verify ? ", verify_status" : "",
							  has_notes ? ", $18" : "",
							  has_changes ? ", pg_catalog.string_to_array($19, E'\\n')" : "",
							  has_verify ? ", $20" : ""),
					 has_verify ? RUN_ROW_NPARAMS :
					 has_changes ? RUN_ROW_NPARAMS - 1 :
					 has_notes ? RUN_ROW_NPARAMS - 2 : RUN_ROW_NPARAMS - 3,
					 argtypes, args, nulls, SPI_OK_INSERT,
					 "record the run in etl_pull.runs");
}

/*
 * Add a note to run "r": a line of etl_pull.runs.notes, where the run says
 * what it did or left out beyond its numbers (the indexes a created target
 * got or did not get, say).  Notes are joined by "; " in the order they
 * were added, so a note should not contain "; " itself.  The text is
 * palloc'd in the current memory context, which must live as long as the
 * run's result (the load's context, not a batch's).
 */
void
EtlPullRunNote(EtlPullRunResult *r, const char *fmt,...)
{
	StringInfoData buf;

	initStringInfo(&buf);
	if (r->notes)
		appendStringInfo(&buf, "%s; ", r->notes);
	for (;;)
	{
		va_list		args;
		int			needed;

		va_start(args, fmt);
		needed = appendStringInfoVA(&buf, fmt, args);
		va_end(args);
		if (needed == 0)
			break;
		enlargeStringInfo(&buf, needed);
	}
	r->notes = buf.data;
}

/*
 * Record a successful run of "table" in etl_pull.runs, in the caller's
 * transaction, so that it commits with the data: status "unchanged" for a
 * load skipped because its source had not changed (skip_unchanged).
 */
void
EtlPullRecordRun(EtlPullTable *table, EtlPullRunResult *r)
{
	write_run_row(table->name, table->server_name,
				  GetUserNameFromId(GetUserId(), false), r,
				  r->unchanged ? "unchanged" : "succeeded", NULL);
}

/*
 * Record that a load of "table" was skipped, in the caller's transaction:
 * another session was loading it and its on_busy is skip.  Returns the
 * run's id.
 */
int64
EtlPullRecordSkippedRun(EtlPullTable *table)
{
	EtlPullRunResult r;

	memset(&r, 0, sizeof(r));
	r.run_id = EtlPullNextRunId();
	EtlPullRunNote(&r, "skipped: another session was loading the table (on_busy = skip)");
	write_run_row(table->name, table->server_name,
				  GetUserNameFromId(GetUserId(), false), &r, "skipped", NULL);
	return r.run_id;
}

/*
 * Record a failed run of "table" with error message "error".  Never
 * throws for a recording problem: a WARNING says the run could not be
 * recorded, and the caller goes on to report the load's own error.
 * Returns whether the run was recorded.
 */
bool
EtlPullRecordFailedRun(EtlPullTable *table, EtlPullRunResult *r,
					   const char *error)
{
	struct
	{
		uint64		key;
		const char *value;
	}			strings[RECORDER_NSTRINGS] = {
		{RECORDER_KEY_TABLE_NAME, table->name},
		{RECORDER_KEY_SERVER, table->server_name},
		{RECORDER_KEY_RUN_AS, GetUserNameFromId(GetUserId(), false)},
		{RECORDER_KEY_STRATEGY, r->strategy},
		{RECORDER_KEY_STRATEGY_REASON, r->strategy_reason},
		{RECORDER_KEY_EXTRACTION, r->extraction},
		{RECORDER_KEY_SOURCE_POSITION, r->source_position},
		{RECORDER_KEY_ERROR, error},
		{RECORDER_KEY_NOTES, r->notes},
		{RECORDER_KEY_SCHEMA_CHANGES, r->schema_changes},
		{RECORDER_KEY_VERIFY_STATUS, r->verify_status},
	};
	shm_toc_estimator e;
	shm_toc    *toc;
	dsm_segment *seg;
	RunRecord  *rec;
	BackgroundWorkerHandle *handle;
	BgwHandleStatus status;
	pid_t		pid;
	bool		recorded;
	int			i;

	shm_toc_initialize_estimator(&e);
	shm_toc_estimate_chunk(&e, sizeof(RunRecord));
	shm_toc_estimate_keys(&e, 1);
	for (i = 0; i < RECORDER_NSTRINGS; i++)
		EtlPullEstimateString(&e, strings[i].value);
	seg = EtlPullSegmentCreate(&e, RECORDER_MAGIC, &toc);

	rec = shm_toc_allocate(toc, sizeof(RunRecord));
	memset(rec, 0, sizeof(RunRecord));
	rec->dboid = MyDatabaseId;
	rec->owner = EtlPullExtensionOwner();
	rec->run_id = r->run_id;
	rec->rows = r->rows;
	rec->bytes = r->bytes;
	rec->rejected_rows = r->rejected_rows;
	rec->merged_rows = r->merged_rows;
	rec->deleted_rows = r->deleted_rows;
	rec->seconds = r->seconds;
	rec->peak_memory_kb = r->peak_memory_kb;
	shm_toc_insert(toc, RECORDER_KEY_RUN, rec);
	for (i = 0; i < RECORDER_NSTRINGS; i++)
		EtlPullInsertString(toc, strings[i].key, strings[i].value);

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
		return false;
	}
	status = WaitForBackgroundWorkerStartup(handle, &pid);
	if (status == BGWH_STARTED)
		status = WaitForBackgroundWorkerShutdown(handle);
	if (!rec->recorded)
		ereport(WARNING,
				(errmsg("could not record the failed run of table \"%s\"", table->name),
				 errdetail("The recording worker did not finish; see the server log.")));
	recorded = rec->recorded;
	dsm_detach(seg);
	return recorded;
}

/*
 * Background worker: rebuild the failed run's EtlPullRunResult from the
 * DSM segment and insert its row with the same writer as a successful
 * run's, in a transaction of its own.
 */
void
etl_pull_recorder_main(Datum main_arg)
{
	dsm_segment *seg;
	shm_toc    *toc;
	RunRecord  *rec;
	EtlPullRunResult r;
	int			slot;

	toc = EtlPullWorkerAttach(main_arg, RECORDER_MAGIC, &seg, &slot);
	rec = shm_toc_lookup(toc, RECORDER_KEY_RUN, false);
	EtlPullWorkerConnect(rec->dboid, rec->owner);

	memset(&r, 0, sizeof(r));
	r.run_id = rec->run_id;
	r.strategy = record_string(toc, RECORDER_KEY_STRATEGY);
	r.strategy_reason = record_string(toc, RECORDER_KEY_STRATEGY_REASON);
	r.extraction = record_string(toc, RECORDER_KEY_EXTRACTION);
	r.rows = rec->rows;
	r.bytes = rec->bytes;
	r.rejected_rows = rec->rejected_rows;
	r.merged_rows = rec->merged_rows;
	r.source_position = record_string(toc, RECORDER_KEY_SOURCE_POSITION);
	r.deleted_rows = rec->deleted_rows;
	r.seconds = rec->seconds;
	r.peak_memory_kb = rec->peak_memory_kb;
	r.notes = (char *) record_string(toc, RECORDER_KEY_NOTES);
	r.schema_changes = (char *) record_string(toc, RECORDER_KEY_SCHEMA_CHANGES);
	r.verify_status = record_string(toc, RECORDER_KEY_VERIFY_STATUS);

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	PushActiveSnapshot(GetTransactionSnapshot());
	pgstat_report_activity(STATE_RUNNING, "etl_pull: recording a failed run");
	write_run_row(record_string(toc, RECORDER_KEY_TABLE_NAME),
				  record_string(toc, RECORDER_KEY_SERVER),
				  record_string(toc, RECORDER_KEY_RUN_AS), &r, "failed",
				  record_string(toc, RECORDER_KEY_ERROR));
	PopActiveSnapshot();
	CommitTransactionCommand();
	pgstat_report_activity(STATE_IDLE, NULL);

	rec->recorded = true;
	dsm_detach(seg);
}

/* Seconds from "start" until now */
double
EtlPullSecondsSince(TimestampTz start)
{
	long		secs;
	int			usecs;

	TimestampDifference(start, GetCurrentTimestamp(), &secs, &usecs);
	return secs + usecs / 1000000.0;
}

/*
 * Run "body" as one recorded run of "table": "result" gets its run id
 * here, and its seconds and backend peak memory when the body ends.  The
 * body runs in a subtransaction, in the caller's memory context, with the
 * table's PostgreSQL settings (popped when it returns) and search_path
 * pinned to pg_catalog.  If it returns, the run is recorded as succeeded in
 * this transaction; if it raises, the subtransaction is rolled back, the
 * run is recorded as failed (by the recorder worker) with the error's
 * message and detail, and the error goes on.  If no run encloses it, its
 * id is EtlPullLastRunId's once it is recorded.
 */
void
EtlPullRecordedRun(EtlPullTable *table, EtlPullRunResult *result,
				   EtlPullRunBody body, void *arg)
{
	MemoryContext callercxt = CurrentMemoryContext;
	ResourceOwner callerowner = CurrentResourceOwner;
	TimestampTz started = GetCurrentTimestamp();
	bool		outermost;

	result->run_id = EtlPullNextRunId();
	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(callercxt);
	outermost = (outermost_run == 0);
	if (outermost)
		outermost_run = result->run_id;
	PG_TRY();
	{
		int			nestlevel = EtlPullApplyPgSettings(table);

		/* everything the run does resolves names in pg_catalog only */
		(void) EtlPullPinSearchPath();
		body(table, result, arg);
		AtEOXact_GUC(true, nestlevel);
		result->seconds = EtlPullSecondsSince(started);
		result->peak_memory_kb = EtlPullPeakMemoryKb();
		EtlPullRecordRun(table, result);
		ReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(callercxt);
		CurrentResourceOwner = callerowner;
		if (outermost)
		{
			outermost_run = 0;
			last_run = result->run_id;
		}
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		if (outermost)
			outermost_run = 0;
		MemoryContextSwitchTo(callercxt);
		edata = CopyErrorData();
		FlushErrorState();
		pgstat_progress_end_command();
		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(callercxt);
		CurrentResourceOwner = callerowner;

		result->seconds = EtlPullSecondsSince(started);
		result->peak_memory_kb = EtlPullPeakMemoryKb();
		if (EtlPullRecordFailedRun(table, result,
								   edata->detail ?
								   psprintf("%s: %s", edata->message, edata->detail) :
								   edata->message) && outermost)
			last_run = result->run_id;
		ReThrowError(edata);
	}
	PG_END_TRY();
}

/* Forget the last run recorded: EtlPullLastRunId returns 0 until the next */
void
EtlPullForgetLastRun(void)
{
	last_run = 0;
}

/*
 * The id of the last run EtlPullRecordedRun recorded in this process,
 * succeeded or failed, that no other run enclosed; 0 if none was since
 * EtlPullForgetLastRun
 */
int64
EtlPullLastRunId(void)
{
	return last_run;
}
