/*-------------------------------------------------------------------------
 *
 * rowimage.c
 *		  Row images of the binary log's rows events, decoded into the
 *		  values the text protocol would send for a load's SELECT of the
 *		  row.
 *
 * A load reads a row with remote/source.c's SELECT in a session with
 * time_zone '+00:00', and load/convert.c turns each value's text into a
 * Datum.  For a streamed row to become the same Datums, each value here is
 * rendered as that SELECT's text: integers in decimal (signed or not, as
 * the table map's optional metadata says), FLOAT and DOUBLE in the
 * shortest digits that read back as the same double (the SELECT reads a
 * FLOAT as CAST(x AS DOUBLE)), DECIMAL with its scale's digits, dates and
 * times with the column's fractional digits, TIMESTAMP as UTC wall clock,
 * zero dates as zeros ('0000-00-00 00:00:00'), YEAR as its full year (0 for
 * the zero year), BIT as its bytes, ENUM and SET as their strings, strings
 * and blobs as their bytes (BINARY(n) padded with NULs to n, as MySQL
 * pads it), geometry as WKB (the SELECT's ST_AsBinary: the binary log's
 * value without its 4-byte SRID).  The legacy temporal types of columns
 * created before MySQL 5.6's format (MariaDB's /\* mariadb-5.3 *\/
 * columns: TIMESTAMP 7, TIME 11, DATETIME 12) are read in their old
 * layouts; the newer TIMESTAMP2, DATETIME2 and TIME2 are big-endian with
 * (fsp + 1) / 2 bytes of fraction.
 *
 * Every length is checked against the row data before a byte is read: a
 * value that does not fit is an ERROR (08P01) naming the table and the
 * column.  Text in a character set other than utf8mb3, utf8mb4, ascii or
 * binary is refused (a load reads it converted to utf8mb4, which a binary
 * log does not).
 *
 * IDENTIFICATION
 *		  src/stream/rowimage.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "common/shortest_dec.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/datetime.h"

#include "etl_pull.h"
#include "stream/event.h"
#include "stream/event_int.h"

/* A cursor over a rows event's row data */
typedef struct Row
{
	const unsigned char *p;
	const unsigned char *end;
	const EtlPullTableMap *map;
	int			col;			/* column being read, for messages */
} Row;

static void bad_value(const Row *r, const char *detail) pg_attribute_noreturn();
static void missing_metadata(const Row *r, const char *what,
							 const char *level) pg_attribute_noreturn();

static void
bad_value(const Row *r, const char *detail)
{
	ereport(ERROR,
			(errcode(ERRCODE_PROTOCOL_VIOLATION),
			 errmsg("malformed row in the binary log for table \"%s.%s\", column %d%s%s%s",
					EtlPullPrintable(r->map->db, 64),
					EtlPullPrintable(r->map->table, 64), r->col + 1,
					r->map->names ? " (\"" : "",
					r->map->names ? EtlPullPrintable(r->map->names[r->col], 64) : "",
					r->map->names ? "\")" : ""),
			 errdetail_internal("%s", detail)));
}

static inline void
need(const Row *r, size_t n)
{
	if ((size_t) (r->end - r->p) < n)
		bad_value(r, psprintf("The value needs %zu bytes; the row data has %zu left.",
							  n, (size_t) (r->end - r->p)));
}

/*
 * A value's length prefix of "hdr" bytes, read and checked: at most "max"
 * bytes ("kind" names the type for the message; max 0: no bound but the
 * row's), and that many left in the row.  The cursor is left on the value.
 */
static uint64
prefixed_length(Row *r, int hdr, uint64 max, const char *kind)
{
	uint64		n;

	need(r, hdr);
	n = stream_le(r->p, hdr);
	r->p += hdr;
	if (max > 0 && n > max)
		bad_value(r, psprintf("A %s value of " UINT64_FORMAT " bytes exceeds its " UINT64_FORMAT ".",
							  kind, n, max));
	need(r, n);
	return n;
}

/* The value's text, palloc'd, as *value and *length */
static void
set_text(char **value, unsigned long *length, const char *s, size_t n)
{
	char	   *v = palloc(n + 1);

	memcpy(v, s, n);
	v[n] = '\0';
	*value = v;
	*length = (unsigned long) n;
}

static void
set_str(char **value, unsigned long *length, char *s)
{
	*value = s;
	*length = strlen(s);
}

