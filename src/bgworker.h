/*-------------------------------------------------------------------------
 *
 * bgworker.h
 *		  What etl_pull's background workers have in common: starting one,
 *		  its first steps, and the queue that takes its errors to the
 *		  backend that started it (bgworker.c).
 *
 * For the files that start workers: parallel.c, load_all.c, recorder.c.
 * Each lays out its segment with a shm_toc (one key per part, and a magic
 * number of its own that the worker checks), as PostgreSQL's parallel.c
 * does.
 *
 * IDENTIFICATION
 *		  src/bgworker.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef ETL_PULL_BGWORKER_H
#define ETL_PULL_BGWORKER_H

#include "postmaster/bgworker.h"
#include "storage/dsm.h"
#include "storage/shm_mq.h"
#include "storage/shm_toc.h"

/* a worker's queue for its errors and notices, to its backend */
#define ETL_WORKER_ERROR_QUEUE_SIZE 16384

extern bool EtlPullStartWorker(const char *function, const char *type,
							   dsm_segment *seg, int slot,
							   BackgroundWorkerHandle **handle);
extern shm_toc *EtlPullWorkerAttach(Datum main_arg, uint64 magic,
								   dsm_segment **seg, int *slot);
extern void EtlPullWorkerConnect(Oid dboid, Oid roleid);
extern void EtlPullWorkerRedirectErrors(dsm_segment *seg, shm_mq *mq);
extern char EtlPullWorkerMessage(void *data, Size nbytes, ErrorData *edata);

/* a worker's segment, laid out by a shm_toc */
extern dsm_segment *EtlPullSegmentCreate(shm_toc_estimator *e, uint64 magic,
										 shm_toc **toc);
extern void EtlPullEstimateString(shm_toc_estimator *e, const char *s);
extern char *EtlPullInsertString(shm_toc *toc, uint64 key, const char *s);

#endif							/* ETL_PULL_BGWORKER_H */
