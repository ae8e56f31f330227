/*-------------------------------------------------------------------------
 *
 * incremental.c
 *		  Incremental loads: watermarks, the predicate that pulls only what
 *		  changed, the merge into the target, and the removal of rows gone
 *		  from the source.
 *
 * A watermark is MySQL's own text of MAX(column) for each incremental
 * column (a FLOAT's or DOUBLE(M,D)'s as a DOUBLE, which MySQL prints with
 * every digit it needs, where the column's own text rounds it), checked
 * for its kind (check_bound), read under the load's consistent snapshot
 * and stored in etl_pull.watermarks in the load's transaction, so it
 * advances exactly when the data commits.  The next load pulls the rows
 * with any column at or past its watermark (>=, not >: rows committed
 * later with the same value still arrive), minus the table's look-back
 * window, and the rows whose column is NULL.  Values are quoted with the
 * client library's escaping, never spliced raw.  Append-only tables, which
 * have no key to merge on, replace the target's copies of the re-read rows
 * instead (EtlPullAppendOnlyBounds).
 *
 * Pulled rows go into a temporary staging table and are merged into the
 * target with INSERT ... ON CONFLICT on the primary key, updating only rows
 * that differ.  Deleted source rows are found by comparing key counts and
 * sums range by range, bisecting only the ranges that differ, so the whole
 * key set is never pulled.
 *
 * IDENTIFICATION
 *		  src/load/incremental.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"

#include "etl_pull.h"
#include "catalog/etl_catalog.h"
#include "remote/remote.h"
#include "load/load.h"

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
							name, source->db, source->table),
					 errdetail("Setting \"incremental_columns\" of table \"%s\" names it.",
							   table->name),
					 errhint("Correct it with etl_pull.set_table_option('%s', 'incremental_columns', '...').",
							 table->name)));
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
	EtlPullUserState st;

	/* as the owner: the watermarks hold source values, not PUBLIC's to read */
	args[0] = CStringGetTextDatum(table->name);
	EtlPullAsOwner(&st);
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
	EtlPullAsCaller(&st);
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
					 "     updated_at = pg_catalog.now()",
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
 * Append MySQL's " - <lookback>" to a bound of column "col": seconds for
 * dates and times, units for numbers; nothing for text, or no look-back.
 */
static void
append_lookback(StringInfo buf, EtlPullSourceColumn *col, double lookback)
{
	if (lookback <= 0)
		return;
	if (is_temporal(col))
		appendStringInfo(buf, " - INTERVAL %.6f SECOND", lookback);
	else if (col->kind != SRC_CHAR && col->kind != SRC_TEXT)
		appendStringInfo(buf, " - %.6f", lookback);
}

/*
 * Check a bound of column "col" that MySQL sent ("what" names it for the
 * message): a number for a numeric column, the digits and separators of a
 * date or time for a temporal one, anything for text.  A server that sends
 * anything else is not believed: the text would become the watermark, and
 * the next run's bound.
 */
static void
check_bound(EtlPullConnection *conn, EtlPullSourceColumn *col, const char *value,
			const char *what)
{
	bool		ok;
	char	   *end;

	switch (col->kind)
	{
		case SRC_INT:
		case SRC_YEAR:
			if (col->is_unsigned)
				(void) EtlPullReplyUint64(conn, value, what);
			else
				(void) EtlPullReplyInt64(conn, value, what);
			return;
		case SRC_DECIMAL:
		case SRC_FLOAT:
		case SRC_DOUBLE:
			ok = false;
			if (value[0] != '\0' && strspn(value, "0123456789+-.eE") == strlen(value))
			{
				double		d = strtod(value, &end);

				ok = (*end == '\0' && !isinf(d));
			}
			break;
		case SRC_DATE:
		case SRC_DATETIME:
		case SRC_TIMESTAMP:
		case SRC_TIME:
			ok = value[0] != '\0' && strspn(value, "0123456789-:. ") == strlen(value);
			break;
		default:
			return;
	}
	if (!ok)
		EtlPullBadReply(conn, psprintf("%s is \"%s\", not a value of a %s column.", what,
									   EtlPullPrintable(value, 64),
									   EtlPullPrintable(col->column_type, 64)));
}

