/*-------------------------------------------------------------------------
 *
 * remote.h
 *		  What the remote folder offers the others: the connection to a
 *		  MySQL server and its queries (connection.c), its lifetime
 *		  (lifetime.c), checked one-row replies (reply.c), the snapshot
 *		  handshake's statements (snapshot.c), the source's description
 *		  (source.c), a table's MySQL settings on a connection
 *		  (session.c) and the binary log's transport (replication.c).
 *		  binrow.h and connection_int.h are the folder's own.
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
extern void EtlPullClientLibraryInit(void);
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
extern void EtlPullUnlockTables(EtlPullConnection *control);

/* in source.c */
extern void EtlPullSourceSizes(EtlPullConnection *conn, EtlPullTable **tables,
							   int ntables, int64 *sizes, char **engines);
extern EtlPullSource *EtlPullDescribeTableSource(EtlPullConnection *conn,
												 EtlPullTable *table);
extern EtlPullSource *EtlPullDescribeTableSourceSized(EtlPullConnection *conn,
													  EtlPullTable *table,
													  char **sizes);
extern EtlPullSource *EtlPullDescribeSource(EtlPullConnection *conn,
											const char *db, const char *table);
extern char *EtlPullSourceSelect(EtlPullSource *source, const char *where);
extern char *EtlPullSourceKeyExpr(EtlPullSourceColumn *col);
extern void EtlPullSourceRangeSelect(StringInfo buf, EtlPullSource *source,
									 EtlPullSourceColumn *key, const char *where,
									 const char *after, int64 limit);
extern bool EtlPullSourceLocksOnRead(EtlPullSource *source);
extern bool EtlPullEngineLocksOnRead(const char *engine);
extern EtlPullSourceColumn *EtlPullSourceChunkKey(EtlPullSource *source,
												  const char **why);
extern bool EtlPullSourceStamp(EtlPullConnection *conn, EtlPullSource *source,
							   EtlPullStamp *stamp);
extern bool EtlPullParseStamp(EtlPullConnection *conn, const char *updated,
							  const char *now, EtlPullStamp *stamp);
extern bool EtlPullSourceUnchanged(const EtlPullStamp *before,
								   const EtlPullStamp *after);
extern bool EtlPullStampSettled(const EtlPullStamp *st);
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

/*
 * in replication.c: a connection that reads the binary log as a replica
 * would (COM_BINLOG_DUMP), for the stream and the DBA's diagnostic.
 *
 * EtlPullReplicationOpen connects to "server" with the user mapping of
 * "userid" (the same connect path, TLS settings and restrictions as a
 * load's EtlPullConnect), sets the session up (binlog checksum, MariaDB's
 * GTID capability, a heartbeat every "heartbeat_ms", and, when "gtid" is
 * not NULL, @slave_connect_state) and asks for the log from "file" at
 * "offset" (or from "gtid": then "file" may be NULL) as replica
 * "server_id".  The result lives in CurrentMemoryContext and outlives
 * transactions (the connection is kept); EtlPullReplicationClose ends it.
 *
 * EtlPullReplicationNext waits for the next packet (CHECK_FOR_INTERRUPTS
 * before and after): the server sends a heartbeat after heartbeat_ms
 * without events, so the wait is that long at most while the source is
 * idle, and a server silent for three heartbeats (2 s at least) is an
 * ERROR.  It returns false for a heartbeat, so the caller can look at its
 * latch and stop; true with the event's raw bytes (common header first, the
 * checksum still at its end; valid until the next call), the binary log
 * file it is in and the offset of the event that follows it, counted
 * here from the event's length (MariaDB 11.4+ writes end_log_pos 0 inside
 * a group; a ROTATE switches to its file and offset).  *file points into
 * the EtlPullReplication: copy it to keep it.  Errors are 08xxx ERRORs
 * with MySQL's text in the detail; a position the server no longer has
 * (purged logs, an unknown GTID: MySQL error 1236) is an ERROR with
 * SQLSTATE ERRCODE_ETL_PULL_BINLOG_GONE, which a caller can catch and
 * answer with a new snapshot.  After any ERROR from EtlPullReplicationNext
 * the dump is unusable (a later call is an ERROR): close it and open
 * another.
 */
#define ERRCODE_ETL_PULL_BINLOG_GONE	MAKE_SQLSTATE('5','5','P','B','1')

typedef struct EtlPullReplication EtlPullReplication;

extern EtlPullReplication *EtlPullReplicationOpen(ForeignServer *server,
												  Oid userid, uint32 server_id,
												  const char *file,
												  uint64 offset,
												  const char *gtid,
												  int heartbeat_ms);
extern bool EtlPullReplicationNext(EtlPullReplication *r,
								   const unsigned char **event, size_t *len,
								   const char **file, uint64 *next_offset);
extern void EtlPullReplicationClose(EtlPullReplication *r);

/*
 * The source's binary log as SHOW MASTER STATUS and @@gtid_binlog_pos say
 * (on an open query connection; snapshot.c): false when the binary log is
 * off.  EtlPullBinlogFileExists (replication.c) says whether SHOW BINARY
 * LOGS still lists "file" (false: purged).
 */
typedef struct EtlPullBinlogStatus
{
	char	   *file;			/* current file */
	uint64		offset;			/* its end */
	char	   *gtid;			/* @@gtid_binlog_pos ("" for none), or NULL
								 * (MySQL) */
} EtlPullBinlogStatus;

extern bool EtlPullBinlogCurrent(EtlPullConnection *conn,
								 EtlPullBinlogStatus *status);
extern bool EtlPullBinlogFileExists(EtlPullConnection *conn, const char *file);

#endif							/* ETL_PULL_REMOTE_H */
