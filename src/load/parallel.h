/*-------------------------------------------------------------------------
 *
 * parallel.h
 *		  The parallel strategy's readers (parallel.c): the leader's side,
 *		  for the strategy that writes what they read, and their worker's
 *		  entry point.
 *
 * IDENTIFICATION
 *		  src/load/parallel.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef ETL_PULL_PARALLEL_H
#define ETL_PULL_PARALLEL_H

#include "etl_pull.h"

/* the key is cut into this many chunks per worker (etl_pull.plan shows them) */
#define ETL_PULL_CHUNKS_PER_WORKER	4

typedef struct EtlPullParallel EtlPullParallel;

extern EtlPullParallel *EtlPullParallelBegin(EtlPullConnection *control,
											 Oid roleid,
											 EtlPullTable *table,
											 EtlPullSource *source,
											 Relation target,
											 AttrNumber *attnums, bool tuples,
											 int nworkers, char **position);
extern bool EtlPullParallelNext(EtlPullParallel *par, char ***values,
								unsigned long **lengths,
								unsigned long *lengths_buf);
extern bool EtlPullParallelNextTuple(EtlPullParallel *par, MinimalTuple *tuple);
extern void EtlPullParallelEnd(EtlPullParallel *par, int64 rows_written);
extern bool EtlPullIntegerKeyRange(EtlPullConnection *conn, const char *qtable,
								   EtlPullSourceColumn *col, uint64 *min,
								   uint64 *max);
extern char *EtlPullIntegerKeyText(EtlPullSourceColumn *col, uint64 u);

/* the reader workers' entry point, started by name */
extern PGDLLEXPORT void etl_pull_parallel_worker_main(Datum main_arg);

#endif							/* ETL_PULL_PARALLEL_H */
