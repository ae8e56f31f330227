/*-------------------------------------------------------------------------
 *
 * prereq.c
 *		  What a MySQL or MariaDB server needs before etl_pull can follow
 *		  its binary log, asked of the server itself, and said in words a
 *		  DBA can hand to the MySQL administrator.
 *
 * One check per requirement: the binary log on, binlog_format = ROW,
 * binlog_row_image = FULL, binlog_row_metadata = FULL (the decoder reads
 * signedness, character sets and ENUM values there), log_slave_updates on a server that is itself
 * a replica (else the changes it replicates never reach its own log),
 * the grants REPLICATION SLAVE and BINLOG MONITOR (MySQL and MariaDB
 * before 10.5: REPLICATION CLIENT), and a retention long enough to
 * survive a weekend of downtime.  etl_pull.plan() shows every row;
 * start_stream refuses a server that misses one, listing what is missing.
 *
 * IDENTIFICATION
 *		  src/stream/prereq.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "lib/stringinfo.h"

#include "etl_pull.h"
#include "remote/remote.h"
#include "stream/stream.h"

/* Retention below this many seconds is called too short */
#define MIN_RETENTION_SECONDS	(3 * 24 * 3600)

/* One check's row */
static void
add(List **checks, const char *item, bool ok, const char *detail)
{
	EtlPullBinlogCheck *c = palloc(sizeof(EtlPullBinlogCheck));

	c->item = item;
	c->ok = ok;
	c->detail = pstrdup(detail);
	*checks = lappend(*checks, c);
}

/* A global variable's value (printable), or NULL if the server lacks it */
static char *
variable(EtlPullConnection *conn, const char *name)
{
	char	   *error;
	char	  **values;
	unsigned long *lengths;
	char	   *result = NULL;

	if (!EtlPullTryQueryStart(conn, psprintf("SHOW GLOBAL VARIABLES LIKE %s",
											 EtlPullQuoteLiteral(conn, name)),
							  2, &error))
		return NULL;
	while (EtlPullFetch(conn, &values, &lengths))
		if (result == NULL && values[1] != NULL)
			result = EtlPullPrintable(values[1], 256);
	EtlPullQueryEnd(conn);
	return result;
}

/* Whether a variable's value is ON (or 1) */
static bool
is_on(const char *value)
{
	return value != NULL &&
		(pg_strcasecmp(value, "ON") == 0 || strcmp(value, "1") == 0);
}

/* Whether the server replicates from another (its SQL thread runs) */
static bool
is_replica(EtlPullConnection *conn, bool *known)
{
	char	   *error;
	char	  **values;
	unsigned long *lengths;
	bool		running = false;

	*known = false;
	if (!EtlPullTryQueryStart(conn, "SHOW GLOBAL STATUS LIKE 'Slave_running'",
							  2, &error))
		return false;
	while (EtlPullFetch(conn, &values, &lengths))
	{
		*known = true;
		running = is_on(values[1]);
	}
	EtlPullQueryEnd(conn);
	return running;
}

/*
 * The grants of the current MySQL user, upper-cased and joined: the
 * privileges are words in "GRANT <privileges> ON *.* TO ..."
 */
static char *
global_grants(EtlPullConnection *conn, char **error)
{
	StringInfoData buf;
	char	  **values;
	unsigned long *lengths;

	if (!EtlPullTryQueryStart(conn, "SHOW GRANTS", 1, error))
		return NULL;
	initStringInfo(&buf);
	while (EtlPullFetch(conn, &values, &lengths))
	{
		char	   *line;
		char	   *on;
		char	   *p;

		if (values[0] == NULL)
			continue;
		line = pnstrdup(values[0], lengths[0]);
		for (p = line; *p; p++)
			*p = pg_toupper((unsigned char) *p);
		/* only grants on *.* carry these global privileges */
		on = strstr(line, " ON *.* ");
		if (on == NULL)
			continue;
		*on = '\0';
		appendStringInfo(&buf, "%s,", line);
	}
	EtlPullQueryEnd(conn);
	return buf.data;
}

static bool
granted(const char *grants, const char *privilege)
{
	return strstr(grants, privilege) != NULL ||
		strstr(grants, "ALL PRIVILEGES") != NULL;
}

/*
 * The checks of the server behind "conn": a List of EtlPullBinlogCheck, in
 * a fixed order.
 */
