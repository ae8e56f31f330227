# A hostile server's binary log (issue 27, item 7): the fake MySQL server of test/hostile/server.js
# answers COM_BINLOG_DUMP with events spoiled in one way each (a value longer than its row, a table
# map whose metadata ends early, an end_log_pos that disagrees with the event's length, a purged
# position), and with a truncated or bit-flipped event on each of many dumps: every one is a clean
# ERROR (08P01, or 0A000 for what the stream refuses to read), never a crash, an internal error, a
# hang or a value read past its row.
source "$(dirname "$0")/../tap.sh"
tap_setup_db etl_tap_binlog_hostile

H=$TESTDIR/hostile_binlog
tap_hostile_server "$H" --flavour mariadb
like "$HOSTILE_PORT" '^[0-9]+$' "the hostile fake MySQL server is listening" ||
	{ cat "$H/server.out"; done_testing; exit 1; }
for mode in good longval shortmeta badpos gone fuzz pos0 nullsum; do
	etl_psql -q -d "$TAP_DB" -v port="$HOSTILE_PORT" -v mode="$mode" <<-'SQL' >/dev/null
		SELECT format('CREATE SERVER %I FOREIGN DATA WRAPPER etl_pull OPTIONS (host %L, port %L, dbname %L)',
		              'fake_' || :'mode', '127.0.0.1', :'port', 'fakedb') \gexec
		SELECT format('CREATE USER MAPPING FOR postgres SERVER %I OPTIONS (user %L, password %L)',
		              'fake_' || :'mode', 'binlog_' || :'mode', 'pw') \gexec
	SQL
done
# events MODE: what binlog_events reads from fake_MODE, or its error as SQLSTATE and message
events() {
	q "DO \$\$ DECLARE r text; BEGIN
	     SELECT string_agg(concat_ws(' ', kind, table_name, new_values::text), ' | ' ORDER BY position)
	       INTO r FROM etl_pull.binlog_events('fake_$1', 'fake-bin.000001', 4, 100);
	     RAISE WARNING '%', r;
	   EXCEPTION WHEN OTHERS THEN RAISE WARNING '% %', SQLSTATE, SQLERRM; END \$\$"
}

is "$(events good)" \
	"WARNING:  rotate | format | gtid | query | table_map fakedb.hostile_t | insert fakedb.hostile_t {1,one} | insert fakedb.hostile_t {2,two} | query" \
	"an honest binary log decodes"
is "$(events longval)" \
	"WARNING:  08P01 malformed row in the binary log for table \"fakedb.hostile_t\", column 2" \
	"a value that announces more bytes than its row holds is 08P01, naming table and column"
is "$(events shortmeta)" "WARNING:  08P01 malformed binary log event of type 19" \
	"a table map whose column metadata ends early is 08P01"
is "$(events badpos)" \
	"WARNING:  08P01 MySQL server \"fake_badpos\" sent a binary log event out of place" \
	"an end_log_pos that disagrees with the event's length is 08P01"
is "$(events gone)" \
	"WARNING:  55PB1 MySQL server \"fake_gone\" no longer has the binary log position asked for" \
	"error 1236 (a purged log) is SQLSTATE 55PB1"

positions() {
	q "SELECT string_agg(position || '-' || next_position || ' ' || kind, ', ' ORDER BY position, next_position)
	     FROM etl_pull.binlog_events('fake_$1', 'fake-bin.000001', 4, 100)"
}
GOOD_POSITIONS=$(positions good)
like "$GOOD_POSITIONS" "^4-4 rotate, 4-[0-9]+ format" "positions are counted from the file's offset 4"
is "$(positions pos0)" "$GOOD_POSITIONS" \
	"events inside a group with end_log_pos 0 (MariaDB 11.4 and later) get the positions counted from their lengths"
is "$(events nullsum)" "WARNING:  08P01 MySQL server \"fake_nullsum\" sent a malformed result" \
	"no row for the binary log's checksum algorithm is 08P01 (the client library would read a row that is not there)"

# Many dumps, each with one event truncated or one bit flipped: only clean outcomes, and the
# backend survives them all (a crash would end this session)
q "CREATE TABLE fuzz_outcome (i int, sqlstate text, message text)" >/dev/null
is "$(q "DO \$\$ DECLARE i int; BEGIN
	   FOR i IN 1..200 LOOP
	     BEGIN
	       PERFORM * FROM etl_pull.binlog_events('fake_fuzz', 'fake-bin.000001', 4, 100);
	       INSERT INTO fuzz_outcome VALUES (i, 'ok', NULL);
	     EXCEPTION WHEN OTHERS THEN
	       INSERT INTO fuzz_outcome VALUES (i, SQLSTATE, SQLERRM);
	     END;
	   END LOOP;
	 END \$\$"; q "SELECT 'alive'")" "alive" "200 truncated or bit-flipped binary logs, and the backend survives them all"
is "$(q "SELECT string_agg(DISTINCT sqlstate || ' ' || message, '; ') FROM fuzz_outcome
          WHERE sqlstate NOT IN ('ok', '08P01', '0A000')")" "" \
	"each decodes or is a clean 08P01 (0A000 for an event the stream refuses)"
q "SELECT sqlstate, count(*), count(DISTINCT message) FROM fuzz_outcome GROUP BY 1 ORDER BY 1" | sed 's/^/# outcome /'
ok "$(q "SELECT CASE WHEN count(*) FILTER (WHERE sqlstate = 'ok') > 0
                     AND count(DISTINCT message) FILTER (WHERE sqlstate = '08P01') >= 5 THEN 0 ELSE 1 END
           FROM fuzz_outcome")" "the spoiled logs reach many different checks, and some decode"
is "$(grep -c '"binlog_dump"' "$H/server.log")" "207" "every dump reached the fake server"
tap_hostile_stop
done_testing
