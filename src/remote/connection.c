/*-------------------------------------------------------------------------
 *
 * connection.c
 *		  Connections to the MySQL/MariaDB replica: connect, session setup,
 *		  streamed queries in both protocols, error relay, closing.
 *
 * The options it connects with come from option.c (EtlPullGetConnOptions),
 * which validates them too: this file only connects.
 *
 * This is the only file that includes mysql.h, and the only one that
 * calls the client library.  Every call that can block on the network
 * uses the client library's non-blocking API and waits on the socket
 * together with our latch, so a load stays cancellable (pg_cancel_backend,
 * statement_timeout) even while MySQL is silent.
 *
 * Which (sub)transaction owns a connection and its statement, and what an
 * abort does to them, is lifetime.c's; it closes the MySQL side with
 * EtlPullCloseMysql.  A result set that is still streaming is never
 * drained on abort: the socket is shut down first, so freeing it cannot
 * read the rest of the table.  A query sent without waiting
 * (EtlPullQuerySend) counts as streaming until its result is received.
 * Statements whose reply is one checked row are reply.c's, the snapshot
 * handshake's statements snapshot.c's; the struct they share is in
 * connection_int.h.
 *
 * Rows stream in the text protocol (mysql_use_result) or in the binary
 * one (a prepared statement, unbuffered, no cursor; EtlPullQueryStartProtocol),
 * whose rows this file reads itself and binrow.c decodes (see binary_fetch):
 * either way EtlPullFetch hands out the values as text.
 *
 * IDENTIFICATION
 *		  src/remote/connection.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <sys/socket.h>

#include "remote/mysql_client.h"

#include "access/xact.h"
#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "storage/latch.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"
#include "utils/wait_event.h"

#include "etl_pull.h"
#include "catalog/etl_catalog.h"
#include "remote/binrow.h"
#include "remote/connection_int.h"
#include "remote/remote.h"

/*
 * How long closing a connection may take in all (seconds): stopping its
 * statement (KILL QUERY over a second connection: connect, authenticate,
 * send, read the reply, close) and closing it, whatever MySQL sends or
 * withholds (see EtlPullCloseMysql)
 */
#define CLEANUP_TIMEOUT 5

/* A clean-up under way: its deadline, and whether it consumed a latch set */
typedef struct Cleanup
{
	TimestampTz deadline;
	bool		woken;
} Cleanup;

/*
 * The authentication plugins a server may ask for.  mysql_native_password
 * and ed25519 answer a challenge and never send the password itself.  The
 * others send it in clear text (mysql_clear_password, dialog) or encrypted
 * with a public key that the server itself supplies (sha256_password,
 * caching_sha2_password): a hostile or impersonated server would learn it,
 * so they need TLS that verified both the certificate chain and the host
 * name (ssl_mode verify_identity), the one mode in which Connector/C 3.3
 * cannot fall back to plain text before authenticating.
 */
#define AUTH_PLUGINS "mysql_native_password,client_ed25519"
#define AUTH_PLUGINS_VERIFIED_TLS \
	AUTH_PLUGINS ",caching_sha2_password,sha256_password,mysql_clear_password,dialog"

static const char *configure_client(MYSQL *mysql, const EtlPullConnOptions *opts,
									bool is_superuser);
static bool tls_as_required(MYSQL *mysql, const char *ssl_mode);
static void relay_error(EtlPullConnection *conn, int sqlerrcode,
						const char *fmt) pg_attribute_noreturn();
static bool binary_fetch(EtlPullConnection *conn, char ***values,
						 unsigned long **lengths);
static void binary_end(EtlPullConnection *conn);

/*
 * Map a MySQL error number to a PostgreSQL errcode.  Client-side errors
 * (2000-2999) are about the connection; a few server errors have an exact
 * PostgreSQL counterpart; everything else is an FDW error.
 */
static int
errcode_for_mysql(unsigned int err, int fallback)
{
	switch (err)
	{
		case ER_ACCESS_DENIED_ERROR:
		case ER_DBACCESS_DENIED_ERROR:
			return ERRCODE_INVALID_AUTHORIZATION_SPECIFICATION;
		case ER_NO_SUCH_TABLE:
			return ERRCODE_UNDEFINED_TABLE;
		case ER_BAD_DB_ERROR:
			return ERRCODE_UNDEFINED_OBJECT;
		case ER_TABLEACCESS_DENIED_ERROR:
		case ER_COLUMNACCESS_DENIED_ERROR:
		case ER_SPECIFIC_ACCESS_DENIED_ERROR:
			return ERRCODE_INSUFFICIENT_PRIVILEGE;
		case CR_SERVER_LOST:
		case CR_SERVER_GONE_ERROR:
		case CR_CONN_HOST_ERROR:
		case CR_CONNECTION_ERROR:
		case ER_CONNECTION_KILLED:
		case ER_QUERY_INTERRUPTED:
			return ERRCODE_CONNECTION_FAILURE;
	}
	if (err >= 2000 && err < 3000)
		return ERRCODE_CONNECTION_FAILURE;
	return fallback;
}

/*
 * The statement in progress on "conn" (or the one whose reply is being
 * checked: EtlPullQueryRow), for an error's context, or NULL: a copy made
 * valid text, as it may quote a value MySQL sent (a watermark,
 * say)
 */
static char *
remote_sql(EtlPullConnection *conn)
{
	const char *from = conn->sql ? conn->sql : conn->reply_sql;

	if (from == NULL)
		return NULL;
	return EtlPullValidText(from, strlen(from), PG_UTF8, NULL);
}

/*
 * Report the connection's current MySQL error as an ERROR.  "fmt" is the
 * message, with one %s for the server's name.  MySQL's own text goes into
 * the detail and the statement into the context; neither can contain the
 * password, which is only ever passed to connect.
 */
static void
relay_error_of(EtlPullConnection *conn, unsigned int err, const char *error,
			   int sqlerrcode, const char *fmt) pg_attribute_noreturn();

static void
relay_error(EtlPullConnection *conn, int sqlerrcode, const char *fmt)
{
	relay_error_of(conn, mysql_errno(conn->mysql), mysql_error(conn->mysql),
				   sqlerrcode, fmt);
}

/*
 * As relay_error, for MySQL error "err" with text "error" (replication.c
 * reports the replication API's errors through it)
 */
void
EtlPullRelayError(EtlPullConnection *conn, unsigned int err, const char *error,
				  int sqlerrcode, const char *fmt)
{
	relay_error_of(conn, err, error, sqlerrcode, fmt);
}

