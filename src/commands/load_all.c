/*-------------------------------------------------------------------------
 *
 * load_all.c
 *		  etl_pull.load_all(): several tables loaded at once by background
 *		  workers, each in a transaction of its own.
 *
 * Design.  The leader (the backend that called load_all) puts one slot per
 * table in a DSM segment and starts up to max_parallel dynamic background
 * workers.  Each worker connects to the leader's database as the leader's
 * current role (with search_path pinned to pg_catalog, pg_temp), then
 * takes the next table from a shared counter until none is left (biggest
 * first, by their sizes at the source: biggest_first), and runs
 * etl_pull.load_table(name) for it in a transaction of its own; it writes
 * the outcome (run id, rows, seconds, or the error) into the table's slot.
 * One table's failure does not touch the others.  A worker pays its start
 * once, not once per table.
 *
 * A worker keeps its MySQL connection (one per foreign server) across the
 * tables it loads, and lends it to each load (EtlPullLendConnection, which
 * load_table calls); before lending it again it undoes what the previous
 * table's mysql_settings changed (EtlPullResetMysqlSettings), so no
 * table's session settings reach the next.  After a failed load the
 * worker closes its connections and connects again for its next table.
 *
 * With consistent, every table of the group is read from one MySQL
 * snapshot, by the handshake the parallel strategy uses for its readers
 * (EtlPullGroupSnapshot, parallel.c): each worker connects, the leader
 * takes FLUSH TABLES WITH READ LOCK on a control connection of its own,
 * each worker starts its transaction WITH CONSISTENT SNAPSHOT, the leader
 * reads the binary log position and unlocks.  Each worker then loads all
 * its tables in that snapshot transaction, and every run records the
 * position.  Without the privilege for the lock the leader warns and the
 * workers take a snapshot per table, as without consistent; without the
 * privilege for the position it warns too.  The group's tables that no
 * snapshot covers and whose setting source_lock is read are held against
 * their writers (held.c) by one FLUSH TABLES ... WITH READ LOCK on a
 * connection of the leader's own, taken just before the global lock, so
 * they stand still from the snapshot's point; the leader releases them
 * once the last one's read is over (its worker says so: read_done), not
 * when the loads commit.  A failed load leaves the
 * snapshot's connection to the next table, unless the error left a result
 * streaming: connection.c then cuts it off, and the worker cannot go back
 * to the snapshot: its later tables fail.
 *
 * The workers are a worker group (bgworker.c).  A worker's error outside
 * a table's load (or its FATAL) is not flattened in the worker: its
 * protocol output goes to a small shm_mq of its own
 * (pq_redirect_to_shm_mq), and the leader parses the ErrorResponse
 * (pq_parse_errornotice) into the row of the table the worker was on
 * (keep_table_error).  The leader waits on its latch, which the postmaster
 * sets when a worker it started exits (bgw_notify_pid).  If the leader
 * errors out or is cancelled, its DSM segment is detached and the group's
 * detach callback terminates every worker still running; a worker killed
 * that way rolls its own transaction back.
 *
 * IDENTIFICATION
 *		  src/commands/load_all.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "foreign/foreign.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "port/atomics.h"
#include "storage/dsm.h"
#include "storage/shm_toc.h"
#include "tcop/tcopprot.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/resowner.h"
#include "utils/snapmgr.h"

#include "bgworker.h"
#include "etl_pull.h"
#include "catalog/etl_catalog.h"
#include "remote/remote.h"
#include "load/load.h"
#include "load/parallel.h"
#include "commands/commands.h"

#define SLOT_NAME_LEN	1024
#define SLOT_ERROR_LEN	1024
#define MAX_LOAD_WORKERS ETL_PULL_MAX_GROUP_WORKERS

/* One table of a load_all, in shared memory */
typedef struct LoadSlot
{
	char		table_name[SLOT_NAME_LEN];
	int			nth_biggest;	/* the slot of the table that is the nth to take */
	bool		reported;		/* set by the worker when it is done */
	bool		succeeded;
	int64		run_id;			/* its run (also a failed or skipped one), or 0 */
	int64		rows;
	double		seconds;
	char		status[16];
	char		error[SLOT_ERROR_LEN];	/* a failed load's error */
	bool		held;			/* consistent: its source is in the group's
								 * hold (setting source_lock) */
	bool		read_done;		/* set by the worker when its read is over */
} LoadSlot;

