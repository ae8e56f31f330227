/*-------------------------------------------------------------------------
 *
 * lifetime.c
 *		  Which (sub)transaction owns a connection to MySQL and its
 *		  statement, and what an abort does to them: the list of open
 *		  connections, the transaction callbacks, keeping and closing.
 *
 * The MYSQL handles are malloc'd by the client library.  Each open
 * connection is on a list that transaction and subtransaction callbacks
 * walk on abort, so no error path leaks a handle or leaves a socket open.
 * A connection belongs to the (sub)transaction that opened it, and its
 * statement in progress to the one that started it (a subtransaction that
 * commits hands both to its parent).  When a subtransaction aborts, the
 * connections it owns are closed, and a statement it owns is cut off: the
 * MySQL side is closed, and the connection then raises an ERROR whenever
 * it is used (EtlPullConnectionLost says so), until its owner calls
 * EtlPullDisconnect.  The subtransactions a load aborts under its own
 * statement (a rejected row, a trigger's exception block, a nested load)
 * touch neither.  A kept connection (EtlPullKeepConnection: load_all's
 * workers keep one across the tables they load) outlives its transaction:
 * the callbacks leave it open when it is idle, cut it off when an error
 * left its statement running, and only EtlPullDisconnect frees it.
 *
 * Closing the MySQL side, within a deadline whatever the server does, is
 * connection.c's (EtlPullCloseMysql); this file never calls the client
 * library.
 *
 * IDENTIFICATION
 *		  src/remote/lifetime.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "utils/memutils.h"

#include "etl_pull.h"
#include "remote/connection_int.h"
#include "remote/remote.h"

/* Open connections, in TopMemoryContext */
static EtlPullConnection *open_connections = NULL;
static bool callbacks_registered = false;

/* Take a connection out of the list of open ones */
static void
unlink_connection(EtlPullConnection *conn)
{
	EtlPullConnection **p;

	for (p = &open_connections; *p != NULL; p = &(*p)->next)
	{
		if (*p == conn)
		{
			*p = conn->next;
			break;
		}
	}
	conn->next = NULL;
}

/*
 * A copy of "opts" in TopMemoryContext, for connection.c's kill_statement;
 * closing the connection frees it (free_conn_options)
 */
EtlPullConnOptions *
EtlPullCopyConnOptions(const EtlPullConnOptions *opts)
{
	EtlPullConnOptions *c = MemoryContextAlloc(TopMemoryContext, sizeof(EtlPullConnOptions));

#define COPY_STR(f) (c->f = opts->f ? MemoryContextStrdup(TopMemoryContext, opts->f) : NULL)
	*c = *opts;
	COPY_STR(host);
	COPY_STR(socket);
	COPY_STR(dbname);
	COPY_STR(ssl_mode);
	COPY_STR(ssl_ca);
	COPY_STR(ssl_cert);
	COPY_STR(ssl_key);
	COPY_STR(tls_version);
	COPY_STR(user);
	COPY_STR(password);
#undef COPY_STR
	return c;
}

/* Free a copy that EtlPullCopyConnOptions made, the password wiped first */
static void
free_conn_options(EtlPullConnOptions *c)
{
	if (c->password)
		explicit_bzero((char *) c->password, strlen(c->password));
#define FREE_STR(f) do { if (c->f) pfree((char *) c->f); } while (0)
	FREE_STR(host);
	FREE_STR(socket);
	FREE_STR(dbname);
	FREE_STR(ssl_mode);
	FREE_STR(ssl_ca);
	FREE_STR(ssl_cert);
	FREE_STR(ssl_key);
	FREE_STR(tls_version);
	FREE_STR(user);
	FREE_STR(password);
#undef FREE_STR
	pfree(c);
}

/*
 * Unlink and close one connection.  With abort, a result still streaming is
 * cut off by shutting the socket down first.
 */
static void
close_connection(EtlPullConnection *conn, bool abort)
{
	unlink_connection(conn);
	EtlPullCloseMysql(conn, abort);
	if (conn->opts)
		free_conn_options(conn->opts);
	if (conn->server_name)
		pfree(conn->server_name);
	if (conn->dbname)
		pfree(conn->dbname);
	if (conn->reply_sql)
		pfree(conn->reply_sql);
	pfree(conn);
}