static void
relay_error_of(EtlPullConnection *conn, unsigned int err, const char *error,
			   int sqlerrcode, const char *fmt)
{
	char	   *text = EtlPullPrintable(error, 1000);
	char	   *sql = remote_sql(conn);
	const char *hint = NULL;

	/* MySQL has ended the statement, or the connection is gone */
	conn->sql = NULL;

	/*
	 * The client library gives up on some malformed replies (result
	 * metadata with a NULL column name, say) without setting an error.
	 */
	if (err == 0)
		ereport(ERROR,
				(errcode(ERRCODE_PROTOCOL_VIOLATION),
				 errmsg_internal(fmt, conn->server_name),
				 errdetail("The MySQL client library rejected the server's reply as malformed."),
				 sql ? errcontext("remote SQL command: %s", sql) : 0));
	if (err == CR_PLUGIN_NOT_ALLOWED)
	{
		/* Connector/C 3.3 may print a stale pointer as the plugin's name */
		text = "the server asked for an authentication plugin that is not allowed on this connection";
		hint = "etl_pull allows authentication methods that hand the password to the server "
			"(mysql_clear_password, dialog, sha256_password, caching_sha2_password) only with "
			"ssl_mode \"verify_identity\".";
	}
	else if (err == CR_SSL_CONNECTION_ERROR)
		hint = "Check the server options ssl_mode, ssl_ca, ssl_cert, ssl_key and tls_version, "
			"and that the MySQL server's certificate is issued for the host name in \"host\".";

	ereport(ERROR,
			(errcode(errcode_for_mysql(err, sqlerrcode)),
			 errmsg_internal(fmt, conn->server_name),
			 errdetail_internal("MySQL error %u: %s", err, text),
			 hint ? errhint("%s", hint) : 0,
			 sql ? errcontext("remote SQL command: %s", sql) : 0));
}

/*
 * Report a reply that does not have the shape the statement asked for (here,
 * and in verify.c for what a comparison's statements return).  A hostile or
 * broken server must never make us read past what it sent.
 */
void
EtlPullBadReply(EtlPullConnection *conn, const char *detail)
{
	char	   *sql = remote_sql(conn);

	ereport(ERROR,
			(errcode(ERRCODE_PROTOCOL_VIOLATION),
			 errmsg("MySQL server \"%s\" sent a malformed result", conn->server_name),
			 errdetail_internal("%s", detail),
			 sql ? errcontext("remote SQL command: %s", sql) : 0));
}

/*
 * Wait until the client library's socket is ready for what it asked for,
 * servicing interrupts meanwhile.  Returns the MYSQL_WAIT_* mask to hand
 * back to the _cont function.
 */
static int
wait_for_mysql(EtlPullConnection *conn, int status)
{
	uint32		events = 0;
	long		timeout = -1;

	if (status & MYSQL_WAIT_READ)
		events |= WL_SOCKET_READABLE;
	if (status & MYSQL_WAIT_WRITE)
		events |= WL_SOCKET_WRITEABLE;
	if (status & MYSQL_WAIT_TIMEOUT)
		timeout = mysql_get_timeout_value_ms(conn->mysql);

	/* Before the handshake completes there is no stable socket: one-off wait */
	if (conn->wes == NULL)
	{
		pgsocket	sock = mysql_get_socket(conn->mysql);

		for (;;)
		{
			int			rc;

			rc = WaitLatchOrSocket(MyLatch,
								   WL_LATCH_SET | WL_EXIT_ON_PM_DEATH | events |
								   (timeout >= 0 ? WL_TIMEOUT : 0),
								   sock, timeout, PG_WAIT_EXTENSION);
			if (rc & WL_LATCH_SET)
			{
				ResetLatch(MyLatch);
				CHECK_FOR_INTERRUPTS();
			}
			if (rc & WL_SOCKET_READABLE)
				return MYSQL_WAIT_READ;
			if (rc & WL_SOCKET_WRITEABLE)
				return MYSQL_WAIT_WRITE;
			if (rc & WL_TIMEOUT)
				return MYSQL_WAIT_TIMEOUT;
		}
	}

	if (events != conn->sock_events)
	{
		ModifyWaitEvent(conn->wes, conn->sock_pos, events, NULL);
		conn->sock_events = events;
	}

	for (;;)
	{
		WaitEvent	ev;
		int			n;

		n = WaitEventSetWait(conn->wes, timeout, &ev, 1, PG_WAIT_EXTENSION);
		if (n == 0)
			return MYSQL_WAIT_TIMEOUT;
		if (ev.events & WL_LATCH_SET)
		{
			ResetLatch(MyLatch);
			CHECK_FOR_INTERRUPTS();
			continue;
		}
		if (ev.events & WL_SOCKET_READABLE)
			return MYSQL_WAIT_READ;
		if (ev.events & WL_SOCKET_WRITEABLE)
			return MYSQL_WAIT_WRITE;
	}
}

/*
 * Whether the connection has a statement that MySQL may still be running:
 * one sent and not yet answered, or whose result is not all read.
 */
bool
EtlPullStatementOpen(EtlPullConnection *conn)
{
	return conn->sql != NULL || conn->result != NULL || conn->stmt != NULL ||
		conn->in_flight;
}

/*
 * Wait, during clean-up "c" (see EtlPullCloseMysql), for what the client
 * library's non-blocking call on "m" asked for ("status"), and return the
 * events to hand back to its _cont function.  Past the deadline, or as soon
 * as the backend is told to exit, the socket is shut down and
 * MYSQL_WAIT_TIMEOUT returned: the library then fails the call at once, and
 * any read or write it tries after it.  Interrupts are held while a
 * transaction aborts, so pg_terminate_backend shows here as ProcDiePending
 * only; a cancel does not end the wait, the deadline bounds it.  A latch set
 * that is consumed here is set again when the clean-up ends.
 */
static int
cleanup_wait(MYSQL *m, int status, Cleanup *c)
{
	pgsocket	sock = mysql_get_socket(m);

	for (;;)
	{
		long		timeout;
		bool		library_timeout = false;
		int			events = WL_LATCH_SET | WL_EXIT_ON_PM_DEATH | WL_TIMEOUT;
		int			rc;

		timeout = TimestampDifferenceMilliseconds(GetCurrentTimestamp(), c->deadline);
		if (ProcDiePending || timeout <= 0)
		{
			if (sock != PGINVALID_SOCKET)
				shutdown(sock, SHUT_RDWR);
			return MYSQL_WAIT_TIMEOUT;
		}
		if ((status & MYSQL_WAIT_TIMEOUT) &&
			mysql_get_timeout_value_ms(m) < (unsigned int) timeout)
		{
			timeout = mysql_get_timeout_value_ms(m);
			library_timeout = true;
		}
		if (sock != PGINVALID_SOCKET && (status & MYSQL_WAIT_READ))
			events |= WL_SOCKET_READABLE;
		if (sock != PGINVALID_SOCKET && (status & MYSQL_WAIT_WRITE))
			events |= WL_SOCKET_WRITEABLE;
		rc = WaitLatchOrSocket(MyLatch, events, sock, timeout, PG_WAIT_EXTENSION);
		if (rc & WL_LATCH_SET)
		{
			ResetLatch(MyLatch);
			c->woken = true;
			continue;
		}
		if (rc & WL_SOCKET_READABLE)
			return MYSQL_WAIT_READ;
		if (rc & WL_SOCKET_WRITEABLE)
			return MYSQL_WAIT_WRITE;
		if (library_timeout)
			return MYSQL_WAIT_TIMEOUT;
	}
}

