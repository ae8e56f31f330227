/*-------------------------------------------------------------------------
 *
 * event.h
 *		  The binary log's events and row images, parsed from their raw
 *		  bytes by etl_pull (event.c, rowimage.c), never by the client
 *		  library's decoder (see event.c's head for why).
 *
 * Use: keep one EtlPullFormat per replication connection, zeroed at the
 * start (EtlPullFormatInit); pass every event's raw bytes, as
 * EtlPullReplicationNext returns them, to EtlPullEventParse, which fills
 * an EtlPullEvent (pointers into the event's bytes or palloc'd in
 * CurrentMemoryContext) and updates the format on a FORMAT_DESCRIPTION.
 * A TABLE_MAP event comes out as an EtlPullTableMap, palloc'd in
 * CurrentMemoryContext: keep it (in a longer-lived context) as long as
 * rows events name its table id.  A rows event's images are then walked
 * with EtlPullRowsNext, which gives each image's values as the text
 * protocol would send them for a SELECT of the row in a load's session
 * (time_zone '+00:00'; see rowimage.c), so load/convert.c's converters
 * make the same Datums as a load.
 *
 * What the binary log leaves out must come from elsewhere: the source
 * needs binlog_row_metadata = FULL (signedness, charsets, ENUM and SET
 * strings; a value that needs what is missing is an ERROR, never a guess),
 * and a map with old-format (MariaDB 5.3) temporal columns
 * (EtlPullTableMapHasLegacyTemporal) needs EtlPullTableMapApplySource with
 * the table's description from the source's catalog before its rows are
 * walked: their layout depends on fractional digits the log does not carry.
 *
 * Every length is checked against the event: a malformed event is an
 * ERROR with SQLSTATE 08P01 (protocol violation) naming what is wrong.  An
 * event the stream must not skip and cannot read (compressed events, an
 * incident, an unknown rows event, an unknown event not marked ignorable)
 * is an ERROR with SQLSTATE 0A000.  Events without a meaning for the
 * stream come out as kind ETL_PULL_EV_OTHER.
 *
 * IDENTIFICATION
 *		  src/stream/event.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef ETL_PULL_EVENT_H
#define ETL_PULL_EVENT_H

#include "etl_pull.h"

/* What a parsed event is */
typedef enum EtlPullEventKind
{
	ETL_PULL_EV_OTHER,			/* nothing for the stream (INTVAR, ...) */
	ETL_PULL_EV_FORMAT,			/* FORMAT_DESCRIPTION */
	ETL_PULL_EV_ROTATE,
	ETL_PULL_EV_GTID,			/* MariaDB's: a group begins */
	ETL_PULL_EV_GTID_LIST,
	ETL_PULL_EV_CHECKPOINT,		/* BINLOG_CHECKPOINT */
	ETL_PULL_EV_QUERY,			/* see query_kind */
	ETL_PULL_EV_XID,			/* a transactional group commits */
	ETL_PULL_EV_TABLE_MAP,
	ETL_PULL_EV_WRITE_ROWS,		/* v1 (23) or v2 (30) */
	ETL_PULL_EV_UPDATE_ROWS,	/* 24, 31 */
	ETL_PULL_EV_DELETE_ROWS,	/* 25, 32 */
	ETL_PULL_EV_ANNOTATE,		/* ANNOTATE_ROWS: the statement's text */
	ETL_PULL_EV_HEARTBEAT,
	ETL_PULL_EV_STOP
} EtlPullEventKind;

/* What a QUERY event's statement is, by its first words */
typedef enum EtlPullQueryKind
{
	ETL_PULL_Q_BEGIN,			/* BEGIN: a group begins */
	ETL_PULL_Q_COMMIT,			/* COMMIT: a (MyISAM) group ends */
	ETL_PULL_Q_ROLLBACK,		/* ROLLBACK (also ends a group) */
	ETL_PULL_Q_XA,				/* XA START/END/PREPARE/COMMIT/ROLLBACK */
	ETL_PULL_Q_TRUNCATE,		/* TRUNCATE [TABLE] t */
	ETL_PULL_Q_DDL,				/* CREATE, ALTER, DROP, RENAME */
	ETL_PULL_Q_OTHER			/* anything else (SAVEPOINT, SET, ...) */
} EtlPullQueryKind;

/*
 * What a FORMAT_DESCRIPTION says about the events after it.  Zeroed
 * (EtlPullFormatInit) until one arrives: the server sends one first on
 * every dump, and after each ROTATE.
 */
typedef struct EtlPullFormat
{
	bool		known;			/* a FORMAT_DESCRIPTION was parsed */
	uint8		header_len;		/* the common header's length (19) */
	uint8		checksum_alg;	/* 0: none, 1: CRC32 (the last 4 bytes) */
	int			npost;			/* post-header lengths known */
	uint8		post_len[256];	/* by event type - 1 */
	char		server_version[51];
} EtlPullFormat;

