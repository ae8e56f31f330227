# test/bench_lib.sh: what the whole-database benchmarks share (sourced by test/bench_wholedb,
# test/bench_replica and test/bench_stream, after test/lib.sh): timing, medians and formatting, the
# failure and note lists of the report, pgloader's whole-database load, and (below) the OpenDental
# replica's source, clinic writer and comparison.
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

# ================================================================ the OpenDental replica
# What test/bench_replica and test/bench_stream share: the source built from the inventory, the
# clinic writer, load_all of the group 'od' under the writer, and the independent comparison.
# The caller sets SRC_DB (the MariaDB database, od), SCALE, CSV (the inventory), BENCH (the work
# directory), NODE_MODULES (where mysql2 is), PARALLEL (load_all's workers), WRITER_RATE and
# STRICT (1: a table that differs is a failure), and declares the associative arrays WAIT_MS,
# WAIT_AT and WRITER_STMTS (the writer's summaries by kind) and WRITER_PID.

# ---------------------------------------------------------------- the source

# make_source: the MariaDB database SRC_DB (the inventory at SCALE, test/bench_replica_source.awk,
# written unlogged: sql_log_bin = 0) and od_fixed.hundred, generated in two clients at once;
# BENCH/gen/tables.tsv lists the tables
make_source() {
	local pre="SET SESSION sql_log_bin = 0; SET SESSION sql_mode = ''; SET SESSION time_zone = '+00:00';
		SET SESSION group_concat_max_len = 67108864;"
	mkdir -p "$BENCH/gen" "$BENCH/gen_fixed"
	[ -r "$CSV" ] || etl_die "$CSV is not readable (BENCH_REPLICA_CSV)"
	# biggest first, so that the two halves come out even
	sort -t, -k2,2 -nr "$CSV" |
		awk -F, -v scale="$SCALE" -v db="$SRC_DB" -v out="$BENCH/gen" -f test/bench_replica_source.awk
	printf 'table,rows,size_mb,primary_key,columns,sync_profile,change_column\nhundred,100,0.02,HundredNum,9,in_place_updates,DateTStamp\n' |
		awk -F, -v scale=1 -v db=od_fixed -v out="$BENCH/gen_fixed" -f test/bench_replica_source.awk
	my_root -e "CREATE DATABASE $SRC_DB CHARACTER SET utf8mb3; CREATE DATABASE od_fixed CHARACTER SET utf8mb3"
	{ echo "$pre"; cat "$BENCH/gen/gen.0.sql"; } | etl_mysql_db "$SRC_DB" &
	local pid=$!
	{ echo "$pre"; cat "$BENCH/gen/gen.1.sql" "$BENCH/gen_fixed/gen.0.sql"; } | etl_mysql_db "$SRC_DB" ||
		{ wait "$pid"; etl_die "generating the source failed"; }
	wait "$pid" || etl_die "generating the source failed"
}

# source_stats: "tables rows MB" of the source
source_stats() {
	my_root -N -e "SELECT COUNT(*), SUM(TABLE_ROWS), ROUND(SUM(DATA_LENGTH + INDEX_LENGTH) / 1048576)
		FROM information_schema.TABLES WHERE TABLE_SCHEMA = '$SRC_DB'" | tr '\t' ' '
}

# ---------------------------------------------------------------- PostgreSQL and etl_pull

