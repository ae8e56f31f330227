/*-------------------------------------------------------------------------
 *
 * snapshot.c
 *		  A stream's snapshot of one table (the source's position read,
 *		  then a full load_table, recorded with the position), and the
 *		  snapshot worker that takes a re-snapshot beside the stream, so
 *		  that the group's other tables keep streaming meanwhile.
 *
 * Design.  EtlPullStreamSnapshot is the one snapshot: the stream worker
 * calls it inline for a stream's first snapshots, the snapshot worker for
 * a table whose schema changed.  It reads the source's position S before
 * any row (the copy's low watermark: the table's events up to S are in the
 * copy, and the stream skips them), runs load_table(force_full), notes why
 * in the run, and inserts the table's row of etl_pull.stream_tables with
 * S, all in the caller's transaction, which commits them together.
 *
 * The snapshot worker is a dynamic background worker of the stream's
 * database, connected as the stream's role, started by the stream worker
 * (worker.c), which keeps its handle and segment across transactions and
 * polls the handle at group boundaries.  The segment (a shm_toc) holds the
 * group and table names, the stream worker's process id, and a buffer for
 * the worker's error.  The worker:
 *
 *	- takes a transaction-level advisory lock of its own on the table, so
 *	  that two copies of one table never overlap (a worker left from a
 *	  stream that is gone, and the next stream's), and then, in a fresh
 *	  snapshot, checks that the stream is wanted, the table is still in its
 *	  "resnapshotting" list and has no row yet (otherwise a copy already
 *	  committed, and it exits without doing anything);
 *	- takes the snapshot;
 *	- before committing, checks that its stream worker is still alive and
 *	  the check above still holds, the stream's row locked until the
 *	  commit, and otherwise rolls back.
 *
 * A copy that commits although its stream has just gone is harmless: the
 * table stays in the stream's "resnapshotting" list until the stream
 * worker has replayed its events from S (worker.c), so the next stream
 * does exactly that.  The stream worker terminates its snapshot workers
 * when it exits (stop_stream, pg_terminate_backend, a shutdown).
 *
 * IDENTIFICATION
 *		  src/stream/snapshot.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "common/hashfn.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "storage/dsm.h"
#include "storage/ipc.h"
#include "storage/proc.h"
#include "storage/procarray.h"
#include "storage/shm_toc.h"
#include "tcop/tcopprot.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"

#include "bgworker.h"
#include "etl_pull.h"
#include "catalog/etl_catalog.h"
#include "remote/remote.h"
#include "load/load.h"
#include "load/progress.h"
#include "stream/stream.h"

/* The advisory lock class of a table's snapshot (streams use + 1) */
#define SNAPSHOT_LOCK_CLASS	(ETL_PULL_MARKER + 2)

#define SNAPSHOT_MAGIC		UINT64CONST(0x45544c5053534e50)
#define SNAPSHOT_KEY_SHARED	1
#define SNAPSHOT_KEY_GROUP	2
#define SNAPSHOT_KEY_TABLE	3

#define SNAPSHOT_ERROR_LEN	2048

/* The fixed part of a snapshot worker's segment */
typedef struct SnapshotShared
{
	Oid			dboid;
	Oid			roleid;
	pid_t		stream_pid;		/* the stream worker that started it */
	bool		in_load;		/* the error came from load_table, which
								 * recorded it as a failed run */
	char		error[SNAPSHOT_ERROR_LEN];	/* its error, "" if none */
} SnapshotShared;

/* The stream worker's side of a snapshot worker */
struct EtlPullCopyWorker
{
	dsm_segment *seg;
	SnapshotShared *shared;
	BackgroundWorkerHandle *handle;
};

/*
 * Snapshot table "name" of the stream of "group" on "server", as role
 * "roleid", in the current transaction: the source's position first, then
 * a full load_table (a run, whose notes say "why"), and the table's row of
 * etl_pull.stream_tables with that position
 */
