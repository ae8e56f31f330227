/*-------------------------------------------------------------------------
 *
 * parallel.c
 *		  The parallel strategy's readers: background workers that read
 *		  primary-key ranges of the source under one consistent snapshot
 *		  and feed the rows to the leader through shm_mq.
 *
 * Design (reference/internals.md A.6, "leader as single writer").  The
 * leader keeps the write side: it writes every row into the transient heap
 * exactly as the stream strategy does, so the load still commits as one
 * and a failure leaves the old rows.  The workers read: each opens its own
 * MySQL connection as the calling role, and all of them start their
 * transactions WITH CONSISTENT SNAPSHOT while the leader holds FLUSH
 * TABLES ... WITH READ LOCK on the source table (the handshake mydumper
 * uses), so they read one point in time.  The leader records the binary
 * log position of that point, then unlocks.  Without the privilege for the
 * lock (or if it cannot be had within etl_pull.lock_timeout) the load goes
 * on with a WARNING: each worker then reads its own, slightly later,
 * snapshot.
 *
 * When the target needs no more than NOT NULL checks (no CHECK constraint,
 * no default to fill, no row to reject), the workers also convert: they
 * build the target's row type from a description in the DSM segment,
 * convert each row with the same converters as the stream strategy, check
 * NOT NULL, and send formed tuples; the leader only writes them.
 * Otherwise they send MySQL's text values and the leader converts.
 * Either way rows travel in messages of about 64 kB, so the queue's
 * per-message cost is paid per batch, not per row.
 *
 * The key range is cut into more chunks than workers: an integer key into
 * equal ranges, any other key at boundaries sampled in one pass over it.
 * A worker that finishes early takes the next chunk from a shared counter,
 * so no straggler holds the load.  Workers never touch the target relation
 * (the leader holds an ExclusiveLock on it and may have created it in its
 * own transaction: see the lock trap in internals.md A.6).
 *
 * A worker's error is written into its slot in the DSM segment before it
 * detaches from its queue; the leader re-raises it.  If the leader errors
 * out or is cancelled, the segment is detached and its callback terminates
 * every worker.
 *
 * IDENTIFICATION
 *		  src/parallel.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/xact.h"
#include "catalog/pg_type.h"
#include "foreign/foreign.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "port/atomics.h"
#include "postmaster/bgworker.h"
#include "storage/dsm.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/proc.h"
#include "storage/shm_mq.h"
#include "tcop/tcopprot.h"
#include "utils/backend_progress.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/wait_event.h"

#include "etl_pull.h"

#define MAX_PARALLEL_WORKERS	16
#define CHUNKS_PER_WORKER		4
#define QUEUE_SIZE				(1024 * 1024)
#define MESSAGE_SIZE			(64 * 1024)	/* rows are sent in messages of this size */
#define ERROR_LEN				1024

typedef struct WorkerSlot
{
	bool		snapshot_taken;
	bool		failed;
	int64		rows;
	char		error[ERROR_LEN];
} WorkerSlot;

typedef struct ParallelShared
{
	Oid			dboid;
	Oid			roleid;
	Oid			target_relid;	/* for progress only; never opened */
	PGPROC	   *leader;
	int			nworkers;
	int			nchunks;
	pg_atomic_uint32 next_chunk;
	Size		name_off;		/* registered table name */
	Size		sql_off;		/* SELECT without WHERE */
	Size		chunks_off;		/* nchunks offsets of WHERE conditions ("" = all) */
	Size		queues_off;
	Size		source_db_off;	/* MySQL database and table */
	Size		source_table_off;

	/*
	 * Tuple mode: the workers convert the rows themselves and send formed
	 * tuples of the target's row type, described here (the workers never
	 * open the target: see the lock trap above).
	 */
	bool		tuples;
	int			natts;
	int			ncolumns;
	Size		atts_off;		/* natts TargetAtt */
	Size		attnums_off;	/* ncolumns AttrNumber: source column -> attribute */
	WorkerSlot	workers[MAX_PARALLEL_WORKERS];
} ParallelShared;

