/*-------------------------------------------------------------------------
 *
 * progress.h
 *		  Live progress of a load, published for the etl_pull.progress view
 *		  and logged every etl_pull.progress_rows rows (progress.c).
 *
 * IDENTIFICATION
 *		  src/load/progress.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef ETL_PULL_PROGRESS_H
#define ETL_PULL_PROGRESS_H

#include "datatype/timestamp.h"

#include "etl_pull.h"

/*
 * "ETLP": marks etl_pull's loads among the COPY progress slots, and is the
 * class (first key) of the "table is loading" advisory locks.  SQL reads it
 * from etl_pull.progress_marker(), never as a literal.
 */
#define ETL_PULL_MARKER			0x45544c50

/* Phases, in the view's "phase" column */
typedef enum EtlPullPhase
{
	ETL_PHASE_STREAMING = 1,
	ETL_PHASE_SWAPPING = 2,
	ETL_PHASE_MERGING = 3,
	ETL_PHASE_READING = 4		/* a parallel worker */
} EtlPullPhase;

/* The view's slots are written every this many rows */
#define ETL_PROGRESS_EVERY_ROWS 1024

/* The progress of one load: its counters are the run's */
typedef struct EtlPullProgress
{
	const char *table_name;		/* registered name, for messages */
	Oid			target_oid;
	TimestampTz started;
	int64		estimated_rows;
	int64		last_message_rows;	/* rows at the last progress message */
	EtlPullRunResult *result;	/* rows and bytes so far */
} EtlPullProgress;

extern void EtlPullProgressStart(EtlPullProgress *p);
extern void EtlPullProgressPhase(EtlPullPhase phase);
extern void EtlPullProgressSlots(EtlPullProgress *p);
extern void EtlPullProgressMessage(EtlPullProgress *p);
extern void EtlPullProgressEnd(EtlPullProgress *p);
extern void EtlPullProgressWorkerStart(Oid target_oid);
extern void EtlPullProgressWorkerRows(int64 rows);

/* Count a row of "bytes" bytes: run totals, the view's slots, messages */
static inline void
EtlPullCountRow(EtlPullProgress *p, int64 bytes)
{
	EtlPullRunResult *r = p->result;

	r->rows++;
	r->bytes += bytes;
	if (r->rows % ETL_PROGRESS_EVERY_ROWS == 0)
		EtlPullProgressSlots(p);
	if (EtlPullProgressMessages > 0 && EtlPullProgressRows > 0 &&
		r->rows - p->last_message_rows >= EtlPullProgressRows)
		EtlPullProgressMessage(p);
}

/* Count a MySQL row of "ncolumns" values */
static inline void
EtlPullCountFetchedRow(EtlPullProgress *p, unsigned long *lengths, int ncolumns)
{
	int64		bytes = 0;
	int			i;

	for (i = 0; i < ncolumns; i++)
		bytes += lengths[i];
	EtlPullCountRow(p, bytes);
}

#endif							/* ETL_PULL_PROGRESS_H */
