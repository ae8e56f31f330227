/*-------------------------------------------------------------------------
 *
 * unchanged.c
 *		  Setting skip_unchanged: a load of a source table that has not
 *		  changed since the table's last load is skipped, at the cost of one
 *		  query at MySQL and one look-up here.
 *
 * The signal is the source table's entry in information_schema.TABLES,
 * read in one statement with the source's own clock: ENGINE,
 * CREATE_OPTIONS, CREATE_TIME, UPDATE_TIME, TABLE_ROWS, DATA_LENGTH,
 * CHECKSUM and a digest of its columns (information_schema.COLUMNS: a
 * column renamed in place moves neither CREATE_TIME nor UPDATE_TIME).  It
 * is read before the load reads a row, and remembered with the load that
 * read it (etl_pull.source_signatures), with the target's identity (its
 * OID and relfilenode: a target dropped and made again, truncated or
 * rewritten is another) and a digest of the table's settings and its
 * server's options.  The next load skips when all of them are the same.
 * A load that does not skip uses the rest of what that statement read
 * instead of asking again: the sizes and engine for the source's
 * description, and UPDATE_TIME with the source's clock as settle.c's
 * stamp before the read (EtlPullSignatureStamp: read before the
 * description, so a little earlier than a stamp of settle.c's own; a
 * write in between moves UPDATE_TIME past it, and is re-checked, never
 * missed).
 *
 * Only engines whose UPDATE_TIME moves with every write can say so, as
 * measured on MariaDB 10.11: MyISAM (the data file's modification time:
 * INSERT, UPDATE, also one that keeps the row count, and DELETE move it),
 * and Aria tables created TRANSACTIONAL=0.  A transactional Aria table
 * writes through its page cache and keeps UPDATE_TIME still across
 * INSERT, UPDATE and DELETE; InnoDB's is not kept across a restart; a
 * partitioned table's is the newest of its partitions'; any other engine
 * is unknown: those are always read ("when in doubt, read").
 *
 * UPDATE_TIME counts whole seconds, and the kernel stamps a file with a
 * clock a few milliseconds behind: a write in the same second as the read
 * of the signature, after it, would leave it unchanged.  So a signature
 * is remembered only when UPDATE_TIME was at least 2 seconds older than
 * the source's clock (NOW(6)) when it was read; then any later write
 * moves it.  Otherwise nothing is remembered, and the next load reads.
 *
 * IDENTIFICATION
 *		  src/load/unchanged.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/builtins.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"

#include "etl_pull.h"
#include "catalog/etl_catalog.h"
#include "remote/remote.h"
#include "load/load.h"

/* The source table's signature, as read before a load */
struct EtlPullSignature
{
	bool		found;			/* information_schema.TABLES has the table */
	const char *unfit;			/* why its signature cannot tell, or NULL */
	bool		trusted;		/* UPDATE_TIME >= 2 s older than the source's
								 * clock */
	char	   *text;			/* the signature, as remembered and compared */
	/* read by the same statement, for the load (one statement less each) */
	EtlPullStamp stamp;			/* UPDATE_TIME and the source's clock, for
								 * settle.c's stamp before the read */
	char	   *sizes[3];		/* TABLE_ROWS, DATA_LENGTH, ENGINE, for
								 * EtlPullDescribeTableSourceSized */
};

/*
 * The digest of the table's settings row and its server's options, as SQL:
 * $1 is the table's name, $2 the server's OID.  Any setting changed (by
 * set_table_option or otherwise), or the server pointed elsewhere, makes
 * the next load read.  The row as jsonb, less created_at: its text does
 * not depend on the session's TimeZone or DateStyle, so a load_all worker
 * and a pg_cron job agree with an interactive session.
 */
#define SETTINGS_DIGEST \
	"pg_catalog.md5(coalesce((SELECT (pg_catalog.to_jsonb(t) OPERATOR(pg_catalog.-)" \
	" 'created_at'::pg_catalog.text)::pg_catalog.text FROM etl_pull.tables t" \
	" WHERE t.name OPERATOR(pg_catalog.=) $1), '')" \
	" OPERATOR(pg_catalog.||) coalesce((SELECT s.srvoptions::pg_catalog.text" \
	" FROM pg_catalog.pg_foreign_server s WHERE s.oid OPERATOR(pg_catalog.=) $2), ''))"

