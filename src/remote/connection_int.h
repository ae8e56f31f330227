/*-------------------------------------------------------------------------
 *
 * connection_int.h
 *		  The remote folder's own view of a connection: struct
 *		  EtlPullConnection, and the functions its files share
 *		  (connection.c, lifetime.c, reply.c, snapshot.c, replication.c).  Only files in
 *		  src/remote/ include it; the other folders see the connection
 *		  through remote.h, as an opaque pointer.
 *
 * The client library's handles are named by their struct tags, so that
 * this header needs no mysql.h: connection.c stays the only file that
 * includes it, and the only one that calls the client library.
 *
 * IDENTIFICATION
 *		  src/remote/connection_int.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef ETL_PULL_CONNECTION_INT_H
#define ETL_PULL_CONNECTION_INT_H

#include "storage/latch.h"

#include "etl_pull.h"
#include "remote/binrow.h"

/* MYSQL, MYSQL_RES and MYSQL_STMT, as mysql.h declares them */
struct st_mysql;
struct st_mysql_res;
struct st_mysql_stmt;

struct EtlPullConnection
{
	struct st_mysql *mysql;
	struct st_mysql_res *result;	/* streamed result in progress, or NULL */
	struct st_mysql_stmt *stmt; /* or a binary-protocol result, or NULL */
	struct st_mysql_res *stmt_meta; /* its result metadata */
	EtlPullBinaryColumn *bcols; /* one per column */
	char	  **bvalues;		/* what EtlPullFetch returns for it */
	unsigned long *blengths;
	unsigned char *net_buff;	/* the client library's buffer, as last seen */
	unsigned char *net_buff_end;
	unsigned char *last_row;	/* bytes to wipe before the next row */
	size_t		last_row_len;
	MemoryContext stmt_cxt;		/* the above, until the result ends */
	WaitEventSet *wes;			/* latch + socket + postmaster death */
	int			sock_pos;		/* position of the socket in wes */
	uint32		sock_events;	/* events the socket is registered for */
	char	   *server_name;	/* PostgreSQL name of the foreign server */
	char	   *dbname;			/* default database, or NULL */
	const char *sql;			/* statement in flight, for errcontext */
	char	   *reply_sql;		/* or the one whose row is being checked
								 * (EtlPullQueryRow; TopMemoryContext) */
	int			nest_level;		/* transaction nest level that owns it */
	int			stmt_level;		/* and the one that owns its statement */
	unsigned int nfields;		/* columns of the result in progress */
	bool		kept;			/* outlives transactions: EtlPullKeepConnection */
	bool		in_flight;		/* EtlPullQuerySend: result not received yet */
	int			send_status;	/* its MYSQL_WAIT_* status, 0 when done */
	int			send_ret;		/* its return value, once done */
	/* to stop a statement still running when the connection is cut */
	EtlPullConnOptions *opts;	/* how it connected (TopMemoryContext) */
	bool		is_superuser;	/* whose user mapping it used */
	unsigned long thread_id;	/* MySQL's id of the session */
	struct EtlPullConnection *next;
};

/* in connection.c */
extern EtlPullConnection *EtlPullConnectTimed(ForeignServer *server, Oid userid,
											  unsigned int net_timeout);
extern void EtlPullRelayError(EtlPullConnection *conn, unsigned int err,
							  const char *error, int sqlerrcode,
							  const char *fmt) pg_attribute_noreturn();
extern bool EtlPullStatementOpen(EtlPullConnection *conn);
extern void EtlPullCloseMysql(EtlPullConnection *conn, bool cut);

/* in lifetime.c */
extern EtlPullConnection *EtlPullNewConnection(const char *server_name);
extern EtlPullConnOptions *EtlPullCopyConnOptions(const EtlPullConnOptions *opts);

/* in reply.c */
extern char **EtlPullReplyRow(EtlPullConnection *conn, bool optional);

#endif							/* ETL_PULL_CONNECTION_INT_H */
