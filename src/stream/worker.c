/*-------------------------------------------------------------------------
 *
 * worker.c
 *		  A load group's stream: the background worker that snapshots the
 *		  group's binlog tables and then applies the source's binary log
 *		  to them, exactly once.
 *
 * Design.  The worker (started by control.c, as the role that called
 * start_stream, search_path pinned) runs one loop:
 *
 *	1. Its row of etl_pull.stream_state says where it is.  With no
 *	   position yet, it records the source's current one (SHOW MASTER
 *	   STATUS, @@gtid_binlog_pos: the low watermark) before anything is
 *	   read.
 *	2. Each binlog table without a row in etl_pull.stream_tables (never
 *	   snapshotted for this stream) is loaded in full by load_table, in a
 *	   transaction of its own that also records its row: the load is a run
 *	   in etl_pull.runs like any other.  No lock is held across the copy;
 *	   the copy reads rows at or after the position the stream stands at.
 *	3. From its position, it applies the binary log (apply.c).  Row images
 *	   are whole rows, so replaying the changes that happened while a
 *	   table was copied converges on the source's rows as soon as the
 *	   stream passes the end of the copy (the low/high watermark argument
 *	   of DBLog): the snapshot needs no lock and no consistent read.
 *
 * Exactly once.  The position recorded with the applied rows, in the same
 * PostgreSQL transaction, is always the end of a transaction group of the
 * source: a GTID group's XID, the COMMIT query event that ends a MyISAM
 * group, a standalone GTID group's one event, or (no GTID) a BEGIN ...
 * COMMIT.  Events of a group are applied inside one open transaction,
 * which commits only at a group's end; several groups may share a commit
 * (at most BATCH_CHANGES rows or BATCH_MS milliseconds), the position
 * then being the last one's end.  A kill -9 at any moment rolls back what
 * was not committed, and the stream resumes at the position that was: a
 * change is applied once.  The offsets are counted by the transport from
 * event lengths (replication.c), never read from end_log_pos.
 *
 * Schema changes.  A rows event whose table map does not match the table
 * as the stream knows it is never decoded with the wrong layout: at the
 * end of its group the table is snapshotted again (load_table, so
 * on_schema_change decides) and the apply made again; each table's events
 * up to its snapshot's position (read before its copy began) are skipped.
 *
 * Stopping.  SIGTERM (stop_stream, pg_terminate_backend, a shutdown) is
 * PostgreSQL's die(): the next CHECK_FOR_INTERRUPTS exits, and the
 * transport returns at least every HEARTBEAT_MS while the source is
 * silent, so the worker stops within a second.  The same heartbeat commits
 * what the last groups applied once the source falls silent (a commit
 * waits for BATCH_MS or the next event): a tenth of a second keeps a quiet
 * source's lag near that, for ten tiny packets a second.
 *
 * Failures.  An error (the source down, a lost connection, a value the
 * target refuses) rolls the open transaction back, is written to the
 * stream's row (last_error, its time, state failed) and, once per distinct
 * error, to etl_pull.runs as a failed run of each table, and the worker
 * tries again after a back-off that doubles from one second to a minute.
 * A position the source no longer has (purged logs) makes every table
 * snapshot again, and the row says why.
 *
 * IDENTIFICATION
 *		  src/stream/worker.c
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
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/lmgr.h"
#include "tcop/tcopprot.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"
#include "utils/wait_event.h"

#include "bgworker.h"
#include "etl_pull.h"
#include "catalog/etl_catalog.h"
#include "remote/remote.h"
#include "load/load.h"
#include "stream/stream.h"
#include "stream/event.h"

#define HEARTBEAT_MS		100
#define BATCH_CHANGES		10000
#define BATCH_MS			200
#define IDLE_RECORD_MS		2000
#define MAX_BACKOFF_MS		60000

/* What the worker knows of its stream */
typedef struct Stream
{
	char	   *group;
	Oid			roleid;
	char	   *server_name;
	ForeignServer *server;
	uint32		server_id;
	List	   *tables;			/* EtlPullTable *, the binlog tables */
	List	   *unsnapshotted;	/* their names, of those without a snapshot */

	/* the position applied (committed or about to be) */
	char	   *file;
	uint64		offset;
	char	   *gtid;
	TimestampTz source_time;
	bool		has_time;

	/* the open transaction */
	bool		in_xact;
	TimestampTz xact_started;
	int64		xact_changes;
	bool		position_dirty; /* groups ended since the last commit */
	TimestampTz last_record;	/* the row last written */

	EtlPullApply *apply;
	EtlPullReplication *repl;
	List	   *resnapshot;		/* registered names of tables to snapshot
								 * again (their maps changed) */
} Stream;

static void in_xact(Stream *s);

