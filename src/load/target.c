/*-------------------------------------------------------------------------
 *
 * target.c
 *		  The target of a load: find it (and refuse what no load may
 *		  write), create it from the source's columns, build a created
 *		  target's secondary indexes after its rows, match its columns,
 *		  check the caller's rights on it and the role the load writes as,
 *		  empty it through SQL.
 *
 * Finding, checking and creating the target run as the calling role; the
 * rest as the target's owner (load.c).  search_path is pinned either way:
 * names are quoted and schema-qualified.
 *
 * IDENTIFICATION
 *		  src/load/target.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/table.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_am.h"
#include "catalog/pg_inherits.h"
#include "catalog/pg_namespace.h"
#include "catalog/pg_type.h"
#include "commands/defrem.h"
#include "common/hashfn.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "nodes/makefuncs.h"
#include "parser/parse_type.h"
#include "parser/scansup.h"
#include "storage/lmgr.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"
#include "utils/typcache.h"

#include "compat.h"
#include "etl_pull.h"
#include "catalog/etl_catalog.h"
#include "remote/remote.h"
#include "load/load.h"

/*
 * The target's schema, refused if no load may write there
 * (EtlPullCheckTargetSchema).  Sets target_qname.
 */
Oid
EtlPullTargetSchema(EtlPullLoad *load)
{
	EtlPullTable *t = load->table;
	Oid			nspid;

	EtlPullCheckTargetSchema(t->target_schema);
	load->target_qname = quote_qualified_identifier(t->target_schema,
													t->target_relname);
	nspid = get_namespace_oid(t->target_schema, true);
	if (!OidIsValid(nspid))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_SCHEMA),
				 errmsg("schema \"%s\" of target %s of table \"%s\" does not exist",
						t->target_schema, load->target_qname, t->name),
				 t->target_table ?
				 errdetail("Setting \"target_table\" of table \"%s\" is \"%s\".",
						   t->name, t->target_table) :
				 errdetail("Table \"%s\" has no \"target_table\" setting: its target is in schema \"public\".",
						   t->name),
				 errhint("Create the schema, or change setting \"target_table\" with etl_pull.set_table_option().")));
	return nspid;
}

/*
 * What role "roleid" lacks on schema "nspid" to load a target there: USAGE,
 * as SQL naming the table needs (EtlPullLookupTarget requires it), and for
 * a target to create ("create") CREATE, which the CREATE TABLE of
 * EtlPullCreateTarget needs.
 */
EtlPullAccessLack
EtlPullSchemaAccess(Oid nspid, Oid roleid, bool create)
{
	if (EtlPullSchemaAclcheck(nspid, roleid, ACL_USAGE) != ACLCHECK_OK)
		return ETL_LACKS_SCHEMA_USAGE;
	if (create && EtlPullSchemaAclcheck(nspid, roleid, ACL_CREATE) != ACLCHECK_OK)
		return ETL_LACKS_SCHEMA_CREATE;
	return ETL_LACKS_NOTHING;
}

/*
 * Find the target table; InvalidOid if it does not exist yet.  Sets
 * target_qname.
 */
Oid
EtlPullLookupTarget(EtlPullLoad *load)
{
	Oid			nspid = EtlPullTargetSchema(load);
	Oid			relid;

	if (EtlPullSchemaAccess(nspid, GetUserId(), false) != ETL_LACKS_NOTHING)
		aclcheck_error(ACLCHECK_NO_PRIV, OBJECT_SCHEMA, load->table->target_schema);

	relid = get_relname_relid(load->table->target_relname, nspid);
	if (OidIsValid(relid))
		EtlPullCheckTargetRelation(relid, load->target_qname);
	return relid;
}

