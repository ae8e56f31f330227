# Too few background-worker slots: the parallel strategy runs fewer workers
# and says so, or fails clearly when there is none; never a hang.  The test
# restarts the server with a small max_worker_processes: its own cluster.
source "$(dirname "$0")/../tap.sh"
tap_own_cluster
tap_setup_db etl_tap_slots

restart() {
	etl_as postgres "$ETL_PG_BIN/pg_ctl" -D "$ETL_PULL_PGDATA" -w -t 60 restart \
		-l "$ETL_PULL_PGLOG" >/dev/null
}

etl_mysql -e "DROP TABLE IF EXISTS slot_src;
	CREATE TABLE slot_src (id int NOT NULL PRIMARY KEY, v varchar(10) NOT NULL);
	INSERT INTO slot_src SELECT seq, CONCAT('v', seq) FROM seq_1_to_20000;"
q "SELECT etl_pull.add_table('slots', server => 'replica', source_table => 'slot_src');
   SELECT etl_pull.set_table_option('slots', 'strategy', 'parallel');
   SELECT etl_pull.set_table_option('slots', 'parallel_chunks', '4')" >/dev/null

# the server's own background workers (pg_cron's launcher, logical replication's)
taken=$(etl_psql -Atc "SELECT count(*) FROM pg_stat_activity
                       WHERE backend_type IN ('pg_cron launcher', 'logical replication launcher')")

etl_psql -Atqc "ALTER SYSTEM SET max_worker_processes = $((taken + 2))" >/dev/null
restart
out=$(etl_psql -d "$TAP_DB" -Atc "SELECT rows FROM etl_pull.load_table('slots')" 2>&1)
like "$out" 'NOTICE:  started 2 of 4 parallel workers' "two free slots: two workers, and a NOTICE"
like "$out" '20000$' "the load completes with them"
is "$(q "SELECT count(*) FROM slots")" "20000" "every row arrived"

etl_psql -Atqc "ALTER SYSTEM SET max_worker_processes = $taken" >/dev/null
restart
out=$(PGOPTIONS='-c statement_timeout=60s' etl_psql -d "$TAP_DB" -Atc "SELECT rows FROM etl_pull.load_table('slots')" 2>&1)
like "$out" 'ERROR:  could not start any parallel worker' "no free slot: a clear error"
like "$out" 'HINT:  Consider increasing the configuration parameter "max_worker_processes"' \
	"with a hint"
like "$out" 'WARNING:  could not record the failed run' \
	"and a WARNING that the failed run could not be recorded (that needs a slot too)"
is "$(q "SELECT count(*) FROM slots")" "20000" "the old rows stay"

done_testing