/*
 * The MySQL WHERE condition (without "WHERE") that selects the rows to
 * pull: any incremental column at or past its bound, or NULL.  Rows whose
 * column is NULL have no place on the watermark, so they are read again on
 * every run rather than never (a merge leaves unchanged ones alone; an
 * append-only run replaces them).  Returns NULL when the watermark bounds
 * nothing (a column with no value yet: everything is new).
 *
 * "bounds" are MySQL texts: the watermark itself, or for append-only runs
 * what EtlPullAppendOnlyBounds found.  "lookback" widens them, for the
 * merge path only.
 */
char *
EtlPullWatermarkPredicate(EtlPullConnection *conn, EtlPullSource *source,
						  int *cols, List *bounds, double lookback)
{
	StringInfoData buf;
	ListCell   *lc;
	int			i = 0;

	initStringInfo(&buf);
	foreach(lc, bounds)
	{
		const char *value = (const char *) lfirst(lc);
		EtlPullSourceColumn *col = &source->columns[cols[i++]];
		char	   *qcol = EtlPullQuoteIdent(col->name);
		char	   *qval;

		if (value == NULL)
			return NULL;
		qval = EtlPullQuoteLiteral(conn, value);
		appendStringInfo(&buf, "%s%s IS NULL OR %s >= %s",
						 buf.len ? " OR " : "", qcol, qcol, qval);
		append_lookback(&buf, col, lookback);
	}
	return buf.len ? buf.data : NULL;
}

/*
 * Append-only runs pull again every row at or past the watermark (less
 * the look-back) and replace the target's copies of them, so that rows tied
 * with the watermark, or committed late inside the look-back window, are
 * neither doubled nor lost.  For that both servers must select the same
 * rows; so the bound of each column is a value of the column itself: the
 * smallest at or past the watermark less the look-back, as MySQL finds it,
 * which the target holds converted exactly as it was loaded.  Only numbers
 * and dates/times compare the same way on both sides (collations differ),
 * so other incremental columns are refused.  Returns the bounds (the
 * watermark itself where no row is at or past it any more), or NIL when
 * the watermark bounds nothing (a column with no value yet).
 */
List *
EtlPullAppendOnlyBounds(EtlPullConnection *conn, EtlPullTable *table,
						EtlPullSource *source, int *cols, List *watermark)
{
	List	   *bounds = NIL;
	ListCell   *lc;
	int			i = 0;

	foreach(lc, watermark)
	{
		const char *value = (const char *) lfirst(lc);
		EtlPullSourceColumn *col = &source->columns[cols[i++]];
		char	   *qcol = EtlPullQuoteIdent(col->name);
		char	  **row;
		StringInfoData sql;

		if (col->kind != SRC_INT && col->kind != SRC_DECIMAL &&
			col->kind != SRC_YEAR && !is_temporal(col))
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("incremental column \"%s\" of append-only table \"%s\" must be a number or a date/time column",
							col->name, table->name),
					 errdetail("The column is %s, which MySQL and PostgreSQL may order differently.",
							   col->column_type),
					 errhint("Choose another incremental column, or set \"append_only\" to false to merge by primary key.")));
		if (value == NULL)
			return NIL;

		initStringInfo(&sql);
		appendStringInfo(&sql, "SELECT MIN(%s) FROM %s.%s WHERE %s >= %s",
						 qcol, EtlPullQuoteIdent(source->db),
						 EtlPullQuoteIdent(source->table), qcol,
						 EtlPullQuoteLiteral(conn, value));
		append_lookback(&sql, col, table->lookback);
		row = EtlPullQueryRow(conn, sql.data, 1, false);
		/* no row there any more: the watermark itself selects none */
		if (row[0] != NULL)
			check_bound(conn, col, row[0], psprintf("MIN(%s)", qcol));
		bounds = lappend(bounds, row[0] ? row[0] : pstrdup(value));
	}
	return bounds;
}