/* One worker, in shared memory */
typedef struct WorkerState
{
	int			slot;			/* the table it is loading, or -1 */
} WorkerState;

/*
 * The segment, laid out by a shm_toc: the shared state with the slots; the
 * worker group adds each worker's error queue
 */
#define LOAD_ALL_MAGIC				UINT64CONST(0x6574706c6c6f6164)
#define LOAD_ALL_KEY_SHARED			UINT64CONST(1)	/* LoadAllShared */

typedef struct LoadAllShared
{
	Oid			dboid;
	Oid			roleid;
	int			nslots;
	pg_atomic_uint32 next_slot; /* the next table to take */

	/* consistent: the handshake (see the design comment) */
	bool		consistent;
	Oid			serverid;		/* the group's one server */
	EtlPullSnapshotState snapshot;

	WorkerState workers[MAX_LOAD_WORKERS];
	LoadSlot	slots[FLEXIBLE_ARRAY_MEMBER];
} LoadAllShared;

/* The leader's load_all: its segment, its workers, and what they said */
typedef struct LoadAll
{
	dsm_segment *seg;
	LoadAllShared *shared;
	EtlPullWorkerGroup *group;
	char	  **errors;			/* per slot: a worker's error, as the result shows it */
	EtlPullConnection *hold;	/* consistent: holds the held tables, or NULL */
} LoadAll;

/*
 * The worker group's relay: an ErrorResponse of worker i becomes the error
 * of the table it was loading; notices stay in the worker's log.
 */
static void
keep_table_error(EtlPullWorkerGroup *group, int i, char type, ErrorData *edata)
{
	LoadAll    *all = (LoadAll *) group->arg;
	int			slot = all->shared->workers[i].slot;

	if (type == 'E' && slot >= 0 && slot < all->shared->nslots)
		all->errors[slot] = group->errors[i];
}

static const EtlPullWorkerKind load_workers = {
	.function = "etl_pull_load_worker_main",
	.type = "etl_pull load worker",
	.noun = "load worker",
	.relay = keep_table_error
};

/*
 * The enabled tables of a group (all groups if NULL), by name; *servers
 * gets each one's server name
 */
static List *
tables_to_load(text *group, List **servers)
{
	Oid			argtypes[1] = {TEXTOID};
	Datum		args[1];
	char		nulls[2] = " ";
	List	   *names = NIL;
	MemoryContext callercxt = CurrentMemoryContext;
	uint64		i;

	*servers = NIL;
	args[0] = group ? PointerGetDatum(group) : (Datum) 0;
	if (group == NULL)
		nulls[0] = 'n';
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute_with_args("SELECT name, server FROM etl_pull.tables"
							  " WHERE enabled AND ($1 IS NULL OR load_group OPERATOR(pg_catalog.=) $1)"
							  " ORDER BY name",
							  1, argtypes, args, nulls, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read etl_pull.tables");
	for (i = 0; i < SPI_processed; i++)
	{
		names = lappend(names,
						MemoryContextStrdup(callercxt,
											SPI_getvalue(SPI_tuptable->vals[i],
														 SPI_tuptable->tupdesc, 1)));
		*servers = lappend(*servers,
						   MemoryContextStrdup(callercxt,
											   SPI_getvalue(SPI_tuptable->vals[i],
															SPI_tuptable->tupdesc, 2)));
	}
	SPI_finish();
	return names;
}

/*
 * Raise the error for a load_all that found no enabled table (of "group",
 * or at all if NULL): a group name misspelt in a pg_cron job would
 * otherwise load nothing, every night, without a word.  The hint lists
 * the known groups.
 */
static void no_tables_error(text *group) pg_attribute_noreturn();

static void
no_tables_error(text *group)
{
	Oid			argtypes[1] = {TEXTOID};
	Datum		args[1];
	char		nulls[2] = " ";
	bool		isnull;
	int64		registered;
	char	   *groups;
	char	   *name = group ? text_to_cstring(group) : NULL;

	args[0] = group ? PointerGetDatum(group) : (Datum) 0;
	if (group == NULL)
		nulls[0] = 'n';
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute_with_args("SELECT pg_catalog.count(*) FILTER"
							  "  (WHERE $1 IS NULL OR load_group OPERATOR(pg_catalog.=) $1),"
							  " pg_catalog.string_agg(DISTINCT"
							  "  pg_catalog.format('\"%s\"', load_group), ', '"
							  "  ORDER BY pg_catalog.format('\"%s\"', load_group))"
							  "  FILTER (WHERE load_group OPERATOR(pg_catalog.<>) '')"
							  " FROM etl_pull.tables",
							  1, argtypes, args, nulls, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not read etl_pull.tables");
	registered = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0],
											 SPI_tuptable->tupdesc, 1, &isnull));
	groups = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2);
	groups = groups ? pstrdup(groups) : NULL;
	SPI_finish();

	if (name != NULL && registered == 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("load group \"%s\" does not exist", name),
				 errdetail("No registered table has load_group \"%s\".", name),
				 groups ?
				 errhint("The load groups are: %s.", groups) :
				 errhint("No registered table has a load group yet; set a table's with etl_pull.set_table_option(name, 'load_group', 'group').")));
	if (name != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("load group \"%s\" has no enabled table", name),
				 errdetail("Every table of the group is disabled."),
				 errhint("Enable a table with etl_pull.set_table_option(name, 'enabled', 'true').")));
	if (registered == 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("no table is registered with etl_pull"),
				 errhint("Register a table with etl_pull.add_table() or etl_pull.import_tables().")));
	ereport(ERROR,
			(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
			 errmsg("no registered table is enabled"),
			 errhint("Enable a table with etl_pull.set_table_option(name, 'enabled', 'true').")));
}

