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
 * key, never at an offset computed by hand.  Workers do not flatten their
 * errors into strings: those that report to a backend redirect their
 * protocol output to a shm_mq (pq_redirect_to_shm_mq), and the backend
 * re-raises what arrives, or keeps it.
 *
 * The worker group is the backend's side of a pool of such workers, which
 * the parallel strategy's readers and load_all's loaders both are: it
 * creates one error queue per worker, starts them, relays what they send
 * (through the kind's relay callback), waits under a deadline until each
 * has set a flag of the caller's, and waits for them to exit.  If the
 * backend errors out or is cancelled, the segment is detached and its
 * callback terminates every worker still running.  The snapshot handshake
 * built on it, which talks to MySQL, is parallel.c's.
 *
 * IDENTIFICATION
 *		  src/bgworker.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/xact.h"
#include "catalog/pg_authid.h"
#include "libpq/pqformat.h"
#include "libpq/pqmq.h"
#include "miscadmin.h"
#include "postmaster/bgworker.h"
#include "storage/dsm.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/proc.h"
#include "storage/procarray.h"
#include "storage/shm_mq.h"
#include "storage/shm_toc.h"
#include "tcop/tcopprot.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"
#include "utils/wait_event.h"

#include "bgworker.h"
#include "etl_pull.h"

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
 * Raise an error unless workers may connect as role "roleid", before any
 * is started.  A background worker connects as a client does, and
 * PostgreSQL refuses a role without LOGIN (a NOLOGIN group role taken with
 * SET ROLE, say): each worker would exit at once, its FATAL only in the
 * server log.  "what" names what needs the workers ("load_all", "the
 * parallel strategy"); "hint" says what to do instead.
 */
void
EtlPullCheckWorkerRole(Oid roleid, const char *what, const char *hint)
{
	HeapTuple	tup = SearchSysCache1(AUTHOID, ObjectIdGetDatum(roleid));
	bool		canlogin;

	if (!HeapTupleIsValid(tup))
		elog(ERROR, "cache lookup failed for role %u", roleid);
	canlogin = ((Form_pg_authid) GETSTRUCT(tup))->rolcanlogin;
	ReleaseSysCache(tup);
	if (!canlogin)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_AUTHORIZATION_SPECIFICATION),
				 errmsg("%s cannot run as role \"%s\"", what,
						GetUserNameFromId(roleid, false)),
				 errdetail("Its background workers connect as the current role, and role \"%s\" is not permitted to log in.",
						   GetUserNameFromId(roleid, false)),
				 errhint("%s", hint)));
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
 * In a worker of a group: send this process's protocol output (its errors
 * and notices) to the backend that started it, over the error queue of
 * slot "slot" in segment "seg", whose receiver that backend is.
 */
void
EtlPullWorkerRedirectErrors(dsm_segment *seg, shm_toc *toc, int slot)
{
	shm_mq	   *mq = (shm_mq *) ((char *) shm_toc_lookup(toc, ETL_WORKER_KEY_ERROR_QUEUES, false) +
								 (Size) slot * ETL_WORKER_ERROR_QUEUE_SIZE);

	shm_mq_set_sender(mq, MyProc);
	pq_redirect_to_shm_mq(seg, shm_mq_attach(mq, seg, NULL));
}

/* "message: detail", as a worker's error is written down (etl_pull.runs) */
char *
EtlPullErrorText(ErrorData *edata)
{
	return edata->detail ?
		psprintf("%s: %s", edata->message, edata->detail) : pstrdup(edata->message);
}

/*
 * In the backend: parse a message a worker sent on its error queue.  For
 * an ErrorResponse or a NoticeResponse, fill *edata as the worker raised
 * it and return 'E' or 'N'; return 0 for any other message.
 */
static char
worker_message(void *data, Size nbytes, ErrorData *edata)
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

/* Count a group's "nworkers" error queues in the estimate of its segment */
void
EtlPullEstimateErrorQueues(shm_toc_estimator *e, int nworkers)
{
	shm_toc_estimate_chunk(e, mul_size(ETL_WORKER_ERROR_QUEUE_SIZE, nworkers));
	shm_toc_estimate_keys(e, 1);
}

