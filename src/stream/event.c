/*-------------------------------------------------------------------------
 *
 * event.c
 *		  The binary log's events parsed from their raw bytes, every length
 *		  checked against the event before a byte is read.
 *
 * The client library frames the events (remote/replication.c), but its
 * decoders are not used: in every version on Debian, its row decoder
 * (mariadb_rpl_extract_rows) reads a CHAR(n) value's length from the next
 * column's metadata, misaligns a row after a NULL JSON or geometry and
 * ignores the columns-present bitmaps; it frames MySQL's UPDATE_ROWS v2
 * without the after image's bitmap; older versions read TIMESTAMP2 and the
 * old TIME wrongly and skip unknown types silently.  So this file parses
 * everything the stream needs (the common header, FORMAT_DESCRIPTION,
 * ROTATE, GTID and GTID_LIST, checkpoints, QUERY, XID, TABLE_MAP with its
 * optional metadata, the rows events of both versions, ANNOTATE_ROWS) from
 * the bytes, and rowimage.c decodes the row images.
 *
 * A malformed event (a length past its end, a checksum that does not
 * match, a field out of range) is an ERROR with SQLSTATE 08P01; so is an
 * event the stream must not skip and cannot read: compressed rows or
 * queries (log_bin_compress), an incident (the source lost events), a
 * rows event of a kind this file does not know, and any unknown event
 * the server does not mark ignorable.
 *
 * IDENTIFICATION
 *		  src/stream/event.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "lib/stringinfo.h"
#include "utils/pg_crc.h"

#include "etl_pull.h"
#include "stream/event.h"
#include "stream/event_int.h"

/* Event type codes (MariaDB's sql/log_event.h) */
#define EV_QUERY			2
#define EV_STOP				3
#define EV_ROTATE			4
#define EV_FORMAT			15
#define EV_XID				16
#define EV_TABLE_MAP		19
#define EV_PRE_GA_WRITE		20
#define EV_PRE_GA_DELETE	22
#define EV_WRITE_V1			23
#define EV_UPDATE_V1		24
#define EV_DELETE_V1		25
#define EV_INCIDENT			26
#define EV_HEARTBEAT		27
#define EV_WRITE_V2			30
#define EV_UPDATE_V2		31
#define EV_DELETE_V2		32
#define EV_PARTIAL_UPDATE	39
#define EV_TRANSACTION_PAYLOAD 40
#define EV_ANNOTATE			160
#define EV_CHECKPOINT		161
#define EV_GTID				162
#define EV_GTID_LIST		163
#define EV_QUERY_COMPRESSED 165
#define EV_ROWS_COMPRESSED_FIRST 166
#define EV_ROWS_COMPRESSED_LAST 171

#define HEADER_LEN			19
#define LOG_EVENT_IGNORABLE_F 0x80

/* Optional metadata of a TABLE_MAP (MySQL's Table_map_log_event) */
#define OPT_SIGNEDNESS			1
#define OPT_DEFAULT_CHARSET		2
#define OPT_COLUMN_CHARSET		3
#define OPT_COLUMN_NAME			4
#define OPT_SET_STR_VALUE		5
#define OPT_ENUM_STR_VALUE		6
#define OPT_GEOMETRY_TYPE		7
#define OPT_SIMPLE_PRIMARY_KEY	8
#define OPT_PRIMARY_KEY_WITH_PREFIX 9
#define OPT_ENUM_AND_SET_DEFAULT_CHARSET 10
#define OPT_ENUM_AND_SET_COLUMN_CHARSET 11

/* A cursor over the bytes of one event (or a part of it) */
typedef struct Reader
{
	const unsigned char *p;
	const unsigned char *end;
	uint8		type;			/* of the event, for messages */
} Reader;

static void bad_event(const Reader *r, const char *detail) pg_attribute_noreturn();

/* A malformed event: ERROR 08P01 */
static void
bad_event(const Reader *r, const char *detail)
{
	ereport(ERROR,
			(errcode(ERRCODE_PROTOCOL_VIOLATION),
			 errmsg("malformed binary log event of type %u", (unsigned int) r->type),
			 errdetail_internal("%s", detail)));
}

static inline void
need(const Reader *r, size_t n, const char *what)
{
	if ((size_t) (r->end - r->p) < n)
		bad_event(r, psprintf("The event ends inside its %s.", what));
}

static uint64
get_le(Reader *r, int n, const char *what)
{
	uint64		v;

	need(r, n, what);
	v = stream_le(r->p, n);
	r->p += n;
	return v;
}

/* A length-encoded integer (the client protocol's) */
static uint64
get_lenenc(Reader *r, const char *what)
{
	uint8		first;

	need(r, 1, what);
	first = *r->p++;
	if (first < 251)
		return first;
	if (first == 252)
		return get_le(r, 2, what);
	if (first == 253)
		return get_le(r, 3, what);
	if (first == 254)
		return get_le(r, 8, what);
	bad_event(r, psprintf("The event's %s is not a valid length-encoded integer.", what));
	return 0;					/* keep the compiler quiet */
}

