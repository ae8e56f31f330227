# Scheduled loads with pg_cron: etl_pull.schedule/unschedule, a load run by
# pg_cron, and on_busy = skip when a run is due while the table is loading
# (the skip recorded in etl_pull.runs).
#
# pg_cron runs its jobs in cron.database_name = 'postgres' (test/lib.sh), so
# this test works in database postgres, with pg_cron's launcher running jobs
# in it: in a cluster of its own (preloading pg_cron as the shared one does),
# which nothing else uses and which goes away with the test.
# Its jobs run in pg_cron's libpq mode under test/run (cron.use_background_workers
# is off: the launcher connects through cron.host, a Unix socket); the test
# passes in background-worker mode too.  pg_cron has minute
# granularity: the test waits for one minute boundary (at most ~65 s).
source "$(dirname "$0")/../tap.sh"
tap_own_cluster

BUSY="cron \"busy\" 'x'" # a registered name with quotes, scheduled through %L
BUSY_SQL=${BUSY//\'/\'\'}
LONG_A=$(printf 'x%.0s' {1..60})a # 61 characters: job names are type name (63 bytes)
LONG_B=$(printf 'x%.0s' {1..60})b
OUT=$(mktemp -d)
HOLDER_PID=
LOG_START=$(stat -c %s "$ETL_PULL_PGLOG")

# ---- pg_cron preloaded but not yet installed in its database: a clear error
tap_setup_db etl_tap_nocron
q "SELECT etl_pull.add_table('nocron', server => 'replica', source_table => 'iso_big')" >/dev/null
like "$(q "SELECT etl_pull.schedule('nocron', '* * * * *')")" \
	"ERROR:  pg_cron is not installed in database \"postgres\"" \
	"schedule says pg_cron is not installed in its database (cron.database_name)"
like "$(q "SELECT etl_pull.unschedule('nocron')")" "ERROR:  pg_cron is not installed" \
	"so does unschedule"
# the errors of schedule and unschedule come from C, without PL/pgSQL's context lines
out=$(q "SELECT etl_pull.schedule('nosuch', '* * * * *')"; q "SELECT etl_pull.unschedule('nocron')")
like "$out" 'ERROR:  table "nosuch" is not registered with etl_pull' "schedule of an unregistered table says so"
ok "$([[ $out != *PL/pgSQL* && $out != *CONTEXT* ]]; echo $?)" \
	"... and neither error carries PL/pgSQL's context lines"
is "$(q "SELECT etl_pull.remove_table('nocron')")" "" "remove_table does without it"
PGOPTIONS="-c client_min_messages=warning" etl_psql -q -c "DROP DATABASE etl_tap_nocron"

# ---- database postgres: pg_cron, etl_pull, a server and two tables
# shellcheck disable=SC2034 # read by q (tap.sh)
TAP_DB=postgres
cleanup() {
	[ -n "$HOLDER_PID" ] && kill "$HOLDER_PID" 2>/dev/null && wait "$HOLDER_PID" 2>/dev/null
	rm -rf "$OUT"
}
tap_on_exit cleanup

q "CREATE EXTENSION pg_cron; CREATE EXTENSION etl_pull" >/dev/null
is "$(q "SELECT string_agg(extname, ',' ORDER BY extname) FROM pg_extension
          WHERE extname IN ('etl_pull', 'pg_cron')")" "etl_pull,pg_cron" \
	"pg_cron and etl_pull are installed in database postgres"
if [ "$(q "SHOW cron.use_background_workers")" = on ]; then
	echo "# pg_cron runs jobs in background workers"
else
	echo "# pg_cron runs jobs in libpq mode (connecting through cron.host)"
fi
etl_psql -q -v port="$ETL_PULL_MYSQL_PORT" -v db="$ETL_PULL_MYSQL_DB" \
	-v user="$ETL_PULL_MYSQL_USER" -v password="$ETL_PULL_MYSQL_PASSWORD" -v busy="$BUSY" \
	<<-'SQL' >/dev/null
	CREATE SERVER cron_replica FOREIGN DATA WRAPPER etl_pull
	    OPTIONS (host '127.0.0.1', port :'port', dbname :'db');
	CREATE USER MAPPING FOR postgres SERVER cron_replica
	    OPTIONS (user :'user', password :'password');
	SELECT etl_pull.add_table('cron_t', server => 'cron_replica', source_table => 'iso_big',
	                          target_table => 'public.cron_target');
	SELECT etl_pull.add_table(:'busy', server => 'cron_replica', source_table => 'iso_big',
	                          target_table => 'public.cron_busy_target');
	SELECT etl_pull.set_table_option(:'busy', 'on_busy', 'skip');
	SQL
is "$(q "SELECT count(*) FROM etl_pull.tables WHERE name IN ('cron_t', '$BUSY_SQL')")" "2" \
	"two tables are registered"

# ---- a database other than pg_cron's: etl_tap_cron_other, with a table of
# the same name as one in postgres
tap_setup_db etl_tap_cron_other
TAP_DB=postgres
qo() {
	etl_psql -d etl_tap_cron_other -Atq -c "$1" 2>&1
}
qo "SELECT etl_pull.add_table('cron_t', server => 'replica', source_table => 'iso_big',
                              target_table => 'public.cron_other_target')" >/dev/null

