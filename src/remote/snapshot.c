/*-------------------------------------------------------------------------
 *
 * snapshot.c
 *		  The MySQL side of a consistent read: a connection's snapshot, and
 *		  the handshake of loads that read with several connections (the
 *		  read lock, the binary log position of that point, the unlock).
 *
 * The caller runs the handshake across its connections (its worker
 * group's); this file only sends the statements and checks the position's
 * reply (a MariaDB GTID list, a binary log file and position), through
 * connection.c and reply.c, never calling the client library.
 *
 * IDENTIFICATION
 *		  src/remote/snapshot.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "etl_pull.h"
#include "remote/connection_int.h"
#include "remote/remote.h"

/*
 * Begin a read-only REPEATABLE READ transaction with a consistent snapshot:
 * every query after this sees the source as of one point in time.
 */
void
EtlPullStartSnapshot(EtlPullConnection *conn)
{
	EtlPullExec(conn, "SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ");
	EtlPullExec(conn, "START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY");
}

/* Whether "s" is a MariaDB GTID list: domain-server-sequence, comma separated */
static bool
is_gtid_list(const char *s)
{
	for (;;)
	{
		int			part;

		for (part = 0; part < 3; part++)
		{
			size_t		n = strspn(s, "0123456789");

			if (n == 0 || n > 20)
				return false;
			s += n;
			if (part < 2 && *s++ != '-')
				return false;
		}
		if (*s == '\0')
			return true;
		if (*s++ != ',')
			return false;
	}
}

/*
 * The snapshot handshake of loads that read with several connections
 * (mydumper's): the leader holds the source still with FLUSH TABLES ...
 * WITH READ LOCK on its "control" connection ("tables": the quoted tables,
 * or NULL for all), every reader starts its consistent snapshot, the
 * leader reads the position (EtlPullSnapshotPosition) and unlocks.  The
 * wait for the lock is bounded by etl_pull.lock_timeout.  Returns whether
 * the lock is held; if not, *error says why (MySQL's words).  The lock
 * goes with the connection on any error.  lock_wait_timeout is back to
 * the server's default once the lock is released (or not taken).
 */
bool
EtlPullLockForSnapshot(EtlPullConnection *control, const char *tables,
					   char **error)
{
	EtlPullExec(control, "COMMIT");
	EtlPullExec(control, psprintf("SET SESSION lock_wait_timeout = %d", EtlPullLockTimeout));
	if (EtlPullTryExec(control,
					   tables ? psprintf("FLUSH TABLES %s WITH READ LOCK", tables) :
					   "FLUSH TABLES WITH READ LOCK", error))
		return true;
	/* the connection may go on loading (a kept one, the next table too) */
	EtlPullExec(control, "SET SESSION lock_wait_timeout = DEFAULT");
	return false;
}

/*
 * The binary log's current position into *status: @@gtid_binlog_pos on
 * MariaDB (checked to be a list of GTIDs; NULL elsewhere), SHOW MASTER
 * STATUS's file and position (checked).  Returns false when the server
 * keeps no binary log (no row), or when MySQL refuses the statement: then
 * *error says why, or, with "error" NULL, the refusal is an ERROR.
 */
static bool
binlog_position(EtlPullConnection *conn, EtlPullBinlogStatus *status,
				char **error)
{
	char	  **row;

	memset(status, 0, sizeof(*status));
	if (EtlPullIsMariaDB(conn))
	{
		row = EtlPullQueryRow(conn, "SELECT @@gtid_binlog_pos", 1, false);
		if (row[0] && row[0][0] && !is_gtid_list(row[0]))
			EtlPullBadReply(conn,
							psprintf("@@gtid_binlog_pos is \"%s\", not a list of GTIDs.",
									 EtlPullPrintable(row[0], 64)));
		status->gtid = pstrdup(row[0] ? row[0] : "");
	}
	/* no row: the server keeps no binary log */
	if (!EtlPullTryQueryStart(conn, "SHOW MASTER STATUS", -2, error) ||
		(row = EtlPullReplyRow(conn, true)) == NULL)
		return false;
	if (row[0] == NULL || row[0][0] == '\0')
		EtlPullBadReply(conn, "The binary log's File is NULL or empty.");
	status->file = pstrdup(row[0]);
	status->offset = EtlPullReplyUint64(conn, row[1], "The binary log's Position");
	return true;
}

/*
 * The source's current binary log position (see remote.h), for the
 * stream's checks: false when the binary log is off
 */
bool
EtlPullBinlogCurrent(EtlPullConnection *conn, EtlPullBinlogStatus *status)
{
	return binlog_position(conn, status, NULL);
}

/*
 * Under the lock of EtlPullLockForSnapshot, once every reader holds its
 * snapshot: the binary log position of that point ("gtid ..., binlog
 * file:pos", or NULL when the server keeps no binary log or the user may
 * not read it: then *error says why, if MySQL refused), then UNLOCK TABLES
 * and lock_wait_timeout back to its default.
 */
char *
EtlPullSnapshotPosition(EtlPullConnection *control, char **error)
{
	char	   *position = NULL;
	EtlPullBinlogStatus st;

	*error = NULL;
	if (binlog_position(control, &st, error))
		position = psprintf("%s%sbinlog %s:" UINT64_FORMAT,
							st.gtid && st.gtid[0] ? "gtid " : "",
							st.gtid && st.gtid[0] ? psprintf("%s, ", st.gtid) : "",
							EtlPullPrintable(st.file, 256), st.offset);
	else if (st.gtid && st.gtid[0])
		position = psprintf("gtid %s", st.gtid);
	EtlPullUnlockTables(control);
	return position;
}

/*
 * Release the lock of EtlPullLockForSnapshot: UNLOCK TABLES, and
 * lock_wait_timeout back to its default
 */
void
EtlPullUnlockTables(EtlPullConnection *control)
{
	EtlPullExec(control, "UNLOCK TABLES");
	EtlPullExec(control, "SET SESSION lock_wait_timeout = DEFAULT");
}
