/*-------------------------------------------------------------------------
 *
 * etl_pull.h
 *		  Module-wide declarations for etl_pull: the types most files share
 *		  and the functions used across the module, grouped by the file
 *		  that defines them.
 *
 * A module whose exports only a few files use has a header of its own:
 * bgworker.h (starting workers), parallel.h (the parallel strategy's
 * readers), recorder.h (run rows), commands/commands.h, progress.h (the progress
 * slots), load.h (the load's state and the strategy interface, for
 * load*.c), binrow.h (decoding binary-protocol rows, for connection.c);
 * settinglist.h lists the per-table settings.
 *
 * Only connection.c includes mysql.h: everything else sees the MySQL side
 * through the opaque EtlPullConnection and the plain descriptions below.
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

/* Which rows a load reads (setting extraction: full, incremental, diff) */
typedef enum EtlPullExtraction
{
	ETL_EXTRACTION_FULL,
	ETL_EXTRACTION_INCREMENTAL,
	ETL_EXTRACTION_DIFF
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

	/*
	 * The settings, one field for each line of settinglist.h, named as its
	 * column, holding the value as stored: source_table and target_table
	 * are the raw setting text, NULL for the default; a NULL
	 * estimated_size_mb is -1 (measure at the source); incremental_columns
	 * is a List of char *, column_types one of EtlPullColumnType.
	 */
#define ETL_SETTING(name, kind, ctype, default_value, choices, min, max, description) \
	ctype		name;
#include "catalog/settinglist.h"
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
extern int	EtlPullProgressRows;
extern int	EtlPullProgressMessages;
extern int	EtlPullNetTimeout;
extern double EtlPullStreamThresholdMb;
extern double EtlPullCopyThresholdMb;
extern int	EtlPullParallelThresholdRows;
extern char *EtlPullPgSettings;
extern int	EtlPullMaxParallelLoads;
extern int	EtlPullLockTimeout;
extern int	EtlPullSwapLockTimeout;
extern char *EtlPullMysqlSettings;

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

/* in option.c */
extern void EtlPullGetConnOptions(ForeignServer *server, UserMapping *um,
								  EtlPullConnOptions *opts);
extern const EtlPullSettingDesc EtlPullTableSettings[];
extern const int EtlPullNumTableSettings;
extern int	EtlPullChoiceOrdinal(const char *value, const char *choices);
extern char *EtlPullCheckTableOption(const char *key, const char *value);
extern char *EtlPullChoiceName(const char *setting, int ordinal);
extern List *EtlPullParseColumnTypes(const char *value);

/*
 * A value of the binary protocol handed over as it was sent, for the
 * converters that take it so (EtlPullQueryNativeColumns): an integer, or a
 * date or datetime's fields, already checked to be in range (a zero month
 * or day is a zero date).  Its "text" in a row's values is this struct
 * (lengths: its size), which EtlPullNativeText renders for messages.
 */
typedef struct EtlPullNative
{
	int64		i;				/* integer */
	int32		year,			/* date, datetime */
				month,
				day,
				hour,
				minute,
				second,
				usec;
	bool		is_time;		/* the fields, not i */
	bool		with_time;		/* a datetime, not a date */
} EtlPullNative;

/* in connection.c */
typedef struct EtlPullConnection EtlPullConnection;

extern EtlPullConnection *EtlPullConnect(ForeignServer *server, Oid userid);
extern void EtlPullDisconnect(EtlPullConnection *conn);
extern void EtlPullExec(EtlPullConnection *conn, const char *sql);
extern void EtlPullStartSnapshot(EtlPullConnection *conn);
extern void EtlPullKeepConnection(EtlPullConnection *conn);
extern bool EtlPullConnectionLost(EtlPullConnection *conn);
extern char *EtlPullSessionDefaults(void);
extern bool EtlPullLockForSnapshot(EtlPullConnection *control, const char *tables,
								   char **error);
extern char *EtlPullSnapshotPosition(EtlPullConnection *control, char **error);
extern char *EtlPullQuoteLiteral(EtlPullConnection *conn, const char *value);
extern char *EtlPullQuoteIdent(const char *ident);
extern char *EtlPullPrintable(const char *text, size_t maxlen);
extern char *EtlPullValidText(const char *s, size_t len, int encoding, bool *exact);
extern void EtlPullQueryStart(EtlPullConnection *conn, const char *sql,
							  int nfields);
extern void EtlPullQueryStartProtocol(EtlPullConnection *conn, const char *sql,
									  int nfields, bool binary);
extern bool *EtlPullQueryNativeColumns(EtlPullConnection *conn,
									   const bool *wanted);
extern bool EtlPullTryQueryStart(EtlPullConnection *conn, const char *sql,
								 int nfields, char **error);
extern bool EtlPullTryExec(EtlPullConnection *conn, const char *sql, char **error);
extern int	EtlPullQueryFieldCount(EtlPullConnection *conn);
extern void EtlPullQuerySend(EtlPullConnection *conn, const char *sql);
extern void EtlPullQueryReceive(EtlPullConnection *conn, int nfields);
extern bool EtlPullFetch(EtlPullConnection *conn, char ***values,
						 unsigned long **lengths);
extern void EtlPullQueryEnd(EtlPullConnection *conn);
extern char **EtlPullQueryRow(EtlPullConnection *conn, const char *sql,
							  int nfields, bool optional);
extern int64 EtlPullReplyInt64(EtlPullConnection *conn, const char *s,
							   const char *what);
extern uint64 EtlPullReplyUint64(EtlPullConnection *conn, const char *s,
								 const char *what);
extern const char *EtlPullServerName(EtlPullConnection *conn);
extern void EtlPullBadReply(EtlPullConnection *conn, const char *detail) pg_attribute_noreturn();
extern const char *EtlPullDefaultDb(EtlPullConnection *conn);
extern bool EtlPullIsMariaDB(EtlPullConnection *conn);
extern unsigned long EtlPullServerVersion(EtlPullConnection *conn);

/* in source.c */
extern EtlPullSource *EtlPullDescribeTableSource(EtlPullConnection *conn,
												 EtlPullTable *table);
extern EtlPullSource *EtlPullDescribeSource(EtlPullConnection *conn,
											const char *db, const char *table);
extern char *EtlPullSourceSelect(EtlPullSource *source, const char *where);
extern char *EtlPullSourceKeyExpr(EtlPullSourceColumn *col);
extern void EtlPullSourceQueryStart(EtlPullConnection *conn, EtlPullTable *table,
									EtlPullSource *source, const char *where);
extern char *EtlPullTargetTypeName(EtlPullSourceColumn *col);
extern List *EtlPullSourceKey(EtlPullSource *source);
extern EtlPullSourceColumn *EtlPullIntegerKey(EtlPullSource *source);
extern List *EtlPullDescribeIndexes(EtlPullConnection *conn,
									EtlPullSource *source);
extern void EtlPullCheckTypeOverride(EtlPullSource *source,
									 EtlPullSourceColumn *col,
									 const char *type_name);

/* in convert.c */
typedef struct EtlPullConverter EtlPullConverter;

extern const char *EtlPullCheckUtf8(EtlPullInvalidUtf8 policy, const char *s,
									unsigned long *len);
extern bool EtlPullIsZeroDate(EtlPullSourceColumn *col, const char *s,
							  unsigned long len);
extern EtlPullZeroDates EtlPullZeroDateAction(EtlPullTable *table,
											  EtlPullSourceColumn *col,
											  const char *s);
extern const char *EtlPullZeroDateOutcome(EtlPullTable *table);

extern EtlPullConverter *EtlPullMakeConverters(EtlPullTable *table,
											   EtlPullSource *source,
											   TupleDesc tupdesc,
											   AttrNumber *attnums);
extern void EtlPullConvertRow(EtlPullConverter *conv, char **values,
							  unsigned long *lengths,
							  Datum *datums, bool *nulls);
extern bool EtlPullConvertersTrusted(EtlPullConverter *conv);
extern bool *EtlPullConvertersNativeWanted(EtlPullConverter *conv);
extern void EtlPullConvertersUseNative(EtlPullConverter *conv, const bool *native);
extern char *EtlPullNativeText(const char *value);
extern void EtlPullNativeFromConnection(EtlPullConverter *conv,
										EtlPullConnection *conn);
extern bool EtlPullConvertRowOrReject(EtlPullConverter *conv, char **values,
									  unsigned long *lengths, Datum *datums,
									  bool *nulls, EtlPullReject *reject);
extern bool EtlPullConvertRowsTry(EtlPullConverter *conv, int n, char ***values,
								  unsigned long **lengths, Datum **datums,
								  bool **nulls);

/* in sink.c */
typedef struct EtlPullSink EtlPullSink;

extern EtlPullSink *EtlPullSinkBegin(Relation target, Relation into,
									 int batch_size, int ti_options,
									 AttrNumber *attnums, int nmapped,
									 bool tuples);
extern void EtlPullSinkAddTuple(EtlPullSink *sink, MinimalTuple tuple);
extern void EtlPullSinkNext(EtlPullSink *sink, Datum **values, bool **nulls);
extern void EtlPullSinkRowDone(EtlPullSink *sink);
extern void EtlPullSinkAddValues(EtlPullSink *sink, Datum *values, bool *nulls);
extern void EtlPullSinkRowSkip(EtlPullSink *sink);
extern void EtlPullSinkEnd(EtlPullSink *sink);
extern EtlPullSink *EtlPullSinkBeginMerge(Relation target, int batch_size,
										  AttrNumber *attnums, int nmapped,
										  Oid indexoid, int64 *merged);

/* in merge.c */
typedef struct EtlPullMerger EtlPullMerger;

extern const char *EtlPullMergeUnsuitable(Relation rel, AttrNumber *keyattnums,
										  int nkeys, Oid *indexoid);
struct ResultRelInfo;
struct EState;
struct TupleTableSlot;
extern EtlPullMerger *EtlPullMergerBegin(struct ResultRelInfo *rri,
										 struct EState *estate,
										 Oid indexoid, AttrNumber *attnums,
										 int nmapped, int64 *merged);
extern bool EtlPullMergerApply(EtlPullMerger *m, struct TupleTableSlot *slot);
extern void EtlPullMergerEnd(EtlPullMerger *m);

/* in load/copy_feed.c */
typedef void (*EtlPullRowCallback) (void *arg, unsigned long *lengths);

extern uint64 EtlPullCopyRows(EtlPullConnection *conn, EtlPullTable *table,
							  EtlPullSource *source, Relation rel,
							  AttrNumber *attnums, EtlPullRowCallback on_row,
							  void *on_row_arg);

/*
 * A connection lent to a load by load_all's worker, which keeps it across
 * the tables it loads: the load neither connects nor disconnects.  With
 * "in_snapshot" the connection already reads the group's snapshot (taken
 * at "position", NULL if unknown): the load starts none of its own.
 */
typedef struct EtlPullLentConnection
{
	EtlPullConnection *conn;
	bool		in_snapshot;
	const char *position;
} EtlPullLentConnection;

/* in load.c */
extern void EtlPullLoadTable(EtlPullTable *table, bool force_full,
							 EtlPullRunResult *result,
							 EtlPullLentConnection *lent);
extern ForeignServer *EtlPullUsableServer(Oid serverid);

/* in catalog.c */
extern EtlPullTable *EtlPullReadTable(const char *name);
extern void EtlPullSplitSourceTable(const char *value, char **db, char **table);
extern void EtlPullResolveTarget(const char *name, const char *target,
								 char **schema, char **table);
extern void EtlPullCheckTargetSchema(const char *schema);
extern void EtlPullRecordCreatedTarget(Oid relid, const char *table_name);
extern bool EtlPullCreatedTarget(Oid relid);
extern void EtlPullCheckAdoptable(Oid relid, Oid registrant);
extern bool EtlPullRowSecurityApplies(Oid relid, Oid roleid, bool noerror);
extern void EtlPullRefuseRowSecurity(Oid relid, Oid roleid, const char *qname,
									 const char *what);
extern void EtlPullCheckTargetRelation(Oid relid, const char *qname);
extern int	EtlPullPinSearchPath(void);
extern Oid	EtlPullExtensionOwner(void);
extern void EtlPullAsRole(Oid roleid, EtlPullUserState *st);
extern void EtlPullAsOwner(EtlPullUserState *st);
extern void EtlPullAsCaller(EtlPullUserState *st);
extern int64 EtlPullNextRunId(void);
extern void EtlPullOwnerExec(const char *sql, int nargs, Oid *argtypes,
							 Datum *args, const char *nulls, int expected,
							 const char *what);
extern void EtlPullRecordReject(EtlPullTable *table, int64 run_id,
								EtlPullReject *reject);
extern int64 EtlPullPeakMemoryKb(void);

/* in incremental.c */
extern int *EtlPullIncrementalColumns(EtlPullTable *table, EtlPullSource *source);
extern List *EtlPullReadWatermark(EtlPullTable *table);
extern void EtlPullWriteWatermark(EtlPullTable *table, List *values);
extern char *EtlPullWatermarkPredicate(EtlPullConnection *conn,
									   EtlPullSource *source, int *cols,
									   List *bounds, double lookback);
extern List *EtlPullAppendOnlyBounds(EtlPullConnection *conn, EtlPullTable *table,
									 EtlPullSource *source, int *cols,
									 List *watermark);
extern char *EtlPullAppendOnlyUnsuitable(EtlPullTable *table,
										 EtlPullSourceColumn *col,
										 Oid typid, int32 typmod);
extern void EtlPullCheckAppendOnlyTarget(EtlPullTable *table,
										 EtlPullSource *source, Relation rel,
										 const char *target_qname,
										 AttrNumber *attnums, int *cols);
extern int64 EtlPullDeleteReloaded(EtlPullTable *table, EtlPullSource *source,
								   Relation rel, const char *target_qname,
								   AttrNumber *attnums, int *cols, List *bounds);
extern List *EtlPullSourceMaxima(EtlPullConnection *conn, EtlPullSource *source,
								 int *cols, int ncols, const char *where,
								 List *old);
extern int64 EtlPullMerge(const char *target_qname, const char *stage_qname,
						  List *columns, List *pk);
extern int64 EtlPullDeleteMissing(EtlPullConnection *conn, EtlPullSource *source,
								  EtlPullSourceColumn *keycol,
								  const char *target_qname);

/* in catalog/settings_list.c: one "name=value" of a settings list */
typedef struct EtlPullSetting
{
	char	   *name;
	char	   *value;
} EtlPullSetting;

extern List *EtlPullParseSettings(const char *list, char **bad);
extern bool EtlPullSettingIsNumber(const char *value);
extern const char *EtlPullSettingRefusal(const EtlPullSetting *s, bool pg,
										 bool check_rights);
extern void EtlPullRefuseSetting(const char *what, const char *name,
								 const char *why) pg_attribute_noreturn();
extern const char *EtlPullRefusedSqlMode(const char *mode);
extern const char *EtlPullMysqlSettingWhy(const char *name);
extern bool EtlPullSettingsListValid(const char *list, bool pg, bool check_rights,
									 char **bad, const char **why);
extern void EtlPullCheckSettingsList(const char *what, const char *list, bool pg);
extern int	EtlPullApplyPgSettings(EtlPullTable *table);

/* in remote/session.c */
extern void EtlPullApplyMysqlSettings(EtlPullConnection *conn, EtlPullTable *table);
extern void EtlPullResetMysqlSettings(EtlPullConnection *conn, const char *list);

#endif							/* ETL_PULL_H */
