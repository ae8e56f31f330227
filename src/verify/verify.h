/*-------------------------------------------------------------------------
 *
 * verify.h
 *		  Comparing a target with its MySQL source (verify.c): range hashes
 *		  of a canonical text of every row (canon.c), on both sides,
 *		  bisected to rows; the refresh of the ranges that differ
 *		  (load/strategy_diff.c), behind etl_pull.repair_table and
 *		  extraction = 'diff'; the check of a full load before it commits
 *		  (load/check_loaded.c).
 *
 * IDENTIFICATION
 *		  src/verify/verify.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef ETL_PULL_VERIFY_H
#define ETL_PULL_VERIFY_H

#include "utils/rel.h"

#include "remote/remote.h"

typedef struct EtlPullVerify EtlPullVerify;

/* What a comparison found */
typedef struct EtlPullVerifyResult
{
	int64		source_rows;
	int64		target_rows;
	int			ranges;			/* key ranges compared */
	int			differing_ranges;
	int64		missing_rows;	/* at the source, not in the target */
	int64		extra_rows;		/* in the target, not at the source */
	int64		different_rows; /* same key, another value */
	List	   *missing_keys;	/* the first max_keys of each, "col=value, ..." */
	List	   *extra_keys;
	List	   *different_keys;
	bool		located;		/* rows have a key (else: a multiset) */
	List	   *uncompared;		/* columns compared as NULL or not only */
	List	   *uncompared_why; /* and why, for each */
} EtlPullVerifyResult;

/* ranges of about this many rows: one hash per range on each side */
#define ETL_VERIFY_ROWS_PER_RANGE 64

/* in canon.c */
extern const char *EtlPullVerifyGap(EtlPullConnection *conn,
									EtlPullSourceColumn *col, Oid typid);

/* in verify.c */
extern const char *EtlPullVerifyUnsuitable(Relation rel);
extern int	EtlPullVerifyRangeCount(EtlPullSource *source, Relation rel,
									int rows_per_range);
extern EtlPullVerify *EtlPullVerifyBegin(EtlPullConnection *conn,
										 EtlPullTable *table,
										 EtlPullSource *source,
										 Relation rel, AttrNumber *attnums,
										 int rows_per_range);
extern void EtlPullVerifyRanges(EtlPullVerify *v, bool count_only,
								EtlPullVerifyResult *res);
extern void EtlPullVerifyRows(EtlPullVerify *v, int max_keys,
							  EtlPullVerifyResult *res);
extern char *EtlPullVerifySourceFilter(EtlPullVerify *v);
extern bool EtlPullVerifyIntegerKey(EtlPullVerify *v);
extern char *EtlPullVerifyChangedRows(EtlPullVerify *v, EtlPullVerifyResult *res,
									  int max_rows, bool *too_many);
extern int64 EtlPullVerifyDeleteExtra(EtlPullVerify *v, const char *target_qname);
extern int64 EtlPullVerifyDeleteGone(EtlPullVerify *v, const char *target_qname,
									 const char *stage_qname, List *pk);
extern void EtlPullVerifyEnd(EtlPullVerify *v);
extern char *EtlPullVerifySummary(EtlPullVerifyResult *res);
extern bool EtlPullVerifyEqual(EtlPullVerifyResult *res);
extern const char *EtlPullVerifyStatus(EtlPullVerifyResult *res);
extern char *EtlPullVerifyUncompared(List *columns, List *why);


#endif							/* ETL_PULL_VERIFY_H */
