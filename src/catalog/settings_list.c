/*-------------------------------------------------------------------------
 *
 * settings_list.c
 *		  Lists of session settings, "name=value, name=value": their grammar,
 *		  the settings a load refuses, and the PostgreSQL half of applying
 *		  them.
 *
 * Settings are lists given globally (etl_pull.pg_settings,
 * etl_pull.mysql_settings) and per table (settings pg_settings,
 * mysql_settings, applied after the global ones).  Nothing here talks to
 * MySQL: remote/session.c sends a MySQL list as SET SESSION and checks
 * what it did to the session.
 *
 * PostgreSQL settings apply to the load only: they are set at a new GUC
 * nest level, which the caller pops when the load ends, as a function's
 * SET clause does; synchronous_commit, which only matters at commit, is
 * set LOCAL, so it lasts to the end of the load's transaction and no
 * further: it weakens the durability of all of that transaction, so no
 * default sets it, and README.md says so.
 *
 * IDENTIFICATION
 *		  src/catalog/settings_list.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <ctype.h>

#include "access/xact.h"
#include "catalog/pg_parameter_acl.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/guc.h"
#include "utils/guc_tables.h"

#include "etl_pull.h"
#include "catalog/etl_catalog.h"

static char *
trim(char *s)
{
	char	   *end;

	while (isspace((unsigned char) *s))
		s++;
	end = s + strlen(s);
	while (end > s && isspace((unsigned char) end[-1]))
		*--end = '\0';
	return s;
}

/*
 * Parse "name=value, ..." into a list of Setting.  On a syntax error,
 * returns NIL and sets *bad to the offending item.
 */
List *
EtlPullParseSettings(const char *list, char **bad)
{
	List	   *result = NIL;
	char	   *copy = pstrdup(list ? list : "");
	char	   *item;
	char	   *save = NULL;

	*bad = NULL;
	for (item = strtok_r(copy, ",", &save); item; item = strtok_r(NULL, ",", &save))
	{
		char	   *eq = strchr(item, '=');
		EtlPullSetting *s;
		char	   *p;

		if (trim(item)[0] == '\0')
			continue;
		if (eq == NULL)
		{
			*bad = trim(item);
			return NIL;
		}
		*eq = '\0';
		s = palloc(sizeof(EtlPullSetting));
		s->name = trim(item);
		s->value = trim(eq + 1);
		for (p = s->name; *p; p++)
			if (!isalnum((unsigned char) *p) && *p != '_' && *p != '.')
				break;
		if (s->name[0] == '\0' || *p != '\0' || s->value[0] == '\0')
		{
			*bad = psprintf("%s=%s", s->name, s->value);
			return NIL;
		}
		result = lappend(result, s);
	}
	return result;
}

/*
 * Settings a list must not change, because a load relies on them (see the
 * trust model in README.md): what etl_pull sets up on the MySQL session
 * itself, and which PostgreSQL role and search_path the load runs with.
 * Names are compared without case, as both servers do; a "prefix" entry
 * covers every name that starts with it.
 */
typedef struct RefusedSetting
{
	const char *name;
	bool		prefix;
	const char *why;
} RefusedSetting;

static const RefusedSetting refused_mysql[] = {
	{"time_zone", false,
	"A load reads MySQL timestamps in UTC (time_zone \"+00:00\"); another zone would shift every value."},
	{"character_set_", true,
	"A load reads text and escapes literals in utf8mb4, which etl_pull sets itself."},
	{"collation_connection", false,
	"A load compares and escapes text in the utf8mb4 collation that etl_pull sets itself."},
	{"names", false,
	"A load reads text and escapes literals in utf8mb4, which etl_pull sets itself."},
	{"sql_select_limit", false,
	"A row limit would end a load early without an error."},
	{"transaction_", true,
	"A load reads one consistent snapshot in a read-only REPEATABLE READ transaction that etl_pull starts itself."},
	{"tx_", true,
	"A load reads one consistent snapshot in a read-only REPEATABLE READ transaction that etl_pull starts itself."},
	{"autocommit", false,
	"A load reads one consistent snapshot in a transaction that etl_pull starts itself."},
	{NULL, false, NULL}
};

