/*-------------------------------------------------------------------------
 *
 * canon.c
 *		  The canonical text of a row, which verify.c compares by range
 *		  hashes: MySQL's SQL expression of each column's canonical value,
 *		  PostgreSQL's rendering of a loaded value into the same text (the
 *		  normal form of JSON documents included), the row's hash, and a
 *		  key's text read back for people.
 *
 * Design.  Every row has a canonical text that both servers can produce
 * exactly: MySQL computes it in SQL from the source columns, PostgreSQL
 * renders each loaded value back into it here, in C.  A column's piece is
 * "," followed by "N" for NULL, by "<bytes>:<text>" for text (UTF-8, its
 * length in bytes first, so that no text can pass for two values), or by
 * the value's exact form for everything else:
 *
 *	integers, decimals, years	decimal digits as MySQL prints them
 *	float, double				"<m>p<e>": the exact value m * 2^e, m an
 *								integer (53 bits for normal numbers); 0 is "0"
 *	bit(n)						n binary digits
 *	binary, blobs, geometry		upper-case hex of the bytes (WKB for geometry)
 *	date						YYYY-MM-DD
 *	datetime(p), timestamp(p)	YYYY-MM-DD HH:MM:SS[.f], p digits, in UTC
 *	time						the signed number of microseconds
 *	zero dates					NULL under zero_dates = null, else MySQL's
 *								text (which no loaded value matches)
 *	json into json or text		the document's text, as a text: MySQL's (the
 *								bytes MariaDB stores, or MySQL 8's
 *								rendering) is what the load stored
 *	json into jsonb				the document in a normal form both sides
 *								compute (below), or, from a server that
 *								cannot, presence only ("J"): the column is
 *								then "not compared", which the result says
 *
 * A jsonb target keeps no text: its normal form is MariaDB's JSON_NORMALIZE
 * (10.7 and later: keys sorted by their bytes, no blanks, every number as
 * d.dddEn with its exact digits) with the strings decoded, so that how the
 * source spelled a character (\u00e9, \/) does not matter.  MySQL decodes
 * them with one JSON_UNQUOTE of the whole normalized document made into one
 * string: four REGEXP_REPLACEs first turn \u0022 and \u005c into \" and \\,
 * those into \\\" and \\\\, and the quotes that delimit strings into \",
 * so that the decoded text has the delimiting quotes bare and a quote or a
 * backslash inside a string escaped, as PostgreSQL renders them walking the
 * jsonb (render_json); a document without a backslash has nothing to
 * decode, and skips that.  Every other character of a string is itself, a
 * control character included; the form needs no length before it, as a
 * string ends at its bare quote.  A value JSON_VALID refuses reads "X",
 * which no document renders as.  Two documents jsonb holds as equal have
 * the same form but where the source's spelling changes the order of keys
 * (a key spelled with an escape sorts by its escape at MySQL) or a key is
 * repeated (MySQL keeps both, jsonb the last): those read as different,
 * never the other way round.
 *
 * A row's hash is the CRC-32 of its text (zlib's, which MySQL's CRC32()
 * computes natively as an integer: an MD5 as text, cut and converted to a
 * number, cost MariaDB nearly as much as the rest of the query).  A CRC-32
 * always changes when the bytes that differ between a row's two texts lie
 * within 32 consecutive bits (four bytes: one digit, byte or bit changed,
 * or a carry over at most four digits, in a value of the same length); any
 * other change escapes with a probability of 2^-32.  verify.c sums them by
 * range, and buckets a key that is not a single integer by the CRC-32 of
 * its text.
 *
 * IDENTIFICATION
 *		  src/verify/canon.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/datetime.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/numeric.h"
#include "utils/timestamp.h"

#include "etl_pull.h"
#include "remote/remote.h"
#include "verify/verify.h"
#include "verify/canon.h"

/* ---- CRC-32 (zlib's, as MySQL's CRC32()) ---- */

/*
 * Eight tables, eight bytes a step ("slicing-by-8"): crc_table[0] is the
 * byte-at-a-time table, crc_table[k][n] the CRC of byte n followed by k
 * zero bytes.  The words are read little-endian, whatever the machine.
 */
