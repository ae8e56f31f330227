/*-------------------------------------------------------------------------
 *
 * rowdiff.c
 *		  A table's rows compared with the source's on our side: the
 *		  source read in key order, in the binary protocol, and merged
 *		  into the target in one ordered pass (a diff run, and the passes
 *		  that make a MyISAM load exact).
 *
 * Design.  Without a change log, a comparison must look at every row of a
 * changed table once.  Asking MySQL for a CRC32 per key range makes it
 * render every column as text and hash it, which costs it several times
 * what sending the row costs (issue 28: procedurelog's 67 columns, 11 s
 * of range hashes against 2.3 s for its binary read), and our side then
 * hashes the target's rows the same way.  So for a table with a single
 * integer primary key the source's rows are read in key-range statements
 * of bounded duration (remote/chunks.c: "WHERE id > <last> ORDER BY id
 * LIMIT n", each about etl_pull.source_statement_ms), in the table's
 * protocol (binary by default), converted as a load converts them, and
 * merged into the target by a merge join (merge.c's ordered merge): the
 * target's primary key index is walked forward beside the ordered stream;
 * a row the target lacks is inserted, one whose image differs (byte for
 * byte, as an incremental merge compares) is updated, and a target row
 * whose key the stream passed without sending it is deleted: its key lies
 * inside a range a statement has just read, and the source did not have
 * it.  Nothing is written for a row that is equal.  One ordered walk
 * costs less than a probe per row (no descent of the index for each row:
 * on the table below, unchanged, 7.9-11.4 s against 10.1-15.5 s for
 * probes, three rounds each, the probes not even looking for deleted
 * rows) and finds the deleted rows in the same pass, which a probe per
 * row would need another scan of the target's keys for.  Memory is one
 * merging sink's batch (reset after each) and the range read's statement.
 *
 * Where it is not used, a diff run and a settle pass compare range hashes
 * as before (strategy_diff.c): a key that is not one integer column (MySQL's
 * order of a text or composite key is its collation's, which our walk
 * cannot follow), a target the C merge cannot write (triggers, row level
 * security, rules, another primary key: EtlPullMergeUnsuitable) or whose
 * key column is no integer or numeric type (its order would not be the
 * source's), etl_pull.source_statement_ms = 0 (one statement per read, as
 * before 1.5) and etl_pull.enable_optimizations = off.
 *
 * The range hashes are not kept for an unchanged table either, nor for
 * InnoDB under the load's snapshot: measured on 1,000,000 rows of 62
 * columns (README, Performance, "Row comparison"), an unchanged table
 * compared row by row cost MariaDB 3.6-4.1 s of CPU (MyISAM and InnoDB)
 * against 8.8-10.6 s for its range hashes, and the run 7-10 s against
 * 14-21 s; with 0.1% of the rows changed, 3.0-4.5 s against 8.1-10.8 s.
 * The hashes send fewer bytes (one per 64 rows), which only a slow link
 * between the servers would prefer; an unchanged MyISAM table is skipped
 * before either (skip_unchanged).
 *
 * IDENTIFICATION
 *		  src/load/rowdiff.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/table.h"
#include "access/xact.h"
#include "catalog/pg_type.h"
#include "miscadmin.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"

#include "etl_pull.h"
#include "catalog/etl_catalog.h"
#include "remote/remote.h"
#include "load/load.h"
#include "load/progress.h"

/*
 * Why the rows of target "rel" cannot be compared with the source's here,
 * or NULL, with the target's primary key index in *indexoid (see the
 * design above)
 */