/*
 * Close "m" (COM_QUIT, then free it) within clean-up "c": past its
 * deadline the socket is shut down and the handle freed without waiting.
 */
static void
close_in_time(MYSQL *m, Cleanup *c)
{
	int			status = mysql_close_start(m);

	while (status)
		status = mysql_close_cont(m, cleanup_wait(m, status, c));
}

/*
 * Stop the statement the connection still has running at the server,
 * before the connection is closed: KILL QUERY over a second, short-lived
 * connection, made as the first one was (same user, TLS and restrictions).
 * Closing the socket alone does not stop a statement that has nothing to
 * send yet: MySQL would go on aggregating, sorting or waiting for a lock,
 * for as long as the statement takes, and notice the closed socket only
 * when it next writes.  (postgres_fdw cancels its remote query on abort
 * the same way.)  This runs while a transaction aborts, so it raises
 * nothing, and gives up silently at the clean-up's deadline or when the
 * backend is told to exit: every step (connect, TLS, authentication, the
 * statement, the close) uses the client library's non-blocking calls and
 * waits in cleanup_wait, so a server that answers one byte at a time
 * cannot hold it longer, as it would hold a per-read timeout.  The session
 * id is a number, printed anew.
 */
static void
kill_statement(EtlPullConnection *conn, Cleanup *c)
{
	const EtlPullConnOptions *opts = conn->opts;
	MYSQL	   *m;
	MYSQL	   *connected = NULL;
	int			ret = 0;
	int			status;
	char		sql[64];

	if (opts == NULL || conn->thread_id == 0 || ProcDiePending)
		return;
	m = mysql_init(NULL);
	if (m == NULL)
		return;
	if (mysql_options(m, MYSQL_OPT_NONBLOCK, 0) != 0 ||
		configure_client(m, opts, conn->is_superuser) != NULL)
	{
		mysql_close(m);			/* never connected: this only frees */
		return;
	}
	status = mysql_real_connect_start(&connected, m, opts->host, opts->user,
									  opts->password, NULL, opts->port,
									  opts->socket, 0);
	while (status)
		status = mysql_real_connect_cont(&connected, m, cleanup_wait(m, status, c));
	if (connected != NULL && tls_as_required(m, opts->ssl_mode))
	{
		snprintf(sql, sizeof(sql), "KILL QUERY %lu", conn->thread_id);
		status = mysql_real_query_start(&ret, m, sql, strlen(sql));
		while (status)
			status = mysql_real_query_cont(&ret, m, cleanup_wait(m, status, c));
	}
	close_in_time(m, c);
}

/*
 * Close the MySQL side of a connection, in CLEANUP_TIMEOUT seconds at most
 * whatever MySQL does (see kill_statement), and at once when the backend
 * is told to exit.  A statement still running is stopped (kill_statement).
 * With cut, or a statement still open, the socket is then shut down, so
 * that closing neither reads the rest of a result nor waits to send
 * COM_QUIT; an idle connection says COM_QUIT, within the same deadline.
 * The struct stays: lifetime.c frees it, or leaves a cut-off connection to
 * its owner.
 */
void
EtlPullCloseMysql(EtlPullConnection *conn, bool cut)
{
	Cleanup		c;

	c.deadline = TimestampTzPlusMilliseconds(GetCurrentTimestamp(),
											 CLEANUP_TIMEOUT * 1000);
	c.woken = false;
	if (conn->wes)
		FreeWaitEventSet(conn->wes);
	conn->wes = NULL;
	if (conn->mysql && conn->sql)
		kill_statement(conn, &c);
	if (conn->mysql && !cut && !EtlPullStatementOpen(conn))
		close_in_time(conn->mysql, &c);
	else if (conn->mysql)
	{
		pgsocket	sock = mysql_get_socket(conn->mysql);

		if (sock != PGINVALID_SOCKET)
			shutdown(sock, SHUT_RDWR);
		if (conn->in_flight)
		{
			int			ret;
			int			status = conn->send_status;
			int			i;

			/*
			 * Let the client library finish the query it suspended: on the
			 * shut-down socket its read fails at once.
			 */
			for (i = 0; status != 0 && i < 16; i++)
				status = mysql_real_query_cont(&ret, conn->mysql, status);
			conn->in_flight = false;
		}
		if (conn->result)
			mysql_free_result(conn->result);
		if (conn->stmt_meta)
			mysql_free_result(conn->stmt_meta);
		mysql_close(conn->mysql);
		/* closed, the connection no longer reaches it: this only frees */
		if (conn->stmt)
			mysql_stmt_close(conn->stmt);
	}
	conn->result = NULL;
	conn->stmt = NULL;
	conn->stmt_meta = NULL;
	if (conn->ranges)
		EtlPullRangeDone(conn);
	if (conn->stmt_cxt)
		MemoryContextDelete(conn->stmt_cxt);
	conn->stmt_cxt = NULL;
	conn->mysql = NULL;
	if (c.woken)
		SetLatch(MyLatch);
}

/*
 * Report use of a connection that an abort has cut off (lifetime.c): its
 * result and its session are gone, so nothing may be read or sent.
 */
static void
check_open(EtlPullConnection *conn)
{
	if (conn->mysql == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_CONNECTION_DOES_NOT_EXIST),
				 errmsg("connection to MySQL server \"%s\" was lost", conn->server_name),
				 errdetail("The connection was closed when the transaction that ran its statement was rolled back.")));
}

/* The statement whose row was being checked (reply.c) is done with */
static void
forget_reply(EtlPullConnection *conn)
{
	if (conn->reply_sql)
		pfree(conn->reply_sql);
	conn->reply_sql = NULL;
}

/*
 * Begin a statement: the connection must be open and have none in
 * progress.  The statement belongs to the current (sub)transaction.
 */
static void
start_statement(EtlPullConnection *conn, const char *sql)
{
	check_open(conn);
	if (EtlPullStatementOpen(conn))
		elog(ERROR, "etl_pull connection has a result in progress");
	forget_reply(conn);
	conn->sql = sql;
	conn->stmt_level = GetCurrentTransactionNestLevel();
}

/*
 * The session settings every load's connection starts with, as the
 * assignments of one SET statement: UTC, an empty sql_mode, long network
 * timeouts on the server side.
 */
