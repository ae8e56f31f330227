/*-------------------------------------------------------------------------
 *
 * cron.c
 *		  The pg_cron jobs that load a registered table: made by
 *		  etl_pull.schedule, removed by etl_pull.unschedule and by
 *		  etl_pull.remove_table, from any database.
 *
 * pg_cron keeps every job in one database, cron.database_name, and runs
 * each in the database the job names.  A table registered in that
 * database is scheduled there, in the caller's transaction, with
 * cron.schedule.  A table registered in another database is scheduled by a
 * short-lived background worker that connects to pg_cron's database as
 * the caller and calls cron.schedule_in_database there, naming the
 * table's database; it commits on its own, so the job exists even if the
 * caller's transaction then rolls back (the same goes for removing one).
 * The worker's errors and notices reach the caller as the worker raised
 * them.
 *
 * A job loads one table: its command is SELECT etl_pull.load_table('name'),
 * one load in one transaction.  Removing jobs finds them by that command
 * and the table's database, whatever their name: the ones the caller may
 * see in cron.job (its own; a superuser's, and so remove_table's, which
 * runs as the extension's owner: every role's).  The SQL run in pg_cron's
 * database names everything schema-qualified and takes every value as a
 * parameter; the worker's search_path is pinned (EtlPullWorkerConnect).
 *
 * IDENTIFICATION
 *		  src/commands/cron.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "commands/dbcommands.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "parser/parse_func.h"
#include "pgstat.h"
#include "storage/dsm.h"
#include "storage/shm_toc.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/snapmgr.h"

#include "bgworker.h"
#include "etl_pull.h"
#include "catalog/etl_catalog.h"
#include "commands/commands.h"

PG_FUNCTION_INFO_V1(etl_pull_schedule);
PG_FUNCTION_INFO_V1(etl_pull_unschedule);
PG_FUNCTION_INFO_V1(etl_pull_cron_unschedule_load);

#define CRON_MAGIC			UINT64CONST(0x45544C5043524F4E)	/* "ETLPCRON" */
#define CRON_KEY_SHARED		1
#define CRON_KEY_JOB_NAME	2
#define CRON_KEY_SCHEDULE	3
#define CRON_KEY_COMMAND	4
#define CRON_KEY_DATABASE	5

/* What to do in pg_cron's database, for which table */
typedef struct CronRequest
{
	bool		make;			/* make (or update) a job; else remove them */
	bool		removing_table; /* remove_table's: say which jobs went */
	const char *job_name;		/* make only */
	const char *schedule;		/* make only: the cron schedule */
	const char *command;		/* SELECT etl_pull.load_table('name') */
	const char *database;		/* the table's database */
	const char *cron_database;	/* cron.database_name */
} CronRequest;

/* The worker's segment: the request's flags and its outcome */
typedef struct CronShared
{
	Oid			cron_dboid;
	Oid			roleid;
	bool		make;
	bool		removing_table;
	bool		done;			/* set by the worker after its commit */
	int64		result;			/* the job id, or how many jobs went */
} CronShared;

static void relay_cron_worker(EtlPullWorkerGroup *group, int i, char type,
							  ErrorData *edata);

static const EtlPullWorkerKind cron_workers = {
	.function = "etl_pull_cron_worker_main",
	.type = "etl_pull cron worker",
	.noun = "cron worker",
	.relay = relay_cron_worker
};

/*
 * The worker's errors and notices are the caller's, with a context line
 * saying where they happened
 */
static void
relay_cron_worker(EtlPullWorkerGroup *group, int i, char type, ErrorData *edata)
{
	const char *where = (const char *) group->arg;

	edata->elevel = Min(edata->elevel, ERROR);
	if (edata->context)
		edata->context = psprintf("%s\netl_pull cron worker in database \"%s\"",
								  edata->context, where);
	else
		edata->context = psprintf("etl_pull cron worker in database \"%s\"", where);
	ThrowErrorData(edata);
}

/* Run "sql" with text parameters; the caller checks SPI_processed */
static void
cron_exec(const char *sql, int nargs, const char **args, int expect)
{
	Oid			types[4] = {TEXTOID, TEXTOID, TEXTOID, TEXTOID};
	Datum		values[4];
	int			i;
	int			rc;

	Assert(nargs <= 4);
	for (i = 0; i < nargs; i++)
		values[i] = CStringGetTextDatum(args[i]);
	rc = SPI_execute_with_args(sql, nargs, types, values, NULL, false, 0);
	if (rc != expect)
		elog(ERROR, "SPI_execute_with_args failed: %s", SPI_result_code_string(rc));
}