/* Whether skip_unchanged is on for "table" (default: etl_pull.skip_unchanged) */
static bool
skip_wanted(EtlPullTable *table)
{
	if (table->skip_unchanged == ETL_SKIP_UNCHANGED_DEFAULT)
		return EtlPullSkipUnchangedDefault;
	return table->skip_unchanged == ETL_SKIP_UNCHANGED_ON;
}

/* Whether the catalog has etl_pull.source_signatures (1.5 on) */
static bool
have_signatures(void)
{
	return OidIsValid(get_relname_relid("source_signatures",
										get_namespace_oid("etl_pull", false)));
}

/* A value of the reply that must be NULL or a "YYYY-MM-DD HH:MM:SS" */
static const char *
reply_time(EtlPullConnection *conn, const char *s, const char *what)
{
	static const char pattern[] = "0000-00-00 00:00:00";
	int			i;

	if (s == NULL)
		return "-";
	for (i = 0; pattern[i] != '\0'; i++)
		if (pattern[i] == '0' ? !(s[i] >= '0' && s[i] <= '9') : s[i] != pattern[i])
			break;
	if (pattern[i] != '\0' || s[i] != '\0')
		EtlPullBadReply(conn, psprintf("%s is \"%s\", not a date and time.", what,
									   EtlPullPrintable(s, 64)));
	return s;
}

/* A value of the reply that must be NULL or an unsigned integer */
static char *
reply_count(EtlPullConnection *conn, const char *s, const char *what)
{
	if (s == NULL)
		return "-";
	return psprintf(UINT64_FORMAT, EtlPullReplyUint64(conn, s, what));
}

/*
 * Why the signature of a table of engine "engine" with CREATE_OPTIONS
 * "options" cannot tell that it is unchanged, or NULL when it can (see the
 * file's head)
 */
static const char *
engine_unfit(const char *engine, const char *options)
{
	if (engine == NULL)
		return "the source has no engine (a view?)";
	if (options && strstr(options, "partitioned") != NULL)
		return "a partitioned table's UPDATE_TIME is its newest partition's";
	if (pg_strcasecmp(engine, "MyISAM") == 0)
		return NULL;
	if (pg_strcasecmp(engine, "Aria") == 0)
	{
		if (options && strstr(options, "transactional=0") != NULL)
			return NULL;
		return "a transactional Aria table's UPDATE_TIME does not move with every write (only a TRANSACTIONAL=0 table's does)";
	}
	return psprintf("engine %s keeps no UPDATE_TIME that moves with every write",
					EtlPullPrintable(engine, 64));
}

/*
 * Read the signature of the source table of "table" on "conn": one
 * statement.  Every value is checked (a time is a time, a count a count,
 * the digest of the columns digits and slashes); a table information_schema
 * does not list is not "found" (the load then fails on it as ever).
 */