char *
EtlPullSessionDefaults(void)
{
	return psprintf("time_zone = '+00:00', sql_mode = '', "
					"net_write_timeout = %d, net_read_timeout = %d",
					EtlPullNetTimeout, EtlPullNetTimeout);
}

/*
 * Set the client options of a connection about to be made with "opts":
 * character set, timeouts, compression, TCP for a non-superuser, and what
 * a hostile server must not get (see below).  Returns NULL, or what could
 * not be set (the caller decides whether that is an ERROR: not while a
 * transaction aborts, see kill_statement).
 */
static const char *
configure_client(MYSQL *mysql, const EtlPullConnOptions *opts, bool is_superuser)
{
	unsigned int local_infile = 0;
	bool		tls_verified;

	if (mysql_options(mysql, MYSQL_SET_CHARSET_NAME, "utf8mb4") != 0 ||
		mysql_options(mysql, MYSQL_OPT_CONNECT_TIMEOUT, &opts->connect_timeout) != 0)
		return "could not set MySQL client options";
	if (opts->read_timeout > 0)
		mysql_options(mysql, MYSQL_OPT_READ_TIMEOUT, &opts->read_timeout);
	if (opts->write_timeout > 0)
		mysql_options(mysql, MYSQL_OPT_WRITE_TIMEOUT, &opts->write_timeout);
	if (opts->compress)
		mysql_options(mysql, MYSQL_OPT_COMPRESS, NULL);
	if (!is_superuser)
	{
		unsigned int protocol = MYSQL_PROTOCOL_TCP;

		mysql_options(mysql, MYSQL_OPT_PROTOCOL, &protocol);
	}

	/*
	 * The server may be hostile or impersonated (invariant 10).  It must
	 * not read our files: a LOAD DATA LOCAL INFILE request is refused.  It
	 * must not learn the password: only the authentication plugins that
	 * never hand it over are allowed, unless TLS has verified whom we talk
	 * to.  Either failing option is an error, never a silent downgrade.
	 * Connector/C 3.4.1 and later never check the host name of a loopback
	 * address or a Unix socket, whatever the options say: there
	 * verify_identity verifies the chain only, and the plugins stay
	 * restricted.
	 */
	tls_verified = strcmp(opts->ssl_mode, "verify_identity") == 0 &&
		!(mysql_get_client_version() >= 30401 &&
		  (opts->socket != NULL || opts->host == NULL ||
		   strcmp(opts->host, "localhost") == 0 || strcmp(opts->host, "127.0.0.1") == 0 ||
		   strcmp(opts->host, "::1") == 0));
	if (mysql_options(mysql, MYSQL_OPT_LOCAL_INFILE, &local_infile) != 0 ||
		mysql_options(mysql, MARIADB_OPT_RESTRICTED_AUTH,
					  tls_verified ? AUTH_PLUGINS_VERIFIED_TLS : AUTH_PLUGINS) != 0)
		return "could not restrict the MySQL client library";

	/*
	 * TLS.  Connector/C 3.3 verifies the certificate chain whenever a CA
	 * is given, and the host name only with MYSQL_OPT_SSL_VERIFY_SERVER_CERT
	 * (which also checks the chain, against the system's CAs when there is
	 * no ssl_ca); verify_ca must name its CA (EtlPullConnect checks that).
	 * Only that option also stops the library from going on in plain text
	 * with a server that offers no TLS: for required and verify_ca, the
	 * check after the handshake refuses such a session, and until then the
	 * restricted plugins above never hand the password over.
	 *
	 * Connector/C 3.4 verifies by default (chain, and host name unless the
	 * address is a loopback one) and turns TLS on even when no TLS option
	 * is set; MYSQL_OPT_SSL_VERIFY_SERVER_CERT off stops all verification.
	 * So disabled, preferred and required switch it off as 3.3's default
	 * has it, verify_identity switches it on, and verify_ca keeps the
	 * library's default: the chain against its CA (on 3.4 the host name
	 * too, for an address that is not a loopback one).
	 */
	if (strcmp(opts->ssl_mode, "verify_ca") != 0)
	{
		my_bool		verify = (strcmp(opts->ssl_mode, "verify_identity") == 0);

		if (mysql_options(mysql, MYSQL_OPT_SSL_VERIFY_SERVER_CERT, &verify) != 0)
			return "could not set MySQL option ssl_mode";
	}
	if (strcmp(opts->ssl_mode, "disabled") != 0)
	{
		my_bool		on = 1;

		if (opts->ssl_ca &&
			mysql_options(mysql, MYSQL_OPT_SSL_CA, opts->ssl_ca) != 0)
			return "could not set MySQL option ssl_ca";
		if (opts->ssl_cert &&
			mysql_options(mysql, MYSQL_OPT_SSL_CERT, opts->ssl_cert) != 0)
			return "could not set MySQL option ssl_cert";
		if (opts->ssl_key &&
			mysql_options(mysql, MYSQL_OPT_SSL_KEY, opts->ssl_key) != 0)
			return "could not set MySQL option ssl_key";
		if (opts->tls_version &&
			mysql_options(mysql, MARIADB_OPT_TLS_VERSION, opts->tls_version) != 0)
			return "could not set MySQL option tls_version";
		if (strcmp(opts->ssl_mode, "preferred") != 0 &&
			mysql_options(mysql, MYSQL_OPT_SSL_ENFORCE, &on) != 0)
			return "could not set MySQL option ssl_mode";
	}
	return NULL;
}

/*
 * Whether a session just made is encrypted if its ssl_mode requires it
 * (required, verify_ca, verify_identity): the library may have gone on in
 * plain text with a server that offers no TLS (see configure_client).
 */
static bool
tls_as_required(MYSQL *mysql, const char *ssl_mode)
{
	return strcmp(ssl_mode, "disabled") == 0 ||
		strcmp(ssl_mode, "preferred") == 0 ||
		mysql_get_ssl_cipher(mysql) != NULL;
}

/*
 * Initialise the client library now: what its first mysql_init() would do
 * (OpenSSL, the character sets, the "mysql" service's port), about 1.2 ms
 * on a 2-core machine.  _PG_init calls it in the postmaster when etl_pull is
 * in shared_preload_libraries, so that every backend inherits it instead of
 * spending it in its first load; a failure is left to that mysql_init().
 */
void
EtlPullClientLibraryInit(void)
{
	(void) mysql_library_init(0, NULL, NULL);
}

/*
 * Open a connection to the replica behind a foreign server, as the user
 * mapping of "userid" says, and set the session up for loading: utf8mb4,
 * UTC, long network timeouts on the server side.  The caller owns the
 * returned connection and closes it with EtlPullDisconnect; an error
 * closes it automatically.
 */
EtlPullConnection *
EtlPullConnect(ForeignServer *server, Oid userid)
{
	return EtlPullConnectTimed(server, userid, 0);
}

