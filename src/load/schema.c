/*-------------------------------------------------------------------------
 *
 * schema.c
 *		  Schema drift: how the source's columns changed since the last
 *		  load, what that asks of the target, and (on_schema_change =
 *		  evolve) the ALTER TABLE that keeps the target loadable.
 *
 * Each successful load remembers the source's columns as it read them
 * (etl_pull.source_columns: MySQL name, COLUMN_TYPE with " NOT NULL" when
 * the column is, and the PostgreSQL type they map to), written only when
 * they changed.  The next load compares the source with that baseline and
 * with the target, before any row moves:
 *
 *	added		a source column the target lacks: evolve adds it, nullable,
 *				with its mapped type (an incremental table loads in full
 *				that time: older rows need the column too)
 *	widened		a column whose source type changed and whose mapped type
 *				is a lossless widening of the target's (varchar(n) to
 *				varchar(m > n) or text, integer to a wider integer or
 *				numeric, numeric with more integer and fraction digits,
 *				real to double, more fractional seconds): evolve alters
 *				the column's type; one that became nullable at the source
 *				loses its NOT NULL
 *	held		a change the target's actual type holds as it is (an enum
 *				or set label added: the target is text or text[]; a
 *				narrowing, varchar(40) to varchar(30) into varchar(40); a
 *				target chosen wider than the mapping): nothing to do
 *	gone		a column of the baseline that the source no longer has
 *				(a rename is gone + added): it stays in the target and gets
 *				its default (NULL) from then on; an error when it is NOT
 *				NULL with no default
 *	refused		changed to a type the target cannot hold and that is no
 *				lossless widening of it: an error in either mode, naming
 *				the column, both types and the ALTER TABLE that fixes
 *				every refused change
 *
 * With on_schema_change = error a change that needs the target altered
 * fails the load with every change listed, before anything is written;
 * changes the target holds load as before.  Every change is reported as
 * a NOTICE and recorded in the run (etl_pull.runs.schema_changes).
 * Without a baseline (the first load after the upgrade, or a target made
 * by hand) only added columns are drift: a hand-made target's types are
 * its owner's choice.
 *
 * Evolving needs the calling role to own the target (ALTER TABLE needs
 * it), and runs as the target's owner, as the whole load does; the DDL is
 * built from the target's catalog names (quote_identifier) and format_type
 * of a parsed type, never from remote text.  A view on a column to widen is an error naming the view.  The
 * ALTER takes an ACCESS EXCLUSIVE lock on the target until the load
 * commits.
 *
 * IDENTIFICATION
 *		  src/load/schema.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/table.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "parser/parse_type.h"
#include "parser/scansup.h"
#include "storage/lmgr.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"

#include "compat.h"
#include "etl_pull.h"
#include "catalog/etl_catalog.h"
#include "load/load.h"

/* The source's columns as the last successful load read them */
typedef struct Baseline
{
	int			n;
	char	  **names;			/* MySQL names */
	char	  **types;			/* COLUMN_TYPE[ NOT NULL] */
	char	  **mapped;			/* the PostgreSQL type they mapped to */
} Baseline;

struct EtlPullSchemaState
{
	Baseline   *baseline;		/* NULL: none recorded */
	int			n;				/* the source's, as this load read it */
	char	  **names;
	char	  **types;
	char	  **mapped;
};

typedef enum ChangeKind
{
	CHANGE_HELD,				/* nothing to do on the target */
	CHANGE_ALTER,				/* evolve alters the target */
	CHANGE_REFUSED				/* an error in either mode */
} ChangeKind;

typedef struct Change
{
	ChangeKind	kind;
	char	   *text;			/* for the NOTICE, the run and the error */
	char	   *ddl;			/* CHANGE_ALTER: the ALTER TABLE clause */
	char	   *hint;			/* CHANGE_REFUSED: what to do */
	char	   *fix;			/* CHANGE_REFUSED: the ALTER TABLE clause that
								 * would let it load */
	AttrNumber	widened;		/* attribute whose type changes, or 0 */
	bool		added;
	const char *column;			/* added: the target column */
	Oid			added_type;		/* added: its type */
} Change;

