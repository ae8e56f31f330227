/*-------------------------------------------------------------------------
 *
 * plan.c
 *		  etl_pull.plan(name): what load_table(name) would do now, without
 *		  moving a row or changing anything.
 *
 * The plan reads what a load reads (the table's settings, the target's
 * catalog entries, the source's description under a read-only consistent
 * snapshot, the watermark) and a sample of the source's rows, and returns
 * rows (section, item, detail) in a fixed order:
 *
 *	table		the source, the target (existing, or to be created) and the
 *				settings that shape the load
 *	connection	the connection's TLS state
 *	column		each source column: its MySQL type, the target type (mapped
 *				for a new target, existing otherwise) and the difference
 *	schema		what on_schema_change would do about the source's changes,
 *				and the ALTER TABLE evolve would run
 *	ddl			for a target to create: its CREATE TABLE (and indexes)
 *	strategy	the strategy and the rule that picks it
 *	privileges	what the caller lacks for the load (or that nothing is)
 *	keys		the primary key and how parallel would cut it into chunks
 *	extraction	full, incremental (the watermark, its predicate and
 *				whether the watermark column leads an index at the source)
 *				or diff (what the next run compares, or why it is refused)
 *	hazard		values found in the sampled rows that a load would turn
 *				into NULL, refuse or fail on
 *
 * It runs as the caller, like load_table: the caller's user mapping, with
 * search_path pinned; a privilege the caller lacks is reported rather than
 * raised, and the plan stops where it could go no further (no USAGE on the
 * server or the target's schema).  The watermark is shown only to a caller
 * who may read the target (its values are source values).  It writes
 * nothing, takes only AccessShareLock on the target, and records no run.
 *
 * IDENTIFICATION
 *		  src/commands/plan.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/table.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_foreign_server.h"
#include "catalog/pg_namespace.h"
#include "catalog/pg_type.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "parser/parse_type.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/rls.h"
#include "utils/syscache.h"

#include "load/load.h"
#include "load/parallel.h"
#include "verify/verify.h"

typedef struct PlanOut
{
	ReturnSetInfo *rsinfo;
} PlanOut;

/*
 * Text for a row: MySQL's names and values in it may be bytes the
 * database's encoding does not have (a hostile server), which are shown
 * as \xHH (EtlPullValidText)
 */
static const char *
valid_text(const char *s)
{
	if (s == NULL)
		return s;
	return EtlPullValidText(s, strlen(s), GetDatabaseEncoding(), NULL);
}

/* One row of the plan */
static void
emit(PlanOut *out, const char *section, const char *item, const char *detail)
{
	Datum		values[3];
	bool		nulls[3] = {false, false, false};

	item = valid_text(item);
	detail = valid_text(detail);

	values[0] = CStringGetTextDatum(section);
	if (item)
		values[1] = CStringGetTextDatum(item);
	else
		nulls[1] = true;
	if (detail)
		values[2] = CStringGetTextDatum(detail);
	else
		nulls[2] = true;
	tuplestore_putvalues(out->rsinfo->setResult, out->rsinfo->setDesc, values, nulls);
}

/* What target "rel", not a plain table, is, for "the target is ..." */
static const char *
not_plain(Relation rel)
{
	switch (rel->rd_rel->relkind)
	{
		case RELKIND_PARTITIONED_TABLE:
			return "a partitioned table";
		case RELKIND_FOREIGN_TABLE:
			return "a foreign table";
		default:
			return "not one";
	}
}

static bool
has_user_mapping(Oid serverid)
{
	HeapTuple	tup;

	tup = SearchSysCache2(USERMAPPINGUSERSERVER, ObjectIdGetDatum(GetUserId()),
						  ObjectIdGetDatum(serverid));
	if (!HeapTupleIsValid(tup))
		tup = SearchSysCache2(USERMAPPINGUSERSERVER, ObjectIdGetDatum(InvalidOid),
							  ObjectIdGetDatum(serverid));
	if (!HeapTupleIsValid(tup))
		return false;
	ReleaseSysCache(tup);
	return true;
}

