# Live progress seen from a second session; cancelling a load and killing
# its MySQL connection mid-stream both leave the old rows and nothing else;
# a cancelled load's statement does not go on running at MySQL.
source "$(dirname "$0")/../tap.sh"
tap_setup_db etl_tap_progress

# 20,000 rows that MySQL streams over about two seconds
etl_mysql -e "
	DROP TABLE IF EXISTS slow_src;
	CREATE TABLE slow_src (id int NOT NULL PRIMARY KEY, v varchar(20) NOT NULL);
	INSERT INTO slow_src SELECT seq, CONCAT('v', seq) FROM seq_1_to_20000;
	CREATE OR REPLACE VIEW slow_view AS
	SELECT id, v, IF(id % 1000 = 0, SLEEP(0.1), 0) AS pause FROM slow_src;"
q "SELECT etl_pull.add_table('slow', server => 'replica', source_table => 'slow_view',
                             target_table => 'slow_target')" >/dev/null
is "$(q "SELECT rows FROM etl_pull.load_table('slow')")" "20000" "first load"
q "UPDATE slow_target SET v = 'old'" >/dev/null

# start a load in the background; prints its psql output to $1
start_load() {
	q "SELECT rows FROM etl_pull.load_table('slow')" >"$1" &
	LOAD_PID=$!
	for _ in $(seq 50); do
		[ -n "$(q "SELECT pid FROM etl_pull.progress WHERE target_table = 'slow_target'::regclass")" ] && return 0
		sleep 0.05
	done
	return 1
}

# progress from a second session: rows_done grows
out=$(mktemp)
start_load "$out"
samples=()
for _ in 1 2 3 4; do
	sleep 0.35
	samples+=("$(q "SELECT phase || ' ' || rows_done || ' ' || coalesce(percent::text, 'n/a') FROM etl_pull.progress
	                WHERE target_table = 'slow_target'::regclass")")
done
wait "$LOAD_PID"
echo "# progress samples: ${samples[*]}"
first=$(echo "${samples[0]}" | awk '{print $2}')
last=$(echo "${samples[2]}" | awk '{print $2}')
like "${samples[0]}" '^streaming [0-9]+ n/a$' \
	"progress shows the phase and rows done (a view has no row estimate)"
ok "$([ "${first:-0}" -gt 0 ] && [ "${last:-0}" -gt "${first:-0}" ] && echo 0 || echo 1)" \
	"rows done increase during the load ($first, then $last)"
is "$(cat "$out")" "20000" "the load finished"
is "$(q "SELECT count(*) FROM etl_pull.progress")" "0" "nothing in progress afterwards"

# progress messages every etl_pull.progress_rows rows, to the client when asked
msgs=$(etl_psql -d "$TAP_DB" -Atq -c "SET etl_pull.progress_messages = notice" \
	-c "SET etl_pull.progress_rows = 5000" -c "SELECT rows FROM etl_pull.load_table('slow')" 2>&1)
like "$msgs" 'NOTICE:  etl_pull: slow: 5000 rows in [0-9.]+ s \([0-9]+ rows/s\), backend peak memory [0-9]+ kB' \
	"a progress message after 5000 rows, with the rate and the memory"
is "$(echo "$msgs" | grep -c 'NOTICE:  etl_pull: slow:')" "4" "one every 5000 rows"

# cancel mid-stream: the old rows stay, nothing is left behind
q "UPDATE slow_target SET v = 'old'" >/dev/null
start_load "$out"
sleep 0.5
t0=$(date +%s.%N)
q "SELECT pg_cancel_backend(pid) FROM etl_pull.progress" >/dev/null
wait "$LOAD_PID"
t1=$(date +%s.%N)
like "$(cat "$out")" "canceling statement due to user request" "the load was cancelled"
ok "$(awk -v a="$t0" -v b="$t1" 'BEGIN { exit !(b - a < 1.5) }' && echo 0 || echo 1)" \
	"it stopped within a second of the cancel"
is "$(q "SELECT count(*) || ' ' || min(v) FROM slow_target")" "20000 old" "the old rows are intact"
is "$(q "SELECT count(*) FROM pg_class WHERE relname LIKE 'pg_temp_%'")" "0" "no transient heap left"
is "$(q "SELECT status || ': ' || error FROM etl_pull.runs ORDER BY run_id DESC LIMIT 1")" \
	"failed: canceling statement due to user request" "the cancelled run is recorded"

# the MySQL connection is killed mid-stream
start_load "$out"
sleep 0.5
etl_mysql -N -e "SELECT ID FROM information_schema.PROCESSLIST WHERE INFO LIKE '%slow_view%'
                 AND INFO NOT LIKE '%PROCESSLIST%'" | while read -r id; do
	etl_mysql -e "KILL $id"
done
wait "$LOAD_PID"
like "$(cat "$out")" 'could not fetch rows from MySQL server "replica"' \
	"a killed connection fails the load"
like "$(q "SELECT error FROM etl_pull.runs ORDER BY run_id DESC LIMIT 1")" 'MySQL error [0-9]+' \
	"the run records MySQL's error"
is "$(q "SELECT count(*) || ' ' || min(v) FROM slow_target")" "20000 old" \
	"the old rows are intact after the kill"
is "$(etl_psql -Atc "SELECT count(*) FROM pg_stat_activity WHERE backend_type LIKE 'etl_pull%'")" "0" \
	"no etl_pull worker is left"

# A cancelled load stops its statement at MySQL too.  A statement that has nothing to send yet
# (an aggregate, a sort; here a view whose one row takes 30 s to compute) would otherwise run on
# after PostgreSQL has closed the connection, until it next writes.  (A wait for a table lock
# is no test of this: MySQL checks its client's socket while it waits for a lock.)
etl_mysql -e "DROP TABLE IF EXISTS sleepy_src; CREATE TABLE sleepy_src (id int PRIMARY KEY);
	INSERT INTO sleepy_src VALUES (1);
	CREATE OR REPLACE VIEW sleepy_view AS SELECT id, SLEEP(30) AS pause FROM sleepy_src"
q "SELECT etl_pull.add_table('sleepy', server => 'replica', source_table => 'sleepy_view')" >/dev/null
running() {
	etl_mysql -N -e "SELECT COUNT(*) FROM information_schema.PROCESSLIST
	                 WHERE USER = '$ETL_PULL_MYSQL_USER' AND INFO LIKE '%sleepy_view%'"
}
t0=$(date +%s.%N)
out2=$(etl_psql -d "$TAP_DB" -Atq -c "SET statement_timeout = 1500" \
	-c "SELECT rows FROM etl_pull.load_table('sleepy')" 2>&1)
t1=$(date +%s.%N)
like "$out2" "canceling statement due to statement timeout" \
	"a load whose MySQL statement computes for 30 s before its first row times out"
ok "$(awk -v a="$t0" -v b="$t1" 'BEGIN { exit !(b - a < 5) }' && echo 0 || echo 1)" \
	"... without waiting for MySQL"
left=$(running)
for _ in $(seq 30); do
	[ "$left" = 0 ] && break
	sleep 0.1
	left=$(running)
done
is "$left" "0" "... and its statement no longer runs at MySQL (KILL QUERY when the connection is cut)"
rm -f "$out"
done_testing