# A second session loads the busy table and keeps its transaction (and so the
# table's load lock) open until pg_cron has run the busy table's job (at most
# 100 s).  It prints its load's status, then the time it let go.
if [ "$(date +%S)" -ge 57 ]; then sleep 4; fi # schedule early in a minute: pg_cron picks it up in time
etl_psql -Atq -v busy="$BUSY" >"$OUT/holder" 2>"$OUT/holder.err" <<-'SQL' &
	BEGIN;
	SELECT status FROM etl_pull.load_table(:'busy');
	DO $$
	BEGIN
	    FOR i IN 1 .. 500 LOOP
	        EXIT WHEN EXISTS (SELECT 1 FROM cron.job_run_details d JOIN cron.job j USING (jobid)
	                          WHERE j.jobname = 'etl_pull: cron "busy" ''x''' AND d.end_time IS NOT NULL);
	        PERFORM pg_sleep(0.2);
	    END LOOP;
	END
	$$;
	SELECT clock_timestamp();
	COMMIT;
	SQL
HOLDER_PID=$!
for _ in $(seq 50); do
	[ -s "$OUT/holder" ] && break
	sleep 0.1
done
is "$(head -n 1 "$OUT/holder")" "succeeded" "a second session loaded the busy table and holds its lock"

# ---- schedule both, every minute
jobid=$(q "SELECT etl_pull.schedule('cron_t', '* * * * *')")
busy_jobid=$(q "SELECT etl_pull.schedule('$BUSY_SQL', '* * * * *')")
other_jobid=$(qo "SELECT etl_pull.schedule('cron_t', '* * * * *')")
like "$jobid" '^[0-9]+$' "schedule returns the job id"
like "$other_jobid" '^[0-9]+$' "schedule in a database other than pg_cron's returns the job id"
is "$(q "SELECT jobname || ' | ' || command || ' | ' || database || ' | ' || username
          FROM cron.job WHERE jobid = '$other_jobid'")" \
	"etl_pull: etl_tap_cron_other: cron_t | SELECT etl_pull.load_table('cron_t') | etl_tap_cron_other | postgres" \
	"its job, in pg_cron's database, loads the table in its own database, under a name of its own"
# a job of the name schedule would give, that runs something else
q "SELECT etl_pull.add_table('cron_mine', server => 'cron_replica', source_table => 'iso_big');
   SELECT cron.schedule('etl_pull: cron_mine', '0 1 * * *', 'SELECT 1')" >/dev/null
like "$(q "SELECT etl_pull.schedule('cron_mine', '* * * * *')")" \
	"^ERROR:  pg_cron job \"etl_pull: cron_mine\" already exists and runs something else
DETAIL:  It runs \"SELECT 1\" in database \"postgres\".
HINT:  Rename or unschedule that job \(cron.alter_job, cron.unschedule\) in database \"postgres\"." \
	"a job of the same name that runs something else is not overwritten"
q "SELECT cron.schedule('etl_pull: etl_tap_cron_other: cron_mine', '0 1 * * *', 'SELECT 1')" >/dev/null
qo "SELECT etl_pull.add_table('cron_mine', server => 'replica', source_table => 'iso_big')" >/dev/null
like "$(qo "SELECT etl_pull.schedule('cron_mine', '* * * * *')")" \
	'ERROR:  pg_cron job "etl_pull: etl_tap_cron_other: cron_mine" already exists and runs something else.*etl_pull cron worker in database "postgres"' \
	"nor from another database, whose worker's error is the caller's"
is "$(q "SELECT count(*) || ' ' || min(command) || ' ' || max(command) FROM cron.job WHERE jobname LIKE '%cron_mine'")" \
	"2 SELECT 1 SELECT 1" "those jobs are as they were"
q "SELECT cron.unschedule('etl_pull: cron_mine'); SELECT cron.unschedule('etl_pull: etl_tap_cron_other: cron_mine')" >/dev/null

