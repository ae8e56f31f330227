# Setting skip_unchanged (issue 28 item 1): a load of a source table that has not changed since
# the table's last load is skipped and recorded (status unchanged, 0 rows, a note naming the run
# it is unchanged since), in load_table's and load_all's results and in plan(); a table changed
# at the source is loaded, even when the change kept the row count; so is one whose settings
# changed (set_table_option), whose target was truncated, whose source was altered, and one
# loaded with force_full; a signature read in the second of a write is not remembered; InnoDB
# and transactional Aria tables are never skipped.  First, what the feature rests on, measured
# on this MariaDB: MyISAM's UPDATE_TIME moves on an UPDATE that keeps the row count, a DELETE
# and an INSERT, a transactional Aria table's does not.  Every load's target is compared with
# the source outside etl_pull (the mysql client's text against psql's).
source "$(dirname "$0")/../tap.sh"
tap_setup_db etl_tap_skip_unchanged

cleanup_mysql() {
	etl_mysql -e "DROP TABLE IF EXISTS su_m, su_i, su_a, su_json, su_probe, su_probe_aria, su_probe_aria0;
		SET GLOBAL general_log = 0; SET GLOBAL log_output = 'FILE'" >/dev/null 2>&1 || true
}
tap_on_exit cleanup_mysql
cleanup_mysql

etl_mysql <<-'SQL'
	CREATE TABLE su_m (id int PRIMARY KEY, v int, note varchar(20)) ENGINE=MyISAM;
	INSERT INTO su_m SELECT seq, seq * 2, CONCAT('n', seq) FROM seq_1_to_20;
	CREATE TABLE su_i (id int PRIMARY KEY, v int) ENGINE=InnoDB;
	INSERT INTO su_i SELECT seq, seq FROM seq_1_to_21;
	CREATE TABLE su_a (id int PRIMARY KEY, v int) ENGINE=Aria;
	INSERT INTO su_a SELECT seq, seq FROM seq_1_to_22;
	CREATE TABLE su_probe (id int PRIMARY KEY, v int) ENGINE=MyISAM;
	INSERT INTO su_probe SELECT seq, seq FROM seq_1_to_5;
	CREATE TABLE su_probe_aria (id int PRIMARY KEY, v int) ENGINE=Aria;
	INSERT INTO su_probe_aria SELECT seq, seq FROM seq_1_to_5;
	CREATE TABLE su_probe_aria0 (id int PRIMARY KEY, v int) ENGINE=Aria TRANSACTIONAL=0;
	INSERT INTO su_probe_aria0 SELECT seq, seq FROM seq_1_to_5;
SQL

# ---- what the signal is, on this MariaDB
utime() {
	etl_mysql -N -e "SELECT CONCAT(UNIX_TIMESTAMP(UPDATE_TIME), ' ', TABLE_ROWS) FROM information_schema.TABLES
		WHERE TABLE_SCHEMA = 'etl_test' AND TABLE_NAME = '$1'"
}
moved() { # moved BEFORE AFTER: 0 when AFTER's UPDATE_TIME is later
	[ "${2%% *}" -gt "${1%% *}" ] && echo 0 || echo 1
}
before=$(utime su_probe)
sleep 1.1
etl_mysql -e "UPDATE su_probe SET v = v + 1 WHERE id = 1"
after=$(utime su_probe)
ok "$(moved "$before" "$after")" "MyISAM: UPDATE_TIME moves on an UPDATE ($before -> $after)"
is "${after#* }" "${before#* }" "... which kept the row count"
before=$after
sleep 1.1
etl_mysql -e "DELETE FROM su_probe WHERE id = 2"
after=$(utime su_probe)
ok "$(moved "$before" "$after")" "MyISAM: UPDATE_TIME moves on a DELETE ($before -> $after)"
before=$after
sleep 1.1
etl_mysql -e "INSERT INTO su_probe VALUES (9, 9)"
after=$(utime su_probe)
ok "$(moved "$before" "$after")" "MyISAM: UPDATE_TIME moves on an INSERT ($before -> $after)"
before=$(utime su_probe_aria)
sleep 1.1
etl_mysql -e "UPDATE su_probe_aria SET v = v + 1 WHERE id = 1; DELETE FROM su_probe_aria WHERE id = 2;
	INSERT INTO su_probe_aria VALUES (9, 9)"