/* Every column_types override must name a source column */
void
EtlPullCheckColumnTypes(EtlPullLoad *load)
{
	ListCell   *lc;

	foreach(lc, load->table->column_types)
	{
		EtlPullColumnType *ct = (EtlPullColumnType *) lfirst(lc);
		int			i;

		for (i = 0; i < load->source->ncolumns; i++)
			if (pg_strcasecmp(ct->column, load->source->columns[i].name) == 0)
				break;
		if (i == load->source->ncolumns)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_COLUMN),
					 errmsg("\"column_types\" of table \"%s\" names column \"%s\", which MySQL table \"%s.%s\" does not have",
							load->table->name, ct->column, load->source->db,
							load->source->table)));
	}
}

/*
 * The type of a created target's column: the table's override, checked
 * against the source column, or the lossless default.
 */
static const char *
target_type(EtlPullLoad *load, EtlPullSourceColumn *col)
{
	ListCell   *lc;

	foreach(lc, load->table->column_types)
	{
		EtlPullColumnType *ct = (EtlPullColumnType *) lfirst(lc);

		if (pg_strcasecmp(ct->column, col->name) == 0)
		{
			EtlPullCheckTypeOverride(load->source, col, ct->type_name);
			return ct->type_name;
		}
	}
	return EtlPullTargetTypeName(col);
}

/*
 * The type a created target gives source column "col", as SQL text: the
 * table's column_types override, or the lossless default (schema.c, which
 * adds and widens columns, uses the same).
 */
const char *
EtlPullColumnTargetType(EtlPullLoad *load, EtlPullSourceColumn *col)
{
	return target_type(load, col);
}

/*
 * Refuse type "typid" for column "column" of a target whose code runs as
 * role "runner" (its owner, or the caller about to create and so own it)
 * if it is, or is built from (as an array's element, a range's subtype, a
 * composite's column, a domain's base type), a domain owned by a role that
 * lacks runner's rights.  A domain's CHECK and DEFAULT run at every load
 * as the target's owner, and the types of the columns a load creates come
 * from setting column_types, an etl_pull_admin's choice: without this, an
 * admin's domain would run with the rights of whoever created the target.
 * Other types run no code of their owner's while a row is written (base
 * types' functions are C, a superuser's), so their owner does not matter.
 */
void
EtlPullCheckTypeOwner(Oid typid, Oid runner, const char *column)
{
	HeapTuple	tup;
	Form_pg_type typ;
	Oid			owner;
	char		typtype;
	Oid			inner = InvalidOid;

	check_stack_depth();
	tup = SearchSysCache1(TYPEOID, ObjectIdGetDatum(typid));
	if (!HeapTupleIsValid(tup))
		elog(ERROR, "cache lookup failed for type %u", typid);
	typ = (Form_pg_type) GETSTRUCT(tup);
	owner = typ->typowner;
	typtype = typ->typtype;
	if (typtype == TYPTYPE_DOMAIN)
		inner = typ->typbasetype;
	else if (IsTrueArrayType(typ))
		inner = typ->typelem;
	ReleaseSysCache(tup);

	if (typtype == TYPTYPE_DOMAIN && !has_privs_of_role(owner, runner))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("domain %s of column \"%s\" is owned by role \"%s\", which lacks the rights of role \"%s\"",
						format_type_be(typid), column,
						GetUserNameFromId(owner, false),
						GetUserNameFromId(runner, false)),
				 errdetail("A domain's CHECK and DEFAULT run at every load as the target's owner, role \"%s\".",
						   GetUserNameFromId(runner, false)),
				 errhint("Give the column a type whose domains role \"%s\" or a superuser owns, in setting \"column_types\".",
						 GetUserNameFromId(runner, false))));

	if (typtype == TYPTYPE_RANGE)
		inner = get_range_subtype(typid);
	else if (typtype == TYPTYPE_MULTIRANGE)
		inner = get_multirange_range(typid);
	if (OidIsValid(inner))
		EtlPullCheckTypeOwner(inner, runner, column);
	if (typtype == TYPTYPE_COMPOSITE)
	{
		TupleDesc	desc = lookup_rowtype_tupdesc(typid, -1);
		int			i;

		for (i = 0; i < desc->natts; i++)
			if (!TupleDescAttr(desc, i)->attisdropped)
				EtlPullCheckTypeOwner(TupleDescAttr(desc, i)->atttypid, runner,
									  column);
		ReleaseTupleDesc(desc);
	}
}

