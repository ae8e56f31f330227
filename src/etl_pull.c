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

#include "access/xact.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/guc.h"

#include "etl_pull.h"
#include "catalog/etl_catalog.h"
#include "remote/remote.h"
#include "stream/stream.h"

PG_MODULE_MAGIC;

bool		EtlPullEnableOptimizations = true;
bool		EtlPullSkipUnchangedDefault = true;
int			EtlPullProgressRows = 1000000;
int			EtlPullProgressMessages = 1;
int			EtlPullNetTimeout = 3600;
double		EtlPullStreamThresholdMb = 0;
double		EtlPullCopyThresholdMb = 0;
int			EtlPullParallelThresholdRows = 0;
int			EtlPullInPlaceThresholdRows = 1000;
char	   *EtlPullPgSettings = NULL;
int			EtlPullMaxParallelLoads = 2;
int			EtlPullLockTimeout = 10;
int			EtlPullSwapLockTimeout = 60000;
int			EtlPullIndexBuildMemory = 262144;
char	   *EtlPullMysqlSettings = NULL;
int			EtlPullSourceStatementMs = 100;

/*
 * GUC check hooks of the two settings lists: each item must be name=value
 * and not refused by etl_pull, and a PostgreSQL setting must exist and
 * take its value (EtlPullSettingsListValid).  A superuser-only setting in
 * etl_pull.pg_settings is refused when a non-superuser sets the list
 * interactively or for ALTER ROLE/DATABASE ... SET (PGC_S_TEST); values
 * from the configuration files, or ALTER ... SET values checked then, are
 * not checked again (there may be no user, nor a transaction).
 */
static bool
check_settings_list(char **newval, GucSource source, bool pg)
{
	char	   *bad;
	const char *why;
	bool		refused;
	const char *guc = pg ? "etl_pull.pg_settings" : "etl_pull.mysql_settings";
	bool		check_rights = (source >= PGC_S_INTERACTIVE || source == PGC_S_TEST) &&
		IsTransactionState() && OidIsValid(GetOuterUserId());

	if (EtlPullSettingsListValid(*newval, pg, check_rights, source, &bad, &why,
								 &refused))
		return true;
	if (why == NULL)
		GUC_check_errdetail("Item \"%s\" is not of the form name=value.", bad);
	else if (refused)
	{
		GUC_check_errmsg("setting \"%s\" is not allowed in \"%s\"", bad, guc);
		GUC_check_errdetail("%s", why);
	}
	else
	{
		GUC_check_errmsg("invalid setting \"%s\" in \"%s\"", bad, guc);
		GUC_check_errdetail("%s", why);
		GUC_check_errhint("Name a PostgreSQL setting and a value it takes, or remove the item.");
	}
	return false;
}

static bool
check_pg_settings(char **newval, void **extra, GucSource source)
{
	return check_settings_list(newval, source, true);
}

