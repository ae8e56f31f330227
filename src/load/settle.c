/*-------------------------------------------------------------------------
 *
 * settle.c
 *		  A full load of a MyISAM table read in key ranges, made exact
 *		  before it commits.
 *
 * Design.  No snapshot covers a MyISAM table, and a statement that reads
 * one holds its writers back until its last row is sent, so a full load
 * reads it in key-range statements of bounded duration
 * (remote/chunks.c).  That read is fuzzy: a row written while it runs may
 * be missed, or seen in two ranges.  Before the load commits, the target
 * is brought back to the source: the source's UPDATE_TIME (whole seconds,
 * kept current by MyISAM) is read before the read and after it; if it
 * moved, or cannot be trusted (it was within two seconds of the source's
 * clock when the read began: EtlPullSourceUnchanged), the
 * target is compared with the source and what differs written
 * (EtlPullDiffRefresh, as a diff run does: the source's rows read again in
 * key ranges and compared row by row, rowdiff.c, or by range hashes where
 * that cannot be done), in passes, until a pass during which UPDATE_TIME stood still: the target
 * then equals the source as it was during that pass.  With the setting
 * verify the passes run in any case, and the last one, which must find
 * no range differing, is the check (a separate check afterwards would
 * race the application's writes).
 *
 * A table the practice writes all the time (a log appended to every
 * second) never gives a pass that can be trusted.  Each pass still brings
 * every range to a state of the source no older than the pass's start, so
 * after SETTLE_PASSES passes (the second after a wait of a second at most
 * for a quiet one) the load commits, and its notes say what it holds:
 * every change made before the last pass began, some made during it; the
 * next run brings the rest (more passes would cost a whole comparison
 * each for a table that is never quiet).  The second pass runs only if
 * that wait found the table quiet: one started while the table is still
 * written cannot be trusted either, and would cost a whole read of the
 * table to leave a state no better than the first pass's (at scale 0.25
 * of the replica under its writer, 9 of 12 second passes were such).
 * With the setting verify, which asks for the copy to be checked equal,
 * each pass waits first (a few seconds at most) for a second in which the
 * table is not written, and a table that keeps changing fails the load
 * after SETTLE_PASSES_VERIFY passes.  One that stands still while a pass
 * still finds differences fails as a verify does (the target's code
 * changes the rows).
 *
 * IDENTIFICATION
 *		  src/load/settle.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/table.h"
#include "miscadmin.h"
#include "storage/latch.h"
#include "utils/timestamp.h"
#include "utils/wait_event.h"

#include "etl_pull.h"
#include "catalog/etl_catalog.h"
#include "remote/remote.h"
#include "verify/verify.h"
#include "load/load.h"

/*
 * Passes before a table that keeps changing commits as the last pass left
 * it, or, with the setting verify, fails the load
 */
#define SETTLE_PASSES 2
#define SETTLE_PASSES_VERIFY 10

/*
 * Before a pass, how long to wait at most for a second in which the table
 * is not written (a pass that starts in a busy second cannot be trusted,
 * and each pass reads the whole table): with the setting verify, before
 * each pass; without, before the second only, and not as long
 */
#define SETTLE_QUIET_MS 3000
#define SETTLE_QUIET_MS_AGAIN 1000

/*
 * What a full load does about a source without a snapshot, for the run's
 * notes and etl_pull.plan(); NULL for an InnoDB table or a view
 */
const char *
EtlPullSettlePlan(EtlPullSource *source)
{
	const char *why;

	if (!EtlPullSourceLocksOnRead(source))
		return NULL;
	if (EtlPullSourceChunkKey(source, &why) != NULL)
		return psprintf("MyISAM: read in key-range statements of about %d ms (etl_pull.source_statement_ms); if the source changed meanwhile, re-checked before the load commits: its rows read again and compared row by row (by range hashes where the target cannot be merged in C), what differs written",
						EtlPullSourceStatementMs);
	return psprintf("%s table read in one statement, which holds its writers back for the whole read (%s)",
					EtlPullPrintable(source->engine, 64), why);
}

