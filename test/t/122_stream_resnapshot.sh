#!/bin/bash
# While one table of a stream is snapshotted again (a schema change at the source), the group's
# other tables keep streaming (issue 27, item 4): a snapshot worker copies the table beside the
# stream.  Its copy is held back deterministically by a session that holds a SHARE lock on the
# table's target (load_table's ExclusiveLock waits for it).  Shown: another table's changes are
# applied while the copy is held (a TRUNCATE too, which the rewind that takes the table back
# must not apply again); released, the table equals its source, with the changes made during
# its copy and after; the snapshot worker terminated: the stream notices, records a failed
# run and last_error, and copies again after its back-off; kill -9 of the snapshot worker (the
# postmaster's crash restart; etl_pull preloaded, the launcher brings the stream back): the
# table is copied again; on_schema_change = error: the copy fails (a failed run, last_error)
# while the other tables stream, retried with back-off, never in a tight loop; stop_stream also
# stops a running snapshot worker, and the next start copies the table again; a crash while the
# stream takes a copied table back (inside its rewind) moves nothing committed, and the rewind
# is done again after the restart.
source "$(dirname "$0")/../tap.sh"

tap_own_mariadb --log-bin --binlog-format=ROW --binlog-row-metadata=FULL --server-id=122
tap_own_cluster
echo "shared_preload_libraries = 'pg_cron,etl_pull'" >>"$ETL_PULL_PGDATA/postgresql.conf"
etl_as postgres "$ETL_PG_BIN/pg_ctl" -D "$ETL_PULL_PGDATA" -w -t 60 restart \
	-l "$ETL_PULL_PGLOG" >/dev/null
tap_setup_db etl_tap_resnapshot
tap_own_mysql_server rowlog
tap_own_mysql etl_test -e "
	CREATE TABLE r1 (id int NOT NULL PRIMARY KEY, v varchar(20)) ENGINE = MyISAM;
	CREATE TABLE r2 (id int NOT NULL PRIMARY KEY, v varchar(20)) ENGINE = MyISAM;
	CREATE TABLE r3 (id int NOT NULL PRIMARY KEY, v varchar(20)) ENGINE = InnoDB;
	INSERT INTO r1 SELECT seq, CONCAT('v', seq) FROM seq_1_to_200;
	INSERT INTO r2 SELECT seq, CONCAT('v', seq) FROM seq_1_to_200;
	INSERT INTO r3 SELECT seq, CONCAT('v', seq) FROM seq_1_to_200;"
for t in r1 r2 r3; do
	q "SELECT etl_pull.add_table('$t', server => 'rowlog'),
	          etl_pull.set_table_option('$t', 'extraction', 'binlog'),
	          etl_pull.set_table_option('$t', 'load_group', 'gr')" >/dev/null
done
q "SELECT etl_pull.set_table_option('r1', 'on_schema_change', 'evolve'),
          etl_pull.set_table_option('r2', 'on_schema_change', 'evolve')" >/dev/null