/* A round's memory (deleted after a failed one), and the back-off */
static MemoryContext stream_cxt;
static long backoff_ms = 1000;

/*
 * The failure last recorded in etl_pull.runs, so that a retry failing the
 * same way is not recorded again (NULL after a commit: the stream worked)
 */
static char *recorded_failure = NULL;

/* Why the next round's snapshots are taken, when it is not the first */
static const char *snapshot_reason = NULL;

/* Run one statement on etl_pull's tables as their owner, the group $1 */
static void
exec_state(const char *sql, int nargs, Oid *argtypes, Datum *args, const char *nulls)
{
	EtlPullOwnerExec(sql, nargs, argtypes, args, nulls, SPI_OK_UPDATE, "update etl_pull.stream_state");
}

/* Start a transaction of the worker's own */
static void
begin_xact(void)
{
	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	PushActiveSnapshot(GetTransactionSnapshot());
}

static void
commit_xact(void)
{
	PopActiveSnapshot();
	CommitTransactionCommand();
}

/*
 * Read the stream's row and tables.  Returns false when the stream is not
 * wanted (stopped meanwhile).
 */
static bool
read_stream(Stream *s)
{
	Oid			argtypes[1] = {TEXTOID};
	Datum		args[1];
	EtlPullUserState st;
	bool		wanted = false;
	bool		isnull;
	List	   *names = NIL;
	ListCell   *lc;
	uint64		i;
	MemoryContext oldcxt;

	args[0] = CStringGetTextDatum(s->group);
	EtlPullAsOwner(&st);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute_with_args("SELECT wanted, server, server_id, binlog_file, binlog_offset, gtid"
							  " FROM etl_pull.stream_state"
							  " WHERE load_group OPERATOR(pg_catalog.=) $1",
							  1, argtypes, args, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not read etl_pull.stream_state");
	oldcxt = MemoryContextSwitchTo(stream_cxt);
	if (SPI_processed > 0)
	{
		HeapTuple	tup = SPI_tuptable->vals[0];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		char	   *file = SPI_getvalue(tup, desc, 4);

		wanted = DatumGetBool(SPI_getbinval(tup, desc, 1, &isnull));
		s->server_name = SPI_getvalue(tup, desc, 2);
		s->server_id = (uint32) DatumGetInt64(SPI_getbinval(tup, desc, 3, &isnull));
		s->file = file;
		s->offset = file ? (uint64) DatumGetInt64(SPI_getbinval(tup, desc, 5, &isnull)) : 0;
		s->gtid = SPI_getvalue(tup, desc, 6);
	}
	MemoryContextSwitchTo(oldcxt);
	if (wanted &&
		SPI_execute_with_args("SELECT t.name, s.table_name IS NOT NULL FROM etl_pull.tables t"
							  " LEFT JOIN etl_pull.stream_tables s ON s.table_name OPERATOR(pg_catalog.=) t.name"
							  "  AND s.load_group OPERATOR(pg_catalog.=) $1"
							  " WHERE t.load_group OPERATOR(pg_catalog.=) $1"
							  "   AND t.extraction OPERATOR(pg_catalog.=) 'binlog' AND t.enabled"
							  "   AND t.server OPERATOR(pg_catalog.=) (SELECT server FROM etl_pull.stream_state"
							  "        WHERE load_group OPERATOR(pg_catalog.=) $1)"
							  " ORDER BY t.name",
							  1, argtypes, args, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read etl_pull.tables");
	s->unsnapshotted = NIL;
	for (i = 0; wanted && i < SPI_processed; i++)
	{
		char	   *name = MemoryContextStrdup(stream_cxt,
											   SPI_getvalue(SPI_tuptable->vals[i],
															SPI_tuptable->tupdesc, 1));

		/* in stream_cxt: SPI_finish frees SPI's context, and the list with it */
		oldcxt = MemoryContextSwitchTo(stream_cxt);
		names = lappend(names, name);
		MemoryContextSwitchTo(oldcxt);
		if (!DatumGetBool(SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 2, &isnull)))
		{
			oldcxt = MemoryContextSwitchTo(stream_cxt);
			s->unsnapshotted = lappend(s->unsnapshotted, name);
			MemoryContextSwitchTo(oldcxt);
		}
	}
	SPI_finish();
	EtlPullAsCaller(&st);
	if (!wanted)
		return false;

	oldcxt = MemoryContextSwitchTo(stream_cxt);
	s->tables = NIL;
	foreach(lc, names)
		s->tables = lappend(s->tables, EtlPullReadTable((char *) lfirst(lc)));
	s->server = GetForeignServerByName(s->server_name, false);
	MemoryContextSwitchTo(oldcxt);
	list_free(names);
	if (s->tables == NIL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("load group \"%s\" has no enabled table with extraction \"binlog\" on server \"%s\"",
						s->group, s->server_name)));
	return true;
}

/* Write the worker's state, its process id and clear "resnapshotting" */
static void
set_state(Stream *s, const char *state, List *resnapshotting)
{
	Oid			argtypes[3] = {TEXTOID, TEXTOID, TEXTARRAYOID};
	Datum		args[3];
	char		nulls[3] = "  n";

	args[0] = CStringGetTextDatum(s->group);
	args[1] = CStringGetTextDatum(state);
	if (resnapshotting != NIL)
	{
		Datum	   *elems = palloc(sizeof(Datum) * list_length(resnapshotting));
		ListCell   *lc;
		int			n = 0;

		foreach(lc, resnapshotting)
			elems[n++] = CStringGetTextDatum((char *) lfirst(lc));
		args[2] = PointerGetDatum(construct_array(elems, n, TEXTOID, -1, false, TYPALIGN_INT));
		nulls[2] = ' ';
	}
	exec_state(psprintf("UPDATE etl_pull.stream_state"
						" SET state = $2, resnapshotting = $3, worker_pid = %d"
						" WHERE load_group OPERATOR(pg_catalog.=) $1", MyProcPid),
			   3, argtypes, args, nulls);
}

/*
 * No position yet: record the source's current one, the low watermark of
 * every snapshot that follows, before any row is read
 */
static void
record_low_watermark(Stream *s)
{
	EtlPullConnection *conn;
	EtlPullBinlogStatus status;
	Oid			argtypes[4] = {TEXTOID, TEXTOID, INT8OID, TEXTOID};
	Datum		args[4];
	char		nulls[4] = "   n";
	MemoryContext oldcxt;

	begin_xact();
	conn = EtlPullConnect(s->server, s->roleid);
	EtlPullCheckBinlogPrerequisites(conn, s->group);
	if (!EtlPullBinlogCurrent(conn, &status))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("MySQL server \"%s\" has no binary log", s->server_name)));
	EtlPullDisconnect(conn);
	oldcxt = MemoryContextSwitchTo(stream_cxt);
	s->file = pstrdup(status.file);
	s->offset = status.offset;
	s->gtid = status.gtid ? pstrdup(status.gtid) : NULL;
	MemoryContextSwitchTo(oldcxt);
	args[0] = CStringGetTextDatum(s->group);
	args[1] = CStringGetTextDatum(s->file);
	args[2] = Int64GetDatum((int64) s->offset);
	if (s->gtid)
	{
		args[3] = CStringGetTextDatum(s->gtid);
		nulls[3] = ' ';
	}
	exec_state("UPDATE etl_pull.stream_state"
			   " SET binlog_file = $2, binlog_offset = $3, gtid = $4, state = 'snapshotting'"
			   " WHERE load_group OPERATOR(pg_catalog.=) $1",
			   4, argtypes, args, nulls);
	commit_xact();
}

