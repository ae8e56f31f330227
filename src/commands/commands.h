/*-------------------------------------------------------------------------
 *
 * commands.h
 *		  What the commands folder offers: etl_pull.load_all()'s (load_all.c)
 *		  worker entry point, which it starts by name, and the connection a
 *		  worker lends to each load it runs (load_table.c asks for it).
 *
 * IDENTIFICATION
 *		  src/commands/commands.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef ETL_PULL_COMMANDS_H
#define ETL_PULL_COMMANDS_H

#include "fmgr.h"

#include "load/load.h"

extern EtlPullLentConnection *EtlPullLendConnection(EtlPullTable *table);

extern PGDLLEXPORT void etl_pull_load_worker_main(Datum main_arg);

#endif							/* ETL_PULL_COMMANDS_H */
