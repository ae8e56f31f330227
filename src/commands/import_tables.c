/*-------------------------------------------------------------------------
 *
 * import_tables.c
 *		  etl_pull.import_tables(): register every table of a MySQL
 *		  database at once, with a plan inferred from the source.
 *
 * The MySQL side is read in three queries, one per kind of metadata
 * (information_schema.TABLES, COLUMNS and STATISTICS of the whole
 * database), never one per table, so that a database of hundreds of
 * tables imports in one round trip per kind.  Every value the server sends
 * is checked before use: names may hold anything a MySQL name can
 * (quotes, dots, backticks, non-ASCII) and are never part of SQL text on
 * either side; a NULL, empty, NUL-holding or invalid UTF-8 name is refused;
 * sizes may be NULL or garbage, and then are unknown.
 *
 * The registration goes through the SQL functions an administrator would
 * call, etl_pull.add_table and etl_pull.set_table_option, via SPI and with
 * parameters, as the caller: the same validation and the same privilege
 * checks apply (EXECUTE on them is etl_pull_admin's), and nothing here
 * writes etl_pull.tables itself.  Each table registers in a
 * subtransaction, so a table whose registration is refused as a duplicate
 * (its target taken by another registered table, a concurrent import) is
 * reported as skipped and the others go on; any other error fails the
 * whole call, and nothing of it commits.
 *
 * A PostgreSQL table that already has the target's name is adopted only
 * if etl_pull created it (etl_pull.created_targets): a table of someone
 * else's, or the caller's own, is never loaded into because a MySQL table
 * has its name; the table is skipped, with a note (its owner may register
 * it by name with add_table).
 *
 * Running it again is a sync: a source table already registered (under
 * any name) is left exactly as it is; one registered but gone from the
 * source is reported, and disabled on request.
 *
 * IDENTIFICATION
 *		  src/commands/import_tables.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_collation.h"
#include "catalog/pg_foreign_server.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "foreign/foreign.h"
#include "funcapi.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "parser/scansup.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/fmgrprotos.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/resowner.h"

#include "etl_pull.h"
#include "catalog/etl_catalog.h"
#include "remote/remote.h"
#include "load/load.h"
#include "commands/commands.h"

/* The columns of import_tables' result */
#define IMPORT_NCOLS 13

/* One table (or view) of the source database, as information_schema says */
typedef struct ImportTable
{
	char	   *name;			/* MySQL name, in the server encoding */
	bool		is_view;
	bool		is_table;		/* a base table (or system-versioned one) */
	char	   *table_type;		/* TABLE_TYPE as sent */
	char	   *engine;			/* NULL for views */
	bool		rows_known;
	int64		rows;
	bool		bytes_known;
	int64		bytes;
	List	   *pk;				/* char *, in key order */
	List	   *on_update;		/* char *: ON UPDATE CURRENT_TIMESTAMP
								 * columns, in column order */
	List	   *generated;		/* char *: generated columns */
	char	   *auto_increment; /* the integer AUTO_INCREMENT column, or NULL */
} ImportTable;

/* A row of etl_pull.tables, as far as the import needs it */
typedef struct ImportRegistered
{
	char	   *name;
	char	   *server;
	char	   *source_db;		/* NULL: the server's dbname */
	char	   *source_table;
	char	   *target_table;	/* the setting, NULL: the default */
	char	   *extraction;
	Datum		incremental_columns;	/* text[] */
	bool		inc_null;
	bool		append_only;
	bool		delete_missing;
	int			full_compare_every;
	bool		enabled;
} ImportRegistered;

/* What import_tables reports for one table */
typedef struct ImportRow
{
	const char *name;
	char	   *source;
	char	   *target;
	const char *action;
	const char *extraction;
	Datum		incremental_columns;
	bool		inc_null;
	List	   *pk;
	ImportTable *src;			/* NULL for a missing table */
	List	   *notes;			/* char * */
	const char *sees;			/* what its extraction sees, misses */
	const char *misses;
} ImportRow;

/* What becomes of a table of the source (classify_table) */
typedef enum ImportAction
{
	IMPORT_EXISTS,				/* registered already, left as it is */
	IMPORT_SKIP,				/* not registered, for the reason in its notes */
	IMPORT_REGISTER				/* to be registered (register_table) */
} ImportAction;

/* The registration of a new table, as classify_table plans it */
typedef struct ImportPlan
{
	char	   *source_table;	/* `db`.`table` */
	char	   *target_table;	/* "schema"."table" */
	EtlPullExtraction extraction;	/* full or diff */
	int			full_compare_every; /* a log's cadence (log_cadence), or 1 */
} ImportPlan;

/* import_tables' arguments, checked (import_args) */
typedef struct ImportArgs
{
	char	   *server_name;
	ForeignServer *server;
	char	   *db;				/* NULL until the server's dbname is known */
	List	   *include;		/* text *: LIKE patterns */
	List	   *exclude;
	char	   *load_group;		/* or NULL */
	char	   *target_schema;
	Oid			target_nspid;
	bool		views;
	bool		disable_missing;
	bool		binlog;			/* new tables with a key follow the binary log */
} ImportArgs;

