# verify_table, repair_table, extraction = 'diff' and setting verify, on real
# servers: every type of the mapping compared exactly (a one-unit change in
# any column is found, at the target or at the source), rows changed,
# deleted and added on either side reported by key, repair and diff runs
# leaving the target equal to the source for integer, composite and text
# keys, and a full load whose rows a trigger changes failing before commit.
source "$(dirname "$0")/../tap.sh"
tap_setup_db etl_tap_verify
q "CREATE FUNCTION keys(text[]) RETURNS text LANGUAGE sql
     AS \$\$SELECT coalesce(string_agg(k, ',' ORDER BY k), '') FROM unnest(\$1) k\$\$" >/dev/null

# psql with the SQLSTATE before each error's message
qv() {
	PGOPTIONS='-c client_min_messages=warning' etl_psql -d "$TAP_DB" -Atq -v VERBOSITY=verbose -c "$1" 2>&1
}

# the last run of table $1: strategy, status and verify_status (- for NULL)
last_run() {
	q "SELECT strategy || ' ' || status || ' ' || coalesce(verify_status, '-') FROM etl_pull.runs
	    WHERE table_name = '$1' ORDER BY run_id DESC LIMIT 1"
}

# what verify says, in one line: status, then missing / extra / different keys
vsay() {
	q "SELECT status || ' m=' || missing_rows || keys(missing_keys)
	          || ' e=' || extra_rows || keys(extra_keys)
	          || ' d=' || different_rows || keys(different_keys)
	     FROM etl_pull.verify_table('$1')"
}

