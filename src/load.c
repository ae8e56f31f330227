/*-------------------------------------------------------------------------
 *
 * load.c
 *		  One load of one table: plan it, stream the source, write the rows.
 *
 * Design.  A full load never writes into the live target.  With the stream
 * strategy it fills a transient heap that has the target's row type
 * (make_new_heap, as REFRESH MATERIALIZED VIEW does), using multi-insert
 * with skip-FSM and frozen tuples, which are safe because that heap is new
 * in this transaction.  When every row is in, the transient heap's storage
 * is swapped into the target (finish_heap_swap), which keeps the target's
 * OID, grants, dependent views and indexes, rebuilding the indexes in bulk
 * from the new rows.  During the load the target is held in ExclusiveLock:
 * readers go on reading the old rows, writers and a second load wait; only
 * the swap itself takes AccessExclusiveLock, waiting for it at most
 * etl_pull.swap_lock_timeout.  Any error before commit leaves the old rows
 * in place.  A target in a publication is never swapped (logical decoding
 * would not see the new storage): auto sends it to copy or standard.
 *
 * The parallel strategy is the stream strategy with its rows read by
 * background workers (parallel.c); this backend stays the only writer.
 * The copy strategy hands the rows to COPY FROM (copy.c), and the standard
 * strategy is the plain executor path (DELETE, then prepared INSERTs
 * through SPI): slower, but both honour triggers, rules and partitions
 * exactly as COPY and SQL would.  An incremental run stages the rows past
 * the watermark in a temporary table and merges them (incremental.c).
 *
 * The MySQL side reads under one consistent snapshot and streams rows with
 * mysql_use_result: memory is bounded by the batch, not the table.
 *
 * IDENTIFICATION
 *		  src/load.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/multixact.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_foreign_server.h"
#include "catalog/pg_namespace.h"
#include "catalog/pg_publication.h"
#include "catalog/pg_type.h"
#include "commands/cluster.h"
#include "executor/spi.h"
#include "foreign/foreign.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "storage/lmgr.h"
#include "utils/acl.h"
#include "utils/backend_progress.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/rls.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "etl_pull.h"
#include "parallel.h"

/*
 * Progress is published through the backend progress slots of COPY (the
 * only way without preloading), in slots that neither COPY nor an index
 * build during the swap writes.  The etl_pull.progress view reads them.
 */
#define PROGRESS_ETL_BYTES		7
#define PROGRESS_ETL_MAGIC		15
#define PROGRESS_ETL_PHASE		16
#define PROGRESS_ETL_ROWS		17
#define PROGRESS_ETL_ROWS_TOTAL 18
#define PROGRESS_ETL_STARTED	19
#define ETL_PROGRESS_MAGIC		0x45544c50	/* "ETLP" */
#define ETL_PHASE_STREAMING		1
#define ETL_PHASE_SWAPPING		2
#define ETL_PHASE_MERGING		3
#define ETL_PHASE_READING		4	/* a parallel worker */
#define PROGRESS_EVERY_ROWS		1024

/* State of a running load, shared by the phases below */
typedef struct LoadState
{
	EtlPullTable *table;
	EtlPullConnection *conn;
	EtlPullSource *source;
	Oid			target_oid;
	char	   *target_qname;	/* quoted schema.table */
	AttrNumber *attnums;		/* target attribute of each source column */
	EtlPullStrategy strategy;
	EtlPullRunResult *result;	/* filled in as the load goes */
	TimestampTz started;
	int64		last_progress_rows;
	int		   *incremental_cols;	/* source index of each incremental column */
} LoadState;

static void check_target_privileges(LoadState *ls, AclMode mode);

/*
 * Find the target table; InvalidOid if it does not exist yet.
 */
static Oid
lookup_target(LoadState *ls)
{
	Oid			nspid;
	Oid			relid;
	AclResult	aclresult;

	EtlPullCheckTargetSchema(ls->table->target_schema);
	nspid = get_namespace_oid(ls->table->target_schema, false);
	ls->target_qname = quote_qualified_identifier(ls->table->target_schema,
												  ls->table->target_table);

	/* as SQL naming the table would: USAGE on its schema */
#if PG_VERSION_NUM >= 160000
	aclresult = object_aclcheck(NamespaceRelationId, nspid, GetUserId(),
								ACL_USAGE);
#else
	aclresult = pg_namespace_aclcheck(nspid, GetUserId(), ACL_USAGE);
#endif
	if (aclresult != ACLCHECK_OK)
		aclcheck_error(aclresult, OBJECT_SCHEMA, ls->table->target_schema);

	relid = get_relname_relid(ls->table->target_table, nspid);
	if (OidIsValid(relid))
		EtlPullCheckTargetRelation(relid, ls->target_qname);
	return relid;
}

/* Every column_types override must name a source column */
static void
check_column_types(LoadState *ls)
{
	ListCell   *lc;

	foreach(lc, ls->table->column_types)
	{
		EtlPullColumnType *ct = (EtlPullColumnType *) lfirst(lc);
		int			i;

		for (i = 0; i < ls->source->ncolumns; i++)
			if (pg_strcasecmp(ct->column, ls->source->columns[i].name) == 0)
				break;
		if (i == ls->source->ncolumns)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_COLUMN),
					 errmsg("\"column_types\" of table \"%s\" names column \"%s\", which MySQL table \"%s.%s\" does not have",
							ls->table->name, ct->column, ls->source->db, ls->source->table)));
	}
}

/*
 * The type of a created target's column: the table's override, checked
 * against the source column, or the lossless default.
 */
static const char *
target_type(LoadState *ls, EtlPullSourceColumn *col)
{
	ListCell   *lc;

	foreach(lc, ls->table->column_types)
	{
		EtlPullColumnType *ct = (EtlPullColumnType *) lfirst(lc);

		if (pg_strcasecmp(ct->column, col->name) == 0)
		{
			EtlPullCheckTypeOverride(ls->source, col, ct->type_name);
			return ct->type_name;
		}
	}
	return EtlPullTargetTypeName(col);
}

