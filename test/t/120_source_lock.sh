# Setting source_lock (issue 28 item 3): a load of a MyISAM table whose
# source_lock is read holds FLUSH TABLES ... WITH READ LOCK on it for the
# whole read, on a connection of its own: the parallel strategy reads its
# chunks under it (instead of giving way to stream), verify = full checks
# under it and succeeds against a writer that never stops (where without
# it the load fails "kept changing"), plan() and the run's notes say so,
# and the lock is released when a load fails (a cancel).
source "$(dirname "$0")/../tap.sh"
tap_setup_db etl_tap_source_lock

ROWS=60000
etl_mysql -e "
	DROP TABLE IF EXISTS held_big, held_ctl;
	DROP PROCEDURE IF EXISTS held_writer;
	CREATE TABLE held_big (id int NOT NULL AUTO_INCREMENT PRIMARY KEY, val int NOT NULL,
	  note varchar(200), updated datetime(6) NOT NULL) ENGINE = MyISAM;
	INSERT INTO held_big (id, val, note, updated)
	  SELECT seq, 1000, REPEAT(CHAR(65 + seq % 26), 100), '2024-01-01 00:00:00' + INTERVAL seq SECOND
	    FROM seq_1_to_$ROWS;
	CREATE TABLE held_ctl (k varchar(10) PRIMARY KEY, v int) ENGINE = InnoDB;"
# held_writer(): until held_ctl has a row 'stop', every 5 ms, one statement that moves 1 from
# a row near the start of the key to one near its end (SUM(val) stays the same: a read that
# sees one half of a move and not the other breaks it), and one that appends a row (ids stay
# 1..MAX(id), no holes)
etl_mysql -e "
	DELIMITER //
	CREATE PROCEDURE held_writer()
	BEGIN
	  DECLARE i int DEFAULT 0;
	  WHILE NOT EXISTS (SELECT 1 FROM held_ctl WHERE k = 'stop') DO
	    UPDATE held_big SET val = IF(id < 1000, val - 1, val + 1), updated = SYSDATE(6)
	     WHERE id IN (1 + i % 997, $ROWS - i % 997);
	    INSERT INTO held_big (val, note, updated) VALUES (0, 'new', SYSDATE(6));
	    DO SLEEP(0.005);
	    SET i = i + 1;
	  END WHILE;
	END//"
cleanup() {
	etl_mysql -e "INSERT IGNORE INTO held_ctl VALUES ('stop', 0)" 2>/dev/null
	etl_mysql -e "DROP TABLE IF EXISTS held_big, held_ctl; DROP PROCEDURE IF EXISTS held_writer" 2>/dev/null
}
tap_on_exit cleanup
SUM=$((ROWS * 1000))
TESTDIR=$(mktemp -d)

q "SELECT etl_pull.add_table('held_big', server => 'replica');
   SELECT etl_pull.set_table_option('held_big', 'strategy', 'parallel');
   SELECT etl_pull.set_table_option('held_big', 'skip_unchanged', 'off')" >/dev/null

# the writer runs from start_writer until stop_writer
start_writer() {
	etl_mysql -e "DELETE FROM held_ctl"
	etl_mysql -e "CALL held_writer()" &
	WRITER=$!
	# it has written
	until [ "$(etl_mysql -N -e "SELECT MAX(id) > $ROWS FROM held_big")" = 1 ]; do sleep 0.05; done
}
stop_writer() {
	etl_mysql -e "INSERT IGNORE INTO held_ctl VALUES ('stop', 0)"
	wait "$WRITER" 2>/dev/null || true
}
# the target's invariants: SUM(val) as at the start, and no hole in the ids (count = MAX(id))
invariants() {
	q "SELECT (sum(val) = $SUM) || ' ' || (count(*) = max(id)) || ' ' || (max(id) > $ROWS) FROM held_big"
}
last_run() {
	q "SELECT $1 FROM etl_pull.runs WHERE table_name = 'held_big' ORDER BY run_id DESC LIMIT 1"
}

# ---- the setting is validated
like "$(q "SELECT etl_pull.set_table_option('held_big', 'source_lock', 'write')")" \
	'ERROR:  invalid value "write" for setting "source_lock"' "source_lock takes none or read"

# ---- without the setting: plan() says the read is in key ranges, and parallel gives way to stream
like "$(q "SELECT detail FROM etl_pull.plan('held_big') WHERE section = 'strategy' AND item = 'source reads'")" \
	'^MyISAM: read in key-range statements' "source_lock none: plan() says the table is read in key ranges"
q "SELECT etl_pull.set_table_option('held_big', 'source_lock', 'read')" >/dev/null
like "$(q "SELECT detail FROM etl_pull.plan('held_big') WHERE section = 'strategy' AND item = 'source reads'")" \
	'^source_lock read: FLUSH TABLES \.\.\. WITH READ LOCK held on a connection of its own from before the read until it ends: the table.s writers wait for the whole read of its [0-9]+ MB' \
	"source_lock read: plan() says the lock is held, and that writers wait for the whole read"

