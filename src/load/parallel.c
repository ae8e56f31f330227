/*-------------------------------------------------------------------------
 *
 * parallel.c
 *		  The parallel strategy's readers: background workers that read
 *		  primary-key ranges of the source under one consistent snapshot
 *		  and feed the rows to the leader through shm_mq.
 *
 * Design (reference/internals.md A.6, "leader as single writer").  The
 * leader keeps the write side: it writes every row into the transient heap
 * exactly as the stream strategy does (as the target's owner), so the load
 * still commits as one and a failure leaves the old rows.  The workers
 * read: each runs as the calling role and opens its own MySQL connection
 * with its user mapping, and once every worker is connected, all of them
 * start their transactions WITH CONSISTENT SNAPSHOT while the leader holds
 * FLUSH TABLES ... WITH READ LOCK on the source table (the handshake
 * mydumper uses), so they read one point in time.  The leader records the
 * binary log position of that point, then unlocks; a position it may not
 * read is a WARNING.  Without the privilege for the lock (or if it cannot
 * be had within etl_pull.lock_timeout) the load goes on with a WARNING:
 * each worker then reads its own, slightly later, snapshot.  A MyISAM
 * table that the load holds against its writers for the whole read
 * (setting source_lock, held.c) needs no snapshot: the handshake then
 * takes no lock of its own (it would wait for the load's).
 *
 * That handshake is EtlPullGroupSnapshot below, on the worker group of
 * bgworker.c; load_all's consistent groups use it too, locking the whole
 * server instead of one table.  The lock is held only from the moment
 * every worker is connected until every one holds its snapshot.
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
 * Every chunk is accounted for.  Each worker has a data queue, on which
 * every message starts with a small header: rows of a chunk, then the
 * chunk's acknowledgement with its row count, and after its last chunk
 * (and its commit) a "finished" message.  The leader counts the rows it
 * takes from each worker and checks them against each acknowledgement; it
 * ends the read only when every worker has finished and every chunk is
 * acknowledged, and the caller checks that the rows it wrote are the rows
 * acknowledged.  A worker that goes away otherwise (ERROR, FATAL, SIGTERM,
 * a kill that leaves its queue attached: seen as its handle reporting it
 * stopped while its queue is empty) fails the load.  Nothing here depends
 * on timing.
 *
 * Errors keep their identity.  Each worker also has a small error queue
 * to which it redirects its frontend protocol output
 * (pq_redirect_to_shm_mq), so an ERROR or FATAL it raises, and any NOTICE
 * or WARNING, reaches the leader as the protocol message the client would
 * have seen; the leader parses it (pq_parse_errornotice) and re-raises it
 * with ThrowErrorData, SQLSTATE, detail, hint and context intact, plus a
 * context line naming the worker (relay_to_leader, the worker group's
 * relay).  The error queue is separate from the data queue, so an error
 * raised while a data message is half sent cannot corrupt either.  If the
 * leader errors out or is cancelled, the segment is detached and the
 * group's callback terminates every worker.
 *
 * Workers run no SQL through a search_path someone else controls: they
 * pin search_path to pg_catalog, pg_temp right after connecting
 * (EtlPullWorkerConnect).
 *
 * IDENTIFICATION
 *		  src/load/parallel.c
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
#include "storage/dsm.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/proc.h"
#include "storage/shm_mq.h"
#include "storage/shm_toc.h"
#include "tcop/tcopprot.h"
#include "utils/backend_progress.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"
#include "utils/wait_event.h"

#include "bgworker.h"
#include "etl_pull.h"
#include "catalog/etl_catalog.h"
#include "remote/remote.h"
#include "load/load.h"
#include "load/parallel.h"
#include "load/progress.h"

#define MAX_PARALLEL_WORKERS	16
#define QUEUE_SIZE				(1024 * 1024)
#define MESSAGE_SIZE			(64 * 1024)	/* rows are sent in messages of this size */

typedef struct WorkerSlot
{
	int64		rows;			/* read so far, for progress */
} WorkerSlot;

/*
 * The header of every message on a data queue.  Rows follow a MSG_ROWS
 * header; the others stand alone.  Its size keeps the tuples that follow
 * MAXALIGNed.
 */
typedef enum MessageKind
{
	MSG_ROWS = 'D',				/* rows of "chunk" ("rows" of them) */
	MSG_ACK = 'A',				/* "chunk" is done: "rows" rows in all */
	MSG_FINISHED = 'X'			/* no chunk left; committed */
} MessageKind;

typedef struct MessageHeader
{
	char		kind;			/* MessageKind */
	uint32		chunk;
	int64		rows;
} MessageHeader;

#define HEADER_SIZE				MAXALIGN(sizeof(MessageHeader))

/*
 * The segment, laid out by a shm_toc as PostgreSQL's parallel.c lays out
 * its own: the fixed part, one key per string or array, one for the data
 * queues (nworkers, back to back), and one per chunk's WHERE condition;
 * the worker group adds the error queues under its own key.
 */
#define PARALLEL_MAGIC				UINT64CONST(0x6574706c70617261)
#define PARALLEL_KEY_SHARED			UINT64CONST(1)	/* ParallelShared */
#define PARALLEL_KEY_TABLE_NAME		UINT64CONST(2)	/* registered table name */
#define PARALLEL_KEY_SELECT			UINT64CONST(3)	/* SELECT without WHERE */
#define PARALLEL_KEY_SOURCE_DB		UINT64CONST(4)	/* MySQL database and table */
#define PARALLEL_KEY_SOURCE_TABLE	UINT64CONST(5)
#define PARALLEL_KEY_TARGET_SCHEMA	UINT64CONST(6)	/* the target, for messages only */
#define PARALLEL_KEY_TARGET_REL		UINT64CONST(7)
#define PARALLEL_KEY_TARGET_ATTS	UINT64CONST(8)	/* natts TargetAtt */
#define PARALLEL_KEY_ATTNUMS		UINT64CONST(9)	/* ncolumns AttrNumber */
#define PARALLEL_KEY_QUEUES			UINT64CONST(10) /* nworkers data queues */
#define PARALLEL_KEY_CHUNK(c)		(UINT64CONST(1000) + (c))	/* WHERE of chunk c ("" = all) */