/*
 * A TABLE_MAP: a table's columns as the binary log describes them.  The
 * optional metadata's arrays are NULL when the server did not send them
 * (binlog_row_metadata below FULL); enum and set strings may be supplied
 * by the caller from the source's catalog (EtlPullTableMapSetStrings).
 */
typedef struct EtlPullTableMap
{
	uint64		table_id;
	uint16		flags;
	char	   *db;				/* NUL-terminated, as sent */
	char	   *table;
	int			ncols;
	uint8	   *types;			/* binlog type per column (MYSQL_TYPE_*), the
								 * real one for STRING (ENUM, SET, STRING) */
	uint32	   *meta;			/* its metadata, decoded (see event.c) */
	bool	   *nullable;
	/* optional metadata */
	bool	   *is_unsigned;	/* numeric columns; NULL: not sent */
	int		   *charset;		/* collation id per column, -1 if none */
	char	  **names;			/* column names */
	int			npk;			/* primary key columns (-1: not sent) */
	int		   *pk;				/* their positions, 0-based */
	char	 ***strings;		/* per column, ENUM or SET strings, or NULL */
	int		   *nstrings;		/* their number */
	/*
	 * The fractional digits of old-format (MariaDB 5.3, "/\* mariadb-5.3
	 * *\/") TIME, DATETIME and TIMESTAMP columns, which the binary log does
	 * not carry although their values' layout depends on them: 0 unless
	 * the caller sets them from the source's catalog
	 * (EtlPullTableMapApplySource).
	 */
	uint8	   *legacy_fsp;
} EtlPullTableMap;

/*
 * A parsed event.  Pointers point into the event's bytes (valid while
 * they are) or into CurrentMemoryContext.  Strings are NUL-terminated
 * copies.
 */
typedef struct EtlPullEvent
{
	EtlPullEventKind kind;
	/* the common header */
	uint8		type;			/* the event's type code */
	uint32		timestamp;		/* seconds since the epoch, source's clock */
	uint32		server_id;
	uint32		event_len;		/* bytes, checksum included */
	uint32		end_log_pos;	/* as sent: 0 inside groups on 11.4+ */
	uint16		flags;

	/* ROTATE */
	char	   *rotate_file;
	uint64		rotate_pos;

	/* GTID (server_id above is its server) */
	uint32		gtid_domain;
	uint64		gtid_seq;
	uint8		gtid_flags;
	bool		gtid_standalone;	/* no BEGIN: the group is one event */
	char	   *gtid;			/* "domain-server-seq" */

	/* GTID_LIST: "d-s-n,d-s-n" ("" for none); CHECKPOINT: file */
	char	   *gtid_list;
	char	   *checkpoint_file;

	/* QUERY */
	EtlPullQueryKind query_kind;
	char	   *query_db;		/* the session's default database, or "" */
	char	   *query;			/* the statement */

	/* XID */
	uint64		xid;

	/* TABLE_MAP */
	EtlPullTableMap *map;

	/* WRITE/UPDATE/DELETE_ROWS */
	uint64		table_id;
	uint16		rows_flags;		/* 1: the statement's last rows event */
	int			ncols;			/* width of the bitmaps */
	const uint8 *present;		/* columns present in the (before) image */
	const uint8 *present_after; /* UPDATE: in the after image */
	const unsigned char *rows;	/* the row images */
	size_t		rows_len;

	/* ANNOTATE_ROWS */
	char	   *annotate;
} EtlPullEvent;

/* in event.c */
extern void EtlPullFormatInit(EtlPullFormat *fmt);
extern void EtlPullEventParse(const unsigned char *buf, size_t len,
							  EtlPullFormat *fmt, EtlPullEvent *ev);
extern const char *EtlPullEventKindName(EtlPullEventKind kind);
extern void EtlPullTableMapSetStrings(EtlPullTableMap *map, int col,
									  char **strings, int n);
extern bool EtlPullColumnIsBinary(const EtlPullTableMap *map, int col);
extern bool EtlPullTableMapHasLegacyTemporal(const EtlPullTableMap *map);
extern void EtlPullTableMapApplySource(EtlPullTableMap *map,
									   const EtlPullSource *source);

/*
 * in rowimage.c: the next row of a rows event, from *pos (0 for the first):
 * false when none is left.  "before" receives a DELETE's or UPDATE's before
 * image, "after" a WRITE's or UPDATE's after image (each an array of
 * map->ncols values and lengths the caller provides; the other one is left
 * alone); a value is NULL for SQL NULL or a column the image does not
 * carry.  Values are palloc'd in CurrentMemoryContext: reset it per batch.
 * A value that does not fit its column is an ERROR (08P01) naming the
 * table and the column.
 */
extern bool EtlPullRowsNext(const EtlPullEvent *ev, const EtlPullTableMap *map,
							size_t *pos,
							char **before, unsigned long *before_len,
							char **after, unsigned long *after_len,
							const bool *before_wanted);
extern size_t EtlPullRowImageDecode(const EtlPullTableMap *map,
									const uint8 *present,
									const unsigned char *buf, size_t len,
									char **values, unsigned long *lengths,
									const bool *wanted);

#endif							/* ETL_PULL_EVENT_H */