/*
 * Consistent: the group's one server.  Every table of the group must be on
 * it, or nothing is loaded.
 */
static ForeignServer *
one_server(List *servers)
{
	ListCell   *lc;

	foreach(lc, servers)
		if (strcmp((char *) lfirst(lc), (char *) linitial(servers)) != 0)
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("a consistent load_all reads every table from one MySQL server"),
					 errdetail("Tables of the group are on servers \"%s\" and \"%s\".",
							   (char *) linitial(servers), (char *) lfirst(lc)),
					 errhint("Put the tables of each server in a group of their own.")));
	return EtlPullUsableServer(GetForeignServerByName(linitial(servers), false)->serverid);
}

/* A table of the load_all and its size at the source, for biggest_first */
typedef struct SizedTable
{
	int			slot;
	int64		size;
} SizedTable;

static int
bigger_first(const void *a, const void *b)
{
	const SizedTable *x = a;
	const SizedTable *y = b;

	if (x->size != y->size)
		return x->size > y->size ? -1 : 1;
	return x->slot - y->slot;
}

/*
 * The sizes at the source of the tables "t[0 .. n - 1]" of server "serverid"
 * into sizes[] (EtlPullSourceSizes), or zeros if the server cannot say:
 * an error here is left to each table's own load to report.
 */
static void
server_sizes(Oid serverid, EtlPullTable **t, int n, int64 *sizes)
{
	MemoryContext cxt = CurrentMemoryContext;
	ResourceOwner owner = CurrentResourceOwner;

	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(cxt);
	PG_TRY();
	{
		EtlPullConnection *conn = EtlPullConnect(EtlPullUsableServer(serverid), GetUserId());

		EtlPullSourceSizes(conn, t, n, sizes, NULL);
		EtlPullDisconnect(conn);
		ReleaseCurrentSubTransaction();
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(cxt);
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
		memset(sizes, 0, sizeof(int64) * n);
	}
	PG_END_TRY();
	MemoryContextSwitchTo(cxt);
	CurrentResourceOwner = owner;
}

/*
 * The order in which the workers take the tables of "shared": biggest
 * first, by DATA_LENGTH + INDEX_LENGTH at the source (one query per
 * server), ties by name, into each slot's nth_biggest.  The longest loads
 * start at once and the small tables fill the end, so that no worker is
 * left alone with a big table while the others are done (the order of
 * the result rows stays by name).
 */
