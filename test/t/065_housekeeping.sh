# Housekeeping (issue 29, item 10): etl_pull.purge_runs deletes old runs
# and their rejected rows for etl_pull_admin, keeping each table's
# baseline, its latest runs and its latest successful load; a server that
# registered tables load from cannot be dropped (DROP SERVER, DROP OWNED),
# and renaming it carries the new name over to them, so that they still
# load.  Roles are cluster-wide: the test takes a cluster of its own.
source "$(dirname "$0")/../tap.sh"
tap_own_cluster
tap_setup_db etl_tap_housekeeping

# as ROLE: psql's output, errors included
as() {
	PGOPTIONS='-c client_min_messages=warning' etl_psql -d "$TAP_DB" -U "$1" -Atq -c "$2" 2>&1
}

PGOPTIONS="-c client_min_messages=warning" etl_psql -q -d "$TAP_DB" <<-'SQL' >/dev/null
	CREATE ROLE hk_admin LOGIN IN ROLE etl_pull_admin;
	CREATE ROLE hk_user LOGIN;
	CREATE ROLE hk_owner LOGIN;
	SELECT etl_pull.add_table('hk_a', server => 'replica', source_table => 'iso_big');
	SELECT etl_pull.add_table('hk_b', server => 'replica', source_table => 'iso_big');
	SQL

# ---- purge_runs: hk_a has runs 1-4 (succeeded, 1 the baseline) and 5 (failed),
# hk_b one run (6); all of them 100 days old, and a rejected row of run 2
for _ in 1 2 3 4; do q "SELECT status FROM etl_pull.load_table('hk_a')" >/dev/null; done
q "SELECT etl_pull.set_table_option('hk_a', 'source_table', 'no_such_table')" >/dev/null
like "$(q "SELECT status FROM etl_pull.load_table('hk_a')")" "ERROR:" "a load of hk_a fails"
q "SELECT etl_pull.set_table_option('hk_a', 'source_table', 'iso_big')" >/dev/null
q "SELECT status FROM etl_pull.load_table('hk_b')" >/dev/null
mapfile -t A < <(q "SELECT run_id FROM etl_pull.runs WHERE table_name = 'hk_a' ORDER BY run_id")
B=$(q "SELECT run_id FROM etl_pull.runs WHERE table_name = 'hk_b'")
is "$(q "SELECT string_agg(status, ' ' ORDER BY run_id) FROM etl_pull.runs WHERE table_name = 'hk_a'")" \
	"succeeded succeeded succeeded succeeded failed" "hk_a has four successful runs and a failed one"
q "SELECT etl_pull.set_baseline(${A[0]});
   UPDATE etl_pull.runs SET started_at = started_at - interval '100 days';
   INSERT INTO etl_pull.rejects (run_id, table_name, reason) VALUES (${A[1]}, 'hk_a', 'test')" >/dev/null

like "$(as hk_user "SELECT etl_pull.purge_runs('1 day')")" \
	"ERROR:  permission denied for function purge_runs" "a role outside etl_pull_admin may not purge"
like "$(as hk_admin "SELECT etl_pull.purge_runs(NULL)")" \
	"ERROR:  older_than must be an interval of zero or more, not NULL" "older_than NULL is refused"
like "$(as hk_admin "SELECT etl_pull.purge_runs('-1 day')")" \
	"ERROR:  older_than must be an interval of zero or more, not -1 days" "a negative older_than is refused"
like "$(as hk_admin "SELECT etl_pull.purge_runs('1 day', 0)")" \
	"ERROR:  keep_per_table must be 1 or more, not 0" "keep_per_table 0 is refused"
is "$(as hk_admin "SELECT etl_pull.purge_runs('101 days')")" "0" "no run is older than 101 days"
is "$(as hk_admin "SELECT etl_pull.purge_runs('90 days')")" "2" \
	"etl_pull_admin purges the runs older than 90 days: two of them"
is "$(q "SELECT string_agg(run_id::text, ' ' ORDER BY run_id) FROM etl_pull.runs")" \
	"${A[0]} ${A[3]} ${A[4]} $B" \
	"kept: hk_a's baseline, its latest successful load, its latest run, and hk_b's only run"
is "$(q "SELECT count(*) FROM etl_pull.rejects")" "0" "the purged run's rejected row went with it"
like "$(q "SELECT etl_pull.performance_report()")" "\\| hk_a \\|.*\\| failed \\|" \
	"performance_report still compares hk_a's latest load with its baseline"
is "$(as hk_admin "SELECT etl_pull.purge_runs('0 s', keep_per_table => 1)")" "0" \
	"nothing else goes: baselines, latest runs and latest loads are kept at any age"

# ---- DROP SERVER and DROP OWNED of a server in use are refused
out=$(PGOPTIONS='-c client_min_messages=warning' etl_psql -d "$TAP_DB" -Atq -v VERBOSITY=verbose \
	-c "DROP SERVER replica CASCADE" 2>&1)
like "$out" 'ERROR:  2BP01: cannot drop server "replica" because registered tables load from it' \
	"DROP SERVER of a server registered tables load from is refused"
like "$out" 'DETAIL:  etl_pull tables loading from server "replica": "hk_a", "hk_b"\.' \
	"naming the tables"
like "$out" 'HINT:  Unregister them with etl_pull.remove_table\(\) first\.' "and saying what to do"
q "CREATE SERVER idle FOREIGN DATA WRAPPER etl_pull OPTIONS (host '127.0.0.1')" >/dev/null
is "$(q "DROP SERVER idle")" "" "a server no table uses is dropped"
q "ALTER SERVER replica OWNER TO hk_owner" >/dev/null
like "$(q "DROP OWNED BY hk_owner CASCADE")" 'ERROR:  cannot drop server "replica" because registered tables load from it' \
	"DROP OWNED of its owner is refused too"
is "$(q "SELECT count(*) FROM pg_foreign_server WHERE srvname = 'replica'")" "1" "the server is still there"

# ---- RENAME: the tables follow, and still load
out=$(etl_psql -d "$TAP_DB" -U hk_owner -Atq -c "ALTER SERVER replica RENAME TO replica_renamed" 2>&1)
is "$out" 'NOTICE:  2 registered tables of server "replica" now load from server "replica_renamed"' \
	"the server's owner renames it, and is told its tables follow"
is "$(q "SELECT string_agg(name || ':' || server, ' ' ORDER BY name) FROM etl_pull.tables")" \
	"hk_a:replica_renamed hk_b:replica_renamed" "the registered tables name the new name"
run=$(q "SELECT run_id FROM etl_pull.load_table('hk_a')")
is "$(q "SELECT status || ' ' || rows || ' ' || server FROM etl_pull.runs WHERE run_id = '$run'")" \
	"succeeded 1000 replica_renamed" \
	"hk_a loads from the renamed server"
q "CREATE SERVER other FOREIGN DATA WRAPPER etl_pull OPTIONS (host '127.0.0.1')" >/dev/null
is "$(q "ALTER SERVER other RENAME TO other2")" "" "renaming a server no table uses says nothing"

# ---- once the tables are removed, the server may go
q "SELECT etl_pull.remove_table('hk_a'); SELECT etl_pull.remove_table('hk_b')" >/dev/null
is "$(q "DROP SERVER replica_renamed CASCADE")" "" "a server whose tables are removed is dropped"

done_testing