/*
 * A value of information_schema that must be present: a table or column
 * name.  Refused when NULL, empty, holding a NUL byte or not UTF-8 (the
 * connection's character set is utf8mb4); returned in the server encoding.
 */
static char *
remote_name(EtlPullConnection *conn, char **values, unsigned long *lengths,
			int i, const char *view, const char *column)
{
	const char *why = NULL;

	if (values[i] == NULL)
		why = "a NULL";
	else if (lengths[i] == 0)
		why = "an empty";
	else if (memchr(values[i], '\0', lengths[i]) != NULL)
		why = "a NUL byte in its";
	else if (!pg_verify_mbstr(PG_UTF8, values[i], lengths[i], true))
		why = "invalid UTF-8 in its";
	if (why)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_INVALID_STRING_FORMAT),
				 errmsg("MySQL server \"%s\" sent an invalid name in information_schema.%s",
						EtlPullServerName(conn), view),
				 errdetail("A row has %s %s.", why, column)));
	return pg_any_to_server(pnstrdup(values[i], lengths[i]), lengths[i], PG_UTF8);
}

/* An optional short value (engine, type, default): NULL stays NULL */
static char *
remote_text(char **values, unsigned long *lengths, int i)
{
	if (values[i] == NULL)
		return NULL;
	return EtlPullPrintable(pnstrdup(values[i], lengths[i]), 64);
}

/* A non-negative integer as MySQL sent it; false when NULL or not one */
static bool
remote_int64(char **values, unsigned long *lengths, int i, int64 *result)
{
	unsigned long len = values[i] ? lengths[i] : 0;
	unsigned long k;
	int64		v = 0;

	if (len == 0 || len > 19)
		return false;
	for (k = 0; k < len; k++)
	{
		int			d = values[i][k] - '0';

		if (d < 0 || d > 9 || v > (PG_INT64_MAX - d) / 10)
			return false;
		v = v * 10 + d;
	}
	*result = v;
	return true;
}

/* Does "haystack" contain "needle", ignoring ASCII case? */
static bool
contains_ci(const char *haystack, const char *needle)
{
	size_t		n = strlen(needle);

	if (haystack == NULL)
		return false;
	for (; *haystack; haystack++)
		if (pg_strncasecmp(haystack, needle, n) == 0)
			return true;
	return false;
}

static int
table_cmp(const void *a, const void *b)
{
	return strcmp(((const ImportTable *) a)->name,
				  ((const ImportTable *) b)->name);
}

/* The table of that name, or NULL */
static ImportTable *
find_table(ImportTable *tables, int ntables, const char *name)
{
	ImportTable key;

	key.name = (char *) name;
	return bsearch(&key, tables, ntables, sizeof(ImportTable), table_cmp);
}

/*
 * Read the tables and views of database "db", with their keys, ON UPDATE
 * and generated columns: one query per view of
 * information_schema.  Returns them sorted by name (byte order).
 */
