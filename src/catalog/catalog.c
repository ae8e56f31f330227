/*-------------------------------------------------------------------------
 *
 * catalog.c
 *		  etl_pull's own tables: the registered tables' settings, run ids
 *		  and rejected rows (the run rows are recorder.c's).
 *
 * The tables are plain SQL tables in schema etl_pull (see the install
 * script); this file reads and writes them through SPI with parameters,
 * never by splicing values into SQL.
 *
 * IDENTIFICATION
 *		  src/catalog/catalog.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/genam.h"
#include "access/table.h"
#include "access/transam.h"
#include "catalog/catalog.h"
#include "catalog/dependency.h"
#include "catalog/indexing.h"
#include "catalog/namespace.h"
#include "catalog/pg_extension.h"
#include "catalog/pg_class.h"
#include "catalog/pg_namespace.h"
#include "catalog/pg_type.h"
#include "common/hashfn.h"
#include "executor/spi.h"
#include "foreign/foreign.h"
#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "commands/sequence.h"
#include "parser/scansup.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/regproc.h"
#include "utils/rls.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"

#include "compat.h"
#include "etl_pull.h"
#include "catalog/etl_catalog.h"

/*
 * Column positions of the SELECT in EtlPullReadTable: name, server, the
 * settings in the order of their descriptors, table_id
 */
#define COL_NAME 1
#define COL_SERVER 2
#define COL_FIRST_SETTING 3
#define COL_TABLE_ID (COL_FIRST_SETTING + EtlPullNumTableSettings)

/*
 * The text of a setting that has a default, so is NOT NULL in
 * etl_pull.tables.
 */
static char *
not_null(char *text, const EtlPullSettingDesc *s, EtlPullTable *t)
{
	if (text == NULL)
		elog(ERROR, "setting \"%s\" of table \"%s\" is NULL in etl_pull.tables",
			 s->name, t->name);
	return text;
}

/* The elements of a text[] column, as a List of char *; NIL for NULL */
static List *
text_array_list(HeapTuple tup, TupleDesc desc, int col)
{
	bool		isnull;
	Datum		d = SPI_getbinval(tup, desc, col, &isnull);
	List	   *list = NIL;
	Datum	   *elems;
	int			n;
	int			i;

	if (SPI_gettypeid(desc, col) != TEXTARRAYOID)
		elog(ERROR, "column \"%s\" of etl_pull.tables is not of type text[]",
			 SPI_fname(desc, col));
	if (isnull)
		return NIL;
	deconstruct_array(DatumGetArrayTypeP(d), TEXTOID, -1, false,
					  TYPALIGN_INT, &elems, NULL, &n);
	for (i = 0; i < n; i++)
		list = lappend(list, TextDatumGetCString(elems[i]));
	return list;
}

/*
 * Decode column "col" of the row EtlPullReadTable read, the value of
 * setting "s", into its field of "t" (see the kinds in etl_pull.h).  The
 * values come from our own table, whose CHECKs allow what the validator
 * allows: one out of place is a can't-happen error.
 */
static void
read_setting(EtlPullTable *t, const EtlPullSettingDesc *s, HeapTuple tup,
			 TupleDesc desc, int col)
{
	char	   *field = (char *) t + s->offset;
	char	   *text = NULL;
	int			ordinal;

	if (s->kind != SET_COLUMN_LIST)
		text = SPI_getvalue(tup, desc, col);
	switch (s->kind)
	{
		case SET_TEXT:
		case SET_QUALIFIED_NAME:
		case SET_PG_SETTINGS:
		case SET_MYSQL_SETTINGS:
			*(char **) field = text;
			break;
		case SET_COLUMN_LIST:
			*(List **) field = text_array_list(tup, desc, col);
			break;
		case SET_COLUMN_TYPES:
			*(List **) field = EtlPullParseColumnTypes(text);
			break;
		case SET_NUMERIC:
			/* NULL, for a setting without a default, is -1: unset */
			*(double *) field = text ? strtod(text, NULL) : -1;
			break;
		case SET_INT:
			*(int *) field = pg_strtoint32(not_null(text, s, t));
			break;
		case SET_BOOL:
			*(bool *) field = strcmp(not_null(text, s, t), "t") == 0;
			break;
		case SET_CHOICE:
			ordinal = EtlPullChoiceOrdinal(not_null(text, s, t), s->choices);
			if (ordinal < 0)
				elog(ERROR, "invalid value \"%s\" of setting \"%s\" in etl_pull.tables",
					 text, s->name);
			*(int *) field = ordinal;
			break;
	}
}

