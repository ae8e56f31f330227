# Append-only logs (setting full_compare_every, load/cadence.c, issue 28): import_tables gives a
# MyISAM table shaped like a log (a name ending in "log", an integer AUTO_INCREMENT key, no ON
# UPDATE column) full_compare_every = 4 and says what its runs see; the runs between full
# comparisons read only the rows past the target's highest key and say that older rows were not
# compared; an edit of an older row, and a delete and an insert below the highest key that leave
# the count alone, wait for the run where the full comparison is due, which repairs them; a hard
# delete alone is caught by the row count and makes that run compare every row; plan() says when
# the full comparison is due; tables that are not logs by that shape keep every run's comparison.
source "$(dirname "$0")/../tap.sh"
tap_setup_db etl_tap_cadence

DB=etl_cadence_t
etl_mysql -e "
	DROP DATABASE IF EXISTS $DB;
	CREATE DATABASE $DB;
	USE $DB;
	CREATE TABLE cadsecuritylog (id int NOT NULL AUTO_INCREMENT PRIMARY KEY, val int NOT NULL,
	  note varchar(200), updated datetime(6) NOT NULL) ENGINE = MyISAM;
	INSERT INTO cadsecuritylog (id, val, note, updated)
	  SELECT seq, seq % 100, CONCAT('row ', seq), '2024-01-01' + INTERVAL seq SECOND
	    FROM seq_1_to_1000 WHERE seq <> 500;
	CREATE TABLE cadstamplog (id int NOT NULL AUTO_INCREMENT PRIMARY KEY, val int,
	  ts timestamp NOT NULL DEFAULT current_timestamp() ON UPDATE current_timestamp()) ENGINE = MyISAM;
	INSERT INTO cadstamplog (val) VALUES (1), (2);
	CREATE TABLE cadpatient (id int NOT NULL AUTO_INCREMENT PRIMARY KEY, val int) ENGINE = MyISAM;
	INSERT INTO cadpatient (val) VALUES (1), (2);
	CREATE TABLE cadinnolog (id int NOT NULL AUTO_INCREMENT PRIMARY KEY, val int) ENGINE = InnoDB;
	INSERT INTO cadinnolog (val) VALUES (1), (2);"
cleanup() { etl_mysql -e "DROP DATABASE IF EXISTS $DB" 2>/dev/null; }
tap_on_exit cleanup

T=$DB.cadsecuritylog
last() { q "SELECT $1 FROM etl_pull.runs WHERE table_name = 'cadsecuritylog' ORDER BY run_id DESC LIMIT 1"; }
run() { q "SELECT extraction || ' ' || rows || ' ' || merged_rows || ' ' || deleted_rows FROM etl_pull.load_table('cadsecuritylog')"; }
plan_row() { q "SELECT detail FROM etl_pull.plan('cadsecuritylog') WHERE section = 'extraction' AND item = '$1'"; }
note() { etl_mysql -N -e "SELECT IFNULL(note, 'NULL') FROM $T WHERE id = $1"; }
pg_note() { q "SELECT coalesce((SELECT note FROM public.cadsecuritylog WHERE id = $1), 'absent')"; }

# ---- import_tables: the log gets the cadence, and says what it sees; the others do not
q "CREATE TABLE imported AS SELECT * FROM etl_pull.import_tables('replica', '$DB')" >/dev/null
imp=$(q "SELECT name || ':' || action || ':' || extraction FROM imported ORDER BY name")
is "$imp" "cadinnolog:registered:diff
cadpatient:registered:diff
cadsecuritylog:registered:diff
cadstamplog:registered:diff" "import_tables registers the four tables with diff"
imp=$(q "SELECT name || ':' || full_compare_every FROM etl_pull.tables ORDER BY name")
is "$imp" "cadinnolog:1
cadpatient:1
cadsecuritylog:4
cadstamplog:1" "import_tables gives full_compare_every = 4 to the MyISAM log only (not to a stamped, a non-log or an InnoDB table)"
like "$(q "SELECT array_to_string(notes, '; ') FROM imported WHERE name = 'cadsecuritylog'")" \
	"an append-only log by its shape .*full_compare_every = 4: once a run comparing every row finds nothing but new rows, 3 runs in 4 read only the rows past the target's highest key" \
	"its note says why it is taken for a log, and what the setting does"
