/*-------------------------------------------------------------------------
 *
 * binrow.h
 *		  Decoding rows of MySQL's binary protocol (binrow.c), for
 *		  connection.c, which reads them.
 *
 * IDENTIFICATION
 *		  src/remote/binrow.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef ETL_PULL_BINROW_H
#define ETL_PULL_BINROW_H

#include "etl_pull.h"

/* How a column's values are laid out in a binary row */
typedef enum EtlPullBinaryLayout
{
	BL_NULL,					/* MYSQL_TYPE_NULL: never a value */
	BL_INT,						/* little-endian integer of "width" bytes */
	BL_FLOAT,					/* IEEE float, 4 bytes */
	BL_DOUBLE,					/* IEEE double, 8 bytes */
	BL_DATE,					/* length byte, then 0, 4, 7 or 11 bytes */
	BL_DATETIME,
	BL_TIME,					/* length byte, then 0, 8 or 12 bytes */
	BL_BYTES					/* length-encoded bytes */
} EtlPullBinaryLayout;

/* A column of a binary-protocol result */
typedef struct EtlPullBinaryColumn
{
	EtlPullBinaryLayout layout;
	int			width;			/* BL_INT: 1, 2, 4 or 8 */
	bool		is_unsigned;
	const unsigned char *ptr;	/* the value in the packet, this row */
	unsigned long len;			/* its length */
	bool		native;			/* hand over an EtlPullNative, not text */
	char		text[64];		/* a native value rendered as text */
	EtlPullNative nat;			/* or as it was sent */
} EtlPullBinaryColumn;

extern const char *EtlPullDecodeBinaryRow(EtlPullBinaryColumn *cols, int ncols,
										  unsigned char *row,
										  const unsigned char *end,
										  char **values, unsigned long *lengths,
										  size_t *rowlen);

#endif							/* ETL_PULL_BINROW_H */