/*
 * As EtlPullConnect, with the client's read and write timeouts set to
 * "net_timeout" seconds whatever the server's options say (0: as they
 * say): replication.c's reads wait that long at most for a packet.
 */
EtlPullConnection *
EtlPullConnectTimed(ForeignServer *server, Oid userid, unsigned int net_timeout)
{
	UserMapping *um = GetUserMapping(userid, server->serverid);
	EtlPullConnOptions opts;
	EtlPullConnection *conn;
	const char *bad;
	bool		is_superuser = superuser_arg(userid);
	MYSQL	   *ret = NULL;
	int			status;

	EtlPullGetConnOptions(server, um, &opts);
	if (net_timeout > 0)
		opts.read_timeout = opts.write_timeout = net_timeout;

	/*
	 * As postgres_fdw's password_required: a non-superuser must not borrow
	 * the PostgreSQL server's own identity, so needs a password, and goes
	 * over TCP so that socket peer authentication cannot apply.
	 */
	if (!is_superuser)
	{
		if (opts.password == NULL || opts.password[0] == '\0')
			ereport(ERROR,
					(errcode(ERRCODE_S_R_E_PROHIBITED_SQL_STATEMENT_ATTEMPTED),
					 errmsg("password is required"),
					 errdetail("Non-superusers must provide a password in the user mapping for server \"%s\".",
							   server->servername)));
		if (opts.socket != NULL)
			ereport(ERROR,
					(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
					 errmsg("only superusers may connect to server \"%s\" through a Unix socket",
							server->servername),
					 errhint("Remove the \"socket\" option and connect by host and port.")));
	}

	conn = EtlPullNewConnection(server->servername);

	conn->mysql = mysql_init(NULL);
	if (conn->mysql == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("out of memory")));

	if (strcmp(opts.ssl_mode, "verify_ca") == 0 && opts.ssl_ca == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_OPTION_NAME_NOT_FOUND),
				 errmsg("ssl_mode \"verify_ca\" of server \"%s\" needs option \"ssl_ca\"",
						server->servername)));
	if (mysql_options(conn->mysql, MYSQL_OPT_NONBLOCK, 0) != 0)
		elog(ERROR, "could not set MySQL client options");
	if ((bad = configure_client(conn->mysql, &opts, is_superuser)) != NULL)
		elog(ERROR, "%s", bad);
	conn->opts = EtlPullCopyConnOptions(&opts);
	conn->is_superuser = is_superuser;

	status = mysql_real_connect_start(&ret, conn->mysql, opts.host, opts.user,
									  opts.password, NULL, opts.port, opts.socket,
									  CLIENT_REMEMBER_OPTIONS);
	while (status)
	{
		status = wait_for_mysql(conn, status);
		status = mysql_real_connect_cont(&ret, conn->mysql, status);
	}
	if (ret == NULL)
		relay_error(conn, ERRCODE_SQLCLIENT_UNABLE_TO_ESTABLISH_SQLCONNECTION,
					"could not connect to MySQL server \"%s\"");
	conn->thread_id = mysql_thread_id(conn->mysql);

	if (!tls_as_required(conn->mysql, opts.ssl_mode))
		ereport(ERROR,
				(errcode(ERRCODE_SQLCLIENT_UNABLE_TO_ESTABLISH_SQLCONNECTION),
				 errmsg("could not connect to MySQL server \"%s\" over TLS",
						server->servername),
				 errdetail("ssl_mode is \"%s\", but the server does not support TLS.",
						   opts.ssl_mode)));

	/* From here on the socket is stable: wait on a persistent event set */
#if PG_VERSION_NUM >= 170000
	/* no resource owner: the set lives as long as the connection */
	conn->wes = CreateWaitEventSet(NULL, 3);
#else
	conn->wes = CreateWaitEventSet(TopMemoryContext, 3);
#endif
	AddWaitEventToSet(conn->wes, WL_LATCH_SET, PGINVALID_SOCKET, MyLatch, NULL);
	AddWaitEventToSet(conn->wes, WL_EXIT_ON_PM_DEATH, PGINVALID_SOCKET,
					  NULL, NULL);
	conn->sock_events = WL_SOCKET_READABLE;
	conn->sock_pos = AddWaitEventToSet(conn->wes, conn->sock_events,
									   mysql_get_socket(conn->mysql),
									   NULL, NULL);

	/* one round trip for the whole session setup */
	EtlPullExec(conn, psprintf("SET SESSION %s", EtlPullSessionDefaults()));

	if (opts.dbname)
		conn->dbname = MemoryContextStrdup(TopMemoryContext, opts.dbname);
	return conn;
}

const char *
EtlPullServerName(EtlPullConnection *conn)
{
	return conn->server_name;
}

const char *
EtlPullDefaultDb(EtlPullConnection *conn)
{
	return conn->dbname;
}

bool
EtlPullIsMariaDB(EtlPullConnection *conn)
{
	check_open(conn);
	return strstr(mysql_get_server_info(conn->mysql), "MariaDB") != NULL;
}

/*
 * The server's version as a number (10.11.6 is 101106), as the client
 * library reads it from the handshake (MariaDB's "5.5.5-" prefix removed);
 * 0 if it cannot tell.
 */
unsigned long
EtlPullServerVersion(EtlPullConnection *conn)
{
	return mysql_get_server_version(conn->mysql);
}

/*
 * Send a statement and wait for its result header.  With "error" NULL a
 * refusal is an ERROR; otherwise MySQL's message goes into *error and
 * false is returned (a lost connection is always an ERROR).
 */
static bool
run_query(EtlPullConnection *conn, const char *sql, char **error)
{
	int			ret = 0;
	int			status;
	unsigned int err;

	start_statement(conn, sql);
	status = mysql_real_query_start(&ret, conn->mysql, sql, strlen(sql));
	while (status)
	{
		status = wait_for_mysql(conn, status);
		status = mysql_real_query_cont(&ret, conn->mysql, status);
	}
	if (ret == 0)
		return true;
	err = mysql_errno(conn->mysql);
	if (error == NULL || err == 0 || (err >= 2000 && err < 3000))
		relay_error(conn, ERRCODE_FDW_ERROR,
					"could not execute query on MySQL server \"%s\"");
	*error = psprintf("MySQL error %u: %s", err,
					  EtlPullPrintable(mysql_error(conn->mysql), 1000));
	conn->sql = NULL;
	return false;
}

/*
 * Run a statement that returns no rows.
 */
void
EtlPullExec(EtlPullConnection *conn, const char *sql)
{
	(void) run_query(conn, sql, NULL);
	if (mysql_field_count(conn->mysql) != 0)
	{
		MYSQL_RES  *res = mysql_use_result(conn->mysql);

		conn->result = res;
		EtlPullQueryEnd(conn);
	}
	conn->sql = NULL;
}

