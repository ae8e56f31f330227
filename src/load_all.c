/*-------------------------------------------------------------------------
 *
 * load_all.c
 *		  etl_pull.load_all(): several tables loaded at once by background
 *		  workers, each in a transaction of its own.
 *
 * Design.  The leader (the backend that called load_all) puts one slot per
 * table in a DSM segment and starts up to max_parallel dynamic background
 * workers at a time.  Each worker connects to the leader's database as the
 * leader's current role (with search_path pinned to pg_catalog, pg_temp),
 * runs etl_pull.load_table(name) in its own transaction, and writes the
 * outcome (run id, rows, seconds) into its slot; one table's failure does
 * not touch the others.  A worker's error is not flattened in the worker:
 * its protocol output goes to a small shm_mq of its slot
 * (pq_redirect_to_shm_mq), and the leader parses the ErrorResponse
 * (pq_parse_errornotice) into the row it returns for the table.
 * The leader waits on its latch, which the postmaster sets when a worker
 * it started exits (bgw_notify_pid), and starts the next one.  If the
 * leader errors out or is cancelled, its DSM segment is detached and the
 * detach callback terminates every worker still running; a worker killed
 * that way rolls its own transaction back.
 *
 * IDENTIFICATION
 *		  src/load_all.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "storage/dsm.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/proc.h"
#include "storage/shm_mq.h"
#include "storage/shm_toc.h"
#include "tcop/tcopprot.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/wait_event.h"

#include "etl_pull.h"
#include "bgworker.h"
#include "load_all.h"

#define SLOT_NAME_LEN	1024

typedef enum SlotState
{
	SLOT_PENDING,
	SLOT_RUNNING,
	SLOT_DONE
} SlotState;

/* One table of a load_all, in shared memory */
typedef struct LoadSlot
{
	char		table_name[SLOT_NAME_LEN];
	SlotState	state;			/* set by the leader */
	bool		reported;		/* set by the worker when it is done */
	bool		succeeded;
	int64		run_id;
	int64		rows;
	double		seconds;
	char		status[16];
} LoadSlot;

/*
 * The segment, laid out by a shm_toc: the slots, and each slot's worker's
 * error queue
 */
#define LOAD_ALL_MAGIC				UINT64CONST(0x6574706c6c6f6164)
#define LOAD_ALL_KEY_SHARED			UINT64CONST(1)	/* LoadAllShared */
#define LOAD_ALL_KEY_ERROR_QUEUES	UINT64CONST(2)	/* nslots error queues */

typedef struct LoadAllShared
{
	Oid			dboid;
	Oid			roleid;
	int			nslots;
	LoadSlot	slots[FLEXIBLE_ARRAY_MEMBER];
} LoadAllShared;

/* The leader's handles, for the detach callback, and what it was told */
typedef struct LoadAllWorkers
{
	int			n;
	BackgroundWorkerHandle **handles;
	shm_mq_handle **error_queues;
	char	  **errors;			/* a worker's error, as the result shows it */
} LoadAllWorkers;

/* Slot i's error queue */
static shm_mq *
error_queue(shm_toc *toc, int i)
{
	return (shm_mq *) ((char *) shm_toc_lookup(toc, LOAD_ALL_KEY_ERROR_QUEUES, false) +
					   (Size) i * ETL_WORKER_ERROR_QUEUE_SIZE);
}

/*
 * Take what worker i sent on its error queue.  Its ErrorResponse becomes
 * the error of its table ("message: detail", as etl_pull.runs has it);
 * notices stay in the worker's log.  Returns when the queue is empty.
 */
static void
read_errors(LoadAllWorkers *w, int i)
{
	for (;;)
	{
		Size		nbytes;
		void	   *data;
		ErrorData	edata;

		if (shm_mq_receive(w->error_queues[i], &nbytes, &data, true) != SHM_MQ_SUCCESS)
			return;
		if (EtlPullWorkerMessage(data, nbytes, &edata) != 'E')
			continue;
		w->errors[i] = edata.detail ?
			psprintf("%s: %s", edata.message, edata.detail) : pstrdup(edata.message);
	}
}

/* DSM detach callback: stop every worker still running */
static void
terminate_workers(dsm_segment *seg, Datum arg)
{
	LoadAllWorkers *w = (LoadAllWorkers *) DatumGetPointer(arg);
	int			i;

	for (i = 0; i < w->n; i++)
		if (w->handles[i] != NULL)
			TerminateBackgroundWorker(w->handles[i]);
}

