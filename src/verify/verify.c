/*-------------------------------------------------------------------------
 *
 * verify.c
 *		  Compare a target with its MySQL source: range hashes of a
 *		  canonical text of every row (canon.c), computed on each side, and
 *		  the ranges that differ bisected down to rows; the scans of the
 *		  target, and the deletes of a diff run.
 *
 * Design.  Every row has a canonical text that both servers can produce
 * exactly, MySQL in SQL and PostgreSQL in C (canon.c says how), and a hash,
 * the CRC-32 of that text; a range's hash is the sum of its rows' hashes
 * modulo 2^64 (order-free, and duplicates do not cancel as they would with
 * XOR).  Ranges cut the key: a single integer key into intervals of equal
 * width between the source's MIN and MAX; any other key into buckets by
 * CRC32 of its canonical text, which MySQL's CRC32() computes on the same
 * bytes.  A table without a key is one range, a multiset: its rows cannot
 * be located.  The number of ranges follows the table's size, about
 * rows_per_range rows each, so that a verify costs one aggregate query at
 * MySQL and one heap scan here, at the same time; only ranges that differ
 * are read again, row by row (key and hash), and compared by key.  With an
 * integer key, the target's rows of those ranges are read by an index on
 * the key when at most half of them differ (key_index: a plain btree on a
 * NOT NULL key), not by a second scan of the heap.
 *
 * Nothing from MySQL becomes SQL: ranges and counts are parsed as numbers
 * and checked; keys are only compared and reported, but for the integer
 * keys of a diff run's changed rows, parsed as numbers and printed anew.
 *
 * IDENTIFICATION
 *		  src/verify/verify.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/skey.h"
#include "access/stratnum.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/pg_am.h"
#include "catalog/pg_class.h"
#include "catalog/pg_index.h"
#include "catalog/pg_type.h"
#include "commands/defrem.h"
#include "common/cryptohash.h"
#include "common/int.h"
#include "executor/spi.h"
#include "executor/tuptable.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/hsearch.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "etl_pull.h"
#include "remote/remote.h"
#include "verify/verify.h"
#include "verify/canon.h"

struct EtlPullVerify
{
	EtlPullConnection *conn;
	EtlPullTable *table;
	EtlPullSource *source;
	Relation	rel;
	int			ncols;
	EtlPullCanonColumn *cols;
	List	   *uncompared;		/* the CK_PRESENCE columns' target names */
	List	   *uncompared_why; /* and why each is not compared */
	int			nkey;
	int		   *keycols;		/* index in cols of each key column */
	bool		int_key;		/* ranges are intervals of one integer key */
	int64		lo;				/* first key of range 0 */
	int64		width;			/* keys per range */
	int			nranges;
	char	   *src_from;		/* `db`.`table` */
	char	   *src_row;		/* MySQL: the canonical row text */
	char	   *src_key;		/* MySQL: the canonical key text */
	char	   *src_range;		/* MySQL: the range number of a row */
	/* per range, each side */
	int64	   *scount;
	uint64	   *ssum;
	int64	   *tcount;
	uint64	   *tsum;
	bool	   *differs;
	/* a diff run's rows to pull and to delete (EtlPullVerifyChangedRows) */
	bool		collect;
	int64	   *pull_keys;
	int			npull;
	int			maxpull;
	ItemPointerData *extra_tids;
	int			nextra;
	int			maxextra;
	pg_cryptohash_ctx *md5;
	MemoryContext rowcxt;
};

/* ---- setup ---- */

/* A row count in MySQL's reply: a malformed reply unless an integer >= 0 */
static int64
reply_count(EtlPullVerify *v, const char *s)
{
	int64		n = EtlPullReplyInt64(v->conn, s, "A row count");

	if (n < 0)
		EtlPullBadReply(v->conn, psprintf("A row count is " INT64_FORMAT ".", n));
	return n;
}

/* MIN and MAX of the integer key at the source; false if it has no rows */
static bool
source_key_bounds(EtlPullVerify *v, int64 *lo, int64 *hi)
{
	char	   *k = EtlPullQuoteIdent(v->cols[v->keycols[0]].scol->name);
	char	  **row;

	row = EtlPullQueryRow(v->conn, psprintf("SELECT MIN(%s), MAX(%s) FROM %s", k, k,
											v->src_from), 2, false);
	if (row[0] == NULL && row[1] == NULL)
		return false;
	*lo = EtlPullReplyInt64(v->conn, row[0], psprintf("MIN(%s)", k));
	*hi = EtlPullReplyInt64(v->conn, row[1], psprintf("MAX(%s)", k));
	if (*lo > *hi)
		EtlPullBadReply(v->conn, psprintf("MIN(%s) is greater than MAX(%s).", k, k));
	return true;
}

/*
 * How many ranges a comparison of "rel" with "source" starts from: about
 * rows_per_range rows each, by the larger side's estimate (an integer
 * key's span may cut that down, see EtlPullVerifyBegin).
 */
int
EtlPullVerifyRangeCount(EtlPullSource *source, Relation rel, int rows_per_range)
{
	int64		rows = Max(source->estimated_rows, (int64) rel->rd_rel->reltuples);

	return (int) Min(Max(rows / Max(rows_per_range, 1), 1), 1 << 20);
}

/*
 * Why target "rel" cannot be compared with its source, or NULL when it can
 * (a plain table).  The reason says what the target is instead, completing
 * "... compares a plain table only, and " (etl_pull.plan() and the diff
 * strategy word it so); EtlPullVerifyBegin refuses such a target.
 *
 * Only a plain table can be compared: its rows are read through its table
 * access method, by its own attribute numbers, and a diff run deletes them
 * by TID, which a partitioned table's partitions share; a foreign table
 * has no such access.
 */
const char *
EtlPullVerifyUnsuitable(Relation rel)
{
	switch (rel->rd_rel->relkind)
	{
		case RELKIND_RELATION:
			return NULL;
		case RELKIND_PARTITIONED_TABLE:
			return "the target is a partitioned table";
		case RELKIND_FOREIGN_TABLE:
			return "the target is a foreign table";
		default:
			return "the target is not one";
	}
}