typedef struct ParallelShared
{
	Oid			dboid;
	Oid			roleid;
	Oid			target_relid;	/* for progress only; never opened */
	int			nworkers;
	int			nchunks;
	pg_atomic_uint32 next_chunk;
	EtlPullSnapshotState snapshot;	/* the handshake */

	/*
	 * Tuple mode: the workers convert the rows themselves and send formed
	 * tuples of the target's row type, described under
	 * PARALLEL_KEY_TARGET_ATTS, source column to attribute under
	 * PARALLEL_KEY_ATTNUMS (the workers never open the target: see the lock
	 * trap above).
	 */
	bool		tuples;
	int			natts;
	int			ncolumns;
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

StaticAssertDecl(MAX_PARALLEL_WORKERS <= ETL_PULL_MAX_GROUP_WORKERS,
				 "a group snapshot has room for every parallel worker");

struct EtlPullParallel
{
	dsm_segment *seg;
	ParallelShared *shared;
	EtlPullWorkerGroup *group;	/* the workers, and their error queues */
	int			nworkers;		/* started (group->nworkers) */
	shm_mq_handle *queues[MAX_PARALLEL_WORKERS];
	bool		done[MAX_PARALLEL_WORKERS];	/* data queue detached */
	bool		finished[MAX_PARALLEL_WORKERS]; /* sent MSG_FINISHED */
	bool		stopped[MAX_PARALLEL_WORKERS];	/* seen stopped, queue open */
	int64		chunk_rows[MAX_PARALLEL_WORKERS];	/* taken since last ack */
	int64		chunk[MAX_PARALLEL_WORKERS];	/* chunk being read, or -1 */
	int			ndone;
	bool	   *acked;			/* nchunks */
	int			nacked;
	int64		acked_rows;
	int			current;		/* queue to read next */
	int			msg_worker;		/* whose rows are being read */
	char	   *msg;			/* rows of the message being read */
	char	   *msg_end;
	char	   *values[1];		/* resized to ncolumns */
};

/* Worker i's queue among those under "key", each of "size" bytes */
static shm_mq *
toc_queue(shm_toc *toc, uint64 key, Size size, int i)
{
	return (shm_mq *) ((char *) shm_toc_lookup(toc, key, false) + (Size) i * size);
}

/*
 * The worker group's relay: re-raise in the leader an ErrorResponse or
 * NoticeResponse that worker i sent, as it was raised there, with a
 * context line naming the worker.  A worker's FATAL is the leader's ERROR.
 */
static void
relay_to_leader(EtlPullWorkerGroup *group, int i, char type, ErrorData *edata)
{
	edata->elevel = Min(edata->elevel, ERROR);
	if (edata->context)
		edata->context = psprintf("%s\netl_pull parallel worker %d", edata->context, i + 1);
	else
		edata->context = psprintf("etl_pull parallel worker %d", i + 1);
	ThrowErrorData(edata);
}

static const EtlPullWorkerKind parallel_workers = {
	.function = "etl_pull_parallel_worker_main",
	.type = "etl_pull parallel worker",
	.noun = "parallel worker",
	.relay = relay_to_leader
};

/*
 * Worker i is gone without having finished: raise its own error if it
 * sent one, or else say what it left unacknowledged.
 */
static void
worker_lost(EtlPullParallel *par, int i)
{
	EtlPullWorkerGroupRelay(par->group, i, true);
	if (par->chunk[i] >= 0)
		ereport(ERROR,
				(errcode(ERRCODE_CONNECTION_FAILURE),
				 errmsg("parallel worker %d exited without acknowledging its chunk", i + 1),
				 errdetail("Chunk %d of %d was not acknowledged; " INT64_FORMAT " of its rows had arrived.",
						   (int) par->chunk[i] + 1, par->shared->nchunks, par->chunk_rows[i]),
				 errhint("See the server log for why the worker exited.")));
	ereport(ERROR,
			(errcode(ERRCODE_CONNECTION_FAILURE),
			 errmsg("parallel worker %d exited before finishing its work", i + 1),
			 errhint("See the server log for why the worker exited.")));
}

/* Worker i acknowledged "chunk" with "rows" rows: check it against what came */
static void
acknowledge(EtlPullParallel *par, int i, uint32 chunk, int64 rows)
{
	if (chunk >= (uint32) par->shared->nchunks || par->acked[chunk] ||
		(par->chunk[i] >= 0 && par->chunk[i] != (int64) chunk))
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("parallel worker %d acknowledged chunk %u unexpectedly", i + 1, chunk + 1)));
	if (rows != par->chunk_rows[i])
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("parallel worker %d acknowledged " INT64_FORMAT " rows of chunk %u, but " INT64_FORMAT " arrived",
						i + 1, rows, chunk + 1, par->chunk_rows[i])));
	par->acked[chunk] = true;
	par->nacked++;
	par->acked_rows += rows;
	par->chunk_rows[i] = 0;
	par->chunk[i] = -1;
}

