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
 *	   transaction of its own that also records its row (snapshot.c's
 *	   EtlPullStreamSnapshot): the load is a run in etl_pull.runs like any
 *	   other.  No lock is held across the copy; the copy reads rows at or
 *	   after the position the stream stands at.
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
 * Schema changes, while the other tables stream.  A rows event whose
 * table map does not match the table as the stream knows it is never
 * decoded with the wrong layout: at the end of its group, in the commit of
 * the position, the table loses its row of etl_pull.stream_tables and
 * joins stream_state's "resnapshotting" list, and a snapshot worker
 * (snapshot.c) copies it (load_table, so on_schema_change decides) while
 * the stream goes on with the other tables, skipping every event of it.
 * The stream polls the worker's handle at group boundaries and heartbeats
 * (no query while it runs).  Once the copy has committed, with S, the
 * source's position read before it, a new round takes the table back
 * (begin_rejoin): the stream rewinds from its committed position M to S,
 * every other table skipping its events up to M, and commits nothing
 * until it stands past both M and H, the source's position once the copy
 * was over; the commit that gets there takes the table off the list.
 *
 * The table's state is always in what is committed: in the list without
 * a row, it is being copied (after a crash or a restart, copied again); in
 * the list with a row, its copy is there and its events from S are still
 * to be applied (the rewind is done again); not in the list, it streams.
 * Nothing is applied twice visibly: what the rewind applies below M is
 * only the copied table's, invisible until past H, where its replayed rows
 * have caught up with its copy (no table goes back in time), and the
 * committed position never goes back.  A failed copy (load_table's error,
 * a killed worker) is a failed run of the table and the stream's
 * last_error, the state left streaming; it is tried again after its own
 * back-off.  The worker terminates its snapshot workers when it exits.
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
#include "utils/array.h"
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
	List	   *resnapshotting; /* names: being copied again, or copied and
								 * not yet caught up (stream_state's list) */
	List	   *copying;		/* of those, the ones without a snapshot */
	List	   *rejoining;		/* of those, the ones with their new one */

	/*
	 * Rejoining tables: the stream was rewound to the earliest of their
	 * snapshots' positions, and commits nothing before it stands at
	 * hold_file, hold_offset again
	 */
	bool		holding;
	char	   *hold_file;
	uint64		hold_offset;
	char	   *rewind_file;	/* the earliest snapshot position of a
								 * rejoining table, while the apply is made */
	uint64		rewind_offset;

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
static void commit_position(Stream *s, bool caught_up);

/*
 * A table being copied again by a snapshot worker (snapshot.c), kept
 * across rounds in TopMemoryContext: its worker (NULL between tries), when
 * to try again after a failure, its back-off, the failure last recorded
 */
typedef struct Copy
{
	char	   *name;
	EtlPullCopyWorker *worker;
	TimestampTz next_try;
	long		backoff_ms;
	char	   *recorded;
} Copy;