static bool
owns(Oid relid)
{
#if PG_VERSION_NUM >= 160000
	return object_ownercheck(RelationRelationId, relid, GetUserId());
#else
	return pg_class_ownercheck(relid, GetUserId());
#endif
}

/* One value of a MySQL session status variable, or NULL */
static char *
session_status(EtlPullConnection *conn, const char *name)
{
	char	  **row;

	row = EtlPullQueryRow(conn, psprintf("SHOW SESSION STATUS LIKE %s",
										 EtlPullQuoteLiteral(conn, name)), 2, true);
	if (row == NULL || row[1] == NULL || row[1][0] == '\0')
		return NULL;
	return EtlPullPrintable(row[1], 128);
}

/* Whether source column "col" leads the primary key or a usable index */
static bool
leads_index(EtlPullSource *source, List *indexes, int col)
{
	ListCell   *lc;

	if (source->columns[col].pk_position == 1)
		return true;
	foreach(lc, indexes)
	{
		EtlPullSourceIndex *ix = (EtlPullSourceIndex *) lfirst(lc);

		if (ix->nparts > 0 && ix->columns[0] == col &&
			(ix->skip_reason == NULL || strncmp(ix->skip_reason, "a prefix", 8) == 0))
			return true;
	}
	return false;
}

/* What the sample found in one column */
typedef struct Hazard
{
	int64		zero_dates;
	int64		past_type;		/* unsigned values the target type cannot hold */
	int64		long_times;		/* TIME beyond 24 h into a time target */
	int64		bad_utf8;
	int64		nulls;			/* NULLs (or zero dates) for a NOT NULL column */
	char	   *first[5];		/* row key of the first of each */
} Hazard;

static bool
is_zero_date(const char *s, unsigned long len)
{
	/* YYYY-MM-DD...: a zero year, month or day */
	if (len < 10)
		return false;
	return strncmp(s, "0000-00-00", 10) == 0 ||
		strncmp(s + 5, "00", 2) == 0 || strncmp(s + 8, "00", 2) == 0;
}

/* The largest value of an integer type, or 0 for another type */
static uint64
int_max(Oid typid)
{
	switch (typid)
	{
		case INT2OID:
			return PG_INT16_MAX;
		case INT4OID:
			return PG_INT32_MAX;
		case INT8OID:
			return PG_INT64_MAX;
	}
	return 0;
}

static char *
row_key(EtlPullSource *source, char **values, unsigned long *lengths)
{
	StringInfoData buf;
	ListCell   *lc;

	initStringInfo(&buf);
	foreach(lc, EtlPullSourceKey(source))
	{
		EtlPullSourceColumn *col = (EtlPullSourceColumn *) lfirst(lc);
		int			i = col - source->columns;

		appendStringInfo(&buf, "%s%s=%s", buf.len ? ", " : "", col->name,
						 values[i] ? EtlPullPrintable(pnstrdup(values[i], lengths[i]), 64) : "NULL");
	}
	return buf.len ? psprintf("(%s)", buf.data) : pstrdup("(no key)");
}

static void
note(Hazard *h, int which, int64 *count, EtlPullSource *source, char **values,
	 unsigned long *lengths)
{
	if ((*count)++ == 0)
		h->first[which] = row_key(source, values, lengths);
}

/*
 * Sample the first "sample" rows of the source and look for the values a
 * load would not take as they are.  "types" and "notnull" are the target
 * column's (existing or mapped) for each source column.
 */
