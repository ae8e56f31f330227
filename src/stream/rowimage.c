/*-------------------------------------------------------------------------
 *
 * rowimage.c
 *		  Row images of the binary log's rows events, decoded into the
 *		  values the text protocol would send.
 *
 * IDENTIFICATION
 *		  src/stream/rowimage.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "etl_pull.h"
#include "stream/event.h"

bool
EtlPullRowsNext(const EtlPullEvent *ev, const EtlPullTableMap *map,
				size_t *pos, char **before, unsigned long *before_len,
				char **after, unsigned long *after_len)
{
	elog(ERROR, "not implemented yet");
	return false;
}

size_t
EtlPullRowImageDecode(const EtlPullTableMap *map, const uint8 *present,
					  const unsigned char *buf, size_t len,
					  char **values, unsigned long *lengths)
{
	elog(ERROR, "not implemented yet");
	return 0;
}
