/*-------------------------------------------------------------------------
 *
 * verify.c
 *		  Compare a target with its MySQL source: range hashes of a
 *		  canonical text of every row, computed on each side, and the
 *		  ranges that differ bisected down to rows.
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
 * number, cost MariaDB nearly as much as the rest of the query); a range's
 * is the sum of its rows' hashes modulo 2^64 (order-free, and duplicates do
 * not cancel as they would with XOR).  A CRC-32 always changes when the
 * bytes that differ between a row's two texts lie within 32 consecutive
 * bits (four bytes: one digit, byte or bit changed, or a carry over at most
 * four digits, in a value of the same length); any other change escapes
 * with a probability of 2^-32.  Ranges cut the key: a single
 * integer key into intervals of equal width between the source's MIN and
 * MAX; any other key into buckets by CRC32 of its canonical text, which
 * MySQL's CRC32() computes on the same bytes.  A table without a key is one
 * range, a multiset: its rows cannot be located.  The number of ranges
 * follows the table's size, about rows_per_range rows each, so that a
 * verify costs one aggregate query at MySQL and one heap scan here, at the
 * same time; only ranges that differ are read again, row by row (key and
 * hash), and compared by key.  With an integer key, the target's rows of
 * those ranges are read by an index on the key when at most half of them
 * differ (key_index: a plain btree on a NOT NULL key), not by a second
 * scan of the heap.
 *
 * Nothing from MySQL becomes SQL: ranges and counts are parsed as numbers
 * and checked; keys are only compared and reported, but for the integer
 * keys of a diff run's changed rows, parsed as numbers and printed anew.
 *
 * IDENTIFICATION
 *		  src/verify/verify.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "access/genam.h"
#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/skey.h"
#include "access/stratnum.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/pg_am.h"
#include "catalog/pg_class.h"
#include "catalog/pg_index.h"
#include "catalog/pg_type.h"
#include "commands/defrem.h"
#include "common/cryptohash.h"
#include "common/int.h"
#include "executor/spi.h"
#include "executor/tuptable.h"
#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/datetime.h"
#include "utils/hsearch.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/numeric.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"
#include "utils/varbit.h"

#include "etl_pull.h"
#include "remote/remote.h"
#include "verify/verify.h"

/* The canonical form of a column, by its source kind */
typedef enum CanonKind
{
	CK_NUMBER,
	CK_FLOAT,
	CK_BIT,
	CK_TEXT,
	CK_HEX,
	CK_DATE,
	CK_DATETIME,
	CK_TIME,
	CK_JSON,					/* a jsonb document in its normal form */
	CK_PRESENCE					/* NULL or not: a column not compared */
} CanonKind;

typedef struct CanonColumn
{
	EtlPullSourceColumn *scol;
	CanonKind	kind;
	AttrNumber	attnum;			/* in the target */
	Oid			typid;			/* the target's (base) type */
	FmgrInfo	out;			/* its output function, for the others */
} CanonColumn;

struct EtlPullVerify
{
	EtlPullConnection *conn;
	EtlPullTable *table;
	EtlPullSource *source;
	Relation	rel;
	int			ncols;
	CanonColumn *cols;
	List	   *uncompared;		/* the CK_PRESENCE columns' target names */
	List	   *uncompared_why; /* and why each is not compared */
	int			nkey;
	int		   *keycols;		/* index in cols of each key column */
	bool		int_key;		/* ranges are intervals of one integer key */
	int64		lo;				/* first key of range 0 */
	int64		width;			/* keys per range */
	int			nranges;
	char	   *src_from;		/* `db`.`table` */
	char	   *src_row;		/* MySQL: the canonical row text */
	char	   *src_key;		/* MySQL: the canonical key text */
	char	   *src_range;		/* MySQL: the range number of a row */
	/* per range, each side */
	int64	   *scount;
	uint64	   *ssum;
	int64	   *tcount;
	uint64	   *tsum;
	bool	   *differs;
	/* a diff run's rows to pull and to delete (EtlPullVerifyChangedRows) */
	bool		collect;
	int64	   *pull_keys;
	int			npull;
	int			maxpull;
	ItemPointerData *extra_tids;
	int			nextra;
	int			maxextra;
	pg_cryptohash_ctx *md5;
	MemoryContext rowcxt;
};

/* ---- CRC-32 (zlib's, as MySQL's CRC32()) ---- */

/*
 * Eight tables, eight bytes a step ("slicing-by-8"): crc_table[0] is the
 * byte-at-a-time table, crc_table[k][n] the CRC of byte n followed by k
 * zero bytes.  The words are read little-endian, whatever the machine.
 */
static uint32 crc_table[8][256];
static bool crc_ready = false;

static uint32
crc32_bytes(const char *s, size_t len)
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

static CanonKind
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
mysql_json(EtlPullVerify *v, const char *doc)
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
					 EtlPullQuoteLiteral(v->conn, passes[i][0]),
					 EtlPullQuoteLiteral(v->conn, passes[i][1]));

	/*
	 * A document without a backslash has no escape to decode: its
	 * normalized text is the form (the decoding costs MariaDB twice what
	 * JSON_NORMALIZE does)
	 */
	return psprintf("CASE JSON_VALID(%s) WHEN 0 THEN 'X' WHEN 1 THEN"
					" IFNULL(IF(LOCATE(%s, %s) = 0, JSON_NORMALIZE(%s),"
					" JSON_UNQUOTE(CONCAT('\"', %s, '\"'))), 'X') END",
					doc, EtlPullQuoteLiteral(v->conn, "\\"), doc, doc, e);
}

/* MySQL's expression of a column's canonical value (NULL for NULL; dates: see below) */
static char *
mysql_canon(EtlPullVerify *v, CanonColumn *cc)
{
	EtlPullSourceColumn *col = cc->scol;
	char	   *q = EtlPullQuoteIdent(col->name);
	bool		zero_null = (v->table->zero_dates == ETL_ZERO_DATES_NULL);

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
			 * IFNULL: see mysql_text).
			 */
			return zero_null ? psprintf("IF(TO_DAYS(%s), %s, 'N')", q, q) : q;
		case CK_TIME:
			return psprintf("CAST(TIME_TO_SEC(%s) * 1000000 AS SIGNED)", q);
		case CK_JSON:
			return mysql_json(v, psprintf("CONVERT(%s USING utf8mb4)", q));
		case CK_PRESENCE:
			return psprintf("IF(%s IS NULL, NULL, 'J')", q);
		case CK_TEXT:
			break;
	}
	return psprintf("CONVERT(%s USING utf8mb4)", q);
}

