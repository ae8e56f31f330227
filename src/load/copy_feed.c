/*-------------------------------------------------------------------------
 *
 * copy_feed.c
 *		  The copy strategy: MySQL rows fed through PostgreSQL's own COPY
 *		  FROM machinery.
 *
 * Each MySQL row is written as a line of COPY's text format into a buffer
 * that COPY reads through its data-source callback, so partitioned
 * targets, triggers, defaults and constraints behave exactly as under
 * COPY FROM.  Values are rendered in the form the target type's input
 * function expects: NULL as \N, bytes as \x hex, BIT(n) as a bit string,
 * SET as an array literal, zero dates as the table's policy says.
 *
 * The rows are handed over as UTF-8 (COPY's ENCODING option), whatever the
 * session's client_encoding, and text goes through the table's
 * invalid_utf8 policy first, as in every other strategy.  A DATETIME (or
 * DATE) bound for a timestamptz column is marked as UTC, as the converters
 * of the other strategies read it, so the session's TimeZone plays no part.
 *
 * COPY's callback takes no argument, so the state of the copy in progress
 * is a static variable (as in Citus' local copy).  A trigger on the target
 * may start another load inside CopyFrom: each call saves the state it
 * found and puts it back when it ends, so the inner copy cannot leave the
 * outer one without its state.
 *
 * IDENTIFICATION
 *		  src/load/copy_feed.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "commands/copy.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "parser/parse_relation.h"
#include "rewrite/rewriteHandler.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"

#include "etl_pull.h"
#include "remote/remote.h"
#include "load/load.h"

typedef struct CopyFeed
{
	EtlPullConnection *conn;
	EtlPullTable *table;
	EtlPullSource *source;
	bool	   *utc;			/* per source column: append a UTC offset */
	bool	   *hex;			/* per source column: bytes for a bytea */
	int			nnulls;			/* domain columns to send NULL for */
	StringInfoData line;		/* rendered rows not yet handed to COPY */
	int			pos;			/* read position in line */
	bool		eof;
	EtlPullRowCallback on_row;
	void	   *on_row_arg;
} CopyFeed;

static CopyFeed *feed = NULL;

static void
append_escaped(StringInfo buf, const char *s, unsigned long len)
{
	const char *end = s + len;

	for (; s < end; s++)
	{
		switch (*s)
		{
			case '\\':
				appendBinaryStringInfo(buf, "\\\\", 2);
				break;
			case '\t':
				appendBinaryStringInfo(buf, "\\t", 2);
				break;
			case '\n':
				appendBinaryStringInfo(buf, "\\n", 2);
				break;
			case '\r':
				appendBinaryStringInfo(buf, "\\r", 2);
				break;
			default:
				appendStringInfoCharMacro(buf, *s);
		}
	}
}

/* Render one MySQL value as a COPY text field */
static void
render_value(CopyFeed *f, int i, const char *s, unsigned long len)
{
	EtlPullSourceColumn *col = &f->source->columns[i];
	StringInfo	buf = &f->line;
	unsigned long j;

	if (s == NULL)
	{
		appendBinaryStringInfo(buf, "\\N", 2);
		return;
	}
	switch (col->kind)
	{
		case SRC_BINARY:
		case SRC_GEOMETRY:
			if (!f->hex[i])
			{
				/* bytes bound for text are text, as in the converters */
				s = EtlPullCheckUtf8(f->table->invalid_utf8, s, &len);
				break;
			}
			appendBinaryStringInfo(buf, "\\\\x", 3);
			for (j = 0; j < len; j++)
				appendStringInfo(buf, "%02x", (unsigned char) s[j]);
			return;
		case SRC_BIT:
			{
				int			nbits = col->length > 0 ? col->length : (int) len * 8;
				int			b;

				for (b = nbits - 1; b >= 0; b--)
				{
					long		byte = (long) len - 1 - b / 8;

					appendStringInfoChar(buf,
										 (byte >= 0 && ((unsigned char) s[byte] >> (b % 8)) & 1) ? '1' : '0');
				}
				return;
			}
		case SRC_SET:
			s = EtlPullCheckUtf8(f->table->invalid_utf8, s, &len);
			appendStringInfoChar(buf, '{');
			for (j = 0; j < len; j++)
			{
				if (j == 0)
					appendBinaryStringInfo(buf, "\"", 1);
				if (s[j] == ',')
					appendBinaryStringInfo(buf, "\",\"", 3);
				else if (s[j] == '"' || s[j] == '\\')
				{
					appendBinaryStringInfo(buf, "\\\\", 2);
					appendStringInfoChar(buf, s[j]);
				}
				else
					append_escaped(buf, s + j, 1);
			}
			if (len > 0)
				appendBinaryStringInfo(buf, "\"", 1);
			appendStringInfoChar(buf, '}');
			return;
		default:
			if (EtlPullIsZeroDate(col, s, len))
			{
				if (EtlPullZeroDateAction(f->table, col, s) == ETL_ZERO_DATES_INFINITY)
					appendStringInfoString(buf, "-infinity");
				else
					appendBinaryStringInfo(buf, "\\N", 2);
				return;
			}
			if (f->utc[i])
			{
				/*
				 * MySQL sends TIMESTAMP in the session's zone, UTC; DATETIME
				 * and DATE are read as UTC too
				 */
				append_escaped(buf, s, len);
				if (len == 10)
					appendBinaryStringInfo(buf, " 00:00:00", 9);
				appendBinaryStringInfo(buf, "+00", 3);
				return;
			}
			if (col->kind == SRC_CHAR || col->kind == SRC_TEXT ||
				col->kind == SRC_ENUM || col->kind == SRC_JSON)
				s = EtlPullCheckUtf8(f->table->invalid_utf8, s, &len);
			break;
	}
	append_escaped(buf, s, len);
}