static uint32 crc_table[8][256];
static bool crc_ready = false;

/*
 * The CRC-32 of canonical text "s", as MySQL's CRC32(s): a row's hash, and
 * the bucket of a key that is not a single integer
 */
uint32
EtlPullCanonCrc32(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *) s;
	uint32		crc = 0xFFFFFFFF;

	if (!crc_ready)
	{
		uint32		n;
		int			k;

		for (n = 0; n < 256; n++)
		{
			uint32		c = n;

			for (k = 0; k < 8; k++)
				c = (c & 1) ? 0xEDB88320 ^ (c >> 1) : c >> 1;
			crc_table[0][n] = c;
		}
		for (n = 0; n < 256; n++)
			for (k = 1; k < 8; k++)
				crc_table[k][n] = crc_table[0][crc_table[k - 1][n] & 0xFF] ^
					(crc_table[k - 1][n] >> 8);
		crc_ready = true;
	}
	for (; len >= 8; len -= 8, p += 8)
	{
		uint32		lo = crc ^ ((uint32) p[0] | (uint32) p[1] << 8 |
								(uint32) p[2] << 16 | (uint32) p[3] << 24);
		uint32		hi = (uint32) p[4] | (uint32) p[5] << 8 |
			(uint32) p[6] << 16 | (uint32) p[7] << 24;

		crc = crc_table[7][lo & 0xFF] ^ crc_table[6][(lo >> 8) & 0xFF] ^
			crc_table[5][(lo >> 16) & 0xFF] ^ crc_table[4][lo >> 24] ^
			crc_table[3][hi & 0xFF] ^ crc_table[2][(hi >> 8) & 0xFF] ^
			crc_table[1][(hi >> 16) & 0xFF] ^ crc_table[0][hi >> 24];
	}
	for (; len > 0; len--, p++)
		crc = crc_table[0][(crc ^ *p) & 0xFF] ^ (crc >> 8);
	return crc ^ 0xFFFFFFFF;
}

/* ---- the MySQL side: canonical text in SQL ---- */

/*
 * Whether MySQL server "conn" computes the normal form of a JSON document
 * (JSON_NORMALIZE: MariaDB 10.7 and later)
 */
static bool
json_normalizes(EtlPullConnection *conn)
{
	return EtlPullIsMariaDB(conn) && EtlPullServerVersion(conn) >= 100700;
}

/*
 * Why source column "col", loaded into a column of (base) type "typid",
 * cannot be compared with its source value on server "conn" (only whether
 * it is NULL is), or NULL when it can.  A JSON document loaded into jsonb
 * is compared in its normal form, which only MariaDB 10.7 and later
 * compute; into json or text, by its text, on every server.
 */
const char *
EtlPullVerifyGap(EtlPullConnection *conn, EtlPullSourceColumn *col, Oid typid)
{
	if (col->kind == SRC_JSON && typid == JSONBOID && !json_normalizes(conn))
		return "JSON into jsonb, only whether NULL: the MySQL server lacks JSON_NORMALIZE, which MariaDB has from 10.7";
	return NULL;
}

/* The canonical kind of source column "col" loaded into (base) type "typid" */
static EtlPullCanonKind
canon_kind(EtlPullConnection *conn, EtlPullSourceColumn *col, Oid typid)
{
	if (typid == JSONBOID)
	{
		/* a document (or a value loaded as one) jsonb normalized */
		if (json_normalizes(conn))
			return CK_JSON;
		if (col->kind == SRC_JSON)
			return CK_PRESENCE;
	}
	switch (col->kind)
	{
		case SRC_INT:
		case SRC_DECIMAL:
		case SRC_YEAR:
			return CK_NUMBER;
		case SRC_FLOAT:
		case SRC_DOUBLE:
			return CK_FLOAT;
		case SRC_BIT:
			return CK_BIT;
		case SRC_BINARY:
		case SRC_GEOMETRY:
			return CK_HEX;
		case SRC_DATE:
			return CK_DATE;
		case SRC_DATETIME:
		case SRC_TIMESTAMP:
			return CK_DATETIME;
		case SRC_TIME:
			return CK_TIME;
		default:
			/* JSON into json or text: MySQL's text is what was stored */
			return CK_TEXT;
	}
}