/* The sign bit: signed keys are handled as unsigned ones in the same order */
#define SIGN_BIT	(UINT64CONST(1) << 63)

/*
 * MIN and MAX of integer key "col" (signed or unsigned, up to 64 bits) at
 * the source ("qtable": `db`.`table`), checked, and mapped onto the
 * unsigned 64-bit integers in key order: a signed key's values with their
 * sign bit flipped (EtlPullIntegerKeyText prints them back).  False when
 * the table has no rows.
 */
bool
EtlPullIntegerKeyRange(EtlPullConnection *conn, const char *qtable,
					   EtlPullSourceColumn *col, uint64 *min, uint64 *max)
{
	char	   *qkey = EtlPullQuoteIdent(col->name);
	char	  **row;
	int			i;

	row = EtlPullQueryRow(conn, psprintf("SELECT MIN(%s), MAX(%s) FROM %s",
										 qkey, qkey, qtable), 2, false);
	if (row[0] == NULL && row[1] == NULL)
		return false;
	for (i = 0; i < 2; i++)
	{
		char	   *what = psprintf("%s(%s)", i ? "MAX" : "MIN", qkey);
		uint64	   *u = i ? max : min;

		if (col->is_unsigned)
			*u = EtlPullReplyUint64(conn, row[i], what);
		else
			*u = (uint64) EtlPullReplyInt64(conn, row[i], what) ^ SIGN_BIT;
	}
	if (*min > *max)
		EtlPullBadReply(conn, psprintf("MIN(%s) is greater than MAX(%s).", qkey, qkey));
	return true;
}

/* A value of integer key "col" as EtlPullIntegerKeyRange maps it, as SQL */
char *
EtlPullIntegerKeyText(EtlPullSourceColumn *col, uint64 u)
{
	if (col->is_unsigned)
		return psprintf(UINT64_FORMAT, u);
	return psprintf(INT64_FORMAT, (int64) (u ^ SIGN_BIT));
}

/*
 * Chunks of a single integer key "col": the range [MIN, MAX] cut into
 * equal steps.  The first and last chunks are open ended, so rows committed
 * past the bounds the leader read are not missed by any snapshot.  The
 * bounds are offsets from MIN computed in unsigned 64-bit arithmetic, where
 * MAX - MIN always fits and no offset passes it: no bound overflows,
 * whichever end of the 64-bit range the keys are at.
 */
static List *
integer_chunks(EtlPullConnection *control, const char *qtable,
			   EtlPullSourceColumn *col, int nchunks)
{
	List	   *chunks = NIL;
	char	   *qkey = EtlPullQuoteIdent(col->name);
	uint64		min,
				max,
				span;
	char	   *lo = NULL;
	int			i;

	if (!EtlPullIntegerKeyRange(control, qtable, col, &min, &max))
		return list_make1("");	/* no rows */
	span = max - min;
	if (nchunks <= 1 || span < (uint64) nchunks)
		return list_make1("");

	/* bound i is MIN + floor(span * i / nchunks), without a product that overflows */
	for (i = 1; i <= nchunks; i++)
	{
		char	   *hi = NULL;

		if (i < nchunks)
			hi = EtlPullIntegerKeyText(col, min + (span / nchunks) * i +
									   (span % nchunks) * i / nchunks);
		if (lo == NULL)
			chunks = lappend(chunks, psprintf("%s < %s", qkey, hi));
		else if (hi == NULL)
			chunks = lappend(chunks, psprintf("%s >= %s", qkey, lo));
		else
			chunks = lappend(chunks, psprintf("%s >= %s AND %s < %s", qkey, lo, qkey, hi));
		lo = hi;
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
	char	  **bounds[MAX_PARALLEL_WORKERS * ETL_PULL_CHUNKS_PER_WORKER];
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
		qkeys[nkeys++] = EtlPullSourceKeyExpr((EtlPullSourceColumn *) lfirst(lc));
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
			{
				if (row[i] == NULL)
					EtlPullBadReply(control, "A primary key value is NULL.");
				bounds[nbounds][i] = pnstrdup(row[i], lengths[i]);
			}
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
 * The chunks of "source" ("qtable": `db`.`table`), as WHERE conditions
 * ("" for all): "nchunks" of them or fewer.  Its key must be a primary key.
 */
static List *
plan_chunks(EtlPullConnection *control, EtlPullSource *source,
			const char *qtable, int nchunks)
{
	EtlPullSourceColumn *key;

	if (EtlPullSourceKey(source) == NIL)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("strategy \"parallel\" needs a primary key to cut the table into chunks"),
				 errdetail("MySQL table \"%s.%s\" has none.", source->db, source->table),
				 errhint("Use strategy \"stream\" for this table.")));
	key = EtlPullIntegerKey(source);
	if (key != NULL)
		return integer_chunks(control, qtable, key, nchunks);
	return sampled_chunks(control, source, qtable, nchunks);
}

/* What the workers read and convert, as the segment holds it */
typedef struct ReadPlan
{
	EtlPullTable *table;
	EtlPullSource *source;
	Relation	target;
	AttrNumber *attnums;		/* source column to target attribute */
	bool		tuples;
	Oid			roleid;
	char	   *select_sql;		/* SELECT without WHERE */
	char	   *target_schema;
	List	   *chunks;			/* WHERE conditions */
	int			nworkers;
} ReadPlan;