/* The SQL type of a setting's column in etl_pull.tables */
const char *
EtlPullSettingSqlType(EtlPullSettingKind kind)
{
	switch (kind)
	{
		case SET_COLUMN_LIST:
			return "pg_catalog.text[]";
		case SET_INT:
			return "pg_catalog.int4";
		case SET_NUMERIC:
			return "pg_catalog.numeric";
		case SET_BOOL:
			return "pg_catalog.bool";
		default:
			return "pg_catalog.text";
	}
}

/*
 * The statements EtlPullOwnerExec and EtlPullReadTable have run in this
 * process, each kept prepared: a load reads its table's settings and
 * writes its run row (and more) with the same few statements every time,
 * and parsing and planning them again was a good part of a small table's
 * fixed cost.  The plan cache replans a kept plan
 * when what it uses changes (an extension update); its names are all
 * schema-qualified, and it runs with search_path pinned, as before.
 */
typedef struct OwnerStatement
{
	char	   *sql;
	SPIPlanPtr	plan;
	struct OwnerStatement *next;
} OwnerStatement;

static OwnerStatement *owner_statements = NULL;

/* The kept plan of "sql" (with "nargs" parameters of "argtypes"); in SPI */
static SPIPlanPtr
owner_statement(const char *sql, int nargs, Oid *argtypes)
{
	OwnerStatement *os;
	SPIPlanPtr	plan;

	for (os = owner_statements; os != NULL; os = os->next)
		if (strcmp(os->sql, sql) == 0)
			return os->plan;
	plan = SPI_prepare(sql, nargs, argtypes);
	if (plan == NULL)
		elog(ERROR, "SPI_prepare failed: %s", sql);
	if (SPI_keepplan(plan) != 0)
		elog(ERROR, "SPI_keepplan failed");
	os = MemoryContextAlloc(TopMemoryContext, sizeof(OwnerStatement));
	os->sql = MemoryContextStrdup(TopMemoryContext, sql);
	os->plan = plan;
	os->next = owner_statements;
	owner_statements = os;
	return plan;
}

/*
 * The kept plan of "sql" (owner_statement), for a caller that runs it
 * itself, in SPI, as the extension's owner: a read of etl_pull's own
 * tables that each load makes
 */
SPIPlanPtr
EtlPullOwnerPlan(const char *sql, int nargs, Oid *argtypes)
{
	return owner_statement(sql, nargs, argtypes);
}

/*
 * Read a registered table's settings.  An unknown name, a missing server
 * or a server of another wrapper is an ERROR.  Result is palloc'd in the
 * caller's context.
 */
