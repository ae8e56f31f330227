/*-------------------------------------------------------------------------
 *
 * load_table.c
 *		  etl_pull.load_table() and repair_table(): check the arguments,
 *		  take the table's advisory lock (refusing a load of a table this
 *		  session is already loading, as a trigger on its target might
 *		  start), and record the load (load/load.c) as one run.  Also
 *		  target_of() and check_target_adoptable(), the target rules the
 *		  SQL functions ask of C.
 *
 * IDENTIFICATION
 *		  src/commands/load_table.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "funcapi.h"
#include "catalog/namespace.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/lsyscache.h"

#include "etl_pull.h"
#include "catalog/etl_catalog.h"
#include "load/load.h"
#include "load/progress.h"
#include "commands/commands.h"

/*
 * The loads running in this backend, innermost first: a trigger on a
 * target may start another load, but not one of a table already loading
 * here (the advisory lock, held by this very session, would not stop it,
 * and it would recurse until MySQL refused connections).
 */
typedef struct ActiveLoad
{
	int32		key;
	struct ActiveLoad *outer;
} ActiveLoad;

static ActiveLoad *active_loads = NULL;

static Datum load_table(FunctionCallInfo fcinfo, bool repair);

/* load_table's run (EtlPullRecordedRun): "arg" is its force_full */
static void
load_body(EtlPullTable *table, EtlPullRunResult *result, void *arg)
{
	/* in a load_all worker: with the connection it keeps across tables */
	EtlPullLoadTable(table, *(bool *) arg, result, EtlPullLendConnection(table));
}

PG_FUNCTION_INFO_V1(etl_pull_load_table);

/*
 * etl_pull.load_table(name text, force_full boolean DEFAULT false)
 *		returns (run_id, table_name, strategy, extraction, rows, seconds,
 *				 rows_per_sec, peak_memory_kb, merged_rows, deleted_rows,
 *				 rejected_rows, status)
 */
Datum
etl_pull_load_table(PG_FUNCTION_ARGS)
{
	return load_table(fcinfo, false);
}

PG_FUNCTION_INFO_V1(etl_pull_repair_table);

/*
 * etl_pull.repair_table(name text): load_table's result, of a diff run
 * (load/strategy_diff.c) whatever the table's extraction: the key ranges whose
 * hashes differ from the source's pulled again and merged.
 */
Datum
etl_pull_repair_table(PG_FUNCTION_ARGS)
{
	return load_table(fcinfo, true);
}