/* One attribute of the target's row type, for tuple mode */
typedef struct TargetAtt
{
	Oid			typid;
	int32		typmod;
	bool		notnull;
	bool		dropped;
	NameData	name;
} TargetAtt;

struct EtlPullParallel
{
	dsm_segment *seg;
	ParallelShared *shared;
	int			nworkers;		/* started */
	BackgroundWorkerHandle *handles[MAX_PARALLEL_WORKERS];
	shm_mq_handle *queues[MAX_PARALLEL_WORKERS];
	bool		done[MAX_PARALLEL_WORKERS];
	int			ndone;
	int			current;		/* queue to read next */
	char	   *msg;			/* rows of the message being read */
	char	   *msg_end;
	char	   *target_name;
	char	   *values[1];		/* resized to ncolumns */
};

PGDLLEXPORT void etl_pull_parallel_worker_main(Datum main_arg);

static char *
shared_string(ParallelShared *shared, Size off)
{
	return (char *) shared + off;
}

/* The WHERE condition of chunk c ("" for the whole table) */
static char *
shared_chunk(ParallelShared *shared, int c)
{
	Size	   *offs = (Size *) ((char *) shared + shared->chunks_off);

	return shared_string(shared, offs[c]);
}

static shm_mq *
shared_queue(ParallelShared *shared, int i)
{
	return (shm_mq *) ((char *) shared + shared->queues_off + (Size) i * QUEUE_SIZE);
}

/* DSM detach callback: stop the workers still running */
static void
terminate_workers(dsm_segment *seg, Datum arg)
{
	EtlPullParallel *par = (EtlPullParallel *) DatumGetPointer(arg);
	int			i;

	for (i = 0; i < par->nworkers; i++)
		if (par->handles[i] != NULL)
			TerminateBackgroundWorker(par->handles[i]);
}

/* Re-raise a worker's error in the leader */
static void
check_worker(EtlPullParallel *par, int i)
{
	WorkerSlot *w = &par->shared->workers[i];

	if (w->failed)
		ereport(ERROR,
				(errcode(ERRCODE_CONNECTION_FAILURE),
				 errmsg("parallel worker %d failed: %s", i + 1, w->error),
				 errcontext("parallel load worker")));
}

/*
 * Chunks of a single integer key: the range [MIN, MAX] cut into equal
 * steps.  The first and last chunks are open ended, so rows committed past
 * the bounds the leader read are not missed by any snapshot.
 */
static List *
integer_chunks(EtlPullConnection *control, const char *qtable, const char *qkey,
			   int nchunks)
{
	List	   *chunks = NIL;
	char	  **row;
	unsigned long *lengths;
	int64		min = 0,
				max = 0;
	bool		empty = true;
	int64		step;
	int			i;

	EtlPullQueryStart(control, psprintf("SELECT MIN(%s), MAX(%s) FROM %s", qkey, qkey, qtable),
					  2);
	if (EtlPullFetch(control, &row, &lengths) && row[0] != NULL)
	{
		empty = false;
		min = strtoll(row[0], NULL, 10);
		max = strtoll(row[1], NULL, 10);
	}
	EtlPullQueryEnd(control);
	if (empty || nchunks <= 1 || max - min < nchunks)
		return list_make1("");
	step = (max - min) / nchunks + 1;
	for (i = 0; i < nchunks; i++)
	{
		int64		lo = min + step * i;
		int64		hi = min + step * (i + 1);

		if (i == 0)
			chunks = lappend(chunks, psprintf("%s < " INT64_FORMAT, qkey, hi));
		else if (i == nchunks - 1)
			chunks = lappend(chunks, psprintf("%s >= " INT64_FORMAT, qkey, lo));
		else
			chunks = lappend(chunks, psprintf("%s >= " INT64_FORMAT " AND %s < " INT64_FORMAT,
											  qkey, lo, qkey, hi));
	}
	return chunks;
}

