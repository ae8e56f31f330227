/*-------------------------------------------------------------------------
 *
 * parallel.h
 *		  The parallel strategy's readers (parallel.c): the leader's side,
 *		  for the strategy that writes what they read, and their worker's
 *		  entry point; and the snapshot handshake of a worker group, which
 *		  load_all's consistent groups use too.
 *
 * IDENTIFICATION
 *		  src/load/parallel.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef ETL_PULL_PARALLEL_H
#define ETL_PULL_PARALLEL_H

#include "datatype/timestamp.h"

#include "etl_pull.h"
#include "bgworker.h"

/* the key is cut into this many chunks per worker (etl_pull.plan shows them) */
#define ETL_PULL_CHUNKS_PER_WORKER	4

/* the most workers a group snapshot has room for */
#define ETL_PULL_MAX_GROUP_WORKERS	64
#define ETL_PULL_POSITION_LEN		512

/* One worker's side of a group snapshot, set by the worker */
typedef struct EtlPullSnapshotWorker
{
	bool		connected;		/* its MySQL connection is open */
	bool		snapshot_taken; /* and reads the group's snapshot */
} EtlPullSnapshotWorker;

/*
 * A group snapshot's state, in the group's segment (EtlPullSnapshotInit):
 * the leader sets go, locked, ready and position, each worker its flags
 */
typedef struct EtlPullSnapshotState
{
	struct PGPROC *leader;
	bool		go;				/* the leader holds the lock (or gave up) */
	bool		locked;			/* the lock was taken: take the snapshot */
	bool		ready;			/* the position is known: read */
	bool		held;			/* the hold_tables are held (EtlPullHandshake) */
	TimestampTz held_since;
	char		position[ETL_PULL_POSITION_LEN];	/* "" if unknown */
	EtlPullSnapshotWorker workers[ETL_PULL_MAX_GROUP_WORKERS];
} EtlPullSnapshotState;

/* A leader's handshake, as its caller describes it (EtlPullGroupSnapshot) */
typedef struct EtlPullHandshake
{
	EtlPullConnection *control; /* the leader's own connection */
	const char *tables;			/* FLUSH TABLES <tables> ...; NULL: all */
	bool		held;			/* the tables are held already (setting
								 * source_lock): no lock is taken */
	EtlPullConnection *hold;	/* or NULL: a connection of its own that */
	const char *hold_tables;	/* holds these (quoted) tables, from just
								 * before the lock until the caller releases
								 * them (setting source_lock, held.c) */
	char	   *hold_error;		/* out: if they could not be held, why */
	const char *exited;			/* "<noun> %d exited before <exited>" */
	const char *late;			/* "<noun>s did not <late> in time" */
	bool		locked;			/* out: the lock was had */
	char	   *lock_error;		/* out: if not, MySQL's words */
} EtlPullHandshake;

typedef struct EtlPullParallel EtlPullParallel;

extern EtlPullParallel *EtlPullParallelBegin(EtlPullConnection *control,
											 Oid roleid,
											 EtlPullTable *table,
											 EtlPullSource *source,
											 Relation target,
											 AttrNumber *attnums, bool tuples,
											 int nworkers, bool held,
											 char **position);
extern bool EtlPullParallelNext(EtlPullParallel *par, char ***values,
								unsigned long **lengths,
								unsigned long *lengths_buf);
extern bool EtlPullParallelNextTuple(EtlPullParallel *par, MinimalTuple *tuple);
extern void EtlPullParallelEnd(EtlPullParallel *par, int64 rows_written);
extern bool EtlPullIntegerKeyRange(EtlPullConnection *conn, const char *qtable,
								   EtlPullSourceColumn *col, uint64 *min,
								   uint64 *max);
extern char *EtlPullIntegerKeyText(EtlPullSourceColumn *col, uint64 u);

/* the snapshot handshake of a worker group */
extern void EtlPullSnapshotInit(EtlPullSnapshotState *state);
extern char *EtlPullGroupSnapshot(EtlPullWorkerGroup *group,
								  EtlPullSnapshotState *state,
								  EtlPullHandshake *hs);
extern bool EtlPullJoinGroupSnapshot(EtlPullSnapshotState *state, int slot,
									 EtlPullConnection *conn, bool always);

/* the reader workers' entry point, started by name */
extern PGDLLEXPORT void etl_pull_parallel_worker_main(Datum main_arg);

#endif							/* ETL_PULL_PARALLEL_H */
