/*-------------------------------------------------------------------------
 *
 * binrow.c
 *		  Rows of MySQL's binary protocol, decoded into the values the text
 *		  protocol would have sent.
 *
 * connection.c reads the packets of a prepared statement's result and
 * hands each row here, with the end of the buffer it lies in.  Connector/C
 * has its own decoder (mthd_stmt_fetch_to_bind), which walks a row by the
 * result's column types without checking it against the packet's length:
 * a row that ends early comes out as empty strings and zeros.  This one
 * checks every length before it reads a byte, never reads past "end", and
 * requires the row to end on the 0 byte the client library writes after
 * each packet (connection.c keeps the rest of its buffer filled with 0xff,
 * which begins no value, so a short row cannot end on a 0 by chance).
 *
 * The values come out as text: integers in decimal, floats and doubles in
 * the shortest digits that read back as the same value (never rounded to
 * a DOUBLE(M,D)'s D decimals, as MySQL prints them), dates and times from
 * their fields once those are in range; everything else (decimals' digits,
 * strings, bits, blobs) is its bytes, NUL-terminated in place.  So every
 * strategy's converters, the reject path and COPY take them unchanged.
 *
 * IDENTIFICATION
 *		  src/remote/binrow.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "common/shortest_dec.h"
#include "utils/builtins.h"

#include "etl_pull.h"
#include "remote/binrow.h"

/* Little-endian unsigned integer of n bytes (1, 2, 4 or 8) */
static inline uint64
get_le(const unsigned char *p, int n)
{
#ifndef WORDS_BIGENDIAN
	switch (n)
	{
		case 1:
			return p[0];
		case 2:
			{
				uint16		v;

				memcpy(&v, p, 2);
				return v;
			}
		case 4:
			{
				uint32		v;

				memcpy(&v, p, 4);
				return v;
			}
		case 8:
			{
				uint64		v;

				memcpy(&v, p, 8);
				return v;
			}
	}
#endif
	{
		uint64		v = 0;
		int			i;

		for (i = n - 1; i >= 0; i--)
			v = (v << 8) | p[i];
		return v;
	}
}

/* Write v as exactly n decimal digits (v < 10^n) at out; returns out + n */
static inline char *
put_digits(char *out, unsigned long v, int n)
{
	int			i;

	for (i = n - 1; i >= 0; i--)
	{
		out[i] = (char) ('0' + v % 10);
		v /= 10;
	}
	return out + n;
}

/* The complaint about a row that ends before its columns do (allocated only then) */
static const char *
short_row(int ncols)
{
	return psprintf("A row does not hold the %d values its result's columns announce.",
					ncols);
}

static const char *
bad_value(int col, const char *what)
{
	return psprintf("Column %d of a row holds a %s whose fields are out of range.",
					col + 1, what);
}

/* Hand over the column's value as the EtlPullNative in bc->nat */
static const char *
native_value(EtlPullBinaryColumn *bc, char **value, unsigned long *length)
{
	*value = (char *) &bc->nat;
	*length = sizeof(EtlPullNative);
	return NULL;
}

/* Hand over the column's value as the first n bytes of bc->text */
static const char *
text_value(EtlPullBinaryColumn *bc, int n, char **value, unsigned long *length)
{
	*value = bc->text;
	*length = (unsigned long) n;
	return NULL;
}

/* An integer of bc->width bytes: an int64, or in decimal */
static const char *
render_int(EtlPullBinaryColumn *bc, char **value, unsigned long *length)
{
	uint64		u = get_le(bc->ptr, bc->width);
	int			shift = 64 - 8 * bc->width;
	int			n;

	if (bc->native)
	{
		/* granted only where it fits an int64 */
		bc->nat.i = bc->is_unsigned ? (int64) u :
			(int64) (u << shift) >> shift;
		return native_value(bc, value, length);
	}
	if (bc->is_unsigned)
	{
		n = pg_ulltoa_n(u, bc->text);
		bc->text[n] = '\0';
	}
	else
		n = pg_lltoa((int64) (u << shift) >> shift, bc->text);
	return text_value(bc, n, value, length);
}

/*
 * A float or a double: as a double (a float's exact value), or in the
 * shortest digits that read back as it
 */
static const char *
render_floating(EtlPullBinaryColumn *bc, char **value, unsigned long *length)
{
	double		d;

	if (bc->layout == BL_FLOAT)
	{
		uint32		u = (uint32) get_le(bc->ptr, 4);
		float		f;

		memcpy(&f, &u, sizeof(f));
		d = (double) f;
	}
	else
	{
		uint64		u = get_le(bc->ptr, 8);

		memcpy(&d, &u, sizeof(d));
	}
	if (bc->native)
	{
		bc->nat.is_float = true;
		bc->nat.f = d;
		return native_value(bc, value, length);
	}
	return text_value(bc, double_to_shortest_decimal_buf(d, bc->text),
					  value, length);
}

