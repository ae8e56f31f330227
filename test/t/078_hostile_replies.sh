# A hostile or impersonated MySQL server's malformed replies are errors, never a crash (issue 25,
# item 2).  The fake server of test/hostile/server.js, calling itself MariaDB, answers every
# statement etl_pull sends that is not a row fetch (the information_schema lookups, MIN/MAX and
# COUNT, the watermark's MAX, the sums of delete_missing, the verify and diff aggregates, the GTID
# and binary log position, a status variable) honestly, except the statements of one class for
# the MySQL user bad_<class>_<shape>, which it answers in one malformed shape: a NULL, a column
# too few or too many, a number that is text or past 64 bits, no row, two rows.  1.3 crashed the
# backend on a NULL MAX() to the parallel strategy's key range (strtoll(NULL)).
#
# First every class in every shape, through each function that sends it: a shape no real
# server sends must be an ERROR with an SQLSTATE (never XX000, an internal error); a shape that
# is a possible answer (a NULL MAX() of an empty table, no index) may succeed.  Then rounds of a
# random class and shape through a random function that sends it (seeded: ETL_PULL_SEED replays
# a run; ETL_PULL_ROUNDS sets their number): each succeeds or is an ERROR with an SQLSTATE.  The
# backends must never crash: the postmaster never restarts, and its log has no backend
# terminated by a signal.  The test takes a cluster of its own, since on a crash the whole
# cluster restarts.
source "$(dirname "$0")/../tap.sh"
tap_own_cluster
tap_setup_db etl_tap_hostile_replies

H=$TESTDIR/hostile_replies
LOG=$H/server.log
tap_hostile_server "$H" --flavour mariadb
PORT=$HOSTILE_PORT
like "$PORT" '^[0-9]+$' "the hostile fake MySQL server is listening" ||
	{ cat "$H/server.out"; done_testing; exit 1; }

# One registered table per way of loading fakedb.hostile_t, each with a target of its own
etl_psql -q -d "$TAP_DB" -v port="$PORT" <<-'SQL' >/dev/null
	CREATE SERVER fake FOREIGN DATA WRAPPER etl_pull
	    OPTIONS (host '127.0.0.1', port :'port', dbname 'fakedb');
	CREATE USER MAPPING FOR postgres SERVER fake OPTIONS (user 'bad_none_none', password 'pw');
	CREATE SCHEMA imp;
	SELECT etl_pull.add_table(t, server => 'fake', source_table => 'fakedb.hostile_t',
	                          target_table => 'public.' || t)
	  FROM unnest(ARRAY['full_t', 'par_t', 'inc_t', 'app_t', 'cnt_t', 'diff_t', 'grp_t']) t;
	SELECT etl_pull.set_table_option('par_t', 'strategy', 'parallel');
	SELECT etl_pull.set_table_option(t, 'extraction', 'incremental'),
	       etl_pull.set_table_option(t, 'incremental_columns', 'id')
	  FROM unnest(ARRAY['inc_t', 'app_t']) t;
	SELECT etl_pull.set_table_option('inc_t', 'delete_missing', 'true');
	SELECT etl_pull.set_table_option('app_t', 'append_only', 'true');
	SELECT etl_pull.set_table_option('cnt_t', 'verify', 'count');
	SELECT etl_pull.set_table_option('diff_t', 'extraction', 'diff');
	SELECT etl_pull.set_table_option('grp_t', 'load_group', 'grp');
SQL

# The functions that send the statements, by name
declare -A CALL=(
	[load_full]="SELECT etl_pull.load_table('full_t')"
	[load_par]="SELECT etl_pull.load_table('par_t')"
	[load_inc]="SELECT etl_pull.load_table('inc_t')"
	[load_app]="SELECT etl_pull.load_table('app_t')"
	[load_cnt]="SELECT etl_pull.load_table('cnt_t')"
	# (by range hashes: with the optimizations on, a diff of an integer key reads rows instead)
	[load_diff]="SELECT etl_pull.load_table('diff_t') FROM (SELECT set_config('etl_pull.enable_optimizations', 'off', true)) o"
	[load_all]="SELECT count(*) FROM etl_pull.load_all('grp', consistent => true)"
	[verify]="SELECT etl_pull.verify_table('full_t')"
	[plan]="SELECT count(*) FROM etl_pull.plan('full_t')"
	[import]="SELECT count(*) FROM etl_pull.import_tables('fake', target_schema => 'imp')"
)
# Each class of statements (server.js's REPLY_CLASSES): the functions that send it, and the
# shapes that no real server sends it in, which must be errors
CLASSES=(columns pk indexes checks signature sizes minmax appendmin watermark rangesum rangekeys count
	rangehash rowhash gtid binlog status schemata imptables impkeys impcolumns)
