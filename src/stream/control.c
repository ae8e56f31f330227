/*-------------------------------------------------------------------------
 *
 * control.c
 *		  etl_pull.start_stream() and stop_stream(), the stream's row of
 *		  etl_pull.stream_state, and the launcher that starts the streams
 *		  that were running when PostgreSQL stopped.
 *
 * Design.  A load group's stream is one dynamic background worker
 * (worker.c), connected to the group's database as the role that called
 * start_stream, which it records as run_as: the worker has exactly the
 * rights a load_table of that role has.  The worker holds a session-level
 * advisory lock on the group's key for as long as it runs, so there is
 * never a second one; stop_stream finds it by that lock, sends it SIGTERM
 * (as pg_terminate_backend does) and waits until it is gone: a worker
 * killed in the middle of a transaction rolls it back, and its recorded
 * position is that of the last one it committed.  A snapshot worker that
 * copies one of the stream's tables beside it (snapshot.c) is stopped by
 * the stream worker as it exits.
 *
 * start_stream writes the row with wanted = true; stop_stream sets it to
 * false.  With etl_pull in shared_preload_libraries a launcher (a static
 * worker, restarted after a crash) starts, for each database that allows
 * connections, a short-lived starter connected there, which starts a
 * worker for every wanted stream of that database, as its run_as role.
 * This is pg_cron's shape (a launcher started by the postmaster, which
 * starts a worker per job) with one difference: the streams' databases
 * are found rather than configured.  Without the preload, start_stream
 * resumes a stream from its recorded position.
 *
 * IDENTIFICATION
 *		  src/stream/control.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <signal.h>

#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_database.h"
#include "catalog/pg_type.h"
#include "commands/extension.h"
#include "common/hashfn.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/proc.h"
#include "storage/procarray.h"
#include "tcop/tcopprot.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"
#include "utils/wait_event.h"

#include "bgworker.h"
#include "etl_pull.h"
#include "catalog/etl_catalog.h"
#include "remote/remote.h"
#include "load/load.h"
#include "load/progress.h"
#include "stream/stream.h"

/* The first half of a stream's advisory lock key (loads use the marker) */
#define STREAM_LOCK_CLASS	(ETL_PULL_MARKER + 1)

/* How long stop_stream waits for the worker to go */
#define STOP_WAIT_MS	10000

/* What a stream worker is started with, in bgw_extra */
typedef struct StreamWorkerArgs
{
	Oid			roleid;
	TransactionId xid;			/* of start_stream, which wrote the row */
	char		group[BGW_EXTRALEN - sizeof(Oid) - sizeof(TransactionId)];
} StreamWorkerArgs;

/* The second half of the advisory lock key of the stream of "group" */
int32
EtlPullStreamLockKey(const char *group)
{
	return (int32) hash_bytes((const unsigned char *) group, strlen(group));
}

/*
 * Start the stream worker of "group" in database "dboid" as role "roleid";
 * false when no worker slot is free.  *pid is its process id once it runs
 * (0 if it could not be waited for).
 */
bool
EtlPullStreamWorkerStart(Oid dboid, Oid roleid, const char *group, pid_t *pid)
{
	BackgroundWorker worker;
	BackgroundWorkerHandle *handle;
	StreamWorkerArgs args;

	memset(&worker, 0, sizeof(worker));
	memset(&args, 0, sizeof(args));
	args.roleid = roleid;
	args.xid = IsTransactionState() ? GetTopTransactionIdIfAny() : InvalidTransactionId;
	strlcpy(args.group, group, sizeof(args.group));
	worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
	worker.bgw_restart_time = BGW_NEVER_RESTART;
	snprintf(worker.bgw_library_name, BGW_MAXLEN, "etl_pull");
	snprintf(worker.bgw_function_name, BGW_MAXLEN, "etl_pull_stream_worker_main");
	snprintf(worker.bgw_name, BGW_MAXLEN, "etl_pull stream %s", group);
	snprintf(worker.bgw_type, BGW_MAXLEN, "etl_pull stream");
	worker.bgw_main_arg = ObjectIdGetDatum(dboid);
	memcpy(worker.bgw_extra, &args, sizeof(args));
	worker.bgw_notify_pid = MyProcPid;
	*pid = 0;
	if (!RegisterDynamicBackgroundWorker(&worker, &handle))
		return false;
	if (WaitForBackgroundWorkerStartup(handle, pid) != BGWH_STARTED)
		*pid = 0;
	return true;
}