void
EtlPullStreamSnapshot(ForeignServer *server, Oid roleid, const char *group,
					  const char *name, const char *why, bool *in_load)
{
	Oid			argtypes[4] = {TEXTOID, TEXTOID, TEXTOID, INT8OID};
	Datum		args[4];
	bool		isnull;
	int64		run_id;
	EtlPullConnection *conn;
	EtlPullBinlogStatus status;

	pgstat_report_activity(STATE_RUNNING, psprintf("etl_pull stream: snapshot of %s", name));
	conn = EtlPullConnect(server, roleid);
	if (!EtlPullBinlogCurrent(conn, &status))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("MySQL server \"%s\" has no binary log", server->servername)));
	EtlPullDisconnect(conn);
	args[0] = CStringGetTextDatum(name);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (in_load)
		*in_load = true;
	if (SPI_execute_with_args("SELECT run_id FROM etl_pull.load_table($1, force_full => true)",
							  1, argtypes, args, NULL, false, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not run etl_pull.load_table");
	if (in_load)
		*in_load = false;
	run_id = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	SPI_finish();

	/* the run says why it was taken */
	args[1] = CStringGetTextDatum(psprintf("snapshot of the binary log's stream of load group \"%s\": %s",
										   group, why));
	EtlPullOwnerExec(psprintf("UPDATE etl_pull.runs"
							  " SET notes = CASE WHEN notes IS NULL THEN $2"
							  "                  ELSE notes OPERATOR(pg_catalog.||) '; '"
							  "                       OPERATOR(pg_catalog.||) $2 END"
							  " WHERE run_id OPERATOR(pg_catalog.=) " INT64_FORMAT, run_id),
					 2, argtypes, args, NULL, SPI_OK_UPDATE,
					 "note why a snapshot was taken in etl_pull.runs");

	args[1] = CStringGetTextDatum(group);
	args[2] = CStringGetTextDatum(status.file);
	args[3] = Int64GetDatum((int64) status.offset);
	EtlPullOwnerExec(psprintf("INSERT INTO etl_pull.stream_tables AS t"
							  " (table_name, load_group, snapshot_run_id, snapshot_file, snapshot_offset)"
							  " VALUES ($1, $2, " INT64_FORMAT ", $3, $4)"
							  " ON CONFLICT (table_name) DO UPDATE"
							  " SET load_group = EXCLUDED.load_group,"
							  "     snapshot_run_id = EXCLUDED.snapshot_run_id,"
							  "     snapshot_file = EXCLUDED.snapshot_file,"
							  "     snapshot_offset = EXCLUDED.snapshot_offset,"
							  "     snapshotted_at = pg_catalog.now()", run_id),
					 4, argtypes, args, NULL, SPI_OK_INSERT,
					 "record a snapshot in etl_pull.stream_tables");
	pgstat_report_activity(STATE_IDLE, NULL);
}

/*
 * Start a snapshot worker for table "table" of the stream of "group", as
 * role "roleid"; NULL when no worker slot is free.  Everything is in
 * TopMemoryContext and the segment outlives transactions.
 */
EtlPullCopyWorker *
EtlPullSnapshotStart(const char *group, const char *table, Oid roleid)
{
	MemoryContext oldcxt = MemoryContextSwitchTo(TopMemoryContext);
	EtlPullCopyWorker *w = palloc0(sizeof(EtlPullCopyWorker));
	shm_toc_estimator e;
	shm_toc    *toc;

	shm_toc_initialize_estimator(&e);
	shm_toc_estimate_chunk(&e, sizeof(SnapshotShared));
	shm_toc_estimate_keys(&e, 1);
	EtlPullEstimateString(&e, group);
	EtlPullEstimateString(&e, table);
	w->seg = EtlPullSegmentCreate(&e, SNAPSHOT_MAGIC, &toc);
	dsm_pin_mapping(w->seg);
	w->shared = shm_toc_allocate(toc, sizeof(SnapshotShared));
	memset(w->shared, 0, sizeof(SnapshotShared));
	w->shared->dboid = MyDatabaseId;
	w->shared->roleid = roleid;
	w->shared->stream_pid = MyProcPid;
	shm_toc_insert(toc, SNAPSHOT_KEY_SHARED, w->shared);
	EtlPullInsertString(toc, SNAPSHOT_KEY_GROUP, group);
	EtlPullInsertString(toc, SNAPSHOT_KEY_TABLE, table);
	if (!EtlPullStartWorker("etl_pull_stream_snapshot_main", "etl_pull stream snapshot",
							w->seg, 0, &w->handle))
	{
		dsm_detach(w->seg);
		pfree(w);
		w = NULL;
	}
	MemoryContextSwitchTo(oldcxt);
	return w;
}

/* Whether the snapshot worker has exited (its handle says so) */
bool
EtlPullSnapshotStopped(EtlPullCopyWorker *w)
{
	pid_t		pid;

	return GetBackgroundWorkerPid(w->handle, &pid) == BGWH_STOPPED;
}

/*
 * The error an exited snapshot worker reported (NULL: none, it was killed
 * or found nothing to do), and whether load_table recorded it as a run
 */
const char *
EtlPullSnapshotError(EtlPullCopyWorker *w, bool *recorded)
{
	pg_read_barrier();
	*recorded = w->shared->in_load;
	return w->shared->error[0] != '\0' ? w->shared->error : NULL;
}

/* Stop the snapshot worker if it runs, and forget it */
void
EtlPullSnapshotEnd(EtlPullCopyWorker *w)
{
	TerminateBackgroundWorker(w->handle);
	dsm_detach(w->seg);
	pfree(w->handle);
	pfree(w);
}

/* Ask the postmaster to stop the snapshot worker (at the stream's exit) */
void
EtlPullSnapshotTerminate(EtlPullCopyWorker *w)
{
	TerminateBackgroundWorker(w->handle);
}

/*
 * In the snapshot worker, in its transaction: the server of the stream of
 * "group" if the stream is wanted and table "table" is in its
 * "resnapshotting" list without a snapshot; else NULL.  With "lock" (after
 * the copy, whose snapshot is there now), the stream's row is held until
 * this transaction ends: what was checked cannot change before the copy
 * commits (stop_stream, a purged position that forgets every snapshot,
 * wait for it).
 */
static char *
copy_wanted(const char *group, const char *table, bool lock)
{
	Oid			argtypes[2] = {TEXTOID, TEXTOID};
	Datum		args[2];
	EtlPullUserState st;
	char	   *server = NULL;

	args[0] = CStringGetTextDatum(group);
	args[1] = CStringGetTextDatum(table);
	EtlPullAsOwner(&st);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute_with_args(psprintf("SELECT s.server FROM etl_pull.stream_state s"
									   " WHERE s.load_group OPERATOR(pg_catalog.=) $1 AND s.wanted"
									   "   AND $2 OPERATOR(pg_catalog.=) ANY (s.resnapshotting)%s",
									   lock ? " FOR SHARE OF s" :
									   "   AND NOT EXISTS (SELECT FROM etl_pull.stream_tables t"
									   "                    WHERE t.table_name OPERATOR(pg_catalog.=) $2)"),
							  2, argtypes, args, NULL, false, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not read etl_pull.stream_state");
	if (SPI_processed > 0)
		server = MemoryContextStrdup(TopTransactionContext,
									 SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1));
	SPI_finish();
	EtlPullAsCaller(&st);
	return server;
}

/*
 * Background worker: the snapshot of one table of a stream, beside it.
 * Its segment's handle is its argument.
 */
void
etl_pull_stream_snapshot_main(Datum main_arg)
{
	dsm_segment *seg;
	shm_toc    *toc;
	int			slot;
	SnapshotShared *shared;
	char	   *group;
	char	   *table;

	toc = EtlPullWorkerAttach(main_arg, SNAPSHOT_MAGIC, &seg, &slot);
	shared = shm_toc_lookup(toc, SNAPSHOT_KEY_SHARED, false);
	group = pstrdup(shm_toc_lookup(toc, SNAPSHOT_KEY_GROUP, false));
	table = pstrdup(shm_toc_lookup(toc, SNAPSHOT_KEY_TABLE, false));
	EtlPullWorkerConnect(shared->dboid, shared->roleid);
	pgstat_report_appname("etl_pull stream snapshot");

	PG_TRY();
	{
		char	   *server;

		StartTransactionCommand();
		DirectFunctionCall2(pg_advisory_xact_lock_int4,
							Int32GetDatum(SNAPSHOT_LOCK_CLASS),
							Int32GetDatum((int32) hash_bytes((const unsigned char *) table,
															 strlen(table))));
		PushActiveSnapshot(GetTransactionSnapshot());
		server = copy_wanted(group, table, false);
		if (server != NULL)
		{
			EtlPullStreamSnapshot(GetForeignServerByName(server, false),
								  shared->roleid, group, table,
								  "its table map no longer matched the table (a schema change at the source)",
								  &shared->in_load);
			if (BackendPidGetProc(shared->stream_pid) == NULL ||
				copy_wanted(group, table, true) == NULL)
				ereport(ERROR,
						(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
						 errmsg("the stream of load group \"%s\" no longer wants the snapshot of table \"%s\"",
								group, table),
						 errdetail("The stream stopped, or forgot its snapshots, during the copy, which is rolled back.")));
		}
		PopActiveSnapshot();
		CommitTransactionCommand();
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(TopMemoryContext);
		edata = CopyErrorData();
		strlcpy(shared->error, EtlPullErrorText(edata), sizeof(shared->error));
		pg_write_barrier();
		PG_RE_THROW();
	}
	PG_END_TRY();
	dsm_detach(seg);
	proc_exit(0);
}
