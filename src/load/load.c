/*-------------------------------------------------------------------------
 *
 * load.c
 *		  One load of one table: the orchestrator.
 *
 * A load finds (or creates) the target, matches its columns to the
 * source's, reads the watermark of an incremental table, picks a strategy,
 * checks the privileges that strategy needs, and hands it the load; then
 * it builds a created target's secondary indexes (indexes = all), keeps
 * the new watermark and analyzes the target (after a small table's load
 * in place, by autovacuum's rule: analyze_unneeded).  The caller
 * (commands/load_table.c) records the run.  How the rows move is each
 * strategy's own (load.h): strategy_swap.c (stream, parallel),
 * strategy_copy.c, strategy_standard.c, and strategy_incremental.c for
 * the runs that pull from a watermark.  Before any of it, a source table
 * unchanged since the last load skips the load (unchanged.c).
 *
 * Everything happens in the caller's transaction, the target held in
 * ExclusiveLock throughout: on error nothing of the load remains.  The
 * caller's rights are checked and MySQL is read with the caller's user
 * mapping; the target's own code runs as the target's owner, in a
 * security-restricted operation, as PostgreSQL's maintenance commands run
 * a table's code (see EtlPullLoadTable).  The MySQL side reads under one
 * consistent snapshot and streams rows with mysql_use_result: memory is
 * bounded by the batch, not the table.  A MyISAM table, which no snapshot
 * covers and which a reading statement holds against its writers, is read
 * in key-range statements of bounded duration and made exact before
 * commit (settle.c), or, with setting source_lock, held against its
 * writers for the whole read (held.c).
 * load_all's workers lend the load a connection they keep across tables
 * (EtlPullLentConnection), perhaps already reading the group's snapshot;
 * the load then neither connects nor disconnects.
 *
 * IDENTIFICATION
 *		  src/load/load.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/table.h"
#include "catalog/pg_class.h"
#include "catalog/pg_foreign_server.h"
#include "executor/spi.h"
#include "foreign/foreign.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/autovacuum.h"
#include "utils/acl.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"

#include "compat.h"
#include "etl_pull.h"
#include "catalog/etl_catalog.h"
#include "remote/remote.h"
#include "load/load.h"
#include "load/progress.h"

/*
 * The strategies a table can ask for, in the order auto prefers them (and
 * suggests them when the one asked for cannot load the target).
 */
static const EtlPullStrategyRoutine *const strategies[] = {
	&EtlPullParallelStrategy,
	&EtlPullStreamStrategy,
	&EtlPullCopyStrategy,
	&EtlPullStandardStrategy
};

static const EtlPullStrategyRoutine *
strategy_by_name(const char *name)
{
	int			i;

	for (i = 0; i < lengthof(strategies); i++)
		if (strcmp(strategies[i]->name, name) == 0)
			return strategies[i];
	elog(ERROR, "unknown strategy \"%s\"", name);
	return NULL;				/* keep compiler quiet */
}

/* Why "s" cannot load the target, or NULL */
static inline const char *
unsuitable(const EtlPullStrategyRoutine *s, EtlPullLoad *load, Relation rel)
{
	return s->unsuitable ? s->unsuitable(load, rel) : NULL;
}

/*
 * The strategy the table asks for by name, if it can load the target; an
 * error naming the ones that can otherwise.
 */
static const EtlPullStrategyRoutine *
asked_strategy(EtlPullLoad *load, Relation rel, const char *name)
{
	const EtlPullStrategyRoutine *s = strategy_by_name(name);
	const char *why = unsuitable(s, load, rel);
	StringInfoData others;
	int			i;

	if (why == NULL)
		return s;
	initStringInfo(&others);
	for (i = 0; i < lengthof(strategies); i++)
		if (strategies[i] != s && unsuitable(strategies[i], load, rel) == NULL)
			appendStringInfo(&others, "\"%s\", ", strategies[i]->name);
	ereport(ERROR,
			(errcode(ERRCODE_WRONG_OBJECT_TYPE),
			 errmsg("strategy \"%s\" cannot load table %s because %s",
					name, load->target_qname, why),
			 errhint("Use strategy %s\"auto\" for this table.",
					 others.len > 0 ?
					 psprintf("%.*s or ", others.len - 2, others.data) : "")));
	return NULL;				/* keep compiler quiet */
}