static List *copies = NIL;

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
	if (SPI_execute_with_args("SELECT wanted, server, server_id, binlog_file, binlog_offset, gtid,"
							  " resnapshotting"
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
		s->resnapshotting = NIL;
		{
			Datum		d = SPI_getbinval(tup, desc, 7, &isnull);
			Datum	   *elems;
			bool	   *enulls;
			int			n;

			if (!isnull)
			{
				deconstruct_array(DatumGetArrayTypeP(d), TEXTOID, -1, false,
								  TYPALIGN_INT, &elems, &enulls, &n);
				for (int k = 0; k < n; k++)
					if (!enulls[k])
						s->resnapshotting = lappend(s->resnapshotting,
													TextDatumGetCString(elems[k]));
			}
		}
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

/* Whether list "names" has "name" */
static bool
has_name(List *names, const char *name)
{
	ListCell   *lc;

	foreach(lc, names)
		if (strcmp((char *) lfirst(lc), name) == 0)
			return true;
	return false;
}

/* "names" as a text[] in *d, or *null */
static void
names_array(List *names, Datum *d, char *null)
{
	Datum	   *elems;
	ListCell   *lc;
	int			n = 0;

	*null = 'n';
	if (names == NIL)
		return;
	elems = palloc(sizeof(Datum) * list_length(names));
	foreach(lc, names)
		elems[n++] = CStringGetTextDatum((char *) lfirst(lc));
	*d = PointerGetDatum(construct_array(elems, n, TEXTOID, -1, false, TYPALIGN_INT));
	*null = ' ';
}

/*
 * Write the worker's state, its process id, and "resnapshotting": the
 * stream's list, and "more" (the tables of a first snapshot)
 */
static void
set_state(Stream *s, const char *state, List *more)
{
	Oid			argtypes[3] = {TEXTOID, TEXTOID, TEXTARRAYOID};
	Datum		args[3];
	char		nulls[3] = "   ";
	List	   *names = list_copy(s->resnapshotting);
	ListCell   *lc;

	foreach(lc, more)
		if (!has_name(names, (char *) lfirst(lc)))
			names = lappend(names, lfirst(lc));
	args[0] = CStringGetTextDatum(s->group);
	args[1] = CStringGetTextDatum(state);
	names_array(names, &args[2], &nulls[2]);
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
 * Snapshot table "name" inline (a first snapshot), in a transaction of its
 * own: snapshot.c's EtlPullStreamSnapshot
 */
static void
snapshot_table(Stream *s, const char *name, const char *why)
{
	begin_xact();
	EtlPullStreamSnapshot(s->server, s->roleid, s->group, name, why, NULL);
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

/* Order of two positions of the source's binary log: files sort by name */
static int
position_cmp(const char *file1, uint64 offset1, const char *file2, uint64 offset2)
{
	int			c = strcmp(file1, file2);

	if (c != 0)
		return c;
	return offset1 < offset2 ? -1 : offset1 > offset2 ? 1 : 0;
}

/*
 * Each table's events up to its snapshot's position are in its copy: the
 * stream skips them (etl_pull.stream_tables, in the open transaction).
 * Notes the earliest of the rejoining tables' positions.
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

		char	   *file = SPI_getvalue(tup, desc, 2);
		uint64		offset = (uint64) DatumGetInt64(SPI_getbinval(tup, desc, 3, &isnull));

		if (t == NULL)
			continue;
		EtlPullApplySkipUntil(s->apply, t, file, offset);
		if (has_name(s->rejoining, EtlPullApplyTableName(t)) &&
			(s->rewind_file == NULL ||
			 position_cmp(file, offset, s->rewind_file, s->rewind_offset) < 0))
		{
			s->rewind_file = MemoryContextStrdup(stream_cxt, file);
			s->rewind_offset = offset;
		}
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

/* Write the stream's "resnapshotting" list, in the open transaction */
static void
write_resnapshotting(Stream *s)
{
	Oid			argtypes[2] = {TEXTOID, TEXTARRAYOID};
	Datum		args[2];
	char		nulls[2] = "  ";

	args[0] = CStringGetTextDatum(s->group);
	names_array(s->resnapshotting, &args[1], &nulls[1]);
	exec_state("UPDATE etl_pull.stream_state SET resnapshotting = $2"
			   " WHERE load_group OPERATOR(pg_catalog.=) $1",
			   2, argtypes, args, nulls);
}

/* The copy of table "name", or NULL */
static Copy *
find_copy(const char *name)
{
	ListCell   *lc;

	foreach(lc, copies)
		if (strcmp(((Copy *) lfirst(lc))->name, name) == 0)
			return (Copy *) lfirst(lc);
	return NULL;
}

/* A copy of table "name" to take, at once */
static void
want_copy(const char *name)
{
	MemoryContext oldcxt = MemoryContextSwitchTo(TopMemoryContext);
	Copy	   *c;

	if (find_copy(name) == NULL)
	{
		c = palloc0(sizeof(Copy));
		c->name = pstrdup(name);
		c->backoff_ms = 1000;
		copies = lappend(copies, c);
	}
	MemoryContextSwitchTo(oldcxt);
}

/* Forget copy "c": its worker stopped if it runs */
static void
end_copy(Copy *c)
{
	if (c->worker != NULL)
		EtlPullSnapshotEnd(c->worker);
	copies = list_delete_ptr(copies, c);
	pfree(c->name);
	if (c->recorded)
		pfree(c->recorded);
	pfree(c);
}

/*
 * Tables whose table map no longer matches (a schema change at the
 * source): at a group boundary, in the commit of the position, each loses
 * its snapshot and joins the stream's "resnapshotting" list; a snapshot
 * worker copies it (snapshot.c: load_table, so on_schema_change decides
 * what happens to the target, as for any load) while the stream goes on
 * with the other tables, skipping every event of it.  Once the copy has
 * committed, the stream takes the table back (begin_rejoin).
 */
static void
resnapshot(Stream *s)
{
	ListCell   *lc;
	Oid			argtypes[1] = {TEXTOID};
	Datum		args[1];
	MemoryContext oldcxt;

	in_xact(s);
	foreach(lc, s->resnapshot)
	{
		char	   *name = (char *) lfirst(lc);

		args[0] = CStringGetTextDatum(name);
		EtlPullOwnerExec("DELETE FROM etl_pull.stream_tables"
						 " WHERE table_name OPERATOR(pg_catalog.=) $1",
						 1, argtypes, args, NULL, SPI_OK_DELETE,
						 "forget a snapshot in etl_pull.stream_tables");
		oldcxt = MemoryContextSwitchTo(stream_cxt);
		if (!has_name(s->resnapshotting, name))
			s->resnapshotting = lappend(s->resnapshotting, pstrdup(name));
		s->copying = lappend(s->copying, pstrdup(name));
		MemoryContextSwitchTo(oldcxt);
	}
	write_resnapshotting(s);
	commit_position(s, false);
	foreach(lc, s->resnapshot)
	{
		EtlPullApplySkipAll(EtlPullApplyFindName(s->apply, (char *) lfirst(lc)));
		want_copy((char *) lfirst(lc));
	}
	s->resnapshot = NIL;
}

/*
 * Rejoining tables: their copies committed, each with the position S read
 * before it.  The stream stands at its committed position M.  Their
 * events from S on must be applied, and the copies were read at some time
 * up to now, at the source's current position H.  So the stream rewinds
 * to the earliest S (if before M), every other table skipping its events
 * up to M (applied already) as each rejoining table skips its own up to
 * its S, and commits nothing until it stands at max(M, H) again: until
 * then, nothing it applies is visible, so no rejoining table is seen going
 * back in time (a replayed row older than its copy), no other table is
 * applied twice, and the committed position never goes back.  A crash
 * meanwhile rolls all of that back: the committed position is still M,
 * the tables still in "resnapshotting" with their snapshots, and the next
 * round does the same again.  In the open transaction.
 */
static void
begin_rejoin(Stream *s)
{
	EtlPullConnection *conn = EtlPullConnect(s->server, s->roleid);
	EtlPullBinlogStatus status;
	ListCell   *lc;
	MemoryContext oldcxt = MemoryContextSwitchTo(stream_cxt);

	if (!EtlPullBinlogCurrent(conn, &status))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("MySQL server \"%s\" has no binary log", s->server_name)));
	EtlPullDisconnect(conn);
	foreach(lc, s->tables)
	{
		const char *name = ((EtlPullTable *) lfirst(lc))->name;
		EtlPullStreamTable *t = EtlPullApplyFindName(s->apply, name);

		if (t != NULL && !has_name(s->rejoining, name) &&
			!EtlPullApplySkips(t, s->file, s->offset))
			EtlPullApplySkipUntil(s->apply, t, s->file, s->offset);
	}
	if (position_cmp(status.file, status.offset, s->file, s->offset) > 0)
	{
		s->hold_file = pstrdup(status.file);
		s->hold_offset = status.offset;
	}
	else
	{
		s->hold_file = pstrdup(s->file);
		s->hold_offset = s->offset;
	}
	if (s->rewind_file != NULL &&
		position_cmp(s->rewind_file, s->rewind_offset, s->file, s->offset) < 0)
	{
		s->file = s->rewind_file;
		s->offset = s->rewind_offset;
	}
	s->holding = true;
	MemoryContextSwitchTo(oldcxt);
}

/*
 * The stream stands at its hold's end: the rejoining tables leave the
 * "resnapshotting" list in the commit of the position
 */
static void
end_rejoin(Stream *s)
{
	ListCell   *lc;
	List	   *keep = NIL;

	foreach(lc, s->resnapshotting)
		if (!has_name(s->rejoining, (char *) lfirst(lc)))
			keep = lappend(keep, lfirst(lc));
	s->resnapshotting = keep;
	in_xact(s);
	write_resnapshotting(s);
	commit_position(s, false);
	s->holding = false;
	s->rejoining = NIL;
}

/* Whether table "name" has its row of etl_pull.stream_tables */
static bool
has_snapshot(const char *name)
{
	Oid			argtypes[1] = {TEXTOID};
	Datum		args[1];
	EtlPullUserState st;
	bool		found;

	args[0] = CStringGetTextDatum(name);
	EtlPullAsOwner(&st);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute_with_args("SELECT FROM etl_pull.stream_tables"
							  " WHERE table_name OPERATOR(pg_catalog.=) $1",
							  1, argtypes, args, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not read etl_pull.stream_tables");
	found = SPI_processed > 0;
	SPI_finish();
	EtlPullAsCaller(&st);
	return found;
}

static void record_failed_run(Stream *s, const char *name, const char *error);

/*
 * The copy "c" failed (or its worker could not start): a failed run of its
 * table (unless load_table recorded it), once per distinct error, and the
 * stream's last_error, its state left alone (the other tables stream);
 * the next try after the copy's back-off
 */
static void
copy_failed(Stream *s, Copy *c, const char *error, bool recorded)
{
	Oid			argtypes[2] = {TEXTOID, TEXTOID};
	Datum		args[2];
	char	   *text = psprintf("snapshot of table \"%s\" failed: %s", c->name, error);

	begin_xact();
	if (c->recorded == NULL || strcmp(c->recorded, text) != 0)
	{
		if (!recorded)
			record_failed_run(s, c->name, text);
		if (c->recorded)
			pfree(c->recorded);
		c->recorded = MemoryContextStrdup(TopMemoryContext, text);
	}
	args[0] = CStringGetTextDatum(s->group);
	args[1] = CStringGetTextDatum(text);
	exec_state("UPDATE etl_pull.stream_state"
			   " SET last_error = $2, last_error_at = pg_catalog.clock_timestamp()"
			   " WHERE load_group OPERATOR(pg_catalog.=) $1",
			   2, argtypes, args, NULL);
	commit_xact();
	c->next_try = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), c->backoff_ms);
	c->backoff_ms = Min(c->backoff_ms * 2, MAX_BACKOFF_MS);
}

/*
 * At a group boundary, not holding: start the copies that are due, and
 * see to those whose worker exited (the handle says so: no query while
 * they run).  Returns true when a copy committed: the round ends, its
 * position committed, and the next one takes the table back.
 */
static bool
check_copies(Stream *s)
{
	ListCell   *lc;
	bool		again = false;
	bool		due = false;
	TimestampTz now = GetCurrentTimestamp();

	foreach(lc, copies)
	{
		Copy	   *c = (Copy *) lfirst(lc);

		if (c->worker == NULL ? now >= c->next_try : EtlPullSnapshotStopped(c->worker))
			due = true;
	}
	if (!due)
		return false;
	if (s->in_xact || s->position_dirty)
		commit_position(s, false);
	foreach(lc, copies)
	{
		Copy	   *c = (Copy *) lfirst(lc);
		const char *error;
		bool		recorded;

		if (c->worker == NULL)
		{
			if (now < c->next_try)
				continue;
			c->worker = EtlPullSnapshotStart(s->group, c->name, s->roleid);
			if (c->worker == NULL)
				copy_failed(s, c, "no background worker slot was free for its snapshot worker (max_worker_processes)",
							false);
			continue;
		}
		if (!EtlPullSnapshotStopped(c->worker))
			continue;
		begin_xact();
		again = has_snapshot(c->name);
		commit_xact();
		if (again)
			break;
		error = EtlPullSnapshotError(c->worker, &recorded);
		copy_failed(s, c, error ? error : "its worker exited before committing the copy (see the server log)",
					error != NULL && recorded);
		EtlPullSnapshotEnd(c->worker);
		c->worker = NULL;
	}
	return again;
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
 * The source is silent (a heartbeat), outside a group: end a hold that
 * has got there, or commit what is applied and see to the copies.
 * Returns true when a copy committed (check_copies).
 */
static bool
source_silent(Stream *s)
{
	if (s->holding)
	{
		if (position_cmp(s->file, s->offset, s->hold_file, s->hold_offset) >= 0)
			end_rejoin(s);
		return false;
	}
	record_caught_up(s);
	return copies != NIL && check_copies(s);
}

/*
 * Apply the binary log from the stream's position until stopped (an
 * error, or SIGTERM); returns true when a copy of a table committed (the
 * next round takes it back)
 */
static bool
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
	ListCell   *lc;

	/* the sources described, the replication connection opened */
	begin_xact();
	make_apply(s);
	foreach(lc, s->copying)
	{
		EtlPullStreamTable *t = EtlPullApplyFindName(s->apply, (char *) lfirst(lc));

		if (t != NULL)
			EtlPullApplySkipAll(t);
	}
	if (s->rejoining != NIL)
		begin_rejoin(s);
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
			if (!in_group && source_silent(s))
				return true;
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
						(st = EtlPullApplyFind(s->apply, db, table)) != NULL &&
						!EtlPullApplySkips(st, file, next))
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
			if (s->holding)
			{
				/* nothing is committed before the hold's end */
				if (position_cmp(s->file, s->offset, s->hold_file, s->hold_offset) >= 0)
					end_rejoin(s);
			}
			else if (group_ends && s->resnapshot != NIL)
				resnapshot(s);
			else if (s->in_xact &&
					 (s->xact_changes >= BATCH_CHANGES ||
					  TimestampDifferenceExceeds(s->xact_started, GetCurrentTimestamp(), BATCH_MS)))
				commit_position(s, false);
			if (!s->holding && !in_group && copies != NIL && check_copies(s))
				return true;
		}
	}
}

