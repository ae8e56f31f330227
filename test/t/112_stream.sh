#!/bin/bash
# The binary log's stream (issue 27): extraction = 'binlog', plan()'s check of what the server
# needs (on this test's own MariaDB, which logs in row format, and on the suite's, which logs
# MIXED), start_stream's refusals (a table without a primary key, a server that misses a
# prerequisite), import_tables(binlog => true), and a stream end to end: the snapshot, then
# inserts, an update that leaves the stamp alone, deletes, multi-row statements, a
# multi-statement transaction, a key change and TRUNCATE applied, the target equal to the
# source by a comparison of their rows' text (no etl_pull code); kill -9 of the worker in the
# middle of a busy writer, then start_stream: nothing lost, nothing applied twice; stop_stream
# and pg_terminate_backend stop it within a (generous) bound while the source is silent; the
# source refusing shows in etl_pull.streams and the stream resumes when it is back.
source "$(dirname "$0")/../tap.sh"

tap_own_mariadb --log-bin --binlog-format=ROW --binlog-row-metadata=FULL --server-id=112
tap_setup_db etl_tap_stream
tap_own_mysql_server rowlog

tap_own_mysql etl_test -e "
	CREATE TABLE s1 (id int NOT NULL PRIMARY KEY, name varchar(20), c char(1),
	                 amount decimal(10,2), stamp datetime, note text) ENGINE = MyISAM;
	INSERT INTO s1 SELECT seq, CONCAT('n', seq), IF(seq % 2, 'Y', NULL), seq / 4,
	                      '2024-01-01 00:00:00' + INTERVAL seq MINUTE, NULL FROM seq_1_to_500;
	CREATE TABLE s2 (a int NOT NULL, b varchar(10) NOT NULL, v bigint, PRIMARY KEY (a, b)) ENGINE = InnoDB;
	INSERT INTO s2 VALUES (1, 'x', 10), (2, 'y', 20);
	CREATE TABLE nopk (a int, b int) ENGINE = MyISAM;
	CREATE TABLE imp_keyed (id int PRIMARY KEY, v int);
	CREATE TABLE imp_loose (v int);"
etl_mysql -e "DROP TABLE IF EXISTS stream_mixed;
	CREATE TABLE stream_mixed (id int PRIMARY KEY)"
cleanup() {
	etl_mysql -e "DROP TABLE IF EXISTS stream_mixed" 2>/dev/null
}
tap_on_exit cleanup

# The source's rows and the target's, as text, by SQL of their own
src_rows() {
	tap_own_mysql -N etl_test -e "SELECT MD5(GROUP_CONCAT(CONCAT_WS('|', id, name, c, amount, stamp, note)
		ORDER BY id SEPARATOR ';')), COUNT(*) FROM s1;
		SELECT MD5(GROUP_CONCAT(CONCAT_WS('|', a, b, v) ORDER BY a, b SEPARATOR ';')), COUNT(*) FROM s2" |
		tr '\t\n' '  '
}
dst_rows() {
	q "SELECT md5(string_agg(concat_ws('|', id, name, c, amount,
	          to_char(stamp, 'YYYY-MM-DD HH24:MI:SS'), note), ';' ORDER BY id)) || ' ' || count(*)
	     FROM public.s1;
	   SELECT md5(string_agg(concat_ws('|', a, b, v), ';' ORDER BY a, b)) || ' ' || count(*)
	     FROM public.s2" | tr '\n' ' '
}

# extraction = 'binlog' is a setting like the others
q "SELECT etl_pull.add_table('s1', server => 'rowlog'),
          etl_pull.add_table('s2', server => 'rowlog'),
          etl_pull.add_table('nopk', server => 'rowlog'),
          etl_pull.add_table('stream_mixed', server => 'replica')" >/dev/null
for t in s1 s2 nopk stream_mixed; do
	q "SELECT etl_pull.set_table_option('$t', 'extraction', 'binlog')" >/dev/null
