# Every ```sql block of README.md runs as pasted into the demo's psql: on the harness's servers,
# with the demo's objects (test/lib.sh: etl_demo_mysql's MariaDB tables periomeasure, patient and
# claimproc; etl_demo_setup's extensions, server replica, user mapping and registered
# periomeasure), in database postgres as the demo's psql, one block after the other in README
# order, each in one psql with ON_ERROR_STOP.  A block deliberately not runnable says so in its
# first line, `-- not run: <why>`; there are at most NOT_RUN_MAX of them.
#
# Its own cluster: the examples create pg_cron jobs in database postgres, as in the demo.
source "$(dirname "$0")/../tap.sh"
tap_own_cluster

README=$ETL_PULL_REPO/README.md
MYDB=etl_tap_readme
NOT_RUN_MAX=1
OUT=$(mktemp -d)
cleanup() {
	etl_mysql_db -e "DROP DATABASE IF EXISTS $MYDB" >/dev/null 2>&1
	rm -rf "$OUT"
}
tap_on_exit cleanup

etl_demo_mysql "$MYDB" 1000
rc=0
etl_demo_setup "$MYDB" -q >"$OUT/setup.log" 2>&1 || rc=$?
ok "$rc" "the demo's setup runs (server replica, periomeasure registered)"
[ "$rc" = 0 ] || sed 's/^/#   /' "$OUT/setup.log"

# Each block into OUT/block.N, its README line number into OUT/line.N.
awk -v out="$OUT" '
	/^```sql[[:space:]]*$/ { n++; on = 1; print NR > (out "/line." n); next }
	on && /^```[[:space:]]*$/ { on = 0; next }
	on { print > (out "/block." n) }
	END { print n + 0 > (out "/count") }' "$README"
count=$(cat "$OUT/count")
ok "$([ "$count" -ge 5 ] && echo 0 || echo 1)" "README.md has sql blocks ($count)"

not_run=0
for ((i = 1; i <= count; i++)); do
	line=$(cat "$OUT/line.$i")
	first=$(head -n 1 "$OUT/block.$i" 2>/dev/null)
	if [[ $first == "-- not run: "* ]]; then
		not_run=$((not_run + 1))
		echo "# README.md line $line: ${first#-- }"
		continue
	fi
	if out=$(etl_psql -q -d postgres -f "$OUT/block.$i" 2>&1); then
		ok 0 "README.md's sql block at line $line runs"
	else
		ok 1 "README.md's sql block at line $line runs"
		printf '%s\n' "$out" | sed 's/^/#   /'
	fi
done
# load_all reports a table's failure as a row, not an error: no run may have failed either.
failed=$(etl_psql -d postgres -Atq -c "SELECT table_name || ': ' || coalesce(error, status)
	FROM etl_pull.runs WHERE status = 'failed' ORDER BY run_id" 2>&1)
is "$failed" "" "no run of the examples failed"
loaded=$(etl_psql -d postgres -Atq -c "SELECT string_agg(DISTINCT table_name, ' ' ORDER BY table_name)
	FROM etl_pull.runs" 2>&1)
is "$loaded" "claimproc patient periomeasure" "the examples ran the demo's three tables"
ok "$([ "$not_run" -le "$NOT_RUN_MAX" ] && echo 0 || echo 1)" \
	"README.md marks $not_run sql blocks not run (at most $NOT_RUN_MAX)"

done_testing
