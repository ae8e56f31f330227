/*-------------------------------------------------------------------------
 *
 * etl_pull.h
 *		  The types every part of etl_pull shares (a registered table and
 *		  its settings, a source's description, a run's result), the GUCs,
 *		  and the base functions (valid_text.c).
 *
 * Each folder of src/ declares what the others may use in a header of
 * its own (catalog/etl_catalog.h, remote/remote.h, verify/verify.h,
 * load/load.h, stream/event.h, commands/commands.h; see README.md, Layout), and includes
 * only the headers of the folders below it: base, catalog, remote,
 * verify, load, stream, commands.
 *
 * Only remote/connection.c (and the binary log's transport, remote/
 * replication.c) include mysql.h: everything else sees the
 * MySQL side through the opaque EtlPullConnection and the plain
 * descriptions below.
 *
 * IDENTIFICATION
 *		  src/etl_pull.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef ETL_PULL_H
#define ETL_PULL_H

#include "access/htup.h"
#include "access/tupdesc.h"
#include "fmgr.h"
#include "foreign/foreign.h"
#include "nodes/pg_list.h"
#include "utils/relcache.h"

/*
 * The enums of the choice settings.  A choice's field holds the position of
 * its value in the setting's list of choices in settinglist.h, so each
 * enum's members follow that list's order: change both or neither.
 */

/* Load strategies (setting strategy: auto, standard, stream, copy, parallel) */
typedef enum EtlPullStrategy
{
	ETL_STRATEGY_AUTO,
	ETL_STRATEGY_STANDARD,
	ETL_STRATEGY_STREAM,
	ETL_STRATEGY_COPY,
	ETL_STRATEGY_PARALLEL
} EtlPullStrategy;

/*
 * What to do with a zero date, '0000-00-00' or a zero month or day
 * (setting zero_dates: null, error, infinity)
 */
typedef enum EtlPullZeroDates
{
	ETL_ZERO_DATES_NULL,
	ETL_ZERO_DATES_ERROR,
	ETL_ZERO_DATES_INFINITY
} EtlPullZeroDates;

/* How rows are read from MySQL (setting protocol: binary, text) */
typedef enum EtlPullProtocol
{
	ETL_PROTOCOL_BINARY,
	ETL_PROTOCOL_TEXT
} EtlPullProtocol;

/*
 * Which rows a load reads (setting extraction: full, incremental, diff,
 * binlog: the group's stream keeps the table current, and a load of it is
 * full)
 */
typedef enum EtlPullExtraction
{
	ETL_EXTRACTION_FULL,
	ETL_EXTRACTION_INCREMENTAL,
	ETL_EXTRACTION_DIFF,
	ETL_EXTRACTION_BINLOG
} EtlPullExtraction;

/*
 * What a full load checks before it commits (setting verify: off, count,
 * full)
 */
typedef enum EtlPullVerifyMode
{
	ETL_VERIFY_OFF,
	ETL_VERIFY_COUNT,
	ETL_VERIFY_FULL
} EtlPullVerifyMode;

/*
 * What to do with a row that cannot be converted (setting on_error: abort,
 * reject)
 */
typedef enum EtlPullOnError
{
	ETL_ON_ERROR_ABORT,
	ETL_ON_ERROR_REJECT
} EtlPullOnError;

/* What to do when the table is already loading (setting on_busy: wait, skip) */
typedef enum EtlPullOnBusy
{
	ETL_ON_BUSY_WAIT,
	ETL_ON_BUSY_SKIP
} EtlPullOnBusy;

/*
 * Whether a load of a source table unchanged since its last load is
 * skipped (setting skip_unchanged: default, on, off; default follows
 * etl_pull.skip_unchanged)
 */
typedef enum EtlPullSkipUnchanged
{
	ETL_SKIP_UNCHANGED_DEFAULT,
	ETL_SKIP_UNCHANGED_ON,
	ETL_SKIP_UNCHANGED_OFF
} EtlPullSkipUnchanged;