done
q "SELECT etl_pull.set_table_option('s1', 'load_group', 'g'),
          etl_pull.set_table_option('s2', 'load_group', 'g'),
          etl_pull.set_table_option('nopk', 'load_group', 'g_nopk'),
          etl_pull.set_table_option('stream_mixed', 'load_group', 'g_mixed')" >/dev/null
is "$(q "SELECT string_agg(extraction, ',' ORDER BY name) FROM etl_pull.tables")" \
	"binlog,binlog,binlog,binlog" "extraction 'binlog' is accepted"

# plan(): what the server has, and what the MySQL admin must be asked for
is "$(q "SELECT string_agg(item || ':' || (detail NOT LIKE 'missing%'), ',' ORDER BY item)
           FROM etl_pull.plan('s1', 0) WHERE section = 'binlog'")" \
	"BINLOG MONITOR:true,REPLICATION SLAVE:true,binlog_format:true,binlog_row_image:true,binlog_row_metadata:true,log_bin:true,log_slave_updates:true,retention:true" \
	"plan: a server logging in row format has everything"
like "$(q "SELECT detail FROM etl_pull.plan('stream_mixed', 0)
            WHERE section = 'binlog' AND item = 'binlog_format'")" \
	"^missing: binlog_format is MIXED; ask for binlog_format = ROW" \
	"plan: the suite's MIXED server is told to log in row format"
like "$(q "SELECT detail FROM etl_pull.plan('nopk', 0) WHERE section = 'extraction' AND item = 'stream'")" \
	"^refused: table \"nopk\" cannot follow the binary log: MySQL table \"etl_test.nopk\" has no primary key" \
	"plan: a table without a primary key is refused for binlog"

# start_stream refuses what it cannot keep exact
like "$(q "SELECT etl_pull.start_stream('g_nopk')")" \
	"ERROR:  table \"nopk\" cannot follow the binary log: MySQL table \"etl_test.nopk\" has no primary key" \
	"start_stream: a table without a primary key is refused"
like "$(q "SELECT etl_pull.start_stream('g_mixed')")" \
	"ERROR:  MySQL server \"replica\" cannot be followed by the stream of load group \"g_mixed\".*binlog_format: missing: binlog_format is MIXED" \
	"start_stream: a server that misses a prerequisite is refused, with what is missing"
like "$(q "SELECT etl_pull.start_stream('nosuch')")" \
	"ERROR:  load group \"nosuch\" has no enabled table with extraction \"binlog\"" \
	"start_stream: an unknown group"
is "$(q "SELECT count(*) FROM etl_pull.stream_state")" "0" "a refused stream leaves no row"

# import_tables(binlog => true): tables with a key follow the log, the others load full
is "$(q "SELECT string_agg(name || ':' || extraction || ':' || coalesce(array_to_string(notes, '/'), ''), ',' ORDER BY name)
           FROM etl_pull.import_tables('rowlog', include => 'imp_%', binlog => true)")" \
	"imp_keyed:binlog:,imp_loose:full:no primary key: loads full/no primary key: cannot follow the binary log (a changed row could not be found exactly): loads full" \
	"import_tables with binlog registers keyed tables as binlog"
q "SELECT etl_pull.remove_table('imp_keyed'), etl_pull.remove_table('imp_loose')" >/dev/null

# The stream: the snapshot first, then the log
pid=$(q "SELECT etl_pull.start_stream('g')")
like "$pid" '^[0-9]+$' "start_stream returns the worker's process id"
like "$(q "SELECT etl_pull.start_stream('g')")" \
	"ERROR:  the stream of load group \"g\" is already running" "a second start_stream is refused"
tap_stream_caught_up g 60
ok $? "the stream snapshots its tables and catches up"
is "$(q "SELECT string_agg(t.table_name || ':' || (r.notes LIKE '%not snapshotted for this stream yet%'), ',' ORDER BY t.table_name)
           FROM etl_pull.stream_tables t JOIN etl_pull.runs r ON r.run_id = t.snapshot_run_id
          WHERE r.status = 'succeeded'")" "s1:true,s2:true" \
	"each table's snapshot is a recorded run, which says why it was taken"
