/*-------------------------------------------------------------------------
 *
 * convert.c
 *		  MySQL values to PostgreSQL Datums: the text protocol's, and
 *		  the binary protocol's native integers, dates and datetimes
 *		  (EtlPullNative).
 *
 * A converter is chosen once per column from the source column's kind and
 * the target attribute's type.  The common types (integers, floats, text,
 * bytea, dates, times, bits, sets) are built directly from the bytes MySQL
 * sent, without going through a type's input function; anything else uses
 * the target type's input function with its typmod, so a user's own types
 * still work.  A domain is converted as its base type and then checked
 * with domain_check, NULLs included, so its NOT NULL and CHECK constraints
 * hold on the fast paths too.
 *
 * Errors raised while converting carry a context line naming the MySQL
 * table, the column and the row's primary key.
 *
 * IDENTIFICATION
 *		  src/load/convert.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "common/shortest_dec.h"
#include "mb/pg_wchar.h"
#include "lib/stringinfo.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/datetime.h"
#include "utils/lsyscache.h"
#include "utils/resowner.h"
#include "utils/timestamp.h"
#include "utils/varbit.h"

#include "etl_pull.h"
#include "remote/remote.h"
#include "load/load.h"

typedef enum ConvFunc
{
	CV_INT2,
	CV_INT4,
	CV_INT8,
	CV_FLOAT4,
	CV_FLOAT8,
	CV_BOOL,
	CV_TEXT,
	CV_BYTEA,
	CV_BIT,
	CV_DATE,
	CV_TIMESTAMP,
	CV_INTERVAL,
	CV_TEXT_ARRAY,
	CV_NUMERIC,					/* numeric_in on MySQL's exact digits */
	CV_INPUT					/* the target type's input function */
} ConvFunc;

typedef struct ColumnConverter
{
	ConvFunc	func;
	int			src;			/* index in the MySQL row */
	AttrNumber	attnum;			/* target attribute */
	Oid			typid;
	int32		typmod;
	int			maxchars;		/* varchar(n)/char(n) limit, or -1 */
	bool		notnull;		/* target column is NOT NULL */
	FmgrInfo	in_func;		/* CV_INPUT */
	Oid			typioparam;
	Oid			domain;			/* target domain to check values against */
	void	   *domain_extra;	/* domain_check's cache */
	bool		trusted;		/* errors are safe to catch (see below) */
	bool		native;			/* values arrive as EtlPullNative */
	EtlPullSourceColumn *scol;
} ColumnConverter;

struct EtlPullConverter
{
	EtlPullTable *table;
	EtlPullSource *source;
	int			ncols;
	ColumnConverter *cols;
	int			natts;
	bool		db_utf8;		/* database encoding is UTF8 */
	bool		trusted;		/* every column's converter is trusted */
	MemoryContext mcxt;			/* where the converters live */

	/* error context state */
	ErrorContextCallback errcb;
	int			current;		/* column being converted, or -1 */
	char	  **row;
	unsigned long *lengths;
};

/*
 * A MySQL value "s" as it may be quoted in a message or stored in a
 * catalog: its bytes are the server's, and may be no UTF-8 at all
 * (EtlPullPrintable shows such bytes as \xHH).
 */
#define VALUE_TEXT(s) EtlPullPrintable((s), 200)

/*
 * The primary key of the row being converted, as "col=value, ...", or
 * NULL when the source has no key: for the error context and
 * etl_pull.rejects.row_key, so each value is made valid text first.
 */
static char *
row_key_text(EtlPullConverter *conv)
{
	StringInfoData key;
	int			i;

	initStringInfo(&key);
	for (i = 0; i < conv->source->ncolumns; i++)
	{
		EtlPullSourceColumn *col = &conv->source->columns[i];

		if (col->pk_position == 0)
			continue;
		appendStringInfo(&key, "%s%s=%s", key.len ? ", " : "", col->name,
						 conv->row[i] == NULL ? "NULL" :
						 conv->cols[i].native ? EtlPullNativeText(conv->row[i]) :
						 EtlPullPrintable(conv->row[i], 1000));
	}
	return key.len ? key.data : NULL;
}

/*
 * Error context: which table, column and row a conversion failed on.
 */
static void
convert_error_callback(void *arg)
{
	EtlPullConverter *conv = (EtlPullConverter *) arg;
	char	   *key = row_key_text(conv);

	if (conv->current >= 0)
	{
		ColumnConverter *cc = &conv->cols[conv->current];

		if (key == NULL)
			errcontext("column \"%s\" of MySQL table \"%s.%s\"",
					   cc->scol->name, conv->source->db, conv->source->table);
		else
			errcontext("column \"%s\" of MySQL table \"%s.%s\", row with key (%s)",
					   cc->scol->name, conv->source->db, conv->source->table,
					   key);
	}
	else if (key != NULL)
		errcontext("MySQL table \"%s.%s\", row with key (%s)",
				   conv->source->db, conv->source->table, key);
}

/*
 * Input functions whose errors may be caught without a subtransaction:
 * core types whose input functions only allocate memory and raise errors
 * (no catalog access, locks, buffers, files or user code), the same ones
 * PostgreSQL 16 made soft.  Anything else (domains, enums, extension and
 * user types) may run arbitrary code, so on_error = reject converts rows
 * that contain one inside a subtransaction.
 */
