/*-------------------------------------------------------------------------
 *
 * cadence.c
 *		  Append-only logs (setting full_compare_every): diff runs that
 *		  read only the rows past the target's highest key, and a full
 *		  comparison every N-th run.
 *
 * A log the application only appends to (OpenDental's securitylog,
 * securityloghash, inseditlog) changes by new rows at the end of its key.
 * A diff run compares every row of it (rowdiff.c), which for the four
 * largest logs is most of what a refresh reads.  With full_compare_every
 * = N, one run in N does that; the N - 1 runs between (tail runs) read
 * only the rows whose key is past the target's highest, in key-range
 * statements of bounded duration in the table's protocol (remote/chunks.c,
 * as rowdiff reads), and merge them by primary key (merge.c).
 *
 * Measured, not assumed: tail runs follow only a run that compared every
 * row and found nothing but new rows (no row edited, none gone).  A full
 * load cannot tell, so the run after it compares every row; a comparison
 * that finds an edit or a delete makes the following runs compare every
 * row until one finds nothing but new rows again.  A table that looks
 * like a log by its shape (import_tables) but is edited now and then so
 * costs a full comparison per run while it is edited, never a silent
 * drift; one edit made after a clean comparison waits for the next one.
 *
 * What a tail run sees.  Every row appended past the target's highest key.
 * On MyISAM and Aria, also every delete of an older row and every row
 * inserted below that key: one statement, SELECT COUNT(*), MAX(key), reads
 * the table's exact row count and its highest key together (both kept by
 * the engine: no row is read), and after the new rows are merged the
 * target's rows up to that key are counted; when the counts differ, the
 * run compares every row at once (a full comparison, which it records as
 * such).  A count cannot see an edit of an older row, nor a delete and an
 * insert below the key that cancel out: those wait for the next full
 * comparison, and each tail run's notes and strategy_reason say so, and
 * plan() says when that comparison is due.  On InnoDB COUNT(*) reads the
 * whole index, so there is no count check (and a row committed late with
 * a key below one already read also waits for the full comparison).
 *
 * etl_pull.full_comparisons remembers, per table, the last run that
 * compared or loaded every row, what it found edited or deleted (NULL for
 * a full load) and how many tail runs followed it, in the run's
 * transaction.  A table with no such row (never compared, the row
 * deleted by hand) compares at its next run.  repair_table always
 * compares every row.
 *
 * IDENTIFICATION
 *		  src/load/cadence.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/table.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"

#include "etl_pull.h"
#include "catalog/etl_catalog.h"
#include "remote/remote.h"
#include "load/load.h"
#include "load/progress.h"

/* Whether the catalog has etl_pull.full_comparisons (1.5 on) */
static bool
have_cadence(void)
{
	return OidIsValid(get_relname_relid("full_comparisons",
										get_namespace_oid("etl_pull", true)));
}

/*
 * The table's cadence state: false when no run compared or loaded every
 * row since the table has its setting (or the row is gone); else the run
 * that did, the rows it found edited or deleted (-1: a full load, which
 * cannot tell) and the tail runs since
 */
