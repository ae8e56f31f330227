/*-------------------------------------------------------------------------
 *
 * commands.h
 *		  What the commands folder offers: the worker entry points of
 *		  etl_pull.load_all() (load_all.c) and of the pg_cron jobs (cron.c),
 *		  which they start by name, and the connection a
 *		  worker lends to each load it runs (load_table.c asks for it); what
 *		  an extraction sees of the source's changes and a list of names
 *		  (plan.c), which import_tables uses too.
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
extern char *EtlPullNameList(List *names);
extern void EtlPullExtractionSight(EtlPullExtraction extraction, List *columns,
								   bool append_only, bool delete_missing,
								   int full_compare_every,
								   const char **sees, const char **misses);

extern PGDLLEXPORT void etl_pull_load_worker_main(Datum main_arg);
extern PGDLLEXPORT void etl_pull_cron_worker_main(Datum main_arg);

#endif							/* ETL_PULL_COMMANDS_H */