/*
 * In the stream worker: its database, role and group, as it was started,
 * and the transaction of the start_stream that started it (its row is
 * visible once that is over), or InvalidTransactionId
 */
void
EtlPullStreamWorkerArgs(Datum main_arg, Oid *dboid, Oid *roleid, char **group,
						TransactionId *xid)
{
	StreamWorkerArgs args;

	memcpy(&args, MyBgworkerEntry->bgw_extra, sizeof(args));
	args.group[sizeof(args.group) - 1] = '\0';
	*dboid = DatumGetObjectId(main_arg);
	*roleid = args.roleid;
	*group = pstrdup(args.group);
	*xid = args.xid;
}

/*
 * Try to take the session-level advisory lock of the stream of "group"
 * (the worker holds it while it runs); whether it was had
 */
bool
EtlPullStreamTryLock(const char *group)
{
	return DatumGetBool(DirectFunctionCall2(pg_try_advisory_lock_int4,
											Int32GetDatum(STREAM_LOCK_CLASS),
											Int32GetDatum(EtlPullStreamLockKey(group))));
}

/* The process holding the lock of the stream of "group", or 0 */
static pid_t
stream_holder(const char *group)
{
	Oid			argtypes[2] = {OIDOID, OIDOID};
	Datum		args[2];
	bool		isnull;
	pid_t		pid = 0;

	args[0] = ObjectIdGetDatum((Oid) STREAM_LOCK_CLASS);
	args[1] = ObjectIdGetDatum((Oid) EtlPullStreamLockKey(group));
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute_with_args("SELECT l.pid FROM pg_catalog.pg_locks l"
							  " WHERE l.locktype OPERATOR(pg_catalog.=) 'advisory'"
							  "   AND l.database OPERATOR(pg_catalog.=)"
							  "       (SELECT d.oid FROM pg_catalog.pg_database d"
							  "         WHERE d.datname OPERATOR(pg_catalog.=) pg_catalog.current_database())"
							  "   AND l.classid OPERATOR(pg_catalog.=) $1"
							  "   AND l.objid OPERATOR(pg_catalog.=) $2"
							  "   AND l.objsubid OPERATOR(pg_catalog.=) 2 AND l.granted",
							  2, argtypes, args, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not read pg_locks");
	if (SPI_processed > 0)
	{
		Datum		d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);

		if (!isnull)
			pid = DatumGetInt32(d);
	}
	SPI_finish();
	return pid;
}

/*
 * The binlog tables of "group" (enabled ones), by name, and their one
 * server: an error for a group without any, or with tables on two servers
 */
static char *
group_server(const char *group)
{
	Oid			argtypes[1] = {TEXTOID};
	Datum		args[1];
	char	   *server = NULL;
	uint64		i;

	args[0] = CStringGetTextDatum(group);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute_with_args("SELECT name, server FROM etl_pull.tables"
							  " WHERE load_group OPERATOR(pg_catalog.=) $1"
							  "   AND extraction OPERATOR(pg_catalog.=) 'binlog' AND enabled"
							  " ORDER BY name",
							  1, argtypes, args, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read etl_pull.tables");
	for (i = 0; i < SPI_processed; i++)
	{
		char	   *s = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 2);

		if (server == NULL)
			server = MemoryContextStrdup(TopTransactionContext, s);
		else if (strcmp(server, s) != 0)
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("the stream of load group \"%s\" reads one MySQL server", group),
					 errdetail("Its binlog tables are on servers \"%s\" and \"%s\".", server, s),
					 errhint("Put the binlog tables of each server in a group of their own.")));
	}
	SPI_finish();
	if (server == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("load group \"%s\" has no enabled table with extraction \"binlog\"", group),
				 errhint("Set it with etl_pull.set_table_option(name, 'extraction', 'binlog') and etl_pull.set_table_option(name, 'load_group', '%s').",
						 group)));
	return server;
}

/*
 * Check, on a connection of the caller's, that the server of the group
 * can be followed and that each of its binlog tables has a primary key at
 * the source (a row without one cannot be found again exactly)
 */
