/*-------------------------------------------------------------------------
 *
 * incremental.c
 *		  Incremental loads: watermarks, the predicate that pulls only what
 *		  changed, the merge into the target, and the removal of rows gone
 *		  from the source.
 *
 * A watermark is MySQL's own text of MAX(column) for each incremental
 * column, read under the load's consistent snapshot and stored in
 * etl_pull.watermarks in the load's transaction, so it advances exactly
 * when the data commits.  The next load pulls the rows with any column at
 * or past its watermark (>=, not >: rows committed later with the same
 * value still arrive), minus the table's look-back window.  Values are
 * quoted with the client library's escaping, never spliced raw.
 *
 * Pulled rows go into a temporary staging table and are merged into the
 * target with INSERT ... ON CONFLICT on the primary key, updating only rows
 * that differ.  Deleted source rows are found by comparing key counts and
 * sums range by range, bisecting only the ranges that differ, so the whole
 * key set is never pulled.
 *
 * IDENTIFICATION
 *		  src/incremental.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"

#include "etl_pull.h"

/* ranges with at most this many target rows are settled key by key */
#define RECONCILE_LEAF_ROWS 20000

/*
 * Resolve the table's incremental columns to source columns (MySQL names
 * are case-insensitive).  Returns an array of source column indexes.
 */
int *
EtlPullIncrementalColumns(EtlPullTable *table, EtlPullSource *source)
{
	int		   *idx;
	ListCell   *lc;
	int			n = 0;

	if (table->incremental_columns == NIL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("table \"%s\" has extraction \"incremental\" but no incremental columns",
						table->name),
				 errhint("Set them with etl_pull.set_table_option('%s', 'incremental_columns', '...').",
						 table->name)));
	idx = palloc(sizeof(int) * list_length(table->incremental_columns));
	foreach(lc, table->incremental_columns)
	{
		const char *name = (const char *) lfirst(lc);
		int			i;

		for (i = 0; i < source->ncolumns; i++)
			if (pg_strcasecmp(source->columns[i].name, name) == 0)
				break;
		if (i == source->ncolumns)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_COLUMN),
					 errmsg("incremental column \"%s\" is not a column of MySQL table \"%s.%s\"",
							name, source->db, source->table)));
		idx[n++] = i;
	}
	return idx;
}

/*
 * The stored watermark of a table: a list of MySQL texts (NULL elements
 * where a column had no value), or NIL if there is none or it was taken
 * for other columns.
 */
