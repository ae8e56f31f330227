/*-------------------------------------------------------------------------
 *
 * bgworker.c
 *		  Starting etl_pull's dynamic background workers.
 *
 * Every etl_pull worker is the same kind of process: a dynamic worker of
 * this library, never restarted, connected to a database with a pinned
 * search_path, handed a DSM segment (as its main argument) and a slot
 * number (in bgw_extra), and reporting its exit to the backend that
 * started it.  The segment is laid out by a shm_toc whose magic number
 * says which kind of worker it is for, so a worker finds each part by its
 * key, never at an offset computed by hand.  Workers do not flatten their errors into strings: those
 * that report to a backend redirect their protocol output to a shm_mq
 * (pq_redirect_to_shm_mq), and the backend re-raises what arrives.
 *
 * IDENTIFICATION
 *		  src/bgworker.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "libpq/pqformat.h"
#include "libpq/pqmq.h"
#include "miscadmin.h"
#include "postmaster/bgworker.h"
#include "storage/dsm.h"
#include "storage/proc.h"
#include "storage/shm_mq.h"
#include "storage/shm_toc.h"
#include "tcop/tcopprot.h"
#include "utils/guc.h"

#include "etl_pull.h"
#include "bgworker.h"

/*
 * Register a worker running "function" of this library on segment "seg"
 * with slot "slot".  Returns false when no worker slot is free.
 */
bool
EtlPullStartWorker(const char *function, const char *type, dsm_segment *seg,
				   int slot, BackgroundWorkerHandle **handle)
{
	BackgroundWorker worker;

	memset(&worker, 0, sizeof(worker));
	worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
	worker.bgw_restart_time = BGW_NEVER_RESTART;
	snprintf(worker.bgw_library_name, BGW_MAXLEN, "etl_pull");
	snprintf(worker.bgw_function_name, BGW_MAXLEN, "%s", function);
	snprintf(worker.bgw_name, BGW_MAXLEN, "%s %d", type, slot + 1);
	snprintf(worker.bgw_type, BGW_MAXLEN, "%s", type);
	worker.bgw_main_arg = UInt32GetDatum(dsm_segment_handle(seg));
	memcpy(worker.bgw_extra, &slot, sizeof(int));
	worker.bgw_notify_pid = MyProcPid;
	return RegisterDynamicBackgroundWorker(&worker, handle);
}

/*
 * The first steps of every etl_pull worker: die on SIGTERM, take signals,
 * map the segment the starting backend handed over, and find its table of
 * contents, which must carry "magic".  Returns the table of contents; *seg
 * is the segment (the worker detaches it when done), *slot the slot number
 * the worker was started with.
 */
shm_toc *
EtlPullWorkerAttach(Datum main_arg, uint64 magic, dsm_segment **seg, int *slot)
{
	shm_toc    *toc;

	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();
	*seg = dsm_attach(DatumGetUInt32(main_arg));
	if (*seg == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("could not map the shared memory of etl_pull's background worker")));
	toc = shm_toc_attach(magic, dsm_segment_address(*seg));
	if (toc == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("invalid magic number in dynamic shared memory segment")));
	memcpy(slot, MyBgworkerEntry->bgw_extra, sizeof(int));
	return toc;
}

/*
 * Connect a worker to database "dboid" as role "roleid", and pin its
 * search_path to pg_catalog, pg_temp: ALTER DATABASE/ROLE ... SET
 * search_path applies to background workers too, and nothing a worker
 * runs may resolve a name through a path someone else controls.
 */
void
EtlPullWorkerConnect(Oid dboid, Oid roleid)
{
	BackgroundWorkerInitializeConnectionByOid(dboid, roleid, 0);
	SetConfigOption("search_path", "pg_catalog, pg_temp", PGC_SUSET, PGC_S_OVERRIDE);
}

/*
 * Create a segment of the size "e" estimated (every chunk and key the
 * caller will insert), with a table of contents marked "magic".  Returns
 * the segment; *toc is its table of contents.
 */
dsm_segment *
EtlPullSegmentCreate(shm_toc_estimator *e, uint64 magic, shm_toc **toc)
{
	Size		size = shm_toc_estimate(e);
	dsm_segment *seg = dsm_create(size, 0);

	*toc = shm_toc_create(magic, dsm_segment_address(seg), size);
	return seg;
}

/* Count string "s" (NULL: nothing) in the estimate of a segment */
void
EtlPullEstimateString(shm_toc_estimator *e, const char *s)
{
	if (s == NULL)
		return;
	shm_toc_estimate_chunk(e, strlen(s) + 1);
	shm_toc_estimate_keys(e, 1);
}

/*
 * Copy string "s" into the segment under "key", and return the copy.  A
 * NULL string gets no key: the worker's shm_toc_lookup with noError finds
 * NULL.
 */
char *
EtlPullInsertString(shm_toc *toc, uint64 key, const char *s)
{
	char	   *copy;

	if (s == NULL)
		return NULL;
	copy = shm_toc_allocate(toc, strlen(s) + 1);
	strcpy(copy, s);
	shm_toc_insert(toc, key, copy);
	return copy;
}

/*
 * In a worker: send this process's protocol output (its errors and
 * notices) to the backend that started it, over "mq" in segment "seg",
 * whose receiver that backend is.
 */
void
EtlPullWorkerRedirectErrors(dsm_segment *seg, shm_mq *mq)
{
	shm_mq_set_sender(mq, MyProc);
	pq_redirect_to_shm_mq(seg, shm_mq_attach(mq, seg, NULL));
}

/*
 * In the backend: parse a message a worker sent on its error queue.  For
 * an ErrorResponse or a NoticeResponse, fill *edata as the worker raised
 * it and return 'E' or 'N'; return 0 for any other message.
 */
char
EtlPullWorkerMessage(void *data, Size nbytes, ErrorData *edata)
{
	StringInfoData msg;
	char		type;

	initStringInfo(&msg);
	appendBinaryStringInfo(&msg, data, nbytes);
	type = pq_getmsgbyte(&msg);
	if (type == 'E' || type == 'N')
		pq_parse_errornotice(&msg, edata);
	else
		type = 0;
	pfree(msg.data);
	return type;
}