static void
check_source(const char *group, ForeignServer *server)
{
	EtlPullConnection *conn = EtlPullConnect(server, GetUserId());
	Oid			argtypes[1] = {TEXTOID};
	Datum		args[1];
	List	   *names = NIL;
	ListCell   *lc;
	uint64		i;
	MemoryContext oldcxt;

	EtlPullCheckBinlogPrerequisites(conn, group);
	args[0] = CStringGetTextDatum(group);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute_with_args("SELECT name FROM etl_pull.tables"
							  " WHERE load_group OPERATOR(pg_catalog.=) $1"
							  "   AND extraction OPERATOR(pg_catalog.=) 'binlog' AND enabled",
							  1, argtypes, args, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read etl_pull.tables");
	/* the list outside SPI's context, which SPI_finish frees */
	oldcxt = MemoryContextSwitchTo(TopTransactionContext);
	for (i = 0; i < SPI_processed; i++)
		names = lappend(names, SPI_getvalue(SPI_tuptable->vals[i],
											SPI_tuptable->tupdesc, 1));
	MemoryContextSwitchTo(oldcxt);
	SPI_finish();
	foreach(lc, names)
	{
		EtlPullTable *table = EtlPullReadTable((char *) lfirst(lc));
		EtlPullSource *source = EtlPullDescribeTableSource(conn, table);
		const char *why = EtlPullStreamUnsuitable(table, source);

		if (why != NULL)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_TABLE_DEFINITION),
					 errmsg("%s", why),
					 errhint("Give the MySQL table a primary key, or set the table's extraction to \"full\" or \"diff\".")));
	}
	EtlPullDisconnect(conn);
}

/*
 * Why binlog table "table" cannot be streamed from "source", or NULL: a
 * row event names a row by its values, and without a primary key the
 * target's copy of it cannot be found exactly (item 6 of the issue: such
 * tables are refused, never applied approximately)
 */
const char *
EtlPullStreamUnsuitable(EtlPullTable *table, EtlPullSource *source)
{
	int			i;

	if (source->engine == NULL)
		return psprintf("table \"%s\" cannot follow the binary log: MySQL's \"%s.%s\" is a view",
						table->name, source->db, source->table);
	for (i = 0; i < source->ncolumns; i++)
		if (source->columns[i].pk_position > 0)
			return NULL;
	return psprintf("table \"%s\" cannot follow the binary log: MySQL table \"%s.%s\" has no primary key, so a changed or deleted row cannot be found exactly in the target",
					table->name, source->db, source->table);
}

/* A server_id for the replication connection, stable for the group */
static int64
stream_server_id(const char *group)
{
	/* away from the small ids DBAs give their servers */
	return 1000000000 + (int64) ((uint32) EtlPullStreamLockKey(group) % 1000000000);
}

PG_FUNCTION_INFO_V1(etl_pull_start_stream);

/*
 * etl_pull.start_stream(load_group text) returns integer: start the
 * group's stream worker, or resume it from its recorded position; returns
 * its process id.  Anyone may, for the tables their own rights let them
 * load: the worker runs as the caller.
 */
