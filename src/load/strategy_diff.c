/*-------------------------------------------------------------------------
 *
 * strategy_diff.c
 *		  A diff run (extraction = 'diff', and etl_pull.repair_table): the
 *		  target brought back to the source by primary key, row by row
 *		  (rowdiff.c) or by the key ranges whose hashes differ.
 *
 * For tables with a primary key but no watermark column.  With a single
 * integer key and a target the C merge can write, the source's rows are
 * read and compared with the target's on our side (rowdiff.c, whose header
 * says why and when not).  Otherwise the key ranges are compared as
 * etl_pull.verify_table compares them (verify.c: one hash per
 * range on each side, about ETL_VERIFY_ROWS_PER_RANGE rows a range, under
 * the load's MySQL snapshot).  With a single integer key and few ranges
 * differing, those ranges are then compared row by row (key and hash on
 * each side), and only the source rows that are missing from the target
 * or differ stream into a temporary staging table, by their keys; the
 * target's rows the source lacks are deleted by TID.  Otherwise (another
 * key, or many ranges differing) the source rows of the ranges that differ
 * are staged, and the target's rows of those ranges whose key the stage
 * lacks are deleted.  The stage is then merged into the target with
 * EtlPullMerge (insert the new rows, update the ones that differ).  An
 * unchanged table costs one aggregate query at MySQL and one scan of the
 * target; nothing is written.
 *
 * IDENTIFICATION
 *		  src/load/strategy_diff.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"

#include "etl_pull.h"
#include "catalog/etl_catalog.h"
#include "remote/remote.h"
#include "verify/verify.h"
#include "load/load.h"
#include "load/progress.h"

/*
 * Compare row by row when at most one range in DIFF_ROWS_RANGES_FRACTION
 * differs (the rows of those ranges are then held, one entry each, on our
 * side), and pull rows by key when at most DIFF_ROWS_MAX_KEYS changed (the
 * key intervals make one MySQL statement).
 */
#define DIFF_ROWS_RANGES_FRACTION 10
#define DIFF_ROWS_MAX_KEYS 20000

/*
 * Why a diff run cannot pull from "source", or NULL: it cuts the key ranges
 * and merges by the source's primary key
 */
static int	diff_ranges(EtlPullLoad *load, const char *label, int64 *merged,
						int64 *deleted);

static const char *
diff_source_unsuitable(EtlPullSource *source)
{
	if (EtlPullSourceKey(source) == NIL)
		return "a diff run needs a primary key on the MySQL table";
	return NULL;
}

/*
 * Why a diff run cannot refresh target "rel" from the load's source, or
 * NULL: the source needs a primary key (diff_source_unsuitable, refused by
 * load_diff), and the target must be one verify can compare
 * (EtlPullVerifyUnsuitable, refused by EtlPullVerifyBegin).  A NULL "rel"
 * is a target to create, a plain table.
 */
static const char *
diff_unsuitable(EtlPullLoad *load, Relation rel)
{
	const char *why = diff_source_unsuitable(load->source);
	const char *target;

	if (why != NULL || rel == NULL)
		return why;
	target = EtlPullVerifyUnsuitable(rel);
	if (target != NULL)
		return psprintf("a diff run compares a plain table only, and %s", target);
	return NULL;
}

/*
 * Bring the target back to the source: its rows compared with the
 * source's on our side (rowdiff.c) where that can be done, else by range
 * hashes (diff_ranges); the run's notes start with "label".  *merged and
 * *deleted get the rows merged and deleted.  Returns how many ranges or
 * rows differed (0: the target was equal).  With "count_rows" the rows
 * read from the source count as the run's rows.  The source needs a
 * primary key.  Also the re-check of a full load read in key ranges
 * (settle.c).
 */
int64
EtlPullDiffRefresh(EtlPullLoad *load, const char *label, bool count_rows,
				   int64 *merged, int64 *deleted)
{
	Relation	rel = table_open(load->target_oid, NoLock);
	Oid			indexoid;
	const char *why = EtlPullRowDiffUnsuitable(load, rel, &indexoid);
	int64		differing;

	if (why == NULL)
		differing = EtlPullRowDiff(load, rel, indexoid, label, count_rows,
								   merged, deleted);
	table_close(rel, NoLock);
	if (why == NULL)
		return differing;
	EtlPullRunNote(load->result, "%s: range hashes, not compared row by row: %s",
				   label, why);
	return diff_ranges(load, label, merged, deleted);
}

/*
 * Compare the target's key ranges with the source's and pull again those
 * that differ, merging them into the target; the run's notes start with
 * "label".  *merged and *deleted get the rows merged and deleted.  Returns
 * how many ranges differed.
 */