/* Whether a collation id is of utf8mb3, utf8mb4, ascii or binary */
static bool
charset_passes(int id)
{
	if (id < 0)
		return true;			/* not sent: convert.c validates the text */
	if (id == 63 || id == 11 || id == 65 || id == 33 || id == 83 ||
		id == 45 || id == 46 ||
		(id >= 192 && id <= 215) || id == 223 ||	/* utf8mb3 UCA */
		(id >= 224 && id <= 247) ||		/* utf8mb4 UCA */
		(id >= 255 && id <= 323 && id != 289 && id != 319 && id != 320))	/* MySQL 8's
																			 * utf8mb4 */
		return true;
	/* MariaDB 10.10+'s UCA 14.0 collations: utf8mb3 2048-2303, utf8mb4 2304-2559 */
	if (id >= 2048 && id < 2560)
		return true;
	/* MariaDB's utf8mb3_general1400_as_ci and utf8mb4 counterparts */
	if (id == 1057 || id == 1069 || id == 1091 || id == 1103 || id == 1124 ||
		id == 1250 || id == 1262 || id == 1276 || id == 1305 || id == 1323)
		return true;
	return false;
}

/* The column's bytes as text, after its character set is checked */
static void
text_value(Row *r, const unsigned char *p, size_t n, char **value,
		   unsigned long *length)
{
	int			cs = r->map->charset ? r->map->charset[r->col] : -1;

	if (!charset_passes(cs))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("column %d of table \"%s.%s\" has collation %d, which the binary log stream cannot convert",
						r->col + 1, EtlPullPrintable(r->map->db, 64),
						EtlPullPrintable(r->map->table, 64), cs),
				 errdetail("The stream reads text in utf8mb3, utf8mb4, ascii and binary columns only.")));
	set_text(value, length, (const char *) p, n);
}

/*
 * The table map lacks the metadata ("what") that column r->col needs to be
 * read; "level" is the binlog_row_metadata that gives it
 */
static void
missing_metadata(const Row *r, const char *what, const char *level)
{
	ereport(ERROR,
			(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
			 errmsg("the binary log's table map lacks the %s of column %d of table \"%s.%s\"",
					what, r->col + 1, EtlPullPrintable(r->map->db, 64),
					EtlPullPrintable(r->map->table, 64)),
			 errhint("Set binlog_row_metadata = %s on the MySQL server.", level)));
}

/* An integer of n bytes */
static void
int_value(Row *r, int n, char **value, unsigned long *length)
{
	char		buf[32];
	uint64		u;
	int			shift = 64 - 8 * n;
	int			len;

	if (r->map->is_unsigned == NULL)
		missing_metadata(r, "signedness", "FULL");
	need(r, n);
	u = stream_le(r->p, n);
	r->p += n;
	if (r->map->is_unsigned[r->col])
		len = pg_ulltoa_n(u, buf);
	else
		len = pg_lltoa((int64) (u << shift) >> shift, buf);
	set_text(value, length, buf, len);
}

