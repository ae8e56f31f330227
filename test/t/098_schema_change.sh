# on_schema_change: a registered, loaded table whose MySQL table then gains
# a column, widens a varchar and an int, gains an enum label and loses a
# nullable column.  With evolve the next load (full and incremental, every
# strategy) alters the target first and leaves it equal to the source in
# every remaining column, the changes listed in the run; with error the
# load fails naming each change and the target is untouched; a narrowing
# the target holds loads in either mode; an incompatible change fails under
# evolve too, with a hint fixing every refused change, as does widening a
# column a view uses.
source "$(dirname "$0")/../tap.sh"
tap_own_cluster # it creates a role
tap_setup_db etl_tap_schema_change

# create and fill MySQL table $1, register it with extraction $2, strategy $3,
# on_schema_change $4, and load it once
make_table() {
	etl_mysql -e "
		DROP TABLE IF EXISTS $1;
		CREATE TABLE $1 (id int NOT NULL PRIMARY KEY, name varchar(10) NOT NULL,
		                 kind enum('a','b') NOT NULL, n int, gone varchar(5),
		                 updated datetime(6) NOT NULL);
		INSERT INTO $1 VALUES (1, 'one', 'a', 1, 'g1', '2026-01-01 00:00:01'),
		                      (2, 'two', 'b', -2, NULL, '2026-01-01 00:00:02'),
		                      (3, 'three', 'a', NULL, 'g3', '2026-01-01 00:00:03');"
	q "SELECT etl_pull.add_table('$1', server => 'replica');
	   SELECT etl_pull.set_table_option('$1', 'strategy', '$3');
	   SELECT etl_pull.set_table_option('$1', 'on_schema_change', '$4');" >/dev/null
	if [ "$2" = incremental ]; then
		q "SELECT etl_pull.set_table_option('$1', 'extraction', 'incremental');
		   SELECT etl_pull.set_table_option('$1', 'incremental_columns', 'updated');" >/dev/null
	fi
	is "$(q "SELECT rows || ' ' || status FROM etl_pull.load_table('$1')")" "3 succeeded" \
		"$1: the first load"
}

# the source's changes, and rows that need them
change_source() {
	etl_mysql -e "
		ALTER TABLE $1 ADD COLUMN extra int AFTER kind, MODIFY name varchar(40) NOT NULL,
		    MODIFY kind enum('a','b','c') NOT NULL, MODIFY n bigint, DROP COLUMN gone;
		UPDATE $1 SET extra = id * 10 WHERE id <= 2;
		INSERT INTO $1 VALUES (4, 'a name longer than ten', 'c', 40, 9000000000, '2026-01-01 00:00:04');
		UPDATE $1 SET name = 'one, renamed at length', updated = '2026-01-01 00:00:05' WHERE id = 1;"
}

# digests of the columns the source has now
mysql_sum() {
	etl_mysql -N -e "SELECT COUNT(*), MD5(GROUP_CONCAT(CONCAT_WS('|', id, name, kind,
		       IFNULL(extra, 'N'), IFNULL(n, 'N'), DATE_FORMAT(updated, '%Y-%m-%d %H:%i:%s.%f'))
		       ORDER BY id SEPARATOR ',')) FROM $1" | tr '\t' ' '
}
pg_sum() {
	q "SELECT count(*) || ' ' || md5(string_agg(concat_ws('|', id, name, kind,
	          coalesce(extra::text, 'N'), coalesce(n::text, 'N'),
	          to_char(updated, 'YYYY-MM-DD HH24:MI:SS.US')), ',' ORDER BY id)) FROM $1"
}
columns_of() {
	q "SELECT string_agg(attname || ' ' || format_type(atttypid, atttypmod)
	                     || CASE WHEN attnotnull THEN ' not null' ELSE '' END, ', ' ORDER BY attnum)
	     FROM pg_attribute WHERE attrelid = '$1'::regclass AND attnum > 0 AND NOT attisdropped"
}
last_run() {
	q "SELECT $2 FROM etl_pull.runs WHERE table_name = '$1' ORDER BY run_id DESC LIMIT 1"
}