# pg_checksum_function DB: the comparison's PostgreSQL side in DB, pg_replica_checksum(table):
# count and checksum of a table, over its columns in order
pg_checksum_function() {
	psql_q -d "$1" <<-'SQL'
		CREATE FUNCTION pg_replica_checksum(t regclass) RETURNS text
		STRICT
		LANGUAGE plpgsql AS $f$
		DECLARE cols text; r text;
		BEGIN
		    SELECT string_agg(format('coalesce(%s, %L)', CASE format_type(atttypid, NULL)
		        WHEN 'timestamp with time zone' THEN
		            format($$to_char(%I AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS')$$, attname)
		        WHEN 'timestamp without time zone' THEN
		            format($$to_char(%I, 'YYYY-MM-DD HH24:MI:SS')$$, attname)
		        WHEN 'date' THEN format($$to_char(%I, 'YYYY-MM-DD')$$, attname)
		        WHEN 'double precision' THEN format('%I::numeric(30,4)::text', attname)
		        WHEN 'real' THEN format('%I::numeric(30,4)::text', attname)
		        ELSE format('%I::text', attname) END, '\N'), ', ' ORDER BY attnum)
		      INTO cols
		      FROM pg_attribute WHERE attrelid = t AND attnum > 0 AND NOT attisdropped;
		    EXECUTE format($q$SELECT count(*) || ' ' || coalesce(sum(('x' || left(md5(concat_ws('|', %s)),
		                   15))::bit(60)::bigint), 0) FROM %s$q$, cols, t) INTO r;
		    RETURN r;
		END $f$;
	SQL
}

# bench_pg_setup: PostgreSQL for the replica (autovacuum off, UTC), etl_pull, server replica
# (MariaDB database SRC_DB) with the caller's user mapping, and pg_replica_checksum in postgres
bench_pg_setup() {
	psql_q <<-'SQL' >/dev/null
		ALTER SYSTEM SET autovacuum = off;
		ALTER SYSTEM SET timezone = 'UTC';
		SELECT pg_reload_conf();
	SQL
	psql_q -v host="$ETL_PULL_MYSQL_HOST" -v port="$ETL_PULL_MYSQL_PORT" -v db="$SRC_DB" \
		-v user="$ETL_PULL_MYSQL_USER" -v password="$ETL_PULL_MYSQL_PASSWORD" <<-'SQL'
		CREATE EXTENSION etl_pull;
		CREATE SERVER replica FOREIGN DATA WRAPPER etl_pull
		    OPTIONS (host :'host', port :'port', dbname :'db');
		CREATE USER MAPPING FOR CURRENT_USER SERVER replica
		    OPTIONS (user :'user', password :'password');
	SQL
	pg_checksum_function postgres
}

# unregister: every table of the group removed, its target dropped (a full load creates it again)
unregister() {
	psql_q >/dev/null <<-'SQL'
		SET client_min_messages = warning;
		SELECT format('DROP TABLE IF EXISTS %s', target_table) FROM etl_pull.tables WHERE load_group = 'od'
		\gexec
		SELECT etl_pull.remove_table(name) FROM etl_pull.tables WHERE load_group = 'od';
	SQL
}

# load_all_run KIND [quiet]: one timed load_all of the group, the writer running at WRITER_RATE
# (KIND names its summary) unless quiet; sets LOAD_S[KIND] and RUN_MARK[KIND] (the last run_id
# before it)
declare -A LOAD_S=() RUN_MARK=()
load_all_run() {
	local kind=$1 bad
	psql_q -c CHECKPOINT
	RUN_MARK[$kind]=$(psql_q -c "SELECT coalesce(max(run_id), 0) FROM etl_pull.runs")
	[ "${2:-}" = quiet ] || writer_start "$kind" "$WRITER_RATE" 0
	timed psql_q -F ' ' -o "$BENCH/load_all.$kind.out" -c "SET client_min_messages = warning" \
		-c "SELECT table_name, status, rows, coalesce(error, '') FROM etl_pull.load_all('od', $PARALLEL)" ||
		{ writer_stop "$kind"; loud "load_all ($kind) failed: $(tail -n 3 "$BENCH/load_all.$kind.out")"; LOAD_S[$kind]=-; return 0; }
	LOAD_S[$kind]=$ELAPSED
	writer_stop "$kind"
	# succeeded, skipped (on_busy) or (1.5) unchanged since the last load (skip_unchanged)
	bad=$(awk '$2 != "succeeded" && $2 != "skipped" && $2 != "unchanged"' "$BENCH/load_all.$kind.out")
	[ -z "$bad" ] || loud "load_all ($kind): $(grep -c . <<<"$bad") table(s) not loaded: $(head -n 3 <<<"$bad" | tr '\n' ';')"
	bench_log "load_all $kind: ${ELAPSED}s; writer's longest statement ${WAIT_MS[$kind]:--} ms"
}

# runs_summary KIND: what the runs of load_all KIND did: "N runs: COUNT status/extraction, ...;
# R rows read"
runs_summary() {
	psql_q -v mark="${RUN_MARK[$1]}" <<-'SQL'
		SELECT sum(n) || ' runs: ' || string_agg(n || ' ' || k, ', ' ORDER BY n DESC, k)
		       || '; ' || sum(r) || ' rows read'
		  FROM (SELECT (j ->> 'status') || '/' || coalesce(j ->> 'extraction', '?') AS k,
		               count(*) AS n, coalesce(sum((j ->> 'rows')::bigint), 0) AS r
		          FROM etl_pull.runs t, LATERAL (SELECT to_jsonb(t) AS j) s
		         WHERE run_id > :mark AND table_name IN (SELECT name FROM etl_pull.tables WHERE load_group = 'od')
		         GROUP BY 1) s
	SQL
}

# ---------------------------------------------------------------- the clinic

# writer_start KIND RATE COUNT: the writer in the background (RATE 0: as fast as it can; COUNT 0:
# until writer_stop), with a heartbeat a second into table WRITER_HEARTBEAT when it is set
writer_start() {
	BENCH_HEARTBEAT=${WRITER_HEARTBEAT:-} BENCH_MYSQL_HOST=$ETL_PULL_MYSQL_HOST BENCH_MYSQL_PORT=$ETL_PULL_MYSQL_PORT \
		BENCH_MYSQL_USER=$ETL_PULL_MYSQL_USER MYSQL_PWD=$ETL_PULL_MYSQL_PASSWORD \
		BENCH_MYSQL_DB=$SRC_DB NODE_PATH=$NODE_MODULES \
		node test/bench_replica_writer.js "$BENCH/gen/tables.tsv" "$2" "$3" "$((${#1} + SECONDS))" \
		"$BENCH/writer.$1.json" 2>>"$BENCH/writer.err" &
	WRITER_PID=$!
	sleep 0.5 # connected and reading its tables' key ranges before the timed part
}

# writer_stop KIND: stop it (or wait for it: a COUNT), read its summary
writer_stop() {
	local kind=$1 f=$BENCH/writer.$1.json
	[ -n "$WRITER_PID" ] || return 0
	[ "${2:-}" = wait ] || kill -TERM "$WRITER_PID" 2>/dev/null || true
	wait "$WRITER_PID" || loud "the clinic writer failed ($kind): $(tail -n 2 "$BENCH/writer.err")"
	WRITER_PID=
	[ -s "$f" ] || { WAIT_MS[$kind]=-; return 0; }
	WAIT_MS[$kind]=$(node -p "const s = require('$f'); s.longest.ms ? s.longest.ms.toFixed(1) : '0'")
	WAIT_AT[$kind]=$(node -p "const s = require('$f'); s.longest.kind ? s.longest.kind + ' ' + s.longest.table : ''")
	WRITER_STMTS[$kind]=$(node -p "const s = require('$f'); s.statements + ' statements (' +
		Object.entries(s.changed).map(([k, v]) => v + ' ' + k).join(', ') + ' rows changed), ' +
		s.over_500ms + ' over 500 ms, p99 ' + s.p99_ms.toFixed(1) + ' ms'")
}

# ---------------------------------------------------------------- the comparison

# compare WHEN: every table of the source against its target (count and checksum, computed on
# each side; the targets: every registered table of that name); sets DIFFER and COMPARED.  WHEN
# ("after the refresh") says when, in the report.
compare() {
	local when=$1 pid
	my_root -N -e "SELECT TABLE_NAME, COLUMN_NAME, DATA_TYPE FROM information_schema.COLUMNS
		WHERE TABLE_SCHEMA = '$SRC_DB' ORDER BY TABLE_NAME, ORDINAL_POSITION" |
		awk -F'\t' -v db="$SRC_DB" '
			function flush() {
				if (t != "") printf "SELECT %s, COUNT(*), IFNULL(SUM(CAST(CONV(LEFT(MD5(CONCAT_WS(%s, %s)), 15), 16, 10) AS UNSIGNED)), 0) FROM `%s`.`%s`;\n", "\x27" t "\x27", "\x27|\x27", cols, db, t
			}
			$1 != t { flush(); t = $1; cols = "" }
			{
				c = "`" $2 "`"
				if ($3 == "double" || $3 == "float") e = "CAST(" c " AS DECIMAL(30,4))"
				else if ($3 == "date") e = "DATE_FORMAT(" c ", \x27%Y-%m-%d\x27)"
				else if ($3 == "datetime" || $3 == "timestamp") e = "DATE_FORMAT(" c ", \x27%Y-%m-%d %H:%i:%s\x27)"
				else e = c
				cols = cols (cols == "" ? "" : ", ") "IFNULL(" e ", \x27\\\\N\x27)"
			}
			END { flush() }' >"$BENCH/compare.sql"
	{ echo "SET SESSION time_zone = '+00:00';"; cat "$BENCH/compare.sql"; } |
		my_root -N | tr '\t' ' ' | sort >"$BENCH/source.sums" &
	pid=$!
	psql_q -F ' ' <<-'SQL' | sort >"$BENCH/target.sums"
		SELECT name, coalesce(pg_replica_checksum(to_regclass(target_table)), 'no target')
		  FROM etl_pull.tables
	SQL
	wait "$pid" || loud "the source's checksums failed"
	COMPARED=$(grep -c . "$BENCH/source.sums" || true)
	DIFFER=$(differ "$BENCH/target.sums" "$BENCH/differ.txt")
	bench_log "compare: $DIFFER of $COMPARED tables differ"
	if [ "$DIFFER" -gt 0 ]; then
		note "tables that differ $when (table, source count checksum, target count checksum): $(head -n 8 "$BENCH/differ.txt" | tr '\n' ';' | sed 's/;$//; s/;/; /g')$([ "$DIFFER" -gt 8 ] && echo ' ...')"
		[ "$STRICT" = 1 ] && loud "$DIFFER of $COMPARED tables differ from the source $when"
	fi
	return 0
}

# differ SUMS OUT: how many source tables (source.sums) SUMS lacks or has other sums for (listed
# in OUT)
differ() {
	join -a 1 -e missing -o 0,1.2,1.3,2.2,2.3 "$BENCH/source.sums" "$1" |
		awk '$2 != $4 || $3 != $5' >"$2" || true
	grep -c . "$2" || true
}

# ---------------------------------------------------------------- the report

row() { printf '| %s | %s | %s |\n' "$1" "$2" "${3:-}"; }
aim() { # VALUE CONDITION (awk, on v): PASS or MISS, "" when there is no value
	awk -v v="$1" "BEGIN { if (v == \"\" || v == \"-\") exit; print (($2) ? \"PASS\" : \"MISS\") }"
}