/* The digits of a binary DECIMAL(precision, scale), as MySQL prints it */
static void
decimal_value(Row *r, char **value, unsigned long *length)
{
	static const int dig2bytes[10] = {0, 1, 1, 2, 2, 3, 3, 4, 4, 4};
	static const uint64 powers[10] = {1, 10, 100, 1000, 10000, 100000, 1000000,
	10000000, 100000000, 1000000000};
	int			precision = r->map->meta[r->col] >> 8;
	int			scale = r->map->meta[r->col] & 0xff;
	int			intg = precision - scale;
	int			intg0 = intg / 9,
				intg0x = intg % 9,
				frac0 = scale / 9,
				frac0x = scale % 9;
	int			size = intg0 * 4 + dig2bytes[intg0x] + frac0 * 4 + dig2bytes[frac0x];
	unsigned char buf[40];
	bool		neg;
	StringInfoData s;
	const unsigned char *p;
	int			i;
	char		digits[16];
	bool		started = false;

	need(r, size);
	memcpy(buf, r->p, size);
	r->p += size;
	neg = (buf[0] & 0x80) == 0;
	buf[0] ^= 0x80;
	if (neg)
		for (i = 0; i < size; i++)
			buf[i] = ~buf[i];

	initStringInfo(&s);
	if (neg)
		appendStringInfoChar(&s, '-');
	p = buf;
	/* integer part: a partial group, then groups of 9 digits */
	if (intg0x > 0)
	{
		uint64		v = stream_be(p, dig2bytes[intg0x]);

		p += dig2bytes[intg0x];
		if (v >= powers[intg0x])
			bad_value(r, "A decimal's digit group is out of range.");
		if (v > 0)
		{
			appendStringInfo(&s, UINT64_FORMAT, v);
			started = true;
		}
	}
	for (i = 0; i < intg0; i++)
	{
		uint64		v = stream_be(p, 4);

		p += 4;
		if (v > 999999999)
			bad_value(r, "A decimal's digit group is out of range.");
		if (started)
			appendStringInfo(&s, "%09u", (unsigned int) v);
		else if (v > 0)
		{
			appendStringInfo(&s, UINT64_FORMAT, v);
			started = true;
		}
	}
	if (!started)
		appendStringInfoChar(&s, '0');
	if (scale > 0)
	{
		appendStringInfoChar(&s, '.');
		for (i = 0; i < frac0; i++)
		{
			uint64		v = stream_be(p, 4);

			p += 4;
			if (v > 999999999)
				bad_value(r, "A decimal's digit group is out of range.");
			appendStringInfo(&s, "%09u", (unsigned int) v);
		}
		if (frac0x > 0)
		{
			uint64		v = stream_be(p, dig2bytes[frac0x]);

			if (v >= powers[frac0x])
				bad_value(r, "A decimal's digit group is out of range.");
			snprintf(digits, sizeof(digits), "%09u", (unsigned int) v);
			/* the group holds frac0x digits, right-aligned */
			appendBinaryStringInfo(&s, digits + 9 - frac0x, frac0x);
		}
	}
	/* -0.00 is 0.00 */
	if (neg)
	{
		bool		zero = true;

		for (i = 1; i < s.len; i++)
			if (s.data[i] >= '1' && s.data[i] <= '9')
				zero = false;
		if (zero)
		{
			memmove(s.data, s.data + 1, s.len);
			s.len--;
		}
	}
	*value = s.data;
	*length = s.len;
}

/*
 * "v" (0 <= v) in decimal, zero-padded to "width" digits at least, at
 * "out"; returns the digits written.  A row's dates and times are printed
 * with it, not snprintf: a statement over a million rows prints millions.
 */
static int
put_digits(char *out, int v, int width)
{
	char		d[12];
	int			n = 0;
	int			i;

	do
	{
		d[n++] = '0' + v % 10;
		v /= 10;
	} while (v > 0);
	while (n < width)
		d[n++] = '0';
	for (i = 0; i < n; i++)
		out[i] = d[n - 1 - i];
	return n;
}

/* Fractional digits: "fsp" of usec, after a '.', or nothing */
static int
put_fraction(char *out, int usec, int fsp)
{
	char		d[8];

	if (fsp == 0)
		return 0;
	put_digits(d, usec, 6);
	out[0] = '.';
	memcpy(out + 1, d, fsp);
	return fsp + 1;
}

/* A date and time from their fields, checked, with fsp digits */
static void
datetime_text(Row *r, int year, int month, int day, int hour, int minute,
			  int second, int usec, int fsp, bool with_time, char **value,
			  unsigned long *length)
{
	char		buf[40];
	int			n;

	if (year < 0 || year > 9999 || month < 0 || month > 12 || day < 0 || day > 31 ||
		hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 ||
		second > 59 || usec < 0 || usec > 999999)
		bad_value(r, psprintf("A date or time holds fields out of range (%d-%d-%d %d:%d:%d.%d).",
							  year, month, day, hour, minute, second, usec));
	n = put_digits(buf, year, 4);
	buf[n++] = '-';
	n += put_digits(buf + n, month, 2);
	buf[n++] = '-';
	n += put_digits(buf + n, day, 2);
	if (with_time)
	{
		buf[n++] = ' ';
		n += put_digits(buf + n, hour, 2);
		buf[n++] = ':';
		n += put_digits(buf + n, minute, 2);
		buf[n++] = ':';
		n += put_digits(buf + n, second, 2);
		n += put_fraction(buf + n, usec, fsp);
	}
	set_text(value, length, buf, n);
}