/*
 * Pick the strategy of a full load: what the table asks for, or (auto) by
 * the table's size and what the target allows, using the
 * etl_pull.*_threshold_* settings.  The reason goes into the run record.
 */
static const EtlPullStrategyRoutine *
choose_strategy(EtlPullLoad *load, Relation rel)
{
	EtlPullRunResult *r = load->result;
	const char *no_stream;
	const char *no_copy;
	double		size_mb;
	const char *size_from;

	if (!EtlPullEnableOptimizations)
	{
		r->strategy_reason = "etl_pull.enable_optimizations is off";
		return &EtlPullStandardStrategy;
	}
	if (load->table->strategy != ETL_STRATEGY_AUTO)
	{
		r->strategy_reason = "set for the table";
		return asked_strategy(load, rel,
							  EtlPullChoiceName("strategy", load->table->strategy));
	}

	/* auto: by size, measured at the source unless the table says */
	if (load->table->estimated_size_mb >= 0)
	{
		size_mb = load->table->estimated_size_mb;
		size_from = "estimated_size_mb";
	}
	else
	{
		size_mb = load->source->estimated_bytes / (1024.0 * 1024.0);
		size_from = "measured";
	}
	no_stream = unsuitable(&EtlPullStreamStrategy, load, rel);
	no_copy = unsuitable(&EtlPullCopyStrategy, load, rel);

	if (!no_stream && EtlPullParallelThresholdRows > 0 &&
		load->source->estimated_rows >= EtlPullParallelThresholdRows &&
		EtlPullIntegerKey(load->source) != NULL)
	{
		r->strategy_reason =
			psprintf("auto: " INT64_FORMAT " rows >= etl_pull.parallel_threshold_rows (%d), plain table with an integer key",
					 load->source->estimated_rows, EtlPullParallelThresholdRows);
		return &EtlPullParallelStrategy;
	}
	if (!no_stream && size_mb >= EtlPullStreamThresholdMb)
	{
		r->strategy_reason =
			psprintf("auto: %.1f MB (%s) >= etl_pull.stream_threshold_mb (%g MB), plain table",
					 size_mb, size_from, EtlPullStreamThresholdMb);
		return &EtlPullStreamStrategy;
	}
	if (!no_copy && size_mb >= EtlPullCopyThresholdMb)
	{
		r->strategy_reason =
			psprintf("auto: %s; %.1f MB (%s) >= etl_pull.copy_threshold_mb (%g MB)",
					 no_stream ? no_stream : "below the stream threshold",
					 size_mb, size_from, EtlPullCopyThresholdMb);
		return &EtlPullCopyStrategy;
	}
	r->strategy_reason =
		psprintf("auto: %s; %s",
				 no_stream ? no_stream :
				 psprintf("%.1f MB (%s) < etl_pull.stream_threshold_mb (%g MB)",
						  size_mb, size_from, EtlPullStreamThresholdMb),
				 no_copy ? no_copy :
				 psprintf("%.1f MB < etl_pull.copy_threshold_mb (%g MB)",
						  size_mb, EtlPullCopyThresholdMb));
	return &EtlPullStandardStrategy;
}

/*
 * The strategy a full load of the target would take now, its reason in
 * load->result (etl_pull.plan() asks without loading).
 */
const EtlPullStrategyRoutine *
EtlPullChooseStrategy(EtlPullLoad *load, Relation rel)
{
	return choose_strategy(load, rel);
}

/*
 * Why every load of incremental table "table" (its first, full one too)
 * fails on "source", or NULL: merging needs the source's primary key,
 * unless the pulled rows are appended (append_only).  etl_pull.plan()
 * asks it too.
 */
