/*-------------------------------------------------------------------------
 *
 * session.c
 *		  A table's MySQL settings on a load's connection: sent as one SET
 *		  SESSION, checked by their effect, and undone before a kept
 *		  connection loads another table.
 *
 * The lists' grammar and the settings refused by name are
 * catalog/settings_list.c's; what MySQL made of a list is checked here, by
 * reading the session back (check_session_effect).
 *
 * IDENTIFICATION
 *		  src/remote/session.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "lib/stringinfo.h"

#include "etl_pull.h"
#include "catalog/etl_catalog.h"
#include "remote/remote.h"

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
	{
		const char *why = EtlPullRefusedSqlMode(mode);

		if (why)
			refuse_effect(table, "sql_mode",
						  psprintf("sql_mode became \"%s\". %s",
								   EtlPullPrintable(after[0], 200), why));
	}
	for (i = 0; guarded_mysql[i]; i++)
		if (strcmp(before[i + 1], after[i + 1]) != 0)
			refuse_effect(table, guarded_mysql[i],
						  psprintf("%s was \"%s\" and became \"%s\". %s", guarded_mysql[i],
								   EtlPullPrintable(before[i + 1], 64),
								   EtlPullPrintable(after[i + 1], 64),
								   EtlPullMysqlSettingWhy(guarded_mysql[i])));
}

/*
 * Name the lists a failed SET SESSION came from: a value only MySQL can
 * judge (an unknown variable, a bad value) may come from
 * etl_pull.mysql_settings, set for every load in postgresql.conf.
 */
static void
mysql_settings_context(void *arg)
{
	EtlPullTable *table = (EtlPullTable *) arg;
	bool		global = EtlPullMysqlSettings && EtlPullMysqlSettings[0];
	bool		own = table->mysql_settings && table->mysql_settings[0];

	if (global && own)
		errcontext("applying configuration parameter \"etl_pull.mysql_settings\" and setting \"mysql_settings\" of table \"%s\"",
				   table->name);
	else if (global)
		errcontext("applying configuration parameter \"etl_pull.mysql_settings\"");
	else
		errcontext("applying setting \"mysql_settings\" of table \"%s\"",
				   table->name);
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

		foreach(lc, EtlPullParseSettings(lists[i], &bad))
		{
			EtlPullSetting *s = (EtlPullSetting *) lfirst(lc);
			const char *why = EtlPullSettingRefusal(s, false, false);

			if (why)
				EtlPullRefuseSetting(i == 0 ? "etl_pull.mysql_settings" : "mysql_settings",
							   s->name, why);
			appendStringInfo(&sql, "%s%s = %s", sql.len ? ", " : "SET SESSION ",
							 s->name,
							 EtlPullSettingIsNumber(s->value) ? s->value :
							 EtlPullQuoteLiteral(conn, s->value));
		}
	}
	if (sql.len > 0)
	{
		char	  **before = session_values(conn);
		ErrorContextCallback errcallback;

		errcallback.callback = mysql_settings_context;
		errcallback.arg = table;
		errcallback.previous = error_context_stack;
		error_context_stack = &errcallback;
		EtlPullExec(conn, sql.data);
		error_context_stack = errcallback.previous;
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
	foreach(lc, EtlPullParseSettings(list, &bad))
	{
		EtlPullSetting *s = (EtlPullSetting *) lfirst(lc);

		if (EtlPullSettingRefusal(s, false, false) == NULL)
			appendStringInfo(&sql, "%s = DEFAULT, ", s->name);
	}
	if (sql.len == 0)
		return;
	EtlPullExec(conn, psprintf("SET SESSION %s%s", sql.data, EtlPullSessionDefaults()));
}