/* A time of day or duration, checked, with fsp digits */
static void
time_text(Row *r, bool neg, int64 hours, int minute, int second, int usec,
		  int fsp, char **value, unsigned long *length)
{
	char		buf[40];
	int			n;

	if (hours > 838 || minute > 59 || second > 59 || usec > 999999 ||
		hours < 0 || minute < 0 || second < 0 || usec < 0)
		bad_value(r, "A time holds fields out of range.");
	n = 0;
	if (neg)
		buf[n++] = '-';
	n += put_digits(buf + n, (int) hours, 2);
	buf[n++] = ':';
	n += put_digits(buf + n, minute, 2);
	buf[n++] = ':';
	n += put_digits(buf + n, second, 2);
	n += put_fraction(buf + n, usec, fsp);
	set_text(value, length, buf, n);
}

/* A time_t as UTC wall clock (TIMESTAMP); 0 is the zero timestamp */
static void
epoch_text(Row *r, int64 secs, int usec, int fsp, char **value,
		   unsigned long *length)
{
	int64		days,
				rem;
	int			year,
				month,
				day;
	int			j;

	if (secs == 0 && usec == 0)
	{
		datetime_text(r, 0, 0, 0, 0, 0, 0, 0, fsp, true, value, length);
		return;
	}
	days = secs / 86400;
	rem = secs % 86400;
	/* days since 1970-01-01 to a Gregorian date (PostgreSQL's j2date) */
	j2date((int) (days + UNIX_EPOCH_JDATE), &year, &month, &day);
	j = (int) rem;
	datetime_text(r, year, month, day, j / 3600, (j / 60) % 60, j % 60, usec,
				  fsp, true, value, length);
}

/* The fraction of a TIMESTAMP2/DATETIME2/TIME2 (big-endian, signed) */
static int64
fraction(Row *r, int fsp, bool is_signed)
{
	int			n = (fsp + 1) / 2;
	int64		v;

	if (n == 0)
		return 0;
	need(r, n);
	v = (int64) stream_be(r->p, n);
	if (is_signed && (r->p[0] & 0x80))
		v -= ((int64) 1) << (8 * n);
	r->p += n;
	return v;
}

/* Scale a fraction of (fsp + 1) / 2 bytes to microseconds */
static int64
to_usec(int64 frac, int fsp)
{
	switch ((fsp + 1) / 2)
	{
		case 1:
			return frac * 10000;
		case 2:
			return frac * 100;
		default:
			return frac;
	}
}

/* 10^(6 - fsp): what a value of fsp digits is scaled by to microseconds */
static int64
usec_scale(int fsp)
{
	static const int64 scale[7] = {1000000, 100000, 10000, 1000, 100, 10, 1};

	return scale[fsp];
}

/*
 * MariaDB 5.3's TIME(n), DATETIME(n) and TIMESTAMP(n) with n > 0 (columns
 * created with mysql56_temporal_format off), whose digits the caller took
 * from the source's catalog: big-endian numbers of (time_hires_bytes,
 * datetime_hires_bytes) bytes counting units of 10^-n s, a TIME's from
 * the lowest -838:59:59.999999 on; a TIMESTAMP's seconds in 4 bytes, then
 * its fraction.
 */
static void
legacy_hires(Row *r, uint8 t, int fsp, char **value, unsigned long *length)
{
	static const int time_bytes[7] = {3, 4, 4, 5, 5, 5, 6};
	static const int datetime_bytes[7] = {5, 6, 6, 7, 7, 7, 8};
	static const int frac_bytes[7] = {0, 1, 1, 2, 2, 3, 3};

	if (t == T_TIMESTAMP)
	{
		int64		secs;
		int64		frac;

		need(r, 4 + frac_bytes[fsp]);
		secs = (int64) stream_be(r->p, 4);
		frac = (int64) stream_be(r->p + 4, frac_bytes[fsp]);
		r->p += 4 + frac_bytes[fsp];
		if (frac * usec_scale(fsp) > 999999)
			bad_value(r, "An old-format TIMESTAMP's fraction is out of range.");
		epoch_text(r, secs, (int) (frac * usec_scale(fsp)), fsp, value, length);
	}
	else if (t == T_TIME)
	{
		int			n = time_bytes[fsp];
		int64		zero = INT64CONST(3020400) * 1000000 / usec_scale(fsp);
		int64		v;
		bool		neg;

		need(r, n);
		v = ((int64) stream_be(r->p, n) - zero) * usec_scale(fsp);
		r->p += n;
		neg = v < 0;
		if (neg)
			v = -v;
		time_text(r, neg, v / 3600000000,
				  (int) ((v / 60000000) % 60), (int) ((v / 1000000) % 60),
				  (int) (v % 1000000), fsp, value, length);
	}
	else
	{
		int			n = datetime_bytes[fsp];
		uint64		v;
		uint64		ymd;

		need(r, n);
		v = stream_be(r->p, n) * (uint64) usec_scale(fsp);
		r->p += n;
		ymd = v / UINT64CONST(86400000000);
		datetime_text(r, (int) ((ymd / 32) / 13), (int) ((ymd / 32) % 13), (int) (ymd % 32),
					  (int) ((v / 3600000000) % 24), (int) ((v / 60000000) % 60),
					  (int) ((v / 1000000) % 60), (int) (v % 1000000), fsp, true,
					  value, length);
	}
}