/*
 * Whether a load of a source that no snapshot covers (MyISAM, Aria) holds
 * the table against its writers for the whole read (setting source_lock:
 * none, read; load/held.c)
 */
typedef enum EtlPullSourceLock
{
	ETL_SOURCE_LOCK_NONE,
	ETL_SOURCE_LOCK_READ
} EtlPullSourceLock;

/* Which of the source's indexes a created target gets (setting indexes) */
typedef enum EtlPullIndexes
{
	ETL_INDEXES_PRIMARY,
	ETL_INDEXES_ALL
} EtlPullIndexes;

/*
 * What a load does when the source's columns changed (setting
 * on_schema_change: error, evolve)
 */
typedef enum EtlPullSchemaChange
{
	ETL_SCHEMA_CHANGE_ERROR,
	ETL_SCHEMA_CHANGE_EVOLVE
} EtlPullSchemaChange;

/*
 * What to do with invalid UTF-8 or NUL bytes in text (setting invalid_utf8:
 * error, replace)
 */
typedef enum EtlPullInvalidUtf8
{
	ETL_INVALID_UTF8_ERROR,
	ETL_INVALID_UTF8_REPLACE
} EtlPullInvalidUtf8;

/*
 * One registered table: a row of etl_pull.tables, resolved and validated.
 * Everything is palloc'd in the caller's context.
 */
typedef struct EtlPullTable
{
	char	   *name;			/* registered name */
	Oid			serverid;		/* foreign server of the replica */
	char	   *server_name;
	int32		lock_key;		/* key of its "loading" advisory lock */

	/* what source_table and target_table resolve to */
	char	   *source_db;		/* NULL: the server's dbname */
	char	   *source_relname; /* table name on MySQL */
	char	   *target_schema;	/* PostgreSQL target, unquoted */
	char	   *target_relname;
	bool		repair;			/* repair_table: every row compared, whatever
								 * full_compare_every says */

	/*
	 * The settings, one field for each line of settinglist.h, named as its
	 * column, holding the value as stored: source_table and target_table
	 * are the raw setting text, NULL for the default; a NULL
	 * estimated_size_mb is -1 (measure at the source); incremental_columns
	 * is a List of char *, column_types one of EtlPullColumnType.
	 */
#define ETL_SETTING(name, kind, ctype, default_value, choices, min, max, description) \
	ctype		name;
#include "settinglist.h"
#undef ETL_SETTING
} EtlPullTable;

/*
 * What a per-table setting is, for the validator and the reader (option.c,
 * catalog.c).  The kind says what the validator accepts, the SQL type of
 * the column, and the C type of the field.
 */
typedef enum EtlPullSettingKind
{
	SET_TEXT,					/* text, non-empty: char * */
	SET_QUALIFIED_NAME,			/* text, table or schema.table: char * */
	SET_COLUMN_LIST,			/* text[], from a comma-separated list: List
								 * of char * */
	SET_CHOICE,					/* text, one of the choices: its position,
								 * an enum */
	SET_INT,					/* integer from min to max: int */
	SET_NUMERIC,				/* numeric, 0 or more: double (NULL: -1) */
	SET_BOOL,					/* boolean: bool */
	SET_PG_SETTINGS,			/* text, name=value, ...: char * */
	SET_MYSQL_SETTINGS,			/* text, name=value, ...: char * */
	SET_COLUMN_TYPES			/* text, column:type, ...: List of
								 * EtlPullColumnType */
} EtlPullSettingKind;

typedef struct EtlPullSettingDesc
{
	const char *name;			/* column of etl_pull.tables */
	EtlPullSettingKind kind;
	const char *default_value;	/* the column's DEFAULT as SQL text, or NULL */
	const char *choices;		/* SET_CHOICE: comma-separated, in enum order */
	int			min;			/* SET_INT */
	int			max;
	const char *description;
	size_t		offset;			/* of the field in EtlPullTable */
} EtlPullSettingDesc;