/*
 * Snapshot table "name": the source's position read first (the copy's low
 * watermark: the table's events up to there are in the copy, and the
 * stream skips them), then a full load_table, recorded as a run, and its
 * row of etl_pull.stream_tables, in one transaction
 */
static void
snapshot_table(Stream *s, const char *name, const char *why)
{
	Oid			argtypes[4] = {TEXTOID, TEXTOID, TEXTOID, INT8OID};
	Datum		args[4];
	bool		isnull;
	int64		run_id;
	EtlPullConnection *conn;
	EtlPullBinlogStatus status;

	begin_xact();
	pgstat_report_activity(STATE_RUNNING, psprintf("etl_pull stream: snapshot of %s", name));
	conn = EtlPullConnect(s->server, s->roleid);
	if (!EtlPullBinlogCurrent(conn, &status))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("MySQL server \"%s\" has no binary log", s->server_name)));
	EtlPullDisconnect(conn);
	args[0] = CStringGetTextDatum(name);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute_with_args("SELECT run_id FROM etl_pull.load_table($1, force_full => true)",
							  1, argtypes, args, NULL, false, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not run etl_pull.load_table");
	run_id = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	SPI_finish();

	/* the run says why it was taken */
	args[1] = CStringGetTextDatum(psprintf("snapshot of the binary log's stream of load group \"%s\": %s",
										   s->group, why));
	EtlPullOwnerExec(psprintf("UPDATE etl_pull.runs"
							  " SET notes = CASE WHEN notes IS NULL THEN $2"
							  "                  ELSE notes OPERATOR(pg_catalog.||) '; '"
							  "                       OPERATOR(pg_catalog.||) $2 END"
							  " WHERE run_id OPERATOR(pg_catalog.=) " INT64_FORMAT, run_id),
					 2, argtypes, args, NULL, SPI_OK_UPDATE,
					 "note why a snapshot was taken in etl_pull.runs");

	args[1] = CStringGetTextDatum(s->group);
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
	commit_xact();
}