/* A FLOAT (n = 4) or DOUBLE (n = 8), in its shortest exact digits */
static void
float_value(Row *r, int n, char **value, unsigned long *length)
{
	char		buf[DOUBLE_SHORTEST_DECIMAL_LEN];
	uint64		u;
	double		d;
	int			len;

	need(r, n);
	u = stream_le(r->p, n);
	r->p += n;
	if (n == 4)
	{
		uint32		u4 = (uint32) u;
		float		f;

		memcpy(&f, &u4, 4);
		d = (double) f;
	}
	else
		memcpy(&d, &u, 8);
	len = double_to_shortest_decimal_buf(d, buf);
	set_text(value, length, buf, len);
}

/*
 * A temporal value in the layouts older than MySQL 5.6's: YEAR, DATE,
 * TIME as a signed [-]HHMMSS in 3 bytes, DATETIME as the number
 * YYYYMMDDhhmmss in 8, TIMESTAMP as 4 bytes of seconds
 */
static void
old_temporal_value(Row *r, uint8 t, char **value, unsigned long *length)
{
	switch (t)
	{
		case T_YEAR:
			{
				int			y;

				need(r, 1);
				y = r->p[0];
				r->p++;
				set_str(value, length, psprintf("%d", y == 0 ? 0 : 1900 + y));
			}
			break;
		case T_DATE:
		case T_NEWDATE:
			{
				uint32		v;

				need(r, 3);
				v = (uint32) stream_le(r->p, 3);
				r->p += 3;
				datetime_text(r, v >> 9, (v >> 5) & 15, v & 31, 0, 0, 0, 0, 0,
							  false, value, length);
			}
			break;
		case T_TIME:
			{
				int32		v;
				bool		neg;

				need(r, 3);
				v = (int32) stream_le(r->p, 3);
				if (v & 0x800000)
					v -= 0x1000000;
				r->p += 3;
				neg = v < 0;
				if (neg)
					v = -v;
				time_text(r, neg, v / 10000, (v / 100) % 100, v % 100, 0, 0,
						  value, length);
			}
			break;
		case T_DATETIME:
			{
				uint64		v;
				uint64		d,
							tm;

				need(r, 8);
				v = stream_le(r->p, 8);
				r->p += 8;
				d = v / 1000000;
				tm = v % 1000000;
				if (d > 99991231)
					bad_value(r, "An old-format DATETIME is out of range.");
				datetime_text(r, (int) (d / 10000), (int) (d / 100 % 100), (int) (d % 100),
							  (int) (tm / 10000), (int) (tm / 100 % 100), (int) (tm % 100),
							  0, 0, true, value, length);
			}
			break;
		default:				/* T_TIMESTAMP */
			{
				uint32		secs;

				need(r, 4);
				secs = (uint32) stream_le(r->p, 4);
				r->p += 4;
				epoch_text(r, secs, 0, 0, value, length);
			}
			break;
	}
}

/*
 * A TIME2 of "fsp" fractional digits: a big-endian signed number of
 * 3 bytes (hours, minutes, seconds), then (fsp + 1) / 2 bytes of
 * fraction; with 5 or 6 digits, the whole value as one 6-byte number
 */
static void
time2_value(Row *r, uint32 fsp, char **value, unsigned long *length)
{
	int			n = (fsp + 1) / 2;
	int64		packed;
	int64		hms;
	bool		neg;

	if (n == 3)
	{
		need(r, 6);
		packed = (int64) stream_be(r->p, 6) - INT64CONST(0x800000000000);
		r->p += 6;
	}
	else
	{
		int64		intpart;
		int64		frac = 0;

		need(r, 3);
		intpart = (int64) stream_be(r->p, 3) - 0x800000;
		r->p += 3;
		if (n > 0)
		{
			need(r, n);
			frac = (int64) stream_be(r->p, n);
			r->p += n;
			if (intpart < 0 && frac != 0)
			{
				intpart++;
				frac -= ((int64) 1) << (8 * n);
			}
		}
		packed = (intpart << 24) + to_usec(frac, fsp);
	}
	neg = packed < 0;
	if (neg)
		packed = -packed;
	hms = packed >> 24;
	time_text(r, neg, (hms >> 12) % 1024, (int) ((hms >> 6) % 64),
			  (int) (hms % 64), (int) (packed % (1 << 24)), fsp,
			  value, length);
}