after=$(utime su_probe_aria)
is "${after%% *}" "${before%% *}" \
	"transactional Aria: UPDATE_TIME stays across UPDATE, DELETE and INSERT (so such tables are never skipped)"
for stmt in "UPDATE su_probe_aria0 SET v = v + 1 WHERE id = 1" "DELETE FROM su_probe_aria0 WHERE id = 2" \
	"INSERT INTO su_probe_aria0 VALUES (9, 9)"; do
	before=$(utime su_probe_aria0)
	sleep 1.1
	etl_mysql -e "$stmt"
	after=$(utime su_probe_aria0)
	ok "$(moved "$before" "$after")" "Aria TRANSACTIONAL=0: UPDATE_TIME moves on ${stmt%% *} ($before -> $after)"
done

# ---- registered; the source left alone for 2 seconds, so that its signature can be trusted
q "SELECT etl_pull.add_table(t, server => 'replica', source_table => t) FROM unnest(ARRAY['su_m', 'su_i', 'su_a']) t;
   SELECT etl_pull.set_table_option(t, 'load_group', 'su') FROM unnest(ARRAY['su_m', 'su_i']) t" >/dev/null
same() { # the target's rows are the source's
	local cols=${2:-id, v}
	is "$(q "COPY (SELECT $cols FROM public.$1 ORDER BY id) TO STDOUT")" \
		"$(etl_mysql -N -e "SELECT $cols FROM $1 ORDER BY id")" "$3"
}
load() { # load NAME [FORCE]: "status rows strategy"
	q "SELECT status || ' ' || rows || ' ' || coalesce(strategy, '-')
	     FROM etl_pull.load_table('$1'${2:+, force_full => $2})"
}
last_run() {
	q "SELECT max(run_id) FROM etl_pull.runs WHERE table_name = '$1'"
}
unchanged_plan() {
	q "SELECT detail FROM etl_pull.plan('$1', sample_rows => 0) WHERE section = 'extraction' AND item = 'unchanged'"
}
sleep 2.2

like "$(load su_m)" "^succeeded 20 " "the first load of the MyISAM table loads"
first=$(last_run su_m)
same su_m "id, v, note" "... every row"
is "$(q "SELECT run_id FROM etl_pull.source_signatures WHERE table_name = 'su_m'")" "$first" \
	"... and remembers the source's signature with its run"
like "$(unchanged_plan su_m)" "^the next run skips: unchanged since run $first " "plan() says the next run would skip"
is "$(load su_m)" "unchanged 0 -" "the next load is skipped: status unchanged, 0 rows, no strategy"
echo "# a skip took $(q "SELECT round((seconds * 1000)::numeric, 1) FROM etl_pull.runs WHERE run_id = $(last_run su_m)") ms (not a test)"
is "$(q "SELECT status || ' ' || rows || ' ' || extraction FROM etl_pull.runs WHERE run_id = $(last_run su_m)")" \
	"unchanged 0 full" "... recorded in etl_pull.runs"
like "$(q "SELECT notes FROM etl_pull.runs WHERE run_id = $(last_run su_m)")" \
	"^unchanged since run $first \\(.*\\): engine MyISAM, .*rows 20, " "... with a note naming the run it is unchanged since"
is "$(q "SELECT last_status FROM etl_pull.run_comparison WHERE table_name = 'su_m'")" "succeeded" \
	"run_comparison's last status is the last load's, not the skip's"

# ---- a change that keeps the row count is loaded
etl_mysql -e "UPDATE su_m SET note = 'edited' WHERE id = 3"
t0=$(date +%s%N)
like "$(load su_m)" "^succeeded 20 " "an UPDATE at the source that kept the row count: loaded, not skipped"
elapsed_ms=$((($(date +%s%N) - t0) / 1000000))
same su_m "id, v, note" "... the edit arrived"
# read within 2 s of the write, the signature could miss a later write in that second
if [ "$elapsed_ms" -lt 1500 ]; then
	is "$(q "SELECT count(*) FROM etl_pull.source_signatures WHERE table_name = 'su_m'")" "0" \
		"a signature read right after a write (UPDATE_TIME within 2 s of the source's clock) is not remembered"
	like "$(load su_m)" "^succeeded 20 " "... so the next load reads"
	like "$(unchanged_plan su_m)" "^the next run reads: no load remembered" "... and plan() says why"
