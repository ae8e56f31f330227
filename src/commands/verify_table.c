/*-------------------------------------------------------------------------
 *
 * verify_table.c
 *		  etl_pull.verify_table(): the SQL entry point that compares a
 *		  registered table's target with its source (verify.c) and records
 *		  the comparison as a run of strategy "verify".
 *
 * IDENTIFICATION
 *		  src/commands/verify_table.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/table.h"
#include "catalog/pg_type.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"

#include "etl_pull.h"
#include "catalog/etl_catalog.h"
#include "remote/remote.h"
#include "verify/verify.h"
#include "load/load.h"

/* A text[] of a list of char *: empty, never NULL, for NIL */
static Datum
text_array_or_empty(List *list)
{
	Datum	   *elems = palloc(sizeof(Datum) * Max(list_length(list), 1));
	ListCell   *lc;
	int			n = 0;

	foreach(lc, list)
		elems[n++] = CStringGetTextDatum((char *) lfirst(lc));
	return PointerGetDatum(construct_array(elems, n, TEXTOID, -1, false, TYPALIGN_INT));
}

/*
 * Compare the table's target with its source under one MySQL snapshot
 * (a read-only consistent one, as a load reads), as the caller: USAGE on
 * the server, the caller's user mapping, SELECT on the target, and no
 * row-level security applying to the caller (the target is read by its
 * access method, which no policy filters: EtlPullRefuseRowSecurity).
 */
static void
verify(EtlPullTable *table, int max_keys, EtlPullVerifyResult *res)
{
	EtlPullLoad load;
	ForeignServer *server;
	Relation	rel;
	AclResult	aclresult;
	EtlPullVerify *v;

	memset(&load, 0, sizeof(load));
	load.table = table;
	server = EtlPullUsableServer(table->serverid);
	load.target_oid = EtlPullLookupTarget(&load);
	if (!OidIsValid(load.target_oid))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("target %s of table \"%s\" does not exist",
						load.target_qname, table->name),
				 errhint("Load it first with etl_pull.load_table('%s').", table->name)));
	aclresult = pg_class_aclcheck(load.target_oid, GetUserId(), ACL_SELECT);
	if (aclresult != ACLCHECK_OK)
		aclcheck_error(aclresult, get_relkind_objtype(get_rel_relkind(load.target_oid)),
					   get_rel_name(load.target_oid));
	EtlPullRefuseRowSecurity(load.target_oid, GetUserId(), load.target_qname,
							 "verify_table");

	load.conn = EtlPullConnect(server, GetUserId());
	EtlPullApplyMysqlSettings(load.conn, table);
	EtlPullStartSnapshot(load.conn);
	load.source = EtlPullDescribeTableSource(load.conn, table);
	rel = table_open(load.target_oid, AccessShareLock);
	EtlPullMatchColumns(&load, rel, load.target_qname, &load.attnums);

	v = EtlPullVerifyBegin(load.conn, table, load.source, rel, load.attnums,
						   ETL_VERIFY_ROWS_PER_RANGE);
	EtlPullVerifyRanges(v, false, res);
	EtlPullVerifyRows(v, max_keys, res);
	EtlPullVerifyEnd(v);
	table_close(rel, NoLock);
	EtlPullDisconnect(load.conn);
}

/* verify_table's run (EtlPullRecordedRun) */
typedef struct VerifyArgs
{
	int			max_keys;
	EtlPullVerifyResult *res;
} VerifyArgs;

static void
verify_body(EtlPullTable *table, EtlPullRunResult *result, void *arg)
{
	VerifyArgs *va = (VerifyArgs *) arg;

	verify(table, va->max_keys, va->res);
	result->rows = va->res->source_rows;
	result->verify_status = EtlPullVerifyStatus(va->res);
	EtlPullRunNote(result, "%s", EtlPullVerifySummary(va->res));
}

PG_FUNCTION_INFO_V1(etl_pull_verify_table);

/*
 * etl_pull.verify_table(name text, max_keys integer DEFAULT 10)
 *		returns (run_id, table_name, status, source_rows, target_rows,
 *				 ranges, differing_ranges, missing_rows, extra_rows,
 *				 different_rows, missing_keys, extra_keys, different_keys,
 *				 rows_located, seconds, uncompared_columns)
 */
Datum
etl_pull_verify_table(PG_FUNCTION_ARGS)
{
	EtlPullTable *table;
	EtlPullRunResult result;
	EtlPullVerifyResult res;
	TupleDesc	tupdesc;
	Datum		values[16];
	bool		nulls[16] = {0};
	int			max_keys;
	VerifyArgs	va;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("table name must not be null")));
	max_keys = PG_ARGISNULL(1) ? 10 : PG_GETARG_INT32(1);
	if (max_keys < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("max_keys must be 0 or more")));
	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	table = EtlPullReadTable(text_to_cstring(PG_GETARG_TEXT_PP(0)));

	memset(&result, 0, sizeof(result));
	result.strategy = "verify";
	result.strategy_reason = "etl_pull.verify_table";
	result.extraction = "verify";
	va.max_keys = max_keys;
	va.res = &res;
	EtlPullRecordedRun(table, &result, verify_body, &va);

	values[0] = Int64GetDatum(result.run_id);
	values[1] = CStringGetTextDatum(table->name);
	values[2] = CStringGetTextDatum(EtlPullVerifyStatus(&res));
	values[3] = Int64GetDatum(res.source_rows);
	values[4] = Int64GetDatum(res.target_rows);
	values[5] = Int32GetDatum(res.ranges);
	values[6] = Int32GetDatum(res.differing_ranges);
	values[7] = Int64GetDatum(res.missing_rows);
	values[8] = Int64GetDatum(res.extra_rows);
	values[9] = Int64GetDatum(res.different_rows);
	values[10] = text_array_or_empty(res.missing_keys);
	values[11] = text_array_or_empty(res.extra_keys);
	values[12] = text_array_or_empty(res.different_keys);
	values[13] = BoolGetDatum(res.located);
	values[14] = Float8GetDatum(result.seconds);
	/* a catalog not updated to 1.4 has no column for them (nor the status) */
	if (tupdesc->natts > 15)
		values[15] = text_array_or_empty(res.uncompared);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(tupdesc),
													  values, nulls)));
}