# each side's digest of table $1 over its columns $2, by that side's own SQL
src() {
	tap_own_mysql -N etl_test -e "SELECT COUNT(*), MD5(GROUP_CONCAT(CONCAT_WS('|', $2) ORDER BY id)) FROM $1" |
		tr '\t' ' '
}
dst() {
	q "SELECT count(*) || ' ' || md5(string_agg(concat_ws('|', $2), ',' ORDER BY id)) FROM public.$1"
}
# wait up to $1 seconds until $2 (a command) prints what $3 prints
wait_equal() {
	local i
	for ((i = 0; i < $1 * 10; i++)); do
		[ "$($2)" = "$($3)" ] && return 0
		sleep 0.1
	done
	return 1
}
r2_src() { src r2 "id, v"; }
r2_dst() { dst r2 "id, v"; }
# the snapshot worker waiting for a lock (the held copy): its process id, or nothing
held_copier() {
	q "SELECT pid FROM pg_stat_activity WHERE backend_type = 'etl_pull stream snapshot'
	     AND wait_event_type = 'Lock'"
}
# wait up to 30 s for a held copy by a worker other than $1
wait_held() {
	local i pid
	for ((i = 0; i < 300; i++)); do
		pid=$(held_copier 2>/dev/null)
		[[ $pid =~ ^[0-9]+$ ]] && [ "$pid" != "${1:-}" ] && echo "$pid" && return 0
		sleep 0.1
	done
	return 1
}
# hold the writers of target $1: a session (application_name $2, by default etl_gate, which
# tap_gate_open ends) with a SHARE lock on it
gate_close() {
	local app=${2:-etl_gate}
	PGAPPNAME=$app etl_psql -d "$TAP_DB" -Atq \
		-c "BEGIN; LOCK TABLE public.$1 IN SHARE MODE; SELECT pg_sleep(600)" >/dev/null 2>&1 &
	[ "$app" = etl_gate ] && TAP_GATE=$!
	until [ "$(q "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a USING (pid)
	                WHERE a.application_name = '$app' AND l.relation = 'public.$1'::regclass
	                  AND l.granted")" = 1 ]; do
		sleep 0.05
	done
}
gate2_open() {
	etl_psql -Atqc "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'etl_gate2'" \
		>/dev/null 2>&1
}
tap_on_exit tap_gate_open
tap_on_exit gate2_open
# wait up to 30 s until the stream worker waits for a lock; its process id
stream_blocked() {
	local i pid
	for ((i = 0; i < 300; i++)); do
		pid=$(q "SELECT pid FROM pg_stat_activity WHERE backend_type = 'etl_pull stream'
		           AND wait_event_type = 'Lock'")
		[[ $pid =~ ^[0-9]+$ ]] && echo "$pid" && return 0
		sleep 0.1
	done
	return 1
}
# wait up to 30 s until the stream's last_error is LIKE $1
wait_error() {
	local i
	for ((i = 0; i < 300; i++)); do
		[ -n "$(q "SELECT 1 FROM etl_pull.streams WHERE last_error LIKE '$1'")" ] && return 0
		sleep 0.1
	done
	return 1
}
last_run() {
	q "SELECT max(run_id) FROM etl_pull.runs WHERE table_name = '$1' AND status = 'succeeded'"
}

like "$(q "SELECT etl_pull.start_stream('gr')")" '^[0-9]+$' "the stream starts"
tap_stream_caught_up gr 60
ok $? "and catches up"
run0=$(last_run r1)

# 1. r1's copy held: r2 streams meanwhile
gate_close r1
tap_own_mysql etl_test -e "ALTER TABLE r1 ADD COLUMN c1 varchar(5) NOT NULL DEFAULT 'd';
	INSERT INTO r1 VALUES (201, 'after alter', 'x')"
copier=$(wait_held)
ok $? "a snapshot worker copies r1, held back by the lock on its target"
tap_own_mysql etl_test -e "INSERT INTO r2 VALUES (201, 'during copy'); UPDATE r2 SET v = 'upd' WHERE id = 7;
	DELETE FROM r2 WHERE id = 8;
	INSERT INTO r1 VALUES (202, 'during copy', 'y'); UPDATE r1 SET v = 'upd', c1 = 'z' WHERE id = 9;
	DELETE FROM r1 WHERE id = 10"
wait_equal 30 r2_dst r2_src
ok $? "while r1's copy is held, r2's changes are applied"
is "$(q "SELECT state || ' ' || resnapshotting::text FROM etl_pull.streams")" "streaming {r1}" \
	"the view: streaming, r1 being snapshotted again"
is "$(held_copier)" "$copier" "r1's copy is still held"

# 2. the snapshot worker ends without committing: noticed, recorded, tried again
q "SELECT pg_terminate_backend($copier)" >/dev/null
wait_error '%r1%exited before committing%'
like "$(q "SELECT state || ': ' || last_error FROM etl_pull.streams")" \
	'^streaming: snapshot of table "r1" failed: its worker exited before committing' \
	"the snapshot worker terminated: the stream notices and says so, still streaming"
is "$(q "SELECT count(*) FROM etl_pull.runs WHERE table_name = 'r1' AND status = 'failed'
           AND error LIKE '%exited before committing%'")" "1" "and records a failed run of r1"
copier2=$(wait_held "$copier")
ok $? "r1 is copied again, after the back-off"
tap_own_mysql etl_test -e "INSERT INTO r2 VALUES (202, 'during copy 2'); UPDATE r1 SET v = 'upd2' WHERE id = 11"
wait_equal 30 r2_dst r2_src
ok $? "r2 still streams"
# a TRUNCATE of r2 and new rows: when r1 rejoins, the stream reads the log again from before
# them, and must skip every r2 event it applied already (the TRUNCATE too, or r2 loses its rows)
tap_own_mysql etl_test -e "TRUNCATE TABLE r2; INSERT INTO r2 SELECT seq, CONCAT('t', seq) FROM seq_1_to_150"
wait_equal 30 r2_dst r2_src
ok $? "r2's TRUNCATE and new rows are applied too"
tap_gate_open
tap_stream_caught_up gr 60
ok $? "the copy released, the stream catches up"
is "$(dst r1 "id, v, c1")" "$(src r1 "id, v, c1")" "r1 equals its source: its new column, the changes made during its copy"
is "$(dst r2 "id, v")" "$(src r2 "id, v")" "r2 equals its source"
run1=$(last_run r1)
is "$(q "SELECT $run1 > $run0 AND notes LIKE '%schema change at the source%' FROM etl_pull.runs WHERE run_id = $run1")" \
	"t" "r1's new copy is a recorded run that says why"
tap_own_mysql etl_test -e "INSERT INTO r1 VALUES (203, 'after copy', 'w'); UPDATE r1 SET c1 = 'q' WHERE id = 12;
	DELETE FROM r2 WHERE id = 13"
tap_stream_caught_up gr 30
is "$(dst r1 "id, v, c1")" "$(src r1 "id, v, c1")" "r1 streams on after its copy"
is "$(dst r2 "id, v")" "$(src r2 "id, v")" "and so does r2"

# 3. kill -9 of the snapshot worker during a held copy: PostgreSQL's crash restart, the launcher
# starts the stream again, which copies r1 again
gate_close r1
tap_own_mysql etl_test -e "ALTER TABLE r1 ADD COLUMN c2 int NOT NULL DEFAULT 5;
	INSERT INTO r1 VALUES (204, 'after alter 2', 'a', 6)"
copier=$(wait_held)
ok $? "r1 copied again after a second schema change, held back"
tap_own_mysql etl_test -e "UPDATE r1 SET c2 = 7 WHERE id < 20; INSERT INTO r2 VALUES (203, 'x')"
kill -9 "$copier"
tap_gate_open
for ((i = 0; i < 300; i++)); do
	[ "$(q "SELECT 1" 2>/dev/null)" = 1 ] && break
	sleep 0.1
done
tap_own_mysql etl_test -e "UPDATE r1 SET v = 'after kill' WHERE id = 30; INSERT INTO r2 VALUES (204, 'y')"
tap_stream_caught_up gr 90
ok $? "after the crash restart the stream comes back and catches up"
is "$(dst r1 "id, v, c1, c2")" "$(src r1 "id, v, c1, c2")" "r1 was copied again and equals its source"
is "$(dst r2 "id, v")" "$(src r2 "id, v")" "r2 equals its source"
run2=$(last_run r1)
[ "$run2" -gt "$run1" ]
ok $? "a new copy of r1 was taken"

# 4. on_schema_change = error: r3's copy fails, retried with back-off; r2 streams meanwhile
tap_own_mysql etl_test -e "ALTER TABLE r3 ADD COLUMN z int; INSERT INTO r3 VALUES (201, 'z', 1)"
wait_error '%r3%'
like "$(q "SELECT state || ': ' || last_error FROM etl_pull.streams")" \
	'^streaming: snapshot of table "r3" failed: .*needs altering' \
	"on_schema_change = error: r3's copy fails, the stream says so and streams on"
like "$(q "SELECT error FROM etl_pull.runs WHERE table_name = 'r3' AND status = 'failed' ORDER BY run_id DESC LIMIT 1")" \
	'needs altering' "the failed copy is a failed run of r3"
tap_own_mysql etl_test -e "INSERT INTO r2 VALUES (205, 'r3 failing'); DELETE FROM r2 WHERE id = 14;
	UPDATE r1 SET v = 'r3 failing' WHERE id = 31"
wait_equal 30 r2_dst r2_src
ok $? "while r3's copy fails, r2's changes are applied"
wait_equal 30 "dst r1 id,v,c1,c2" "src r1 id,v,c1,c2"
ok $? "and r1's"
failed0=$(q "SELECT count(*) FROM etl_pull.runs WHERE table_name = 'r3' AND status = 'failed'")
sleep 8
failed1=$(q "SELECT count(*) FROM etl_pull.runs WHERE table_name = 'r3' AND status = 'failed'")
[ $((failed1 - failed0)) -le 5 ] && [ $((failed1 - failed0)) -ge 1 ]
ok $? "r3's copy is tried again with back-off, not in a tight loop ($((failed1 - failed0)) tries in 8 s)"
q "SELECT etl_pull.set_table_option('r3', 'on_schema_change', 'evolve')" >/dev/null
tap_stream_caught_up gr 90
ok $? "on_schema_change = evolve: the next try copies r3, and the stream catches up"
is "$(dst r3 "id, v, z")" "$(src r3 "id, v, z")" "r3 equals its source"
is "$(q "SELECT last_error IS NOT NULL FROM etl_pull.streams")" "t" "the view keeps the last error"

# 5. stop_stream during a held copy stops the snapshot worker; the next start copies again
gate_close r2
tap_own_mysql etl_test -e "ALTER TABLE r2 ADD COLUMN c3 char(1) NOT NULL DEFAULT 'k';
	INSERT INTO r2 VALUES (206, 'after alter', 'm')"
copier=$(wait_held)
ok $? "r2 copied again, held back"
is "$(q "SELECT etl_pull.stop_stream('gr')")" "t" "stop_stream"
for ((i = 0; i < 50; i++)); do
	[ "$(q "SELECT count(*) FROM pg_stat_activity WHERE backend_type IN ('etl_pull stream', 'etl_pull stream snapshot')")" = 0 ] && break
	sleep 0.1
done
is "$(q "SELECT count(*) FROM pg_stat_activity WHERE backend_type IN ('etl_pull stream', 'etl_pull stream snapshot')")" "0" \
	"stop_stream stopped the snapshot worker too"
tap_gate_open
tap_own_mysql etl_test -e "UPDATE r2 SET c3 = 'n' WHERE id < 50; INSERT INTO r1 VALUES (205, 'stopped', 'b', 8)"
like "$(q "SELECT etl_pull.start_stream('gr')")" '^[0-9]+$' "the stream starts again"
tap_stream_caught_up gr 60
ok $? "copies r2 again and catches up"
is "$(dst r2 "id, v, c3")" "$(src r2 "id, v, c3")" "r2 equals its source"
is "$(dst r1 "id, v, c1, c2")" "$(src r1 "id, v, c1, c2")" "r1 equals its source"

# 6. a crash in the middle of taking a table back.  r1's copy held; the stream blocked on a change
# of r2 (a second session's lock on r2's target), so its committed position stays before that
# change; the copy released and committed; the stream restarted: it rewinds to r1's copy and
# blocks again on r2's change, now inside its hold, then is killed -9.  Its committed position
# has not moved, r1 is still being taken back, and after the crash restart it is done again.
gate_close r1
tap_own_mysql etl_test -e "ALTER TABLE r1 ADD COLUMN c4 int NOT NULL DEFAULT 1;
	INSERT INTO r1 (id, v, c1, c2, c4) VALUES (206, 'after alter 3', 'c', 9, 2)"
copier=$(wait_held)
ok $? "r1 copied again after a third schema change, held back"
tap_own_mysql etl_test -e "UPDATE r1 SET c4 = 3 WHERE id < 40; INSERT INTO r2 (id, v) VALUES (207, 'before block')"
wait_equal 30 "dst r2 id,v,c3" "src r2 id,v,c3"
ok $? "r2 streams"
gate_close r2 etl_gate2
tap_own_mysql etl_test -e "INSERT INTO r2 (id, v) VALUES (208, 'blocked'); UPDATE r1 SET v = 'late' WHERE id = 41"
blocked=$(stream_blocked)
ok $? "the stream waits for r2's lock"
pos=$(q "SELECT binlog_file || ' ' || binlog_offset FROM etl_pull.streams")
tap_gate_open
for ((i = 0; i < 300; i++)); do
	[ "$(q "SELECT count(*) FROM etl_pull.stream_tables WHERE table_name = 'r1'")" = 1 ] && break
	sleep 0.1
done
is "$(q "SELECT count(*) FROM etl_pull.stream_tables WHERE table_name = 'r1'")" "1" "r1's copy committed"
q "SELECT pg_terminate_backend($blocked)" >/dev/null
for ((i = 0; i < 100; i++)); do
	[ "$(q "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'etl_pull stream'")" = 0 ] && break
	sleep 0.1
done
like "$(q "SELECT etl_pull.start_stream('gr')")" '^[0-9]+$' "the stream started again"
blocked=$(stream_blocked)
ok $? "it rewinds to take r1 back and waits for r2's lock inside its hold"
is "$(q "SELECT binlog_file || ' ' || binlog_offset || ' ' || resnapshotting::text FROM etl_pull.streams")" \
	"$pos {r1}" "meanwhile its committed position has not moved, and r1 is still being taken back"
kill -9 "$blocked"
for ((i = 0; i < 300; i++)); do
	[ "$(q "SELECT 1" 2>/dev/null)" = 1 ] && break
	sleep 0.1
done
tap_stream_caught_up gr 90
ok $? "after the crash restart the stream takes r1 back and catches up"
is "$(dst r1 "id, v, c1, c2, c4")" "$(src r1 "id, v, c1, c2, c4")" "r1 equals its source"
is "$(dst r2 "id, v, c3")" "$(src r2 "id, v, c3")" "r2 equals its source"
is "$(q "SELECT etl_pull.stop_stream('gr')")" "t" "stop_stream"

done_testing
