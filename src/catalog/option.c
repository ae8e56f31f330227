/*-------------------------------------------------------------------------
 *
 * option.c
 *		  Validation of everything a user can set: the options of the
 *		  etl_pull foreign-data wrapper's servers and user mappings, and the
 *		  per-table settings of etl_pull.tables, source_table's and
 *		  target_table's grammar and the targets no load may write; and the
 *		  extraction of a connection's options (EtlPullGetConnOptions), which
 *		  connection.c connects with.
 *
 * Each is a table of names and what they accept, and one function that
 * rejects unknown names with a hint listing the valid ones and bad values
 * with the values that are allowed.  The per-table settings' table is
 * built from settinglist.h, and serves the reader of etl_pull.tables
 * (EtlPullReadTable) and etl_pull.table_settings() as well: each
 * descriptor says where in EtlPullTable its value goes.
 *
 * IDENTIFICATION
 *		  src/catalog/option.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <ctype.h>
#include <math.h>

#include "access/reloptions.h"
#include "access/transam.h"
#include "catalog/catalog.h"
#include "catalog/dependency.h"
#include "catalog/pg_foreign_server.h"
#include "catalog/pg_foreign_data_wrapper.h"
#include "catalog/pg_user_mapping.h"
#include "commands/defrem.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "parser/parse_type.h"
#include "parser/scansup.h"
#include "utils/formatting.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/varlena.h"

#include "compat.h"
#include "etl_pull.h"
#include "catalog/etl_catalog.h"

/* ---- foreign server and user mapping options ---- */

typedef enum OptionKind
{
	OPT_STRING,
	OPT_PORT,
	OPT_SECONDS,
	OPT_BOOL,
	OPT_CHOICE,
	OPT_CHOICE_LIST,			/* one or more of the choices, comma-separated */
	OPT_FILE					/* a file the PostgreSQL server reads */
} OptionKind;

typedef struct ConnOption
{
	const char *name;
	Oid			context;		/* catalog the option belongs to */
	OptionKind	kind;
	const char *choices;		/* OPT_CHOICE: comma-separated */
	size_t		offset;			/* of its field in EtlPullConnOptions */
} ConnOption;