static void
biggest_first(LoadAllShared *shared)
{
	int			n = shared->nslots;
	EtlPullTable **tables = palloc(sizeof(EtlPullTable *) * n);
	SizedTable *sized = palloc(sizeof(SizedTable) * n);
	int64	   *sizes = palloc0(sizeof(int64) * n);
	bool	   *done = palloc0(sizeof(bool) * n);
	EtlPullTable **same = palloc(sizeof(EtlPullTable *) * n);
	int		   *which = palloc(sizeof(int) * n);
	int64	   *got = palloc(sizeof(int64) * n);
	int			i;

	for (i = 0; i < n; i++)
		tables[i] = EtlPullReadTable(shared->slots[i].table_name);
	/* one query per server, for the tables of that server */
	for (i = 0; i < n; i++)
	{
		int			m = 0;
		int			j;

		if (done[i])
			continue;
		for (j = i; j < n; j++)
			if (!done[j] && tables[j]->serverid == tables[i]->serverid)
			{
				same[m] = tables[j];
				which[m++] = j;
				done[j] = true;
			}
		server_sizes(tables[i]->serverid, same, m, got);
		for (j = 0; j < m; j++)
			sizes[which[j]] = got[j];
	}
	for (i = 0; i < n; i++)
	{
		sized[i].slot = i;
		sized[i].size = sizes[i];
	}
	qsort(sized, n, sizeof(SizedTable), bigger_first);
	for (i = 0; i < n; i++)
		shared->slots[i].nth_biggest = sized[i].slot;
}

/*
 * The segment, with one slot per table of "names", and up to "nworkers"
 * workers started on it ("server": consistent's one server, or NULL)
 */
static LoadAll *
start_load_workers(List *names, int nworkers, ForeignServer *server)
{
	LoadAll    *all = palloc0(sizeof(LoadAll));
	int			n = list_length(names);
	Size		shared_size = add_size(offsetof(LoadAllShared, slots),
									   mul_size(sizeof(LoadSlot), n));
	shm_toc_estimator e;
	shm_toc    *toc;
	LoadAllShared *shared;
	ListCell   *lc;
	int			i;

	shm_toc_initialize_estimator(&e);
	shm_toc_estimate_chunk(&e, shared_size);
	shm_toc_estimate_keys(&e, 1);
	EtlPullEstimateErrorQueues(&e, nworkers);
	all->seg = EtlPullSegmentCreate(&e, LOAD_ALL_MAGIC, &toc);
	shared = all->shared = shm_toc_allocate(toc, shared_size);
	memset(shared, 0, shared_size);
	shm_toc_insert(toc, LOAD_ALL_KEY_SHARED, shared);
	shared->dboid = MyDatabaseId;
	shared->roleid = GetUserId();
	shared->nslots = n;
	pg_atomic_init_u32(&shared->next_slot, 0);
	shared->consistent = (server != NULL);
	shared->serverid = server ? server->serverid : InvalidOid;
	EtlPullSnapshotInit(&shared->snapshot);
	for (i = 0; i < MAX_LOAD_WORKERS; i++)
		shared->workers[i].slot = -1;
	i = 0;
	foreach(lc, names)
	{
		shared->slots[i].nth_biggest = i;
		strlcpy(shared->slots[i++].table_name, (char *) lfirst(lc), SLOT_NAME_LEN);
	}
	biggest_first(shared);

	all->errors = palloc0(sizeof(char *) * n);
	all->group = EtlPullWorkerGroupStart(&load_workers, all->seg, toc, nworkers, all);
	if (all->group->nworkers == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_RESOURCES),
				 errmsg("could not start a background worker to load table \"%s\"",
						shared->slots[0].table_name),
				 errhint("Consider increasing the configuration parameter \"%s\".",
						 "max_worker_processes")));
	return all;
}

/*
 * Consistent: the tables of the group that no snapshot covers and whose
 * setting source_lock is read, quoted for FLUSH TABLES (NULL if none);
 * their slots are marked held.  Their engines are asked of "conn" in one
 * query, only if a table of the group has the setting.
 */