/*
 * The scale of a numeric typmod (PostgreSQL 15 and later: 11 bits, signed)
 */
static int
numeric_typmod_scale_of(int32 typmod)
{
	return ((((typmod - VARHDRSZ) & 0x7ff) ^ 1024) - 1024);
}

/*
 * What an append-only run would do with a target column that rounds its
 * incremental column (inexact_bound_column)
 */
#define ROUNDED_AWAY "an append-only run replaces the target's rows at or past the watermark, and would delete rows that round to it without sending them again"

/*
 * Why a target column of type "typid" (with "typmod") cannot hold every
 * value of append-only incremental column "col" exactly and in order, or
 * NULL when it can.  An append-only run deletes the target's rows at or
 * past its bound and the source sends again its rows at or past it: the
 * two sets are the same rows only when the conversion keeps distinct
 * source values distinct and in the same order.  A coarser column (fewer
 * fractional digits of a second, a smaller numeric scale, a date for a
 * datetime, a floating-point or text column) rounds neighbours together,
 * and a row that rounds up to the bound would be deleted without being
 * sent again.  Columns neither numbers nor dates/times are refused by
 * EtlPullAppendOnlyBounds.
 */
static const char *
inexact_bound_column(EtlPullSourceColumn *col, Oid typid, int32 typmod)
{
	int32		basemod = typmod;
	Oid			base = getBaseTypeAndTypmod(typid, &basemod);
	bool		integer = (base == INT2OID || base == INT4OID || base == INT8OID);

	switch (col->kind)
	{
		case SRC_INT:
		case SRC_YEAR:
			if (integer ||
				(base == NUMERICOID && (basemod < 0 || numeric_typmod_scale_of(basemod) >= 0)))
				return NULL;
			break;
		case SRC_DECIMAL:
			if ((integer && col->scale == 0) ||
				(base == NUMERICOID &&
				 (basemod < 0 || numeric_typmod_scale_of(basemod) >= col->scale)))
				return NULL;
			break;
		case SRC_DATE:
			if (base == DATEOID || base == TIMESTAMPOID || base == TIMESTAMPTZOID)
				return NULL;
			break;
		case SRC_DATETIME:
		case SRC_TIMESTAMP:
			if ((base == TIMESTAMPOID || base == TIMESTAMPTZOID) &&
				(basemod < 0 || basemod >= col->scale))
				return NULL;
			break;
		default:
			return NULL;
	}
	return psprintf("%s, which does not keep every value of MySQL's %s distinct and in order",
					format_type_with_typemod(typid, typmod), col->column_type);
}

/* Whether "table" is an append-only incremental table */
static bool
append_only_table(EtlPullTable *table)
{
	return table->extraction == ETL_EXTRACTION_INCREMENTAL && table->append_only;
}

/*
 * Why incremental column "col" of "table", if append-only, cannot be
 * loaded into a target column of type "typid" (with "typmod"), or NULL
 * (inexact_bound_column): for etl_pull.plan(), as every load of the table
 * refuses it (EtlPullCheckAppendOnlyTarget).
 */
char *
EtlPullAppendOnlyUnsuitable(EtlPullTable *table, EtlPullSourceColumn *col,
							Oid typid, int32 typmod)
{
	const char *why;

	if (!append_only_table(table))
		return NULL;
	why = inexact_bound_column(col, typid, typmod);
	if (why == NULL)
		return NULL;
	return psprintf("the target's column is %s; " ROUNDED_AWAY, why);
}

/*
 * Refuse an append-only table whose target rounds an incremental column
 * (inexact_bound_column): before anything is deleted or written, on every
 * run, the first (full) one too, which would leave a target that every
 * later run could not replace rows of exactly.  "rel" is the target,
 * attnums its columns for the source's, cols the incremental columns.
 * Another table passes.
 */