static bool
check_mysql_settings(char **newval, void **extra, GucSource source)
{
	return check_settings_list(newval, source, false);
}

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

	DefineCustomBoolVariable("etl_pull.skip_unchanged",
							 "Skips loads of source tables unchanged since their last load.",
							 "For tables whose setting skip_unchanged is default; only MyISAM and non-transactional Aria sources can tell.",
							 &EtlPullSkipUnchangedDefault,
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

	DefineCustomRealVariable("etl_pull.stream_threshold_mb",
							 "Size from which auto loads a plain table with the stream strategy.",
							 "Smaller tables use the standard strategy.  The benchmark found stream fastest at every size, hence 0.",
							 &EtlPullStreamThresholdMb,
							 0, 0, 1e9,
							 PGC_USERSET, 0,
							 NULL, NULL, NULL);

	DefineCustomRealVariable("etl_pull.copy_threshold_mb",
							 "Size from which auto uses the copy strategy for targets stream cannot load.",
							 "Targets with triggers, rules or partitions; smaller tables use the standard strategy.",
							 &EtlPullCopyThresholdMb,
							 0, 0, 1e9,
							 PGC_USERSET, 0,
							 NULL, NULL, NULL);

	DefineCustomIntVariable("etl_pull.parallel_threshold_rows",
							"Rows from which auto would use the parallel strategy (0: never).",
							"The parallel strategy is not in this version, so auto never picks it.",
							&EtlPullParallelThresholdRows,
							0, 0, INT_MAX,
							PGC_USERSET, 0,
							NULL, NULL, NULL);

	DefineCustomIntVariable("etl_pull.in_place_threshold_rows",
							"Rows up to which the stream strategy loads a small table in place (0: never).",
							"The target's old rows are deleted and the new ones inserted in the load's transaction, instead of a new heap swapped in with its indexes rebuilt.",
							&EtlPullInPlaceThresholdRows,
							1000, 0, INT_MAX,
							PGC_USERSET, 0,
							NULL, NULL, NULL);

	DefineCustomIntVariable("etl_pull.max_parallel_loads",
							"Tables etl_pull.load_all loads at once.",
							"Each takes a background worker (max_worker_processes).",
							&EtlPullMaxParallelLoads,
							2, 1, 64,
							PGC_USERSET, 0,
							NULL, NULL, NULL);

	DefineCustomIntVariable("etl_pull.lock_timeout",
							"How long the parallel strategy waits for the lock that gives its workers one snapshot.",
							"MySQL's lock_wait_timeout for FLUSH TABLES ... WITH READ LOCK; past it the load goes on with a WARNING.",
							&EtlPullLockTimeout,
							10, 1, 3600,
							PGC_USERSET, GUC_UNIT_S,
							NULL, NULL, NULL);

	DefineCustomIntVariable("etl_pull.swap_lock_timeout",
							"How long stream and parallel loads wait for the lock that swaps in the new rows.",
							"The swap needs AccessExclusiveLock on the target; past this the load fails and the target keeps its rows.",
							&EtlPullSwapLockTimeout,
							60000, 1, INT_MAX,
							PGC_USERSET, GUC_UNIT_MS,
							NULL, NULL, NULL);

	DefineCustomIntVariable("etl_pull.index_build_memory",
							"maintenance_work_mem of a load's secondary index builds.",
							"The builds of indexes = all and a swap's rebuild of a target with secondary indexes sort with this much memory, in place of what etl_pull.pg_settings sets; it also bounds their parallel maintenance workers (32 MB each).",
							&EtlPullIndexBuildMemory,
							262144, 1024, MAX_KILOBYTES,
							PGC_USERSET, GUC_UNIT_KB,
							NULL, NULL, NULL);

	DefineCustomStringVariable("etl_pull.pg_settings",
							   "PostgreSQL settings for the duration of each load.",
							   "A list of name=value items; synchronous_commit, an opt-in, lasts to the end of the load's transaction.",
							   &EtlPullPgSettings,
							   "maintenance_work_mem=16MB",
							   PGC_USERSET, 0,
							   check_pg_settings, NULL, NULL);

	DefineCustomStringVariable("etl_pull.mysql_settings",
							   "MySQL session settings of each load's connections.",
							   "A list of name=value items, sent as SET SESSION.",
							   &EtlPullMysqlSettings,
							   "",
							   PGC_USERSET, 0,
							   check_mysql_settings, NULL, NULL);

	DefineCustomIntVariable("etl_pull.source_statement_ms",
							"Longest a statement reading a MyISAM table should hold it (0: one statement per table).",
							"A full load reads such a table with an integer primary key in key-range statements of about this duration, then re-checks it until it settles; verify and diff compare its ranges in statements of about this duration.",
							&EtlPullSourceStatementMs,
							100, 0, 60000,
							PGC_USERSET, GUC_UNIT_MS,
							NULL, NULL, NULL);

	MarkGUCPrefixReserved("etl_pull");

	/*
	 * in shared_preload_libraries: resume the streams after a restart, and
	 * initialise the MySQL client library once, for every backend to inherit
	 */
	if (process_shared_preload_libraries_in_progress)
	{
		EtlPullStreamLauncherRegister();
		EtlPullClientLibraryInit();
	}
}