/* The segment's size: the fixed part, strings, row type, chunks, queues */
static void
estimate_segment(shm_toc_estimator *e, ReadPlan *plan)
{
	ListCell   *lc;

	shm_toc_initialize_estimator(e);
	shm_toc_estimate_chunk(e, sizeof(ParallelShared));
	shm_toc_estimate_keys(e, 1);
	EtlPullEstimateString(e, plan->table->name);
	EtlPullEstimateString(e, plan->select_sql);
	EtlPullEstimateString(e, plan->source->db);
	EtlPullEstimateString(e, plan->source->table);
	EtlPullEstimateString(e, plan->target_schema);
	EtlPullEstimateString(e, RelationGetRelationName(plan->target));
	shm_toc_estimate_chunk(e, sizeof(TargetAtt) * RelationGetDescr(plan->target)->natts);
	shm_toc_estimate_chunk(e, sizeof(AttrNumber) * plan->source->ncolumns);
	shm_toc_estimate_chunk(e, mul_size(QUEUE_SIZE, plan->nworkers));
	shm_toc_estimate_keys(e, 3);
	EtlPullEstimateErrorQueues(e, plan->nworkers);
	foreach(lc, plan->chunks)
		EtlPullEstimateString(e, (char *) lfirst(lc));
}

/*
 * Tuple mode's description of the target's row type, and the map of
 * source columns to its attributes, into the segment
 */
static void
describe_target(shm_toc *toc, ReadPlan *plan)
{
	TupleDesc	tupdesc = RelationGetDescr(plan->target);
	TargetAtt  *atts = shm_toc_allocate(toc, sizeof(TargetAtt) * tupdesc->natts);
	AttrNumber *attnums = shm_toc_allocate(toc, sizeof(AttrNumber) * plan->source->ncolumns);
	int			i;

	for (i = 0; i < tupdesc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(tupdesc, i);
		TargetAtt  *ta = &atts[i];

		ta->typid = att->atttypid;
		ta->typmod = att->atttypmod;
		ta->notnull = att->attnotnull;
		ta->dropped = att->attisdropped;
		namestrcpy(&ta->name, NameStr(att->attname));
	}
	shm_toc_insert(toc, PARALLEL_KEY_TARGET_ATTS, atts);
	memcpy(attnums, plan->attnums, sizeof(AttrNumber) * plan->source->ncolumns);
	shm_toc_insert(toc, PARALLEL_KEY_ATTNUMS, attnums);
}

/*
 * The reader, in TopTransactionContext (the segment's detach callback reads
 * its group), with its segment: the fixed part, the strings, the target's
 * row type, the chunks and the data queues.  *toc is the segment's table
 * of contents, for the worker group to add its error queues to.
 */
static EtlPullParallel *
build_segment(ReadPlan *plan, shm_toc **toc)
{
	EtlPullParallel *par;
	ParallelShared *shared;
	shm_toc_estimator e;
	ListCell   *lc;
	int			nchunks = list_length(plan->chunks);
	int			i;

	estimate_segment(&e, plan);
	par = MemoryContextAllocZero(TopTransactionContext,
								 offsetof(EtlPullParallel, values) +
								 sizeof(char *) * plan->source->ncolumns);
	par->acked = MemoryContextAllocZero(TopTransactionContext, sizeof(bool) * nchunks);
	for (i = 0; i < MAX_PARALLEL_WORKERS; i++)
		par->chunk[i] = -1;
	par->seg = EtlPullSegmentCreate(&e, PARALLEL_MAGIC, toc);

	shared = par->shared = shm_toc_allocate(*toc, sizeof(ParallelShared));
	memset(shared, 0, sizeof(ParallelShared));
	shared->dboid = MyDatabaseId;
	shared->roleid = plan->roleid;
	shared->target_relid = RelationGetRelid(plan->target);
	shared->nchunks = nchunks;
	pg_atomic_init_u32(&shared->next_chunk, 0);
	EtlPullSnapshotInit(&shared->snapshot);
	shared->tuples = plan->tuples;
	shared->natts = RelationGetDescr(plan->target)->natts;
	shared->ncolumns = plan->source->ncolumns;
	shm_toc_insert(*toc, PARALLEL_KEY_SHARED, shared);

	EtlPullInsertString(*toc, PARALLEL_KEY_TABLE_NAME, plan->table->name);
	EtlPullInsertString(*toc, PARALLEL_KEY_SELECT, plan->select_sql);
	EtlPullInsertString(*toc, PARALLEL_KEY_SOURCE_DB, plan->source->db);
	EtlPullInsertString(*toc, PARALLEL_KEY_SOURCE_TABLE, plan->source->table);
	EtlPullInsertString(*toc, PARALLEL_KEY_TARGET_SCHEMA, plan->target_schema);
	EtlPullInsertString(*toc, PARALLEL_KEY_TARGET_REL, RelationGetRelationName(plan->target));
	describe_target(*toc, plan);
	i = 0;
	foreach(lc, plan->chunks)
		EtlPullInsertString(*toc, PARALLEL_KEY_CHUNK(i++), (char *) lfirst(lc));
	shm_toc_insert(*toc, PARALLEL_KEY_QUEUES,
				   shm_toc_allocate(*toc, mul_size(QUEUE_SIZE, plan->nworkers)));
	return par;
}

/*
 * Start up to "nworkers" readers, each with a data queue this backend
 * receives; fewer is a NOTICE, none an error
 */
static void
launch_readers(EtlPullParallel *par, shm_toc *toc, int nworkers)
{
	int			i;

	for (i = 0; i < nworkers; i++)
		shm_mq_set_receiver(shm_mq_create(toc_queue(toc, PARALLEL_KEY_QUEUES, QUEUE_SIZE, i),
										  QUEUE_SIZE),
							MyProc);
	par->group = EtlPullWorkerGroupStart(&parallel_workers, par->seg, toc, nworkers, par);
	par->nworkers = par->shared->nworkers = par->group->nworkers;
	for (i = 0; i < par->nworkers; i++)
		par->queues[i] = shm_mq_attach(toc_queue(toc, PARALLEL_KEY_QUEUES, QUEUE_SIZE, i),
									   par->seg, par->group->handles[i]);
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
}

