/*
 * test/bench_floor.c: the read side's floor for test/bench.  Reads every row of one SELECT
 * from MariaDB over one connection and throws them away, in the text protocol
 * (mysql_real_query + mysql_use_result + mysql_fetch_row) or the binary one (a prepared
 * statement, fetched unbuffered with no result buffers bound, as etl_pull reads it: the
 * packets are read, the values left to the caller).  Prints the row count.  No PostgreSQL.
 *
 *   bench_floor text|binary HOST PORT USER DB 'SELECT ...'     (password in MYSQL_PWD)
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

int
main(int argc, char **argv)
{
	MYSQL	   *m;
	const char *sql;
	unsigned long long rows = 0;
	my_bool		off = 0;

	if (argc != 7 || (strcmp(argv[1], "text") != 0 && strcmp(argv[1], "binary") != 0))
	{
		fprintf(stderr, "usage: bench_floor text|binary HOST PORT USER DB SQL\n");
		return 2;
	}
	sql = argv[6];
	m = mysql_init(NULL);
	mysql_options(m, MYSQL_OPT_SSL_ENFORCE, &off);
	mysql_options(m, MYSQL_SET_CHARSET_NAME, "utf8mb4");
	if (!mysql_real_connect(m, argv[2], argv[4], getenv("MYSQL_PWD"), argv[5],
							(unsigned int) atoi(argv[3]), NULL, 0))
		die("connect", mysql_error(m));
	if (mysql_query(m, "SET time_zone = '+00:00', sql_mode = ''"))
		die("set", mysql_error(m));
	if (strcmp(argv[1], "text") == 0)
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
	mysql_close(m);
	printf("%llu\n", rows);
	return 0;
}