/*
 * "(k1, k2, ...) >= (v1, v2, ...)" (or "<") spelled out with AND and OR,
 * which MySQL's range optimizer reads as index ranges.
 */
static char *
key_compare(EtlPullConnection *control, char **qkeys, char **values, int nkeys,
			bool at_least)
{
	StringInfoData buf;
	int			i;
	int			j;

	initStringInfo(&buf);
	appendStringInfoChar(&buf, '(');
	for (i = 0; i < nkeys; i++)
	{
		if (i > 0)
			appendStringInfoString(&buf, " OR ");
		appendStringInfoChar(&buf, '(');
		for (j = 0; j < i; j++)
			appendStringInfo(&buf, "%s = %s AND ", qkeys[j],
							 EtlPullQuoteLiteral(control, values[j]));
		appendStringInfo(&buf, "%s %s %s)", qkeys[i],
						 i == nkeys - 1 ? (at_least ? ">=" : "<") : (at_least ? ">" : "<"),
						 EtlPullQuoteLiteral(control, values[i]));
	}
	appendStringInfoChar(&buf, ')');
	return buf.data;
}

/*
 * Chunks of any other key (composite, text, dates): one pass over the key
 * columns alone, in key order, keeping every n-th key as a boundary.  The
 * pass costs one scan of the key; it buys chunks of equal row counts
 * however the keys are spread.
 */
static List *
sampled_chunks(EtlPullConnection *control, EtlPullSource *source,
			   const char *qtable, int nchunks)
{
	char	  **qkeys = palloc(sizeof(char *) * source->ncolumns);
	char	  **bounds[MAX_PARALLEL_WORKERS * CHUNKS_PER_WORKER];
	StringInfoData cols;
	List	   *chunks = NIL;
	char	  **row;
	unsigned long *lengths;
	int64		step = Max(source->estimated_rows, 1) / nchunks + 1;
	int64		n = 0;
	int			nkeys = 0;
	int			nbounds = 0;
	int			i;
	ListCell   *lc;

	initStringInfo(&cols);
	foreach(lc, EtlPullSourceKey(source))
	{
		qkeys[nkeys++] = EtlPullQuoteIdent(((EtlPullSourceColumn *) lfirst(lc))->name);
		appendStringInfo(&cols, "%s%s", cols.len ? ", " : "", qkeys[nkeys - 1]);
	}

	EtlPullQueryStart(control, psprintf("SELECT %s FROM %s ORDER BY %s",
										cols.data, qtable, cols.data), nkeys);
	while (EtlPullFetch(control, &row, &lengths))
	{
		CHECK_FOR_INTERRUPTS();
		if (++n % step == 0 && nbounds < nchunks - 1)
		{
			bounds[nbounds] = palloc(sizeof(char *) * nkeys);
			for (i = 0; i < nkeys; i++)
				bounds[nbounds][i] = pnstrdup(row[i], lengths[i]);
			nbounds++;
		}
	}
	EtlPullQueryEnd(control);

	if (nbounds == 0)
		return list_make1("");
	for (i = 0; i <= nbounds; i++)
	{
		if (i == 0)
			chunks = lappend(chunks, key_compare(control, qkeys, bounds[0], nkeys, false));
		else if (i == nbounds)
			chunks = lappend(chunks, key_compare(control, qkeys, bounds[i - 1], nkeys, true));
		else
			chunks = lappend(chunks,
							 psprintf("%s AND %s",
									  key_compare(control, qkeys, bounds[i - 1], nkeys, true),
									  key_compare(control, qkeys, bounds[i], nkeys, false)));
	}
	return chunks;
}

/*
 * Start the parallel read of "source" under the leader's MySQL connection
 * "control".  With "tuples", the workers convert the rows into tuples of
 * the target's row type (attnums maps source columns to attributes), and
 * check NOT NULL; the caller must know the target needs no other check
 * and no default.  Returns the reader; *position is the binary log
 * position of the snapshot (or NULL).
 */