static const RefusedSetting refused_pg[] = {
	{"search_path", false,
	"A load resolves names with a search_path of its own, never through another."},
	{"session_authorization", false,
	"A load runs with the rights of the role that calls it, never another's."},
	{"role", false,
	"A load runs with the rights of the role that calls it, never another's."},
	{NULL, false, NULL}
};

/*
 * sql_mode values that change how MySQL reads what etl_pull sends (quotes,
 * escapes, operators) or what it returns (padded CHAR, '' as NULL).  The
 * combination modes ANSI, ORACLE, MSSQL, DB2, MAXDB and POSTGRESQL include
 * ANSI_QUOTES, MYSQL323 and MYSQL40 HIGH_NOT_PRECEDENCE.  A load checks the
 * session's sql_mode as MySQL renders it (check_session_effect), which
 * names every mode in effect however it was asked for; a list is checked
 * when set for these names, and for numbers (spelling_refusal).
 */
static const char *const refused_sql_modes[] = {
	"ansi", "ansi_quotes", "no_backslash_escapes", "pad_char_to_full_length",
	"empty_string_is_null", "high_not_precedence", "oracle", "mssql", "db2",
	"maxdb", "postgresql", "traditional_quotes", "mysql323", "mysql40", NULL
};

#define REFUSED_SQL_MODE_WHY \
	"This sql_mode changes how MySQL reads the quotes, escapes and operators etl_pull sends, or the values it returns."


static const char *
refused_by_table(const RefusedSetting *table, const char *name)
{
	for (; table->name; table++)
	{
		if (table->prefix ?
			pg_strncasecmp(name, table->name, strlen(table->name)) == 0 :
			pg_strcasecmp(name, table->name) == 0)
			return table->why;
	}
	return NULL;
}

/* Whether a MySQL setting's value is a number: sent as one, unquoted */
bool
EtlPullSettingIsNumber(const char *value)
{
	const char *p;

	for (p = value; *p; p++)
		if (!isdigit((unsigned char) *p))
			return false;
	return true;
}

/*
 * Why etl_pull refuses the value of MySQL setting "s" as it is spelt, or
 * NULL: an sql_mode that names a refused mode, or a number, whose bits
 * name different modes on different servers (2147483648 is
 * PAD_CHAR_TO_FULL_LENGTH on MariaDB and MySQL, 1073741824
 * HIGH_NOT_PRECEDENCE on MySQL only).  Checked when a list is set, for an
 * early answer; a load judges sql_mode by its effect instead
 * (check_session_effect), which no spelling escapes.
 */
static const char *
spelling_refusal(const EtlPullSetting *s)
{
	int			i;

	if (pg_strcasecmp(s->name, "sql_mode") != 0)
		return NULL;
	if (EtlPullSettingIsNumber(s->value))
		return "An sql_mode given as a number sets modes by their bits, which differ between servers; name the modes.";
	for (i = 0; refused_sql_modes[i]; i++)
		if (pg_strcasecmp(s->value, refused_sql_modes[i]) == 0)
			return REFUSED_SQL_MODE_WHY;
	return NULL;
}

/* PostgreSQL's setting "name" (placeholders included), or NULL; never throws */
static struct config_generic *
find_guc(const char *name)
{
#if PG_VERSION_NUM >= 160000
	return find_option(name, false, true, DEBUG5);
#else
	struct config_generic **vars = get_guc_variables();
	int			n = GetNumConfigOptions();
	int			i;

	for (i = 0; i < n; i++)
		if (pg_strcasecmp(vars[i]->name, name) == 0)
			return vars[i];
	return NULL;
#endif
}

/*
 * Why PostgreSQL would refuse setting "s" of a list of PostgreSQL settings
 * when a load applies it, or NULL: an unknown name, or a value the
 * setting does not take in a session (checked without applying it, by
 * PostgreSQL's own parser and check hook).  A name with a dot that no
 * module has defined yet is a placeholder, as SET allows, and is not
 * checked (but etl_pull's own prefix is reserved).  For the GUC check hooks: never throws (set_config_option
 * reports at DEBUG5 and returns 0).  With check_rights, the value is
 * checked as the user who sets it would apply it; from a configuration
 * file, as a superuser's.
 */