/*
 * Fill "cc" for source column "scol", loaded into attribute "attnum" of
 * tuple descriptor "desc", compared on server "conn": its canonical kind
 * (by the target's base type) and its type's output function.
 */
void
EtlPullCanonColumnInit(EtlPullCanonColumn *cc, EtlPullConnection *conn,
					   EtlPullSourceColumn *scol, TupleDesc desc,
					   AttrNumber attnum)
{
	Form_pg_attribute att = TupleDescAttr(desc, attnum - 1);
	Oid			outfn;
	bool		varlena;

	cc->scol = scol;
	cc->attnum = attnum;
	cc->typid = getBaseType(att->atttypid);
	cc->kind = canon_kind(conn, cc->scol, cc->typid);
	getTypeOutputInfo(att->atttypid, &outfn, &varlena);
	fmgr_info(outfn, &cc->out);
}

/*
 * The exact value of MySQL double "d" as "<m>p<e>" (see the head comment):
 * e is floor(log2 |d|), kept within the exponents of doubles (LOG2 of
 * DBL_MAX rounds to 1024), corrected for LOG2's rounding by comparing with
 * exact powers of two, and never below -1022 (subnormals); m = |d| / 2^(e -
 * 52) is then an integer below 2^53, exactly.
 */
static char *
mysql_float(const char *d)
{
	char	   *a = psprintf("ABS(%s)", d);
	char	   *l = psprintf("LEAST(GREATEST(FLOOR(LOG2(%s)), -1074), 1023)", a);
	char	   *e = psprintf("(%s + (POW(2, %s) <= %s / 2) - (POW(2, %s) > %s))",
							 l, l, a, l, a);
	char	   *s = psprintf("(GREATEST(%s, -1022) - 52)", e);

	return psprintf("IF(%s = 0, '0', CONCAT(IF(%s < 0, '-', ''), CAST(%s / POW(2, %s) AS UNSIGNED), 'p', %s))",
					d, d, a, s, s);
}

/*
 * MySQL's normal form of the JSON document "doc" (see the head comment):
 * "X" for what JSON_VALID refuses, NULL for NULL.  The patterns are PCRE's
 * (\x5c is a backslash), the replacements REGEXP_REPLACE's (\\ is one).
 */
static char *
mysql_json(EtlPullConnection *conn, const char *doc)
{
	static const char *const passes[][2] = {
		/* \u0022, \u005c: \", \\ (an escape starts after an even run of \) */
		{"(?<!\\x5c)((?:\\x5c\\x5c)*)\\x5cu0022", "\\1\\\\\""},
		{"(?<!\\x5c)((?:\\x5c\\x5c)*)\\x5cu005[cC]", "\\1\\\\\\\\"},
		/* \" and \\ survive the decoding as \" and \\ */
		{"\\x5c([\"\\x5c])", "\\\\\\\\\\\\\\1"},
		/* a quote that delimits a string: \", decoded as a bare one */
		{"(?<!\\x5c)((?:\\x5c\\x5c)*)\"", "\\1\\\\\""},
	};
	char	   *e = psprintf("JSON_NORMALIZE(%s)", doc);
	int			i;

	for (i = 0; i < lengthof(passes); i++)
		e = psprintf("REGEXP_REPLACE(%s, %s, %s)", e,
					 EtlPullQuoteLiteral(conn, passes[i][0]),
					 EtlPullQuoteLiteral(conn, passes[i][1]));

	/*
	 * A document without a backslash has no escape to decode: its
	 * normalized text is the form (the decoding costs MariaDB twice what
	 * JSON_NORMALIZE does)
	 */
	return psprintf("CASE JSON_VALID(%s) WHEN 0 THEN 'X' WHEN 1 THEN"
					" IFNULL(IF(LOCATE(%s, %s) = 0, JSON_NORMALIZE(%s),"
					" JSON_UNQUOTE(CONCAT('\"', %s, '\"'))), 'X') END",
					doc, EtlPullQuoteLiteral(conn, "\\"), doc, doc, e);
}

