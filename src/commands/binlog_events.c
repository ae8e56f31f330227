/*-------------------------------------------------------------------------
 *
 * binlog_events.c
 *		  etl_pull.binlog_events(): a DBA's look at a source's binary log
 *		  as the stream reads it, decoded by etl_pull's own parser.
 *
 * The function opens a replication connection (remote/replication.c) as
 * the caller's user mapping, reads up to max_events events from a file
 * and offset, and returns one row per event, or per row image of a rows
 * event, with each row's values as the stream decodes them
 * (src/stream/).  It stops early when the source has nothing more to send
 * (one heartbeat of silence).  EXECUTE is etl_pull_admin's: the binary log
 * holds every change of every database on the server.
 *
 * A table map with old-format (MariaDB 5.3) temporal columns gets their
 * fractional digits from the source's catalog, over a second connection,
 * as the stream does: the binary log does not carry them.
 *
 * Values are text as the stream hands them to load/convert.c; bytes (BIT,
 * geometry, binary strings and blobs), and a value that is not valid UTF-8
 * or holds a NUL byte, are shown as \x and their bytes in hex.
 *
 * IDENTIFICATION
 *		  src/commands/binlog_events.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "funcapi.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/memutils.h"

#include "etl_pull.h"
#include "catalog/etl_catalog.h"
#include "remote/remote.h"
#include "load/load.h"
#include "stream/event.h"
#include "commands/commands.h"

PG_FUNCTION_INFO_V1(etl_pull_binlog_events);

#define NCOLS 11

/* A value as the function shows it (see the file's head) */
static text *
show_value(const char *v, unsigned long len, bool binary)
{
	if (!binary && memchr(v, '\0', len) == NULL &&
		pg_verify_mbstr(PG_UTF8, v, (int) len, true))
		return cstring_to_text_with_len(v, (int) len);
	else
	{
		char	   *hex = palloc(len * 2 + 3);

		hex[0] = '\\';
		hex[1] = 'x';
		hex_encode(v, len, hex + 2);
		hex[len * 2 + 2] = '\0';
		return cstring_to_text(hex);
	}
}

/* An image's values as text[], or NULL when the event has none */
static Datum
values_array(const EtlPullTableMap *map, char **values, unsigned long *lengths)
{
	int			n = map->ncols;
	Datum	   *d = palloc(sizeof(Datum) * n);
	bool	   *nulls = palloc(sizeof(bool) * n);
	int			dims[1] = {n};
	int			lbs[1] = {1};
	int			i;

	for (i = 0; i < n; i++)
	{
		nulls[i] = (values[i] == NULL);
		d[i] = nulls[i] ? (Datum) 0 :
			PointerGetDatum(show_value(values[i], lengths[i],
												EtlPullColumnIsBinary(map, i)));
	}
	return PointerGetDatum(construct_md_array(d, nulls, 1, dims, lbs, TEXTOID,
											  -1, false, TYPALIGN_INT));
}

/* The table map of "table_id" among those seen, or NULL */
static EtlPullTableMap *
find_map(List *maps, uint64 table_id)
{
	ListCell   *lc;

	foreach(lc, maps)
	{
		EtlPullTableMap *m = lfirst(lc);

		if (m->table_id == table_id)
			return m;
	}
	return NULL;
}

/* What one call of etl_pull.binlog_events() reads and returns */
typedef struct Dump
{
	ReturnSetInfo *rsinfo;
	ForeignServer *server;
	EtlPullFormat fmt;
	List	   *maps;			/* table maps seen, in the call's context */
	EtlPullConnection *query_conn;	/* for legacy temporal columns' digits */
} Dump;

/*
 * Keep the TABLE_MAP event of "len" bytes at "buf" for the rows events
 * that follow, parsed again in the call's context "cxt" (the event's own
 * parse lives in the per-event context), with what the log leaves out
 * (old-format times' digits) read from the source's catalog
 */