/* A per-column override of the target type (setting column_types) */
typedef struct EtlPullColumnType
{
	char	   *column;			/* MySQL column name */
	char	   *type_name;		/* PostgreSQL type, as SQL text */
} EtlPullColumnType;

/*
 * A source column as described by the MySQL server's information_schema.
 * The kind drives both the default PostgreSQL type and the converter.
 */
typedef enum EtlPullSourceKind
{
	SRC_INT,					/* tinyint .. bigint, unsigned or not */
	SRC_DECIMAL,
	SRC_FLOAT,
	SRC_DOUBLE,
	SRC_BIT,
	SRC_CHAR,					/* char / varchar with a length */
	SRC_TEXT,					/* tinytext .. longtext */
	SRC_BINARY,					/* binary, varbinary, blobs, binary charset */
	SRC_ENUM,
	SRC_SET,
	SRC_DATE,
	SRC_DATETIME,
	SRC_TIMESTAMP,
	SRC_TIME,
	SRC_YEAR,
	SRC_JSON,
	SRC_GEOMETRY
} EtlPullSourceKind;

typedef struct EtlPullSourceColumn
{
	char	   *name;			/* as on MySQL */
	char	   *target_name;	/* lower-cased PostgreSQL name */
	char	   *column_type;	/* MySQL's COLUMN_TYPE, for messages */
	EtlPullSourceKind kind;
	int			int_bytes;		/* SRC_INT: 1, 2, 3, 4 or 8 */
	bool		is_unsigned;
	int			length;			/* chars for SRC_CHAR, bits for SRC_BIT */
	int			precision;		/* SRC_DECIMAL */
	int			scale;			/* SRC_DECIMAL; fractional digits of times */
	bool		nullable;
	int			pk_position;	/* 1-based position in the primary key, or 0 */
} EtlPullSourceColumn;

typedef struct EtlPullSource
{
	char	   *db;
	char	   *table;
	int			ncolumns;
	EtlPullSourceColumn *columns;
	int64		estimated_rows; /* from information_schema.TABLES */
	int64		estimated_bytes;
	char	   *engine;			/* InnoDB, MyISAM, ...; NULL for a view */
	const char *whole_read;		/* set by a load that cannot re-check a read
								 * in key ranges: read in one statement, and
								 * why (EtlPullSourceChunkKey) */
} EtlPullSource;

/*
 * A secondary index of the source (not its primary key), as
 * information_schema.STATISTICS describes it (EtlPullDescribeIndexes).  An
 * index a created target cannot get as it is has its reason in skip_reason
 * (and may lack its parts); the others are B-tree indexes on plain columns.
 */
typedef struct EtlPullSourceIndex
{
	char	   *name;			/* as on MySQL */
	bool		unique;
	bool		hash;			/* HASH on MySQL (MEMORY tables): a B-tree here */
	const char *skip_reason;	/* why it is not created, or NULL */
	int			nparts;
	int		   *columns;		/* index in source->columns of each part */
	bool	   *descending;		/* of each part */
} EtlPullSourceIndex;

/* What a run did, filled in as it goes, for its row of etl_pull.runs */
typedef struct EtlPullRunResult
{
	int64		run_id;
	const char *strategy;
	const char *strategy_reason;
	const char *extraction;
	int64		rows;
	int64		bytes;
	int64		rejected_rows;
	int64		merged_rows;	/* incremental: inserted or updated */
	const char *source_position;	/* binlog position of the snapshot */
	int64		deleted_rows;	/* delete_missing */
	double		seconds;
	int64		peak_memory_kb;
	char	   *notes;			/* what the run noted, "; "-separated, or NULL */
	char	   *schema_changes; /* the source's column changes, one a line,
								 * or NULL */
	const char *verify_status;	/* what a comparison with the source found:
								 * "equal", "different", "not comparable";
								 * NULL when the run compared nothing */
	bool		unchanged;		/* skipped: the source is unchanged since the
								 * last load (skip_unchanged) */
} EtlPullRunResult;