/* A source column's signature: COLUMN_TYPE, and NOT NULL when it is */
static char *
signature(EtlPullSourceColumn *col)
{
	return col->nullable ? pstrdup(col->column_type) :
		psprintf("%s NOT NULL", col->column_type);
}

/* A type's category for the widening rules below */
typedef enum TypeFamily
{
	FAM_OTHER,
	FAM_INT,					/* int2, int4, int8, and numeric(p,0) */
	FAM_NUMERIC,
	FAM_FLOAT,
	FAM_STRING,					/* varchar, text */
	FAM_TIMESTAMP,
	FAM_TIMESTAMPTZ,
	FAM_INTERVAL
} TypeFamily;

static TypeFamily
family(Oid typid)
{
	switch (typid)
	{
		case INT2OID:
		case INT4OID:
		case INT8OID:
			return FAM_INT;
		case NUMERICOID:
			return FAM_NUMERIC;
		case FLOAT4OID:
		case FLOAT8OID:
			return FAM_FLOAT;
		case VARCHAROID:
		case TEXTOID:
			return FAM_STRING;
		case TIMESTAMPOID:
			return FAM_TIMESTAMP;
		case TIMESTAMPTZOID:
			return FAM_TIMESTAMPTZ;
		case INTERVALOID:
			return FAM_INTERVAL;
	}
	return FAM_OTHER;
}

/* Decimal digits an integer type holds in full */
static int
int_digits(Oid typid)
{
	return typid == INT2OID ? 4 : typid == INT4OID ? 9 : 18;
}

/* numeric(p,s) of a typmod; false when unconstrained */
static bool
numeric_ps(int32 typmod, int *p, int *s)
{
	if (typmod < (int32) VARHDRSZ)
		return false;
	*p = ((typmod - VARHDRSZ) >> 16) & 0xffff;
	/* an 11-bit signed scale, as numeric.c packs it (negative since 15) */
	*s = (((typmod - VARHDRSZ) & 0x7ff) ^ 1024) - 1024;
	return true;
}

/*
 * Whether every value of type (ftyp, fmod) is a value of (ttyp, tmod), so
 * that ALTER COLUMN ... TYPE from the first to the second loses nothing
 * (and the second can load whatever the first could).
 */
static bool
holds(Oid ftyp, int32 fmod, Oid ttyp, int32 tmod)
{
	TypeFamily ff = family(ftyp);
	TypeFamily tf = family(ttyp);
	int			fp,
				fs,
				tp,
				ts;

	if (ftyp == ttyp && fmod == tmod)
		return true;
	if (ff == FAM_OTHER || tf == FAM_OTHER)
		return false;
	switch (tf)
	{
		case FAM_INT:
			if (ff != FAM_INT)
				return false;
			return int_digits(ftyp) <= int_digits(ttyp);
		case FAM_NUMERIC:
			if (!numeric_ps(tmod, &tp, &ts))
				return ff == FAM_INT || ff == FAM_NUMERIC;
			if (ff == FAM_INT)
				return ts >= 0 && tp - ts >= int_digits(ftyp) + 1;
			if (ff != FAM_NUMERIC || !numeric_ps(fmod, &fp, &fs))
				return false;
			return ts >= fs && tp - ts >= fp - fs;
		case FAM_FLOAT:
			return ff == FAM_FLOAT && (ftyp == FLOAT4OID || ttyp == FLOAT8OID);
		case FAM_STRING:
			if (ff != FAM_STRING)
				return false;
			if (ttyp == TEXTOID || tmod < 0)
				return true;
			return ftyp == VARCHAROID && fmod >= 0 && fmod <= tmod;
		case FAM_TIMESTAMP:
		case FAM_TIMESTAMPTZ:
			if (ff != tf)
				return false;
			/* -1: microseconds, the most there are */
			return tmod < 0 || (fmod >= 0 && fmod <= tmod);
		case FAM_INTERVAL:
			/* interval's typmod packs fields too: only the plain one */
			return ff == FAM_INTERVAL && tmod < 0;
		default:
			return false;
	}
}