/*
 * The CREATE TABLE of a target created from the source: the lossless
 * mapping of its columns (or their column_types overrides) and its primary
 * key.  EtlPullCreateTarget runs it; etl_pull.plan() shows it.
 */
char *
EtlPullTargetDDL(EtlPullLoad *load)
{
	EtlPullTable *t = load->table;
	StringInfoData sql;
	List	   *pk = NIL;
	int			i;
	ListCell   *lc;

	initStringInfo(&sql);
	appendStringInfo(&sql, "CREATE TABLE %s (", load->target_qname);
	for (i = 0; i < load->source->ncolumns; i++)
	{
		EtlPullSourceColumn *col = &load->source->columns[i];
		bool		notnull = !col->nullable;

		/* MySQL's NOT NULL dates may hold zero dates, which load as NULL */
		if ((col->kind == SRC_DATE || col->kind == SRC_DATETIME ||
			 col->kind == SRC_TIMESTAMP) &&
			t->zero_dates == ETL_ZERO_DATES_NULL && col->pk_position == 0)
			notnull = false;
		appendStringInfo(&sql, "%s%s %s%s", i > 0 ? ", " : "",
						 quote_identifier(col->target_name),
						 target_type(load, col),
						 notnull ? " NOT NULL" : "");
	}
	foreach(lc, EtlPullSourceKey(load->source))
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
	return sql.data;
}

/*
 * Create the target with the lossless mapping of the source's columns and
 * its primary key, and record that etl_pull created it (which lets another
 * registration adopt it, EtlPullCheckAdoptable).  Returns its OID.  With
 * indexes = all, the source's secondary indexes are read now, under the
 * load's snapshot (the strategy may close the connection), into
 * load->indexes, for EtlPullCreateIndexes to build once the rows are in.
 */
Oid
EtlPullCreateTarget(EtlPullLoad *load)
{
	EtlPullTable *t = load->table;
	char	   *sql = EtlPullTargetDDL(load);
	Oid			relid;
	int			i;

	/* the caller will own it, and run its types' code */
	for (i = 0; i < load->source->ncolumns; i++)
	{
		EtlPullSourceColumn *col = &load->source->columns[i];
		Oid			typid;
		int32		typmod;

		parseTypeString(target_type(load, col), &typid, &typmod, false);
		EtlPullCheckTypeOwner(typid, load->caller, col->target_name);
	}
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute(sql, false, 0) != SPI_OK_UTILITY)
		elog(ERROR, "could not create table %s", load->target_qname);
	SPI_finish();
	CommandCounterIncrement();

	ereport(NOTICE,
			(errmsg("created table %s", load->target_qname)));
	if (t->indexes == ETL_INDEXES_ALL)
		load->indexes = EtlPullDescribeIndexes(load->conn, load->source);
	relid = get_relname_relid(t->target_relname,
							  get_namespace_oid(t->target_schema, false));
	EtlPullRecordCreatedTarget(relid, t->name);
	return relid;
}

/*
 * The class (first key) of the advisory locks that reserve index names
 * ("ETLI"), beside the "table is loading" ones (ETL_PULL_MARKER)
 */
#define ETL_PULL_INDEX_NAME_LOCK	0x45544c49

/*
 * Whether name "name" is free in schema "nspid" for an index of this load,
 * which then holds it until commit.  PostgreSQL's index names are
 * schema-wide, and a name another load has just taken is invisible until
 * that load commits: its CREATE INDEX would wait for that commit on
 * pg_class's unique index, then fail.  So each load reserves a name before
 * it looks it up, with a transaction-level advisory lock on (schema, name)
 * taken without waiting: a name another uncommitted load holds counts as
 * taken, and this load tries its next candidate.  No load ever waits for
 * another's names (load_all's workers would wait for each other's
 * commits); two names whose keys collide only make one load skip one.
 */