static bool
trusted_input(Oid typid)
{
	switch (typid)
	{
		case BOOLOID:
		case INT2OID:
		case INT4OID:
		case INT8OID:
		case FLOAT4OID:
		case FLOAT8OID:
		case NUMERICOID:
		case TEXTOID:
		case VARCHAROID:
		case BPCHAROID:
		case BYTEAOID:
		case BITOID:
		case VARBITOID:
		case DATEOID:
		case TIMEOID:
		case TIMESTAMPOID:
		case TIMESTAMPTZOID:
		case INTERVALOID:
		case JSONOID:
		case JSONBOID:
		case UUIDOID:
		case INETOID:
		case CIDROID:
		case MACADDROID:
			return true;
		default:
			return false;
	}
}

/*
 * Pick a converter for one source column and its target attribute.  A
 * domain gets the converter of its base type and a domain_check, unless
 * the converter is the domain's own input function, which checks.
 */
static void
choose_converter(ColumnConverter *cc, Form_pg_attribute att)
{
	EtlPullSourceKind kind = cc->scol->kind;
	int32		typmod = att->atttypmod;
	Oid			typid = getBaseTypeAndTypmod(att->atttypid, &typmod);

	cc->typid = typid;
	cc->typmod = typmod;
	cc->notnull = att->attnotnull;
	cc->maxchars = -1;
	cc->domain = (typid != att->atttypid) ? att->atttypid : InvalidOid;

	switch (typid)
	{
		case INT2OID:
			cc->func = (kind == SRC_INT || kind == SRC_YEAR) ? CV_INT2 : CV_INPUT;
			break;
		case INT4OID:
			cc->func = (kind == SRC_INT || kind == SRC_YEAR) ? CV_INT4 : CV_INPUT;
			break;
		case INT8OID:
			cc->func = (kind == SRC_INT || kind == SRC_YEAR) ? CV_INT8 : CV_INPUT;
			break;
		case FLOAT4OID:
			cc->func = CV_FLOAT4;
			break;
		case FLOAT8OID:
			cc->func = CV_FLOAT8;
			break;
		case BOOLOID:
			cc->func = (kind == SRC_INT || kind == SRC_BIT) ? CV_BOOL : CV_INPUT;
			break;
		case TEXTOID:
		case VARCHAROID:
		case BPCHAROID:
			cc->func = CV_TEXT;
			if (typid != TEXTOID && typmod >= VARHDRSZ)
				cc->maxchars = typmod - VARHDRSZ;
			break;
		case BYTEAOID:
			cc->func = CV_BYTEA;
			break;
		case BITOID:
		case VARBITOID:
			cc->func = (kind == SRC_BIT) ? CV_BIT : CV_INPUT;
			break;
		case DATEOID:
			cc->func = (kind == SRC_DATE) ? CV_DATE : CV_INPUT;
			break;
		case TIMESTAMPOID:
		case TIMESTAMPTZOID:
			cc->func = (kind == SRC_DATETIME || kind == SRC_TIMESTAMP ||
						kind == SRC_DATE) ? CV_TIMESTAMP : CV_INPUT;
			break;
		case INTERVALOID:
			cc->func = (kind == SRC_TIME) ? CV_INTERVAL : CV_INPUT;
			break;
		case TEXTARRAYOID:
			cc->func = (kind == SRC_SET) ? CV_TEXT_ARRAY : CV_INPUT;
			break;
		case NUMERICOID:
			cc->func = (kind == SRC_INT || kind == SRC_DECIMAL ||
						kind == SRC_YEAR) ? CV_NUMERIC : CV_INPUT;
			break;
		default:
			cc->func = CV_INPUT;
			break;
	}

	if (cc->func == CV_INPUT && OidIsValid(cc->domain))
	{
		/* domain_in with the attribute's typmod: it checks the domain */
		cc->typid = att->atttypid;
		cc->typmod = att->atttypmod;
	}
	if (cc->func == CV_INPUT || cc->func == CV_NUMERIC)
	{
		Oid			infunc;

		getTypeInputInfo(cc->typid, &infunc, &cc->typioparam);
		fmgr_info(infunc, &cc->in_func);
	}
	cc->trusted = !OidIsValid(cc->domain) &&
		(cc->func != CV_INPUT || trusted_input(cc->typid));
}

/*
 * Build the converters for a load.  attnums[i] is the target attribute of
 * source column i.  The returned state lives in the caller's context.
 */
EtlPullConverter *
EtlPullMakeConverters(EtlPullTable *table, EtlPullSource *source,
					  TupleDesc tupdesc, AttrNumber *attnums)
{
	EtlPullConverter *conv = palloc0(sizeof(EtlPullConverter));
	int			i;

	conv->table = table;
	conv->source = source;
	conv->ncols = source->ncolumns;
	conv->natts = tupdesc->natts;
	conv->cols = palloc0(sizeof(ColumnConverter) * conv->ncols);
	conv->db_utf8 = (GetDatabaseEncoding() == PG_UTF8);
	conv->trusted = true;
	conv->mcxt = CurrentMemoryContext;
	conv->current = -1;

	for (i = 0; i < conv->ncols; i++)
	{
		ColumnConverter *cc = &conv->cols[i];

		cc->src = i;
		cc->attnum = attnums[i];
		cc->scol = &source->columns[i];
		choose_converter(cc, TupleDescAttr(tupdesc, attnums[i] - 1));
		if (!cc->trusted)
			conv->trusted = false;
	}

	conv->errcb.callback = convert_error_callback;
	conv->errcb.arg = conv;
	return conv;
}

/*
 * The columns whose converters can take binary-protocol values as they
 * were sent (EtlPullNative): integers into smallint, integer or bigint,
 * floats and doubles into real or double precision (the value strtod reads
 * back from their shortest digits, which is the value itself), dates and
 * datetimes into date, timestamp or timestamptz.  A palloc'd array by
 * source column.
 */