static ImportTable *
read_source(EtlPullConnection *conn, const char *db, int *ntables)
{
	char	   *qdb = EtlPullQuoteLiteral(conn, db);
	char	  **values;
	unsigned long *lengths;
	ImportTable *tables;
	int			n = 0,
				alloc = 64,
				i,
				j;
	bool		db_exists = false;

	EtlPullQueryStart(conn, psprintf("SELECT SCHEMA_NAME FROM information_schema.SCHEMATA"
									 " WHERE SCHEMA_NAME = %s", qdb), 1);
	while (EtlPullFetch(conn, &values, &lengths))
		db_exists = true;
	EtlPullQueryEnd(conn);
	if (!db_exists)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_SCHEMA_NOT_FOUND),
				 errmsg("MySQL database \"%s\" does not exist on server \"%s\"",
						db, EtlPullServerName(conn)),
				 errhint("Check the \"source_db\" argument, or the server's \"dbname\", and the MySQL user's privileges.")));

	tables = palloc(sizeof(ImportTable) * alloc);
	EtlPullQueryStart(conn, psprintf("SELECT TABLE_NAME, TABLE_TYPE, ENGINE, TABLE_ROWS, DATA_LENGTH"
									 " FROM information_schema.TABLES"
									 " WHERE TABLE_SCHEMA = %s", qdb), 5);
	while (EtlPullFetch(conn, &values, &lengths))
	{
		ImportTable *t;

		CHECK_FOR_INTERRUPTS();
		if (n == alloc)
		{
			alloc *= 2;
			tables = repalloc(tables, sizeof(ImportTable) * alloc);
		}
		t = &tables[n++];
		memset(t, 0, sizeof(ImportTable));
		t->name = remote_name(conn, values, lengths, 0, "TABLES", "TABLE_NAME");
		t->table_type = remote_text(values, lengths, 1);
		t->is_view = t->table_type && strcmp(t->table_type, "VIEW") == 0;
		t->is_table = t->table_type && (strcmp(t->table_type, "BASE TABLE") == 0 ||
										strcmp(t->table_type, "SYSTEM VERSIONED") == 0);
		t->engine = remote_text(values, lengths, 2);
		t->rows_known = remote_int64(values, lengths, 3, &t->rows);
		t->bytes_known = remote_int64(values, lengths, 4, &t->bytes);
	}
	EtlPullQueryEnd(conn);

	/* sorted, and a name a hostile server sent twice counts once */
	qsort(tables, n, sizeof(ImportTable), table_cmp);
	for (i = 0, j = 0; i < n; i++)
		if (j == 0 || strcmp(tables[j - 1].name, tables[i].name) != 0)
			tables[j++] = tables[i];
	n = j;

	/* primary keys */
	EtlPullQueryStart(conn, psprintf("SELECT TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX, COLUMN_NAME"
									 " FROM information_schema.STATISTICS"
									 " WHERE TABLE_SCHEMA = %s AND INDEX_NAME = 'PRIMARY'"
									 " ORDER BY TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX", qdb), 4);
	while (EtlPullFetch(conn, &values, &lengths))
	{
		ImportTable *t;
		char	   *column;
		int64		seq;

		CHECK_FOR_INTERRUPTS();
		t = find_table(tables, n, remote_name(conn, values, lengths, 0,
											  "STATISTICS", "TABLE_NAME"));
		/* a functional key part (MySQL 8) has no COLUMN_NAME */
		if (t == NULL || !remote_int64(values, lengths, 2, &seq) || values[3] == NULL)
			continue;
		column = remote_name(conn, values, lengths, 3, "STATISTICS", "COLUMN_NAME");
		if (values[1] && lengths[1] == 7 && memcmp(values[1], "PRIMARY", 7) == 0)
			t->pk = lappend(t->pk, column);
	}
	EtlPullQueryEnd(conn);

	/*
	 * ON UPDATE CURRENT_TIMESTAMP columns, generated columns and integer
	 * AUTO_INCREMENT columns
	 */
	EtlPullQueryStart(conn, psprintf("SELECT TABLE_NAME, COLUMN_NAME, EXTRA,"
									 " DATA_TYPE IN ('tinyint', 'smallint', 'mediumint', 'int', 'bigint')"
									 " FROM information_schema.COLUMNS"
									 " WHERE TABLE_SCHEMA = %s"
									 " AND (EXTRA LIKE '%%on update%%' OR EXTRA LIKE '%%generated%%'"
									 "  OR EXTRA LIKE '%%auto_increment%%')"
									 " ORDER BY TABLE_NAME, ORDINAL_POSITION", qdb), 4);
	while (EtlPullFetch(conn, &values, &lengths))
	{
		ImportTable *t;
		char	   *column;
		char	   *extra;

		CHECK_FOR_INTERRUPTS();
		t = find_table(tables, n, remote_name(conn, values, lengths, 0,
											  "COLUMNS", "TABLE_NAME"));
		if (t == NULL)
			continue;
		column = remote_name(conn, values, lengths, 1, "COLUMNS", "COLUMN_NAME");
		extra = remote_text(values, lengths, 2);
		if (contains_ci(extra, "VIRTUAL GENERATED") || contains_ci(extra, "STORED GENERATED"))
			t->generated = lappend(t->generated, column);
		else if (contains_ci(extra, "on update current_timestamp"))
			t->on_update = lappend(t->on_update, column);
		else if (contains_ci(extra, "auto_increment") &&
				 values[3] && lengths[3] == 1 && values[3][0] == '1')
			t->auto_increment = column;
	}
	EtlPullQueryEnd(conn);

	*ntables = n;
	return tables;
}

/* The comma-separated LIKE patterns of "list", trimmed; NIL for NULL */
static List *
split_patterns(const char *list)
{
	List	   *patterns = NIL;
	const char *p = list;

	if (list == NULL)
		return NIL;
	while (true)
	{
		const char *end = strchr(p, ',');
		const char *stop = end ? end : p + strlen(p);
		const char *b = p;

		while (b < stop && scanner_isspace(*b))
			b++;
		while (stop > b && scanner_isspace(stop[-1]))
			stop--;
		if (stop > b)
			patterns = lappend(patterns, cstring_to_text_with_len(b, stop - b));
		if (end == NULL)
			break;
		p = end + 1;
	}
	return patterns;
}

/* Does "name" match one of the LIKE patterns (case-sensitive)? */
static bool
matches_any(const char *name, List *patterns)
{
	ListCell   *lc;
	text	   *t = cstring_to_text(name);

	foreach(lc, patterns)
		if (DatumGetBool(DirectFunctionCall2Coll(textlike, C_COLLATION_OID,
												 PointerGetDatum(t),
												 PointerGetDatum(lfirst(lc)))))
			return true;
	return false;
}

static bool
selected(const char *name, List *include, List *exclude)
{
	return matches_any(name, include) && !matches_any(name, exclude);
}

/* A text value of an SPI row, or NULL */
static char *
spi_text(HeapTuple tup, TupleDesc desc, int col)
{
	return SPI_getvalue(tup, desc, col);
}

