# on_error = reject catches conversion errors in subtransactions: a cancel
# that arrives while a domain's CHECK runs is still a cancel, not a
# rejected row.
source "$(dirname "$0")/../tap.sh"
tap_setup_db etl_tap_reject_cancel
OUT=$TESTDIR/090_reject_cancel
mkdir -p "$OUT"

etl_mysql -e "
	DROP TABLE IF EXISTS slow_check;
	CREATE TABLE slow_check (id int NOT NULL PRIMARY KEY, n int NOT NULL);
	INSERT INTO slow_check VALUES (1, 1), (2, 2), (3, -3);"
q "CREATE FUNCTION slow_positive(v integer) RETURNS boolean LANGUAGE plpgsql AS \$\$
   BEGIN
       IF v = 2 THEN PERFORM pg_sleep(60); END IF;
       RETURN v > 0;
   END \$\$;
   CREATE DOMAIN slow_int AS integer CHECK (slow_positive(VALUE));
   CREATE TABLE slow_check (id integer PRIMARY KEY, n slow_int);
   SELECT etl_pull.add_table('slow_check', server => 'replica');
   SELECT etl_pull.set_table_option('slow_check', 'on_error', 'reject');
   SELECT etl_pull.set_table_option('slow_check', 'strategy', 'stream');" >/dev/null

# without a cancel: row 3 is rejected (row 2's check sleeps: shorten it)
q "CREATE OR REPLACE FUNCTION slow_positive(v integer) RETURNS boolean LANGUAGE plpgsql AS \$\$
   BEGIN RETURN v > 0; END \$\$" >/dev/null
is "$(q "SELECT rows || ' ' || rejected_rows FROM etl_pull.load_table('slow_check')")" "3 1" \
	"the row the domain refuses is rejected"
q "CREATE OR REPLACE FUNCTION slow_positive(v integer) RETURNS boolean LANGUAGE plpgsql AS \$\$
   BEGIN
       IF v = 2 THEN PERFORM pg_sleep(60); END IF;
       RETURN v > 0;
   END \$\$" >/dev/null
rejects_before=$(q "SELECT count(*) FROM etl_pull.rejects WHERE table_name = 'slow_check'")

q "SELECT rows || ' ' || rejected_rows FROM etl_pull.load_table('slow_check')" >"$OUT/load" 2>&1 &
load_pid=$!
for _ in $(seq 100); do
	pid=$(q "SELECT pid FROM pg_stat_activity WHERE datname = current_database()
	          AND wait_event = 'PgSleep' AND query LIKE '%load_table%'")
	[ -n "$pid" ] && break
	sleep 0.1
done
like "$pid" '^[0-9]+$' "the load is inside the domain's CHECK"
t0=$(date +%s)
q "SELECT pg_cancel_backend($pid)" >/dev/null
wait "$load_pid"
elapsed=$(($(date +%s) - t0))
like "$(cat "$OUT/load")" 'canceling statement due to user request' "the load is cancelled"
ok "$([ "$elapsed" -lt 10 ] && echo 0 || echo 1)" "within seconds (${elapsed} s)"
is "$(q "SELECT count(*) FROM etl_pull.rejects WHERE table_name = 'slow_check'")" "$rejects_before" \
	"the cancel was not taken for a rejected row"
is "$(q "SELECT status FROM etl_pull.runs WHERE table_name = 'slow_check' ORDER BY run_id DESC LIMIT 1")" \
	"failed" "the cancelled run is recorded as failed"
is "$(q "SELECT count(*) FROM slow_check")" "2" "the target keeps the rows of the last good load"

done_testing
