# A small table's load in place (issue 28, a table's fixed cost): the stream strategy merges the
# rows of a table of at most etl_pull.in_place_threshold_rows rows into the target by primary key
# (rowdiff.c's ordered merge) instead of swapping a new heap in: the target keeps its file (no
# new relfilenode), an unchanged row is not rewritten, the rows are byte for byte those a swap
# writes, strategy_reason says which and why; a failing row rolls the load back with the old rows
# kept; the caller needs INSERT and TRUNCATE, as for a swap; a view, a large table, a table
# without a single integer key, on_error = reject, a bloated target and one with a column the
# source does not fill are swapped, saying why.
# ANALYZE follows autovacuum's rule: skipped while the rows written since the last one stay
# under autovacuum's analyze threshold, done by the load that passes it.
source "$(dirname "$0")/../tap.sh"
tap_setup_db etl_tap_in_place

etl_mysql -e "
	DROP TABLE IF EXISTS ip_t, ip_text_key;
	DROP VIEW IF EXISTS ip_v;
	CREATE TABLE ip_t (id int NOT NULL PRIMARY KEY, val int NOT NULL, note varchar(200),
	  updated datetime(6) NOT NULL, amount decimal(10,2), body text, flag tinyint) ENGINE = MyISAM;
	INSERT INTO ip_t SELECT seq, seq % 17, IF(seq % 10 = 0, NULL, CONCAT('n\u00e9', REPEAT(CHAR(65 + seq % 26), seq % 40))),
	  '2024-01-01 00:00:00.123456' + INTERVAL seq SECOND, seq * 1.25, REPEAT('x', seq * 3), seq % 2
	  FROM seq_1_to_100;
	CREATE TABLE ip_text_key (code varchar(10) NOT NULL PRIMARY KEY, val int) ENGINE = MyISAM;
	INSERT INTO ip_text_key VALUES ('a', 1), ('b', 2);
	CREATE VIEW ip_v AS SELECT id, val FROM ip_t"
cleanup() {
	etl_mysql -e "DROP TABLE IF EXISTS ip_t, ip_text_key; DROP VIEW IF EXISTS ip_v" 2>/dev/null
}
tap_on_exit cleanup

last() { q "SELECT $2 FROM etl_pull.runs WHERE table_name = '$1' ORDER BY run_id DESC LIMIT 1"; }
# every column of a target, as text, in key order
content() { q "SELECT count(*) || ' ' || md5(string_agg(t::text, ',' ORDER BY id)) FROM $1 t"; }
my_digest() {
	etl_mysql -N -e "SELECT COUNT(*), MD5(GROUP_CONCAT(CONCAT_WS('|', id, val, IFNULL(note, '\\\\N'),
		DATE_FORMAT(updated, '%Y-%m-%d %H:%i:%s.%f'), amount, body, flag) ORDER BY id SEPARATOR ','))
		FROM ip_t" | tr '\t' ' '
}
pg_dig() {
	q "SELECT count(*) || ' ' || md5(string_agg(concat_ws('|', id, val, coalesce(note, '\\N'),
		to_char(updated, 'YYYY-MM-DD HH24:MI:SS.US'), amount, body, flag), ',' ORDER BY id)) FROM $1"
}
load() { q "SET etl_pull.in_place_threshold_rows = ${2:-1000}; SELECT status FROM etl_pull.load_table('$1')" | tail -n 1; }

q "SELECT etl_pull.add_table('ip_t', server => 'replica');
   SELECT etl_pull.add_table('ip_swap', server => 'replica', source_table => 'ip_t')" >/dev/null

# ---- the first load: a new target, in place
is "$(load ip_t)" "succeeded" "the first load of a 100-row table"
is "$(last ip_t strategy)" "stream" "its strategy is stream"
like "$(last ip_t strategy_reason)" \
	"; in place: 100 rows <= etl_pull.in_place_threshold_rows \\(1000\\), the target's 0 pages <= [0-9]+: the rows merged into the target by primary key, not swapped in$" \
	"its strategy_reason says it loaded in place, and why"