/*
 * Prepare the comparison of target "rel" (or a new heap of its row type)
 * with the source, reading under the connection's snapshot.  "attnums"
 * maps each source column to its target attribute.  The ranges are sized
 * for about rows_per_range rows each.
 *
 * A target that cannot be compared (EtlPullVerifyUnsuitable) is refused
 * here, for every caller.  No policy filters the access to its rows
 * either: the callers refuse a table whose row-level security applies to
 * the caller (EtlPullRefuseRowSecurity: verify_table before it connects,
 * a load for a diff run or the setting verify), since a load gets here as
 * the target's owner.
 */
EtlPullVerify *
EtlPullVerifyBegin(EtlPullConnection *conn, EtlPullTable *table,
				   EtlPullSource *source, Relation rel, AttrNumber *attnums,
				   int rows_per_range)
{
	EtlPullVerify *v;
	TupleDesc	desc = RelationGetDescr(rel);
	List	   *key = EtlPullSourceKey(source);
	ListCell   *lc;
	int			i;

	if (EtlPullVerifyUnsuitable(rel) != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("cannot compare \"%s\" with MySQL table \"%s.%s\"",
						RelationGetRelationName(rel), source->db, source->table),
				 errdetail_relkind_not_supported(rel->rd_rel->relkind),
				 errhint("verify_table, repair_table, extraction \"diff\" and the setting \"verify\" compare plain tables only.")));

	v = palloc0(sizeof(EtlPullVerify));

	v->conn = conn;
	v->table = table;
	v->source = source;
	v->rel = rel;
	v->ncols = source->ncolumns;
	v->cols = palloc0(sizeof(EtlPullCanonColumn) * v->ncols);
	v->src_from = psprintf("%s.%s", EtlPullQuoteIdent(source->db),
						   EtlPullQuoteIdent(source->table));
	for (i = 0; i < v->ncols; i++)
	{
		EtlPullCanonColumn *cc = &v->cols[i];

		EtlPullCanonColumnInit(cc, conn, &source->columns[i], desc,
							   attnums[i]);
		if (cc->kind == CK_PRESENCE)
		{
			v->uncompared = lappend(v->uncompared, cc->scol->target_name);
			v->uncompared_why = lappend(v->uncompared_why,
										(char *) EtlPullVerifyGap(conn, cc->scol, cc->typid));
		}
	}
	v->nkey = list_length(key);
	v->keycols = palloc(sizeof(int) * Max(v->nkey, 1));
	i = 0;
	foreach(lc, key)
		v->keycols[i++] = (EtlPullSourceColumn *) lfirst(lc) - source->columns;

	v->src_row = EtlPullCanonSourceText(conn, table, v->cols, NULL,
										v->ncols);
	if (v->nkey > 0)
		v->src_key = EtlPullCanonSourceText(conn, table, v->cols, v->keycols,
											v->nkey);

	v->nranges = EtlPullVerifyRangeCount(source, rel, rows_per_range);
	if (v->nkey == 0)
		v->nranges = 1;

	/*
	 * Intervals of an integer key need the target's key column to hold
	 * integers too (target_row_range reads it as one): a target that declares
	 * it numeric, text or anything else is bucketed by the key's text.
	 */
	v->int_key = (v->nkey == 1 && EtlPullIntegerKey(source) != NULL);
	if (v->int_key)
	{
		Oid			keytype = v->cols[v->keycols[0]].typid;
		EtlPullSourceColumn *scol = v->cols[v->keycols[0]].scol;

		/* the interval arithmetic is signed: a BIGINT UNSIGNED key is bucketed */
		v->int_key = (keytype == INT2OID || keytype == INT4OID || keytype == INT8OID) &&
			!(scol->int_bytes == 8 && scol->is_unsigned);
	}
	if (v->int_key)
	{
		int64		lo = 0,
					hi = 0,
					span;

		if (!source_key_bounds(v, &lo, &hi))
			v->nranges = 1;
		if (pg_sub_s64_overflow(hi, lo, &span) || span == PG_INT64_MAX)
			v->int_key = false; /* spans more than 2^63: buckets by CRC32 */
		else
		{
			v->lo = lo;
			v->nranges = (int) Min((int64) v->nranges, span + 1);
			v->width = (span + 1 + v->nranges - 1) / v->nranges;
			v->nranges = (int) ((span + 1 + v->width - 1) / v->width);
			/*
			 * keys outside MIN and MAX (a table without a snapshot may get
			 * rows between the two statements) go to the edges, as the
			 * target's do (target_row_range)
			 */
			v->src_range = psprintf("LEAST(GREATEST((CAST(%s AS SIGNED) - (" INT64_FORMAT ")) DIV " INT64_FORMAT ", 0), %d)",
									EtlPullQuoteIdent(v->cols[v->keycols[0]].scol->name),
									lo, v->width, v->nranges - 1);
		}
	}
	if (!v->int_key)
		v->src_range = v->nkey > 0 ?
			psprintf("CRC32(%s) %% %d", v->src_key, v->nranges) : "0";

	v->scount = palloc0(sizeof(int64) * v->nranges);
	v->ssum = palloc0(sizeof(uint64) * v->nranges);
	v->tcount = palloc0(sizeof(int64) * v->nranges);
	v->tsum = palloc0(sizeof(uint64) * v->nranges);
	v->differs = palloc0(sizeof(bool) * v->nranges);
	v->md5 = pg_cryptohash_create(PG_MD5);
	if (v->md5 == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("out of memory")));
	v->rowcxt = AllocSetContextCreate(CurrentMemoryContext, "etl_pull verify rows",
									  ALLOCSET_DEFAULT_SIZES);
	return v;
}

/* The range of a target row (its key's); rows outside the source's keys go to the edges */
static int
target_row_range(EtlPullVerify *v, Datum *values, bool *nulls, StringInfo keybuf)
{
	if (v->nkey == 0)
		return 0;
	if (v->int_key)
	{
		EtlPullCanonColumn *cc = &v->cols[v->keycols[0]];
		Datum		d = values[cc->attnum - 1];
		int64		k;
		int64		r;

		if (nulls[cc->attnum - 1])
			return 0;
		k = cc->typid == INT2OID ? DatumGetInt16(d) :
			cc->typid == INT4OID ? DatumGetInt32(d) : DatumGetInt64(d);
		if (k < v->lo)
			return 0;
		r = (int64) (((uint64) k - (uint64) v->lo) / (uint64) v->width);
		return (int) Min(r, (int64) v->nranges - 1);
	}
	return (int) (EtlPullCanonCrc32(keybuf->data, keybuf->len) %
				  (uint32) v->nranges);
}

