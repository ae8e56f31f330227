/*-------------------------------------------------------------------------
 *
 * etl_pull.c
 *		  Module entry point and the etl_pull.* configuration parameters.
 *
 * IDENTIFICATION
 *		  src/etl_pull.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <limits.h>

#include "fmgr.h"
#include "utils/guc.h"

#include "etl_pull.h"

PG_MODULE_MAGIC;

bool		EtlPullEnableOptimizations = true;
int			EtlPullProgressRows = 1000000;
int			EtlPullProgressMessages = 1;
int			EtlPullNetTimeout = 3600;

static const struct config_enum_entry progress_message_options[] = {
	{"off", 0, false},
	{"log", 1, false},
	{"notice", 2, false},
	{NULL, 0, false}
};

void		_PG_init(void);

void
_PG_init(void)
{
	DefineCustomBoolVariable("etl_pull.enable_optimizations",
							 "Lets loads use the fast strategies.",
							 "When off, every load uses the standard strategy (plain INSERTs).",
							 &EtlPullEnableOptimizations,
							 true,
							 PGC_USERSET, 0,
							 NULL, NULL, NULL);

	DefineCustomIntVariable("etl_pull.progress_rows",
							"Rows between two progress messages of a load.",
							NULL,
							&EtlPullProgressRows,
							1000000, 1000, INT_MAX,
							PGC_USERSET, 0,
							NULL, NULL, NULL);

	DefineCustomEnumVariable("etl_pull.progress_messages",
							 "Where progress messages of a load go.",
							 "off: none; log: the server log; notice: the client too.",
							 &EtlPullProgressMessages,
							 1, progress_message_options,
							 PGC_USERSET, 0,
							 NULL, NULL, NULL);

	DefineCustomIntVariable("etl_pull.net_timeout",
							"MySQL net_read_timeout and net_write_timeout for load sessions.",
							"How long the MySQL server waits on a slow consumer before dropping the connection.",
							&EtlPullNetTimeout,
							3600, 1, 31536000,
							PGC_USERSET, GUC_UNIT_S,
							NULL, NULL, NULL);

	MarkGUCPrefixReserved("etl_pull");
}