SHAPES=(null few many text huge empty two)
declare -A SENDERS=(
	[columns]=load_full [pk]=load_full [checks]=load_full [sizes]="plan verify"
	[signature]="load_full plan"
	[indexes]=plan [status]=plan [minmax]="load_par plan verify" [appendmin]=load_app
	[watermark]=load_inc [rangesum]=load_inc [rangekeys]=load_inc [count]=load_cnt
	[rangehash]="verify load_diff" [rowhash]=verify [gtid]="load_par load_all"
	[binlog]="load_par load_all" [schemata]=import [imptables]=import [impkeys]=import
	[impcolumns]=import
)
declare -A MUST_FAIL=(
	[columns]="null few many text huge empty two" [pk]="null few many two"
	[indexes]="null few many text huge two" [checks]="few many"
	[signature]="null few many text huge two" [sizes]="few many text huge two" [minmax]="null few many text huge empty two"
	[appendmin]="few many text huge empty two" [watermark]="few many text huge empty two"
	[rangesum]="null few many text huge empty two" [rangekeys]="null few many text huge"
	[count]="null few many text huge empty two" [rangehash]="null few many text huge two"
	[rowhash]="null few many text huge" [gtid]="few many text huge empty two"
	[binlog]="null few text huge two" [status]="few many two" [schemata]="few many empty"
	[imptables]="null few many" [impkeys]="null few many" [impcolumns]="null few many"
)

# The shared state every call starts from: the targets loaded, the watermarks set (the user
# bad_none_none gets honest answers only)
PGOPTIONS='-c client_min_messages=warning' etl_psql -q -d "$TAP_DB" <<-'SQL' >/dev/null
	SELECT etl_pull.load_table(t)
	  FROM unnest(ARRAY['full_t', 'par_t', 'inc_t', 'app_t', 'cnt_t', 'diff_t', 'grp_t']) t;
SQL
is "$(q "SELECT string_agg(table_name || ' ' || status, ', ' ORDER BY table_name) FROM etl_pull.runs")" \
	"app_t succeeded, cnt_t succeeded, diff_t succeeded, full_t succeeded, grp_t succeeded, inc_t succeeded, par_t succeeded" \
	"while the fake server answers honestly, every way of loading succeeds"

STARTED=$(q "SELECT pg_postmaster_start_time()")
SCRIPT=$H/calls.sql
OUT=$H/calls.out

# add_call USER CALLER: append to $SCRIPT a call of CALLER as MySQL user USER, which prints
# "@@ USER CALLER SQLSTATE" (00000 when it succeeded) and, for an error, its message
add_call() {
	cat >>"$SCRIPT" <<-EOF
		ALTER USER MAPPING FOR postgres SERVER fake OPTIONS (SET user '$1');
		${CALL[$2]};
		\\echo @@ $1 $2 :SQLSTATE
		\\if :ERROR
		\\echo @@@ :'LAST_ERROR_MESSAGE'
		\\endif
	EOF
}

# run_calls: run $SCRIPT in one session, the results into $OUT
run_calls() {
	: >"$OUT"
	PGOPTIONS='-c client_min_messages=error' etl_psql -d "$TAP_DB" -q -v ON_ERROR_STOP=0 \
		-o /dev/null -f "$SCRIPT" >"$OUT" 2>"$OUT.err" || true
}

# result USER CALLER: the SQLSTATE that call ended with, or "missing"
result() {
	local r
	r=$(grep -m1 -F "@@ $1 $2 " "$OUT" | awk '{ print $4 }')
	echo "${r:-missing}"
}
# message USER: the error message of the call as USER
message() {
	grep -A1 -F "@@ $1 " "$OUT" | sed -n 's/^@@@ //p' | head -n 1
}
# delivered USER: whether the fake server answered USER in the malformed shape
delivered() {
	grep -qF "\"user\":\"$1\",\"event\":\"malformed\"" "$LOG"
}