EtlPullTable *
EtlPullReadTable(const char *name)
{
	EtlPullTable *t = palloc0(sizeof(EtlPullTable));
	Oid			argtypes[1] = {TEXTOID};
	Datum		args[1];
	HeapTuple	tup;
	TupleDesc	desc;
	ForeignServer *server;
	ForeignDataWrapper *fdw;
	StringInfoData sql;
	MemoryContext callercxt = CurrentMemoryContext;
	MemoryContext oldcxt;
	EtlPullUserState st;
	Oid			tables;
	bool		has_table_id;
	int			i;

	args[0] = CStringGetTextDatum(name);
	EtlPullAsOwner(&st);

	/*
	 * table_id came with 1.1: while the catalog is still at 1.0 (this
	 * library, no ALTER EXTENSION etl_pull UPDATE yet) it is read as NULL.
	 */
	tables = get_relname_relid("tables", get_namespace_oid("etl_pull", false));
	has_table_id = get_attnum(tables, "table_id") != InvalidAttrNumber;

	/*
	 * The settings' names are our own constants, quoted all the same.  A
	 * setting newer than the catalog (this library, no ALTER EXTENSION
	 * etl_pull UPDATE yet) has no column: it reads as its default.
	 */
	initStringInfo(&sql);
	appendStringInfoString(&sql, "SELECT name, server");
	for (i = 0; i < EtlPullNumTableSettings; i++)
	{
		const EtlPullSettingDesc *s = &EtlPullTableSettings[i];

		if (get_attnum(tables, s->name) != InvalidAttrNumber)
			appendStringInfo(&sql, ", %s", quote_identifier(s->name));
		else
			appendStringInfo(&sql, ", %s::%s",
							 s->default_value ? quote_literal_cstr(s->default_value) : "NULL",
							 EtlPullSettingSqlType(s->kind));
	}
	appendStringInfo(&sql, ", %s FROM etl_pull.tables WHERE name OPERATOR(pg_catalog.=) $1",
					 has_table_id ? "table_id" : "NULL::pg_catalog.int4");

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute_plan(owner_statement(sql.data, 1, argtypes), args, NULL,
						 true, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not read etl_pull.tables");
	if (SPI_processed == 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("table \"%s\" is not registered with etl_pull", name),
				 errhint("Register it with etl_pull.add_table().")));

	tup = SPI_tuptable->vals[0];
	desc = SPI_tuptable->tupdesc;
	oldcxt = MemoryContextSwitchTo(callercxt);
	t->name = SPI_getvalue(tup, desc, COL_NAME);
	t->server_name = SPI_getvalue(tup, desc, COL_SERVER);
	for (i = 0; i < EtlPullNumTableSettings; i++)
		read_setting(t, &EtlPullTableSettings[i], tup, desc, COL_FIRST_SETTING + i);

	/*
	 * The "loading" lock's key: table_id, which no two registered tables
	 * share; 1.0's catalog has none, and there it is 1.0's, a hash of the
	 * name.
	 */
	{
		bool		isnull;
		Datum		d = SPI_getbinval(tup, desc, COL_TABLE_ID, &isnull);

		t->lock_key = isnull ?
			(int32) hash_bytes((const unsigned char *) t->name, strlen(t->name)) :
			DatumGetInt32(d);
	}
	MemoryContextSwitchTo(oldcxt);
	SPI_finish();
	EtlPullAsCaller(&st);

	server = GetForeignServerByName(t->server_name, false);
	fdw = GetForeignDataWrapper(server->fdwid);
	if (strcmp(fdw->fdwname, "etl_pull") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("server \"%s\" does not use foreign-data wrapper \"etl_pull\"",
						t->server_name)));
	t->serverid = server->serverid;

	EtlPullSplitSourceTable(t->source_table ? t->source_table : t->name,
							&t->source_db, &t->source_relname);
	EtlPullResolveTarget(t->name, t->target_table, &t->target_schema,
						 &t->target_relname);
	return t;
}

/* The quoted schema.table of relation "relid" */
static char *
relation_qname(Oid relid)
{
	return quote_qualified_identifier(get_namespace_name(get_rel_namespace(relid)),
									  get_rel_name(relid));
}

/*
 * Whether the catalog has etl_pull.created_targets, which came with 1.4: a
 * catalog not updated yet records no created target, and knows of none.
 */
static bool
has_created_targets(void)
{
	return OidIsValid(get_relname_relid("created_targets",
										get_namespace_oid("etl_pull", false)));
}

/*
 * Record that a load created relation "relid" as the target of registered
 * table "table_name" (etl_pull.created_targets), in the load's
 * transaction, as the extension's owner.  A table etl_pull did not create
 * becomes a target only when its owner names it (EtlPullCheckAdoptable).
 */