/* A row rejected by on_error = reject */
typedef struct EtlPullReject
{
	char	   *row_key;		/* "col=value, ..." of the primary key */
	char	   *column;			/* MySQL column that failed */
	char	   *reason;			/* the error message */
	char	   *raw_text;		/* the value as MySQL sent it, if text */
	bytea	   *raw_bytes;		/* or as bytes */
} EtlPullReject;

/*
 * The caller's identity, saved while running as another role (the
 * extension's owner for etl_pull's own tables, a target's owner for a load)
 */
typedef struct EtlPullUserState
{
	Oid			userid;
	int			sec_context;
	int			nestlevel;		/* of the pinned search_path */
} EtlPullUserState;

/* in etl_pull.c */
extern bool EtlPullEnableOptimizations;
extern bool EtlPullSkipUnchangedDefault;
extern int	EtlPullProgressRows;
extern int	EtlPullProgressMessages;
extern int	EtlPullNetTimeout;
extern double EtlPullStreamThresholdMb;
extern double EtlPullCopyThresholdMb;
extern int	EtlPullParallelThresholdRows;
extern int	EtlPullInPlaceThresholdRows;
extern char *EtlPullPgSettings;
extern int	EtlPullMaxParallelLoads;
extern int	EtlPullLockTimeout;
extern int	EtlPullSwapLockTimeout;
extern int	EtlPullIndexBuildMemory;
extern char *EtlPullMysqlSettings;
extern int	EtlPullSourceStatementMs;

/*
 * The options of a connection to a MySQL server: its foreign server's and
 * user mapping's, as the validator accepted them, with defaults for the
 * ones not given (EtlPullGetConnOptions).  Each field has its option's
 * name.
 */
typedef struct EtlPullConnOptions
{
	/* the foreign server's */
	const char *host;			/* NULL: localhost */
	unsigned int port;			/* 0: the client library's default */
	const char *socket;			/* Unix socket path, or NULL */
	const char *dbname;			/* default database, or NULL */
	unsigned int connect_timeout;	/* seconds (default 10) */
	unsigned int read_timeout;	/* seconds, 0: none */
	unsigned int write_timeout;
	const char *ssl_mode;		/* never NULL */
	const char *ssl_ca;			/* files, or NULL */
	const char *ssl_cert;
	const char *ssl_key;
	const char *tls_version;	/* NULL: the client library's */
	bool		compress;
	/* the user mapping's */
	const char *user;
	const char *password;
} EtlPullConnOptions;

/*
 * A value of the binary protocol handed over as it was sent, for the
 * converters that take it so (EtlPullQueryNativeColumns): an integer, a
 * float or a double (as a double: a float's exact value), or a date or
 * datetime's fields, already checked to be in range (a zero month or day
 * is a zero date).  Its "text" in a row's values is this struct (lengths:
 * its size), which EtlPullNativeText renders for messages.
 */
typedef struct EtlPullNative
{
	int64		i;				/* integer */
	double		f;				/* float or double (is_float) */
	int32		year,			/* date, datetime */
				month,
				day,
				hour,
				minute,
				second,
				usec;
	bool		is_float;		/* f, not i */
	bool		is_time;		/* the fields, not i */
	bool		with_time;		/* a datetime, not a date */
} EtlPullNative;

/* The connection to a MySQL server: opaque outside src/remote/ */
typedef struct EtlPullConnection EtlPullConnection;

/* in valid_text.c: remote text made valid for a message or a catalog */
extern char *EtlPullPrintable(const char *text, size_t maxlen);
extern char *EtlPullValidText(const char *s, size_t len, int encoding, bool *exact);

#endif							/* ETL_PULL_H */