/*
 * A statement whose (sub)transaction aborted, on a connection that outlives
 * it (a kept one, or one of the parent's): close the MySQL side at once, as
 * for any other connection, but leave the struct to its owner, who sees
 * EtlPullConnectionLost (any other use is an ERROR, see connection.c's
 * check_open) and calls EtlPullDisconnect.  A connection that is not kept
 * stays on the list, so that the abort of its own (sub)transaction still
 * frees it.
 */
static void
cut_off(EtlPullConnection *conn)
{
	EtlPullCloseMysql(conn, true);
	conn->sql = NULL;
}

/*
 * Transaction callbacks: whatever is still open when a transaction ends was
 * left by an error; close it without waiting for MySQL.
 */
static void
etl_pull_xact_callback(XactEvent event, void *arg)
{
	EtlPullConnection *conn;

	if (event != XACT_EVENT_ABORT && event != XACT_EVENT_PARALLEL_ABORT &&
		event != XACT_EVENT_COMMIT && event != XACT_EVENT_PARALLEL_COMMIT)
		return;
	conn = open_connections;
	while (conn != NULL)
	{
		EtlPullConnection *next = conn->next;

		if (!conn->kept)
			close_connection(conn, true);
		else if (EtlPullStatementOpen(conn))
			cut_off(conn);
		conn = next;
	}
}

/*
 * Subtransaction callbacks (see the file's header): a subtransaction that
 * commits hands its connections and statements to its parent; one that
 * aborts closes the connections it opened and cuts off the statements it
 * started, and leaves alone those of its parents, which go on reading.
 */
static void
etl_pull_subxact_callback(SubXactEvent event, SubTransactionId mySubid,
						  SubTransactionId parentSubid, void *arg)
{
	EtlPullConnection *conn;
	int			level;

	if (event != SUBXACT_EVENT_ABORT_SUB && event != SUBXACT_EVENT_COMMIT_SUB)
		return;
	level = GetCurrentTransactionNestLevel();
	conn = open_connections;
	while (conn != NULL)
	{
		EtlPullConnection *next = conn->next;

		if (event == SUBXACT_EVENT_COMMIT_SUB)
		{
			conn->nest_level = Min(conn->nest_level, level - 1);
			conn->stmt_level = Min(conn->stmt_level, level - 1);
		}
		else if (!conn->kept && conn->nest_level >= level)
			close_connection(conn, true);
		else if (EtlPullStatementOpen(conn) && conn->stmt_level >= level)
			cut_off(conn);
		conn = next;
	}
}

/*
 * A new connection to the foreign server "server_name", not connected yet:
 * zeroed, in TopMemoryContext, owned by the current (sub)transaction and on
 * the list of open ones, so that an error from here on frees it.  The first
 * one registers the transaction callbacks.
 */
EtlPullConnection *
EtlPullNewConnection(const char *server_name)
{
	EtlPullConnection *conn;
	MemoryContext oldcxt;

	if (!callbacks_registered)
	{
		RegisterXactCallback(etl_pull_xact_callback, NULL);
		RegisterSubXactCallback(etl_pull_subxact_callback, NULL);
		callbacks_registered = true;
	}

	oldcxt = MemoryContextSwitchTo(TopMemoryContext);
	conn = palloc0(sizeof(EtlPullConnection));
	conn->server_name = pstrdup(server_name);
	conn->nest_level = GetCurrentTransactionNestLevel();
	conn->next = open_connections;
	open_connections = conn;
	MemoryContextSwitchTo(oldcxt);
	return conn;
}

/*
 * Keep a connection across transactions (see the file's header): its
 * owner closes it with EtlPullDisconnect.
 */
void
EtlPullKeepConnection(EtlPullConnection *conn)
{
	conn->kept = true;
}

/* Whether an error has cut a kept connection off (it is then unusable) */
bool
EtlPullConnectionLost(EtlPullConnection *conn)
{
	return conn->mysql == NULL;
}

/*
 * Close a connection normally (COM_QUIT).  A result still open is cut off.
 */
void
EtlPullDisconnect(EtlPullConnection *conn)
{
	close_connection(conn, false);
}