/*
 * Create the target with the lossless mapping of the source's columns and
 * its primary key.  Returns its OID.
 */
static Oid
create_target(LoadState *ls)
{
	EtlPullTable *t = ls->table;
	StringInfoData sql;
	List	   *pk = NIL;
	int			i;
	ListCell   *lc;

	initStringInfo(&sql);
	appendStringInfo(&sql, "CREATE TABLE %s (", ls->target_qname);
	for (i = 0; i < ls->source->ncolumns; i++)
	{
		EtlPullSourceColumn *col = &ls->source->columns[i];
		bool		notnull = !col->nullable;

		/* MySQL's NOT NULL dates may hold zero dates, which load as NULL */
		if ((col->kind == SRC_DATE || col->kind == SRC_DATETIME ||
			 col->kind == SRC_TIMESTAMP) &&
			t->zero_dates == ETL_ZERO_DATES_NULL && col->pk_position == 0)
			notnull = false;
		appendStringInfo(&sql, "%s%s %s%s", i > 0 ? ", " : "",
						 quote_identifier(col->target_name),
						 target_type(ls, col),
						 notnull ? " NOT NULL" : "");
	}
	foreach(lc, EtlPullSourceKey(ls->source))
		pk = lappend(pk, ((EtlPullSourceColumn *) lfirst(lc))->target_name);
	if (pk != NIL)
	{
		appendStringInfoString(&sql, ", PRIMARY KEY (");
		foreach(lc, pk)
			appendStringInfo(&sql, "%s%s", lc == list_head(pk) ? "" : ", ",
							 quote_identifier((char *) lfirst(lc)));
		appendStringInfoChar(&sql, ')');
	}
	appendStringInfoChar(&sql, ')');

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute(sql.data, false, 0) != SPI_OK_UTILITY)
		elog(ERROR, "could not create table %s", ls->target_qname);
	SPI_finish();
	CommandCounterIncrement();

	ereport(NOTICE,
			(errmsg("created table %s", ls->target_qname)));
	return get_relname_relid(t->target_table,
							 get_namespace_oid(t->target_schema, false));
}

/*
 * Match every source column to a target attribute by name.  A source
 * column the target lacks is an error before any row moves.
 */
static void
match_columns(LoadState *ls, Relation rel)
{
	TupleDesc	tupdesc = RelationGetDescr(rel);
	int			i;

	ls->attnums = palloc0(sizeof(AttrNumber) * ls->source->ncolumns);
	for (i = 0; i < ls->source->ncolumns; i++)
	{
		EtlPullSourceColumn *col = &ls->source->columns[i];
		int			a;

		for (a = 0; a < tupdesc->natts; a++)
		{
			Form_pg_attribute att = TupleDescAttr(tupdesc, a);

			if (!att->attisdropped &&
				strcmp(NameStr(att->attname), col->target_name) == 0)
			{
				if (att->attgenerated)
					ereport(ERROR,
							(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
							 errmsg("column \"%s\" of table %s is a generated column",
									col->target_name, ls->target_qname)));
				ls->attnums[i] = att->attnum;
				break;
			}
		}
		if (ls->attnums[i] == 0)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_COLUMN),
					 errmsg("column \"%s\" of MySQL table \"%s.%s\" has no counterpart in table %s",
							col->name, ls->source->db, ls->source->table,
							ls->target_qname),
					 errhint("Add a column \"%s\" of type %s to the target, or drop the target and let etl_pull create it.",
							 col->target_name, EtlPullTargetTypeName(col))));
	}
}

/*
 * The name of a publication the target is in (by name, through its
 * schema, or FOR ALL TABLES), or NULL.
 */
static char *
target_publication(Relation rel)
{
	List	   *pubs;

	if (!is_publishable_relation(rel))
		return NULL;
	pubs = GetRelationPublications(RelationGetRelid(rel));
	pubs = list_concat(pubs, GetSchemaPublications(RelationGetNamespace(rel)));
	pubs = list_concat(pubs, GetAllTablesPublications());
	if (pubs == NIL)
		return NULL;
	return get_publication_name(linitial_oid(pubs), false);
}

/*
 * Why the stream strategy cannot load this target, or NULL if it can.  It
 * swaps the target's storage, so it needs a plain heap whose triggers,
 * rules and row security a swap would not bypass, and which no
 * publication replicates: logical decoding does not see a new relfilenode,
 * so subscribers would keep the old rows.
 */
static const char *
stream_unsuitable(Relation rel)
{
	char	   *pubname;

	if (rel->rd_rel->relkind == RELKIND_PARTITIONED_TABLE)
		return "the target is partitioned";
	if (rel->rd_rel->relkind == RELKIND_FOREIGN_TABLE)
		return "the target is a foreign table";
	if (rel->rd_rel->relkind != RELKIND_RELATION)
		return "the target is not a table";
	if (rel->rd_rel->relispartition)
		return "the target is a partition";
	if (rel->trigdesc != NULL)
		return "the target has triggers";
	if (rel->rd_rules != NULL)
		return "the target has rules";
	if (rel->rd_rel->relrowsecurity)
		return "the target has row-level security";
	if (rel->rd_att->constr && rel->rd_att->constr->has_generated_stored)
		return "the target has generated columns";
	if ((pubname = target_publication(rel)) != NULL)
		return psprintf("the target is in publication \"%s\"", pubname);
	return NULL;
}

/* Why COPY cannot load this target, or NULL if it can (as DoCopy checks) */
static const char *
copy_unsuitable(LoadState *ls, Relation rel)
{
	if (ls->table->on_error == ETL_ON_ERROR_REJECT)
		return "on_error is reject, which COPY cannot do";
	if (check_enable_rls(RelationGetRelid(rel), InvalidOid, true) == RLS_ENABLED)
		return "the target has row-level security";
	if (rel->rd_rel->relkind == RELKIND_VIEW)
		return "the target is a view";
	return NULL;
}


