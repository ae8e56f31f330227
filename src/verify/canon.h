/*-------------------------------------------------------------------------
 *
 * canon.h
 *		  The canonical text of a row (canon.c), for verify.c, which compares
 *		  its hashes by range: each column's canonical form, MySQL's SQL of
 *		  a row's text, PostgreSQL's rendering of a target row into the same
 *		  text, and its CRC-32.  Private to src/verify/: other folders use
 *		  verify.h.
 *
 * IDENTIFICATION
 *		  src/verify/canon.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef ETL_PULL_CANON_H
#define ETL_PULL_CANON_H

#include "access/tupdesc.h"
#include "fmgr.h"
#include "lib/stringinfo.h"

#include "etl_pull.h"
#include "remote/remote.h"

/* The canonical form of a column, by its source kind */
typedef enum EtlPullCanonKind
{
	CK_NUMBER,
	CK_FLOAT,
	CK_BIT,
	CK_TEXT,
	CK_HEX,
	CK_DATE,
	CK_DATETIME,
	CK_TIME,
	CK_JSON,					/* a jsonb document in its normal form */
	CK_PRESENCE					/* NULL or not: a column not compared */
} EtlPullCanonKind;

typedef struct EtlPullCanonColumn
{
	EtlPullSourceColumn *scol;
	EtlPullCanonKind kind;
	AttrNumber	attnum;			/* in the target */
	Oid			typid;			/* the target's (base) type */
	FmgrInfo	out;			/* its output function, for the others */
} EtlPullCanonColumn;

extern void EtlPullCanonColumnInit(EtlPullCanonColumn *cc,
								   EtlPullConnection *conn,
								   EtlPullSourceColumn *scol, TupleDesc desc,
								   AttrNumber attnum);
extern char *EtlPullCanonSourceText(EtlPullConnection *conn,
									EtlPullTable *table,
									EtlPullCanonColumn *cols, int *which,
									int n);
extern void EtlPullCanonTargetText(StringInfo buf, EtlPullCanonColumn *cols,
								   int *which, int n, Datum *values,
								   bool *nulls);
extern char *EtlPullCanonLabel(EtlPullCanonColumn *cols, int *which, int ncols,
							   const char *s, size_t len);
extern uint32 EtlPullCanonCrc32(const char *s, size_t len);

#endif							/* ETL_PULL_CANON_H */