/* A failed run of the stream's table "name" (see record_failed_runs) */
static void
record_failed_run(Stream *s, const char *name, const char *error)
{
	ListCell   *lc;

	foreach(lc, s->tables)
	{
		EtlPullTable *table = (EtlPullTable *) lfirst(lc);
		EtlPullRunResult r;

		if (strcmp(table->name, name) != 0)
			continue;
		memset(&r, 0, sizeof(r));
		r.run_id = EtlPullNextRunId();
		r.strategy = "binlog stream";
		r.strategy_reason = psprintf("the binary log's stream of load group \"%s\"", s->group);
		r.extraction = "binlog";
		r.source_position = s->file ?
			psprintf("binlog file:pos %s:" UINT64_FORMAT, s->file, s->offset) : NULL;
		(void) EtlPullRecordFailedRun(table, &r, error);
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
		record_failed_run(s, ((EtlPullTable *) lfirst(lc))->name, error);
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
			   " SET binlog_file = NULL, binlog_offset = NULL, gtid = NULL, resnapshotting = NULL,"
			   "     state = 'snapshotting', last_error = $2,"
			   "     last_error_at = pg_catalog.clock_timestamp()"
			   " WHERE load_group OPERATOR(pg_catalog.=) $1",
			   2, argtypes, args, NULL);
	commit_xact();
}

