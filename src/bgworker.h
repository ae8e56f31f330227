/*-------------------------------------------------------------------------
 *
 * bgworker.h
 *		  What etl_pull's background workers have in common: starting one,
 *		  its first steps, the queue that takes its errors to the backend
 *		  that started it, and the worker group, the leader's side of a
 *		  pool of them (bgworker.c).
 *
 * For the files that start workers: parallel.c, load_all.c, recorder.c.
 * Each lays out its segment with a shm_toc (one key per part, and a magic
 * number of its own that the worker checks), as PostgreSQL's parallel.c
 * does; a worker group adds its error queues under a key of its own.
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

/*
 * A worker group's error queues, one per worker, back to back: this key is
 * the group's in every segment that has one (the caller's keys are small)
 */
#define ETL_WORKER_KEY_ERROR_QUEUES UINT64CONST(0xFFFFFFFFFFFF0001)

typedef struct EtlPullWorkerGroup EtlPullWorkerGroup;

/*
 * What the backend does with an ERROR ('E') or a NOTICE or WARNING ('N')
 * that worker i of "group" sent, as the worker raised it: re-raise it, or
 * keep it.  An error's text is in group->errors[i] already.
 */
typedef void (*EtlPullWorkerRelay) (EtlPullWorkerGroup *group, int i,
									char type, ErrorData *edata);

/* A kind of worker that a backend starts as a group (one const per kind) */
typedef struct EtlPullWorkerKind
{
	const char *function;		/* the entry point, in this library */
	const char *type;			/* bgw_type: "etl_pull parallel worker" */
	const char *noun;			/* one in messages: "parallel worker" */
	EtlPullWorkerRelay relay;	/* NULL: errors are only kept */
} EtlPullWorkerKind;

/*
 * The leader's side of a group of workers on one segment.  It lives in
 * TopTransactionContext: the segment's detach callback, which terminates
 * the workers still running, reads it on every exit path.
 */
struct EtlPullWorkerGroup
{
	const EtlPullWorkerKind *kind;
	void	   *arg;			/* the caller's, for kind->relay */
	dsm_segment *seg;
	int			nworkers;		/* started: workers 0 .. nworkers - 1 */
	BackgroundWorkerHandle **handles;	/* NULL: seen gone, queue detached */
	shm_mq_handle **error_queues;
	char	  **errors;			/* each one's last ERROR (EtlPullErrorText) */
};

extern bool EtlPullStartWorker(const char *function, const char *type,
							   dsm_segment *seg, int slot,
							   BackgroundWorkerHandle **handle);
extern shm_toc *EtlPullWorkerAttach(Datum main_arg, uint64 magic,
								   dsm_segment **seg, int *slot);
extern void EtlPullCheckWorkerRole(Oid roleid, const char *what,
								   const char *hint);
extern void EtlPullWorkerConnect(Oid dboid, Oid roleid);
extern void EtlPullWorkerRedirectErrors(dsm_segment *seg, shm_toc *toc,
										int slot);
extern char *EtlPullErrorText(ErrorData *edata);

/* the leader's side of a group */
extern void EtlPullEstimateErrorQueues(shm_toc_estimator *e, int nworkers);
extern EtlPullWorkerGroup *EtlPullWorkerGroupStart(const EtlPullWorkerKind *kind,
												   dsm_segment *seg,
												   shm_toc *toc, int nworkers,
												   void *arg);
extern bool EtlPullWorkerStopped(EtlPullWorkerGroup *group, int i);
extern void EtlPullWorkerGroupRelay(EtlPullWorkerGroup *group, int i, bool wait);
extern void EtlPullWorkerGroupWait(EtlPullWorkerGroup *group,
								   const bool *flags, Size stride,
								   long timeout_ms, const char *exited,
								   const char *late);
extern void EtlPullWorkerGroupWake(EtlPullWorkerGroup *group);
extern void EtlPullWorkerGroupWaitExit(EtlPullWorkerGroup *group);
extern bool EtlPullWorkerGroupWaitUntil(EtlPullWorkerGroup *group,
										bool (*until) (void *arg));

/* a worker's segment, laid out by a shm_toc */
extern dsm_segment *EtlPullSegmentCreate(shm_toc_estimator *e, uint64 magic,
										 shm_toc **toc);
extern void EtlPullEstimateString(shm_toc_estimator *e, const char *s);
extern char *EtlPullInsertString(shm_toc *toc, uint64 key, const char *s);

#endif							/* ETL_PULL_BGWORKER_H */