static const char *
pg_value_refusal(const EtlPullSetting *s, bool check_rights, GucSource source)
{
	struct config_generic *var = find_guc(s->name);

	if (var == NULL)
		return (strchr(s->name, '.') != NULL &&
				pg_strncasecmp(s->name, "etl_pull.", 9) != 0) ? NULL :
			psprintf("PostgreSQL has no setting \"%s\".", s->name);
	if (var->flags & GUC_CUSTOM_PLACEHOLDER)
		return NULL;
	if (set_config_option(s->name, s->value,
						  check_rights ? PGC_USERSET : PGC_SUSET,
						  (source == PGC_S_TEST || !IsTransactionState()) ?
						  PGC_S_TEST : PGC_S_SESSION,
						  GUC_ACTION_SAVE, false, DEBUG5, false) == 0)
		return psprintf("PostgreSQL does not take \"%s\" for setting \"%s\" during a load; SET %s TO '%s' says why.",
						s->value, s->name, s->name, s->value);
	return NULL;
}

/*
 * Why etl_pull refuses setting "s" in a list of PostgreSQL ("pg") or MySQL
 * settings by its name, or NULL when it does not (values: see
 * spelling_refusal).  With check_rights, a PostgreSQL
 * setting only a superuser may change (any context but PGC_USERSET) is refused
 * unless the user who sets the list (outside any SECURITY DEFINER function:
 * the outer user) is a superuser or was granted SET on it: whoever runs a
 * load, perhaps a superuser from pg_cron, applies the list as their own.
 * Never throws; call it in a transaction when check_rights is set.
 */
const char *
EtlPullSettingRefusal(const EtlPullSetting *s, bool pg, bool check_rights)
{
	const char *why;

	if (!pg)
	{
		const char *dot = strrchr(s->name, '.');

		if (dot != NULL)
			return "MySQL settings are named without a scope or component: etl_pull sets them all with SET SESSION.";
		return refused_by_table(refused_mysql, s->name);
	}

	why = refused_by_table(refused_pg, s->name);
	if (why)
		return why;
	if (check_rights)
	{
		struct config_generic *var = find_guc(s->name);

		if (var != NULL && var->context != PGC_USERSET &&
			!superuser_arg(GetOuterUserId()) &&
			pg_parameter_aclcheck(var->name, GetOuterUserId(),
								  ACL_SET) != ACLCHECK_OK)
			return "Only a superuser may change it, and whoever runs a load would apply it with their own rights.";
	}
	return NULL;
}

/*
 * Whether a settings list parses and changes nothing a load relies on,
 * and, for PostgreSQL ("pg") settings, names settings that take its
 * values (pg_value_refusal); if not, *bad is the offending item and *why
 * (may be NULL) the reason, and *refused whether etl_pull refuses it
 * (false: it is malformed, or PostgreSQL would not take it).  For the GUC check hooks: never throws.
 * check_rights as for EtlPullSettingRefusal; source is the hook's.
 */
bool
EtlPullSettingsListValid(const char *list, bool pg, bool check_rights,
						 GucSource source, char **bad, const char **why,
						 bool *refused)
{
	List	   *settings = EtlPullParseSettings(list, bad);
	ListCell   *lc;

	*why = NULL;
	*refused = false;
	if (*bad != NULL)
		return false;
	foreach(lc, settings)
	{
		EtlPullSetting *s = (EtlPullSetting *) lfirst(lc);

		*why = EtlPullSettingRefusal(s, pg, check_rights);
		if (*why == NULL && !pg)
			*why = spelling_refusal(s);
		*refused = (*why != NULL);
		if (*why == NULL && pg)
			*why = pg_value_refusal(s, check_rights, source);
		if (*why != NULL)
		{
			*bad = s->name;
			return false;
		}
	}
	return true;
}

/*
 * Raise the error for a setting of list "what" that a load must not apply.
 */
void
EtlPullRefuseSetting(const char *what, const char *name, const char *why)
{
	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("setting \"%s\" is not allowed in \"%s\"", name, what),
			 errdetail_internal("%s", why)));
}