static EtlPullSignature *
read_signature(EtlPullConnection *conn, EtlPullTable *table)
{
	EtlPullSignature *sig = palloc0(sizeof(EtlPullSignature));
	const char *db = table->source_db ? table->source_db : EtlPullDefaultDb(conn);
	char	   *qdb;
	char	   *qtable;
	char	  **row;
	const char *engine;
	const char *options;
	const char *p;

	if (db == NULL)
		return sig;
	qdb = EtlPullQuoteLiteral(conn, db);
	qtable = EtlPullQuoteLiteral(conn, table->source_relname);
	row = EtlPullQueryRow(conn,
						  psprintf("SELECT t.ENGINE, t.CREATE_OPTIONS, t.CREATE_TIME, t.UPDATE_TIME,"
								   " t.TABLE_ROWS, t.DATA_LENGTH, t.CHECKSUM,"
								   " UNIX_TIMESTAMP(t.UPDATE_TIME) + 2 <= UNIX_TIMESTAMP(NOW(6)),"
								   " (SELECT CONCAT(COUNT(*), '/',"
								   "  COALESCE(SUM(CRC32(CONCAT_WS(',', ORDINAL_POSITION, COLUMN_NAME,"
								   "   COLUMN_TYPE, IS_NULLABLE, COLLATION_NAME))), 0), '/',"
								   "  COALESCE(BIT_XOR(CRC32(CONCAT_WS('/', COLUMN_NAME, COLUMN_TYPE,"
								   "   ORDINAL_POSITION))), 0))"
								   "  FROM information_schema.COLUMNS"
								   "  WHERE TABLE_SCHEMA = %s AND TABLE_NAME = %s)"
								   ", UNIX_TIMESTAMP(t.UPDATE_TIME), UNIX_TIMESTAMP()"
								   " FROM information_schema.TABLES t"
								   " WHERE t.TABLE_SCHEMA = %s AND t.TABLE_NAME = %s",
								   qdb, qtable, qdb, qtable),
						  11, true);
	if (row == NULL)
		return sig;
	sig->found = true;
	(void) EtlPullParseStamp(conn, row[9], row[10], &sig->stamp);
	sig->sizes[0] = row[4];
	sig->sizes[1] = row[5];
	sig->sizes[2] = row[0];

	engine = row[0] ? EtlPullPrintable(row[0], 64) : NULL;
	options = row[1] ? EtlPullPrintable(row[1], 256) : "";
	if (row[8] == NULL || strlen(row[8]) > 64 ||
		strspn(row[8], "0123456789/") != strlen(row[8]))
		EtlPullBadReply(conn, psprintf("The digest of the columns is \"%s\", not counts and sums.",
									   row[8] ? EtlPullPrintable(row[8], 64) : "NULL"));
	if (row[7] != NULL && strcmp(row[7], "0") != 0 && strcmp(row[7], "1") != 0)
		EtlPullBadReply(conn, psprintf("The comparison of UPDATE_TIME with NOW(6) is \"%s\", not 0 or 1.",
									   EtlPullPrintable(row[7], 64)));
	sig->text = psprintf("engine %s, options \"%s\", created %s, updated %s, rows %s, bytes %s, checksum %s, columns %s",
						 engine ? engine : "-", options,
						 reply_time(conn, row[2], "CREATE_TIME"),
						 reply_time(conn, row[3], "UPDATE_TIME"),
						 reply_count(conn, row[4], "TABLE_ROWS"),
						 reply_count(conn, row[5], "DATA_LENGTH"),
						 reply_count(conn, row[6], "CHECKSUM"),
						 row[8]);
	sig->unfit = engine_unfit(engine, options);
	if (sig->unfit == NULL && (row[3] == NULL || row[4] == NULL))
		sig->unfit = "the source reports no UPDATE_TIME or row count";
	sig->trusted = (row[7] != NULL && strcmp(row[7], "1") == 0);
	/* the options are the server's text: keep it from splitting a note */
	for (p = sig->text; (p = strstr(p, "; ")) != NULL;)
		sig->text[p - sig->text] = ',';
	return sig;
}

/* The relfilenode of relation "relid", or InvalidOid if it is gone */
static Oid
relation_filenode(Oid relid)
{
	HeapTuple	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	Oid			filenode;

	if (!HeapTupleIsValid(tup))
		return InvalidOid;
	filenode = ((Form_pg_class) GETSTRUCT(tup))->relfilenode;
	ReleaseSysCache(tup);
	return filenode;
}

/*
 * Whether the source of "table" is unchanged since the load that
 * remembered its signature, into target "target_oid": then *why is the
 * note of the skipped run (since which run, and the signature); else why
 * the next run reads.  Reads etl_pull.source_signatures as its owner.
 */