/*
 * Scan the target's rows; for each, call "fn" with its range, key text,
 * hash and TID.  With "only_differing", rows of ranges that match are
 * skipped as soon as their key says so (an integer key is read alone), and
 * with an integer key that an index of the target finds, only the key
 * intervals of the ranges that differ are read, by that index; without
 * "need_hash" only the range and the TID are computed.
 */
typedef void (*TargetRowFn) (EtlPullVerify *v, void *arg, int range,
							 StringInfo key, uint64 hash, ItemPointer tid);

static bool few_differ(EtlPullVerify *v);
static int64 range_lo(EtlPullVerify *v, int i);
static int64 range_hi(EtlPullVerify *v, int i);
static void compare_ranges(EtlPullVerify *v, EtlPullVerifyResult *res);
static int	differing_intervals(EtlPullVerify *v, int64 **lo_p, int64 **hi_p);

typedef struct TargetScan
{
	bool		only_differing;
	bool		count_only;
	bool		need_hash;
	TargetRowFn fn;
	void	   *arg;
	StringInfoData key;			/* reused for every row */
	StringInfoData row;
} TargetScan;

/* target_row's work */
static void
target_row_body(EtlPullVerify *v, TargetScan *ts, TupleTableSlot *slot)
{
	int			range = 0;
	uint64		h = 0;

	if (ts->count_only)
	{
		ts->fn(v, ts->arg, 0, NULL, 0, &slot->tts_tid);
		return;
	}
	resetStringInfo(&ts->key);
	if (v->int_key)
	{
		bool		isnull;

		(void) slot_getattr(slot, v->cols[v->keycols[0]].attnum, &isnull);
		range = target_row_range(v, slot->tts_values, slot->tts_isnull, NULL);
	}
	else if (v->nkey > 0)
	{
		int			i;

		for (i = 0; i < v->nkey; i++)
		{
			bool		isnull;

			(void) slot_getattr(slot, v->cols[v->keycols[i]].attnum, &isnull);
		}
		EtlPullCanonTargetText(&ts->key, v->cols, v->keycols, v->nkey,
							   slot->tts_values, slot->tts_isnull);
		range = target_row_range(v, slot->tts_values, slot->tts_isnull, &ts->key);
	}
	if (ts->only_differing && !v->differs[range])
		return;
	if (ts->need_hash)
	{
		slot_getallattrs(slot);
		if (v->int_key)
			EtlPullCanonTargetText(&ts->key, v->cols, v->keycols, v->nkey,
								   slot->tts_values, slot->tts_isnull);
		resetStringInfo(&ts->row);
		EtlPullCanonTargetText(&ts->row, v->cols, NULL, v->ncols,
							   slot->tts_values, slot->tts_isnull);
		h = EtlPullCanonCrc32(ts->row.data, ts->row.len);
	}
	ts->fn(v, ts->arg, range, &ts->key, h, &slot->tts_tid);
}

/*
 * One row of the scan, in v->rowcxt, reset for each (the scan itself keeps
 * its memory in the caller's context: an index scan allocates there as it
 * goes).
 */
static void
target_row(EtlPullVerify *v, TargetScan *ts, TupleTableSlot *slot)
{
	MemoryContext oldcxt;

	CHECK_FOR_INTERRUPTS();
	MemoryContextReset(v->rowcxt);
	oldcxt = MemoryContextSwitchTo(v->rowcxt);
	target_row_body(v, ts, slot);
	MemoryContextSwitchTo(oldcxt);
}

/*
 * The target's index that finds rows by the integer key, or InvalidOid: a
 * valid btree whose first column is the key's, with no predicate or
 * expression, in the default operator family of the column's (integer)
 * type.  Only when the key column is NOT NULL: a NULL key counts in range
 * 0, and no interval of keys finds it.
 */
static Oid
key_index(EtlPullVerify *v)
{
	EtlPullCanonColumn *cc = &v->cols[v->keycols[0]];
	Oid			opclass = GetDefaultOpClass(cc->typid, BTREE_AM_OID);
	Oid			found = InvalidOid;
	List	   *indexes;
	ListCell   *lc;

	if ((cc->typid != INT2OID && cc->typid != INT4OID && cc->typid != INT8OID) ||
		!TupleDescAttr(RelationGetDescr(v->rel), cc->attnum - 1)->attnotnull ||
		!OidIsValid(opclass))
		return InvalidOid;
	indexes = RelationGetIndexList(v->rel);
	foreach(lc, indexes)
	{
		Relation	index = index_open(lfirst_oid(lc), AccessShareLock);
		Form_pg_index form = index->rd_index;

		if (form->indisvalid && form->indisready && form->indislive &&
			index->rd_rel->relam == BTREE_AM_OID &&
			form->indkey.values[0] == cc->attnum &&
			index->rd_opfamily[0] == get_opclass_family(opclass) &&
			heap_attisnull(index->rd_indextuple, Anum_pg_index_indpred, NULL) &&
			heap_attisnull(index->rd_indextuple, Anum_pg_index_indexprs, NULL))
			found = RelationGetRelid(index);
		index_close(index, AccessShareLock);
		if (OidIsValid(found))
			break;
	}
	list_free(indexes);
	return found;
}

/* Set scan key "sk" to "key <op> bound" for strategy "strategy" of the key's index */
static void
key_bound(EtlPullVerify *v, Relation index, ScanKey sk, StrategyNumber strategy,
		  int64 bound)
{
	Oid			typid = v->cols[v->keycols[0]].typid;
	Oid			op = get_opfamily_member(index->rd_opfamily[0], typid, INT8OID, strategy);

	if (!OidIsValid(op))
		elog(ERROR, "missing operator %d(%u,%u) in opfamily %u",
			 strategy, typid, INT8OID, index->rd_opfamily[0]);
	ScanKeyEntryInitialize(sk, 0, 1, strategy, INT8OID, InvalidOid,
						   get_opcode(op), Int64GetDatum(bound));
}