is "$(dst_rows)" "$(src_rows)" "after the snapshot the targets equal the sources"

# Every kind of change (a target column the source lacks gets its default, as in a load)
q "ALTER TABLE public.s1 ADD COLUMN extra text DEFAULT 'dflt'" >/dev/null
tap_own_mysql etl_test -e "
	INSERT INTO s1 VALUES (1001, 'new', 'N', 1.25, '2025-01-01 10:00:00', 'x');
	INSERT INTO s1 VALUES (1002, 'a', NULL, 2, NULL, NULL), (1003, 'b', 'Z', 3, NULL, 'multi');
	UPDATE s1 SET name = 'same stamp' WHERE id = 7;
	UPDATE s1 SET amount = amount + 1 WHERE id BETWEEN 10 AND 60;
	DELETE FROM s1 WHERE id = 8;
	DELETE FROM s1 WHERE id BETWEEN 100 AND 149;
	UPDATE s1 SET id = id + 10000 WHERE id = 9;
	START TRANSACTION;
	INSERT INTO s2 VALUES (3, 'z', 30);
	UPDATE s2 SET v = 11 WHERE a = 1;
	UPDATE s2 SET b = 'yy' WHERE a = 2;
	DELETE FROM s2 WHERE a = 3;
	INSERT INTO s2 VALUES (3, 'z', 31);
	COMMIT;"
tap_stream_caught_up g 30
ok $? "the stream applies the changes"
is "$(dst_rows)" "$(src_rows)" "inserts, updates (stamp left alone too), deletes, a key change, a transaction: the targets equal the sources"
is "$(q "SELECT name, stamp FROM public.s1 WHERE id = 7" | tr '|' ' ')" "same stamp 2024-01-01 00:07:00" \
	"an update that leaves the stamp alone is applied"
is "$(q "SELECT extra FROM public.s1 WHERE id = 1001")" "dflt" \
	"a streamed insert gives a target column the source lacks its default"
tap_own_mysql etl_test -e "TRUNCATE TABLE s2; INSERT INTO s2 VALUES (9, 'after', 1)"
tap_stream_caught_up g 30
is "$(q "SELECT string_agg(a || b, ',') FROM public.s2")" "9after" "TRUNCATE empties the target"

# The view
is "$(q "SELECT state, server, changes_applied > 0, lag_seconds >= 0, last_error IS NULL
           FROM etl_pull.streams WHERE load_group = 'g'" | tr '|' ' ')" \
	"streaming rowlog t t t" "etl_pull.streams: one row, streaming, with its changes and lag"

# Another role neither sees the stream (its errors may quote source values) nor stops it
q "DROP ROLE IF EXISTS stream_other; CREATE ROLE stream_other LOGIN" >/dev/null
is "$(q "SET ROLE stream_other; SELECT count(*) FROM etl_pull.streams")" "0" \
	"another role does not see the stream in etl_pull.streams"
like "$(q "SET ROLE stream_other; SELECT etl_pull.stop_stream('g')")" \
	"ERROR:  permission denied to stop the stream of load group \"g\"" "nor may it stop the stream"
q "DROP ROLE stream_other" >/dev/null

# kill -9 of the worker while a writer runs: PostgreSQL restarts; start_stream resumes
writer() {
	local i
	for ((i = 1; i <= 150; i++)); do
		tap_own_mysql etl_test -e "INSERT INTO s1 VALUES ($((20000 + i)), 'w$i', 'W', $i, NOW(), 'k');
			UPDATE s1 SET amount = amount + 1 WHERE id = $((20000 + i / 2));
			DELETE FROM s1 WHERE id = $((200 + i));
			INSERT INTO s2 VALUES ($((100 + i)), 'w', $i)"
	done
}
writer &
wpid=$!
sleep 1
pid=$(q "SELECT worker_pid FROM etl_pull.streams WHERE load_group = 'g'")
kill -9 "$pid"
for ((i = 0; i < 300; i++)); do
	q "SELECT 1" >/dev/null 2>&1 && [ "$(q "SELECT 1")" = 1 ] && break
	sleep 0.1