/*
 * Check a settings list; "pg" lists must also name PostgreSQL settings
 * with values they accept.  Settings that would break what a load relies
 * on are refused (see EtlPullSettingRefusal).  Raises an error naming "what".
 */
void
EtlPullCheckSettingsList(const char *what, const char *list, bool pg)
{
	char	   *bad;
	List	   *settings = EtlPullParseSettings(list, &bad);
	ListCell   *lc;

	if (bad)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid item \"%s\" in \"%s\"", bad, what),
				 errhint("Write a list of name=value items separated by commas.")));
	foreach(lc, settings)
	{
		EtlPullSetting *s = (EtlPullSetting *) lfirst(lc);
		const char *why = EtlPullSettingRefusal(s, pg, true);

		if (why == NULL && !pg)
			why = spelling_refusal(s);
		if (why)
			EtlPullRefuseSetting(what, s->name, why);
		if (pg)
		{
			/* validates name and value without applying them */
			(void) set_config_option(s->name, s->value, PGC_USERSET, PGC_S_SESSION,
									 GUC_ACTION_SAVE, false, ERROR, false);
		}
	}
}

/* What apply_context_callback names: the list an item comes from */
typedef struct ApplyContext
{
	EtlPullTable *table;
	bool		global;			/* etl_pull.pg_settings, else the table's */
	const char *name;
} ApplyContext;

static void
apply_context_callback(void *arg)
{
	ApplyContext *ac = (ApplyContext *) arg;

	if (ac->global)
		errcontext("item \"%s\" of configuration parameter \"etl_pull.pg_settings\"",
				   ac->name);
	else
		errcontext("item \"%s\" of setting \"pg_settings\" of table \"%s\"",
				   ac->name, ac->table->name);
}

/*
 * Apply the PostgreSQL settings for a load.  Returns the GUC nest level to
 * hand to AtEOXact_GUC when the load ends.  An error names the list the
 * failing item is in (a value in postgresql.conf is checked only there:
 * its rights, with the user who loads).  synchronous_commit, which acts
 * only at commit, is set LOCAL: given in a list, it lasts to the end of
 * the transaction that calls the load (an opt-in: no default sets it).
 */
int
EtlPullApplyPgSettings(EtlPullTable *table)
{
	int			nestlevel = NewGUCNestLevel();
	const char *lists[2] = {EtlPullPgSettings, table->pg_settings};
	int			i;
	ApplyContext ac;
	ErrorContextCallback errcallback;

	ac.table = table;
	errcallback.callback = apply_context_callback;
	errcallback.arg = &ac;
	errcallback.previous = error_context_stack;
	error_context_stack = &errcallback;
	for (i = 0; i < 2; i++)
	{
		char	   *bad;
		ListCell   *lc;

		ac.global = (i == 0);
		foreach(lc, EtlPullParseSettings(lists[i], &bad))
		{
			EtlPullSetting *s = (EtlPullSetting *) lfirst(lc);
			const char *why = EtlPullSettingRefusal(s, true, false);

			ac.name = s->name;
			if (why)
				EtlPullRefuseSetting(i == 0 ? "etl_pull.pg_settings" : "pg_settings", s->name, why);
			(void) set_config_option(s->name, s->value, PGC_USERSET, PGC_S_SESSION,
									 pg_strcasecmp(s->name, "synchronous_commit") == 0 ?
									 GUC_ACTION_LOCAL : GUC_ACTION_SAVE,
									 true, ERROR, false);
		}
	}
	error_context_stack = errcallback.previous;
	return nestlevel;
}


/*
 * Why a load refuses sql_mode "mode" (one of the names MySQL renders the
 * session's sql_mode with), or NULL
 */
const char *
EtlPullRefusedSqlMode(const char *mode)
{
	int			i;

	for (i = 0; refused_sql_modes[i]; i++)
		if (pg_strcasecmp(mode, refused_sql_modes[i]) == 0)
			return REFUSED_SQL_MODE_WHY;
	return NULL;
}

/* Why a load refuses MySQL setting "name", or NULL */
const char *
EtlPullMysqlSettingWhy(const char *name)
{
	return refused_by_table(refused_mysql, name);
}