like "$(q "SELECT sees FROM imported WHERE name = 'cadsecuritylog'")" "one run in 4, and each run after a full load or after a comparison that found an edit or a delete: every insert, edit and delete" \
	"its row says what its extraction sees"
# a second import is a sync: its rows show what each registered table's extraction sees
sight=$(q "SELECT sees || ' | ' || misses || ' | ' || array_to_string(notes, '; ')
             FROM etl_pull.import_tables('replica', '$DB') WHERE name = 'cadsecuritylog'")
like "$sight" "every row appended past the target's highest key.*one run in 4, .*: every insert, edit and delete" \
	"its import_tables row says what each run sees, and what only one run in 4 sees"
like "$sight" "in the 3 runs of 4 between full comparisons: an edit of a row already loaded" \
	"and what the runs between full comparisons miss"
like "$(q "SELECT misses FROM etl_pull.import_tables('replica', '$DB') WHERE name = 'cadpatient'")" "^$" \
	"a table that is not a log misses nothing"
q "SELECT etl_pull.set_table_option(name, 'skip_unchanged', 'off') FROM etl_pull.tables" >/dev/null

# ---- run 1 loads every row, which cannot tell whether older rows are edited
is "$(run)" "full 999 0 0" "the first run loads every row"
like "$(plan_row 'full comparison')" "every 4 runs; the next run compares every row \(.*having loaded every row" \
	"plan() says the next run compares every row, a full load having shown nothing about edits"

# ---- run 2 compares every row and finds nothing but new rows: the table behaves as a log
etl_mysql -e "INSERT INTO $T (val, note, updated) SELECT seq, 'new', '2025-01-01' FROM seq_1_to_5"
is "$(run)" "diff 1004 5 0" "the run after the full load compares every row, and finds the 5 new rows"
like "$(plan_row 'full comparison')" "every 4 runs; the next run reads only the rows past the target's highest key, and the full comparison is due in 3 runs" \
	"plan() says the next run reads only new rows, and when the full comparison is due"
like "$(plan_row 'next run')" "^diff, new rows only: " "its next-run row says so"

# ---- run 3: new rows arrive; an edit of an older row is not seen, and the run says so
etl_mysql -e "INSERT INTO $T (val, note, updated) SELECT seq, 'new', '2025-01-02' FROM seq_1_to_5;
	UPDATE $T SET note = 'edited' WHERE id = 10"
is "$(run)" "diff 5 5 0" "a run between full comparisons reads the 5 new rows only, and merges them"
like "$(last notes)" "diff: new rows only: 5 source rows past key 1005 read in [0-9]+ statements?" \
	"its notes say it read only the rows past the target's highest key"
like "$(last notes)" "rows up to key 1010 not compared \(full_compare_every = 4\): their count is the source's \(1009\).*an edit waits for the next full comparison" \
	"and that the older rows were not compared, only counted"
like "$(last strategy_reason)" "full_compare_every = 4: only the rows past the target's highest key are read \(run 1 of 3 since run [0-9]+ compared every row and found nothing but new rows" \
	"its strategy_reason says so too"
is "$(pg_note 10)" "row 10" "the edit of an older row is not seen yet"
is "$(q "SELECT count(*) FROM public.cadsecuritylog")" "1009" "the new rows are in"

# ---- run 4: a delete and an insert below the highest key that keep the count are not seen
etl_mysql -e "DELETE FROM $T WHERE id = 30; INSERT INTO $T (id, val, note, updated) VALUES (500, 5, 'late', '2025-01-01');
	INSERT INTO $T (val, note, updated) VALUES (1, 'new', '2025-01-03')"
is "$(run)" "diff 1 1 0" "the next run reads the one new row"
is "$(pg_note 30)|$(pg_note 500)" "row 30|absent" "a delete and an insert below the highest key that keep the count are not seen yet"

# ---- run 5: the last run before the full comparison
etl_mysql -e "INSERT INTO $T (val, note, updated) VALUES (2, 'new', '2025-01-04')"
is "$(run)" "diff 1 1 0" "run 3 of 3 between full comparisons reads the new row only"
like "$(plan_row 'full comparison')" "the next run compares every row \(full_compare_every = 4: every row is compared, as due \(3 runs read only new rows since run [0-9]+\)\)" \
	"plan() says the full comparison is due at the next run"
like "$(plan_row 'next run')" "^diff: row by row" "and its next-run row is a comparison of every row"
ok $([ "$(pg_digest public.cadsecuritylog)" != "$(mysql_digest $T)" ] && echo 0 || echo 1) \
	"before it, the target differs from the source"

# ---- run 6: the full comparison is due and repairs everything
etl_mysql -e "INSERT INTO $T (val, note, updated) VALUES (3, 'new', '2025-01-05')"
is "$(run)" "diff 1012 3 1" "the due run compares every row: the edit, the late insert and the new row merged, the deleted row deleted"
is "$(pg_digest public.cadsecuritylog)" "$(mysql_digest $T)" "the target equals the source"
like "$(last strategy_reason)" "every row is compared, as due \(3 runs read only new rows since run" \
	"its strategy_reason says the full comparison was due"
like "$(last notes)" "diff: compared row by row: 2 rows missing, 1 different, 1 gone, of 1012 source rows" \
	"its notes say every row was compared"
like "$(plan_row 'full comparison')" "the next run compares every row \(.*having found 2 older rows edited or deleted" \
	"having found edits, the next run compares every row again"

# ---- run 7 finds nothing but a new row: the count starts again
etl_mysql -e "INSERT INTO $T (val, note, updated) VALUES (4, 'new', '2025-01-06')"
is "$(run)" "diff 1013 1 0" "that run compares every row and finds the new row only"
like "$(plan_row 'full comparison')" "the full comparison is due in 3 runs" "plan() counts again from it"

# ---- run 8: a hard delete of an older row alone is caught by the row count
etl_mysql -e "DELETE FROM $T WHERE id = 40; INSERT INTO $T (val, note, updated) VALUES (5, 'new', '2025-01-07')"
like "$(run)" "^diff 1014 1 1$" "a hard delete makes a run between full comparisons compare every row: the new row merged, the deleted one deleted"
is "$(pg_digest public.cadsecuritylog)" "$(mysql_digest $T)" "the target equals the source"
like "$(last notes)" "the source has 1013 rows up to key 1015, the target 1014: a row was deleted or inserted below the highest key; every row compared" \
	"its notes say why it compared every row"
like "$(plan_row 'full comparison')" "having found 1 older row edited or deleted" "and it counts as a full comparison that found a delete"

# ---- a full load of a log written during its read (settle.c): instead of passes comparing every
# row, the rows past the read's last key are read again and the counts compared; an edit made
# during the read is left to the next run, which compares every row (never one reading new rows
# only after a full load)
etl_mysql -e "
	USE $DB;
	CREATE TABLE cadbiglog (id int NOT NULL AUTO_INCREMENT PRIMARY KEY, val int NOT NULL,
	  note varchar(200), updated datetime(6) NOT NULL) ENGINE = MyISAM;
	INSERT INTO cadbiglog (id, val, note, updated)
	  SELECT seq, seq % 1000, REPEAT(CHAR(65 + seq % 26), 100), '2024-01-01' + INTERVAL seq SECOND
	    FROM seq_1_to_200000;
	DELIMITER //
	CREATE PROCEDURE cad_appender(n int)
	BEGIN
	  DECLARE i int DEFAULT 0;
	  WHILE i < n DO
	    INSERT INTO cadbiglog (val, note, updated) VALUES (i, 'appended', SYSDATE(6));
	    IF i = n - 1 THEN UPDATE cadbiglog SET note = 'edited during the read' WHERE id = 2; END IF;
	    DO SLEEP(0.01);
	    SET i = i + 1;
	  END WHILE;
	END//"
q "SELECT etl_pull.add_table('cadbiglog', server => 'replica', source_table => '$DB.cadbiglog');
   SELECT etl_pull.set_table_option('cadbiglog', 'extraction', 'diff');
   SELECT etl_pull.set_table_option('cadbiglog', 'full_compare_every', '4');
   SELECT etl_pull.set_table_option('cadbiglog', 'skip_unchanged', 'off')" >/dev/null
like "$(q "SELECT detail FROM etl_pull.plan('cadbiglog') WHERE section = 'strategy' AND item = 'source reads'")" \
	"a log \(full_compare_every = 4\): that re-check reads only the rows past the last key read" \
	"plan() says a full load's re-check of a log reads only its new rows"
etl_mysql -e "CALL $DB.cad_appender(60)" &
w=$!
sleep 0.2
st=$(q "SET etl_pull.source_statement_ms = 20; SELECT status || ' ' || extraction FROM etl_pull.load_table('cadbiglog')")
wait "$w"
is "$st" "succeeded full" "a full load of a log while rows are appended"
bignotes=$(q "SELECT notes FROM etl_pull.runs WHERE table_name = 'cadbiglog' ORDER BY run_id DESC LIMIT 1")
like "$bignotes" "settle: new rows only: [0-9]+ source rows past key [0-9]+ read" \
	"its re-check read only the rows past the highest key the read reached"
like "$bignotes" "settled as a log \(full_compare_every = 4\).*an edit made during the read to rows read before it is found by the next run, which compares every row" \
	"its notes say what the re-check left to the next run"
ok $([ -n "$bignotes" ] && ! echo "$bignotes" | grep -q 'settle pass' && echo 0 || echo 1) "no pass compared every row"
st=$(q "SELECT extraction || ' ' || rows FROM etl_pull.load_table('cadbiglog')")
like "$st" "^diff 2000[0-9][0-9]$" "the next run compares every row"
like "$(q "SELECT strategy_reason FROM etl_pull.runs WHERE table_name = 'cadbiglog' ORDER BY run_id DESC LIMIT 1")" \
	"having loaded every row" "because the run before it was a full load"
is "$(pg_digest public.cadbiglog)" "$(mysql_digest $DB.cadbiglog)" "the target equals the source, the edit made during the read included"

# ---- repair_table compares every row whatever the cadence, and counts as a full comparison
etl_mysql -e "INSERT INTO $T (val, note, updated) VALUES (6, 'new', '2025-01-08')"
is "$(run)" "diff 1014 1 0" "after the delete, the next run compares every row again and finds the new row only"
like "$(plan_row 'full comparison')" "the next run reads only the rows past the target's highest key" "so the next run would read only new rows"
etl_mysql -e "UPDATE $T SET note = 'edited twice' WHERE id = 11"
is "$(q "SELECT merged_rows FROM etl_pull.repair_table('cadsecuritylog')")" "1" "repair_table compares every row all the same"
is "$(pg_note 11)" "edited twice" "and finds the edit"
rid=$(last run_id)
like "$(plan_row 'full comparison')" "the next run compares every row \(.*run $rid having found 1 older row edited or deleted" \
	"the repair counts as a full comparison, and its edit makes the next run compare every row"

# ---- the setting is validated
like "$(q "SELECT etl_pull.set_table_option('cadpatient', 'full_compare_every', '0')" 2>&1)" "integers from 1 to 1000" \
	"full_compare_every 0 is refused"
like "$(q "SELECT etl_pull.set_table_option('cadpatient', 'full_compare_every', 'often')" 2>&1)" "integers from 1 to 1000" \
	"a non-integer full_compare_every is refused"

done_testing
