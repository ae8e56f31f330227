/*-------------------------------------------------------------------------
 *
 * event.c
 *		  The binary log's events parsed from their raw bytes.
 *
 * IDENTIFICATION
 *		  src/stream/event.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "etl_pull.h"
#include "stream/event.h"

void
EtlPullFormatInit(EtlPullFormat *fmt)
{
	memset(fmt, 0, sizeof(*fmt));
}

void
EtlPullEventParse(const unsigned char *buf, size_t len, EtlPullFormat *fmt,
				  EtlPullEvent *ev)
{
	elog(ERROR, "not implemented yet");
}

const char *
EtlPullEventKindName(EtlPullEventKind kind)
{
	return "other";
}

void
EtlPullTableMapSetStrings(EtlPullTableMap *map, int col, char **strings, int n)
{
	map->strings[col] = strings;
	map->nstrings[col] = n;
}
