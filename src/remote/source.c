/*-------------------------------------------------------------------------
 *
 * source.c
 *		  What a MySQL table looks like: its columns and its indexes read
 *		  from information_schema, the SELECT that streams it, and the
 *		  lossless PostgreSQL type each column maps to by default.
 *
 * IDENTIFICATION
 *		  src/remote/source.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "parser/scansup.h"
#include "parser/parse_type.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"

#include "etl_pull.h"
#include "remote/remote.h"

/* Classify information_schema.COLUMNS.DATA_TYPE */
static void
classify_column(EtlPullSourceColumn *col, const char *data_type,
				const char *charset)
{
	bool		binary_charset = (charset != NULL && strcmp(charset, "binary") == 0);

	col->int_bytes = 0;
	if (strcmp(data_type, "tinyint") == 0)
		col->kind = SRC_INT, col->int_bytes = 1;
	else if (strcmp(data_type, "smallint") == 0)
		col->kind = SRC_INT, col->int_bytes = 2;
	else if (strcmp(data_type, "mediumint") == 0)
		col->kind = SRC_INT, col->int_bytes = 3;
	else if (strcmp(data_type, "int") == 0 || strcmp(data_type, "integer") == 0)
		col->kind = SRC_INT, col->int_bytes = 4;
	else if (strcmp(data_type, "bigint") == 0)
		col->kind = SRC_INT, col->int_bytes = 8;
	else if (strcmp(data_type, "decimal") == 0 || strcmp(data_type, "numeric") == 0)
		col->kind = SRC_DECIMAL;
	else if (strcmp(data_type, "float") == 0)
		col->kind = SRC_FLOAT;
	else if (strcmp(data_type, "double") == 0 || strcmp(data_type, "real") == 0)
		col->kind = SRC_DOUBLE;
	else if (strcmp(data_type, "bit") == 0)
		col->kind = SRC_BIT;
	else if (strcmp(data_type, "char") == 0 || strcmp(data_type, "varchar") == 0)
		col->kind = binary_charset ? SRC_BINARY : SRC_CHAR;
	else if (strcmp(data_type, "tinytext") == 0 || strcmp(data_type, "text") == 0 ||
			 strcmp(data_type, "mediumtext") == 0 || strcmp(data_type, "longtext") == 0)
		col->kind = binary_charset ? SRC_BINARY : SRC_TEXT;
	else if (strcmp(data_type, "binary") == 0 || strcmp(data_type, "varbinary") == 0 ||
			 strcmp(data_type, "tinyblob") == 0 || strcmp(data_type, "blob") == 0 ||
			 strcmp(data_type, "mediumblob") == 0 || strcmp(data_type, "longblob") == 0)
		col->kind = SRC_BINARY;
	else if (strcmp(data_type, "enum") == 0)
		col->kind = SRC_ENUM;
	else if (strcmp(data_type, "set") == 0)
		col->kind = SRC_SET;
	else if (strcmp(data_type, "date") == 0)
		col->kind = SRC_DATE;
	else if (strcmp(data_type, "datetime") == 0)
		col->kind = SRC_DATETIME;
	else if (strcmp(data_type, "timestamp") == 0)
		col->kind = SRC_TIMESTAMP;
	else if (strcmp(data_type, "time") == 0)
		col->kind = SRC_TIME;
	else if (strcmp(data_type, "year") == 0)
		col->kind = SRC_YEAR;
	else if (strcmp(data_type, "json") == 0)
		col->kind = SRC_JSON;
	else if (strcmp(data_type, "geometry") == 0 || strcmp(data_type, "point") == 0 ||
			 strcmp(data_type, "linestring") == 0 || strcmp(data_type, "polygon") == 0 ||
			 strcmp(data_type, "multipoint") == 0 ||
			 strcmp(data_type, "multilinestring") == 0 ||
			 strcmp(data_type, "multipolygon") == 0 ||
			 strcmp(data_type, "geometrycollection") == 0 ||
			 strcmp(data_type, "geomcollection") == 0)
		col->kind = SRC_GEOMETRY;
	else
		col->kind = SRC_TEXT;	/* uuid, inet6, ...: their text form */
}

static EtlPullSource *describe_source(EtlPullConnection *conn, const char *db,
									  const char *table, char **sizes);
static int	parse_count(EtlPullConnection *conn, EtlPullSource *src, const char *value,
						const char *view, const char *column, int rowno);

/*
 * Run a query and collect all its rows as palloc'd strings (small
 * results).  The result must have "nfields" columns.
 */
static List *
fetch_all(EtlPullConnection *conn, const char *sql, int nfields)
{
	List	   *rows = NIL;
	char	  **values;
	unsigned long *lengths;

	EtlPullQueryStart(conn, sql, nfields);
	while (EtlPullFetch(conn, &values, &lengths))
	{
		char	  **row = palloc(sizeof(char *) * nfields);
		int			i;

		CHECK_FOR_INTERRUPTS();
		for (i = 0; i < nfields; i++)
			row[i] = values[i] ? pnstrdup(values[i], lengths[i]) : NULL;
		rows = lappend(rows, row);
	}
	EtlPullQueryEnd(conn);
	return rows;
}

/*
 * The size at the source (DATA_LENGTH + INDEX_LENGTH, MySQL's estimate) of
 * each of "tables" (all on the server of "conn"), into sizes[i]; 0 for a
 * table MySQL does not list (a view's are NULL).  With "engines" not NULL,
 * each one's storage engine into engines[i] too (NULL for a view or a
 * table MySQL does not list).  One query for all: the tables of the
 * schemas they are in.
 */