static bool
relname_free(const char *name, Oid nspid)
{
	LOCKTAG		tag;
	uint32		key = hash_combine(nspid, hash_bytes((const unsigned char *) name,
													 strlen(name)));

	SET_LOCKTAG_ADVISORY(tag, MyDatabaseId, ETL_PULL_INDEX_NAME_LOCK, key, 2);
	if (LockAcquire(&tag, ExclusiveLock, false, true) == LOCKACQUIRE_NOT_AVAIL)
		return false;
	/* a load that held it and committed since: its relation is seen now */
	AcceptInvalidationMessages();
	if (!OidIsValid(get_relname_relid(name, nspid)))
		return true;
	LockRelease(&tag, ExclusiveLock, false);
	return false;
}

/*
 * The name of the index built from MySQL index "source_name" (lower-cased,
 * as columns are): PostgreSQL's index names are schema-wide and at most
 * NAMEDATALEN - 1 bytes, MySQL's are per table.  So the source's name when
 * it fits and is free (relname_free: no relation of the target's schema
 * has it, and no other load is taking it); else
 * <table>_<name>; else that cut (on a character boundary) to leave room
 * for "_" and eight hex digits of a hash of the table and index names,
 * bumped until free.
 */
static char *
index_name(EtlPullLoad *load, Oid nspid, const char *source_name)
{
	char	   *name = downcase_identifier(source_name, strlen(source_name),
										   false, false);
	char	   *joined = psprintf("%s_%s", load->table->target_relname, name);
	uint32		hash;
	int			cut;
	int			i;

	if (strlen(name) < NAMEDATALEN && relname_free(name, nspid))
		return name;
	if (strlen(joined) < NAMEDATALEN && relname_free(joined, nspid))
		return joined;
	hash = hash_bytes((const unsigned char *) joined, strlen(joined));
	cut = pg_mbcliplen(joined, strlen(joined), NAMEDATALEN - 1 - 9);
	for (i = 0; i < 1000; i++)
	{
		char	   *candidate = psprintf("%.*s_%08x", cut, joined, hash + i);

		CHECK_FOR_INTERRUPTS();
		if (relname_free(candidate, nspid))
			return candidate;
	}
	ereport(ERROR,
			(errcode(ERRCODE_DUPLICATE_OBJECT),
			 errmsg("could not find a free name for index \"%s\" of table %s",
					name, load->target_qname)));
	return NULL;				/* keep compiler quiet */
}

/* Note and say that MySQL index "ix" was not built, and why */
static void
skip_index(EtlPullLoad *load, EtlPullSourceIndex *ix, const char *why)
{
	/* the name is MySQL's, and perhaps skipped for its bytes */
	char	   *name = EtlPullPrintable(ix->name, 200);

	EtlPullRunNote(load->result, "index \"%s\": skipped, %s", name, why);
	ereport(NOTICE,
			(errmsg("skipped index \"%s\" of MySQL table \"%s.%s\"",
					name, load->source->db, load->source->table),
			 errdetail("The index is %s.", why)));
}

/*
 * Index builds from here to EtlPullIndexBuildEnd (given the returned GUC
 * nest level) sort in etl_pull.index_build_memory.  A secondary index's
 * keys come in heap order, not key order: in etl_pull.pg_settings' small
 * maintenance_work_mem (meant for the swap's primary key rebuild, whose
 * keys come sorted) each build spills to disk in many runs and merges
 * them, and never gets a parallel maintenance worker, which PostgreSQL
 * grants only with 32 MB for each participant.  With the memory, a build
 * also takes max_parallel_maintenance_workers' workers where the table's
 * size warrants them and background worker slots are free (none free:
 * the build runs alone, as PostgreSQL does).
 */
