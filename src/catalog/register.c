/*-------------------------------------------------------------------------
 *
 * register.c
 *		  The SQL functions that write etl_pull.tables: add_table,
 *		  set_table_option and store_table_option, and the check that a
 *		  target is free (check_target_free).
 *
 * They were PL/pgSQL up to 1.3, and every error they raised, validation
 * included, carried PL/pgSQL's own error context: the function, the line,
 * the statement ("PL/pgSQL function etl_pull.add_table(...) line 18 at
 * PERFORM"), four to six lines of internals under a user's typo.  In C,
 * an error raised here has no context but its own; the statements run
 * through SPI only read and write etl_pull.tables, after every value has
 * been checked.
 *
 * add_table and store_table_option run as the extension's owner
 * (SECURITY DEFINER, with a pinned search_path); set_table_option runs as
 * the caller, to resolve column_types' type names in the caller's
 * search_path, and hands the checked value to store_table_option, which
 * checks it again: it is the only way into etl_pull.tables.
 *
 * IDENTIFICATION
 *		  src/catalog/register.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "foreign/foreign.h"
#include "miscadmin.h"
#include "parser/parse_func.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"

#include "compat.h"
#include "etl_pull.h"
#include "catalog/etl_catalog.h"

/* A text argument, or NULL */
static char *
text_arg(FunctionCallInfo fcinfo, int n)
{
	return PG_ARGISNULL(n) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(n));
}

/* Run a statement on etl_pull.tables with text parameters (NULL: SQL NULL) */
static void
exec_text(const char *sql, int nargs, const char **values, int expected)
{
	Oid			argtypes[3] = {TEXTOID, TEXTOID, TEXTOID};
	Datum		args[3];
	char		nulls[3];
	int			i;
	int			rc;

	Assert(nargs <= 3);
	for (i = 0; i < nargs; i++)
	{
		args[i] = values[i] ? CStringGetTextDatum(values[i]) : (Datum) 0;
		nulls[i] = values[i] ? ' ' : 'n';
	}
	rc = SPI_execute_with_args(sql, nargs, argtypes, args, nulls, false, 0);
	if (rc != expected)
		elog(ERROR, "SPI_execute_with_args failed (%d): %s", rc, sql);
}

/* Lock etl_pull.tables against concurrent registrations, as 1.1 did */
static void
lock_tables(void)
{
	if (SPI_execute("LOCK TABLE etl_pull.tables IN SHARE ROW EXCLUSIVE MODE",
					false, 0) != SPI_OK_UTILITY)
		elog(ERROR, "could not lock etl_pull.tables");
}

/* Whether table "name" is registered; call within SPI */
static bool
registered(const char *name)
{
	exec_text("SELECT 1 FROM etl_pull.tables t WHERE t.name OPERATOR(pg_catalog.=) $1",
			  1, &name, SPI_OK_SELECT);
	return SPI_processed > 0;
}

/*
 * Raise an error unless the target of registered table "name" with
 * target_table "target" is free: no other registered table loads into
 * it, and if it exists, the registering role (the outer user) may make
 * it a target (EtlPullCheckAdoptable).  Call within SPI, with
 * etl_pull.tables locked (lock_tables), so that two registrations cannot
 * both pass.
 */
static void
check_target_free(const char *name, const char *target)
{
	const char *args[2] = {name, target};
	char	   *schema;
	char	   *table;
	Oid			nspid;
	Oid			relid;

	exec_text("SELECT t.name FROM etl_pull.tables t"
			  " WHERE t.name OPERATOR(pg_catalog.<>) $1"
			  "   AND etl_pull.target_of(t.name, t.target_table)"
			  "       OPERATOR(pg_catalog.=) etl_pull.target_of($1, $2)"
			  " LIMIT 1", 2, args, SPI_OK_SELECT);
	EtlPullResolveTarget(name, target, &schema, &table);
	if (SPI_processed > 0)
		ereport(ERROR,
				(errcode(ERRCODE_DUPLICATE_OBJECT),
				 errmsg("table \"%s\" already loads into %s",
						SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1),
						quote_qualified_identifier(schema, table)),
				 errhint("Give each registered table a target of its own with \"target_table\".")));
	nspid = get_namespace_oid(schema, true);
	relid = OidIsValid(nspid) ? get_relname_relid(table, nspid) : InvalidOid;
	if (OidIsValid(relid))
		EtlPullCheckAdoptable(relid, GetOuterUserId());
}