/* A row of conn_options: the field of EtlPullConnOptions has the option's name */
#define CONN_OPTION(name, context, kind, choices) \
	{#name, context, kind, choices, offsetof(EtlPullConnOptions, name)}

/*
 * The options, what they accept and where EtlPullGetConnOptions puts them:
 * OPT_PORT and OPT_SECONDS into an unsigned int, OPT_BOOL into a bool,
 * every other kind as the string given.
 */
static const ConnOption conn_options[] = {
	CONN_OPTION(host, ForeignServerRelationId, OPT_STRING, NULL),
	CONN_OPTION(port, ForeignServerRelationId, OPT_PORT, NULL),
	CONN_OPTION(socket, ForeignServerRelationId, OPT_STRING, NULL),
	CONN_OPTION(dbname, ForeignServerRelationId, OPT_STRING, NULL),
	CONN_OPTION(connect_timeout, ForeignServerRelationId, OPT_SECONDS, NULL),
	CONN_OPTION(read_timeout, ForeignServerRelationId, OPT_SECONDS, NULL),
	CONN_OPTION(write_timeout, ForeignServerRelationId, OPT_SECONDS, NULL),
	CONN_OPTION(ssl_mode, ForeignServerRelationId, OPT_CHOICE,
				"disabled, preferred, required, verify_ca, verify_identity"),
	CONN_OPTION(ssl_ca, ForeignServerRelationId, OPT_FILE, NULL),
	CONN_OPTION(ssl_cert, ForeignServerRelationId, OPT_FILE, NULL),
	CONN_OPTION(ssl_key, ForeignServerRelationId, OPT_FILE, NULL),
	CONN_OPTION(tls_version, ForeignServerRelationId, OPT_CHOICE_LIST, "TLSv1.2, TLSv1.3"),
	CONN_OPTION(compress, ForeignServerRelationId, OPT_BOOL, NULL),
	CONN_OPTION(user, UserMappingRelationId, OPT_STRING, NULL),
	CONN_OPTION(password, UserMappingRelationId, OPT_STRING, NULL),
	{NULL, InvalidOid, OPT_STRING, NULL, 0}
};

/* The option "name" of catalog "context", or NULL */
static const ConnOption *
find_conn_option(const char *name, Oid context)
{
	const ConnOption *opt;

	for (opt = conn_options; opt->name; opt++)
		if (opt->context == context && strcmp(opt->name, name) == 0)
			return opt;
	return NULL;
}

/*
 * The position of value in a comma-separated list of choices ("a, b, c"),
 * from 0, or -1 if it is none of them.  A choice setting's field holds it.
 */
int
EtlPullChoiceOrdinal(const char *value, const char *choices)
{
	const char *p = choices;
	size_t		len = strlen(value);
	int			ordinal = 0;

	while (*p)
	{
		const char *end = strchr(p, ',');
		size_t		n = end ? (size_t) (end - p) : strlen(p);

		if (n == len && strncmp(p, value, n) == 0)
			return ordinal;
		if (!end)
			break;
		p = end + 1;
		while (*p == ' ')
			p++;
		ordinal++;
	}
	return -1;
}

PG_FUNCTION_INFO_V1(etl_pull_fdw_validator);

/*
 * Validate the options of CREATE/ALTER SERVER and USER MAPPING for the
 * etl_pull wrapper.  Values are checked here, so a typo fails when it is
 * written, not at the first load.
 */
Datum
etl_pull_fdw_validator(PG_FUNCTION_ARGS)
{
	List	   *options = untransformRelOptions(PG_GETARG_DATUM(0));
	Oid			catalog = PG_GETARG_OID(1);
	ListCell   *lc;
	const char *ssl_mode = NULL;
	bool		has_ca = false;
	bool		has_cert = false;
	bool		has_key = false;

	foreach(lc, options)
	{
		DefElem    *def = (DefElem *) lfirst(lc);
		const ConnOption *opt;
		const char *value;

		opt = find_conn_option(def->defname, catalog);
		if (opt == NULL)
		{
			StringInfoData buf;

			initStringInfo(&buf);
			for (opt = conn_options; opt->name; opt++)
				if (opt->context == catalog)
					appendStringInfo(&buf, "%s%s", buf.len > 0 ? ", " : "",
									 opt->name);
			ereport(ERROR,
					(errcode(ERRCODE_FDW_INVALID_OPTION_NAME),
					 errmsg("invalid option \"%s\"", def->defname),
					 buf.len > 0
					 ? errhint("Valid options in this context are: %s.", buf.data)
					 : errhint("There are no valid options in this context.")));
		}

		value = defGetString(def);
		switch (opt->kind)
		{
			case OPT_PORT:
				{
					int			port;

					if (!parse_int(value, &port, 0, NULL) || port < 1 || port > 65535)
						ereport(ERROR,
								(errcode(ERRCODE_FDW_INVALID_ATTRIBUTE_VALUE),
								 errmsg("invalid value \"%s\" for option \"%s\"",
										value, opt->name),
								 errdetail("Valid values are integers from 1 to 65535.")));
					break;
				}
			case OPT_SECONDS:
				{
					int			secs;

					if (!parse_int(value, &secs, 0, NULL) || secs < 0)
						ereport(ERROR,
								(errcode(ERRCODE_FDW_INVALID_ATTRIBUTE_VALUE),
								 errmsg("invalid value \"%s\" for option \"%s\"",
										value, opt->name),
								 errdetail("Valid values are whole seconds, 0 or more.")));
					break;
				}
			case OPT_BOOL:
				(void) defGetBoolean(def);
				break;
			case OPT_CHOICE:
				if (EtlPullChoiceOrdinal(value, opt->choices) < 0)
					ereport(ERROR,
							(errcode(ERRCODE_FDW_INVALID_ATTRIBUTE_VALUE),
							 errmsg("invalid value \"%s\" for option \"%s\"",
									value, opt->name),
							 errdetail("Valid values are: %s.", opt->choices)));
				break;
			case OPT_CHOICE_LIST:
				{
					char	   *copy = pstrdup(value);
					char	   *save = NULL;
					char	   *item;
					bool		ok = false;

					/* as Connector/C reads it: names, case and all */
					for (item = strtok_r(copy, ",", &save); item;
						 item = strtok_r(NULL, ",", &save))
					{
						char	   *end;

						while (*item == ' ')
							item++;
						end = item + strlen(item);
						while (end > item && end[-1] == ' ')
							*--end = '\0';
						ok = EtlPullChoiceOrdinal(item, opt->choices) >= 0;
						if (!ok)
							break;
					}
					if (!ok)
						ereport(ERROR,
								(errcode(ERRCODE_FDW_INVALID_ATTRIBUTE_VALUE),
								 errmsg("invalid value \"%s\" for option \"%s\"",
										value, opt->name),
								 errhint("Valid values are one or more of %s, separated by commas.",
										 opt->choices)));
					break;
				}
			case OPT_FILE:

				/*
				 * As file_fdw's filename: the PostgreSQL server opens the
				 * file with its own rights, so only a superuser names it.
				 */
				if (!superuser())
					ereport(ERROR,
							(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
							 errmsg("only superusers may set option \"%s\"", opt->name)));
				if (value[0] == '\0')
					ereport(ERROR,
							(errcode(ERRCODE_FDW_INVALID_ATTRIBUTE_VALUE),
							 errmsg("invalid value \"\" for option \"%s\"", opt->name),
							 errdetail("The value is the path of a file.")));
				break;
			case OPT_STRING:
				break;
		}
		if (strcmp(opt->name, "ssl_mode") == 0)
			ssl_mode = value;
		else if (strcmp(opt->name, "ssl_ca") == 0)
			has_ca = true;
		else if (strcmp(opt->name, "ssl_cert") == 0)
			has_cert = true;
		else if (strcmp(opt->name, "ssl_key") == 0)
			has_key = true;
	}

	/* options that only make sense together (all of a server's are here) */
	if (ssl_mode != NULL && strcmp(ssl_mode, "verify_ca") == 0 && !has_ca)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_OPTION_NAME_NOT_FOUND),
				 errmsg("ssl_mode \"verify_ca\" needs option \"ssl_ca\""),
				 errhint("Name the file of the certificate authority that signs the MySQL server's certificate, or use ssl_mode \"verify_identity\" to verify against the system's authorities.")));
	if (has_cert != has_key)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_OPTION_NAME_NOT_FOUND),
				 errmsg("options \"ssl_cert\" and \"ssl_key\" go together"),
				 errhint("A client certificate needs its private key, and a key its certificate.")));
	PG_RETURN_VOID();
}