bool *
EtlPullConvertersNativeWanted(EtlPullConverter *conv)
{
	bool	   *wanted = palloc0(sizeof(bool) * Max(conv->ncols, 1));
	int			i;

	for (i = 0; i < conv->ncols; i++)
	{
		ColumnConverter *cc = &conv->cols[i];
		EtlPullSourceKind kind = cc->scol->kind;

		switch (cc->func)
		{
			case CV_INT2:
			case CV_INT4:
			case CV_INT8:
				wanted[cc->src] = (kind == SRC_INT || kind == SRC_YEAR);
				break;
			case CV_FLOAT4:
			case CV_FLOAT8:
				wanted[cc->src] = (kind == SRC_FLOAT || kind == SRC_DOUBLE);
				break;
			case CV_DATE:
			case CV_TIMESTAMP:
				wanted[cc->src] = (kind == SRC_DATE || kind == SRC_DATETIME ||
								   kind == SRC_TIMESTAMP);
				break;
			default:
				break;
		}
	}
	return wanted;
}

/* From now on, the columns "native" says arrive as EtlPullNative */
void
EtlPullConvertersUseNative(EtlPullConverter *conv, const bool *native)
{
	int			i;

	for (i = 0; i < conv->ncols; i++)
		conv->cols[i].native = native[conv->cols[i].src];
}

/*
 * Have the result in progress on "conn" hand over what these converters
 * can take natively (nothing, for a text-protocol result).
 */
void
EtlPullNativeFromConnection(EtlPullConverter *conv, EtlPullConnection *conn)
{
	EtlPullConvertersUseNative(conv,
							   EtlPullQueryNativeColumns(conn,
														 EtlPullConvertersNativeWanted(conv)));
}

/* An EtlPullNative as the text protocol would have sent it, palloc'd */
char *
EtlPullNativeText(const char *value)
{
	EtlPullNative nat;

	memcpy(&nat, value, sizeof(nat));
	if (nat.is_float)
	{
		char	   *buf = palloc(DOUBLE_SHORTEST_DECIMAL_LEN);

		(void) double_to_shortest_decimal_buf(nat.f, buf);
		return buf;
	}
	if (!nat.is_time)
		return psprintf(INT64_FORMAT, nat.i);
	if (!nat.with_time)
		return psprintf("%04d-%02d-%02d", nat.year, nat.month, nat.day);
	if (nat.usec == 0)
		return psprintf("%04d-%02d-%02d %02d:%02d:%02d", nat.year, nat.month,
						nat.day, nat.hour, nat.minute, nat.second);
	return psprintf("%04d-%02d-%02d %02d:%02d:%02d.%06d", nat.year, nat.month,
					nat.day, nat.hour, nat.minute, nat.second, nat.usec);
}

/*
 * Whether every converter is trusted: runs only our parsers and core input
 * functions, no user code (domains, enums, other types' input functions).
 */
bool
EtlPullConvertersTrusted(EtlPullConverter *conv)
{
	return conv->trusted;
}

/* ---- individual converters ---- */

static void
out_of_range(ColumnConverter *cc, const char *value)
{
	ereport(ERROR,
			(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
			 errmsg("value \"%s\" is out of range for type %s",
					VALUE_TEXT(value), format_type_with_typemod(cc->typid, cc->typmod))));
}

/*
 * Parse a MySQL integer.  Returns false if it does not fit in int64 (an
 * unsigned bigint above 2^63-1), so the caller can report it.
 */
static inline bool
parse_int64(const char *s, unsigned long len, int64 *result)
{
	const char *end = s + len;
	bool		neg = false;
	uint64		v = 0;

	if (s < end && *s == '-')
	{
		neg = true;
		s++;
	}
	if (s == end)
		return false;
	for (; s < end; s++)
	{
		unsigned	d = (unsigned) (*s - '0');

		if (d > 9)
			return false;
		if (v > (PG_UINT64_MAX - d) / 10)
			return false;
		v = v * 10 + d;
	}
	if (neg)
	{
		if (v > (uint64) PG_INT64_MAX + 1)
			return false;
		*result = (int64) (0 - v);
	}
	else
	{
		if (v > (uint64) PG_INT64_MAX)
			return false;
		*result = (int64) v;
	}
	return true;
}

static int64
convert_int(ColumnConverter *cc, const char *s, unsigned long len,
			int64 min, int64 max)
{
	int64		v;

	if (!parse_int64(s, len, &v) || v < min || v > max)
		out_of_range(cc, s);
	return v;
}

static Datum
convert_float(ColumnConverter *cc, const char *s, bool single)
{
	char	   *end;
	double		d;

	errno = 0;
	d = strtod(s, &end);
	if (end == s || *end != '\0')
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
				 errmsg("invalid floating-point value \"%s\"", VALUE_TEXT(s))));
	if (single)
	{
		float4		f = (float4) d;

		if (isinf(f) && !isinf(d))
			out_of_range(cc, s);
		return Float4GetDatum(f);
	}
	return Float8GetDatum(d);
}

/*
 * Check that MySQL's bytes s[0..*len) are valid UTF-8 without NUL bytes.
 * With the policy "replace" each invalid sequence and each NUL becomes
 * U+FFFD in a palloc'd, NUL-terminated copy (and *len its length);
 * otherwise such bytes are an error.  Returns s itself when it is valid.
 * Every strategy goes through here, so they all treat text alike.
 */