# ---- every type, each edge value, compared exactly
etl_mysql -e "
	DROP TABLE IF EXISTS v_types;
	CREATE TABLE v_types (
	  id int PRIMARY KEY,
	  ti tinyint, su smallint unsigned, mi mediumint, i int, iu int unsigned,
	  bi bigint, bu bigint unsigned, dc decimal(20,6),
	  fl float, db double, dd double(10,2),
	  bt bit(13),
	  ch char(10), vc varchar(50) CHARACTER SET utf8mb4, tx text CHARACTER SET utf8mb4,
	  l1 varchar(20) CHARACTER SET latin1,
	  bn binary(4), vb varbinary(20), bl blob,
	  en enum('a','b','c'), st set('x','y','z'),
	  d date, dt datetime(6), ts timestamp(6) NULL DEFAULT NULL, tm time(6), yr year,
	  js json, geo geometry);
	INSERT INTO v_types VALUES
	 (1, -128, 65535, -8388608, -2147483648, 4294967295, -9223372036854775808,
	  18446744073709551615, -12345678901234.123456,
	  0.1, 0.1, 1234.56, b'1010101010101',
	  'abc', 'h\u00e9llo \u{1F600}', 'some text', 'caf\u00e9',
	  x'00010203', x'ff00', x'deadbeef',
	  'a', 'x,y', '2024-02-29', '2024-02-29 23:59:59.999999',
	  '2038-01-19 03:14:07.123456', '-838:59:59.000000', 2155,
	  '{\"k\": [1, 2.5, \"s\"]}', ST_GeomFromText('POINT(1.5 -2.25)')),
	 (2, 127, 0, 8388607, 2147483647, 0, 9223372036854775807, 0, 0.000001,
	  -3.4028235e38, 1.7976931348623157e308, -0.25, b'0000000000000',
	  '', '', '', '', x'00000000', x'', x'',
	  'c', '', '1000-01-01', '1000-01-01 00:00:00', '1970-01-01 00:00:01', '838:59:59.999999', 1901,
	  '[]', ST_GeomFromText('LINESTRING(0 0, 1 1)')),
	 (3, 0, 1, 0, 0, 1, 0, 1, -0.5,
	  1e-45, 4.9406564584124654e-324, 0, b'1111111111111',
	  'z', 'x', REPEAT('long ', 1000), 'x', x'ffffffff', x'00', REPEAT(x'ab', 5000),
	  'b', 'x,y,z', '0000-00-00', '0000-00-00 00:00:00', NULL, '00:00:00.000001', 0,
	  NULL, NULL),
	 (4, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
	  NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
	 (5, 1, 2, 3, 4, 5, 6, 7, 8.5,
	  123456.789, 2.2250738585072014e-308, 99999999.99, b'0000000000001',
	  'N', 'N', ',N', ',1:x', x'2c4e2c4e', x'2c', x'4e',
	  'a', 'z', '2000-01-01', '1999-12-31 23:59:59.5', '2000-01-01 00:00:00', '-00:00:00.5', 2000,
	  '{\"a\": null}', ST_GeomFromText('POINT(0 0)'));"
q "SELECT etl_pull.add_table('v_types', server => 'replica')" >/dev/null
is "$(q "SELECT rows FROM etl_pull.load_table('v_types')")" "5" "the type fixture loads"
is "$(vsay v_types)" "equal m=0 e=0 d=0" "every type of the mapping renders back into the source's canonical text"
is "$(q "SELECT ranges || ' ' || rows_located FROM etl_pull.verify_table('v_types')")" "1 true" \
	"one range; rows are located by key"

# one unit, bit, byte or microsecond in each column of the target; then back
while IFS='|' read -r col change; do
	[ -n "$col" ] || continue
	q "UPDATE v_types SET $col = $change WHERE id = 1" >/dev/null
	is "$(vsay v_types)" "different m=0 e=0 d=1id=1" "a changed $col in the target is found ($change)"
	q "SELECT etl_pull.repair_table('v_types')" >/dev/null
done <<'CHANGES'
ti|ti + 1
su|su - 1
mi|mi + 1
i|i + 1
iu|iu - 1
bi|bi + 1
bu|bu - 1
dc|dc + 0.000001
fl|'0.10000001'::real
db|'0.10000000000000002'::float8
dd|'1234.5600000000002'::float8
bt|bt # B'0000000000001'
ch|'abd'
vc|'h\u00e9llo \u{1F601}'
tx|'some texu'
l1|'cafe'
bn|'\x00010202'::bytea
vb|'\xff01'::bytea
bl|'\xdeadbeee'::bytea
en|'b'
st|'{x,z}'
d|d + 1
dt|dt + interval '1 microsecond'
ts|ts + interval '1 microsecond'
tm|tm - interval '1 microsecond'
yr|yr - 1
geo|overlay(geo placing '\x00'::bytea from 21 for 1)
CHANGES
is "$(vsay v_types)" "equal m=0 e=0 d=0" "repair_table restored every changed column"

# NULL against a value, both ways, and the JSON column's presence
q "UPDATE v_types SET vc = NULL WHERE id = 2; UPDATE v_types SET tx = '' WHERE id = 4;
   UPDATE v_types SET js = NULL WHERE id = 5" >/dev/null
is "$(vsay v_types)" "different m=0 e=0 d=3id=2,id=4,id=5" "NULL for '', '' for NULL and a missing document are found"
q "SELECT etl_pull.repair_table('v_types')" >/dev/null

# one unit at the source, in columns of each family
etl_mysql -e "UPDATE v_types SET dt = dt + INTERVAL 1 MICROSECOND WHERE id = 2;
	UPDATE v_types SET db = db * 2 WHERE id = 3;
	UPDATE v_types SET bl = x'deadbeee' WHERE id = 1;
	UPDATE v_types SET vc = 'n' WHERE id = 5"
is "$(vsay v_types)" "different m=0 e=0 d=4id=1,id=2,id=3,id=5" "changes of one unit at the source are found"
is "$(q "SELECT merged_rows || ' ' || deleted_rows FROM etl_pull.repair_table('v_types')")" "4 0" \
	"repair_table updates the four rows"
is "$(vsay v_types)" "equal m=0 e=0 d=0" "and verify is clean"

# datetimes of fewer fractional digits are compared with MySQL's own text of them
etl_mysql -e "DROP TABLE IF EXISTS v_dt; CREATE TABLE v_dt (id int PRIMARY KEY, a datetime, b datetime(3),
	c timestamp(2) NULL DEFAULT NULL, d time);
	INSERT INTO v_dt VALUES (1, '2024-05-06 07:08:09', '2024-05-06 07:08:09.123', '2024-05-06 07:08:09.12', '-12:00:00'),
	(2, '0000-00-00 00:00:00', '1000-01-01 00:00:00.000', NULL, '00:00:00');"
q "SELECT etl_pull.add_table('v_dt', server => 'replica'); SELECT etl_pull.load_table('v_dt')" >/dev/null
is "$(vsay v_dt)" "equal m=0 e=0 d=0" "datetime(0), datetime(3), timestamp(2), time(0): equal after the load"
q "UPDATE v_dt SET a = a + interval '1 second' WHERE id = 1; UPDATE v_dt SET b = b + interval '1 millisecond' WHERE id = 2;
   UPDATE v_dt SET c = c - interval '10 milliseconds' WHERE id = 1" >/dev/null
