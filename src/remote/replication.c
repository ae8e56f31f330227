/*-------------------------------------------------------------------------
 *
 * replication.c
 *		  The binary log's transport: a connection that reads the log as a
 *		  replica would (COM_BINLOG_DUMP), and whether the source still
 *		  has a binary log file.
 *
 * The client library's replication API frames the events, checks their
 * lengths and knows the dump's handshake; it is used for nothing else.
 * Its decoders of table maps and rows are wrong in ways that matter here
 * (see src/stream/event.c), so the events leave this file as raw bytes,
 * and src/stream/ parses them.  The connection itself is a load's
 * (EtlPullConnectTimed: the same user mapping, TLS settings, restricted
 * authentication and no LOCAL INFILE), kept across transactions, with
 * its own read timeout.
 *
 * mariadb_rpl_fetch blocks in the client library's read, and there is no
 * non-blocking variant.  What bounds it is the server's heartbeat: a
 * server with nothing to send sends a HEARTBEAT every heartbeat_ms, which
 * ends the read; the read timeout (a few heartbeats, whole seconds, as
 * the client library takes it) only catches a server that has gone
 * silent, an ERROR the caller answers by reconnecting.  So
 * EtlPullReplicationNext returns within about heartbeat_ms while the
 * source is idle, and the caller checks its latch and interrupts between
 * calls.  The library's MARIADB_RPL_IGNORE_HEARTBEAT cannot work (the
 * flag does not fit the field it is stored in), so heartbeats are skipped
 * here.
 *
 * The position after each event is counted here from the event's length:
 * MariaDB 11.4 and later write end_log_pos 0 inside a group.  An event
 * the server made up for the dump (the ROTATE that names the file, the
 * FORMAT_DESCRIPTION re-sent when the dump starts inside a file, a GTID
 * list) takes no room in the file and moves nothing; a ROTATE sets the
 * file and offset.  Where the server does write end_log_pos, it must
 * agree with the count, or the stream would record positions it cannot
 * resume from: a disagreement is a protocol violation.  A dump started
 * from a GTID begins wherever the server finds it, so there the server's
 * end_log_pos sets the count until the first GTID event.
 *
 * IDENTIFICATION
 *		  src/remote/replication.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "remote/mysql_client.h"

#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/memutils.h"

#include "etl_pull.h"
#include "remote/connection_int.h"
#include "remote/remote.h"

/* What MySQL sends when the position asked for is gone */
#define ER_BINLOG_GONE 1236		/* ER_MASTER_FATAL_ERROR_READING_BINLOG */

struct EtlPullReplication
{
	EtlPullConnection *conn;
	MARIADB_RPL *rpl;			/* malloc'd by the client library */
	MARIADB_RPL_EVENT *event;	/* the last event fetched, or NULL */
	char	   *file;			/* the current file, in cxt */
	uint64		offset;			/* where the next event starts */
	bool		synced;			/* offset known (see the file's head) */
	bool		reading;		/* in EtlPullReplicationNext: still set
								 * after an ERROR, which leaves the dump
								 * in an unknown state */
	MemoryContext cxt;
	MemoryContextCallback cb;
};

/* Free what the client library allocated (no I/O: safe during an abort) */
static void
free_rpl(void *arg)
{
	EtlPullReplication *r = (EtlPullReplication *) arg;

	if (r->event)
		mariadb_free_rpl_event(r->event);
	r->event = NULL;
	if (r->rpl)
		mariadb_rpl_close(r->rpl);
	r->rpl = NULL;
}

/* Report the replication API's error (or the connection's) as an ERROR */
static void
rpl_error(EtlPullReplication *r, const char *fmt)
{
	unsigned int err = r->rpl ? mariadb_rpl_errno(r->rpl) : 0;
	const char *text = r->rpl ? mariadb_rpl_error(r->rpl) : "";
	MYSQL	   *m = r->conn->mysql;
	bool		from_rpl = (err != 0);

	if (err == 0 && m != NULL)
	{
		err = mysql_errno(m);
		text = mysql_error(m);
	}
	if (err == ER_BINLOG_GONE)
		ereport(ERROR,
				(errcode(ERRCODE_ETL_PULL_BINLOG_GONE),
				 errmsg("MySQL server \"%s\" no longer has the binary log position asked for",
						EtlPullServerName(r->conn)),
				 errdetail_internal("MySQL error %u: %s", err,
									EtlPullPrintable(text, 1000)),
				 errhint("The binary log was purged past the position, or the GTID is unknown: the tables need a new snapshot.")));
	if (err == 0)
		ereport(ERROR,
				(errcode(ERRCODE_CONNECTION_FAILURE),
				 errmsg("MySQL server \"%s\" ended the binary log dump",
						EtlPullServerName(r->conn))));
	/* the library's own complaints (a malformed event, a checksum) are the server's fault */
	EtlPullRelayError(r->conn, err, text,
					  from_rpl ? ERRCODE_PROTOCOL_VIOLATION : ERRCODE_CONNECTION_FAILURE,
					  fmt);
}