void
EtlPullSourceSizes(EtlPullConnection *conn, EtlPullTable **tables, int ntables,
				   int64 *sizes, char **engines)
{
	StringInfoData dbs;
	List	   *rows;
	ListCell   *lc;
	int			i;

	initStringInfo(&dbs);
	for (i = 0; i < ntables; i++)
	{
		const char *db = tables[i]->source_db ? tables[i]->source_db : EtlPullDefaultDb(conn);

		char	   *qdb = EtlPullQuoteLiteral(conn, db);

		sizes[i] = 0;
		if (engines)
			engines[i] = NULL;
		if (strstr(dbs.data, qdb) == NULL)
			appendStringInfo(&dbs, "%s%s", dbs.len > 0 ? ", " : "", qdb);
	}
	rows = fetch_all(conn, psprintf("SELECT TABLE_SCHEMA, TABLE_NAME, DATA_LENGTH, INDEX_LENGTH, ENGINE"
									" FROM information_schema.TABLES"
									" WHERE TABLE_SCHEMA IN (%s)", dbs.data), 5);
	foreach(lc, rows)
	{
		char	  **r = (char **) lfirst(lc);
		int64		size = 0;

		CHECK_FOR_INTERRUPTS();
		if (r[0] == NULL || r[1] == NULL)
			continue;
		if (r[2])
			size += EtlPullReplyInt64(conn, r[2], "DATA_LENGTH");
		if (r[3])
			size += EtlPullReplyInt64(conn, r[3], "INDEX_LENGTH");
		if (size < 0)
			EtlPullBadReply(conn, "DATA_LENGTH or INDEX_LENGTH is negative.");
		for (i = 0; i < ntables; i++)
		{
			const char *db = tables[i]->source_db ? tables[i]->source_db : EtlPullDefaultDb(conn);

			if (strcmp(db, r[0]) == 0 && strcmp(tables[i]->source_relname, r[1]) == 0)
			{
				sizes[i] = size;
				if (engines && r[4] && r[4][0])
					engines[i] = r[4];
			}
		}
	}
}

/*
 * A value of information_schema that MySQL never leaves NULL or empty; a
 * server that does is broken or hostile, and is not believed.
 */
static char *
required(EtlPullConnection *conn, EtlPullSource *src, char **row, int i,
		 const char *view, const char *column, int rowno)
{
	if (row[i] == NULL || row[i][0] == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_PROTOCOL_VIOLATION),
				 errmsg("MySQL server \"%s\" described table \"%s.%s\" with a missing value",
						EtlPullServerName(conn), src->db, src->table),
				 errdetail("Row %d of information_schema.%s has %s %s.", rowno, view,
						   row[i] ? "an empty" : "a NULL", column)));
	return row[i];
}

/* A number of information_schema that may be NULL (then 0), as parse_count */
static int
count_or_zero(EtlPullConnection *conn, EtlPullSource *src, char **row, int i,
			  const char *view, const char *column, int rowno)
{
	return row[i] ? parse_count(conn, src, row[i], view, column, rowno) : 0;
}

/* A source column "name" described twice: an ERROR */
static void
bad_column(EtlPullConnection *conn, EtlPullSource *src, const char *view,
		   const char *name, const char *why) pg_attribute_noreturn();

static void
bad_column(EtlPullConnection *conn, EtlPullSource *src, const char *view,
		   const char *name, const char *why)
{
	ereport(ERROR,
			(errcode(ERRCODE_PROTOCOL_VIOLATION),
			 errmsg("MySQL server \"%s\" described table \"%s.%s\" inconsistently",
					EtlPullServerName(conn), src->db, src->table),
			 errdetail("information_schema.%s names column \"%s\" %s.", view,
					   EtlPullPrintable(name, 64), why)));
}

/*
 * A column name MySQL sent must be valid UTF-8 (the connection's character
 * set), and all in the database's encoding: it becomes the target column's
 * name, and is stored in etl_pull.source_columns.  A server that sends
 * anything else (a hostile one: MySQL's own identifiers are UTF-8) is
 * refused, naming the column by position and its bytes shown as \xHH.
 */
static void
check_column_name(EtlPullConnection *conn, EtlPullSource *src,
				  const char *name, int rowno)
{
	bool		exact;
	char	   *shown = EtlPullValidText(name, strlen(name), PG_UTF8, &exact);

	if (!exact)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_INVALID_STRING_FORMAT),
				 errmsg("column %d of MySQL table \"%s.%s\" has a name that is not valid UTF-8, or not all in this database's encoding",
						rowno, src->db, src->table),
				 errdetail("MySQL server \"%s\" sent the name \"%s\" (a byte that is not part of a character shown as \\xHH).",
						   EtlPullServerName(conn), EtlPullPrintable(shown, 200)),
				 errhint("Rename the column at the source, or load the table through a view that renames it.")));
}

/*
 * Describe a registered table's source: its source_table, in the server's
 * dbname when source_table names no database.
 */
EtlPullSource *
EtlPullDescribeTableSource(EtlPullConnection *conn, EtlPullTable *table)
{
	return EtlPullDescribeTableSourceSized(conn, table, NULL);
}

/*
 * EtlPullDescribeTableSource, with the table's TABLE_ROWS, DATA_LENGTH and
 * ENGINE in information_schema.TABLES as "sizes" if the caller read them
 * (a load reads them with the skip signature: one statement less), or
 * NULL to read them here
 */