/* Read the baseline of "table" as the extension's owner; NULL if none */
static Baseline *
read_baseline(EtlPullTable *table)
{
	Oid			argtypes[1] = {TEXTOID};
	Datum		args[1];
	MemoryContext callercxt = CurrentMemoryContext;
	EtlPullUserState st;
	Baseline   *b = NULL;
	Oid			relid;

	/* etl_pull.source_columns came with 1.3 */
	relid = get_relname_relid("source_columns", get_namespace_oid("etl_pull", false));
	if (!OidIsValid(relid))
		return NULL;
	args[0] = CStringGetTextDatum(table->name);
	EtlPullAsOwner(&st);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute_plan(EtlPullOwnerPlan("SELECT columns, mysql_types, target_types"
										  " FROM etl_pull.source_columns"
										  " WHERE table_name OPERATOR(pg_catalog.=) $1",
										  1, argtypes),
						 args, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not read etl_pull.source_columns");
	if (SPI_processed == 1)
	{
		Datum	   *d[3];
		int			n[3];
		int			k;
		int			i;
		MemoryContext spicxt = MemoryContextSwitchTo(callercxt);

		for (k = 0; k < 3; k++)
		{
			bool		isnull;
			Datum		arr = SPI_getbinval(SPI_tuptable->vals[0],
											SPI_tuptable->tupdesc, k + 1, &isnull);

			if (isnull)
				elog(ERROR, "etl_pull.source_columns of table \"%s\" has a NULL", table->name);
			deconstruct_array(DatumGetArrayTypePCopy(arr), TEXTOID, -1, false,
							  TYPALIGN_INT, &d[k], NULL, &n[k]);
		}
		if (n[0] != n[1] || n[0] != n[2])
			elog(ERROR, "etl_pull.source_columns of table \"%s\" is inconsistent", table->name);
		b = palloc(sizeof(Baseline));
		b->n = n[0];
		b->names = palloc(sizeof(char *) * b->n);
		b->types = palloc(sizeof(char *) * b->n);
		b->mapped = palloc(sizeof(char *) * b->n);
		for (i = 0; i < b->n; i++)
		{
			b->names[i] = TextDatumGetCString(d[0][i]);
			b->types[i] = TextDatumGetCString(d[1][i]);
			b->mapped[i] = TextDatumGetCString(d[2][i]);
		}
		MemoryContextSwitchTo(spicxt);
	}
	SPI_finish();
	EtlPullAsCaller(&st);
	return b;
}

/* Index of source column "name" in the baseline, or -1 */
static int
baseline_index(Baseline *b, const char *name)
{
	int			i;

	for (i = 0; b && i < b->n; i++)
		if (strcmp(b->names[i], name) == 0)
			return i;
	return -1;
}

/* The target's attribute named "name", or NULL */
static Form_pg_attribute
target_attribute(TupleDesc tupdesc, const char *name)
{
	int			a;

	for (a = 0; a < tupdesc->natts; a++)
	{
		Form_pg_attribute att = TupleDescAttr(tupdesc, a);

		if (!att->attisdropped && strcmp(NameStr(att->attname), name) == 0)
			return att;
	}
	return NULL;
}

static Change *
new_change(List **changes, ChangeKind kind, char *text)
{
	Change	   *c = palloc0(sizeof(Change));

	c->kind = kind;
	c->text = text;
	*changes = lappend(*changes, c);
	return c;
}

/*
 * Whether a MySQL date column of this table may load NULL into a NOT NULL
 * column's place: zero dates load as NULL, so created targets make them
 * nullable (load/target.c).
 */
static bool
loads_null(EtlPullLoad *load, EtlPullSourceColumn *col)
{
	if (col->nullable)
		return true;
	return (col->kind == SRC_DATE || col->kind == SRC_DATETIME ||
			col->kind == SRC_TIMESTAMP) &&
		load->table->zero_dates == ETL_ZERO_DATES_NULL;
}

/* What one source column present in both asks of the target */
static void
compare_column(EtlPullLoad *load, EtlPullSchemaState *state, int i,
			   Form_pg_attribute att, List **changes)
{
	EtlPullSourceColumn *col = &load->source->columns[i];
	Baseline   *b = state->baseline;
	int			bi = baseline_index(b, col->name);
	const char *qname = load->target_qname;
	const char *attname = quote_identifier(NameStr(att->attname));
	const char *old_type;
	char	   *now_type = format_type_with_typemod(att->atttypid, att->atttypmod);
	Oid			mtyp;
	int32		mmod;
	Oid			old_mtyp;
	int32		old_mmod;
	Change	   *c;

	if (b == NULL || bi < 0 || strcmp(b->types[bi], state->types[i]) == 0)
		return;					/* unchanged, or no baseline to tell */
	old_type = b->types[bi];
	parseTypeString(state->mapped[i], &mtyp, &mmod, false);
	(void) EtlPullParseTypeIfExists(b->mapped[bi], &old_mtyp, &old_mmod);

	if (mtyp == att->atttypid && mmod == att->atttypmod)
		c = new_change(changes, CHANGE_HELD,
					   psprintf("column \"%s\" changed from %s to %s: target type %s holds it",
								col->name, old_type, state->types[i], now_type));
	else if (holds(att->atttypid, att->atttypmod, mtyp, mmod))
	{
		char	   *to = format_type_with_typemod(mtyp, mmod);

		c = new_change(changes, CHANGE_ALTER,
					   psprintf("column \"%s\" widened from %s to %s: target column %s from %s to %s",
								col->name, old_type, state->types[i], attname,
								now_type, to));
		c->ddl = psprintf("ALTER COLUMN %s TYPE %s", attname, to);
		c->widened = att->attnum;
		c->hint = psprintf("ALTER TABLE %s %s", qname, c->ddl);
	}
	else if (holds(mtyp, mmod, att->atttypid, att->atttypmod))
	{
		/* a narrowing (or a change) the target's actual type holds */
		c = new_change(changes, CHANGE_HELD,
					   psprintf("column \"%s\" %s from %s to %s: target type %s holds it",
								col->name,
								OidIsValid(old_mtyp) &&
								holds(mtyp, mmod, old_mtyp, old_mmod) ? "narrowed" : "changed",
								old_type, state->types[i], now_type));
	}
	else
	{
		char	   *to = format_type_with_typemod(mtyp, mmod);

		c = new_change(changes, CHANGE_REFUSED,
					   psprintf("column \"%s\" changed from %s to %s: target column %s is %s, and %s is not a lossless widening of it",
								col->name, old_type, state->types[i], attname,
								now_type, to));
		c->fix = psprintf("ALTER COLUMN %s TYPE %s", attname, to);
		c->hint = psprintf("Alter column %s of table %s yourself (ALTER TABLE %s %s, with a USING clause if needed) or drop the target so that the next load creates it; then load again.",
						   attname, qname, qname, c->fix);
	}

	/* a source column that became nullable: the target's NOT NULL goes */
	if (att->attnotnull && loads_null(load, col) && col->pk_position == 0 &&
		strlen(old_type) > 9 &&
		strcmp(old_type + strlen(old_type) - 9, " NOT NULL") == 0 && col->nullable)
	{
		c = new_change(changes, CHANGE_ALTER,
					   psprintf("column \"%s\" became nullable: target column %s drops NOT NULL",
								col->name, attname));
		c->ddl = psprintf("ALTER COLUMN %s DROP NOT NULL", attname);
		c->hint = psprintf("ALTER TABLE %s %s", qname, c->ddl);
	}
}

/*
 * The changes: the source's columns against the target's and the
 * baseline's, in source order, then the columns gone.
 */
static List *
find_changes(EtlPullLoad *load, EtlPullSchemaState *state, Relation rel)
{
	TupleDesc	tupdesc = RelationGetDescr(rel);
	Baseline   *b = state->baseline;
	List	   *changes = NIL;
	int32		typmod;
	int			i;

	for (i = 0; i < load->source->ncolumns; i++)
	{
		EtlPullSourceColumn *col = &load->source->columns[i];
		Form_pg_attribute att = target_attribute(tupdesc, col->target_name);
		Change	   *c;

		CHECK_FOR_INTERRUPTS();
		if (att != NULL)
		{
			compare_column(load, state, i, att, &changes);
			continue;
		}
		c = new_change(&changes, CHANGE_ALTER,
					   psprintf("column \"%s\" %s (%s): target column %s added as %s",
								col->name,
								b != NULL && baseline_index(b, col->name) < 0 ?
								"added at the source" : "has no target column",
								state->types[i], quote_identifier(col->target_name),
								state->mapped[i]));
		c->ddl = psprintf("ADD COLUMN %s %s", quote_identifier(col->target_name),
						  state->mapped[i]);
		c->hint = psprintf("ALTER TABLE %s %s", load->target_qname, c->ddl);
		c->added = true;
		c->column = col->target_name;
		parseTypeString(state->mapped[i], &c->added_type, &typmod, false);
	}

	for (i = 0; b && i < b->n; i++)
	{
		Form_pg_attribute att;
		int			j;
		char	   *target_name = NULL;
		Change	   *c;

		for (j = 0; j < load->source->ncolumns; j++)
			if (strcmp(load->source->columns[j].name, b->names[i]) == 0)
				break;
		if (j < load->source->ncolumns)
			continue;
		/* the target name the column had: lower-cased as the source's are */
		target_name = downcase_identifier(b->names[i], strlen(b->names[i]),
										  false, true);
		att = target_attribute(tupdesc, target_name);
		if (att == NULL)
			continue;
		if (att->attnotnull && !att->atthasdef)
		{
			c = new_change(&changes, CHANGE_REFUSED,
						   psprintf("column \"%s\" is gone from the source: target column %s is NOT NULL and has no default",
									b->names[i], quote_identifier(target_name)));
			c->fix = psprintf("ALTER COLUMN %s DROP NOT NULL",
							  quote_identifier(target_name));
			c->hint = psprintf("Drop its NOT NULL (ALTER TABLE %s %s) or the column, then load again.",
							   load->target_qname, c->fix);
		}
		else
			new_change(&changes, CHANGE_HELD,
					   psprintf("column \"%s\" is gone from the source: target column %s stays and gets %s from now on",
								b->names[i], quote_identifier(target_name),
								att->atthasdef ? "its default" : "NULL"));
	}
	return changes;
}

/* The views (rules) of other relations on attribute "attnum" of the target */
static char *
dependent_views(Oid relid, AttrNumber attnum)
{
	Oid			argtypes[2] = {OIDOID, INT4OID};
	Datum		args[2];
	MemoryContext callercxt = CurrentMemoryContext;
	char	   *views = NULL;

	args[0] = ObjectIdGetDatum(relid);
	args[1] = Int32GetDatum(attnum);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute_with_args("SELECT pg_catalog.string_agg(DISTINCT r.ev_class::pg_catalog.regclass::pg_catalog.text, ', ')"
							  " FROM pg_catalog.pg_depend d"
							  " JOIN pg_catalog.pg_rewrite r ON r.oid OPERATOR(pg_catalog.=) d.objid"
							  " WHERE d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_rewrite'::pg_catalog.regclass"
							  " AND d.refclassid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass"
							  " AND d.refobjid OPERATOR(pg_catalog.=) $1"
							  " AND d.refobjsubid OPERATOR(pg_catalog.=) $2"
							  " AND r.ev_class OPERATOR(pg_catalog.<>) $1",
							  2, argtypes, args, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not read pg_depend");
	if (SPI_processed == 1)
	{
		char	   *v = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);

		if (v)
			views = MemoryContextStrdup(callercxt, v);
	}
	SPI_finish();
	return views;
}

/*
 * Why evolve cannot apply change "c": a view (or rule) on the column it
 * widens, as the error's message says it; NULL when nothing blocks it
 */
static char *
blocking_views(EtlPullLoad *load, Change *c)
{
	char	   *views;

	if (c->kind != CHANGE_ALTER || c->widened == 0 ||
		(views = dependent_views(load->target_oid, c->widened)) == NULL)
		return NULL;
	return psprintf("cannot widen a column of table %s: view %s depends on it",
					load->target_qname, views);
}

/* What to do about a change blocked by a view */
static char *
blocked_hint(Change *c)
{
	return psprintf("Drop the view, load the table, then create the view again; or run %s with the view dropped and recreated.",
					c->hint);
}

/* Append one change per line to the run's schema_changes */
static void
record_change(EtlPullRunResult *r, const char *text)
{
	r->schema_changes = r->schema_changes ?
		psprintf("%s\n%s", r->schema_changes, text) : pstrdup(text);
}

/*
 * Apply the changes to the target (evolve): the caller must own it, and the
 * ALTER runs as the owner, as the rest of the load does.  An added
 * column's type brings code (a domain's CHECK and DEFAULT) that runs as
 * the owner: so it must be a type the owner trusts.
 */
static void
apply_changes(EtlPullLoad *load, List *changes)
{
	StringInfoData ddl;
	ListCell   *lc;

	if (!EtlPullOwnsRelation(load->target_oid, load->caller))
	{
		initStringInfo(&ddl);
		foreach(lc, changes)
		{
			Change	   *c = (Change *) lfirst(lc);

			if (c->kind == CHANGE_ALTER)
				appendStringInfo(&ddl, "\n%s", c->text);
		}
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("table \"%s\" needs its target %s altered, which only its owner may do",
						load->table->name, load->target_qname),
				 errdetail("The source's columns changed:%s", ddl.data),
				 errhint("Load the table as the owner of %s, or have the owner alter it.",
						 load->target_qname)));
	}

	initStringInfo(&ddl);
	appendStringInfo(&ddl, "ALTER TABLE %s ", load->target_qname);
	foreach(lc, changes)
	{
		Change	   *c = (Change *) lfirst(lc);
		char	   *views;

		if (c->kind != CHANGE_ALTER)
			continue;
		if (c->added)
			EtlPullCheckTypeOwner(c->added_type, load->owner, c->column);
		if ((views = blocking_views(load, c)) != NULL)
			ereport(ERROR,
					(errcode(ERRCODE_DEPENDENT_OBJECTS_STILL_EXIST),
					 errmsg("%s", views),
					 errdetail("The source's %s.", c->text),
					 errhint("%s", blocked_hint(c))));
		appendStringInfo(&ddl, "%s%s", ddl.data[ddl.len - 1] == ' ' ? "" : ", ",
						 c->ddl);
	}
	EtlPullLockTargetExclusive(load, "alter it for the source's schema changes",
							   "the target is unchanged");
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute(ddl.data, false, 0) != SPI_OK_UTILITY)
		elog(ERROR, "could not alter table %s", load->target_qname);
	SPI_finish();
	CommandCounterIncrement();
}

