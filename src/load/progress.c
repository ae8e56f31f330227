/*-------------------------------------------------------------------------
 *
 * progress.c
 *		  Live progress of a load: the backend progress slots that the
 *		  etl_pull.progress view reads, and the progress messages.
 *
 * Progress is published through the backend progress slots of COPY, the
 * only command slots an extension can use without being preloaded, in
 * slots that neither COPY (a copy-strategy load runs one) nor an index
 * build during the swap writes.  The view (etl_pull--1.0--1.1.sql) reads
 * pg_stat_get_progress_info('COPY'), whose paramN is slot N - 1:
 *
 *	slot 7	(param8)	bytes read from MySQL
 *	slot 15 (param16)	ETL_PULL_MARKER: the row is an etl_pull load
 *	slot 16 (param17)	phase (EtlPullPhase)
 *	slot 17 (param18)	rows read
 *	slot 18 (param19)	rows estimated (information_schema.TABLES)
 *	slot 19 (param20)	start, in Unix microseconds
 *
 * A parallel worker publishes its own row (phase "reading") with the rows
 * it has read; the leader's row counts the rows written.
 *
 * IDENTIFICATION
 *		  src/load/progress.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "pgstat.h"
#include "utils/backend_progress.h"
#include "utils/timestamp.h"

#include "etl_pull.h"
#include "catalog/etl_catalog.h"
#include "load/progress.h"

#define PROGRESS_ETL_BYTES		7
#define PROGRESS_ETL_MARKER		15
#define PROGRESS_ETL_PHASE		16
#define PROGRESS_ETL_ROWS		17
#define PROGRESS_ETL_ROWS_TOTAL 18
#define PROGRESS_ETL_STARTED	19

/* A timestamp as Unix microseconds, for to_timestamp() in the view */
static int64
unix_usecs(TimestampTz t)
{
	return t + (int64) (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * USECS_PER_DAY;
}

/* Start publishing the progress of a load (phase "streaming") */
void
EtlPullProgressStart(EtlPullProgress *p)
{
	const int	index[] = {PROGRESS_ETL_MARKER, PROGRESS_ETL_PHASE,
	PROGRESS_ETL_ROWS_TOTAL, PROGRESS_ETL_STARTED};
	int64		val[4];

	val[0] = ETL_PULL_MARKER;
	val[1] = ETL_PHASE_STREAMING;
	val[2] = p->estimated_rows;
	val[3] = unix_usecs(p->started);
	pgstat_progress_start_command(PROGRESS_COMMAND_COPY, p->target_oid);
	pgstat_progress_update_multi_param(4, index, val);
}

void
EtlPullProgressPhase(EtlPullPhase phase)
{
	pgstat_progress_update_param(PROGRESS_ETL_PHASE, phase);
}

/* Publish the rows and bytes so far */
void
EtlPullProgressSlots(EtlPullProgress *p)
{
	const int	index[] = {PROGRESS_ETL_ROWS, PROGRESS_ETL_BYTES};
	int64		val[2];

	val[0] = p->result->rows;
	val[1] = p->result->bytes;
	pgstat_progress_update_multi_param(2, index, val);
}

/* Log (or, with etl_pull.progress_messages = notice, send) a progress line */
void
EtlPullProgressMessage(EtlPullProgress *p)
{
	long		secs;
	int			usecs;
	double		elapsed;
	int64		rows = p->result->rows;

	TimestampDifference(p->started, GetCurrentTimestamp(), &secs, &usecs);
	elapsed = secs + usecs / 1000000.0;
	ereport(EtlPullProgressMessages == 2 ? NOTICE : LOG,
			(errmsg("etl_pull: %s: " INT64_FORMAT " rows in %.1f s (%.0f rows/s), backend peak memory " INT64_FORMAT " kB",
					p->table_name, rows, elapsed,
					elapsed > 0 ? rows / elapsed : 0.0,
					EtlPullPeakMemoryKb())));
	p->last_message_rows = rows;
}

/* The load is done: the final count, and the row leaves the view */
void
EtlPullProgressEnd(EtlPullProgress *p)
{
	pgstat_progress_update_param(PROGRESS_ETL_ROWS, p->result->rows);
	pgstat_progress_end_command();
}

/* A parallel worker starts reading rows for a load into "target_oid" */
void
EtlPullProgressWorkerStart(Oid target_oid)
{
	const int	index[] = {PROGRESS_ETL_MARKER, PROGRESS_ETL_PHASE,
	PROGRESS_ETL_STARTED};
	int64		val[3];

	val[0] = ETL_PULL_MARKER;
	val[1] = ETL_PHASE_READING;
	val[2] = unix_usecs(GetCurrentTimestamp());
	pgstat_progress_start_command(PROGRESS_COMMAND_COPY, target_oid);
	pgstat_progress_update_multi_param(3, index, val);
	pgstat_progress_update_param(PROGRESS_ETL_ROWS, 0);
}

/* The rows a parallel worker has read */
void
EtlPullProgressWorkerRows(int64 rows)
{
	pgstat_progress_update_param(PROGRESS_ETL_ROWS, rows);
}

PG_FUNCTION_INFO_V1(etl_pull_progress_marker);

/*
 * SQL: etl_pull.progress_marker() returns integer: ETL_PULL_MARKER, for
 * the progress view and for finding the "loading" locks in pg_locks.
 */
Datum
etl_pull_progress_marker(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT32(ETL_PULL_MARKER);
}