static void
keep_table_map(Dump *d, MemoryContext cxt, const unsigned char *buf, size_t len,
			   uint64 table_id)
{
	MemoryContext old = MemoryContextSwitchTo(cxt);
	EtlPullFormat f2 = d->fmt;
	EtlPullEvent ev;
	EtlPullTableMap *copy;

	d->maps = list_delete_ptr(d->maps, find_map(d->maps, table_id));
	EtlPullEventParse(buf, len, &f2, &ev);
	copy = ev.map;
	if (EtlPullTableMapHasLegacyTemporal(copy))
	{
		if (d->query_conn == NULL)
			d->query_conn = EtlPullConnect(d->server, GetUserId());
		EtlPullTableMapApplySource(copy,
								   EtlPullDescribeSource(d->query_conn, copy->db,
														 copy->table));
	}
	d->maps = lappend(d->maps, copy);
	MemoryContextSwitchTo(old);
}

/* One result row per row image of the rows event "ev" */
static void
put_rows(Dump *d, const EtlPullEvent *ev, Datum *values, bool *nulls)
{
	EtlPullTableMap *map = find_map(d->maps, ev->table_id);
	size_t		pos = 0;
	char	  **before,
			  **after;
	unsigned long *blen,
			   *alen;

	if (map == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_PROTOCOL_VIOLATION),
				 errmsg("rows event for table id " UINT64_FORMAT " comes without its table map",
						ev->table_id)));
	values[7] = CStringGetTextDatum(psprintf("%s.%s", map->db, map->table));
	nulls[7] = false;
	before = palloc(sizeof(char *) * map->ncols);
	after = palloc(sizeof(char *) * map->ncols);
	blen = palloc(sizeof(unsigned long) * map->ncols);
	alen = palloc(sizeof(unsigned long) * map->ncols);
	while (EtlPullRowsNext(ev, map, &pos, before, blen, after, alen, NULL))
	{
		nulls[9] = nulls[10] = true;
		if (ev->kind != ETL_PULL_EV_WRITE_ROWS)
			values[9] = values_array(map, before, blen), nulls[9] = false;
		if (ev->kind != ETL_PULL_EV_DELETE_ROWS)
			values[10] = values_array(map, after, alen), nulls[10] = false;
		tuplestore_putvalues(d->rsinfo->setResult, d->rsinfo->setDesc, values, nulls);
	}
}

/*
 * The result rows of the event of "len" bytes at "buf", which starts at
 * "position" of "file" and ends at "next"; its values are allocated in
 * the current (per-event) context, what outlives it in "cxt"
 */
static void
put_event(Dump *d, MemoryContext cxt, const unsigned char *buf, size_t len,
		  const char *file, uint64 position, uint64 next)
{
	EtlPullEvent ev;
	Datum		values[NCOLS];
	bool		nulls[NCOLS];

	EtlPullEventParse(buf, len, &d->fmt, &ev);
	memset(nulls, true, sizeof(nulls));
	values[0] = CStringGetTextDatum(file);
	values[1] = Int64GetDatum((int64) position);
	values[2] = Int64GetDatum((int64) next);
	values[3] = CStringGetTextDatum(EtlPullEventKindName(ev.kind));
	values[4] = Int32GetDatum((int32) ev.type);
	values[5] = Int64GetDatum((int64) ev.server_id);
	nulls[0] = nulls[1] = nulls[2] = nulls[3] = nulls[4] = nulls[5] = false;
	if (ev.kind == ETL_PULL_EV_GTID)
		values[6] = CStringGetTextDatum(ev.gtid), nulls[6] = false;
	else if (ev.kind == ETL_PULL_EV_GTID_LIST)
		values[6] = CStringGetTextDatum(ev.gtid_list), nulls[6] = false;
	if (ev.kind == ETL_PULL_EV_QUERY)
		values[8] = PointerGetDatum(show_value(ev.query, strlen(ev.query), false)), nulls[8] = false;
	else if (ev.kind == ETL_PULL_EV_ANNOTATE)
		values[8] = PointerGetDatum(show_value(ev.annotate, strlen(ev.annotate), false)), nulls[8] = false;
	else if (ev.kind == ETL_PULL_EV_ROTATE)
		values[8] = CStringGetTextDatum(ev.rotate_file), nulls[8] = false;

	if (ev.kind == ETL_PULL_EV_TABLE_MAP)
	{
		values[7] = CStringGetTextDatum(psprintf("%s.%s", ev.map->db, ev.map->table));
		nulls[7] = false;
		keep_table_map(d, cxt, buf, len, ev.map->table_id);
	}
	if (ev.kind == ETL_PULL_EV_WRITE_ROWS || ev.kind == ETL_PULL_EV_UPDATE_ROWS ||
		ev.kind == ETL_PULL_EV_DELETE_ROWS)
		put_rows(d, &ev, values, nulls);
	else
		tuplestore_putvalues(d->rsinfo->setResult, d->rsinfo->setDesc, values, nulls);
}