void
EtlPullCheckAppendOnlyTarget(EtlPullTable *table, EtlPullSource *source,
							 Relation rel, const char *target_qname,
							 AttrNumber *attnums, int *cols)
{
	TupleDesc	tupdesc = RelationGetDescr(rel);
	int			i;

	if (!append_only_table(table))
		return;
	for (i = 0; i < list_length(table->incremental_columns); i++)
	{
		EtlPullSourceColumn *col = &source->columns[cols[i]];
		Form_pg_attribute att = TupleDescAttr(tupdesc, attnums[cols[i]] - 1);
		const char *why = inexact_bound_column(col, att->atttypid,
											   att->atttypmod);

		if (why != NULL)
			ereport(ERROR,
					(errcode(ERRCODE_DATATYPE_MISMATCH),
					 errmsg("column \"%s\" of table %s cannot hold incremental column \"%s\" of append-only table \"%s\" exactly",
							NameStr(att->attname), target_qname, col->name,
							table->name),
					 errdetail("The column is %s: " ROUNDED_AWAY ".", why),
					 errhint("Change the column to %s (ALTER TABLE %s ALTER COLUMN %s TYPE %s), or set \"append_only\" to false to merge by primary key.",
							 EtlPullTargetTypeName(col), target_qname,
							 quote_identifier(NameStr(att->attname)),
							 EtlPullTargetTypeName(col))));
	}
}

/*
 * The PostgreSQL side of an append-only run: delete the target's rows
 * that the run pulls again, those with an incremental column NULL or at or
 * past its bound.  Each bound is converted by the column's own converter,
 * as the row holding it was.  Returns the rows deleted.
 */
int64
EtlPullDeleteReloaded(EtlPullTable *table, EtlPullSource *source,
					  Relation rel, const char *target_qname,
					  AttrNumber *attnums, int *cols, List *bounds)
{
	TupleDesc	tupdesc = RelationGetDescr(rel);
	EtlPullConverter *conv = EtlPullMakeConverters(table, source, tupdesc, attnums);
	int			n = list_length(bounds);
	char	  **values = palloc0(sizeof(char *) * source->ncolumns);
	unsigned long *lengths = palloc0(sizeof(unsigned long) * source->ncolumns);
	Datum	   *datums = palloc(sizeof(Datum) * tupdesc->natts);
	bool	   *isnull = palloc(sizeof(bool) * tupdesc->natts);
	Oid		   *argtypes = palloc(sizeof(Oid) * n);
	Datum	   *args = palloc(sizeof(Datum) * n);
	char	   *argnulls = palloc(n + 1);
	StringInfoData sql;
	ListCell   *lc;
	int			i = 0;
	int64		deleted;

	initStringInfo(&sql);
	appendStringInfo(&sql, "DELETE FROM %s WHERE ", target_qname);
	foreach(lc, bounds)
	{
		const char *value = (const char *) lfirst(lc);
		int			src = cols[i];
		Form_pg_attribute att = TupleDescAttr(tupdesc, attnums[src] - 1);
		const char *qatt = quote_identifier(NameStr(att->attname));

		argtypes[i] = att->atttypid;
		argnulls[i] = ' ';
		values[src] = (char *) value;
		lengths[src] = strlen(value);
		EtlPullConvertRow(conv, values, lengths, datums, isnull);
		values[src] = NULL;
		if (isnull[attnums[src] - 1])
			ereport(ERROR,
					(errcode(ERRCODE_DATA_EXCEPTION),
					 errmsg("the watermark \"%s\" of column \"%s\" loads as NULL", value,
							source->columns[src].name),
					 errdetail("An append-only run cannot tell which rows of table %s it replaces.",
							   target_qname),
					 errhint("Reset the watermark with etl_pull.reset_watermark('%s').",
							 table->name)));
		args[i] = datums[attnums[src] - 1];
		appendStringInfo(&sql, "%s%s IS NULL OR %s OPERATOR(pg_catalog.>=) $%d",
						 i ? " OR " : "", qatt, qatt, i + 1);
		i++;
	}
	argnulls[n] = '\0';

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute_with_args(sql.data, n, argtypes, args, argnulls, false, 0) != SPI_OK_DELETE)
		elog(ERROR, "could not delete the reloaded rows of %s", target_qname);
	deleted = (int64) SPI_processed;
	SPI_finish();
	return deleted;
}