/*
 * Fail the load if a change is refused (in either mode): the message names
 * the refused change (or their number), the DETAIL lists the changes the
 * message does not, the HINT says how to fix every refused one.
 */
static void
report_refused(EtlPullLoad *load, List *changes)
{
	List	   *refused = NIL;
	Change	   *first;
	StringInfoData others;
	StringInfoData fixes;
	ListCell   *lc;
	int			n;

	foreach(lc, changes)
		if (((Change *) lfirst(lc))->kind == CHANGE_REFUSED)
			refused = lappend(refused, lfirst(lc));
	if (refused == NIL)
		return;
	n = list_length(refused);
	first = (Change *) linitial(refused);
	initStringInfo(&others);
	initStringInfo(&fixes);
	foreach(lc, changes)
	{
		Change	   *c = (Change *) lfirst(lc);

		if (n > 1 || c != first)
			appendStringInfo(&others, "\n%s", c->text);
	}
	foreach(lc, refused)
		appendStringInfo(&fixes, "%s%s", fixes.len ? ", " : "",
						 ((Change *) lfirst(lc))->fix);
	ereport(ERROR,
			(errcode(ERRCODE_DATATYPE_MISMATCH),
			 n == 1 ?
			 errmsg("cannot load table \"%s\": %s", load->table->name, first->text) :
			 errmsg("cannot load table \"%s\": %d changes of the source's columns need the target altered by hand",
					load->table->name, n),
			 others.len == 0 ? 0 :
			 n == 1 ? errdetail("The source's columns also changed:%s", others.data) :
			 errdetail("The source's columns changed:%s", others.data),
			 n == 1 ? errhint("%s", first->hint) :
			 errhint("Alter table %s yourself (ALTER TABLE %s %s, with a USING clause where a type needs one) or drop it so that the next load creates it; then load again.",
					 load->target_qname, load->target_qname, fixes.data)));
}