/*
 * etl_pull.binlog_events(server name, start_file text, start_offset bigint,
 * max_events integer, server_id bigint, start_gtid text): with start_gtid,
 * the log after that MariaDB GTID position (start_file may be NULL)
 */
Datum
etl_pull_binlog_events(PG_FUNCTION_ARGS)
{
	char	   *start_file;
	char	   *start_gtid;
	int64		start_offset;
	int32		max_events;
	int64		server_id;
	EtlPullReplication *volatile r = NULL;
	Dump		d;
	MemoryContext cxt = CurrentMemoryContext;
	MemoryContext row_cxt;
	char	   *file;

	start_gtid = PG_ARGISNULL(5) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(5));
	if (PG_ARGISNULL(0) || (PG_ARGISNULL(1) && start_gtid == NULL) ||
		PG_ARGISNULL(2) || PG_ARGISNULL(3))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("server, start_file (or start_gtid), start_offset and max_events must not be NULL")));
	memset(&d, 0, sizeof(d));
	d.rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	d.server = EtlPullUsableServer(GetForeignServerByName(NameStr(*PG_GETARG_NAME(0)), false)->serverid);
	start_file = PG_ARGISNULL(1) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(1));
	start_offset = PG_GETARG_INT64(2);
	max_events = PG_GETARG_INT32(3);
	/* a replica id of its own, unlikely to be a real replica's */
	server_id = PG_ARGISNULL(4) ? (int64) (0xE7000000u | ((uint32) MyProcPid & 0xFFFFFF)) :
		PG_GETARG_INT64(4);
	if (start_offset < 4 || start_offset > PG_UINT32_MAX)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("start_offset must be between 4 and 4294967295")));
	if (max_events < 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("max_events must be at least 1")));
	if (server_id < 1 || server_id > PG_UINT32_MAX)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("server_id must be between 1 and 4294967295")));

	InitMaterializedSRF(fcinfo, 0);
	row_cxt = AllocSetContextCreate(CurrentMemoryContext, "binlog_events row",
									ALLOCSET_DEFAULT_SIZES);
	EtlPullFormatInit(&d.fmt);
	file = pstrdup(start_file ? start_file : "");

	PG_TRY();
	{
		uint64		position = (uint64) start_offset;
		int			n;

		r = EtlPullReplicationOpen(d.server, GetUserId(), (uint32) server_id,
								   start_file, (uint64) start_offset, start_gtid, 200);
		for (n = 0; n < max_events; n++)
		{
			const unsigned char *buf;
			size_t		len;
			const char *next_file;
			uint64		next;
			MemoryContext old;

			CHECK_FOR_INTERRUPTS();
			if (!EtlPullReplicationNext(r, &buf, &len, &next_file, &next))
				break;			/* nothing more for now */

			/* where the event starts: before its end, unless it took no room */
			if (strcmp(next_file, file) == 0 && next != position && next >= len)
				position = next - len;
			MemoryContextReset(row_cxt);
			old = MemoryContextSwitchTo(row_cxt);
			put_event(&d, cxt, buf, len, file, position, next);
			MemoryContextSwitchTo(old);

			if (strcmp(next_file, file) != 0)
				file = pstrdup(next_file);
			position = next;
		}
	}
	PG_FINALLY();
	{
		if (r != NULL)
			EtlPullReplicationClose(r);
	}
	PG_END_TRY();
	if (d.query_conn != NULL)
		EtlPullDisconnect(d.query_conn);
	return (Datum) 0;
}