static char *
held_tables(LoadAll *all, EtlPullConnection *conn)
{
	int			n = all->shared->nslots;
	EtlPullTable **tables = palloc(sizeof(EtlPullTable *) * n);
	int64	   *sizes = palloc(sizeof(int64) * n);
	char	  **engines = palloc(sizeof(char *) * n);
	bool		wanted = false;
	StringInfoData buf;
	int			i;

	for (i = 0; i < n; i++)
	{
		tables[i] = EtlPullReadTable(all->shared->slots[i].table_name);
		wanted |= (tables[i]->source_lock == ETL_SOURCE_LOCK_READ);
	}
	if (!wanted)
		return NULL;
	EtlPullSourceSizes(conn, tables, n, sizes, engines);
	initStringInfo(&buf);
	for (i = 0; i < n; i++)
	{
		EtlPullTable *t = tables[i];

		if (t->source_lock != ETL_SOURCE_LOCK_READ ||
			!EtlPullEngineLocksOnRead(engines[i]))
			continue;
		all->shared->slots[i].held = true;
		appendStringInfo(&buf, "%s%s.%s", buf.len > 0 ? ", " : "",
						 EtlPullQuoteIdent(t->source_db ? t->source_db : EtlPullDefaultDb(conn)),
						 EtlPullQuoteIdent(t->source_relname));
	}
	return buf.len > 0 ? buf.data : NULL;
}

/*
 * Consistent: the handshake on the whole of "server", once the workers are
 * started.  The group's snapshot is taken by every worker if the lock
 * could be had (else a WARNING), its position is in the shared state.
 * The group's held tables (held_tables) are held from just before it, on
 * a connection of the leader's own (all->hold), until their reads are
 * over (release_held); if they cannot be, a WARNING says why, and their
 * loads fail.
 */
static void
group_snapshot(LoadAll *all, ForeignServer *server)
{
	EtlPullHandshake hs = {
		.control = EtlPullConnect(server, GetUserId()),
		.tables = NULL,
		.exited = "taking the group's snapshot",
		.late = "take the group's snapshot"
	};

	hs.hold_tables = held_tables(all, hs.control);
	if (hs.hold_tables != NULL)
		hs.hold = EtlPullConnect(server, GetUserId());
	(void) EtlPullGroupSnapshot(all->group, &all->shared->snapshot, &hs);
	if (!hs.locked)
		ereport(WARNING,
				(errmsg("could not lock MySQL server \"%s\" for the group's consistent snapshot",
						server->servername),
				 errdetail("MySQL said: %s. Each table is read from a snapshot of its own, taken when its load starts.", hs.lock_error),
				 errhint("Grant the MySQL user RELOAD, or raise etl_pull.lock_timeout.")));
	if (hs.hold != NULL && !all->shared->snapshot.held)
	{
		ereport(WARNING,
				(errmsg("could not lock the tables of the group whose setting source_lock is read on MySQL server \"%s\"",
						server->servername),
				 errdetail("MySQL said: %s. Their loads fail.", hs.hold_error),
				 errhint("Grant the MySQL user RELOAD and LOCK TABLES, or raise etl_pull.lock_timeout.")));
		EtlPullDisconnect(hs.hold);
		hs.hold = NULL;
	}
	all->hold = hs.hold;
	EtlPullDisconnect(hs.control);
}

/*
 * The worker group's wait, until every held table's read is over: its
 * worker said so, or its load is over, or its worker is gone (killed); the
 * wait also ends when every worker has exited
 */
static bool
held_reads_over(void *arg)
{
	LoadAll    *all = (LoadAll *) arg;
	int			i;

	pg_read_barrier();
	for (i = 0; i < all->group->nworkers; i++)
	{
		int			s = all->shared->workers[i].slot;

		if (s >= 0 && s < all->shared->nslots &&
			(all->group->handles[i] == NULL || EtlPullWorkerStopped(all->group, i)))
			all->shared->slots[s].read_done = true;
	}
	for (i = 0; i < all->shared->nslots; i++)
	{
		LoadSlot   *slot = &all->shared->slots[i];

		if (slot->held && !slot->read_done && !slot->reported)
			return false;
	}
	return true;
}

/*
 * Consistent, with held tables: once the last one's read is over, release
 * them (not at the workers' commits: their writers have waited enough)
 */