/*
 * The registered tables (all of them: a name clash may be with another
 * server's), read as the caller, who may read etl_pull.tables; a source
 * without a database is on "server_dbname" when it is on "server".
 * Allocated in the caller's context.
 */
static List *
read_registered(const char *server, const char *server_dbname)
{
	List	   *result = NIL;
	MemoryContext cxt = CurrentMemoryContext;
	uint64		i;

	if (SPI_execute("SELECT name, server, source_table, target_table, extraction,"
					" incremental_columns, enabled, append_only, delete_missing,"
					" full_compare_every"
					" FROM etl_pull.tables ORDER BY name",
					true, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read etl_pull.tables");
	for (i = 0; i < SPI_processed; i++)
	{
		HeapTuple	tup = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		MemoryContext old = MemoryContextSwitchTo(cxt);
		ImportRegistered *r = palloc0(sizeof(ImportRegistered));
		char	   *source;
		bool		isnull;
		Datum		d;

		r->name = spi_text(tup, desc, 1);
		r->server = spi_text(tup, desc, 2);
		source = spi_text(tup, desc, 3);
		r->target_table = spi_text(tup, desc, 4);
		r->extraction = spi_text(tup, desc, 5);
		d = SPI_getbinval(tup, desc, 6, &r->inc_null);
		if (!r->inc_null)
			r->incremental_columns = datumCopy(d, false, -1);
		d = SPI_getbinval(tup, desc, 7, &isnull);
		r->enabled = !isnull && DatumGetBool(d);
		d = SPI_getbinval(tup, desc, 8, &isnull);
		r->append_only = !isnull && DatumGetBool(d);
		d = SPI_getbinval(tup, desc, 9, &isnull);
		r->delete_missing = !isnull && DatumGetBool(d);
		d = SPI_getbinval(tup, desc, 10, &isnull);
		r->full_compare_every = isnull ? 1 : DatumGetInt32(d);
		EtlPullSplitSourceTable(source ? source : r->name, &r->source_db,
								&r->source_table);
		if (r->source_db == NULL && server_dbname &&
			strcmp(r->server, server) == 0)
			r->source_db = pstrdup(server_dbname);
		result = lappend(result, r);
		MemoryContextSwitchTo(old);
	}
	return result;
}

/* The quoted "schema"."table" a registration loads into */
static char *
target_of(const char *name, const char *target_table)
{
	char	   *schema;
	char	   *table;

	EtlPullResolveTarget(name, target_table, &schema, &table);
	return pstrdup(quote_qualified_identifier(schema, table));
}

/* A text[] of a list of char *, or NULL (*isnull) for NIL, never empty */
static Datum
text_array_or_null(List *items, bool *isnull)
{
	Datum	   *elems;
	ListCell   *lc;
	int			n = 0;

	*isnull = (items == NIL);
	if (items == NIL)
		return (Datum) 0;
	elems = palloc(sizeof(Datum) * list_length(items));
	foreach(lc, items)
		elems[n++] = CStringGetTextDatum((char *) lfirst(lc));
	return PointerGetDatum(construct_array(elems, n, TEXTOID, -1, false, TYPALIGN_INT));
}

static bool
list_has(List *names, const char *name)
{
	ListCell   *lc;

	foreach(lc, names)
		if (strcmp((char *) lfirst(lc), name) == 0)
			return true;
	return false;
}

/* What the source table is like, whatever its plan */
static void
source_notes(ImportTable *t, List **notes)
{
	if (t->is_view)
	{
		*notes = lappend(*notes, "view: no primary key, loads full");
		return;
	}
	if (t->engine && pg_strcasecmp(t->engine, "InnoDB") != 0)
		*notes = lappend(*notes,
						 psprintf("engine %s: not covered by a consistent snapshot", t->engine));
	if (t->generated != NIL)
		*notes = lappend(*notes,
						 psprintf("generated columns %s: loaded as plain columns holding the values computed at the source",
								  EtlPullNameList(t->generated)));
	if (t->pk == NIL)
		*notes = lappend(*notes, "no primary key: loads full");
}

/*
 * The extraction of a new table, and the notes saying why: diff for a
 * table with a primary key, full for one without (and for a view).  An
 * ON UPDATE CURRENT_TIMESTAMP column is not taken as a watermark: an
 * application may edit a row and leave it alone (OpenDental does), and a
 * watermark never sees a delete, so an incremental plan by it would drift
 * from the source without a word.  diff finds every change by comparing
 * key ranges; a DBA who knows that every edit moves the column, and that
 * rows are never deleted, may choose incremental on it (the note says how).
 */
static EtlPullExtraction
infer_extraction(ImportTable *t, List **notes)
{
	source_notes(t, notes);
	if (t->is_view || t->pk == NIL)
		return ETL_EXTRACTION_FULL;
	if (t->on_update != NIL)
		*notes = lappend(*notes,
						 psprintf("ON UPDATE CURRENT_TIMESTAMP %s %s: not trusted as a watermark (an edit may leave it alone, a delete leaves no trace): diff; where every edit moves it and rows are never deleted, extraction incremental on it reads less",
								  list_length(t->on_update) > 1 ? "columns" : "column",
								  EtlPullNameList(t->on_update)));
	return ETL_EXTRACTION_DIFF;
}

/*
 * How often a new diff table compares every row (its full_compare_every):
 * IMPORT_LOG_CADENCE for what looks like an append-only log, else 1.  A
 * log here is what OpenDental's logs look like (securitylog,
 * securityloghash, inseditlog, entrylog): a name ending in "log" or
 * "loghash"; a primary key that is one integer AUTO_INCREMENT column, so
 * that new rows arrive past the highest key; no ON UPDATE
 * CURRENT_TIMESTAMP column (a table that stamps its edits is edited); and
 * MyISAM or Aria, whose exact row count lets each run between full
 * comparisons notice a delete (cadence.c).  The shape cannot tell that the
 * application never edits a row: an edit of an older row is seen at the
 * next full comparison only, which the note and the row's "misses" say.
 */
#define IMPORT_LOG_CADENCE 4

static bool
ends_with_ci(const char *s, const char *suffix)
{
	size_t		n = strlen(s);
	size_t		m = strlen(suffix);

	return n >= m && pg_strcasecmp(s + n - m, suffix) == 0;
}

static int
infer_cadence(ImportTable *t, EtlPullExtraction extraction, List **notes)
{
	if (extraction != ETL_EXTRACTION_DIFF || list_length(t->pk) != 1 ||
		t->auto_increment == NULL ||
		strcmp((char *) linitial(t->pk), t->auto_increment) != 0 ||
		t->on_update != NIL || t->engine == NULL ||
		(pg_strcasecmp(t->engine, "MyISAM") != 0 &&
		 pg_strcasecmp(t->engine, "Aria") != 0) ||
		!(ends_with_ci(t->name, "log") || ends_with_ci(t->name, "loghash")))
		return 1;
	*notes = lappend(*notes,
					 psprintf("an append-only log by its shape (a name ending in \"log\", an AUTO_INCREMENT key %s, no ON UPDATE column, engine %s): full_compare_every = %d: once a run comparing every row finds nothing but new rows, %d runs in %d read only the rows past the target's highest key and check the source's row count, and one in %d compares every row (an edit of an older row is seen then)",
							  t->auto_increment, t->engine, IMPORT_LOG_CADENCE,
							  IMPORT_LOG_CADENCE - 1, IMPORT_LOG_CADENCE,
							  IMPORT_LOG_CADENCE));
	return IMPORT_LOG_CADENCE;
}

/*
 * What the extraction of a registered table sees of the source's changes,
 * and what it misses (NULL: nothing), for import_tables' result
 * (EtlPullExtractionSight with the registration's settings)
 */
static void
registered_sight(ImportRegistered *r, ImportRow *row)
{
	List	   *columns = NIL;

	if (!r->inc_null)
	{
		Datum	   *elems;
		int			n,
					i;

		deconstruct_array(DatumGetArrayTypeP(r->incremental_columns), TEXTOID,
						  -1, false, TYPALIGN_INT, &elems, NULL, &n);
		for (i = 0; i < n; i++)
			columns = lappend(columns, TextDatumGetCString(elems[i]));
	}
	EtlPullExtractionSight(EtlPullChoiceOrdinal(r->extraction, "full, incremental, diff"),
						   columns, r->append_only, r->delete_missing,
						   r->full_compare_every, &row->sees, &row->misses);
}

/* SELECT etl_pull.<call> with text parameters, as the caller */
static void
call_text(const char *sql, int nargs, const char **args)
{
	Oid			types[4] = {TEXTOID, TEXTOID, TEXTOID, TEXTOID};
	Datum		values[4];
	char		nulls[4];
	int			i;

	Assert(nargs <= 4);
	for (i = 0; i < nargs; i++)
	{
		values[i] = args[i] ? CStringGetTextDatum(args[i]) : (Datum) 0;
		nulls[i] = args[i] ? ' ' : 'n';
	}
	if (SPI_execute_with_args(sql, nargs, types, values, nulls, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not run %s", sql);
	SPI_freetuptable(SPI_tuptable);
}

static void
set_option(const char *name, const char *key, const char *value)
{
	const char *args[3] = {name, key, value};

	call_text("SELECT etl_pull.set_table_option($1, $2, $3)", 3, args);
}

/* The caller must be a member of etl_pull_admin, as registering takes */
static void
check_may_register(void)
{
	Oid			admin = get_role_oid("etl_pull_admin", true);

	if (!OidIsValid(admin) || !has_privs_of_role(GetUserId(), admin))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied to import tables"),
				 errdetail("Only roles with the privileges of role \"etl_pull_admin\" may register tables.")));
}

/*
 * The checked arguments of import_tables(server, source_db, include,
 * exclude, load_group, target_schema, views, disable_missing), the server
 * looked up and its use allowed.  "db" is NULL when the server's dbname is
 * meant (the caller fills it in once it has the connection's options).
 */
static void
import_args(FunctionCallInfo fcinfo, ImportArgs *a)
{
	ForeignDataWrapper *fdw;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("server must not be null")));
	a->server_name = NameStr(*PG_GETARG_NAME(0));
	a->db = PG_ARGISNULL(1) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(1));
	a->include = split_patterns(PG_ARGISNULL(2) ? "%" : text_to_cstring(PG_GETARG_TEXT_PP(2)));
	a->exclude = split_patterns(PG_ARGISNULL(3) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(3)));
	a->load_group = PG_ARGISNULL(4) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(4));
	if (PG_ARGISNULL(5))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("target_schema must not be null")));
	a->target_schema = text_to_cstring(PG_GETARG_TEXT_PP(5));
	a->views = PG_ARGISNULL(6) ? false : PG_GETARG_BOOL(6);
	a->disable_missing = PG_ARGISNULL(7) ? false : PG_GETARG_BOOL(7);
	a->binlog = PG_NARGS() > 8 && !PG_ARGISNULL(8) && PG_GETARG_BOOL(8);

	if (a->db && a->db[0] == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("source_db must not be empty")));
	if (a->target_schema[0] == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("target_schema must not be empty")));
	check_may_register();
	EtlPullCheckTargetSchema(a->target_schema);
	if (a->load_group)
		(void) EtlPullCheckTableOption("load_group", a->load_group);
	a->target_nspid = get_namespace_oid(a->target_schema, true);
	if (!OidIsValid(a->target_nspid))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_SCHEMA),
				 errmsg("schema \"%s\" does not exist", a->target_schema),
				 errhint("Create it first: the loads create the targets, not their schema.")));

	a->server = GetForeignServerByName(a->server_name, false);
	fdw = GetForeignDataWrapper(a->server->fdwid);
	if (strcmp(fdw->fdwname, "etl_pull") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("server \"%s\" does not use foreign-data wrapper \"etl_pull\"",
						a->server_name)));
	(void) EtlPullUsableServer(a->server->serverid);
}