/* The enabled tables of a group (all groups if NULL), by name */
static List *
tables_to_load(text *group)
{
	Oid			argtypes[1] = {TEXTOID};
	Datum		args[1];
	char		nulls[2] = " ";
	List	   *names = NIL;
	MemoryContext callercxt = CurrentMemoryContext;
	uint64		i;

	args[0] = group ? PointerGetDatum(group) : (Datum) 0;
	if (group == NULL)
		nulls[0] = 'n';
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute_with_args("SELECT name FROM etl_pull.tables"
							  " WHERE enabled AND ($1 IS NULL OR load_group OPERATOR(pg_catalog.=) $1)"
							  " ORDER BY name",
							  1, argtypes, args, nulls, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read etl_pull.tables");
	for (i = 0; i < SPI_processed; i++)
		names = lappend(names,
						MemoryContextStrdup(callercxt,
											SPI_getvalue(SPI_tuptable->vals[i],
														 SPI_tuptable->tupdesc, 1)));
	SPI_finish();
	return names;
}

PG_FUNCTION_INFO_V1(etl_pull_load_all);

/*
 * etl_pull.load_all(load_group text DEFAULT NULL, max_parallel int DEFAULT NULL)
 *		returns setof (table_name, status, run_id, rows, seconds, error)
 */
Datum
etl_pull_load_all(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	text	   *group = PG_ARGISNULL(0) ? NULL : PG_GETARG_TEXT_PP(0);
	int			max_parallel = PG_ARGISNULL(1) ? EtlPullMaxParallelLoads : PG_GETARG_INT32(1);
	List	   *names;
	ListCell   *lc;
	int			n;
	dsm_segment *seg;
	shm_toc_estimator e;
	shm_toc    *toc;
	Size		shared_size;
	LoadAllShared *shared;
	LoadAllWorkers *workers;
	int			next = 0;
	int			running = 0;
	int			done = 0;
	int			i;

	if (max_parallel < 1 || max_parallel > 64)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("max_parallel must be between 1 and 64")));

	InitMaterializedSRF(fcinfo, 0);
	names = tables_to_load(group);
	n = list_length(names);
	if (n == 0)
		return (Datum) 0;

	shared_size = add_size(offsetof(LoadAllShared, slots), mul_size(sizeof(LoadSlot), n));
	shm_toc_initialize_estimator(&e);
	shm_toc_estimate_chunk(&e, shared_size);
	shm_toc_estimate_chunk(&e, mul_size(ETL_WORKER_ERROR_QUEUE_SIZE, n));
	shm_toc_estimate_keys(&e, 2);
	seg = EtlPullSegmentCreate(&e, LOAD_ALL_MAGIC, &toc);
	shared = shm_toc_allocate(toc, shared_size);
	memset(shared, 0, shared_size);
	shm_toc_insert(toc, LOAD_ALL_KEY_SHARED, shared);
	shm_toc_insert(toc, LOAD_ALL_KEY_ERROR_QUEUES,
				   shm_toc_allocate(toc, mul_size(ETL_WORKER_ERROR_QUEUE_SIZE, n)));
	shared->dboid = MyDatabaseId;
	shared->roleid = GetUserId();
	shared->nslots = n;
	i = 0;
	foreach(lc, names)
		strlcpy(shared->slots[i++].table_name, (char *) lfirst(lc), SLOT_NAME_LEN);

	workers = MemoryContextAllocZero(TopTransactionContext, sizeof(LoadAllWorkers));
	workers->n = n;
	workers->handles = MemoryContextAllocZero(TopTransactionContext,
											  sizeof(BackgroundWorkerHandle *) * n);
	workers->error_queues = palloc0(sizeof(shm_mq_handle *) * n);
	workers->errors = palloc0(sizeof(char *) * n);
	on_dsm_detach(seg, terminate_workers, PointerGetDatum(workers));

	while (done < n)
	{
		/* start as many as the limit and the free worker slots allow */
		while (running < max_parallel && next < n)
		{
			shm_mq	   *mq = shm_mq_create(error_queue(toc, next), ETL_WORKER_ERROR_QUEUE_SIZE);

			shm_mq_set_receiver(mq, MyProc);
			if (!EtlPullStartWorker("etl_pull_load_worker_main", "etl_pull load worker",
									seg, next, &workers->handles[next]))
			{
				if (running == 0)
					ereport(ERROR,
							(errcode(ERRCODE_INSUFFICIENT_RESOURCES),
							 errmsg("could not start a background worker to load table \"%s\"",
									shared->slots[next].table_name),
							 errhint("Consider increasing the configuration parameter \"%s\".",
									 "max_worker_processes")));
				break;			/* retry when a running one is done */
			}
			workers->error_queues[next] = shm_mq_attach(mq, seg, workers->handles[next]);
			shared->slots[next].state = SLOT_RUNNING;
			next++;
			running++;
		}

		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 1000L, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();

		for (i = 0; i < next; i++)
		{
			pid_t		pid;

			if (shared->slots[i].state != SLOT_RUNNING)
				continue;
			read_errors(workers, i);
			if (GetBackgroundWorkerPid(workers->handles[i], &pid) == BGWH_STOPPED)
			{
				/* all it sent is in the queue now */
				read_errors(workers, i);
				shm_mq_detach(workers->error_queues[i]);
				shared->slots[i].state = SLOT_DONE;
				pfree(workers->handles[i]);
				workers->handles[i] = NULL;
				running--;
				done++;
			}
		}
	}

	for (i = 0; i < n; i++)
	{
		LoadSlot   *slot = &shared->slots[i];
		Datum		values[6];
		bool		nulls[6] = {0};

		values[0] = CStringGetTextDatum(slot->table_name);
		if (!slot->reported && workers->errors[i] != NULL)
		{
			values[1] = CStringGetTextDatum("failed");
			nulls[2] = nulls[3] = nulls[4] = true;
			values[5] = CStringGetTextDatum(workers->errors[i]);
		}
		else if (!slot->reported)
		{
			values[1] = CStringGetTextDatum("failed");
			nulls[2] = nulls[3] = nulls[4] = true;
			values[5] = CStringGetTextDatum("the load worker exited without reporting; see the server log");
		}
		else
		{
			values[1] = CStringGetTextDatum(slot->status);
			values[2] = Int64GetDatum(slot->run_id);
			values[3] = Int64GetDatum(slot->rows);
			values[4] = Float8GetDatum(slot->seconds);
			nulls[2] = nulls[3] = nulls[4] = !slot->succeeded;
			nulls[5] = true;
		}
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	dsm_detach(seg);
	return (Datum) 0;
}

