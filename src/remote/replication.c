/*-------------------------------------------------------------------------
 *
 * replication.c
 *		  The binary log's transport: a connection that reads the log as a
 *		  replica would, and the source's binary log status.
 *
 * IDENTIFICATION
 *		  src/remote/replication.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "etl_pull.h"
#include "remote/remote.h"

EtlPullReplication *
EtlPullReplicationOpen(ForeignServer *server, Oid userid, uint32 server_id,
					   const char *file, uint64 offset, const char *gtid,
					   int heartbeat_ms)
{
	elog(ERROR, "not implemented yet");
	return NULL;
}

bool
EtlPullReplicationNext(EtlPullReplication *r, const unsigned char **event,
					   size_t *len, const char **file, uint64 *next_offset)
{
	elog(ERROR, "not implemented yet");
	return false;
}

void
EtlPullReplicationClose(EtlPullReplication *r)
{
}

bool
EtlPullBinlogCurrent(EtlPullConnection *conn, EtlPullBinlogStatus *status)
{
	elog(ERROR, "not implemented yet");
	return false;
}

bool
EtlPullBinlogFileExists(EtlPullConnection *conn, const char *file)
{
	elog(ERROR, "not implemented yet");
	return false;
}