done
wait "$wpid"
pid=$(q "SELECT etl_pull.start_stream('g')")
like "$pid" '^[0-9]+$' "start_stream resumes after the worker was killed"
tap_stream_caught_up g 60
ok $? "the resumed stream catches up"
is "$(dst_rows)" "$(src_rows)" "after kill -9 in the middle of a writer: nothing lost, nothing applied twice"

# stop_stream and pg_terminate_backend stop it quickly while the source is silent
sleep 1
start=$(date +%s%N)
is "$(q "SELECT etl_pull.stop_stream('g'); SHOW search_path" | tr '\n' ' ')" 't "$user", public ' \
	"stop_stream stops a running stream (and leaves the caller's search_path alone)"
elapsed=$((($(date +%s%N) - start) / 1000000))
ok $([ "$elapsed" -lt 3000 ] && echo 0 || echo 1) "stop_stream returns within a second or so (${elapsed} ms)"
is "$(q "SELECT state, worker_pid IS NULL FROM etl_pull.streams" | tr '|' ' ')" "stopped t" "the view says stopped"
is "$(q "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'etl_pull stream'")" "0" "no worker is left"
pid=$(q "SELECT etl_pull.start_stream('g'); SHOW search_path" | tr '\n' ' ')
like "$pid" '^[0-9]+ "\$user", public $' "start_stream leaves the caller's search_path alone"
pid=${pid%% *}
tap_stream_caught_up g 30
start=$(date +%s%N)
q "SELECT pg_terminate_backend($pid)" >/dev/null
for ((i = 0; i < 100; i++)); do
	[ "$(q "SELECT count(*) FROM pg_stat_activity WHERE pid = $pid")" = 0 ] && break
	sleep 0.05
done
elapsed=$((($(date +%s%N) - start) / 1000000))
ok $([ "$elapsed" -lt 3000 ] && echo 0 || echo 1) "pg_terminate_backend stops the worker within a second or so (${elapsed} ms)"

# The source refusing the stream (its user locked, its dump killed): the view says so, with the
# error, and the worker retries with a back-off; unlocked, the stream goes on by itself
pid=$(q "SELECT etl_pull.start_stream('g')")
tap_stream_caught_up g 30
tap_own_mysql -e "ALTER USER 'etl'@'127.0.0.1' ACCOUNT LOCK"
for id in $(tap_own_mysql -N -e "SELECT id FROM information_schema.processlist WHERE user = 'etl'"); do
	tap_own_mysql -e "KILL $id" 2>/dev/null
done
for ((i = 0; i < 200; i++)); do
	[ "$(q "SELECT state FROM etl_pull.streams WHERE last_error LIKE '%locked%'")" = failed ] && break
	sleep 0.1
done
like "$(q "SELECT state || ' ' || last_error FROM etl_pull.streams")" "^failed .*locked" \
	"the source refusing: state failed, with MySQL's error"
is "$(q "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'etl_pull stream'")" "1" \
	"the worker stays, to try again"
is "$(q "SELECT count(*) > 0, count(*) = count(DISTINCT (table_name, error))
           FROM etl_pull.runs WHERE strategy = 'binlog stream' AND status = 'failed'
            AND extraction = 'binlog' AND error LIKE '%locked%'" | tr '|' ' ')" "t t" \
	"the failure is a failed run of each table in etl_pull.runs, once, not at every retry"
tap_own_mysql -e "ALTER USER 'etl'@'127.0.0.1' ACCOUNT UNLOCK"
tap_own_mysql etl_test -e "INSERT INTO s1 VALUES (30000, 'back', 'B', 1, NULL, NULL)"
tap_stream_caught_up g 90
ok $? "the source back: the stream resumes by itself"
is "$(q "SELECT state FROM etl_pull.streams")" "streaming" "and says so"
is "$(dst_rows)" "$(src_rows)" "and the targets equal the sources"
q "SELECT etl_pull.stop_stream('g')" >/dev/null

done_testing