EtlPullSource *
EtlPullDescribeTableSourceSized(EtlPullConnection *conn, EtlPullTable *table,
								char **sizes)
{
	const char *db = table->source_db ? table->source_db : EtlPullDefaultDb(conn);

	if (db == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("no MySQL database given for table \"%s\"", table->name),
				 errhint("Set the server's \"dbname\" option, or set \"source_table\" to \"db.table\".")));
	return describe_source(conn, db, table->source_relname, sizes);
}

/*
 * Describe db.table on the replica.  A missing table is an ERROR carrying
 * MySQL's own message.
 */
EtlPullSource *
EtlPullDescribeSource(EtlPullConnection *conn, const char *db,
					  const char *table)
{
	return describe_source(conn, db, table, NULL);
}

/*
 * EtlPullDescribeSource, with the TABLE_ROWS, DATA_LENGTH and ENGINE the
 * caller read as "sizes" (NULL: read them here)
 */
static EtlPullSource *
describe_source(EtlPullConnection *conn, const char *db, const char *table,
				char **sizes)
{
	EtlPullSource *src = palloc0(sizeof(EtlPullSource));
	char	   *qdb = EtlPullQuoteLiteral(conn, db);
	char	   *qtable = EtlPullQuoteLiteral(conn, table);
	List	   *rows;
	ListCell   *lc;
	bool		longtext = false;
	int			i;

	src->db = pstrdup(db);
	src->table = pstrdup(table);

	rows = fetch_all(conn, psprintf(
									"SELECT COLUMN_NAME, DATA_TYPE, COLUMN_TYPE, CHARACTER_MAXIMUM_LENGTH,"
									" NUMERIC_PRECISION, NUMERIC_SCALE, DATETIME_PRECISION, IS_NULLABLE,"
									" CHARACTER_SET_NAME"
									" FROM information_schema.COLUMNS"
									" WHERE TABLE_SCHEMA = %s AND TABLE_NAME = %s"
									" ORDER BY ORDINAL_POSITION", qdb, qtable), 9);
	if (rows == NIL)
	{
		/* let MySQL say why: missing table, missing database, no privilege */
		EtlPullExec(conn, psprintf("SELECT * FROM %s.%s LIMIT 0",
								   EtlPullQuoteIdent(db),
								   EtlPullQuoteIdent(table)));
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("MySQL table \"%s.%s\" has no visible columns", db, table)));
	}

	src->ncolumns = list_length(rows);
	src->columns = palloc0(sizeof(EtlPullSourceColumn) * src->ncolumns);
	i = 0;
	foreach(lc, rows)
	{
		char	  **r = (char **) lfirst(lc);
		EtlPullSourceColumn *col = &src->columns[i++];
		int			j;

		CHECK_FOR_INTERRUPTS();
		(void) required(conn, src, r, 0, "COLUMNS", "COLUMN_NAME", i);
		(void) required(conn, src, r, 1, "COLUMNS", "DATA_TYPE", i);
		(void) required(conn, src, r, 2, "COLUMNS", "COLUMN_TYPE", i);
		(void) required(conn, src, r, 7, "COLUMNS", "IS_NULLABLE", i);
		check_column_name(conn, src, r[0], i);
		/* MySQL's column names are unique, ignoring case */
		for (j = 0; j < i - 1; j++)
			if (pg_strcasecmp(src->columns[j].name, r[0]) == 0)
				bad_column(conn, src, "COLUMNS", r[0], "twice");
		col->name = r[0];
		/* lower-cased, and cut to NAMEDATALEN as CREATE TABLE would */
		col->target_name = downcase_identifier(r[0], strlen(r[0]), false, true);
		/* for messages and etl_pull.source_columns: valid text */
		col->column_type = EtlPullValidText(r[2], strlen(r[2]), PG_UTF8, NULL);
		classify_column(col, r[1], r[8]);
		if (col->kind == SRC_TEXT && strcmp(r[1], "longtext") == 0)
			longtext = true;
		col->is_unsigned = strstr(r[2], "unsigned") != NULL;
		if (col->kind == SRC_CHAR)
			col->length = count_or_zero(conn, src, r, 3, "COLUMNS", "CHARACTER_MAXIMUM_LENGTH", i);
		col->precision = count_or_zero(conn, src, r, 4, "COLUMNS", "NUMERIC_PRECISION", i);
		if (col->kind == SRC_BIT)
			col->length = col->precision;
		col->scale = (col->kind == SRC_DECIMAL) ?
			count_or_zero(conn, src, r, 5, "COLUMNS", "NUMERIC_SCALE", i) :
			count_or_zero(conn, src, r, 6, "COLUMNS", "DATETIME_PRECISION", i);
		col->nullable = strcmp(r[7], "YES") == 0;
	}

	/* primary key, in key order */
	rows = fetch_all(conn, psprintf(
									"SELECT COLUMN_NAME FROM information_schema.STATISTICS"
									" WHERE TABLE_SCHEMA = %s AND TABLE_NAME = %s"
									" AND INDEX_NAME = 'PRIMARY' ORDER BY SEQ_IN_INDEX",
									qdb, qtable), 1);
	i = 1;
	foreach(lc, rows)
	{
		char	  **r = (char **) lfirst(lc);
		int			j;

		(void) required(conn, src, r, 0, "STATISTICS", "COLUMN_NAME", i);
		/* a column COLUMNS does not show (no privilege on it) cuts the key short */
		for (j = 0; j < src->ncolumns; j++)
			if (strcmp(src->columns[j].name, r[0]) == 0)
			{
				if (src->columns[j].pk_position != 0)
					bad_column(conn, src, "STATISTICS", r[0], "twice in the primary key");
				src->columns[j].pk_position = i;
			}
		i++;
	}

	/*
	 * MariaDB's JSON is longtext with a json_valid() check: asked only of a
	 * table with a longtext column (information_schema.CHECK_CONSTRAINTS
	 * opens the table, the costliest statement of a small table's
	 * description)
	 */
	if (EtlPullIsMariaDB(conn) && longtext)
	{
		rows = fetch_all(conn, psprintf(
										"SELECT CHECK_CLAUSE FROM information_schema.CHECK_CONSTRAINTS"
										" WHERE CONSTRAINT_SCHEMA = %s AND TABLE_NAME = %s",
										qdb, qtable), 1);
		foreach(lc, rows)
		{
			char	  **r = (char **) lfirst(lc);
			int			j;

			for (j = 0; j < src->ncolumns; j++)
			{
				EtlPullSourceColumn *col = &src->columns[j];
				char	   *expect;

				if (col->kind != SRC_TEXT)
					continue;
				expect = psprintf("json_valid(%s)", EtlPullQuoteIdent(col->name));
				if (r[0] && strcmp(r[0], expect) == 0)
					col->kind = SRC_JSON;
			}
		}
	}

	/* the sizes are estimates, NULL for a view */
	if (sizes == NULL)
		sizes = EtlPullQueryRow(conn, psprintf("SELECT TABLE_ROWS, DATA_LENGTH, ENGINE"
											   " FROM information_schema.TABLES"
											   " WHERE TABLE_SCHEMA = %s AND TABLE_NAME = %s",
											   qdb, qtable), 3, true);
	if (sizes != NULL)
	{
		src->estimated_rows = sizes[0] ? EtlPullReplyInt64(conn, sizes[0], "TABLE_ROWS") : 0;
		src->estimated_bytes = sizes[1] ? EtlPullReplyInt64(conn, sizes[1], "DATA_LENGTH") : 0;
		if (src->estimated_rows < 0 || src->estimated_bytes < 0)
			EtlPullBadReply(conn, "TABLE_ROWS or DATA_LENGTH is negative.");
		src->engine = sizes[2];
	}
	return src;
}