/* n bytes as a palloc'd NUL-terminated string, or an error if one is a NUL */
static char *
get_string(Reader *r, size_t n, const char *what)
{
	char	   *s;

	need(r, n, what);
	if (memchr(r->p, '\0', n) != NULL)
		bad_event(r, psprintf("The event's %s holds a NUL byte.", what));
	s = palloc(n + 1);
	memcpy(s, r->p, n);
	s[n] = '\0';
	r->p += n;
	return s;
}

void
EtlPullFormatInit(EtlPullFormat *fmt)
{
	memset(fmt, 0, sizeof(*fmt));
}

/* CRC-32 (zlib's, which the binary log's checksums use) */
static uint32
crc32_of(const unsigned char *p, size_t len)
{
	pg_crc32	crc;

	INIT_TRADITIONAL_CRC32(crc);
	COMP_TRADITIONAL_CRC32(crc, p, len);
	FIN_TRADITIONAL_CRC32(crc);
	return crc;
}

/* The post-header length of an event type, as the format says (or a default) */
static int
post_len(const EtlPullFormat *fmt, uint8 type, int dflt)
{
	if (fmt->known && type >= 1 && type <= fmt->npost)
		return fmt->post_len[type - 1];
	return dflt;
}

/* FORMAT_DESCRIPTION: the body from "r", whose end is the whole event's */
static void
parse_format(Reader *r, const unsigned char *event, size_t len,
			 EtlPullFormat *fmt)
{
	uint16		version;
	uint8		header_len;
	uint8		alg;
	size_t		npost;

	/* version, server version, timestamp, header length; alg, checksum */
	need(r, 2 + 50 + 4 + 1 + 5, "format description");
	version = (uint16) stream_le(r->p, 2);
	if (version != 4)
		bad_event(r, psprintf("The binary log has version %u; only version 4 is read.",
							  (unsigned int) version));
	header_len = r->p[56];
	if (header_len < HEADER_LEN)
		bad_event(r, psprintf("Its events' headers are %u bytes long, shorter than 19.",
							  (unsigned int) header_len));
	npost = (r->end - r->p) - 57 - 5;
	alg = r->end[-5];
	if (alg != 0 && alg != 1)
		bad_event(r, psprintf("It announces checksum algorithm %u.", (unsigned int) alg));
	if (alg == 1 && crc32_of(event, len - 4) != (uint32) stream_le(event + len - 4, 4))
		bad_event(r, "Its checksum does not match.");

	fmt->known = true;
	fmt->header_len = header_len;
	fmt->checksum_alg = alg;
	fmt->npost = (int) Min(npost, sizeof(fmt->post_len));
	memcpy(fmt->post_len, r->p + 57, fmt->npost);
	memcpy(fmt->server_version, r->p + 2, 50);
	fmt->server_version[50] = '\0';
}

/* What a statement is, by its first words (comments and spaces skipped) */
static EtlPullQueryKind
query_kind(const char *q)
{
	static const struct
	{
		const char *word;
		EtlPullQueryKind kind;
	}			words[] =
	{
		{"BEGIN", ETL_PULL_Q_BEGIN},
		{"START", ETL_PULL_Q_BEGIN},	/* START TRANSACTION */
		{"COMMIT", ETL_PULL_Q_COMMIT},
		{"ROLLBACK", ETL_PULL_Q_ROLLBACK},
		{"XA", ETL_PULL_Q_XA},
		{"TRUNCATE", ETL_PULL_Q_TRUNCATE},
		{"CREATE", ETL_PULL_Q_DDL},
		{"ALTER", ETL_PULL_Q_DDL},
		{"DROP", ETL_PULL_Q_DDL},
		{"RENAME", ETL_PULL_Q_DDL},
	};
	int			i;

	for (;;)
	{
		while (*q == ' ' || *q == '\t' || *q == '\n' || *q == '\r')
			q++;
		if (q[0] == '/' && q[1] == '*')
		{
			const char *e = strstr(q + 2, "*/");

			if (e == NULL)
				return ETL_PULL_Q_OTHER;
			q = e + 2;
			continue;
		}
		break;
	}
	for (i = 0; i < lengthof(words); i++)
	{
		size_t		n = strlen(words[i].word);

		if (pg_strncasecmp(q, words[i].word, n) == 0 &&
			!((q[n] >= 'a' && q[n] <= 'z') || (q[n] >= 'A' && q[n] <= 'Z') ||
			  (q[n] >= '0' && q[n] <= '9') || q[n] == '_'))
			return words[i].kind;
	}
	return ETL_PULL_Q_OTHER;
}