/*
 * Write the position applied into the stream's row, in the open
 * transaction (so with the rows), and commit it
 */
static void
commit_position(Stream *s, bool caught_up)
{
	Oid			argtypes[6] = {TEXTOID, TEXTOID, INT8OID, TEXTOID, TIMESTAMPTZOID, INT8OID};
	Datum		args[6];
	char		nulls[6] = "      ";

	if (!s->in_xact)
		begin_xact();
	EtlPullApplyClose(s->apply);
	args[0] = CStringGetTextDatum(s->group);
	args[1] = CStringGetTextDatum(s->file);
	args[2] = Int64GetDatum((int64) s->offset);
	if (s->gtid)
		args[3] = CStringGetTextDatum(s->gtid);
	else
		nulls[3] = 'n';
	if (s->has_time)
		args[4] = TimestampTzGetDatum(s->source_time);
	else
		nulls[4] = 'n';
	args[5] = Int64GetDatum(s->xact_changes);
	exec_state(psprintf("UPDATE etl_pull.stream_state"
						" SET binlog_file = $2, binlog_offset = $3,"
						"     gtid = COALESCE($4, gtid), source_time = COALESCE($5, source_time),"
						"     applied_at = pg_catalog.clock_timestamp(),"
						"     changes_applied = changes_applied OPERATOR(pg_catalog.+) $6,"
						"     state = 'streaming'%s"
						" WHERE load_group OPERATOR(pg_catalog.=) $1",
						caught_up ? ", caught_up_at = pg_catalog.clock_timestamp()" : ""),
			   6, argtypes, args, nulls);
	commit_xact();
	s->in_xact = false;
	s->xact_changes = 0;
	s->position_dirty = false;
	s->last_record = GetCurrentTimestamp();
	backoff_ms = 1000;
	if (recorded_failure != NULL)
		pfree(recorded_failure);
	recorded_failure = NULL;
}

/* The source is idle and everything is applied: say so now and then */
static void
record_caught_up(Stream *s)
{
	Oid			argtypes[1] = {TEXTOID};
	Datum		args[1];

	if (s->in_xact || s->position_dirty)
	{
		commit_position(s, true);
		return;
	}
	if (!TimestampDifferenceExceeds(s->last_record, GetCurrentTimestamp(), IDLE_RECORD_MS))
		return;
	begin_xact();
	args[0] = CStringGetTextDatum(s->group);
	exec_state("UPDATE etl_pull.stream_state SET caught_up_at = pg_catalog.clock_timestamp()"
			   " WHERE load_group OPERATOR(pg_catalog.=) $1",
			   1, argtypes, args, NULL);
	commit_xact();
	s->last_record = GetCurrentTimestamp();
}

/*
 * The table a TRUNCATE statement names, as MySQL's "db"."table" ("db" the
 * session's default if unqualified); false if it is not a plain TRUNCATE
 * of one table
 */
static bool
truncated_table(const char *query, const char *default_db, char **db, char **table)
{
	const char *p = query;
	char	   *parts[2];
	int			nparts = 0;

	while (*p == ' ' || *p == '\t' || *p == '\n')
		p++;
	if (pg_strncasecmp(p, "TRUNCATE", 8) != 0)
		return false;
	p += 8;
	while (*p == ' ' || *p == '\t' || *p == '\n')
		p++;
	if (pg_strncasecmp(p, "TABLE", 5) == 0 && (p[5] == ' ' || p[5] == '\t' || p[5] == '\n' || p[5] == '`'))
	{
		p += 5;
		while (*p == ' ' || *p == '\t' || *p == '\n')
			p++;
	}
	while (nparts < 2)
	{
		StringInfoData buf;

		initStringInfo(&buf);
		if (*p == '`')
		{
			for (p++; *p; p++)
			{
				if (*p == '`' && p[1] == '`')
					appendStringInfoChar(&buf, *p++);
				else if (*p == '`')
					break;
				else
					appendStringInfoChar(&buf, *p);
			}
			if (*p != '`')
				return false;
			p++;
		}
		else
			while (*p && *p != '.' && *p != ' ' && *p != ';' && *p != '\t' && *p != '\n')
				appendStringInfoChar(&buf, *p++);
		if (buf.len == 0)
			return false;
		parts[nparts++] = buf.data;
		if (*p != '.')
			break;
		p++;
	}
	while (*p == ' ' || *p == '\t' || *p == '\n' || *p == ';')
		p++;
	if (*p != '\0')
		return false;
	*db = nparts == 2 ? parts[0] : (char *) default_db;
	*table = parts[nparts - 1];
	return true;
}