const char *
EtlPullCheckUtf8(EtlPullInvalidUtf8 policy, const char *s, unsigned long *len)
{
	StringInfoData buf;
	const char *p = s;
	const char *end = s + *len;

	/*
	 * The encoding's string verifier (8 bytes at a time while they are
	 * ASCII), not pg_verify_mbstr_len's character by character walk; it
	 * refuses a NUL byte too
	 */
	if (pg_verify_mbstr(PG_UTF8, s, *len, true))
		return s;

	if (policy == ETL_INVALID_UTF8_ERROR)
	{
		if (memchr(s, '\0', *len) != NULL)
			ereport(ERROR,
					(errcode(ERRCODE_UNTRANSLATABLE_CHARACTER),
					 errmsg("invalid byte sequence for encoding \"UTF8\": 0x00"),
					 errhint("Set \"invalid_utf8\" to \"replace\" for this table to replace such bytes.")));
		ereport(ERROR,
				(errcode(ERRCODE_CHARACTER_NOT_IN_REPERTOIRE),
				 errmsg("invalid byte sequence for encoding \"UTF8\": 0x%02x",
						(unsigned char) s[pg_encoding_verifymbstr(PG_UTF8, s, *len)]),
				 errhint("Set \"invalid_utf8\" to \"replace\" for this table to replace such bytes.")));
	}

	/* replace each invalid sequence and each NUL by U+FFFD */
	initStringInfo(&buf);
	while (p < end)
	{
		int			l = (*p == '\0') ? -1 :
		pg_utf8_islegal((const unsigned char *) p,
						Min(end - p, pg_utf_mblen((const unsigned char *) p))) ?
		pg_utf_mblen((const unsigned char *) p) : -1;

		if (l > 0 && p + l <= end)
		{
			appendBinaryStringInfo(&buf, p, l);
			p += l;
		}
		else
		{
			appendStringInfoString(&buf, "\xef\xbf\xbd");
			p++;
		}
	}
	*len = buf.len;
	return buf.data;
}

/*
 * MySQL's UTF-8 text in the database encoding, NUL-terminated, with the
 * table's invalid_utf8 policy applied; *len is updated.
 */
static const char *
database_text(EtlPullConverter *conv, const char *s, unsigned long *len)
{
	const char *str;

	str = EtlPullCheckUtf8(conv->table->invalid_utf8, s, len);
	if (!conv->db_utf8)
	{
		str = (const char *) pg_do_encoding_conversion((unsigned char *) str, *len,
													   PG_UTF8,
													   GetDatabaseEncoding());
		*len = strlen(str);
	}
	return str;
}

/*
 * Text: check the encoding, replace or reject invalid bytes and NULs as
 * the table's policy says, enforce varchar(n)/char(n) lengths.
 */
static Datum
convert_text(EtlPullConverter *conv, ColumnConverter *cc, const char *s,
			 unsigned long len)
{
	const char *str = database_text(conv, s, &len);
	int			nchars;

	if (cc->maxchars >= 0 && len > (unsigned long) cc->maxchars)
	{
		nchars = pg_mbstrlen_with_len(str, len);
		if (nchars > cc->maxchars)
			ereport(ERROR,
					(errcode(ERRCODE_STRING_DATA_RIGHT_TRUNCATION),
					 errmsg("value too long for type %s",
							format_type_with_typemod(cc->typid, cc->typmod)),
					 errdetail("The value has %d characters.", nchars)));
	}
	if (cc->typid == BPCHAROID)
	{
		/* MySQL strips CHAR padding; bpchar keeps it */
		return DirectFunctionCall3(bpcharin, CStringGetDatum(pnstrdup(str, len)),
								   ObjectIdGetDatum(InvalidOid),
								   Int32GetDatum(cc->typmod));
	}
	return PointerGetDatum(cstring_to_text_with_len(str, len));
}

static Datum
convert_bytea(const char *s, unsigned long len)
{
	bytea	   *b = (bytea *) palloc(len + VARHDRSZ);

	SET_VARSIZE(b, len + VARHDRSZ);
	memcpy(VARDATA(b), s, len);
	return PointerGetDatum(b);
}

/*
 * BIT(n): MySQL sends the value as big-endian bytes, right-aligned.  The
 * target's length is checked as bit_in and varbit_in check it: bit(m)
 * takes exactly m bits, varbit(m) at most m.
 */
static Datum
convert_bit(ColumnConverter *cc, const unsigned char *s, unsigned long len)
{
	int			nbits = cc->scol->length > 0 ? cc->scol->length : (int) len * 8;
	VarBit	   *result;
	int			i;

	if (cc->typid == BITOID && cc->typmod > 0 && cc->typmod != nbits)
		ereport(ERROR,
				(errcode(ERRCODE_STRING_DATA_LENGTH_MISMATCH),
				 errmsg("bit string length %d does not match type bit(%d)",
						nbits, cc->typmod)));
	if (cc->typid == VARBITOID && cc->typmod > 0 && nbits > cc->typmod)
		ereport(ERROR,
				(errcode(ERRCODE_STRING_DATA_RIGHT_TRUNCATION),
				 errmsg("bit string too long for type bit varying(%d)",
						cc->typmod)));
	result = (VarBit *) palloc0(VARBITTOTALLEN(nbits));
	SET_VARSIZE(result, VARBITTOTALLEN(nbits));
	VARBITLEN(result) = nbits;
	for (i = 0; i < nbits; i++)
	{
		/* bit i counted from the most significant of the n-bit value */
		int			pos = nbits - 1 - i;	/* from the least significant */
		long		byte = (long) len - 1 - pos / 8;

		if (byte >= 0 && (s[byte] >> (pos % 8)) & 1)
			VARBITS(result)[i / 8] |= (bits8) (0x80 >> (i % 8));
	}
	return VarBitPGetDatum(result);
}