static void
parse_query(Reader *r, const EtlPullFormat *fmt, EtlPullEvent *ev)
{
	int			plen = post_len(fmt, EV_QUERY, 13);
	const unsigned char *post = r->p;
	uint8		db_len;
	uint16		status_len;
	size_t		qlen;

	if (plen < 13)
		bad_event(r, "Its post-header is shorter than 13 bytes.");
	need(r, plen, "post-header");
	db_len = post[8];
	status_len = (uint16) stream_le(post + 11, 2);
	r->p += plen;
	need(r, status_len, "status variables");
	r->p += status_len;
	ev->query_db = get_string(r, db_len, "database name");
	need(r, 1, "database name");
	if (*r->p != '\0')
		bad_event(r, "Its database name is not followed by a NUL byte.");
	r->p++;
	qlen = r->end - r->p;
	ev->query = palloc(qlen + 1);
	memcpy(ev->query, r->p, qlen);
	ev->query[qlen] = '\0';
	/* (a NUL byte inside a statement cuts it short: its first words stay) */
	r->p = r->end;
	ev->query_kind = query_kind(ev->query);
}

/* Column i's metadata from the TABLE_MAP's metadata block (see event.h) */
static void
column_meta(Reader *m, EtlPullTableMap *map, int i)
{
	uint8		t = map->types[i];

	switch (t)
	{
		case T_FLOAT:
		case T_DOUBLE:
		case T_BLOB:
		case T_TINY_BLOB:
		case T_MEDIUM_BLOB:
		case T_LONG_BLOB:
		case T_GEOMETRY:
		case T_JSON:
		case T_TIMESTAMP2:
		case T_DATETIME2:
		case T_TIME2:
			map->meta[i] = (uint32) get_le(m, 1, "column metadata");
			break;
		case T_VARCHAR:
		case T_VAR_STRING:
			map->meta[i] = (uint32) get_le(m, 2, "column metadata");
			break;
		case T_BIT:
			{
				uint32		bits,
							bytes;

				bits = (uint32) get_le(m, 1, "column metadata");
				bytes = (uint32) get_le(m, 1, "column metadata");
				if (bits > 7 || bytes * 8 + bits > 64 || bytes * 8 + bits == 0)
					bad_event(m, psprintf("Column %d is a BIT of %u bytes and %u bits.",
										  i + 1, bytes, bits));
				map->meta[i] = bytes * 8 + bits;
			}
			break;
		case T_NEWDECIMAL:
			{
				uint32		precision,
							scale;

				precision = (uint32) get_le(m, 1, "column metadata");
				scale = (uint32) get_le(m, 1, "column metadata");
				if (precision < 1 || precision > 65 || scale > 38 || scale > precision)
					bad_event(m, psprintf("Column %d is a DECIMAL(%u,%u).",
										  i + 1, precision, scale));
				map->meta[i] = (precision << 8) | scale;
			}
			break;
		case T_STRING:
		case T_ENUM:
		case T_SET:
			{
				uint32		b0,
							b1;

				b0 = (uint32) get_le(m, 1, "column metadata");
				b1 = (uint32) get_le(m, 1, "column metadata");

				/*
				 * The real type, and a CHAR's length in bytes, whose two
				 * high bits hide in the type byte (inverted).
				 */
				if ((b0 & 0x30) != 0x30)
				{
					map->meta[i] = b1 | (((b0 & 0x30) ^ 0x30) << 4);
					map->types[i] = (uint8) (b0 | 0x30);
				}
				else
				{
					map->types[i] = (uint8) b0;
					map->meta[i] = b1;
				}
				if (map->types[i] != T_STRING && map->types[i] != T_ENUM &&
					map->types[i] != T_SET)
					bad_event(m, psprintf("Column %d is a string of real type %u.",
										  i + 1, (unsigned int) map->types[i]));
				if (map->types[i] == T_ENUM && map->meta[i] != 1 && map->meta[i] != 2)
					bad_event(m, psprintf("Column %d is an ENUM of %u bytes.",
										  i + 1, map->meta[i]));
				if (map->types[i] == T_SET &&
					(map->meta[i] < 1 || (map->meta[i] > 4 && map->meta[i] != 8)))
					bad_event(m, psprintf("Column %d is a SET of %u bytes.",
										  i + 1, map->meta[i]));
			}
			break;
		case T_TINY:
		case T_SHORT:
		case T_INT24:
		case T_LONG:
		case T_LONGLONG:
		case T_DATE:
		case T_NEWDATE:
		case T_TIME:
		case T_DATETIME:
		case T_TIMESTAMP:
		case T_YEAR:
		case T_NULL:
			map->meta[i] = 0;
			break;
		default:
			bad_event(m, psprintf("Column %d has type %u, which etl_pull cannot read from a binary log.",
								  i + 1, (unsigned int) t));
	}
	/* the metadata a type's value lengths depend on, in range */
	if ((t == T_BLOB || t == T_GEOMETRY || t == T_JSON) &&
		(map->meta[i] < 1 || map->meta[i] > 4))
		bad_event(m, psprintf("Column %d is a blob with %u length bytes.", i + 1, map->meta[i]));
	if ((t == T_TIMESTAMP2 || t == T_DATETIME2 || t == T_TIME2) && map->meta[i] > 6)
		bad_event(m, psprintf("Column %d has %u fractional digits.", i + 1, map->meta[i]));
	if ((t == T_FLOAT && map->meta[i] != 4) || (t == T_DOUBLE && map->meta[i] != 8))
		bad_event(m, psprintf("Column %d is a float of %u bytes.", i + 1, map->meta[i]));
}