# evolve, each extraction with each strategy (the swap of stream and parallel
# builds a new heap of the new row type)
for extraction in full incremental; do
	for strategy in stream copy parallel standard; do
		t=sc_${extraction:0:4}_$strategy
		make_table "$t" "$extraction" "$strategy" evolve
		change_source "$t"
		out=$(PGOPTIONS='-c client_min_messages=notice' etl_psql -d "$TAP_DB" -Atq \
			-c "SELECT rows || ' ' || status FROM etl_pull.load_table('$t')" 2>&1)
		like "$out" "4 succeeded" "$t: the load after the changes succeeds"
		is "$(last_run "$t" strategy)" "$strategy" "$t: by the $strategy strategy"
		like "$out" "NOTICE:  table public.$t: column \"extra\" added at the source" \
			"$t: a NOTICE names the added column"
		is "$(columns_of "$t")" \
			"id integer not null, name character varying(40) not null, kind text not null, n bigint, gone character varying(5), updated timestamp(6) without time zone, extra integer" \
			"$t: the target got the column and the widened types, and keeps the gone one"
		is "$(pg_sum "$t")" "$(mysql_sum "$t")" "$t: the target equals the source in every remaining column"
		is "$(q "SELECT count(*) FILTER (WHERE gone IS NOT NULL) FROM $t")" "0" \
			"$t: the gone column is NULL"
		is "$(last_run "$t" "array_length(schema_changes, 1)")" "5" "$t: the run lists five changes"
		changes=$(last_run "$t" "array_to_string(schema_changes, E'\n')")
		like "$changes" 'column "name" widened from varchar\(10\) NOT NULL to varchar\(40\) NOT NULL: target column name from character varying\(10\) to character varying\(40\)' \
			"$t: the varchar widening is recorded"
		like "$changes" 'column "kind" changed from enum\('"'"'a'"'"','"'"'b'"'"'\) NOT NULL to enum\('"'"'a'"'"','"'"'b'"'"','"'"'c'"'"'\) NOT NULL: target type text holds it' \
			"$t: the enum label is recorded, held by text"
		like "$changes" 'column "n" widened from int(\(11\))? to bigint(\(20\))?: target column n from integer to bigint' \
			"$t: the integer widening is recorded"
		like "$changes" 'column "gone" is gone from the source: target column gone stays and gets NULL from now on' \
			"$t: the gone column is recorded"
		if [ "$extraction" = incremental ]; then
			like "$(last_run "$t" "strategy_reason")" '^full load of an incremental table: on_schema_change added columns' \
				"$t: the incremental table loaded in full, saying why"
			# the next run is incremental again, and merges
			etl_mysql -e "UPDATE $t SET extra = 77, name = 'two again', updated = '2026-01-01 00:00:06' WHERE id = 2"
			is "$(q "SELECT extraction || ' ' || status FROM etl_pull.load_table('$t')")" "incremental succeeded" \
				"$t: the next run is incremental"
			is "$(pg_sum "$t")" "$(mysql_sum "$t")" "$t: and the merge keeps the target equal to the source"
			is "$(last_run "$t" "schema_changes")" "" "$t: with no change recorded"
		else
			is "$(q "SELECT rows FROM etl_pull.load_table('$t')")|$(last_run "$t" "schema_changes")" "4|" \
				"$t: the next load finds no change"
		fi
	done
done

# a diff table whose source gains a column loads in full that time (every
# row needs the new column), then goes back to diff runs
t=sc_diff
make_table "$t" full stream evolve
q "SELECT etl_pull.set_table_option('$t', 'extraction', 'diff')" >/dev/null
is "$(q "SELECT extraction || ' ' || status FROM etl_pull.load_table('$t')")" "diff succeeded" \
	"$t: a diff run before the change"
change_source "$t"
is "$(q "SELECT extraction || ' ' || rows || ' ' || status FROM etl_pull.load_table('$t')")" \
	"full 4 succeeded" "$t: the run after the changes is a full load"
like "$(last_run "$t" strategy_reason)" '^full load of a diff table: on_schema_change added columns' \
	"$t: saying why"