is "$(vsay v_dt)" "different m=0 e=0 d=2id=1,id=2" "a second, a millisecond and a hundredth of a second are found"

# zero dates under zero_dates = error: the source's zero date is no loaded value
q "SELECT etl_pull.set_table_option('v_types', 'zero_dates', 'error')" >/dev/null
is "$(vsay v_types)" "different m=0 e=0 d=1id=3" "with zero_dates = error a zero date matches no loaded value"
q "SELECT etl_pull.set_table_option('v_types', 'zero_dates', NULL)" >/dev/null

# ---- rows changed, deleted and added behind etl_pull's back, on both sides
etl_mysql -e "
	DROP TABLE IF EXISTS v_big;
	CREATE TABLE v_big (id bigint PRIMARY KEY, val int NOT NULL, note varchar(20));
	INSERT INTO v_big SELECT seq * 3, seq, CONCAT('n', seq) FROM seq_1_to_30000;"
q "SELECT etl_pull.add_table('v_big', server => 'replica')" >/dev/null
is "$(q "SELECT rows FROM etl_pull.load_table('v_big')")" "30000" "30,000 rows load"
is "$(vsay v_big)" "equal m=0 e=0 d=0" "verify: equal after the load"
q "UPDATE v_big SET val = val + 1 WHERE id = 300; DELETE FROM v_big WHERE id = 6000;
   INSERT INTO v_big VALUES (7, 0, 'x'), (-5, 0, 'below'), (1000000, 0, 'above')" >/dev/null
is "$(vsay v_big)" "different m=1id=6000 e=3id=-5,id=1000000,id=7 d=1id=300" \
	"target rows changed, deleted and added are each reported by key (keys outside the source's too)"
# The first pass reads the whole target; the rows of the ranges that differ are then read by
# the primary key index, one index scan per run of adjacent ranges (3 or 4 here, by the size
# estimates that set the ranges), where a second pass over the heap would use it 0 times.
is "$(q "SELECT count(*) FROM etl_pull.verify_table('v_big');
         SELECT pg_stat_get_xact_numscans('v_big_pkey'::regclass) BETWEEN 3 AND 4" | tail -n 1)" "t" \
	"... the target's rows of the ranges that differ are read by its primary key index"
q "ALTER TABLE v_big DROP CONSTRAINT v_big_pkey" >/dev/null
is "$(vsay v_big)" "different m=1id=6000 e=3id=-5,id=1000000,id=7 d=1id=300" \
	"... and the same are found by a scan of a target with no index on the key"
q "ALTER TABLE v_big ADD PRIMARY KEY (id)" >/dev/null
is "$(q "SELECT merged_rows || ' ' || deleted_rows FROM etl_pull.repair_table('v_big')")" "2 3" \
	"repair_table: one row updated, one inserted, three deleted"
is "$(vsay v_big)" "equal m=0 e=0 d=0" "repair makes verify clean"
etl_mysql -e "UPDATE v_big SET note = 'changed' WHERE id = 90; DELETE FROM v_big WHERE id = 45000;
	INSERT INTO v_big VALUES (8, 1, 'new')"
is "$(vsay v_big)" "different m=1id=8 e=1id=45000 d=1id=90" "source rows changed, deleted and added are reported by key"
is "$(q "SELECT max_keys_ok FROM (SELECT cardinality(extra_keys) = 1 AND extra_rows = 1 AS max_keys_ok
          FROM etl_pull.verify_table('v_big', max_keys => 1)) s")" "t" "max_keys bounds the keys listed"
is "$(q "SELECT strategy || ' ' || extraction || ' ' || rows || ' ' || status || ' ' || (notes LIKE 'verify: %')
          FROM etl_pull.runs WHERE table_name = 'v_big' ORDER BY run_id DESC LIMIT 1")" \
	"verify verify 30000 succeeded true" "a verify is recorded in etl_pull.runs as strategy verify"
is "$(last_run v_big)" "verify succeeded different" \
	"a verify that finds differences completes (succeeded) and records verify_status different"
is "$(q "SELECT strategy FROM etl_pull.run_comparison WHERE table_name = 'v_big'")" "diff" \
	"run_comparison (performance_report) still shows the latest load, not the verify"