/* Columns whose charset the optional metadata lists (MySQL's is_character_type) */
static bool
is_character(uint8 t)
{
	return t == T_STRING || t == T_VARCHAR || t == T_VAR_STRING ||
		t == T_BLOB || t == T_TINY_BLOB || t == T_MEDIUM_BLOB || t == T_LONG_BLOB;
}

/* MariaDB's: every column with a character set, geometry too */
static bool
is_character_mariadb(uint8 t)
{
	return is_character(t) || t == T_GEOMETRY;
}

static bool
is_numeric(uint8 t)
{
	return t == T_TINY || t == T_SHORT || t == T_INT24 || t == T_LONG ||
		t == T_LONGLONG || t == T_FLOAT || t == T_DOUBLE || t == T_NEWDECIMAL ||
		t == T_DECIMAL;
}

/* The i-th (0-based) column for which "pred" holds, or -1 */
static int
nth_column(EtlPullTableMap *map, bool (*pred) (uint8), int n)
{
	int			i;

	for (i = 0; i < map->ncols; i++)
		if (pred(map->types[i]) && n-- == 0)
			return i;
	return -1;
}

static bool
is_enum_or_set(uint8 t)
{
	return t == T_ENUM || t == T_SET;
}

static bool
is_enum(uint8 t)
{
	return t == T_ENUM;
}

static bool
is_set(uint8 t)
{
	return t == T_SET;
}

/* A DEFAULT_CHARSET block: the default, then (column, charset) exceptions */
static void
default_charsets(Reader *f, EtlPullTableMap *map, bool (*pred) (uint8))
{
	int			dflt = (int) get_lenenc(f, "default charset");
	int			i;

	for (i = 0; i < map->ncols; i++)
		if (pred(map->types[i]))
			map->charset[i] = dflt;
	while (f->p < f->end)
	{
		uint64		n = get_lenenc(f, "charset's column");
		int			cs = (int) get_lenenc(f, "column charset");
		int			col = n < (uint64) map->ncols ? nth_column(map, pred, (int) n) : -1;

		if (col < 0)
			bad_event(f, "A charset names a column the table does not have.");
		map->charset[col] = cs;
	}
}

/* A COLUMN_CHARSET block: one charset per column "pred" holds for */
static void
column_charsets(Reader *f, EtlPullTableMap *map, bool (*pred) (uint8))
{
	int			i;

	for (i = 0; i < map->ncols; i++)
		if (pred(map->types[i]))
			map->charset[i] = (int) get_lenenc(f, "column charset");
}

/* An ENUM_STR_VALUE or SET_STR_VALUE block */
static void
str_values(Reader *f, EtlPullTableMap *map, bool (*pred) (uint8))
{
	int			i;

	for (i = 0; i < map->ncols; i++)
	{
		uint64		n;
		uint64		k;

		if (!pred(map->types[i]))
			continue;
		n = get_lenenc(f, "enum or set values");
		if (n > 65535 || n > (uint64) (f->end - f->p))
			bad_event(f, "An enum or set announces more values than the event holds.");
		map->nstrings[i] = (int) n;
		map->strings[i] = palloc(sizeof(char *) * Max(n, 1));
		for (k = 0; k < n; k++)
		{
			uint64		len = get_lenenc(f, "enum or set value");

			if (len > (uint64) (f->end - f->p))
				bad_event(f, "An enum or set value is longer than the event.");
			map->strings[i][k] = palloc(len + 1);
			memcpy(map->strings[i][k], f->p, len);
			map->strings[i][k][len] = '\0';
			f->p += len;
		}
	}
}

/*
 * The TABLE_MAP's optional metadata (binlog_row_metadata MINIMAL or FULL).
 * Charsets are listed for the "character" columns, which on MariaDB
 * include geometry (every column with a character set) and on MySQL do
 * not.
 */