# a role that may not schedule in another database (no EXECUTE on
# cron.schedule_in_database), or may not log in
qo "CREATE ROLE cron_plain LOGIN; CREATE ROLE cron_nologin NOLOGIN" >/dev/null
out=$(etl_psql -d etl_tap_cron_other -U cron_plain -Atq -c "SELECT etl_pull.schedule('cron_mine', '* * * * *')" 2>&1)
like "$out" "^ERROR:  permission denied for function cron.schedule_in_database
DETAIL:  A table registered in database \"etl_tap_cron_other\" is scheduled from pg_cron's database \"postgres\" with cron.schedule_in_database.
HINT:  A superuser may grant USAGE on schema cron and EXECUTE on cron.schedule_in_database\\(text, text, text, text, text, boolean\\), in database \"postgres\"\\." \
	"without EXECUTE on cron.schedule_in_database, scheduling from another database says so"
like "$(qo "SET ROLE cron_nologin; SELECT etl_pull.schedule('cron_mine', '* * * * *')")" \
	'ERROR:  role "cron_nologin" is not permitted to log in' \
	"a role that may not log in is told so"
is "$(q "SELECT count(*) FROM cron.job WHERE jobname LIKE '%cron_mine'")" "0" "neither made a job"
q "GRANT USAGE ON SCHEMA cron TO cron_plain;
   GRANT EXECUTE ON FUNCTION cron.schedule_in_database(text, text, text, text, text, boolean) TO cron_plain" >/dev/null
plain_jobid=$(etl_psql -d etl_tap_cron_other -U cron_plain -Atq -c "SELECT etl_pull.schedule('cron_mine', '0 4 * * *')" 2>&1)
is "$(q "SELECT jobname || ' | ' || database || ' | ' || username FROM cron.job WHERE jobid = '$plain_jobid'")" \
	"etl_pull: etl_tap_cron_other: cron_mine | etl_tap_cron_other | cron_plain" \
	"granted them, a role that is not a superuser schedules from another database, a job of its own"
is "$(etl_psql -d etl_tap_cron_other -U cron_plain -Atq -c "SELECT etl_pull.unschedule('cron_mine')" 2>&1)" "t" \
	"and unschedules it"
q "REVOKE USAGE ON SCHEMA cron FROM cron_plain;
   REVOKE EXECUTE ON FUNCTION cron.schedule_in_database(text, text, text, text, text, boolean) FROM cron_plain" >/dev/null
qo "DROP ROLE cron_plain; DROP ROLE cron_nologin" >/dev/null
is "$(q "SELECT jobname || ' | ' || schedule || ' | ' || command || ' | ' || database || ' | ' || username
          FROM cron.job WHERE jobid = '$jobid'")" \
	"etl_pull: cron_t | * * * * * | SELECT etl_pull.load_table('cron_t') | postgres | postgres" \
	"the pg_cron job loads the table every minute"
is "$(q "SELECT command FROM cron.job WHERE jobid = '$busy_jobid'")" \
	"SELECT etl_pull.load_table('cron \"busy\" ''x''')" "a name with quotes is quoted in the job's command"

# ---- wait (every 2 s, up to 130 s) for pg_cron to run the three jobs
t0=$(date +%s)
for _ in $(seq 65); do
	[ "$(q "SELECT count(DISTINCT jobid) FROM cron.job_run_details
	         WHERE jobid IN ('$jobid', '$busy_jobid', '$other_jobid') AND end_time IS NOT NULL
	           AND status IN ('succeeded', 'failed')")" -ge 3 ] && break
	sleep 2
done
echo "# waited $(($(date +%s) - t0)) s for pg_cron"
wait "$HOLDER_PID"
HOLDER_PID=

# the return message is "1 row" in libpq mode, "SELECT 1" in background workers
like "$(q "SELECT status || ' | ' || return_message FROM cron.job_run_details
            WHERE jobid = '$jobid' ORDER BY runid LIMIT 1")" '^succeeded \| (1 row|SELECT 1)$' \
	"pg_cron ran the load: status succeeded, the return message of a one-row SELECT"
is "$(q "SELECT count(*) FROM public.cron_target")" "1000" "the target has the 1000 rows"
is "$(q "SELECT status || ' ' || rows || ' ' || run_as FROM etl_pull.runs
          WHERE table_name = 'cron_t' ORDER BY run_id")" "succeeded 1000 postgres" \
	"etl_pull.runs has the scheduled run: succeeded, 1000 rows, as postgres"

like "$(q "SELECT status || ' | ' || return_message FROM cron.job_run_details
            WHERE jobid = '$other_jobid' ORDER BY runid LIMIT 1")" '^succeeded \| (1 row|SELECT 1)$' \
	"pg_cron ran the other database's load"
is "$(qo "SELECT count(*) FROM public.cron_other_target")" "1000" "in that database: its target has the 1000 rows"
is "$(qo "SELECT string_agg(status || ' ' || rows, ',') FROM etl_pull.runs WHERE table_name = 'cron_t'")" \
	"succeeded 1000" "and its etl_pull.runs the run"

