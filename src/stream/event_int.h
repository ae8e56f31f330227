/*-------------------------------------------------------------------------
 *
 * event_int.h
 *		  The stream folder's own: the binary log's column type codes, which
 *		  event.c and rowimage.c share (mysql.h's enum_field_types, which
 *		  only src/remote/ may include), and its integer readers.
 *
 * IDENTIFICATION
 *		  src/stream/event_int.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef ETL_PULL_EVENT_INT_H
#define ETL_PULL_EVENT_INT_H

/* Column types */
#define T_DECIMAL		0
#define T_TINY			1
#define T_SHORT			2
#define T_LONG			3
#define T_FLOAT			4
#define T_DOUBLE		5
#define T_NULL			6
#define T_TIMESTAMP		7
#define T_LONGLONG		8
#define T_INT24			9
#define T_DATE			10
#define T_TIME			11
#define T_DATETIME		12
#define T_YEAR			13
#define T_NEWDATE		14
#define T_VARCHAR		15
#define T_BIT			16
#define T_TIMESTAMP2	17
#define T_DATETIME2		18
#define T_TIME2			19
#define T_JSON			245
#define T_NEWDECIMAL	246
#define T_ENUM			247
#define T_SET			248
#define T_TINY_BLOB		249
#define T_MEDIUM_BLOB	250
#define T_LONG_BLOB		251
#define T_BLOB			252
#define T_VAR_STRING	253
#define T_STRING		254
#define T_GEOMETRY		255

/*
 * The unsigned integer of n bytes (at most 8) at p, little-endian (the
 * binary log's headers and most values) or big-endian (DECIMAL and the
 * newer temporal types); the caller has checked the n bytes are there
 */
static inline uint64
stream_le(const unsigned char *p, int n)
{
	uint64		v = 0;
	int			i;

	for (i = n - 1; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

static inline uint64
stream_be(const unsigned char *p, int n)
{
	uint64		v = 0;
	int			i;

	for (i = 0; i < n; i++)
		v = (v << 8) | p[i];
	return v;
}

#endif							/* ETL_PULL_EVENT_INT_H */