/*
 * The source's columns as this load reads them, and the baseline: the
 * state of a load's check
 */
static EtlPullSchemaState *
make_state(EtlPullLoad *load)
{
	EtlPullSchemaState *state = palloc0(sizeof(EtlPullSchemaState));
	int			i;

	state->n = load->source->ncolumns;
	state->names = palloc(sizeof(char *) * state->n);
	state->types = palloc(sizeof(char *) * state->n);
	state->mapped = palloc(sizeof(char *) * state->n);
	for (i = 0; i < state->n; i++)
	{
		EtlPullSourceColumn *col = &load->source->columns[i];
		Oid			typid;
		int32		typmod;

		state->names[i] = col->name;
		state->types[i] = signature(col);
		parseTypeString(EtlPullColumnTargetType(load, col), &typid, &typmod, false);
		state->mapped[i] = format_type_with_typemod(typid, typmod);
	}
	state->baseline = read_baseline(load->table);
	return state;
}

/*
 * What a load of the existing target "rel" would find, without acting on
 * it (etl_pull.plan()): a List of EtlPullSchemaDiff, and in *ddl the
 * ALTER TABLE that evolve would run (NULL for none).
 */
List *
EtlPullSchemaPreview(EtlPullLoad *load, Relation rel, char **ddl)
{
	EtlPullSchemaState *state = make_state(load);
	List	   *result = NIL;
	ListCell   *lc;
	StringInfoData alter;

	initStringInfo(&alter);
	foreach(lc, find_changes(load, state, rel))
	{
		Change	   *c = (Change *) lfirst(lc);
		EtlPullSchemaDiff *d = palloc(sizeof(EtlPullSchemaDiff));

		char	   *blocked;

		d->action = c->kind == CHANGE_ALTER ? "alter" :
			c->kind == CHANGE_HELD ? "none" : "refused";
		d->text = c->text;
		d->hint = c->hint;
		result = lappend(result, d);
		if (c->kind == CHANGE_ALTER)
			appendStringInfo(&alter, "%s%s", alter.len ? ", " : "", c->ddl);
		/* under evolve, a view on the column to widen fails the load */
		if (load->table->on_schema_change == ETL_SCHEMA_CHANGE_EVOLVE &&
			(blocked = blocking_views(load, c)) != NULL)
		{
			d = palloc(sizeof(EtlPullSchemaDiff));
			d->action = "refused";
			d->text = blocked;
			d->hint = blocked_hint(c);
			result = lappend(result, d);
		}
	}
	*ddl = alter.len ? psprintf("ALTER TABLE %s %s", load->target_qname, alter.data) : NULL;
	return result;
}

