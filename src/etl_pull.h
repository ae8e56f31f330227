/*-------------------------------------------------------------------------
 *
 * etl_pull.h
 *		  Module-wide declarations for etl_pull: the types most files share
 *		  and the functions used across the module, grouped by the file
 *		  that defines them.
 *
 * A module whose exports only a few files use has a header of its own:
 * bgworker.h (starting workers), parallel.h (the parallel strategy's
 * readers), recorder.h (run rows), load_all.h.
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

/* Load strategies (etl_pull.tables.strategy) */
typedef enum EtlPullStrategy
{
	ETL_STRATEGY_AUTO,
	ETL_STRATEGY_STANDARD,
	ETL_STRATEGY_STREAM,
	ETL_STRATEGY_COPY,
	ETL_STRATEGY_PARALLEL
} EtlPullStrategy;

/* What to do with a zero date ('0000-00-00', zero month or day) */
typedef enum EtlPullZeroDates
{
	ETL_ZERO_DATES_NULL,
	ETL_ZERO_DATES_ERROR
} EtlPullZeroDates;

/* Which rows a load reads (setting extraction) */
typedef enum EtlPullExtraction
{
	ETL_EXTRACTION_FULL,
	ETL_EXTRACTION_INCREMENTAL
} EtlPullExtraction;

/* What to do with a row that cannot be converted (setting on_error) */
typedef enum EtlPullOnError
{
	ETL_ON_ERROR_ABORT,
	ETL_ON_ERROR_REJECT
} EtlPullOnError;

/* What to do when the table is already loading (setting on_busy) */
typedef enum EtlPullOnBusy
{
	ETL_ON_BUSY_WAIT,
	ETL_ON_BUSY_SKIP
} EtlPullOnBusy;

/* What to do with invalid UTF-8 or NUL bytes in text */
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
	char	   *source_db;		/* NULL: the server's dbname */
	char	   *source_table;	/* table name on MySQL */
	char	   *target_schema;	/* PostgreSQL target, unquoted */
	char	   *target_table;
	EtlPullStrategy strategy;
	EtlPullExtraction extraction;
	List	   *incremental_columns;	/* of char *, MySQL names */
	double		lookback;		/* seconds (times) or units (numbers) */
	bool		append_only;	/* incremental without a primary key */
	bool		delete_missing; /* remove rows gone from the source */
	EtlPullOnBusy on_busy;
	EtlPullOnError on_error;
	List	   *column_types;	/* of EtlPullColumnType: target type overrides */
	int			batch_size;
	int			parallel_chunks;	/* workers of the parallel strategy */
	double		estimated_size_mb;	/* < 0: measure at the source */
	EtlPullZeroDates zero_dates;
	EtlPullInvalidUtf8 invalid_utf8;
	bool		analyze_target; /* ANALYZE the target after a full load */
	char	   *pg_settings;	/* "name=value, ..." or NULL */
	char	   *mysql_settings;
	bool		enabled;
	int32		lock_key;		/* key of its "loading" advisory lock */
} EtlPullTable;

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
} EtlPullSource;

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

/* in option.c */
extern char *EtlPullCheckTableOption(const char *key, const char *value);
extern EtlPullStrategy EtlPullParseStrategy(const char *value);
extern const char *EtlPullStrategyName(EtlPullStrategy strategy);
extern List *EtlPullParseColumnTypes(const char *value);

/* in connection.c */
typedef struct EtlPullConnection EtlPullConnection;

extern EtlPullConnection *EtlPullConnect(ForeignServer *server, Oid userid);
extern void EtlPullDisconnect(EtlPullConnection *conn);
extern void EtlPullExec(EtlPullConnection *conn, const char *sql);
extern void EtlPullStartSnapshot(EtlPullConnection *conn);
extern char *EtlPullQuoteLiteral(EtlPullConnection *conn, const char *value);
extern char *EtlPullQuoteIdent(const char *ident);
extern char *EtlPullPrintable(const char *text, size_t maxlen);
extern void EtlPullQueryStart(EtlPullConnection *conn, const char *sql,
							  int nfields);
extern bool EtlPullTryQueryStart(EtlPullConnection *conn, const char *sql,
								 int nfields, char **error);