/*
 * A TIMESTAMP2 or DATETIME2 of "fsp" fractional digits: big-endian,
 * seconds since the epoch in 4 bytes or the packed date and time in 5,
 * then the fraction
 */
static void
temporal2_value(Row *r, uint8 t, uint32 fsp, char **value, unsigned long *length)
{
	if (t == T_TIMESTAMP2)
	{
		int64		secs;
		int64		frac;

		need(r, 4);
		secs = (int64) stream_be(r->p, 4);
		r->p += 4;
		frac = fraction(r, fsp, false);
		epoch_text(r, secs, (int) to_usec(frac, fsp), fsp, value, length);
	}
	else
	{
		int64		intpart;
		int64		frac;
		int64		ymd,
					ym,
					hms;

		need(r, 5);
		intpart = (int64) stream_be(r->p, 5) - INT64CONST(0x8000000000);
		r->p += 5;
		frac = to_usec(fraction(r, fsp, true), fsp);
		if (intpart < 0 || frac < 0)
			bad_value(r, "A DATETIME is negative.");
		ymd = intpart >> 17;
		ym = ymd >> 5;
		hms = intpart % (1 << 17);
		datetime_text(r, (int) (ym / 13), (int) (ym % 13), (int) (ymd % 32),
					  (int) (hms >> 12), (int) ((hms >> 6) % 64), (int) (hms % 64),
					  (int) frac, fsp, true, value, length);
	}
}

/*
 * An ENUM (its 1-based index in "bytes" bytes, 0 for the empty string) or
 * a SET (a bitmap of its members), named by the table map's full metadata
 */
static void
member_value(Row *r, uint8 t, uint32 bytes, char **value, unsigned long *length)
{
	const EtlPullTableMap *map = r->map;
	uint64		v;

	need(r, bytes);
	v = stream_le(r->p, bytes);
	r->p += bytes;
	if (v != 0 && map->strings[r->col] == NULL)
		missing_metadata(r, t == T_ENUM ? "ENUM values" : "SET members", "FULL");
	if (t == T_ENUM)
	{
		if (v == 0)
			set_str(value, length, pstrdup(""));
		else if (v > (uint64) map->nstrings[r->col])
			bad_value(r, psprintf("An ENUM holds value " UINT64_FORMAT " of %d.",
								  v, map->nstrings[r->col]));
		else
			set_str(value, length, pstrdup(map->strings[r->col][v - 1]));
	}
	else
	{
		StringInfoData s;
		int			i;

		initStringInfo(&s);
		for (i = 0; i < 64 && v != 0; i++)
		{
			if (!(v & (UINT64CONST(1) << i)))
				continue;
			if (i >= map->nstrings[r->col])
				bad_value(r, "A SET holds a member it does not have.");
			if (s.len > 0)
				appendStringInfoChar(&s, ',');
			appendStringInfoString(&s, map->strings[r->col][i]);
			v &= ~(UINT64CONST(1) << i);
		}
		*value = s.data;
		*length = s.len;
	}
}

/*
 * A CHAR or BINARY(n) ("meta" is n: 1 or 2 length bytes), VARCHAR,
 * BLOB/TEXT or geometry ("meta" is its length bytes)
 */
static void
string_value(Row *r, uint8 t, uint32 meta, char **value, unsigned long *length)
{
	const EtlPullTableMap *map = r->map;
	uint64		n;

	if (t == T_STRING)
	{
		n = prefixed_length(r, meta > 255 ? 2 : 1, meta, "CHAR");
		if (map->charset == NULL || map->charset[r->col] < 0)
			missing_metadata(r, "character set", "MINIMAL or FULL");
		if (map->charset[r->col] == 63)
		{
			/* BINARY(n): MySQL pads it with NULs, the binary log does not */
			char	   *v = palloc0(meta + 1);

			memcpy(v, r->p, n);
			*value = v;
			*length = meta;
		}
		else
			text_value(r, r->p, n, value, length);
	}
	else if (t == T_VARCHAR || t == T_VAR_STRING)
	{
		n = prefixed_length(r, meta > 255 ? 2 : 1, meta, "VARCHAR");
		text_value(r, r->p, n, value, length);
	}
	else
	{
		n = prefixed_length(r, meta, 0, NULL);
		if (t == T_GEOMETRY)
		{
			/* SRID, then WKB: a load reads ST_AsBinary(), the WKB */
			if (n < 4)
				bad_value(r, "A geometry is shorter than its SRID.");
			set_text(value, length, (const char *) r->p + 4, n - 4);
		}
		else
			text_value(r, r->p, n, value, length);
	}
	r->p += n;
}