/*
 * MySQL's expression of a column's canonical value, for table "table" on
 * server "conn" (NULL for NULL; dates: see below)
 */
static char *
mysql_canon(EtlPullConnection *conn, EtlPullTable *table,
			EtlPullCanonColumn *cc)
{
	EtlPullSourceColumn *col = cc->scol;
	char	   *q = EtlPullQuoteIdent(col->name);
	bool		zero_null = (table->zero_dates == ETL_ZERO_DATES_NULL);

	switch (cc->kind)
	{
		case CK_NUMBER:
			return col->kind == SRC_YEAR ? psprintf("(%s + 0)", q) : q;
		case CK_FLOAT:
			return mysql_float(col->kind == SRC_FLOAT ?
							   psprintf("CAST(%s AS DOUBLE)", q) : q);
		case CK_BIT:
			return psprintf("LPAD(BIN(%s + 0), %d, '0')", q, col->length);
		case CK_HEX:
			return col->kind == SRC_GEOMETRY ?
				psprintf("HEX(ST_AsBinary(%s))", q) : psprintf("HEX(%s)", q);
		case CK_DATE:
		case CK_DATETIME:
			/*
			 * MySQL's own text, the value itself (YYYY-MM-DD, and the
			 * column's fractional digits, no more); a zero date, whose
			 * TO_DAYS is NULL, reads "N" under zero_dates = null, as NULL
			 * does (one call where MONTH and DAYOFMONTH were two, and no
			 * IFNULL: see EtlPullCanonSourceText).
			 */
			return zero_null ? psprintf("IF(TO_DAYS(%s), %s, 'N')", q, q) : q;
		case CK_TIME:
			return psprintf("CAST(TIME_TO_SEC(%s) * 1000000 AS SIGNED)", q);
		case CK_JSON:
			return mysql_json(conn, psprintf("CONVERT(%s USING utf8mb4)", q));
		case CK_PRESENCE:
			return psprintf("IF(%s IS NULL, NULL, 'J')", q);
		case CK_TEXT:
			break;
	}
	return psprintf("CONVERT(%s USING utf8mb4)", q);
}

/*
 * MySQL's text of the pieces of columns "which" of "cols" (all n if
 * NULL), for table "table" on server "conn": one
 * CONCAT_WS(',', '', ...) whose arguments are the values themselves (each
 * piece then starts with its comma), "N" for NULL; no value of a non-text
 * kind reads "N", and a text is prefixed by its length.  A NOT NULL column
 * needs no IFNULL, nor does a date under zero_dates = null (mysql_canon
 * reads NULL as "N" there).  (CONCAT_WS over plain arguments costs
 * MariaDB about half of nested CONCATs.)
 */
char *
EtlPullCanonSourceText(EtlPullConnection *conn, EtlPullTable *table,
					   EtlPullCanonColumn *cols, int *which, int n)
{
	StringInfoData buf;
	int			i;

	initStringInfo(&buf);
	appendStringInfoString(&buf, "CONCAT_WS(',', ''");
	for (i = 0; i < n; i++)
	{
		EtlPullCanonColumn *cc = &cols[which ? which[i] : i];
		char	   *e = mysql_canon(conn, table, cc);
		bool		nullable = cc->scol->nullable &&
			!((cc->kind == CK_DATE || cc->kind == CK_DATETIME) &&
			  table->zero_dates == ETL_ZERO_DATES_NULL);

		if (cc->kind == CK_TEXT)
			e = psprintf("CONCAT(LENGTH(%s), ':', %s)", e, e);
		appendStringInfo(&buf, nullable ? ", IFNULL(%s, 'N')" : ", %s", e);
	}
	appendStringInfoChar(&buf, ')');
	return buf.data;
}

/* ---- the PostgreSQL side: each loaded value rendered back ---- */

/* Decimal digits of "n" (no format string: this runs for every value) */
static inline void
append_int64(StringInfo buf, int64 n)
{
	enlargeStringInfo(buf, MAXINT8LEN + 1);
	buf->len += pg_lltoa(n, buf->data + buf->len);
}