/*
 * Check the metadata of a result the caller is about to read: it has
 * "nfields" columns (at least -nfields when negative; any number when 0),
 * each with a name.  The caller indexes the rows by these counts, so a
 * reply of another shape is an ERROR here, before any row is read.
 */
static void
check_fields(EtlPullConnection *conn, unsigned int n, MYSQL_FIELD *fields,
			 int nfields)
{
	unsigned int i;

	if (nfields > 0 ? n != (unsigned int) nfields : n < (unsigned int) -nfields)
		EtlPullBadReply(conn, psprintf("The result has %u columns where %s%d were asked for.",
								 n, nfields < 0 ? "at least " : "", abs(nfields)));
	if (fields == NULL && n > 0)
		EtlPullBadReply(conn, "The result has no column descriptions.");
	for (i = 0; i < n; i++)
		if (fields[i].name == NULL)
			EtlPullBadReply(conn, psprintf("Column %u of the result has no name.", i + 1));
	conn->nfields = n;
}

/* As check_fields, for the text protocol's result in progress */
static void
check_result(EtlPullConnection *conn, int nfields)
{
	if (conn->result == NULL)
	{
		if (mysql_errno(conn->mysql) != 0)
			relay_error(conn, ERRCODE_FDW_ERROR,
						"could not read result from MySQL server \"%s\"");
		EtlPullBadReply(conn, nfields != 0 ?
				  psprintf("The statement returned no result set where %d columns were asked for.",
						   abs(nfields)) :
				  "The statement returned no result set.");
	}
	check_fields(conn, mysql_num_fields(conn->result),
				 mysql_fetch_fields(conn->result), nfields);
}

/*
 * As EtlPullQueryStart, but a statement MySQL refuses returns false with
 * MySQL's message in *error instead of raising an ERROR.
 */
bool
EtlPullTryQueryStart(EtlPullConnection *conn, const char *sql, int nfields,
					 char **error)
{
	if (!run_query(conn, sql, error))
		return false;
	conn->result = mysql_use_result(conn->mysql);
	if (conn->result != NULL || nfields != 0)
		check_result(conn, nfields);
	return true;
}

/*
 * Run a statement that MySQL may refuse; false and *error if it does.
 * Any rows it returns are discarded.
 */
bool
EtlPullTryExec(EtlPullConnection *conn, const char *sql, char **error)
{
	if (!EtlPullTryQueryStart(conn, sql, 0, error))
		return false;
	EtlPullQueryEnd(conn);
	return true;
}

/*
 * Start a streamed query: rows are then read one at a time with
 * EtlPullFetch, never buffered whole on our side.  "sql" must stay valid
 * until EtlPullQueryEnd.  "nfields" is the number of columns the caller
 * reads from each row (at least -nfields when negative): a result of
 * another width is an ERROR.
 */
void
EtlPullQueryStart(EtlPullConnection *conn, const char *sql, int nfields)
{
	(void) run_query(conn, sql, NULL);
	conn->result = mysql_use_result(conn->mysql);
	check_result(conn, nfields);
}

/*
 * Send a streamed query without waiting for MySQL: the server runs it while
 * the caller does its own work (verify.c scans the target meanwhile), and
 * EtlPullQueryReceive then waits for its result as EtlPullQueryStart
 * would have.  Nothing else may use the connection in between.  An error
 * in between leaves the query in flight, which the transaction callbacks
 * cut off as they cut off a streaming result.  A statement longer than the
 * socket's buffer is sent in part only until EtlPullQueryReceive: it is
 * then correct but not overlapped.
 */
void
EtlPullQuerySend(EtlPullConnection *conn, const char *sql)
{
	start_statement(conn, sql);
	conn->send_ret = 0;
	conn->send_status = mysql_real_query_start(&conn->send_ret, conn->mysql,
											   sql, strlen(sql));
	conn->in_flight = true;
}

/* Wait for the result of EtlPullQuerySend; then as after EtlPullQueryStart */
void
EtlPullQueryReceive(EtlPullConnection *conn, int nfields)
{
	int			ret = conn->send_ret;
	int			status = conn->send_status;

	check_open(conn);
	if (!conn->in_flight)
		elog(ERROR, "etl_pull connection has no query in flight");
	while (status)
	{
		status = wait_for_mysql(conn, status);
		conn->send_status = status;
		status = mysql_real_query_cont(&ret, conn->mysql, status);
		conn->send_status = status;
	}
	conn->in_flight = false;
	if (ret != 0)
		relay_error(conn, ERRCODE_FDW_ERROR,
					"could not execute query on MySQL server \"%s\"");
	conn->result = mysql_use_result(conn->mysql);
	check_result(conn, nfields);
}

int
EtlPullQueryFieldCount(EtlPullConnection *conn)
{
	check_open(conn);
	if (conn->stmt)
		return (int) conn->nfields;
	return (int) mysql_num_fields(conn->result);
}

/*
 * Fetch the next row of the streamed query.  On success *values and
 * *lengths point into the client library's buffer and stay valid until
 * the next fetch; there are as many as the caller asked EtlPullQueryStart
 * for.  Returns false at the end of the rows; a fetch error (connection
 * lost, server killed the query, a malformed row) is an ERROR, never an
 * early end.
 */
static bool
fetch_row(EtlPullConnection *conn, char ***values, unsigned long **lengths)
{
	MYSQL_ROW	row = NULL;
	int			status;

	check_open(conn);
	if (conn->stmt)
		return binary_fetch(conn, values, lengths);
	if (conn->result == NULL)
		elog(ERROR, "etl_pull connection has no result in progress");
	status = mysql_fetch_row_start(&row, conn->result);
	while (status)
	{
		status = wait_for_mysql(conn, status);
		status = mysql_fetch_row_cont(&row, conn->result, status);
	}
	if (row == NULL)
	{
		/*
		 * Connector/C reports a row holding fewer values than the result
		 * has columns as CR_UNKNOWN_ERROR (a client error number, which no
		 * real server sends).
		 */
		if (mysql_errno(conn->mysql) == CR_UNKNOWN_ERROR)
			EtlPullBadReply(conn, psprintf("A row does not hold the %u values its result's columns announce (MySQL error %u: %s).",
									 conn->nfields, mysql_errno(conn->mysql),
									 EtlPullPrintable(mysql_error(conn->mysql), 200)));
		if (mysql_errno(conn->mysql) != 0)
			relay_error(conn, ERRCODE_CONNECTION_FAILURE,
						"could not fetch rows from MySQL server \"%s\"");
		return false;
	}
	*values = row;
	*lengths = mysql_fetch_lengths(conn->result);
	if (*lengths == NULL)
		EtlPullBadReply(conn, "A row came without the lengths of its values.");
	return true;
}