/*
 * Pick the strategy: what the table asks for, or (auto) by the table's
 * size and what the target allows, using the etl_pull.*_threshold_*
 * settings.  The reason goes into the run record.
 */
static void
choose_strategy(LoadState *ls, Relation rel)
{
	const char *no_stream = stream_unsuitable(rel);
	const char *no_copy = copy_unsuitable(ls, rel);
	double		size_mb;
	const char *size_from;

	if (!EtlPullEnableOptimizations)
	{
		ls->strategy = ETL_STRATEGY_STANDARD;
		ls->result->strategy_reason = "etl_pull.enable_optimizations is off";
		return;
	}

	switch (ls->table->strategy)
	{
		case ETL_STRATEGY_AUTO:
			break;
		case ETL_STRATEGY_STREAM:
			if (no_stream)
				ereport(ERROR,
						(errcode(ERRCODE_WRONG_OBJECT_TYPE),
						 errmsg("strategy \"stream\" cannot load table %s because %s",
								ls->target_qname, no_stream),
						 errhint("Use strategy \"copy\", \"standard\" or \"auto\" for this table.")));
			ls->strategy = ETL_STRATEGY_STREAM;
			ls->result->strategy_reason = "set for the table";
			return;
		case ETL_STRATEGY_COPY:
			if (no_copy)
				ereport(ERROR,
						(errcode(ERRCODE_WRONG_OBJECT_TYPE),
						 errmsg("strategy \"copy\" cannot load table %s because %s",
								ls->target_qname, no_copy),
						 errhint("Use strategy \"standard\" or \"auto\" for this table.")));
			ls->strategy = ETL_STRATEGY_COPY;
			ls->result->strategy_reason = "set for the table";
			return;
		case ETL_STRATEGY_STANDARD:
			ls->strategy = ETL_STRATEGY_STANDARD;
			ls->result->strategy_reason = "set for the table";
			return;
		case ETL_STRATEGY_PARALLEL:
			if (no_stream)
				ereport(ERROR,
						(errcode(ERRCODE_WRONG_OBJECT_TYPE),
						 errmsg("strategy \"parallel\" cannot load table %s because %s",
								ls->target_qname, no_stream),
						 errhint("Use strategy \"copy\", \"standard\" or \"auto\" for this table.")));
			ls->strategy = ETL_STRATEGY_PARALLEL;
			ls->result->strategy_reason = "set for the table";
			return;
	}

	/* auto: by size, measured at the source unless the table says */
	if (ls->table->estimated_size_mb >= 0)
	{
		size_mb = ls->table->estimated_size_mb;
		size_from = "estimated_size_mb";
	}
	else
	{
		size_mb = ls->source->estimated_bytes / (1024.0 * 1024.0);
		size_from = "measured";
	}

	if (!no_stream && EtlPullParallelThresholdRows > 0 &&
		ls->source->estimated_rows >= EtlPullParallelThresholdRows &&
		EtlPullIntegerKey(ls->source) != NULL)
	{
		ls->strategy = ETL_STRATEGY_PARALLEL;
		ls->result->strategy_reason =
			psprintf("auto: " INT64_FORMAT " rows >= etl_pull.parallel_threshold_rows (%d), plain table with an integer key",
					 ls->source->estimated_rows, EtlPullParallelThresholdRows);
	}
	else if (!no_stream && size_mb >= EtlPullStreamThresholdMb)
	{
		ls->strategy = ETL_STRATEGY_STREAM;
		ls->result->strategy_reason =
			psprintf("auto: %.1f MB (%s) >= etl_pull.stream_threshold_mb (%g MB), plain table",
					 size_mb, size_from, EtlPullStreamThresholdMb);
	}
	else if (!no_copy && size_mb >= EtlPullCopyThresholdMb)
	{
		ls->strategy = ETL_STRATEGY_COPY;
		ls->result->strategy_reason =
			psprintf("auto: %s; %.1f MB (%s) >= etl_pull.copy_threshold_mb (%g MB)",
					 no_stream ? no_stream : "below the stream threshold",
					 size_mb, size_from, EtlPullCopyThresholdMb);
	}
	else
	{
		ls->strategy = ETL_STRATEGY_STANDARD;
		ls->result->strategy_reason =
			psprintf("auto: %s; %s",
					 no_stream ? no_stream :
					 psprintf("%.1f MB (%s) < etl_pull.stream_threshold_mb (%g MB)",
							  size_mb, size_from, EtlPullStreamThresholdMb),
					 no_copy ? no_copy :
					 psprintf("%.1f MB < etl_pull.copy_threshold_mb (%g MB)",
							  size_mb, EtlPullCopyThresholdMb));
	}
}

/*
 * Check the calling role's rights on the target, as the DML would: every
 * privilege in "mode" is required.
 */
static void
check_target_privileges(LoadState *ls, AclMode mode)
{
	const AclMode each[] = {ACL_INSERT, ACL_UPDATE, ACL_DELETE, ACL_TRUNCATE};
	int			i;

	for (i = 0; i < lengthof(each); i++)
	{
		AclResult	aclresult;

		if ((mode & each[i]) == 0)
			continue;
		aclresult = pg_class_aclcheck(ls->target_oid, GetUserId(), each[i]);
		if (aclresult != ACLCHECK_OK)
			aclcheck_error(aclresult,
						   get_relkind_objtype(get_rel_relkind(ls->target_oid)),
						   get_rel_name(ls->target_oid));
	}
}

/* Log a progress line every etl_pull.progress_rows rows */
static void
report_progress(LoadState *ls)
{
	TimestampTz now = GetCurrentTimestamp();
	long		secs;
	int			usecs;
	double		elapsed;

	TimestampDifference(ls->started, now, &secs, &usecs);
	elapsed = secs + usecs / 1000000.0;
	ereport(EtlPullProgressMessages == 2 ? NOTICE : LOG,
			(errmsg("etl_pull: %s: " INT64_FORMAT " rows in %.1f s (%.0f rows/s), backend peak memory " INT64_FORMAT " kB",
					ls->table->name, ls->result->rows, elapsed,
					elapsed > 0 ? ls->result->rows / elapsed : 0.0,
					EtlPullPeakMemoryKb())));
	ls->last_progress_rows = ls->result->rows;
}