q "SELECT etl_pull.repair_table('v_big')" >/dev/null
is "$(vsay v_big)" "equal m=0 e=0 d=0" "repair makes verify clean again"
is "$(last_run v_big)" "verify succeeded equal" "... and an equal one verify_status equal"
is "$(q "SELECT count(*) FROM etl_pull.runs WHERE table_name = 'v_big' AND strategy <> 'verify'
          AND verify_status IS NOT NULL")" "0" "a load without the setting verify compares nothing: NULL"

# ---- a table without a key: a multiset
etl_mysql -e "DROP TABLE IF EXISTS v_nokey; CREATE TABLE v_nokey (a int, b varchar(10));
	INSERT INTO v_nokey VALUES (1, 'x'), (1, 'x'), (2, 'y');"
q "SELECT etl_pull.add_table('v_nokey', server => 'replica'); SELECT etl_pull.load_table('v_nokey')" >/dev/null
is "$(q "SELECT status || ' ' || rows_located FROM etl_pull.verify_table('v_nokey')")" "equal false" \
	"a table without a key compares as a multiset"
q "DELETE FROM v_nokey WHERE ctid = (SELECT min(ctid) FROM v_nokey WHERE a = 1); INSERT INTO v_nokey VALUES (2, 'y')" >/dev/null
is "$(q "SELECT status || ' ' || source_rows || ' ' || target_rows || ' ' || rows_located FROM etl_pull.verify_table('v_nokey')")" \
	"different 3 3 false" "a duplicate swapped for another is found, though the rows cannot be located"

# ---- extraction = 'diff': integer, composite and text keys
etl_mysql -e "
	DROP TABLE IF EXISTS v_dint, v_dcomp, v_dtext;
	CREATE TABLE v_dint (id int PRIMARY KEY, val int, note varchar(30));
	INSERT INTO v_dint SELECT seq, seq, CONCAT('n', seq) FROM seq_1_to_20000;
	CREATE TABLE v_dcomp (a int, b varchar(20), val int, PRIMARY KEY (a, b));
	INSERT INTO v_dcomp SELECT seq % 50, CONCAT('k', seq), seq FROM seq_1_to_20000;
	CREATE TABLE v_dtext (k varchar(40) PRIMARY KEY, val int);
	INSERT INTO v_dtext SELECT CONCAT(CHAR(65 + seq % 26), ':', seq, IF(seq % 7 = 0, 'z', 'Z')), seq FROM seq_1_to_20000;"
for t in v_dint v_dcomp v_dtext; do
	q "SELECT etl_pull.add_table('$t', server => 'replica');
	   SELECT etl_pull.set_table_option('$t', 'extraction', 'diff')" >/dev/null
	is "$(q "SELECT extraction || ' ' || rows FROM etl_pull.load_table('$t')")" "full 20000" \
		"$t: the first diff run is a full load"
	# an integer key's rows are read and compared row by row (rows: those read); the others'
	# ranges compared by hash, none pulled
	[ "$t" = v_dint ] && read=20000 || read=0
	is "$(q "SELECT extraction || ' ' || rows || ' ' || merged_rows || ' ' || deleted_rows FROM etl_pull.load_table('$t')")" \
		"diff $read 0 0" "$t: an unchanged source writes nothing"
done
etl_mysql -e "
	UPDATE v_dint SET val = -val WHERE id % 1000 = 0; DELETE FROM v_dint WHERE id BETWEEN 500 AND 504;
	INSERT INTO v_dint VALUES (30000, 1, 'new'), (0, 0, 'zero');
	UPDATE v_dcomp SET val = -val WHERE val % 1000 = 0; DELETE FROM v_dcomp WHERE a = 7 AND val < 1000;
	INSERT INTO v_dcomp VALUES (99, 'new', 1), (-1, '\u00e9', 2);
	UPDATE v_dtext SET val = -val WHERE val % 1000 = 0; DELETE FROM v_dtext WHERE val BETWEEN 100 AND 104;
	INSERT INTO v_dtext VALUES ('a:new', 1), ('\u00e9t\u00e9', 2), ('A:1Z ', 3);"
is "$(q "SELECT merged_rows || ' ' || deleted_rows FROM etl_pull.load_table('v_dint')")" "22 5" \
	"v_dint: 20 updated and 2 inserted rows merged, 5 deleted"