static Datum
convert_bool(ColumnConverter *cc, const char *s, unsigned long len)
{
	if (cc->scol->kind == SRC_BIT)
	{
		if (len == 1 && (s[0] == 0 || s[0] == 1))
			return BoolGetDatum(s[0] == 1);
	}
	else if (len == 1 && (s[0] == '0' || s[0] == '1'))
		return BoolGetDatum(s[0] == '1');
	ereport(ERROR,
			(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
			 errmsg("value \"%s\" cannot be stored in a boolean column",
					cc->scol->kind == SRC_BIT ? "(bits)" : VALUE_TEXT(s)),
			 errdetail("Only 0 and 1 convert to boolean.")));
	return (Datum) 0;			/* keep compiler quiet */
}

/* Parse exactly n digits */
static inline bool
digits(const char *s, int n, int *out)
{
	int			v = 0;
	int			i;

	for (i = 0; i < n; i++)
	{
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return true;
}

/* Parse ".ffffff" (1 to 6 digits) into microseconds; s points at '.' */
static inline bool
fraction(const char *s, const char *end, int64 *usec)
{
	int64		v = 0;
	int			n = 0;

	if (s == end)
	{
		*usec = 0;
		return true;
	}
	if (*s != '.')
		return false;
	for (s++; s < end; s++, n++)
	{
		if (*s < '0' || *s > '9' || n >= 6)
			return false;
		v = v * 10 + (*s - '0');
	}
	for (; n < 6; n++)
		v *= 10;
	*usec = v;
	return true;
}

/*
 * A zero date, by its fields: a zero month or day, whatever the year
 * ('0000-00-00', '2024-00-00', '2024-05-00'), which MySQL keeps (outside
 * NO_ZERO_DATE and NO_ZERO_IN_DATE) and PostgreSQL has no value for
 */
static inline bool
zero_date_fields(int month, int day)
{
	return month == 0 || day == 0;
}

/*
 * Whether "s" (len bytes of MySQL's text) in source column "col" is a zero
 * date (zero_date_fields): a DATE, DATETIME or TIMESTAMP whose month or day
 * is "00".  What a load makes of it: EtlPullZeroDateAction.
 */
bool
EtlPullIsZeroDate(EtlPullSourceColumn *col, const char *s, unsigned long len)
{
	int			month = -1;
	int			day = -1;

	if (col->kind != SRC_DATE && col->kind != SRC_DATETIME &&
		col->kind != SRC_TIMESTAMP)
		return false;
	if (len < 10)
		return false;
	(void) digits(s + 5, 2, &month);
	(void) digits(s + 8, 2, &day);
	return zero_date_fields(month, day);
}

/*
 * What a load makes of zero date "s" (its text, for the message) in source
 * column "col", by the table's setting zero_dates: under "error" it fails,
 * with the one message; otherwise returns the setting, and the caller
 * loads NULL (ETL_ZERO_DATES_NULL) or -infinity (ETL_ZERO_DATES_INFINITY).
 */
EtlPullZeroDates
EtlPullZeroDateAction(EtlPullTable *table, EtlPullSourceColumn *col,
					  const char *s)
{
	if (table->zero_dates == ETL_ZERO_DATES_ERROR)
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("zero date \"%s\" in column \"%s\"", VALUE_TEXT(s), col->name),
				 errhint("Set \"zero_dates\" to \"null\" for this table to load zero dates as NULL.")));
	return table->zero_dates;
}

/* What zero dates become under "table"'s zero_dates, for etl_pull.plan() */
const char *
EtlPullZeroDateOutcome(EtlPullTable *table)
{
	switch (table->zero_dates)
	{
		case ETL_ZERO_DATES_NULL:
			return "load as NULL";
		case ETL_ZERO_DATES_INFINITY:
			return "load as -infinity";
		case ETL_ZERO_DATES_ERROR:
			break;
	}
	return "fail the load";
}

static void
bad_datetime(const char *s)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_DATETIME_FORMAT),
			 errmsg("invalid date/time value \"%s\"", VALUE_TEXT(s))));
}

/*
 * Dates and datetimes ("YYYY-MM-DD[ HH:MM:SS[.ffffff]]").  Returns false
 * for a zero date, which the caller turns into NULL, an error or -infinity
 * (setting zero_dates).
 */
static bool
parse_datetime(const char *s, unsigned long len, bool with_time,
			   int *jdate, int64 *usec_of_day)
{
	int			y,
				m,
				d,
				hh = 0,
				mi = 0,
				ss = 0;
	int64		frac = 0;

	if (len < 10 || s[4] != '-' || s[7] != '-' ||
		!digits(s, 4, &y) || !digits(s + 5, 2, &m) || !digits(s + 8, 2, &d))
		bad_datetime(s);
	if (zero_date_fields(m, d))
		return false;
	if (with_time && len > 10)
	{
		if (len < 19 || s[10] != ' ' || s[13] != ':' || s[16] != ':' ||
			!digits(s + 11, 2, &hh) || !digits(s + 14, 2, &mi) ||
			!digits(s + 17, 2, &ss) || !fraction(s + 19, s + len, &frac))
			bad_datetime(s);
	}
	else if (len != 10)
		bad_datetime(s);
	if (m > 12 || d > day_tab[isleap(y)][m - 1] ||
		hh > 23 || mi > 59 || ss > 59)
		bad_datetime(s);
	*jdate = date2j(y, m, d) - POSTGRES_EPOCH_JDATE;
	*usec_of_day = ((int64) (hh * 60 + mi) * 60 + ss) * USECS_PER_SEC + frac;
	return true;
}

