/*-------------------------------------------------------------------------
 *
 * load.h
 *		  What the load folder offers the others (one load of a table,
 *		  converters, sinks, watermarks), and what the load orchestrator
 *		  (load.c) and the load strategies (strategy_*.c) share: the state
 *		  of a running load, the strategy interface, and the row pipeline
 *		  from MySQL into a sink (rows.c).
 *
 * A strategy is one file exporting one const EtlPullStrategyRoutine, listed
 * in load.c's strategies[] table.  The orchestrator finds the target,
 * matches the columns, picks the strategy (asking each whether it can
 * load the target), checks the privileges the routine names, then calls
 * its load function; it keeps the watermark and analyzes afterwards.
 *
 * Adding a strategy: its file, its entry in strategies[], and its name
 * among the choices of setting "strategy" (settinglist.h, with its
 * EtlPullStrategy member, and the column's CHECK in the next upgrade).
 *
 * IDENTIFICATION
 *		  src/load/load.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef ETL_PULL_LOAD_H
#define ETL_PULL_LOAD_H

#include "nodes/parsenodes.h"
#include "utils/rel.h"

#include "remote/remote.h"
#include "load/parallel.h"
#include "load/progress.h"

/*
 * What the load folder offers the others: converting MySQL values
 * (convert.c), writing rows (sink.c, merge.c, copy_feed.c), one load of a
 * table (load.c) and watermarks (incremental.c); then, for the
 * orchestrator and the strategies, a running load's state.
 */

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
extern void EtlPullConvertColumns(EtlPullConverter *conv, char **values,
								  unsigned long *lengths, Datum *datums,
								  bool *nulls, const bool *only);
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
extern void EtlPullSinkFlush(EtlPullSink *sink);
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
extern void EtlPullMergerNextCommand(EtlPullMerger *m);
extern bool EtlPullMergerDelete(EtlPullMerger *m, struct TupleTableSlot *slot);
extern void EtlPullMergerOrdered(EtlPullMerger *m, int64 *deleted);
extern void EtlPullMergerKeepGap(EtlPullMerger *m);
extern void EtlPullMergerFinishWalk(EtlPullMerger *m);
extern void EtlPullMergerCounts(EtlPullMerger *m, int64 *inserted,
								int64 *updated);
extern EtlPullMerger *EtlPullSinkMerger(EtlPullSink *sink);	/* in sink.c */
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
 * at "position", NULL if unknown): the load starts none of its own.  With
 * "held" the group holds the table against its writers since "held_since"
 * (setting source_lock, held.c): the load calls "read_done" when its read
 * is over.
 */
typedef struct EtlPullLentConnection
{
	EtlPullConnection *conn;
	bool		in_snapshot;
	const char *position;
	bool		held;
	TimestampTz held_since;
	void		(*read_done) (void);
} EtlPullLentConnection;

/* in load.c */
extern void EtlPullLoadTable(EtlPullTable *table, bool force_full,
							 EtlPullRunResult *result,
							 EtlPullLentConnection *lent);
extern ForeignServer *EtlPullUsableServer(Oid serverid);


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

/*
 * State of a running load.  The orchestrator holds the target in
 * ExclusiveLock for the whole load; a strategy opens the target itself
 * (table_open(target_oid, NoLock)) and closes what it opens.
 *
 * Two roles take part: the caller, whose rights are checked and whose user
 * mapping connects, and the target's owner, as whom (in a
 * security-restricted operation) the load runs once the target is locked,
 * so that the target's own code (triggers, defaults, constraints, domains,
 * index expressions, rules) never runs with more rights than its owner
 * has.  Code of the strategies that checks a right names load->caller,
 * never GetUserId().
 */
typedef struct EtlPullLoad
{
	EtlPullTable *table;
	Oid			caller;			/* the calling role */
	Oid			owner;			/* the target's owner: the load runs as it */
	EtlPullUserState as_owner;	/* the caller's state, while running as owner */
	bool		created;		/* this load created the target */
	EtlPullConnection *conn;	/* NULL once the read is done */
	bool		conn_lent;		/* conn is load_all's: never disconnected */
	EtlPullLentConnection *lent;	/* or NULL */
	EtlPullSource *source;
	Oid			target_oid;
	char	   *target_qname;	/* quoted schema.table */
	AttrNumber *attnums;		/* target attribute of each source column */
	EtlPullRunResult *result;	/* filled in as the load goes */
	EtlPullProgress progress;
	List	   *indexes;		/* a created target's secondary indexes to
								 * build after the rows (EtlPullSourceIndex) */

	/* incremental runs: set by the orchestrator from the watermark */
	int		   *incremental_cols;	/* source index of each incremental column */
	const char *where;			/* the rows past the watermark */
	List	   *reload_bounds;	/* append-only: the range pulled again */

	/* skip_unchanged: the source's signature read before any row, or NULL */
	struct EtlPullSignature *signature;

	/* a full load of a MyISAM table read in key ranges (settle.c) */
	bool		settles;		/* made exact after the read */
	bool		in_place;		/* stream: merged into the target itself */
	int64		in_place_written;	/* rows it inserted, updated, deleted */
	EtlPullStamp read_from;		/* the source's UPDATE_TIME before the read */

	/* setting full_compare_every (cadence.c): only the new rows read */
	bool		tail;
	int64		edits_found;	/* rows a diff run found edited or gone (not
								 * missing), -1 when it cannot tell */

	/* setting source_lock (held.c): the source held for the whole read */
	bool		held;
	EtlPullConnection *hold_conn;	/* the lock's own connection, or NULL */
	TimestampTz held_since;		/* 0 once released */

	/* the swap's own time (its index rebuild), for the phases' DEBUG1 line */
	double		swap_seconds;
} EtlPullLoad;