static void
optional_metadata(Reader *r, EtlPullTableMap *map, bool mariadb)
{
	bool		(*character) (uint8) = mariadb ? is_character_mariadb : is_character;

	while (r->p < r->end)
	{
		uint8		kind = (uint8) get_le(r, 1, "optional metadata");
		uint64		len = get_lenenc(r, "optional metadata");
		Reader		f;
		int			i;

		need(r, len, "optional metadata");
		f.p = r->p;
		f.end = r->p + len;
		f.type = r->type;
		r->p += len;

		switch (kind)
		{
			case OPT_SIGNEDNESS:
				{
					int			n = 0;

					map->is_unsigned = palloc0(sizeof(bool) * map->ncols);
					for (i = 0; i < map->ncols; i++)
					{
						if (!is_numeric(map->types[i]))
							continue;
						if ((size_t) (n / 8) >= len)
							bad_event(r, "The signedness bitmap is shorter than the numeric columns.");
						map->is_unsigned[i] = (f.p[n / 8] & (0x80 >> (n % 8))) != 0;
						n++;
					}
				}
				break;
			case OPT_DEFAULT_CHARSET:
				default_charsets(&f, map, character);
				break;
			case OPT_COLUMN_CHARSET:
				column_charsets(&f, map, character);
				break;
			case OPT_ENUM_AND_SET_DEFAULT_CHARSET:
				default_charsets(&f, map, is_enum_or_set);
				break;
			case OPT_ENUM_AND_SET_COLUMN_CHARSET:
				column_charsets(&f, map, is_enum_or_set);
				break;
			case OPT_COLUMN_NAME:
				map->names = palloc(sizeof(char *) * map->ncols);
				for (i = 0; i < map->ncols; i++)
				{
					uint64		n = get_lenenc(&f, "column name");

					if (n > 1024)
						bad_event(r, "A column name is longer than 1024 bytes.");
					map->names[i] = get_string(&f, (size_t) n, "column name");
				}
				break;
			case OPT_ENUM_STR_VALUE:
				str_values(&f, map, is_enum);
				break;
			case OPT_SET_STR_VALUE:
				str_values(&f, map, is_set);
				break;
			case OPT_SIMPLE_PRIMARY_KEY:
			case OPT_PRIMARY_KEY_WITH_PREFIX:
				map->npk = 0;
				map->pk = palloc(sizeof(int) * map->ncols);
				while (f.p < f.end)
				{
					uint64		col = get_lenenc(&f, "primary key");

					if (kind == OPT_PRIMARY_KEY_WITH_PREFIX)
						(void) get_lenenc(&f, "primary key prefix");
					if (col >= (uint64) map->ncols || map->npk >= map->ncols)
						bad_event(r, "The primary key names a column the table does not have.");
					map->pk[map->npk++] = (int) col;
				}
				break;
			default:
				/* geometry types, visibility, ...: nothing to read */
				f.p = f.end;
				break;
		}
		if (f.p != f.end && kind != OPT_SIGNEDNESS)
			bad_event(r, psprintf("Optional metadata block %u has %d bytes left over.",
								  (unsigned int) kind, (int) (f.end - f.p)));
	}
}

static void
parse_table_map(Reader *r, const EtlPullFormat *fmt, EtlPullEvent *ev)
{
	int			plen = post_len(fmt, EV_TABLE_MAP, 8);
	EtlPullTableMap *map = palloc0(sizeof(EtlPullTableMap));
	uint8		len;
	uint64		n;
	uint64		meta_len;
	Reader		m;
	int			i;

	if (plen != 8 && plen != 6)
		bad_event(r, psprintf("Its post-header is %d bytes long.", plen));
	need(r, plen, "post-header");
	map->table_id = stream_le(r->p, plen - 2);
	map->flags = (uint16) stream_le(r->p + plen - 2, 2);
	r->p += plen;

	len = (uint8) get_le(r, 1, "database name");
	map->db = get_string(r, len, "database name");
	if (get_le(r, 1, "database name") != 0)
		bad_event(r, "Its database name is not followed by a NUL byte.");
	len = (uint8) get_le(r, 1, "table name");
	map->table = get_string(r, len, "table name");
	if (get_le(r, 1, "table name") != 0)
		bad_event(r, "Its table name is not followed by a NUL byte.");

	n = get_lenenc(r, "column count");
	if (n < 1 || n > 4096)
		bad_event(r, psprintf("It announces " UINT64_FORMAT " columns.", n));
	map->ncols = (int) n;
	need(r, n, "column types");
	map->types = palloc(n);
	memcpy(map->types, r->p, n);
	r->p += n;

	meta_len = get_lenenc(r, "metadata length");
	need(r, meta_len, "metadata");
	m.p = r->p;
	m.end = r->p + meta_len;
	m.type = r->type;
	r->p += meta_len;
	map->meta = palloc0(sizeof(uint32) * n);
	for (i = 0; i < map->ncols; i++)
		column_meta(&m, map, i);
	if (m.p != m.end)
		bad_event(r, "Its column metadata is longer than its columns need.");

	need(r, (n + 7) / 8, "nullability bitmap");
	map->nullable = palloc(sizeof(bool) * n);
	for (i = 0; i < map->ncols; i++)
		map->nullable[i] = (r->p[i / 8] & (1 << (i % 8))) != 0;
	r->p += (n + 7) / 8;

	map->charset = palloc(sizeof(int) * n);
	for (i = 0; i < map->ncols; i++)
		map->charset[i] = -1;
	map->strings = palloc0(sizeof(char **) * n);
	map->nstrings = palloc0(sizeof(int) * n);
	map->npk = -1;
	map->legacy_fsp = palloc0(n);
	optional_metadata(r, map, strstr(fmt->server_version, "MariaDB") != NULL);
	ev->map = map;
	ev->table_id = map->table_id;
}