/* "n" (0 <= n < 10^width) in exactly "width" digits */
static inline void
append_digits(StringInfo buf, int n, int width)
{
	char	   *p;

	enlargeStringInfo(buf, width + 1);
	p = buf->data + buf->len + width;
	*p = '\0';
	buf->len += width;
	while (width-- > 0)
	{
		*--p = '0' + n % 10;
		n /= 10;
	}
}

static void
render_float(StringInfo buf, double x)
{
	int			e;
	int			s;
	double		a = fabs(x);

	if (isnan(x) || isinf(x))
	{
		appendStringInfoString(buf, isnan(x) ? "nan" : "inf");
		return;
	}
	if (x == 0)
	{
		appendStringInfoChar(buf, '0');
		return;
	}
	(void) frexp(a, &e);		/* a = f * 2^e, f in [0.5, 1) */
	s = Max(e - 1, -1022) - 52;
	appendStringInfo(buf, "%s" UINT64_FORMAT "p%d", x < 0 ? "-" : "",
					 (uint64) ldexp(a, -s), s);
}

/*
 * A date, or a date and time with "digits" fractional digits, as MySQL
 * prints a DATETIME(digits); a value with more precision than that (which
 * no such MySQL value has) gets all six, so that it matches none.
 */
static void
render_timestamp(StringInfo buf, Timestamp ts, bool with_time, int digits)
{
	int64		days;
	int64		usec;
	int			y,
				m,
				d;

	if (TIMESTAMP_NOT_FINITE(ts))
	{
		appendStringInfoString(buf, "inf");
		return;
	}
	days = ts / USECS_PER_DAY;
	usec = ts - days * USECS_PER_DAY;
	if (usec < 0)
	{
		days--;
		usec += USECS_PER_DAY;
	}
	j2date((int) days + POSTGRES_EPOCH_JDATE, &y, &m, &d);
	if (y >= 0 && y <= 9999)
		append_digits(buf, y, 4);
	else
		appendStringInfo(buf, "%04d", y);
	appendStringInfoChar(buf, '-');
	append_digits(buf, m, 2);
	appendStringInfoChar(buf, '-');
	append_digits(buf, d, 2);
	if (with_time)
	{
		int			frac = (int) (usec % USECS_PER_SEC);
		int			unit = 1;
		int			i;

		appendStringInfoChar(buf, ' ');
		append_digits(buf, (int) (usec / USECS_PER_HOUR), 2);
		appendStringInfoChar(buf, ':');
		append_digits(buf, (int) (usec / USECS_PER_MINUTE % 60), 2);
		appendStringInfoChar(buf, ':');
		append_digits(buf, (int) (usec / USECS_PER_SEC % 60), 2);
		digits = Min(Max(digits, 0), 6);
		for (i = digits; i < 6; i++)
			unit *= 10;
		if (frac % unit != 0)
			digits = 6, unit = 1;
		if (digits > 0)
		{
			appendStringInfoChar(buf, '.');
			append_digits(buf, frac / unit, digits);
		}
	}
}

/* Append the bytes of text "s" in UTF-8 (the database's may differ) */
static void
append_utf8(StringInfo buf, const char *s, int len)
{
	if (GetDatabaseEncoding() != PG_UTF8)
	{
		s = (const char *) pg_do_encoding_conversion((unsigned char *) s, len,
													 GetDatabaseEncoding(), PG_UTF8);
		len = strlen(s);
	}
	appendBinaryStringInfo(buf, s, len);
}

/* ---- a jsonb document in the normal form (see the head comment) ---- */

/* A key of an object and its value, the key in UTF-8 */
typedef struct JsonPair
{
	char	   *key;
	int			keylen;
	JsonbValue	value;
} JsonPair;

/* Keys in the order of their bytes, a key before the longer ones it begins */
static int
cmp_json_pairs(const void *a, const void *b)
{
	const JsonPair *x = (const JsonPair *) a;
	const JsonPair *y = (const JsonPair *) b;
	int			c = memcmp(x->key, y->key, Min(x->keylen, y->keylen));

	return c != 0 ? c : (x->keylen > y->keylen) - (x->keylen < y->keylen);
}