/*
 * What becomes of source table "t", a new one, under name "name": its
 * target (truncated to a PostgreSQL name), its extraction, and whether the
 * target may be loaded into.  IMPORT_SKIP when a PostgreSQL table etl_pull
 * did not create has the target's name.
 */
static ImportAction
classify_new_table(const ImportArgs *a, ImportTable *t, char *name,
				   ImportRow *row, ImportPlan *plan)
{
	char	   *relname = pstrdup(name);
	Oid			existing;

	if (strlen(relname) >= NAMEDATALEN)
	{
		truncate_identifier(relname, strlen(relname), false);
		row->notes = lappend(row->notes,
							 psprintf("target name truncated to %d bytes", NAMEDATALEN - 1));
	}
	plan->source_table = psprintf("%s.%s", EtlPullQuoteIdent(a->db),
								  EtlPullQuoteIdent(t->name));
	plan->target_table = psprintf("%s.%s", quote_identifier(a->target_schema),
								  quote_identifier(relname));
	plan->extraction = infer_extraction(t, &row->notes);
	plan->full_compare_every = 1;
	if (a->binlog && !t->is_view && t->pk != NIL)
		plan->extraction = ETL_EXTRACTION_BINLOG;	/* its group's stream keeps it current */
	else if (!a->binlog)
		plan->full_compare_every = infer_cadence(t, plan->extraction, &row->notes);
	else
		row->notes = lappend(row->notes,
							 t->is_view ? "a view cannot follow the binary log: loads full" :
							 "no primary key: cannot follow the binary log (a changed row could not be found exactly): loads full");
	row->name = name;
	row->target = pstrdup(quote_qualified_identifier(a->target_schema, relname));
	existing = get_relname_relid(relname, a->target_nspid);
	if (OidIsValid(existing) && !EtlPullCreatedTarget(existing))
	{
		row->action = "skipped";
		row->notes = lappend(row->notes,
							 psprintf("table %s exists and etl_pull did not create it: not adopted (its owner may register it by name with add_table)",
									  row->target));
		return IMPORT_SKIP;
	}
	return IMPORT_REGISTER;
}

