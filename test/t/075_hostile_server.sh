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

tap_hostile_stop
done_testing
