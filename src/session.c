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
 *		  src/session.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <ctype.h>

#include "lib/stringinfo.h"
#include "utils/guc.h"

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
 * Whether a settings list parses; if not, *bad is the offending item.
 * Never throws (for GUC check hooks).
 */
bool
EtlPullSettingsListValid(const char *list, char **bad)
{
	(void) parse_settings(list, bad);
	return *bad == NULL;
}

/*
 * Check a settings list; "pg" lists must also name PostgreSQL settings
 * with values they accept.  Raises an error naming "what".
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
	if (!pg)
		return;
	foreach(lc, settings)
	{
		Setting    *s = (Setting *) lfirst(lc);

		/* validates name and value without applying them */
		(void) set_config_option(s->name, s->value, PGC_USERSET, PGC_S_SESSION,
								 GUC_ACTION_SAVE, false, ERROR, false);
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

			(void) set_config_option(s->name, s->value, PGC_USERSET, PGC_S_SESSION,
									 strcmp(s->name, "synchronous_commit") == 0 ?
									 GUC_ACTION_LOCAL : GUC_ACTION_SAVE,
									 true, ERROR, false);
		}
	}
	return nestlevel;
}

/*
 * Apply the MySQL settings to a load's connection.
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
			const char *p;
			bool		number = true;

			for (p = s->value; *p; p++)
				if (!isdigit((unsigned char) *p))
					number = false;
			appendStringInfo(&sql, "%s%s = %s", sql.len ? ", " : "SET SESSION ",
							 s->name,
							 number ? s->value : EtlPullQuoteLiteral(conn, s->value));
		}
	}
	if (sql.len > 0)
		EtlPullExec(conn, sql.data);
}