/* One column's value (not NULL) at r->p */
static void
decode_value(Row *r, char **value, unsigned long *length)
{
	const EtlPullTableMap *map = r->map;
	uint8		t = map->types[r->col];
	uint32		meta = map->meta[r->col];

	if ((t == T_TIME || t == T_DATETIME || t == T_TIMESTAMP) &&
		map->legacy_fsp && map->legacy_fsp[r->col] > 0)
	{
		legacy_hires(r, t, Min(map->legacy_fsp[r->col], 6), value, length);
		return;
	}

	switch (t)
	{
		case T_TINY:
			int_value(r, 1, value, length);
			break;
		case T_SHORT:
			int_value(r, 2, value, length);
			break;
		case T_INT24:
			int_value(r, 3, value, length);
			break;
		case T_LONG:
			int_value(r, 4, value, length);
			break;
		case T_LONGLONG:
			int_value(r, 8, value, length);
			break;
		case T_FLOAT:
			float_value(r, 4, value, length);
			break;
		case T_DOUBLE:
			float_value(r, 8, value, length);
			break;
		case T_NEWDECIMAL:
			decimal_value(r, value, length);
			break;
		case T_YEAR:
		case T_DATE:
		case T_NEWDATE:
		case T_TIME:
		case T_DATETIME:
		case T_TIMESTAMP:
			old_temporal_value(r, t, value, length);
			break;
		case T_TIMESTAMP2:
		case T_DATETIME2:
			temporal2_value(r, t, meta, value, length);
			break;
		case T_TIME2:
			time2_value(r, meta, value, length);
			break;
		case T_BIT:
			{
				int			n = (meta + 7) / 8;

				need(r, n);
				set_text(value, length, (const char *) r->p, n);
				r->p += n;
			}
			break;
		case T_ENUM:
		case T_SET:
			member_value(r, t, meta, value, length);
			break;
		case T_STRING:
		case T_VARCHAR:
		case T_VAR_STRING:
		case T_BLOB:
		case T_TINY_BLOB:
		case T_MEDIUM_BLOB:
		case T_LONG_BLOB:
		case T_GEOMETRY:
			string_value(r, t, meta, value, length);
			break;
		case T_JSON:
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("column %d of table \"%s.%s\" is MySQL's binary JSON, which the binary log stream cannot read",
							r->col + 1, EtlPullPrintable(map->db, 64),
							EtlPullPrintable(map->table, 64))));
			break;
		case T_NULL:
			bad_value(r, "A column of type NULL holds a value.");
			break;
		default:
			bad_value(r, psprintf("The column has type %u.", (unsigned int) t));
	}
}

/*
 * Step over one column's value (not NULL) at r->p without rendering it,
 * its length checked as decode_value checks it: the fixed-size types and
 * the length-prefixed strings are stepped over; any other is decoded and
 * dropped (its size depends on more than its type)
 */
static void
skip_value(Row *r)
{
	const EtlPullTableMap *map = r->map;
	uint8		t = map->types[r->col];
	uint32		meta = map->meta[r->col];
	int			n = -1;
	char	   *value;
	unsigned long length;

	if (map->legacy_fsp && map->legacy_fsp[r->col] > 0)
		t = T_NULL;				/* not stepped over: decoded below */
	switch (t)
	{
		case T_TINY:
		case T_YEAR:
			n = 1;
			break;
		case T_SHORT:
			n = 2;
			break;
		case T_INT24:
		case T_DATE:
		case T_NEWDATE:
		case T_TIME:
			n = 3;
			break;
		case T_LONG:
		case T_FLOAT:
		case T_TIMESTAMP:
			n = 4;
			break;
		case T_LONGLONG:
		case T_DOUBLE:
		case T_DATETIME:
			n = 8;
			break;
		case T_TIMESTAMP2:
			n = 4 + (meta + 1) / 2;
			break;
		case T_DATETIME2:
			n = 5 + (meta + 1) / 2;
			break;
		case T_TIME2:
			n = 3 + (meta + 1) / 2;
			break;
		case T_VARCHAR:
		case T_VAR_STRING:
			r->p += prefixed_length(r, meta > 255 ? 2 : 1, meta, "VARCHAR");
			return;
		case T_BLOB:
		case T_TINY_BLOB:
		case T_MEDIUM_BLOB:
		case T_LONG_BLOB:
			r->p += prefixed_length(r, meta, 0, NULL);
			return;
		default:
			break;
	}
	if (n < 0)
	{
		decode_value(r, &value, &length);
		return;
	}
	need(r, n);
	r->p += n;
}