/* A table map of the current group: its table id, and ours (or NULL) */
typedef struct GroupMap
{
	uint64		table_id;
	EtlPullTableMap *map;
	EtlPullStreamTable *table;
} GroupMap;

/*
 * Each table's events up to its snapshot's position are in its copy: the
 * stream skips them (etl_pull.stream_tables, in the open transaction)
 */
static void
read_skips(Stream *s)
{
	Oid			argtypes[1] = {TEXTOID};
	Datum		args[1];
	EtlPullUserState st;
	uint64		i;

	args[0] = CStringGetTextDatum(s->group);
	EtlPullAsOwner(&st);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute_with_args("SELECT table_name, snapshot_file, snapshot_offset"
							  " FROM etl_pull.stream_tables"
							  " WHERE load_group OPERATOR(pg_catalog.=) $1"
							  "   AND snapshot_file IS NOT NULL",
							  1, argtypes, args, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read etl_pull.stream_tables");
	for (i = 0; i < SPI_processed; i++)
	{
		HeapTuple	tup = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		EtlPullStreamTable *t = EtlPullApplyFindName(s->apply, SPI_getvalue(tup, desc, 1));
		bool		isnull;

		if (t != NULL)
			EtlPullApplySkipUntil(s->apply, t, SPI_getvalue(tup, desc, 2),
								  (uint64) DatumGetInt64(SPI_getbinval(tup, desc, 3, &isnull)));
	}
	SPI_finish();
	EtlPullAsCaller(&st);
}

/*
 * The apply of the stream's tables, their sources described now, and the
 * positions up to which each one's events are in its snapshot
 */
static void
make_apply(Stream *s)
{
	EtlPullConnection *conn = EtlPullConnect(s->server, s->roleid);
	MemoryContext oldcxt = MemoryContextSwitchTo(stream_cxt);

	s->apply = EtlPullApplyCreate(s->tables, conn);
	MemoryContextSwitchTo(oldcxt);
	EtlPullDisconnect(conn);
	read_skips(s);
}

/*
 * Tables whose table map no longer matches (a schema change at the
 * source): at a group boundary, everything before committed, each is
 * snapshotted again (load_table: on_schema_change decides what happens to
 * the target, as for any load), and the apply is made again with their new
 * descriptions; the stream then goes on from where it was, skipping each
 * table's events up to its new snapshot.
 */
static void
resnapshot(Stream *s)
{
	ListCell   *lc;
	Oid			argtypes[1] = {TEXTOID};
	Datum		args[1];

	/*
	 * The position moves past events of these tables that were not
	 * applied: in the same commit, they lose their snapshot, so that if
	 * this round ends before their new one is taken, the next round takes
	 * it first
	 */
	in_xact(s);
	foreach(lc, s->resnapshot)
	{
		args[0] = CStringGetTextDatum((char *) lfirst(lc));
		EtlPullOwnerExec("DELETE FROM etl_pull.stream_tables"
						 " WHERE table_name OPERATOR(pg_catalog.=) $1",
						 1, argtypes, args, NULL, SPI_OK_DELETE,
						 "forget a snapshot in etl_pull.stream_tables");
	}
	commit_position(s, false);
	begin_xact();
	set_state(s, "snapshotting", s->resnapshot);
	commit_xact();
	foreach(lc, s->resnapshot)
		snapshot_table(s, (char *) lfirst(lc),
					   "its table map no longer matched the table (a schema change at the source)");
	begin_xact();
	EtlPullApplyForget(s->apply);
	make_apply(s);
	set_state(s, "streaming", NIL);
	commit_xact();
	s->resnapshot = NIL;
}

/* Add registered table "name" to the tables to snapshot again */
static void
want_resnapshot(Stream *s, const char *name)
{
	ListCell   *lc;
	MemoryContext oldcxt;

	foreach(lc, s->resnapshot)
		if (strcmp((char *) lfirst(lc), name) == 0)
			return;
	oldcxt = MemoryContextSwitchTo(stream_cxt);
	s->resnapshot = lappend(s->resnapshot, pstrdup(name));
	MemoryContextSwitchTo(oldcxt);
}

/* The open transaction, started if it is not */
static void
in_xact(Stream *s)
{
	if (s->in_xact)
		return;
	begin_xact();
	s->in_xact = true;
	s->xact_started = GetCurrentTimestamp();
	s->xact_changes = 0;
}

/*
 * "maps" with what the stream keeps of the TABLE_MAP event "ev" (of "len"
 * bytes at "buf") for the rest of its group, in "group_cxt" (the list
 * too): its table id, the
 * stream's table it names (or NULL), and for one of our tables the map,
 * parsed again there, with old-format times' digits (not in the log) from
 * the table's description
 */
static List *
group_map(Stream *s, List *maps, MemoryContext group_cxt,
		  const unsigned char *buf, size_t len, EtlPullFormat *fmt,
		  EtlPullEvent *ev)
{
	MemoryContext oldcxt = MemoryContextSwitchTo(group_cxt);
	GroupMap   *gm = palloc(sizeof(GroupMap));

	gm->table_id = ev->map->table_id;
	gm->table = EtlPullApplyFind(s->apply, ev->map->db, ev->map->table);
	gm->map = NULL;
	if (gm->table != NULL)
	{
		EtlPullEventParse(buf, len, fmt, ev);
		gm->map = ev->map;
		if (EtlPullApplyMapMatches(gm->table, gm->map) &&
			EtlPullTableMapHasLegacyTemporal(gm->map))
			EtlPullTableMapApplySource(gm->map, EtlPullApplySource(gm->table));
	}
	maps = lappend(maps, gm);
	MemoryContextSwitchTo(oldcxt);
	return maps;
}

/*
 * Apply the rows event "ev", which ends at "next" of "file", with its
 * group's table maps "maps": to one of our tables whose snapshot it does
 * not precede, if its map still matches the table; a map that no longer
 * does is a schema change, snapshotted again at the group's end
 */
static void
apply_rows(Stream *s, List *maps, const EtlPullEvent *ev, const char *file,
		   uint64 next)
{
	ListCell   *lc;
	GroupMap   *found = NULL;

	foreach(lc, maps)
		if (((GroupMap *) lfirst(lc))->table_id == ev->table_id)
			found = (GroupMap *) lfirst(lc);
	if (found == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_PROTOCOL_VIOLATION),
				 errmsg("a rows event of the binary log names table id " UINT64_FORMAT ", which no table map of its group described",
						ev->table_id)));
	if (found->table == NULL || EtlPullApplySkips(found->table, file, next))
		return;
	if (EtlPullApplyMapMatches(found->table, found->map))
	{
		in_xact(s);
		s->xact_changes += EtlPullApplyRows(s->apply, found->table, ev,
											found->map);
	}
	else
		want_resnapshot(s, EtlPullApplyTableName(found->table));
}