/*
 * Fetch the next row of the streamed query (fetch_row).  A read in key
 * ranges (chunks.c) goes on with its next statement when one ends.
 */
bool
EtlPullFetch(EtlPullConnection *conn, char ***values, unsigned long **lengths)
{
	while (!fetch_row(conn, values, lengths))
	{
		if (conn->ranges == NULL || !EtlPullRangeNext(conn))
			return false;
	}
	if (conn->ranges)
		EtlPullRangeRow(conn, *values, *lengths);
	return true;
}

/*
 * Finish a streamed query.  If rows are left, the connection is unusable
 * afterwards (the protocol would need them read); callers only end early
 * on the way to an error.
 */
void
EtlPullQueryEnd(EtlPullConnection *conn)
{
	if (conn->stmt != NULL)
		binary_end(conn);
	if (conn->result != NULL)
	{
		MYSQL_ROW	row;
		int			status;

		/* drain what is left of a result the caller has stopped reading */
		do
		{
			row = NULL;
			status = mysql_fetch_row_start(&row, conn->result);
			while (status)
			{
				status = wait_for_mysql(conn, status);
				status = mysql_fetch_row_cont(&row, conn->result, status);
			}
		} while (row != NULL);
		mysql_free_result(conn->result);
		conn->result = NULL;
	}
	conn->sql = NULL;
	if (conn->ranges)
		EtlPullRangeDone(conn);
}

/* ---- the binary protocol: prepared statements ---- */

/*
 * The rows of a prepared statement are decoded by binrow.c, not by
 * Connector/C, whose decoder reads a row that ends early as empty strings
 * and zeros (see binrow.c).  So no result buffers are bound:
 * mysql_stmt_fetch then only reads the packet, into net.read_pos, and
 * binary_fetch hands it to EtlPullDecodeBinaryRow with the end of the
 * library's buffer.  The library does not keep a packet's length, but
 * writes a 0 byte after each one; the rest of its buffer is kept filled
 * with 0xff (every row is wiped before the next is read, the whole buffer
 * when the library has grown it), so a row must end exactly on its 0.
 * With protocol compression the buffer also holds data still to be
 * decompressed and is left alone: decoding still stays within the buffer,
 * but a short row is then caught only when its walk does not end on a 0.
 */

/* Report the error of the statement in progress */
static void
stmt_error(EtlPullConnection *conn, int sqlerrcode, const char *fmt)
{
	unsigned int err = mysql_stmt_errno(conn->stmt);

	if (err == 0)
		relay_error(conn, sqlerrcode, fmt);
	relay_error_of(conn, err, mysql_stmt_error(conn->stmt), sqlerrcode, fmt);
}

/* How the values of a field of type "type" are sent */
static void
column_layout(EtlPullBinaryColumn *bc, MYSQL_FIELD *f)
{
	bc->is_unsigned = (f->flags & UNSIGNED_FLAG) != 0;
	bc->width = 0;
	switch (f->type)
	{
		case MYSQL_TYPE_NULL:
			bc->layout = BL_NULL;
			break;
		case MYSQL_TYPE_TINY:
			bc->layout = BL_INT, bc->width = 1;
			break;
		case MYSQL_TYPE_SHORT:
		case MYSQL_TYPE_YEAR:
			bc->layout = BL_INT, bc->width = 2;
			break;
		case MYSQL_TYPE_INT24:
		case MYSQL_TYPE_LONG:
			bc->layout = BL_INT, bc->width = 4;
			break;
		case MYSQL_TYPE_LONGLONG:
			bc->layout = BL_INT, bc->width = 8;
			break;
		case MYSQL_TYPE_FLOAT:
			bc->layout = BL_FLOAT;
			break;
		case MYSQL_TYPE_DOUBLE:
			bc->layout = BL_DOUBLE;
			break;
		case MYSQL_TYPE_DATE:
		case MYSQL_TYPE_NEWDATE:
			bc->layout = BL_DATE;
			break;
		case MYSQL_TYPE_DATETIME:
		case MYSQL_TYPE_TIMESTAMP:
			bc->layout = BL_DATETIME;
			break;
		case MYSQL_TYPE_TIME:
			bc->layout = BL_TIME;
			break;
		default:
			/* decimals' digits, strings, bits, enums, sets, blobs, json */
			bc->layout = BL_BYTES;
			break;
	}
}

/* Fill the network buffer with 0xff (see above) */
static void
wipe_buffer(EtlPullConnection *conn, unsigned char *from, size_t len)
{
	if (!conn->mysql->net.compress)
		memset(from, 0xff, len);
}

/*
 * Start a streamed query, as EtlPullQueryStart, in the binary protocol (a
 * prepared statement, fetched unbuffered, with no server cursor) when
 * "binary", otherwise in the text protocol.  EtlPullFetch then returns
 * each value as the text protocol would have sent it, except that the
 * binary protocol's doubles are exact (rendered with the shortest digits
 * that read back as the same double, never with a DOUBLE(M,D)'s D
 * decimals) and its dates and times are rendered from their fields, after
 * those were checked.
 */
void
EtlPullQueryStartProtocol(EtlPullConnection *conn, const char *sql,
						  int nfields, bool binary)
{
	int			ret = 0;
	int			status;
	unsigned int n;
	unsigned int i;
	MYSQL_FIELD *fields;
	NET		   *net = &conn->mysql->net;

	if (!binary)
	{
		EtlPullQueryStart(conn, sql, nfields);
		return;
	}
	start_statement(conn, sql);
	conn->stmt = mysql_stmt_init(conn->mysql);
	if (conn->stmt == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("out of memory")));
	status = mysql_stmt_prepare_start(&ret, conn->stmt, sql, strlen(sql));
	while (status)
	{
		status = wait_for_mysql(conn, status);
		status = mysql_stmt_prepare_cont(&ret, conn->stmt, status);
	}
	if (ret != 0)
		stmt_error(conn, ERRCODE_FDW_ERROR,
				   "could not prepare query on MySQL server \"%s\"");
	status = mysql_stmt_execute_start(&ret, conn->stmt);
	while (status)
	{
		status = wait_for_mysql(conn, status);
		status = mysql_stmt_execute_cont(&ret, conn->stmt, status);
	}
	if (ret != 0)
		stmt_error(conn, ERRCODE_FDW_ERROR,
				   "could not execute query on MySQL server \"%s\"");

	/* the metadata as the execution sent it */
	conn->stmt_meta = mysql_stmt_result_metadata(conn->stmt);
	if (conn->stmt_meta == NULL)
	{
		if (mysql_stmt_errno(conn->stmt) != 0)
			stmt_error(conn, ERRCODE_FDW_ERROR,
					   "could not read result from MySQL server \"%s\"");
		EtlPullBadReply(conn, psprintf("The statement returned no result set where %d columns were asked for.",
								 abs(nfields)));
	}
	n = mysql_num_fields(conn->stmt_meta);
	fields = mysql_fetch_fields(conn->stmt_meta);
	if (n != mysql_stmt_field_count(conn->stmt))
		EtlPullBadReply(conn, "The result's column count disagrees with its column descriptions.");
	check_fields(conn, n, fields, nfields);

	conn->stmt_cxt = AllocSetContextCreate(TopMemoryContext,
										   "etl_pull binary result",
										   ALLOCSET_SMALL_SIZES);
	conn->bcols = MemoryContextAllocZero(conn->stmt_cxt,
										 sizeof(EtlPullBinaryColumn) * Max(n, 1));
	conn->bvalues = MemoryContextAllocZero(conn->stmt_cxt,
										   sizeof(char *) * Max(n, 1));
	conn->blengths = MemoryContextAllocZero(conn->stmt_cxt,
											sizeof(unsigned long) * Max(n, 1));
	for (i = 0; i < n; i++)
		column_layout(&conn->bcols[i], &fields[i]);

	/* no row read yet: the whole buffer is wiped */
	conn->net_buff = net->buff;
	conn->net_buff_end = net->buff_end;
	wipe_buffer(conn, net->buff, net->buff_end - net->buff);
	conn->last_row = NULL;
	conn->last_row_len = 0;
}