extern bool EtlPullTryExec(EtlPullConnection *conn, const char *sql, char **error);
extern int	EtlPullQueryFieldCount(EtlPullConnection *conn);
extern bool EtlPullFetch(EtlPullConnection *conn, char ***values,
						 unsigned long **lengths);
extern void EtlPullQueryEnd(EtlPullConnection *conn);
extern const char *EtlPullServerName(EtlPullConnection *conn);
extern const char *EtlPullDefaultDb(EtlPullConnection *conn);
extern bool EtlPullIsMariaDB(EtlPullConnection *conn);

/* in source.c */
extern EtlPullSource *EtlPullDescribeSource(EtlPullConnection *conn,
											const char *db, const char *table);
extern char *EtlPullSourceSelect(EtlPullSource *source, const char *where);
extern char *EtlPullTargetTypeName(EtlPullSourceColumn *col);
extern List *EtlPullSourceKey(EtlPullSource *source);
extern EtlPullSourceColumn *EtlPullIntegerKey(EtlPullSource *source);
extern void EtlPullCheckTypeOverride(EtlPullSource *source,
									 EtlPullSourceColumn *col,
									 const char *type_name);

/* in convert.c */
typedef struct EtlPullConverter EtlPullConverter;

extern const char *EtlPullCheckUtf8(EtlPullInvalidUtf8 policy, const char *s,
									unsigned long *len);

extern EtlPullConverter *EtlPullMakeConverters(EtlPullTable *table,
											   EtlPullSource *source,
											   TupleDesc tupdesc,
											   AttrNumber *attnums);
extern void EtlPullConvertRow(EtlPullConverter *conv, char **values,
							  unsigned long *lengths,
							  Datum *datums, bool *nulls);
extern bool EtlPullConvertersTrusted(EtlPullConverter *conv);
struct EtlPullReject;
extern bool EtlPullConvertRowOrReject(EtlPullConverter *conv, char **values,
									  unsigned long *lengths, Datum *datums,
									  bool *nulls, struct EtlPullReject *reject);
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

/* in copy.c */
typedef void (*EtlPullRowCallback) (void *arg, unsigned long *lengths);

extern uint64 EtlPullCopyRows(EtlPullConnection *conn, EtlPullTable *table,
							  EtlPullSource *source, Relation rel,
							  AttrNumber *attnums, EtlPullRowCallback on_row,
							  void *on_row_arg);

/* in load.c */
extern void EtlPullReportWorkerProgress(int64 rows, bool start);
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
} EtlPullRunResult;

extern void EtlPullLoadTable(EtlPullTable *table, bool force_full,
							 EtlPullRunResult *result);

/* A row rejected by on_error = reject */
typedef struct EtlPullReject
{
	char	   *row_key;		/* "col=value, ..." of the primary key */
	char	   *column;			/* MySQL column that failed */
	char	   *reason;			/* the error message */
	char	   *raw_text;		/* the value as MySQL sent it, if text */
	bytea	   *raw_bytes;		/* or as bytes */
} EtlPullReject;

/* The caller's identity, saved while writing etl_pull's own tables */
typedef struct EtlPullUserState
{
	Oid			userid;
	int			sec_context;
	int			nestlevel;		/* of the pinned search_path */
} EtlPullUserState;

/* in catalog.c */
extern EtlPullTable *EtlPullReadTable(const char *name);
extern void EtlPullResolveTarget(const char *name, const char *target,
								 char **schema, char **table);
extern void EtlPullCheckTargetSchema(const char *schema);
extern void EtlPullCheckTargetRelation(Oid relid, const char *qname);
extern int	EtlPullPinSearchPath(void);
extern Oid	EtlPullExtensionOwner(void);
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

/* in session.c */
extern bool EtlPullSettingsListValid(const char *list, bool pg, bool check_rights,
									 char **bad, const char **why);
extern void EtlPullCheckSettingsList(const char *what, const char *list, bool pg);
extern int	EtlPullApplyPgSettings(EtlPullTable *table);
extern void EtlPullApplyMysqlSettings(EtlPullConnection *conn, EtlPullTable *table);

#endif							/* ETL_PULL_H */
