/*-------------------------------------------------------------------------
 *
 * remote.h
 *		  What the remote folder offers the others: the connection to a
 *		  MySQL server and its queries (connection.c), its lifetime
 *		  (lifetime.c), checked one-row replies (reply.c), the snapshot
 *		  handshake's statements (snapshot.c), the source's description
 *		  (source.c) and a table's MySQL settings on a connection
 *		  (session.c).  binrow.h and connection_int.h are the folder's own.
 *
 * IDENTIFICATION
 *		  src/remote/remote.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef ETL_PULL_REMOTE_H
#define ETL_PULL_REMOTE_H

#include "datatype/timestamp.h"
#include "lib/stringinfo.h"

#include "catalog/etl_catalog.h"

/*
 * A MySQL table's UPDATE_TIME and the server's clock when it was read, in
 * whole seconds (EtlPullSourceStamp); "known" is false when the server
 * keeps none for the table
 */
typedef struct EtlPullStamp
{
	bool		known;
	int64		updated;
	int64		now;
} EtlPullStamp;

/* in connection.c */
extern EtlPullConnection *EtlPullConnect(ForeignServer *server, Oid userid);
extern void EtlPullExec(EtlPullConnection *conn, const char *sql);
extern char *EtlPullSessionDefaults(void);
extern char *EtlPullQuoteLiteral(EtlPullConnection *conn, const char *value);
extern char *EtlPullQuoteIdent(const char *ident);
extern void EtlPullQueryStart(EtlPullConnection *conn, const char *sql,
							  int nfields);
extern void EtlPullQueryStartProtocol(EtlPullConnection *conn, const char *sql,
									  int nfields, bool binary);
extern bool *EtlPullQueryNativeColumns(EtlPullConnection *conn,
									   const bool *wanted);
extern bool EtlPullTryQueryStart(EtlPullConnection *conn, const char *sql,
								 int nfields, char **error);
extern bool EtlPullTryExec(EtlPullConnection *conn, const char *sql, char **error);
extern int	EtlPullQueryFieldCount(EtlPullConnection *conn);
extern void EtlPullQuerySend(EtlPullConnection *conn, const char *sql);
extern void EtlPullQueryReceive(EtlPullConnection *conn, int nfields);
extern bool EtlPullFetch(EtlPullConnection *conn, char ***values,
						 unsigned long **lengths);
extern void EtlPullQueryEnd(EtlPullConnection *conn);
extern const char *EtlPullServerName(EtlPullConnection *conn);
extern void EtlPullBadReply(EtlPullConnection *conn, const char *detail) pg_attribute_noreturn();
extern const char *EtlPullDefaultDb(EtlPullConnection *conn);
extern bool EtlPullIsMariaDB(EtlPullConnection *conn);
extern unsigned long EtlPullServerVersion(EtlPullConnection *conn);

/* in chunks.c */
extern void EtlPullRangeQueryStart(EtlPullConnection *conn, EtlPullSource *source,
								   EtlPullSourceColumn *key, const char *where,
								   bool binary);
extern void EtlPullNoteOneStatement(EtlPullConnection *conn);
extern int	EtlPullLastReadStatements(EtlPullConnection *conn, double *longest_ms);
extern int64 EtlPullNextStatementSize(int64 size, double ms, int64 min,
									  int64 max);
extern double EtlPullMsSince(TimestampTz started);

/* in lifetime.c */
extern void EtlPullDisconnect(EtlPullConnection *conn);
extern void EtlPullKeepConnection(EtlPullConnection *conn);
extern bool EtlPullConnectionLost(EtlPullConnection *conn);

/* in reply.c */
extern char **EtlPullQueryRow(EtlPullConnection *conn, const char *sql,
							  int nfields, bool optional);
extern int64 EtlPullReplyInt64(EtlPullConnection *conn, const char *s,
							   const char *what);
extern uint64 EtlPullReplyUint64(EtlPullConnection *conn, const char *s,
								 const char *what);

/* in snapshot.c */
extern void EtlPullStartSnapshot(EtlPullConnection *conn);
extern bool EtlPullLockForSnapshot(EtlPullConnection *control, const char *tables,
								   char **error);
extern char *EtlPullSnapshotPosition(EtlPullConnection *control, char **error);

/* in source.c */
extern EtlPullSource *EtlPullDescribeTableSource(EtlPullConnection *conn,
												 EtlPullTable *table);
extern EtlPullSource *EtlPullDescribeSource(EtlPullConnection *conn,
											const char *db, const char *table);
extern char *EtlPullSourceSelect(EtlPullSource *source, const char *where);
extern char *EtlPullSourceKeyExpr(EtlPullSourceColumn *col);
extern void EtlPullSourceRangeSelect(StringInfo buf, EtlPullSource *source,
									 EtlPullSourceColumn *key, const char *where,
									 const char *after, int64 limit);
extern bool EtlPullSourceLocksOnRead(EtlPullSource *source);
extern EtlPullSourceColumn *EtlPullSourceChunkKey(EtlPullSource *source,
												  const char **why);
extern bool EtlPullSourceStamp(EtlPullConnection *conn, EtlPullSource *source,
							   EtlPullStamp *stamp);
extern bool EtlPullSourceUnchanged(const EtlPullStamp *before,
								   const EtlPullStamp *after);
extern void EtlPullSourceQueryStart(EtlPullConnection *conn, EtlPullTable *table,
									EtlPullSource *source, const char *where,
									bool by_key);
extern char *EtlPullTargetTypeName(EtlPullSourceColumn *col);
extern List *EtlPullSourceKey(EtlPullSource *source);
extern EtlPullSourceColumn *EtlPullIntegerKey(EtlPullSource *source);
extern List *EtlPullDescribeIndexes(EtlPullConnection *conn,
									EtlPullSource *source);
extern void EtlPullCheckTypeOverride(EtlPullSource *source,
									 EtlPullSourceColumn *col,
									 const char *type_name);

/* in session.c */
extern void EtlPullApplyMysqlSettings(EtlPullConnection *conn, EtlPullTable *table);
extern void EtlPullResetMysqlSettings(EtlPullConnection *conn, const char *list);

#endif							/* ETL_PULL_REMOTE_H */