/* load_table and repair_table */
static Datum
load_table(FunctionCallInfo fcinfo, bool repair)
{
	EtlPullTable *table;
	EtlPullRunResult result;
	TupleDesc	tupdesc;
	Datum		values[12];
	bool		nulls[12] = {0};
	bool		force_full;
	Datum		lock_args[2];
	ActiveLoad	this_load;
	ActiveLoad *al;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("table name must not be null")));
	force_full = (repair || PG_ARGISNULL(1)) ? false : PG_GETARG_BOOL(1);
	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");

	table = EtlPullReadTable(text_to_cstring(PG_GETARG_TEXT_PP(0)));
	if (repair)
	{
		/* a diff run, which needs the target (else it would load in full) */
		if (!OidIsValid(get_relname_relid(table->target_relname,
										  get_namespace_oid(table->target_schema, true))))
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_TABLE),
					 errmsg("target %s of table \"%s\" does not exist",
							quote_qualified_identifier(table->target_schema,
													   table->target_relname),
							table->name),
					 errhint("Load it first with etl_pull.load_table('%s').", table->name)));
		table->extraction = ETL_EXTRACTION_DIFF;
		table->repair = true;
		/* asked for: never skipped as unchanged */
		table->skip_unchanged = ETL_SKIP_UNCHANGED_OFF;
	}
	if (!table->enabled)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("table \"%s\" is disabled", table->name),
				 errhint("Enable it with etl_pull.set_table_option('%s', 'enabled', 'true').",
						 table->name)));

	/*
	 * One load per table at a time: a transaction-level advisory lock on the
	 * registered table's identity (table_id, read with its settings).  With
	 * on_busy = skip a busy table returns at once, its run recorded as
	 * skipped.
	 */
	this_load.key = table->lock_key;
	for (al = active_loads; al != NULL; al = al->outer)
		if (al->key == this_load.key)
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_IN_USE),
					 errmsg("table \"%s\" is already being loaded by this session",
							table->name),
					 errhint("A trigger or function called by the load of \"%s\" loads it again.",
							 table->name)));
	lock_args[0] = Int32GetDatum(ETL_PULL_MARKER);
	lock_args[1] = Int32GetDatum(this_load.key);
	if (table->on_busy == ETL_ON_BUSY_SKIP)
	{
		if (!DatumGetBool(DirectFunctionCall2(pg_try_advisory_xact_lock_int4,
											  lock_args[0], lock_args[1])))
		{
			ereport(NOTICE,
					(errmsg("table \"%s\" is already being loaded; skipped", table->name)));
			memset(nulls, true, sizeof(nulls));
			nulls[0] = nulls[1] = nulls[11] = false;
			values[0] = Int64GetDatum(EtlPullRecordSkippedRun(table));
			values[1] = CStringGetTextDatum(table->name);
			values[11] = CStringGetTextDatum("skipped");
			PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(tupdesc),
															  values, nulls)));
		}
	}
	else
		DirectFunctionCall2(pg_advisory_xact_lock_int4, lock_args[0], lock_args[1]);

	/*
	 * The load is one recorded run (in a subtransaction, so that on error it
	 * can be rolled back cleanly and the failed run recorded before the
	 * error goes on); this backend's list of loads holds it meanwhile.
	 */
	memset(&result, 0, sizeof(result));
	this_load.outer = active_loads;
	active_loads = &this_load;
	PG_TRY();
	{
		EtlPullRecordedRun(table, &result, load_body, &force_full);
	}
	PG_FINALLY();
	{
		active_loads = this_load.outer;
	}
	PG_END_TRY();

	values[0] = Int64GetDatum(result.run_id);
	values[1] = CStringGetTextDatum(table->name);
	/* a skip of an unchanged table has no strategy */
	nulls[2] = (result.strategy == NULL);
	if (result.strategy)
		values[2] = CStringGetTextDatum(result.strategy);
	values[3] = CStringGetTextDatum(result.extraction);
	values[4] = Int64GetDatum(result.rows);
	values[5] = Float8GetDatum(result.seconds);
	values[6] = Float8GetDatum(result.seconds > 0 ? result.rows / result.seconds : 0);
	values[7] = Int64GetDatum(result.peak_memory_kb);
	values[8] = Int64GetDatum(result.merged_rows);
	values[9] = Int64GetDatum(result.deleted_rows);
	values[10] = Int64GetDatum(result.rejected_rows);
	values[11] = CStringGetTextDatum(result.unchanged ? "unchanged" : "succeeded");
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(tupdesc),
													  values, nulls)));
}

PG_FUNCTION_INFO_V1(etl_pull_target_of);

/*
 * etl_pull.target_of(name text, target_table text) returns text: the
 * quoted schema.table that registered table "name" loads into.
 */
Datum
etl_pull_target_of(PG_FUNCTION_ARGS)
{
	char	   *schema;
	char	   *table;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	EtlPullResolveTarget(text_to_cstring(PG_GETARG_TEXT_PP(0)),
						 PG_ARGISNULL(1) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(1)),
						 &schema, &table);
	PG_RETURN_TEXT_P(cstring_to_text(quote_qualified_identifier(schema, table)));
}

PG_FUNCTION_INFO_V1(etl_pull_check_target_adoptable);

/*
 * etl_pull.check_target_adoptable(name text, target_table text): raise an
 * error if the target that registered table "name" would load into exists
 * and the registering role may not make it a target (EtlPullCheckAdoptable).
 * check_target_free calls it from add_table and store_table_option, which
 * run as the extension's owner: the registering role is the current role
 * outside any SECURITY DEFINER function, the outer user (as for the rights
 * a pg_settings list needs, catalog/settings_list.c).
 */
Datum
etl_pull_check_target_adoptable(PG_FUNCTION_ARGS)
{
	char	   *schema;
	char	   *table;
	Oid			nspid;
	Oid			relid;

	if (PG_ARGISNULL(0))
		PG_RETURN_VOID();
	EtlPullResolveTarget(text_to_cstring(PG_GETARG_TEXT_PP(0)),
						 PG_ARGISNULL(1) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(1)),
						 &schema, &table);
	nspid = get_namespace_oid(schema, true);
	relid = OidIsValid(nspid) ? get_relname_relid(table, nspid) : InvalidOid;
	if (OidIsValid(relid))
		EtlPullCheckAdoptable(relid, GetOuterUserId());
	PG_RETURN_VOID();
}
