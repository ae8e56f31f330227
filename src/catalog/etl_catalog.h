/*-------------------------------------------------------------------------
 *
 * etl_catalog.h
 *		  What the catalog folder offers the others: the options and
 *		  settings (option.c, settings_list.c), etl_pull's own tables and
 *		  the identity switches (catalog.c), and the recorded runs
 *		  (recorder.c).  Nothing here talks to MySQL.
 *
 * (Not catalog.h: PostgreSQL's catalog/catalog.h has that name.)
 *
 * IDENTIFICATION
 *		  src/catalog/etl_catalog.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef ETL_PULL_CATALOG_H
#define ETL_PULL_CATALOG_H

#include "executor/spi.h"
#include "utils/guc.h"

#include "etl_pull.h"

/* in option.c */
extern void EtlPullGetConnOptions(ForeignServer *server, UserMapping *um,
								  EtlPullConnOptions *opts);
extern const EtlPullSettingDesc EtlPullTableSettings[];
extern const int EtlPullNumTableSettings;
extern int	EtlPullChoiceOrdinal(const char *value, const char *choices);
extern char *EtlPullCheckTableOption(const char *key, const char *value);
extern const EtlPullSettingDesc *EtlPullFindTableSetting(const char *key);
extern char *EtlPullChoiceName(const char *setting, int ordinal);
extern List *EtlPullParseColumnTypes(const char *value);

/* in catalog.c */
extern const char *EtlPullSettingSqlType(EtlPullSettingKind kind);
extern EtlPullTable *EtlPullReadTable(const char *name);
extern void EtlPullSplitSourceTable(const char *value, char **db, char **table);
extern void EtlPullResolveTarget(const char *name, const char *target,
								 char **schema, char **table);
extern void EtlPullCheckTargetSchema(const char *schema);
extern void EtlPullRecordCreatedTarget(Oid relid, const char *table_name);
extern bool EtlPullCreatedTarget(Oid relid);
extern void EtlPullCheckAdoptable(Oid relid, Oid registrant);
extern bool EtlPullRowSecurityApplies(Oid relid, Oid roleid, bool noerror);
extern void EtlPullRefuseRowSecurity(Oid relid, Oid roleid, const char *qname,
									 const char *what);
extern void EtlPullCheckTargetRelation(Oid relid, const char *qname);
extern int	EtlPullPinSearchPath(void);
extern Oid	EtlPullExtensionOwner(void);
extern void EtlPullAsRole(Oid roleid, EtlPullUserState *st);
extern void EtlPullAsOwner(EtlPullUserState *st);
extern void EtlPullAsCaller(EtlPullUserState *st);
extern int64 EtlPullNextRunId(void);
extern SPIPlanPtr EtlPullOwnerPlan(const char *sql, int nargs, Oid *argtypes);
extern void EtlPullOwnerExec(const char *sql, int nargs, Oid *argtypes,
							 Datum *args, const char *nulls, int expected,
							 const char *what);
extern void EtlPullRecordReject(EtlPullTable *table, int64 run_id,
								EtlPullReject *reject);
extern int64 EtlPullPeakMemoryKb(void);

/* in settings_list.c: one "name=value" of a settings list */
typedef struct EtlPullSetting
{
	char	   *name;
	char	   *value;
} EtlPullSetting;

extern List *EtlPullParseSettings(const char *list, char **bad);
extern bool EtlPullSettingIsNumber(const char *value);
extern const char *EtlPullSettingRefusal(const EtlPullSetting *s, bool pg,
										 bool check_rights);
extern void EtlPullRefuseSetting(const char *what, const char *name,
								 const char *why) pg_attribute_noreturn();
extern const char *EtlPullRefusedSqlMode(const char *mode);
extern const char *EtlPullMysqlSettingWhy(const char *name);
extern bool EtlPullSettingsListValid(const char *list, bool pg, bool check_rights,
									 GucSource source, char **bad,
									 const char **why, bool *refused);
extern void EtlPullCheckSettingsList(const char *what, const char *list, bool pg);
extern int	EtlPullApplyPgSettings(EtlPullTable *table);

/* in recorder.c */
extern void EtlPullRunNote(EtlPullRunResult *r, const char *fmt,...) pg_attribute_printf(2, 3);
extern void EtlPullRecordRun(EtlPullTable *table, EtlPullRunResult *result);
extern bool EtlPullRecordFailedRun(EtlPullTable *table, EtlPullRunResult *result,
								   const char *error);
extern int64 EtlPullRecordSkippedRun(EtlPullTable *table);
extern void EtlPullForgetLastRun(void);
extern int64 EtlPullLastRunId(void);
extern double EtlPullSecondsSince(TimestampTz start);

/* what EtlPullRecordedRun runs: fills "result" as it goes */
typedef void (*EtlPullRunBody) (EtlPullTable *table, EtlPullRunResult *result,
								void *arg);
extern void EtlPullRecordedRun(EtlPullTable *table, EtlPullRunResult *result,
							   EtlPullRunBody body, void *arg);

/* the recorder worker's entry point, started by name */
extern PGDLLEXPORT void etl_pull_recorder_main(Datum main_arg);

#endif							/* ETL_PULL_CATALOG_H */