/*
 * A zero or partial-zero date ("s", for messages) by the table's
 * zero_dates policy: -infinity (a timestamp when "timestamp", else a
 * date), NULL (*isnull), or an ERROR.
 */
static Datum
zero_date(EtlPullConverter *conv, ColumnConverter *cc, const char *s,
		  bool timestamp, bool *isnull)
{
	if (EtlPullZeroDateAction(conv->table, cc->scol, s) == ETL_ZERO_DATES_INFINITY)
	{
		if (timestamp)
		{
			Timestamp	ts;

			TIMESTAMP_NOBEGIN(ts);
			return TimestampGetDatum(ts);
		}
		else
		{
			DateADT		d;

			DATE_NOBEGIN(d);
			return DateADTGetDatum(d);
		}
	}
	if (cc->notnull)
		ereport(ERROR,
				(errcode(ERRCODE_NOT_NULL_VIOLATION),
				 errmsg("zero date \"%s\" cannot be loaded into NOT NULL column \"%s\"",
						VALUE_TEXT(s), cc->scol->target_name),
				 errhint("Zero dates load as NULL: make the column nullable, or correct the value at the source.")));
	*isnull = true;
	return (Datum) 0;
}

/*
 * A date (days since PostgreSQL's epoch) and a time of day as a timestamp,
 * checked for range and rounded to the target's precision.  "s" is the
 * value for messages: its text, or when "native" its EtlPullNative,
 * rendered only for the message.
 */
static Datum
timestamp_datum(ColumnConverter *cc, int jdate, int64 usec, const char *s,
				bool native)
{
	Timestamp	ts = (Timestamp) jdate * USECS_PER_DAY + usec;

	if (!IS_VALID_TIMESTAMP(ts))
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("timestamp out of range: \"%s\"",
						native ? EtlPullNativeText(s) : VALUE_TEXT(s))));
	if (cc->typmod >= 0 && cc->typmod < cc->scol->scale)
#if PG_VERSION_NUM >= 160000
		AdjustTimestampForTypmod(&ts, cc->typmod, NULL);
#else
		AdjustTimestampForTypmod(&ts, cc->typmod);
#endif
	return TimestampGetDatum(ts);
}

static Datum
convert_date(EtlPullConverter *conv, ColumnConverter *cc, const char *s,
			 unsigned long len, bool *isnull)
{
	int			jdate;
	int64		usec;

	if (!parse_datetime(s, len, false, &jdate, &usec))
		return zero_date(conv, cc, s, false, isnull);
	return DateADTGetDatum((DateADT) jdate);
}

static Datum
convert_timestamp(EtlPullConverter *conv, ColumnConverter *cc, const char *s,
				  unsigned long len, bool *isnull)
{
	int			jdate;
	int64		usec;

	if (!parse_datetime(s, len, true, &jdate, &usec))
		return zero_date(conv, cc, s, true, isnull);
	return timestamp_datum(cc, jdate, usec, s, false);
}

/*
 * TIME ("[-]H+:MM:SS[.ffffff]", up to +-838:59:59) to interval, with the
 * target's fields and precision applied (interval HOUR, DAY TO SECOND(0),
 * ...) as interval_in applies them: MySQL's text is always hours, minutes
 * and seconds, which interval_in reads the same whatever the fields, and
 * then restricts to the typmod, as interval_scale does.
 */
static Datum
convert_interval(ColumnConverter *cc, const char *s, unsigned long len)
{
	const char *p = s;
	const char *end = s + len;
	bool		neg = false;
	int64		hours = 0;
	int			mi,
				ss;
	int64		frac;
	Interval   *iv;

	if (p < end && *p == '-')
	{
		neg = true;
		p++;
	}
	if (p == end || *p < '0' || *p > '9')
		bad_datetime(s);
	while (p < end && *p >= '0' && *p <= '9')
		hours = hours * 10 + (*p++ - '0');
	if (end - p < 6 || p[0] != ':' || p[3] != ':' ||
		!digits(p + 1, 2, &mi) || !digits(p + 4, 2, &ss) ||
		!fraction(p + 6, end, &frac) || mi > 59 || ss > 59)
		bad_datetime(s);
	iv = (Interval *) palloc(sizeof(Interval));
	iv->month = 0;
	iv->day = 0;
	iv->time = ((hours * 60 + mi) * 60 + ss) * USECS_PER_SEC + frac;
	if (neg)
		iv->time = -iv->time;
	if (cc->typmod >= 0)
		return DirectFunctionCall2(interval_scale, IntervalPGetDatum(iv),
								   Int32GetDatum(cc->typmod));
	return IntervalPGetDatum(iv);
}

/* SET ('a,b,c') to text[] */
static Datum
convert_text_array(EtlPullConverter *conv, ColumnConverter *cc, const char *s,
				   unsigned long len)
{
	Datum	   *elems;
	int			n = 0;
	int			max = 1;
	unsigned long i;
	unsigned long start = 0;

	for (i = 0; i < len; i++)
		if (s[i] == ',')
			max++;
	elems = palloc(sizeof(Datum) * max);
	if (len > 0)
	{
		for (i = 0; i <= len; i++)
		{
			if (i == len || s[i] == ',')
			{
				elems[n++] = convert_text(conv, cc, s + start, i - start);
				start = i + 1;
			}
		}
	}
	return PointerGetDatum(construct_array(elems, n, TEXTOID, -1, false,
										   TYPALIGN_INT));
}