List *
EtlPullBinlogPrerequisites(EtlPullConnection *conn)
{
	List	   *checks = NIL;
	char	   *log_bin = variable(conn, "log_bin");
	char	   *format = variable(conn, "binlog_format");
	char	   *image = variable(conn, "binlog_row_image");
	char	   *metadata = variable(conn, "binlog_row_metadata");
	char	   *slave_updates = variable(conn, "log_slave_updates");
	char	   *expire_seconds = variable(conn, "binlog_expire_logs_seconds");
	char	   *expire_days = variable(conn, "expire_logs_days");
	bool		replica_known;
	bool		replica = is_replica(conn, &replica_known);
	char	   *error = NULL;
	char	   *grants = global_grants(conn, &error);
	double		retention = 0;

	if (is_on(log_bin))
		add(&checks, "log_bin", true, "the binary log is on");
	else
		add(&checks, "log_bin", false,
			"missing: the binary log is off; ask the MySQL administrator to start the server with log_bin (log-bin = <basename> in my.cnf) and a unique server_id, which takes a restart");

	if (format != NULL && pg_strcasecmp(format, "ROW") == 0)
		add(&checks, "binlog_format", true, "ROW");
	else
		add(&checks, "binlog_format", false,
			psprintf("missing: binlog_format is %s; ask for binlog_format = ROW (SET GLOBAL binlog_format = 'ROW' and in my.cnf; sessions and replication threads already connected keep the old format until they reconnect)",
					 format ? format : "unknown"));

	if (image == NULL || pg_strcasecmp(image, "FULL") == 0)
		add(&checks, "binlog_row_image", true,
			image ? "FULL" : "FULL (the server has no binlog_row_image: it always logs full rows)");
	else
		add(&checks, "binlog_row_image", false,
			psprintf("missing: binlog_row_image is %s; ask for binlog_row_image = FULL (SET GLOBAL and in my.cnf): the stream applies whole rows",
					 image));

	if (metadata != NULL && pg_strcasecmp(metadata, "FULL") == 0)
		add(&checks, "binlog_row_metadata", true, "FULL");
	else if (metadata != NULL)
		add(&checks, "binlog_row_metadata", false,
			psprintf("missing: binlog_row_metadata is %s; ask for binlog_row_metadata = FULL (SET GLOBAL and in my.cnf): the stream reads a column's signedness, character set and ENUM values from the log",
					 metadata));
	else
		add(&checks, "binlog_row_metadata", false,
			"missing: the server has no binlog_row_metadata (MariaDB 10.5 and MySQL 8.0 have it), and the stream needs binlog_row_metadata = FULL to read a column's signedness, character set and ENUM values from the log");

	if (!replica_known)
		add(&checks, "log_slave_updates", true,
			psprintf("could not tell whether the server is a replica; if it is, it needs log_slave_updates = ON (now %s)",
					 slave_updates ? slave_updates : "unknown"));
	else if (!replica)
		add(&checks, "log_slave_updates", true, "the server is not a replica: not needed");
	else if (is_on(slave_updates))
		add(&checks, "log_slave_updates", true, "ON: the changes this replica applies reach its binary log");
	else
		add(&checks, "log_slave_updates", false,
			"missing: the server is a replica and log_slave_updates is OFF, so the changes it replicates never reach its own binary log; ask for log_slave_updates = ON in my.cnf (a restart), then a restart of the replication SQL thread");

	if (grants == NULL)
		add(&checks, "grants", false,
			psprintf("could not read the MySQL user's grants: %s", EtlPullPrintable(error, 256)));
	else
	{
		if (granted(grants, "REPLICATION SLAVE") || granted(grants, "REPLICATION REPLICA"))
			add(&checks, "REPLICATION SLAVE", true, "granted");
		else
			add(&checks, "REPLICATION SLAVE", false,
				"missing: ask for GRANT REPLICATION SLAVE ON *.* TO the MySQL user etl_pull connects as (it lets the user read the whole server's binary log)");
		if (granted(grants, "BINLOG MONITOR") || granted(grants, "REPLICATION CLIENT"))
			add(&checks, "BINLOG MONITOR", true, "granted");
		else
			add(&checks, "BINLOG MONITOR", false,
				"missing: ask for GRANT BINLOG MONITOR ON *.* (MariaDB 10.5 and later; REPLICATION CLIENT on MySQL and older MariaDB) TO the MySQL user etl_pull connects as, for SHOW MASTER STATUS and SHOW BINARY LOGS");
	}

	if (expire_seconds != NULL && EtlPullSettingIsNumber(expire_seconds))
		retention = strtod(expire_seconds, NULL);
	if (retention == 0 && expire_days != NULL && EtlPullSettingIsNumber(expire_days))
		retention = strtod(expire_days, NULL) * 86400;
	if (retention == 0)
		add(&checks, "retention", true,
			"binary logs are never purged automatically (watch the disk; a purge by hand past the stream's position forces a new snapshot)");
	else if (retention >= MIN_RETENTION_SECONDS)
		add(&checks, "retention", true,
			psprintf("binary logs are kept %.1f days: a stream stopped for longer must be snapshotted again",
					 retention / 86400));
	else
		add(&checks, "retention", false,
			psprintf("missing: binary logs are kept only %.1f days; ask for binlog_expire_logs_seconds (expire_logs_days before MariaDB 10.6) of at least 7 days, so a stream stopped over a weekend can resume",
					 retention / 86400));
	return checks;
}

/*
 * Raise an error for a server that misses a prerequisite of the stream of
 * "group", naming each one missing
 */
void
EtlPullCheckBinlogPrerequisites(EtlPullConnection *conn, const char *group)
{
	List	   *checks = EtlPullBinlogPrerequisites(conn);
	StringInfoData missing;
	ListCell   *lc;

	initStringInfo(&missing);
	foreach(lc, checks)
	{
		EtlPullBinlogCheck *c = (EtlPullBinlogCheck *) lfirst(lc);

		if (!c->ok)
			appendStringInfo(&missing, "%s%s: %s", missing.len ? "; " : "",
							 c->item, c->detail);
	}
	if (missing.len > 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("MySQL server \"%s\" cannot be followed by the stream of load group \"%s\"",
						EtlPullServerName(conn), group),
				 errdetail("%s.", missing.data),
				 errhint("etl_pull.plan(name) of a binlog table lists what the server has and lacks.")));
}