/* DSM detach callback: stop every worker of the group still running */
static void
terminate_group(dsm_segment *seg, Datum arg)
{
	EtlPullWorkerGroup *group = (EtlPullWorkerGroup *) DatumGetPointer(arg);
	int			i;

	for (i = 0; i < group->nworkers; i++)
		if (group->handles[i] != NULL)
			TerminateBackgroundWorker(group->handles[i]);
}

/*
 * Start up to "nworkers" workers of "kind" on segment "seg" (whose table
 * of contents "toc" has room for EtlPullEstimateErrorQueues), slots 0 on,
 * each with an error queue whose receiver this backend is; "arg" is for
 * the kind's relay.  Stops at the first that cannot be had (no free
 * worker slot).  Returns the group, whose nworkers says how many started:
 * the caller says what too few means.
 */
EtlPullWorkerGroup *
EtlPullWorkerGroupStart(const EtlPullWorkerKind *kind, dsm_segment *seg,
						shm_toc *toc, int nworkers, void *arg)
{
	MemoryContext oldcxt = MemoryContextSwitchTo(TopTransactionContext);
	EtlPullWorkerGroup *group = palloc0(sizeof(EtlPullWorkerGroup));
	char	   *queues = shm_toc_allocate(toc, mul_size(ETL_WORKER_ERROR_QUEUE_SIZE, nworkers));
	int			i;

	group->kind = kind;
	group->arg = arg;
	group->seg = seg;
	group->handles = palloc0(sizeof(BackgroundWorkerHandle *) * nworkers);
	group->error_queues = palloc0(sizeof(shm_mq_handle *) * nworkers);
	group->errors = palloc0(sizeof(char *) * nworkers);
	shm_toc_insert(toc, ETL_WORKER_KEY_ERROR_QUEUES, queues);
	on_dsm_detach(seg, terminate_group, PointerGetDatum(group));

	for (i = 0; i < nworkers; i++)
	{
		shm_mq	   *mq = shm_mq_create(queues + (Size) i * ETL_WORKER_ERROR_QUEUE_SIZE,
									   ETL_WORKER_ERROR_QUEUE_SIZE);

		shm_mq_set_receiver(mq, MyProc);
		if (!EtlPullStartWorker(kind->function, kind->type, seg, i, &group->handles[i]))
			break;
		group->error_queues[i] = shm_mq_attach(mq, seg, group->handles[i]);
		group->nworkers++;
	}
	MemoryContextSwitchTo(oldcxt);
	return group;
}

/* Whether worker i of the group has exited (its handle says so) */
bool
EtlPullWorkerStopped(EtlPullWorkerGroup *group, int i)
{
	pid_t		pid;

	return GetBackgroundWorkerPid(group->handles[i], &pid) == BGWH_STOPPED;
}

/*
 * Relay what worker i has sent on its error queue: keep each ERROR's text
 * in group->errors[i], and hand each ERROR, NOTICE or WARNING to the
 * kind's relay (which may raise it).  With "wait", keep at it until the
 * queue is detached or the worker is gone (its handle says stopped, and
 * nothing more came after that); otherwise take only what is there.
 */
void
EtlPullWorkerGroupRelay(EtlPullWorkerGroup *group, int i, bool wait)
{
	bool		stopped = false;

	for (;;)
	{
		Size		nbytes;
		void	   *data;
		shm_mq_result res;

		res = shm_mq_receive(group->error_queues[i], &nbytes, &data, true);
		if (res == SHM_MQ_SUCCESS)
		{
			ErrorData	edata;
			char		type = worker_message(data, nbytes, &edata);

			if (type == 'E')
				group->errors[i] = EtlPullErrorText(&edata);
			if (type != 0 && group->kind->relay != NULL)
				group->kind->relay(group, i, type, &edata);
			continue;
		}
		if (res == SHM_MQ_DETACHED || !wait || stopped)
			return;
		stopped = EtlPullWorkerStopped(group, i);
		if (!stopped)
		{
			(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
							 100L, PG_WAIT_EXTENSION);
			ResetLatch(MyLatch);
			CHECK_FOR_INTERRUPTS();
		}
	}
}

