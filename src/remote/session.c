/*-------------------------------------------------------------------------
 *
 * session.c
 *		  Session settings tuned for bulk work, on both sides of a load.
 *
 * Settings are lists "name=value, name=value", given globally
 * (etl_pull.pg_settings, etl_pull.mysql_settings) and per table (settings
 * pg_settings, mysql_settings, applied after the global ones).
 *
 * PostgreSQL settings apply to the load only: they are set at a new GUC
 * nest level, which the caller pops when the load ends, as a function's
 * SET clause does; synchronous_commit, which only matters at commit, is
 * set LOCAL, so it lasts to the end of the load's transaction and no
 * further.  MySQL settings become SET SESSION statements on each of the
 * load's connections.
 *
 * IDENTIFICATION
 *		  src/remote/session.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <ctype.h>

#include "catalog/pg_parameter_acl.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/guc.h"
#include "utils/guc_tables.h"

#include "etl_pull.h"

typedef struct Setting
{
	char	   *name;
	char	   *value;
} Setting;

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
static List *
parse_settings(const char *list, char **bad)
{
	List	   *result = NIL;
	char	   *copy = pstrdup(list ? list : "");
	char	   *item;
	char	   *save = NULL;

	*bad = NULL;
	for (item = strtok_r(copy, ",", &save); item; item = strtok_r(NULL, ",", &save))
	{
		char	   *eq = strchr(item, '=');
		Setting    *s;
		char	   *p;

		if (trim(item)[0] == '\0')
			continue;
		if (eq == NULL)
		{
			*bad = trim(item);
			return NIL;
		}
		*eq = '\0';
		s = palloc(sizeof(Setting));
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

/*
 * The MySQL session variables a load relies on besides sql_mode, as
 * etl_pull sets them up on each connection (utf8mb4, UTC, no row limit,
 * autocommit until it starts its own transaction): a table's settings must
 * leave them as they found them, whatever they were called
 * (check_session_effect).  Each is refused by name too (refused_mysql),
 * which says why.
 */
static const char *const guarded_mysql[] = {
	"time_zone", "character_set_client", "character_set_connection",
	"character_set_results", "collation_connection", "sql_select_limit",
	"autocommit", NULL
};

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
static bool
is_number(const char *value)
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
spelling_refusal(const Setting *s)
{
	int			i;

	if (pg_strcasecmp(s->name, "sql_mode") != 0)
		return NULL;
	if (is_number(s->value))
		return "An sql_mode given as a number sets modes by their bits, which differ between servers; name the modes.";
	for (i = 0; refused_sql_modes[i]; i++)
		if (pg_strcasecmp(s->value, refused_sql_modes[i]) == 0)
			return REFUSED_SQL_MODE_WHY;
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
static const char *
refusal(const Setting *s, bool pg, bool check_rights)
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
		struct config_generic *var = NULL;
#if PG_VERSION_NUM >= 160000
		var = find_option(s->name, false, true, DEBUG5);
#else
		struct config_generic **vars = get_guc_variables();
		int			n = GetNumConfigOptions();
		int			i;

		for (i = 0; i < n; i++)
		{
			if (pg_strcasecmp(vars[i]->name, s->name) == 0)
			{
				var = vars[i];
				break;
			}
		}
#endif
		if (var != NULL && var->context != PGC_USERSET &&
			!superuser_arg(GetOuterUserId()) &&
			pg_parameter_aclcheck(var->name, GetOuterUserId(),
								  ACL_SET) != ACLCHECK_OK)
			return "Only a superuser may change it, and whoever runs a load would apply it with their own rights.";
	}
	return NULL;
}

/*
 * Whether a settings list parses and changes nothing a load relies on; if
 * not, *bad is the offending item and *why (may be NULL) the reason.  For
 * the GUC check hooks: never throws.  check_rights as for refusal().
 */
bool
EtlPullSettingsListValid(const char *list, bool pg, bool check_rights,
						 char **bad, const char **why)
{
	List	   *settings = parse_settings(list, bad);
	ListCell   *lc;

	*why = NULL;
	if (*bad != NULL)
		return false;
	foreach(lc, settings)
	{
		Setting    *s = (Setting *) lfirst(lc);

		*why = refusal(s, pg, check_rights);
		if (*why == NULL && !pg)
			*why = spelling_refusal(s);
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
static void
refuse_setting(const char *what, const char *name, const char *why)
{
	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("setting \"%s\" is not allowed in \"%s\"", name, what),
			 errdetail_internal("%s", why)));
}