is "$(q "SELECT rows || ' ' || (notes LIKE '%diff: compared row by row: 2 rows missing, 20 different, 5 gone, of 19997 source rows read in %') FROM etl_pull.runs
	WHERE table_name = 'v_dint' ORDER BY run_id DESC LIMIT 1")" "19997 true" \
	"v_dint: its 19,997 source rows are read and compared row by row, the 27 that differ written"
is "$(q "SELECT merged_rows || ' ' || deleted_rows FROM etl_pull.load_table('v_dcomp')")" "22 20" \
	"v_dcomp: 20 updated and 2 inserted rows merged, 20 deleted"
is "$(q "SELECT merged_rows || ' ' || deleted_rows FROM etl_pull.load_table('v_dtext')")" "23 5" \
	"v_dtext: 20 updated and 3 inserted rows merged, 5 deleted"
is "$(etl_mysql -N -e "SELECT COUNT(*), MD5(GROUP_CONCAT(CONCAT_WS('|', id, val, note) ORDER BY id SEPARATOR ',')) FROM v_dint" | tr '\t' ' ')" \
	"$(q "SELECT count(*) || ' ' || md5(string_agg(concat_ws('|', id, val, note), ',' ORDER BY id)) FROM v_dint")" \
	"v_dint equals the source row for row"
