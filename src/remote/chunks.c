/*-------------------------------------------------------------------------
 *
 * chunks.c
 *		  A read of a MyISAM table in key-range statements of bounded
 *		  duration, behind the one streamed query its callers see.
 *
 * A statement that reads a MyISAM table holds the table's read lock until
 * its last row is sent, and with a streamed result that is until the load
 * has converted and written the row before it: the application's UPDATE
 * and DELETE wait for as long (design.md, invariant 12).  So a full read
 * of such a table (EtlPullSourceChunkKey: a single integer primary key)
 * goes in statements "WHERE key > <last key read> ORDER BY key LIMIT n",
 * each started when the one before has ended, with n adapted after each
 * statement so that it lasts about etl_pull.source_statement_ms, our
 * converting and writing included.  The caller streams as from one query:
 * EtlPullFetch starts the next statement when one ends with n rows
 * (EtlPullRangeNext), and EtlPullQueryEnd ends the read.
 *
 * The last key of a statement is parsed as an integer and printed anew:
 * nothing MySQL sends becomes SQL text.  The read is fuzzy: rows written
 * while it runs may be missed or seen in another range.  The load makes
 * it exact afterwards (load/settle.c).
 *
 * IDENTIFICATION
 *		  src/remote/chunks.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "lib/stringinfo.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "etl_pull.h"
#include "remote/connection_int.h"
#include "remote/remote.h"

/* the rows of the first statement, and the bounds of the adaptation */
#define FIRST_ROWS 1000
#define MIN_ROWS 100
#define MAX_ROWS 10000000

/* A read in key ranges on a connection (conn->ranges) */
typedef struct EtlPullRangeRead
{
	MemoryContext cxt;			/* this, until the read ends */
	EtlPullSource *source;
	EtlPullSourceColumn *key;
	int			keyno;			/* the key's column in each row */
	const char *where;			/* the caller's predicate, or NULL */
	bool		binary;
	bool	   *native;			/* columns handed over as EtlPullNative */
	StringInfoData sql;			/* the statement in progress */
	int64		limit;			/* its LIMIT */
	int64		rows;			/* rows it sent so far */
	TimestampTz started;
	char		last[64];		/* the last row's key, as it came */
	unsigned long last_len;
	bool		last_native;
	int			statements;
	double		longest_ms;
	int			stmt_level;		/* the transaction level that owns the read */
} EtlPullRangeRead;

/*
 * The size (rows, ranges) of the next of a run of statements meant to last
 * about etl_pull.source_statement_ms each: "size" scaled by how long the
 * last one took ("ms"), by a factor between 1/4 and 4, within [min, max].
 * verify.c sizes its aggregates so too.
 */
int64
EtlPullNextStatementSize(int64 size, double ms, int64 min, int64 max)
{
	double		factor = ms > 0.5 ? Max(EtlPullSourceStatementMs, 1) / ms : 4.0;

	factor = Min(Max(factor, 0.25), 4.0);
	return (int64) Min(Max(size * factor, (double) min), (double) max);
}

/* Milliseconds since "started" */
double
EtlPullMsSince(TimestampTz started)
{
	long		secs;
	int			usecs;

	TimestampDifference(started, GetCurrentTimestamp(), &secs, &usecs);
	return secs * 1000.0 + usecs / 1000.0;
}

/* Start the read's next statement, from key "after" (NULL: the first) */
static void
start_range(EtlPullConnection *conn, EtlPullRangeRead *r, const char *after)
{
	MemoryContext oldcxt = MemoryContextSwitchTo(r->cxt);

	EtlPullSourceRangeSelect(&r->sql, r->source, r->key, r->where, after,
							 r->limit);
	MemoryContextSwitchTo(oldcxt);
	r->rows = 0;
	r->started = GetCurrentTimestamp();
	r->statements++;
	EtlPullQueryStartProtocol(conn, r->sql.data, r->source->ncolumns, r->binary);
	conn->stmt_level = r->stmt_level;
}

/*
 * Start reading the rows of "source" that "where" selects (or all), by
 * integer key "key", in statements of bounded duration
 */