static void
release_held(LoadAll *all)
{
	if (all->hold == NULL)
		return;
	(void) EtlPullWorkerGroupWaitUntil(all->group, held_reads_over);
	EtlPullUnlockTables(all->hold);
	EtlPullDisconnect(all->hold);
	all->hold = NULL;
}

/* The result: one row per table, in the slots' order */
static void
emit_results(ReturnSetInfo *rsinfo, LoadAll *all)
{
	int			i;

	for (i = 0; i < all->shared->nslots; i++)
	{
		LoadSlot   *slot = &all->shared->slots[i];
		Datum		values[6];
		bool		nulls[6] = {0};

		values[0] = CStringGetTextDatum(slot->table_name);
		/* a failed or skipped run has an id too, if it was recorded */
		values[2] = Int64GetDatum(slot->run_id);
		nulls[2] = !slot->reported || slot->run_id == 0;
		if (slot->reported && slot->succeeded)
		{
			values[1] = CStringGetTextDatum(slot->status);
			values[3] = Int64GetDatum(slot->rows);
			values[4] = Float8GetDatum(slot->seconds);
			nulls[5] = true;
		}
		else
		{
			values[1] = CStringGetTextDatum(slot->reported ? slot->status : "failed");
			nulls[3] = nulls[4] = true;
			if (slot->reported && slot->error[0] != '\0')
				values[5] = CStringGetTextDatum(slot->error);
			else if (!slot->reported && all->errors[i] != NULL)
				values[5] = CStringGetTextDatum(all->errors[i]);
			else if (!slot->reported)
				values[5] = CStringGetTextDatum("the load worker exited without reporting; see the server log");
			else
				nulls[5] = true;	/* skipped: the table was busy */
		}
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
}

PG_FUNCTION_INFO_V1(etl_pull_load_all);

/*
 * etl_pull.load_all(load_group text DEFAULT NULL, max_parallel int DEFAULT NULL,
 *					 consistent boolean DEFAULT false)
 *		returns setof (table_name, status, run_id, rows, seconds, error)
 */
Datum
etl_pull_load_all(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	text	   *group = PG_ARGISNULL(0) ? NULL : PG_GETARG_TEXT_PP(0);
	int			max_parallel = PG_ARGISNULL(1) ? EtlPullMaxParallelLoads : PG_GETARG_INT32(1);
	bool		consistent = PG_NARGS() > 2 && !PG_ARGISNULL(2) && PG_GETARG_BOOL(2);
	List	   *names;
	List	   *servers;
	ForeignServer *server = NULL;
	LoadAll    *all;

	if (max_parallel < 1 || max_parallel > MAX_LOAD_WORKERS)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("max_parallel must be between 1 and %d", MAX_LOAD_WORKERS)));

	InitMaterializedSRF(fcinfo, 0);
	names = tables_to_load(group, &servers);
	if (names == NIL)
		no_tables_error(group);
	EtlPullCheckWorkerRole(GetUserId(), "load_all",
						   "Call load_all as a role with LOGIN, or load each table with etl_pull.load_table().");
	if (consistent)
		server = one_server(servers);

	all = start_load_workers(names, Min(max_parallel, list_length(names)), server);
	if (consistent)
	{
		group_snapshot(all, server);
		release_held(all);
	}
	EtlPullWorkerGroupWaitExit(all->group);
	emit_results(rsinfo, all);
	dsm_detach(all->seg);
	return (Datum) 0;
}

/*
 * A worker's MySQL connection to one server, kept across its tables
 */
typedef struct KeptConnection
{
	Oid			serverid;
	EtlPullConnection *conn;
	char	   *applied;		/* the mysql_settings its last load applied */
	struct KeptConnection *next;
} KeptConnection;

/* In a load worker: its shared state and its connections */
static LoadAllShared *worker_shared = NULL;
static KeptConnection *kept = NULL;
static bool lendable = false;	/* load_table may borrow a connection now */
static EtlPullLentConnection lent;
static LoadSlot *loading = NULL;	/* the slot of the table being loaded */

/*
 * For a load under the group's hold: its read is over, which the leader
 * waits for to release the hold
 */
static void
held_read_done(void)
{
	if (loading == NULL || !loading->held)
		return;
	loading->read_done = true;
	pg_write_barrier();
	SetLatch(&worker_shared->snapshot.leader->procLatch);
}