/* Fetch the next MySQL row into the line buffer; false at the end */
static bool
render_next_row(CopyFeed *f)
{
	char	  **values;
	unsigned long *lengths;
	int			i;

	CHECK_FOR_INTERRUPTS();
	if (!EtlPullFetch(f->conn, &values, &lengths))
		return false;
	for (i = 0; i < f->source->ncolumns; i++)
	{
		if (i > 0)
			appendStringInfoChar(&f->line, '\t');
		render_value(f, i, values[i], lengths[i]);
	}
	for (i = 0; i < f->nnulls; i++)
		appendBinaryStringInfo(&f->line, "\t\\N", 3);
	appendStringInfoChar(&f->line, '\n');
	f->on_row(f->on_row_arg, lengths);
	return true;
}

/* COPY's data source: hand over at least minread bytes, or what is left */
static int
copy_read(void *outbuf, int minread, int maxread)
{
	CopyFeed   *f = feed;
	int			n = 0;

	while (n < minread)
	{
		int			avail = f->line.len - f->pos;

		if (avail == 0)
		{
			resetStringInfo(&f->line);
			f->pos = 0;
			if (f->eof || !render_next_row(f))
			{
				f->eof = true;
				break;
			}
			continue;
		}
		avail = Min(avail, maxread - n);
		memcpy((char *) outbuf + n, f->line.data + f->pos, avail);
		f->pos += avail;
		n += avail;
		if (n >= maxread)
			break;
	}
	return n;
}

/*
 * Load the rows of the query the caller has started on "conn" into "rel"
 * with COPY FROM.  attnums[i] is the target attribute of source column i.
 * on_row is called for every row read.  Returns the rows COPY inserted.
 */
uint64
EtlPullCopyRows(EtlPullConnection *conn, EtlPullTable *table,
				EtlPullSource *source, Relation rel, AttrNumber *attnums,
				EtlPullRowCallback on_row, void *on_row_arg)
{
	TupleDesc	tupdesc = RelationGetDescr(rel);
	ParseState *pstate;
	CopyFromState cstate;
	List	   *attnames = NIL;
	CopyFeed	f;
	CopyFeed   *outer = feed;
	List	   *options;
	uint64		n;
	int			i;

	memset(&f, 0, sizeof(f));
	f.conn = conn;
	f.table = table;
	f.source = source;
	f.on_row = on_row;
	f.on_row_arg = on_row_arg;
	f.utc = palloc0(sizeof(bool) * source->ncolumns);
	f.hex = palloc0(sizeof(bool) * source->ncolumns);
	initStringInfo(&f.line);
	for (i = 0; i < source->ncolumns; i++)
	{
		Form_pg_attribute att = TupleDescAttr(tupdesc, attnums[i] - 1);
		EtlPullSourceKind kind = source->columns[i].kind;

		attnames = lappend(attnames, makeString(pstrdup(NameStr(att->attname))));
		f.utc[i] = (getBaseType(att->atttypid) == TIMESTAMPTZOID &&
					(kind == SRC_DATE || kind == SRC_DATETIME ||
					 kind == SRC_TIMESTAMP));
		f.hex[i] = (getBaseType(att->atttypid) == BYTEAOID);
	}

	/*
	 * COPY leaves a column it is not given NULL (or its default) without
	 * checking the column's domain; an INSERT checks.  So a domain column
	 * without a default that no source column fills is given, as NULL, for
	 * the domain's input function to check, as in the other strategies.
	 */
	for (i = 1; i <= tupdesc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(tupdesc, i - 1);
		int			j;

		if (att->attisdropped || att->attgenerated ||
			get_typtype(att->atttypid) != TYPTYPE_DOMAIN)
			continue;
		for (j = 0; j < source->ncolumns; j++)
			if (attnums[j] == i)
				break;
		if (j < source->ncolumns || build_column_default(rel, i) != NULL)
			continue;
		attnames = lappend(attnames, makeString(pstrdup(NameStr(att->attname))));
		f.nnulls++;
	}

	/* MySQL's bytes are UTF-8 (utf8mb4), whatever client_encoding says */
	options = list_make1(makeDefElem("encoding",
									 (Node *) makeString("UTF8"), -1));

	pstate = make_parsestate(NULL);
	(void) addRangeTableEntryForRelation(pstate, rel, RowExclusiveLock,
										 NULL, false, false);
	feed = &f;
	PG_TRY();
	{
		cstate = BeginCopyFrom(pstate, rel, NULL, NULL, false, copy_read,
							   attnames, options);
		n = CopyFrom(cstate);
		EndCopyFrom(cstate);
	}
	PG_FINALLY();
	{
		feed = outer;
	}
	PG_END_TRY();
	free_parsestate(pstate);
	return n;
}