static bool
unchanged(EtlPullTable *table, Oid target_oid, EtlPullSignature *sig, char **why)
{
	Oid			argtypes[5] = {TEXTOID, OIDOID, OIDOID, OIDOID, TEXTOID};
	Datum		args[5];
	MemoryContext cxt = CurrentMemoryContext;
	EtlPullUserState st;
	bool		result = false;

	if (!sig->found)
	{
		*why = "the source table is not in information_schema.TABLES";
		return false;
	}
	if (sig->unfit)
	{
		*why = (char *) sig->unfit;
		return false;
	}
	if (!OidIsValid(target_oid))
	{
		*why = "the target does not exist yet";
		return false;
	}

	args[0] = CStringGetTextDatum(table->name);
	args[1] = ObjectIdGetDatum(table->serverid);
	args[2] = ObjectIdGetDatum(target_oid);
	args[3] = ObjectIdGetDatum(relation_filenode(target_oid));
	args[4] = CStringGetTextDatum(sig->text);
	EtlPullAsOwner(&st);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute_plan(EtlPullOwnerPlan("SELECT s.run_id::pg_catalog.text, s.loaded_at::pg_catalog.text,"
										  " s.signature, s.settings OPERATOR(pg_catalog.=) " SETTINGS_DIGEST ","
										  " s.target OPERATOR(pg_catalog.=) $3"
										  "  AND s.target_filenode OPERATOR(pg_catalog.=) $4,"
										  " s.signature OPERATOR(pg_catalog.=) $5"
										  " FROM etl_pull.source_signatures s"
										  " WHERE s.table_name OPERATOR(pg_catalog.=) $1",
										  5, argtypes),
						 args, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not read etl_pull.source_signatures");
	if (SPI_processed == 0)
		*why = "no load remembered the source's signature (the last one found UPDATE_TIME within 2 s of the source's clock, or skip_unchanged was off)";
	else
	{
		HeapTuple	tup = SPI_tuptable->vals[0];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		bool		isnull;
		MemoryContext old = MemoryContextSwitchTo(cxt);
		char	   *run = SPI_getvalue(tup, desc, 1);

		if (!DatumGetBool(SPI_getbinval(tup, desc, 4, &isnull)))
			*why = psprintf("the table's settings or its server's options changed since run %s", run);
		else if (!DatumGetBool(SPI_getbinval(tup, desc, 5, &isnull)))
			*why = psprintf("the target was made again, truncated or rewritten since run %s", run);
		else if (!DatumGetBool(SPI_getbinval(tup, desc, 6, &isnull)))
			*why = psprintf("the source changed since run %s: then %s", run,
							SPI_getvalue(tup, desc, 3));
		else
		{
			*why = psprintf("unchanged since run %s (%s): %s", run,
							SPI_getvalue(tup, desc, 2), sig->text);
			result = true;
		}
		MemoryContextSwitchTo(old);
	}
	SPI_finish();
	EtlPullAsCaller(&st);
	return result;
}

/*
 * Before a load reads a row (load.c): read the source's signature, and if
 * the table is unchanged since its last load, make the run a skip (status
 * unchanged, the note saying since when) and return true: the caller
 * reads nothing more.  Never with force_full, nor on the group's snapshot
 * of load_all(..., consistent), nor while skip_unchanged is off; the
 * signature read is kept (load->signature) for EtlPullRememberSignature.
 */
bool
EtlPullSkipIfUnchanged(EtlPullLoad *load, bool force_full)
{
	EtlPullTable *table = load->table;
	char	   *why;

	load->signature = NULL;
	if (!skip_wanted(table) || !have_signatures())
		return false;
	load->signature = read_signature(load->conn, table);
	if (force_full || (load->lent && load->lent->in_snapshot) ||
		!OidIsValid(load->target_oid))
		return false;
	/* a TRUNCATE of the target committed since: its new relfilenode */
	AcceptInvalidationMessages();
	if (!unchanged(table, load->target_oid, load->signature, &why))
		return false;
	load->result->unchanged = true;
	load->result->extraction = EtlPullChoiceName("extraction", table->extraction);
	EtlPullRunNote(load->result, "%s", why);
	return true;
}

/*
 * The source's UPDATE_TIME and clock as the load's signature statement read
 * them, before any row (settle.c's stamp before the read), into *stamp:
 * false when the load read no signature of its source
 */
bool
EtlPullSignatureStamp(EtlPullLoad *load, EtlPullStamp *stamp)
{
	EtlPullSignature *sig = load->signature;

	if (sig == NULL || !sig->found)
		return false;
	*stamp = sig->stamp;
	return true;
}

/*
 * TABLE_ROWS, DATA_LENGTH and ENGINE as the load's signature statement read
 * them (EtlPullDescribeTableSourceSized), or NULL when it read none
 */
char **
EtlPullSignatureSizes(EtlPullLoad *load)
{
	EtlPullSignature *sig = load->signature;

	return (sig != NULL && sig->found) ? sig->sizes : NULL;
}

/*
 * After a load succeeded, in its transaction: remember the signature it
 * read before reading a row, with the target's identity now and the
 * settings' digest, when it can say "unchanged" next time (a fit engine,
 * UPDATE_TIME 2 s older than the source's clock); else (skip_unchanged
 * off, or UPDATE_TIME too recent) forget what an earlier load remembered.
 */
void
EtlPullRememberSignature(EtlPullLoad *load)
{
	EtlPullSignature *sig = load->signature;
	Oid			argtypes[6] = {TEXTOID, OIDOID, INT8OID, TEXTOID, OIDOID, OIDOID};
	Datum		args[6];

	/*
	 * An engine that cannot tell never consults what is remembered: nothing
	 * to write, nor to forget (so an InnoDB table's load writes nothing here)
	 */
	if (!have_signatures() || (sig != NULL && (!sig->found || sig->unfit)))
		return;
	args[0] = CStringGetTextDatum(load->table->name);
	if (sig == NULL || !sig->trusted)
	{
		EtlPullOwnerExec("DELETE FROM etl_pull.source_signatures s"
						 " WHERE s.table_name OPERATOR(pg_catalog.=) $1",
						 1, argtypes, args, NULL, SPI_OK_DELETE,
						 "forget the source's signature");
		return;
	}
	args[1] = ObjectIdGetDatum(load->table->serverid);
	args[2] = Int64GetDatum(load->result->run_id);
	args[3] = CStringGetTextDatum(sig->text);
	args[4] = ObjectIdGetDatum(load->target_oid);
	args[5] = ObjectIdGetDatum(relation_filenode(load->target_oid));
	EtlPullOwnerExec("INSERT INTO etl_pull.source_signatures AS s"
					 " (table_name, run_id, loaded_at, signature, settings, target, target_filenode)"
					 " VALUES ($1, $3, pg_catalog.now(), $4, " SETTINGS_DIGEST ", $5, $6)"
					 " ON CONFLICT (table_name) DO UPDATE SET run_id = excluded.run_id,"
					 "  loaded_at = excluded.loaded_at, signature = excluded.signature,"
					 "  settings = excluded.settings, target = excluded.target,"
					 "  target_filenode = excluded.target_filenode",
					 6, argtypes, args, NULL, SPI_OK_INSERT,
					 "remember the source's signature");
}

/*
 * For etl_pull.plan(): whether the next run of "table" (target
 * "target_oid", or InvalidOid) would skip, and why, read on "conn" as a
 * load would
 */
char *
EtlPullUnchangedVerdict(EtlPullConnection *conn, EtlPullTable *table,
						Oid target_oid)
{
	EtlPullSignature *sig;
	char	   *why;

	if (!skip_wanted(table))
		return psprintf("the next run reads: skip_unchanged is off (%s)",
						table->skip_unchanged == ETL_SKIP_UNCHANGED_DEFAULT ?
						"etl_pull.skip_unchanged" : "the table's setting");
	if (!have_signatures())
		return "the next run reads: the catalog is older than 1.5 (ALTER EXTENSION etl_pull UPDATE)";
	sig = read_signature(conn, table);
	if (unchanged(table, target_oid, sig, &why))
		return psprintf("the next run skips: %s", why);
	return psprintf("the next run reads: %s", why);
}
