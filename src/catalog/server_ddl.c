/*-------------------------------------------------------------------------
 *
 * server_ddl.c
 *		  Registered tables follow a rename of their server.
 *
 * etl_pull.tables names each table's server by name (a dump restores it
 * under its name, not its OID), so ALTER SERVER ... RENAME TO would leave
 * the tables naming a server that no longer exists.  The event trigger
 * etl_pull_server_rename (ddl_command_end, ALTER SERVER) calls this file's
 * function, which carries the new name over to them in the same
 * transaction.  (A DROP SERVER of a server in use is refused by the event
 * trigger etl_pull_server_drop, in SQL: see the 1.3--1.4 script.)
 *
 * IDENTIFICATION
 *		  src/catalog/server_ddl.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "commands/event_trigger.h"
#include "executor/spi.h"
#include "nodes/parsenodes.h"
#include "utils/builtins.h"

#include "etl_catalog.h"

PG_FUNCTION_INFO_V1(etl_pull_server_renamed);

/*
 * The event trigger function behind etl_pull_server_rename: after
 * ALTER SERVER old RENAME TO new, the tables registered with server "old"
 * get "new".  SECURITY DEFINER (the extension's owner writes
 * etl_pull.tables), with a pinned search_path; it reads nothing but the
 * statement that just ran.
 */
Datum
etl_pull_server_renamed(PG_FUNCTION_ARGS)
{
	EventTriggerData *trigdata;
	RenameStmt *stmt;
	Oid			argtypes[2] = {TEXTOID, TEXTOID};
	Datum		values[2];
	int			rc;
	uint64		moved;

	if (!CALLED_AS_EVENT_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_EVENT_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("function \"%s\" was not called by an event trigger",
						"etl_pull.server_renamed")));
	trigdata = (EventTriggerData *) fcinfo->context;
	if (!IsA(trigdata->parsetree, RenameStmt))
		PG_RETURN_NULL();
	stmt = (RenameStmt *) trigdata->parsetree;
	if (stmt->renameType != OBJECT_FOREIGN_SERVER)
		PG_RETURN_NULL();

	values[0] = CStringGetTextDatum(strVal(stmt->object));
	values[1] = CStringGetTextDatum(stmt->newname);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	rc = SPI_execute_with_args("UPDATE etl_pull.tables SET server = $2"
							   " WHERE server OPERATOR(pg_catalog.=) $1",
							   2, argtypes, values, NULL, false, 0);
	if (rc != SPI_OK_UPDATE)
		elog(ERROR, "could not update etl_pull.tables: %s",
			 SPI_result_code_string(rc));
	moved = SPI_processed;
	SPI_finish();
	if (moved > 0)
		ereport(NOTICE,
				(errmsg_plural("%llu registered table of server \"%s\" now loads from server \"%s\"",
							   "%llu registered tables of server \"%s\" now load from server \"%s\"",
							   (unsigned long) moved,
							   (unsigned long long) moved, strVal(stmt->object),
							   stmt->newname)));
	PG_RETURN_NULL();
}