/*
 * What becomes of source table "t": registered already under some name
 * (IMPORT_EXISTS: reported as it is), skipped for one of the reasons in its
 * notes (IMPORT_SKIP), or to be registered as "plan" says (IMPORT_REGISTER,
 * its action left for register_table).  "registered" is etl_pull.tables,
 * "new_names" the names this import has registered so far.  Changes
 * nothing: the row and the plan are allocated in the current context.
 */
static ImportAction
classify_table(const ImportArgs *a, ImportTable *t, List *registered,
			   List *new_names, ImportRow *row, ImportPlan *plan)
{
	char	   *name = downcase_identifier(t->name, strlen(t->name), false, false);
	ImportRegistered *same_source = NULL;
	ImportRegistered *same_name = NULL;
	char	   *skipped;
	ListCell   *lc;

	foreach(lc, registered)
	{
		ImportRegistered *r = (ImportRegistered *) lfirst(lc);
		bool		here = strcmp(r->server, a->server->servername) == 0 &&
			r->source_db && strcmp(r->source_db, a->db) == 0 &&
			strcmp(r->source_table, t->name) == 0;

		if (here && same_source == NULL)
			same_source = r;
		if (strcmp(r->name, name) == 0)
			same_name = r;
	}
	row->source = psprintf("%s.%s", a->db, t->name);
	row->pk = t->pk;
	row->src = t;
	row->inc_null = true;

	if (same_source)
	{
		/* registered already: reported as it is, never changed */
		row->name = same_source->name;
		row->target = target_of(same_source->name, same_source->target_table);
		row->action = "exists";
		row->extraction = same_source->extraction;
		row->incremental_columns = same_source->incremental_columns;
		row->inc_null = same_source->inc_null;
		row->notes = list_make1("registered already: its settings are left as they are");
		registered_sight(same_source, row);
		if (!same_source->enabled)
			row->notes = lappend(row->notes, "disabled");
		/* what the source looks like now, all the same */
		source_notes(t, &row->notes);
		return IMPORT_EXISTS;
	}
	/* a new one, unless one of the reasons to skip it holds */
	if (!t->is_table && !t->is_view)
		skipped = psprintf("table type %s: not a table",
						   t->table_type ? t->table_type : "NULL");
	else if (t->is_view && !a->views)
		skipped = "view: skipped (views => true registers it)";
	else if (same_name)
		skipped = psprintf("name \"%s\" is already registered for another source (server %s, table %s)",
						   name, same_name->server,
						   same_name->source_db ?
						   psprintf("%s.%s", same_name->source_db, same_name->source_table) :
						   same_name->source_table);
	else if (list_has(new_names, name))
		skipped = psprintf("name \"%s\" is taken by another table of this import that lower-cases the same",
						   name);
	else
		return classify_new_table(a, t, name, row, plan);
	row->name = name;
	row->action = "skipped";
	row->notes = list_make1(skipped);
	return IMPORT_SKIP;
}

