# A hostile MySQL server gets nowhere (invariant 10).  The test starts the fake server of
# test/hostile/server.js (built on mysql2's server side), loads one table from it while it
# plays honest, then lets it attack, one attack per MySQL user name: a LOAD DATA LOCAL INFILE
# request, a switch to clear-text authentication, NULL and short result metadata, rows with
# too few values, and a key value built to break out of a SQL literal.  Each attack must fail
# with its own clear error, send nothing it asked for (the fake server logs what it got), run
# nothing, and leave the target exactly as it was.
source "$(dirname "$0")/../tap.sh"
tap_setup_db etl_tap_hostile_server

H=$TESTDIR/hostile_server
LOG=$H/server.log
CANARY="etl-pull-infile-canary-$$-$RANDOM"
PW="hostile-test-pw-$$-$RANDOM"
PWNED=$H/pwned # what the injected COPY ... TO PROGRAM would create
tap_hostile_server "$H" --infile "$H/secret.txt" --touch "$PWNED"
PORT=$HOSTILE_PORT
echo "$CANARY" >"$H/secret.txt"
chmod 644 "$H/secret.txt"
like "$PORT" '^[0-9]+$' "the hostile fake MySQL server is listening" ||
	{ cat "$H/server.out"; done_testing; exit 1; }

etl_psql -q -d "$TAP_DB" -v port="$PORT" -v pw="$PW" <<-'SQL' >/dev/null
	CREATE SERVER fake FOREIGN DATA WRAPPER etl_pull
	    OPTIONS (host '127.0.0.1', port :'port', dbname 'fakedb');
	CREATE USER MAPPING FOR postgres SERVER fake OPTIONS (user 'good', password :'pw');
	SELECT etl_pull.add_table('hostile_t', server => 'fake',
	                          source_table => 'fakedb.hostile_t',
	                          target_table => 'public.hostile_t');
SQL

# as_user NAME: the next load logs in as NAME, which picks the attack
as_user() {
	q "ALTER USER MAPPING FOR postgres SERVER fake OPTIONS (SET user '$1')" >/dev/null
}
target() {
	q "SELECT count(*) || ' ' || string_agg(id || ':' || val, ',' ORDER BY id) FROM public.hostile_t"
}
# what the fake server logged for user $1 (event names, in order)
events() {
	grep -aF "\"user\":\"$1\"" "$LOG" | sed -n 's/.*"event":"\([a-z_]*\)".*/\1/p' | tr '\n' ' '
}
load() {
	q "SELECT status || ' ' || rows FROM etl_pull.load_table('hostile_t')"
}
# load and keep psql's ERROR and DETAIL lines only
load_error() {
	load | grep -aE '^(ERROR|DETAIL|HINT):' | tr '\n' '|'
}

# ---- while it plays honest, the fake server is a replica like any other
is "$(load)" "succeeded 3" "an honest load from the fake server succeeds"
GOOD=$(target)
is "$GOOD" "3 1:one,2:two,3:three" "the target holds the fake server's three rows"
like "$(events good)" "handshake_response query .*quit" "the fake server logged the honest session"

# ---- LOAD DATA LOCAL INFILE: the server asks for a file of the PostgreSQL server's
as_user infile
is "$(load_error)" \
	"ERROR:  could not execute query on MySQL server \"fake\"|DETAIL:  MySQL error 2000: Load data local infile forbidden|" \
	"a LOCAL INFILE request fails the load with the client library's refusal"
like "$(events infile)" "infile_request infile_data" "the fake server asked for $H/secret.txt and got an answer"
is "$(grep -aF '"event":"infile_data"' "$LOG" | grep -o '"bytes":[0-9]*')" '"bytes":0' \
	"the answer is the empty packet of a refusal: no byte of the file was sent"
is "$(grep -acF "$CANARY" "$LOG")" "0" "the file's contents appear nowhere in what the server received"
is "$(target)" "$GOOD" "the target is unchanged"

# ---- a switch to mysql_clear_password without verified TLS
as_user cleartext
is "$(load_error)" \
	"ERROR:  could not connect to MySQL server \"fake\"|DETAIL:  MySQL error 5010: the server asked for an authentication plugin that is not allowed on this connection|HINT:  etl_pull allows authentication methods that hand the password to the server (mysql_clear_password, dialog, sha256_password, caching_sha2_password) only with ssl_mode \"verify_identity\".|" \
	"a clear-text password request fails the connection, naming the refused plugin"