/*
 * Sort the stream's tables: those without a snapshot and not in the
 * "resnapshotting" list are snapshotted inline (a first snapshot), those
 * in it without one are copied by a snapshot worker, those in it with one
 * rejoin; the list keeps only tables of the stream.  Copies of tables no
 * longer copied are forgotten (their workers stopped), and the others
 * wanted.  Returns the tables to snapshot inline.
 */
static List *
sort_tables(Stream *s)
{
	List	   *inline_names = NIL;
	List	   *keep = NIL;
	List	   *stale = NIL;
	ListCell   *lc;
	MemoryContext oldcxt = MemoryContextSwitchTo(stream_cxt);

	s->copying = s->rejoining = NIL;
	foreach(lc, s->tables)
	{
		char	   *name = ((EtlPullTable *) lfirst(lc))->name;
		bool		listed = has_name(s->resnapshotting, name);

		if (listed)
			keep = lappend(keep, name);
		if (!has_name(s->unsnapshotted, name))
		{
			if (listed)
				s->rejoining = lappend(s->rejoining, name);
		}
		else if (listed)
			s->copying = lappend(s->copying, name);
		else
			inline_names = lappend(inline_names, name);
	}
	s->resnapshotting = keep;
	MemoryContextSwitchTo(oldcxt);
	foreach(lc, copies)
		if (!has_name(s->copying, ((Copy *) lfirst(lc))->name))
			stale = lappend(stale, lfirst(lc));
	foreach(lc, stale)
		end_copy((Copy *) lfirst(lc));
	foreach(lc, s->copying)
		want_copy((char *) lfirst(lc));
	return inline_names;
}