/* Column "col" of row "row" of the last result, as text (NULL: NULL) */
static char *
cron_value(uint64 row, int col)
{
	return SPI_getvalue(SPI_tuptable->vals[row], SPI_tuptable->tupdesc, col);
}

/*
 * Make or update the job "req" describes, in pg_cron's database; returns
 * its id.  A job of the same name and role that runs something else (a
 * job of the user's own, or another database's table of the same name) is
 * not overwritten.
 */
static int64
cron_schedule(const CronRequest *req)
{
	const char *args[4] = {req->job_name, req->schedule, req->command, req->database};
	bool		here = strcmp(req->database, req->cron_database) == 0;
	char	   *jobid;

	if (!here)
	{
		cron_exec("SELECT pg_catalog.bool_or(pg_catalog.has_schema_privilege(p.pronamespace, 'USAGE')"
				  "                          AND pg_catalog.has_function_privilege(p.oid, 'EXECUTE'))"
				  " FROM pg_catalog.pg_proc p"
				  " WHERE p.pronamespace OPERATOR(pg_catalog.=) 'cron'::pg_catalog.regnamespace"
				  "   AND p.proname OPERATOR(pg_catalog.=) 'schedule_in_database'",
				  0, NULL, SPI_OK_SELECT);
		if (cron_value(0, 1) == NULL || strcmp(cron_value(0, 1), "t") != 0)
			ereport(ERROR,
					(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
					 errmsg("permission denied for function %s", "cron.schedule_in_database"),
					 errdetail("A table registered in database \"%s\" is scheduled from pg_cron's database \"%s\" with cron.schedule_in_database.",
							   req->database, req->cron_database),
					 errhint("A superuser may grant USAGE on schema cron and EXECUTE on cron.schedule_in_database(text, text, text, text, text, boolean), in database \"%s\".",
							 req->cron_database)));
	}
	cron_exec("SELECT j.database, j.command FROM cron.job j"
			  " WHERE j.jobname OPERATOR(pg_catalog.=) $1"
			  "   AND j.username OPERATOR(pg_catalog.=) CURRENT_USER::pg_catalog.text",
			  1, args, SPI_OK_SELECT);
	if (SPI_processed > 0 &&
		(strcmp(cron_value(0, 1), req->database) != 0 ||
		 strcmp(cron_value(0, 2), req->command) != 0))
		ereport(ERROR,
				(errcode(ERRCODE_DUPLICATE_OBJECT),
				 errmsg("pg_cron job \"%s\" already exists and runs something else",
						req->job_name),
				 errdetail("It runs \"%s\" in database \"%s\".",
						   cron_value(0, 2), cron_value(0, 1)),
				 errhint("Rename or unschedule that job (cron.alter_job, cron.unschedule) in database \"%s\".",
						 req->cron_database)));

	if (here)
		cron_exec("SELECT cron.schedule($1, $2, $3)", 3, args, SPI_OK_SELECT);
	else
		cron_exec("SELECT cron.schedule_in_database($1, $2, $3, $4)", 4, args, SPI_OK_SELECT);
	jobid = cron_value(0, 1);
	if (jobid == NULL)
		elog(ERROR, "pg_cron returned no job id");
	return pg_strtoint64(jobid);
}

/*
 * Remove the jobs that load the table of "req" (by command and database),
 * of whatever name, that the current role may see; returns how many
 */
static int64
cron_unschedule(const CronRequest *req)
{
	const char *args[2] = {req->database, req->command};
	SPITupleTable *jobs;
	uint64		njobs;
	uint64		i;

	cron_exec("SELECT j.jobid::pg_catalog.text, j.jobname, j.username FROM cron.job j"
			  " WHERE j.database OPERATOR(pg_catalog.=) $1"
			  "   AND j.command OPERATOR(pg_catalog.=) $2"
			  " ORDER BY j.jobid",
			  2, args, SPI_OK_SELECT);
	jobs = SPI_tuptable;
	njobs = SPI_processed;
	for (i = 0; i < njobs; i++)
	{
		char	   *jobid = SPI_getvalue(jobs->vals[i], jobs->tupdesc, 1);
		char	   *jobname = SPI_getvalue(jobs->vals[i], jobs->tupdesc, 2);
		char	   *username = SPI_getvalue(jobs->vals[i], jobs->tupdesc, 3);
		const char *id[1] = {jobid};

		cron_exec("SELECT cron.unschedule($1::pg_catalog.int8)", 1, id, SPI_OK_SELECT);
		if (req->removing_table)
			ereport(NOTICE,
					(errmsg("removed pg_cron job %s \"%s\" of role \"%s\", which loaded the table",
							jobid, jobname ? jobname : "", username)));
	}
	return (int64) njobs;
}

