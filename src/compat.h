/*-------------------------------------------------------------------------
 *
 * compat.h
 *		The differences between the PostgreSQL majors etl_pull builds
 *		against (15 to 18), behind one name each, so that the code that
 *		uses them reads the same on all of them.
 *
 * PostgreSQL 16 folded the per-kind privilege and ownership checks
 * (pg_class_ownercheck, pg_namespace_aclcheck, pg_proc_aclcheck, ...)
 * into object_aclcheck and object_ownercheck, and gave
 * stringToQualifiedNameList and parseTypeString an error context.  Include this after the headers that declare them
 * (utils/acl.h, utils/regproc.h).
 *
 * IDENTIFICATION
 *		  src/compat.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef ETL_PULL_COMPAT_H
#define ETL_PULL_COMPAT_H

#if PG_VERSION_NUM >= 160000
#include "nodes/miscnodes.h"
#endif
#include "catalog/pg_class.h"
#include "catalog/pg_foreign_server.h"
#include "catalog/pg_namespace.h"
#include "catalog/pg_proc.h"
#include "parser/parse_type.h"
#include "utils/acl.h"
#include "utils/regproc.h"

/* Whether "roleid" has the rights of the owner of relation "relid" */
static inline bool
EtlPullOwnsRelation(Oid relid, Oid roleid)
{
#if PG_VERSION_NUM >= 160000
	return object_ownercheck(RelationRelationId, relid, roleid);
#else
	return pg_class_ownercheck(relid, roleid);
#endif
}

/* "roleid"'s privilege "mode" on schema "nspid" */
static inline AclResult
EtlPullSchemaAclcheck(Oid nspid, Oid roleid, AclMode mode)
{
#if PG_VERSION_NUM >= 160000
	return object_aclcheck(NamespaceRelationId, nspid, roleid, mode);
#else
	return pg_namespace_aclcheck(nspid, roleid, mode);
#endif
}

/* "roleid"'s privilege "mode" on foreign server "serverid" */
static inline AclResult
EtlPullServerAclcheck(Oid serverid, Oid roleid, AclMode mode)
{
#if PG_VERSION_NUM >= 160000
	return object_aclcheck(ForeignServerRelationId, serverid, roleid, mode);
#else
	return pg_foreign_server_aclcheck(serverid, roleid, mode);
#endif
}

/* "roleid"'s privilege "mode" on function "funcid" */
static inline AclResult
EtlPullFunctionAclcheck(Oid funcid, Oid roleid, AclMode mode)
{
#if PG_VERSION_NUM >= 160000
	return object_aclcheck(ProcedureRelationId, funcid, roleid, mode);
#else
	return pg_proc_aclcheck(funcid, roleid, mode);
#endif
}

/* A possibly qualified name's parts, as String nodes; errors are raised */
static inline List *
EtlPullQualifiedNameList(const char *name)
{
#if PG_VERSION_NUM >= 160000
	return stringToQualifiedNameList(name, NULL);
#else
	return stringToQualifiedNameList(name);
#endif
}

/*
 * Type name "str" as a type's OID and typmod, or InvalidOid (and -1) when
 * no such type exists; other errors are raised
 */
static inline bool
EtlPullParseTypeIfExists(const char *str, Oid *typid, int32 *typmod)
{
#if PG_VERSION_NUM >= 160000
	ErrorSaveContext escontext = {T_ErrorSaveContext};

	if (!parseTypeString(str, typid, typmod, (Node *) &escontext))
	{
		*typid = InvalidOid;
		*typmod = -1;
		return false;
	}
	return true;
#else
	parseTypeString(str, typid, typmod, true);
	return OidIsValid(*typid);
#endif
}

/*
 * A table's rows written since its last ANALYZE, as autovacuum reads them
 * (pgstat's entry; the field was renamed in PostgreSQL 16)
 */
#if PG_VERSION_NUM >= 160000
#define EtlPullModSinceAnalyze(tabentry) ((tabentry)->mod_since_analyze)
#else
#define EtlPullModSinceAnalyze(tabentry) ((tabentry)->changes_since_analyze)
#endif

#endif							/* ETL_PULL_COMPAT_H */