like "$(events cleartext)" "^handshake_response auth_switch_request (error )?close $" \
	"the client hung up after the switch request, without an auth_switch_response"
is "$(grep -acF -e "$PW" -e "$(printf '%s' "$PW" | od -An -tx1 | tr -d ' \n')" "$LOG")" "0" \
	"the password appears nowhere in what the server received, as text or hex"
is "$(target)" "$GOOD" "the target is unchanged"

# ---- result metadata with a NULL column name
as_user nullname
is "$(load_error)" \
	"ERROR:  could not execute query on MySQL server \"fake\"|DETAIL:  The MySQL client library rejected the server's reply as malformed.|" \
	"a NULL column name in result metadata is an error, not a crash"
is "$(target)" "$GOOD" "the target is unchanged"

# ---- information_schema says a column has no name
as_user nullinfo
is "$(load_error)" \
	"ERROR:  MySQL server \"fake\" described table \"fakedb.hostile_t\" with a missing value|DETAIL:  Row 1 of information_schema.COLUMNS has a NULL COLUMN_NAME.|" \
	"a NULL COLUMN_NAME is an error naming the view and the row"
is "$(target)" "$GOOD" "the target is unchanged"

# ---- a result narrower than the statement asked for
as_user narrow
is "$(load_error)" \
	"ERROR:  MySQL server \"fake\" sent a malformed result|DETAIL:  The result has 3 columns where 9 were asked for.|" \
	"short metadata (3 of 9 columns) is an error before any row is read"
is "$(target)" "$GOOD" "the target is unchanged"

# ---- rows with fewer values than the result's columns: in the binary protocol (the default),
# then in the text protocol
as_user shortrow
is "$(load_error)" \
	"ERROR:  MySQL server \"fake\" sent a malformed result|DETAIL:  A row does not hold the 2 values its result's columns announce.|" \
	"a binary row that ends before its last value is an error, never NULLs"
is "$(target)" "$GOOD" "the target is unchanged"
like "$(events shortrow)" "prepare execute" "the fake server was asked in the binary protocol"
q "SELECT etl_pull.set_table_option('hostile_t', 'protocol', 'text')" >/dev/null
is "$(load_error)" \
	"ERROR:  MySQL server \"fake\" sent a malformed result|DETAIL:  A row does not hold the 2 values its result's columns announce (MySQL error 2000: Unknown or undefined error code).|" \
	"a row with the wrong number of fields is an error, never NULLs"
is "$(target)" "$GOOD" "the target is unchanged"
q "SELECT etl_pull.set_table_option('hostile_t', 'protocol', NULL)" >/dev/null

# ---- a binary DATETIME whose fields are out of range
as_user badtime
is "$(load_error)" \
	"ERROR:  MySQL server \"fake\" sent a malformed result|DETAIL:  Column 2 of a row holds a date whose fields are out of range.|" \
	"a binary DATETIME with month 13, day 40, hour 25 is an error before it is used"
is "$(target)" "$GOOD" "the target is unchanged"

# ---- a binary value whose length prefix points past the row (and past the client's buffer):
# Connector/C 3.3 refuses that one itself (binary_fetch would too), a short row it does not
as_user longlen
like "$(load_error)" \
	"^ERROR:  (could not fetch rows from|MySQL server \"fake\" sent a malformed result).*16777215" \
	"a length past the row is an error before a byte of it is read"
is "$(target)" "$GOOD" "the target is unchanged"

# ---- the session variables a load reads back around a table's mysql_settings (another
# table, hostile_set): a reply of the wrong shape and a NULL are errors, never a pass
q "SELECT etl_pull.add_table('hostile_set', server => 'fake', source_table => 'fakedb.hostile_t',
                             target_table => 'public.hostile_set');
   SELECT etl_pull.set_table_option('hostile_set', 'mysql_settings', 'sort_buffer_size=1048576')" >/dev/null
as_user good
is "$(q "SELECT status FROM etl_pull.load_table('hostile_set')" | grep -aE '^(ERROR|DETAIL):' | tr '\n' '|')" \
	"ERROR:  MySQL server \"fake\" sent a malformed result|DETAIL:  The result has 1 columns where 8 were asked for.|" \
	"mysql_settings: session variables in a result of 1 column are an error"
as_user sessnull
is "$(q "SELECT status FROM etl_pull.load_table('hostile_set')" | grep -aE '^(ERROR|DETAIL):' | tr '\n' '|')" \
	"ERROR:  MySQL server \"fake\" sent a malformed result|DETAIL:  Session variable \"sql_mode\" is NULL.|" \
	"mysql_settings: a NULL sql_mode is an error"