/*
 * Open a replication connection (see remote.h).  "file" may be NULL when
 * "gtid" is given; both NULL is the server's first binary log.
 */
EtlPullReplication *
EtlPullReplicationOpen(ForeignServer *server, Oid userid, uint32 server_id,
					   const char *file, uint64 offset, const char *gtid,
					   int heartbeat_ms)
{
	EtlPullReplication *r;
	EtlPullConnection *conn;
	unsigned int timeout;
	StringInfoData sql;
	char	  **row;

	if (heartbeat_ms < 1 || heartbeat_ms > 60000)
		elog(ERROR, "heartbeat of %d ms is out of range", heartbeat_ms);
	if (offset > PG_UINT32_MAX)
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("binary log offset " UINT64_FORMAT " does not fit COM_BINLOG_DUMP's 4 bytes",
						offset)));
	if (server_id == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("a replica's server_id must not be 0")));

	/* three heartbeats, in whole seconds (the client library's unit) */
	timeout = (unsigned int) ((3 * heartbeat_ms + 999) / 1000);
	conn = EtlPullConnectTimed(server, userid, Max(timeout, 2));

	r = palloc0(sizeof(EtlPullReplication));
	r->conn = conn;
	r->cxt = CurrentMemoryContext;
	r->cb.func = free_rpl;
	r->cb.arg = r;
	MemoryContextRegisterResetCallback(CurrentMemoryContext, &r->cb);

	/* the session a replica announces (see cdc.md §1.3.11) */
	initStringInfo(&sql);
	appendStringInfo(&sql,
					 "SET @master_binlog_checksum = @@global.binlog_checksum, "
					 "@mariadb_slave_capability = 4, "
					 "@master_heartbeat_period = " UINT64_FORMAT,
					 (uint64) heartbeat_ms * 1000000);
	if (gtid != NULL)
		appendStringInfo(&sql, ", @slave_connect_state = %s",
						 EtlPullQuoteLiteral(conn, gtid));
	EtlPullExec(conn, sql.data);

	/*
	 * mariadb_rpl_init(mysql) asks the server for @@binlog_checksum and reads
	 * the first row of the reply without checking that there is one: a
	 * server answering with no row, or a NULL, would crash the backend.  So
	 * the handle is made without the connection, and the question asked
	 * here with the reply checked; the library needs the answer for the
	 * dump's made-up ROTATE, which carries a checksum when the log has them.
	 */
	row = EtlPullQueryRow(conn, "SELECT @@GLOBAL.binlog_checksum", 1, false);
	if (row[0] == NULL)
		EtlPullBadReply(conn, "The binary log's checksum algorithm is NULL.");
	r->rpl = mariadb_rpl_init(NULL);
	if (r->rpl == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("out of memory")));
	r->rpl->mysql = conn->mysql;
	r->rpl->artificial_checksum = (pg_strcasecmp(row[0], "CRC32") == 0);
	if (mariadb_rpl_optionsv(r->rpl, MARIADB_RPL_SERVER_ID, (unsigned int) server_id) != 0 ||
		mariadb_rpl_optionsv(r->rpl, MARIADB_RPL_START, (unsigned long) offset) != 0 ||
		mariadb_rpl_optionsv(r->rpl, MARIADB_RPL_FLAGS,
							 (unsigned int) MARIADB_RPL_BINLOG_SEND_ANNOTATE_ROWS) != 0 ||
		mariadb_rpl_optionsv(r->rpl, MARIADB_RPL_VERIFY_CHECKSUM, (unsigned int) 1) != 0 ||
		(file != NULL &&
		 mariadb_rpl_optionsv(r->rpl, MARIADB_RPL_FILENAME, file, strlen(file)) != 0))
		elog(ERROR, "could not set the replication options");

	if (mariadb_rpl_open(r->rpl) != 0)
		rpl_error(r, "could not start reading the binary log of MySQL server \"%s\"");

	r->file = MemoryContextStrdup(r->cxt, file ? file : "");
	r->offset = offset;
	r->synced = (gtid == NULL);
	EtlPullKeepConnection(conn);
	return r;
}

static void
bad_rotate(EtlPullReplication *r)
{
	ereport(ERROR,
			(errcode(ERRCODE_PROTOCOL_VIOLATION),
			 errmsg("MySQL server \"%s\" sent a malformed binary log event",
					EtlPullServerName(r->conn)),
			 errdetail("A ROTATE event names no valid file.")));
}