int
EtlPullIndexBuildBegin(void)
{
	int			nestlevel = NewGUCNestLevel();

	(void) set_config_option("maintenance_work_mem",
							 psprintf("%d", EtlPullIndexBuildMemory),
							 PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE,
							 true, 0, false);
	return nestlevel;
}

/* The end of the index builds of EtlPullIndexBuildBegin */
void
EtlPullIndexBuildEnd(int nestlevel)
{
	AtEOXact_GUC(true, nestlevel);
}

/*
 * Build the secondary indexes read by EtlPullCreateTarget (load->indexes,
 * NIL for none) on the target just created and loaded: bulk builds after
 * the rows, in the load's transaction, so that a failure takes the table
 * with it.  The stream and parallel strategies swap a new heap into the
 * target, rebuilding the indexes it has then: building these afterwards
 * builds each once.  They sort in etl_pull.index_build_memory
 * (EtlPullIndexBuildBegin).  Each index, built or skipped, gets a note in the run
 * and a NOTICE.  Runs as the target's owner, the calling role that
 * created it; names are quoted, columns are the target's by name.
 */
void
EtlPullCreateIndexes(EtlPullLoad *load)
{
	MemoryContext loadcxt = CurrentMemoryContext;
	Oid			nspid;
	ListCell   *lc;
	int			nestlevel;

	if (load->indexes == NIL)
		return;
	nspid = get_rel_namespace(load->target_oid);
	nestlevel = EtlPullIndexBuildBegin();

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	/* the notes must outlive SPI_finish (and SPI_execute leaves SPI's) */
	MemoryContextSwitchTo(loadcxt);
	foreach(lc, load->indexes)
	{
		EtlPullSourceIndex *ix = (EtlPullSourceIndex *) lfirst(lc);
		StringInfoData cols;
		const char *why = ix->skip_reason;
		char	   *name;
		int			j;

		CHECK_FOR_INTERRUPTS();
		if (why == NULL)
		{
			bool		exact;

			(void) EtlPullValidText(ix->name, strlen(ix->name), PG_UTF8, &exact);
			if (!exact)
				why = "named in bytes that are not valid UTF-8, or not all in this database's encoding";
		}
		initStringInfo(&cols);
		for (j = 0; why == NULL && j < ix->nparts; j++)
		{
			EtlPullSourceColumn *col = &load->source->columns[ix->columns[j]];
			AttrNumber	attnum = get_attnum(load->target_oid, col->target_name);
			Oid			typid;

			if (attnum == InvalidAttrNumber)
			{
				why = psprintf("on column \"%s\", which table %s does not have",
							   col->target_name, load->target_qname);
				break;
			}
			typid = get_atttype(load->target_oid, attnum);
			if (!OidIsValid(GetDefaultOpClass(typid, BTREE_AM_OID)))
			{
				why = psprintf("on column \"%s\" of type %s, which has no B-tree operator class",
							   col->target_name, format_type_be(typid));
				break;
			}
			appendStringInfo(&cols, "%s%s%s", j > 0 ? ", " : "",
							 quote_identifier(col->target_name),
							 ix->descending[j] ? " DESC" : "");
		}
		if (why)
		{
			skip_index(load, ix, why);
			continue;
		}

		name = index_name(load, nspid, ix->name);
		if (SPI_execute(psprintf("CREATE %sINDEX %s ON %s (%s)",
								 ix->unique ? "UNIQUE " : "",
								 quote_identifier(name), load->target_qname,
								 cols.data), false, 0) != SPI_OK_UTILITY)
			elog(ERROR, "could not create index %s", quote_identifier(name));
		MemoryContextSwitchTo(loadcxt);
		CommandCounterIncrement();
		EtlPullRunNote(load->result, "index \"%s\": created %s%s (%s)%s",
					   ix->name, ix->unique ? "unique " : "",
					   quote_identifier(name), cols.data,
					   ix->hash ? " as a B-tree, HASH on MySQL" : "");
		ereport(NOTICE,
				(errmsg("created %sindex %s on table %s from MySQL index \"%s\"",
						ix->unique ? "unique " : "", quote_identifier(name),
						load->target_qname, ix->name)));
	}
	SPI_finish();
	EtlPullIndexBuildEnd(nestlevel);
}