# ---- parallel under the lock, while the writer moves values across the key and appends
start_writer
out=$(q "SELECT status || ' ' || strategy FROM etl_pull.load_table('held_big')")
stop_writer
is "$out" "succeeded parallel" "source_lock read: the parallel strategy loads the MyISAM table (no stream instead)"
is "$(invariants)" "true true true" "the chunks read one state of the table: the moves all seen or not, no hole"
like "$(last_run notes)" 'source_lock read: the table.s writers held back for [0-9]+ ms, from before the read until it ended \(FLUSH TABLES \.\.\. WITH READ LOCK\)' \
	"the notes say the lock was held, and how long"
ok "$([ "$(etl_mysql -N -e "SELECT MAX(id) FROM held_big")" -gt "$(q "SELECT max(id) FROM held_big")" ] && echo 0 || echo 1)" \
	"the writer went on writing after the read"

# ---- verify = full: without the lock a table that never stops changing fails the load ...
q "SELECT etl_pull.set_table_option('held_big', 'verify', 'full');
   SELECT etl_pull.set_table_option('held_big', 'source_lock', 'none')" >/dev/null
before=$(q "SELECT count(*) FROM held_big")
start_writer
out=$(q "SELECT status FROM etl_pull.load_table('held_big')")
stop_writer
like "$out" 'MySQL table "etl_test.held_big" kept changing while it was loaded' \
	"source_lock none, verify = full, a writer that never stops: the load fails, kept changing"
like "$out" 'HINT:  .*set "source_lock" to "read"' "and its hint names the setting"
is "$(q "SELECT count(*) FROM held_big")" "$before" "the target keeps its rows"

# ... and with it, the read and the check are of one state: the load succeeds
q "SELECT etl_pull.set_table_option('held_big', 'source_lock', 'read')" >/dev/null
start_writer
out=$(q "SELECT status || ' ' || strategy FROM etl_pull.load_table('held_big')")
stop_writer
is "$out" "succeeded stream" "source_lock read, verify = full, the same writer: the load succeeds"
is "$(last_run verify_status)" "equal" "verify_status equal"
is "$(invariants)" "true true true" "the target is one state of the table"
like "$(last_run notes)" 'verify full: [0-9]+ rows equal to the source.s' "the check ran"
like "$(last_run notes)" 'source_lock read: the table.s writers held back for [0-9]+ ms, from before the read until it ended, verify.s check with it' \
	"under the lock, which the notes say"
ok "$(last_run notes | grep -q 'settle' && echo 1 || echo 0)" "no settle pass ran"

# ---- a failed load releases the lock: a load stopped by a trigger on the target is cancelled
# while it holds the lock and a writer waits; the writer then goes on
q "SELECT etl_pull.set_table_option('held_big', 'verify', 'off');
   SELECT etl_pull.set_table_option('held_big', 'strategy', 'auto');
   CREATE FUNCTION etl_gate() RETURNS trigger LANGUAGE plpgsql AS \$\$
   BEGIN PERFORM pg_advisory_lock_shared(12012); PERFORM pg_advisory_unlock_shared(12012);
         RETURN NEW; END \$\$;
   CREATE TRIGGER gate BEFORE INSERT ON held_big FOR EACH ROW EXECUTE FUNCTION etl_gate()" >/dev/null
tap_gate_close 12012
PGAPPNAME=etl_held_load etl_psql -d "$TAP_DB" -Atq -c "SELECT status FROM etl_pull.load_table('held_big')" \
	>"$TESTDIR/load.out" 2>&1 &
LOAD=$!
for i in $(seq 600); do
	[ "$(q "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = 12012 AND NOT granted")" -ge 1 ] && break
	kill -0 "$LOAD" 2>/dev/null || break
	sleep 0.05
done
(etl_mysql -e "UPDATE held_big SET note = 'waited' WHERE id = 5" && touch "$TESTDIR/written") &
W=$!
sleep 1
ok "$([ ! -e "$TESTDIR/written" ] && echo 0 || echo 1)" "while the load holds the lock, a writer waits"
like "$(etl_mysql -N -e "SELECT STATE FROM information_schema.PROCESSLIST WHERE INFO LIKE 'UPDATE held_big%'")" \
	'Waiting for table metadata lock' "at the metadata lock"
q "SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE application_name = 'etl_held_load'" >/dev/null
wait "$LOAD"
like "$(cat "$TESTDIR/load.out")" 'canceling statement due to user request' "the load is cancelled"
for i in $(seq 200); do [ -e "$TESTDIR/written" ] && break; sleep 0.05; done
ok "$([ -e "$TESTDIR/written" ] && echo 0 || echo 1)" "the cancelled load's lock is released: the writer goes on"
wait "$W"
tap_gate_open
is "$(etl_mysql -N -e "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE USER = '$ETL_PULL_MYSQL_USER' AND ID <> CONNECTION_ID()")" \
	"0" "no connection of the load is left at MySQL"
q "DROP TRIGGER gate ON held_big" >/dev/null

rm -rf "$TESTDIR"
done_testing
