#!/bin/bash
# A schema change at the source of a streamed table (issue 27, item 4): the stream sees a table
# map that no longer matches the table it knows, snapshots that table again through load_table
# (so on_schema_change decides, as for any load: evolve adds the column to the target, error
# fails the snapshot, which the view and etl_pull.runs show), skips the table's events that the
# new copy holds, and goes on; another table of the group keeps its changes.
source "$(dirname "$0")/../tap.sh"

tap_own_mariadb --log-bin --binlog-format=ROW --binlog-row-metadata=FULL --server-id=115
tap_setup_db etl_tap_schema
tap_own_mysql_server rowlog
tap_own_mysql etl_test -e "
	CREATE TABLE a1 (id int NOT NULL PRIMARY KEY, v varchar(20)) ENGINE = MyISAM;
	CREATE TABLE a2 (id int NOT NULL PRIMARY KEY, v varchar(20)) ENGINE = MyISAM;
	INSERT INTO a1 SELECT seq, CONCAT('v', seq) FROM seq_1_to_50;
	INSERT INTO a2 SELECT seq, CONCAT('v', seq) FROM seq_1_to_50;"
for t in a1 a2; do
	q "SELECT etl_pull.add_table('$t', server => 'rowlog'),
	          etl_pull.set_table_option('$t', 'extraction', 'binlog'),
	          etl_pull.set_table_option('$t', 'load_group', 'gs')" >/dev/null
done
q "SELECT etl_pull.set_table_option('a1', 'on_schema_change', 'evolve')" >/dev/null
src_rows() {
	tap_own_mysql -N etl_test -e "SELECT MD5(GROUP_CONCAT(CONCAT_WS('|', id, v, w) ORDER BY id)), COUNT(*) FROM a1;
		SELECT MD5(GROUP_CONCAT(CONCAT_WS('|', id, v) ORDER BY id)), COUNT(*) FROM a2" | tr '\t\n' '  '
}
dst_rows() {
	q "SELECT md5(string_agg(concat_ws('|', id, v, w), ',' ORDER BY id)) || ' ' || count(*) FROM public.a1;
	   SELECT md5(string_agg(concat_ws('|', id, v), ',' ORDER BY id)) || ' ' || count(*) FROM public.a2" |
		tr '\n' ' '
}

q "SELECT etl_pull.start_stream('gs')" >/dev/null
tap_stream_caught_up gs 60
ok $? "the stream catches up"
first_run=$(q "SELECT snapshot_run_id FROM etl_pull.stream_tables WHERE table_name = 'a1'")

# a column added at the source (on_schema_change = evolve), with changes around it
tap_own_mysql etl_test -e "INSERT INTO a1 VALUES (51, 'before');
	ALTER TABLE a1 ADD COLUMN w varchar(5) DEFAULT 'd';
	INSERT INTO a1 VALUES (52, 'after', 'x'); UPDATE a1 SET v = 'upd' WHERE id = 3;
	INSERT INTO a2 VALUES (51, 'a2 goes on'); DELETE FROM a1 WHERE id = 4"
tap_stream_caught_up gs 60
ok $? "the stream goes on after the schema change"
is "$(q "SELECT column_name FROM information_schema.columns
           WHERE table_name = 'a1' AND column_name = 'w'")" "w" "evolve added the column to the target"
is "$(dst_rows)" "$(src_rows)" "both targets equal their sources"
new_run=$(q "SELECT snapshot_run_id FROM etl_pull.stream_tables WHERE table_name = 'a1'")
is "$(q "SELECT $new_run > $first_run AND status = 'succeeded' AND notes LIKE '%its table map no longer matched the table (a schema change at the source)%'
           FROM etl_pull.runs WHERE run_id = $new_run")" "t" \
	"the table was snapshotted again, a recorded run that says why"
tap_own_mysql etl_test -e "INSERT INTO a1 VALUES (53, 'later', 'y')"
tap_stream_caught_up gs 30
is "$(dst_rows)" "$(src_rows)" "and streams on with its new column"

# on_schema_change = error: the snapshot fails, which the view and the runs show; the stream
# itself goes on (its other tables keep streaming: test/t/122_stream_resnapshot.sh)
tap_own_mysql etl_test -e "ALTER TABLE a2 ADD COLUMN z int; INSERT INTO a2 VALUES (52, 'z', 1)"
for ((i = 0; i < 200; i++)); do
	[ -n "$(q "SELECT last_error FROM etl_pull.streams WHERE last_error LIKE '%a2%'")" ] && break
	sleep 0.1
done
like "$(q "SELECT state || ': ' || last_error FROM etl_pull.streams")" "^streaming: .*a2" \
	"on_schema_change = error: the snapshot fails and the stream says why"
is "$(q "SELECT count(*) > 0 FROM etl_pull.runs WHERE table_name = 'a2' AND status = 'failed'")" "t" \
	"the failed snapshot is a failed run"
q "SELECT etl_pull.stop_stream('gs')" >/dev/null

done_testing