/* The position after event "ev" (see the file's head) */
static void
advance(EtlPullReplication *r, MARIADB_RPL_EVENT *ev)
{
	uint64		next;
	uint32		end = ev->next_event_pos;

	if (ev->event_type == ROTATE_EVENT)
	{
		/*
		 * Parsed here: the client library (3.3) reads a ROTATE's position
		 * from after its post-header once a FORMAT_DESCRIPTION has given
		 * that a length, i.e. from the file name.  The body: the position
		 * (8 bytes), the name, and the checksum when the log has them (the
		 * dump's made-up one before the FORMAT_DESCRIPTION has one when
		 * the server's log has them).
		 */
		const unsigned char *body = ev->raw_data + ev->raw_data_ofs + 19;
		size_t		left = ev->raw_data_size - ev->raw_data_ofs - 19;
		bool		checksum = r->rpl->num_post_header_lengths > 0 ?
			r->rpl->use_checksum : r->rpl->artificial_checksum;
		size_t		name_len;
		int			i;

		if (left < 8 + (checksum ? 4 : 0) + 1)
			bad_rotate(r);
		name_len = left - 8 - (checksum ? 4 : 0);
		if (name_len > 512 || memchr(body + 8, '\0', name_len) != NULL)
			bad_rotate(r);
		pfree(r->file);
		r->file = MemoryContextAllocZero(r->cxt, name_len + 1);
		memcpy(r->file, body + 8, name_len);
		r->offset = 0;
		for (i = 7; i >= 0; i--)
			r->offset = (r->offset << 8) | body[i];
		/* a real one; the dump's made-up one leaves a GTID dump's count open */
		if (!(ev->flags & LOG_EVENT_ARTIFICIAL_F))
			r->synced = true;
		return;
	}
	/* made up for the dump: takes no room in the file */
	if ((ev->flags & LOG_EVENT_ARTIFICIAL_F) ||
		(ev->event_type == FORMAT_DESCRIPTION_EVENT && end == 0) ||
		(end != 0 && end == (uint32) r->offset))
		return;

	/*
	 * A dump from a GTID: the server reads its file from the start and sends
	 * from the group after the GTID, skipping the rest, so offsets are the
	 * server's until that group's GTID event (which always carries its
	 * end_log_pos) makes the count exact.
	 */
	if (!r->synced)
	{
		if (end != 0)
			r->offset = end;
		if (end != 0 && ev->event_type == GTID_EVENT)
			r->synced = true;
		return;
	}

	next = r->offset + ev->event_length;
	if (end != 0 && end != (uint32) next)
		ereport(ERROR,
				(errcode(ERRCODE_PROTOCOL_VIOLATION),
				 errmsg("MySQL server \"%s\" sent a binary log event out of place",
						EtlPullServerName(r->conn)),
				 errdetail("An event of %u bytes at offset " UINT64_FORMAT " of \"%s\" says it ends at %u.",
						   ev->event_length, r->offset,
						   EtlPullPrintable(r->file, 512), end)));
	r->offset = next;
}

/*
 * The next event (see remote.h).  Returns false on a heartbeat: nothing
 * happened at the source for heartbeat_ms.
 */
bool
EtlPullReplicationNext(EtlPullReplication *r, const unsigned char **event,
					   size_t *len, const char **file, uint64 *next_offset)
{
	MARIADB_RPL_EVENT *ev;

	CHECK_FOR_INTERRUPTS();
	if (r->rpl == NULL || r->reading || EtlPullConnectionLost(r->conn))
		ereport(ERROR,
				(errcode(ERRCODE_CONNECTION_DOES_NOT_EXIST),
				 errmsg("the binary log connection to MySQL server \"%s\" was closed by an earlier error",
						EtlPullServerName(r->conn))));

	/* on failure the library frees the event it was given */
	r->reading = true;
	ev = mariadb_rpl_fetch(r->rpl, r->event);
	r->event = ev;
	if (ev == NULL)
		rpl_error(r, "could not read the binary log of MySQL server \"%s\"");
	CHECK_FOR_INTERRUPTS();

	if (ev->raw_data_ofs >= ev->raw_data_size ||
		ev->raw_data_size - ev->raw_data_ofs < 19 ||
		ev->event_length != ev->raw_data_size - ev->raw_data_ofs)
		ereport(ERROR,
				(errcode(ERRCODE_PROTOCOL_VIOLATION),
				 errmsg("MySQL server \"%s\" sent a malformed binary log event",
						EtlPullServerName(r->conn)),
				 errdetail("An event's length (%u bytes) is not the length of its packet.",
						   ev->event_length)));
	if (ev->event_type == HEARTBEAT_LOG_EVENT)
	{
		r->reading = false;
		return false;
	}

	advance(r, ev);
	r->reading = false;
	*event = ev->raw_data + ev->raw_data_ofs;
	*len = ev->raw_data_size - ev->raw_data_ofs;
	*file = r->file;
	*next_offset = r->offset;
	return true;
}

/* End the dump and close its connection */
void
EtlPullReplicationClose(EtlPullReplication *r)
{
	free_rpl(r);
	EtlPullDisconnect(r->conn);
	r->conn = NULL;
}

/* Whether SHOW BINARY LOGS still lists "file" */
bool
EtlPullBinlogFileExists(EtlPullConnection *conn, const char *file)
{
	char	  **values;
	unsigned long *lengths;
	bool		found = false;

	EtlPullQueryStart(conn, "SHOW BINARY LOGS", -1);
	while (EtlPullFetch(conn, &values, &lengths))
	{
		CHECK_FOR_INTERRUPTS();
		if (values[0] != NULL && strlen(file) == lengths[0] &&
			memcmp(values[0], file, lengths[0]) == 0)
			found = true;
	}
	EtlPullQueryEnd(conn);
	return found;
}