EtlPullParallel *
EtlPullParallelBegin(EtlPullConnection *control, EtlPullTable *table,
					 EtlPullSource *source, Relation target, AttrNumber *attnums,
					 bool tuples, int nworkers, char **position)
{
	TupleDesc	tupdesc = RelationGetDescr(target);
	EtlPullParallel *par;
	ParallelShared *shared;
	EtlPullSourceColumn *key;
	char	   *select_sql = EtlPullSourceSelect(source, NULL);
	char	   *qtable;
	char	   *err = NULL;
	bool		locked;
	List	   *chunks;
	ListCell   *lc;
	Size	   *chunk_offs;
	int			nchunks;
	Size		size;
	Size		off;
	char	  **row;
	unsigned long *lengths;
	int			i;
	TimestampTz deadline;

	if (EtlPullSourceKey(source) == NIL)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("strategy \"parallel\" needs a primary key to cut the table into chunks"),
				 errdetail("MySQL table \"%s.%s\" has none.", source->db, source->table),
				 errhint("Use strategy \"stream\" for this table.")));
	nworkers = Min(Max(nworkers, 1), MAX_PARALLEL_WORKERS);
	qtable = psprintf("%s.%s", EtlPullQuoteIdent(source->db), EtlPullQuoteIdent(source->table));

	/*
	 * The handshake: hold the table still, let every worker take its
	 * snapshot, record the position, release.  The wait for the lock is
	 * bounded; the lock goes with the connection on any error.
	 */
	EtlPullExec(control, "COMMIT");
	EtlPullExec(control, psprintf("SET SESSION lock_wait_timeout = %d", EtlPullLockTimeout));
	locked = EtlPullTryExec(control, psprintf("FLUSH TABLES %s WITH READ LOCK", qtable), &err);
	if (!locked)
		ereport(WARNING,
				(errmsg("could not lock MySQL table \"%s.%s\" for a common snapshot",
						source->db, source->table),
				 errdetail("MySQL said: %s. Each parallel worker reads its own snapshot, taken a few milliseconds apart; rows changed meanwhile may be seen by one chunk and not another.", err),
				 errhint("Grant the MySQL user RELOAD and LOCK TABLES, or use strategy \"stream\".")));

	key = EtlPullIntegerKey(source);
	if (key != NULL)
		chunks = integer_chunks(control, qtable, EtlPullQuoteIdent(key->name),
								nworkers * CHUNKS_PER_WORKER);
	else
		chunks = sampled_chunks(control, source, qtable, nworkers * CHUNKS_PER_WORKER);
	nchunks = list_length(chunks);
	nworkers = Min(nworkers, nchunks);

	/* the segment: header, strings, chunk conditions, one queue per worker */
	off = MAXALIGN(sizeof(ParallelShared));
	size = off + MAXALIGN(strlen(table->name) + 1) + MAXALIGN(strlen(select_sql) + 1) +
		MAXALIGN(sizeof(Size) * nchunks) + (Size) QUEUE_SIZE * nworkers +
		MAXALIGN(strlen(source->db) + 1) + MAXALIGN(strlen(source->table) + 1) +
		MAXALIGN(sizeof(TargetAtt) * tupdesc->natts) +
		MAXALIGN(sizeof(AttrNumber) * source->ncolumns);
	foreach(lc, chunks)
		size += MAXALIGN(strlen((char *) lfirst(lc)) + 1);
	par = MemoryContextAllocZero(TopTransactionContext,
								 offsetof(EtlPullParallel, values) +
								 sizeof(char *) * source->ncolumns);
	par->seg = dsm_create(size, 0);
	shared = par->shared = (ParallelShared *) dsm_segment_address(par->seg);
	memset(shared, 0, sizeof(ParallelShared));
	shared->dboid = MyDatabaseId;
	par->target_name = pstrdup(RelationGetRelationName(target));
	shared->roleid = GetUserId();
	shared->target_relid = RelationGetRelid(target);
	shared->leader = MyProc;
	shared->nchunks = nchunks;
	pg_atomic_init_u32(&shared->next_chunk, 0);
	shared->name_off = off;
	strcpy(shared_string(shared, off), table->name);
	off += MAXALIGN(strlen(table->name) + 1);
	shared->sql_off = off;
	strcpy(shared_string(shared, off), select_sql);
	off += MAXALIGN(strlen(select_sql) + 1);
	shared->source_db_off = off;
	strcpy(shared_string(shared, off), source->db);
	off += MAXALIGN(strlen(source->db) + 1);
	shared->source_table_off = off;
	strcpy(shared_string(shared, off), source->table);
	off += MAXALIGN(strlen(source->table) + 1);
	shared->tuples = tuples;
	shared->natts = tupdesc->natts;
	shared->ncolumns = source->ncolumns;
	shared->atts_off = off;
	for (i = 0; i < tupdesc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(tupdesc, i);
		TargetAtt  *ta = &((TargetAtt *) shared_string(shared, off))[i];

		ta->typid = att->atttypid;
		ta->typmod = att->atttypmod;
		ta->notnull = att->attnotnull;
		ta->dropped = att->attisdropped;
		namestrcpy(&ta->name, NameStr(att->attname));
	}
	off += MAXALIGN(sizeof(TargetAtt) * tupdesc->natts);
	shared->attnums_off = off;
	memcpy(shared_string(shared, off), attnums, sizeof(AttrNumber) * source->ncolumns);
	off += MAXALIGN(sizeof(AttrNumber) * source->ncolumns);
	shared->chunks_off = off;
	chunk_offs = (Size *) shared_string(shared, off);
	off += MAXALIGN(sizeof(Size) * nchunks);
	i = 0;
	foreach(lc, chunks)
	{
		chunk_offs[i++] = off;
		strcpy(shared_string(shared, off), (char *) lfirst(lc));
		off += MAXALIGN(strlen((char *) lfirst(lc)) + 1);
	}
	shared->queues_off = off;
	on_dsm_detach(par->seg, terminate_workers, PointerGetDatum(par));

	for (i = 0; i < nworkers; i++)
	{
		shm_mq	   *mq = shm_mq_create(shared_queue(shared, i), QUEUE_SIZE);

		shm_mq_set_receiver(mq, MyProc);
		if (!EtlPullStartWorker("etl_pull_parallel_worker_main",
								"etl_pull parallel worker", par->seg, i,
								&par->handles[i]))
			break;
		par->queues[i] = shm_mq_attach(mq, par->seg, par->handles[i]);
		par->nworkers++;
	}
	shared->nworkers = par->nworkers;
	if (par->nworkers == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_RESOURCES),
				 errmsg("could not start any parallel worker"),
				 errhint("Consider increasing the configuration parameter \"%s\", or use strategy \"stream\".",
						 "max_worker_processes")));
	if (par->nworkers < nworkers)
		ereport(NOTICE,
				(errmsg("started %d of %d parallel workers", par->nworkers, nworkers),
				 errhint("Consider increasing the configuration parameter \"%s\".",
						 "max_worker_processes")));

	/* wait until every worker holds its snapshot, then release the lock */
	deadline = TimestampTzPlusMilliseconds(GetCurrentTimestamp(),
										   EtlPullLockTimeout * 1000L + 30000L);
	for (;;)
	{
		int			taken = 0;

		for (i = 0; i < par->nworkers; i++)
		{
			pid_t		pid;

			check_worker(par, i);
			if (shared->workers[i].snapshot_taken)
				taken++;
			else if (GetBackgroundWorkerPid(par->handles[i], &pid) == BGWH_STOPPED)
				ereport(ERROR,
						(errcode(ERRCODE_CONNECTION_FAILURE),
						 errmsg("parallel worker %d exited before taking its snapshot", i + 1),
						 errhint("See the server log.")));
		}
		if (taken == par->nworkers)
			break;
		if (GetCurrentTimestamp() > deadline)
			ereport(ERROR,
					(errcode(ERRCODE_LOCK_NOT_AVAILABLE),
					 errmsg("parallel workers did not take their snapshots in time")));
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 100L, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
	}

	*position = NULL;
	if (locked)
	{
		char	   *pos_err;

		if (EtlPullIsMariaDB(control))
		{
			EtlPullQueryStart(control, "SELECT @@gtid_binlog_pos", 1);
			if (EtlPullFetch(control, &row, &lengths) && row[0] && row[0][0])
				*position = psprintf("gtid %s", row[0]);
			EtlPullQueryEnd(control);
		}
		if (EtlPullTryQueryStart(control, "SHOW MASTER STATUS", -2, &pos_err))
		{
			if (EtlPullFetch(control, &row, &lengths) && row[0])
				*position = psprintf("%s%sbinlog %s:%s", *position ? *position : "",
									 *position ? ", " : "", row[0], row[1]);
			EtlPullQueryEnd(control);
		}
		EtlPullExec(control, "UNLOCK TABLES");
	}
	return par;
}

