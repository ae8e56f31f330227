/*-------------------------------------------------------------------------
 *
 * reply.c
 *		  Statements whose reply is one row (an aggregate, a variable, a
 *		  status line), checked before the caller reads it: its width, that
 *		  it is exactly one row, and the integers in it.
 *
 * A hostile or broken server must never make us read past what it sent,
 * nor turn a malformed number into a zero or a number cut short: a reply
 * of another shape is an ERROR (EtlPullBadReply), with the statement in
 * its context, which EtlPullReplyRow keeps while the caller checks the
 * values.  This file reads the rows through connection.c's streamed
 * queries and never calls the client library.
 *
 * IDENTIFICATION
 *		  src/remote/reply.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "utils/memutils.h"

#include "etl_pull.h"
#include "remote/connection_int.h"
#include "remote/remote.h"

/*
 * The one row of the result in progress, which EtlPullQueryStart (or
 * EtlPullTryQueryStart) began, as palloc'd strings (NULL for SQL NULL),
 * one per column of the result; the result is ended, and the statement
 * kept for the context of EtlPullBadReply while the caller checks the
 * values (until the next statement).  A result with no row returns NULL
 * when "optional", and is a malformed reply otherwise; a second row
 * always is.
 */
char **
EtlPullReplyRow(EtlPullConnection *conn, bool optional)
{
	char	  **values;
	unsigned long *lengths;
	char	  **row = NULL;
	unsigned int i;

	conn->reply_sql = MemoryContextStrdup(TopMemoryContext, conn->sql);
	if (EtlPullFetch(conn, &values, &lengths))
	{
		row = palloc(sizeof(char *) * Max(conn->nfields, 1));
		for (i = 0; i < conn->nfields; i++)
			row[i] = values[i] ? pnstrdup(values[i], lengths[i]) : NULL;
		if (EtlPullFetch(conn, &values, &lengths))
			EtlPullBadReply(conn, "The statement returned more than one row.");
	}
	else if (!optional)
		EtlPullBadReply(conn, "The statement returned no row.");
	EtlPullQueryEnd(conn);
	return row;
}

/*
 * Run a statement whose reply is a single row (an aggregate, a variable, a
 * status line) of "nfields" columns (at least -nfields when negative), and
 * return its values as palloc'd strings, NULL for SQL NULL.  A reply of
 * another width, with no row or with more than one, is an ERROR (with
 * "optional", no row returns NULL instead).  The caller still checks each
 * value, with EtlPullReplyInt64 for a number.
 */
char **
EtlPullQueryRow(EtlPullConnection *conn, const char *sql, int nfields,
				bool optional)
{
	EtlPullQueryStart(conn, sql, nfields);
	return EtlPullReplyRow(conn, optional);
}

/*
 * Parse "s", an integer in a reply of the statement just run on "conn"
 * ("what" names it for the message: "MAX(`id`)", "A row count"), as
 * decimal digits with an optional sign, within the 64-bit range: NULL,
 * anything else or a larger number is a malformed reply, never a zero or a
 * number cut short.
 */
int64
EtlPullReplyInt64(EtlPullConnection *conn, const char *s, const char *what)
{
	int64		n;
	char	   *end;

	if (s != NULL && s[0] != '\0' && !isspace((unsigned char) s[0]))
	{
		errno = 0;
		n = strtoi64(s, &end, 10);
		if (errno == 0 && *end == '\0')
			return n;
	}
	EtlPullBadReply(conn, s == NULL ? psprintf("%s is NULL, not an integer.", what) :
					psprintf("%s is \"%s\", not a 64-bit integer.", what,
							 EtlPullPrintable(s, 64)));
}

/* As EtlPullReplyInt64, for an unsigned 64-bit integer (no sign) */
uint64
EtlPullReplyUint64(EtlPullConnection *conn, const char *s, const char *what)
{
	uint64		n;
	char	   *end;

	if (s != NULL && s[0] >= '0' && s[0] <= '9')
	{
		errno = 0;
		n = strtou64(s, &end, 10);
		if (errno == 0 && *end == '\0')
			return n;
	}
	EtlPullBadReply(conn, s == NULL ? psprintf("%s is NULL, not an integer.", what) :
					psprintf("%s is \"%s\", not an unsigned 64-bit integer.", what,
							 EtlPullPrintable(s, 64)));
}