/*
 * Compare the source (load->source) with the existing target and the
 * baseline and act on on_schema_change, before any row moves.  Returns
 * the state EtlPullSchemaRemember records after the load; *full is set
 * when a column was added (an incremental or diff table then loads in
 * full: the rows loaded before need the column too).
 */
EtlPullSchemaState *
EtlPullSchemaCheck(EtlPullLoad *load, bool *full)
{
	EtlPullSchemaState *state;
	EtlPullRunResult *r = load->result;
	bool		evolve = load->table->on_schema_change == ETL_SCHEMA_CHANGE_EVOLVE;
	List	   *changes;
	ListCell   *lc;
	Relation	rel;
	StringInfoData list;
	bool		alter = false;
	bool		added = false;

	*full = false;
	state = make_state(load);
	if (load->created)
		return state;			/* created from the source as it is now */

	rel = table_open(load->target_oid, AccessShareLock);
	changes = find_changes(load, state, rel);
	table_close(rel, NoLock);
	if (changes == NIL)
		return state;

	initStringInfo(&list);
	foreach(lc, changes)
	{
		Change	   *c = (Change *) lfirst(lc);

		appendStringInfo(&list, "\n%s", c->text);
		record_change(r, c->text);
		alter |= (c->kind == CHANGE_ALTER);
		added |= c->added;
	}

	report_refused(load, changes);
	if (alter && !evolve)
	{
		StringInfoData todo;

		initStringInfo(&todo);
		foreach(lc, changes)
		{
			Change	   *c = (Change *) lfirst(lc);

			if (c->kind == CHANGE_ALTER)
				appendStringInfo(&todo, "%s%s", todo.len ? ", " : "", c->ddl);
		}
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TABLE_DEFINITION),
				 errmsg("the columns of MySQL table \"%s.%s\" changed: table %s needs altering before it can be loaded",
						load->source->db, load->source->table, load->target_qname),
				 errdetail("The source's columns changed:%s", list.data),
				 errhint("Set \"on_schema_change\" to \"evolve\" for table \"%s\", or run ALTER TABLE %s %s; then load again.",
						 load->table->name, load->target_qname, todo.data)));
	}

	if (alter)
		apply_changes(load, changes);
	foreach(lc, changes)
		ereport(NOTICE,
				(errmsg("table %s: %s", load->target_qname,
						((Change *) lfirst(lc))->text)));
	if (added && load->table->extraction != ETL_EXTRACTION_FULL)
	{
		*full = true;
		EtlPullRunNote(r, "full load: on_schema_change added columns, which rows loaded before need too");
	}
	return state;
}