/*
 * Carry out "req" in pg_cron's database, which the current process is
 * connected to: -1 when pg_cron is not installed there and the request
 * may do without it (removing), otherwise the job id or the count
 */
static int64
cron_carry_out(const CronRequest *req)
{
	int64		result;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	cron_exec("SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_extension e"
			  " WHERE e.extname OPERATOR(pg_catalog.=) 'pg_cron')",
			  0, NULL, SPI_OK_SELECT);
	if (strcmp(cron_value(0, 1), "t") != 0)
	{
		if (!req->make)
		{
			SPI_finish();
			return -1;
		}
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("pg_cron is not installed in database \"%s\"", req->cron_database),
				 errhint("Run CREATE EXTENSION pg_cron in database \"%s\" (cron.database_name).",
						 req->cron_database)));
	}
	result = req->make ? cron_schedule(req) : cron_unschedule(req);
	SPI_finish();
	return result;
}

/*
 * Background worker: connect to pg_cron's database as the caller, carry
 * out the request in a transaction of its own, commit, and say so
 */
void
etl_pull_cron_worker_main(Datum main_arg)
{
	dsm_segment *seg;
	shm_toc    *toc;
	CronShared *shared;
	CronRequest req;
	int			slot;

	toc = EtlPullWorkerAttach(main_arg, CRON_MAGIC, &seg, &slot);
	shared = shm_toc_lookup(toc, CRON_KEY_SHARED, false);
	EtlPullWorkerRedirectErrors(seg, toc, slot);
	EtlPullWorkerConnect(shared->cron_dboid, shared->roleid);

	memset(&req, 0, sizeof(req));
	req.make = shared->make;
	req.removing_table = shared->removing_table;
	req.job_name = shm_toc_lookup(toc, CRON_KEY_JOB_NAME, true);
	req.schedule = shm_toc_lookup(toc, CRON_KEY_SCHEDULE, true);
	req.command = shm_toc_lookup(toc, CRON_KEY_COMMAND, false);
	req.database = shm_toc_lookup(toc, CRON_KEY_DATABASE, false);

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	PushActiveSnapshot(GetTransactionSnapshot());
	req.cron_database = get_database_name(MyDatabaseId);
	pgstat_report_activity(STATE_RUNNING, "etl_pull: scheduling with pg_cron");
	shared->result = cron_carry_out(&req);
	PopActiveSnapshot();
	CommitTransactionCommand();
	pgstat_report_activity(STATE_IDLE, NULL);
	shared->done = true;
	dsm_detach(seg);
}

/*
 * Carry out "req" through a worker connected to pg_cron's database
 * ("cron_dboid") as the current role; returns what cron_carry_out did
 */
static int64
cron_elsewhere(const CronRequest *req, Oid cron_dboid)
{
	shm_toc_estimator e;
	shm_toc    *toc;
	dsm_segment *seg;
	CronShared *shared;
	EtlPullWorkerGroup *group;
	int64		result;

	shm_toc_initialize_estimator(&e);
	shm_toc_estimate_chunk(&e, sizeof(CronShared));
	shm_toc_estimate_keys(&e, 1);
	EtlPullEstimateString(&e, req->job_name);
	EtlPullEstimateString(&e, req->schedule);
	EtlPullEstimateString(&e, req->command);
	EtlPullEstimateString(&e, req->database);
	EtlPullEstimateErrorQueues(&e, 1);
	seg = EtlPullSegmentCreate(&e, CRON_MAGIC, &toc);

	shared = shm_toc_allocate(toc, sizeof(CronShared));
	memset(shared, 0, sizeof(CronShared));
	shared->cron_dboid = cron_dboid;
	shared->roleid = GetUserId();
	shared->make = req->make;
	shared->removing_table = req->removing_table;
	shm_toc_insert(toc, CRON_KEY_SHARED, shared);
	EtlPullInsertString(toc, CRON_KEY_JOB_NAME, req->job_name);
	EtlPullInsertString(toc, CRON_KEY_SCHEDULE, req->schedule);
	EtlPullInsertString(toc, CRON_KEY_COMMAND, req->command);
	EtlPullInsertString(toc, CRON_KEY_DATABASE, req->database);

	group = EtlPullWorkerGroupStart(&cron_workers, seg, toc, 1,
									(void *) req->cron_database);
	if (group->nworkers == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_RESOURCES),
				 errmsg("could not start a background worker to reach pg_cron's database \"%s\"",
						req->cron_database),
				 errdetail("No background worker slot was free."),
				 errhint("Consider increasing the configuration parameter \"%s\".",
						 "max_worker_processes")));
	EtlPullWorkerGroupWaitExit(group);
	if (!shared->done)
		ereport(ERROR,
				(errcode(ERRCODE_CONNECTION_FAILURE),
				 errmsg("the background worker in pg_cron's database \"%s\" exited without reporting",
						req->cron_database),
				 errhint("See the server log.")));
	result = shared->result;
	dsm_detach(seg);
	return result;
}