/* Store the options of one catalog's list in their fields of *opts */
static void
store_conn_options(List *options, Oid context, EtlPullConnOptions *opts)
{
	ListCell   *lc;

	foreach(lc, options)
	{
		DefElem    *def = (DefElem *) lfirst(lc);
		const ConnOption *opt = find_conn_option(def->defname, context);
		char	   *field;

		if (opt == NULL)
			continue;			/* the validator lets none in */
		field = (char *) opts + opt->offset;
		switch (opt->kind)
		{
			case OPT_STRING:
			case OPT_CHOICE:
			case OPT_CHOICE_LIST:
			case OPT_FILE:
				*(const char **) field = defGetString(def);
				break;
			case OPT_PORT:
			case OPT_SECONDS:
				/* whole numbers in range, as the validator checked */
				*(unsigned int *) field = (unsigned int) atoi(defGetString(def));
				break;
			case OPT_BOOL:
				*(bool *) field = defGetBoolean(def);
				break;
		}
	}
}

/*
 * The options of a connection to "server" under user mapping "um", with
 * the defaults of the options not given: connect_timeout 10 seconds, no
 * read or write timeout, no compression, and ssl_mode verify_ca when
 * ssl_ca is given, disabled otherwise.  The strings point into the
 * server's and the mapping's option lists.
 */
void
EtlPullGetConnOptions(ForeignServer *server, UserMapping *um,
					  EtlPullConnOptions *opts)
{
	memset(opts, 0, sizeof(EtlPullConnOptions));
	opts->connect_timeout = 10;
	store_conn_options(server->options, ForeignServerRelationId, opts);
	store_conn_options(um->options, UserMappingRelationId, opts);

	/* a CA without a mode means: verify the chain, as MySQL's own client */
	if (opts->ssl_mode == NULL)
		opts->ssl_mode = opts->ssl_ca != NULL ? "verify_ca" : "disabled";
}

