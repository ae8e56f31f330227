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
 *	strategy	the strategy and the rule that picks it; for an incremental
 *				table what the runs past the watermark do (or that every
 *				load fails: no primary key)
 *	privileges	what the caller lacks for the load (or that nothing is)
 *	keys		the primary key and how parallel would cut it into chunks
 *	extraction	full, incremental (the watermark, its predicate and
 *				whether the watermark column leads an index at the source),
 *				diff (what the next run compares, or why it is refused) or
 *				binlog (its group's stream, or why the table cannot have one);
 *				what it sees of the source's changes and what it misses;
 *				whether the next run would skip as unchanged, and why
 *	binlog		for a binlog table: each thing the server needs for its
 *				binary log to be followed, and what to ask for if it lacks it
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
 * The plan re-codes none of the load's rules: each refusal it reports is
 * asked of the code that enforces it (EtlPullServerAccess and
 * EtlPullSchemaAccess, EtlPullLackedTargetPrivileges, the row-level
 * security checks, the strategies' "unsuitable", EtlPullVerifyUnsuitable,
 * EtlPullAppendOnlyUnsuitable, EtlPullIncrementalUnsuitable and
 * EtlPullIncrementalPath, EtlPullSchemaPreview, EtlPullIsZeroDate), so
 * that it cannot disagree with the load.  Where the rule is an error the
 * load raises (the target's schema, the connection and its TLS, the
 * column_types entries) the plan runs the load's own step and reports its
 * error as a row (plan_try), then stops.
 *
 * IDENTIFICATION
 *		  src/commands/plan.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/table.h"
#include "access/xact.h"
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
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/resowner.h"

#include "compat.h"
#include "etl_pull.h"
#include "catalog/etl_catalog.h"
#include "remote/remote.h"
#include "verify/verify.h"
#include "load/load.h"
#include "load/parallel.h"
#include "commands/commands.h"
#include "stream/stream.h"

/*
 * One table's plan in the making: the rows so far, and what the sections
 * have read for the ones after them
 */
typedef struct TablePlan
{
	ReturnSetInfo *rsinfo;		/* the rows */
	EtlPullTable *table;
	ForeignServer *server;
	EtlPullLoad load;			/* as a load fills it in, up to its strategy */
	EtlPullRunResult result;	/* the load's: the strategy's reason */
	Oid			nspid;			/* the target's schema */
	bool		exists;			/* whether the target exists */
	Relation	rel;			/* the target, or NULL: the load creates it */
	const EtlPullStrategyRoutine *strategy; /* a full load's */
	Oid		   *types;			/* per source column: the target's type */
	int32	   *typmods;
	bool	   *notnull;		/* an existing target's NOT NULL */
} TablePlan;

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
emit(TablePlan *p, const char *section, const char *item, const char *detail)
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
	tuplestore_putvalues(p->rsinfo->setResult, p->rsinfo->setDesc, values, nulls);
}

/*
 * Run "step" as the load runs it, in a subtransaction.  If it raises the
 * error the load would raise (the rule's owner says why), report it as a
 * row of "section" and "item" instead, and return false: the plan stops
 * there.  A cancel and an internal error go on as errors.
 */