const char *
EtlPullIncrementalUnsuitable(EtlPullTable *table, EtlPullSource *source)
{
	int			i;

	if (table->append_only)
		return NULL;
	for (i = 0; i < source->ncolumns; i++)
		if (source->columns[i].pk_position > 0)
			return NULL;
	return psprintf("incremental loads of table \"%s\" need a primary key on MySQL table \"%s.%s\"",
					table->name, source->db, source->table);
}

/*
 * Incremental extraction: the first run (or a forced one) is full; later
 * runs pull from the watermark (load->where).  The new watermark is read
 * now, under the same snapshot as the rows, into *new_watermark.  Returns
 * whether this run pulls from the watermark.
 */
static bool
plan_incremental(EtlPullLoad *load, bool force_full, List **new_watermark)
{
	EtlPullTable *table = load->table;
	int		   *cols = EtlPullIncrementalColumns(table, load->source);
	List	   *watermark;
	const char *why = EtlPullIncrementalUnsuitable(table, load->source);

	if (why != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TABLE_DEFINITION),
				 errmsg("%s", why),
				 errhint("Set \"append_only\" to true to append the pulled rows instead of merging them.")));
	watermark = force_full ? NIL : EtlPullReadWatermark(table);
	if (watermark != NIL && table->append_only)
	{
		load->reload_bounds = EtlPullAppendOnlyBounds(load->conn, table,
													  load->source, cols,
													  watermark);
		load->where = EtlPullWatermarkPredicate(load->conn, load->source, cols,
												load->reload_bounds, 0);
	}
	else if (watermark != NIL)
		load->where = EtlPullWatermarkPredicate(load->conn, load->source, cols,
												watermark, table->lookback);
	load->incremental_cols = cols;
	*new_watermark = EtlPullSourceMaxima(load->conn, load->source, cols,
										 list_length(table->incremental_columns),
										 load->where, watermark);
	return watermark != NIL;
}

/*
 * What role "roleid" lacks to read MySQL through "server" as a load does:
 * USAGE on the server, which EtlPullUsableServer requires before anything
 * else, then a user mapping for it (the role's own or PUBLIC's, looked up
 * as GetUserMapping looks it up), without which EtlPullConnect fails with
 * GetUserMapping's error.
 */
EtlPullAccessLack
EtlPullServerAccess(ForeignServer *server, Oid roleid)
{
	HeapTuple	tup;

	if (EtlPullServerAclcheck(server->serverid, roleid, ACL_USAGE) != ACLCHECK_OK)
		return ETL_LACKS_SERVER_USAGE;
	tup = SearchSysCache2(USERMAPPINGUSERSERVER, ObjectIdGetDatum(roleid),
						  ObjectIdGetDatum(server->serverid));
	if (!HeapTupleIsValid(tup))
		tup = SearchSysCache2(USERMAPPINGUSERSERVER, ObjectIdGetDatum(InvalidOid),
							  ObjectIdGetDatum(server->serverid));
	if (!HeapTupleIsValid(tup))
		return ETL_LACKS_USER_MAPPING;
	ReleaseSysCache(tup);
	return ETL_LACKS_NOTHING;
}

/*
 * A table's server, which the caller needs USAGE on (EtlPullServerAccess;
 * a missing user mapping is left to the connection)
 */
ForeignServer *
EtlPullUsableServer(Oid serverid)
{
	ForeignServer *server = GetForeignServer(serverid);

	if (EtlPullServerAccess(server, GetUserId()) == ETL_LACKS_SERVER_USAGE)
		aclcheck_error(ACLCHECK_NO_PRIV, OBJECT_FOREIGN_SERVER, server->servername);
	return server;
}

/*
 * Whether the caller owns the target (or has its owner's rights), which
 * ANALYZE requires: asked before the load switches to the owner, who
 * always does
 */
static bool
caller_owns_target(EtlPullLoad *load)
{
	return EtlPullOwnsRelation(load->target_oid, load->caller);
}