is "$(pg_dig ip_t)" "$(my_digest)" "the target equals the source"
# autovacuum would truncate the bloat made below, and may analyze between two loads
q "ALTER TABLE public.ip_t SET (autovacuum_enabled = false)" >/dev/null
ok $([ "$(q "SELECT reltuples FROM pg_class WHERE oid = 'public.ip_t'::regclass")" = 100 ] && echo 0 || echo 1) \
	"a target without statistics is analyzed"

# ---- the same rows by a swap (etl_pull.in_place_threshold_rows = 0): byte for byte the same
is "$(load ip_swap 0)" "succeeded" "the same source loaded with etl_pull.in_place_threshold_rows = 0"
is "$(last ip_swap "strategy || ' ' || (strategy_reason LIKE '%in place%')")" "stream false" \
	"... is swapped"
is "$(content ip_swap)" "$(content ip_t)" "the swap and the in-place load wrote the same values"

# ---- a reload after an edit, a delete and an insert: in place, the file kept, equal rows untouched
etl_mysql -e "UPDATE ip_t SET note = 'edited' WHERE id = 5; DELETE FROM ip_t WHERE id = 50;
	INSERT INTO ip_t VALUES (101, 1, 'added', '2024-06-01', 9.99, 'new', 1)"
node_before=$(q "SELECT pg_relation_filenode('public.ip_t')")
xmin_before=$(q "SELECT xmin FROM public.ip_t WHERE id = 7")
is "$(load ip_t)" "succeeded" "a reload after an edit, a delete and an insert at the source"
is "$(pg_dig ip_t)" "$(my_digest)" "the target equals the source"
is "$(q "SELECT pg_relation_filenode('public.ip_t')")" "$node_before" "the target keeps its file: no new heap was swapped in"
is "$(q "SELECT xmin FROM public.ip_t WHERE id = 7")" "$xmin_before" "an unchanged row was not rewritten"
like "$(last ip_t notes)" "in place: compared row by row: 1 rows missing, 1 different, 1 gone, of 100 source rows" \
	"the run's notes say what the merge wrote"
like "$(last ip_t strategy_reason)" "; in place: 100 rows <= etl_pull.in_place_threshold_rows \\(1000\\), the target's [0-9]+ pages <= [0-9]+: " \
	"its strategy_reason names the target's size and its bound"
is "$(last ip_t "rows || ' ' || merged_rows || ' ' || deleted_rows")" "100 0 0" \
	"its rows are the source's, as a full load counts them"
swap_node=$(q "SELECT pg_relation_filenode('public.ip_swap')")
is "$(load ip_swap 0)" "succeeded" "the swap reloads the same source"
ok $([ "$(q "SELECT pg_relation_filenode('public.ip_swap')")" != "$swap_node" ] && echo 0 || echo 1) \
	"... into a new file (a swap)"
is "$(content ip_swap)" "$(content ip_t)" "... and again the two targets hold the same values"

# ---- ANALYZE: a few rows written are under autovacuum's threshold (50 + 10% of 100); 70 are
# not.  (The rows a load writes before its own ANALYZE count after it, as pgstat counts them: the
# load after an analyzed one may analyze again.)
etl_mysql -e "UPDATE ip_t SET val = val + 1 WHERE id = 8"
is "$(load ip_t)" "succeeded" "a reload that updates one row"
like "$(last ip_t notes)" "not analyzed: [0-9]+ rows written since its last ANALYZE \\(1 by this load\\), not over autovacuum's analyze threshold of 60$" \
	"1 row written: no ANALYZE, the notes say why"
is "$(q "SELECT last_analyze IS NOT NULL FROM pg_stat_user_tables WHERE relid = 'public.ip_t'::regclass")" "t" \
	"(the target had been analyzed before)"
etl_mysql -e "INSERT INTO ip_t SELECT 200 + seq, 1, 'more', '2024-06-02', 1, 'm', 0 FROM seq_1_to_70"
is "$(load ip_t)" "succeeded" "a reload that inserts 70 rows"
is "$(last ip_t notes | grep -c "not analyzed")" "0" "70 rows written: past the threshold, no 'not analyzed' note"
is "$(q "SELECT reltuples FROM pg_class WHERE oid = 'public.ip_t'::regclass")" "170" "... and the target was analyzed (reltuples 170)"
is "$(pg_dig ip_t)" "$(my_digest)" "the target equals the source"