/*
 * A value that arrived as an EtlPullNative (see EtlPullConvertersNativeWanted),
 * converted as its text would be.
 */
static Datum
convert_native(EtlPullConverter *conv, ColumnConverter *cc, const char *s,
			   bool *isnull)
{
	/* the decoder's own struct (or a palloc'd copy): aligned, read in place */
	const EtlPullNative *nat = (const EtlPullNative *) s;
	int			jdate;

	Assert((uintptr_t) s % sizeof(int64) == 0);

	switch (cc->func)
	{
		case CV_INT2:
			if (nat->i < PG_INT16_MIN || nat->i > PG_INT16_MAX)
				out_of_range(cc, EtlPullNativeText(s));
			return Int16GetDatum((int16) nat->i);
		case CV_INT4:
			if (nat->i < PG_INT32_MIN || nat->i > PG_INT32_MAX)
				out_of_range(cc, EtlPullNativeText(s));
			return Int32GetDatum((int32) nat->i);
		case CV_INT8:
			return Int64GetDatum(nat->i);
		case CV_FLOAT4:
			{
				float4		f = (float4) nat->f;

				if (isinf(f) && !isinf(nat->f))
					out_of_range(cc, EtlPullNativeText(s));
				return Float4GetDatum(f);
			}
		case CV_FLOAT8:
			return Float8GetDatum(nat->f);
		case CV_DATE:
		case CV_TIMESTAMP:
			if (zero_date_fields(nat->month, nat->day))
				return zero_date(conv, cc, EtlPullNativeText(s),
								 cc->func == CV_TIMESTAMP, isnull);
			/* the fields are in range (binrow.c); the day in its month */
			if (nat->day > day_tab[isleap(nat->year)][nat->month - 1])
				bad_datetime(EtlPullNativeText(s));
			jdate = date2j(nat->year, nat->month, nat->day) - POSTGRES_EPOCH_JDATE;
			if (cc->func == CV_DATE)
				return DateADTGetDatum((DateADT) jdate);
			return timestamp_datum(cc, jdate,
								   ((int64) (nat->hour * 60 + nat->minute) * 60 + nat->second) * USECS_PER_SEC +
								   nat->usec, s, true);
		default:
			elog(ERROR, "column \"%s\" has no native converter", cc->scol->name);
	}
	return (Datum) 0;
}

/*
 * Convert one MySQL row into the target's values/nulls arrays (indexed by
 * attribute number - 1).  Attributes no source column maps to are NULL.
 * Memory is allocated in the current context, which the caller resets
 * per batch.
 */
void
EtlPullConvertRow(EtlPullConverter *conv, char **values,
				  unsigned long *lengths, Datum *datums, bool *nulls)
{
	EtlPullConvertColumns(conv, values, lengths, datums, nulls, NULL);
}

/*
 * As EtlPullConvertRow, but only the source columns "only" says (indexed
 * by source column; NULL: all): the others' attributes are NULL and
 * unchecked (a stream's before image, of which only the key is read)
 */
void
EtlPullConvertColumns(EtlPullConverter *conv, char **values,
					  unsigned long *lengths, Datum *datums, bool *nulls,
					  const bool *only)
{
	int			i;

	conv->row = values;
	conv->lengths = lengths;
	conv->errcb.previous = error_context_stack;
	error_context_stack = &conv->errcb;

	memset(nulls, true, sizeof(bool) * conv->natts);
	for (i = 0; i < conv->ncols; i++)
	{
		ColumnConverter *cc = &conv->cols[i];
		const char *s = values[cc->src];
		unsigned long len = lengths[cc->src];
		int			a = cc->attnum - 1;
		bool		isnull = false;
		Datum		d;

		if (only != NULL && !only[cc->src])
			continue;
		if (s == NULL)
		{
			/* a NULL must satisfy the domain too (NOT NULL, CHECK) */
			if (OidIsValid(cc->domain))
			{
				conv->current = i;
				domain_check((Datum) 0, true, cc->domain, &cc->domain_extra,
							 conv->mcxt);
			}
			continue;
		}
		conv->current = i;
		if (cc->native)
		{
			d = convert_native(conv, cc, s, &isnull);
			if (OidIsValid(cc->domain))
				domain_check(d, isnull, cc->domain, &cc->domain_extra, conv->mcxt);
			datums[a] = d;
			nulls[a] = isnull;
			continue;
		}
		switch (cc->func)
		{
			case CV_INT2:
				d = Int16GetDatum((int16) convert_int(cc, s, len, PG_INT16_MIN, PG_INT16_MAX));
				break;
			case CV_INT4:
				d = Int32GetDatum((int32) convert_int(cc, s, len, PG_INT32_MIN, PG_INT32_MAX));
				break;
			case CV_INT8:
				d = Int64GetDatum(convert_int(cc, s, len, PG_INT64_MIN, PG_INT64_MAX));
				break;
			case CV_FLOAT4:
				d = convert_float(cc, s, true);
				break;
			case CV_FLOAT8:
				d = convert_float(cc, s, false);
				break;
			case CV_BOOL:
				d = convert_bool(cc, s, len);
				break;
			case CV_TEXT:
				d = convert_text(conv, cc, s, len);
				break;
			case CV_BYTEA:
				d = convert_bytea(s, len);
				break;
			case CV_BIT:
				d = convert_bit(cc, (const unsigned char *) s, len);
				break;
			case CV_DATE:
				d = convert_date(conv, cc, s, len, &isnull);
				break;
			case CV_TIMESTAMP:
				d = convert_timestamp(conv, cc, s, len, &isnull);
				break;
			case CV_INTERVAL:
				d = convert_interval(cc, s, len);
				break;
			case CV_TEXT_ARRAY:
				d = convert_text_array(conv, cc, s, len);
				break;
			case CV_NUMERIC:
			case CV_INPUT:
			default:

				/*
				 * The input function sees the text as convert_text would:
				 * valid in the database's encoding (an input function may
				 * quote its input in its error, and assumes it is), bytes
				 * of a binary column too
				 */
				s = database_text(conv, s, &len);
				d = InputFunctionCall(&cc->in_func, (char *) s,
									  cc->typioparam, cc->typmod);
				break;
		}
		if (OidIsValid(cc->domain) && cc->func != CV_INPUT)
			domain_check(d, isnull, cc->domain, &cc->domain_extra, conv->mcxt);
		datums[a] = d;
		nulls[a] = isnull;
	}
	conv->current = -1;
	error_context_stack = conv->errcb.previous;
}