/* ---- per-table settings (etl_pull.tables) ---- */

/*
 * The descriptors, one per line of settinglist.h: see there for what a
 * line says and how to add a setting.
 */
const EtlPullSettingDesc EtlPullTableSettings[] = {
#define ETL_SETTING(name, kind, ctype, default_value, choices, min, max, description) \
	{#name, kind, default_value, choices, min, max, description, offsetof(EtlPullTable, name)},
#include "settinglist.h"
#undef ETL_SETTING
};

const int	EtlPullNumTableSettings = lengthof(EtlPullTableSettings);

/*
 * The C type of each kind's field, which settinglist.h must give: the
 * reader stores through the descriptor's offset, so the compiler checks
 * here what it cannot check there.  A choice's field is an enum, of int's
 * size (only the size is checked).
 */
#define SETTING_CTYPE_SET_TEXT char *
#define SETTING_CTYPE_SET_QUALIFIED_NAME char *
#define SETTING_CTYPE_SET_COLUMN_LIST List *
#define SETTING_CTYPE_SET_CHOICE int
#define SETTING_CTYPE_SET_INT int
#define SETTING_CTYPE_SET_NUMERIC double
#define SETTING_CTYPE_SET_BOOL bool
#define SETTING_CTYPE_SET_PG_SETTINGS char *
#define SETTING_CTYPE_SET_MYSQL_SETTINGS char *
#define SETTING_CTYPE_SET_COLUMN_TYPES List *

#ifdef HAVE__BUILTIN_TYPES_COMPATIBLE_P
#define SETTING_CTYPE_OK(kind, ctype) \
	((kind) == SET_CHOICE ? sizeof(ctype) == sizeof(int) : \
	 __builtin_types_compatible_p(ctype, SETTING_CTYPE_##kind))
#else
#define SETTING_CTYPE_OK(kind, ctype) (sizeof(ctype) == sizeof(SETTING_CTYPE_##kind))
#endif

#define ETL_SETTING(name, kind, ctype, default_value, choices, min, max, description) \
	StaticAssertDecl(SETTING_CTYPE_OK(kind, ctype), \
					 "settinglist.h: the C type of setting " #name " does not match its kind");
#include "settinglist.h"
#undef ETL_SETTING

/* The kinds as etl_pull.table_settings() names them */
static const char *const setting_kind_names[] = {
	[SET_TEXT] = "text",
	[SET_QUALIFIED_NAME] = "qualified_name",
	[SET_COLUMN_LIST] = "column_list",
	[SET_CHOICE] = "choice",
	[SET_INT] = "integer",
	[SET_NUMERIC] = "numeric",
	[SET_BOOL] = "boolean",
	[SET_PG_SETTINGS] = "pg_settings",
	[SET_MYSQL_SETTINGS] = "mysql_settings",
	[SET_COLUMN_TYPES] = "column_types"
};

/*
 * What a setting accepts, in words: the detail of the validator's errors
 * and the "allowed" of etl_pull.table_settings().  palloc'd or constant.
 */
static const char *
setting_allowed(const EtlPullSettingDesc *s)
{
	switch (s->kind)
	{
		case SET_TEXT:
			return "a non-empty name";
		case SET_QUALIFIED_NAME:
			return "\"table\" or \"schema.table\"";
		case SET_COLUMN_LIST:
			return "one or more column names separated by commas";
		case SET_CHOICE:
			return s->choices;
		case SET_INT:
			return psprintf("integers from %d to %d", s->min, s->max);
		case SET_NUMERIC:
			return "a number, 0 or more";
		case SET_BOOL:
			return "true, false";
		case SET_PG_SETTINGS:
		case SET_MYSQL_SETTINGS:
			return "name=value items separated by commas";
		case SET_COLUMN_TYPES:
			return "column:type items separated by commas";
	}
	elog(ERROR, "unknown kind %d of setting \"%s\"", (int) s->kind, s->name);
	return NULL;				/* keep the compiler quiet */
}

static void
bad_setting(const EtlPullSettingDesc *s, const char *value)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("invalid value \"%s\" for setting \"%s\"", value, s->name),
			 errdetail("Allowed values are: %s.", setting_allowed(s))));
}

/*
 * The descriptor of per-table setting "key", named in any case (as
 * PostgreSQL's reloptions are), or NULL
 */
const EtlPullSettingDesc *
EtlPullFindTableSetting(const char *key)
{
	int			i;

	for (i = 0; i < EtlPullNumTableSettings; i++)
		if (pg_strcasecmp(EtlPullTableSettings[i].name, key) == 0)
			return &EtlPullTableSettings[i];
	return NULL;
}

/*
 * An integer setting's value: digits with an optional sign, and blanks
 * around them, in the setting's range (a fraction is refused, as
 * reloptions refuse one, rather than rounded); false if it is not
 */
static bool
parse_whole_number(const char *value, const EtlPullSettingDesc *s, int *result)
{
	char	   *end;
	long		v;

	errno = 0;
	v = strtol(value, &end, 10);
	if (end == value || errno == ERANGE)
		return false;
	while (isspace((unsigned char) *end))
		end++;
	if (*end != '\0' || v < s->min || v > s->max)
		return false;
	*result = (int) v;
	return true;
}

/*
 * Check one per-table setting, and return it in the form to store.  A
 * NULL value means "back to the default" and is always accepted for a
 * known key.  Keys, choices and booleans are taken in any case and
 * stored as the descriptors spell them (lower case); an integer is
 * stored as its digits, a boolean as true or false.  Type names of
 * column_types are resolved in the caller's search_path now and stored
 * schema-qualified, so that a load resolves them the same way whoever
 * runs it.
 */
char *
EtlPullCheckTableOption(const char *key, const char *value)
{
	const EtlPullSettingDesc *s = EtlPullFindTableSetting(key);
	int			i;

	if (s == NULL)
	{
		StringInfoData buf;

		initStringInfo(&buf);
		for (i = 0; i < EtlPullNumTableSettings; i++)
			appendStringInfo(&buf, "%s%s", buf.len > 0 ? ", " : "",
							 EtlPullTableSettings[i].name);
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("unrecognized table setting \"%s\"", key),
				 errhint("Valid settings are: %s.", buf.data)));
	}
	if (value == NULL)
		return NULL;

	switch (s->kind)
	{
		case SET_TEXT:
		case SET_COLUMN_LIST:
			if (value[0] == '\0')
				bad_setting(s, value);
			break;
		case SET_QUALIFIED_NAME:
			{
				List	   *names = NIL;

				if (!SplitIdentifierString(pstrdup(value), '.', &names) ||
					list_length(names) < 1 || list_length(names) > 2)
					bad_setting(s, value);
				if (list_length(names) == 2)
					EtlPullCheckTargetSchema((char *) linitial(names));
				break;
			}
		case SET_CHOICE:
			{
				char	   *lower = asc_tolower(value, strlen(value));
				int			ordinal = EtlPullChoiceOrdinal(lower, s->choices);

				if (ordinal < 0)
					bad_setting(s, value);
				return EtlPullChoiceName(s->name, ordinal);
			}
		case SET_INT:
			{
				int			v;

				if (!parse_whole_number(value, s, &v))
					bad_setting(s, value);
				return psprintf("%d", v);
			}
		case SET_NUMERIC:
			{
				double		v;

				if (!parse_real(value, &v, 0, NULL) || v < 0 || isinf(v))
					bad_setting(s, value);
				break;
			}
		case SET_BOOL:
			{
				bool		v;

				if (!parse_bool(value, &v))
					bad_setting(s, value);
				return pstrdup(v ? "true" : "false");
			}
		case SET_PG_SETTINGS:
			EtlPullCheckSettingsList(key, value, true);
			break;
		case SET_MYSQL_SETTINGS:
			EtlPullCheckSettingsList(key, value, false);
			break;
		case SET_COLUMN_TYPES:
			{
				ListCell   *lc;
				List	   *types = EtlPullParseColumnTypes(value);
				StringInfoData buf;

				if (types == NIL)
					bad_setting(s, value);
				initStringInfo(&buf);
				foreach(lc, types)
				{
					EtlPullColumnType *ct = (EtlPullColumnType *) lfirst(lc);
					Oid			typid;
					int32		typmod;

					/* reports an unknown type */
					parseTypeString(ct->type_name, &typid, &typmod, false);
					appendStringInfo(&buf, "%s%s:%s", buf.len ? ", " : "", ct->column,
									 format_type_extended(typid, typmod,
														  FORMAT_TYPE_TYPEMOD_GIVEN |
														  FORMAT_TYPE_FORCE_QUALIFY));
				}
				return buf.data;
			}
	}
	return pstrdup(value);
}