/*
 * A string (in the database's encoding, or in UTF-8 already when "utf8"):
 * its UTF-8 bytes, a quote and a backslash escaped, between quotes
 */
static void
render_json_string(StringInfo buf, const char *s, int len, bool utf8)
{
	StringInfoData u;
	int			i;

	initStringInfo(&u);
	if (utf8)
		appendBinaryStringInfo(&u, s, len);
	else
		append_utf8(&u, s, len);
	appendStringInfoChar(buf, '"');
	for (i = 0; i < u.len; i++)
	{
		if (u.data[i] == '"' || u.data[i] == '\\')
			appendStringInfoChar(buf, '\\');
		appendStringInfoChar(buf, u.data[i]);
	}
	appendStringInfoChar(buf, '"');
	pfree(u.data);
}

/*
 * A number as JSON_NORMALIZE writes it: its significant digits as
 * d.ddd (d.0 for one digit), "E" and the power of ten; zero is 0.0E0
 */
static void
render_json_number(StringInfo buf, Numeric num)
{
	char	   *s = DatumGetCString(DirectFunctionCall1(numeric_out, NumericGetDatum(num)));
	StringInfoData digits;
	int			point = -1;
	int			first;
	char	   *p;

	initStringInfo(&digits);
	for (p = s; *p; p++)
	{
		if (*p == '.')
			point = digits.len;
		else if (*p >= '0' && *p <= '9')
			appendStringInfoChar(&digits, *p);
	}
	if (point < 0)
		point = digits.len;
	for (first = 0; first < digits.len && digits.data[first] == '0'; first++)
		;
	while (digits.len > first && digits.data[digits.len - 1] == '0')
		digits.len--;
	if (first == digits.len)
	{
		appendStringInfoString(buf, "0.0E0");
		return;
	}
	appendStringInfo(buf, "%s%c.%.*sE%d", s[0] == '-' ? "-" : "",
					 digits.data[first],
					 digits.len - first > 1 ? digits.len - first - 1 : 1,
					 digits.len - first > 1 ? digits.data + first + 1 : "0",
					 point - first - 1);
}

static void render_json(StringInfo buf, JsonbContainer *c);

static void
render_json_value(StringInfo buf, JsonbValue *v)
{
	switch (v->type)
	{
		case jbvNull:
			appendStringInfoString(buf, "null");
			break;
		case jbvBool:
			appendStringInfoString(buf, v->val.boolean ? "true" : "false");
			break;
		case jbvNumeric:
			render_json_number(buf, v->val.numeric);
			break;
		case jbvString:
			render_json_string(buf, v->val.string.val, v->val.string.len, false);
			break;
		case jbvBinary:
			render_json(buf, v->val.binary.data);
			break;
		default:
			elog(ERROR, "unexpected jsonb value type %d", (int) v->type);
	}
}

/*
 * A jsonb document (or a nested container of one) in the normal form:
 * arrays in order, objects with their keys sorted by their UTF-8 bytes
 * (jsonb keeps them by length first), no blanks
 */
static void
render_json(StringInfo buf, JsonbContainer *c)
{
	JsonbIterator *it;
	JsonbValue	v;
	JsonbIteratorToken tok;
	bool		first = true;

	check_stack_depth();
	if (JsonContainerIsScalar(c))
	{
		if (!JsonbExtractScalar(c, &v))
			elog(ERROR, "could not read a scalar jsonb document");
		render_json_value(buf, &v);
		return;
	}
	it = JsonbIteratorInit(c);
	tok = JsonbIteratorNext(&it, &v, true);
	if (tok == WJB_BEGIN_ARRAY)
	{
		appendStringInfoChar(buf, '[');
		while ((tok = JsonbIteratorNext(&it, &v, true)) == WJB_ELEM)
		{
			if (!first)
				appendStringInfoChar(buf, ',');
			first = false;
			render_json_value(buf, &v);
		}
		appendStringInfoChar(buf, ']');
	}
	else if (tok == WJB_BEGIN_OBJECT)
	{
		JsonPair   *pairs = palloc(sizeof(JsonPair) * Max(JsonContainerSize(c), 1));
		int			n = 0;
		int			i;

		while ((tok = JsonbIteratorNext(&it, &v, true)) == WJB_KEY)
		{
			StringInfoData key;

			if (n >= JsonContainerSize(c))
				elog(ERROR, "jsonb object has more keys than it says");
			initStringInfo(&key);
			append_utf8(&key, v.val.string.val, v.val.string.len);
			pairs[n].key = key.data;
			pairs[n].keylen = key.len;
			if (JsonbIteratorNext(&it, &pairs[n].value, true) != WJB_VALUE)
				elog(ERROR, "jsonb object key without a value");
			n++;
		}
		qsort(pairs, n, sizeof(JsonPair), cmp_json_pairs);
		appendStringInfoChar(buf, '{');
		for (i = 0; i < n; i++)
		{
			if (i > 0)
				appendStringInfoChar(buf, ',');
			render_json_string(buf, pairs[i].key, pairs[i].keylen, true);
			appendStringInfoChar(buf, ':');
			render_json_value(buf, &pairs[i].value);
		}
		appendStringInfoChar(buf, '}');
	}
	else
		elog(ERROR, "unexpected jsonb iterator token %d", (int) tok);
}

