/*-------------------------------------------------------------------------
 *
 * held.c
 *		  Setting source_lock: a load of a source that no snapshot covers
 *		  holds the table against its writers for the whole read.
 *
 * Design.  A MyISAM (or Aria) table has no snapshot: a read in key-range
 * statements is fuzzy and made exact afterwards (settle.c), and the
 * features that promise one state of the source (the parallel strategy's
 * chunks, verify's check, a consistent load_all) cannot keep that promise
 * against a table that is written all the time.  With source_lock 'read'
 * (the DBA's choice: the practice's writes wait) the load holds
 * FLUSH TABLES `db`.`t` WITH READ LOCK on a connection of its own from
 * before the read until the read, and the check of setting verify, end
 * (EtlPullLoadDoneReading): the table's writers wait, its readers do not,
 * so the load's own connection and the parallel strategy's readers read
 * one state of it, in one statement each, and nothing needs re-checking.
 *
 * Why FLUSH TABLES ... WITH READ LOCK and not LOCK TABLES ... READ: both
 * make writers wait, but under LOCK TABLES a writer waits at the table
 * lock (thr_lock), where a waiting UPDATE or DELETE also holds back every
 * later reader of another connection (the load's own readers: the load
 * would wait for itself until lock_wait_timeout; measured on MariaDB
 * 10.11), while under FLUSH TABLES ... WITH READ LOCK the writer waits at
 * the metadata lock, which readers pass.  It needs RELOAD and LOCK TABLES.
 *
 * A consistent load_all takes the lock on all its opted-in tables at once,
 * with the group's snapshot (load_all.c); a load of one of them reads
 * under it (EtlPullLentConnection.held) and says when its read ended.
 *
 * The lock goes with its connection: on every error path the
 * transaction's abort closes the connection (lifetime.c), a killed
 * process's socket closes, and MariaDB releases the lock then.
 *
 * IDENTIFICATION
 *		  src/load/held.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "utils/timestamp.h"

#include "etl_pull.h"
#include "catalog/etl_catalog.h"
#include "remote/remote.h"
#include "load/load.h"

/* Why a held source is read in one statement (EtlPullSourceChunkKey) */
#define HELD_WHOLE_READ "setting source_lock holds it against its writers for the whole read"

/*
 * Whether a load of "table" holds "source" for its read: source_lock
 * 'read' on a table of an engine that no snapshot covers
 */
bool
EtlPullHoldWanted(EtlPullTable *table, EtlPullSource *source)
{
	return table->source_lock == ETL_SOURCE_LOCK_READ &&
		EtlPullSourceLocksOnRead(source);
}

/*
 * For a load (or a plan) that holds the source: it is read in one
 * statement, not in key ranges that would be re-checked
 */
void
EtlPullHoldReadsWhole(EtlPullSource *source)
{
	source->whole_read = HELD_WHOLE_READ;
}

/*
 * What a load of "table" does about holding "source", for etl_pull.plan();
 * NULL when it holds nothing
 */
const char *
EtlPullHoldPlan(EtlPullTable *table, EtlPullSource *source)
{
	if (!EtlPullHoldWanted(table, source))
		return NULL;
	return psprintf("source_lock read: FLUSH TABLES ... WITH READ LOCK held on a connection of its own from before the read until it ends%s: the table's writers wait for the whole read of its " INT64_FORMAT " MB (about " INT64_FORMAT " rows), its readers do not; read in one statement, nothing re-checked; in a consistent load_all, the group's lock on all its held tables, released when the last one's read ends",
					table->verify != ETL_VERIFY_OFF ? " and verify's check with it" : "",
					(source->estimated_bytes + (1 << 20) - 1) >> 20,
					source->estimated_rows);
}

/*
 * Before the read of a load that holds its source (load->held): take the
 * lock, or, in a consistent load_all that holds it for the group, note
 * since when it is held.  A lock that cannot be had fails the load.
 */
void
EtlPullHoldSource(EtlPullLoad *load)
{
	EtlPullSource *source = load->source;
	char	   *error = NULL;

	if (!load->held)
		return;
	if (load->lent && load->lent->held)
	{
		load->held_since = load->lent->held_since;
		return;
	}
	load->hold_conn = EtlPullConnect(EtlPullUsableServer(load->table->serverid),
									 load->caller);
	if (!EtlPullLockForSnapshot(load->hold_conn,
								psprintf("%s.%s", EtlPullQuoteIdent(source->db),
										 EtlPullQuoteIdent(source->table)),
								&error))
		ereport(ERROR,
				(errcode(ERRCODE_LOCK_NOT_AVAILABLE),
				 errmsg("could not lock MySQL table \"%s.%s\" for setting source_lock",
						source->db, source->table),
				 errdetail("MySQL said: %s.", error),
				 errhint("Grant the MySQL user RELOAD and LOCK TABLES, raise etl_pull.lock_timeout, or set source_lock to none: the load then reads the table in key ranges and re-checks them.")));
	load->held_since = GetCurrentTimestamp();
}

/*
 * The read of a load that holds its source is over (and verify's check):
 * release the lock, and note how long the writers were held; in a
 * consistent load_all, tell the group this table's read is over.
 */
void
EtlPullReleaseSource(EtlPullLoad *load)
{
	double		ms;

	if (!load->held || load->held_since == 0)
		return;
	ms = EtlPullMsSince(load->held_since);
	load->held_since = 0;
	if (load->hold_conn != NULL)
	{
		EtlPullUnlockTables(load->hold_conn);
		EtlPullDisconnect(load->hold_conn);
		load->hold_conn = NULL;
		EtlPullRunNote(load->result, "source_lock read: the table's writers held back for %.0f ms, from before the read until it ended%s (FLUSH TABLES ... WITH READ LOCK); read in one statement, nothing re-checked",
					   ms, load->table->verify != ETL_VERIFY_OFF ? ", verify's check with it" : "");
		return;
	}
	EtlPullRunNote(load->result, "source_lock read: read under the group's lock on its held tables, taken with its snapshot, held for %.0f ms when this table's read ended (released when the last one's ends); read in one statement, nothing re-checked",
				   ms);
	if (load->lent && load->lent->read_done)
		load->lent->read_done();
}
