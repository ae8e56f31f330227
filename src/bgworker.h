/*-------------------------------------------------------------------------
 *
 * bgworker.h
 *		  What etl_pull's background workers have in common: starting one,
 *		  its first steps, and the queue that takes its errors to the
 *		  backend that started it (bgworker.c).
 *
 * For the files that start workers: parallel.c, load_all.c, recorder.c.
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

/* a worker's queue for its errors and notices, to its backend */
#define ETL_WORKER_ERROR_QUEUE_SIZE 16384

extern bool EtlPullStartWorker(const char *function, const char *type,
							   dsm_segment *seg, int slot,
							   BackgroundWorkerHandle **handle);
extern dsm_segment *EtlPullWorkerAttach(Datum main_arg, int *slot);
extern void EtlPullWorkerConnect(Oid dboid, Oid roleid);
extern void EtlPullWorkerRedirectErrors(dsm_segment *seg, shm_mq *mq);
extern char EtlPullWorkerMessage(void *data, Size nbytes, ErrorData *edata);

#endif							/* ETL_PULL_BGWORKER_H */