const char *
EtlPullRowDiffUnsuitable(EtlPullLoad *load, Relation rel, Oid *indexoid)
{
	EtlPullSourceColumn *key = EtlPullIntegerKey(load->source);
	AttrNumber	keyatt;
	Oid			keytype;
	const char *why;

	*indexoid = InvalidOid;
	if (!EtlPullEnableOptimizations)
		return "etl_pull.enable_optimizations is off";
	if (EtlPullSourceStatementMs <= 0)
		return "etl_pull.source_statement_ms is 0";
	if (key == NULL)
		return "the MySQL table has no single integer primary key";
	/* load->attnums is NULL in etl_pull.plan(): the columns match by name */
	keyatt = load->attnums ? load->attnums[key - load->source->columns] :
		get_attnum(RelationGetRelid(rel), key->target_name);
	if (keyatt == InvalidAttrNumber)
		return "the target lacks the key column";
	if ((why = EtlPullMergeUnsuitable(rel, &keyatt, 1, indexoid)) != NULL)
		return psprintf("table %s cannot be merged row by row because %s",
						load->target_qname, why);
	keytype = TupleDescAttr(RelationGetDescr(rel), keyatt - 1)->atttypid;
	if (keytype != INT2OID && keytype != INT4OID && keytype != INT8OID &&
		keytype != NUMERICOID)
		return psprintf("the key column of table %s is no integer or numeric type, whose order would be MySQL's",
						load->target_qname);
	return NULL;
}

/*
 * Compare the rows of target "rel" (opened by the caller) with the
 * source's and write what differs, by primary key index "indexoid"
 * (EtlPullRowDiffUnsuitable must have allowed it); the run's notes start
 * with "label".  With "count_rows" the rows read count as the run's rows
 * (a diff run), else not (a settle pass, after the load's own read).
 * *merged and *deleted get the rows inserted or updated, and deleted.
 * Returns how many rows were written (merged and deleted).
 */
int64
EtlPullRowDiff(EtlPullLoad *load, Relation rel, Oid indexoid,
			   const char *label, bool count_rows, int64 *merged,
			   int64 *deleted)
{
	EtlPullTable *table = load->table;
	EtlPullSource *source = load->source;
	EtlPullConnection *conn = load->conn;
	EtlPullSink *sink;
	EtlPullMerger *merger;
	EtlPullConverter *conv;
	char	  **values;
	unsigned long *lengths;
	int64		read = 0;
	int64		inserted;
	int64		updated;
	int			statements;
	double		longest;

	*merged = *deleted = 0;
	/* the rows written before (the load's read, an earlier pass) visible */
	CommandCounterIncrement();
	EtlPullProgressPhase(ETL_PHASE_MERGING);
	sink = EtlPullSinkBeginMerge(rel, table->batch_size, load->attnums,
								 source->ncolumns, indexoid, merged);
	merger = EtlPullSinkMerger(sink);
	EtlPullMergerOrdered(merger, deleted);
	conv = EtlPullMakeConverters(table, source, RelationGetDescr(rel),
								 load->attnums);
	EtlPullRangeQueryStart(conn, source, EtlPullIntegerKey(source), NULL,
						   table->protocol == ETL_PROTOCOL_BINARY);
	/* binary-protocol integers and dates straight from the bytes sent */
	EtlPullNativeFromConnection(conv, conn);
	while (EtlPullFetch(conn, &values, &lengths))
	{
		CHECK_FOR_INTERRUPTS();
		if (!EtlPullRowIntoSink(load, conv, sink, values, lengths))
		{
			/* rejected, its key unknown: keep the target's rows around it */
			EtlPullSinkFlush(sink);
			EtlPullMergerKeepGap(merger);
		}
		if (count_rows)
			EtlPullLoadRowDone(load, lengths);
		read++;
	}
	EtlPullQueryEnd(conn);
	EtlPullSinkFlush(sink);
	EtlPullMergerFinishWalk(merger);
	EtlPullMergerCounts(merger, &inserted, &updated);
	EtlPullSinkEnd(sink);
	CommandCounterIncrement();

	statements = EtlPullLastReadStatements(conn, &longest);
	EtlPullRunNote(load->result, "%s: compared row by row: " INT64_FORMAT " rows missing, " INT64_FORMAT " different, " INT64_FORMAT " gone, of " INT64_FORMAT " source rows read in %d statement%s (the longest %.0f ms)",
				   label, inserted, updated, *deleted, read, statements,
				   statements == 1 ? "" : "s", longest);
	load->edits_found = updated + *deleted;
	return inserted + updated + *deleted;
}
