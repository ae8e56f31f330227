/*-------------------------------------------------------------------------
 *
 * stream.h
 *		  What the stream folder offers the others: following a source's
 *		  binary log into the targets of a load group's binlog tables.
 *
 * The folder sits above load/ (a snapshot is a load, a streamed row goes
 * through load/convert.c's converters and load/merge.c's merge) and below
 * commands/.  Its parts: the server's prerequisites (prereq.c), the
 * stream's SQL functions, state row and launcher (control.c), the worker
 * (worker.c), a table's snapshot and the snapshot worker that takes a
 * re-snapshot beside the stream (snapshot.c), the apply of row events
 * (apply.c), and the parsing of events and row images (event.c,
 * rowimage.c; their own header event.h).
 *
 * IDENTIFICATION
 *		  src/stream/stream.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef ETL_PULL_STREAM_H
#define ETL_PULL_STREAM_H

#include "fmgr.h"

#include "load/load.h"

/* One requirement of the server (prereq.c) */
typedef struct EtlPullBinlogCheck
{
	const char *item;			/* log_bin, binlog_format, ... */
	bool		ok;
	char	   *detail;			/* what it is, or what to ask for */
} EtlPullBinlogCheck;

/* in prereq.c */
extern List *EtlPullBinlogPrerequisites(EtlPullConnection *conn);
extern void EtlPullCheckBinlogPrerequisites(EtlPullConnection *conn,
											const char *group);

/* in control.c: the stream's row of etl_pull.stream_state */
extern bool EtlPullStreamWorkerStart(Oid dboid, Oid roleid, const char *group,
									 pid_t *pid);
extern void EtlPullStreamLauncherRegister(void);
extern int32 EtlPullStreamLockKey(const char *group);
extern void EtlPullStreamWorkerArgs(Datum main_arg, Oid *dboid, Oid *roleid,
									char **group, TransactionId *xid);
extern bool EtlPullStreamTryLock(const char *group);
extern const char *EtlPullStreamUnsuitable(EtlPullTable *table,
										   EtlPullSource *source);

/* in apply.c */
typedef struct EtlPullApply EtlPullApply;
typedef struct EtlPullStreamTable EtlPullStreamTable;
struct EtlPullEvent;
struct EtlPullTableMap;

extern EtlPullApply *EtlPullApplyCreate(List *tables, EtlPullConnection *conn);
extern EtlPullStreamTable *EtlPullApplyFind(EtlPullApply *a, const char *db,
											const char *table);
extern const char *EtlPullApplyTableName(EtlPullStreamTable *st);
extern const EtlPullSource *EtlPullApplySource(EtlPullStreamTable *st);
extern EtlPullStreamTable *EtlPullApplyFindName(EtlPullApply *a, const char *name);
extern bool EtlPullApplyMapMatches(EtlPullStreamTable *st,
								   const struct EtlPullTableMap *map);
extern void EtlPullApplySkipAll(EtlPullStreamTable *st);
extern void EtlPullApplySkipUntil(EtlPullApply *a, EtlPullStreamTable *st,
								  const char *file, uint64 offset);
extern bool EtlPullApplySkips(EtlPullStreamTable *st, const char *file,
							  uint64 next);
extern int64 EtlPullApplyRows(EtlPullApply *a, EtlPullStreamTable *st,
							  const struct EtlPullEvent *ev,
							  const struct EtlPullTableMap *map);
extern void EtlPullApplyTruncate(EtlPullApply *a, EtlPullStreamTable *st);
extern void EtlPullApplyClose(EtlPullApply *a);
extern void EtlPullApplyForget(EtlPullApply *a);

/* in snapshot.c */
typedef struct EtlPullCopyWorker EtlPullCopyWorker;

extern void EtlPullStreamSnapshot(ForeignServer *server, Oid roleid,
								  const char *group, const char *name,
								  const char *why, bool *in_load);
extern EtlPullCopyWorker *EtlPullSnapshotStart(const char *group,
												   const char *table,
												   Oid roleid);
extern bool EtlPullSnapshotStopped(EtlPullCopyWorker *w);
extern const char *EtlPullSnapshotError(EtlPullCopyWorker *w,
										bool *recorded);
extern void EtlPullSnapshotTerminate(EtlPullCopyWorker *w);
extern void EtlPullSnapshotEnd(EtlPullCopyWorker *w);

/* the worker entry points, started by name */
extern PGDLLEXPORT void etl_pull_stream_worker_main(Datum main_arg);
extern PGDLLEXPORT void etl_pull_stream_launcher_main(Datum main_arg);
extern PGDLLEXPORT void etl_pull_stream_starter_main(Datum main_arg);
extern PGDLLEXPORT void etl_pull_stream_snapshot_main(Datum main_arg);

#endif							/* ETL_PULL_STREAM_H */