/*
 * Wait until every worker of the group has set its flag: worker i's is at
 * "flags" + i * "stride", in the segment.  Relays what they send meanwhile.
 * A worker that exits first fails the wait with its own error (the kind's
 * relay raises it, or it is the detail), and so does "timeout_ms" passing;
 * the messages say "<noun> %d exited before <exited>" and "<noun>s did not
 * <late> in time".
 */
void
EtlPullWorkerGroupWait(EtlPullWorkerGroup *group, const bool *flags, Size stride,
					   long timeout_ms, const char *exited, const char *late)
{
	TimestampTz deadline = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), timeout_ms);

	for (;;)
	{
		int			n = 0;
		int			i;

		for (i = 0; i < group->nworkers; i++)
		{
			EtlPullWorkerGroupRelay(group, i, false);
			pg_read_barrier();
			if (*(const bool *) ((const char *) flags + (Size) i * stride))
				n++;
			else if (EtlPullWorkerStopped(group, i))
			{
				EtlPullWorkerGroupRelay(group, i, true);
				ereport(ERROR,
						(errcode(ERRCODE_CONNECTION_FAILURE),
						 errmsg("%s %d exited before %s", group->kind->noun, i + 1, exited),
						 group->errors[i] ? errdetail_internal("%s", group->errors[i]) :
						 errhint("See the server log for why the worker exited.")));
			}
		}
		if (n == group->nworkers)
			return;
		if (GetCurrentTimestamp() > deadline)
			ereport(ERROR,
					(errcode(ERRCODE_LOCK_NOT_AVAILABLE),
					 errmsg("%ss did not %s in time", group->kind->noun, late)));
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 100L, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
	}
}

/* Set the latch of every worker of the group still running */
void
EtlPullWorkerGroupWake(EtlPullWorkerGroup *group)
{
	int			i;

	for (i = 0; i < group->nworkers; i++)
	{
		pid_t		pid;
		PGPROC	   *proc;

		if (group->handles[i] != NULL &&
			GetBackgroundWorkerPid(group->handles[i], &pid) == BGWH_STARTED &&
			(proc = BackendPidGetProc(pid)) != NULL)
			SetLatch(&proc->procLatch);
	}
}

/*
 * Wait until every worker of the group has exited, relaying what each
 * sends until it is gone; then detach its queue and forget its handle.
 * The postmaster sets this backend's latch when one exits (bgw_notify_pid).
 */
void
EtlPullWorkerGroupWaitExit(EtlPullWorkerGroup *group)
{
	(void) EtlPullWorkerGroupWaitUntil(group, NULL);
}

/*
 * As EtlPullWorkerGroupWaitExit, but return early, true, once
 * until(group->arg) says so (checked whenever this backend's latch is set,
 * and each second); false once every worker has exited.
 */
bool
EtlPullWorkerGroupWaitUntil(EtlPullWorkerGroup *group, bool (*until) (void *arg))
{
	int			running = 0;
	int			i;

	for (i = 0; i < group->nworkers; i++)
		if (group->handles[i] != NULL)
			running++;
	while (running > 0)
	{
		if (until != NULL && until(group->arg))
			return true;
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 1000L, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();

		for (i = 0; i < group->nworkers; i++)
		{
			if (group->handles[i] == NULL)
				continue;
			EtlPullWorkerGroupRelay(group, i, false);
			if (EtlPullWorkerStopped(group, i))
			{
				/* all it sent is in the queue now */
				EtlPullWorkerGroupRelay(group, i, false);
				shm_mq_detach(group->error_queues[i]);
				pfree(group->handles[i]);
				group->handles[i] = NULL;
				running--;
			}
		}
	}
	return false;
}