/*
 * MySQL's MAX() of each incremental column, over the rows "where" selects
 * (all rows if NULL).  Columns without a value keep their old watermark.
 *
 * MySQL prints a FLOAT with 6 significant digits (16777215 as 16777200)
 * and a DOUBLE(M,D) with D decimals: a maximum in that text would lie
 * above or below the true one, and rows past the true one but below the
 * text would never be pulled.  Their MAX() is read as a DOUBLE instead,
 * whose text MySQL prints with every digit the value needs (a FLOAT widens
 * to a DOUBLE exactly), and which compares with the column exactly.
 */
List *
EtlPullSourceMaxima(EtlPullConnection *conn, EtlPullSource *source, int *cols,
					int ncols, const char *where, List *old)
{
	StringInfoData sql;
	List	   *result = NIL;
	char	  **row;
	int			i;

	initStringInfo(&sql);
	appendStringInfoString(&sql, "SELECT ");
	for (i = 0; i < ncols; i++)
	{
		EtlPullSourceColumn *col = &source->columns[cols[i]];

		appendStringInfo(&sql,
						 col->kind == SRC_FLOAT ||
						 (col->kind == SRC_DOUBLE && strchr(col->column_type, '(') != NULL) ?
						 "%sCAST(MAX(%s) AS DOUBLE)" : "%sMAX(%s)",
						 i ? ", " : "", EtlPullQuoteIdent(col->name));
	}
	appendStringInfo(&sql, " FROM %s.%s", EtlPullQuoteIdent(source->db),
					 EtlPullQuoteIdent(source->table));
	if (where)
		appendStringInfo(&sql, " WHERE %s", where);

	row = EtlPullQueryRow(conn, sql.data, ncols, false);
	for (i = 0; i < ncols; i++)
	{
		EtlPullSourceColumn *col = &source->columns[cols[i]];

		if (row[i] != NULL)
		{
			check_bound(conn, col, row[i],
						psprintf("MAX(%s)", EtlPullQuoteIdent(col->name)));
			result = lappend(result, row[i]);
		}
		else
			result = lappend(result, old != NIL ? list_nth(old, i) : NULL);
	}
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
		/* rows compared by binary image: no operator to look up */
		appendStringInfoString(&sql, " WHERE NOT pg_catalog.record_image_eq(ROW(");
		append_names(&sql, "t.", columns);
		appendStringInfoString(&sql, "), ROW(");
		append_names(&sql, "EXCLUDED.", columns);
		appendStringInfoString(&sql, "))");
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

/*
 * Count and sum of the source's keys in [lo, hi], as MySQL prints them:
 * checked to be a count and an integer sum (NULL for no rows), as the
 * target's are printed, which they are compared with as text.
 */
static void
source_range(Reconcile *r, int64 lo, int64 hi, char **count, char **sum)
{
	char	  **row;
	int64		n;

	row = EtlPullQueryRow(r->conn, psprintf("SELECT COUNT(*), SUM(%s) FROM %s"
											" WHERE %s BETWEEN " INT64_FORMAT " AND " INT64_FORMAT,
											r->src_key, r->src_from, r->src_key, lo, hi),
						  2, false);
	n = EtlPullReplyInt64(r->conn, row[0], "COUNT(*)");
	if (n < 0 || (n == 0) != (row[1] == NULL))
		EtlPullBadReply(r->conn, psprintf("COUNT(*) is " INT64_FORMAT " and SUM(%s) %s.", n,
										  r->src_key, row[1] ? "is not NULL" : "is NULL"));
	if (row[1] != NULL)
	{
		const char *digits = row[1] + (row[1][0] == '-');

		if (digits[0] == '\0' || strspn(digits, "0123456789") != strlen(digits))
			EtlPullBadReply(r->conn, psprintf("SUM(%s) is \"%s\", not an integer.", r->src_key,
											  EtlPullPrintable(row[1], 64)));
	}
	*count = psprintf(INT64_FORMAT, n);
	*sum = row[1];
}

static void
target_range(Reconcile *r, int64 lo, int64 hi, char **count, char **sum)
{
	Oid			argtypes[2] = {INT8OID, INT8OID};
	Datum		args[2] = {Int64GetDatum(lo), Int64GetDatum(hi)};

	if (SPI_execute_with_args(psprintf("SELECT pg_catalog.count(*), pg_catalog.sum(%s)"
									   " FROM %s WHERE %s OPERATOR(pg_catalog.>=) $1"
									   " AND %s OPERATOR(pg_catalog.<=) $2",
									   r->key, r->target_qname, r->key, r->key),
							  2, argtypes, args, NULL, true, 1) != SPI_OK_SELECT)
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

/*
 * Delete target rows in [lo, hi] whose key is not among the source's.  The
 * source's keys are parsed as integers (anything else, or one outside the
 * range, is a malformed reply: they come from a server we do not trust)
 * and handed over as one int8[] parameter.
 */
static void
settle_range(Reconcile *r, int64 lo, int64 hi)
{
	char	  **values;
	unsigned long *lengths;
	Datum	   *keys;
	int			nkeys = 0;
	int			maxkeys = 1024;
	Oid			argtypes[3] = {INT8OID, INT8OID, INT8ARRAYOID};
	Datum		args[3];

	keys = palloc(sizeof(Datum) * maxkeys);
	EtlPullQueryStart(r->conn, psprintf("SELECT %s FROM %s WHERE %s BETWEEN "
										INT64_FORMAT " AND " INT64_FORMAT,
										r->src_key, r->src_from, r->src_key, lo, hi), 1);
	while (EtlPullFetch(r->conn, &values, &lengths))
	{
		int64		key;

		CHECK_FOR_INTERRUPTS();
		key = EtlPullReplyInt64(r->conn, values[0], psprintf("A value of %s", r->src_key));
		if (key < lo || key > hi)
			EtlPullBadReply(r->conn,
							psprintf("%s " INT64_FORMAT " is not between " INT64_FORMAT
									 " and " INT64_FORMAT ".", r->src_key, key, lo, hi));
		if (nkeys == maxkeys)
		{
			maxkeys *= 2;
			keys = repalloc(keys, sizeof(Datum) * maxkeys);
		}
		keys[nkeys++] = Int64GetDatum(key);
	}
	EtlPullQueryEnd(r->conn);

	args[0] = Int64GetDatum(lo);
	args[1] = Int64GetDatum(hi);
	args[2] = PointerGetDatum(construct_array(keys, nkeys, INT8OID, sizeof(int64),
											  FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
	if (SPI_execute_with_args(psprintf("DELETE FROM %s WHERE %s OPERATOR(pg_catalog.>=) $1"
									   " AND %s OPERATOR(pg_catalog.<=) $2"
									   " AND %s OPERATOR(pg_catalog.<>) ALL ($3)",
									   r->target_qname, r->key, r->key, r->key),
							  3, argtypes, args, NULL, false, 0) != SPI_OK_DELETE)
		elog(ERROR, "could not delete from %s", r->target_qname);
	r->deleted += SPI_processed;
	pfree(keys);
}

/*
 * The midpoint of [lo, hi], rounded down, without overflow whatever the
 * span (hi - lo may not fit in 64 bits).  lo <= mid < hi when lo < hi.
 */
static int64
midpoint(int64 lo, int64 hi)
{
	return (lo >> 1) + (hi >> 1) + (lo & hi & 1);
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
	check_stack_depth();
	source_range(r, lo, hi, &scount, &ssum);
	target_range(r, lo, hi, &tcount, &tsum);
	if (same_text(scount, tcount) && same_text(ssum, tsum))
		return;
	if (strtoll(tcount, NULL, 10) <= RECONCILE_LEAF_ROWS || lo == hi)
	{
		settle_range(r, lo, hi);
		return;
	}
	mid = midpoint(lo, hi);
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
	if (SPI_execute(psprintf("SELECT CAST(pg_catalog.min(%s) AS pg_catalog.int8),"
							 " CAST(pg_catalog.max(%s) AS pg_catalog.int8) FROM %s",
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
