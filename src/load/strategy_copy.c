/*-------------------------------------------------------------------------
 *
 * strategy_copy.c
 *		  The copy strategy: DELETE the old rows, then COPY FROM the stream.
 *
 * The rows reach the target through COPY FROM (copy_feed.c feeds it
 * MySQL's rows as COPY text), so the target's triggers, rules and partitions act
 * exactly as they do for COPY.  Readers keep seeing the old rows until
 * commit.
 *
 * IDENTIFICATION
 *		  src/load/strategy_copy.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/table.h"
#include "catalog/pg_class.h"
#include "utils/rls.h"

#include "etl_pull.h"
#include "remote/remote.h"
#include "load/load.h"
#include "load/progress.h"

/*
 * Why COPY cannot load this target, or NULL if it can (as DoCopy checks,
 * for the target's owner, whom the load writes as)
 */
static const char *
copy_unsuitable(EtlPullLoad *load, Relation rel)
{
	if (load->table->on_error == ETL_ON_ERROR_REJECT)
		return "on_error is reject, which COPY cannot do";
	if (rel == NULL)
		return NULL;			/* a target to create: a plain table */
	if (check_enable_rls(RelationGetRelid(rel), load->owner, true) == RLS_ENABLED)
		return "the target has row-level security";
	if (rel->rd_rel->relkind == RELKIND_VIEW)
		return "the target is a view";
	return NULL;
}

/* Row callback of COPY FROM */
static void
copy_row_done(void *arg, unsigned long *lengths)
{
	EtlPullLoad *load = (EtlPullLoad *) arg;

	/* COPY restarted the progress slots: publish ours again */
	if (load->result->rows == 0)
		EtlPullProgressStart(&load->progress);
	EtlPullLoadRowDone(load, lengths);
}

static void
load_copy(EtlPullLoad *load)
{
	Relation	rel;

	EtlPullDeleteTargetRows(load);
	rel = table_open(load->target_oid, NoLock);
	EtlPullSourceQueryStart(load->conn, load->table, load->source, NULL, true);
	(void) EtlPullCopyRows(load->conn, load->table, load->source, rel,
						   load->attnums, copy_row_done, load);
	EtlPullQueryEnd(load->conn);
	table_close(rel, NoLock);
}

const EtlPullStrategyRoutine EtlPullCopyStrategy = {
	.name = "copy",
	.privileges = ACL_INSERT | ACL_DELETE,
	.unsuitable = copy_unsuitable,
	.load = load_copy
};
