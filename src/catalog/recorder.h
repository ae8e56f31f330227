/*-------------------------------------------------------------------------
 *
 * recorder.h
 *		  Recording runs in etl_pull.runs (recorder.c): a successful one in
 *		  the load's transaction, a failed one by a worker of its own.
 *
 * IDENTIFICATION
 *		  src/catalog/recorder.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef ETL_PULL_RECORDER_H
#define ETL_PULL_RECORDER_H

#include "etl_pull.h"

extern void EtlPullRunNote(EtlPullRunResult *r, const char *fmt,...) pg_attribute_printf(2, 3);
extern void EtlPullRecordRun(EtlPullTable *table, EtlPullRunResult *result);
extern void EtlPullRecordFailedRun(EtlPullTable *table, EtlPullRunResult *result,
								   const char *error);

/* what EtlPullRecordedRun runs: fills "result" as it goes */
typedef void (*EtlPullRunBody) (EtlPullTable *table, EtlPullRunResult *result,
								void *arg);
extern void EtlPullRecordedRun(EtlPullTable *table, EtlPullRunResult *result,
							   EtlPullRunBody body, void *arg);

/* the recorder worker's entry point, started by name */
extern PGDLLEXPORT void etl_pull_recorder_main(Datum main_arg);

#endif							/* ETL_PULL_RECORDER_H */