/*
 * MySQL's text of the pieces of columns "which" (n of them): one
 * CONCAT_WS(',', '', ...) whose arguments are the values themselves (each
 * piece then starts with its comma), "N" for NULL; no value of a non-text
 * kind reads "N", and a text is prefixed by its length.  A NOT NULL column
 * needs no IFNULL, nor does a date under zero_dates = null (mysql_canon
 * reads NULL as "N" there).  (CONCAT_WS over plain arguments costs
 * MariaDB about half of nested CONCATs.)
 */
static char *
mysql_text(EtlPullVerify *v, int *which, int n)
{
	StringInfoData buf;
	int			i;

	initStringInfo(&buf);
	appendStringInfoString(&buf, "CONCAT_WS(',', ''");
	for (i = 0; i < n; i++)
	{
		CanonColumn *cc = &v->cols[which ? which[i] : i];
		char	   *e = mysql_canon(v, cc);
		bool		nullable = cc->scol->nullable &&
			!((cc->kind == CK_DATE || cc->kind == CK_DATETIME) &&
			  v->table->zero_dates == ETL_ZERO_DATES_NULL);

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
render_output(StringInfo buf, CanonColumn *cc, Datum d)
{
	appendStringInfoString(buf, OutputFunctionCall(&cc->out, d));
}

/* Append the canonical value of one loaded column (not NULL) */
static void
render_target_value(StringInfo buf, CanonColumn *cc, Datum d)
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
render_piece(StringInfo buf, CanonColumn *cc, Datum *values, bool *nulls)
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

/* A row's hash: the CRC-32 of its text "s", as MySQL's CRC32(s) */
static uint64
row_hash(const char *s, size_t len)
{
	return (uint64) crc32_bytes(s, len);
}

/* ---- setup ---- */

/* A row count in MySQL's reply: a malformed reply unless an integer >= 0 */
static int64
reply_count(EtlPullVerify *v, const char *s)
{
	int64		n = EtlPullReplyInt64(v->conn, s, "A row count");

	if (n < 0)
		EtlPullBadReply(v->conn, psprintf("A row count is " INT64_FORMAT ".", n));
	return n;
}

/* MIN and MAX of the integer key at the source; false if it has no rows */
static bool
source_key_bounds(EtlPullVerify *v, int64 *lo, int64 *hi)
{
	char	   *k = EtlPullQuoteIdent(v->cols[v->keycols[0]].scol->name);
	char	  **row;

	row = EtlPullQueryRow(v->conn, psprintf("SELECT MIN(%s), MAX(%s) FROM %s", k, k,
											v->src_from), 2, false);
	if (row[0] == NULL && row[1] == NULL)
		return false;
	*lo = EtlPullReplyInt64(v->conn, row[0], psprintf("MIN(%s)", k));
	*hi = EtlPullReplyInt64(v->conn, row[1], psprintf("MAX(%s)", k));
	if (*lo > *hi)
		EtlPullBadReply(v->conn, psprintf("MIN(%s) is greater than MAX(%s).", k, k));
	return true;
}

/*
 * How many ranges a comparison of "rel" with "source" starts from: about
 * rows_per_range rows each, by the larger side's estimate (an integer
 * key's span may cut that down, see EtlPullVerifyBegin).
 */
int
EtlPullVerifyRangeCount(EtlPullSource *source, Relation rel, int rows_per_range)
{
	int64		rows = Max(source->estimated_rows, (int64) rel->rd_rel->reltuples);

	return (int) Min(Max(rows / Max(rows_per_range, 1), 1), 1 << 20);
}

/*
 * Why target "rel" cannot be compared with its source, or NULL when it can
 * (a plain table).  The reason says what the target is instead, completing
 * "... compares a plain table only, and " (etl_pull.plan() and the diff
 * strategy word it so); EtlPullVerifyBegin refuses such a target.
 *
 * Only a plain table can be compared: its rows are read through its table
 * access method, by its own attribute numbers, and a diff run deletes them
 * by TID, which a partitioned table's partitions share; a foreign table
 * has no such access.
 */
const char *
EtlPullVerifyUnsuitable(Relation rel)
{
	switch (rel->rd_rel->relkind)
	{
		case RELKIND_RELATION:
			return NULL;
		case RELKIND_PARTITIONED_TABLE:
			return "the target is a partitioned table";
		case RELKIND_FOREIGN_TABLE:
			return "the target is a foreign table";
		default:
			return "the target is not one";
	}
}

/*
 * Prepare the comparison of target "rel" (or a new heap of its row type)
 * with the source, reading under the connection's snapshot.  "attnums"
 * maps each source column to its target attribute.  The ranges are sized
 * for about rows_per_range rows each.
 *
 * A target that cannot be compared (EtlPullVerifyUnsuitable) is refused
 * here, for every caller.  No policy filters the access to its rows
 * either: the callers refuse a table whose row-level security applies to
 * the caller (EtlPullRefuseRowSecurity: verify_table before it connects,
 * a load for a diff run or the setting verify), since a load gets here as
 * the target's owner.
 */
EtlPullVerify *
EtlPullVerifyBegin(EtlPullConnection *conn, EtlPullTable *table,
				   EtlPullSource *source, Relation rel, AttrNumber *attnums,
				   int rows_per_range)
{
	EtlPullVerify *v;
	TupleDesc	desc = RelationGetDescr(rel);
	List	   *key = EtlPullSourceKey(source);
	ListCell   *lc;
	int			i;

	if (EtlPullVerifyUnsuitable(rel) != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("cannot compare \"%s\" with MySQL table \"%s.%s\"",
						RelationGetRelationName(rel), source->db, source->table),
				 errdetail_relkind_not_supported(rel->rd_rel->relkind),
				 errhint("verify_table, repair_table, extraction \"diff\" and the setting \"verify\" compare plain tables only.")));

	v = palloc0(sizeof(EtlPullVerify));

	v->conn = conn;
	v->table = table;
	v->source = source;
	v->rel = rel;
	v->ncols = source->ncolumns;
	v->cols = palloc0(sizeof(CanonColumn) * v->ncols);
	v->src_from = psprintf("%s.%s", EtlPullQuoteIdent(source->db),
						   EtlPullQuoteIdent(source->table));
	for (i = 0; i < v->ncols; i++)
	{
		CanonColumn *cc = &v->cols[i];
		Form_pg_attribute att = TupleDescAttr(desc, attnums[i] - 1);
		Oid			outfn;
		bool		varlena;

		cc->scol = &source->columns[i];
		cc->attnum = attnums[i];
		cc->typid = getBaseType(att->atttypid);
		cc->kind = canon_kind(conn, cc->scol, cc->typid);
		if (cc->kind == CK_PRESENCE)
		{
			v->uncompared = lappend(v->uncompared, cc->scol->target_name);
			v->uncompared_why = lappend(v->uncompared_why,
										(char *) EtlPullVerifyGap(conn, cc->scol, cc->typid));
		}
		getTypeOutputInfo(att->atttypid, &outfn, &varlena);
		fmgr_info(outfn, &cc->out);
	}
	v->nkey = list_length(key);
	v->keycols = palloc(sizeof(int) * Max(v->nkey, 1));
	i = 0;
	foreach(lc, key)
		v->keycols[i++] = (EtlPullSourceColumn *) lfirst(lc) - source->columns;

	v->src_row = mysql_text(v, NULL, v->ncols);
	if (v->nkey > 0)
		v->src_key = mysql_text(v, v->keycols, v->nkey);

	v->nranges = EtlPullVerifyRangeCount(source, rel, rows_per_range);
	if (v->nkey == 0)
		v->nranges = 1;

	/*
	 * Intervals of an integer key need the target's key column to hold
	 * integers too (target_row_range reads it as one): a target that declares
	 * it numeric, text or anything else is bucketed by the key's text.
	 */
	v->int_key = (v->nkey == 1 && EtlPullIntegerKey(source) != NULL);
	if (v->int_key)
	{
		Oid			keytype = v->cols[v->keycols[0]].typid;
		EtlPullSourceColumn *scol = v->cols[v->keycols[0]].scol;

		/* the interval arithmetic is signed: a BIGINT UNSIGNED key is bucketed */
		v->int_key = (keytype == INT2OID || keytype == INT4OID || keytype == INT8OID) &&
			!(scol->int_bytes == 8 && scol->is_unsigned);
	}
	if (v->int_key)
	{
		int64		lo = 0,
					hi = 0,
					span;

		if (!source_key_bounds(v, &lo, &hi))
			v->nranges = 1;
		if (pg_sub_s64_overflow(hi, lo, &span) || span == PG_INT64_MAX)
			v->int_key = false; /* spans more than 2^63: buckets by CRC32 */
		else
		{
			v->lo = lo;
			v->nranges = (int) Min((int64) v->nranges, span + 1);
			v->width = (span + 1 + v->nranges - 1) / v->nranges;
			v->nranges = (int) ((span + 1 + v->width - 1) / v->width);
			v->src_range = psprintf("(CAST(%s AS SIGNED) - (" INT64_FORMAT ")) DIV " INT64_FORMAT,
									EtlPullQuoteIdent(v->cols[v->keycols[0]].scol->name),
									lo, v->width);
		}
	}
	if (!v->int_key)
		v->src_range = v->nkey > 0 ?
			psprintf("CRC32(%s) %% %d", v->src_key, v->nranges) : "0";

	v->scount = palloc0(sizeof(int64) * v->nranges);
	v->ssum = palloc0(sizeof(uint64) * v->nranges);
	v->tcount = palloc0(sizeof(int64) * v->nranges);
	v->tsum = palloc0(sizeof(uint64) * v->nranges);
	v->differs = palloc0(sizeof(bool) * v->nranges);
	v->md5 = pg_cryptohash_create(PG_MD5);
	if (v->md5 == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("out of memory")));
	v->rowcxt = AllocSetContextCreate(CurrentMemoryContext, "etl_pull verify rows",
									  ALLOCSET_DEFAULT_SIZES);
	return v;
}