/*
 * Of the columns "wanted", those whose values the binary result in
 * progress hands over as an EtlPullNative (integers that fit an int64,
 * floats and doubles, dates, datetimes) instead of text, from the next row on: a palloc'd
 * array, all false for a text-protocol result.  The caller's converters
 * must then take those columns so (EtlPullConvertersUseNative).
 */
bool *
EtlPullQueryNativeColumns(EtlPullConnection *conn, const bool *wanted)
{
	bool	   *granted = palloc0(sizeof(bool) * Max(conn->nfields, 1));
	unsigned int i;

	if (conn->stmt == NULL)
		return granted;
	for (i = 0; i < conn->nfields; i++)
	{
		EtlPullBinaryColumn *bc = &conn->bcols[i];

		if (!wanted[i])
			continue;
		if ((bc->layout == BL_INT && !(bc->width == 8 && bc->is_unsigned)) ||
			bc->layout == BL_FLOAT || bc->layout == BL_DOUBLE ||
			bc->layout == BL_DATE || bc->layout == BL_DATETIME)
			granted[i] = bc->native = true;
	}
	return granted;
}

/*
 * EtlPullFetch for a binary-protocol result: the next row, each value as
 * text (see binrow.c), valid until the next fetch.
 */
static bool
binary_fetch(EtlPullConnection *conn, char ***values, unsigned long **lengths)
{
	NET		   *net = &conn->mysql->net;
	int			ret = 0;
	int			status;
	size_t		rowlen = 0;
	bool		grown = false;
	const char *bad;

	/* wipe the row read last (see above) */
	if (conn->last_row)
		wipe_buffer(conn, conn->last_row, conn->last_row_len);
	conn->last_row = NULL;

	status = mysql_stmt_fetch_start(&ret, conn->stmt);
	while (status)
	{
		status = wait_for_mysql(conn, status);
		status = mysql_stmt_fetch_cont(&ret, conn->stmt, status);
	}
	if (ret == MYSQL_NO_DATA)
		return false;
	if (ret != 0)
		stmt_error(conn, ERRCODE_CONNECTION_FAILURE,
				   "could not fetch rows from MySQL server \"%s\"");
	if (net->read_pos < net->buff || net->read_pos >= net->buff_end)
		EtlPullBadReply(conn, "A row lies outside the client library's buffer.");
	if (net->buff != conn->net_buff || net->buff_end != conn->net_buff_end)
	{
		/*
		 * The library grew its buffer for this row: past the row lies what
		 * the allocator left, so the row is checked as well as it can be
		 * now, and the whole new buffer is wiped before the next one.
		 */
		conn->net_buff = net->buff;
		conn->net_buff_end = net->buff_end;
		grown = true;
	}
	bad = EtlPullDecodeBinaryRow(conn->bcols, (int) conn->nfields, net->read_pos,
								 net->buff_end, conn->bvalues, conn->blengths,
								 &rowlen);
	if (bad)
		EtlPullBadReply(conn, bad);
	conn->last_row = grown ? net->buff : net->read_pos;
	conn->last_row_len = grown ? (size_t) (net->buff_end - net->buff) : rowlen;
	*values = conn->bvalues;
	*lengths = conn->blengths;
	return true;
}

/*
 * End a binary-protocol result: read what is left of it (see
 * EtlPullQueryEnd) and close the statement.
 */
static void
binary_end(EtlPullConnection *conn)
{
	int			ret;
	my_bool		closed = 0;
	int			status;

	if (conn->last_row)
		wipe_buffer(conn, conn->last_row, conn->last_row_len);
	conn->last_row = NULL;
	do
	{
		ret = 0;
		status = mysql_stmt_fetch_start(&ret, conn->stmt);
		while (status)
		{
			status = wait_for_mysql(conn, status);
			status = mysql_stmt_fetch_cont(&ret, conn->stmt, status);
		}
	} while (ret == 0);
	if (conn->stmt_meta)
		mysql_free_result(conn->stmt_meta);
	conn->stmt_meta = NULL;
	status = mysql_stmt_close_start(&closed, conn->stmt);
	while (status)
	{
		status = wait_for_mysql(conn, status);
		status = mysql_stmt_close_cont(&closed, conn->stmt, status);
	}
	conn->stmt = NULL;
	MemoryContextDelete(conn->stmt_cxt);
	conn->stmt_cxt = NULL;
	conn->sql = NULL;
}

/*
 * Quote a string as a MySQL literal, escaping with the connection's
 * character set.  The result is palloc'd.
 */
char *
EtlPullQuoteLiteral(EtlPullConnection *conn, const char *value)
{
	size_t		len = strlen(value);
	char	   *buf;
	unsigned long n;

	check_open(conn);
	buf = palloc(len * 2 + 3);
	buf[0] = '\'';
	n = mysql_real_escape_string(conn->mysql, buf + 1, value, len);
	buf[n + 1] = '\'';
	buf[n + 2] = '\0';
	return buf;
}

/*
 * Quote an identifier for MySQL: backticks, with embedded ones doubled.
 */
char *
EtlPullQuoteIdent(const char *ident)
{
	StringInfoData buf;
	const char *p;

	initStringInfo(&buf);
	appendStringInfoChar(&buf, '`');
	for (p = ident; *p; p++)
	{
		if (*p == '`')
			appendStringInfoChar(&buf, '`');
		appendStringInfoChar(&buf, *p);
	}
	appendStringInfoChar(&buf, '`');
	return buf.data;
}