void
EtlPullRecordCreatedTarget(Oid relid, const char *table_name)
{
	Oid			argtypes[3] = {REGCLASSOID, TEXTOID, TEXTOID};
	Datum		args[3];

	if (!has_created_targets())
		return;

	args[0] = ObjectIdGetDatum(relid);
	args[1] = CStringGetTextDatum(relation_qname(relid));
	args[2] = CStringGetTextDatum(table_name);
	EtlPullOwnerExec("INSERT INTO etl_pull.created_targets AS c"
					 " (target, target_name, table_name) VALUES ($1, $2, $3)"
					 " ON CONFLICT (target) DO UPDATE"
					 " SET target_name = EXCLUDED.target_name,"
					 "     table_name = EXCLUDED.table_name, created_at = pg_catalog.now()",
					 3, argtypes, args, NULL, SPI_OK_INSERT,
					 "record a created target in etl_pull.created_targets");
}

/*
 * Whether a load of etl_pull created relation "relid", which still has the
 * name it was created with (a table renamed, or dropped and made again by
 * hand under the old name, is not the one etl_pull created).
 */
bool
EtlPullCreatedTarget(Oid relid)
{
	Oid			argtypes[2] = {REGCLASSOID, TEXTOID};
	Datum		args[2];
	EtlPullUserState st;
	bool		created;

	if (!has_created_targets())
		return false;
	args[0] = ObjectIdGetDatum(relid);
	args[1] = CStringGetTextDatum(relation_qname(relid));
	EtlPullAsOwner(&st);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute_with_args("SELECT FROM etl_pull.created_targets c"
							  " WHERE c.target OPERATOR(pg_catalog.=) $1"
							  " AND c.target_name OPERATOR(pg_catalog.=) $2",
							  2, argtypes, args, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not read etl_pull.created_targets");
	created = (SPI_processed > 0);
	SPI_finish();
	EtlPullAsCaller(&st);
	return created;
}

/*
 * Refuse to make existing relation "relid" the target of a registration by
 * "registrant" unless etl_pull created it, or the registrant owns it (a
 * member of the owning role, a superuser) and names it itself (add_table,
 * set_table_option).  A table of someone else's is never loaded into
 * because a MySQL table, or a registration, happens to have its name: the
 * load would replace its rows, and run its triggers and defaults.
 * import_tables, which derives the names from MySQL's, adopts only what
 * etl_pull created, and skips the rest itself.
 */
void
EtlPullCheckAdoptable(Oid relid, Oid registrant)
{
	if (EtlPullOwnsRelation(relid, registrant) || EtlPullCreatedTarget(relid))
		return;
	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("table %s exists and etl_pull did not create it", relation_qname(relid)),
			 errdetail("Only its owner may register it as a target; role \"%s\" does not own it.",
					   GetUserNameFromId(registrant, false)),
			 errhint("Set \"target_table\" to a table that does not exist yet, or have the table's owner register it.")));
}

/*
 * Whether the row-level security of relation "relid" applies to role
 * "roleid": its policies would filter what the role reads and writes.  The
 * table's owner (unless it forces row security on itself), a superuser
 * and a role with BYPASSRLS are not subject to them.  With row_security
 * off, check_enable_rls raises its own error unless "noerror".
 */
bool
EtlPullRowSecurityApplies(Oid relid, Oid roleid, bool noerror)
{
	return check_enable_rls(relid, roleid, noerror) == RLS_ENABLED;
}

/*
 * Refuse "what" (a phrase naming what the caller asked for) on target
 * "relid" (quoted: "qname") when its row-level security applies to the
 * role "roleid" (EtlPullRowSecurityApplies; the caller, whose rights a
 * load checks: a load writes as the target's owner, see EtlPullAsRole).
 * What is refused either reads or deletes the target's rows outside the
 * executor, where no policy applies (verify_table's and a diff run's
 * scans, by the table access method), or must see every row to be right
 * (a full load replaces all rows, an append-only run all its copies of the
 * rows it pulls again, delete_missing the rows gone from the source: a
 * DELETE that the policies cut short would leave the rows they hide beside
 * the new ones).  PostgreSQL's COPY FROM refuses such a table the same
 * way; an incremental merge applies the policies, as the INSERT ... ON
 * CONFLICT it runs would.
 */