/*
 * Decode one row image of "len" bytes at "buf" for "map", whose columns
 * "present" says are in the image (see event.h): values[i] and lengths[i]
 * for each column, NULL for SQL NULL or a column not present.  Returns the
 * bytes the image took.  With "wanted", only the columns it says are
 * decoded; the others' values are stepped over (their lengths checked)
 * and given as NULL.
 */
size_t
EtlPullRowImageDecode(const EtlPullTableMap *map, const uint8 *present,
					  const unsigned char *buf, size_t len,
					  char **values, unsigned long *lengths,
					  const bool *wanted)
{
	Row			r;
	int			npresent = 0;
	const unsigned char *nulls;
	int			k = 0;
	int			i;

	r.p = buf;
	r.end = buf + len;
	r.map = map;
	r.col = 0;
	for (i = 0; i < map->ncols; i++)
		if (present[i / 8] & (1 << (i % 8)))
			npresent++;
	need(&r, (npresent + 7) / 8);
	nulls = r.p;
	r.p += (npresent + 7) / 8;

	for (i = 0; i < map->ncols; i++)
	{
		values[i] = NULL;
		lengths[i] = 0;
		if (!(present[i / 8] & (1 << (i % 8))))
			continue;
		r.col = i;
		if (nulls[k / 8] & (1 << (k % 8)))
		{
			k++;
			continue;
		}
		k++;
		if (wanted == NULL || wanted[i])
			decode_value(&r, &values[i], &lengths[i]);
		else
			skip_value(&r);
	}
	if (r.p == buf)
		bad_value(&r, "A row image holds no column.");
	return r.p - buf;
}

/*
 * The next row of rows event "ev" for table map "map" (see event.h).
 */
bool
EtlPullRowsNext(const EtlPullEvent *ev, const EtlPullTableMap *map,
				size_t *pos, char **before, unsigned long *before_len,
				char **after, unsigned long *after_len, const bool *before_wanted)
{
	const unsigned char *p;
	size_t		left;

	if (ev->table_id != map->table_id)
		elog(ERROR, "rows event of table id " UINT64_FORMAT " walked with the map of table id " UINT64_FORMAT,
			 ev->table_id, map->table_id);
	if (ev->ncols != map->ncols)
		ereport(ERROR,
				(errcode(ERRCODE_PROTOCOL_VIOLATION),
				 errmsg("rows event for table \"%s.%s\" has %d columns, its table map %d",
						EtlPullPrintable(map->db, 64), EtlPullPrintable(map->table, 64),
						ev->ncols, map->ncols)));
	if (*pos >= ev->rows_len)
		return false;
	CHECK_FOR_INTERRUPTS();
	p = ev->rows + *pos;
	left = ev->rows_len - *pos;
	switch (ev->kind)
	{
		case ETL_PULL_EV_WRITE_ROWS:
			*pos += EtlPullRowImageDecode(map, ev->present, p, left, after, after_len,
										  NULL);
			break;
		case ETL_PULL_EV_DELETE_ROWS:
			*pos += EtlPullRowImageDecode(map, ev->present, p, left, before, before_len,
										  before_wanted);
			break;
		case ETL_PULL_EV_UPDATE_ROWS:
			{
				size_t		n = EtlPullRowImageDecode(map, ev->present, p, left,
													  before, before_len,
													  before_wanted);

				*pos += n;
				*pos += EtlPullRowImageDecode(map, ev->present_after, p + n,
											  left - n, after, after_len, NULL);
			}
			break;
		default:
			elog(ERROR, "event of kind %s has no rows", EtlPullEventKindName(ev->kind));
	}
	return true;
}
