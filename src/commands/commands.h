/*-------------------------------------------------------------------------
 *
 * commands/commands.h
 *		  etl_pull.load_all() (load_all.c): the entry point of its workers,
 *		  which it starts by name, and the connection a worker lends to
 *		  each load it runs.
 *
 * IDENTIFICATION
 *		  src/commands/commands.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef ETL_PULL_LOAD_ALL_H
#define ETL_PULL_LOAD_ALL_H

#include "fmgr.h"

#include "etl_pull.h"

extern EtlPullLentConnection *EtlPullLendConnection(EtlPullTable *table);

extern PGDLLEXPORT void etl_pull_load_worker_main(Datum main_arg);

#endif							/* ETL_PULL_LOAD_ALL_H */