static bool
read_state(EtlPullTable *table, int64 *run_id, int64 *edits, int *runs_since)
{
	Oid			argtypes[1] = {TEXTOID};
	Datum		args[1];
	EtlPullUserState st;
	bool		found = false;

	if (!have_cadence())
		return false;
	args[0] = CStringGetTextDatum(table->name);
	EtlPullAsOwner(&st);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute_plan(EtlPullOwnerPlan("SELECT c.run_id, c.runs_since, c.edits_found"
										  " FROM etl_pull.full_comparisons c"
										  " WHERE c.table_name OPERATOR(pg_catalog.=) $1",
										  1, argtypes),
						 args, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not read etl_pull.full_comparisons");
	if (SPI_processed > 0)
	{
		HeapTuple	tup = SPI_tuptable->vals[0];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		bool		isnull;
		Datum		d;

		*run_id = DatumGetInt64(SPI_getbinval(tup, desc, 1, &isnull));
		*runs_since = DatumGetInt32(SPI_getbinval(tup, desc, 2, &isnull));
		d = SPI_getbinval(tup, desc, 3, &isnull);
		*edits = isnull ? -1 : DatumGetInt64(d);
		found = true;
	}
	SPI_finish();
	EtlPullAsCaller(&st);
	return found;
}

/*
 * Whether the next diff run of "table" reads only the new rows; *why says
 * why or why not (NULL when the setting is 1).  "unsuitable" is why the
 * rows cannot be merged row by row (EtlPullRowDiffUnsuitable), or NULL.
 * Only the rows past the highest key are read when a run compared every
 * row and found nothing but new rows (the table behaved as a log: a full
 * load cannot tell) and fewer than N - 1 runs have read only new rows
 * since.
 */
bool
EtlPullCadenceTailDue(EtlPullTable *table, const char *unsuitable,
					  char **why)
{
	int64		run_id;
	int64		edits;
	int			since;
	int			n = table->full_compare_every;

	*why = NULL;
	if (n <= 1)
		return false;
	if (unsuitable != NULL)
		*why = psprintf("full_compare_every = %d, but every row is compared: %s",
						n, unsuitable);
	else if (!read_state(table, &run_id, &edits, &since))
		*why = psprintf("full_compare_every = %d: every row is compared, no run having compared every row since the setting", n);
	else if (edits < 0)
		*why = psprintf("full_compare_every = %d: every row is compared, run " INT64_FORMAT " having loaded every row (only a comparison that finds nothing but new rows lets later runs read only those)",
						n, run_id);
	else if (edits > 0)
		*why = psprintf("full_compare_every = %d: every row is compared, run " INT64_FORMAT " having found " INT64_FORMAT " older row%s edited or deleted (not a log: until a comparison finds nothing but new rows)",
						n, run_id, edits, edits == 1 ? "" : "s");
	else if (since + 1 >= n)
		*why = psprintf("full_compare_every = %d: every row is compared, as due (%d runs read only new rows since run " INT64_FORMAT ")",
						n, since, run_id);
	else
	{
		*why = psprintf("full_compare_every = %d: only the rows past the target's highest key are read (run %d of %d since run " INT64_FORMAT " compared every row and found nothing but new rows; the full comparison is due in %d runs); an edit of an older row is not seen until then",
						n, since + 1, n - 1, run_id, n - since - 1);
		return true;
	}
	return false;
}

/*
 * For etl_pull.plan(): what the next diff run of "table" does under
 * full_compare_every, or NULL when the setting is 1
 */
char *
EtlPullCadencePlan(EtlPullTable *table, const char *unsuitable)
{
	int64		run_id;
	int64		edits;
	int			since;
	int			n = table->full_compare_every;
	char	   *why;

	if (n <= 1)
		return NULL;
	if (EtlPullCadenceTailDue(table, unsuitable, &why))
	{
		(void) read_state(table, &run_id, &edits, &since);
		return psprintf("every %d runs; the next run reads only the rows past the target's highest key, and the full comparison is due in %d runs (run " INT64_FORMAT " compared every row and found nothing but new rows; %d runs read only new rows since)",
						n, n - since - 1, run_id, since);
	}
	return psprintf("every %d runs; the next run compares every row (%s)", n, why);
}

/*
 * After a successful diff-table run with full_compare_every above 1, in
 * its transaction: a run that compared every row starts the count again
 * and records what it found edited or deleted (NULL for a full load); a
 * tail run adds one
 */
void
EtlPullCadenceRemember(EtlPullLoad *load, bool tail, bool compared)
{
	Oid			argtypes[3] = {TEXTOID, INT8OID, INT8OID};
	Datum		args[3];
	char		nulls[3] = {' ', ' ', ' '};

	if (load->table->full_compare_every <= 1 || !have_cadence())
		return;
	args[0] = CStringGetTextDatum(load->table->name);
	args[1] = Int64GetDatum(load->result->run_id);
	args[2] = Int64GetDatum(load->edits_found);
	if (!compared || load->edits_found < 0)
		nulls[2] = 'n';
	if (tail)
		EtlPullOwnerExec("UPDATE etl_pull.full_comparisons c"
						 " SET runs_since = c.runs_since OPERATOR(pg_catalog.+) 1"
						 " WHERE c.table_name OPERATOR(pg_catalog.=) $1",
						 1, argtypes, args, NULL, SPI_OK_UPDATE,
						 "count a run that read only new rows");
	else
		EtlPullOwnerExec("INSERT INTO etl_pull.full_comparisons AS c"
						 " (table_name, run_id, compared_at, runs_since, edits_found)"
						 " VALUES ($1, $2, pg_catalog.now(), 0, $3)"
						 " ON CONFLICT (table_name) DO UPDATE SET run_id = excluded.run_id,"
						 "  compared_at = excluded.compared_at, runs_since = 0,"
						 "  edits_found = excluded.edits_found",
						 3, argtypes, args, nulls, SPI_OK_INSERT,
						 "remember a full comparison");
}

/*
 * A value of the target's key column as text, from "sql" (one row, one
 * column, $1 typed as the key's type when "arg" is not NULL); NULL for SQL
 * NULL.  Runs as the load runs (the target's owner), not read-only: SPI
 * then reads with a snapshot that sees the rows this run has merged.
 */
static char *
target_value(const char *sql, Oid keytype, const char *arg)
{
	MemoryContext cxt = CurrentMemoryContext;
	Oid			argtypes[1] = {keytype};
	Datum		args[1];
	char	   *result = NULL;
	Oid			typinput;
	Oid			typioparam;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (arg != NULL)
	{
		getTypeInputInfo(keytype, &typinput, &typioparam);
		args[0] = OidInputFunctionCall(typinput, (char *) arg, typioparam, -1);
	}
	if (SPI_execute_with_args(sql, arg ? 1 : 0, argtypes, args, NULL, false, 1) != SPI_OK_SELECT ||
		SPI_processed != 1)
		elog(ERROR, "could not read the target's key");
	{
		char	   *v = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);

		if (v != NULL)
			result = MemoryContextStrdup(cxt, v);
	}
	SPI_finish();
	return result;
}