Datum
etl_pull_start_stream(PG_FUNCTION_ARGS)
{
	char	   *group;
	char	   *server_name;
	ForeignServer *server;
	Oid			argtypes[4] = {TEXTOID, TEXTOID, NAMEOID, INT8OID};
	Datum		args[4];
	pid_t		pid;
	TimestampTz deadline;
	int			nestlevel;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("load group must not be null")));
	group = text_to_cstring(PG_GETARG_TEXT_PP(0));
	if (strlen(group) >= sizeof(((StreamWorkerArgs *) NULL)->group))
		ereport(ERROR,
				(errcode(ERRCODE_NAME_TOO_LONG),
				 errmsg("load group name \"%s\" is too long for a stream", group),
				 errdetail("A stream's group name has at most %d bytes.",
						   (int) sizeof(((StreamWorkerArgs *) NULL)->group) - 1)));
	nestlevel = EtlPullPinSearchPath();
	server_name = group_server(group);
	EtlPullCheckWorkerRole(GetUserId(), "start_stream",
						   "Call start_stream as a role with LOGIN: the stream's worker runs as the caller.");
	server = EtlPullUsableServer(GetForeignServerByName(server_name, false)->serverid);
	check_source(group, server);

	pid = stream_holder(group);
	if (pid != 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_IN_USE),
				 errmsg("the stream of load group \"%s\" is already running", group),
				 errdetail("Its worker has process id %d.", (int) pid),
				 errhint("Stop it first with etl_pull.stop_stream('%s').", group)));

	/*
	 * The row: a new group's, or a stopped one's wanted again.  A stream
	 * that moved to another server starts over (its position is the old
	 * server's): every table is snapshotted again.
	 */
	args[0] = CStringGetTextDatum(group);
	args[1] = CStringGetTextDatum(server_name);
	args[2] = DirectFunctionCall1(namein, CStringGetDatum(GetUserNameFromId(GetUserId(), false)));
	args[3] = Int64GetDatum(stream_server_id(group));
	EtlPullOwnerExec("DELETE FROM etl_pull.stream_tables t"
					 " USING etl_pull.stream_state s"
					 " WHERE s.load_group OPERATOR(pg_catalog.=) $1"
					 "   AND t.load_group OPERATOR(pg_catalog.=) $1"
					 "   AND s.server OPERATOR(pg_catalog.<>) $2",
					 2, argtypes, args, NULL, SPI_OK_DELETE,
					 "forget the snapshots of a stream that moved");
	EtlPullOwnerExec("INSERT INTO etl_pull.stream_state AS s"
					 " (load_group, server, run_as, server_id, started_at)"
					 " VALUES ($1, $2, $3, $4, pg_catalog.now())"
					 " ON CONFLICT (load_group) DO UPDATE"
					 " SET wanted = true, run_as = EXCLUDED.run_as,"
					 "     started_at = EXCLUDED.started_at,"
					 "     state = CASE WHEN s.binlog_file IS NULL"
					 "                    OR s.server OPERATOR(pg_catalog.<>) EXCLUDED.server"
					 "             THEN 'snapshotting' ELSE 'streaming' END,"
					 "     binlog_file = CASE WHEN s.server OPERATOR(pg_catalog.=) EXCLUDED.server"
					 "                   THEN s.binlog_file END,"
					 "     binlog_offset = CASE WHEN s.server OPERATOR(pg_catalog.=) EXCLUDED.server"
					 "                     THEN s.binlog_offset END,"
					 "     gtid = CASE WHEN s.server OPERATOR(pg_catalog.=) EXCLUDED.server"
					 "            THEN s.gtid END,"
					 "     server = EXCLUDED.server",
					 4, argtypes, args, NULL, SPI_OK_INSERT,
					 "record a stream in etl_pull.stream_state");

	if (!EtlPullStreamWorkerStart(MyDatabaseId, GetUserId(), group, &pid))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_RESOURCES),
				 errmsg("could not start the stream worker of load group \"%s\"", group),
				 errhint("Consider increasing the configuration parameter \"%s\".",
						 "max_worker_processes")));

	/*
	 * Until the worker holds the group's lock, a second start_stream would
	 * not see it running: wait for the lock (or the worker's exit)
	 */
	deadline = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), STOP_WAIT_MS);
	while (pid != 0 && stream_holder(group) != pid && BackendPidGetProc(pid) != NULL &&
		   GetCurrentTimestamp() < deadline)
	{
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 10L, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
	}
	AtEOXact_GUC(true, nestlevel);
	PG_RETURN_INT32((int32) pid);
}

PG_FUNCTION_INFO_V1(etl_pull_stop_stream);

/*
 * etl_pull.stop_stream(load_group text) returns boolean: stop the group's
 * stream worker and keep its position; whether one was running.  For the
 * stream's role (or a member of it) and etl_pull_admin.
 */