/* Start publishing progress for the target */
static void
progress_start(LoadState *ls)
{
	const int	index[] = {PROGRESS_ETL_MAGIC, PROGRESS_ETL_PHASE,
	PROGRESS_ETL_ROWS_TOTAL, PROGRESS_ETL_STARTED};
	int64		val[4];

	val[0] = ETL_PROGRESS_MAGIC;
	val[1] = ETL_PHASE_STREAMING;
	val[2] = ls->source->estimated_rows;
	/* as Unix microseconds, for to_timestamp() in the view */
	val[3] = ls->started +
		(int64) (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * USECS_PER_DAY;
	pgstat_progress_start_command(PROGRESS_COMMAND_COPY, ls->target_oid);
	pgstat_progress_update_multi_param(4, index, val);
}

/*
 * Progress of a parallel worker (phase "reading"): set up with start, then
 * rows read.  The worker has started the COPY progress command.
 */
void
EtlPullReportWorkerProgress(int64 rows, bool start)
{
	if (start)
	{
		pgstat_progress_update_param(PROGRESS_ETL_MAGIC, ETL_PROGRESS_MAGIC);
		pgstat_progress_update_param(PROGRESS_ETL_PHASE, ETL_PHASE_READING);
		pgstat_progress_update_param(PROGRESS_ETL_STARTED,
									 GetCurrentTimestamp() +
									 (int64) (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * USECS_PER_DAY);
	}
	pgstat_progress_update_param(PROGRESS_ETL_ROWS, rows);
}

static void
progress_phase(int phase)
{
	pgstat_progress_update_param(PROGRESS_ETL_PHASE, phase);
}

/* Count a row of "bytes" bytes: run totals, progress slots, messages */
static inline void
count_row(LoadState *ls, int64 bytes)
{
	ls->result->rows++;
	ls->result->bytes += bytes;
	if (ls->result->rows % PROGRESS_EVERY_ROWS == 0)
	{
		const int	index[] = {PROGRESS_ETL_ROWS, PROGRESS_ETL_BYTES};
		int64		val[2];

		val[0] = ls->result->rows;
		val[1] = ls->result->bytes;
		pgstat_progress_update_multi_param(2, index, val);
	}
	if (EtlPullProgressMessages > 0 && EtlPullProgressRows > 0 &&
		ls->result->rows - ls->last_progress_rows >= EtlPullProgressRows)
		report_progress(ls);
}

/* Count a MySQL row */
static inline void
row_done(LoadState *ls, unsigned long *lengths)
{
	int64		bytes = 0;
	int			i;

	for (i = 0; i < ls->source->ncolumns; i++)
		bytes += lengths[i];
	count_row(ls, bytes);
}

/*
 * Convert a row; with on_error = reject, a row that cannot be converted is
 * recorded in etl_pull.rejects and false returned.
 */
static bool
convert_row(LoadState *ls, EtlPullConverter *conv, char **values,
			unsigned long *lengths, Datum *datums, bool *nulls)
{
	EtlPullReject reject;

	if (ls->table->on_error != ETL_ON_ERROR_REJECT)
	{
		EtlPullConvertRow(conv, values, lengths, datums, nulls);
		return true;
	}
	if (EtlPullConvertRowOrReject(conv, values, lengths, datums, nulls, &reject))
		return true;
	EtlPullRecordReject(ls->table, ls->result->run_id, &reject);
	ls->result->rejected_rows++;
	return false;
}

/*
 * Where a load's rows come from: one streamed query on the load's own
 * connection, or the parallel strategy's workers.
 */
typedef struct RowSource
{
	EtlPullConnection *conn;
	EtlPullParallel *par;
	unsigned long *lengths_buf; /* for rows from workers */
} RowSource;

static inline bool
next_row(RowSource *rs, char ***values, unsigned long **lengths)
{
	if (rs->par)
		return EtlPullParallelNext(rs->par, values, lengths, rs->lengths_buf);
	return EtlPullFetch(rs->conn, values, lengths);
}

/* A copy of "len" bytes, NUL bytes and all, NUL-terminated */
static char *
copy_value(const char *s, unsigned long len)
{
	char	   *c = palloc(len + 1);

	memcpy(c, s, len);
	c[len] = '\0';
	return c;
}

/*
 * Rows into a sink when on_error = reject and the converters run code we
 * do not know (a domain's CHECK, an enum's or an extension type's input
 * function), whose errors may only be caught by rolling back a
 * subtransaction.  A batch of rows is copied and converted in one
 * subtransaction; if any row fails, the batch is converted again row by
 * row, each in its own subtransaction (EtlPullConvertRowOrReject), so the
 * bad rows are rejected and the good ones kept.
 */
static void
rows_into_sink_checked(LoadState *ls, RowSource *rs, EtlPullConverter *conv,
					   EtlPullSink *sink, int natts)
{
	int			ncols = ls->source->ncolumns;
	int			cap = ls->table->batch_size;
	MemoryContext batchcxt;
	MemoryContext oldcxt;
	char	 ***rows = palloc(sizeof(char **) * cap);
	unsigned long **lens = palloc(sizeof(unsigned long *) * cap);
	Datum	  **datums = palloc(sizeof(Datum *) * cap);
	bool	  **nulls = palloc(sizeof(bool *) * cap);
	char	  **values;
	unsigned long *lengths;
	bool		more = true;

	batchcxt = AllocSetContextCreate(CurrentMemoryContext,
									 "etl_pull reject batch",
									 ALLOCSET_DEFAULT_SIZES);
	while (more)
	{
		int			n = 0;
		int			k;
		int			i;
		bool		ok;

		MemoryContextReset(batchcxt);
		oldcxt = MemoryContextSwitchTo(batchcxt);
		while (n < cap && (more = next_row(rs, &values, &lengths)))
		{
			CHECK_FOR_INTERRUPTS();
			rows[n] = palloc(sizeof(char *) * ncols);
			lens[n] = palloc(sizeof(unsigned long) * ncols);
			for (i = 0; i < ncols; i++)
			{
				rows[n][i] = values[i] ? copy_value(values[i], lengths[i]) : NULL;
				lens[n][i] = lengths[i];
			}
			datums[n] = palloc(sizeof(Datum) * natts);
			nulls[n] = palloc(sizeof(bool) * natts);
			row_done(ls, lengths);
			n++;
		}
		if (n == 0)
		{
			MemoryContextSwitchTo(oldcxt);
			break;
		}
		ok = EtlPullConvertRowsTry(conv, n, rows, lens, datums, nulls);
		MemoryContextSwitchTo(oldcxt);
		for (k = 0; k < n; k++)
		{
			Datum	   *d;
			bool	   *nl;

			CHECK_FOR_INTERRUPTS();
			if (ok)
			{
				EtlPullSinkAddValues(sink, datums[k], nulls[k]);
				continue;
			}
			EtlPullSinkNext(sink, &d, &nl);
			if (convert_row(ls, conv, rows[k], lens[k], d, nl))
				EtlPullSinkRowDone(sink);
			else
				EtlPullSinkRowSkip(sink);
		}
	}
	MemoryContextDelete(batchcxt);
}

/*
 * Convert the rows of a row source into a sink.  The sink's target
 * supplies the row type.
 */
static void
rows_into_sink(LoadState *ls, RowSource *rs, Relation target,
			   AttrNumber *attnums, EtlPullSink *sink)
{
	EtlPullConverter *conv;
	char	  **values;
	unsigned long *lengths;

	conv = EtlPullMakeConverters(ls->table, ls->source,
								 RelationGetDescr(target), attnums);
	if (ls->table->on_error == ETL_ON_ERROR_REJECT && !EtlPullConvertersTrusted(conv))
	{
		rows_into_sink_checked(ls, rs, conv, sink, RelationGetDescr(target)->natts);
		EtlPullSinkEnd(sink);
		return;
	}
	while (next_row(rs, &values, &lengths))
	{
		Datum	   *datums;
		bool	   *nulls;

		CHECK_FOR_INTERRUPTS();
		EtlPullSinkNext(sink, &datums, &nulls);
		if (convert_row(ls, conv, values, lengths, datums, nulls))
			EtlPullSinkRowDone(sink);
		else
			EtlPullSinkRowSkip(sink);
		row_done(ls, lengths);
	}
	EtlPullSinkEnd(sink);
}

/*
 * Stream the source's rows (those "where" selects, or all) into a sink.
 */
static void
stream_into_sink(LoadState *ls, Relation target, AttrNumber *attnums,
				 EtlPullSink *sink, const char *where)
{
	RowSource	rs = {ls->conn, NULL, NULL};

	EtlPullQueryStart(ls->conn, EtlPullSourceSelect(ls->source, where),
					  ls->source->ncolumns);
	rows_into_sink(ls, &rs, target, attnums, sink);
	EtlPullQueryEnd(ls->conn);
}

/*
 * Upgrade the target's lock to AccessExclusiveLock for the swap, waiting
 * at most etl_pull.swap_lock_timeout (as lock_timeout, for this one wait).
 * A deadlock is still detected after deadlock_timeout, with PostgreSQL's
 * own error; a timeout is an error that says what was waited for.
 */
static void
lock_for_swap(LoadState *ls)
{
	MemoryContext cxt = CurrentMemoryContext;
	int			nestlevel = NewGUCNestLevel();

	(void) set_config_option("lock_timeout",
							 psprintf("%d", EtlPullSwapLockTimeout),
							 PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE,
							 true, 0, false);
	PG_TRY();
	{
		LockRelationOid(ls->target_oid, AccessExclusiveLock);
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(cxt);
		edata = CopyErrorData();
		if (edata->sqlerrcode != ERRCODE_LOCK_NOT_AVAILABLE)
			PG_RE_THROW();
		FlushErrorState();
		ereport(ERROR,
				(errcode(ERRCODE_LOCK_NOT_AVAILABLE),
				 errmsg("could not lock table %s to swap in the loaded rows",
						ls->target_qname),
				 errdetail("Other sessions held locks on the table for longer than etl_pull.swap_lock_timeout (%d ms).",
						   EtlPullSwapLockTimeout),
				 errhint("Find the sessions in pg_locks, or raise etl_pull.swap_lock_timeout; the target keeps its old rows.")));
	}
	PG_END_TRY();
	AtEOXact_GUC(true, nestlevel);
}

/*
 * Swap a filled transient heap into the target: the only moment readers
 * wait.  The MySQL side is closed first, letting MySQL purge.
 */
static void
swap_into_target(LoadState *ls, Oid newheap, char relpersistence)
{
	if (ls->conn)
	{
		EtlPullDisconnect(ls->conn);
		ls->conn = NULL;
	}
	progress_phase(ETL_PHASE_SWAPPING);
	lock_for_swap(ls);
	finish_heap_swap(ls->target_oid, newheap, false, false, true, true,
					 RecentXmin, ReadNextMultiXactId(), relpersistence);
}

/*
 * Stream strategy: fill a transient heap through the sink, then swap it in.
 */
static void
load_stream(LoadState *ls, Relation rel)
{
	Oid			newheap;
	Relation	newrel;
	char		relpersistence = rel->rd_rel->relpersistence;

	newheap = make_new_heap(ls->target_oid, rel->rd_rel->reltablespace,
							rel->rd_rel->relam, relpersistence,
							ExclusiveLock);
	newrel = table_open(newheap, NoLock);
	stream_into_sink(ls, rel, ls->attnums,
					 EtlPullSinkBegin(rel, newrel, ls->table->batch_size,
									  TABLE_INSERT_SKIP_FSM | TABLE_INSERT_FROZEN,
									  ls->attnums, ls->source->ncolumns, false),
					 NULL);
	table_close(newrel, NoLock);
	table_close(rel, NoLock);
	swap_into_target(ls, newheap, relpersistence);
}

/*
 * Whether the parallel workers can convert the rows themselves: only the
 * NOT NULL constraints to check (the workers do), no default to fill, no
 * row to reject (rejects are written in this backend's transaction), and
 * only converters that run no user code (a domain's CHECK or a type's
 * input function may run SQL, which needs this backend's snapshot).
 */
static bool
workers_can_convert(LoadState *ls, Relation rel)
{
	TupleDesc	tupdesc = RelationGetDescr(rel);
	int			a;

	if (ls->table->on_error == ETL_ON_ERROR_REJECT)
		return false;
	if (tupdesc->constr && tupdesc->constr->num_check > 0)
		return false;
	if (!EtlPullConvertersTrusted(EtlPullMakeConverters(ls->table, ls->source,
														tupdesc, ls->attnums)))
		return false;
	for (a = 1; a <= tupdesc->natts; a++)
	{
		Form_pg_attribute att = TupleDescAttr(tupdesc, a - 1);
		int			i;

		if (att->attisdropped)
			continue;
		for (i = 0; i < ls->source->ncolumns; i++)
			if (ls->attnums[i] == a)
				break;
		if (i == ls->source->ncolumns &&
			(att->atthasdef || get_typtype(att->atttypid) == TYPTYPE_DOMAIN))
			return false;
	}
	return true;
}

/*
 * Parallel strategy: as stream, but the rows are read by background
 * workers, key range by key range, under one snapshot (parallel.c).  When
 * the target allows it the workers also convert the rows and send formed
 * tuples, leaving this backend only the writing.
 */
static void
load_parallel(LoadState *ls, Relation rel)
{
	Oid			newheap;
	Relation	newrel;
	char		relpersistence = rel->rd_rel->relpersistence;
	RowSource	rs = {NULL, NULL, NULL};
	char	   *position;
	EtlPullSink *sink;
	bool		tuples;
	int64		rows_before = ls->result->rows;

	newheap = make_new_heap(ls->target_oid, rel->rd_rel->reltablespace,
							rel->rd_rel->relam, relpersistence,
							ExclusiveLock);
	newrel = table_open(newheap, NoLock);
	tuples = workers_can_convert(ls, rel);
	rs.par = EtlPullParallelBegin(ls->conn, ls->table, ls->source, rel, ls->attnums,
								  tuples, ls->table->parallel_chunks, &position);
	ls->result->source_position = position;
	sink = EtlPullSinkBegin(rel, newrel, ls->table->batch_size,
							TABLE_INSERT_SKIP_FSM | TABLE_INSERT_FROZEN,
							ls->attnums, ls->source->ncolumns, tuples);
	if (tuples)
	{
		MinimalTuple tuple;

		while (EtlPullParallelNextTuple(rs.par, &tuple))
		{
			CHECK_FOR_INTERRUPTS();
			EtlPullSinkAddTuple(sink, tuple);
			count_row(ls, tuple->t_len);
		}
		EtlPullSinkEnd(sink);
	}
	else
	{
		rs.lengths_buf = palloc(sizeof(unsigned long) * ls->source->ncolumns);
		rows_into_sink(ls, &rs, rel, ls->attnums, sink);
	}
	EtlPullParallelEnd(rs.par, ls->result->rows - rows_before);
	table_close(newrel, NoLock);
	table_close(rel, NoLock);
	swap_into_target(ls, newheap, relpersistence);
}

/*
 * DELETE the target's rows through SQL, so that its triggers and rules
 * run and readers keep seeing the old rows until commit.
 */
static void
delete_target_rows(LoadState *ls)
{
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute(psprintf("DELETE FROM %s", ls->target_qname), false, 0) != SPI_OK_DELETE)
		elog(ERROR, "could not delete the rows of %s", ls->target_qname);
	SPI_finish();
}

/*
 * Incremental run: stream the rows at or past the watermark into a
 * temporary staging table, merge them into the target by primary key
 * (plain SQL, so the target's triggers and constraints apply), then,
 * if asked, delete the target rows gone from the source.
 */
static void
load_incremental(LoadState *ls, Relation rel, const char *where,
				 List *reload_bounds)
{
	char	   *stage_name = psprintf("etl_pull_stage_%u", ls->target_oid);
	char	   *stage_qname = quote_qualified_identifier("pg_temp", stage_name);
	Oid			stage_oid;
	Relation	stage;
	LoadState	stage_ls;
	List	   *columns = NIL;
	List	   *pk = NIL;
	int			i;
	ListCell   *lc;

	/*
	 * Append-only: the target's copies of the rows pulled again go first
	 * (all of them when everything is pulled again).
	 */
	if (ls->table->append_only)
	{
		if (where != NULL)
			(void) EtlPullDeleteReloaded(ls->table, ls->source, rel,
										 ls->target_qname, ls->attnums,
										 ls->incremental_cols, reload_bounds);
		else
			delete_target_rows(ls);
	}
	table_close(rel, NoLock);

	/* a staging table left by an earlier load in this transaction goes */
	if (OidIsValid(RangeVarGetRelid(makeRangeVar("pg_temp", stage_name, -1),
									NoLock, true)))
	{
		if (SPI_connect() != SPI_OK_CONNECT)
			elog(ERROR, "SPI_connect failed");
		SPI_execute(psprintf("DROP TABLE %s", stage_qname), false, 0);
		SPI_finish();
	}
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute(psprintf("CREATE TEMP TABLE %s (LIKE %s) ON COMMIT DROP",
							 quote_identifier(stage_name), ls->target_qname),
					false, 0) != SPI_OK_UTILITY)
		elog(ERROR, "could not create staging table %s", stage_qname);
	SPI_finish();
	CommandCounterIncrement();

	stage_oid = get_relname_relid(stage_name, LookupExplicitNamespace("pg_temp", false));
	stage = table_open(stage_oid, AccessExclusiveLock);
	stage_ls = *ls;
	stage_ls.target_qname = stage_qname;
	match_columns(&stage_ls, stage);
	stream_into_sink(ls, stage, stage_ls.attnums,
					 EtlPullSinkBegin(stage, stage, ls->table->batch_size,
									  TABLE_INSERT_SKIP_FSM, NULL, 0, false),
					 where);
	table_close(stage, NoLock);

	progress_phase(ETL_PHASE_MERGING);
	for (i = 0; i < ls->source->ncolumns; i++)
		columns = lappend(columns,
						  (char *) quote_identifier(ls->source->columns[i].target_name));
	if (!ls->table->append_only)
		foreach(lc, EtlPullSourceKey(ls->source))
			pk = lappend(pk, (char *) quote_identifier(((EtlPullSourceColumn *) lfirst(lc))->target_name));
	ls->result->merged_rows = EtlPullMerge(ls->target_qname, stage_qname,
										   columns, pk);

	if (ls->table->delete_missing)
	{
		List	   *key = EtlPullSourceKey(ls->source);

		if (list_length(key) != 1 || pk == NIL)
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("\"delete_missing\" needs a single-column integer primary key")));
		ls->result->deleted_rows =
			EtlPullDeleteMissing(ls->conn, ls->source,
								 (EtlPullSourceColumn *) linitial(key),
								 ls->target_qname);
	}

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	SPI_execute(psprintf("DROP TABLE %s", stage_qname), false, 0);
	SPI_finish();
}

