#!/bin/bash
# Streams come back by themselves (issue 27): with etl_pull in shared_preload_libraries, the
# launcher starts every stream that was running, as its role, after PostgreSQL restarts (an
# immediate shutdown, as a crash), and after a kill -9 of the worker (the postmaster's crash
# restart); a stopped stream stays stopped.  Nothing is lost or applied twice across either.
# The test restarts its server: its own cluster, and its own MariaDB with a row-format log.
source "$(dirname "$0")/../tap.sh"

tap_own_mariadb --log-bin --binlog-format=ROW --binlog-row-metadata=FULL --server-id=113
tap_own_cluster
echo "shared_preload_libraries = 'pg_cron,etl_pull'" >>"$ETL_PULL_PGDATA/postgresql.conf"
restart() {
	etl_as postgres "$ETL_PG_BIN/pg_ctl" -D "$ETL_PULL_PGDATA" -w -t 60 restart \
		-l "$ETL_PULL_PGLOG" "$@" >/dev/null
}
restart
tap_setup_db etl_tap_restart
tap_own_mysql_server rowlog
tap_own_mysql etl_test -e "
	CREATE TABLE r1 (id int NOT NULL PRIMARY KEY, v varchar(20)) ENGINE = MyISAM;
	INSERT INTO r1 SELECT seq, CONCAT('v', seq) FROM seq_1_to_100;"
q "SELECT etl_pull.add_table('r1', server => 'rowlog'),
          etl_pull.set_table_option('r1', 'extraction', 'binlog'),
          etl_pull.set_table_option('r1', 'load_group', 'g')" >/dev/null

src_rows() {
	tap_own_mysql -N etl_test -e "SELECT MD5(GROUP_CONCAT(CONCAT_WS('|', id, v) ORDER BY id)), COUNT(*) FROM r1" |
		tr '\t' ' '
}
dst_rows() {
	q "SELECT md5(string_agg(concat_ws('|', id, v), ',' ORDER BY id)) || ' ' || count(*) FROM public.r1"
}
workers() {
	q "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'etl_pull stream'"
}
# wait (up to 30 s) for PostgreSQL to answer
wait_up() {
	local i
	for ((i = 0; i < 300; i++)); do
		[ "$(q "SELECT 1" 2>/dev/null)" = 1 ] && return 0
		sleep 0.1
	done
	return 1
}

like "$(q "SELECT etl_pull.start_stream('g')")" '^[0-9]+$' "the stream starts"
tap_stream_caught_up g 60
ok $? "and catches up"

# PostgreSQL stopped as by a crash, changes made meanwhile, PostgreSQL back
restart -m immediate
tap_own_mysql etl_test -e "INSERT INTO r1 VALUES (101, 'while down'); UPDATE r1 SET v = 'changed' WHERE id = 5;
	DELETE FROM r1 WHERE id = 6"
wait_up
tap_stream_caught_up g 60
ok $? "after a restart the launcher starts the stream again by itself"
is "$(workers)" "1" "one worker"
is "$(q "SELECT run_as FROM etl_pull.streams")" "postgres" "as the stream's role"
is "$(dst_rows)" "$(src_rows)" "the changes made while PostgreSQL was down are applied, once"

# kill -9 of the worker: the postmaster's crash restart, the launcher with it
pid=$(q "SELECT worker_pid FROM etl_pull.streams")
kill -9 "$pid"
sleep 1
tap_own_mysql etl_test -e "INSERT INTO r1 VALUES (102, 'after the kill')"
wait_up
tap_stream_caught_up g 60
ok $? "after kill -9 of the worker the stream comes back by itself"
like "$(q "SELECT worker_pid FROM etl_pull.streams")" '^[0-9]+$' "with a new worker"
isnt_pid=$(q "SELECT worker_pid <> $pid FROM etl_pull.streams")
is "$isnt_pid" "t" "not the killed one"
is "$(dst_rows)" "$(src_rows)" "nothing lost, nothing applied twice"

# a stopped stream stays stopped
is "$(q "SELECT etl_pull.stop_stream('g')")" "t" "stop_stream"
restart
wait_up
sleep 3
is "$(workers)" "0" "a stopped stream is not started again after a restart"
is "$(q "SELECT state FROM etl_pull.streams")" "stopped" "and says stopped"

done_testing