List *
EtlPullReadWatermark(EtlPullTable *table)
{
	Oid			argtypes[1] = {TEXTOID};
	Datum		args[1];
	List	   *result = NIL;
	MemoryContext callercxt = CurrentMemoryContext;

	args[0] = CStringGetTextDatum(table->name);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute_with_args("SELECT columns, vals FROM etl_pull.watermarks"
							  " WHERE table_name = $1",
							  1, argtypes, args, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not read etl_pull.watermarks");
	if (SPI_processed == 1)
	{
		bool		isnull;
		Datum	   *cols;
		Datum	   *vals;
		bool	   *valnulls;
		int			ncols;
		int			nvals;
		int			i;
		bool		same;
		ListCell   *lc;

		deconstruct_array(DatumGetArrayTypeP(SPI_getbinval(SPI_tuptable->vals[0],
														   SPI_tuptable->tupdesc, 1, &isnull)),
						  TEXTOID, -1, false, TYPALIGN_INT, &cols, NULL, &ncols);
		deconstruct_array(DatumGetArrayTypeP(SPI_getbinval(SPI_tuptable->vals[0],
														   SPI_tuptable->tupdesc, 2, &isnull)),
						  TEXTOID, -1, false, TYPALIGN_INT, &vals, &valnulls, &nvals);
		same = (ncols == list_length(table->incremental_columns) && nvals == ncols);
		i = 0;
		foreach(lc, table->incremental_columns)
		{
			if (!same)
				break;
			if (pg_strcasecmp(TextDatumGetCString(cols[i]), (char *) lfirst(lc)) != 0)
				same = false;
			i++;
		}
		if (same)
		{
			MemoryContext oldcxt = MemoryContextSwitchTo(callercxt);

			for (i = 0; i < nvals; i++)
				result = lappend(result, valnulls[i] ? NULL :
								 TextDatumGetCString(vals[i]));
			MemoryContextSwitchTo(oldcxt);
		}
	}
	SPI_finish();
	return result;
}

/*
 * Store the table's new watermark, in the caller's transaction.
 */
void
EtlPullWriteWatermark(EtlPullTable *table, List *values)
{
	int			n = list_length(values);
	Datum	   *cols = palloc(sizeof(Datum) * n);
	Datum	   *vals = palloc(sizeof(Datum) * n);
	bool	   *nulls = palloc(sizeof(bool) * n);
	int			dims[1] = {n};
	int			lbs[1] = {1};
	Oid			argtypes[3] = {TEXTOID, TEXTARRAYOID, TEXTARRAYOID};
	Datum		args[3];
	ListCell   *lc;
	int			i = 0;

	foreach(lc, table->incremental_columns)
		cols[i++] = CStringGetTextDatum((char *) lfirst(lc));
	i = 0;
	foreach(lc, values)
	{
		nulls[i] = (lfirst(lc) == NULL);
		vals[i] = nulls[i] ? (Datum) 0 : CStringGetTextDatum((char *) lfirst(lc));
		i++;
	}
	args[0] = CStringGetTextDatum(table->name);
	args[1] = PointerGetDatum(construct_array(cols, n, TEXTOID, -1, false, TYPALIGN_INT));
	args[2] = PointerGetDatum(construct_md_array(vals, nulls, 1, dims, lbs,
												 TEXTOID, -1, false, TYPALIGN_INT));

	EtlPullOwnerExec("INSERT INTO etl_pull.watermarks AS w"
					 " (table_name, columns, vals)"
					 " VALUES ($1, $2, $3)"
					 " ON CONFLICT (table_name) DO UPDATE"
					 " SET columns = EXCLUDED.columns, vals = EXCLUDED.vals,"
					 "     updated_at = now()",
					 3, argtypes, args, NULL, SPI_OK_INSERT,
					 "write etl_pull.watermarks");
}

static bool
is_temporal(EtlPullSourceColumn *col)
{
	return col->kind == SRC_DATE || col->kind == SRC_DATETIME ||
		col->kind == SRC_TIMESTAMP;
}

/*
 * The MySQL WHERE condition (without "WHERE") that selects the rows at or
 * past the watermark, or NULL when the watermark bounds nothing (every
 * column was empty: everything is new).
 */
char *
EtlPullWatermarkPredicate(EtlPullConnection *conn, EtlPullTable *table,
						  EtlPullSource *source, int *cols, List *watermark)
{
	StringInfoData buf;
	ListCell   *lc;
	int			i = 0;

	initStringInfo(&buf);
	foreach(lc, watermark)
	{
		const char *value = (const char *) lfirst(lc);
		EtlPullSourceColumn *col = &source->columns[cols[i++]];
		char	   *qcol = EtlPullQuoteIdent(col->name);
		char	   *qval;

		if (value == NULL)
		{
			/* no value yet in this column: any non-NULL value is new */
			appendStringInfo(&buf, "%s%s IS NOT NULL", buf.len ? " OR " : "", qcol);
			continue;
		}
		qval = EtlPullQuoteLiteral(conn, value);
		if (table->lookback > 0 && is_temporal(col))
			appendStringInfo(&buf, "%s%s >= %s - INTERVAL %.6f SECOND",
							 buf.len ? " OR " : "", qcol, qval, table->lookback);
		else if (table->lookback > 0 && col->kind != SRC_CHAR && col->kind != SRC_TEXT)
			appendStringInfo(&buf, "%s%s >= %s - %.6f",
							 buf.len ? " OR " : "", qcol, qval, table->lookback);
		else
			appendStringInfo(&buf, "%s%s >= %s", buf.len ? " OR " : "", qcol, qval);
	}
	return buf.len ? buf.data : NULL;
}

/*
 * MySQL's MAX() of each incremental column, over the rows "where" selects
 * (all rows if NULL).  Columns without a value keep their old watermark.
 */
List *
EtlPullSourceMaxima(EtlPullConnection *conn, EtlPullSource *source, int *cols,
					int ncols, const char *where, List *old)
{
	StringInfoData sql;
	List	   *result = NIL;
	char	  **values;
	unsigned long *lengths;
	int			i;

	initStringInfo(&sql);
	appendStringInfoString(&sql, "SELECT ");
	for (i = 0; i < ncols; i++)
		appendStringInfo(&sql, "%sMAX(%s)", i ? ", " : "",
						 EtlPullQuoteIdent(source->columns[cols[i]].name));
	appendStringInfo(&sql, " FROM %s.%s", EtlPullQuoteIdent(source->db),
					 EtlPullQuoteIdent(source->table));
	if (where)
		appendStringInfo(&sql, " WHERE %s", where);

	EtlPullQueryStart(conn, sql.data);
	if (!EtlPullFetch(conn, &values, &lengths))
		elog(ERROR, "MAX() query returned no row");
	for (i = 0; i < ncols; i++)
	{
		if (values[i] != NULL)
			result = lappend(result, pnstrdup(values[i], lengths[i]));
		else
			result = lappend(result, old != NIL ? list_nth(old, i) : NULL);
	}
	EtlPullQueryEnd(conn);
	return result;
}

/* Append "p.a, p.b, ..." for the (quoted) names of a list */
static void
append_names(StringInfo buf, const char *prefix, List *names)
{
	ListCell   *lc;

	foreach(lc, names)
		appendStringInfo(buf, "%s%s%s", lc == list_head(names) ? "" : ", ",
						 prefix, (char *) lfirst(lc));
}

/*
 * Merge the staging table into the target by primary key: insert new
 * rows, update the rows that differ.  "columns" are the target's column
 * names (quoted), "pk" those of the key.  With no key, append.  Returns
 * the number of rows inserted or updated.
 */
int64
EtlPullMerge(const char *target_qname, const char *stage_qname,
			 List *columns, List *pk)
{
	StringInfoData sql;
	StringInfoData cols;
	ListCell   *lc;
	int64		n;

	initStringInfo(&cols);
	append_names(&cols, "", columns);

	initStringInfo(&sql);
	appendStringInfo(&sql, "INSERT INTO %s AS t (%s) SELECT %s FROM %s",
					 target_qname, cols.data, cols.data, stage_qname);
	if (pk != NIL)
	{
		appendStringInfoString(&sql, " ON CONFLICT (");
		append_names(&sql, "", pk);
		appendStringInfoString(&sql, ") DO UPDATE SET ");
		foreach(lc, columns)
			appendStringInfo(&sql, "%s%s = EXCLUDED.%s", lc == list_head(columns) ? "" : ", ",
							 (char *) lfirst(lc), (char *) lfirst(lc));
		appendStringInfoString(&sql, " WHERE (");
		append_names(&sql, "t.", columns);
		appendStringInfoString(&sql, ") IS DISTINCT FROM (");
		append_names(&sql, "EXCLUDED.", columns);
		appendStringInfoChar(&sql, ')');
	}

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute(sql.data, false, 0) != SPI_OK_INSERT)
		elog(ERROR, "could not merge into %s", target_qname);
	n = (int64) SPI_processed;
	SPI_finish();
	return n;
}