/*
 * Make sure a message with rows is in hand: true if there is one, false
 * when every worker is done.  A worker's error is raised here.
 */
static bool
next_message(EtlPullParallel *par)
{
	for (;;)
	{
		int			tried;

		if (par->msg < par->msg_end)
			return true;
		if (par->ndone == par->nworkers)
			return false;
		for (tried = 0; tried < par->nworkers; tried++)
		{
			int			i = par->current;
			Size		nbytes;
			void	   *data;
			shm_mq_result res;

			par->current = (par->current + 1) % par->nworkers;
			if (par->done[i])
				continue;
			res = shm_mq_receive(par->queues[i], &nbytes, &data, true);
			if (res == SHM_MQ_WOULD_BLOCK)
				continue;
			if (res == SHM_MQ_DETACHED)
			{
				check_worker(par, i);
				par->done[i] = true;
				par->ndone++;
				if (par->ndone == par->nworkers)
					return false;
				continue;
			}
			par->msg = (char *) data;
			par->msg_end = par->msg + nbytes;
			return true;
		}
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 1000L, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
	}
}

/*
 * The next row from any worker, as values/lengths valid until the next
 * call (text mode).  Returns false when every worker is done.
 */
bool
EtlPullParallelNext(EtlPullParallel *par, char ***values, unsigned long **lengths,
					unsigned long *lengths_buf)
{
	char	   *p;
	int16		ncols;
	int			c;

	if (!next_message(par))
		return false;
	/* a row: int16 ncols, then per column int32 length (-1: NULL), bytes, NUL */
	p = par->msg;
	memcpy(&ncols, p, sizeof(int16));
	p += sizeof(int16);
	for (c = 0; c < ncols; c++)
	{
		int32		len;

		memcpy(&len, p, sizeof(int32));
		p += sizeof(int32);
		if (len < 0)
		{
			par->values[c] = NULL;
			lengths_buf[c] = 0;
		}
		else
		{
			par->values[c] = p;
			lengths_buf[c] = (unsigned long) len;
			p += len + 1;
		}
	}
	par->msg = p;
	*values = par->values;
	*lengths = lengths_buf;
	return true;
}