Datum
etl_pull_stop_stream(PG_FUNCTION_ARGS)
{
	char	   *group;
	Oid			argtypes[1] = {TEXTOID};
	Datum		args[1];
	char	   *run_as = NULL;
	Oid			admin = get_role_oid("etl_pull_admin", true);
	Oid			runner;
	pid_t		pid;
	TimestampTz deadline;
	EtlPullUserState st;
	int			nestlevel;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("load group must not be null")));
	group = text_to_cstring(PG_GETARG_TEXT_PP(0));
	nestlevel = EtlPullPinSearchPath();

	args[0] = CStringGetTextDatum(group);
	EtlPullAsOwner(&st);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute_with_args("SELECT run_as FROM etl_pull.stream_state"
							  " WHERE load_group OPERATOR(pg_catalog.=) $1",
							  1, argtypes, args, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not read etl_pull.stream_state");
	if (SPI_processed > 0)
		run_as = MemoryContextStrdup(TopTransactionContext,
									 SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1));
	SPI_finish();
	EtlPullAsCaller(&st);
	if (run_as == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("load group \"%s\" has no stream", group),
				 errhint("Start one with etl_pull.start_stream('%s').", group)));
	runner = get_role_oid(run_as, true);
	if (!(OidIsValid(runner) && has_privs_of_role(GetUserId(), runner)) &&
		!(OidIsValid(admin) && has_privs_of_role(GetUserId(), admin)))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied to stop the stream of load group \"%s\"", group),
				 errdetail("The stream runs as role \"%s\"; only that role and members of \"etl_pull_admin\" may stop it.",
						   run_as)));

	EtlPullOwnerExec("UPDATE etl_pull.stream_state"
					 " SET wanted = false, state = 'stopped', worker_pid = NULL"
					 " WHERE load_group OPERATOR(pg_catalog.=) $1",
					 1, argtypes, args, NULL, SPI_OK_UPDATE,
					 "stop a stream in etl_pull.stream_state");

	pid = stream_holder(group);
	if (pid == 0)
	{
		AtEOXact_GUC(true, nestlevel);
		PG_RETURN_BOOL(false);
	}

	/*
	 * As pg_terminate_backend: the worker rolls back what it had not
	 * committed and exits; wait until it has
	 */
	if (kill(pid, SIGTERM) != 0)
		ereport(WARNING,
				(errmsg("could not send a signal to the stream worker (process %d): %m", (int) pid)));
	deadline = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), STOP_WAIT_MS);
	while (BackendPidGetProc(pid) != NULL)
	{
		if (GetCurrentTimestamp() > deadline)
			ereport(ERROR,
					(errcode(ERRCODE_LOCK_NOT_AVAILABLE),
					 errmsg("the stream worker of load group \"%s\" (process %d) did not stop in time",
							group, (int) pid)));
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 20L, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
	}
	AtEOXact_GUC(true, nestlevel);
	PG_RETURN_BOOL(true);
}

/*
 * With shared_preload_libraries: register the launcher, which the
 * postmaster starts once recovery is done (and again after a crash)
 */
void
EtlPullStreamLauncherRegister(void)
{
	BackgroundWorker worker;

	memset(&worker, 0, sizeof(worker));
	worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
	worker.bgw_restart_time = 10;
	snprintf(worker.bgw_library_name, BGW_MAXLEN, "etl_pull");
	snprintf(worker.bgw_function_name, BGW_MAXLEN, "etl_pull_stream_launcher_main");
	snprintf(worker.bgw_name, BGW_MAXLEN, "etl_pull stream launcher");
	snprintf(worker.bgw_type, BGW_MAXLEN, "etl_pull stream launcher");
	RegisterBackgroundWorker(&worker);
}

/*
 * The launcher: start a starter in each database that allows connections,
 * one after the other, then wait for SIGTERM.  It stays (rather than
 * exiting) so that the postmaster starts it again after a crash, when
 * every stream worker is gone too.
 */