/*
 * Warn when the schema of a registered table's target does not exist: it
 * may be made before the first load, which fails without it.
 */
static void
warn_missing_schema(const char *name, const char *target)
{
	char	   *schema;
	char	   *table;

	EtlPullResolveTarget(name, target, &schema, &table);
	if (!OidIsValid(get_namespace_oid(schema, true)))
		ereport(WARNING,
				(errcode(ERRCODE_UNDEFINED_SCHEMA),
				 errmsg("schema \"%s\" of the target of table \"%s\" does not exist",
						schema, name),
				 errhint("Create it before the first load, or change setting \"target_table\".")));
}

PG_FUNCTION_INFO_V1(etl_pull_check_target_free);

/*
 * SQL: etl_pull.check_target_free(name text, target_table text): raise an
 * error unless the target is free (check_target_free).  The caller holds
 * etl_pull.tables in SHARE ROW EXCLUSIVE mode.
 */
Datum
etl_pull_check_target_free(PG_FUNCTION_ARGS)
{
	char	   *name = text_arg(fcinfo, 0);

	if (name == NULL)
		PG_RETURN_VOID();
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	check_target_free(name, text_arg(fcinfo, 1));
	SPI_finish();
	PG_RETURN_VOID();
}

PG_FUNCTION_INFO_V1(etl_pull_add_table);

/*
 * SQL: etl_pull.add_table(name, server, source_table, target_table):
 * register a MySQL table for loading, with default settings.  Runs as the
 * extension's owner.
 */
Datum
etl_pull_add_table(PG_FUNCTION_ARGS)
{
	char	   *name = text_arg(fcinfo, 0);
	char	   *server = text_arg(fcinfo, 1);
	const char *values[4];
	ForeignServer *srv;

	if (name == NULL || name[0] == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("table name must not be empty")));
	srv = server ? GetForeignServerByName(server, true) : NULL;
	if (srv == NULL ||
		strcmp(GetForeignDataWrapper(srv->fdwid)->fdwname, "etl_pull") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("server \"%s\" does not exist or does not use foreign-data wrapper \"etl_pull\"",
						server ? server : ""),
				 errhint("Create it with CREATE SERVER ... FOREIGN DATA WRAPPER etl_pull.")));
	values[0] = name;
	values[1] = server;
	values[2] = EtlPullCheckTableOption("source_table", text_arg(fcinfo, 2));
	values[3] = EtlPullCheckTableOption("target_table", text_arg(fcinfo, 3));

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	lock_tables();
	if (registered(name))
		ereport(ERROR,
				(errcode(ERRCODE_DUPLICATE_OBJECT),
				 errmsg("table \"%s\" is already registered", name),
				 errhint("Change it with etl_pull.set_table_option(), or remove it first.")));
	check_target_free(name, values[3]);
	{
		Oid			argtypes[4] = {TEXTOID, TEXTOID, TEXTOID, TEXTOID};
		Datum		args[4];
		char		nulls[4];
		int			i;

		for (i = 0; i < 4; i++)
		{
			args[i] = values[i] ? CStringGetTextDatum(values[i]) : (Datum) 0;
			nulls[i] = values[i] ? ' ' : 'n';
		}
		if (SPI_execute_with_args("INSERT INTO etl_pull.tables"
								  " (name, server, source_table, target_table)"
								  " VALUES ($1, $2, $3, $4)",
								  4, argtypes, args, nulls, false, 0) != SPI_OK_INSERT)
			elog(ERROR, "could not insert into etl_pull.tables");
	}
	SPI_finish();
	warn_missing_schema(name, values[3]);
	PG_RETURN_VOID();
}

/* Check that the table and key of a setting are given; the key's descriptor */
static const EtlPullSettingDesc *
table_and_key(FunctionCallInfo fcinfo)
{
	const EtlPullSettingDesc *s;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("table name must not be null")));
	if (PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("setting name must not be null")));
	/* an unknown key: the validator's error, which lists the settings */
	s = EtlPullFindTableSetting(text_arg(fcinfo, 1));
	if (s == NULL)
		(void) EtlPullCheckTableOption(text_arg(fcinfo, 1), NULL);
	return s;
}