/* The canonical text of columns "which" (all if NULL) of a target row */
static void
target_text(EtlPullVerify *v, StringInfo buf, int *which, int n,
			Datum *values, bool *nulls)
{
	int			i;

	for (i = 0; i < n; i++)
		render_piece(buf, &v->cols[which ? which[i] : i], values, nulls);
}

/* The range of a target row (its key's); rows outside the source's keys go to the edges */
static int
target_row_range(EtlPullVerify *v, Datum *values, bool *nulls, StringInfo keybuf)
{
	if (v->nkey == 0)
		return 0;
	if (v->int_key)
	{
		CanonColumn *cc = &v->cols[v->keycols[0]];
		Datum		d = values[cc->attnum - 1];
		int64		k;
		int64		r;

		if (nulls[cc->attnum - 1])
			return 0;
		k = cc->typid == INT2OID ? DatumGetInt16(d) :
			cc->typid == INT4OID ? DatumGetInt32(d) : DatumGetInt64(d);
		if (k < v->lo)
			return 0;
		r = (int64) (((uint64) k - (uint64) v->lo) / (uint64) v->width);
		return (int) Min(r, (int64) v->nranges - 1);
	}
	return (int) (crc32_bytes(keybuf->data, keybuf->len) % (uint32) v->nranges);
}

/*
 * Scan the target's rows; for each, call "fn" with its range, key text,
 * hash and TID.  With "only_differing", rows of ranges that match are
 * skipped as soon as their key says so (an integer key is read alone), and
 * with an integer key that an index of the target finds, only the key
 * intervals of the ranges that differ are read, by that index; without
 * "need_hash" only the range and the TID are computed.
 */
typedef void (*TargetRowFn) (EtlPullVerify *v, void *arg, int range,
							 StringInfo key, uint64 hash, ItemPointer tid);

static bool few_differ(EtlPullVerify *v);
static int	differing_intervals(EtlPullVerify *v, int64 **lo_p, int64 **hi_p);

typedef struct TargetScan
{
	bool		only_differing;
	bool		count_only;
	bool		need_hash;
	TargetRowFn fn;
	void	   *arg;
	StringInfoData key;			/* reused for every row */
	StringInfoData row;
} TargetScan;

