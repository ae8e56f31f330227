# Locks: two names whose 32-bit hashes collide do not share a loading lock;
# the swap's AccessExclusiveLock waits at most etl_pull.swap_lock_timeout,
# and a deadlock around it is reported, not waited out.
source "$(dirname "$0")/../tap.sh"
tap_setup_db etl_tap_locks
OUT=$TESTDIR/085_locks
mkdir -p "$OUT"

etl_mysql -e "
	DROP TABLE IF EXISTS lock_src;
	CREATE TABLE lock_src (id int NOT NULL PRIMARY KEY, val int NOT NULL);
	INSERT INTO lock_src SELECT seq, seq * 2 FROM seq_1_to_1000;"

# the holder sessions: a psql in the background, waited for at the end
HOLDERS=()
cleanup() {
	local pid
	for pid in "${HOLDERS[@]}"; do
		kill "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
}
tap_on_exit cleanup

# wait_for FILE: until FILE has a line (at most 10 s)
wait_for() {
	local _
	for _ in $(seq 100); do
		[ -s "$1" ] && return 0
		sleep 0.1
	done
	return 1
}

# ---- two names with the same hash_bytes value (PostgreSQL's hashtext of a
# text is hash_bytes of its bytes, which 1.0 keyed the lock with)
read -r name_a name_b < <(q "
	WITH n AS (SELECT 'etl_collide_' || i AS name FROM generate_series(1, 200000) i)
	SELECT min(name), max(name) FROM n GROUP BY hashtext(name) HAVING count(*) > 1
	ORDER BY 1 LIMIT 1" | tr '|' ' ')
like "$name_a $name_b" '^etl_collide_[0-9]+ etl_collide_[0-9]+$' "found two names with colliding 32-bit hashes"
is "$(q "SELECT hashtext('$name_a') = hashtext('$name_b') AND '$name_a' <> '$name_b'")" "t" \
	"$name_a and $name_b hash alike"
for n in "$name_a" "$name_b"; do
	q "SELECT etl_pull.add_table('$n', server => 'replica', source_table => 'lock_src');
	   SELECT etl_pull.set_table_option('$n', 'on_busy', 'skip')" >/dev/null
done
is "$(q "SELECT count(DISTINCT table_id) FROM etl_pull.tables WHERE name IN ('$name_a', '$name_b')")" "2" \
	"each registered table has its own table_id"

# a session loads the first and keeps its transaction (and its loading lock) open
PGOPTIONS="-c client_min_messages=warning" etl_psql -d "$TAP_DB" -Atq -v name="$name_a" >"$OUT/holder_a" 2>&1 <<-'SQL' &
	BEGIN;
	SELECT status FROM etl_pull.load_table(:'name');
	SELECT pg_sleep(8);
	COMMIT;
	SQL
HOLDERS+=($!)
wait_for "$OUT/holder_a"
is "$(head -n 1 "$OUT/holder_a")" "succeeded" "a session holds the loading lock of $name_a"
is "$(q "SET lock_timeout = '5s'; SELECT status FROM etl_pull.load_table('$name_b')")" "succeeded" \
	"$name_b loads meanwhile: its lock is not $name_a's (1.0 skipped it)"
is "$(q "SELECT status FROM etl_pull.load_table('$name_a')")" "skipped" \
	"$name_a itself is busy: on_busy = skip skips it"

# ---- the swap's lock waits at most etl_pull.swap_lock_timeout (a table of
# 1000 rows would be loaded in place, without a swap: not here)
q "SELECT etl_pull.add_table('swapped', server => 'replica', source_table => 'lock_src');
   SELECT etl_pull.set_table_option('swapped', 'strategy', 'stream')" >/dev/null
is "$(q "SELECT rows FROM etl_pull.load_table('swapped')")" "1000" "a stream load of 1000 rows"
etl_mysql -e "UPDATE lock_src SET val = val + 1;"
before=$(q "SELECT count(*) || ' ' || sum(val) FROM swapped")

# a reader keeps its transaction open: its AccessShareLock blocks the swap
PGOPTIONS="-c client_min_messages=warning" etl_psql -d "$TAP_DB" -Atq >"$OUT/reader" 2>&1 <<-'SQL' &
	BEGIN;
	SELECT count(*) FROM swapped;
	SELECT pg_sleep(8);
	COMMIT;
	SQL
HOLDERS+=($!)
wait_for "$OUT/reader"
t0=$(date +%s)
got=$(q "SET etl_pull.swap_lock_timeout = '1s'; SET etl_pull.in_place_threshold_rows = 0; SELECT rows FROM etl_pull.load_table('swapped')")
elapsed=$(($(date +%s) - t0))
like "$got" 'could not lock table public.swapped to swap in the loaded rows' \
	"the swap gives up with an error naming the table"
like "$got" 'longer than etl_pull.swap_lock_timeout \(1000 ms\)' "the error says which setting bounded the wait"
ok "$([ "$elapsed" -lt 6 ] && echo 0 || echo 1)" "it gave up after about the timeout, not after the reader (${elapsed} s)"
is "$(q "SELECT count(*) || ' ' || sum(val) FROM swapped")" "$before" "the target keeps its old rows"
is "$(q "SELECT status || ': ' || left(error, 46) FROM etl_pull.runs WHERE table_name = 'swapped'
          ORDER BY run_id DESC LIMIT 1")" \
	"failed: could not lock table public.swapped to swap in" "the failed run is recorded with its error"

# ---- a deadlock at the swap: a session that read the target (so holds
# AccessShareLock) then writes it (waits for the load's ExclusiveLock) while
# the load waits for AccessExclusiveLock.  PostgreSQL's detector breaks it.
for pid in "${HOLDERS[@]}"; do wait "$pid" 2>/dev/null; done
HOLDERS=()
PGOPTIONS="-c client_min_messages=warning" etl_psql -d "$TAP_DB" -Atq >"$OUT/writer" 2>&1 <<-'SQL' &
	BEGIN;
	SELECT count(*) FROM swapped;
	DO $$
	BEGIN
	    -- until the load waits for the swap's lock (at most 20 s)
	    FOR i IN 1 .. 200 LOOP
	        EXIT WHEN EXISTS (SELECT 1 FROM pg_locks
	                          WHERE relation = 'swapped'::regclass AND NOT granted
	                            AND mode = 'AccessExclusiveLock');
	        PERFORM pg_sleep(0.1);
	    END LOOP;
	END
	$$;
	INSERT INTO swapped VALUES (100000, 0);
	COMMIT;
	SQL
HOLDERS+=($!)
wait_for "$OUT/writer"
t0=$(date +%s)
got=$(q "SET etl_pull.swap_lock_timeout = '60s'; SET deadlock_timeout = '200ms'; SET etl_pull.in_place_threshold_rows = 0;
         SELECT rows FROM etl_pull.load_table('swapped')")
elapsed=$(($(date +%s) - t0))
wait "${HOLDERS[0]}" 2>/dev/null
HOLDERS=()
writer=$(cat "$OUT/writer")
like "$got$writer" 'deadlock detected' "the deadlock is detected and reported"
echo "# victim: $([[ $got == *deadlock* ]] && echo "the load" || echo "the writer")"
ok "$([ "$elapsed" -lt 30 ] && echo 0 || echo 1)" "the load did not wait out its 60 s timeout (${elapsed} s)"
if [[ $got == *deadlock* ]]; then
	expected=$before # the load was the victim: the old rows
else
	expected=$(etl_mysql -N -e "SELECT COUNT(*), SUM(val) FROM lock_src" | tr '\t' ' ')
fi
is "$(q "SELECT count(*) || ' ' || sum(val) FROM swapped WHERE id <= 1000")" "$expected" \
	"the target holds the old rows or the new ones, whole, whichever session was the victim"

done_testing