/*
 * Match every source column to an attribute of "rel" (the target, or the
 * incremental stage, named "qname") by name, into a palloc'd *attnums.  A
 * source column the table lacks is an error before any row moves.
 */
void
EtlPullMatchColumns(EtlPullLoad *load, Relation rel, const char *qname,
					AttrNumber **attnums)
{
	TupleDesc	tupdesc = RelationGetDescr(rel);
	AttrNumber *result = palloc0(sizeof(AttrNumber) * load->source->ncolumns);
	int			i;

	for (i = 0; i < load->source->ncolumns; i++)
	{
		EtlPullSourceColumn *col = &load->source->columns[i];
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
									col->target_name, qname)));
				result[i] = att->attnum;
				break;
			}
		}
		if (result[i] == 0)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_COLUMN),
					 errmsg("column \"%s\" of MySQL table \"%s.%s\" has no counterpart in table %s",
							col->name, load->source->db, load->source->table,
							qname),
					 errhint("Add a column \"%s\" of type %s to the target, or drop the target and let etl_pull create it.",
							 col->target_name, EtlPullTargetTypeName(col))));
	}
	*attnums = result;
}

/*
 * The privileges of "mode" that role "roleid" lacks on relation "relid", by
 * name ("INSERT", ...), in the order INSERT, UPDATE, DELETE, TRUNCATE,
 * SELECT; NIL when it has them all
 */
List *
EtlPullLackedTargetPrivileges(Oid relid, Oid roleid, AclMode mode)
{
	static const struct
	{
		AclMode		mode;
		const char *name;
	}			each[] = {
		{ACL_INSERT, "INSERT"}, {ACL_UPDATE, "UPDATE"}, {ACL_DELETE, "DELETE"},
		{ACL_TRUNCATE, "TRUNCATE"}, {ACL_SELECT, "SELECT"}
	};
	List	   *lacked = NIL;
	int			i;

	for (i = 0; i < lengthof(each); i++)
		if ((mode & each[i].mode) != 0 &&
			pg_class_aclcheck(relid, roleid, each[i].mode) != ACLCHECK_OK)
			lacked = lappend(lacked, (char *) each[i].name);
	return lacked;
}

/*
 * Check the calling role's rights on the target, as the DML would: every
 * privilege in "mode" is required.  The caller's, whoever the load runs as
 * by now: the owner it writes as has them all.
 */
void
EtlPullCheckTargetPrivileges(EtlPullLoad *load, AclMode mode)
{
	Assert(OidIsValid(load->caller));
	if (EtlPullLackedTargetPrivileges(load->target_oid, load->caller, mode) != NIL)
		aclcheck_error(ACLCHECK_NO_PRIV,
					   get_relkind_objtype(get_rel_relkind(load->target_oid)),
					   get_rel_name(load->target_oid));
}

/*
 * Whether no load of target "rel" may run as role "caller" for the
 * target's row-level security: the policies apply to the caller, and it
 * lacks the rights of the owner the load writes as, whose rights would
 * bypass them (EtlPullTargetWriter refuses it).  A caller with the owner's
 * rights is refused only what must see every row
 * (EtlPullRefuseRowSecurity).
 */
bool
EtlPullRowSecurityBarsWriter(Relation rel, Oid caller)
{
	return !has_privs_of_role(caller, rel->rd_rel->relowner) &&
		EtlPullRowSecurityApplies(RelationGetRelid(rel), caller, true);
}