/*
 * The handshake on the source table: returns the binary log position of
 * the readers' common snapshot, or NULL (and a WARNING says why)
 */
static char *
common_snapshot(EtlPullParallel *par, EtlPullConnection *control,
				EtlPullSource *source, const char *qtable, bool held)
{
	EtlPullHandshake hs = {
		.control = control,
		.tables = qtable,
		.held = held,
		.exited = "taking its snapshot",
		.late = "take their snapshots"
	};
	char	   *position = EtlPullGroupSnapshot(par->group, &par->shared->snapshot, &hs);

	if (!hs.locked && !held)
		ereport(WARNING,
				(errmsg("could not lock MySQL table \"%s.%s\" for a common snapshot",
						source->db, source->table),
				 errdetail("MySQL said: %s. Each parallel worker reads its own snapshot, taken a few milliseconds apart; rows changed meanwhile may be seen by one chunk and not another.", hs.lock_error),
				 errhint("Grant the MySQL user RELOAD and LOCK TABLES, or use strategy \"stream\".")));
	return position;
}

/*
 * Start the parallel read of "source" under the leader's MySQL connection
 * "control".  The workers run as role "roleid", the load's caller, and
 * connect with its user mapping (the leader itself runs as the target's
 * owner by then); they run none of the target's code.  With "tuples", the
 * workers convert the rows into tuples of the target's row type (attnums
 * maps source columns to attributes), and check NOT NULL; the caller must
 * know the target needs no other check and no default, and that the
 * converters run only core code (EtlPullConvertersTrusted).  With "held"
 * the caller holds the source against its writers for the whole read
 * (setting source_lock): the workers read it as it is, with no handshake
 * lock (which would wait for the caller's).  Returns the reader;
 * *position is the binary log position of the snapshot (or NULL).
 */
EtlPullParallel *
EtlPullParallelBegin(EtlPullConnection *control, Oid roleid, EtlPullTable *table,
					 EtlPullSource *source, Relation target, AttrNumber *attnums,
					 bool tuples, int nworkers, bool held, char **position)
{
	ReadPlan	plan = {
		.table = table,
		.source = source,
		.target = target,
		.attnums = attnums,
		.tuples = tuples,
		.roleid = roleid,
		.select_sql = EtlPullSourceSelect(source, NULL),
		.target_schema = get_namespace_name(RelationGetNamespace(target))
	};
	char	   *qtable;
	EtlPullParallel *par;
	shm_toc    *toc;

	EtlPullCheckWorkerRole(roleid, "the parallel strategy",
						   "Load as a role with LOGIN, or set strategy \"stream\" for the table.");
	nworkers = Min(Max(nworkers, 1), MAX_PARALLEL_WORKERS);
	qtable = psprintf("%s.%s", EtlPullQuoteIdent(source->db), EtlPullQuoteIdent(source->table));
	plan.chunks = plan_chunks(control, source, qtable,
							  nworkers * ETL_PULL_CHUNKS_PER_WORKER);
	plan.nworkers = Min(nworkers, list_length(plan.chunks));

	par = build_segment(&plan, &toc);
	launch_readers(par, toc, plan.nworkers);
	*position = common_snapshot(par, control, source, qtable, held);
	return par;
}

/*
 * The leader's side of the snapshot handshake of a worker group (the
 * parallel readers, a consistent load_all): once every worker is
 * connected, hold the source still with FLUSH TABLES ... WITH READ LOCK on
 * hs->control, let every worker start its consistent snapshot, read the
 * binary log position, unlock.  Each wait is bounded by
 * etl_pull.lock_timeout and 30 s.  Returns the position, or NULL: a
 * position that cannot be read is a WARNING here; a lock that cannot be
 * had is hs->locked false, with MySQL's words in hs->lock_error, for the
 * caller to say what that means.  With hs->hold_tables, those are held on
 * hs->hold first (FLUSH TABLES ... WITH READ LOCK, which MariaDB's global
 * lock does not wait for), so that they stand still from a point before
 * the snapshot's until the caller releases them: state->held says whether
 * they are, hs->hold_error why not.  On return every worker goes on
 * (ready).
 */
char *
EtlPullGroupSnapshot(EtlPullWorkerGroup *group, EtlPullSnapshotState *state,
					 EtlPullHandshake *hs)
{
	long		timeout = EtlPullLockTimeout * 1000L + 30000L;
	char	   *position = NULL;

	/* every worker connected */
	EtlPullWorkerGroupWait(group, &state->workers[0].connected,
						   sizeof(EtlPullSnapshotWorker), timeout,
						   "connecting to MySQL", "connect to MySQL");
	hs->lock_error = NULL;
	hs->hold_error = NULL;
	if (hs->hold_tables != NULL &&
		EtlPullLockForSnapshot(hs->hold, hs->hold_tables, &hs->hold_error))
	{
		state->held_since = GetCurrentTimestamp();
		state->held = true;
	}
	hs->locked = !hs->held &&
		EtlPullLockForSnapshot(hs->control, hs->tables, &hs->lock_error);
	state->locked = hs->locked;
	pg_write_barrier();
	state->go = true;
	EtlPullWorkerGroupWake(group);
	if (hs->locked)
	{
		char	   *err;

		EtlPullWorkerGroupWait(group, &state->workers[0].snapshot_taken,
							   sizeof(EtlPullSnapshotWorker), timeout,
							   hs->exited, hs->late);
		position = EtlPullSnapshotPosition(hs->control, &err);
		if (err != NULL || position == NULL)
			ereport(WARNING,
					(errmsg("could not read the binary log position of the group's snapshot on MySQL server \"%s\"",
							EtlPullServerName(hs->control)),
					 err ? errdetail("MySQL said: %s. The runs record %s.", err,
									 position ? "the GTID position only" : "no position") :
					 errdetail("The server keeps no binary log."),
					 errhint("Grant the MySQL user BINLOG MONITOR (MariaDB) or REPLICATION CLIENT (MySQL).")));
		if (position != NULL)
			strlcpy(state->position, position, ETL_PULL_POSITION_LEN);
	}
	pg_write_barrier();
	state->ready = true;
	EtlPullWorkerGroupWake(group);
	return position;
}