is "$(q "SELECT to_regclass('public.hostile_set') IS NULL")" "t" "... and nothing was loaded"
q "SELECT etl_pull.remove_table('hostile_set')" >/dev/null

# ---- a key built to break out of the literal delete_missing used to splice it into
q "SELECT etl_pull.set_table_option('hostile_t', 'extraction', 'incremental');
   SELECT etl_pull.set_table_option('hostile_t', 'incremental_columns', 'id');
   SELECT etl_pull.set_table_option('hostile_t', 'delete_missing', 'true')" >/dev/null
as_user good
is "$(load)" "succeeded 3" "an honest first incremental load succeeds (and sets the watermark)"
like "$(load)" "^succeeded [0-9]+$" "an honest incremental load with delete_missing succeeds"
GOOD=$(target)
is "$GOOD" "2 1:one,2:two" "delete_missing removed the key the honest fake server no longer lists"
as_user inject
INJECTION="1}'::bigint[]); COPY (SELECT 1) TO PROGRAM 'touch $PWNED'; --"
is "$(load_error)" \
	"ERROR:  MySQL server \"fake\" sent a malformed result|DETAIL:  A value of \`id\` is \"${INJECTION:0:64}...\", not a 64-bit integer.|" \
	"a key value built to break out of a SQL literal is refused as not an integer"
like "$(grep -aF '"user":"inject"' "$LOG" | grep -F 'BETWEEN')" "SELECT \`id\` FROM" \
	"the fake server was asked for the keys (the attack was delivered)"
ok "$([ ! -e "$PWNED" ]; echo $?)" "the file the injected COPY ... TO PROGRAM would write is absent"
is "$(target)" "$GOOD" "the target is unchanged"

# ---- every failed run is recorded as failed
is "$(q "SELECT count(*) FROM etl_pull.runs WHERE table_name = 'hostile_t' AND status = 'failed'")" \
	"10" "the ten attacks are ten failed runs"

# ---- import_tables: every value of information_schema is checked before use
before=$(q "SELECT count(*) FROM etl_pull.tables")
as_user imp_badname
is "$(q "SELECT * FROM etl_pull.import_tables('fake')" | grep -aE '^(ERROR|DETAIL):' | tr '\n' '|')" \
	"ERROR:  MySQL server \"fake\" sent an invalid name in information_schema.TABLES|DETAIL:  A row has a NULL TABLE_NAME.|" \
	"import_tables: a NULL table name is an error naming the view"
is "$(q "SELECT count(*) FROM etl_pull.tables")" "$before" "... and nothing is registered"
as_user imp_odd
is "$(q "SELECT string_agg(name || ' ' || action || ' ' || coalesce(estimated_rows::text, '-') || ' '
                          || coalesce(estimated_bytes::text, '-') || ' ' || coalesce(extraction, '-')
                          || ' ' || coalesce(array_to_string(primary_key, ','), '-'), ', ' ORDER BY name)
         FROM etl_pull.import_tables('fake')")" \
	"e registered - - full -, hostile_t exists 3 16384 incremental id, odd\`seq skipped - - - -" \
	"import_tables: a table listed twice counts once, sizes that are no numbers are unknown, a sequence is skipped"
is "$(q "SELECT array_to_string(notes, ' / ') FROM etl_pull.import_tables('fake') WHERE name = 'e'")" \
	"registered already: its settings are left as they are / engine x'); DROP TABLE t; --: not covered by a consistent snapshot / no primary key: loads full" \
	"... an engine named like SQL is only text"
is "$(q "SELECT source_table || ' ' || extraction FROM etl_pull.tables WHERE name = 'e'")" \
	"\`fakedb\`.\`e\` full" "... and the table without a key registers full"

# ---- a server that holds the clean-up of a failed load (issue 25): etl_pull stops the
# statement of a cancelled load with KILL QUERY over a second connection.  trickle answers that
# connection's greeting one byte every 0.5 s, trickle_kill its KILL: 1.3 waited for as long as
# the bytes came, deaf to pg_cancel_backend and pg_terminate_backend.  Now the clean-up ends
# within its 5 s bound, and at once on pg_terminate_backend.
q "SELECT etl_pull.add_table('held_t', server => 'fake', source_table => 'fakedb.hostile_t',
                             target_table => 'public.held_t')" >/dev/null