PG_FUNCTION_INFO_V1(etl_pull_store_table_option);

/*
 * SQL: etl_pull.store_table_option(name, key, value): store one setting of
 * a registered table, checked again here (NULL: the default).  Runs as
 * the extension's owner; set_table_option calls it.
 */
Datum
etl_pull_store_table_option(PG_FUNCTION_ARGS)
{
	const EtlPullSettingDesc *s = table_and_key(fcinfo);
	char	   *name = text_arg(fcinfo, 0);
	char	   *stored = EtlPullCheckTableOption(s->name, text_arg(fcinfo, 2));
	const char *args[2] = {stored, name};
	const char *column = quote_identifier(s->name);

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	lock_tables();
	if (!registered(name))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("table \"%s\" is not registered with etl_pull", name),
				 errhint("Register it with etl_pull.add_table().")));
	if (strcmp(s->name, "target_table") == 0)
		check_target_free(name, stored);
	if (stored == NULL)
		exec_text(psprintf("UPDATE etl_pull.tables SET %s = DEFAULT"
						   " WHERE name OPERATOR(pg_catalog.=) $1", column),
				  1, &args[1], SPI_OK_UPDATE);
	else if (s->kind == SET_COLUMN_LIST)
		exec_text(psprintf("UPDATE etl_pull.tables SET %s ="
						   " (SELECT pg_catalog.array_agg(pg_catalog.btrim(c))"
						   "    FROM pg_catalog.unnest(pg_catalog.string_to_array($1, ',')) c)"
						   " WHERE name OPERATOR(pg_catalog.=) $2", column),
				  2, args, SPI_OK_UPDATE);
	else
		exec_text(psprintf("UPDATE etl_pull.tables SET %s = CAST($1 AS %s)"
						   " WHERE name OPERATOR(pg_catalog.=) $2",
						   column, EtlPullSettingSqlType(s->kind)),
				  2, args, SPI_OK_UPDATE);
	SPI_finish();
	if (strcmp(s->name, "target_table") == 0)
		warn_missing_schema(name, stored);
	PG_RETURN_VOID();
}

PG_FUNCTION_INFO_V1(etl_pull_set_table_option);

/*
 * SQL: etl_pull.set_table_option(name, key, value): change one setting of
 * a registered table; NULL restores the default.  Runs as the caller: the
 * value is checked here, so that column_types' type names resolve in the
 * caller's search_path, and stored by etl_pull.store_table_option, called
 * through the function manager (as the extension's owner, and without
 * SPI's context in its errors).
 */
Datum
etl_pull_set_table_option(PG_FUNCTION_ARGS)
{
	const EtlPullSettingDesc *s = table_and_key(fcinfo);
	char	   *stored = EtlPullCheckTableOption(s->name, text_arg(fcinfo, 2));
	Oid			argtypes[3] = {TEXTOID, TEXTOID, TEXTOID};
	Oid			store;
	LOCAL_FCINFO(call, 3);
	FmgrInfo	flinfo;

	store = LookupFuncName(list_make2(makeString("etl_pull"),
									  makeString("store_table_option")),
						   3, argtypes, false);
	/* as a call in SQL would check */
	if (EtlPullFunctionAclcheck(store, GetUserId(), ACL_EXECUTE) != ACLCHECK_OK)
		aclcheck_error(ACLCHECK_NO_PRIV, OBJECT_FUNCTION, "etl_pull.store_table_option");
	fmgr_info(store, &flinfo);
	InitFunctionCallInfoData(*call, &flinfo, 3, InvalidOid, NULL, NULL);
	call->args[0].value = PG_GETARG_DATUM(0);
	call->args[0].isnull = false;
	call->args[1].value = CStringGetTextDatum(s->name);
	call->args[1].isnull = false;
	call->args[2].value = stored ? CStringGetTextDatum(stored) : (Datum) 0;
	call->args[2].isnull = (stored == NULL);
	(void) FunctionCallInvoke(call);
	PG_RETURN_VOID();
}