/* A group snapshot's state, as the leader starts it */
void
EtlPullSnapshotInit(EtlPullSnapshotState *state)
{
	memset(state, 0, sizeof(EtlPullSnapshotState));
	state->leader = MyProc;
}

/* In a worker: wait until the leader sets *flag */
static void
wait_for_leader(bool *flag)
{
	for (;;)
	{
		pg_read_barrier();
		if (*flag)
			return;
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 100L, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
	}
}

/*
 * The worker's side of the handshake, as worker "slot", on its connection
 * "conn", open: say so, wait for the leader's lock, start the snapshot,
 * say so, wait for the position.  If the leader could not lock, start a
 * snapshot of its own only if "always".  Returns whether "conn" reads the
 * group's snapshot.  Runs in a transaction.
 */
bool
EtlPullJoinGroupSnapshot(EtlPullSnapshotState *state, int slot,
						 EtlPullConnection *conn, bool always)
{
	EtlPullSnapshotWorker *me = &state->workers[slot];

	pg_write_barrier();
	me->connected = true;
	SetLatch(&state->leader->procLatch);
	wait_for_leader(&state->go);
	if (state->locked || always)
		EtlPullStartSnapshot(conn);
	if (state->locked)
	{
		pg_write_barrier();
		me->snapshot_taken = true;
		SetLatch(&state->leader->procLatch);
	}
	wait_for_leader(&state->ready);
	return state->locked;
}

/*
 * Every worker has finished: wait until each is gone (relaying what it
 * still says), and check that every chunk was acknowledged.
 */
static void
all_finished(EtlPullParallel *par)
{
	int			i;

	for (i = 0; i < par->nworkers; i++)
		EtlPullWorkerGroupRelay(par->group, i, true);
	if (par->nacked != par->shared->nchunks)
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("parallel workers acknowledged %d of %d chunks",
						par->nacked, par->shared->nchunks)));
}

/*
 * Make sure a message with rows is in hand: true if there is one, false
 * when every worker has finished and every chunk is acknowledged.  A
 * worker's error is raised here, and so is the loss of a worker.
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
		{
			all_finished(par);
			return false;
		}
		for (tried = 0; tried < par->nworkers; tried++)
		{
			int			i = par->current;
			Size		nbytes;
			void	   *data;
			shm_mq_result res;
			MessageHeader hdr;

			par->current = (par->current + 1) % par->nworkers;
			if (par->done[i])
				continue;
			res = shm_mq_receive(par->queues[i], &nbytes, &data, true);
			if (res == SHM_MQ_WOULD_BLOCK)
			{
				/* seen stopped before this empty read: it died attached */
				if (par->stopped[i])
					worker_lost(par, i);
				EtlPullWorkerGroupRelay(par->group, i, false);
				continue;
			}
			if (res == SHM_MQ_DETACHED)
			{
				if (!par->finished[i])
					worker_lost(par, i);
				par->done[i] = true;
				par->ndone++;
				continue;
			}
			if (nbytes < HEADER_SIZE)
				elog(ERROR, "short message from parallel worker %d", i + 1);
			memcpy(&hdr, data, sizeof(MessageHeader));
			switch (hdr.kind)
			{
				case MSG_ROWS:
					par->chunk[i] = hdr.chunk;
					par->msg_worker = i;
					par->msg = (char *) data + HEADER_SIZE;
					par->msg_end = (char *) data + nbytes;
					return true;
				case MSG_ACK:
					acknowledge(par, i, hdr.chunk, hdr.rows);
					break;
				case MSG_FINISHED:
					if (par->chunk[i] >= 0 || par->chunk_rows[i] != 0)
						worker_lost(par, i);
					par->finished[i] = true;
					break;
				default:
					elog(ERROR, "unrecognized message kind %d from parallel worker %d",
						 hdr.kind, i + 1);
			}
			tried = -1;			/* something came: go round again */
		}

		/*
		 * Nothing to read.  A worker whose handle says it stopped is read
		 * once more; if its queue is still empty and attached then, it died
		 * without detaching (SIGKILL).
		 */
		{
			bool		newly_stopped = false;
			int			i;

			for (i = 0; i < par->nworkers; i++)
				if (!par->done[i] && !par->stopped[i] &&
					EtlPullWorkerStopped(par->group, i))
					par->stopped[i] = newly_stopped = true;
			if (newly_stopped)
				continue;
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
	par->chunk_rows[par->msg_worker]++;
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
	par->chunk_rows[par->msg_worker]++;
	return true;
}


/*
 * Detach from the workers, all finished (EtlPullParallelNext* returned
 * false).  "rows_written" is how many of the rows read the caller wrote
 * (or rejected): every one of them, or the load fails.
 */