/*
 * As EtlPullConvertRow, but a value that cannot be converted rejects the
 * row instead of failing the load: returns false and describes the row,
 * column, reason and raw value in *reject.
 *
 * When every column's converter is trusted (our own parsers and the core
 * input functions trusted_input lists), the error is caught without a
 * subtransaction: converting acquires nothing a transaction abort would
 * have to release (no locks, buffers, files or SPI: only memory in the
 * caller's context, which the caller resets), the reasoning of PG 16's
 * soft input errors.  Otherwise (a domain, an enum, an extension's type:
 * code that may do anything) the row is converted in a subtransaction,
 * rolled back when it fails, so whatever that code held is released.
 */
bool
EtlPullConvertRowOrReject(EtlPullConverter *conv, char **values,
						  unsigned long *lengths, Datum *datums, bool *nulls,
						  EtlPullReject *reject)
{
	MemoryContext cxt = CurrentMemoryContext;
	ResourceOwner owner = CurrentResourceOwner;
	bool		subxact = !conv->trusted;
	volatile bool ok = true;

	if (subxact)
	{
		BeginInternalSubTransaction(NULL);
		MemoryContextSwitchTo(cxt);
	}
	PG_TRY();
	{
		EtlPullConvertRow(conv, values, lengths, datums, nulls);
		if (subxact)
		{
			ReleaseCurrentSubTransaction();
			MemoryContextSwitchTo(cxt);
			CurrentResourceOwner = owner;
		}
	}
	PG_CATCH();
	{
		ErrorData  *edata;
		ColumnConverter *cc;
		const char *raw;
		unsigned long len;

		MemoryContextSwitchTo(cxt);
		edata = CopyErrorData();
		FlushErrorState();
		if (subxact)
		{
			RollbackAndReleaseCurrentSubTransaction();
			MemoryContextSwitchTo(cxt);
			CurrentResourceOwner = owner;
		}
		/* a cancel or shutdown is not a bad row */
		if (ERRCODE_TO_CATEGORY(edata->sqlerrcode) == ERRCODE_OPERATOR_INTERVENTION)
			ReThrowError(edata);
		ok = false;

		cc = conv->current >= 0 ? &conv->cols[conv->current] : NULL;
		reject->row_key = row_key_text(conv);
		reject->column = cc ? pstrdup(cc->scol->name) : NULL;
		reject->reason = edata->message;
		reject->raw_text = NULL;
		reject->raw_bytes = NULL;
		if (cc && values[cc->src])
		{
			raw = values[cc->src];
			len = lengths[cc->src];
			if (cc->native)
			{
				raw = EtlPullNativeText(raw);
				len = strlen(raw);
			}
			if (cc->scol->kind != SRC_BINARY)
			{
				bool		exact;
				char	   *text = EtlPullValidText(raw, len, PG_UTF8, &exact);

				/* text only when it is the value itself, else its bytes */
				if (exact)
					reject->raw_text = text;
			}
			if (reject->raw_text == NULL)
				reject->raw_bytes = (bytea *) DatumGetPointer(convert_bytea(raw, len));
		}
		conv->current = -1;
	}
	PG_END_TRY();
	return ok;
}

/*
 * Convert n rows (values[k], lengths[k]) into datums[k]/nulls[k] (arrays
 * of the target's width) in one subtransaction, for on_error = reject with
 * untrusted converters: one subtransaction per batch instead of per row.
 * Returns false, with the subtransaction rolled back and the error
 * dropped, if any row failed; the caller then converts the rows again one
 * by one with EtlPullConvertRowOrReject, which finds the bad ones (and
 * redoes whatever the good rows' code did).  Memory goes to the current
 * context.
 */
bool
EtlPullConvertRowsTry(EtlPullConverter *conv, int n, char ***values,
					  unsigned long **lengths, Datum **datums, bool **nulls)
{
	MemoryContext cxt = CurrentMemoryContext;
	ResourceOwner owner = CurrentResourceOwner;
	volatile bool ok = true;

	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(cxt);
	PG_TRY();
	{
		int			k;

		for (k = 0; k < n; k++)
			EtlPullConvertRow(conv, values[k], lengths[k], datums[k], nulls[k]);
		ReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(cxt);
		CurrentResourceOwner = owner;
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(cxt);
		edata = CopyErrorData();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(cxt);
		CurrentResourceOwner = owner;
		if (ERRCODE_TO_CATEGORY(edata->sqlerrcode) == ERRCODE_OPERATOR_INTERVENTION)
			ReThrowError(edata);
		FreeErrorData(edata);
		conv->current = -1;
		ok = false;
	}
	PG_END_TRY();
	return ok;
}