/*
 * Register a new table and its settings as "plan" says, in a
 * subtransaction, and say so in its row.  A refusal as a duplicate
 * (SQLSTATE 42710: the target is another table's, or a concurrent
 * registration took the name) skips the table, with the refusal as a
 * note; any other error propagates.  Returns whether it registered.
 */
static bool
register_table(const ImportArgs *a, const ImportPlan *plan, ImportRow *row)
{
	MemoryContext cxt = CurrentMemoryContext;
	ResourceOwner owner = CurrentResourceOwner;
	char	   *refused = NULL;

	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(cxt);
	PG_TRY();
	{
		const char *args[4] = {row->name, a->server->servername,
			plan->source_table, plan->target_table};

		call_text("SELECT etl_pull.add_table($1, $2, $3, $4)", 4, args);
		if (plan->extraction != ETL_EXTRACTION_FULL)
			set_option(row->name, "extraction",
					   EtlPullChoiceName("extraction", plan->extraction));
		if (plan->full_compare_every > 1)
			set_option(row->name, "full_compare_every",
					   psprintf("%d", plan->full_compare_every));
		set_option(row->name, "indexes", "all");
		set_option(row->name, "on_schema_change", "evolve");
		if (a->load_group)
			set_option(row->name, "load_group", a->load_group);
		ReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(cxt);
		CurrentResourceOwner = owner;
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(cxt);
		edata = CopyErrorData();
		if (edata->sqlerrcode != ERRCODE_DUPLICATE_OBJECT)
			PG_RE_THROW();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(cxt);
		CurrentResourceOwner = owner;
		refused = edata->message;
	}
	PG_END_TRY();

	if (refused)
	{
		row->action = "skipped";
		row->notes = lappend(row->notes, refused);
		return false;
	}
	row->action = "registered";
	row->extraction = EtlPullChoiceName("extraction", plan->extraction);
	row->inc_null = true;
	EtlPullExtractionSight(plan->extraction, NIL, false, false,
						   plan->full_compare_every, &row->sees, &row->misses);
	return true;
}

/* Add "r" to import_tables' result */
static void
emit_import_row(ReturnSetInfo *rsinfo, ImportRow *r)
{
	Datum		values[IMPORT_NCOLS];
	bool		nulls[IMPORT_NCOLS] = {0};

	values[0] = CStringGetTextDatum(r->name);
	values[1] = CStringGetTextDatum(r->source);
	nulls[2] = (r->target == NULL);
	if (r->target)
		values[2] = CStringGetTextDatum(r->target);
	values[3] = CStringGetTextDatum(r->action);
	nulls[4] = (r->extraction == NULL);
	if (r->extraction)
		values[4] = CStringGetTextDatum(r->extraction);
	values[5] = r->incremental_columns;
	nulls[5] = r->inc_null;
	values[6] = text_array_or_null(r->pk, &nulls[6]);
	nulls[7] = !(r->src && r->src->rows_known);
	if (!nulls[7])
		values[7] = Int64GetDatum(r->src->rows);
	nulls[8] = !(r->src && r->src->bytes_known);
	if (!nulls[8])
		values[8] = Int64GetDatum(r->src->bytes);
	nulls[9] = !(r->src && r->src->engine);
	if (!nulls[9])
		values[9] = CStringGetTextDatum(r->src->engine);
	values[10] = text_array_or_null(r->notes, &nulls[10]);
	nulls[11] = (r->sees == NULL);
	if (r->sees)
		values[11] = CStringGetTextDatum(r->sees);
	nulls[12] = (r->misses == NULL);
	if (r->misses)
		values[12] = CStringGetTextDatum(r->misses);
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
}