is "$(pg_sum "$t")" "$(mysql_sum "$t")" "$t: the target equals the source in every remaining column"
etl_mysql -e "UPDATE $t SET extra = 77, name = 'two again' WHERE id = 2"
is "$(q "SELECT extraction || ' ' || merged_rows || ' ' || status FROM etl_pull.load_table('$t')")" \
	"diff 1 succeeded" "$t: the next run is a diff run again, merging the changed row"
is "$(pg_sum "$t")" "$(mysql_sum "$t")" "$t: and leaves the target equal to the source"

# the other lossless widenings: decimal precision and scale, unsigned widths,
# float to double, datetime precision, char to varchar and to text
t=sc_widen_more
etl_mysql -e "DROP TABLE IF EXISTS $t;
	CREATE TABLE $t (id int NOT NULL PRIMARY KEY, d decimal(8,2), su smallint unsigned,
	                 f float, dt datetime(0), c char(4), v varchar(8));
	INSERT INTO $t VALUES (1, 123456.78, 65535, 0.5, '2026-01-01 00:00:01', 'abcd', 'eight ch')"
q "SELECT etl_pull.add_table('$t', server => 'replica');
   SELECT etl_pull.set_table_option('$t', 'on_schema_change', 'evolve')" >/dev/null
is "$(q "SELECT rows FROM etl_pull.load_table('$t')")" "1" "$t: the first load"
etl_mysql -e "ALTER TABLE $t MODIFY d decimal(12,4), MODIFY su int unsigned, MODIFY f double,
	MODIFY dt datetime(3), MODIFY c varchar(10), MODIFY v text;
	INSERT INTO $t VALUES (2, 12345678.1234, 4000000000, 0.1, '2026-01-01 00:00:02.125', 'ten chars!', REPEAT('t', 300))"
is "$(q "SELECT rows FROM etl_pull.load_table('$t')")" "2" "$t: the load after the widenings"
is "$(columns_of "$t")" \
	"id integer not null, d numeric(12,4), su bigint, f double precision, dt timestamp(3) without time zone, c character varying(10), v text" \
	"$t: each column widened to the new mapping"
is "$(q "SELECT string_agg(concat_ws('|', id, d, su, f, to_char(dt, 'SS.MS'), c, length(v)), ',' ORDER BY id) FROM $t")" \
	"1|123456.7800|65535|0.5|01.000|abcd|8,2|12345678.1234|4000000000|0.1|02.125|ten chars!|300" \
	"$t: and holds the wider values"
is "$(last_run "$t" "array_length(schema_changes, 1)")" "6" "$t: six changes recorded"

# an incremental table whose change adds no column stays incremental: the
# stage is made like the widened target, the merge takes the longer values
t=sc_incr_widen
make_table "$t" incremental copy evolve
etl_mysql -e "ALTER TABLE $t MODIFY name varchar(40) NOT NULL, DROP COLUMN gone;
	UPDATE $t SET name = 'longer than ten characters', updated = '2026-01-01 00:00:09' WHERE id = 3"
is "$(q "SELECT extraction || ' ' || rows || ' ' || merged_rows FROM etl_pull.load_table('$t')")" "incremental 1 1" \
	"$t: a widening alone keeps the run incremental"
is "$(q "SELECT string_agg(name, ',' ORDER BY id) FROM $t")|$(columns_of "$t" | grep -c 'name character varying(40)')" \
	"one,two,longer than ten characters|1" "$t: the column widened and the merged row has its value"