# the busy table's run was due while the second session held its lock
like "$(q "SELECT status || ' | ' || return_message FROM cron.job_run_details
            WHERE jobid = '$busy_jobid' ORDER BY runid LIMIT 1")" '^succeeded \| (1 row|SELECT 1)$' \
	"the busy table's scheduled run succeeded"
released=$(sed -n 2p "$OUT/holder")
is "$(q "SELECT (end_time - start_time < interval '2 s') || ' ' || (end_time <= '$released'::timestamptz)
          FROM cron.job_run_details WHERE jobid = '$busy_jobid' ORDER BY runid LIMIT 1")" "true true" \
	"it returned at once, while the lock was held (it did not wait)"
like "$(tail -c +"$((LOG_START + 1))" "$ETL_PULL_PGLOG")" "table \"cron \"busy\" 'x'\" is already being loaded; skipped" \
	"it said it skipped the busy table (NOTICE in the server log)"
is "$(q "SELECT count(*) || ' ' || string_agg(status || ' ' || rows || ' ' || run_as, ',' ORDER BY run_id)
          FROM etl_pull.runs WHERE table_name = '$BUSY_SQL'")" "2 succeeded 1000 postgres,skipped 0 postgres" \
	"etl_pull.runs has the second session's run of the busy table, and the scheduled run, skipped"
is "$(q "SELECT notes FROM etl_pull.runs WHERE table_name = '$BUSY_SQL' AND status = 'skipped'")" \
	"skipped: another session was loading the table (on_busy = skip)" "the skipped run says why"
is "$(q "SELECT count(*) FROM public.cron_busy_target")" "1000" \
	"the busy table's target has its 1000 rows once"

# ---- schedule again: the job is updated, not doubled; then unschedule
is "$(q "SELECT etl_pull.schedule('cron_t', '0 3 * * *')")" "$jobid" \
	"scheduling again returns the same job"
is "$(q "SELECT count(*) || ' ' || min(schedule) FROM cron.job WHERE jobname = 'etl_pull: cron_t'")" \
	"1 0 3 * * *" "and changes its schedule"
is "$(q "SELECT etl_pull.unschedule('cron_t')")" "t" "unschedule returns true"
is "$(q "SELECT count(*) FROM cron.job WHERE jobid = '$jobid'")" "0" "the job is gone"
is "$(q "SELECT etl_pull.unschedule('$BUSY_SQL')")" "t" "unschedule of the name with quotes returns true"
is "$(q "SELECT etl_pull.unschedule('$BUSY_SQL')")" "f" "unschedule again returns false"

# ---- remove_table removes the table's jobs, from pg_cron's database or another
is "$(qo "SELECT etl_pull.remove_table('cron_t')")" \
	"NOTICE:  removed pg_cron job $other_jobid \"etl_pull: etl_tap_cron_other: cron_t\" of role \"postgres\", which loaded the table" \
	"remove_table in another database removes its table's job, and says so"
is "$(q "SELECT count(*) FROM cron.job WHERE jobid = '$other_jobid'")" "0" "the job is gone"
jobid=$(q "SELECT etl_pull.schedule('cron_t', '0 3 * * *')")
is "$(etl_psql -Atq -c "SELECT etl_pull.remove_table('cron_t')" 2>&1)" \
	"NOTICE:  removed pg_cron job $jobid \"etl_pull: cron_t\" of role \"postgres\", which loaded the table" \
	"remove_table in pg_cron's database removes its table's job"
is "$(q "SELECT count(*) FROM cron.job WHERE command = 'SELECT etl_pull.load_table(''cron_t'')'")" "0" \
	"no job loads the removed table"
PGOPTIONS="-c client_min_messages=warning" etl_psql -q -c "DROP DATABASE etl_tap_cron_other"

# ---- two long names that differ only past pg_cron's 63-byte job names
q "SELECT etl_pull.add_table('$LONG_A', server => 'cron_replica', source_table => 'iso_big');
   SELECT etl_pull.add_table('$LONG_B', server => 'cron_replica', source_table => 'iso_big')" >/dev/null
q "SELECT etl_pull.schedule('$LONG_A', '0 4 * * *')" >/dev/null
q "SELECT etl_pull.schedule('$LONG_B', '0 5 * * *')" >/dev/null
is "$(q "SELECT string_agg(right(command, 4), ' ' ORDER BY command) FROM cron.job
          WHERE command LIKE 'SELECT etl\_pull.load\_table(''xxxx%'")" "xa') xb')" \
	"two tables whose names share their first 53 characters get a job each"
is "$(q "SELECT etl_pull.unschedule('$LONG_A')")" "t" "the first of them is unscheduled"
is "$(q "SELECT count(*) FROM cron.job WHERE command = 'SELECT etl_pull.load_table(''$LONG_B'')'")" "1" \
	"and the second's job is still there"

done_testing