/*
 * Apply the binary log from the stream's position until stopped (an
 * error, or SIGTERM)
 */
static void
apply_log(Stream *s)
{
	MemoryContext event_cxt = AllocSetContextCreate(stream_cxt, "etl_pull stream event",
													ALLOCSET_DEFAULT_SIZES);
	MemoryContext group_cxt = AllocSetContextCreate(stream_cxt, "etl_pull stream group",
													ALLOCSET_DEFAULT_SIZES);
	EtlPullFormat fmt;
	List	   *maps = NIL;
	bool		in_group = false;
	bool		standalone = false;
	char	   *group_gtid = NULL;
	MemoryContext oldcxt;

	/* the sources described, the replication connection opened */
	begin_xact();
	make_apply(s);
	oldcxt = MemoryContextSwitchTo(stream_cxt);
	s->repl = EtlPullReplicationOpen(s->server, s->roleid, s->server_id,
									 s->file, s->offset, NULL, HEARTBEAT_MS);
	MemoryContextSwitchTo(oldcxt);
	set_state(s, "streaming", NIL);
	commit_xact();
	pgstat_report_activity(STATE_RUNNING, "etl_pull stream: applying the binary log");
	EtlPullFormatInit(&fmt);
	s->last_record = GetCurrentTimestamp();

	for (;;)
	{
		const unsigned char *buf;
		size_t		len;
		const char *file;
		uint64		next;
		EtlPullEvent ev;
		bool		group_ends = false;

		CHECK_FOR_INTERRUPTS();
		if (!EtlPullReplicationNext(s->repl, &buf, &len, &file, &next))
		{
			if (!in_group)
				record_caught_up(s);
			continue;
		}
		MemoryContextReset(event_cxt);
		oldcxt = MemoryContextSwitchTo(event_cxt);
		EtlPullEventParse(buf, len, &fmt, &ev);
		switch (ev.kind)
		{
			case ETL_PULL_EV_GTID:
				in_group = true;
				standalone = ev.gtid_standalone;
				group_gtid = MemoryContextStrdup(group_cxt, ev.gtid);
				break;
			case ETL_PULL_EV_QUERY:
				if (ev.query_kind == ETL_PULL_Q_BEGIN)
					in_group = true;
				else if (ev.query_kind == ETL_PULL_Q_COMMIT ||
						 ev.query_kind == ETL_PULL_Q_ROLLBACK)
					group_ends = true;
				else
				{
					char	   *db;
					char	   *table;
					EtlPullStreamTable *st;

					if (ev.query_kind == ETL_PULL_Q_TRUNCATE &&
						truncated_table(ev.query, ev.query_db, &db, &table) &&
						(st = EtlPullApplyFind(s->apply, db, table)) != NULL)
					{
						in_xact(s);
						EtlPullApplyTruncate(s->apply, st);
						s->xact_changes++;
					}
					/* a statement outside BEGIN ... COMMIT is its own group */
					if (standalone || !in_group)
						group_ends = true;
				}
				break;
			case ETL_PULL_EV_XID:
				group_ends = true;
				break;
			case ETL_PULL_EV_TABLE_MAP:
				maps = group_map(s, maps, group_cxt, buf, len, &fmt, &ev);
				break;
			case ETL_PULL_EV_WRITE_ROWS:
			case ETL_PULL_EV_UPDATE_ROWS:
			case ETL_PULL_EV_DELETE_ROWS:
				apply_rows(s, maps, &ev, file, next);
				/* a rows event without a group (no GTID, no BEGIN) */
				if (!in_group && (ev.rows_flags & 1))
					group_ends = true;
				break;
			default:
				break;
		}
		MemoryContextSwitchTo(oldcxt);

		if (group_ends || !in_group)
		{
			/* a group boundary: the position after this event */
			oldcxt = MemoryContextSwitchTo(stream_cxt);
			if (s->file == NULL || strcmp(s->file, file) != 0)
				s->file = pstrdup(file);
			if (s->offset != next)
				s->position_dirty = true;
			s->offset = next;
			if (group_ends && group_gtid != NULL)
				s->gtid = pstrdup(group_gtid);
			if (group_ends && ev.timestamp != 0)
			{
				s->source_time = time_t_to_timestamptz((pg_time_t) ev.timestamp);
				s->has_time = true;
			}
			MemoryContextSwitchTo(oldcxt);
			if (group_ends)
			{
				s->position_dirty = true;
				in_group = false;
				standalone = false;
				group_gtid = NULL;
				maps = NIL;
				MemoryContextReset(group_cxt);
			}
			if (group_ends && s->resnapshot != NIL)
				resnapshot(s);
			else if (s->in_xact &&
					 (s->xact_changes >= BATCH_CHANGES ||
					  TimestampDifferenceExceeds(s->xact_started, GetCurrentTimestamp(), BATCH_MS)))
				commit_position(s, false);
		}
	}
}