/*
 * The name of the job that loads table "name" of this database: "name"'s
 * in pg_cron's database, "<database>: <name>"'s in another, as
 * etl_pull.cron_job_name makes a job name of it
 */
static char *
cron_job_name(const char *name, bool here)
{
	Oid			argtypes[1] = {TEXTOID};
	Oid			fn;

	fn = LookupFuncName(list_make2(makeString("etl_pull"), makeString("cron_job_name")),
						1, argtypes, false);
	if (!here)
		name = psprintf("%s: %s", get_database_name(MyDatabaseId), name);
	return TextDatumGetCString(OidFunctionCall1(fn, CStringGetTextDatum(name)));
}

/*
 * Carry out "req" for table "name" of this database: here, in the
 * caller's transaction, when this is pg_cron's database, otherwise through
 * a worker.  Returns -2 when pg_cron is not loaded at all (no
 * cron.database_name) and the request may do without it.
 */
static int64
cron_request(CronRequest *req, const char *name)
{
	const char *cron_db = GetConfigOption("cron.database_name", true, false);
	Oid			cron_dboid;
	int64		result;

	req->database = get_database_name(MyDatabaseId);
	req->command = psprintf("SELECT etl_pull.load_table(%s)", quote_literal_cstr(name));
	if (cron_db == NULL)
	{
		if (!req->make)
			return -2;
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("pg_cron is not loaded"),
				 errhint("Add pg_cron to shared_preload_libraries, set cron.database_name, and run CREATE EXTENSION pg_cron in that database.")));
	}
	req->cron_database = pstrdup(cron_db);
	cron_dboid = get_database_oid(cron_db, false);
	if (req->make)
		req->job_name = cron_job_name(name, cron_dboid == MyDatabaseId);
	if (cron_dboid == MyDatabaseId)
	{
		int			nestlevel = EtlPullPinSearchPath();

		result = cron_carry_out(req);
		AtEOXact_GUC(true, nestlevel);
	}
	else
		result = cron_elsewhere(req, cron_dboid);
	return result;
}

/*
 * etl_pull.cron_unschedule_load(name, removing_table): remove the pg_cron
 * jobs that load table "name" of this database, as far as the current
 * role sees them; returns how many, or NULL when pg_cron is not loaded or
 * not installed (then there is none).  With removing_table, a notice names
 * each.
 */
Datum
etl_pull_cron_unschedule_load(PG_FUNCTION_ARGS)
{
	CronRequest req;
	int64		result;

	memset(&req, 0, sizeof(req));
	req.removing_table = PG_GETARG_BOOL(1);
	result = cron_request(&req, text_to_cstring(PG_GETARG_TEXT_PP(0)));
	if (result < 0)
		PG_RETURN_NULL();
	PG_RETURN_INT64(result);
}

/*
 * etl_pull.schedule(name, schedule): a pg_cron job that loads registered
 * table "name" on "schedule"; returns the job's id.  In C, as the
 * functions that write etl_pull.tables are, so that an error carries no
 * PL/pgSQL context.
 */
Datum
etl_pull_schedule(PG_FUNCTION_ARGS)
{
	char	   *name = text_to_cstring(PG_GETARG_TEXT_PP(0));
	CronRequest req;

	(void) EtlPullReadTable(name);	/* registered, or an error saying so */
	memset(&req, 0, sizeof(req));
	req.make = true;
	req.schedule = text_to_cstring(PG_GETARG_TEXT_PP(1));
	PG_RETURN_INT64(cron_request(&req, name));
}

/*
 * etl_pull.unschedule(name): remove the caller's pg_cron jobs that load
 * table "name" of this database; whether there was one.
 */
Datum
etl_pull_unschedule(PG_FUNCTION_ARGS)
{
	CronRequest req;
	int64		removed;

	memset(&req, 0, sizeof(req));
	removed = cron_request(&req, text_to_cstring(PG_GETARG_TEXT_PP(0)));
	if (removed < 0)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("pg_cron is not installed"),
				 errhint("Add pg_cron to shared_preload_libraries, set cron.database_name, and run CREATE EXTENSION pg_cron in that database.")));
	PG_RETURN_BOOL(removed > 0);
}