static void
sample_hazards(PlanOut *out, EtlPullLoad *load, int sample, Oid *types,
			   bool *notnull)
{
	EtlPullSource *source = load->source;
	Hazard	   *h = palloc0(sizeof(Hazard) * source->ncolumns);
	char	  **values;
	unsigned long *lengths;
	int64		rows = 0;
	bool		found = false;
	int			i;

	EtlPullQueryStart(load->conn,
					  psprintf("%s LIMIT %d", EtlPullSourceSelect(source, NULL), sample),
					  source->ncolumns);
	while (EtlPullFetch(load->conn, &values, &lengths))
	{
		CHECK_FOR_INTERRUPTS();
		rows++;
		for (i = 0; i < source->ncolumns; i++)
		{
			EtlPullSourceColumn *col = &source->columns[i];
			const char *v = values[i];
			unsigned long len = lengths[i];
			bool		is_date = (col->kind == SRC_DATE || col->kind == SRC_DATETIME ||
								   col->kind == SRC_TIMESTAMP);
			char		category;
			bool		preferred;

			if (v == NULL)
			{
				if (notnull[i])
					note(&h[i], 4, &h[i].nulls, source, values, lengths);
				continue;
			}
			if (is_date && is_zero_date(v, len))
			{
				note(&h[i], 0, &h[i].zero_dates, source, values, lengths);
				if (notnull[i] && load->table->zero_dates == ETL_ZERO_DATES_NULL)
					note(&h[i], 4, &h[i].nulls, source, values, lengths);
			}
			if (col->kind == SRC_INT && col->is_unsigned && int_max(types[i]) > 0)
			{
				char	   *s = pnstrdup(v, len);
				uint64		u = strtou64(s, NULL, 10);

				if (u > int_max(types[i]))
					note(&h[i], 1, &h[i].past_type, source, values, lengths);
			}
			if (col->kind == SRC_TIME && types[i] == TIMEOID)
			{
				/* [-]H+:MM:SS: negative, or 24 hours or more */
				if (v[0] == '-' || (len > 2 && v[2] != ':') || strncmp(v, "24", 2) >= 0)
					note(&h[i], 2, &h[i].long_times, source, values, lengths);
			}
			get_type_category_preferred(types[i], &category, &preferred);
			if (category == TYPCATEGORY_STRING || types[i] == JSONBOID ||
				types[i] == TEXTARRAYOID)
			{
				if (pg_encoding_verifymbstr(PG_UTF8, v, len) != (int) len)
					note(&h[i], 3, &h[i].bad_utf8, source, values, lengths);
			}
		}
	}
	EtlPullQueryEnd(load->conn);

	for (i = 0; i < source->ncolumns; i++)
	{
		EtlPullSourceColumn *col = &source->columns[i];
		Hazard	   *c = &h[i];

		if (c->zero_dates)
		{
			found = true;
			emit(out, "hazard", col->name,
				 psprintf(INT64_FORMAT " of " INT64_FORMAT " sampled rows: zero dates, which %s (zero_dates = %s); first at key %s",
						  c->zero_dates, rows,
						  load->table->zero_dates == ETL_ZERO_DATES_NULL ?
						  "load as NULL" : "fail the load",
						  EtlPullChoiceName("zero_dates", load->table->zero_dates),
						  c->first[0]));
		}
		if (c->past_type)
		{
			found = true;
			emit(out, "hazard", col->name,
				 psprintf(INT64_FORMAT " of " INT64_FORMAT " sampled rows: unsigned values past the target's %s, which fail the load; first at key %s",
						  c->past_type, rows, format_type_be(types[i]), c->first[1]));
		}
		if (c->long_times)
		{
			found = true;
			emit(out, "hazard", col->name,
				 psprintf(INT64_FORMAT " of " INT64_FORMAT " sampled rows: TIME values outside 00:00:00 to 24:00:00, which a time column cannot hold (interval can); first at key %s",
						  c->long_times, rows, c->first[2]));
		}
		if (c->bad_utf8)
		{
			found = true;
			emit(out, "hazard", col->name,
				 psprintf(INT64_FORMAT " of " INT64_FORMAT " sampled rows: invalid UTF-8 or NUL bytes, which %s (invalid_utf8 = %s); first at key %s",
						  c->bad_utf8, rows,
						  load->table->invalid_utf8 == ETL_INVALID_UTF8_ERROR ?
						  "fail the load" : "become U+FFFD",
						  EtlPullChoiceName("invalid_utf8", load->table->invalid_utf8),
						  c->first[3]));
		}
		if (c->nulls)
		{
			found = true;
			emit(out, "hazard", col->name,
				 psprintf(INT64_FORMAT " of " INT64_FORMAT " sampled rows: NULL (or a zero date loading as NULL) for NOT NULL target column %s, which fails the load; first at key %s",
						  c->nulls, rows, quote_identifier(col->target_name), c->first[4]));
		}
	}
	if (!found)
		emit(out, "hazard", NULL,
			 psprintf("none in " INT64_FORMAT " sampled rows", rows));
}