else
	echo "ok $((TAP_N + 1)) # skip the load took ${elapsed_ms} ms: too slow to be within 2 s of the write"
	echo "ok $((TAP_N + 2)) # skip"
	echo "ok $((TAP_N + 3)) # skip"
	TAP_N=$((TAP_N + 3))
fi
sleep 2.2
like "$(load su_m)" "^(succeeded 20 |unchanged 0)" "2 seconds later, a load remembers the signature (unless the last one did)"
is "$(load su_m)" "unchanged 0 -" "... and the next is skipped"

etl_mysql -e "DELETE FROM su_m WHERE id = 4"
like "$(load su_m)" "^succeeded 19 " "a DELETE at the source: loaded"
same su_m "id, v, note" "... the row is gone from the target"
sleep 2.2
like "$(load su_m)" "^(succeeded 19 |unchanged 0)" "(remembered again)"

# ---- the table's settings, the target, the source's columns
q "SELECT etl_pull.set_table_option('su_m', 'batch_size', '500')" >/dev/null
like "$(unchanged_plan su_m)" "^the next run reads: the table's settings or its server's options changed since run " \
	"after set_table_option, plan() says the next run reads"
like "$(load su_m)" "^succeeded 19 " "... and it does"
is "$(load su_m)" "unchanged 0 -" "... then the table is skipped again"
q "TRUNCATE public.su_m" >/dev/null
like "$(unchanged_plan su_m)" "^the next run reads: the target was made again, truncated or rewritten since run " \
	"a target truncated by someone: plan() says the next run reads"
like "$(load su_m)" "^succeeded 19 " "... and it reloads it"
same su_m "id, v, note" "... every row back"
q "DROP TABLE public.su_m" >/dev/null
like "$(load su_m)" "^succeeded 19 " "a target dropped: the load creates it again"
q "SELECT etl_pull.set_table_option('su_m', 'on_schema_change', 'evolve')" >/dev/null
like "$(load su_m)" "^succeeded 19 " "(loaded after the settings changed)"
is "$(load su_m)" "unchanged 0 -" "(and skipped)"
etl_mysql -e "ALTER TABLE su_m CHANGE note remark varchar(20)"
like "$(load su_m)" "^succeeded 19 " "a column renamed at the source (CREATE_TIME and UPDATE_TIME stay): loaded, not skipped"
is "$(q "SELECT count(remark) FROM public.su_m")" "19" "... the renamed column arrived"
like "$(load su_m true)" "^succeeded 19 " "force_full loads whatever the signature"
sleep 2.2
like "$(load su_m)" "^(succeeded 19 |unchanged 0)" "(remembered)"

# ---- load_all shows it; InnoDB and transactional Aria are never skipped
like "$(load su_i)" "^succeeded 21 " "InnoDB: the first load"
like "$(load su_a)" "^succeeded 22 " "transactional Aria: the first load"
sleep 2.2
is "$(q "SELECT string_agg(table_name || ' ' || status || ' ' || rows || ' ' || (run_id IS NOT NULL), ', '
                          ORDER BY table_name) FROM etl_pull.load_all('su')")" \
	"su_i succeeded 21 true, su_m unchanged 0 true" "load_all: the unchanged MyISAM table skipped, the InnoDB table loaded"
echo "# the skip took $(q "SELECT round((seconds * 1000)::numeric, 1) FROM etl_pull.runs WHERE run_id = $(last_run su_m)") ms in load_all (not a test)"
like "$(load su_i)" "^succeeded 21 " "InnoDB, unchanged: loaded all the same"
like "$(unchanged_plan su_i)" "^the next run reads: engine InnoDB keeps no UPDATE_TIME that moves with every write" \
	"... plan() says why"
like "$(load su_a)" "^succeeded 22 " "transactional Aria, unchanged: loaded all the same"
like "$(unchanged_plan su_a)" "^the next run reads: a transactional Aria table's UPDATE_TIME does not move" \
	"... plan() says why"
is "$(q "SELECT count(*) FROM etl_pull.source_signatures WHERE table_name IN ('su_i', 'su_a')")" "0" \
	"no signature is remembered for them"
same su_i "id, v" "su_i equals its source"
same su_a "id, v" "su_a equals its source"

# ---- the setting: validated, per table and by the GUC
like "$(q "SELECT etl_pull.set_table_option('su_m', 'skip_unchanged', 'maybe')")" \
	'invalid value "maybe" for setting "skip_unchanged".*' "skip_unchanged takes default, on or off only"