void
EtlPullRefuseRowSecurity(Oid relid, Oid roleid, const char *qname,
						 const char *what)
{
	if (EtlPullRowSecurityApplies(relid, roleid, false))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("%s is not supported with row-level security on table %s",
						what, qname),
				 errdetail("The table's policies apply to role \"%s\": %s would read or delete rows they hide from it.",
						   GetUserNameFromId(roleid, false), what),
				 errhint("Run it as the table's owner or as a role with BYPASSRLS, or disable the table's row-level security.")));
}

/*
 * Invariant: code that runs with rights other than the caller's never
 * resolves a name through a search_path someone else controls.
 *
 * etl_pull runs SQL in four kinds of places: as the extension's owner,
 * writing its own bookkeeping (below); in background workers, which start
 * with whatever ALTER DATABASE/ROLE SET gave them; on the caller's behalf
 * during a load, which may be a superuser's pg_cron job; and as the
 * target's owner while the load writes (load.c).  Each of them pins
 * search_path to "pg_catalog, pg_temp" at a GUC nest level of its own
 * (EtlPullPinSearchPath) for as long as it runs SQL, and the SQL text
 * names relations, functions and operators schema-qualified.  So a
 * role that puts its own nextval() or operator - first in its search_path
 * (or in the database's) gets none of it run with our rights.  No value
 * read from MySQL or given by a user is ever part of SQL text: values are
 * parameters, identifiers come from the catalogs and are quoted.
 */

/*
 * Pin search_path to "pg_catalog, pg_temp" at a new GUC nest level.
 * Returns the level to hand to AtEOXact_GUC(true, level) when done; an
 * error unwinds it with the (sub)transaction.
 */
int
EtlPullPinSearchPath(void)
{
	int			nestlevel = NewGUCNestLevel();

	(void) set_config_option("search_path", "pg_catalog, pg_temp",
							 PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
	return nestlevel;
}

/*
 * The owner of extension etl_pull: its bookkeeping runs as that role.
 * (Not the owner of schema etl_pull: the install refuses a schema it did
 * not create, but the extension's own record is the authority.)
 */
Oid
EtlPullExtensionOwner(void)
{
	Relation	rel;
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tup;
	Oid			owner;

	rel = table_open(ExtensionRelationId, AccessShareLock);
	ScanKeyInit(&key, Anum_pg_extension_extname, BTEqualStrategyNumber,
				F_NAMEEQ, CStringGetDatum("etl_pull"));
	scan = systable_beginscan(rel, ExtensionNameIndexId, true, NULL, 1, &key);
	tup = systable_getnext(scan);
	if (!HeapTupleIsValid(tup))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("extension \"etl_pull\" is not installed in this database")));
	owner = ((Form_pg_extension) GETSTRUCT(tup))->extowner;
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	return owner;
}

/*
 * Switch to role "roleid" as PostgreSQL's maintenance commands switch to a
 * table's owner (REFRESH MATERIALIZED VIEW, VACUUM, ANALYZE): the user id
 * changed locally, inside a security-restricted operation (no SET ROLE,
 * no temporary table, no cursor or setting that outlives the operation),
 * at a GUC nest level of its own with search_path pinned (see the
 * invariant above).  *st saves what to restore: EtlPullAsCaller restores
 * it; an error restores it with the (sub)transaction, whose abort resets
 * the user id and pops the nest level.  Switches nest: each restores the
 * state the one inside it found, restriction included.
 */
void
EtlPullAsRole(Oid roleid, EtlPullUserState *st)
{
	GetUserIdAndSecContext(&st->userid, &st->sec_context);
	SetUserIdAndSecContext(roleid, st->sec_context |
						   SECURITY_LOCAL_USERID_CHANGE |
						   SECURITY_RESTRICTED_OPERATION);
	st->nestlevel = EtlPullPinSearchPath();
}

/*
 * Switch to the extension's owner for etl_pull's own bookkeeping (runs,
 * watermarks, rejects), which the calling role may not write.  The values
 * written come from the load, as parameters.  Restore with
 * EtlPullAsCaller.
 */
void
EtlPullAsOwner(EtlPullUserState *st)
{
	EtlPullAsRole(EtlPullExtensionOwner(), st);
}