# ---- a failing row: the load fails, the target keeps its old rows
before=$(content ip_t)
q "SELECT etl_pull.set_table_option('ip_t', 'zero_dates', 'error')" >/dev/null
etl_mysql -e "SET SESSION sql_mode = ''; UPDATE ip_t SET val = 999 WHERE id = 1;
	UPDATE ip_t SET updated = '0000-00-00 00:00:00' WHERE id = 60"
like "$(load ip_t)" 'column "updated" of MySQL table "etl_test.ip_t", row with key \(id=60\)' \
	"a row that cannot be converted fails the in-place load"
is "$(content ip_t)" "$before" "the target keeps its old rows, the row merged before the failure too"
is "$(last ip_t "status || ' ' || strategy")" "failed stream" "the failed run is recorded"
q "SELECT etl_pull.set_table_option('ip_t', 'zero_dates', NULL)" >/dev/null
etl_mysql -e "UPDATE ip_t SET updated = '2024-01-01' WHERE id = 60"

# ---- privileges: as for a swap, INSERT and TRUNCATE (no UPDATE, DELETE or SELECT needed)
q "CREATE ROLE regress_ip_loader;
   CREATE USER MAPPING FOR regress_ip_loader SERVER replica
       OPTIONS (user '$ETL_PULL_MYSQL_USER', password '$ETL_PULL_MYSQL_PASSWORD');
   GRANT USAGE ON FOREIGN SERVER replica TO regress_ip_loader;
   GRANT INSERT ON public.ip_t TO regress_ip_loader" >/dev/null
tap_on_exit "q 'DROP OWNED BY regress_ip_loader; DROP ROLE regress_ip_loader' >/dev/null"
as_loader() { q "SET ROLE regress_ip_loader; $1" | tail -n 1; }
like "$(as_loader "SELECT status FROM etl_pull.load_table('ip_t')")" "permission denied.*ip_t|lacks.*TRUNCATE|TRUNCATE" \
	"a role with INSERT only may not load it, as before"
q "GRANT TRUNCATE ON public.ip_t TO regress_ip_loader" >/dev/null
is "$(as_loader "SELECT status FROM etl_pull.load_table('ip_t')")" "succeeded" \
	"a role with INSERT and TRUNCATE loads it"
like "$(last ip_t strategy_reason)" "; swapped, not in place: the source is read in one statement \\(a read in key ranges is re-checked by a diff of the target, which needs SELECT, INSERT, UPDATE and DELETE on it\\)$" \
	"... swapped: its MyISAM source is read in one statement, which the merge (in key ranges) cannot do"
is "$(pg_dig ip_t)" "$(my_digest)" "the target equals the source"
q "GRANT SELECT, UPDATE, DELETE ON public.ip_t TO regress_ip_loader" >/dev/null
etl_mysql -e "UPDATE ip_t SET val = val + 1 WHERE id = 10"
is "$(as_loader "SELECT status FROM etl_pull.load_table('ip_t')")" "succeeded" \
	"with SELECT, UPDATE and DELETE too (the re-check of a MyISAM read in key ranges)"
like "$(last ip_t strategy_reason)" "; in place: " "... in place"
is "$(pg_dig ip_t)" "$(my_digest)" "the target equals the source"

# ---- swapped, saying why: a larger table, a bloated target, a table without an integer key,
# on_error = reject, a view
etl_mysql -e "UPDATE ip_t SET val = val + 1 WHERE id = 2"
is "$(load ip_t 50)" "succeeded" "with etl_pull.in_place_threshold_rows = 50"
is "$(last ip_t "strategy || ' ' || (strategy_reason LIKE '%in place%')")" "stream false" \
	"a table over the threshold is swapped"
ok $([ "$(q "SELECT pg_relation_filenode('public.ip_t')")" != "$node_before" ] && echo 0 || echo 1) "... into a new file"
is "$(pg_dig ip_t)" "$(my_digest)" "the target equals the source"
q "INSERT INTO public.ip_t SELECT g + 100000, 0, repeat('z', 190), now(), 0, repeat('b', 2000), 0 FROM generate_series(1, 2000) g;
   DELETE FROM public.ip_t WHERE id > 100000" >/dev/null