PG_FUNCTION_INFO_V1(etl_pull_check_table_option);

/*
 * SQL: etl_pull.check_table_option(key text, value text) returns text:
 * the value as it is to be stored.
 */
Datum
etl_pull_check_table_option(PG_FUNCTION_ARGS)
{
	char	   *key;
	char	   *value;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("setting name must not be null")));
	key = text_to_cstring(PG_GETARG_TEXT_PP(0));
	value = EtlPullCheckTableOption(key, PG_ARGISNULL(1) ? NULL :
									text_to_cstring(PG_GETARG_TEXT_PP(1)));
	if (value == NULL)
		PG_RETURN_NULL();
	PG_RETURN_TEXT_P(cstring_to_text(value));
}

PG_FUNCTION_INFO_V1(etl_pull_table_settings);

/*
 * SQL: etl_pull.table_settings() returns table (name, kind, allowed,
 * default_value, description): the descriptors, one row per setting, in
 * their order.  The regression tests compare them with etl_pull.tables
 * and with README.md.
 */
Datum
etl_pull_table_settings(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	int			i;

	InitMaterializedSRF(fcinfo, 0);
	for (i = 0; i < EtlPullNumTableSettings; i++)
	{
		const EtlPullSettingDesc *s = &EtlPullTableSettings[i];
		Datum		values[5];
		bool		nulls[5] = {0};

		values[0] = CStringGetTextDatum(s->name);
		values[1] = CStringGetTextDatum(setting_kind_names[s->kind]);
		values[2] = CStringGetTextDatum(setting_allowed(s));
		if (s->default_value)
			values[3] = CStringGetTextDatum(s->default_value);
		else
			nulls[3] = true;
		values[4] = CStringGetTextDatum(s->description);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}

/*
 * Parse a column_types value, "column:type, column:type", into a list of
 * EtlPullColumnType.  Commas inside a type's parentheses do not split.
 * Returns NIL for NULL or a malformed value.
 */
List *
EtlPullParseColumnTypes(const char *value)
{
	List	   *result = NIL;
	const char *p = value;

	if (value == NULL)
		return NIL;
	while (*p)
	{
		StringInfoData item;
		int			depth = 0;
		char	   *colon;
		EtlPullColumnType *ct;

		initStringInfo(&item);
		for (; *p && (*p != ',' || depth > 0); p++)
		{
			if (*p == '(')
				depth++;
			else if (*p == ')')
				depth--;
			appendStringInfoChar(&item, *p);
		}
		if (*p == ',')
			p++;
		colon = strchr(item.data, ':');
		if (colon == NULL)
			return NIL;
		*colon = '\0';
		ct = palloc(sizeof(EtlPullColumnType));
		ct->column = pstrdup(item.data);
		ct->type_name = pstrdup(colon + 1);
		/* trim */
		while (*ct->column == ' ')
			ct->column++;
		while (*ct->type_name == ' ')
			ct->type_name++;
		while (strlen(ct->column) && ct->column[strlen(ct->column) - 1] == ' ')
			ct->column[strlen(ct->column) - 1] = '\0';
		while (strlen(ct->type_name) && ct->type_name[strlen(ct->type_name) - 1] == ' ')
			ct->type_name[strlen(ct->type_name) - 1] = '\0';
		if (ct->column[0] == '\0' || ct->type_name[0] == '\0')
			return NIL;
		result = lappend(result, ct);
	}
	return result;
}

/*
 * The name of a choice setting's value: the ordinal-th of its choices
 * (palloc'd).  "setting" must be a choice.
 */
char *
EtlPullChoiceName(const char *setting, int ordinal)
{
	const char *p = NULL;
	int			i;

	for (i = 0; i < EtlPullNumTableSettings; i++)
		if (strcmp(EtlPullTableSettings[i].name, setting) == 0)
			p = EtlPullTableSettings[i].choices;
	if (p == NULL)
		elog(ERROR, "\"%s\" is not a choice setting", setting);
	for (i = 0; i < ordinal && p != NULL; i++)
	{
		p = strchr(p, ',');
		if (p != NULL)
			while (*++p == ' ')
				;
	}
	if (p == NULL)
		elog(ERROR, "setting \"%s\" has no value %d", setting, ordinal);
	return pnstrdup(p, strcspn(p, ","));
}

/*
 * The settings source_table and target_table: their grammar, and the
 * targets no load may write.
 */

/*
 * Split a source_table value into its database (NULL: the server's dbname)
 * and table.  `Quoted` parts may contain dots; an unquoted value splits at
 * its first dot.
 */
void
EtlPullSplitSourceTable(const char *value, char **db, char **table)
{
	char	   *parts[2] = {NULL, NULL};
	int			nparts = 0;
	const char *p = value;

	while (*p && nparts < 2)
	{
		StringInfoData buf;

		initStringInfo(&buf);
		if (*p == '`')
		{
			for (p++; *p; p++)
			{
				if (*p == '`')
				{
					if (p[1] == '`')
						p++;
					else
						break;
				}
				appendStringInfoChar(&buf, *p);
			}
			if (*p != '`')
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("unterminated quoted name in \"source_table\" value \"%s\"", value)));
			p++;
		}
		else
		{
			while (*p && (*p != '.' || nparts == 1))
				appendStringInfoChar(&buf, *p++);
		}
		parts[nparts++] = buf.data;
		if (*p == '.')
			p++;
		else if (*p)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid \"source_table\" value \"%s\"", value),
					 errhint("Write \"table\", \"db.table\" or `quoted`.`names`.")));
	}
	if (nparts == 2)
	{
		*db = parts[0];
		*table = parts[1];
	}
	else
	{
		*db = NULL;
		*table = parts[0];
	}
}

