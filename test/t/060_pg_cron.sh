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

# ---- a database without pg_cron: a clear error
tap_setup_db etl_tap_nocron
q "SELECT etl_pull.add_table('nocron', server => 'replica', source_table => 'iso_big')" >/dev/null
like "$(q "SELECT etl_pull.schedule('nocron', '* * * * *')")" \
	"ERROR:  pg_cron is not installed in this database" \
	"schedule in a database without pg_cron says pg_cron is not installed"
like "$(q "SELECT etl_pull.unschedule('nocron')")" \
	"ERROR:  pg_cron is not installed in this database" \
	"so does unschedule"
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
like "$jobid" '^[0-9]+$' "schedule returns the job id"
is "$(q "SELECT jobname || ' | ' || schedule || ' | ' || command || ' | ' || database || ' | ' || username
          FROM cron.job WHERE jobid = '$jobid'")" \
	"etl_pull: cron_t | * * * * * | SELECT etl_pull.load_table('cron_t') | postgres | postgres" \
	"the pg_cron job loads the table every minute"
is "$(q "SELECT command FROM cron.job WHERE jobid = '$busy_jobid'")" \
	"SELECT etl_pull.load_table('cron \"busy\" ''x''')" "a name with quotes is quoted in the job's command"

# ---- wait (every 2 s, up to 130 s) for pg_cron to run both jobs
t0=$(date +%s)
for _ in $(seq 65); do
	[ "$(q "SELECT count(*) FROM cron.job_run_details
	         WHERE jobid IN ('$jobid', '$busy_jobid') AND end_time IS NOT NULL
	           AND status IN ('succeeded', 'failed')")" -ge 2 ] && break
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