/*
 * Read the rows of the n key intervals [lo[i], hi[i]] by index "indexoid"
 * (the scan lives in the caller's context)
 */
static void
scan_key_intervals(EtlPullVerify *v, TargetScan *ts, Snapshot snap,
				   TupleTableSlot *slot, Oid indexoid, int64 *lo, int64 *hi, int n)
{
	Relation	index = index_open(indexoid, AccessShareLock);
	IndexScanDesc scan = index_beginscan(v->rel, index, snap, 2, 0);
	int			i;

	for (i = 0; i < n; i++)
	{
		ScanKeyData keys[2];

		/* the edges' bounds are PG_INT64_MIN and MAX: every key */
		key_bound(v, index, &keys[0], BTGreaterEqualStrategyNumber, lo[i]);
		key_bound(v, index, &keys[1], BTLessEqualStrategyNumber, hi[i]);
		index_rescan(scan, keys, 2, NULL, 0);
		while (index_getnext_slot(scan, ForwardScanDirection, slot))
			target_row(v, ts, slot);
	}
	index_endscan(scan);
	index_close(index, AccessShareLock);
}

static void
scan_target(EtlPullVerify *v, bool only_differing, bool count_only,
			bool need_hash, TargetRowFn fn, void *arg)
{
	TargetScan	ts;
	Snapshot	snap;
	TupleTableSlot *slot;
	Oid			indexoid = InvalidOid;
	int64	   *lo = NULL;
	int64	   *hi = NULL;
	int			n = 0;

	ts.only_differing = only_differing;
	ts.count_only = count_only;
	ts.need_hash = need_hash;
	ts.fn = fn;
	ts.arg = arg;
	initStringInfo(&ts.key);
	initStringInfo(&ts.row);
	if (only_differing && v->int_key && few_differ(v))
	{
		/* by index, as MySQL reads them */
		indexoid = key_index(v);
		if (OidIsValid(indexoid))
			n = differing_intervals(v, &lo, &hi);
	}

	CommandCounterIncrement();
	snap = RegisterSnapshot(GetLatestSnapshot());
	slot = table_slot_create(v->rel, NULL);
	if (OidIsValid(indexoid))
		scan_key_intervals(v, &ts, snap, slot, indexoid, lo, hi, n);
	else
	{
		TableScanDesc scan = table_beginscan(v->rel, snap, 0, NULL);

		while (table_scan_getnextslot(scan, ForwardScanDirection, slot))
			target_row(v, &ts, slot);
		table_endscan(scan);
	}
	MemoryContextReset(v->rowcxt);
	pfree(ts.key.data);
	pfree(ts.row.data);
	ExecDropSingleTupleTableSlot(slot);
	UnregisterSnapshot(snap);
}

static void
count_target_row(EtlPullVerify *v, void *arg, int range, StringInfo key,
				 uint64 hash, ItemPointer tid)
{
	v->tcount[range]++;
	v->tsum[range] += hash;
}

/*
 * Whether the source's statements must be of bounded duration: a table
 * that locks on read (MyISAM, Aria), with an integer key to cut them by
 */
static bool
bounded(EtlPullVerify *v)
{
	return v->int_key && EtlPullSourceLocksOnRead(v->source) &&
		EtlPullSourceStatementMs > 0;
}

/*
 * Read the reply of the source's aggregate over ranges first..last (its
 * statement started): each range's count and hash sum
 */
static void
read_source_ranges(EtlPullVerify *v, int first, int last)
{
	char	  **values;
	unsigned long *lengths;

	while (EtlPullFetch(v->conn, &values, &lengths))
	{
		int64		r = EtlPullReplyInt64(v->conn, values[0], "A range number");

		CHECK_FOR_INTERRUPTS();
		if (r < first || r > last || v->scount[r] != 0)
			EtlPullBadReply(v->conn, psprintf("Range " INT64_FORMAT " is not one of the %d asked for, or came twice.",
								  r, last - first + 1));
		v->scount[r] = reply_count(v, values[1]);
		v->ssum[r] = EtlPullReplyUint64(v->conn, values[2], "A hash sum");
	}
	EtlPullQueryEnd(v->conn);
}

/* The source's aggregate of the rows "where" selects, by range */
static char *
source_ranges_sql(EtlPullVerify *v, const char *where)
{
	return psprintf("SELECT %s AS r, COUNT(*),"
					" CAST(SUM(CRC32(%s))"
					" %% 18446744073709551616 AS CHAR)"
					" FROM %s%s%s GROUP BY r ORDER BY NULL",
					v->src_range, v->src_row, v->src_from,
					where ? " WHERE " : "", where ? where : "");
}

/*
 * The source's side of every range of an integer key, on a table that
 * locks on read (MyISAM, Aria): statements over runs of adjacent ranges,
 * by key interval, each sized after the one before to last about
 * etl_pull.source_statement_ms, so that none holds the application's
 * writes back for long (design.md, invariant 12).
 */
static void
source_ranges_bounded(EtlPullVerify *v)
{
	char	   *k = EtlPullQuoteIdent(v->cols[v->keycols[0]].scol->name);
	int			per = 16;
	int			first = 0;

	while (first < v->nranges)
	{
		int			last = (int) Min((int64) first + per - 1, (int64) v->nranges - 1);
		TimestampTz started = GetCurrentTimestamp();

		CHECK_FOR_INTERRUPTS();
		EtlPullQueryStart(v->conn,
						  source_ranges_sql(v, psprintf("%s BETWEEN " INT64_FORMAT " AND " INT64_FORMAT,
														k, range_lo(v, first),
														range_hi(v, last))),
						  3);
		read_source_ranges(v, first, last);
		per = (int) EtlPullNextStatementSize(per, EtlPullMsSince(started), 1, 1 << 20);
		first = last + 1;
	}
}

