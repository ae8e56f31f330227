# Invalid UTF-8 from the source never reaches a message, a catalog or DDL as it is (issue 25,
# item 12).  A value of a binary column with the bytes 0xFF 0x41 0xFE, bound for a uuid and keyed
# by such bytes too (real MariaDB), fails the load, then is rejected; a column that a hostile
# server names "v\xFFl" is refused.  The client's errors, etl_pull.runs and etl_pull.rejects hold
# the bytes escaped (\xFF), pg_attribute gets no such name, and pg_dump's copy of the database
# restores with every row of etl_pull.runs.  1.3 stored the bytes as they came: the restore lost
# every row of etl_pull.runs, and the fake server's column name reached pg_attribute.
source "$(dirname "$0")/../tap.sh"
tap_setup_db etl_tap_invalid_utf8
RESTORED=etl_tap_invalid_utf8_restored
DUMP=$(mktemp -d)
chmod 755 "$DUMP"
drop_restored() {
	PGOPTIONS="-c client_min_messages=warning" etl_psql -q -d postgres \
		-c "DROP DATABASE IF EXISTS $RESTORED" >/dev/null 2>&1
	rm -rf "$DUMP"
}
tap_on_exit drop_restored

# the ERROR, DETAIL, HINT and CONTEXT lines of a load, one line
load_error() {
	q "SELECT status FROM etl_pull.load_table('$1')" | grep -aE '^(ERROR|DETAIL|HINT|CONTEXT):' | tr '\n' '|'
}
# whether every text of etl_pull.runs and etl_pull.rejects is valid in the database's encoding
# (convert_to checks it, and fails on a byte that is not)
all_valid() {
	q "SELECT (SELECT count(*) FROM etl_pull.runs
	            WHERE length(convert_to(concat_ws('|', error, notes, strategy_reason,
	                                              source_position, schema_changes::text), 'UTF8')) >= 0)
	          || ' ' ||
	          (SELECT count(*) FROM etl_pull.rejects
	            WHERE length(convert_to(concat_ws('|', row_key, column_name, reason, raw_text), 'UTF8')) >= 0)"
}

# ---- real MariaDB: bytes that are no UTF-8 in a key and a value bound for a uuid
etl_mysql -e "DROP TABLE IF EXISTS bad_bytes;
	CREATE TABLE bad_bytes (id varbinary(10) PRIMARY KEY, v varbinary(10));
	INSERT INTO bad_bytes VALUES (x'FF41FE', x'FF41FE');"
q "SELECT etl_pull.add_table('bad_bytes', server => 'replica');
   SELECT etl_pull.set_table_option('bad_bytes', 'column_types', 'v:uuid')" >/dev/null
is "$(load_error bad_bytes)" \
	'ERROR:  invalid byte sequence for encoding "UTF8": 0xff|HINT:  Set "invalid_utf8" to "replace" for this table to replace such bytes.|CONTEXT:  column "v" of MySQL table "etl_test.bad_bytes", row with key (id=\xFFA\xFE)|' \
	"a binary value bound for a uuid is checked as text first; the key is shown escaped"
q "SELECT etl_pull.set_table_option('bad_bytes', 'invalid_utf8', 'replace')" >/dev/null
is "$(load_error bad_bytes)" \
	"ERROR:  invalid input syntax for type uuid: \"$(printf '\xef\xbf\xbdA\xef\xbf\xbd')\"|CONTEXT:  column \"v\" of MySQL table \"etl_test.bad_bytes\", row with key (id=\\xFFA\\xFE)|" \
	"with invalid_utf8 = replace the input function sees U+FFFD, and quotes valid text"
q "SELECT etl_pull.set_table_option('bad_bytes', 'on_error', 'reject')" >/dev/null
is "$(q "SELECT status || ' ' || rejected_rows FROM etl_pull.load_table('bad_bytes')")" "succeeded 1" \
	"on_error = reject: the row is rejected"
is "$(q "SELECT row_key || ' ' || column_name || ' ' || coalesce(raw_text, '-') || ' ' || raw_bytes::text
          FROM etl_pull.rejects WHERE table_name = 'bad_bytes'")" 'id=\xFFA\xFE v - \xff41fe' \
	"etl_pull.rejects keeps the key escaped and the value as its bytes"
is "$(q "SELECT string_agg(status || ': ' || coalesce(error, ''), ' / ' ORDER BY run_id)
          FROM etl_pull.runs WHERE table_name = 'bad_bytes'")" \
	"failed: invalid byte sequence for encoding \"UTF8\": 0xff / failed: invalid input syntax for type uuid: \"$(printf '\xef\xbf\xbdA\xef\xbf\xbd')\" / succeeded: " \
	"etl_pull.runs records both failures in valid text"

# ---- the hostile fake server names a column with a byte that is no UTF-8
tap_fake_server badname || { done_testing; exit 1; }
q "SELECT etl_pull.add_table('hostile_t', server => 'fake', source_table => 'fakedb.hostile_t');
   SELECT etl_pull.set_table_option('hostile_t', 'protocol', 'text')" >/dev/null
is "$(load_error hostile_t)" \
	'ERROR:  column 2 of MySQL table "fakedb.hostile_t" has a name that is not valid UTF-8, or not all in this database'"'"'s encoding|DETAIL:  MySQL server "fake" sent the name "v\xFFl" (a byte that is not part of a character shown as \xHH).|HINT:  Rename the column at the source, or load the table through a view that renames it.|' \
	"a column named with the byte 0xFF is refused, its name shown escaped"
is "$(q "SELECT count(*) FROM pg_class WHERE relname = 'hostile_t'")" "0" "no target was created"
is "$(q "SELECT count(*) FROM pg_attribute WHERE attname::text LIKE 'v%l' AND attrelid > 16384")" "0" \
	"pg_attribute has no column of that name"
like "$(q "SELECT error FROM etl_pull.runs WHERE table_name = 'hostile_t' ORDER BY run_id DESC LIMIT 1")" \
	'^column 2 of MySQL table "fakedb.hostile_t" has a name that is not valid UTF-8.*"v\\xFFl"' \
	"the failed run is recorded, the name escaped"

# ---- every text is valid, and a dump restores every row
is "$(all_valid)" "$(q "SELECT (SELECT count(*) FROM etl_pull.runs) || ' ' || (SELECT count(*) FROM etl_pull.rejects)")" \
	"every text in etl_pull.runs and etl_pull.rejects is valid UTF-8"
PGOPTIONS="-c client_min_messages=warning" etl_psql -q -d postgres \
	-c "DROP DATABASE IF EXISTS $RESTORED" -c "CREATE DATABASE $RESTORED" >/dev/null
"$ETL_PG_BIN/pg_dump" -d "$TAP_DB" >"$DUMP/dump.sql" 2>"$DUMP/dump.err"
"$ETL_PG_BIN/psql" -X -q -d "$RESTORED" -f "$DUMP/dump.sql" >/dev/null 2>"$DUMP/restore.err"
is "$(grep -ac 'ERROR' "$DUMP/restore.err")" "0" "the dump restores without an error"
count() {
	PGOPTIONS='-c client_min_messages=warning' etl_psql -d "$1" -Atq \
		-c "SELECT (SELECT count(*) FROM etl_pull.runs) || ' runs, ' || (SELECT count(*) FROM etl_pull.rejects) || ' rejects'" 2>&1
}
is "$(count "$RESTORED")" "$(count "$TAP_DB")" "the restored database has every row of etl_pull.runs and etl_pull.rejects"

done_testing
