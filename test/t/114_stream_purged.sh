#!/bin/bash
# A stream whose recorded position the source has purged (issue 27, item 4): start_stream
# snapshots every table of the group again, says why in etl_pull.streams, records the new
# snapshots as runs, and streams on; the targets equal the sources, the changes made while it
# was stopped included.  Never a silent skip.
source "$(dirname "$0")/../tap.sh"

tap_own_mariadb --log-bin --binlog-format=ROW --binlog-row-metadata=FULL --server-id=114
tap_setup_db etl_tap_purged
tap_own_mysql_server rowlog
tap_own_mysql etl_test -e "
	CREATE TABLE p1 (id int NOT NULL PRIMARY KEY, v varchar(20)) ENGINE = MyISAM;
	INSERT INTO p1 SELECT seq, CONCAT('v', seq) FROM seq_1_to_100;"
q "SELECT etl_pull.add_table('p1', server => 'rowlog'),
          etl_pull.set_table_option('p1', 'extraction', 'binlog'),
          etl_pull.set_table_option('p1', 'load_group', 'gp')" >/dev/null
src_rows() {
	tap_own_mysql -N etl_test -e "SELECT MD5(GROUP_CONCAT(CONCAT_WS('|', id, v) ORDER BY id)), COUNT(*) FROM p1" |
		tr '\t' ' '
}
dst_rows() {
	q "SELECT md5(string_agg(concat_ws('|', id, v), ',' ORDER BY id)) || ' ' || count(*) FROM public.p1"
}

q "SELECT etl_pull.start_stream('gp')" >/dev/null
tap_stream_caught_up gp 60
ok $? "the stream catches up"
first_run=$(q "SELECT snapshot_run_id FROM etl_pull.stream_tables WHERE table_name = 'p1'")
is "$(q "SELECT etl_pull.stop_stream('gp')")" "t" "stopped"

# changes while stopped, then the log that holds them purged
tap_own_mysql etl_test -e "INSERT INTO p1 VALUES (101, 'while stopped'); DELETE FROM p1 WHERE id = 7;
	UPDATE p1 SET v = 'changed' WHERE id = 8; FLUSH BINARY LOGS"
current=$(tap_own_mysql -N -e "SHOW MASTER STATUS" | awk '{print $1}')
# the stopped stream's dump thread may linger a moment (MariaDB purges no file a dump reads)
for ((i = 0; i < 100; i++)); do
	[ "$(tap_own_mysql -N -e "SELECT COUNT(*) FROM information_schema.processlist
	                        WHERE command LIKE 'Binlog Dump%'")" = 0 ] && break
	sleep 0.1
done
recorded=$(q "SELECT binlog_file FROM etl_pull.stream_state WHERE load_group = 'gp'")
# (MariaDB keeps a file until a later binlog checkpoint says its transactions are durable)
for ((i = 0; i < 50; i++)); do
	tap_own_mysql -e "PURGE BINARY LOGS TO '$current'" 2>/dev/null
	[ "$(tap_own_mysql -N -e "SHOW BINARY LOGS" | awk -v f="$recorded" '$1 == f' | wc -l)" = 0 ] && break
	sleep 0.2
done
is "$(tap_own_mysql -N -e "SHOW BINARY LOGS" | awk -v f="$recorded" '$1 == f' | wc -l)" "0" \
	"the file of the recorded position ($recorded) is purged"

q "SELECT etl_pull.start_stream('gp')" >/dev/null
tap_stream_caught_up gp 60
ok $? "started again, the stream snapshots and catches up"
like "$(q "SELECT last_error FROM etl_pull.streams")" \
	"^the recorded position is gone at the source .*: every table of the group is snapshotted again" \
	"etl_pull.streams says the position was purged and the tables snapshotted again"
new_run=$(q "SELECT snapshot_run_id FROM etl_pull.stream_tables WHERE table_name = 'p1'")
is "$(q "SELECT $new_run > $first_run AND status = 'succeeded' AND notes LIKE '%snapshot of the binary log''s stream of load group \"gp\": the recorded position was purged at the source%'
           FROM etl_pull.runs WHERE run_id = $new_run")" "t" \
	"the new snapshot is a recorded run, which says why it was taken"
is "$(dst_rows)" "$(src_rows)" "the target equals the source, the changes made while stopped included"
tap_own_mysql etl_test -e "INSERT INTO p1 VALUES (102, 'after')"
tap_stream_caught_up gp 30
is "$(dst_rows)" "$(src_rows)" "and the stream goes on"
q "SELECT etl_pull.stop_stream('gp')" >/dev/null

done_testing