/*
 * Compare every range: one aggregate query at MySQL, one scan of the
 * target, at the same time (the query is sent before the scan and its
 * result read after it; a server that finishes first waits on its socket,
 * within net_write_timeout).  With count_only, the row counts of the whole
 * table only.
 */
void
EtlPullVerifyRanges(EtlPullVerify *v, bool count_only, EtlPullVerifyResult *res)
{
	int			i;

	memset(res, 0, sizeof(*res));
	res->located = (v->nkey > 0);
	res->uncompared = v->uncompared;
	res->uncompared_why = v->uncompared_why;
	if (count_only)
	{
		char	  **row = EtlPullQueryRow(v->conn,
											psprintf("SELECT COUNT(*) FROM %s", v->src_from),
											1, false);

		v->scount[0] = reply_count(v, row[0]);
		scan_target(v, false, true, false, count_target_row, NULL);
		for (i = 1; i < v->nranges; i++)
			v->tcount[0] += v->tcount[i];
		res->ranges = 1;
		res->source_rows = v->scount[0];
		res->target_rows = v->tcount[0];
		res->differing_ranges = (res->source_rows != res->target_rows);
		v->differs[0] = res->differing_ranges;
		return;
	}

	/* a table that locks on read: statements of bounded duration */
	if (bounded(v))
	{
		scan_target(v, false, false, true, count_target_row, NULL);
		source_ranges_bounded(v);
		compare_ranges(v, res);
		return;
	}

	/* MySQL aggregates its side while the target is scanned */
	EtlPullQuerySend(v->conn, source_ranges_sql(v, NULL));
	scan_target(v, false, false, true, count_target_row, NULL);
	EtlPullQueryReceive(v->conn, 3);
	read_source_ranges(v, 0, v->nranges - 1);
	compare_ranges(v, res);
}

/* Compare the counts and sums of each range, both sides read */
static void
compare_ranges(EtlPullVerify *v, EtlPullVerifyResult *res)
{
	int			i;

	res->ranges = v->nranges;
	for (i = 0; i < v->nranges; i++)
	{
		res->source_rows += v->scount[i];
		res->target_rows += v->tcount[i];
		v->differs[i] = (v->scount[i] != v->tcount[i] || v->ssum[i] != v->tsum[i]);
		if (v->differs[i])
			res->differing_ranges++;
	}
}

/* ---- ranges that differ, row by row ---- */

typedef struct TargetRow
{
	uint8		keyhash[16];	/* MD5 of the key text: the hash key */
	uint64		hash;
	ItemPointerData tid;
	char	   *key;
	bool		seen;			/* matched by a source row */
	int			dups;			/* further target rows with this key */
} TargetRow;

static void
key_digest(EtlPullVerify *v, const char *s, size_t len, uint8 *out)
{
	if (pg_cryptohash_init(v->md5) < 0 ||
		pg_cryptohash_update(v->md5, (const uint8 *) s, len) < 0 ||
		pg_cryptohash_final(v->md5, out, 16) < 0)
		elog(ERROR, "could not compute an MD5 hash");
}

static void
keep_key(List **list, int max_keys, const char *label)
{
	if (list_length(*list) < max_keys)
		*list = lappend(*list, pstrdup(label));
}

typedef struct RowsState
{
	HTAB	   *rows;
	EtlPullVerifyResult *res;
	int			max_keys;
	MemoryContext cxt;
} RowsState;

static void
collect_target_row(EtlPullVerify *v, void *arg, int range, StringInfo key,
				   uint64 hash, ItemPointer tid)
{
	RowsState  *st = (RowsState *) arg;
	uint8		digest[16];
	TargetRow  *tr;
	bool		found;

	key_digest(v, key->data, key->len, digest);
	tr = hash_search(st->rows, digest, HASH_ENTER, &found);
	if (found)
	{
		/* a key twice in the target: the copy is extra */
		tr->dups++;
		st->res->extra_rows++;
		keep_key(&st->res->extra_keys, st->max_keys, tr->key);
		return;
	}
	tr->hash = hash;
	tr->tid = *tid;
	tr->seen = false;
	tr->dups = 0;
	/* the label only if keys are reported (a diff run reports none) */
	tr->key = st->max_keys > 0 ?
		MemoryContextStrdup(st->cxt,
							EtlPullCanonLabel(v->cols, v->keycols, v->nkey,
											  key->data, key->len)) : NULL;
}

/*
 * The first and last key of integer range i; the edges are open, taking in
 * target rows outside the source's keys (target_row_range puts them there).
 */
static int64
range_lo(EtlPullVerify *v, int i)
{
	return i == 0 ? PG_INT64_MIN : v->lo + i * v->width;
}

static int64
range_hi(EtlPullVerify *v, int i)
{
	return i == v->nranges - 1 ? PG_INT64_MAX : v->lo + (i + 1) * v->width - 1;
}

/*
 * Whether at most half of the ranges differ: then the rows of those only
 * are read again, on each side (MySQL by a filter on the key, the target by
 * its index); else every row is.
 */
static bool
few_differ(EtlPullVerify *v)
{
	int			ndiff = 0;
	int			i;

	for (i = 0; i < v->nranges; i++)
		ndiff += v->differs[i];
	return ndiff * 2 <= v->nranges;
}

/*
 * The key intervals of the ranges that differ (an integer key), adjacent
 * ranges joined, in key order; returns how many.  The first range reaches
 * down to the smallest key and the last up to the largest.
 */
static int
differing_intervals(EtlPullVerify *v, int64 **lo_p, int64 **hi_p)
{
	int64	   *lo = palloc(sizeof(int64) * v->nranges);
	int64	   *hi = palloc(sizeof(int64) * v->nranges);
	int			n = 0;
	int			i;

	for (i = 0; i < v->nranges; i++)
	{
		int			j;

		if (!v->differs[i])
			continue;
		for (j = i; j + 1 < v->nranges && v->differs[j + 1]; j++)
			;
		lo[n] = range_lo(v, i);
		hi[n++] = range_hi(v, j);
		i = j;
	}
	*lo_p = lo;
	*hi_p = hi;
	return n;
}

/* Whether ranges are intervals of one integer key (a diff run pulls rows by key then) */
bool
EtlPullVerifyIntegerKey(EtlPullVerify *v)
{
	return v->int_key;
}