/*
 * The next tuple from any worker (tuple mode), valid until the next call.
 * Returns false when every worker is done.
 */
bool
EtlPullParallelNextTuple(EtlPullParallel *par, MinimalTuple *tuple)
{
	uint32		len;

	if (!next_message(par))
		return false;
	/* a tuple: uint32 length, then the MinimalTuple, padded to MAXALIGN */
	memcpy(&len, par->msg, sizeof(uint32));
	*tuple = (MinimalTuple) (par->msg + MAXALIGN(sizeof(uint32)));
	par->msg += MAXALIGN(sizeof(uint32)) + MAXALIGN(len);
	return true;
}


/* Detach from the workers (all done) */
void
EtlPullParallelEnd(EtlPullParallel *par)
{
	dsm_detach(par->seg);
}

/*
 * Send the rows gathered in "msg" as one message, and empty it.  If the
 * leader is gone there is nothing left to do.
 */
static void
send_rows(EtlPullConnection *conn, shm_mq_handle *mqh, StringInfo msg)
{
	if (msg->len == 0)
		return;
	if (shm_mq_send(mqh, msg->len, msg->data, false, true) != SHM_MQ_SUCCESS)
	{
		EtlPullDisconnect(conn);
		proc_exit(0);
	}
	resetStringInfo(msg);
}