/* target_row's work */
static void
target_row_body(EtlPullVerify *v, TargetScan *ts, TupleTableSlot *slot)
{
	int			range = 0;
	uint64		h = 0;

	if (ts->count_only)
	{
		ts->fn(v, ts->arg, 0, NULL, 0, &slot->tts_tid);
		return;
	}
	resetStringInfo(&ts->key);
	if (v->int_key)
	{
		bool		isnull;

		(void) slot_getattr(slot, v->cols[v->keycols[0]].attnum, &isnull);
		range = target_row_range(v, slot->tts_values, slot->tts_isnull, NULL);
	}
	else if (v->nkey > 0)
	{
		int			i;

		for (i = 0; i < v->nkey; i++)
		{
			bool		isnull;

			(void) slot_getattr(slot, v->cols[v->keycols[i]].attnum, &isnull);
		}
		target_text(v, &ts->key, v->keycols, v->nkey, slot->tts_values, slot->tts_isnull);
		range = target_row_range(v, slot->tts_values, slot->tts_isnull, &ts->key);
	}
	if (ts->only_differing && !v->differs[range])
		return;
	if (ts->need_hash)
	{
		slot_getallattrs(slot);
		if (v->int_key)
			target_text(v, &ts->key, v->keycols, v->nkey, slot->tts_values, slot->tts_isnull);
		resetStringInfo(&ts->row);
		target_text(v, &ts->row, NULL, v->ncols, slot->tts_values, slot->tts_isnull);
		h = row_hash(ts->row.data, ts->row.len);
	}
	ts->fn(v, ts->arg, range, &ts->key, h, &slot->tts_tid);
}

/*
 * One row of the scan, in v->rowcxt, reset for each (the scan itself keeps
 * its memory in the caller's context: an index scan allocates there as it
 * goes).
 */
static void
target_row(EtlPullVerify *v, TargetScan *ts, TupleTableSlot *slot)
{
	MemoryContext oldcxt;

	CHECK_FOR_INTERRUPTS();
	MemoryContextReset(v->rowcxt);
	oldcxt = MemoryContextSwitchTo(v->rowcxt);
	target_row_body(v, ts, slot);
	MemoryContextSwitchTo(oldcxt);
}

/*
 * The target's index that finds rows by the integer key, or InvalidOid: a
 * valid btree whose first column is the key's, with no predicate or
 * expression, in the default operator family of the column's (integer)
 * type.  Only when the key column is NOT NULL: a NULL key counts in range
 * 0, and no interval of keys finds it.
 */
static Oid
key_index(EtlPullVerify *v)
{
	CanonColumn *cc = &v->cols[v->keycols[0]];
	Oid			opclass = GetDefaultOpClass(cc->typid, BTREE_AM_OID);
	Oid			found = InvalidOid;
	List	   *indexes;
	ListCell   *lc;

	if ((cc->typid != INT2OID && cc->typid != INT4OID && cc->typid != INT8OID) ||
		!TupleDescAttr(RelationGetDescr(v->rel), cc->attnum - 1)->attnotnull ||
		!OidIsValid(opclass))
		return InvalidOid;
	indexes = RelationGetIndexList(v->rel);
	foreach(lc, indexes)
	{
		Relation	index = index_open(lfirst_oid(lc), AccessShareLock);
		Form_pg_index form = index->rd_index;

		if (form->indisvalid && form->indisready && form->indislive &&
			index->rd_rel->relam == BTREE_AM_OID &&
			form->indkey.values[0] == cc->attnum &&
			index->rd_opfamily[0] == get_opclass_family(opclass) &&
			heap_attisnull(index->rd_indextuple, Anum_pg_index_indpred, NULL) &&
			heap_attisnull(index->rd_indextuple, Anum_pg_index_indexprs, NULL))
			found = RelationGetRelid(index);
		index_close(index, AccessShareLock);
		if (OidIsValid(found))
			break;
	}
	list_free(indexes);
	return found;
}

/* Set scan key "sk" to "key <op> bound" for strategy "strategy" of the key's index */
static void
key_bound(EtlPullVerify *v, Relation index, ScanKey sk, StrategyNumber strategy,
		  int64 bound)
{
	Oid			typid = v->cols[v->keycols[0]].typid;
	Oid			op = get_opfamily_member(index->rd_opfamily[0], typid, INT8OID, strategy);

	if (!OidIsValid(op))
		elog(ERROR, "missing operator %d(%u,%u) in opfamily %u",
			 strategy, typid, INT8OID, index->rd_opfamily[0]);
	ScanKeyEntryInitialize(sk, 0, 1, strategy, INT8OID, InvalidOid,
						   get_opcode(op), Int64GetDatum(bound));
}

/*
 * Read the rows of the n key intervals [lo[i], hi[i]] by index "indexoid"
 * (the scan lives in the caller's context)
 */
static void
scan_key_intervals(EtlPullVerify *v, TargetScan *ts, Snapshot snap,
				   TupleTableSlot *slot, Oid indexoid, int64 *lo, int64 *hi, int n)
{
	Relation	index = index_open(indexoid, AccessShareLock);
	IndexScanDesc scan = index_beginscan(v->rel, index, snap, 2, 0);
	int			i;

	for (i = 0; i < n; i++)
	{
		ScanKeyData keys[2];

		/* the edges' bounds are PG_INT64_MIN and MAX: every key */
		key_bound(v, index, &keys[0], BTGreaterEqualStrategyNumber, lo[i]);
		key_bound(v, index, &keys[1], BTLessEqualStrategyNumber, hi[i]);
		index_rescan(scan, keys, 2, NULL, 0);
		while (index_getnext_slot(scan, ForwardScanDirection, slot))
			target_row(v, ts, slot);
	}
	index_endscan(scan);
	index_close(index, AccessShareLock);
}