/* ---- deletes: compare key ranges ---- */

typedef struct Reconcile
{
	EtlPullConnection *conn;
	const char *src_from;		/* `db`.`table` */
	const char *src_key;		/* `key` */
	const char *target_qname;
	const char *key;			/* quoted PostgreSQL key column */
	int64		deleted;
} Reconcile;

/* count and sum of the source's keys in [lo, hi], as MySQL prints them */
static void
source_range(Reconcile *r, int64 lo, int64 hi, char **count, char **sum)
{
	char	  **values;
	unsigned long *lengths;

	EtlPullQueryStart(r->conn, psprintf("SELECT COUNT(*), SUM(%s) FROM %s"
										" WHERE %s BETWEEN " INT64_FORMAT " AND " INT64_FORMAT,
										r->src_key, r->src_from, r->src_key, lo, hi));
	if (!EtlPullFetch(r->conn, &values, &lengths))
		elog(ERROR, "COUNT query returned no row");
	*count = pstrdup(values[0]);
	*sum = values[1] ? pstrdup(values[1]) : NULL;
	EtlPullQueryEnd(r->conn);
}

static void
target_range(Reconcile *r, int64 lo, int64 hi, char **count, char **sum)
{
	if (SPI_execute(psprintf("SELECT count(*), sum(%s) FROM %s WHERE %s BETWEEN "
							 INT64_FORMAT " AND " INT64_FORMAT,
							 r->key, r->target_qname, r->key, lo, hi),
					true, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not count rows of %s", r->target_qname);
	*count = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
	*sum = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2);
}

static bool
same_text(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

/* Delete target rows in [lo, hi] whose key is not among the source's */
static void
settle_range(Reconcile *r, int64 lo, int64 hi)
{
	StringInfoData keys;
	char	  **values;
	unsigned long *lengths;

	initStringInfo(&keys);
	EtlPullQueryStart(r->conn, psprintf("SELECT %s FROM %s WHERE %s BETWEEN "
										INT64_FORMAT " AND " INT64_FORMAT,
										r->src_key, r->src_from, r->src_key, lo, hi));
	while (EtlPullFetch(r->conn, &values, &lengths))
	{
		CHECK_FOR_INTERRUPTS();
		appendStringInfo(&keys, "%s%s", keys.len ? "," : "", values[0]);
	}
	EtlPullQueryEnd(r->conn);

	if (SPI_execute(psprintf("DELETE FROM %s WHERE %s BETWEEN " INT64_FORMAT
							 " AND " INT64_FORMAT " AND %s <> ALL ('{%s}'::bigint[])",
							 r->target_qname, r->key, lo, hi, r->key, keys.data),
					false, 0) != SPI_OK_DELETE)
		elog(ERROR, "could not delete from %s", r->target_qname);
	r->deleted += SPI_processed;
}

static void
reconcile_range(Reconcile *r, int64 lo, int64 hi)
{
	char	   *scount,
			   *ssum,
			   *tcount,
			   *tsum;
	int64		mid;

	CHECK_FOR_INTERRUPTS();
	source_range(r, lo, hi, &scount, &ssum);
	target_range(r, lo, hi, &tcount, &tsum);
	if (same_text(scount, tcount) && same_text(ssum, tsum))
		return;
	if (strtoll(tcount, NULL, 10) <= RECONCILE_LEAF_ROWS || lo == hi)
	{
		settle_range(r, lo, hi);
		return;
	}
	mid = lo + (hi - lo) / 2;
	reconcile_range(r, lo, mid);
	reconcile_range(r, mid + 1, hi);
}

/*
 * Delete the target's rows whose integer key no longer exists at the
 * source.  Runs under the load's MySQL snapshot.  Returns the rows deleted.
 */
int64
EtlPullDeleteMissing(EtlPullConnection *conn, EtlPullSource *source,
					 EtlPullSourceColumn *keycol, const char *target_qname)
{
	Reconcile	r;
	bool		isnull;
	int64		lo,
				hi;

	if (keycol->kind != SRC_INT)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("\"delete_missing\" needs a single-column integer primary key"),
				 errdetail("MySQL table \"%s.%s\" has key column \"%s\" of type %s.",
						   source->db, source->table, keycol->name, keycol->column_type)));

	r.conn = conn;
	r.src_from = psprintf("%s.%s", EtlPullQuoteIdent(source->db),
						  EtlPullQuoteIdent(source->table));
	r.src_key = EtlPullQuoteIdent(keycol->name);
	r.target_qname = target_qname;
	r.key = quote_identifier(keycol->target_name);
	r.deleted = 0;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute(psprintf("SELECT min(%s)::int8, max(%s)::int8 FROM %s",
							 r.key, r.key, target_qname), true, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not read the key range of %s", target_qname);
	lo = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	if (!isnull)
	{
		hi = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull));
		reconcile_range(&r, lo, hi);
	}
	SPI_finish();
	return r.deleted;
}