/*
 * ANALYZE the target (when the caller owns it; otherwise autovacuum will),
 * as its owner
 */
static void
analyze_target(EtlPullLoad *load)
{
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute(psprintf("ANALYZE %s", load->target_qname), false, 0) != SPI_OK_UTILITY)
		elog(ERROR, "could not analyze %s", load->target_qname);
	SPI_finish();
}

/*
 * Why an in-place load (EtlPullStreamInPlace) needs no ANALYZE, or NULL to
 * analyze the target now: autovacuum's own rule.  Autovacuum analyzes a
 * table once the rows written since its last ANALYZE (pgstat's
 * changes_since_analyze, which the in-place merge's updates, inserts and
 * deletes count, on the target itself) pass autovacuum_analyze_threshold
 * + autovacuum_analyze_scale_factor x reltuples (the table's own where it
 * sets them); below that a load leaves the statistics be, whether
 * autovacuum runs or not: the load that takes the count past it analyzes
 * (unless autovacuum did first).  A target without statistics (reltuples
 * < 0), or one written by a swap, whose new heap's rows pgstat never counts
 * for the target, is always analyzed; so is any target when track_counts
 * is off.
 */
static const char *
analyze_unneeded(EtlPullLoad *load)
{
	Relation	rel;
	StdRdOptions *opts;
	double		reltuples;
	double		threshold;
	PgStat_StatTabEntry *stats;
	int64		changes;

	if (!load->in_place || !pgstat_track_counts)
		return NULL;
	rel = table_open(load->target_oid, NoLock);
	opts = (StdRdOptions *) rel->rd_options;
	reltuples = rel->rd_rel->reltuples;
	threshold = (opts && opts->autovacuum.analyze_threshold >= 0 ?
				 opts->autovacuum.analyze_threshold : autovacuum_anl_thresh) +
		(opts && opts->autovacuum.analyze_scale_factor >= 0 ?
		 opts->autovacuum.analyze_scale_factor : autovacuum_anl_scale) *
		Max(reltuples, 0);
	table_close(rel, NoLock);
	if (reltuples < 0)
		return NULL;
	stats = pgstat_fetch_stat_tabentry(load->target_oid);
	changes = (stats ? EtlPullModSinceAnalyze(stats) : 0) + load->in_place_written;
	/* autovacuum analyzes past the threshold */
	if (changes > threshold)
		return NULL;
	return psprintf("not analyzed: " INT64_FORMAT " rows written since its last ANALYZE (" INT64_FORMAT " by this load), not over autovacuum's analyze threshold of %.0f",
					changes, load->in_place_written, threshold);
}

/*
 * The load is done reading MySQL: close its connection, unless it is lent.
 */
void
EtlPullLoadDoneReading(EtlPullLoad *load)
{
	EtlPullReleaseSource(load);
	if (load->conn && !load->conn_lent)
		EtlPullDisconnect(load->conn);
	load->conn = NULL;
}

/*
 * A load that reads the group's snapshot (load_all with consistent): only
 * a transactional table is in it, or one the group holds against its
 * writers since that point (setting source_lock, held.c), and only the
 * load's own connection reads it, so the parallel strategy gives way to
 * stream.
 */
static void
check_group_snapshot(EtlPullLoad *load)
{
	const char *engine = load->source->engine;

	if (engine != NULL && pg_strcasecmp(engine, "InnoDB") != 0 &&
		!(load->held && load->lent->held))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("MySQL table \"%s.%s\" cannot be read from the group's consistent snapshot",
						load->source->db, load->source->table),
				 errdetail("The table uses storage engine %s; a consistent snapshot covers InnoDB tables only, and the group holds no lock on this one%s.",
						   EtlPullPrintable(engine, 64),
						   load->held ? " (the lock of its setting source_lock could not be had: see the load_all's warning)" :
						   " (its setting source_lock is none)"),
				 errhint("Set its source_lock to read (its writers then wait for the group's read), load it without consistent, or in a group of its own.")));
	load->result->source_position = load->lent->position;
}