/*
 * The role a load of target "rel" (locked, so its owner stays) writes as:
 * its owner, so that the target's code never runs with more rights than
 * its owner has (see EtlPullLoadTable).  Refused, because writing as the
 * owner would not be safe:
 *
 * - a target with a partition or child table of another owner: the rows
 *   routed or deleted there run its triggers as the root's owner (as
 *   PostgreSQL's own COPY and INSERT run them as the current user).  The
 *   children are locked, so that their owners stay too.
 * - when the caller lacks the owner's rights (a role granted INSERT on
 *   another's table): a target whose row-level security applies to the
 *   caller (as the owner the load would bypass the policies that restrict
 *   the caller), or that is or has a foreign table (written through the
 *   owner's user mapping, not the caller's).
 */
Oid
EtlPullTargetWriter(EtlPullLoad *load, Relation rel)
{
	Oid			relid = RelationGetRelid(rel);
	Oid			owner = rel->rd_rel->relowner;
	bool		borrows = !has_privs_of_role(load->caller, owner);
	List	   *tree = list_make1_oid(relid);
	ListCell   *lc;

	if (rel->rd_rel->relhassubclass)
		tree = find_all_inheritors(relid, RowExclusiveLock, NULL);
	foreach(lc, tree)
	{
		Oid			child = lfirst_oid(lc);
		HeapTuple	tup;
		Form_pg_class form;

		tup = SearchSysCache1(RELOID, ObjectIdGetDatum(child));
		if (!HeapTupleIsValid(tup))
			continue;			/* dropped meanwhile */
		form = (Form_pg_class) GETSTRUCT(tup);
		if (form->relowner != owner)
			ereport(ERROR,
					(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
					 errmsg("%s %s of table %s is owned by role \"%s\", not by the table's owner \"%s\"",
							form->relispartition ? "partition" : "child table",
							quote_qualified_identifier(get_namespace_name(form->relnamespace),
													   NameStr(form->relname)),
							load->target_qname,
							GetUserNameFromId(form->relowner, false),
							GetUserNameFromId(owner, false)),
					 errdetail("A load runs the code of its target and of the target's partitions and child tables as the target's owner."),
					 errhint("Make role \"%s\" the owner of every partition and child table of %s.",
							 GetUserNameFromId(owner, false), load->target_qname)));
		if (form->relkind == RELKIND_FOREIGN_TABLE && borrows)
			ereport(ERROR,
					(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
					 errmsg("cannot load table %s as role \"%s\": %s is a foreign table of role \"%s\"",
							load->target_qname, GetUserNameFromId(load->caller, false),
							child == relid ? "it" :
							quote_qualified_identifier(get_namespace_name(form->relnamespace),
													   NameStr(form->relname)),
							GetUserNameFromId(owner, false)),
					 errdetail("A load writes as the target's owner, so through the owner's user mapping."),
					 errhint("Load the table as its owner.")));
		ReleaseSysCache(tup);
	}

	if (EtlPullRowSecurityBarsWriter(rel, load->caller))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("cannot load table %s as role \"%s\": its row-level security applies to that role",
						load->target_qname, GetUserNameFromId(load->caller, false)),
				 errdetail("A load writes as the target's owner, role \"%s\", whose rights would bypass the policies that restrict role \"%s\".",
						   GetUserNameFromId(owner, false),
						   GetUserNameFromId(load->caller, false)),
				 errhint("Load the table as its owner or as a role with BYPASSRLS.")));
	return owner;
}

/*
 * DELETE the target's rows through SQL, so that its triggers and rules
 * run and readers keep seeing the old rows until commit.
 */
void
EtlPullDeleteTargetRows(EtlPullLoad *load)
{
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute(psprintf("DELETE FROM %s", load->target_qname), false, 0) != SPI_OK_DELETE)
		elog(ERROR, "could not delete the rows of %s", load->target_qname);
	SPI_finish();
}