/*
 * Report the tables registered from this database, selected, and gone
 * from it ("tables", the source's): "missing", or "disabled" when
 * disable_missing asks (and disable them).  Each row in "rowcxt", reset
 * per row.
 */
static void
report_missing(const ImportArgs *a, List *registered, ImportTable *tables,
			   int ntables, ReturnSetInfo *rsinfo, MemoryContext rowcxt)
{
	ListCell   *lc;

	foreach(lc, registered)
	{
		ImportRegistered *r = (ImportRegistered *) lfirst(lc);
		ImportRow	row = {0};
		MemoryContext old;

		CHECK_FOR_INTERRUPTS();
		if (strcmp(r->server, a->server->servername) != 0 ||
			r->source_db == NULL || strcmp(r->source_db, a->db) != 0 ||
			find_table(tables, ntables, r->source_table) != NULL ||
			!selected(r->source_table, a->include, a->exclude))
			continue;
		old = MemoryContextSwitchTo(rowcxt);
		MemoryContextReset(rowcxt);
		row.name = r->name;
		row.source = psprintf("%s.%s", a->db, r->source_table);
		row.target = target_of(r->name, r->target_table);
		row.extraction = r->extraction;
		row.incremental_columns = r->incremental_columns;
		row.inc_null = r->inc_null;
		row.notes = list_make1("gone from the source");
		registered_sight(r, &row);
		if (a->disable_missing && r->enabled)
		{
			set_option(r->name, "enabled", "false");
			row.action = "disabled";
		}
		else if (!r->enabled)
		{
			row.action = a->disable_missing ? "disabled" : "missing";
			row.notes = lappend(row.notes, "disabled already");
		}
		else
			row.action = "missing";
		emit_import_row(rsinfo, &row);
		MemoryContextSwitchTo(old);
	}
}

PG_FUNCTION_INFO_V1(etl_pull_import_tables);

/*
 * etl_pull.import_tables(server name, source_db text, include text,
 *		exclude text, load_group text, target_schema text, views boolean,
 *		disable_missing boolean)
 *	returns (name, source, target, action, extraction, incremental_columns,
 *		primary_key, estimated_rows, estimated_bytes, engine, notes, sees,
 *		misses)
 */
Datum
etl_pull_import_tables(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	ImportArgs	a;
	EtlPullConnOptions opts;
	EtlPullConnection *conn;
	ImportTable *tables;
	int			ntables;
	List	   *registered;
	List	   *new_names = NIL;
	MemoryContext cxt;
	MemoryContext rowcxt;
	int			nestlevel;
	int			i;

	import_args(fcinfo, &a);
	InitMaterializedSRF(fcinfo, 0);
	cxt = CurrentMemoryContext;

	/* the MySQL side, as the caller's user mapping, all read up front */
	EtlPullGetConnOptions(a.server, GetUserMapping(GetUserId(), a.server->serverid), &opts);
	conn = EtlPullConnect(a.server, GetUserId());
	if (a.db == NULL)
		a.db = opts.dbname ? pstrdup(opts.dbname) : NULL;
	if (a.db == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("server \"%s\" has no \"dbname\"", a.server_name),
				 errhint("Name the MySQL database with the \"source_db\" argument.")));
	tables = read_source(conn, a.db, &ntables);
	EtlPullDisconnect(conn);

	/*
	 * The registration runs SQL as the caller, who may be a superuser's
	 * pg_cron job: search_path is pinned, every name qualified.
	 */
	nestlevel = EtlPullPinSearchPath();
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	registered = read_registered(a.server->servername, opts.dbname);

	rowcxt = AllocSetContextCreate(cxt, "etl_pull import row", ALLOCSET_DEFAULT_SIZES);
	for (i = 0; i < ntables; i++)
	{
		ImportTable *t = &tables[i];
		ImportRow	row = {0};
		ImportPlan	plan;
		MemoryContext old;

		CHECK_FOR_INTERRUPTS();
		if (!selected(t->name, a.include, a.exclude))
			continue;
		old = MemoryContextSwitchTo(rowcxt);
		MemoryContextReset(rowcxt);
		if (classify_table(&a, t, registered, new_names, &row, &plan) == IMPORT_REGISTER &&
			register_table(&a, &plan, &row))
		{
			/* its name is this import's now: a later table may not take it */
			MemoryContextSwitchTo(cxt);
			new_names = lappend(new_names, pstrdup(row.name));
			MemoryContextSwitchTo(rowcxt);
		}
		emit_import_row(rsinfo, &row);
		MemoryContextSwitchTo(old);
	}
	report_missing(&a, registered, tables, ntables, rsinfo, rowcxt);

	SPI_finish();
	AtEOXact_GUC(true, nestlevel);
	return (Datum) 0;
}