void
EtlPullRangeQueryStart(EtlPullConnection *conn, EtlPullSource *source,
					   EtlPullSourceColumn *key, const char *where,
					   bool binary)
{
	MemoryContext cxt = AllocSetContextCreate(TopMemoryContext,
											  "etl_pull range read",
											  ALLOCSET_SMALL_SIZES);
	EtlPullRangeRead *r = MemoryContextAllocZero(cxt, sizeof(EtlPullRangeRead));
	MemoryContext oldcxt;

	r->cxt = cxt;
	r->source = source;
	r->key = key;
	r->keyno = key - source->columns;
	r->where = where ? MemoryContextStrdup(cxt, where) : NULL;
	r->binary = binary;
	r->native = MemoryContextAllocZero(cxt, sizeof(bool) * Max(source->ncolumns, 1));
	r->limit = FIRST_ROWS;
	r->stmt_level = GetCurrentTransactionNestLevel();
	oldcxt = MemoryContextSwitchTo(cxt);
	initStringInfo(&r->sql);
	MemoryContextSwitchTo(oldcxt);
	conn->read_statements = 0;
	conn->read_longest_ms = 0;
	start_range(conn, r, NULL);
	conn->ranges = r;
}

/* A source read in one statement: what EtlPullLastReadStatements reports */
void
EtlPullNoteOneStatement(EtlPullConnection *conn)
{
	conn->read_statements = 1;
	conn->read_longest_ms = 0;
}

/* A row of the statement in progress: keep its key, as it came */
void
EtlPullRangeRow(EtlPullConnection *conn, char **values, unsigned long *lengths)
{
	EtlPullRangeRead *r = conn->ranges;
	unsigned long len = lengths[r->keyno];

	if (values[r->keyno] == NULL)
		EtlPullBadReply(conn, "A row has a NULL primary key.");
	if (len >= sizeof(r->last))
		EtlPullBadReply(conn, psprintf("A row's integer key is %lu bytes long.", len));
	memcpy(r->last, values[r->keyno], len);
	r->last[len] = '\0';
	r->last_len = len;
	r->last_native = (conn->stmt != NULL && conn->bcols[r->keyno].native);
	r->rows++;
}

/* The last key read, parsed and printed anew as a MySQL integer literal */
static char *
last_key(EtlPullConnection *conn, EtlPullRangeRead *r)
{
	if (r->last_native)
	{
		EtlPullNative nat;

		if (r->last_len != sizeof(nat))
			EtlPullBadReply(conn, "An integer key came in a value of another size.");
		memcpy(&nat, r->last, sizeof(nat));
		return psprintf(INT64_FORMAT, nat.i);
	}
	if (r->key->is_unsigned && r->key->int_bytes == 8)
		return psprintf(UINT64_FORMAT,
						EtlPullReplyUint64(conn, r->last, "An integer key"));
	return psprintf(INT64_FORMAT, EtlPullReplyInt64(conn, r->last, "An integer key"));
}

/*
 * The statement in progress has sent its last row: if it sent as many as
 * its LIMIT, end it and start the next one past its last key, with a LIMIT
 * that makes it last about etl_pull.source_statement_ms (returns true);
 * otherwise the read is complete (false).
 */
bool
EtlPullRangeNext(EtlPullConnection *conn)
{
	EtlPullRangeRead *r = conn->ranges;
	double		ms = EtlPullMsSince(r->started);
	char	   *after;
	int			i;

	r->longest_ms = Max(r->longest_ms, ms);
	if (r->rows < r->limit)
		return false;

	after = last_key(conn, r);
	/* the converters' choice of native columns, for the next statement */
	if (conn->stmt != NULL)
		for (i = 0; i < r->source->ncolumns; i++)
			r->native[i] = conn->bcols[i].native;
	conn->ranges = NULL;
	EtlPullQueryEnd(conn);
	conn->ranges = r;

	r->limit = EtlPullNextStatementSize(r->limit, ms, MIN_ROWS, MAX_ROWS);
	start_range(conn, r, after);
	if (conn->stmt != NULL)
		for (i = 0; i < r->source->ncolumns; i++)
			conn->bcols[i].native = r->native[i];
	return true;
}

/* The read has ended (EtlPullQueryEnd), or its connection is closed */
void
EtlPullRangeDone(EtlPullConnection *conn)
{
	EtlPullRangeRead *r = conn->ranges;

	conn->ranges = NULL;
	conn->read_statements = r->statements;
	conn->read_longest_ms = r->longest_ms;
	MemoryContextDelete(r->cxt);
}

/*
 * How many statements the connection's last source read took (0 if it has
 * made none), and the duration of the longest one in *longest_ms (0 when
 * it read in one statement, not timed)
 */
int
EtlPullLastReadStatements(EtlPullConnection *conn, double *longest_ms)
{
	if (longest_ms)
		*longest_ms = conn->read_longest_ms;
	return conn->read_statements;
}