/*
 * What a run of "table" does that needs every row of the target, or NULL
 * (EtlPullRefuseRowSecurity): all but an incremental merge.
 */
static const char *
needs_every_row(EtlPullTable *table, bool incremental_run, bool diff_run)
{
	if (diff_run)
		return "a diff run (extraction \"diff\", repair_table)";
	if (!incremental_run)
		return "a full load";
	if (table->append_only)
		return "an append-only run";
	if (table->delete_missing)
		return "delete_missing";
	return NULL;
}

/*
 * Run as the target's owner from here on (see EtlPullLoadTable).  A caller
 * that is the owner itself keeps its own rights and context, as its own
 * INSERT would run the target's code (deferred constraints, a trigger's
 * temporary table), with search_path pinned all the same: no one else's
 * code gets rights it lacks.
 */
static void
as_target_owner(EtlPullLoad *load)
{
	EtlPullUserState *st = &load->as_owner;

	if (load->owner != load->caller)
	{
		EtlPullAsRole(load->owner, st);
		return;
	}
	GetUserIdAndSecContext(&st->userid, &st->sec_context);
	st->nestlevel = EtlPullPinSearchPath();
}

/*
 * The strategy of this run, with its reason in the result: an incremental
 * or diff run's own, else choose_strategy's, then stream instead of
 * parallel where the parallel readers cannot read what the load must (a
 * verify's snapshot, a MyISAM table read in key ranges and re-checked,
 * a group's snapshot).  Sets load->settles (settle.c), and load->in_place
 * for a small table's stream.
 */
static const EtlPullStrategyRoutine *
pick_strategy(EtlPullLoad *load, Relation rel, bool incremental_run,
			  bool diff_run, bool schema_full, bool force_full)
{
	EtlPullTable *table = load->table;
	EtlPullRunResult *result = load->result;
	EtlPullLentConnection *lent = load->lent;
	const EtlPullStrategyRoutine *strategy;

	if (incremental_run)
	{
		strategy = &EtlPullIncrementalStrategy;
		result->strategy_reason = "incremental: staged, then merged by primary key";
		result->extraction = "incremental";
	}
	else if (diff_run)
	{
		strategy = &EtlPullDiffStrategy;
		result->strategy_reason = "diff: the rows compared with the source's by key (row by row for a single integer key, else by key-range hashes) and those that differ merged by primary key";
		result->extraction = "diff";
		/* setting full_compare_every: an append-only log's new rows only */
		if (table->full_compare_every > 1 && !table->repair)
		{
			Oid			indexoid;
			char	   *why;

			load->tail = EtlPullCadenceTailDue(table,
											   EtlPullRowDiffUnsuitable(load, rel, &indexoid),
											   &why);
			result->strategy_reason = load->tail ? psprintf("diff: %s", why) :
				psprintf("%s; %s", result->strategy_reason, why);
		}
	}
	else
		strategy = choose_strategy(load, rel);
	if (schema_full && table->extraction != ETL_EXTRACTION_FULL && !force_full)
		result->strategy_reason =
			psprintf("full load of %s table: on_schema_change added columns; %s",
					 table->extraction == ETL_EXTRACTION_DIFF ? "a diff" : "an incremental",
					 result->strategy_reason);
	if (strategy == &EtlPullParallelStrategy && table->verify != ETL_VERIFY_OFF)
	{
		strategy = &EtlPullStreamStrategy;
		result->strategy_reason =
			psprintf("%s; stream instead of parallel: verify checks the rows under the load's own snapshot",
					 result->strategy_reason);
	}
	/* a MyISAM table read in key ranges, then made exact (settle.c) */
	load->settles = (!incremental_run && !diff_run &&
					 EtlPullSettleCheck(load, rel));
	if (strategy == &EtlPullParallelStrategy && load->settles)
	{
		strategy = &EtlPullStreamStrategy;
		result->strategy_reason =
			psprintf("%s; stream instead of parallel: a MyISAM table is read in key-range statements of bounded duration and re-checked, on the load's connection",
					 result->strategy_reason);
	}
	if (strategy == &EtlPullParallelStrategy && lent && lent->in_snapshot)
	{
		strategy = &EtlPullStreamStrategy;
		result->strategy_reason =
			psprintf("%s; stream instead of parallel: the load reads the group's snapshot",
					 result->strategy_reason);
	}
	/* a small table's stream: in place (strategy_swap.c) */
	if (strategy == &EtlPullStreamStrategy && !incremental_run && !diff_run)
		(void) EtlPullStreamInPlace(load, rel);
	return strategy;
}