/*
 * Record a failure of the stream in etl_pull.runs, as a failed run of each
 * of its tables (strategy "binlog stream", extraction "binlog", the position it
 * stood at), once per distinct error
 */
static void
record_failed_runs(Stream *s, const char *error)
{
	ListCell   *lc;

	if (recorded_failure != NULL && strcmp(recorded_failure, error) == 0)
		return;
	foreach(lc, s->tables)
	{
		EtlPullTable *table = (EtlPullTable *) lfirst(lc);
		EtlPullRunResult r;

		memset(&r, 0, sizeof(r));
		r.run_id = EtlPullNextRunId();
		r.strategy = "binlog stream";
		r.strategy_reason = psprintf("the binary log's stream of load group \"%s\"", s->group);
		r.extraction = "binlog";
		r.source_position = s->file ?
			psprintf("binlog file:pos %s:" UINT64_FORMAT, s->file, s->offset) : NULL;
		(void) EtlPullRecordFailedRun(table, &r, error);
	}
	if (recorded_failure != NULL)
		pfree(recorded_failure);
	recorded_failure = MemoryContextStrdup(TopMemoryContext, error);
}

/*
 * Record an error in the stream's row (state failed, last_error) and in
 * etl_pull.runs
 */
static void
record_error(Stream *s, const char *error)
{
	Oid			argtypes[2] = {TEXTOID, TEXTOID};
	Datum		args[2];

	begin_xact();
	record_failed_runs(s, error);
	args[0] = CStringGetTextDatum(s->group);
	args[1] = CStringGetTextDatum(error);
	exec_state(psprintf("UPDATE etl_pull.stream_state"
						" SET state = 'failed', last_error = $2,"
						"     last_error_at = pg_catalog.clock_timestamp(), worker_pid = %d"
						" WHERE load_group OPERATOR(pg_catalog.=) $1", MyProcPid),
			   2, argtypes, args, NULL);
	commit_xact();
}

/*
 * The source no longer has the recorded position: forget it and every
 * snapshot, so that the next round snapshots every table again
 */
static void
forget_position(Stream *s, const char *error)
{
	Oid			argtypes[2] = {TEXTOID, TEXTOID};
	Datum		args[2];

	begin_xact();
	args[0] = CStringGetTextDatum(s->group);
	args[1] = CStringGetTextDatum(psprintf("the recorded position is gone at the source (%s): every table of the group is snapshotted again",
										   error));
	EtlPullOwnerExec("DELETE FROM etl_pull.stream_tables WHERE load_group OPERATOR(pg_catalog.=) $1",
					 1, argtypes, args, NULL, SPI_OK_DELETE, "forget a stream's snapshots");
	exec_state("UPDATE etl_pull.stream_state"
			   " SET binlog_file = NULL, binlog_offset = NULL, gtid = NULL,"
			   "     state = 'snapshotting', last_error = $2,"
			   "     last_error_at = pg_catalog.clock_timestamp()"
			   " WHERE load_group OPERATOR(pg_catalog.=) $1",
			   2, argtypes, args, NULL);
	commit_xact();
}