static void
scan_target(EtlPullVerify *v, bool only_differing, bool count_only,
			bool need_hash, TargetRowFn fn, void *arg)
{
	TargetScan	ts;
	Snapshot	snap;
	TupleTableSlot *slot;
	Oid			indexoid = InvalidOid;
	int64	   *lo = NULL;
	int64	   *hi = NULL;
	int			n = 0;

	ts.only_differing = only_differing;
	ts.count_only = count_only;
	ts.need_hash = need_hash;
	ts.fn = fn;
	ts.arg = arg;
	initStringInfo(&ts.key);
	initStringInfo(&ts.row);
	if (only_differing && v->int_key && few_differ(v))
	{
		/* by index, as MySQL reads them */
		indexoid = key_index(v);
		if (OidIsValid(indexoid))
			n = differing_intervals(v, &lo, &hi);
	}

	CommandCounterIncrement();
	snap = RegisterSnapshot(GetLatestSnapshot());
	slot = table_slot_create(v->rel, NULL);
	if (OidIsValid(indexoid))
		scan_key_intervals(v, &ts, snap, slot, indexoid, lo, hi, n);
	else
	{
		TableScanDesc scan = table_beginscan(v->rel, snap, 0, NULL);

		while (table_scan_getnextslot(scan, ForwardScanDirection, slot))
			target_row(v, &ts, slot);
		table_endscan(scan);
	}
	MemoryContextReset(v->rowcxt);
	pfree(ts.key.data);
	pfree(ts.row.data);
	ExecDropSingleTupleTableSlot(slot);
	UnregisterSnapshot(snap);
}

static void
count_target_row(EtlPullVerify *v, void *arg, int range, StringInfo key,
				 uint64 hash, ItemPointer tid)
{
	v->tcount[range]++;
	v->tsum[range] += hash;
}

/*
 * Compare every range: one aggregate query at MySQL, one scan of the
 * target, at the same time (the query is sent before the scan and its
 * result read after it; a server that finishes first waits on its socket,
 * within net_write_timeout).  With count_only, the row counts of the whole
 * table only.
 */
void
EtlPullVerifyRanges(EtlPullVerify *v, bool count_only, EtlPullVerifyResult *res)
{
	char	  **values;
	unsigned long *lengths;
	int			i;

	memset(res, 0, sizeof(*res));
	res->located = (v->nkey > 0);
	res->uncompared = v->uncompared;
	res->uncompared_why = v->uncompared_why;
	if (count_only)
	{
		char	  **row = EtlPullQueryRow(v->conn,
											psprintf("SELECT COUNT(*) FROM %s", v->src_from),
											1, false);

		v->scount[0] = reply_count(v, row[0]);
		scan_target(v, false, true, false, count_target_row, NULL);
		for (i = 1; i < v->nranges; i++)
			v->tcount[0] += v->tcount[i];
		res->ranges = 1;
		res->source_rows = v->scount[0];
		res->target_rows = v->tcount[0];
		res->differing_ranges = (res->source_rows != res->target_rows);
		v->differs[0] = res->differing_ranges;
		return;
	}

	/* MySQL aggregates its side while the target is scanned */
	EtlPullQuerySend(v->conn,
					 psprintf("SELECT %s AS r, COUNT(*),"
							  " CAST(SUM(CRC32(%s))"
							  " %% 18446744073709551616 AS CHAR)"
							  " FROM %s GROUP BY r ORDER BY NULL",
							  v->src_range, v->src_row, v->src_from));
	scan_target(v, false, false, true, count_target_row, NULL);
	EtlPullQueryReceive(v->conn, 3);
	while (EtlPullFetch(v->conn, &values, &lengths))
	{
		int64		r = EtlPullReplyInt64(v->conn, values[0], "A range number");

		CHECK_FOR_INTERRUPTS();
		if (r < 0 || r >= v->nranges || v->scount[r] != 0)
			EtlPullBadReply(v->conn, psprintf("Range " INT64_FORMAT " is not one of the %d asked for, or came twice.",
								  r, v->nranges));
		v->scount[r] = reply_count(v, values[1]);
		v->ssum[r] = EtlPullReplyUint64(v->conn, values[2], "A hash sum");
	}
	EtlPullQueryEnd(v->conn);

	res->ranges = v->nranges;
	for (i = 0; i < v->nranges; i++)
	{
		res->source_rows += v->scount[i];
		res->target_rows += v->tcount[i];
		v->differs[i] = (v->scount[i] != v->tcount[i] || v->ssum[i] != v->tsum[i]);
		if (v->differs[i])
			res->differing_ranges++;
	}
}

/* ---- ranges that differ, row by row ---- */

typedef struct TargetRow
{
	uint8		keyhash[16];	/* MD5 of the key text: the hash key */
	uint64		hash;
	ItemPointerData tid;
	char	   *key;
	bool		seen;			/* matched by a source row */
	int			dups;			/* further target rows with this key */
} TargetRow;

static void
key_digest(EtlPullVerify *v, const char *s, size_t len, uint8 *out)
{
	if (pg_cryptohash_init(v->md5) < 0 ||
		pg_cryptohash_update(v->md5, (const uint8 *) s, len) < 0 ||
		pg_cryptohash_final(v->md5, out, 16) < 0)
		elog(ERROR, "could not compute an MD5 hash");
}

/*
 * A key's canonical text as "col=value, ...", for people: the pieces are
 * read back (a text piece by its length), values shown printable.
 */