/*
 * MySQL's predicate "k" in one of the n sorted, disjoint intervals
 * [lo[i], hi[i]], as a balanced tree: (k < lo[m] AND (left half)) OR (k >=
 * lo[m] AND (right half)), four BETWEENs at the leaves.  MySQL reads the
 * intervals by range on the index and then evaluates the predicate again
 * on every row: a flat OR of n BETWEENs costs n/2 comparisons a row (2.6 s
 * of MariaDB's time for 125,000 rows in 2,000 intervals), the tree
 * log2(n).
 */
static void
append_interval_tree(StringInfo buf, const char *k, int64 *lo, int64 *hi, int n)
{
	int			i;

	if (n <= 4)
	{
		appendStringInfoChar(buf, '(');
		for (i = 0; i < n; i++)
			appendStringInfo(buf, "%s%s BETWEEN " INT64_FORMAT " AND " INT64_FORMAT,
							 i ? " OR " : "", k, lo[i], hi[i]);
		appendStringInfoChar(buf, ')');
		return;
	}
	i = n / 2;
	appendStringInfo(buf, "((%s < " INT64_FORMAT " AND ", k, lo[i]);
	append_interval_tree(buf, k, lo, hi, i);
	appendStringInfo(buf, ") OR (%s >= " INT64_FORMAT " AND ", k, lo[i]);
	append_interval_tree(buf, k, lo + i, hi + i, n - i);
	appendStringInfoString(buf, "))");
}

/*
 * The predicate (MySQL SQL, without WHERE) selecting the source rows of
 * the ranges that differ, or NULL when they are most of the table (read
 * it all).  Ranges are our own numbers, never MySQL's text.
 */
char *
EtlPullVerifySourceFilter(EtlPullVerify *v)
{
	StringInfoData buf;
	int			ndiff = 0;
	int			i;

	if (v->nkey == 0 || !few_differ(v))
		return NULL;
	initStringInfo(&buf);
	if (v->int_key)
	{
		int64	   *lo;
		int64	   *hi;
		int			n = differing_intervals(v, &lo, &hi);

		append_interval_tree(&buf, EtlPullQuoteIdent(v->cols[v->keycols[0]].scol->name),
							 lo, hi, n);
	}
	else
	{
		appendStringInfo(&buf, "%s IN (", v->src_range);
		for (i = 0; i < v->nranges; i++)
			if (v->differs[i])
				appendStringInfo(&buf, "%s%d", ndiff++ ? ", " : "", i);
		appendStringInfoChar(&buf, ')');
	}
	return buf.data;
}

/*
 * A diff run's source row to pull: its integer key, parsed from MySQL's
 * key text (",<digits>") and checked, never passed on as text.
 */
static void
pull_key(EtlPullVerify *v, const char *s, unsigned long len)
{
	if (len < 2 || s[0] != ',')
		EtlPullBadReply(v->conn, psprintf("\"%s\" is not the text of an integer key.",
							  EtlPullPrintable(pnstrdup(s, len), 64)));
	if (v->npull == v->maxpull)
	{
		v->maxpull = Max(1024, v->maxpull * 2);
		v->pull_keys = v->pull_keys ?
			repalloc_huge(v->pull_keys, sizeof(int64) * v->maxpull) :
			palloc(sizeof(int64) * v->maxpull);
	}
	v->pull_keys[v->npull++] = EtlPullReplyInt64(v->conn, s + 1, "A key");
}

static int
cmp_int64(const void *a, const void *b)
{
	int64		x = *(const int64 *) a;
	int64		y = *(const int64 *) b;

	return x < y ? -1 : x > y;
}

/*
 * For a diff run of a table with an integer key: the ranges that differ
 * bisected to rows (as EtlPullVerifyRows), so that only the rows that
 * changed are pulled again.  Returns the predicate (MySQL SQL, without
 * WHERE) selecting the source rows missing from the target or different
 * there, by key intervals built from their parsed keys (NULL when there
 * are none), or sets *too_many when they are more than max_rows (the
 * caller then pulls the ranges).  The target's rows the source lacks are
 * kept for EtlPullVerifyDeleteExtra.
 */
char *
EtlPullVerifyChangedRows(EtlPullVerify *v, EtlPullVerifyResult *res,
						 int max_rows, bool *too_many)
{
	StringInfoData buf;
	int64	   *lo;
	int64	   *hi;
	int			n = 0;
	int			i;

	Assert(v->int_key);
	*too_many = false;
	v->collect = true;
	EtlPullVerifyRows(v, 0, res);
	v->collect = false;
	if (v->npull > max_rows)
	{
		*too_many = true;
		return NULL;
	}
	if (v->npull == 0)
		return NULL;
	qsort(v->pull_keys, v->npull, sizeof(int64), cmp_int64);
	lo = palloc(sizeof(int64) * v->npull);
	hi = palloc(sizeof(int64) * v->npull);
	for (i = 0; i < v->npull; i++)
	{
		if (n > 0 && hi[n - 1] != PG_INT64_MAX && v->pull_keys[i] <= hi[n - 1] + 1)
			hi[n - 1] = Max(hi[n - 1], v->pull_keys[i]);
		else
		{
			lo[n] = hi[n] = v->pull_keys[i];
			n++;
		}
	}
	initStringInfo(&buf);
	append_interval_tree(&buf, EtlPullQuoteIdent(v->cols[v->keycols[0]].scol->name),
						 lo, hi, n);
	return buf.data;
}

/*
 * Delete the target's rows that EtlPullVerifyChangedRows found the source
 * lacks, by their TIDs (the load holds its lock on the target, and nothing
 * wrote to it since the scan that found them).  Returns the rows deleted.
 */