/*
 * One round: the stream's row read, the snapshots taken, the log applied.
 * Returns only when the stream is not wanted.
 */
static void
run_stream(Stream *s)
{
	ListCell   *lc;
	bool		wanted;

	begin_xact();
	wanted = read_stream(s);
	commit_xact();
	if (!wanted)
		return;

	if (s->file == NULL)
		record_low_watermark(s);
	foreach(lc, s->unsnapshotted)
	{
		begin_xact();
		set_state(s, "snapshotting", s->unsnapshotted);
		commit_xact();
		snapshot_table(s, (char *) lfirst(lc),
					   snapshot_reason ? snapshot_reason : "not snapshotted for this stream yet");
	}
	snapshot_reason = NULL;
	apply_log(s);
}

/* Close what a failed round left open */
static void
clean_up(Stream *s)
{
	if (s->repl != NULL)
	{
		PG_TRY();
		{
			EtlPullReplicationClose(s->repl);
		}
		PG_CATCH();
		{
			FlushErrorState();
		}
		PG_END_TRY();
		s->repl = NULL;
	}
	if (s->apply != NULL)
		EtlPullApplyForget(s->apply);
	s->apply = NULL;
	s->resnapshot = NIL;
	s->in_xact = false;
	s->xact_changes = 0;
	s->position_dirty = false;
}

/*
 * Background worker: the stream of one load group.  Started with the
 * database's oid as its argument, the role and group in bgw_extra.
 */
void
etl_pull_stream_worker_main(Datum main_arg)
{
	Stream		s;
	Oid			dboid;
	TransactionId xid;

	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();
	memset(&s, 0, sizeof(s));
	MemoryContextSwitchTo(TopMemoryContext);
	EtlPullStreamWorkerArgs(main_arg, &dboid, &s.roleid, &s.group, &xid);
	EtlPullWorkerConnect(dboid, s.roleid);
	pgstat_report_appname("etl_pull stream");

	/* one worker per stream: the group's lock, held until exit */
	begin_xact();
	if (!EtlPullStreamTryLock(s.group))
	{
		commit_xact();
		ereport(LOG,
				(errmsg("the stream of load group \"%s\" is already running", s.group)));
		proc_exit(0);
	}
	/* the row start_stream wrote: visible once its transaction is over */
	if (TransactionIdIsValid(xid))
		XactLockTableWait(xid, NULL, NULL, XLTW_None);
	commit_xact();

	for (;;)
	{
		MemoryContext cxt = TopMemoryContext;
		ErrorData  *edata = NULL;

		stream_cxt = AllocSetContextCreate(TopMemoryContext, "etl_pull stream",
										   ALLOCSET_DEFAULT_SIZES);
		MemoryContextSwitchTo(cxt);
		PG_TRY();
		{
			run_stream(&s);
		}
		PG_CATCH();
		{
			MemoryContextSwitchTo(cxt);
			EmitErrorReport();
			edata = CopyErrorData();
			FlushErrorState();
			AbortOutOfAnyTransaction();
			MemoryContextSwitchTo(cxt);
		}
		PG_END_TRY();
		if (edata == NULL)
			break;				/* not wanted any more */

		clean_up(&s);
		pgstat_report_activity(STATE_IDLE, NULL);
		if (edata->sqlerrcode == ERRCODE_ETL_PULL_BINLOG_GONE)
		{
			forget_position(&s, EtlPullErrorText(edata));
			snapshot_reason = "the recorded position was purged at the source";
			MemoryContextDelete(stream_cxt);
			stream_cxt = NULL;
			s.tables = NIL;
			s.file = NULL;
			backoff_ms = 1000;
			continue;
		}
		record_error(&s, EtlPullErrorText(edata));
		FreeErrorData(edata);
		MemoryContextDelete(stream_cxt);
		stream_cxt = NULL;
		s.tables = NIL;
		s.file = NULL;

		/* back off: from a second, doubling, to a minute */
		{
			TimestampTz until = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), backoff_ms);

			while (GetCurrentTimestamp() < until)
			{
				(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
								 200L, PG_WAIT_EXTENSION);
				ResetLatch(MyLatch);
				CHECK_FOR_INTERRUPTS();
			}
		}
		backoff_ms = Min(backoff_ms * 2, MAX_BACKOFF_MS);
	}
	proc_exit(0);
}