/* A rows event (either version): the bitmaps, the row images left raw */
static void
parse_rows(Reader *r, const EtlPullFormat *fmt, EtlPullEvent *ev)
{
	bool		v2 = (ev->type >= EV_WRITE_V2 && ev->type <= EV_DELETE_V2);
	int			plen = post_len(fmt, ev->type, v2 ? 10 : 8);
	uint64		n;
	size_t		bitmap;

	if (plen != (v2 ? 10 : 8) && plen != (v2 ? 8 : 6))
		bad_event(r, psprintf("Its post-header is %d bytes long.", plen));
	need(r, plen, "post-header");
	if (plen == 6 || (v2 && plen == 8))
		bad_event(r, "It has a 4-byte table id, which only servers before MySQL 5.1.4 write.");
	ev->table_id = stream_le(r->p, 6);
	ev->rows_flags = (uint16) stream_le(r->p + 6, 2);
	if (v2)
	{
		uint16		extra = (uint16) stream_le(r->p + 8, 2);

		r->p += plen;
		if (extra < 2)
			bad_event(r, "Its extra data's length is below 2.");
		need(r, extra - 2, "extra data");
		r->p += extra - 2;
	}
	else
		r->p += plen;

	n = get_lenenc(r, "column count");
	if (n < 1 || n > 4096)
		bad_event(r, psprintf("It announces " UINT64_FORMAT " columns.", n));
	ev->ncols = (int) n;
	bitmap = (n + 7) / 8;
	need(r, bitmap, "columns bitmap");
	ev->present = r->p;
	r->p += bitmap;
	if (ev->kind == ETL_PULL_EV_UPDATE_ROWS)
	{
		need(r, bitmap, "after image's columns bitmap");
		ev->present_after = r->p;
		r->p += bitmap;
	}
	ev->rows = r->p;
	ev->rows_len = r->end - r->p;
	r->p = r->end;
}

/* Refuse an event the stream must not skip */
static void
unreadable(Reader *r, const char *what, const char *hint)
{
	ereport(ERROR,
			(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
			 errmsg("binary log event of type %u cannot be read: %s",
					(unsigned int) r->type, what),
			 hint ? errhint("%s", hint) : 0));
}

/* A ROTATE: the next file's name and the position to read it from */
static void
parse_rotate(Reader *r, EtlPullFormat *fmt, EtlPullEvent *ev)
{
	int			plen = post_len(fmt, EV_ROTATE, 8);

	if (plen != 8)
		bad_event(r, psprintf("Its post-header is %d bytes long.", plen));
	ev->rotate_pos = get_le(r, 8, "position");
	if (r->end - r->p < 1 || r->end - r->p > 512)
		bad_event(r, "Its file name is empty or too long.");
	ev->rotate_file = get_string(r, r->end - r->p, "file name");
}

/* A GTID: the group's sequence number, domain and flags */
static void
parse_gtid(Reader *r, EtlPullFormat *fmt, EtlPullEvent *ev)
{
	int			plen = post_len(fmt, EV_GTID, 19);

	if (plen < 13)
		bad_event(r, psprintf("Its post-header is %d bytes long.", plen));
	need(r, plen, "post-header");
	ev->gtid_seq = stream_le(r->p, 8);
	ev->gtid_domain = (uint32) stream_le(r->p + 8, 4);
	ev->gtid_flags = r->p[12];
	ev->gtid_standalone = (ev->gtid_flags & 0x01) != 0;
	ev->gtid = psprintf("%u-%u-" UINT64_FORMAT, ev->gtid_domain,
						ev->server_id, ev->gtid_seq);
	r->p = r->end;
}

/* A GTID_LIST: the log's GTID state, as "domain-server-seq,..." */
static void
parse_gtid_list(Reader *r, EtlPullEvent *ev)
{
	uint32		count = (uint32) get_le(r, 4, "count") & 0x0fffffff;
	StringInfoData s;
	uint32		i;

	if ((size_t) (r->end - r->p) / 16 < count)
		bad_event(r, psprintf("It announces %u GTIDs, more than it holds.", count));
	initStringInfo(&s);
	for (i = 0; i < count; i++)
	{
		uint32		d = (uint32) stream_le(r->p, 4);
		uint32		srv = (uint32) stream_le(r->p + 4, 4);
		uint64		seq = stream_le(r->p + 8, 8);

		appendStringInfo(&s, "%s%u-%u-" UINT64_FORMAT, i ? "," : "", d, srv, seq);
		r->p += 16;
	}
	ev->gtid_list = s.data;
}

/*
 * The common header of the event of "len" bytes at "buf", and its
 * checksum if it has one (r->end is then moved before it)
 */
