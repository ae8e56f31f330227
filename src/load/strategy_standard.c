/*-------------------------------------------------------------------------
 *
 * strategy_standard.c
 *		  The standard strategy: the plain executor path, DELETE and then
 *		  one prepared INSERT per row through SPI.
 *
 * The slowest strategy, and the one that loads any target: its triggers,
 * rules and partitions act exactly as they do for SQL.  (A target whose
 * row-level security applies to the caller is refused before any strategy
 * runs: the DELETE would leave the rows the policies hide.)  It is also
 * what every load uses with etl_pull.enable_optimizations off.
 *
 * IDENTIFICATION
 *		  src/load/strategy_standard.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/table.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/memutils.h"

#include "etl_pull.h"
#include "remote/remote.h"
#include "load/load.h"

static void
load_standard(EtlPullLoad *load)
{
	Relation	rel = table_open(load->target_oid, NoLock);
	int			n = load->source->ncolumns;
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

	conv = EtlPullMakeConverters(load->table, load->source, tupdesc, load->attnums);

	initStringInfo(&sql);
	appendStringInfo(&sql, "INSERT INTO %s (", load->target_qname);
	for (i = 0; i < n; i++)
	{
		Form_pg_attribute att = TupleDescAttr(tupdesc, load->attnums[i] - 1);

		argtypes[i] = att->atttypid;
		appendStringInfo(&sql, "%s%s", i > 0 ? ", " : "",
						 quote_identifier(NameStr(att->attname)));
	}
	appendStringInfoString(&sql, ") VALUES (");
	for (i = 0; i < n; i++)
		appendStringInfo(&sql, "%s$%d", i > 0 ? ", " : "", i + 1);
	appendStringInfoChar(&sql, ')');
	argnulls[n] = '\0';

	EtlPullDeleteTargetRows(load);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	plan = SPI_prepare(sql.data, n, argtypes);
	if (plan == NULL)
		elog(ERROR, "could not prepare \"%s\": %s", sql.data,
			 SPI_result_code_string(SPI_result));

	rowcxt = AllocSetContextCreate(CurrentMemoryContext, "etl_pull row context",
								   ALLOCSET_DEFAULT_SIZES);
	EtlPullSourceQueryStart(load->conn, load->table, load->source, NULL, true);
	EtlPullNativeFromConnection(conv, load->conn);
	while (EtlPullFetch(load->conn, &values, &lengths))
	{
		CHECK_FOR_INTERRUPTS();
		oldcxt = MemoryContextSwitchTo(rowcxt);
		if (EtlPullConvertOrReject(load, conv, values, lengths, datums, nulls))
		{
			for (i = 0; i < n; i++)
			{
				args[i] = datums[load->attnums[i] - 1];
				argnulls[i] = nulls[load->attnums[i] - 1] ? 'n' : ' ';
			}
			if (SPI_execute_plan(plan, args, argnulls, false, 0) != SPI_OK_INSERT)
				elog(ERROR, "could not insert into %s", load->target_qname);
		}
		MemoryContextSwitchTo(oldcxt);
		MemoryContextReset(rowcxt);
		EtlPullLoadRowDone(load, lengths);
	}
	EtlPullQueryEnd(load->conn);
	SPI_finish();
	table_close(rel, NoLock);
}

const EtlPullStrategyRoutine EtlPullStandardStrategy = {
	.name = "standard",
	.privileges = ACL_INSERT | ACL_DELETE,
	.unsuitable = NULL,
	.load = load_standard
};