int64
EtlPullVerifyDeleteExtra(EtlPullVerify *v, const char *target_qname)
{
	Datum	   *d;
	Oid			argtype = TIDARRAYOID;
	Datum		arg;
	int64		deleted;
	int			i;

	if (v->nextra == 0)
		return 0;
	d = palloc(sizeof(Datum) * v->nextra);
	for (i = 0; i < v->nextra; i++)
		d[i] = PointerGetDatum(&v->extra_tids[i]);
	arg = PointerGetDatum(construct_array(d, v->nextra, TIDOID, sizeof(ItemPointerData),
										  false, TYPALIGN_SHORT));
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute_with_args(psprintf("DELETE FROM %s t WHERE t.ctid OPERATOR(pg_catalog.=) ANY ($1)",
									   target_qname),
							  1, &argtype, &arg, NULL, false, 0) != SPI_OK_DELETE)
		elog(ERROR, "could not delete from %s", target_qname);
	deleted = (int64) SPI_processed;
	SPI_finish();
	return deleted;
}

/* The source's key text and row hash of the rows "where" selects (or all) */
static char *
source_rows_sql(EtlPullVerify *v, const char *where)
{
	return psprintf("SELECT %s, CRC32(%s) FROM %s%s%s", v->src_key, v->src_row,
					v->src_from, where ? " WHERE " : "", where ? where : "");
}

/*
 * Match the rows of the source's reply (key text, hash; its statement
 * started) against the target's rows collected in st->rows
 */
static void
read_source_rows(EtlPullVerify *v, RowsState *st, int max_keys,
				 EtlPullVerifyResult *res)
{
	char	  **values;
	unsigned long *lengths;
	TargetRow  *tr;

	while (EtlPullFetch(v->conn, &values, &lengths))
	{
		uint8		digest[16];
		uint64		h;

		CHECK_FOR_INTERRUPTS();
		if (values[0] == NULL)
			EtlPullBadReply(v->conn, "A row's key text is NULL.");
		h = EtlPullReplyUint64(v->conn, values[1], "A row hash");
		key_digest(v, values[0], lengths[0], digest);
		tr = hash_search(st->rows, digest, HASH_FIND, NULL);
		if (tr == NULL || tr->seen)
		{
			res->missing_rows++;
			if (max_keys > 0)
				keep_key(&res->missing_keys, max_keys,
						 EtlPullCanonLabel(v->cols, v->keycols, v->nkey,
										   values[0], lengths[0]));
			if (v->collect)
				pull_key(v, values[0], lengths[0]);
			continue;
		}
		tr->seen = true;
		if (tr->hash != h)
		{
			res->different_rows++;
			keep_key(&res->different_keys, max_keys, tr->key);
			if (v->collect)
				pull_key(v, values[0], lengths[0]);
		}
	}
	EtlPullQueryEnd(v->conn);
}

/*
 * Bisect the ranges that differ down to rows: the target's rows of those
 * ranges by key, then the source's (key and hash), compared key by key.
 * Fills the row counts and the first max_keys keys of each kind.
 */
void
EtlPullVerifyRows(EtlPullVerify *v, int max_keys, EtlPullVerifyResult *res)
{
	RowsState	st;
	HASHCTL		ctl;
	HASH_SEQ_STATUS seq;
	TargetRow  *tr;

	if (res->differing_ranges == 0 || v->nkey == 0)
		return;
	memset(&ctl, 0, sizeof(ctl));
	ctl.keysize = 16;
	ctl.entrysize = sizeof(TargetRow);
	ctl.hcxt = CurrentMemoryContext;
	st.rows = hash_create("etl_pull verify rows", 1024, &ctl,
						  HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	st.res = res;
	st.max_keys = max_keys;
	st.cxt = CurrentMemoryContext;

	if (bounded(v))
	{
		/* a table that locks on read: runs of intervals, bounded statements */
		int64	   *lo;
		int64	   *hi;
		int			n;
		int			per = 16;
		int			first;

		scan_target(v, true, false, true, collect_target_row, &st);
		n = differing_intervals(v, &lo, &hi);
		for (first = 0; first < n;)
		{
			StringInfoData where;
			TimestampTz started = GetCurrentTimestamp();
			int			count = Min(per, n - first);

			CHECK_FOR_INTERRUPTS();
			initStringInfo(&where);
			append_interval_tree(&where,
								 EtlPullQuoteIdent(v->cols[v->keycols[0]].scol->name),
								 lo + first, hi + first, count);
			EtlPullQueryStart(v->conn, source_rows_sql(v, where.data), 2);
			read_source_rows(v, &st, max_keys, res);
			per = (int) EtlPullNextStatementSize(count, EtlPullMsSince(started), 1, 1 << 20);
			first += count;
		}
	}
	else
	{
		/* MySQL reads its rows of those ranges while the target's are collected */
		EtlPullQuerySend(v->conn, source_rows_sql(v, EtlPullVerifySourceFilter(v)));
		scan_target(v, true, false, true, collect_target_row, &st);
		EtlPullQueryReceive(v->conn, 2);
		read_source_rows(v, &st, max_keys, res);
	}

	hash_seq_init(&seq, st.rows);
	while ((tr = hash_seq_search(&seq)) != NULL)
		if (!tr->seen)
		{
			res->extra_rows++;
			keep_key(&res->extra_keys, max_keys, tr->key);
			if (v->collect)
			{
				if (v->nextra == v->maxextra)
				{
					v->maxextra = Max(1024, v->maxextra * 2);
					v->extra_tids = v->extra_tids ?
						repalloc_huge(v->extra_tids, sizeof(ItemPointerData) * v->maxextra) :
						palloc(sizeof(ItemPointerData) * v->maxextra);
				}
				v->extra_tids[v->nextra++] = tr->tid;
			}
		}
	hash_destroy(st.rows);
}

/* ---- deleting the target's rows gone from the source (refresh) ---- */

typedef struct TidState
{
	ItemPointerData *tids;
	int			n;
	int			max;
} TidState;

static void
collect_tid(EtlPullVerify *v, void *arg, int range, StringInfo key,
			uint64 hash, ItemPointer tid)
{
	TidState   *st = (TidState *) arg;

	if (st->n == st->max)
	{
		st->max *= 2;
		st->tids = repalloc_huge(st->tids, sizeof(ItemPointerData) * st->max);
	}
	st->tids[st->n++] = *tid;
}

/*
 * Delete the target's rows of the ranges that differ whose key the staged
 * source rows of those ranges ("stage_qname") lack: by the TIDs of the
 * rows a scan finds in those ranges (a join with the ranges' intervals
 * would leave the plan to the planner, which may scan the table once per
 * range), under the ExclusiveLock the load holds.  "pk" are the key's
 * quoted target columns.  Returns the rows deleted.
 */
int64
EtlPullVerifyDeleteGone(EtlPullVerify *v, const char *target_qname,
						const char *stage_qname, List *pk)
{
	StringInfoData sql;
	StringInfoData gone;
	ListCell   *lc;
	Oid			argtypes[2];
	Datum		args[2];
	int			nargs;
	int64		deleted;
	bool		all = (EtlPullVerifySourceFilter(v) == NULL);

	initStringInfo(&gone);
	appendStringInfo(&gone, "NOT EXISTS (SELECT FROM %s s WHERE ", stage_qname);
	foreach(lc, pk)
		appendStringInfo(&gone, "%ss.%s OPERATOR(pg_catalog.=) t.%s",
						 lc == list_head(pk) ? "" : " AND ",
						 (char *) lfirst(lc), (char *) lfirst(lc));
	appendStringInfoChar(&gone, ')');

	initStringInfo(&sql);
	if (all)
	{
		appendStringInfo(&sql, "DELETE FROM %s t WHERE %s", target_qname, gone.data);
		nargs = 0;
	}
	else
	{
		TidState	st;
		Datum	   *d;
		int			i;

		st.max = 1024;
		st.n = 0;
		st.tids = palloc(sizeof(ItemPointerData) * st.max);
		scan_target(v, true, false, false, collect_tid, &st);
		if (st.n == 0)
			return 0;
		d = palloc(sizeof(Datum) * st.n);
		for (i = 0; i < st.n; i++)
			d[i] = PointerGetDatum(&st.tids[i]);
		argtypes[0] = TIDARRAYOID;
		args[0] = PointerGetDatum(construct_array(d, st.n, TIDOID, sizeof(ItemPointerData),
												  false, TYPALIGN_SHORT));
		nargs = 1;
		appendStringInfo(&sql, "DELETE FROM %s t WHERE t.ctid OPERATOR(pg_catalog.=) ANY ($1) AND %s",
						 target_qname, gone.data);
	}

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute_with_args(sql.data, nargs, argtypes, args, NULL, false, 0) != SPI_OK_DELETE)
		elog(ERROR, "could not delete from %s", target_qname);
	deleted = (int64) SPI_processed;
	SPI_finish();
	return deleted;
}