/*
 * For load_table: the connection this load_all worker keeps to the table's
 * server, its session as new, or NULL outside a worker (or for a load that
 * a load started).  Connects if the worker has none to that server yet.
 */
EtlPullLentConnection *
EtlPullLendConnection(EtlPullTable *table)
{
	KeptConnection *k;

	if (!lendable || GetUserId() != worker_shared->roleid)
		return NULL;
	lendable = false;
	for (k = kept; k != NULL; k = k->next)
		if (k->serverid == table->serverid)
			break;
	if (worker_shared->consistent && worker_shared->snapshot.locked &&
		(k == NULL || k->conn == NULL || EtlPullConnectionLost(k->conn)))
		ereport(ERROR,
				(errcode(ERRCODE_CONNECTION_FAILURE),
				 errmsg("the group's consistent snapshot is lost for table \"%s\"", table->name),
				 errdetail("The load worker's MySQL connection, which held the snapshot, was closed by the error of an earlier table."),
				 errhint("Load the table again.")));
	if (k != NULL && k->conn != NULL && EtlPullConnectionLost(k->conn))
	{
		EtlPullDisconnect(k->conn);
		k->conn = NULL;
	}
	if (k == NULL)
	{
		k = MemoryContextAllocZero(TopMemoryContext, sizeof(KeptConnection));
		k->serverid = table->serverid;
		k->next = kept;
		kept = k;
	}
	if (k->conn == NULL)
	{
		k->conn = EtlPullConnect(EtlPullUsableServer(table->serverid), GetUserId());
		EtlPullKeepConnection(k->conn);
	}
	else if (k->applied != NULL)
		EtlPullResetMysqlSettings(k->conn, k->applied);
	if (k->applied)
		pfree(k->applied);
	k->applied = table->mysql_settings ?
		MemoryContextStrdup(TopMemoryContext, table->mysql_settings) : NULL;

	lent.conn = k->conn;
	lent.in_snapshot = worker_shared->consistent && worker_shared->snapshot.locked;
	lent.held = loading != NULL && loading->held && worker_shared->snapshot.held;
	lent.held_since = worker_shared->snapshot.held_since;
	lent.read_done = held_read_done;
	lent.position = worker_shared->snapshot.position[0] ? worker_shared->snapshot.position : NULL;
	return &lent;
}

/*
 * Consistent: the worker's side of the handshake, as worker "workerno".
 * Connect (the connection kept for the group's server), then take part
 * (EtlPullJoinGroupSnapshot): a snapshot only if the leader could lock.
 */
static void
join_group_snapshot(int workerno)
{
	KeptConnection *k;

	StartTransactionCommand();
	k = MemoryContextAllocZero(TopMemoryContext, sizeof(KeptConnection));
	k->serverid = worker_shared->serverid;
	k->conn = EtlPullConnect(GetForeignServer(worker_shared->serverid),
							 worker_shared->roleid);
	EtlPullKeepConnection(k->conn);
	kept = k;
	CommitTransactionCommand();

	StartTransactionCommand();
	(void) EtlPullJoinGroupSnapshot(&worker_shared->snapshot, workerno, k->conn, false);
	CommitTransactionCommand();
}

/*
 * After a failed load: close the worker's connections, so that the next
 * table starts on a new one (the error may have been a lost connection,
 * which an idle kept connection does not notice).  Not the one that holds
 * the group's snapshot, which the next tables still read.
 */
static void
drop_connections(void)
{
	KeptConnection *k;

	if (worker_shared->consistent && worker_shared->snapshot.locked)
		return;
	for (k = kept; k != NULL; k = k->next)
	{
		if (k->conn)
			EtlPullDisconnect(k->conn);
		k->conn = NULL;
		if (k->applied)
			pfree(k->applied);
		k->applied = NULL;
	}
}

/*
 * Load the table of "slot" in a transaction of its own, and report in the
 * slot.  A failed load's error is reported, not raised: the worker goes on
 * with the next table.
 */