/*
 * Check a settings list; "pg" lists must also name PostgreSQL settings
 * with values they accept.  Settings that would break what a load relies
 * on are refused (see refusal()).  Raises an error naming "what".
 */
void
EtlPullCheckSettingsList(const char *what, const char *list, bool pg)
{
	char	   *bad;
	List	   *settings = parse_settings(list, &bad);
	ListCell   *lc;

	if (bad)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid item \"%s\" in \"%s\"", bad, what),
				 errhint("Write a list of name=value items separated by commas.")));
	foreach(lc, settings)
	{
		Setting    *s = (Setting *) lfirst(lc);
		const char *why = refusal(s, pg, true);

		if (why == NULL && !pg)
			why = spelling_refusal(s);
		if (why)
			refuse_setting(what, s->name, why);
		if (pg)
		{
			/* validates name and value without applying them */
			(void) set_config_option(s->name, s->value, PGC_USERSET, PGC_S_SESSION,
									 GUC_ACTION_SAVE, false, ERROR, false);
		}
	}
}

/*
 * Apply the PostgreSQL settings for a load.  Returns the GUC nest level to
 * hand to AtEOXact_GUC when the load ends.
 */
int
EtlPullApplyPgSettings(EtlPullTable *table)
{
	int			nestlevel = NewGUCNestLevel();
	const char *lists[2] = {EtlPullPgSettings, table->pg_settings};
	int			i;

	for (i = 0; i < 2; i++)
	{
		char	   *bad;
		ListCell   *lc;

		foreach(lc, parse_settings(lists[i], &bad))
		{
			Setting    *s = (Setting *) lfirst(lc);
			const char *why = refusal(s, true, false);

			if (why)
				refuse_setting(i == 0 ? "etl_pull.pg_settings" : "pg_settings", s->name, why);
			(void) set_config_option(s->name, s->value, PGC_USERSET, PGC_S_SESSION,
									 strcmp(s->name, "synchronous_commit") == 0 ?
									 GUC_ACTION_LOCAL : GUC_ACTION_SAVE,
									 true, ERROR, false);
		}
	}
	return nestlevel;
}

/*
 * sql_mode and the guarded variables of the connection's session, as MySQL
 * renders them (sql_mode as the names of its modes, comma-separated).  The
 * reply is checked as any other: one row of as many values as asked for,
 * none NULL or holding a NUL byte.
 */
static char **
session_values(EtlPullConnection *conn)
{
	int			n = 1 + (lengthof(guarded_mysql) - 1);	/* sql_mode, the guarded */
	char	  **result = palloc(sizeof(char *) * n);
	char	  **values;
	unsigned long *lengths;
	StringInfoData sql;
	int			i;

	initStringInfo(&sql);
	appendStringInfoString(&sql, "SELECT @@SESSION.sql_mode");
	for (i = 0; guarded_mysql[i]; i++)
		appendStringInfo(&sql, ", @@SESSION.%s", guarded_mysql[i]);
	EtlPullQueryStart(conn, sql.data, n);
	if (!EtlPullFetch(conn, &values, &lengths))
		EtlPullBadReply(conn, "The session's variables came without a row.");
	for (i = 0; i < n; i++)
	{
		if (values[i] == NULL || memchr(values[i], '\0', lengths[i]) != NULL)
			EtlPullBadReply(conn, psprintf("Session variable \"%s\" is %s.",
										   i == 0 ? "sql_mode" : guarded_mysql[i - 1],
										   values[i] == NULL ? "NULL" : "text holding a NUL byte"));
		result[i] = pnstrdup(values[i], lengths[i]);
	}
	if (EtlPullFetch(conn, &values, &lengths))
		EtlPullBadReply(conn, "The session's variables came in more than one row.");
	EtlPullQueryEnd(conn);
	return result;
}