/*
 * A non-negative integer of information_schema, in decimal digits only; a
 * server that sends anything else is not believed.
 */
static int
parse_count(EtlPullConnection *conn, EtlPullSource *src, const char *value,
			const char *view, const char *column, int rowno)
{
	long		n = 0;
	const char *p;

	for (p = value; *p; p++)
	{
		if (*p < '0' || *p > '9' || n > PG_INT32_MAX / 10)
			break;
		n = n * 10 + (*p - '0');
	}
	if (*p != '\0' || p == value || n > PG_INT32_MAX)
		ereport(ERROR,
				(errcode(ERRCODE_PROTOCOL_VIOLATION),
				 errmsg("MySQL server \"%s\" described table \"%s.%s\" with an invalid value",
						EtlPullServerName(conn), src->db, src->table),
				 errdetail("Row %d of information_schema.%s has %s \"%s\", not a number.",
						   rowno, view, column, EtlPullPrintable(value, 64))));
	return (int) n;
}

/* An index description that contradicts itself: an error, not believed */
static void
bad_index(EtlPullConnection *conn, EtlPullSource *src, const char *index,
		  const char *why) pg_attribute_noreturn();

static void
bad_index(EtlPullConnection *conn, EtlPullSource *src, const char *index,
		  const char *why)
{
	ereport(ERROR,
			(errcode(ERRCODE_PROTOCOL_VIOLATION),
			 errmsg("MySQL server \"%s\" described index \"%s\" of table \"%s.%s\" inconsistently",
					EtlPullServerName(conn), EtlPullPrintable(index, 64),
					src->db, src->table),
			 errdetail("%s", why)));
}

/* more rows than any MySQL or MariaDB table can have in STATISTICS */
#define MAX_INDEX_ROWS 4096

/*
 * The secondary indexes of the source (every index but PRIMARY), read from
 * information_schema.STATISTICS in one query, under the caller's snapshot
 * connection, as a List of EtlPullSourceIndex in the order of their names.
 * An index that a PostgreSQL target cannot get as a B-tree on plain
 * columns is in the list with its skip_reason: FULLTEXT and SPATIAL ones,
 * prefix indexes (SUB_PART), functional ones (a part with no COLUMN_NAME:
 * MySQL 8's EXPRESSION), ignored (MariaDB) or invisible (MySQL 8) ones,
 * and ones on a column the source's description lacks.  HASH (MEMORY
 * tables) becomes a B-tree, which answers every equality a hash index
 * answers.  Every value is checked: a part numbered twice or out of range,
 * parts of one index that disagree about its uniqueness or type, or a
 * value that is not what MySQL sends, is an error.
 */