/* The value through its type's output function */
static void
render_output(StringInfo buf, EtlPullCanonColumn *cc, Datum d)
{
	appendStringInfoString(buf, OutputFunctionCall(&cc->out, d));
}

/* Append the canonical value of one loaded column (not NULL) */
static void
render_target_value(StringInfo buf, EtlPullCanonColumn *cc, Datum d)
{
	switch (cc->kind)
	{
		case CK_NUMBER:
			if (cc->typid == INT2OID)
				append_int64(buf, DatumGetInt16(d));
			else if (cc->typid == INT4OID)
				append_int64(buf, DatumGetInt32(d));
			else if (cc->typid == INT8OID)
				append_int64(buf, DatumGetInt64(d));
			else if (cc->typid == BOOLOID)
				appendStringInfoChar(buf, DatumGetBool(d) ? '1' : '0');
			else
				render_output(buf, cc, d);
			return;
		case CK_FLOAT:
			if (cc->typid == FLOAT8OID)
				render_float(buf, DatumGetFloat8(d));
			else if (cc->typid == FLOAT4OID)
				render_float(buf, (double) DatumGetFloat4(d));
			else
				render_output(buf, cc, d);
			return;
		case CK_HEX:
			if (cc->typid == BYTEAOID)
			{
				bytea	   *b = DatumGetByteaPP(d);
				const unsigned char *p = (const unsigned char *) VARDATA_ANY(b);
				int			n = VARSIZE_ANY_EXHDR(b);
				int			i;
				static const char hex[] = "0123456789ABCDEF";

				enlargeStringInfo(buf, 2 * n);
				for (i = 0; i < n; i++)
				{
					buf->data[buf->len++] = hex[p[i] >> 4];
					buf->data[buf->len++] = hex[p[i] & 15];
				}
				buf->data[buf->len] = '\0';
			}
			else
				render_output(buf, cc, d);
			return;
		case CK_DATE:
			if (cc->typid == DATEOID)
			{
				DateADT		date = DatumGetDateADT(d);

				if (DATE_NOT_FINITE(date))
					appendStringInfoString(buf, "inf");
				else
					render_timestamp(buf, (Timestamp) date * USECS_PER_DAY, false, 0);
			}
			else if (cc->typid == TIMESTAMPOID || cc->typid == TIMESTAMPTZOID)
				render_timestamp(buf, DatumGetTimestamp(d), false, 0);
			else
				render_output(buf, cc, d);
			return;
		case CK_DATETIME:
			if (cc->typid == TIMESTAMPOID || cc->typid == TIMESTAMPTZOID)
				render_timestamp(buf, DatumGetTimestamp(d), true, cc->scol->scale);
			else
				render_output(buf, cc, d);
			return;
		case CK_TIME:
			if (cc->typid == INTERVALOID)
			{
				Interval   *iv = DatumGetIntervalP(d);

				if (iv->month != 0)
					appendStringInfo(buf, "%dmon", iv->month);
				appendStringInfo(buf, INT64_FORMAT,
								 iv->time + (int64) iv->day * USECS_PER_DAY);
			}
			else
				render_output(buf, cc, d);
			return;
		case CK_JSON:
			render_json(buf, &DatumGetJsonbP(d)->root);
			return;
		case CK_PRESENCE:
			appendStringInfoChar(buf, 'J');
			return;
		case CK_BIT:
		case CK_TEXT:
			break;
	}
	render_output(buf, cc, d);
}