/* The privileges the caller lacks on an existing target for "mode" */
static bool
missing_privileges(PlanOut *out, EtlPullLoad *load, AclMode mode, const char *why)
{
	const AclMode each[] = {ACL_INSERT, ACL_UPDATE, ACL_DELETE, ACL_TRUNCATE,
	ACL_SELECT};
	const char *names[] = {"INSERT", "UPDATE", "DELETE", "TRUNCATE", "SELECT"};
	bool		missing = false;
	int			i;

	for (i = 0; i < lengthof(each); i++)
		if ((mode & each[i]) &&
			pg_class_aclcheck(load->target_oid, GetUserId(), each[i]) != ACLCHECK_OK)
		{
			emit(out, "privileges", psprintf("%s on %s", names[i], load->target_qname),
				 psprintf("missing: %s", why));
			missing = true;
		}
	return missing;
}

/*
 * The plan of one table into "out".  Runs as the caller with search_path
 * pinned.
 */
static void
plan_table(PlanOut *out, EtlPullTable *table, int sample)
{
	EtlPullLoad load;
	EtlPullRunResult result;
	ForeignServer *server;
	UserMapping *um;
	EtlPullConnOptions opts;
	Relation	rel = NULL;
	const EtlPullStrategyRoutine *strategy;
	Oid			nspid;
	Oid		   *types;
	int32	   *typmods;
	bool	   *notnull;
	bool		lacking = false;
	bool		exists;
	char	   *tls;
	List	   *indexes;
	AclResult	aclresult;
	int			i;

	memset(&load, 0, sizeof(load));
	memset(&result, 0, sizeof(result));
	load.table = table;
	load.result = &result;

	/* what the caller may do: USAGE on the server, a user mapping */
	server = GetForeignServer(table->serverid);
#if PG_VERSION_NUM >= 160000
	aclresult = object_aclcheck(ForeignServerRelationId, server->serverid,
								GetUserId(), ACL_USAGE);
#else
	aclresult = pg_foreign_server_aclcheck(server->serverid, GetUserId(), ACL_USAGE);
#endif
	emit(out, "table", "name", table->name);
	if (aclresult != ACLCHECK_OK)
	{
		emit(out, "privileges", psprintf("USAGE on server %s", quote_identifier(server->servername)),
			 "missing: load_table fails before it connects; the plan stops here");
		return;
	}
	if (!has_user_mapping(server->serverid))
	{
		emit(out, "privileges", psprintf("user mapping for %s on server %s",
										 quote_identifier(GetUserNameFromId(GetUserId(), false)),
										 quote_identifier(server->servername)),
			 "missing: load_table cannot connect; the plan stops here");
		return;
	}

	/* the target's schema: USAGE, as naming the table needs */
	EtlPullCheckTargetSchema(table->target_schema);
	nspid = get_namespace_oid(table->target_schema, false);
	load.target_qname = quote_qualified_identifier(table->target_schema,
												   table->target_relname);
#if PG_VERSION_NUM >= 160000
	aclresult = object_aclcheck(NamespaceRelationId, nspid, GetUserId(), ACL_USAGE);
#else
	aclresult = pg_namespace_aclcheck(nspid, GetUserId(), ACL_USAGE);
#endif
	if (aclresult != ACLCHECK_OK)
	{
		emit(out, "privileges", psprintf("USAGE on schema %s", quote_identifier(table->target_schema)),
			 "missing: load_table fails before it connects; the plan stops here");
		return;
	}
	load.target_oid = EtlPullLookupTarget(&load);
	exists = OidIsValid(load.target_oid);

	/* the source, under a read-only snapshot, as a load reads it */
	um = GetUserMapping(GetUserId(), server->serverid);
	EtlPullGetConnOptions(server, um, &opts);
	load.conn = EtlPullConnect(server, GetUserId());
	EtlPullApplyMysqlSettings(load.conn, table);
	EtlPullStartSnapshot(load.conn);
	load.source = EtlPullDescribeTableSource(load.conn, table);
	EtlPullCheckColumnTypes(&load);

	emit(out, "table", "source", psprintf("%s.%s on server %s", EtlPullQuoteIdent(load.source->db),
										  EtlPullQuoteIdent(table->source_relname),
										  quote_identifier(server->servername)));
	emit(out, "table", "target",
		 psprintf("%s (%s)", load.target_qname,
				  exists ? "exists" : "does not exist: the load creates it"));
	emit(out, "table", "settings",
		 psprintf("extraction = %s, strategy = %s, on_schema_change = %s, indexes = %s, on_error = %s, protocol = %s, verify = %s%s",
				  EtlPullChoiceName("extraction", table->extraction),
				  EtlPullChoiceName("strategy", table->strategy),
				  EtlPullChoiceName("on_schema_change", table->on_schema_change),
				  EtlPullChoiceName("indexes", table->indexes),
				  EtlPullChoiceName("on_error", table->on_error),
				  EtlPullChoiceName("protocol", table->protocol),
				  EtlPullChoiceName("verify", table->verify),
				  table->enabled ? "" : "; disabled: load_table refuses it"));

	/* the connection */
	tls = session_status(load.conn, "Ssl_version");
	emit(out, "connection", "tls",
		 tls ? psprintf("%s, cipher %s (ssl_mode %s)", tls,
						session_status(load.conn, "Ssl_cipher"), opts.ssl_mode) :
		 psprintf("not encrypted (ssl_mode %s)", opts.ssl_mode));

	/* the columns, and the drift of an existing target */
	types = palloc0(sizeof(Oid) * load.source->ncolumns);
	typmods = palloc0(sizeof(int32) * load.source->ncolumns);
	notnull = palloc0(sizeof(bool) * load.source->ncolumns);
	if (exists)
	{
		rel = table_open(load.target_oid, AccessShareLock);
		load.owner = rel->rd_rel->relowner;	/* whom a load writes as */
	}
	for (i = 0; i < load.source->ncolumns; i++)
	{
		EtlPullSourceColumn *col = &load.source->columns[i];
		const char *mysql_type = col->nullable ? col->column_type :
			psprintf("%s NOT NULL", col->column_type);
		Oid			mtyp;
		int32		mmod;
		char	   *mapped;

		parseTypeString(EtlPullColumnTargetType(&load, col), &mtyp, &mmod, false);
		mapped = format_type_with_typemod(mtyp, mmod);
		types[i] = mtyp;
		typmods[i] = mmod;
		if (rel == NULL)
		{
			emit(out, "column", col->name,
				 psprintf("%s -> %s %s (mapped)", mysql_type,
						  quote_identifier(col->target_name), mapped));
			continue;
		}
		else
		{
			TupleDesc	tupdesc = RelationGetDescr(rel);
			AttrNumber	a;
			Form_pg_attribute att = NULL;

			for (a = 0; a < tupdesc->natts; a++)
				if (!TupleDescAttr(tupdesc, a)->attisdropped &&
					strcmp(NameStr(TupleDescAttr(tupdesc, a)->attname), col->target_name) == 0)
					att = TupleDescAttr(tupdesc, a);
			if (att == NULL)
			{
				emit(out, "column", col->name,
					 psprintf("%s -> no target column (mapped type %s): %s", mysql_type, mapped,
							  table->on_schema_change == ETL_SCHEMA_CHANGE_EVOLVE ?
							  "on_schema_change = evolve adds it" :
							  "the load fails (on_schema_change = error)"));
				continue;
			}
			types[i] = att->atttypid;
			typmods[i] = att->atttypmod;
			notnull[i] = att->attnotnull;
			emit(out, "column", col->name,
				 psprintf("%s -> %s %s%s (existing)%s", mysql_type,
						  quote_identifier(col->target_name),
						  format_type_with_typemod(att->atttypid, att->atttypmod),
						  att->attnotnull ? " NOT NULL" : "",
						  (att->atttypid == mtyp && att->atttypmod == mmod) ? "" :
						  psprintf("; differs from the mapping, %s", mapped)));
		}
	}
	if (rel != NULL)
	{
		TupleDesc	tupdesc = RelationGetDescr(rel);
		AttrNumber	a;
		List	   *diffs;
		ListCell   *lc;
		char	   *ddl;

		for (a = 0; a < tupdesc->natts; a++)
		{
			Form_pg_attribute att = TupleDescAttr(tupdesc, a);

			if (att->attisdropped)
				continue;
			for (i = 0; i < load.source->ncolumns; i++)
				if (strcmp(NameStr(att->attname), load.source->columns[i].target_name) == 0)
					break;
			if (i == load.source->ncolumns)
				emit(out, "column", psprintf("(target) %s", NameStr(att->attname)),
					 psprintf("%s%s: no source column, gets %s",
							  format_type_with_typemod(att->atttypid, att->atttypmod),
							  att->attnotnull ? " NOT NULL" : "",
							  att->atthasdef ? "its default" :
							  att->attnotnull ? "NULL, which fails the load" : "NULL"));
		}

		diffs = EtlPullSchemaPreview(&load, rel, &ddl);
		foreach(lc, diffs)
		{
			EtlPullSchemaDiff *d = (EtlPullSchemaDiff *) lfirst(lc);

			emit(out, "schema", d->action, d->hint && strcmp(d->action, "refused") == 0 ?
				 psprintf("%s. %s", d->text, d->hint) : d->text);
		}
		if (ddl)
			emit(out, "schema", "on_schema_change",
				 table->on_schema_change == ETL_SCHEMA_CHANGE_EVOLVE ?
				 psprintf("evolve: the load runs %s first", ddl) :
				 psprintf("error: the load fails; evolve would run %s", ddl));
		else if (diffs == NIL)
			emit(out, "schema", NULL, "no change");
	}
	else
	{
		emit(out, "ddl", "create table", EtlPullTargetDDL(&load));
		if (table->indexes == ETL_INDEXES_ALL)
		{
			ListCell   *lc;

			foreach(lc, EtlPullDescribeIndexes(load.conn, load.source))
			{
				EtlPullSourceIndex *ix = (EtlPullSourceIndex *) lfirst(lc);
				StringInfoData cols;
				int			j;

				initStringInfo(&cols);
				for (j = 0; ix->skip_reason == NULL && j < ix->nparts; j++)
					appendStringInfo(&cols, "%s%s%s", j ? ", " : "",
									 quote_identifier(load.source->columns[ix->columns[j]].target_name),
									 ix->descending[j] ? " DESC" : "");
				emit(out, "ddl", psprintf("index %s", ix->name),
					 ix->skip_reason ? psprintf("skipped: %s", ix->skip_reason) :
					 psprintf("CREATE %sINDEX ON %s (%s), after the rows",
							  ix->unique ? "UNIQUE " : "", load.target_qname, cols.data));
			}
		}
	}

	/* the strategy, as a full load would pick it */
	strategy = EtlPullChooseStrategy(&load, rel);
	emit(out, "strategy", strategy->name, result.strategy_reason);
	if (table->extraction == ETL_EXTRACTION_INCREMENTAL)
		emit(out, "strategy", "incremental",
			 "runs after the first pull past the watermark: staged, then merged by primary key");

	/* privileges of the load */
	if (exists)
	{
		lacking |= missing_privileges(out, &load, strategy->privileges,
									  psprintf("the %s strategy needs it", strategy->name));
		if (table->extraction == ETL_EXTRACTION_INCREMENTAL)
			lacking |= missing_privileges(out, &load, EtlPullIncrementalStrategy.privileges,
										  "incremental runs need it");
		if (check_enable_rls(load.target_oid, InvalidOid, true) == RLS_ENABLED)
		{
			emit(out, "privileges", psprintf("row-level security of %s", load.target_qname),
				 owns(load.target_oid) ?
				 "its policies apply to this role: full loads, diff runs, repair_table, verify_table, append-only runs and delete_missing are refused (they must see every row); incremental merges apply the policies" :
				 "its policies apply to this role: every load is refused (a load writes as the table's owner, whose rights would bypass them), and so is verify_table");
			lacking = true;
		}
		if (!owns(load.target_oid))
			emit(out, "privileges", psprintf("ownership of %s", load.target_qname),
				 table->on_schema_change == ETL_SCHEMA_CHANGE_EVOLVE ?
				 "not the owner: ANALYZE is left to autovacuum, and a schema change evolve must apply fails the load" :
				 "not the owner: ANALYZE is left to autovacuum");
	}
	else
	{
#if PG_VERSION_NUM >= 160000
		aclresult = object_aclcheck(NamespaceRelationId, nspid, GetUserId(), ACL_CREATE);
#else
		aclresult = pg_namespace_aclcheck(nspid, GetUserId(), ACL_CREATE);
#endif
		if (aclresult != ACLCHECK_OK)
		{
			emit(out, "privileges", psprintf("CREATE on schema %s", quote_identifier(table->target_schema)),
				 "missing: the load cannot create the target");
			lacking = true;
		}
	}
	if (!lacking)
		emit(out, "privileges", NULL, "none missing");

	/* keys, and how parallel would cut them */
	{
		List	   *key = EtlPullSourceKey(load.source);
		EtlPullSourceColumn *ikey = EtlPullIntegerKey(load.source);
		StringInfoData names;
		ListCell   *lc;
		int			nchunks = table->parallel_chunks * ETL_PULL_CHUNKS_PER_WORKER;

		initStringInfo(&names);
		foreach(lc, key)
			appendStringInfo(&names, "%s%s", names.len ? ", " : "",
							 ((EtlPullSourceColumn *) lfirst(lc))->name);
		emit(out, "keys", "primary key", key ? names.data : "none");
		if (key == NIL)
			emit(out, "keys", "parallel", "cannot chunk: no primary key");
		else if (ikey)
		{
			char	   *range = NULL;
			uint64		min,
						max;

			if (EtlPullIntegerKeyRange(load.conn,
									   psprintf("%s.%s", EtlPullQuoteIdent(load.source->db),
												EtlPullQuoteIdent(load.source->table)),
									   ikey, &min, &max))
				range = psprintf("%s to %s", EtlPullIntegerKeyText(ikey, min),
								 EtlPullIntegerKeyText(ikey, max));
			emit(out, "keys", "parallel",
				 psprintf("%d workers, %d chunks: integer key %s cut into equal ranges of %s",
						  table->parallel_chunks, nchunks, ikey->name,
						  range ? range : "(empty table)"));
		}
		else
			emit(out, "keys", "parallel",
				 psprintf("%d workers, %d chunks: key (%s) cut at boundaries sampled in one pass over it",
						  table->parallel_chunks, nchunks, names.data));
	}

	/* the extraction */
	indexes = EtlPullDescribeIndexes(load.conn, load.source);
	if (table->extraction == ETL_EXTRACTION_FULL)
		emit(out, "extraction", "full", "every row, every load");
	else if (table->extraction == ETL_EXTRACTION_DIFF)
	{
		emit(out, "extraction", "diff",
			 "no watermark: each run compares ranges of the key (a row count and a hash sum each, "
			 "under one snapshot) and pulls, merges and deletes only the ranges that differ");
		if (EtlPullSourceKey(load.source) == NIL)
			emit(out, "extraction", "next run",
				 "refused: a diff run needs a primary key on the MySQL table");
		else if (!exists)
			emit(out, "extraction", "next run",
				 "full: no target yet: the first run loads every row");
		else if (rel->rd_rel->relkind != RELKIND_RELATION)
			emit(out, "extraction", "next run",
				 psprintf("refused: a diff run compares a plain table only, and the target is %s",
						  not_plain(rel)));
		else
			emit(out, "extraction", "next run",
				 psprintf("diff: ranges of about %d rows, about %d of them",
						  ETL_VERIFY_ROWS_PER_RANGE,
						  EtlPullVerifyRangeCount(load.source, rel, ETL_VERIFY_ROWS_PER_RANGE)));
	}
	else
	{
		int		   *cols = EtlPullIncrementalColumns(table, load.source);
		List	   *watermark = EtlPullReadWatermark(table);
		bool		may_read = exists &&
			pg_class_aclcheck(load.target_oid, GetUserId(), ACL_SELECT) == ACLCHECK_OK;

		for (i = 0; i < list_length(table->incremental_columns); i++)
		{
			EtlPullSourceColumn *col = &load.source->columns[cols[i]];
			const char *inexact = table->append_only ?
				EtlPullInexactBoundColumn(col, types[cols[i]], typmods[cols[i]]) : NULL;

			emit(out, "extraction", psprintf("watermark column %s", col->name),
				 leads_index(load.source, indexes, cols[i]) ?
				 "leads an index at the source" :
				 "leads no index at the source: each incremental run scans the table");
			if (inexact)
				emit(out, "extraction", psprintf("watermark column %s", col->name),
					 psprintf("refused: the target's column is %s; an append-only run replaces the target's rows at or past the watermark, and would delete rows that round to it without sending them again: every load fails",
							  inexact));
		}
		if (watermark == NIL || !exists)
			emit(out, "extraction", "next run",
				 "full: no watermark yet (or no target): the first run loads every row");
		else if (!may_read)
			emit(out, "extraction", "next run",
				 "incremental: past the watermark (its values are shown to roles that may read the target)");
		else
		{
			char	   *where = table->append_only ?
				"the rows at or past the watermark, replaced (append_only)" :
				EtlPullWatermarkPredicate(load.conn, load.source, cols, watermark,
										  table->lookback);

			emit(out, "extraction", "next run",
				 psprintf("incremental: WHERE %s", where ? where : "(every row: a watermark is NULL)"));
		}
	}

	/* what a comparison (diff, verify, verify_table) cannot see */
	{
		List	   *gaps = NIL;
		List	   *why = NIL;

		for (i = 0; i < load.source->ncolumns; i++)
		{
			EtlPullSourceColumn *col = &load.source->columns[i];
			const char *gap = EtlPullVerifyGap(load.conn, col, getBaseType(types[i]));

			if (gap != NULL)
			{
				gaps = lappend(gaps, col->target_name);
				why = lappend(why, (char *) gap);
			}
		}
		if (gaps != NIL)
			emit(out, "extraction", "not compared",
				 psprintf("diff runs, verify = full and verify_table: %s",
						  EtlPullVerifyUncompared(gaps, why)));
	}

	/* verify checks the rows a load wrote: in a plain table only */
	if (table->verify != ETL_VERIFY_OFF && rel != NULL &&
		rel->rd_rel->relkind != RELKIND_RELATION)
		emit(out, "extraction", "verify",
			 psprintf("refused: verify = %s compares a plain table only, and the target is %s: every load fails after writing its rows",
					  EtlPullChoiceName("verify", table->verify), not_plain(rel)));

	if (rel != NULL)
		table_close(rel, AccessShareLock);

	/* the rows */
	if (sample > 0)
	{
		if (!exists)
			for (i = 0; i < load.source->ncolumns; i++)
				notnull[i] = false; /* a created target takes the source's */
		sample_hazards(out, &load, sample, types, notnull);
	}
	EtlPullDisconnect(load.conn);
}

PG_FUNCTION_INFO_V1(etl_pull_plan);

/*
 * etl_pull.plan(name text, sample_rows integer DEFAULT 1000)
 *		returns table (section text, item text, detail text)
 */
Datum
etl_pull_plan(PG_FUNCTION_ARGS)
{
	PlanOut		out;
	EtlPullTable *table;
	int			sample;
	int			nestlevel;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("table name must not be null")));
	sample = PG_ARGISNULL(1) ? 1000 : PG_GETARG_INT32(1);
	if (sample < 0 || sample > 1000000)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("sample_rows must be between 0 and 1000000")));
	InitMaterializedSRF(fcinfo, 0);
	out.rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;

	table = EtlPullReadTable(text_to_cstring(PG_GETARG_TEXT_PP(0)));
	/* as load_table: the table's pg_settings (thresholds, say), then the pin */
	nestlevel = EtlPullApplyPgSettings(table);
	(void) EtlPullPinSearchPath();
	plan_table(&out, table, sample);
	AtEOXact_GUC(true, nestlevel);
	PG_RETURN_VOID();
}