/*
 * Load one registered table in the caller's transaction.  *result is
 * filled in as the load goes (strategy, rows so far), so that a failed run
 * can be recorded with what it had done.  "lent" (or NULL) is a connection
 * of load_all's worker to load with.
 *
 * The caller's rights are checked, and MySQL connected with the caller's
 * user mapping, as the caller; a missing target is created by the caller,
 * who owns it then.  Once the target is locked (its owner cannot change
 * until commit) everything else runs as the target's owner inside a
 * security-restricted operation (EtlPullAsRole; unless the caller is the
 * owner: as_target_owner): altering it, writing its
 * rows (its triggers, defaults, constraints, domains and index
 * expressions), building its indexes, verifying and analyzing it.  The
 * bookkeeping inside switches to the extension's owner and back, as
 * always.  An error unwinds the switch with EtlPullRecordedRun's
 * subtransaction.
 */
void
EtlPullLoadTable(EtlPullTable *table, bool force_full, EtlPullRunResult *result,
				 EtlPullLentConnection *lent)
{
	EtlPullLoad load;
	ForeignServer *server;
	const EtlPullStrategyRoutine *strategy;
	Relation	rel;
	List	   *new_watermark = NIL;
	bool		incremental_run = false;
	bool		diff_run;
	bool		analyze;
	EtlPullSchemaState *schema;
	bool		schema_full;
	const char *what;
	TimestampTz mark;
	double		phase[3];		/* rows, settle, indexes: the DEBUG1 line */

	memset(&load, 0, sizeof(load));
	load.table = table;
	load.caller = GetUserId();
	load.result = result;
	load.progress.table_name = table->name;
	load.progress.started = GetCurrentTimestamp();
	load.progress.result = result;
	result->extraction = "full";

	/* a role that may not write the target learns it before we connect */
	server = EtlPullUsableServer(table->serverid);
	load.target_oid = EtlPullLookupTarget(&load);
	if (OidIsValid(load.target_oid))
		EtlPullCheckTargetPrivileges(&load, ACL_INSERT);

	load.lent = lent;
	load.conn_lent = (lent != NULL);
	load.conn = lent ? lent->conn : EtlPullConnect(server, load.caller);
	EtlPullApplyMysqlSettings(load.conn, table);
	if (!lent || !lent->in_snapshot)
		EtlPullStartSnapshot(load.conn);

	/* skip_unchanged: an unchanged source costs this one query */
	if (EtlPullSkipIfUnchanged(&load, force_full))
	{
		EtlPullLoadDoneReading(&load);
		return;
	}
	load.source = EtlPullDescribeTableSourceSized(load.conn, table,
												  EtlPullSignatureSizes(&load));
	/* setting source_lock: held for the whole read, read in one statement */
	load.held = EtlPullHoldWanted(table, load.source);
	if (load.held)
		EtlPullHoldReadsWhole(load.source);
	if (lent && lent->in_snapshot)
		check_group_snapshot(&load);
	EtlPullCheckColumnTypes(&load);
	if (!OidIsValid(load.target_oid))
	{
		load.target_oid = EtlPullCreateTarget(&load);
		load.created = true;
	}

	/* the target's code runs as its owner from here on */
	rel = table_open(load.target_oid, ExclusiveLock);
	load.owner = EtlPullTargetWriter(&load, rel);
	table_close(rel, NoLock);
	analyze = table->analyze_target && caller_owns_target(&load);
	as_target_owner(&load);

	schema = EtlPullSchemaCheck(&load, &schema_full);
	if (table->extraction == ETL_EXTRACTION_INCREMENTAL)
		incremental_run = plan_incremental(&load, force_full || schema_full,
										   &new_watermark);

	/*
	 * diff: the first run (no target yet), a forced one and one after
	 * on_schema_change added columns (every row needs them) are full loads
	 */
	diff_run = (table->extraction == ETL_EXTRACTION_DIFF &&
				!load.created && !force_full && !schema_full);

	rel = table_open(load.target_oid, NoLock);
	EtlPullMatchColumns(&load, rel, load.target_qname, &load.attnums);
	EtlPullCheckAppendOnlyTarget(table, load.source, rel, load.target_qname,
								 load.attnums, load.incremental_cols);
	load.progress.target_oid = load.target_oid;
	load.progress.estimated_rows = load.source->estimated_rows;
	EtlPullProgressStart(&load.progress);

	strategy = pick_strategy(&load, rel, incremental_run, diff_run,
							 schema_full, force_full);
	table_close(rel, NoLock);
	result->strategy = strategy->name;
	EtlPullCheckTargetPrivileges(&load, strategy->privileges);
	if ((what = needs_every_row(table, incremental_run, diff_run)) != NULL)
		EtlPullRefuseRowSecurity(load.target_oid, load.caller,
								 load.target_qname, what);
	EtlPullHoldSource(&load);
	if (!incremental_run && !diff_run)
		EtlPullSettleStart(&load);
	mark = GetCurrentTimestamp();
	strategy->load(&load);
	phase[0] = EtlPullSecondsSince(mark);
	mark = GetCurrentTimestamp();
	if (load.settles)
		EtlPullSettle(&load);
	else if (!incremental_run && !diff_run && !load.held &&
			 EtlPullSettlePlan(load.source) != NULL)
		EtlPullRunNote(result, "%s", EtlPullSettlePlan(load.source));
	phase[1] = EtlPullSecondsSince(mark);
	mark = GetCurrentTimestamp();
	EtlPullCreateIndexes(&load);
	phase[2] = EtlPullSecondsSince(mark);
	/* setting verify: copy and standard leave the connection open */
	if (!incremental_run && !diff_run && load.conn != NULL && !load.settles &&
		table->verify != ETL_VERIFY_OFF)
	{
		rel = table_open(load.target_oid, NoLock);
		EtlPullCheckLoaded(&load, rel);
		table_close(rel, NoLock);
	}

	if (table->extraction == ETL_EXTRACTION_INCREMENTAL)
		EtlPullWriteWatermark(table, new_watermark);
	EtlPullSchemaRemember(&load, schema);
	EtlPullRememberSignature(&load);
	if (table->extraction == ETL_EXTRACTION_DIFF)
		EtlPullCadenceRemember(&load, diff_run && load.tail, diff_run);
	EtlPullLoadDoneReading(&load);
	EtlPullProgressEnd(&load.progress);
	mark = GetCurrentTimestamp();
	if (analyze && !incremental_run && !diff_run)
	{
		const char *unneeded = analyze_unneeded(&load);

		if (unneeded != NULL)
			EtlPullRunNote(result, "%s", unneeded);
		else
			analyze_target(&load);
	}
	elog(DEBUG1, "etl_pull: load of table \"%s\" (%s): rows %.3f s (of which the swap %.3f s), settle %.3f s, indexes %.3f s, analyze %.3f s, the whole %.3f s",
		 table->name, strategy->name, phase[0] - load.swap_seconds,
		 load.swap_seconds, phase[1], phase[2], EtlPullSecondsSince(mark),
		 EtlPullSecondsSince(load.progress.started));
	EtlPullAsCaller(&load.as_owner);
}