/*
 * The target of registered table "name" whose target_table setting is
 * "target" (NULL: the default, public.<name> lower-cased).
 */
void
EtlPullResolveTarget(const char *name, const char *target, char **schema,
					 char **table)
{
	List	   *names;

	if (target == NULL)
	{
		*schema = "public";
		*table = downcase_identifier(name, strlen(name), false, true);
		return;
	}
	names = EtlPullQualifiedNameList(target);
	if (list_length(names) == 1)
	{
		*schema = "public";
		*table = strVal(linitial(names));
	}
	else if (list_length(names) == 2)
	{
		*schema = strVal(linitial(names));
		*table = strVal(lsecond(names));
	}
	else
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid \"target_table\" value \"%s\"", target),
				 errhint("Write \"table\" or \"schema.table\".")));
}

/*
 * Refuse a target schema no load may write: the system's (pg_catalog,
 * information_schema, pg_toast and every other "pg_" schema, temporary
 * ones included) and etl_pull's own.  Called when target_table is set and
 * again by every load, on the schema the name resolves to.
 */
void
EtlPullCheckTargetSchema(const char *schema)
{
	if (strncmp(schema, "pg_", 3) == 0 ||
		strcmp(schema, "information_schema") == 0 ||
		strcmp(schema, "etl_pull") == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("etl_pull does not load into schema \"%s\"", schema),
				 errdetail("Targets in system schemas and in schema etl_pull are refused."),
				 errhint("Set \"target_table\" to a table in a schema of your own.")));
}

/*
 * Refuse an existing target that is a system relation, wherever it is, or
 * one of etl_pull's own tables.
 */
void
EtlPullCheckTargetRelation(Oid relid, const char *qname)
{
	Oid			nspid = get_rel_namespace(relid);

	if (relid < FirstNormalObjectId || IsCatalogNamespace(nspid) ||
		IsToastNamespace(nspid) ||
		getExtensionOfObject(RelationRelationId, relid) != InvalidOid)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("etl_pull does not load into table %s", qname),
				 errdetail("It is a system table or belongs to an extension."),
				 errhint("Set \"target_table\" to a table of your own.")));
}
