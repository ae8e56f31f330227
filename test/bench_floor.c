/*
 * test/bench_floor.c: the read side's floor for test/bench and test/bench_replica.  Reads
 * every row of one SELECT (or of several, one after the other) from MariaDB over one
 * connection and throws them away, in the text protocol (mysql_real_query + mysql_use_result +
 * mysql_fetch_row) or the binary one (a prepared statement, fetched unbuffered with no result
 * buffers bound, as etl_pull reads it: the packets are read, the values left to the caller).
 * Prints the row count (the sum over the statements).  No PostgreSQL.
 *
 *   bench_floor text|binary HOST PORT USER DB 'SELECT ...' ['SELECT ...' ...]
 *                                                              (password in MYSQL_PWD)
 *
 * Built by test/bench with: cc -O2 bench_floor.c $(mariadb_config --cflags --libs)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <mysql.h>

static void
die(const char *what, const char *err)
{
	fprintf(stderr, "bench_floor: %s: %s\n", what, err);
	exit(1);
}

/* read_all: run SQL in the given protocol, read every row, return how many. */
static unsigned long long
read_all(MYSQL *m, const char *protocol, const char *sql)
{
	unsigned long long rows = 0;

	if (strcmp(protocol, "text") == 0)
	{
		MYSQL_RES  *res;

		if (mysql_real_query(m, sql, strlen(sql)))
			die("query", mysql_error(m));
		if (!(res = mysql_use_result(m)))
			die("use_result", mysql_error(m));
		while (mysql_fetch_row(res))
			rows++;
		if (mysql_errno(m))
			die("fetch", mysql_error(m));
		mysql_free_result(res);
	}
	else
	{
		MYSQL_STMT *st = mysql_stmt_init(m);
		int			rc;

		if (!st || mysql_stmt_prepare(st, sql, strlen(sql)))
			die("prepare", st ? mysql_stmt_error(st) : "out of memory");
		if (mysql_stmt_execute(st))
			die("execute", mysql_stmt_error(st));
		while ((rc = mysql_stmt_fetch(st)) == 0 || rc == MYSQL_DATA_TRUNCATED)
			rows++;
		if (rc != MYSQL_NO_DATA)
			die("fetch", mysql_stmt_error(st));
		mysql_stmt_close(st);
	}
	return rows;
}

int
main(int argc, char **argv)
{
	MYSQL	   *m;
	unsigned long long rows = 0;
	my_bool		off = 0;
	int			i;

	if (argc < 7 || (strcmp(argv[1], "text") != 0 && strcmp(argv[1], "binary") != 0))
	{
		fprintf(stderr, "usage: bench_floor text|binary HOST PORT USER DB SQL [SQL...]\n");
		return 2;
	}
	m = mysql_init(NULL);
	mysql_options(m, MYSQL_OPT_SSL_ENFORCE, &off);
	mysql_options(m, MYSQL_SET_CHARSET_NAME, "utf8mb4");
	if (!mysql_real_connect(m, argv[2], argv[4], getenv("MYSQL_PWD"), argv[5],
							(unsigned int) atoi(argv[3]), NULL, 0))
		die("connect", mysql_error(m));
	if (mysql_query(m, "SET time_zone = '+00:00', sql_mode = ''"))
		die("set", mysql_error(m));
	for (i = 6; i < argc; i++)
		rows += read_all(m, argv[1], argv[i]);
	mysql_close(m);
	printf("%llu\n", rows);
	return 0;
}