/*
 * Whether a full load of target "rel" reads its source in key ranges and
 * settles: a source EtlPullSourceChunkKey reads so, and a target the
 * passes can compare and write (a plain table, and the caller's SELECT,
 * UPDATE and DELETE on it, as a diff run needs).  Otherwise the source is
 * read in one statement (source->whole_read says why).
 */
bool
EtlPullSettleCheck(EtlPullLoad *load, Relation rel)
{
	const char *target;

	if (EtlPullSourceChunkKey(load->source, NULL) == NULL)
		return false;
	target = EtlPullVerifyUnsuitable(rel);
	if (target != NULL)
		load->source->whole_read =
			psprintf("a read in key ranges is re-checked by comparing a plain table only, and %s", target);
	else if (EtlPullLackedTargetPrivileges(load->target_oid, load->caller,
										   EtlPullDiffStrategy.privileges) != NIL)
		load->source->whole_read =
			"a read in key ranges is re-checked by a diff of the target, which needs SELECT, INSERT, UPDATE and DELETE on it";
	return load->source->whole_read == NULL;
}

/*
 * Before the read: the source's UPDATE_TIME of a table that locks on read
 */
void
EtlPullSettleStart(EtlPullLoad *load)
{
	if (!EtlPullSourceLocksOnRead(load->source))
		return;
	/* read with the skip signature, before the read as well: no statement */
	if (EtlPullSignatureStamp(load, &load->read_from))
		return;
	(void) EtlPullSourceStamp(load->conn, load->source, &load->read_from);
}

/*
 * Wait, up to "ms", until the source's UPDATE_TIME is old enough that a
 * write would move it (EtlPullStampSettled): a pass started then can be
 * trusted.  Returns whether it is; false also when the stamp cannot be
 * read.
 */
static bool
wait_quiet(EtlPullLoad *load, int ms)
{
	TimestampTz until = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), ms);
	EtlPullStamp st;

	for (;;)
	{
		if (!EtlPullSourceStamp(load->conn, load->source, &st))
			return false;
		if (EtlPullStampSettled(&st))
			return true;
		if (GetCurrentTimestamp() >= until)
			return false;
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 100, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
	}
}

/*
 * A full load of an append-only log (setting full_compare_every above 1,
 * extraction diff) that the source wrote during the read: instead of
 * passes comparing every row, the rows past the highest key the read
 * reached are read and merged, and the row counts compared
 * (EtlPullDiffTail, which compares every row when they differ).  What an
 * edit made during the read to rows read before is left to the next run,
 * which compares every row: a full load is never followed by a run that
 * reads only new rows (cadence.c).  Returns false, doing nothing, for
 * another table or with the setting verify, whose check is a pass.
 */
static bool
settle_log(EtlPullLoad *load)
{
	EtlPullTable *table = load->table;
	Relation	rel;
	Oid			indexoid;
	const char *why;
	int64		merged;
	int64		deleted;

	if (table->full_compare_every <= 1 || table->extraction != ETL_EXTRACTION_DIFF ||
		table->verify != ETL_VERIFY_OFF)
		return false;
	rel = table_open(load->target_oid, NoLock);
	why = EtlPullRowDiffUnsuitable(load, rel, &indexoid);
	table_close(rel, NoLock);
	if (why != NULL)
		return false;
	if (EtlPullDiffTail(load, "settle", false, &merged, &deleted))
		EtlPullRunNote(load->result, "settled as a log's run that compares every row: " INT64_FORMAT " rows merged, " INT64_FORMAT " deleted",
					   merged, deleted);
	else
		EtlPullRunNote(load->result, "settled as a log (full_compare_every = %d): the rows appended during the read loaded, deletes checked by the row count; an edit made during the read to rows read before it is found by the next run, which compares every row",
					   table->full_compare_every);
	return true;
}

/*
 * After the read, on the load's connection still open: make the target
 * exact (see the design above).  Records verify_status when the table
 * has the setting verify.
 */