void
etl_pull_stream_launcher_main(Datum main_arg)
{
	List	   *dbs = NIL;
	ListCell   *lc;
	Relation	rel;
	TableScanDesc scan;
	HeapTuple	tup;

	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();
	BackgroundWorkerInitializeConnection(NULL, NULL, 0);

	StartTransactionCommand();
	PushActiveSnapshot(GetTransactionSnapshot());
	rel = table_open(DatabaseRelationId, AccessShareLock);
	scan = table_beginscan_catalog(rel, 0, NULL);
	while ((tup = heap_getnext(scan, ForwardScanDirection)) != NULL)
	{
		Form_pg_database db = (Form_pg_database) GETSTRUCT(tup);

		if (db->datallowconn && !db->datistemplate)
			dbs = lappend_oid(dbs, db->oid);
	}
	table_endscan(scan);
	table_close(rel, AccessShareLock);
	PopActiveSnapshot();
	CommitTransactionCommand();

	foreach(lc, dbs)
	{
		BackgroundWorker worker;
		BackgroundWorkerHandle *handle;

		memset(&worker, 0, sizeof(worker));
		worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
		worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
		worker.bgw_restart_time = BGW_NEVER_RESTART;
		snprintf(worker.bgw_library_name, BGW_MAXLEN, "etl_pull");
		snprintf(worker.bgw_function_name, BGW_MAXLEN, "etl_pull_stream_starter_main");
		snprintf(worker.bgw_name, BGW_MAXLEN, "etl_pull stream starter");
		snprintf(worker.bgw_type, BGW_MAXLEN, "etl_pull stream starter");
		worker.bgw_main_arg = ObjectIdGetDatum(lfirst_oid(lc));
		worker.bgw_notify_pid = MyProcPid;
		if (!RegisterDynamicBackgroundWorker(&worker, &handle))
		{
			ereport(LOG,
					(errmsg("etl_pull could not start a worker to resume the streams of database %u",
							lfirst_oid(lc)),
					 errhint("Consider increasing the configuration parameter \"%s\".",
							 "max_worker_processes")));
			continue;
		}
		(void) WaitForBackgroundWorkerShutdown(handle);
	}

	for (;;)
	{
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_EXIT_ON_PM_DEATH, -1L,
						 PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
	}
}

/*
 * A starter: in its database, if etl_pull (1.5 or later) is installed,
 * start a worker for every stream that is wanted, as its role
 */
void
etl_pull_stream_starter_main(Datum main_arg)
{
	Oid			nspid;
	uint64		i;
	List	   *groups = NIL;
	List	   *roles = NIL;
	ListCell   *lc,
			   *lr;
	MemoryContext oldcxt;

	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();
	BackgroundWorkerInitializeConnectionByOid(DatumGetObjectId(main_arg), InvalidOid, 0);
	SetConfigOption("search_path", "pg_catalog, pg_temp", PGC_SUSET, PGC_S_OVERRIDE);

	StartTransactionCommand();
	PushActiveSnapshot(GetTransactionSnapshot());
	nspid = OidIsValid(get_extension_oid("etl_pull", true)) ?
		get_namespace_oid("etl_pull", true) : InvalidOid;
	if (OidIsValid(nspid) && OidIsValid(get_relname_relid("stream_state", nspid)))
	{
		if (SPI_connect() != SPI_OK_CONNECT)
			elog(ERROR, "SPI_connect failed");
		if (SPI_execute("SELECT s.load_group, r.oid FROM etl_pull.stream_state s"
						" JOIN pg_catalog.pg_roles r ON r.rolname OPERATOR(pg_catalog.=) s.run_as"
						" WHERE s.wanted", true, 0) != SPI_OK_SELECT)
			elog(ERROR, "could not read etl_pull.stream_state");
		/* the lists outside SPI's context, which SPI_finish frees */
		oldcxt = MemoryContextSwitchTo(TopMemoryContext);
		for (i = 0; i < SPI_processed; i++)
		{
			bool		isnull;

			groups = lappend(groups, SPI_getvalue(SPI_tuptable->vals[i],
												  SPI_tuptable->tupdesc, 1));
			roles = lappend_oid(roles,
								DatumGetObjectId(SPI_getbinval(SPI_tuptable->vals[i],
															   SPI_tuptable->tupdesc, 2,
															   &isnull)));
		}
		MemoryContextSwitchTo(oldcxt);
		SPI_finish();
	}
	PopActiveSnapshot();
	CommitTransactionCommand();

	forboth(lc, groups, lr, roles)
	{
		pid_t		pid;

		if (!EtlPullStreamWorkerStart(MyDatabaseId, lfirst_oid(lr), (char *) lfirst(lc), &pid))
			ereport(LOG,
					(errmsg("etl_pull could not resume the stream of load group \"%s\"",
							(char *) lfirst(lc)),
					 errhint("Consider increasing the configuration parameter \"%s\".",
							 "max_worker_processes")));
		else
			ereport(LOG,
					(errmsg("etl_pull resumed the stream of load group \"%s\" (process %d)",
							(char *) lfirst(lc), (int) pid)));
	}
}