static void
parse_common_header(Reader *r, const unsigned char *buf, size_t len,
					EtlPullFormat *fmt, EtlPullEvent *ev)
{
	int			header_len = fmt->known ? fmt->header_len : HEADER_LEN;
	bool		checksum = false;

	need(r, HEADER_LEN, "common header");
	ev->timestamp = (uint32) stream_le(buf, 4);
	ev->type = buf[4];
	ev->server_id = (uint32) stream_le(buf + 5, 4);
	ev->event_len = (uint32) stream_le(buf + 9, 4);
	ev->end_log_pos = (uint32) stream_le(buf + 13, 4);
	ev->flags = (uint16) stream_le(buf + 17, 2);
	if (ev->event_len != len)
		bad_event(r, psprintf("Its header says %u bytes, but it has %zu.",
							  ev->event_len, len));
	if (ev->type == EV_FORMAT)
		header_len = HEADER_LEN;
	need(r, header_len, "common header");
	r->p += header_len;

	/*
	 * The checksum: the last 4 bytes, once a FORMAT_DESCRIPTION says so.
	 * Before the first one only the dump's made-up ROTATE comes, which
	 * carries one when the log has them: recognised by its matching.
	 */
	if (ev->type == EV_FORMAT)
		return;
	if (fmt->known)
		checksum = (fmt->checksum_alg == 1);
	else
		checksum = (ev->type == EV_ROTATE && len >= (size_t) header_len + 4 + 8 &&
					crc32_of(buf, len - 4) == (uint32) stream_le(buf + len - 4, 4));
	if (checksum)
	{
		need(r, 4, "checksum");
		if (crc32_of(buf, len - 4) != (uint32) stream_le(buf + len - 4, 4))
			bad_event(r, "Its checksum does not match.");
		r->end -= 4;
	}
}

/*
 * An event of a type the stream does not apply: refused if it may hold
 * changes the stream would miss, else ETL_PULL_EV_OTHER
 */
static void
other_event(Reader *r, EtlPullEvent *ev)
{
	switch (ev->type)
	{
		case EV_QUERY_COMPRESSED:
			unreadable(r, "a compressed statement",
					   "Set log_bin_compress = OFF on the MySQL server.");
			break;
		case EV_INCIDENT:
			unreadable(r, "the source logged an incident (events it could not log)",
					   "The tables need a new snapshot.");
			break;
		case EV_PARTIAL_UPDATE:
		case EV_TRANSACTION_PAYLOAD:
			unreadable(r, "partial or compressed row changes",
					   "Set binlog_row_value_options = '' and binlog_transaction_compression = OFF on the MySQL server.");
			break;
		default:
			break;
	}
	if (ev->type >= EV_ROWS_COMPRESSED_FIRST && ev->type <= EV_ROWS_COMPRESSED_LAST)
		unreadable(r, "compressed row changes",
				   "Set log_bin_compress = OFF on the MySQL server.");
	if (ev->type >= EV_PRE_GA_WRITE && ev->type <= EV_PRE_GA_DELETE)
		unreadable(r, "row changes in a pre-GA format", NULL);
	/* events up to MariaDB's 171 are known; later ones must say ignorable */
	if (ev->type > EV_ROWS_COMPRESSED_LAST ||
		(ev->type > EV_TRANSACTION_PAYLOAD && ev->type < EV_ANNOTATE))
	{
		if (!(ev->flags & LOG_EVENT_IGNORABLE_F))
			unreadable(r, "unknown event type", NULL);
	}
	ev->kind = ETL_PULL_EV_OTHER;
}

/*
 * Parse the event of "len" bytes at "buf" (see event.h).  "fmt" is the
 * connection's format, updated by a FORMAT_DESCRIPTION.
 */
void
EtlPullEventParse(const unsigned char *buf, size_t len, EtlPullFormat *fmt,
				  EtlPullEvent *ev)
{
	Reader		r;

	memset(ev, 0, sizeof(*ev));
	r.p = buf;
	r.end = buf + len;
	r.type = len > 4 ? buf[4] : 0;
	parse_common_header(&r, buf, len, fmt, ev);

	switch (ev->type)
	{
		case EV_FORMAT:
			ev->kind = ETL_PULL_EV_FORMAT;
			parse_format(&r, buf, len, fmt);
			break;
		case EV_ROTATE:
			ev->kind = ETL_PULL_EV_ROTATE;
			parse_rotate(&r, fmt, ev);
			break;
		case EV_GTID:
			ev->kind = ETL_PULL_EV_GTID;
			parse_gtid(&r, fmt, ev);
			break;
		case EV_GTID_LIST:
			ev->kind = ETL_PULL_EV_GTID_LIST;
			parse_gtid_list(&r, ev);
			break;
		case EV_CHECKPOINT:
			ev->kind = ETL_PULL_EV_CHECKPOINT;
			{
				uint32		n = (uint32) get_le(&r, 4, "file name length");

				if (n > 512)
					bad_event(&r, "Its file name is too long.");
				ev->checkpoint_file = get_string(&r, n, "file name");
			}
			break;
		case EV_QUERY:
			ev->kind = ETL_PULL_EV_QUERY;
			parse_query(&r, fmt, ev);
			break;
		case EV_XID:
			ev->kind = ETL_PULL_EV_XID;
			ev->xid = get_le(&r, 8, "xid");
			break;
		case EV_TABLE_MAP:
			ev->kind = ETL_PULL_EV_TABLE_MAP;
			parse_table_map(&r, fmt, ev);
			break;
		case EV_WRITE_V1:
		case EV_WRITE_V2:
			ev->kind = ETL_PULL_EV_WRITE_ROWS;
			parse_rows(&r, fmt, ev);
			break;
		case EV_UPDATE_V1:
		case EV_UPDATE_V2:
			ev->kind = ETL_PULL_EV_UPDATE_ROWS;
			parse_rows(&r, fmt, ev);
			break;
		case EV_DELETE_V1:
		case EV_DELETE_V2:
			ev->kind = ETL_PULL_EV_DELETE_ROWS;
			parse_rows(&r, fmt, ev);
			break;
		case EV_ANNOTATE:
			ev->kind = ETL_PULL_EV_ANNOTATE;
			{
				/* the statement's text, which may hold any byte */
				size_t		n = r.end - r.p;

				ev->annotate = palloc(n + 1);
				memcpy(ev->annotate, r.p, n);
				ev->annotate[n] = '\0';
				r.p = r.end;
			}
			break;
		case EV_HEARTBEAT:
			ev->kind = ETL_PULL_EV_HEARTBEAT;
			break;
		case EV_STOP:
			ev->kind = ETL_PULL_EV_STOP;
			break;
		default:
			other_event(&r, ev);
			break;
	}
}