/* Release what the comparison holds beyond its memory context */
void
EtlPullVerifyEnd(EtlPullVerify *v)
{
	if (v->md5)
		pg_cryptohash_free(v->md5);
	v->md5 = NULL;
}

/* ---- reporting ---- */

/*
 * Whether the comparison found no difference (in what it could compare:
 * see EtlPullVerifyStatus)
 */
bool
EtlPullVerifyEqual(EtlPullVerifyResult *res)
{
	return res->differing_ranges == 0 && res->missing_rows == 0 &&
		res->extra_rows == 0 && res->different_rows == 0;
}

/*
 * verify_table's status: "different" when a difference was found, else
 * "equal" only when every column was compared, "not comparable" when some
 * could not be (a change confined to them would not have been seen)
 */
const char *
EtlPullVerifyStatus(EtlPullVerifyResult *res)
{
	if (!EtlPullVerifyEqual(res))
		return "different";
	return res->uncompared != NIL ? "not comparable" : "equal";
}

/*
 * "columns not compared (a change in them is not seen): col (why), ..."
 * for notes and messages, or "" when every column was compared
 */
char *
EtlPullVerifyUncompared(List *columns, List *why)
{
	StringInfoData buf;
	ListCell   *lc;
	ListCell   *lw;

	if (columns == NIL)
		return "";
	initStringInfo(&buf);
	appendStringInfoString(&buf, "columns not compared (a change in them is not seen): ");
	forboth(lc, columns, lw, why)
		appendStringInfo(&buf, "%s%s (%s)", lc == list_head(columns) ? "" : ", ",
						 (char *) lfirst(lc), (char *) lfirst(lw));
	return buf.data;
}

static void
append_keys(StringInfo buf, const char *what, int64 n, List *keys)
{
	ListCell   *lc;

	if (n == 0)
		return;
	appendStringInfo(buf, "%s" INT64_FORMAT " %s", buf->len ? "; " : "", n, what);
	foreach(lc, keys)
		appendStringInfo(buf, "%s(%s)", lc == list_head(keys) ? ": " : ", ",
						 (char *) lfirst(lc));
	if (list_length(keys) < n)
		appendStringInfoString(buf, ", ...");
}

/* One line for etl_pull.runs.notes and messages */
char *
EtlPullVerifySummary(EtlPullVerifyResult *res)
{
	StringInfoData buf;

	initStringInfo(&buf);
	if (EtlPullVerifyEqual(res) && res->uncompared == NIL)
		appendStringInfo(&buf, "verify: equal, " INT64_FORMAT " rows in %d ranges",
						 res->source_rows, res->ranges);
	else if (EtlPullVerifyEqual(res))
		appendStringInfo(&buf, "verify: not comparable, no difference in " INT64_FORMAT " rows in %d ranges, but %s",
						 res->source_rows, res->ranges,
						 EtlPullVerifyUncompared(res->uncompared, res->uncompared_why));
	else
	{
		append_keys(&buf, "missing", res->missing_rows, res->missing_keys);
		append_keys(&buf, "extra", res->extra_rows, res->extra_keys);
		append_keys(&buf, "different", res->different_rows, res->different_keys);
		if (!res->located)
			appendStringInfo(&buf, "%s" INT64_FORMAT " source rows, " INT64_FORMAT " target rows, not the same multiset (no key: rows cannot be located)",
							 buf.len ? "; " : "", res->source_rows, res->target_rows);
		if (res->uncompared != NIL)
			appendStringInfo(&buf, "; %s",
							 EtlPullVerifyUncompared(res->uncompared, res->uncompared_why));
		buf.data = psprintf("verify: %d of %d ranges differ; %s", res->differing_ranges,
							res->ranges, buf.data);
	}
	return buf.data;
}