/*
 * After a successful load: record the source's columns as this load read
 * them, if they differ from the baseline (one write when the source
 * changed, none otherwise).
 */
void
EtlPullSchemaRemember(EtlPullLoad *load, EtlPullSchemaState *state)
{
	Baseline   *b;
	Oid			argtypes[4] = {TEXTOID, TEXTARRAYOID, TEXTARRAYOID, TEXTARRAYOID};
	Datum		args[4];
	Datum	   *d[3];
	int			i;

	if (!OidIsValid(get_relname_relid("source_columns",
									  get_namespace_oid("etl_pull", false))))
		return;					/* a catalog not updated to 1.3 yet */
	b = state->baseline;
	if (b != NULL && b->n == state->n)
	{
		for (i = 0; i < b->n; i++)
			if (strcmp(b->names[i], state->names[i]) != 0 ||
				strcmp(b->types[i], state->types[i]) != 0 ||
				strcmp(b->mapped[i], state->mapped[i]) != 0)
				break;
		if (i == b->n)
			return;
	}
	for (i = 0; i < 3; i++)
		d[i] = palloc(sizeof(Datum) * Max(state->n, 1));
	for (i = 0; i < state->n; i++)
	{
		d[0][i] = CStringGetTextDatum(state->names[i]);
		d[1][i] = CStringGetTextDatum(state->types[i]);
		d[2][i] = CStringGetTextDatum(state->mapped[i]);
	}
	args[0] = CStringGetTextDatum(load->table->name);
	for (i = 0; i < 3; i++)
		args[i + 1] = PointerGetDatum(construct_array(d[i], state->n, TEXTOID,
													  -1, false, TYPALIGN_INT));
	EtlPullOwnerExec("INSERT INTO etl_pull.source_columns AS s"
					 " (table_name, columns, mysql_types, target_types)"
					 " VALUES ($1, $2, $3, $4)"
					 " ON CONFLICT (table_name) DO UPDATE"
					 " SET columns = EXCLUDED.columns,"
					 "     mysql_types = EXCLUDED.mysql_types,"
					 "     target_types = EXCLUDED.target_types,"
					 "     recorded_at = pg_catalog.now()",
					 4, argtypes, args, NULL, SPI_OK_INSERT,
					 "write etl_pull.source_columns");
}