/*
 * Tuple mode: the target's row type as the leader described it.  Dropped
 * attributes stand as int4 placeholders (they are always NULL).
 */
static TupleDesc
worker_tupdesc(ParallelShared *shared)
{
	TargetAtt  *atts = (TargetAtt *) shared_string(shared, shared->atts_off);
	TupleDesc	desc = CreateTemplateTupleDesc(shared->natts);
	int			i;

	for (i = 0; i < shared->natts; i++)
	{
		TupleDescInitEntry(desc, i + 1, NameStr(atts[i].name),
						   atts[i].dropped ? INT4OID : atts[i].typid,
						   atts[i].dropped ? -1 : atts[i].typmod, 0);
		TupleDescAttr(desc, i)->attnotnull = atts[i].notnull;
		TupleDescAttr(desc, i)->attisdropped = atts[i].dropped;
	}
	return desc;
}

/*
 * Tuple mode: convert one row, check NOT NULL as ExecConstraints would, and
 * append the formed tuple to "msg".  Memory goes to the current context,
 * which the caller resets per row.
 */
static void
append_tuple(StringInfo msg, EtlPullConverter *conv, TupleDesc desc,
			 char **values, unsigned long *lengths, Datum *datums, bool *nulls,
			 const char *relname)
{
	MinimalTuple tup;
	uint32		len;
	int			i;
	static const char pad[MAXIMUM_ALIGNOF] = {0};

	EtlPullConvertRow(conv, values, lengths, datums, nulls);
	for (i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);

		if (att->attnotnull && !att->attisdropped && nulls[i])
			ereport(ERROR,
					(errcode(ERRCODE_NOT_NULL_VIOLATION),
					 errmsg("null value in column \"%s\" of relation \"%s\" violates not-null constraint",
							NameStr(att->attname), relname)));
	}
	tup = heap_form_minimal_tuple(desc, datums, nulls);
	len = tup->t_len;
	appendBinaryStringInfo(msg, (char *) &len, sizeof(uint32));
	appendBinaryStringInfo(msg, pad, MAXALIGN(sizeof(uint32)) - sizeof(uint32));
	appendBinaryStringInfo(msg, (char *) tup, len);
	appendBinaryStringInfo(msg, pad, MAXALIGN(len) - len);
}

/*
 * Background worker: take snapshot, then read chunks into the queue.
 */