/* Raise the error for a session variable a table's MySQL settings changed */
static void
refuse_effect(EtlPullTable *table, const char *var, const char *detail)
{
	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("the MySQL settings of table \"%s\" change session variable \"%s\", which a load relies on",
					table->name, var),
			 errdetail_internal("%s", detail),
			 errhint("Remove the setting from the table's \"mysql_settings\" or from etl_pull.mysql_settings.")));
}

/*
 * Refuse what the MySQL settings of "table" did to the session, whatever
 * they were called: "before" and "after" are session_values() around the
 * SET.  sql_mode must name no refused mode; the guarded variables must be
 * as they were.  So a number for sql_mode (2147483648 is
 * PAD_CHAR_TO_FULL_LENGTH), a combination mode (MYSQL40 is
 * HIGH_NOT_PRECEDENCE), another case or another name of a variable is
 * refused as the name itself would be.
 */
static void
check_session_effect(EtlPullTable *table, char **before, char **after)
{
	char	   *modes = pstrdup(after[0]);
	char	   *save = NULL;
	char	   *mode;
	int			i;

	for (mode = strtok_r(modes, ",", &save); mode; mode = strtok_r(NULL, ",", &save))
		for (i = 0; refused_sql_modes[i]; i++)
			if (pg_strcasecmp(mode, refused_sql_modes[i]) == 0)
				refuse_effect(table, "sql_mode",
							  psprintf("sql_mode became \"%s\". %s",
									   EtlPullPrintable(after[0], 200),
									   REFUSED_SQL_MODE_WHY));
	for (i = 0; guarded_mysql[i]; i++)
		if (strcmp(before[i + 1], after[i + 1]) != 0)
			refuse_effect(table, guarded_mysql[i],
						  psprintf("%s was \"%s\" and became \"%s\". %s", guarded_mysql[i],
								   EtlPullPrintable(before[i + 1], 64),
								   EtlPullPrintable(after[i + 1], 64),
								   refused_by_table(refused_mysql, guarded_mysql[i])));
}

/*
 * Apply the MySQL settings to a load's connection, and check what they
 * did (check_session_effect): settings refused by name are refused before
 * anything is sent, and the session is read back before and after the SET.
 * Nothing is sent without settings.
 */
void
EtlPullApplyMysqlSettings(EtlPullConnection *conn, EtlPullTable *table)
{
	const char *lists[2] = {EtlPullMysqlSettings, table->mysql_settings};
	StringInfoData sql;
	int			i;

	initStringInfo(&sql);
	for (i = 0; i < 2; i++)
	{
		char	   *bad;
		ListCell   *lc;

		foreach(lc, parse_settings(lists[i], &bad))
		{
			Setting    *s = (Setting *) lfirst(lc);
			const char *why = refusal(s, false, false);

			if (why)
				refuse_setting(i == 0 ? "etl_pull.mysql_settings" : "mysql_settings",
							   s->name, why);
			appendStringInfo(&sql, "%s%s = %s", sql.len ? ", " : "SET SESSION ",
							 s->name,
							 is_number(s->value) ? s->value :
							 EtlPullQuoteLiteral(conn, s->value));
		}
	}
	if (sql.len > 0)
	{
		char	  **before = session_values(conn);

		EtlPullExec(conn, sql.data);
		check_session_effect(table, before, session_values(conn));
	}
}

/*
 * Undo on a kept connection what a table's mysql_settings ("list", as the
 * previous load applied it) changed, before the connection loads another
 * table: each setting back to the server's default, then the session setup
 * every connection starts with (EtlPullSessionDefaults), in one statement.
 * The global etl_pull.mysql_settings are the same for every table and are
 * applied again by the next load.  Works inside the group's snapshot
 * transaction too, which a reset of the connection would end.
 */
void
EtlPullResetMysqlSettings(EtlPullConnection *conn, const char *list)
{
	StringInfoData sql;
	char	   *bad;
	ListCell   *lc;

	initStringInfo(&sql);
	foreach(lc, parse_settings(list, &bad))
	{
		Setting    *s = (Setting *) lfirst(lc);

		if (refusal(s, false, false) == NULL)
			appendStringInfo(&sql, "%s = DEFAULT, ", s->name);
	}
	if (sql.len == 0)
		return;
	EtlPullExec(conn, psprintf("SET SESSION %s%s", sql.data, EtlPullSessionDefaults()));
}