is "$(etl_mysql -N -e "SET SESSION group_concat_max_len = 1073741824; SELECT COUNT(*), MD5(GROUP_CONCAT(CONCAT_WS('|', a, b, val) ORDER BY a, BINARY b SEPARATOR ',')) FROM v_dcomp" | tr '\t' ' ')" \
	"$(q "SELECT count(*) || ' ' || md5(string_agg(concat_ws('|', a, b, val), ',' ORDER BY a, b COLLATE \"C\")) FROM v_dcomp")" \
	"v_dcomp equals the source row for row"
is "$(etl_mysql -N -e "SET SESSION group_concat_max_len = 1073741824; SELECT COUNT(*), MD5(GROUP_CONCAT(CONCAT_WS('|', k, val) ORDER BY BINARY k SEPARATOR ',')) FROM v_dtext" | tr '\t' ' ')" \
	"$(q "SELECT count(*) || ' ' || md5(string_agg(concat_ws('|', k, val), ',' ORDER BY k COLLATE \"C\")) FROM v_dtext")" \
	"v_dtext equals the source row for row"
for t in v_dint v_dcomp v_dtext; do
	is "$(vsay $t)" "equal m=0 e=0 d=0" "$t: verify is clean after the diff run"
done
q "UPDATE v_dtext SET val = 0 WHERE k = 'a:new'; DELETE FROM v_dcomp WHERE a = 99" >/dev/null
is "$(vsay v_dtext)" "different m=0 e=0 d=1k=a:new" "a text key is reported"
is "$(vsay v_dcomp)" "different m=1a=99, b=new e=0 d=0" "a composite key is reported"

# ---- a baseline is a successful load, compared only with runs of its own extraction
like "$(q "SELECT etl_pull.set_baseline(max(run_id)) FROM etl_pull.runs WHERE table_name = 'v_dint' AND strategy = 'verify'")" \
	'ERROR:  run [0-9]+ is a verify run, not a load' "set_baseline refuses a verify run"
like "$(q "SELECT etl_pull.set_baseline(0)")" 'ERROR:  run 0 does not exist' "... and a run that does not exist"
q "SELECT etl_pull.set_baseline(min(run_id)) FROM etl_pull.runs WHERE table_name = 'v_dint'" >/dev/null
is "$(q "SELECT extraction || ' ' || baseline_extraction || ' ' || coalesce(speedup::text, '-') || ' '
          || coalesce(memory_improvement::text, '-') FROM etl_pull.run_comparison WHERE table_name = 'v_dint'")" \
	"diff full - -" "a diff run is not compared with a full load's baseline (no speedup, no memory ratio)"
like "$(q "SELECT etl_pull.performance_report()")" \
	'\| v_dint \| [a-z]+ \| 19997 \| [^|]* \| [^|]* \| [^|]* \| no baseline of this kind \| no baseline of this kind \| succeeded \|' \
	"performance_report says so instead of a ratio"
q "SELECT etl_pull.set_baseline(max(run_id)) FROM etl_pull.runs WHERE table_name = 'v_dint' AND extraction = 'diff'" >/dev/null
is "$(q "SELECT baseline_extraction || ' ' || (speedup IS NOT NULL) || ' ' || (memory_improvement IS NOT NULL)
          FROM etl_pull.run_comparison WHERE table_name = 'v_dint'")" "diff true true" \
	"a diff baseline is compared with the latest diff run"
etl_mysql -e "DROP TABLE IF EXISTS v_inc; CREATE TABLE v_inc (id int PRIMARY KEY, updated datetime NOT NULL);
	INSERT INTO v_inc SELECT seq, '2024-01-01' + INTERVAL seq SECOND FROM seq_1_to_5000;"
q "SELECT etl_pull.add_table('v_inc', server => 'replica');
   SELECT etl_pull.set_table_option('v_inc', 'extraction', 'incremental');
   SELECT etl_pull.set_table_option('v_inc', 'incremental_columns', 'updated');
   SELECT etl_pull.load_table('v_inc')" >/dev/null
etl_mysql -e "INSERT INTO v_inc SELECT 5000 + seq, '2024-02-01' FROM seq_1_to_11"
is "$(q "SELECT extraction || ' ' || rows FROM etl_pull.load_table('v_inc')")" "incremental 12" \
	"an incremental run of 12 rows (11 new, 1 at the watermark)"
q "SELECT etl_pull.set_baseline(min(run_id)) FROM etl_pull.runs WHERE table_name = 'v_inc'" >/dev/null
like "$(q "SELECT etl_pull.performance_report()")" \
	'\| v_inc \| [a-z]+ \| 12 \| [^|]* \| [^|]* \| [^|]* \| no baseline of this kind \| no baseline of this kind \| succeeded \|' \
	"... is not compared with the full load that is its table's baseline"
is "$(q "SELECT extraction || ' ' || rows FROM etl_pull.load_table('v_inc', force_full => true)")" "full 5011" \
	"a full load of the same table"
like "$(q "SELECT etl_pull.performance_report()")" \
	'\| v_inc \| [a-z]+ \| 5011 \| [^|]* \| [^|]* \| [^|]* \| [0-9.]+x \| [0-9.]+x \| succeeded \|' \
	"... is compared with it"

# ---- setting verify: the load checks its rows before it commits
etl_mysql -e "DROP TABLE IF EXISTS v_load; CREATE TABLE v_load (id int PRIMARY KEY, val int);
	INSERT INTO v_load SELECT seq, seq FROM seq_1_to_10000;"
q "SELECT etl_pull.add_table('v_load', server => 'replica');
   SELECT etl_pull.set_table_option('v_load', 'verify', 'full')" >/dev/null
is "$(q "SELECT strategy || ' ' || rows FROM etl_pull.load_table('v_load')")" "stream 10000" \
	"verify = full: a stream load that matches commits"
like "$(q "SELECT notes FROM etl_pull.runs WHERE table_name = 'v_load' ORDER BY run_id DESC LIMIT 1")" \
	"verify full: 10000 rows equal" "and its run notes the check"
is "$(last_run v_load)" "stream succeeded equal" "... and records verify_status equal"
q "CREATE FUNCTION public.v_tamper() RETURNS trigger LANGUAGE plpgsql AS
     \$\$BEGIN IF NEW.id OPERATOR(pg_catalog.=) 4321 THEN NEW.val := 0; END IF; RETURN NEW; END\$\$;
   CREATE TRIGGER v_tamper BEFORE INSERT ON v_load FOR EACH ROW EXECUTE FUNCTION public.v_tamper()" >/dev/null
etl_mysql -e "UPDATE v_load SET val = val + 1"
like "$(qv "SELECT * FROM etl_pull.load_table('v_load')")" \
	'ERROR:  22000: the rows loaded into public.v_load differ from MySQL table' \
	"a load whose trigger changes one value fails under verify = full, SQLSTATE 22000 (not XX001)"
is "$(q "SELECT count(*) || ' ' || sum(val) FROM v_load")" "10000 50005000" "the target keeps its old rows"
like "$(q "SELECT strategy || ' ' || status || ' ' || error FROM etl_pull.runs WHERE table_name = 'v_load' ORDER BY run_id DESC LIMIT 1")" \
	'copy failed .*1 different: \(id=4321\)' "the failed run names the row"
is "$(last_run v_load)" "copy failed different" "... and records verify_status different"
like "$(q "SELECT etl_pull.set_baseline(max(run_id)) FROM etl_pull.runs WHERE table_name = 'v_load'")" \
	'ERROR:  run [0-9]+ is not a successful load
DETAIL:  Its status is "failed".' "set_baseline refuses a failed run"
q "SELECT etl_pull.set_table_option('v_load', 'verify', 'count')" >/dev/null
is "$(q "SELECT status FROM etl_pull.load_table('v_load')")" "succeeded" \
	"verify = count does not see a changed value"
is "$(last_run v_load)" "copy succeeded equal" "... its run records verify_status equal"
q "CREATE OR REPLACE FUNCTION public.v_tamper() RETURNS trigger LANGUAGE plpgsql AS
     \$\$BEGIN IF NEW.id OPERATOR(pg_catalog.=) 4321 THEN RETURN NULL; END IF; RETURN NEW; END\$\$" >/dev/null
like "$(q "SELECT * FROM etl_pull.load_table('v_load')")" 'verify count: 10000 rows at the source, 9999 loaded' \
	"but a row a trigger drops fails the load under verify = count"
is "$(last_run v_load)" "copy failed different" "... with verify_status different"
is "$(q "SELECT count(*) FROM v_load")" "10000" "the target keeps its rows"

# ---- an integer key that the target declares otherwise (numeric, text) is compared by its text:
# its values are no integers to cut into intervals
etl_mysql -e "DROP TABLE IF EXISTS v_keytype; CREATE TABLE v_keytype (id int PRIMARY KEY, v int NOT NULL);
	INSERT INTO v_keytype SELECT seq, seq FROM seq_1_to_5000"
for kt in numeric text; do
	q "CREATE TABLE v_key_$kt (id $kt NOT NULL PRIMARY KEY, v int NOT NULL)" >/dev/null
	q "SELECT etl_pull.add_table('v_key_$kt', server => 'replica', source_table => 'v_keytype',
	                             target_table => 'public.v_key_$kt')" >/dev/null
	q "SELECT etl_pull.load_table('v_key_$kt')" >/dev/null
	is "$(vsay "v_key_$kt")" "equal m=0 e=0 d=0" "a $kt key column holding the source's integers: equal"
	q "UPDATE v_key_$kt SET v = 0 WHERE id = '2500'" >/dev/null
	is "$(vsay "v_key_$kt")" "different m=0 e=0 d=1id=2500" "... and the one row changed is found"
done

# ---- a partitioned target (loaded by copy) cannot be compared: an error, never a crash (its
# partitions share TIDs, which a diff run deletes by, and it has no table access method)
etl_mysql -e "DROP TABLE IF EXISTS v_part; CREATE TABLE v_part (id int PRIMARY KEY, v int NOT NULL);
	INSERT INTO v_part SELECT seq, seq FROM seq_1_to_1000"
q "CREATE TABLE v_part (id int NOT NULL PRIMARY KEY, v int NOT NULL) PARTITION BY RANGE (id);
   CREATE TABLE v_part_1 PARTITION OF v_part FOR VALUES FROM (MINVALUE) TO (500);
   CREATE TABLE v_part_2 PARTITION OF v_part FOR VALUES FROM (500) TO (MAXVALUE)" >/dev/null
q "SELECT etl_pull.add_table('v_part', server => 'replica')" >/dev/null
is "$(q "SELECT strategy || ' ' || rows FROM etl_pull.load_table('v_part')")" "copy 1000" \
	"a partitioned target loads (copy)"
like "$(q "SELECT status FROM etl_pull.verify_table('v_part')")" \
	'cannot compare "v_part" with MySQL table "etl_test.v_part".*not supported for partitioned tables' \
	"verify_table refuses a partitioned target"
q "SELECT etl_pull.set_table_option('v_part', 'extraction', 'diff')" >/dev/null
etl_mysql -e "UPDATE v_part SET v = 0 WHERE id = 700"
like "$(q "SELECT status FROM etl_pull.load_table('v_part')")" 'cannot compare "v_part"' \
	"so does a diff run"
q "SELECT etl_pull.set_table_option('v_part', 'extraction', 'full');
   SELECT etl_pull.set_table_option('v_part', 'verify', 'full')" >/dev/null
like "$(q "SELECT status FROM etl_pull.load_table('v_part')")" 'cannot compare "v_part"' \
	"and a load with verify = full"
is "$(q "SELECT count(*) || ' ' || sum(v) FROM v_part")" "1000 500500" \
	"the target keeps its rows, and the server is up"

done_testing