List *
EtlPullDescribeIndexes(EtlPullConnection *conn, EtlPullSource *src)
{
	List	   *indexes = NIL;
	List	   *rows;
	ListCell   *lc;
	int			rowno = 0;

	/*
	 * The last column says whether the optimizer may use the index; the
	 * column that tells exists only in MariaDB 10.6+ (IGNORED) and MySQL 8
	 * (IS_VISIBLE), read through executable comments that older servers
	 * skip.  MariaDB runs /x!NNNNN x/ comments too, so each flavour gets its
	 * own.
	 */
	rows = fetch_all(conn, psprintf(
									"SELECT INDEX_NAME, NON_UNIQUE, SEQ_IN_INDEX, COLUMN_NAME,"
									" SUB_PART, INDEX_TYPE, COLLATION,"
									" IF(FALSE %s, 'YES', 'NO')"
									" FROM information_schema.STATISTICS"
									" WHERE TABLE_SCHEMA = %s AND TABLE_NAME = %s"
									" AND INDEX_NAME <> 'PRIMARY'"
									" ORDER BY INDEX_NAME, SEQ_IN_INDEX",
									EtlPullIsMariaDB(conn) ?
									"/*M!100600 OR IGNORED = 'YES' */" :
									"/*!80000 OR IS_VISIBLE = 'NO' */",
									EtlPullQuoteLiteral(conn, src->db),
									EtlPullQuoteLiteral(conn, src->table)), 8);
	if (list_length(rows) > MAX_INDEX_ROWS)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_ERROR),
				 errmsg("MySQL server \"%s\" described table \"%s.%s\" with %d index parts",
						EtlPullServerName(conn), src->db, src->table,
						list_length(rows)),
				 errdetail("No MySQL table has more than %d.", MAX_INDEX_ROWS)));

	foreach(lc, rows)
	{
		char	  **r = (char **) lfirst(lc);
		EtlPullSourceIndex *ix = NULL;
		ListCell   *il;
		const char *name;
		const char *type;
		bool		unique;
		int			seq;
		int			j;

		CHECK_FOR_INTERRUPTS();
		rowno++;
		name = required(conn, src, r, 0, "STATISTICS", "INDEX_NAME", rowno);
		(void) required(conn, src, r, 1, "STATISTICS", "NON_UNIQUE", rowno);
		(void) required(conn, src, r, 2, "STATISTICS", "SEQ_IN_INDEX", rowno);
		type = required(conn, src, r, 5, "STATISTICS", "INDEX_TYPE", rowno);
		(void) required(conn, src, r, 7, "STATISTICS", "IGNORED", rowno);
		if (strcmp(r[1], "0") != 0 && strcmp(r[1], "1") != 0)
			bad_index(conn, src, name,
					  psprintf("NON_UNIQUE is \"%s\", not 0 or 1.",
							   EtlPullPrintable(r[1], 64)));
		unique = strcmp(r[1], "0") == 0;
		seq = parse_count(conn, src, r[2], "STATISTICS", "SEQ_IN_INDEX", rowno);
		if (seq < 1 || seq > INDEX_MAX_KEYS)
			bad_index(conn, src, name,
					  psprintf("SEQ_IN_INDEX is %d, not 1 to %d.", seq, INDEX_MAX_KEYS));
		if (r[4] != NULL)
			(void) parse_count(conn, src, r[4], "STATISTICS", "SUB_PART", rowno);
		if (r[6] != NULL && strcmp(r[6], "A") != 0 && strcmp(r[6], "D") != 0)
			bad_index(conn, src, name,
					  psprintf("COLLATION is \"%s\", not A, D or NULL.",
							   EtlPullPrintable(r[6], 64)));
		if (strcmp(r[7], "YES") != 0 && strcmp(r[7], "NO") != 0)
			bad_index(conn, src, name, "The index is neither ignored nor used.");

		foreach(il, indexes)
			if (strcmp(((EtlPullSourceIndex *) lfirst(il))->name, name) == 0)
				ix = (EtlPullSourceIndex *) lfirst(il);
		if (ix == NULL)
		{
			ix = palloc0(sizeof(EtlPullSourceIndex));
			ix->name = pstrdup(name);
			ix->unique = unique;
			ix->hash = strcmp(type, "HASH") == 0;
			ix->columns = palloc(sizeof(int) * INDEX_MAX_KEYS);
			ix->descending = palloc0(sizeof(bool) * INDEX_MAX_KEYS);
			for (j = 0; j < INDEX_MAX_KEYS; j++)
				ix->columns[j] = -2;	/* not described yet */
			if (strcmp(type, "FULLTEXT") == 0)
				ix->skip_reason = "a FULLTEXT index";
			else if (strcmp(type, "SPATIAL") == 0 || strcmp(type, "RTREE") == 0)
				ix->skip_reason = "a SPATIAL index";
			else if (strcmp(type, "BTREE") != 0 && !ix->hash)
				ix->skip_reason = psprintf("of type %s, which etl_pull does not know",
										   EtlPullPrintable(type, 32));
			indexes = lappend(indexes, ix);
		}
		else if (ix->unique != unique || ix->hash != (strcmp(type, "HASH") == 0))
			bad_index(conn, src, name, "Its parts disagree about its uniqueness or type.");
		if (ix->columns[seq - 1] != -2)
			bad_index(conn, src, name,
					  psprintf("Part %d is described twice.", seq));
		ix->columns[seq - 1] = -1;
		ix->nparts = Max(ix->nparts, seq);

		if (ix->skip_reason)
			continue;
		if (strcmp(r[7], "YES") == 0)
			ix->skip_reason = EtlPullIsMariaDB(conn) ?
				"ignored by the optimizer (IGNORED)" :
				"invisible to the optimizer (IS_VISIBLE = NO)";
		else if (r[3] == NULL)
			ix->skip_reason = "a functional index";
		else if (r[4] != NULL)
			ix->skip_reason = psprintf("a prefix index (%s(%s))",
									   EtlPullPrintable(r[3], 64), r[4]);
		else
		{
			for (j = 0; j < src->ncolumns; j++)
				if (strcmp(src->columns[j].name, r[3]) == 0)
					break;
			if (j == src->ncolumns)
				ix->skip_reason = psprintf("on column \"%s\", which the source's columns do not include",
										   EtlPullPrintable(r[3], 64));
			else
			{
				ix->columns[seq - 1] = j;
				ix->descending[seq - 1] = r[6] != NULL && strcmp(r[6], "D") == 0;
			}
		}
	}

	/* every index has its parts 1 to n, each once */
	foreach(lc, indexes)
	{
		EtlPullSourceIndex *ix = (EtlPullSourceIndex *) lfirst(lc);
		int			j;

		for (j = 0; j < ix->nparts; j++)
			if (ix->columns[j] == -2)
				bad_index(conn, src, ix->name,
						  psprintf("It has %d parts but no part %d.", ix->nparts, j + 1));
	}
	return indexes;
}