const char *
EtlPullEventKindName(EtlPullEventKind kind)
{
	switch (kind)
	{
		case ETL_PULL_EV_OTHER:
			return "other";
		case ETL_PULL_EV_FORMAT:
			return "format";
		case ETL_PULL_EV_ROTATE:
			return "rotate";
		case ETL_PULL_EV_GTID:
			return "gtid";
		case ETL_PULL_EV_GTID_LIST:
			return "gtid_list";
		case ETL_PULL_EV_CHECKPOINT:
			return "checkpoint";
		case ETL_PULL_EV_QUERY:
			return "query";
		case ETL_PULL_EV_XID:
			return "xid";
		case ETL_PULL_EV_TABLE_MAP:
			return "table_map";
		case ETL_PULL_EV_WRITE_ROWS:
			return "insert";
		case ETL_PULL_EV_UPDATE_ROWS:
			return "update";
		case ETL_PULL_EV_DELETE_ROWS:
			return "delete";
		case ETL_PULL_EV_ANNOTATE:
			return "annotate";
		case ETL_PULL_EV_HEARTBEAT:
			return "heartbeat";
		case ETL_PULL_EV_STOP:
			return "stop";
	}
	return "other";
}

/*
 * Give column "col" of "map" its ENUM or SET strings (from the source's
 * catalog, where the table map carries none); the strings must live as
 * long as the map.
 */
void
EtlPullTableMapSetStrings(EtlPullTableMap *map, int col, char **strings, int n)
{
	if (col < 0 || col >= map->ncols)
		elog(ERROR, "column %d is out of range", col);
	map->strings[col] = strings;
	map->nstrings[col] = n;
}

/*
 * Whether column "col"'s values are bytes rather than text: BIT, geometry,
 * and strings and blobs in the binary character set (as far as the map
 * says: without its charsets, only BIT and geometry)
 */
bool
EtlPullColumnIsBinary(const EtlPullTableMap *map, int col)
{
	uint8		t = map->types[col];

	if (t == T_BIT || t == T_GEOMETRY)
		return true;
	return is_character(t) && map->charset && map->charset[col] == 63;
}

/* Whether the map has old-format TIME, DATETIME or TIMESTAMP columns */
bool
EtlPullTableMapHasLegacyTemporal(const EtlPullTableMap *map)
{
	int			i;

	for (i = 0; i < map->ncols; i++)
		if (map->types[i] == T_TIME || map->types[i] == T_DATETIME ||
			map->types[i] == T_TIMESTAMP)
			return true;
	return false;
}

/*
 * Take what the binary log leaves out from the source's description of the
 * table (EtlPullDescribeSource, its columns in the table's order): the
 * fractional digits of old-format temporal columns.  A description whose
 * columns do not match the map (another number, or a legacy temporal
 * column that the source does not describe as a time) is an ERROR: the
 * table changed since its rows were logged, and its values cannot be read
 * with confidence.
 */
void
EtlPullTableMapApplySource(EtlPullTableMap *map, const EtlPullSource *source)
{
	int			i;

	if (source->ncolumns != map->ncols)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("table \"%s.%s\" has %d columns, its rows in the binary log %d",
						EtlPullPrintable(map->db, 64), EtlPullPrintable(map->table, 64),
						source->ncolumns, map->ncols)));
	for (i = 0; i < map->ncols; i++)
	{
		const EtlPullSourceColumn *col = &source->columns[i];
		uint8		t = map->types[i];

		if (t != T_TIME && t != T_DATETIME && t != T_TIMESTAMP)
			continue;
		if ((t == T_TIME && col->kind != SRC_TIME) ||
			(t == T_DATETIME && col->kind != SRC_DATETIME) ||
			(t == T_TIMESTAMP && col->kind != SRC_TIMESTAMP) ||
			col->scale < 0 || col->scale > 6)
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("column %d of table \"%s.%s\" is %s, not the old-format time its rows in the binary log have",
							i + 1, EtlPullPrintable(map->db, 64),
							EtlPullPrintable(map->table, 64),
							EtlPullPrintable(col->column_type, 64))));
		map->legacy_fsp[i] = (uint8) col->scale;
	}
}