/*
 * A load strategy.  "unsuitable" says why it cannot load this target, or
 * returns NULL when it can (a NULL function: it loads any target; a NULL
 * "target" is one the load would create, a plain table: etl_pull.plan());
 * "privileges" are the ones the caller needs on the target; "load" moves
 * every row of the source into the target, in the caller's transaction.
 */
typedef struct EtlPullStrategyRoutine
{
	const char *name;			/* etl_pull.tables.strategy, etl_pull.runs */
	AclMode		privileges;
	const char *(*unsuitable) (EtlPullLoad *load, Relation target);
	void		(*load) (EtlPullLoad *load);
} EtlPullStrategyRoutine;

/* in load/strategy_swap.c */
extern const EtlPullStrategyRoutine EtlPullStreamStrategy;
extern const EtlPullStrategyRoutine EtlPullParallelStrategy;
extern const char *EtlPullStreamInPlace(EtlPullLoad *load, Relation rel);

/* in load/strategy_copy.c */
extern const EtlPullStrategyRoutine EtlPullCopyStrategy;

/* in load/strategy_standard.c */
extern const EtlPullStrategyRoutine EtlPullStandardStrategy;

/* in load/strategy_incremental.c: the runs that pull from a watermark */
extern const EtlPullStrategyRoutine EtlPullIncrementalStrategy;
extern const char *EtlPullIncrementalPath(EtlPullLoad *load, Relation rel);
extern const char *EtlPullIncrementalUnsuitable(EtlPullTable *table,
												EtlPullSource *source);

/* in load/unchanged.c: setting skip_unchanged */
typedef struct EtlPullSignature EtlPullSignature;

extern bool EtlPullSkipIfUnchanged(EtlPullLoad *load, bool force_full);
extern void EtlPullRememberSignature(EtlPullLoad *load);
extern bool EtlPullSignatureStamp(EtlPullLoad *load, EtlPullStamp *stamp);
extern char **EtlPullSignatureSizes(EtlPullLoad *load);
extern char *EtlPullUnchangedVerdict(EtlPullConnection *conn, EtlPullTable *table,
									 Oid target_oid);

/* in strategy_diff.c: the runs that re-pull the ranges whose hashes differ */
extern const EtlPullStrategyRoutine EtlPullDiffStrategy;
extern int64 EtlPullDiffRefresh(EtlPullLoad *load, const char *label,
								bool count_rows, int64 *merged,
								int64 *deleted);

/* in load/rowdiff.c: a table's rows compared with the source's, in C */
extern const char *EtlPullRowDiffUnsuitable(EtlPullLoad *load, Relation rel,
											Oid *indexoid);
extern int64 EtlPullRowDiff(EtlPullLoad *load, Relation rel, Oid indexoid,
							const char *label, bool count_rows,
							int64 *merged, int64 *deleted);

/* in load/cadence.c: setting full_compare_every, append-only logs */
extern bool EtlPullCadenceTailDue(EtlPullTable *table, const char *unsuitable,
								  char **why);
extern char *EtlPullCadencePlan(EtlPullTable *table, const char *unsuitable);
extern void EtlPullCadenceRemember(EtlPullLoad *load, bool tail,
								   bool compared);
extern bool EtlPullDiffTail(EtlPullLoad *load, const char *label,
							bool count_rows, int64 *merged, int64 *deleted);

/* in load/held.c: setting source_lock */
extern bool EtlPullHoldWanted(EtlPullTable *table, EtlPullSource *source);
extern void EtlPullHoldReadsWhole(EtlPullSource *source);
extern const char *EtlPullHoldPlan(EtlPullTable *table, EtlPullSource *source);
extern void EtlPullHoldSource(EtlPullLoad *load);
extern void EtlPullReleaseSource(EtlPullLoad *load);

/* in load/settle.c: a full load of a MyISAM table read in key ranges */
extern const char *EtlPullSettlePlan(EtlPullSource *source);
extern bool EtlPullSettleCheck(EtlPullLoad *load, Relation rel);
extern void EtlPullSettleStart(EtlPullLoad *load);
extern void EtlPullSettle(EtlPullLoad *load);

