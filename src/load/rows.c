/*-------------------------------------------------------------------------
 *
 * rows.c
 *		  The row pipeline of the strategies that write through a sink
 *		  (stream, parallel, the incremental stage): rows from MySQL, or
 *		  from the parallel workers, converted and handed to the sink.
 *
 * With on_error = reject a row that cannot be converted is recorded in
 * etl_pull.rejects and skipped.  Converters that run only etl_pull's own
 * code report such a row without an error; those that may run user code
 * (a domain's CHECK, an enum's or an extension type's input function) can
 * only be stopped by rolling back a subtransaction, so their rows go
 * through rows_into_sink_checked.
 *
 * IDENTIFICATION
 *		  src/load/rows.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "miscadmin.h"
#include "utils/memutils.h"
#include "utils/rel.h"

#include "etl_pull.h"
#include "catalog/etl_catalog.h"
#include "remote/remote.h"
#include "load/load.h"
#include "load/parallel.h"

/*
 * Convert a row; with on_error = reject, a row that cannot be converted is
 * recorded in etl_pull.rejects and false returned.
 */
bool
EtlPullConvertOrReject(EtlPullLoad *load, EtlPullConverter *conv,
					   char **values, unsigned long *lengths,
					   Datum *datums, bool *nulls)
{
	EtlPullReject reject;

	if (load->table->on_error != ETL_ON_ERROR_REJECT)
	{
		EtlPullConvertRow(conv, values, lengths, datums, nulls);
		return true;
	}
	if (EtlPullConvertRowOrReject(conv, values, lengths, datums, nulls, &reject))
		return true;
	EtlPullRecordReject(load->table, load->result->run_id, &reject);
	load->result->rejected_rows++;
	return false;
}

/*
 * Convert a row into the sink's next slot: true when it is accepted;
 * false when, with on_error = reject, it was rejected (recorded) and
 * skipped
 */
bool
EtlPullRowIntoSink(EtlPullLoad *load, EtlPullConverter *conv,
				   EtlPullSink *sink, char **values, unsigned long *lengths)
{
	Datum	   *datums;
	bool	   *nulls;

	EtlPullSinkNext(sink, &datums, &nulls);
	if (EtlPullConvertOrReject(load, conv, values, lengths, datums, nulls))
	{
		EtlPullSinkRowDone(sink);
		return true;
	}
	EtlPullSinkRowSkip(sink);
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
 * do not know.  A batch of rows is copied and converted in one
 * subtransaction; if any row fails, the batch is converted again row by
 * row, each in its own subtransaction (EtlPullConvertRowOrReject), so the
 * bad rows are rejected and the good ones kept.
 */
static void
rows_into_sink_checked(EtlPullLoad *load, RowSource *rs, EtlPullConverter *conv,
					   EtlPullSink *sink, int natts)
{
	int			ncols = load->source->ncolumns;
	int			cap = load->table->batch_size;
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
			EtlPullLoadRowDone(load, lengths);
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
			if (EtlPullConvertOrReject(load, conv, rows[k], lens[k], d, nl))
				EtlPullSinkRowDone(sink);
			else
				EtlPullSinkRowSkip(sink);
		}
	}
	MemoryContextDelete(batchcxt);
}

/*
 * Convert the rows of a row source into a sink, and end the sink.  The
 * sink's target supplies the row type.
 */
static void
rows_into_sink(EtlPullLoad *load, RowSource *rs, Relation target,
			   AttrNumber *attnums, EtlPullSink *sink)
{
	EtlPullConverter *conv;
	char	  **values;
	unsigned long *lengths;

	conv = EtlPullMakeConverters(load->table, load->source,
								 RelationGetDescr(target), attnums);
	/* binary-protocol integers, doubles and dates straight from the bytes sent */
	if (rs->conn)
		EtlPullNativeFromConnection(conv, rs->conn);
	if (load->table->on_error == ETL_ON_ERROR_REJECT &&
		!EtlPullConvertersTrusted(conv))
	{
		rows_into_sink_checked(load, rs, conv, sink,
							   RelationGetDescr(target)->natts);
		EtlPullSinkEnd(sink);
		return;
	}
	while (next_row(rs, &values, &lengths))
	{
		CHECK_FOR_INTERRUPTS();
		(void) EtlPullRowIntoSink(load, conv, sink, values, lengths);
		EtlPullLoadRowDone(load, lengths);
	}
	EtlPullSinkEnd(sink);
}

/*
 * The rows the parallel strategy's workers read, as MySQL text, into a
 * sink; the sink is ended.
 */
void
EtlPullRowsIntoSink(EtlPullLoad *load, EtlPullParallel *par, Relation target,
					AttrNumber *attnums, EtlPullSink *sink)
{
	RowSource	rs = {NULL, par, NULL};

	rs.lengths_buf = palloc(sizeof(unsigned long) * load->source->ncolumns);
	rows_into_sink(load, &rs, target, attnums, sink);
}

/*
 * Stream the source's rows (those "where" selects, or all) over the load's
 * connection into a sink; the sink is ended.  "by_key": "where" selects by
 * the primary key, so a read in key ranges may serve it
 * (EtlPullSourceQueryStart).
 */
void
EtlPullStreamIntoSink(EtlPullLoad *load, Relation target, AttrNumber *attnums,
					  EtlPullSink *sink, const char *where, bool by_key)
{
	RowSource	rs = {load->conn, NULL, NULL};

	EtlPullSourceQueryStart(load->conn, load->table, load->source, where,
							by_key);
	rows_into_sink(load, &rs, target, attnums, sink);
	EtlPullQueryEnd(load->conn);
}