etl_mysql -e "UPDATE ip_t SET val = val + 1 WHERE id = 3"
is "$(load ip_t)" "succeeded" "a target bloated past its bound (dead rows)"
like "$(last ip_t strategy_reason)" "; swapped, not in place: the target's [0-9]+ pages > [0-9]+$" \
	"... is swapped (which compacts it)"
is "$(pg_dig ip_t)" "$(my_digest)" "the target equals the source"
q "SELECT etl_pull.set_table_option('ip_t', 'on_error', 'reject')" >/dev/null
etl_mysql -e "UPDATE ip_t SET val = val + 1 WHERE id = 4"
is "$(load ip_t)" "succeeded" "on_error = reject"
like "$(last ip_t strategy_reason)" "; swapped, not in place: on_error is reject$" \
	"... is swapped: a rejected row's old copy would stay in place"
q "SELECT etl_pull.set_table_option('ip_t', 'on_error', NULL)" >/dev/null
q "SELECT etl_pull.add_table('ip_text_key', server => 'replica');
   SELECT etl_pull.add_table('ip_v', server => 'replica')" >/dev/null
is "$(load ip_text_key)" "succeeded" "a table with a varchar key, first load"
etl_mysql -e "UPDATE ip_text_key SET val = 3 WHERE code = 'a'"
is "$(load ip_text_key)" "succeeded" "... reloaded"
like "$(last ip_text_key strategy_reason)" "; swapped, not in place: the source is read in one statement \\(.*integer.*\\)$" \
	"... is swapped, its key not one integer column (so read in one statement)"
is "$(q "SELECT string_agg(code || val, ',' ORDER BY code) FROM public.ip_text_key")" "a3,b2" "... with the source's rows"
is "$(load ip_v)" "succeeded" "a view"
is "$(last ip_v strategy_reason | grep -c "in place")" "0" "... is swapped without a word about in place (its size is unknown)"

# ---- a target column no source column fills: a swap writes its default in every row, so
# the load is swapped (a merge would keep an updated row's value)
q "ALTER TABLE public.ip_t ADD COLUMN extra int DEFAULT 7; UPDATE public.ip_t SET extra = 1 WHERE id = 9" >/dev/null
etl_mysql -e "UPDATE ip_t SET val = val + 1 WHERE id = 9"
is "$(load ip_t)" "succeeded" "a target with a column the source lacks"
like "$(last ip_t strategy_reason)" "; swapped, not in place: the target has columns no source column fills, which a swap writes with their defaults$" \
	"... is swapped, saying why"
is "$(q "SELECT count(*) FILTER (WHERE extra = 7) || ' ' || count(*) FROM public.ip_t")" "170 170" \
	"... and every row has the column's default, as a swap gives it"
q "ALTER TABLE public.ip_t DROP COLUMN extra" >/dev/null

# ---- plan() says it too
like "$(q "SELECT detail FROM etl_pull.plan('ip_t') WHERE section = 'strategy' AND item = 'in place'")" \
	"^in place: [0-9]+ rows <= etl_pull.in_place_threshold_rows \\(1000\\), the target's [0-9]+ pages <= [0-9]+: " \
	"etl_pull.plan() says a load would be in place"
# ---- an Aria table is read in one statement (its UPDATE_TIME cannot re-check a read in ranges)
etl_mysql -e "DROP TABLE IF EXISTS ip_aria; CREATE TABLE ip_aria (id int PRIMARY KEY, v int) ENGINE = Aria;
	INSERT INTO ip_aria SELECT seq, seq FROM seq_1_to_10"
tap_on_exit "etl_mysql -e 'DROP TABLE IF EXISTS ip_aria' 2>/dev/null"
q "SELECT etl_pull.add_table('ip_aria', server => 'replica')" >/dev/null
is "$(load ip_aria)" "succeeded" "an Aria table, first load"
etl_mysql -e "UPDATE ip_aria SET v = 0 WHERE id = 1"
is "$(load ip_aria)" "succeeded" "... reloaded"
like "$(last ip_aria strategy_reason)" "; swapped, not in place: the source is read in one statement \\(storage engine Aria" \
	"... swapped: the merge would read it in key ranges"
is "$(q "SELECT string_agg(v::text, ',' ORDER BY id) FROM public.ip_aria")" "0,2,3,4,5,6,7,8,9,10" "... with the source's rows"

done_testing