like "$(q "SELECT etl_pull.set_table_option('su_m', 'skip_unchanged', 'maybe')" | tr '\n' ' ')" \
	'default, on, off' "... and the error lists them"
q "SELECT etl_pull.set_table_option('su_m', 'skip_unchanged', 'OFF')" >/dev/null
is "$(q "SELECT skip_unchanged FROM etl_pull.tables WHERE name = 'su_m'")" "off" "stored as off"
sleep 2.2
like "$(load su_m)" "^succeeded 19 " "skip_unchanged off: loaded"
like "$(load su_m)" "^succeeded 19 " "... and again"
like "$(unchanged_plan su_m)" "^the next run reads: skip_unchanged is off \\(the table's setting\\)" "... plan() says why"
is "$(q "SELECT count(*) FROM etl_pull.source_signatures WHERE table_name = 'su_m'")" "0" "... its signature forgotten"
q "SELECT etl_pull.set_table_option('su_m', 'skip_unchanged', 'default')" >/dev/null
like "$(load su_m)" "^succeeded 19 " "back to default: loaded, remembered"
is "$(load su_m)" "unchanged 0 -" "... then skipped"
is "$(q "SET TimeZone = 'Asia/Tokyo'; SET DateStyle = 'SQL, DMY'; SELECT status FROM etl_pull.load_table('su_m')")" \
	"unchanged" "... also from a session with another TimeZone and DateStyle (the settings' digest does not depend on them)"
is "$(q "SET etl_pull.skip_unchanged = off; SELECT status FROM etl_pull.load_table('su_m')")" "succeeded" \
	"etl_pull.skip_unchanged = off: loaded"
same su_m "id, v, remark" "su_m equals its source"

# ---- what a load that reads asks of MySQL's catalogue (MariaDB's general log): three
# information_schema statements, the signature (whose statement also gives the description's
# sizes and engine and settle.c's UPDATE_TIME stamp), the columns and the primary key; MariaDB's
# CHECK constraints (its JSON is a longtext with json_valid) only of a table with a longtext column
etl_mysql <<-'SQL'
	CREATE TABLE su_json (id int PRIMARY KEY, doc JSON) ENGINE=MyISAM;
	INSERT INTO su_json VALUES (1, '{"a": [1, 2]}'), (2, '{"b": null}');
SQL
q "SELECT etl_pull.add_table('su_json', server => 'replica', source_table => 'su_json')" >/dev/null
etl_mysql -e "UPDATE su_m SET v = v + 1 WHERE id = 4"
etl_mysql -e "SET GLOBAL log_output = 'TABLE'; TRUNCATE mysql.general_log; SET GLOBAL general_log = 1"
su_m_load=$(load su_m)
su_json_load=$(load su_json)
etl_mysql -e "SET GLOBAL general_log = 0"
catalogue() { # catalogue TABLE [LIKE]: the loader's information_schema statements naming TABLE
	etl_mysql -N -e "SELECT COUNT(*) FROM mysql.general_log
		WHERE user_host LIKE 'etl[%' AND command_type = 'Query'
		  AND argument LIKE '%information\\_schema.%' AND argument LIKE '%''$1''%'
		  AND argument LIKE '%${2:-}%'"
}
like "$su_m_load" "^succeeded 19 " "a changed MyISAM table is loaded"
is "$(catalogue su_m)" "3" "... asking information_schema three statements: signature, columns, primary key"
is "$(catalogue su_m CHECK_CONSTRAINTS)" "0" "... and no CHECK constraints (no longtext column)"
like "$su_json_load" "^succeeded 2 " "a MyISAM table with a JSON column is loaded"
is "$(catalogue su_json CHECK_CONSTRAINTS)" "1" "... its CHECK constraints asked"
is "$(catalogue su_json)" "4" "... four statements in all"
is "$(q "SELECT format_type(atttypid, atttypmod) FROM pg_attribute
          WHERE attrelid = 'public.su_json'::regclass AND attname = 'doc'")" "jsonb" \
	"... and the JSON column found by its check: jsonb"
etl_mysql -e "SET GLOBAL log_output = 'FILE'; TRUNCATE mysql.general_log; DROP TABLE su_json"
is "$(q "SELECT count(*) FROM etl_pull.runs WHERE status = 'failed'")" "0" "no run failed"

done_testing