/* Whether a column is a YEAR(2), which MySQL prints with two digits */
static bool
is_year2(EtlPullSourceColumn *col)
{
	return col->kind == SRC_YEAR &&
		pg_strncasecmp(col->column_type, "year(2)", 7) == 0;
}

/*
 * The SELECT that streams the rows of the source ("where" without the
 * keyword, or NULL for all of them).  Each column is read in
 * the form its converter expects: geometry as WKB, FLOAT widened to DOUBLE
 * so that its text form keeps every bit, a DOUBLE(M,D) cast to a plain
 * DOUBLE so that it is not printed with D decimals, a YEAR(2) as its full
 * year (MySQL prints two digits, and sends them in the binary protocol
 * too; YEAR() of it gives the year it holds, and 1900 for its zero year,
 * which is 0 as in a YEAR(4)).
 */
static void
append_select_list(StringInfo buf, EtlPullSource *source)
{
	int			i;

	appendStringInfoString(buf, "SELECT ");
	for (i = 0; i < source->ncolumns; i++)
	{
		EtlPullSourceColumn *col = &source->columns[i];
		char	   *q = EtlPullQuoteIdent(col->name);

		if (i > 0)
			appendStringInfoString(buf, ", ");
		if (col->kind == SRC_GEOMETRY)
			appendStringInfo(buf, "ST_AsBinary(%s)", q);
		else if (col->kind == SRC_FLOAT ||
				 (col->kind == SRC_DOUBLE && strchr(col->column_type, '(') != NULL))
			appendStringInfo(buf, "CAST(%s AS DOUBLE)", q);
		else if (is_year2(col))
			appendStringInfoString(buf, EtlPullSourceKeyExpr(col));
		else
			appendStringInfoString(buf, q);
	}
	appendStringInfo(buf, " FROM %s.%s", EtlPullQuoteIdent(source->db),
					 EtlPullQuoteIdent(source->table));
}

char *
EtlPullSourceSelect(EtlPullSource *source, const char *where)
{
	StringInfoData buf;

	initStringInfo(&buf);
	append_select_list(&buf, source);
	if (where)
		appendStringInfo(&buf, " WHERE %s", where);
	return buf.data;
}

/*
 * One statement of a read in key ranges (chunks.c): the rows "where"
 * selects (or all) whose integer key "key" is past "after" (our own
 * printing of a parsed key; NULL from the first), in key order, at most
 * "limit" of them, into "buf".  The primary key is forced: the range and
 * the order are then read from it, never sorted.
 */
void
EtlPullSourceRangeSelect(StringInfo buf, EtlPullSource *source,
						 EtlPullSourceColumn *key, const char *where,
						 const char *after, int64 limit)
{
	char	   *k = EtlPullQuoteIdent(key->name);

	resetStringInfo(buf);
	append_select_list(buf, source);
	appendStringInfoString(buf, " FORCE INDEX (PRIMARY)");
	if (where && after)
		appendStringInfo(buf, " WHERE (%s) AND %s > %s", where, k, after);
	else if (where)
		appendStringInfo(buf, " WHERE %s", where);
	else if (after)
		appendStringInfo(buf, " WHERE %s > %s", k, after);
	appendStringInfo(buf, " ORDER BY %s LIMIT " INT64_FORMAT, k, limit);
}

/*
 * Whether a statement that reads the source holds it against writers for
 * as long as it runs: a table of an engine without MVCC (MyISAM, Aria,
 * MEMORY, ...; not a view, whose engine is unknown)
 */
bool
EtlPullSourceLocksOnRead(EtlPullSource *source)
{
	return EtlPullEngineLocksOnRead(source->engine);
}

/* The same, of a table of storage engine "engine" (NULL: a view) */
bool
EtlPullEngineLocksOnRead(const char *engine)
{
	return engine != NULL && pg_strcasecmp(engine, "InnoDB") != 0;
}

/*
 * The key by which a full read of the source goes in key-range statements
 * of about etl_pull.source_statement_ms each (chunks.c), or NULL for one
 * statement: a MyISAM table (whose UPDATE_TIME, which the load's re-check
 * relies on, MyISAM keeps current; Aria's crash-safe tables set it only
 * when flushed) with a single integer
 * primary key, while the setting is not 0.  *why, if not NULL, says why
 * not for a table that locks on read.
 */