CRASHES=$(grep -ac 'terminated by signal' "$ETL_PULL_PGLOG")
now_ms() { echo $(($(date +%s%N) / 1000000)); }
# wait_for COMMAND: until COMMAND succeeds, at most 30 s
wait_for() {
	local i
	for ((i = 0; i < 300; i++)); do
		eval "$1" && return 0
		sleep 0.1
	done
	return 1
}
# count EVENT: how many times the fake server logged "event":"EVENT"
count() { grep -ac "\"event\":\"$1\"" "$LOG"; }
# held_load: start loading held_t with statement_timeout 2 s in the background (LOAD_PID, its
# output in $H/held.out); finish_load: wait for it, at most 60 s (past that the fake server is
# stopped, which lets the load end), and print the milliseconds since $1 and psql's first
# ERROR or FATAL line
held_load() {
	PGOPTIONS='-c client_min_messages=warning -c statement_timeout=2s' etl_psql -d "$TAP_DB" -Atq \
		-c "SELECT status FROM etl_pull.load_table('held_t')" >"$H/held.out" 2>&1 &
	LOAD_PID=$!
}
finish_load() {
	wait_for "! kill -0 $LOAD_PID 2>/dev/null" || wait_for "! kill -0 $LOAD_PID 2>/dev/null" || tap_hostile_stop
	wait "$LOAD_PID"
	echo "$(($(now_ms) - $1)) $(grep -aE '^(ERROR|FATAL):' "$H/held.out" | head -n 1)"
}

# cancelled USER WHAT: as USER, a load cancelled by statement_timeout ends within 10 s, while
# WHAT gets a byte every 0.5 s
cancelled() {
	local t0 res
	as_user "$1"
	t0=$(now_ms)
	held_load
	res=$(finish_load "$t0")
	like "$res" "^[0-9]+ ERROR:  canceling statement due to statement timeout$" \
		"$1: the load is cancelled by statement_timeout"
	ok "$([ "${res%% *}" -lt 10000 ]; echo $?)" \
		"$1: it ends within 10 s (${res%% *} ms), while $2 gets a byte every 0.5 s"
}

greetings=$(count trickle)
cancelled trickle "the KILL connection"
is "$(($(count trickle) - greetings))" "1" "trickle: the KILL connection's greeting was trickled"
wait_for "[ \$(grep -acF '\"trickled\":' \"\$LOG\") -ge $(count trickle) ]"
like "$(grep -aF '"trickled":' "$LOG" | tail -n 1)" '"bytes":([0-9]|1[0-9])}$' \
	"trickle: etl_pull hung up on it after fewer than 20 bytes"

# pg_terminate_backend while the clean-up waits for the trickle: the backend exits at once (the
# clean-up's bound is 5 s from its start; the terminate comes a fraction of a second after the
# trickle begins, so a backend that ignored it would take over 4 s)
greetings=$(count trickle)
held_load
wait_for "[ \$(count trickle) -gt $greetings ]"
pid=$(q "SELECT pid FROM pg_stat_activity WHERE datname = current_database()
          AND query LIKE '%load_table(''held_t'')%' AND pid <> pg_backend_pid()")
like "$pid" '^[0-9]+$' "trickle: the backend is in the clean-up, its KILL connection trickled"
t0=$(now_ms)
q "SELECT pg_terminate_backend($pid)" >/dev/null
wait_for "[ \"\$(q \"SELECT count(*) FROM pg_stat_activity WHERE pid = $pid\")\" = 0 ]"
gone=$(($(now_ms) - t0))
ok "$([ "$gone" -lt 3000 ]; echo $?)" "trickle: pg_terminate_backend ends it within 3 s (${gone} ms)"
like "$(finish_load "$t0")" "^[0-9]+ FATAL:  terminating connection due to administrator command$" \
	"trickle: the session is terminated, not crashed"

# trickle_kill: the KILL connection logs in, and the answer to KILL QUERY is trickled
cancelled trickle_kill "the answer to KILL QUERY"
like "$(events trickle_kill)" "stall handshake_response query trickle " \
	"trickle_kill: the KILL connection logged in, sent KILL QUERY and was trickled"
is "$(grep -ac 'terminated by signal' "$ETL_PULL_PGLOG")" "$CRASHES" "no backend crashed"
is "$(q "SELECT count(*) FROM pg_class WHERE relname = 'held_t'")" "0" \
	"no load of held_t committed anything"

tap_hostile_stop
done_testing