# error: the load fails naming every change, the target is untouched
for strategy in stream copy; do
	t=sc_err_$strategy
	make_table "$t" full "$strategy" error
	before_cols=$(columns_of "$t")
	before=$(q "SELECT md5(string_agg(t::text, ',' ORDER BY id)) FROM $t t")
	change_source "$t"
	out=$(q "SELECT etl_pull.load_table('$t')")
	like "$out" "ERROR:  the columns of MySQL table \"etl_test.$t\" changed: table public.$t needs altering before it can be loaded" \
		"$t: the load fails"
	for c in '"name" widened from varchar\(10\) NOT NULL to varchar\(40\) NOT NULL' \
		'"kind" changed from enum' '"n" widened from int(\(11\))? to bigint(\(20\))?' \
		'"gone" is gone from the source' '"extra" added at the source \(int(\(11\))?\)'; do
		like "$out" "column $c" "$t: the error names column $c"
	done
	like "$out" 'HINT:  Set "on_schema_change" to "evolve" for table "'"$t"'", or run ALTER TABLE public.'"$t"' ALTER COLUMN name TYPE character varying\(40\), ADD COLUMN extra integer, ALTER COLUMN n TYPE bigint; then load again' \
		"$t: the hint says what to run"
	is "$(columns_of "$t")" "$before_cols" "$t: the target's columns are untouched"
	is "$(q "SELECT md5(string_agg(t::text, ',' ORDER BY id)) FROM $t t")" "$before" "$t: and its rows"
	is "$(last_run "$t" "status || ' ' || array_length(schema_changes, 1)")" "failed 5" \
		"$t: the failed run lists the changes"
done

# error, and a change the target holds as it is: the load goes on
t=sc_err_enum
make_table "$t" full stream error
etl_mysql -e "ALTER TABLE $t MODIFY kind enum('a','b','z') NOT NULL; INSERT INTO $t VALUES (9, 'nine', 'z', 9, NULL, '2026-01-02')"
is "$(q "SELECT rows || ' ' || status FROM etl_pull.load_table('$t')")" "4 succeeded" \
	"$t: an enum label added loads under error: the text target holds it"
like "$(last_run "$t" "schema_changes[1]")" 'column "kind" changed from .*: target type text holds it' \
	"$t: and the run says so"
is "$(q "SELECT kind FROM $t WHERE id = 9")" "z" "$t: the new label arrived"

# a narrowing the target holds as it is loads, under evolve and error, with
# nothing altered: compared with the target's type, not the last load's
t=sc_narrow_evolve
make_table "$t" full copy evolve
etl_mysql -e "ALTER TABLE $t MODIFY name varchar(40) NOT NULL"
is "$(q "SELECT rows FROM etl_pull.load_table('$t')")|$(columns_of "$t" | grep -c 'name character varying(40)')" \
	"3|1" "$t: the widening to varchar(40) evolves the target"
etl_mysql -e "ALTER TABLE $t MODIFY name varchar(30) NOT NULL; UPDATE $t SET name = 'thirty characters, just about' WHERE id = 1"
is "$(q "SELECT rows || ' ' || status FROM etl_pull.load_table('$t')")" "3 succeeded" \
	"$t: a varchar(30) source loads into the varchar(40) target"
like "$(last_run "$t" "array_to_string(schema_changes, ' | ')")" \
	'^column "name" narrowed from varchar\(40\) NOT NULL to varchar\(30\) NOT NULL: target type character varying\(40\) holds it$' \
	"$t: the run says the target holds it"
is "$(columns_of "$t" | grep -c 'name character varying(40)')|$(q "SELECT name FROM $t WHERE id = 1")" \
	"1|thirty characters, just about" "$t: the target is not altered and has the new value"
is "$(q "SELECT rows FROM etl_pull.load_table('$t')")|$(last_run "$t" "schema_changes")" "3|" \
	"$t: the next load finds no change"
t=sc_narrow_error
make_table "$t" full stream error
etl_mysql -e "ALTER TABLE $t MODIFY name varchar(5) NOT NULL, MODIFY n smallint"
is "$(q "SELECT rows || ' ' || status FROM etl_pull.load_table('$t')")" "3 succeeded" \
	"$t: narrowings the target holds load under error"
is "$(columns_of "$t" | grep -c 'name character varying(10) not null, kind text not null, n integer')" "1" \
	"$t: nothing altered"

# a change the target cannot hold fails under evolve, naming the column,
# both types and what to do, the message not repeated in a DETAIL
t=sc_refused
make_table "$t" full copy evolve
etl_mysql -e "ALTER TABLE $t MODIFY n varchar(20)"
before=$(q "SELECT md5(string_agg(t::text, ',' ORDER BY id)) FROM $t t")
out=$(q "SELECT etl_pull.load_table('$t')")
like "$out" 'ERROR:  cannot load table "'"$t"'": column "n" changed from int(\(11\))? to varchar\(20\): target column n is integer, and character varying\(20\) is not a lossless widening of it' \
	"$t: a type changed incompatibly fails under evolve"