static int
diff_ranges(EtlPullLoad *load, const char *label, int64 *merged,
			int64 *deleted)
{
	EtlPullTable *table = load->table;
	char	   *stage_name = psprintf("etl_pull_diff_%u", load->target_oid);
	char	   *stage_qname = quote_qualified_identifier("pg_temp", stage_name);
	List	   *key = EtlPullSourceKey(load->source);
	List	   *columns = NIL;
	List	   *pk = NIL;
	Relation	rel;
	Relation	stage;
	AttrNumber *stage_attnums;
	EtlPullVerify *v;
	EtlPullVerifyResult res;
	ListCell   *lc;
	int			i;
	bool		by_key = false;
	char	   *filter;

	*merged = *deleted = 0;
	/* refuses a target it cannot compare (diff_unsuitable) */
	rel = table_open(load->target_oid, NoLock);
	v = EtlPullVerifyBegin(load->conn, table, load->source, rel, load->attnums,
						   ETL_VERIFY_ROWS_PER_RANGE);
	EtlPullVerifyRanges(v, false, &res);
	EtlPullRunNote(load->result, "%s: %d of %d ranges differ (" INT64_FORMAT " source rows, " INT64_FORMAT " target rows)",
				   label, res.differing_ranges, res.ranges, res.source_rows,
				   res.target_rows);
	if (res.uncompared != NIL)
		EtlPullRunNote(load->result, "%s: %s", label,
					   EtlPullVerifyUncompared(res.uncompared, res.uncompared_why));
	if (res.differing_ranges == 0)
	{
		load->edits_found = 0;
		EtlPullVerifyEnd(v);
		table_close(rel, NoLock);
		return 0;
	}

	/* few rows changed, by an integer key: pull only those */
	if (EtlPullVerifyIntegerKey(v) &&
		res.differing_ranges * DIFF_ROWS_RANGES_FRACTION <= res.ranges)
	{
		bool		too_many;

		filter = EtlPullVerifyChangedRows(v, &res, DIFF_ROWS_MAX_KEYS, &too_many);
		by_key = !too_many;
		if (by_key)
			load->edits_found = res.different_rows + res.extra_rows;
		if (by_key)
			EtlPullRunNote(load->result, "%s: " INT64_FORMAT " rows missing, " INT64_FORMAT " different, " INT64_FORMAT " gone",
						   label, res.missing_rows, res.different_rows,
						   res.extra_rows);
	}
	if (!by_key)
		filter = EtlPullVerifySourceFilter(v);

	/* the source rows to pull (those rows, or those ranges), staged */
	stage = EtlPullOpenStage(load, stage_name, stage_qname, &stage_attnums);
	if (!by_key || filter != NULL)
		EtlPullStreamIntoSink(load, stage, stage_attnums,
							  EtlPullSinkBegin(stage, stage, table->batch_size,
											   TABLE_INSERT_SKIP_FSM, NULL, 0, false),
							  filter, true);
	table_close(stage, NoLock);
	CommandCounterIncrement();

	EtlPullProgressPhase(ETL_PHASE_MERGING);
	foreach(lc, key)
		pk = lappend(pk, (char *) quote_identifier(((EtlPullSourceColumn *) lfirst(lc))->target_name));
	/* first the rows gone from the source, while the TIDs still hold */
	*deleted = by_key ?
		EtlPullVerifyDeleteExtra(v, load->target_qname) :
		EtlPullVerifyDeleteGone(v, load->target_qname, stage_qname, pk);
	EtlPullVerifyEnd(v);
	table_close(rel, NoLock);
	for (i = 0; i < load->source->ncolumns; i++)
		columns = lappend(columns,
						  (char *) quote_identifier(load->source->columns[i].target_name));
	*merged = EtlPullMerge(load->target_qname, stage_qname, columns, pk);
	EtlPullDropStage(stage_qname);
	return res.differing_ranges;
}

static void
load_diff(EtlPullLoad *load)
{
	EtlPullTable *table = load->table;

	if (diff_source_unsuitable(load->source) != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TABLE_DEFINITION),
				 errmsg("diff loads of table \"%s\" need a primary key on MySQL table \"%s.%s\"",
						table->name, load->source->db, load->source->table),
				 errhint("Set \"extraction\" to \"full\" for this table.")));
	EtlPullCheckTargetPrivileges(load, ACL_DELETE);
	/* full_compare_every: a tail run compares every row if its count differs */
	load->edits_found = -1;
	if (load->tail)
		load->tail = !EtlPullDiffTail(load, "diff", true,
									  &load->result->merged_rows,
									  &load->result->deleted_rows);
	else
		(void) EtlPullDiffRefresh(load, "diff", true, &load->result->merged_rows,
								  &load->result->deleted_rows);
}

/*
 * Not a strategy a table can ask for: the orchestrator runs it for
 * extraction = 'diff' once the target exists, and for repair_table.  It
 * reads the target's rows to compare them: SELECT too.  Its "unsuitable"
 * is asked by etl_pull.plan(); a run raises the same refusals itself.
 */
const EtlPullStrategyRoutine EtlPullDiffStrategy = {
	.name = "diff",
	.privileges = ACL_INSERT | ACL_UPDATE | ACL_DELETE | ACL_SELECT,
	.unsuitable = diff_unsuitable,
	.load = load_diff
};