void
EtlPullParallelEnd(EtlPullParallel *par, int64 rows_written)
{
	if (par->ndone != par->nworkers || par->nacked != par->shared->nchunks)
		elog(ERROR, "parallel read ended before every worker finished");
	if (rows_written != par->acked_rows)
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("parallel load wrote " INT64_FORMAT " rows, but its workers acknowledged " INT64_FORMAT,
						rows_written, par->acked_rows)));
	dsm_detach(par->seg);
}

/*
 * Send one message.  If the leader is gone there is nothing left to do.
 */
static void
send_message(EtlPullConnection *conn, shm_mq_handle *mqh, const void *data, Size len)
{
	if (shm_mq_send(mqh, len, data, false, true) != SHM_MQ_SUCCESS)
	{
		if (conn)
			EtlPullDisconnect(conn);
		proc_exit(0);
	}
}

/* Start a message of rows of "chunk" in "msg" (its header comes first) */
static void
start_rows(StringInfo msg, uint32 chunk)
{
	MessageHeader hdr;

	memset(&hdr, 0, sizeof(hdr));
	hdr.kind = MSG_ROWS;
	hdr.chunk = chunk;
	resetStringInfo(msg);
	appendBinaryStringInfo(msg, (char *) &hdr, sizeof(hdr));
	while (msg->len < HEADER_SIZE)
		appendStringInfoChar(msg, '\0');
}

/*
 * Send the "rows" rows gathered in "msg" as one message, and start the
 * next one.
 */
static void
send_rows(EtlPullConnection *conn, shm_mq_handle *mqh, StringInfo msg,
		  uint32 chunk, int64 rows)
{
	if (rows == 0)
		return;
	((MessageHeader *) msg->data)->rows = rows;
	send_message(conn, mqh, msg->data, msg->len);
	start_rows(msg, chunk);
}

/* Send a message without rows: an acknowledgement, or the end */
static void
send_control(EtlPullConnection *conn, shm_mq_handle *mqh, MessageKind kind,
			 uint32 chunk, int64 rows)
{
	union
	{
		MessageHeader hdr;
		char		bytes[HEADER_SIZE];
	}			m;

	memset(&m, 0, sizeof(m));
	m.hdr.kind = kind;
	m.hdr.chunk = chunk;
	m.hdr.rows = rows;
	send_message(conn, mqh, m.bytes, HEADER_SIZE);
}

/*
 * Tuple mode: the target's row type as the leader described it.  Dropped
 * attributes stand as int4 placeholders (they are always NULL).
 */
static TupleDesc
worker_tupdesc(shm_toc *toc, ParallelShared *shared)
{
	TargetAtt  *atts = shm_toc_lookup(toc, PARALLEL_KEY_TARGET_ATTS, false);
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
 * Tuple mode: raise the NOT NULL violation of attribute "att" as
 * ExecConstraints would (same SQLSTATE, message, detail and diagnostic
 * fields), with the MySQL row's key in the context.
 */
static void
not_null_violation(shm_toc *toc, EtlPullSource *source, TupleDesc desc,
				   Form_pg_attribute att, Datum *datums, bool *nulls, char **values)
{
	const char *target_schema = shm_toc_lookup(toc, PARALLEL_KEY_TARGET_SCHEMA, false);
	const char *target_rel = shm_toc_lookup(toc, PARALLEL_KEY_TARGET_REL, false);
	StringInfoData row;
	StringInfoData key;
	int			i;

	initStringInfo(&row);
	for (i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute a = TupleDescAttr(desc, i);

		if (a->attisdropped)
			continue;
		if (row.len > 0)
			appendStringInfoString(&row, ", ");
		if (nulls[i])
			appendStringInfoString(&row, "null");
		else
		{
			Oid			outfunc;
			bool		varlena;

			getTypeOutputInfo(a->atttypid, &outfunc, &varlena);
			appendStringInfoString(&row, OidOutputFunctionCall(outfunc, datums[i]));
		}
	}
	initStringInfo(&key);
	for (i = 0; i < source->ncolumns; i++)
		if (source->columns[i].pk_position > 0)
			appendStringInfo(&key, "%s%s=%s", key.len ? ", " : "", source->columns[i].name,
							 values[i] ? values[i] : "NULL");
	ereport(ERROR,
			(errcode(ERRCODE_NOT_NULL_VIOLATION),
			 errmsg("null value in column \"%s\" of relation \"%s\" violates not-null constraint",
					NameStr(att->attname), target_rel),
			 errdetail("Failing row contains (%s).", row.data),
			 errcontext("MySQL table \"%s.%s\", row with key (%s)",
						source->db, source->table, key.data),
			 err_generic_string(PG_DIAG_SCHEMA_NAME, target_schema),
			 err_generic_string(PG_DIAG_TABLE_NAME, target_rel),
			 err_generic_string(PG_DIAG_COLUMN_NAME, NameStr(att->attname))));
}

/*
 * Tuple mode: convert one row, check NOT NULL as ExecConstraints would, and
 * append the formed tuple to "msg".  Memory goes to the current context,
 * which the caller resets per row.
 */
static void
append_tuple(StringInfo msg, shm_toc *toc, EtlPullSource *source,
			 EtlPullConverter *conv, TupleDesc desc, char **values,
			 unsigned long *lengths, Datum *datums, bool *nulls)
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
			not_null_violation(toc, source, desc, att, datums, nulls, values);
	}
	tup = heap_form_minimal_tuple(desc, datums, nulls);
	len = tup->t_len;
	appendBinaryStringInfo(msg, (char *) &len, sizeof(uint32));
	appendBinaryStringInfo(msg, pad, MAXALIGN(sizeof(uint32)) - sizeof(uint32));
	appendBinaryStringInfo(msg, (char *) tup, len);
	appendBinaryStringInfo(msg, pad, MAXALIGN(len) - len);
}

