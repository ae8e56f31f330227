# test/bench_lib.sh: what the whole-database benchmarks share (sourced by test/bench_wholedb and
# test/bench_replica, after test/lib.sh): timing, medians and formatting, the failure and note
# lists of the report, and pgloader's whole-database load.
#
# The caller sets BENCH_NAME (its log prefix) and T0 (its start, date +%s), and keeps
# FAILURES (0) and NOTES (()); bench_pgloader also reads BENCH (the work directory).
# shellcheck shell=bash disable=SC2034 # PGLOADER_S and PGLOADER_HOW are for the caller

ELAPSED=           # set by timed

bench_log() { printf '[%s %4ss] %s\n' "$BENCH_NAME" "$(($(date +%s) - T0))" "$*" >&2; }
note() { NOTES+=("$*"); }
# loud: a failed load or a target that differs; counted for the exit status
loud() {
	FAILURES=$((FAILURES + 1))
	printf '\n!!!!!!!! %s !!!!!!!!\n\n' "$*" >&2
	note "**FAILURE: $***"
}

# timed CMD...: run CMD, set ELAPSED to its wall-clock seconds, return its status
timed() {
	local t0 t1 rc=0
	t0=$(date +%s.%N)
	"$@" || rc=$?
	t1=$(date +%s.%N)
	ELAPSED=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
	return "$rc"
}

# median: of the numbers on stdin, one a line ("-" when none)
median() {
	sort -g | awk 'NF { v[++n] = $1 } END { if (n == 0) { print "-"; exit }
		if (n % 2) print v[(n + 1) / 2]; else printf "%.3f\n", (v[n / 2] + v[n / 2 + 1]) / 2 }'
}

# div A B [FORMAT]: A / B ("-" when either is missing or B is 0)
div() {
	awk -v a="$1" -v b="$2" -v f="${3:-%.2f}" 'BEGIN {
		if (a == "" || a == "-" || b == "" || b == "-" || b + 0 == 0) print "-"; else printf f "\n", a / b }'
}

# fmt_int N: 1234567 -> 1,234,567
fmt_int() {
	awk -v n="$1" 'BEGIN { n = sprintf("%.0f", n); s = "";
		while (length(n) > 3) { s = "," substr(n, length(n) - 2) s; n = substr(n, 1, length(n) - 3) }
		print n s }'
}

psql_q() { etl_psql -Atq "$@"; }
my_root() { etl_mysql "$@"; }

# bench_pgloader SRC_DB PGL_DB HEAP_MB: pgloader's whole-database load of MariaDB database SRC_DB
# into PostgreSQL database PGL_DB (created tables and indexes, schema renamed to public), with
# the CAST rules zero dates need (datetime/timestamp to timestamptz, date, each drop default
# drop not null using zero-dates-to-null), files under $BENCH/pgloader.  Sets PGLOADER_S (its
# seconds, "-" when it failed) and PGLOADER_HOW (how it ran); a failure or an error it reports
# is a note, and the benchmark goes on.
bench_pgloader() {
	local src=$1 pgl=$2 heap=$3 version dir=$BENCH/pgloader
	PGLOADER_S=-
	# sed reads it all: with head, pgloader may die of SIGPIPE (and pipefail end the bench)
	version=$(pgloader --version 2>/dev/null | sed -n '1s/^pgloader version //p' | tr -d '"') || true
	PGLOADER_HOW="pgloader $version, --dynamic-space-size $heap, CAST datetime/timestamp to timestamptz and date, drop default drop not null using zero-dates-to-null; create tables, create indexes, into database $pgl"
	mkdir -p "$dir"
	cat >"$BENCH/$src.load" <<-EOF
		LOAD DATABASE
		     FROM mysql://$ETL_PULL_MYSQL_USER:$ETL_PULL_MYSQL_PASSWORD@$ETL_PULL_MYSQL_HOST:$ETL_PULL_MYSQL_PORT/$src
		     INTO postgresql://$PGUSER@unix:$PGHOST:$PGPORT/$pgl

		 WITH include drop, create tables, create indexes, reset sequences

		  SET PostgreSQL PARAMETERS timezone = 'UTC'

		 CAST type datetime to timestamptz drop default drop not null using zero-dates-to-null,
		      type timestamp to timestamptz drop default drop not null using zero-dates-to-null,
		      type date drop default drop not null using zero-dates-to-null

		 ALTER SCHEMA '$src' RENAME TO 'public';
	EOF
	chmod 600 "$BENCH/$src.load"
	psql_q -c CHECKPOINT
	if timed pgloader --dynamic-space-size "$heap" --root-dir "$dir" --logfile "$dir/$src.log" \
		--summary "$dir/summary.txt" "$BENCH/$src.load" >"$dir/$src.out" 2>&1; then
		PGLOADER_S=$ELAPSED
		bench_log "pgloader: ${ELAPSED}s"
		if grep -qE '(ERROR|FATAL)' "$dir/$src.out"; then
			note "pgloader reported errors (exit 0): $(grep -m 3 -E 'ERROR|FATAL' "$dir/$src.out" | tr '\n' ' ')"
		fi
	else
		PGLOADER_FAILED="pgloader failed after ${ELAPSED}s: $(grep -m 3 -E 'ERROR|FATAL|error|Heap exhausted' "$dir/$src.out" | tr '\n' ' ' | cut -c1-400)"
		bench_log "$PGLOADER_FAILED"
		note "$PGLOADER_FAILED"
	fi
}