/*
 * Standard strategy: DELETE and INSERT through SPI, one row at a time.
 */
static void
load_standard(LoadState *ls, Relation rel)
{
	int			n = ls->source->ncolumns;
	TupleDesc	tupdesc = RelationGetDescr(rel);
	Oid		   *argtypes = palloc(sizeof(Oid) * n);
	Datum	   *args = palloc(sizeof(Datum) * n);
	char	   *argnulls = palloc(n + 1);
	Datum	   *datums = palloc(sizeof(Datum) * tupdesc->natts);
	bool	   *nulls = palloc(sizeof(bool) * tupdesc->natts);
	EtlPullConverter *conv;
	StringInfoData sql;
	SPIPlanPtr	plan;
	MemoryContext rowcxt;
	MemoryContext oldcxt;
	char	  **values;
	unsigned long *lengths;
	int			i;

	conv = EtlPullMakeConverters(ls->table, ls->source, tupdesc, ls->attnums);

	initStringInfo(&sql);
	appendStringInfo(&sql, "INSERT INTO %s (", ls->target_qname);
	for (i = 0; i < n; i++)
	{
		Form_pg_attribute att = TupleDescAttr(tupdesc, ls->attnums[i] - 1);

		argtypes[i] = att->atttypid;
		appendStringInfo(&sql, "%s%s", i > 0 ? ", " : "",
						 quote_identifier(NameStr(att->attname)));
	}
	appendStringInfoString(&sql, ") VALUES (");
	for (i = 0; i < n; i++)
		appendStringInfo(&sql, "%s$%d", i > 0 ? ", " : "", i + 1);
	appendStringInfoChar(&sql, ')');
	argnulls[n] = '\0';

	delete_target_rows(ls);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	plan = SPI_prepare(sql.data, n, argtypes);
	if (plan == NULL)
		elog(ERROR, "could not prepare \"%s\": %s", sql.data,
			 SPI_result_code_string(SPI_result));

	rowcxt = AllocSetContextCreate(CurrentMemoryContext, "etl_pull row context",
								   ALLOCSET_DEFAULT_SIZES);
	EtlPullQueryStart(ls->conn, EtlPullSourceSelect(ls->source, NULL),
					  ls->source->ncolumns);
	while (EtlPullFetch(ls->conn, &values, &lengths))
	{
		CHECK_FOR_INTERRUPTS();
		oldcxt = MemoryContextSwitchTo(rowcxt);
		if (convert_row(ls, conv, values, lengths, datums, nulls))
		{
			for (i = 0; i < n; i++)
			{
				args[i] = datums[ls->attnums[i] - 1];
				argnulls[i] = nulls[ls->attnums[i] - 1] ? 'n' : ' ';
			}
			if (SPI_execute_plan(plan, args, argnulls, false, 0) != SPI_OK_INSERT)
				elog(ERROR, "could not insert into %s", ls->target_qname);
		}
		MemoryContextSwitchTo(oldcxt);
		MemoryContextReset(rowcxt);
		row_done(ls, lengths);
	}
	EtlPullQueryEnd(ls->conn);
	SPI_finish();
	table_close(rel, NoLock);
}