# ---- every class in every shape, through every function that sends it
: >"$SCRIPT"
n=0
for class in "${CLASSES[@]}"; do
	for shape in "${SHAPES[@]}"; do
		for caller in ${SENDERS[$class]}; do
			n=$((n + 1))
			add_call "bad_${class}_${shape}_m$n" "$caller"
		done
	done
done
run_calls
n=0
for class in "${CLASSES[@]}"; do
	for shape in "${SHAPES[@]}"; do
		for caller in ${SENDERS[$class]}; do
			n=$((n + 1))
			user=bad_${class}_${shape}_m$n
			state=$(result "$user" "$caller")
			if [[ " ${MUST_FAIL[$class]} " == *" $shape "* ]]; then
				if delivered "$user" && [[ $state =~ ^[0-9A-Z]{5}$ ]] &&
					[ "$state" != 00000 ] && [ "$state" != XX000 ]; then
					ok 0 "$class in shape $shape, to $caller: ERROR $state"
				else
					ok 1 "$class in shape $shape, to $caller: an ERROR with an SQLSTATE"
					echo "#   got: $state $(message "$user")"
					delivered "$user" || echo "#   (the fake server did not deliver the shape)"
				fi
			else
				[[ $state =~ ^[0-9A-Z]{5}$ ]] && [ "$state" != XX000 ]
				ok $? "$class in shape $shape, to $caller (a possible answer): $state"
			fi
		done
	done
done

# ---- random classes, shapes and senders
SEED=${ETL_PULL_SEED:-$((RANDOM * 32768 + RANDOM))}
ROUNDS=${ETL_PULL_ROUNDS:-300}
echo "# random rounds: $ROUNDS, seed $SEED (ETL_PULL_SEED=$SEED replays them)"
RANDOM=$SEED
: >"$SCRIPT"
declare -a R_USER R_CALLER
for ((r = 1; r <= ROUNDS; r++)); do
	class=${CLASSES[RANDOM % ${#CLASSES[@]}]}
	shape=${SHAPES[RANDOM % ${#SHAPES[@]}]}
	read -ra senders <<<"${SENDERS[$class]}"
	R_USER[r]=bad_${class}_${shape}_r$r
	R_CALLER[r]=${senders[RANDOM % ${#senders[@]}]}
	add_call "${R_USER[r]}" "${R_CALLER[r]}"
done
started=$SECONDS
run_calls
bad=0
errors=0
for ((r = 1; r <= ROUNDS; r++)); do
	state=$(result "${R_USER[r]}" "${R_CALLER[r]}")
	if ! [[ $state =~ ^[0-9A-Z]{5}$ ]] || [ "$state" = XX000 ]; then
		bad=$((bad + 1))
		echo "#   round $r, ${R_USER[r]} to ${R_CALLER[r]}: $state $(message "${R_USER[r]}")"
	elif [ "$state" != 00000 ]; then
		errors=$((errors + 1))
	fi
done
echo "# $ROUNDS rounds in $((SECONDS - started)) s: $errors errors, $((ROUNDS - errors - bad)) successes"
is "$bad" 0 "each of $ROUNDS random malformed replies was a success or an ERROR with an SQLSTATE"

# ---- no backend crashed
is "$(q "SELECT pg_postmaster_start_time()")" "$STARTED" "the postmaster never restarted"
is "$(grep -acE 'terminated by signal|terminated by exception|terminated; reinitializing' \
	"$ETL_PULL_PGLOG")" 0 "the server log shows no backend terminated by a signal, no restart"

# ---- an honest server is still loaded as before
q "ALTER USER MAPPING FOR postgres SERVER fake OPTIONS (SET user 'bad_none_none')" >/dev/null
is "$(q "SELECT status || ' ' || rows FROM etl_pull.load_table('par_t')")" "succeeded 3" \
	"afterwards, an honest parallel load from the fake server succeeds"

tap_hostile_stop
done_testing