/*
 * Background worker: load one table of a load_all in its own transaction
 * and report the outcome in its slot.  An error is not caught: the
 * background worker's error handling sends it, through the error queue,
 * to the leader.
 */
void
etl_pull_load_worker_main(Datum main_arg)
{
	dsm_segment *seg;
	shm_toc    *toc;
	LoadAllShared *shared;
	LoadSlot   *slot;
	int			slotno;
	Oid			argtypes[1] = {TEXTOID};
	Datum		args[1];
	bool		isnull;
	HeapTuple	tup;
	TupleDesc	desc;

	toc = EtlPullWorkerAttach(main_arg, LOAD_ALL_MAGIC, &seg, &slotno);
	shared = shm_toc_lookup(toc, LOAD_ALL_KEY_SHARED, false);
	slot = &shared->slots[slotno];
	EtlPullWorkerRedirectErrors(seg, error_queue(toc, slotno));

	EtlPullWorkerConnect(shared->dboid, shared->roleid);

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	pgstat_report_activity(STATE_RUNNING, "etl_pull: load_all worker");
	args[0] = CStringGetTextDatum(slot->table_name);
	SPI_connect();
	PushActiveSnapshot(GetTransactionSnapshot());
	if (SPI_execute_with_args("SELECT run_id, rows, seconds, status"
							  " FROM etl_pull.load_table($1)",
							  1, argtypes, args, NULL, false, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not run etl_pull.load_table");
	tup = SPI_tuptable->vals[0];
	desc = SPI_tuptable->tupdesc;
	slot->run_id = DatumGetInt64(SPI_getbinval(tup, desc, 1, &isnull));
	slot->rows = DatumGetInt64(SPI_getbinval(tup, desc, 2, &isnull));
	slot->seconds = DatumGetFloat8(SPI_getbinval(tup, desc, 3, &isnull));
	strlcpy(slot->status, SPI_getvalue(tup, desc, 4), sizeof(slot->status));
	slot->succeeded = (strcmp(slot->status, "succeeded") == 0);
	SPI_finish();
	PopActiveSnapshot();
	CommitTransactionCommand();
	pgstat_report_activity(STATE_IDLE, NULL);
	slot->reported = true;
	dsm_detach(seg);
}