/* Row callback of the copy strategy */
static void
copy_row_done(void *arg, unsigned long *lengths)
{
	LoadState  *ls = (LoadState *) arg;

	/* COPY restarted the progress slots: publish ours again */
	if (ls->result->rows == 0)
		progress_start(ls);
	row_done(ls, lengths);
}

/*
 * Copy strategy: DELETE the old rows (readers keep seeing them until
 * commit), then COPY FROM the stream.
 */
static void
load_copy(LoadState *ls, Relation rel)
{
	delete_target_rows(ls);
	EtlPullQueryStart(ls->conn, EtlPullSourceSelect(ls->source, NULL),
					  ls->source->ncolumns);
	(void) EtlPullCopyRows(ls->conn, ls->table, ls->source, rel, ls->attnums,
						   copy_row_done, ls);
	EtlPullQueryEnd(ls->conn);
	table_close(rel, NoLock);
}

/*
 * Load one registered table.  Everything happens in the caller's
 * transaction: on error nothing of it remains.  *result is filled in as
 * the load goes (strategy, rows so far), so a failed run can be recorded
 * with what it had done.
 */
void
EtlPullLoadTable(EtlPullTable *table, bool force_full, EtlPullRunResult *result)
{
	LoadState	ls;
	ForeignServer *server;
	AclResult	aclresult;
	Relation	rel;
	const char *db;
	List	   *watermark = NIL;
	List	   *new_watermark = NIL;
	char	   *where = NULL;
	List	   *reload_bounds = NIL;
	bool		incremental_run = false;

	memset(&ls, 0, sizeof(ls));
	ls.table = table;
	ls.result = result;
	ls.started = GetCurrentTimestamp();
	result->extraction = "full";

	server = GetForeignServer(table->serverid);
#if PG_VERSION_NUM >= 160000
	aclresult = object_aclcheck(ForeignServerRelationId, server->serverid,
								GetUserId(), ACL_USAGE);
#else
	aclresult = pg_foreign_server_aclcheck(server->serverid, GetUserId(),
										   ACL_USAGE);
#endif
	if (aclresult != ACLCHECK_OK)
		aclcheck_error(aclresult, OBJECT_FOREIGN_SERVER, server->servername);

	/* a role that may not write the target learns it before we connect */
	ls.target_oid = lookup_target(&ls);
	if (OidIsValid(ls.target_oid))
		check_target_privileges(&ls, ACL_INSERT);

	ls.conn = EtlPullConnect(server, GetUserId());
	EtlPullApplyMysqlSettings(ls.conn, table);
	EtlPullStartSnapshot(ls.conn);
	db = table->source_db ? table->source_db : EtlPullDefaultDb(ls.conn);
	if (db == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("no MySQL database given for table \"%s\"", table->name),
				 errhint("Set the server's \"dbname\" option, or set \"source_table\" to \"db.table\".")));
	ls.source = EtlPullDescribeSource(ls.conn, db, table->source_table);
	check_column_types(&ls);

	/*
	 * Incremental extraction: the first run (or a forced one) is full; later
	 * runs pull from the watermark.  The new watermark is read now, under
	 * the same snapshot as the rows.
	 */
	if (table->extraction == ETL_EXTRACTION_INCREMENTAL)
	{
		int		   *cols = EtlPullIncrementalColumns(table, ls.source);
		bool		has_pk = false;
		int			i;

		for (i = 0; i < ls.source->ncolumns; i++)
			if (ls.source->columns[i].pk_position > 0)
				has_pk = true;
		if (!has_pk && !table->append_only)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_TABLE_DEFINITION),
					 errmsg("incremental loads of table \"%s\" need a primary key on MySQL table \"%s.%s\"",
							table->name, ls.source->db, ls.source->table),
					 errhint("Set \"append_only\" to true to append the pulled rows instead of merging them.")));
		watermark = force_full ? NIL : EtlPullReadWatermark(table);
		if (watermark != NIL && table->append_only)
		{
			reload_bounds = EtlPullAppendOnlyBounds(ls.conn, table, ls.source,
													cols, watermark);
			where = EtlPullWatermarkPredicate(ls.conn, ls.source, cols,
											  reload_bounds, 0);
			incremental_run = true;
		}
		else if (watermark != NIL)
		{
			where = EtlPullWatermarkPredicate(ls.conn, ls.source, cols,
											  watermark, table->lookback);
			incremental_run = true;
		}
		ls.incremental_cols = cols;
		new_watermark = EtlPullSourceMaxima(ls.conn, ls.source, cols,
											list_length(table->incremental_columns),
											where, watermark);
	}

	if (!OidIsValid(ls.target_oid))
		ls.target_oid = create_target(&ls);
	rel = table_open(ls.target_oid, ExclusiveLock);
	match_columns(&ls, rel);
	progress_start(&ls);

	if (incremental_run)
	{
		ls.strategy = ETL_STRATEGY_STREAM;
		result->strategy = "stream";
		result->strategy_reason = "incremental: staged, then merged by primary key";
		result->extraction = "incremental";
		check_target_privileges(&ls, ACL_INSERT | ACL_UPDATE |
								(table->delete_missing || table->append_only ?
								 ACL_DELETE : 0));
		load_incremental(&ls, rel, where, reload_bounds);
	}
	else
	{
		choose_strategy(&ls, rel);
		result->strategy = EtlPullStrategyName(ls.strategy);
		if (ls.strategy == ETL_STRATEGY_STREAM)
		{
			check_target_privileges(&ls, ACL_INSERT | ACL_TRUNCATE);
			load_stream(&ls, rel);
		}
		else if (ls.strategy == ETL_STRATEGY_PARALLEL)
		{
			check_target_privileges(&ls, ACL_INSERT | ACL_TRUNCATE);
			load_parallel(&ls, rel);
		}
		else if (ls.strategy == ETL_STRATEGY_COPY)
		{
			check_target_privileges(&ls, ACL_INSERT | ACL_DELETE);
			load_copy(&ls, rel);
		}
		else
		{
			check_target_privileges(&ls, ACL_INSERT | ACL_DELETE);
			load_standard(&ls, rel);
		}
	}
	if (table->extraction == ETL_EXTRACTION_INCREMENTAL)
		EtlPullWriteWatermark(table, new_watermark);

	if (ls.conn)
		EtlPullDisconnect(ls.conn);
	pgstat_progress_update_param(PROGRESS_ETL_ROWS, result->rows);
	pgstat_progress_end_command();

	/* ANALYZE needs ownership; otherwise autovacuum will see to it */
	if (table->analyze_target && !incremental_run &&
#if PG_VERSION_NUM >= 160000
		object_ownercheck(RelationRelationId, ls.target_oid, GetUserId()))
#else
		pg_class_ownercheck(ls.target_oid, GetUserId()))
#endif
	{
		if (SPI_connect() != SPI_OK_CONNECT)
			elog(ERROR, "SPI_connect failed");
		SPI_execute(psprintf("ANALYZE %s", ls.target_qname), false, 0);
		SPI_finish();
	}

}