static char *
key_label(EtlPullVerify *v, const char *s, size_t len)
{
	StringInfoData buf;
	const char *p = s;
	const char *end = s + len;
	int			i;

	initStringInfo(&buf);
	for (i = 0; i < v->nkey && p < end && *p == ','; i++)
	{
		CanonColumn *cc = &v->cols[v->keycols[i]];
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

static void
keep_key(List **list, int max_keys, const char *label)
{
	if (list_length(*list) < max_keys)
		*list = lappend(*list, pstrdup(label));
}

typedef struct RowsState
{
	HTAB	   *rows;
	EtlPullVerifyResult *res;
	int			max_keys;
	MemoryContext cxt;
} RowsState;

static void
collect_target_row(EtlPullVerify *v, void *arg, int range, StringInfo key,
				   uint64 hash, ItemPointer tid)
{
	RowsState  *st = (RowsState *) arg;
	uint8		digest[16];
	TargetRow  *tr;
	bool		found;

	key_digest(v, key->data, key->len, digest);
	tr = hash_search(st->rows, digest, HASH_ENTER, &found);
	if (found)
	{
		/* a key twice in the target: the copy is extra */
		tr->dups++;
		st->res->extra_rows++;
		keep_key(&st->res->extra_keys, st->max_keys, tr->key);
		return;
	}
	tr->hash = hash;
	tr->tid = *tid;
	tr->seen = false;
	tr->dups = 0;
	/* the label only if keys are reported (a diff run reports none) */
	tr->key = st->max_keys > 0 ?
		MemoryContextStrdup(st->cxt, key_label(v, key->data, key->len)) : NULL;
}

/*
 * The first and last key of integer range i; the edges are open, taking in
 * target rows outside the source's keys (target_row_range puts them there).
 */
static int64
range_lo(EtlPullVerify *v, int i)
{
	return i == 0 ? PG_INT64_MIN : v->lo + i * v->width;
}

static int64
range_hi(EtlPullVerify *v, int i)
{
	return i == v->nranges - 1 ? PG_INT64_MAX : v->lo + (i + 1) * v->width - 1;
}

/*
 * Whether at most half of the ranges differ: then the rows of those only
 * are read again, on each side (MySQL by a filter on the key, the target by
 * its index); else every row is.
 */
static bool
few_differ(EtlPullVerify *v)
{
	int			ndiff = 0;
	int			i;

	for (i = 0; i < v->nranges; i++)
		ndiff += v->differs[i];
	return ndiff * 2 <= v->nranges;
}

/*
 * The key intervals of the ranges that differ (an integer key), adjacent
 * ranges joined, in key order; returns how many.  The first range reaches
 * down to the smallest key and the last up to the largest.
 */
static int
differing_intervals(EtlPullVerify *v, int64 **lo_p, int64 **hi_p)
{
	int64	   *lo = palloc(sizeof(int64) * v->nranges);
	int64	   *hi = palloc(sizeof(int64) * v->nranges);
	int			n = 0;
	int			i;

	for (i = 0; i < v->nranges; i++)
	{
		int			j;

		if (!v->differs[i])
			continue;
		for (j = i; j + 1 < v->nranges && v->differs[j + 1]; j++)
			;
		lo[n] = range_lo(v, i);
		hi[n++] = range_hi(v, j);
		i = j;
	}
	*lo_p = lo;
	*hi_p = hi;
	return n;
}

/* Whether ranges are intervals of one integer key (a diff run pulls rows by key then) */
bool
EtlPullVerifyIntegerKey(EtlPullVerify *v)
{
	return v->int_key;
}

/*
 * MySQL's predicate "k" in one of the n sorted, disjoint intervals
 * [lo[i], hi[i]], as a balanced tree: (k < lo[m] AND (left half)) OR (k >=
 * lo[m] AND (right half)), four BETWEENs at the leaves.  MySQL reads the
 * intervals by range on the index and then evaluates the predicate again
 * on every row: a flat OR of n BETWEENs costs n/2 comparisons a row (2.6 s
 * of MariaDB's time for 125,000 rows in 2,000 intervals), the tree
 * log2(n).
 */
static void
append_interval_tree(StringInfo buf, const char *k, int64 *lo, int64 *hi, int n)
{
	int			i;

	if (n <= 4)
	{
		appendStringInfoChar(buf, '(');
		for (i = 0; i < n; i++)
			appendStringInfo(buf, "%s%s BETWEEN " INT64_FORMAT " AND " INT64_FORMAT,
							 i ? " OR " : "", k, lo[i], hi[i]);
		appendStringInfoChar(buf, ')');
		return;
	}
	i = n / 2;
	appendStringInfo(buf, "((%s < " INT64_FORMAT " AND ", k, lo[i]);
	append_interval_tree(buf, k, lo, hi, i);
	appendStringInfo(buf, ") OR (%s >= " INT64_FORMAT " AND ", k, lo[i]);
	append_interval_tree(buf, k, lo + i, hi + i, n - i);
	appendStringInfoString(buf, "))");
}

/*
 * The predicate (MySQL SQL, without WHERE) selecting the source rows of
 * the ranges that differ, or NULL when they are most of the table (read
 * it all).  Ranges are our own numbers, never MySQL's text.
 */
char *
EtlPullVerifySourceFilter(EtlPullVerify *v)
{
	StringInfoData buf;
	int			ndiff = 0;
	int			i;

	if (v->nkey == 0 || !few_differ(v))
		return NULL;
	initStringInfo(&buf);
	if (v->int_key)
	{
		int64	   *lo;
		int64	   *hi;
		int			n = differing_intervals(v, &lo, &hi);

		append_interval_tree(&buf, EtlPullQuoteIdent(v->cols[v->keycols[0]].scol->name),
							 lo, hi, n);
	}
	else
	{
		appendStringInfo(&buf, "%s IN (", v->src_range);
		for (i = 0; i < v->nranges; i++)
			if (v->differs[i])
				appendStringInfo(&buf, "%s%d", ndiff++ ? ", " : "", i);
		appendStringInfoChar(&buf, ')');
	}
	return buf.data;
}

/*
 * A diff run's source row to pull: its integer key, parsed from MySQL's
 * key text (",<digits>") and checked, never passed on as text.
 */
static void
pull_key(EtlPullVerify *v, const char *s, unsigned long len)
{
	if (len < 2 || s[0] != ',')
		EtlPullBadReply(v->conn, psprintf("\"%s\" is not the text of an integer key.",
							  EtlPullPrintable(pnstrdup(s, len), 64)));
	if (v->npull == v->maxpull)
	{
		v->maxpull = Max(1024, v->maxpull * 2);
		v->pull_keys = v->pull_keys ?
			repalloc_huge(v->pull_keys, sizeof(int64) * v->maxpull) :
			palloc(sizeof(int64) * v->maxpull);
	}
	v->pull_keys[v->npull++] = EtlPullReplyInt64(v->conn, s + 1, "A key");
}

static int
cmp_int64(const void *a, const void *b)
{
	int64		x = *(const int64 *) a;
	int64		y = *(const int64 *) b;

	return x < y ? -1 : x > y;
}

/*
 * For a diff run of a table with an integer key: the ranges that differ
 * bisected to rows (as EtlPullVerifyRows), so that only the rows that
 * changed are pulled again.  Returns the predicate (MySQL SQL, without
 * WHERE) selecting the source rows missing from the target or different
 * there, by key intervals built from their parsed keys (NULL when there
 * are none), or sets *too_many when they are more than max_rows (the
 * caller then pulls the ranges).  The target's rows the source lacks are
 * kept for EtlPullVerifyDeleteExtra.
 */
char *
EtlPullVerifyChangedRows(EtlPullVerify *v, EtlPullVerifyResult *res,
						 int max_rows, bool *too_many)
{
	StringInfoData buf;
	int64	   *lo;
	int64	   *hi;
	int			n = 0;
	int			i;

	Assert(v->int_key);
	*too_many = false;
	v->collect = true;
	EtlPullVerifyRows(v, 0, res);
	v->collect = false;
	if (v->npull > max_rows)
	{
		*too_many = true;
		return NULL;
	}
	if (v->npull == 0)
		return NULL;
	qsort(v->pull_keys, v->npull, sizeof(int64), cmp_int64);
	lo = palloc(sizeof(int64) * v->npull);
	hi = palloc(sizeof(int64) * v->npull);
	for (i = 0; i < v->npull; i++)
	{
		if (n > 0 && hi[n - 1] != PG_INT64_MAX && v->pull_keys[i] <= hi[n - 1] + 1)
			hi[n - 1] = Max(hi[n - 1], v->pull_keys[i]);
		else
		{
			lo[n] = hi[n] = v->pull_keys[i];
			n++;
		}
	}
	initStringInfo(&buf);
	append_interval_tree(&buf, EtlPullQuoteIdent(v->cols[v->keycols[0]].scol->name),
						 lo, hi, n);
	return buf.data;
}

/*
 * Delete the target's rows that EtlPullVerifyChangedRows found the source
 * lacks, by their TIDs (the load holds its lock on the target, and nothing
 * wrote to it since the scan that found them).  Returns the rows deleted.
 */
int64
EtlPullVerifyDeleteExtra(EtlPullVerify *v, const char *target_qname)
{
	Datum	   *d;
	Oid			argtype = TIDARRAYOID;
	Datum		arg;
	int64		deleted;
	int			i;

	if (v->nextra == 0)
		return 0;
	d = palloc(sizeof(Datum) * v->nextra);
	for (i = 0; i < v->nextra; i++)
		d[i] = PointerGetDatum(&v->extra_tids[i]);
	arg = PointerGetDatum(construct_array(d, v->nextra, TIDOID, sizeof(ItemPointerData),
										  false, TYPALIGN_SHORT));
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute_with_args(psprintf("DELETE FROM %s t WHERE t.ctid OPERATOR(pg_catalog.=) ANY ($1)",
									   target_qname),
							  1, &argtype, &arg, NULL, false, 0) != SPI_OK_DELETE)
		elog(ERROR, "could not delete from %s", target_qname);
	deleted = (int64) SPI_processed;
	SPI_finish();
	return deleted;
}

/*
 * Bisect the ranges that differ down to rows: the target's rows of those
 * ranges by key, then the source's (key and hash), compared key by key.
 * Fills the row counts and the first max_keys keys of each kind.
 */
void
EtlPullVerifyRows(EtlPullVerify *v, int max_keys, EtlPullVerifyResult *res)
{
	RowsState	st;
	HASHCTL		ctl;
	char	   *filter;
	char	  **values;
	unsigned long *lengths;
	HASH_SEQ_STATUS seq;
	TargetRow  *tr;

	if (res->differing_ranges == 0 || v->nkey == 0)
		return;
	memset(&ctl, 0, sizeof(ctl));
	ctl.keysize = 16;
	ctl.entrysize = sizeof(TargetRow);
	ctl.hcxt = CurrentMemoryContext;
	st.rows = hash_create("etl_pull verify rows", 1024, &ctl,
						  HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	st.res = res;
	st.max_keys = max_keys;
	st.cxt = CurrentMemoryContext;

	/* MySQL reads its rows of those ranges while the target's are collected */
	filter = EtlPullVerifySourceFilter(v);
	EtlPullQuerySend(v->conn,
					 psprintf("SELECT %s, CRC32(%s)"
							  " FROM %s%s%s", v->src_key, v->src_row, v->src_from,
							  filter ? " WHERE " : "", filter ? filter : ""));
	scan_target(v, true, false, true, collect_target_row, &st);
	EtlPullQueryReceive(v->conn, 2);
	while (EtlPullFetch(v->conn, &values, &lengths))
	{
		uint8		digest[16];
		uint64		h;

		CHECK_FOR_INTERRUPTS();
		if (values[0] == NULL)
			EtlPullBadReply(v->conn, "A row's key text is NULL.");
		h = EtlPullReplyUint64(v->conn, values[1], "A row hash");
		key_digest(v, values[0], lengths[0], digest);
		tr = hash_search(st.rows, digest, HASH_FIND, NULL);
		if (tr == NULL || tr->seen)
		{
			res->missing_rows++;
			if (max_keys > 0)
				keep_key(&res->missing_keys, max_keys, key_label(v, values[0], lengths[0]));
			if (v->collect)
				pull_key(v, values[0], lengths[0]);
			continue;
		}
		tr->seen = true;
		if (tr->hash != h)
		{
			res->different_rows++;
			keep_key(&res->different_keys, max_keys, tr->key);
			if (v->collect)
				pull_key(v, values[0], lengths[0]);
		}
	}
	EtlPullQueryEnd(v->conn);

	hash_seq_init(&seq, st.rows);
	while ((tr = hash_seq_search(&seq)) != NULL)
		if (!tr->seen)
		{
			res->extra_rows++;
			keep_key(&res->extra_keys, max_keys, tr->key);
			if (v->collect)
			{
				if (v->nextra == v->maxextra)
				{
					v->maxextra = Max(1024, v->maxextra * 2);
					v->extra_tids = v->extra_tids ?
						repalloc_huge(v->extra_tids, sizeof(ItemPointerData) * v->maxextra) :
						palloc(sizeof(ItemPointerData) * v->maxextra);
				}
				v->extra_tids[v->nextra++] = tr->tid;
			}
		}
	hash_destroy(st.rows);
}

/* ---- deleting the target's rows gone from the source (refresh) ---- */

typedef struct TidState
{
	ItemPointerData *tids;
	int			n;
	int			max;
} TidState;

static void
collect_tid(EtlPullVerify *v, void *arg, int range, StringInfo key,
			uint64 hash, ItemPointer tid)
{
	TidState   *st = (TidState *) arg;

	if (st->n == st->max)
	{
		st->max *= 2;
		st->tids = repalloc_huge(st->tids, sizeof(ItemPointerData) * st->max);
	}
	st->tids[st->n++] = *tid;
}

/*
 * Delete the target's rows of the ranges that differ whose key the staged
 * source rows of those ranges ("stage_qname") lack: by the TIDs of the
 * rows a scan finds in those ranges (a join with the ranges' intervals
 * would leave the plan to the planner, which may scan the table once per
 * range), under the ExclusiveLock the load holds.  "pk" are the key's
 * quoted target columns.  Returns the rows deleted.
 */
int64
EtlPullVerifyDeleteGone(EtlPullVerify *v, const char *target_qname,
						const char *stage_qname, List *pk)
{
	StringInfoData sql;
	StringInfoData gone;
	ListCell   *lc;
	Oid			argtypes[2];
	Datum		args[2];
	int			nargs;
	int64		deleted;
	bool		all = (EtlPullVerifySourceFilter(v) == NULL);

	initStringInfo(&gone);
	appendStringInfo(&gone, "NOT EXISTS (SELECT FROM %s s WHERE ", stage_qname);
	foreach(lc, pk)
		appendStringInfo(&gone, "%ss.%s OPERATOR(pg_catalog.=) t.%s",
						 lc == list_head(pk) ? "" : " AND ",
						 (char *) lfirst(lc), (char *) lfirst(lc));
	appendStringInfoChar(&gone, ')');

	initStringInfo(&sql);
	if (all)
	{
		appendStringInfo(&sql, "DELETE FROM %s t WHERE %s", target_qname, gone.data);
		nargs = 0;
	}
	else
	{
		TidState	st;
		Datum	   *d;
		int			i;

		st.max = 1024;
		st.n = 0;
		st.tids = palloc(sizeof(ItemPointerData) * st.max);
		scan_target(v, true, false, false, collect_tid, &st);
		if (st.n == 0)
			return 0;
		d = palloc(sizeof(Datum) * st.n);
		for (i = 0; i < st.n; i++)
			d[i] = PointerGetDatum(&st.tids[i]);
		argtypes[0] = TIDARRAYOID;
		args[0] = PointerGetDatum(construct_array(d, st.n, TIDOID, sizeof(ItemPointerData),
												  false, TYPALIGN_SHORT));
		nargs = 1;
		appendStringInfo(&sql, "DELETE FROM %s t WHERE t.ctid OPERATOR(pg_catalog.=) ANY ($1) AND %s",
						 target_qname, gone.data);
	}

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute_with_args(sql.data, nargs, argtypes, args, NULL, false, 0) != SPI_OK_DELETE)
		elog(ERROR, "could not delete from %s", target_qname);
	deleted = (int64) SPI_processed;
	SPI_finish();
	return deleted;
}

/* Release what the comparison holds beyond its memory context */
void
EtlPullVerifyEnd(EtlPullVerify *v)
{
	if (v->md5)
		pg_cryptohash_free(v->md5);
	v->md5 = NULL;
}

/* ---- reporting ---- */

/*
 * Whether the comparison found no difference (in what it could compare:
 * see EtlPullVerifyStatus)
 */
bool
EtlPullVerifyEqual(EtlPullVerifyResult *res)
{
	return res->differing_ranges == 0 && res->missing_rows == 0 &&
		res->extra_rows == 0 && res->different_rows == 0;
}

/*
 * verify_table's status: "different" when a difference was found, else
 * "equal" only when every column was compared, "not comparable" when some
 * could not be (a change confined to them would not have been seen)
 */
const char *
EtlPullVerifyStatus(EtlPullVerifyResult *res)
{
	if (!EtlPullVerifyEqual(res))
		return "different";
	return res->uncompared != NIL ? "not comparable" : "equal";
}

/*
 * "columns not compared (a change in them is not seen): col (why), ..."
 * for notes and messages, or "" when every column was compared
 */
char *
EtlPullVerifyUncompared(List *columns, List *why)
{
	StringInfoData buf;
	ListCell   *lc;
	ListCell   *lw;

	if (columns == NIL)
		return "";
	initStringInfo(&buf);
	appendStringInfoString(&buf, "columns not compared (a change in them is not seen): ");
	forboth(lc, columns, lw, why)
		appendStringInfo(&buf, "%s%s (%s)", lc == list_head(columns) ? "" : ", ",
						 (char *) lfirst(lc), (char *) lfirst(lw));
	return buf.data;
}

static void
append_keys(StringInfo buf, const char *what, int64 n, List *keys)
{
	ListCell   *lc;

	if (n == 0)
		return;
	appendStringInfo(buf, "%s" INT64_FORMAT " %s", buf->len ? "; " : "", n, what);
	foreach(lc, keys)
		appendStringInfo(buf, "%s(%s)", lc == list_head(keys) ? ": " : ", ",
						 (char *) lfirst(lc));
	if (list_length(keys) < n)
		appendStringInfoString(buf, ", ...");
}

/* One line for etl_pull.runs.notes and messages */
char *
EtlPullVerifySummary(EtlPullVerifyResult *res)
{
	StringInfoData buf;

	initStringInfo(&buf);
	if (EtlPullVerifyEqual(res) && res->uncompared == NIL)
		appendStringInfo(&buf, "verify: equal, " INT64_FORMAT " rows in %d ranges",
						 res->source_rows, res->ranges);
	else if (EtlPullVerifyEqual(res))
		appendStringInfo(&buf, "verify: not comparable, no difference in " INT64_FORMAT " rows in %d ranges, but %s",
						 res->source_rows, res->ranges,
						 EtlPullVerifyUncompared(res->uncompared, res->uncompared_why));
	else
	{
		append_keys(&buf, "missing", res->missing_rows, res->missing_keys);
		append_keys(&buf, "extra", res->extra_rows, res->extra_keys);
		append_keys(&buf, "different", res->different_rows, res->different_keys);
		if (!res->located)
			appendStringInfo(&buf, "%s" INT64_FORMAT " source rows, " INT64_FORMAT " target rows, not the same multiset (no key: rows cannot be located)",
							 buf.len ? "; " : "", res->source_rows, res->target_rows);
		if (res->uncompared != NIL)
			appendStringInfo(&buf, "; %s",
							 EtlPullVerifyUncompared(res->uncompared, res->uncompared_why));
		buf.data = psprintf("verify: %d of %d ranges differ; %s", res->differing_ranges,
							res->ranges, buf.data);
	}
	return buf.data;
}