static bool
plan_try(TablePlan *p, void (*step) (TablePlan *), const char *section,
		 const char *item)
{
	MemoryContext cxt = CurrentMemoryContext;
	ResourceOwner owner = CurrentResourceOwner;
	ErrorData  *edata;
	char	   *detail;

	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(cxt);
	PG_TRY();
	{
		step(p);
		ReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(cxt);
		CurrentResourceOwner = owner;
		edata = NULL;
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(cxt);
		edata = CopyErrorData();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(cxt);
		CurrentResourceOwner = owner;
	}
	PG_END_TRY();
	if (edata == NULL)
		return true;
	if (edata->sqlerrcode == ERRCODE_QUERY_CANCELED ||
		edata->sqlerrcode == ERRCODE_ADMIN_SHUTDOWN ||
		ERRCODE_TO_CATEGORY(edata->sqlerrcode) == ERRCODE_INTERNAL_ERROR)
		ReThrowError(edata);
	detail = edata->detail ? pstrdup(edata->detail) : NULL;
	if (detail && detail[0] && detail[strlen(detail) - 1] == '.')
		detail[strlen(detail) - 1] = '\0';
	emit(p, section, item,
		 psprintf("load_table fails: %s%s%s%s; the plan stops here%s%s",
				  edata->message, detail ? " (" : "", detail ? detail : "",
				  detail ? ")" : "",
				  edata->hint ? ". " : "", edata->hint ? edata->hint : ""));
	return false;
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

/* ---- the hazards of a sample of the rows ---- */

/* What a sampled value can be that a load would not take as it is */
typedef enum HazardKind
{
	HZ_ZERO_DATE,
	HZ_PAST_TYPE,				/* unsigned values the target type cannot hold */
	HZ_LONG_TIME,				/* TIME beyond 24 h into a time target */
	HZ_BAD_UTF8,
	HZ_NULL,					/* NULLs (or zero dates) for a NOT NULL column */
	HZ_KINDS
} HazardKind;

/* What the sample found in one column */
typedef struct Hazard
{
	bool		textual;		/* the target type holds text: UTF-8 checked */
	int64		count[HZ_KINDS];
	char	   *first[HZ_KINDS];	/* row key of the first of each */
} Hazard;

/* The sampled row at hand */
typedef struct SampleRow
{
	EtlPullSource *source;
	char	  **values;
	unsigned long *lengths;
	MemoryContext keep;			/* where the first rows' keys are kept */
} SampleRow;

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

/* The row's key, "(col=value, ...)", for the report */
static char *
row_key(SampleRow *row)
{
	StringInfoData buf;
	ListCell   *lc;

	initStringInfo(&buf);
	foreach(lc, EtlPullSourceKey(row->source))
	{
		EtlPullSourceColumn *col = (EtlPullSourceColumn *) lfirst(lc);
		int			i = col - row->source->columns;

		appendStringInfo(&buf, "%s%s=%s", buf.len ? ", " : "", col->name,
						 row->values[i] ?
						 EtlPullPrintable(pnstrdup(row->values[i], row->lengths[i]), 64) :
						 "NULL");
	}
	return buf.len ? psprintf("(%s)", buf.data) : pstrdup("(no key)");
}

/* Count hazard "which" in a column, keeping the key of its first row */
static void
note(Hazard *h, HazardKind which, SampleRow *row)
{
	if (h->count[which]++ == 0)
	{
		MemoryContext oldcxt = MemoryContextSwitchTo(row->keep);

		h->first[which] = row_key(row);
		MemoryContextSwitchTo(oldcxt);
	}
}

/* Look for the hazards in one sampled row, each column into h[column] */
static void
scan_row(TablePlan *p, Hazard *h, SampleRow *row)
{
	int			i;

	for (i = 0; i < row->source->ncolumns; i++)
	{
		EtlPullSourceColumn *col = &row->source->columns[i];
		const char *v = row->values[i];
		unsigned long len = row->lengths[i];

		if (v == NULL)
		{
			if (p->notnull[i])
				note(&h[i], HZ_NULL, row);
			continue;
		}
		if (EtlPullIsZeroDate(col, v, len))
		{
			note(&h[i], HZ_ZERO_DATE, row);
			if (p->notnull[i] && p->table->zero_dates == ETL_ZERO_DATES_NULL)
				note(&h[i], HZ_NULL, row);
		}
		if (col->kind == SRC_INT && col->is_unsigned && int_max(p->types[i]) > 0 &&
			strtou64(pnstrdup(v, len), NULL, 10) > int_max(p->types[i]))
			note(&h[i], HZ_PAST_TYPE, row);
		/* [-]H+:MM:SS: negative, or 24 hours or more */
		if (col->kind == SRC_TIME && p->types[i] == TIMEOID &&
			(v[0] == '-' || (len > 2 && v[2] != ':') || strncmp(v, "24", 2) >= 0))
			note(&h[i], HZ_LONG_TIME, row);
		if (h[i].textual && pg_encoding_verifymbstr(PG_UTF8, v, len) != (int) len)
			note(&h[i], HZ_BAD_UTF8, row);
	}
}

/* One hazard row: "N of M sampled rows: what; first at key K" */
static void
emit_hazard(TablePlan *p, EtlPullSourceColumn *col, Hazard *h, HazardKind which,
			int64 rows, const char *what)
{
	emit(p, "hazard", col->name,
		 psprintf(INT64_FORMAT " of " INT64_FORMAT " sampled rows: %s; first at key %s",
				  h->count[which], rows, what, h->first[which]));
}

/* The hazards found in "rows" sampled rows, h[column] */
static void
report_hazards(TablePlan *p, Hazard *h, int64 rows)
{
	EtlPullTable *table = p->table;
	bool		found = false;
	int			i;
	int			k;

	for (i = 0; i < p->load.source->ncolumns; i++)
	{
		EtlPullSourceColumn *col = &p->load.source->columns[i];

		if (h[i].count[HZ_ZERO_DATE])
			emit_hazard(p, col, &h[i], HZ_ZERO_DATE, rows,
						psprintf("zero dates, which %s (zero_dates = %s)",
								 EtlPullZeroDateOutcome(table),
								 EtlPullChoiceName("zero_dates", table->zero_dates)));
		if (h[i].count[HZ_PAST_TYPE])
			emit_hazard(p, col, &h[i], HZ_PAST_TYPE, rows,
						psprintf("unsigned values past the target's %s, which fail the load",
								 format_type_be(p->types[i])));
		if (h[i].count[HZ_LONG_TIME])
			emit_hazard(p, col, &h[i], HZ_LONG_TIME, rows,
						"TIME values outside 00:00:00 to 24:00:00, which a time column cannot hold (interval can)");
		if (h[i].count[HZ_BAD_UTF8])
			emit_hazard(p, col, &h[i], HZ_BAD_UTF8, rows,
						psprintf("invalid UTF-8 or NUL bytes, which %s (invalid_utf8 = %s)",
								 table->invalid_utf8 == ETL_INVALID_UTF8_ERROR ?
								 "fail the load" : "become U+FFFD",
								 EtlPullChoiceName("invalid_utf8", table->invalid_utf8)));
		if (h[i].count[HZ_NULL])
			emit_hazard(p, col, &h[i], HZ_NULL, rows,
						psprintf("NULL (or a zero date loading as NULL) for NOT NULL target column %s, which fails the load",
								 quote_identifier(col->target_name)));
		for (k = 0; k < HZ_KINDS; k++)
			if (h[i].count[k] > 0)
				found = true;
	}
	if (!found)
		emit(p, "hazard", NULL,
			 psprintf("none in " INT64_FORMAT " sampled rows", rows));
}

/*
 * Sample the first "sample" rows of the source and look for the values a
 * load would not take as they are, into the target's (existing or mapped)
 * types.  Each row is looked at in a memory context reset per row.
 */
static void
sample_hazards(TablePlan *p, int sample)
{
	EtlPullSource *source = p->load.source;
	Hazard	   *h = palloc0(sizeof(Hazard) * source->ncolumns);
	SampleRow	row = {source, NULL, NULL, CurrentMemoryContext};
	MemoryContext rowcxt;
	int64		rows = 0;
	int			i;

	for (i = 0; i < source->ncolumns; i++)
	{
		char		category;
		bool		preferred;

		get_type_category_preferred(p->types[i], &category, &preferred);
		h[i].textual = (category == TYPCATEGORY_STRING ||
						p->types[i] == JSONBOID || p->types[i] == TEXTARRAYOID);
	}
	rowcxt = AllocSetContextCreate(CurrentMemoryContext, "etl_pull plan sample",
								   ALLOCSET_DEFAULT_SIZES);
	EtlPullQueryStart(p->load.conn,
					  psprintf("%s LIMIT %d", EtlPullSourceSelect(source, NULL), sample),
					  source->ncolumns);
	while (EtlPullFetch(p->load.conn, &row.values, &row.lengths))
	{
		MemoryContext oldcxt;

		CHECK_FOR_INTERRUPTS();
		rows++;
		oldcxt = MemoryContextSwitchTo(rowcxt);
		scan_row(p, h, &row);
		MemoryContextSwitchTo(oldcxt);
		MemoryContextReset(rowcxt);
	}
	EtlPullQueryEnd(p->load.conn);
	MemoryContextDelete(rowcxt);
	report_hazards(p, h, rows);
}

/* ---- the sections ---- */

/* The target's schema, as a load finds it (EtlPullTargetSchema) */
static void
find_target_schema(TablePlan *p)
{
	p->nspid = EtlPullTargetSchema(&p->load);
}

/* The target, or that there is none yet (EtlPullLookupTarget) */
static void
find_target(TablePlan *p)
{
	p->load.target_oid = EtlPullLookupTarget(&p->load);
}

/* Connect as a load connects, TLS as the server's options ask (EtlPullConnect) */
static void
connect_source(TablePlan *p)
{
	p->load.conn = EtlPullConnect(p->server, GetUserId());
}

/* Every column_types entry names a source column (EtlPullCheckColumnTypes) */
static void
check_column_types(TablePlan *p)
{
	EtlPullCheckColumnTypes(&p->load);
}

/*
 * What the caller may do, as a load asks it before it reads MySQL: USAGE
 * on the server and a user mapping (EtlPullServerAccess), USAGE on the
 * target's schema (EtlPullSchemaAccess).  Returns false where the plan
 * stops, saying what is missing; otherwise finds the target.
 */
static bool
plan_access(TablePlan *p)
{
	const char *server = quote_identifier(p->server->servername);
	EtlPullAccessLack lack = EtlPullServerAccess(p->server, GetUserId());

	if (lack == ETL_LACKS_SERVER_USAGE)
	{
		emit(p, "privileges", psprintf("USAGE on server %s", server),
			 "missing: load_table fails before it connects; the plan stops here");
		return false;
	}
	if (lack == ETL_LACKS_USER_MAPPING)
	{
		emit(p, "privileges", psprintf("user mapping for %s on server %s",
									   quote_identifier(GetUserNameFromId(GetUserId(), false)),
									   server),
			 "missing: load_table cannot connect; the plan stops here");
		return false;
	}

	if (!plan_try(p, find_target_schema, "table", "target"))
		return false;
	if (EtlPullSchemaAccess(p->nspid, GetUserId(), false) == ETL_LACKS_SCHEMA_USAGE)
	{
		emit(p, "privileges", psprintf("USAGE on schema %s",
									   quote_identifier(p->table->target_schema)),
			 "missing: load_table fails before it connects; the plan stops here");
		return false;
	}
	if (!plan_try(p, find_target, "table", "target"))
		return false;
	p->exists = OidIsValid(p->load.target_oid);
	return true;
}

/*
 * The source, read under a read-only snapshot as a load reads it; the
 * table's rows (source, target, settings) and the connection's TLS.
 * Returns false where the plan stops: a connection the load could not
 * make (TLS the server cannot meet, say), a column_types entry for a
 * column the source lacks.
 */
static bool
plan_source(TablePlan *p)
{
	EtlPullTable *table = p->table;
	EtlPullConnOptions opts;
	char	   *tls;

	EtlPullGetConnOptions(p->server, GetUserMapping(GetUserId(), p->server->serverid),
						  &opts);
	if (!plan_try(p, connect_source, "connection", "connect"))
		return false;
	EtlPullApplyMysqlSettings(p->load.conn, table);
	EtlPullStartSnapshot(p->load.conn);
	p->load.source = EtlPullDescribeTableSource(p->load.conn, table);
	if (!plan_try(p, check_column_types, "table", "column_types"))
		return false;

	emit(p, "table", "source",
		 psprintf("%s.%s on server %s", EtlPullQuoteIdent(p->load.source->db),
				  EtlPullQuoteIdent(table->source_relname),
				  quote_identifier(p->server->servername)));
	emit(p, "table", "target",
		 psprintf("%s (%s)", p->load.target_qname,
				  p->exists ? "exists" : "does not exist: the load creates it"));
	emit(p, "table", "settings",
		 psprintf("extraction = %s, strategy = %s, on_schema_change = %s, indexes = %s, on_error = %s, protocol = %s, verify = %s%s",
				  EtlPullChoiceName("extraction", table->extraction),
				  EtlPullChoiceName("strategy", table->strategy),
				  EtlPullChoiceName("on_schema_change", table->on_schema_change),
				  EtlPullChoiceName("indexes", table->indexes),
				  EtlPullChoiceName("on_error", table->on_error),
				  EtlPullChoiceName("protocol", table->protocol),
				  EtlPullChoiceName("verify", table->verify),
				  table->enabled ? "" : "; disabled: load_table refuses it"));

	tls = session_status(p->load.conn, "Ssl_version");
	emit(p, "connection", "tls",
		 tls ? psprintf("%s, cipher %s (ssl_mode %s)", tls,
						session_status(p->load.conn, "Ssl_cipher"), opts.ssl_mode) :
		 psprintf("not encrypted (ssl_mode %s)", opts.ssl_mode));
	return true;
}

/*
 * Source column i: its MySQL type, the target's type (mapped for a target
 * to create, existing otherwise) and the difference.  The target's type
 * and NOT NULL go into p->types, p->typmods and p->notnull.
 */
static void
plan_column(TablePlan *p, int i)
{
	EtlPullSourceColumn *col = &p->load.source->columns[i];
	const char *mysql_type = col->nullable ? col->column_type :
		psprintf("%s NOT NULL", col->column_type);
	Oid			mtyp;
	int32		mmod;
	char	   *mapped;
	AttrNumber	attnum;
	Form_pg_attribute att;

	parseTypeString(EtlPullColumnTargetType(&p->load, col), &mtyp, &mmod, false);
	mapped = format_type_with_typemod(mtyp, mmod);
	p->types[i] = mtyp;
	p->typmods[i] = mmod;
	if (p->rel == NULL)
	{
		emit(p, "column", col->name,
			 psprintf("%s -> %s %s (mapped)", mysql_type,
					  quote_identifier(col->target_name), mapped));
		return;
	}
	attnum = get_attnum(RelationGetRelid(p->rel), col->target_name);
	if (attnum <= 0)
	{
		emit(p, "column", col->name,
			 psprintf("%s -> no target column (mapped type %s): %s", mysql_type, mapped,
					  p->table->on_schema_change == ETL_SCHEMA_CHANGE_EVOLVE ?
					  "on_schema_change = evolve adds it" :
					  "the load fails (on_schema_change = error)"));
		return;
	}
	att = TupleDescAttr(RelationGetDescr(p->rel), attnum - 1);
	p->types[i] = att->atttypid;
	p->typmods[i] = att->atttypmod;
	p->notnull[i] = att->attnotnull;
	emit(p, "column", col->name,
		 psprintf("%s -> %s %s%s (existing)%s", mysql_type,
				  quote_identifier(col->target_name),
				  format_type_with_typemod(att->atttypid, att->atttypmod),
				  att->attnotnull ? " NOT NULL" : "",
				  (att->atttypid == mtyp && att->atttypmod == mmod) ? "" :
				  psprintf("; differs from the mapping, %s", mapped)));
}

/* The columns of an existing target that no source column fills */
static void
plan_target_only_columns(TablePlan *p)
{
	TupleDesc	tupdesc = RelationGetDescr(p->rel);
	EtlPullSource *source = p->load.source;
	AttrNumber	a;
	int			i;

	for (a = 0; a < tupdesc->natts; a++)
	{
		Form_pg_attribute att = TupleDescAttr(tupdesc, a);

		if (att->attisdropped)
			continue;
		for (i = 0; i < source->ncolumns; i++)
			if (strcmp(NameStr(att->attname), source->columns[i].target_name) == 0)
				break;
		if (i == source->ncolumns)
			emit(p, "column", psprintf("(target) %s", NameStr(att->attname)),
				 psprintf("%s%s: no source column, gets %s",
						  format_type_with_typemod(att->atttypid, att->atttypmod),
						  att->attnotnull ? " NOT NULL" : "",
						  att->atthasdef ? "its default" :
						  att->attnotnull ? "NULL, which fails the load" : "NULL"));
	}
}

/* Each source column, and the drift of an existing target */
static void
plan_columns(TablePlan *p)
{
	int			n = p->load.source->ncolumns;
	int			i;

	p->types = palloc0(sizeof(Oid) * n);
	p->typmods = palloc0(sizeof(int32) * n);
	p->notnull = palloc0(sizeof(bool) * n);
	for (i = 0; i < n; i++)
		plan_column(p, i);
	if (p->rel != NULL)
		plan_target_only_columns(p);
}

/*
 * What on_schema_change would do about the source's changes to an
 * existing target (EtlPullSchemaPreview), and the ALTER TABLE of evolve
 */
static void
plan_schema(TablePlan *p)
{
	List	   *diffs;
	ListCell   *lc;
	char	   *ddl;
	int			refused = 0;

	diffs = EtlPullSchemaPreview(&p->load, p->rel, &ddl);
	foreach(lc, diffs)
	{
		EtlPullSchemaDiff *d = (EtlPullSchemaDiff *) lfirst(lc);

		if (strcmp(d->action, "refused") == 0)
			refused++;
		emit(p, "schema", d->action, d->hint && strcmp(d->action, "refused") == 0 ?
			 psprintf("%s. %s", d->text, d->hint) : d->text);
	}
	if (refused > 0)
		emit(p, "schema", "on_schema_change",
			 psprintf("%s: the load fails on the refused change%s above%s",
					  EtlPullChoiceName("on_schema_change", p->table->on_schema_change),
					  refused > 1 ? "s" : "",
					  ddl && p->table->on_schema_change != ETL_SCHEMA_CHANGE_EVOLVE ?
					  psprintf("; then evolve would run %s", ddl) : ""));
	else if (ddl)
		emit(p, "schema", "on_schema_change",
			 p->table->on_schema_change == ETL_SCHEMA_CHANGE_EVOLVE ?
			 psprintf("evolve: the load runs %s first", ddl) :
			 psprintf("error: the load fails; evolve would run %s", ddl));
	else if (diffs == NIL)
		emit(p, "schema", NULL, "no change");
}

/* A target to create: its CREATE TABLE, and with indexes = all its indexes */
static void
plan_ddl(TablePlan *p)
{
	EtlPullSource *source = p->load.source;
	ListCell   *lc;

	emit(p, "ddl", "create table", EtlPullTargetDDL(&p->load));
	if (p->table->indexes != ETL_INDEXES_ALL)
		return;
	foreach(lc, EtlPullDescribeIndexes(p->load.conn, source))
	{
		EtlPullSourceIndex *ix = (EtlPullSourceIndex *) lfirst(lc);
		StringInfoData cols;
		int			j;

		initStringInfo(&cols);
		for (j = 0; ix->skip_reason == NULL && j < ix->nparts; j++)
			appendStringInfo(&cols, "%s%s%s", j ? ", " : "",
							 quote_identifier(source->columns[ix->columns[j]].target_name),
							 ix->descending[j] ? " DESC" : "");
		emit(p, "ddl", psprintf("index %s", ix->name),
			 ix->skip_reason ? psprintf("skipped: %s", ix->skip_reason) :
			 psprintf("CREATE %sINDEX ON %s (%s), after the rows",
					  ix->unique ? "UNIQUE " : "", p->load.target_qname, cols.data));
	}
}

/* The strategy, as a full load would pick it, and the rule that picks it */
static void
plan_strategy(TablePlan *p)
{
	const char *refused;

	p->strategy = EtlPullChooseStrategy(&p->load, p->rel);
	emit(p, "strategy", p->strategy->name, p->result.strategy_reason);
	/*
	 * a source without a snapshot: held for the whole read (held.c), or
	 * read in key ranges and re-checked (settle.c)
	 */
	if (EtlPullHoldWanted(p->table, p->load.source))
	{
		EtlPullHoldReadsWhole(p->load.source);
		emit(p, "strategy", "source reads",
			 EtlPullHoldPlan(p->table, p->load.source));
	}
	else if (p->rel != NULL)
	{
		p->load.caller = GetUserId();
		p->load.settles = EtlPullSettleCheck(&p->load, p->rel);
	}
	/* a small table's stream: in place (strategy_swap.c) */
	if (p->strategy == &EtlPullStreamStrategy && p->rel != NULL &&
		p->table->extraction == ETL_EXTRACTION_FULL)
	{
		const char *in_place = EtlPullStreamInPlace(&p->load, p->rel);

		if (in_place != NULL)
			emit(p, "strategy", "in place", in_place);
	}
	if (EtlPullSettlePlan(p->load.source) != NULL &&
		!EtlPullHoldWanted(p->table, p->load.source))
	{
		bool		chunked = EtlPullSourceChunkKey(p->load.source, NULL) != NULL;

		/* a log's full load re-checks only its new rows (settle.c) */
		emit(p, "strategy", "source reads",
			 psprintf("%s%s%s", EtlPullSettlePlan(p->load.source),
					  chunked && p->table->full_compare_every > 1 &&
					  p->table->extraction == ETL_EXTRACTION_DIFF &&
					  p->table->verify == ETL_VERIFY_OFF ?
					  psprintf("; a log (full_compare_every = %d): that re-check reads only the rows past the last key read and compares the row counts, and an edit made during the read is found by the next run, which compares every row",
							   p->table->full_compare_every) : "",
					  p->strategy == &EtlPullParallelStrategy && chunked ?
					  "; stream instead of parallel" : ""));
	}
	if (p->table->extraction != ETL_EXTRACTION_INCREMENTAL)
		return;
	refused = EtlPullIncrementalUnsuitable(p->table, p->load.source);
	if (refused != NULL)
		emit(p, "strategy", "incremental",
			 psprintf("refused: %s: every load fails, the first one too (set \"append_only\" to true to append the pulled rows)",
					  refused));
	else if (p->rel == NULL)
		emit(p, "strategy", "incremental",
			 "the runs after the first (which creates the target) merge the rows past the watermark by primary key; plan again then to see how");
	else
		emit(p, "strategy", "incremental",
			 psprintf("%s (the runs after the first, past the watermark)",
					  EtlPullIncrementalPath(&p->load, p->rel)));
}

/*
 * The privileges of "mode" the caller lacks on the existing target
 * (EtlPullLackedTargetPrivileges), one row each; whether any is
 */
static bool
lacked_privileges(TablePlan *p, AclMode mode, const char *why)
{
	List	   *lacked = EtlPullLackedTargetPrivileges(p->load.target_oid,
													   GetUserId(), mode);
	ListCell   *lc;

	foreach(lc, lacked)
		emit(p, "privileges", psprintf("%s on %s", (char *) lfirst(lc), p->load.target_qname),
			 psprintf("missing: %s", why));
	return lacked != NIL;
}

/*
 * What the caller lacks for the load (or that nothing is): its privileges
 * on the target (or CREATE on the schema, for a target to create), a
 * target whose row-level security applies to it (EtlPullRowSecurityApplies,
 * EtlPullRowSecurityBarsWriter), and what not owning the target leaves out
 */
static void
plan_privileges(TablePlan *p)
{
	EtlPullTable *table = p->table;
	Oid			target = p->load.target_oid;
	const char *qname = p->load.target_qname;
	bool		lacking = false;

	if (!p->exists)
	{
		if (EtlPullSchemaAccess(p->nspid, GetUserId(), true) == ETL_LACKS_SCHEMA_CREATE)
		{
			emit(p, "privileges", psprintf("CREATE on schema %s", quote_identifier(table->target_schema)),
				 "missing: the load cannot create the target");
			lacking = true;
		}
	}
	else
	{
		lacking |= lacked_privileges(p, p->strategy->privileges,
									 psprintf("the %s strategy needs it", p->strategy->name));
		if (table->extraction == ETL_EXTRACTION_INCREMENTAL)
			lacking |= lacked_privileges(p, EtlPullIncrementalStrategy.privileges,
										 "incremental runs need it");
		if (EtlPullRowSecurityApplies(target, GetUserId(), true))
		{
			emit(p, "privileges", psprintf("row-level security of %s", qname),
				 EtlPullRowSecurityBarsWriter(p->rel, GetUserId()) ?
				 "its policies apply to this role: every load is refused (a load writes as the table's owner, whose rights would bypass them), and so is verify_table" :
				 "its policies apply to this role: full loads, diff runs, repair_table, verify_table, append-only runs and delete_missing are refused (they must see every row); incremental merges apply the policies");
			lacking = true;
		}
		if (!EtlPullOwnsRelation(target, GetUserId()))
			emit(p, "privileges", psprintf("ownership of %s", qname),
				 table->on_schema_change == ETL_SCHEMA_CHANGE_EVOLVE ?
				 "not the owner: ANALYZE is left to autovacuum, and a schema change evolve must apply fails the load" :
				 "not the owner: ANALYZE is left to autovacuum");
	}
	if (!lacking)
		emit(p, "privileges", NULL, "none missing");
}

/* The primary key, and how parallel would cut it into chunks */
static void
plan_keys(TablePlan *p)
{
	EtlPullSource *source = p->load.source;
	List	   *key = EtlPullSourceKey(source);
	EtlPullSourceColumn *ikey = EtlPullIntegerKey(source);
	int			workers = p->table->parallel_chunks;
	int			nchunks = workers * ETL_PULL_CHUNKS_PER_WORKER;
	StringInfoData names;
	ListCell   *lc;

	initStringInfo(&names);
	foreach(lc, key)
		appendStringInfo(&names, "%s%s", names.len ? ", " : "",
						 ((EtlPullSourceColumn *) lfirst(lc))->name);
	emit(p, "keys", "primary key", key ? names.data : "none");
	if (key == NIL)
		emit(p, "keys", "parallel", "cannot chunk: no primary key");
	else if (ikey)
	{
		char	   *range = NULL;
		uint64		min,
					max;

		if (EtlPullIntegerKeyRange(p->load.conn,
								   psprintf("%s.%s", EtlPullQuoteIdent(source->db),
											EtlPullQuoteIdent(source->table)),
								   ikey, &min, &max))
			range = psprintf("%s to %s", EtlPullIntegerKeyText(ikey, min),
							 EtlPullIntegerKeyText(ikey, max));
		emit(p, "keys", "parallel",
			 psprintf("%d workers, %d chunks: integer key %s cut into equal ranges of %s",
					  workers, nchunks, ikey->name, range ? range : "(empty table)"));
	}
	else
		emit(p, "keys", "parallel",
			 psprintf("%d workers, %d chunks: key (%s) cut at boundaries sampled in one pass over it",
					  workers, nchunks, names.data));
}

/* "a, b, c" of a list of char * (import_tables' notes use it too) */
char *
EtlPullNameList(List *names)
{
	StringInfoData buf;
	ListCell   *lc;

	initStringInfo(&buf);
	foreach(lc, names)
		appendStringInfo(&buf, "%s%s", buf.len ? ", " : "", (char *) lfirst(lc));
	return buf.data;
}

/*
 * What an extraction sees of the source's changes (*sees) and what it
 * misses (*misses, NULL for nothing): what a DBA needs to know to trust a
 * plan.  "columns" are an incremental table's incremental_columns;
 * "full_compare_every" a diff table's cadence (load/cadence.c).
 * import_tables and plan() say it for each table.
 */
void
EtlPullExtractionSight(EtlPullExtraction extraction, List *columns,
					   bool append_only, bool delete_missing,
					   int full_compare_every,
					   const char **sees, const char **misses)
{
	char	   *cols = columns ? EtlPullNameList(columns) : "the watermark columns";

	switch (extraction)
	{
		case ETL_EXTRACTION_FULL:
			*sees = "every insert, edit and delete, at the cost of reading every row on every run";
			*misses = NULL;
			return;
		case ETL_EXTRACTION_DIFF:
			if (full_compare_every > 1)
			{
				*sees = psprintf("each run: every row appended past the target's highest key, and (MyISAM, Aria, by the source's exact row count) a delete or an insert below it, which makes that run compare every row; one run in %d, and each run after a full load or after a comparison that found an edit or a delete: every insert, edit and delete, every row compared by key",
								 full_compare_every);
				*misses = psprintf("in the %d runs of %d between full comparisons: an edit of a row already loaded; a delete and an insert below the highest key that leave the count alone (on InnoDB, no count: any delete or late insert below it); all seen at the next full comparison",
								   full_compare_every - 1, full_compare_every);
				return;
			}
			*sees = "every insert, edit and delete: with a single integer key every row read in key ranges and compared by key, only what differs written; otherwise key ranges compared by hash, only the ranges that differ pulled";
			*misses = NULL;
			return;
		case ETL_EXTRACTION_BINLOG:
			*sees = "every insert, edit, delete and TRUNCATE, as the source's binary log records them (a stopped stream resumes from its recorded position; a change it cannot apply exactly snapshots the table again)";
			*misses = NULL;
			return;
		case ETL_EXTRACTION_INCREMENTAL:
			break;
	}
	if (append_only)
	{
		*sees = psprintf("rows inserted or edited with %s at or past the watermark", cols);
		*misses = psprintf("edits that leave %s alone (or set it behind the watermark less lookback); deletes", cols);
	}
	else if (delete_missing)
	{
		*sees = psprintf("inserts and edits that move %s; deletes (delete_missing)", cols);
		*misses = psprintf("edits that leave %s alone", cols);
	}
	else
	{
		*sees = psprintf("inserts and edits that move %s", cols);
		*misses = psprintf("edits that leave %s alone; deletes", cols);
	}
}

/*
 * What the table's extraction sees and misses (EtlPullExtractionSight); a
 * diff table also misses what its comparison cannot see ("gaps", the
 * columns plan_comparison names)
 */
static void
plan_sight(TablePlan *p, bool gaps)
{
	const char *sees;
	const char *misses;

	EtlPullExtractionSight(p->table->extraction, p->table->incremental_columns,
						   p->table->append_only, p->table->delete_missing,
						   p->table->full_compare_every, &sees, &misses);
	if (misses == NULL && gaps && p->table->extraction == ETL_EXTRACTION_DIFF)
		misses = "edits of the columns not compared (above) that leave their NULL-ness alone";
	emit(p, "extraction", "sees", sees);
	emit(p, "extraction", "misses", misses ? misses : "nothing");
}

/*
 * A diff table: what its next run compares, or why it cannot
 * (EtlPullDiffStrategy's unsuitable)
 */
static void
plan_diff(TablePlan *p)
{
	const char *why = EtlPullDiffStrategy.unsuitable(&p->load, p->rel);

	Oid			indexoid;
	const char *rowdiff_why = NULL;
	char	   *cadence_why;

	emit(p, "extraction", "diff",
		 "no watermark: each run compares the source's rows with the target's by key: row by row "
		 "for a single integer key (every row read in key-range statements, merged in one ordered "
		 "pass), else ranges of the key (a row count and a hash sum each, under one snapshot), "
		 "pulling only the ranges that differ; only what differs is written");
	if (why == NULL && p->exists)
		rowdiff_why = EtlPullRowDiffUnsuitable(&p->load, p->rel, &indexoid);
	if (why != NULL)
		emit(p, "extraction", "next run", psprintf("refused: %s", why));
	else if (!p->exists)
		emit(p, "extraction", "next run",
			 "full: no target yet: the first run loads every row");
	else if (p->table->full_compare_every > 1 &&
			 EtlPullCadenceTailDue(p->table, rowdiff_why, &cadence_why))
		emit(p, "extraction", "next run", psprintf("diff, new rows only: %s", cadence_why));
	else if (rowdiff_why == NULL)
		emit(p, "extraction", "next run",
			 psprintf("diff: row by row, the source read in key-range statements of about %d ms (etl_pull.source_statement_ms)",
					  EtlPullSourceStatementMs));
	else
		emit(p, "extraction", "next run",
			 psprintf("diff: ranges of about %d rows, about %d of them (not row by row: %s)",
					  ETL_VERIFY_ROWS_PER_RANGE,
					  EtlPullVerifyRangeCount(p->load.source, p->rel,
											  ETL_VERIFY_ROWS_PER_RANGE),
					  rowdiff_why));
	if (p->table->full_compare_every > 1)
		emit(p, "extraction", "full comparison",
			 !p->exists ? psprintf("every %d runs (full_compare_every), counted from the first run, which loads every row",
								   p->table->full_compare_every) :
			 EtlPullCadencePlan(p->table, why ? why : rowdiff_why));
}

/*
 * An incremental table: each watermark column (whether it leads an index
 * at the source, "indexes", and whether an append-only target can take
 * it), and what the next run pulls.  The watermark is shown only to a
 * caller who may read the target: its values are source values.
 */
static void
plan_incremental(TablePlan *p, List *indexes)
{
	EtlPullTable *table = p->table;
	EtlPullSource *source = p->load.source;
	int		   *cols = EtlPullIncrementalColumns(table, source);
	List	   *watermark = EtlPullReadWatermark(table);
	bool		may_read = p->exists &&
		pg_class_aclcheck(p->load.target_oid, GetUserId(), ACL_SELECT) == ACLCHECK_OK;
	const char *refused_run = EtlPullIncrementalUnsuitable(table, source);
	int			i;

	for (i = 0; i < list_length(table->incremental_columns); i++)
	{
		EtlPullSourceColumn *col = &source->columns[cols[i]];
		const char *item = psprintf("watermark column %s", col->name);
		char	   *refused = EtlPullAppendOnlyUnsuitable(table, col, p->types[cols[i]],
														  p->typmods[cols[i]]);

		emit(p, "extraction", item,
			 leads_index(source, indexes, cols[i]) ?
			 "leads an index at the source" :
			 "leads no index at the source: each incremental run scans the table");
		if (refused)
			emit(p, "extraction", item,
				 psprintf("refused: %s: every load fails", refused));
	}
	if (refused_run != NULL)
		emit(p, "extraction", "next run",
			 psprintf("refused: %s: the run fails", refused_run));
	else if (watermark == NIL || !p->exists)
		emit(p, "extraction", "next run",
			 "full: no watermark yet (or no target): the first run loads every row");
	else if (!may_read)
		emit(p, "extraction", "next run",
			 "incremental: past the watermark (its values are shown to roles that may read the target)");
	else
	{
		char	   *where = table->append_only ?
			"the rows at or past the watermark, replaced (append_only)" :
			EtlPullWatermarkPredicate(p->load.conn, source, cols, watermark,
									  table->lookback);

		emit(p, "extraction", "next run",
			 psprintf("incremental: WHERE %s", where ? where : "(every row: a watermark is NULL)"));
	}
}

/*
 * What a comparison (diff, verify, verify_table) cannot see, and a load
 * that would verify a target verify cannot compare (EtlPullVerifyUnsuitable).
 * Returns whether some columns cannot be compared.
 */
static bool
plan_comparison(TablePlan *p)
{
	List	   *gaps = NIL;
	List	   *why = NIL;
	const char *refused;
	int			i;

	for (i = 0; i < p->load.source->ncolumns; i++)
	{
		EtlPullSourceColumn *col = &p->load.source->columns[i];
		const char *gap = EtlPullVerifyGap(p->load.conn, col, getBaseType(p->types[i]));

		if (gap != NULL)
		{
			gaps = lappend(gaps, col->target_name);
			why = lappend(why, (char *) gap);
		}
	}
	if (gaps != NIL)
		emit(p, "extraction", "not compared",
			 psprintf("diff runs, verify = full and verify_table: %s",
					  EtlPullVerifyUncompared(gaps, why)));

	if (p->table->verify == ETL_VERIFY_OFF || p->rel == NULL)
		return gaps != NIL;
	refused = EtlPullVerifyUnsuitable(p->rel);
	if (refused != NULL)
		emit(p, "extraction", "verify",
			 psprintf("refused: verify = %s compares a plain table only, and %s: every load fails after writing its rows",
					  EtlPullChoiceName("verify", p->table->verify), refused));
	return gaps != NIL;
}

/*
 * A binlog table: what its stream needs of the server (each requirement,
 * and what to ask the MySQL administrator for when it is missing), and
 * whether the table can be streamed at all (a primary key)
 */
static void
plan_binlog(TablePlan *p)
{
	const char *why = EtlPullStreamUnsuitable(p->table, p->load.source);
	ListCell   *lc;

	emit(p, "extraction", "binlog",
		 p->table->load_group ?
		 psprintf("kept current by the stream of load group \"%s\" (etl_pull.start_stream), which snapshots it first; load_table loads it in full",
				  p->table->load_group) :
		 "kept current by its load group's stream, but the table has no load_group: set one, then etl_pull.start_stream(group); load_table loads it in full");
	if (why != NULL)
		emit(p, "extraction", "stream", psprintf("refused: %s", why));
	foreach(lc, EtlPullBinlogPrerequisites(p->load.conn))
	{
		EtlPullBinlogCheck *c = (EtlPullBinlogCheck *) lfirst(lc);

		emit(p, "binlog", c->item, c->detail);
	}
}

/*
 * The extraction: full, incremental, diff or binlog; what a comparison
 * cannot see; then what the extraction sees of the source's changes and
 * misses, and whether the next run would skip as unchanged
 */
static void
plan_extraction(TablePlan *p)
{
	/* the source's indexes, read whatever the extraction */
	List	   *indexes = EtlPullDescribeIndexes(p->load.conn, p->load.source);

	if (p->table->extraction == ETL_EXTRACTION_FULL)
		emit(p, "extraction", "full", "every row, every load");
	else if (p->table->extraction == ETL_EXTRACTION_DIFF)
		plan_diff(p);
	else if (p->table->extraction == ETL_EXTRACTION_BINLOG)
		plan_binlog(p);
	else
		plan_incremental(p, indexes);
	plan_sight(p, plan_comparison(p));
	emit(p, "extraction", "unchanged",
		 EtlPullUnchangedVerdict(p->load.conn, p->table,
								 p->exists ? p->load.target_oid : InvalidOid));
}

/*
 * The plan of one table into "rsinfo", its sections in the order of the
 * file's head.  Runs as the caller with search_path pinned.
 */
static void
plan_table(ReturnSetInfo *rsinfo, EtlPullTable *table, int sample)
{
	TablePlan  *p = palloc0(sizeof(TablePlan));

	p->rsinfo = rsinfo;
	p->table = table;
	p->load.table = table;
	p->load.result = &p->result;
	p->server = GetForeignServer(table->serverid);

	emit(p, "table", "name", table->name);
	if (!plan_access(p))
		return;
	if (!plan_source(p))
	{
		if (p->load.conn != NULL)
			EtlPullDisconnect(p->load.conn);
		return;
	}
	if (p->exists)
	{
		p->rel = table_open(p->load.target_oid, AccessShareLock);
		p->load.owner = p->rel->rd_rel->relowner;	/* whom a load writes as */
	}
	plan_columns(p);
	if (p->rel != NULL)
		plan_schema(p);
	else
		plan_ddl(p);
	plan_strategy(p);
	plan_privileges(p);
	plan_keys(p);
	plan_extraction(p);
	if (p->rel != NULL)
		table_close(p->rel, AccessShareLock);
	p->rel = NULL;

	/* the rows (p->notnull: a created target takes the source's NOT NULL) */
	if (sample > 0)
		sample_hazards(p, sample);
	EtlPullDisconnect(p->load.conn);
}

PG_FUNCTION_INFO_V1(etl_pull_plan);

/*
 * etl_pull.plan(name text, sample_rows integer DEFAULT 1000)
 *		returns table (section text, item text, detail text)
 */
Datum
etl_pull_plan(PG_FUNCTION_ARGS)
{
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

	table = EtlPullReadTable(text_to_cstring(PG_GETARG_TEXT_PP(0)));
	/* as load_table: the table's pg_settings (thresholds, say), then the pin */
	nestlevel = EtlPullApplyPgSettings(table);
	(void) EtlPullPinSearchPath();
	plan_table((ReturnSetInfo *) fcinfo->resultinfo, table, sample);
	AtEOXact_GUC(true, nestlevel);
	PG_RETURN_VOID();
}