is "$(grep -c 'column "n" changed' <<<"$out")|$(grep -c DETAIL <<<"$out")" "1|0" \
	"$t: the change is named once, with no DETAIL repeating it"
like "$out" "HINT:  Alter column n of table public.$t yourself \(ALTER TABLE public.$t ALTER COLUMN n TYPE character varying\(20\), with a USING clause if needed\)" \
	"$t: the hint says what to run"
is "$(q "SELECT md5(string_agg(t::text, ',' ORDER BY id)) FROM $t t")" "$before" "$t: the target is untouched"

# two refused changes and an added column: one error counting them, the
# DETAIL listing every change once, the HINT fixing both
etl_mysql -e "ALTER TABLE $t ADD COLUMN extra int, DROP COLUMN name"
out=$(q "SELECT etl_pull.load_table('$t')")
like "$out" "ERROR:  cannot load table \"$t\": 2 changes of the source's columns need the target altered by hand" \
	"$t: two refused changes fail in one error"
for c in 'column "n" changed from' 'column "extra" added at the source' 'column "name" is gone from the source: target column name is NOT NULL'; do
	is "$(grep -c "$c" <<<"$out")" "1" "$t: the DETAIL lists $c once"
done
hint="ALTER TABLE public.$t ALTER COLUMN n TYPE character varying(20), ALTER COLUMN name DROP NOT NULL"
like "$out" "HINT:  Alter table public.$t yourself \(ALTER TABLE public.$t ALTER COLUMN n TYPE character varying\(20\), ALTER COLUMN name DROP NOT NULL, with a USING clause where a type needs one\) or drop it" \
	"$t: the hint fixes both"
q "$hint" >/dev/null
is "$(q "SELECT rows || ' ' || status FROM etl_pull.load_table('$t')")|$(q "SELECT count(name) || ' ' || string_agg(n, ',' ORDER BY id) FROM $t")" \
	"3 succeeded|0 1,-2" "$t: after the hint's ALTER TABLE the load evolves the rest and succeeds"

# a rename is a drop plus an add; a NOT NULL column gone is an error naming it
t=sc_rename
make_table "$t" full stream evolve
etl_mysql -e "ALTER TABLE $t CHANGE COLUMN n amount int"
is "$(q "SELECT rows FROM etl_pull.load_table('$t')")" "3" "$t: a renamed column loads under evolve"
is "$(q "SELECT count(n) || ' ' || string_agg(coalesce(amount::text, 'N'), ',' ORDER BY id) FROM $t")" "0 1,-2,N" \
	"$t: the new name is filled, the old one NULL"
like "$(last_run "$t" "array_to_string(schema_changes, ' | ')")" 'column "amount" added at the source .* \| column "n" is gone from the source' \
	"$t: the run lists the add and the drop"
etl_mysql -e "ALTER TABLE $t DROP COLUMN name"
out=$(q "SELECT etl_pull.load_table('$t')")
like "$out" "ERROR:  cannot load table \"$t\": column \"name\" is gone from the source: target column name is NOT NULL and has no default" \
	"$t: a NOT NULL column gone from the source is an error naming it"
like "$out" "HINT:  Drop its NOT NULL \(ALTER TABLE public.$t ALTER COLUMN name DROP NOT NULL\)" "$t: with what to do"
q "ALTER TABLE $t ALTER COLUMN name DROP NOT NULL" >/dev/null
is "$(q "SELECT rows FROM etl_pull.load_table('$t')")|$(q "SELECT count(name) FROM $t")" "3|0" \
	"$t: once nullable, it stays and gets NULL"