/*
 * Upgrade the load's lock on the target to AccessExclusiveLock (for the
 * swap, or for evolve's ALTER TABLE), waiting at most
 * etl_pull.swap_lock_timeout (as lock_timeout, for this one wait), so that
 * a long reader of the target fails the load instead of queueing every
 * other reader behind it for as long as it runs.  A deadlock is still
 * detected after deadlock_timeout, with PostgreSQL's own error; a timeout
 * is an error that says what was waited for ("purpose") and what became
 * of the target ("outcome").
 */
void
EtlPullLockTargetExclusive(EtlPullLoad *load, const char *purpose,
						   const char *outcome)
{
	MemoryContext cxt = CurrentMemoryContext;
	int			nestlevel = NewGUCNestLevel();

	(void) set_config_option("lock_timeout",
							 psprintf("%d", EtlPullSwapLockTimeout),
							 PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE,
							 true, 0, false);
	PG_TRY();
	{
		LockRelationOid(load->target_oid, AccessExclusiveLock);
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
				 errmsg("could not lock table %s to %s",
						load->target_qname, purpose),
				 errdetail("Other sessions held locks on the table for longer than etl_pull.swap_lock_timeout (%d ms).",
						   EtlPullSwapLockTimeout),
				 errhint("Find the sessions in pg_locks, or raise etl_pull.swap_lock_timeout; %s.",
						 outcome)));
	}
	PG_END_TRY();
	AtEOXact_GUC(true, nestlevel);
}

/* ---- staging tables (incremental runs' SQL path, diff runs) ---- */

/* Run one utility statement through SPI */
static void
exec_utility(const char *sql, bool check)
{
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute(sql, false, 0) != SPI_OK_UTILITY && check)
		elog(ERROR, "could not run \"%s\"", sql);
	SPI_finish();
}

/*
 * Create the temporary staging table "stage_name" (quoted: "stage_qname")
 * like the target, dropped at commit (an earlier load of it in this
 * transaction may have left one), and open it with AccessExclusiveLock;
 * *attnums are its columns for the source's, as EtlPullMatchColumns sets
 * them.
 *
 * The load runs as the target's owner in a security-restricted operation,
 * which may not create a temporary table (code run there must not leave
 * one behind for the session to find first in its search_path).  So the
 * stage is created, as REFRESH MATERIALIZED VIEW CONCURRENTLY creates its
 * diff table, by the owner with the restriction lifted for that statement
 * alone, which is ours and runs none of the target's code.  Only the
 * load's own restriction is lifted: a load started inside another
 * restricted operation (by a trigger of another load's target) keeps it,
 * and cannot stage.
 */
Relation
EtlPullOpenStage(EtlPullLoad *load, const char *stage_name,
				 const char *stage_qname, AttrNumber **attnums)
{
	Relation	stage;
	Oid			userid;
	int			sec_context;

	Assert(OidIsValid(load->owner));	/* as_owner holds the caller's context */
	if (OidIsValid(RangeVarGetRelid(makeRangeVar("pg_temp", (char *) stage_name, -1),
									NoLock, true)))
		exec_utility(psprintf("DROP TABLE %s", stage_qname), false);
	GetUserIdAndSecContext(&userid, &sec_context);
	SetUserIdAndSecContext(userid, load->as_owner.sec_context |
						   SECURITY_LOCAL_USERID_CHANGE);
	exec_utility(psprintf("CREATE TEMP TABLE %s (LIKE %s) ON COMMIT DROP",
						  quote_identifier(stage_name), load->target_qname),
				 true);
	SetUserIdAndSecContext(userid, sec_context);
	CommandCounterIncrement();
	stage = table_open(get_relname_relid(stage_name,
										 LookupExplicitNamespace("pg_temp", false)),
					   AccessExclusiveLock);
	EtlPullMatchColumns(load, stage, stage_qname, attnums);
	return stage;
}

/* Drop a staging table once its rows are merged */
void
EtlPullDropStage(const char *stage_qname)
{
	exec_utility(psprintf("DROP TABLE %s", stage_qname), false);
}