/*
 * Append the piece of one column of a row: ",N", ",<len>:<text>" or
 * ",<value>".
 */
static void
render_piece(StringInfo buf, EtlPullCanonColumn *cc, Datum *values, bool *nulls)
{
	Datum		d = values[cc->attnum - 1];

	appendStringInfoChar(buf, ',');
	if (nulls[cc->attnum - 1])
	{
		appendStringInfoChar(buf, 'N');
		return;
	}
	if (cc->kind == CK_TEXT)
	{
		StringInfoData t;

		initStringInfo(&t);
		if (cc->typid == TEXTOID || cc->typid == VARCHAROID ||
			cc->typid == BPCHAROID)
		{
			text	   *txt = DatumGetTextPP(d);

			append_utf8(&t, VARDATA_ANY(txt), VARSIZE_ANY_EXHDR(txt));
		}
		else if (cc->typid == TEXTARRAYOID)
		{
			ArrayType  *arr = DatumGetArrayTypeP(d);
			Datum	   *elems;
			bool	   *enulls;
			int			n;
			int			i;

			deconstruct_array(arr, TEXTOID, -1, false, TYPALIGN_INT,
							  &elems, &enulls, &n);
			for (i = 0; i < n; i++)
			{
				if (i > 0)
					appendStringInfoChar(&t, ',');
				if (!enulls[i])
					append_utf8(&t, VARDATA_ANY(DatumGetTextPP(elems[i])),
								VARSIZE_ANY_EXHDR(DatumGetTextPP(elems[i])));
			}
		}
		else
		{
			char	   *s = OutputFunctionCall(&cc->out, d);

			append_utf8(&t, s, strlen(s));
		}
		appendStringInfo(buf, "%d:", t.len);
		appendBinaryStringInfo(buf, t.data, t.len);
		return;
	}
	render_target_value(buf, cc, d);
}

/*
 * Append the canonical text of columns "which" of "cols" (all n if NULL)
 * of a target row, from its deformed "values" and "nulls"
 */
void
EtlPullCanonTargetText(StringInfo buf, EtlPullCanonColumn *cols, int *which,
					   int n, Datum *values, bool *nulls)
{
	int			i;

	for (i = 0; i < n; i++)
		render_piece(buf, &cols[which ? which[i] : i], values, nulls);
}

/*
 * Canonical text "s" (len bytes) of columns "which" of "cols" (ncols of
 * them: a key's), as "col=value, ...", for people: the pieces are read back (a
 * text piece by its length), values shown printable.
 */
char *
EtlPullCanonLabel(EtlPullCanonColumn *cols, int *which, int ncols,
				  const char *s, size_t len)
{
	StringInfoData buf;
	const char *p = s;
	const char *end = s + len;
	int			i;

	initStringInfo(&buf);
	for (i = 0; i < ncols && p < end && *p == ','; i++)
	{
		EtlPullCanonColumn *cc = &cols[which ? which[i] : i];
		const char *val;
		size_t		n;

		p++;
		if (p < end && *p == 'N' && (p + 1 == end || p[1] == ','))
		{
			val = "NULL";
			n = 4;
			p++;
		}
		else if (cc->kind == CK_TEXT)
		{
			long		l = strtol(p, (char **) &val, 10);

			if (val >= end || *val != ':' || l < 0 || l > end - val - 1)
				break;
			val++;
			n = l;
			p = val + l;
		}
		else
		{
			val = p;
			while (p < end && *p != ',')
				p++;
			n = p - val;
		}
		appendStringInfo(&buf, "%s%s=%s", i ? ", " : "",
						 cc->scol->target_name,
						 EtlPullPrintable(pnstrdup(val, n), 200));
	}
	return buf.data;
}