/*
 * One round: the stream's row read, the snapshots taken, the log applied.
 * Returns false when the stream is not wanted, true when a copy committed
 * (a new round takes its table back).
 */
static bool
run_stream(Stream *s)
{
	ListCell   *lc;
	List	   *inline_names;
	bool		wanted;

	begin_xact();
	wanted = read_stream(s);
	commit_xact();
	if (!wanted)
		return false;

	if (s->file == NULL)
		record_low_watermark(s);
	inline_names = sort_tables(s);
	foreach(lc, inline_names)
	{
		begin_xact();
		set_state(s, "snapshotting", inline_names);
		commit_xact();
		snapshot_table(s, (char *) lfirst(lc),
					   snapshot_reason ? snapshot_reason : "not snapshotted for this stream yet");
	}
	snapshot_reason = NULL;
	return apply_log(s);
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
	s->holding = false;
	s->rewind_file = NULL;
	s->in_xact = false;
	s->xact_changes = 0;
	s->position_dirty = false;
}

/* At exit: stop the snapshot workers, which copy for this stream only */
static void
stop_copies(int code, Datum arg)
{
	ListCell   *lc;

	foreach(lc, copies)
		if (((Copy *) lfirst(lc))->worker != NULL)
			EtlPullSnapshotTerminate(((Copy *) lfirst(lc))->worker);
}

/* Forget every copy, stopping their workers */
static void
end_copies(void)
{
	while (copies != NIL)
		end_copy((Copy *) linitial(copies));
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
	before_shmem_exit(stop_copies, (Datum) 0);

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
		bool		again = false;

		stream_cxt = AllocSetContextCreate(TopMemoryContext, "etl_pull stream",
										   ALLOCSET_DEFAULT_SIZES);
		MemoryContextSwitchTo(cxt);
		PG_TRY();
		{
			again = run_stream(&s);
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
		if (edata == NULL && again)
		{
			/* a copy committed: a new round takes its table back */
			clean_up(&s);
			MemoryContextDelete(stream_cxt);
			stream_cxt = NULL;
			s.tables = NIL;
			s.file = NULL;
			continue;
		}
		if (edata == NULL)
			break;				/* not wanted any more */

		clean_up(&s);
		pgstat_report_activity(STATE_IDLE, NULL);
		if (edata->sqlerrcode == ERRCODE_ETL_PULL_BINLOG_GONE)
		{
			end_copies();
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