void
EtlPullSettle(EtlPullLoad *load)
{
	EtlPullSource *source = load->source;
	bool		verify = (load->table->verify != ETL_VERIFY_OFF);
	EtlPullStamp after;
	EtlPullStamp a;
	EtlPullStamp b;
	double		longest;
	int			statements = EtlPullLastReadStatements(load->conn, &longest);
	bool		stable = false;
	int			passes = verify ? SETTLE_PASSES_VERIFY : SETTLE_PASSES;
	int			pass;

	EtlPullRunNote(load->result, "%s; read in %d statement%s, the longest %.0f ms",
				   EtlPullSettlePlan(source), statements,
				   statements == 1 ? "" : "s", longest);
	/* one statement read one state of the table */
	if (!verify && statements <= 1)
		return;
	/* without verify, a read the source did not change during is exact */
	if (!verify)
	{
		(void) EtlPullSourceStamp(load->conn, source, &after);
		if (EtlPullSourceUnchanged(&load->read_from, &after))
		{
			EtlPullRunNote(load->result, "settled: UPDATE_TIME did not move during the read");
			return;
		}
		if (settle_log(load))
			return;
	}

	for (pass = 1; pass <= passes; pass++)
	{
		int64		merged;
		int64		deleted;
		int64		differing;

		CHECK_FOR_INTERRUPTS();
		if (verify)
			(void) wait_quiet(load, SETTLE_QUIET_MS);
		else if (pass > 1 && !wait_quiet(load, SETTLE_QUIET_MS_AGAIN))
		{
			/*
			 * Still written: a pass started now could not be trusted, and
			 * would only leave another fuzzy state, no better than the one
			 * the last pass left (a whole read of the table for nothing)
			 */
			EtlPullRunNote(load->result, "no settle pass %d: the source was still being written %d ms after pass %d, so no pass could be shown exact: every change made before pass %d began is loaded, some made during it too; the next run loads the rest",
						   pass, SETTLE_QUIET_MS_AGAIN, pass - 1, pass - 1);
			return;
		}
		(void) EtlPullSourceStamp(load->conn, source, &a);
		differing = EtlPullDiffRefresh(load, psprintf("settle pass %d", pass),
									   false, &merged, &deleted);
		(void) EtlPullSourceStamp(load->conn, source, &b);
		stable = EtlPullSourceUnchanged(&a, &b);
		if (differing > 0)
			EtlPullRunNote(load->result, "settle pass %d: " INT64_FORMAT " rows merged, " INT64_FORMAT " deleted",
						   pass, merged, deleted);
		/*
		 * A pass during which the source stood still leaves the target equal
		 * to it, the ranges that differed pulled again; the check of setting
		 * verify wants a pass that finds nothing to pull, proving the pulls
		 */
		if (stable && (differing == 0 || !verify))
		{
			EtlPullRunNote(load->result, "settled in pass %d: every range equal to the source's while UPDATE_TIME stood still%s",
						   pass, verify ? " (the check of setting verify)" : "");
			if (verify)
				load->result->verify_status = "equal";
			return;
		}
	}
	if (stable)
	{
		if (verify)
			load->result->verify_status = "different";
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("the rows loaded into %s differ from MySQL table \"%s.%s\"",
						load->target_qname, source->db, source->table),
				 errdetail("The last of %d passes found ranges that differ while the source did not change.",
						   passes),
				 errhint("The target keeps its old rows.  A trigger, rule or default on the target may change the rows as they are written.")));
	}
	if (verify)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("MySQL table \"%s.%s\" kept changing while it was loaded",
						source->db, source->table),
				 errdetail("A %s table has no snapshot; after %d passes re-checking the ranges read, its UPDATE_TIME still moved during each, so the copy could not be checked equal.",
						   EtlPullPrintable(source->engine, 64), passes),
				 errhint("The target keeps its old rows.  Load it again when the source is quieter, set \"source_lock\" to \"read\" (its writers then wait for the whole read and check), or set \"verify\" to \"off\": the load then commits what the last pass left.")));
	EtlPullRunNote(load->result, "the source was written during each of the %d passes re-checking the ranges read: every change made before the last one began is loaded, some made during it too; the next run loads the rest",
				   passes);
}