static void
load_one(LoadSlot *slot)
{
	MemoryContext cxt = CurrentMemoryContext;
	Oid			argtypes[1] = {TEXTOID};
	Datum		args[1];
	bool		isnull;
	HeapTuple	tup;
	TupleDesc	desc;

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	pgstat_report_activity(STATE_RUNNING, "etl_pull: load_all worker");
	PG_TRY();
	{
		args[0] = CStringGetTextDatum(slot->table_name);
		SPI_connect();
		PushActiveSnapshot(GetTransactionSnapshot());
		lendable = true;
		EtlPullForgetLastRun();
		if (SPI_execute_with_args("SELECT run_id, rows, seconds, status"
								  " FROM etl_pull.load_table($1)",
								  1, argtypes, args, NULL, false, 1) != SPI_OK_SELECT)
			elog(ERROR, "could not run etl_pull.load_table");
		lendable = false;
		tup = SPI_tuptable->vals[0];
		desc = SPI_tuptable->tupdesc;
		/* a skipped load has a run id, but no rows or seconds */
		slot->run_id = DatumGetInt64(SPI_getbinval(tup, desc, 1, &isnull));
		if (isnull)
			slot->run_id = 0;
		slot->rows = DatumGetInt64(SPI_getbinval(tup, desc, 2, &isnull));
		if (isnull)
			slot->rows = 0;
		slot->seconds = DatumGetFloat8(SPI_getbinval(tup, desc, 3, &isnull));
		if (isnull)
			slot->seconds = 0;
		strlcpy(slot->status, SPI_getvalue(tup, desc, 4), sizeof(slot->status));
		/* a table skipped as unchanged is a success: its rows are the source's */
		slot->succeeded = (strcmp(slot->status, "succeeded") == 0 ||
						   strcmp(slot->status, "unchanged") == 0);
		SPI_finish();
		PopActiveSnapshot();
		CommitTransactionCommand();
	}
	PG_CATCH();
	{
		ErrorData  *edata;
		char	   *text;

		lendable = false;
		MemoryContextSwitchTo(cxt);
		EmitErrorReport();		/* to the server log (and the leader's queue) */
		edata = CopyErrorData();
		FlushErrorState();
		AbortCurrentTransaction();
		MemoryContextSwitchTo(cxt);
		strlcpy(slot->status, "failed", sizeof(slot->status));
		slot->run_id = EtlPullLastRunId();	/* its failed run, if recorded */
		text = EtlPullErrorText(edata);
		strlcpy(slot->error, text, SLOT_ERROR_LEN);
		slot->succeeded = false;
		pfree(text);
		FreeErrorData(edata);
		drop_connections();
	}
	PG_END_TRY();
	pgstat_report_activity(STATE_IDLE, NULL);
	pg_write_barrier();
	slot->reported = true;
	if (slot->held)
		SetLatch(&worker_shared->snapshot.leader->procLatch);
}

/*
 * Background worker: load tables of a load_all, the next one from the
 * shared counter, until none is left.  An error outside a table's load is
 * not caught: the background worker's error handling sends it, through
 * the error queue, to the leader.
 */
void
etl_pull_load_worker_main(Datum main_arg)
{
	dsm_segment *seg;
	shm_toc    *toc;
	WorkerState *me;
	int			workerno;
	KeptConnection *k;

	toc = EtlPullWorkerAttach(main_arg, LOAD_ALL_MAGIC, &seg, &workerno);
	worker_shared = shm_toc_lookup(toc, LOAD_ALL_KEY_SHARED, false);
	me = &worker_shared->workers[workerno];
	EtlPullWorkerRedirectErrors(seg, toc, workerno);

	EtlPullWorkerConnect(worker_shared->dboid, worker_shared->roleid);
	if (worker_shared->consistent)
		join_group_snapshot(workerno);

	for (;;)
	{
		uint32		slotno = pg_atomic_fetch_add_u32(&worker_shared->next_slot, 1);

		CHECK_FOR_INTERRUPTS();
		if (slotno >= (uint32) worker_shared->nslots)
			break;
		slotno = worker_shared->slots[slotno].nth_biggest;
		me->slot = (int) slotno;
		pg_write_barrier();
		loading = &worker_shared->slots[slotno];
		load_one(loading);
		loading = NULL;
	}
	me->slot = -1;
	for (k = kept; k != NULL; k = k->next)
		if (k->conn)
			EtlPullDisconnect(k->conn);
	dsm_detach(seg);
}