EtlPullSourceColumn *
EtlPullSourceChunkKey(EtlPullSource *source, const char **why)
{
	EtlPullSourceColumn *key;

	if (why)
		*why = NULL;
	if (!EtlPullSourceLocksOnRead(source))
		return NULL;
	if (EtlPullSourceStatementMs <= 0)
	{
		if (why)
			*why = "etl_pull.source_statement_ms is 0";
		return NULL;
	}
	if (source->whole_read != NULL)
	{
		if (why)
			*why = source->whole_read;
		return NULL;
	}
	if (pg_strcasecmp(source->engine, "MyISAM") != 0)
	{
		if (why)
			*why = psprintf("storage engine %s does not keep UPDATE_TIME current (Aria's crash-safe tables, the default, set it when flushed), which a re-check of a read in ranges needs",
							EtlPullPrintable(source->engine, 64));
		return NULL;
	}
	key = EtlPullIntegerKey(source);
	if (key == NULL && why)
		*why = "the table has no single integer primary key to read it in ranges by";
	return key;
}

/*
 * The source's UPDATE_TIME and the source's clock, both in whole seconds
 * since the epoch (information_schema.TABLES; one statement).  False when
 * the server keeps no UPDATE_TIME for the table.
 */
bool
EtlPullSourceStamp(EtlPullConnection *conn, EtlPullSource *source,
				   EtlPullStamp *stamp)
{
	char	  **row;

	row = EtlPullQueryRow(conn, psprintf("SELECT UNIX_TIMESTAMP(UPDATE_TIME), UNIX_TIMESTAMP()"
										 " FROM information_schema.TABLES"
										 " WHERE TABLE_SCHEMA = %s AND TABLE_NAME = %s",
										 EtlPullQuoteLiteral(conn, source->db),
										 EtlPullQuoteLiteral(conn, source->table)),
						  2, true);
	return EtlPullParseStamp(conn, row ? row[0] : NULL, row ? row[1] : NULL, stamp);
}

/*
 * Stamp "stamp" from the values of UNIX_TIMESTAMP(UPDATE_TIME) and
 * UNIX_TIMESTAMP() of one statement (EtlPullSourceStamp's, or the skip
 * signature's, which reads them with the rest of the table's entry):
 * false, and not known, when either is NULL.
 */
bool
EtlPullParseStamp(EtlPullConnection *conn, const char *updated, const char *now,
				  EtlPullStamp *stamp)
{
	memset(stamp, 0, sizeof(*stamp));
	if (updated == NULL || now == NULL)
		return false;
	stamp->updated = EtlPullReplyInt64(conn, updated, "UNIX_TIMESTAMP(UPDATE_TIME)");
	stamp->now = EtlPullReplyInt64(conn, now, "UNIX_TIMESTAMP()");
	stamp->known = true;
	return true;
}

/*
 * Whether the source did not change between stamps "before" and "after":
 * the same UPDATE_TIME, and one at least two whole seconds older than the
 * second "before" was read in.  Older by one would do if the data file's
 * time came from the source's clock; the kernel stamps files with a clock
 * a few milliseconds behind it, so a write just after "before" could still
 * fall in UPDATE_TIME's second (unchanged.c measures the same margin).
 */
bool
EtlPullSourceUnchanged(const EtlPullStamp *before, const EtlPullStamp *after)
{
	return before->known && after->known &&
		EtlPullStampSettled(before) &&
		after->updated == before->updated;
}

/*
 * Whether stamp "st"'s UPDATE_TIME is old enough (see
 * EtlPullSourceUnchanged) that a later write would move it
 */
bool
EtlPullStampSettled(const EtlPullStamp *st)
{
	return st->known && st->updated + 1 < st->now;
}

/*
 * A key column as the parallel strategy's chunks compare and order it: the
 * quoted column, but a YEAR(2) as its full year, as it is read (whose two
 * digits would order 2069 before 1970).
 */
char *
EtlPullSourceKeyExpr(EtlPullSourceColumn *col)
{
	char	   *q = EtlPullQuoteIdent(col->name);

	if (is_year2(col))
		return psprintf("CASE YEAR(%s) WHEN 1900 THEN 0 ELSE YEAR(%s) END", q, q);
	return q;
}

/*
 * Start streaming the source's rows (those "where" selects, or all) on
 * "conn", in the protocol the table's setting "protocol" names: in
 * key-range statements of bounded duration for a MyISAM table
 * (EtlPullSourceChunkKey), else in one.  "by_key" says that "where" selects
 * by the primary key (or is NULL): a predicate on another column (a
 * watermark's) is left to MySQL's own plan, in one statement, since
 * forcing the key there could scan the whole table for a few rows.
 */
void
EtlPullSourceQueryStart(EtlPullConnection *conn, EtlPullTable *table,
						EtlPullSource *source, const char *where, bool by_key)
{
	EtlPullSourceColumn *key = by_key ? EtlPullSourceChunkKey(source, NULL) : NULL;
	bool		binary = (table->protocol == ETL_PROTOCOL_BINARY);

	if (key != NULL)
		EtlPullRangeQueryStart(conn, source, key, where, binary);
	else
	{
		EtlPullQueryStartProtocol(conn, EtlPullSourceSelect(source, where),
								  source->ncolumns, binary);
		EtlPullNoteOneStatement(conn);
	}
}

/*
 * The columns of the source's primary key, in key order (NIL if none), as
 * pointers into source->columns.
 */
List *
EtlPullSourceKey(EtlPullSource *source)
{
	List	   *key = NIL;
	int			k;

	for (k = 1;; k++)
	{
		int			i;

		for (i = 0; i < source->ncolumns; i++)
			if (source->columns[i].pk_position == k)
				break;
		if (i == source->ncolumns)
			return key;
		key = lappend(key, &source->columns[i]);
	}
}