void
etl_pull_parallel_worker_main(Datum main_arg)
{
	dsm_segment *seg;
	ParallelShared *shared;
	WorkerSlot *slot;
	shm_mq_handle *mqh;
	int			me;

	seg = EtlPullWorkerAttach(main_arg, &me);
	shared = (ParallelShared *) dsm_segment_address(seg);
	slot = &shared->workers[me];
	shm_mq_set_sender(shared_queue(shared, me), MyProc);
	mqh = shm_mq_attach(shared_queue(shared, me), seg, NULL);

	BackgroundWorkerInitializeConnectionByOid(shared->dboid, shared->roleid, 0);
	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	pgstat_report_activity(STATE_RUNNING, "etl_pull: parallel load worker");

	PG_TRY();
	{
		EtlPullTable *table;
		EtlPullConnection *conn;
		StringInfoData msg;
		int			ncols = 0;
		TupleDesc	desc = NULL;
		EtlPullConverter *conv = NULL;
		Datum	   *datums = NULL;
		bool	   *nulls = NULL;
		MemoryContext rowcxt = NULL;

		PushActiveSnapshot(GetTransactionSnapshot());
		table = EtlPullReadTable(shared_string(shared, shared->name_off));
		PopActiveSnapshot();
		conn = EtlPullConnect(GetForeignServer(table->serverid), shared->roleid);
		EtlPullApplyMysqlSettings(conn, table);
		EtlPullStartSnapshot(conn);
		slot->snapshot_taken = true;
		SetLatch(&shared->leader->procLatch);

		if (shared->tuples)
		{
			EtlPullSource *source;

			source = EtlPullDescribeSource(conn, shared_string(shared, shared->source_db_off),
										   shared_string(shared, shared->source_table_off));
			if (source->ncolumns != shared->ncolumns)
				ereport(ERROR,
						(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
						 errmsg("the MySQL table changed while the load started")));
			desc = worker_tupdesc(shared);
			conv = EtlPullMakeConverters(table, source, desc,
										 (AttrNumber *) shared_string(shared, shared->attnums_off));
			datums = palloc(sizeof(Datum) * desc->natts);
			nulls = palloc(sizeof(bool) * desc->natts);
			rowcxt = AllocSetContextCreate(CurrentMemoryContext, "etl_pull worker row",
										   ALLOCSET_DEFAULT_SIZES);
		}

		pgstat_progress_start_command(PROGRESS_COMMAND_COPY, shared->target_relid);
		EtlPullReportWorkerProgress(0, true);

		initStringInfo(&msg);
		for (;;)
		{
			uint32		c = pg_atomic_fetch_add_u32(&shared->next_chunk, 1);
			const char *where;
			StringInfoData sql;
			char	  **values;
			unsigned long *lengths;

			if (c >= (uint32) shared->nchunks)
				break;
			where = shared_chunk(shared, c);
			initStringInfo(&sql);
			appendStringInfoString(&sql, shared_string(shared, shared->sql_off));
			if (where[0])
				appendStringInfo(&sql, " WHERE %s", where);

			EtlPullQueryStart(conn, sql.data, shared->ncolumns);
			ncols = EtlPullQueryFieldCount(conn);
			while (EtlPullFetch(conn, &values, &lengths))
			{
				int16		n16 = (int16) ncols;
				int			i;

				CHECK_FOR_INTERRUPTS();
				if (shared->tuples)
				{
					MemoryContext oldcxt = MemoryContextSwitchTo(rowcxt);

					append_tuple(&msg, conv, desc, values, lengths, datums, nulls,
								 shared_string(shared, shared->name_off));
					MemoryContextSwitchTo(oldcxt);
					MemoryContextReset(rowcxt);
				}
				else
				{
					appendBinaryStringInfo(&msg, (char *) &n16, sizeof(int16));
					for (i = 0; i < ncols; i++)
					{
						int32		len = values[i] ? (int32) lengths[i] : -1;

						appendBinaryStringInfo(&msg, (char *) &len, sizeof(int32));
						if (values[i])
						{
							appendBinaryStringInfo(&msg, values[i], lengths[i]);
							appendStringInfoChar(&msg, '\0');
						}
					}
				}
				if (msg.len >= MESSAGE_SIZE)
					send_rows(conn, mqh, &msg);
				slot->rows++;
				if (slot->rows % 1024 == 0)
					EtlPullReportWorkerProgress(slot->rows, false);
			}
			send_rows(conn, mqh, &msg);
			EtlPullQueryEnd(conn);
		}
		EtlPullDisconnect(conn);
		pgstat_progress_end_command();
		CommitTransactionCommand();
	}
	PG_CATCH();
	{
		EtlPullWorkerCatch(slot->error, ERROR_LEN, true);
		slot->failed = true;
	}
	PG_END_TRY();

	/* detaching tells the leader this queue is finished */
	shm_mq_detach(mqh);
	dsm_detach(seg);
}