/* Whether "s" is an integer's text: an optional minus and 1 to 20 digits */
static bool
integer_text(const char *s)
{
	size_t		digits;

	if (*s == '-')
		s++;
	digits = strspn(s, "0123456789");
	return digits >= 1 && digits <= 20 && s[digits] == '\0';
}

/*
 * A tail run (EtlPullCadenceTailDue said so), or the re-check of a full
 * load of a log (settle.c): the source's rows past the target's highest
 * key merged into the target, then, on MyISAM and Aria, the row counts up
 * to the source's highest key compared; when they differ, every row is
 * compared (EtlPullDiffRefresh).  The notes start with "label"; with
 * "count_rows" the rows read count as the run's.  *merged and *deleted get
 * the rows written.  Returns true when every row was compared after all.
 */
bool
EtlPullDiffTail(EtlPullLoad *load, const char *label, bool count_rows,
				int64 *merged_out, int64 *deleted_out)
{
	EtlPullTable *table = load->table;
	EtlPullSource *source = load->source;
	EtlPullConnection *conn = load->conn;
	EtlPullSourceColumn *key = EtlPullIntegerKey(source);
	bool		exact_count = source->engine != NULL &&
		(pg_strcasecmp(source->engine, "MyISAM") == 0 ||
		 pg_strcasecmp(source->engine, "Aria") == 0);
	Relation	rel;
	Oid			indexoid;
	AttrNumber	keyatt;
	Oid			keytype;
	char	   *qkey;
	char	   *target_max;
	char	   *source_count = NULL;
	char	   *source_max = NULL;
	char	   *where = NULL;
	EtlPullSink *sink;
	EtlPullConverter *conv;
	char	  **values;
	unsigned long *lengths;
	int64		read = 0;
	int64		merged = 0;
	int			statements;
	double		longest;

	rel = table_open(load->target_oid, NoLock);
	*merged_out = *deleted_out = 0;
	if (EtlPullRowDiffUnsuitable(load, rel, &indexoid) != NULL)
		elog(ERROR, "a tail run needs a target merged row by row");
	keyatt = load->attnums[key - source->columns];
	keytype = TupleDescAttr(RelationGetDescr(rel), keyatt - 1)->atttypid;
	qkey = (char *) quote_identifier(NameStr(TupleDescAttr(RelationGetDescr(rel), keyatt - 1)->attname));

	/* the rows written before this run visible */
	CommandCounterIncrement();
	target_max = target_value(psprintf("SELECT pg_catalog.max(%s)::pg_catalog.text FROM %s",
									   qkey, load->target_qname),
							  InvalidOid, NULL);
	if (target_max != NULL && !integer_text(target_max))
		elog(ERROR, "the target's highest key \"%s\" is no integer", target_max);

	/* the source's exact row count and highest key, in one statement */
	if (exact_count)
	{
		char	  **row = EtlPullQueryRow(conn,
										  psprintf("SELECT COUNT(*), MAX(%s) FROM %s.%s",
												   EtlPullQuoteIdent(key->name),
												   EtlPullQuoteIdent(source->db),
												   EtlPullQuoteIdent(source->table)),
										  2, false);

		source_count = psprintf(INT64_FORMAT,
								EtlPullReplyInt64(conn, row[0], "COUNT(*)"));
		if (row[1] != NULL)
		{
			if (!integer_text(row[1]))
				EtlPullBadReply(conn, psprintf("The highest key is \"%s\", not an integer.",
											   EtlPullPrintable(row[1], 64)));
			source_max = pstrdup(row[1]);
		}
	}

	/* the new rows, in key-range statements, merged by primary key */
	EtlPullProgressPhase(ETL_PHASE_MERGING);
	if (target_max != NULL)
		where = psprintf("%s > %s", EtlPullQuoteIdent(key->name), target_max);
	sink = EtlPullSinkBeginMerge(rel, table->batch_size, load->attnums,
								 source->ncolumns, indexoid, &merged);
	conv = EtlPullMakeConverters(table, source, RelationGetDescr(rel),
								 load->attnums);
	EtlPullRangeQueryStart(conn, source, key, where,
						   table->protocol == ETL_PROTOCOL_BINARY);
	EtlPullNativeFromConnection(conv, conn);
	while (EtlPullFetch(conn, &values, &lengths))
	{
		CHECK_FOR_INTERRUPTS();
		(void) EtlPullRowIntoSink(load, conv, sink, values, lengths);
		if (count_rows)
			EtlPullLoadRowDone(load, lengths);
		read++;
	}
	EtlPullQueryEnd(conn);
	EtlPullSinkFlush(sink);
	EtlPullSinkEnd(sink);
	CommandCounterIncrement();
	table_close(rel, NoLock);
	*merged_out = merged;
	statements = EtlPullLastReadStatements(conn, &longest);
	EtlPullRunNote(load->result, "%s: new rows only: " INT64_FORMAT " source rows past key %s read in %d statement%s (the longest %.0f ms), " INT64_FORMAT " merged",
				   label, read, target_max ? target_max : "(none: the target was empty)",
				   statements, statements == 1 ? "" : "s", longest, merged);

	if (!exact_count)
	{
		EtlPullRunNote(load->result, "%s: rows up to key %s not compared (full_compare_every = %d; engine %s keeps no exact row count, so none was checked): an edit, a delete or a late insert there waits for the next full comparison",
					   label, target_max ? target_max : "-", table->full_compare_every,
					   source->engine ? source->engine : "-");
		return false;
	}

	/* the target's rows up to the source's highest key, counted */
	{
		char	   *target_count;

		if (source_max != NULL)
			target_count = target_value(psprintf("SELECT pg_catalog.count(*)::pg_catalog.text FROM %s WHERE %s OPERATOR(pg_catalog.<=) $1",
												 load->target_qname, qkey),
										keytype, source_max);
		else
			target_count = target_value(psprintf("SELECT pg_catalog.count(*)::pg_catalog.text FROM %s",
												 load->target_qname),
										InvalidOid, NULL);
		if (strcmp(target_count, source_count) == 0)
		{
			EtlPullRunNote(load->result, "%s: rows up to key %s not compared (full_compare_every = %d): their count is the source's (%s), so none was deleted, but an edit waits for the next full comparison",
						   label, source_max ? source_max : "-", table->full_compare_every,
						   source_count);
			return false;
		}
		EtlPullRunNote(load->result, "%s: the source has %s rows up to key %s, the target %s: a row was deleted or inserted below the highest key; every row compared",
					   label, source_count, source_max ? source_max : "-", target_count);
	}
	{
		int64		merged_all;
		int64		deleted_all;

		(void) EtlPullDiffRefresh(load, label, count_rows, &merged_all,
								  &deleted_all);
		*merged_out += merged_all;
		*deleted_out = deleted_all;
	}
	return true;
}