/* in load/check_loaded.c: setting verify, before a full load commits */
extern void EtlPullCheckLoaded(EtlPullLoad *load, Relation rows);

/*
 * What a role lacks for a load, of the rights checked before any row moves
 * (EtlPullServerAccess, EtlPullSchemaAccess): the first missing, or
 * ETL_LACKS_NOTHING.  A load refuses it; etl_pull.plan() reports it.
 */
typedef enum EtlPullAccessLack
{
	ETL_LACKS_NOTHING,
	ETL_LACKS_SERVER_USAGE,		/* USAGE on the table's server */
	ETL_LACKS_USER_MAPPING,		/* a user mapping for that server */
	ETL_LACKS_SCHEMA_USAGE,		/* USAGE on the target's schema */
	ETL_LACKS_SCHEMA_CREATE		/* CREATE there, for a target to create */
} EtlPullAccessLack;

/* in load.c: a strategy is done with the load's connection */
extern void EtlPullLoadDoneReading(EtlPullLoad *load);
extern const EtlPullStrategyRoutine *EtlPullChooseStrategy(EtlPullLoad *load,
														   Relation rel);
extern EtlPullAccessLack EtlPullServerAccess(ForeignServer *server, Oid roleid);

/* in load/target.c */
extern Oid	EtlPullTargetSchema(EtlPullLoad *load);
extern EtlPullAccessLack EtlPullSchemaAccess(Oid nspid, Oid roleid,
											 bool create);
extern Oid	EtlPullLookupTarget(EtlPullLoad *load);
extern void EtlPullCheckColumnTypes(EtlPullLoad *load);
extern void EtlPullCheckTypeOwner(Oid typid, Oid runner, const char *column);
extern char *EtlPullTargetDDL(EtlPullLoad *load);
extern Oid	EtlPullCreateTarget(EtlPullLoad *load);
extern void EtlPullCreateIndexes(EtlPullLoad *load);
extern int	EtlPullIndexBuildBegin(void);
extern void EtlPullIndexBuildEnd(int nestlevel);
extern void EtlPullMatchColumns(EtlPullLoad *load, Relation rel,
								const char *qname, AttrNumber **attnums);
extern List *EtlPullLackedTargetPrivileges(Oid relid, Oid roleid, AclMode mode);
extern void EtlPullCheckTargetPrivileges(EtlPullLoad *load, AclMode mode);
extern bool EtlPullRowSecurityBarsWriter(Relation rel, Oid caller);
extern Oid	EtlPullTargetWriter(EtlPullLoad *load, Relation rel);
extern void EtlPullDeleteTargetRows(EtlPullLoad *load);
extern Relation EtlPullOpenStage(EtlPullLoad *load, const char *stage_name,
								 const char *stage_qname, AttrNumber **attnums);
extern void EtlPullDropStage(const char *stage_qname);
extern void EtlPullLockTargetExclusive(EtlPullLoad *load, const char *purpose,
									   const char *outcome);
extern const char *EtlPullColumnTargetType(EtlPullLoad *load,
										   EtlPullSourceColumn *col);

/* in schema.c: on_schema_change, before any row moves */
typedef struct EtlPullSchemaState EtlPullSchemaState;

extern EtlPullSchemaState *EtlPullSchemaCheck(EtlPullLoad *load, bool *full);
extern void EtlPullSchemaRemember(EtlPullLoad *load, EtlPullSchemaState *state);

/* A change etl_pull.plan() reports: what a load would do about it */
typedef struct EtlPullSchemaDiff
{
	const char *action;			/* "alter" (evolve does it, error fails),
								 * "none" (the target holds it), "refused" */
	const char *text;
	const char *hint;			/* NULL, or what to do */
} EtlPullSchemaDiff;

extern List *EtlPullSchemaPreview(EtlPullLoad *load, Relation rel, char **ddl);

/* in load/rows.c */
extern bool EtlPullConvertOrReject(EtlPullLoad *load, EtlPullConverter *conv,
								   char **values, unsigned long *lengths,
								   Datum *datums, bool *nulls);
extern bool EtlPullRowIntoSink(EtlPullLoad *load, EtlPullConverter *conv,
							   EtlPullSink *sink, char **values,
							   unsigned long *lengths);
extern void EtlPullRowsIntoSink(EtlPullLoad *load, EtlPullParallel *par,
								Relation target, AttrNumber *attnums,
								EtlPullSink *sink);
extern void EtlPullStreamIntoSink(EtlPullLoad *load, Relation target,
								  AttrNumber *attnums, EtlPullSink *sink,
								  const char *where, bool by_key);

/* Count a row fetched from MySQL */
static inline void
EtlPullLoadRowDone(EtlPullLoad *load, unsigned long *lengths)
{
	EtlPullCountFetchedRow(&load->progress, lengths, load->source->ncolumns);
}

#endif							/* ETL_PULL_LOAD_H */