/*
 * Column i's DATE or DATETIME, its fields checked: the fields in bc->nat,
 * or "YYYY-MM-DD[ HH:MM:SS[.ffffff]]".  Returns NULL, or what is wrong.
 */
static const char *
render_datetime(EtlPullBinaryColumn *bc, int i, char **value,
				unsigned long *length)
{
	const unsigned char *p = bc->ptr;
	unsigned int year = 0,
				month = 0,
				day = 0,
				hour = 0,
				minute = 0,
				second = 0;
	unsigned long usec = 0;
	char	   *q = bc->text;

	if (bc->len >= 5)
	{
		year = (unsigned int) get_le(p + 1, 2);
		month = p[3];
		day = p[4];
	}
	if (bc->len >= 8)
	{
		hour = p[5];
		minute = p[6];
		second = p[7];
	}
	if (bc->len >= 12)
		usec = (unsigned long) get_le(p + 8, 4);
	if (year > 9999 || month > 12 || day > 31)
		return bad_value(i, "date");
	if (hour > 23 || minute > 59 || second > 59 || usec > 999999)
		return bad_value(i, "datetime");
	if (bc->layout == BL_DATE && (hour || minute || second || usec))
		return bad_value(i, "date");
	if (bc->native)
	{
		EtlPullNative *nat = &bc->nat;

		nat->is_time = true;
		nat->with_time = (bc->layout == BL_DATETIME);
		nat->year = year;
		nat->month = month;
		nat->day = day;
		nat->hour = hour;
		nat->minute = minute;
		nat->second = second;
		nat->usec = usec;
		return native_value(bc, value, length);
	}

	/* without snprintf's cost */
	q = put_digits(q, year, 4);
	*q++ = '-';
	q = put_digits(q, month, 2);
	*q++ = '-';
	q = put_digits(q, day, 2);
	if (bc->layout == BL_DATETIME)
	{
		*q++ = ' ';
		q = put_digits(q, hour, 2);
		*q++ = ':';
		q = put_digits(q, minute, 2);
		*q++ = ':';
		q = put_digits(q, second, 2);
		if (usec > 0)
		{
			*q++ = '.';
			q = put_digits(q, usec, 6);
		}
	}
	*q = '\0';
	return text_value(bc, q - bc->text, value, length);
}

/*
 * Column i's TIME, its fields checked, as "[-]HHH:MM:SS[.ffffff]".
 * Returns NULL, or what is wrong.
 */
static const char *
render_time(EtlPullBinaryColumn *bc, int i, char **value,
			unsigned long *length)
{
	const unsigned char *p = bc->ptr;
	unsigned int neg = 0;
	uint64		days = 0;
	unsigned int hour = 0,
				minute = 0,
				second = 0;
	unsigned long usec = 0;
	uint64		hours;
	int			n;

	if (bc->len >= 9)
	{
		neg = p[1];
		days = get_le(p + 2, 4);
		hour = p[6];
		minute = p[7];
		second = p[8];
	}
	if (bc->len >= 13)
		usec = (unsigned long) get_le(p + 9, 4);
	hours = days * 24 + hour;
	/* TIME is +-838:59:59 */
	if (neg > 1 || days > 34 || hour > 23 || hours > 838 ||
		minute > 59 || second > 59 || usec > 999999)
		return bad_value(i, "time");
	n = snprintf(bc->text, sizeof(bc->text), "%s%02u:%02u:%02u",
				 neg ? "-" : "", (unsigned int) hours, minute, second);
	if (usec > 0)
		n += snprintf(bc->text + n, sizeof(bc->text) - n, ".%06lu", usec);
	return text_value(bc, n, value, length);
}

/*
 * Render column i's native value (its bytes checked by the walk) into its
 * text buffer, or into bc->nat where the column hands over native values.
 * Returns NULL, or what is wrong with the value.
 */
static const char *
render_native(EtlPullBinaryColumn *bc, int i, char **value, unsigned long *length)
{
	switch (bc->layout)
	{
		case BL_INT:
			return render_int(bc, value, length);
		case BL_FLOAT:
		case BL_DOUBLE:
			return render_floating(bc, value, length);
		case BL_DATE:
		case BL_DATETIME:
			return render_datetime(bc, i, value, length);
		case BL_TIME:
			return render_time(bc, i, value, length);
		default:
			elog(ERROR, "unexpected binary layout %d", (int) bc->layout);
	}
	return NULL;				/* keep the compiler quiet */
}