# a column_types entry for a column the source no longer has: the load
# fails, and plan reports the load's error as a row instead of raising it
t=sc_ctypes
make_table "$t" full stream evolve
q "SELECT etl_pull.set_table_option('$t', 'column_types', 'gone:text')" >/dev/null
etl_mysql -e "ALTER TABLE $t DROP COLUMN gone"
err=$(q "SELECT etl_pull.load_table('$t')" | sed -n 's/^ERROR:  //p')
like "$err" 'column_types.*"gone"' "$t: the load fails on the column_types entry"
row=$(q "SELECT string_agg(section || '|' || coalesce(item, '') || '|' || detail, E'\n') FROM etl_pull.plan('$t', 0)")
expect="table|name|$t
table|column_types|load_table fails: $err"
ok "$([[ $row == "$expect"* && $row == *"; the plan stops here"* ]]; echo $?)" \
	"$t: plan says so in a row, with the load's message, and stops"
[[ $row == "$expect"* ]] || echo "#   got: '$row'"

# a view on a column to widen: a clear error
t=sc_view
make_table "$t" full stream evolve
q "CREATE VIEW sc_view_names AS SELECT id, name FROM $t" >/dev/null
etl_mysql -e "ALTER TABLE $t MODIFY name varchar(20) NOT NULL"
like "$(q "SELECT detail FROM etl_pull.plan('$t', 0) WHERE section = 'schema' AND item = 'refused'")" \
	"^cannot widen a column of table public.$t: view public.sc_view_names depends on it\. Drop the view" \
	"$t: plan reports the view that blocks the widening"
out=$(q "SELECT etl_pull.load_table('$t')")
like "$out" "ERROR:  cannot widen a column of table public.$t: view public.sc_view_names depends on it" \
	"$t: a view on the widened column is named"
q "DROP VIEW sc_view_names" >/dev/null
is "$(q "SELECT rows FROM etl_pull.load_table('$t')")|$(columns_of "$t" | grep -c 'name character varying(20)')" "3|1" \
	"$t: without the view the column widens"

# a reader holding the target: evolve waits at most etl_pull.swap_lock_timeout
t=sc_locked
make_table "$t" full stream evolve
etl_mysql -e "ALTER TABLE $t ADD COLUMN extra int"
PGAPPNAME=sc_reader etl_psql -d "$TAP_DB" -Atq -c "BEGIN; SELECT count(*) FROM $t; SELECT pg_sleep(600)" >/dev/null 2>&1 &
reader=$!
until [ "$(q "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a USING (pid)
              WHERE a.application_name = 'sc_reader' AND l.relation = '$t'::regclass")" = 1 ]; do
	sleep 0.05
done
out=$(PGOPTIONS='-c etl_pull.swap_lock_timeout=200' etl_psql -d "$TAP_DB" -Atq -c "SELECT etl_pull.load_table('$t')" 2>&1)
etl_psql -Atqc "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'sc_reader'" >/dev/null
wait "$reader" 2>/dev/null
like "$out" "ERROR:  could not lock table public.$t to alter it for the source's schema changes" \
	"$t: a reader holding the target fails the evolving load, saying why"
is "$(columns_of "$t" | grep -c extra)" "0" "$t: the target is unchanged"
is "$(q "SELECT rows FROM etl_pull.load_table('$t')")|$(columns_of "$t" | grep -c extra)" "3|1" \
	"$t: without the reader it evolves"

# evolve needs the target's owner
t=sc_owner
make_table "$t" full stream evolve
q "CREATE ROLE sc_loader; GRANT USAGE ON FOREIGN SERVER replica TO sc_loader;
   CREATE USER MAPPING FOR sc_loader SERVER replica OPTIONS (user '$ETL_PULL_MYSQL_USER', password '$ETL_PULL_MYSQL_PASSWORD');
   GRANT SELECT, INSERT, UPDATE, DELETE, TRUNCATE ON $t TO sc_loader" >/dev/null 2>&1
tap_on_exit "q 'DROP OWNED BY sc_loader; DROP ROLE sc_loader' >/dev/null 2>&1"
etl_mysql -e "ALTER TABLE $t ADD COLUMN extra int"
like "$(q "SET ROLE sc_loader; SELECT etl_pull.load_table('$t')")" \
	"ERROR:  table \"$t\" needs its target public.$t altered, which only its owner may do" \
	"$t: a caller who does not own the target cannot evolve it"
is "$(q "SELECT rows FROM etl_pull.load_table('$t')")" "3" "$t: its owner can"

done_testing