/*
 * The source's primary key if it is a single integer column, signed or
 * unsigned (what ranges of MIN..MAX can cut), else NULL.  A BIGINT
 * UNSIGNED key's values need not fit in a bigint.
 */
EtlPullSourceColumn *
EtlPullIntegerKey(EtlPullSource *source)
{
	List	   *key = EtlPullSourceKey(source);
	EtlPullSourceColumn *col;

	if (list_length(key) != 1)
		return NULL;
	col = (EtlPullSourceColumn *) linitial(key);
	if (col->kind != SRC_INT)
		return NULL;
	return col;
}

/*
 * The default (lossless) PostgreSQL type for a source column, as SQL text.
 */
char *
EtlPullTargetTypeName(EtlPullSourceColumn *col)
{
	switch (col->kind)
	{
		case SRC_INT:
			switch (col->int_bytes)
			{
				case 1:
					return "smallint";
				case 2:
					return col->is_unsigned ? "integer" : "smallint";
				case 3:
					return "integer";
				case 4:
					return col->is_unsigned ? "bigint" : "integer";
				default:
					return col->is_unsigned ? "numeric(20,0)" : "bigint";
			}
		case SRC_DECIMAL:
			return psprintf("numeric(%d,%d)", col->precision, col->scale);
		case SRC_FLOAT:
			return "real";
		case SRC_DOUBLE:
			return "double precision";
		case SRC_BIT:
			return psprintf("bit(%d)", col->length > 0 ? col->length : 1);
		case SRC_CHAR:
			return psprintf("varchar(%d)", col->length > 0 ? col->length : 1);
		case SRC_TEXT:
		case SRC_ENUM:
			return "text";
		case SRC_SET:
			return "text[]";
		case SRC_BINARY:
		case SRC_GEOMETRY:
			return "bytea";
		case SRC_DATE:
			return "date";
		case SRC_DATETIME:
			return psprintf("timestamp(%d)", col->scale);
		case SRC_TIMESTAMP:
			return psprintf("timestamptz(%d)", col->scale);
		case SRC_TIME:
			return "interval";
		case SRC_YEAR:
			return "smallint";
		case SRC_JSON:
			return "jsonb";
	}
	return "text";
}

/*
 * The labels of a MySQL enum('a','b''c') column type, unquoted.
 */
static List *
enum_labels(const char *column_type)
{
	List	   *labels = NIL;
	const char *p = strchr(column_type, '(');

	while (p && *p)
	{
		StringInfoData label;

		p = strchr(p, '\'');
		if (p == NULL)
			break;
		initStringInfo(&label);
		for (p++; *p; p++)
		{
			if (*p == '\'' && p[1] == '\'')
				p++;
			else if (*p == '\'')
				break;
			appendStringInfoChar(&label, *p);
		}
		if (*p)
			p++;
		labels = lappend(labels, label.data);
	}
	return labels;
}

static void
bad_override(EtlPullSource *source, EtlPullSourceColumn *col, const char *type_name,
			 const char *why)
{
	ereport(ERROR,
			(errcode(ERRCODE_DATATYPE_MISMATCH),
			 errmsg("column \"%s\" of MySQL table \"%s.%s\" cannot be loaded as %s",
					col->name, source->db, source->table, type_name),
			 errdetail("The column is %s; %s.", col->column_type, why)));
}

/*
 * Check that a target type override can hold what the source column can
 * hold: a boolean only from tinyint or bit(1), a PostgreSQL enum only from
 * a MySQL enum whose every label it has, numbers from numbers, dates and
 * times from dates and times.  Narrower numeric types are allowed; a value
 * that does not fit is then an error when it arrives.
 */
void
EtlPullCheckTypeOverride(EtlPullSource *source, EtlPullSourceColumn *col,
						 const char *type_name)
{
	Oid			typid;
	int32		typmod;
	char		category;
	bool		preferred;

	parseTypeString(type_name, &typid, &typmod, false);
	typid = getBaseType(typid);
	get_type_category_preferred(typid, &category, &preferred);

	if (typid == BOOLOID)
	{
		if (!((col->kind == SRC_INT && col->int_bytes == 1) ||
			  (col->kind == SRC_BIT && col->length == 1)))
			bad_override(source, col, type_name, "only tinyint and bit(1) convert to boolean");
	}
	else if (type_is_enum(typid))
	{
		ListCell   *lc;

		if (col->kind != SRC_ENUM)
			bad_override(source, col, type_name, "only a MySQL enum loads into an enum type");
		foreach(lc, enum_labels(col->column_type))
		{
			HeapTuple	tup = SearchSysCache2(ENUMTYPOIDNAME, ObjectIdGetDatum(typid),
											  CStringGetDatum((char *) lfirst(lc)));

			if (!HeapTupleIsValid(tup))
				bad_override(source, col, type_name,
							 psprintf("its label \"%s\" is not a label of %s",
									  (char *) lfirst(lc), type_name));
			ReleaseSysCache(tup);
		}
	}
	else if (category == TYPCATEGORY_NUMERIC)
	{
		if (col->kind != SRC_INT && col->kind != SRC_DECIMAL &&
			col->kind != SRC_FLOAT && col->kind != SRC_DOUBLE &&
			col->kind != SRC_YEAR)
			bad_override(source, col, type_name, "only numbers load into a numeric type");
	}
	else if (category == TYPCATEGORY_DATETIME)
	{
		if (col->kind != SRC_DATE && col->kind != SRC_DATETIME &&
			col->kind != SRC_TIMESTAMP)
			bad_override(source, col, type_name, "only dates and times load into a date/time type");
	}
}