/*
 * Background worker: take the snapshot, then read chunks into the data
 * queue, acknowledging each.  Errors are not caught: the background
 * worker's own error handling reports them, through the error queue, to
 * the leader, and exits.
 */
void
etl_pull_parallel_worker_main(Datum main_arg)
{
	dsm_segment *seg;
	shm_toc    *toc;
	ParallelShared *shared;
	WorkerSlot *slot;
	shm_mq	   *mq;
	shm_mq_handle *mqh;
	int			me;
	EtlPullTable *table;
	EtlPullConnection *conn;
	EtlPullSource *source = NULL;
	StringInfoData msg;
	int			ncols = 0;
	TupleDesc	desc = NULL;
	EtlPullConverter *conv = NULL;
	Datum	   *datums = NULL;
	bool	   *nulls = NULL;
	MemoryContext rowcxt = NULL;

	toc = EtlPullWorkerAttach(main_arg, PARALLEL_MAGIC, &seg, &me);
	shared = shm_toc_lookup(toc, PARALLEL_KEY_SHARED, false);
	slot = &shared->workers[me];
	mq = toc_queue(toc, PARALLEL_KEY_QUEUES, QUEUE_SIZE, me);
	shm_mq_set_sender(mq, MyProc);
	mqh = shm_mq_attach(mq, seg, NULL);
	EtlPullWorkerRedirectErrors(seg, toc, me);

	EtlPullWorkerConnect(shared->dboid, shared->roleid);
	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	pgstat_report_activity(STATE_RUNNING, "etl_pull: parallel load worker");

	/*
	 * A snapshot for the whole read: converting may run SQL (a domain's
	 * CHECK, an input function written in SQL or PL/pgSQL).
	 */
	PushActiveSnapshot(GetTransactionSnapshot());
	table = EtlPullReadTable(shm_toc_lookup(toc, PARALLEL_KEY_TABLE_NAME, false));
	conn = EtlPullConnect(GetForeignServer(table->serverid), shared->roleid);
	EtlPullApplyMysqlSettings(conn, table);
	(void) EtlPullJoinGroupSnapshot(&shared->snapshot, me, conn, true);

	if (shared->tuples)
	{
		source = EtlPullDescribeSource(conn,
									   shm_toc_lookup(toc, PARALLEL_KEY_SOURCE_DB, false),
									   shm_toc_lookup(toc, PARALLEL_KEY_SOURCE_TABLE, false));
		if (source->ncolumns != shared->ncolumns)
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("the MySQL table changed while the load started")));
		desc = worker_tupdesc(toc, shared);
		conv = EtlPullMakeConverters(table, source, desc,
									 shm_toc_lookup(toc, PARALLEL_KEY_ATTNUMS, false));
		datums = palloc(sizeof(Datum) * desc->natts);
		nulls = palloc(sizeof(bool) * desc->natts);
		rowcxt = AllocSetContextCreate(CurrentMemoryContext, "etl_pull worker row",
									   ALLOCSET_DEFAULT_SIZES);
	}

	EtlPullProgressWorkerStart(shared->target_relid);

	initStringInfo(&msg);
	for (;;)
	{
		uint32		c = pg_atomic_fetch_add_u32(&shared->next_chunk, 1);
		const char *where;
		StringInfoData sql;
		char	  **values;
		unsigned long *lengths;
		int64		chunk_rows = 0;
		int64		msg_rows = 0;

		if (c >= (uint32) shared->nchunks)
			break;
		where = shm_toc_lookup(toc, PARALLEL_KEY_CHUNK(c), false);
		initStringInfo(&sql);
		appendStringInfoString(&sql, shm_toc_lookup(toc, PARALLEL_KEY_SELECT, false));
		if (where[0])
			appendStringInfo(&sql, " WHERE %s", where);

		start_rows(&msg, c);
		EtlPullQueryStartProtocol(conn, sql.data, shared->ncolumns,
								  table->protocol == ETL_PROTOCOL_BINARY);
		ncols = EtlPullQueryFieldCount(conn);
		while (EtlPullFetch(conn, &values, &lengths))
		{
			int16		n16 = (int16) ncols;
			int			i;

			CHECK_FOR_INTERRUPTS();
			if (shared->tuples)
			{
				MemoryContext oldcxt = MemoryContextSwitchTo(rowcxt);

				append_tuple(&msg, toc, source, conv, desc, values, lengths,
							 datums, nulls);
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
			msg_rows++;
			chunk_rows++;
			if (msg.len >= MESSAGE_SIZE)
			{
				send_rows(conn, mqh, &msg, c, msg_rows);
				msg_rows = 0;
			}
			slot->rows++;
			if (slot->rows % ETL_PROGRESS_EVERY_ROWS == 0)
				EtlPullProgressWorkerRows(slot->rows);
		}
		EtlPullQueryEnd(conn);
		send_rows(conn, mqh, &msg, c, msg_rows);
		/* the chunk is read to its end, without error: acknowledge it */
		send_control(conn, mqh, MSG_ACK, c, chunk_rows);
	}
	EtlPullDisconnect(conn);
	pgstat_progress_end_command();
	PopActiveSnapshot();
	CommitTransactionCommand();
	pgstat_report_activity(STATE_IDLE, NULL);
	send_control(NULL, mqh, MSG_FINISHED, 0, slot->rows);

	/* detaching tells the leader this worker is gone */
	dsm_detach(seg);
}