void
EtlPullAsCaller(EtlPullUserState *st)
{
	AtEOXact_GUC(true, st->nestlevel);
	SetUserIdAndSecContext(st->userid, st->sec_context);
}

/*
 * Run one statement on etl_pull's own tables as their owner, and check it
 * did what "expected" (an SPI_OK_* code) says; "what" names it in the
 * can't-happen error.  The statement is kept prepared (owner_statement).
 */
void
EtlPullOwnerExec(const char *sql, int nargs, Oid *argtypes, Datum *args,
				 const char *nulls, int expected, const char *what)
{
	EtlPullUserState st;

	EtlPullAsOwner(&st);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute_plan(owner_statement(sql, nargs, argtypes), args, nulls,
						 false, 0) != expected)
		elog(ERROR, "could not %s", what);
	SPI_finish();
	EtlPullAsCaller(&st);
}

/*
 * A new run id, taken when a run starts, so that its rejects can refer to
 * it and a failed run keeps it.  Taken through the sequence API, as the
 * owner: no SQL, so nothing to resolve.
 */
int64
EtlPullNextRunId(void)
{
	EtlPullUserState st;
	Oid			seqid;
	int64		run_id;

	EtlPullAsOwner(&st);
	seqid = get_relname_relid("runs_run_id_seq",
							  get_namespace_oid("etl_pull", false));
	if (!OidIsValid(seqid))
		elog(ERROR, "sequence etl_pull.runs_run_id_seq does not exist");
	run_id = nextval_internal(seqid, true);
	EtlPullAsCaller(&st);
	return run_id;
}

/*
 * Text "s" (not NULL) as a text Datum valid in the database's encoding: a
 * rejected row's key, reason and value hold what MySQL sent (made valid
 * where they are built; checked again here, the last step before the
 * catalog)
 */
static Datum
valid_text_datum(const char *s)
{
	return CStringGetTextDatum(EtlPullValidText(s, strlen(s), GetDatabaseEncoding(), NULL));
}

/*
 * Record a row the load rejected (on_error = reject).
 */
void
EtlPullRecordReject(EtlPullTable *table, int64 run_id, EtlPullReject *reject)
{
	Oid			argtypes[7] = {INT8OID, TEXTOID, TEXTOID, TEXTOID, TEXTOID,
	TEXTOID, BYTEAOID};
	Datum		args[7];
	char		nulls[8] = "       ";

	args[0] = Int64GetDatum(run_id);
	args[1] = CStringGetTextDatum(table->name);
	args[2] = valid_text_datum(reject->row_key);
	args[3] = valid_text_datum(reject->column);
	args[4] = valid_text_datum(reject->reason);
	if (reject->raw_text)
	{
		args[5] = valid_text_datum(reject->raw_text);
		nulls[6] = 'n';
		args[6] = (Datum) 0;
	}
	else if (reject->raw_bytes)
	{
		nulls[5] = 'n';
		args[5] = (Datum) 0;
		args[6] = PointerGetDatum(reject->raw_bytes);
	}
	else
	{
		nulls[5] = nulls[6] = 'n';
		args[5] = args[6] = (Datum) 0;
	}

	EtlPullOwnerExec("INSERT INTO etl_pull.rejects"
					 " (run_id, table_name, row_key, column_name, reason,"
					 "  raw_text, raw_bytes)"
					 " VALUES ($1, $2, $3, $4, $5, $6, $7)",
					 7, argtypes, args, nulls, SPI_OK_INSERT,
					 "record a rejected row in etl_pull.rejects");
}

/*
 * The backend's peak resident memory (VmHWM) in kB, or -1 if unknown.
 */
int64
EtlPullPeakMemoryKb(void)
{
	FILE	   *f = fopen("/proc/self/status", "r");
	char		line[256];
	int64		kb = -1;

	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f))
	{
		if (strncmp(line, "VmHWM:", 6) == 0)
		{
			kb = strtoll(line + 6, NULL, 10);
			break;
		}
	}
	fclose(f);
	return kb;
}