/*
 * Decode one row of "ncols" columns at "row" (the row's header byte), in a
 * buffer that ends at "end": values[i] and lengths[i] as the text protocol
 * would have them, values[i] NULL for a NULL.  Returns NULL, with the
 * bytes the row took, the 0 after it included, in *rowlen; or, for a row
 * that does not hold what its columns announce, what is wrong with it.
 * Values point into the row or into cols[i].text: valid while both are.
 */
const char *
EtlPullDecodeBinaryRow(EtlPullBinaryColumn *cols, int ncols, unsigned char *row,
					   const unsigned char *end, char **values,
					   unsigned long *lengths, size_t *rowlen)
{
	size_t		nullbytes = (ncols + 9) / 8;
	const unsigned char *nullmap;
	unsigned char *p = row;
	int			nbytes = 0;
	int			i;

	/* header, NULL bitmap (from bit 2), then the values */
	if (p >= end || *p != 0x00)
		return "A row of the binary protocol does not start with its header byte.";
	p++;
	if ((size_t) (end - p) < nullbytes)
		return short_row(ncols);
	nullmap = p;
	p += nullbytes;

	/*
	 * One pass: each value's length checked against the buffer, then a
	 * native value decoded at once (before any string is terminated, which
	 * overwrites the next value's first byte).
	 */
	for (i = 0; i < ncols; i++)
	{
		EtlPullBinaryColumn *bc = &cols[i];
		unsigned long len = 0;

		values[i] = NULL;
		lengths[i] = 0;
		if (nullmap[(i + 2) / 8] & (1 << ((i + 2) % 8)))
		{
			bc->ptr = NULL;
			continue;
		}
		if (p >= end)
			return short_row(ncols);
		switch (bc->layout)
		{
			case BL_NULL:
				return psprintf("Column %d of a row holds a value where its type allows only NULL.",
								i + 1);
			case BL_INT:
				len = bc->width;
				break;
			case BL_FLOAT:
				len = 4;
				break;
			case BL_DOUBLE:
				len = 8;
				break;
			case BL_DATE:
			case BL_DATETIME:
			case BL_TIME:
				if (bc->layout == BL_TIME ?
					(p[0] != 0 && p[0] != 8 && p[0] != 12) :
					(p[0] != 0 && p[0] != 4 && p[0] != 7 && p[0] != 11))
					return psprintf("Column %d of a row holds a date or time of %u bytes.",
									i + 1, (unsigned int) p[0]);
				len = 1 + p[0];
				break;
			case BL_BYTES:
				{
					int			hdr;
					uint64		l;

					switch (p[0])
					{
						case 0xfc:
							hdr = 3;
							break;
						case 0xfd:
							hdr = 4;
							break;
						case 0xfe:
							hdr = 9;
							break;
						case 0xfb:
						case 0xff:
							return psprintf("Column %d of a row has no valid length.", i + 1);
						default:
							hdr = 1;
							break;
					}
					if ((size_t) (end - p) < (size_t) hdr)
						return short_row(ncols);
					l = (hdr == 1) ? p[0] : get_le(p + 1, hdr - 1);
					p += hdr;
					if (l >= (uint64) (end - p))
						return psprintf("Column %d of a row announces " UINT64_FORMAT " bytes, more than the row holds.",
										i + 1, l);
					len = (unsigned long) l;
				}
				break;
		}
		/* the value, and at least the 0 after the row, lie in the buffer */
		if ((size_t) (end - p) <= len)
			return short_row(ncols);
		bc->ptr = p;
		bc->len = len;
		p += len;
		if (bc->layout == BL_BYTES)
			nbytes++;
		else
		{
			const char *bad = render_native(bc, i, &values[i], &lengths[i]);

			if (bad)
				return bad;
		}
	}
	/* the packet ends exactly here, on the 0 the client library wrote */
	if (p >= end || *p != 0)
		return short_row(ncols);
	*rowlen = (p - row) + 1;

	/* the byte after a value is the next one's first byte, or the 0 */
	for (i = 0; nbytes > 0 && i < ncols; i++)
	{
		EtlPullBinaryColumn *bc = &cols[i];

		if (bc->ptr == NULL || bc->layout != BL_BYTES)
			continue;
		((unsigned char *) bc->ptr)[bc->len] = '\0';
		values[i] = (char *) bc->ptr;
		lengths[i] = bc->len;
		nbytes--;
	}
	return NULL;
}
