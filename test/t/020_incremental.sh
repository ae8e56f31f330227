# Incremental loads: watermark, ties at the boundary, 1% changed, deletes,
# force_full, tables without a primary key.
source "$(dirname "$0")/../tap.sh"
tap_setup_db etl_tap_incremental

etl_mysql -e "
	DROP TABLE IF EXISTS inc_src;
	CREATE TABLE inc_src (id bigint NOT NULL PRIMARY KEY, val int NOT NULL,
	                      note varchar(20), updated datetime(6) NOT NULL);
	INSERT INTO inc_src SELECT seq, seq, CONCAT('n', seq), '2024-01-01' + INTERVAL seq SECOND
	  FROM seq_1_to_20000;
	DROP TABLE IF EXISTS inc_nokey;
	CREATE TABLE inc_nokey (id bigint NOT NULL, val int NOT NULL, note varchar(20),
	                        updated datetime(6) NOT NULL);
	INSERT INTO inc_nokey SELECT * FROM inc_src WHERE id <= 100;"

q "SELECT etl_pull.add_table('inc_src', server => 'replica');
   SELECT etl_pull.set_table_option('inc_src', 'extraction', 'incremental');
   SELECT etl_pull.set_table_option('inc_src', 'incremental_columns', 'updated')" >/dev/null

is "$(q "SELECT extraction || ' ' || rows FROM etl_pull.load_table('inc_src')")" "full 20000" \
	"the first incremental run is a full load"
is "$(q "SELECT vals[1] FROM etl_pull.watermarks WHERE table_name = 'inc_src'")" \
	"2024-01-01 05:33:20.000000" "the watermark is MySQL's MAX(updated)"
is "$(pg_digest inc_src)" "$(mysql_digest inc_src)" "target equals source after the full run"

# change 1% of the rows, add rows past the watermark and rows tied with it
etl_mysql -e "
	UPDATE inc_src SET val = val + 1, updated = '2024-06-01 00:00:00.5' WHERE id % 100 = 0;
	INSERT INTO inc_src SELECT 20000 + seq, seq, 'tie', '2024-01-01 05:33:20' FROM seq_1_to_5;
	INSERT INTO inc_src SELECT 20005 + seq, seq, 'new', '2024-07-01' FROM seq_1_to_50;"
is "$(q "SELECT extraction || ' ' || rows || ' ' || merged_rows FROM etl_pull.load_table('inc_src')")" \
	"incremental 255 255" "the second run pulls only the 200 changed, 5 tied and 50 new rows"
is "$(pg_digest inc_src)" "$(mysql_digest inc_src)" "target equals source row for row"
is "$(q "SELECT vals[1] FROM etl_pull.watermarks WHERE table_name = 'inc_src'")" \
	"2024-07-01 00:00:00.000000" "the watermark advanced with the data"

# nothing changed: the boundary rows are re-read, nothing is merged
is "$(q "SELECT rows || ' ' || merged_rows FROM etl_pull.load_table('inc_src')")" "50 0" \
	"an unchanged source re-reads only the rows at the watermark and changes nothing"

# the merge rewrites only what changed: one of the 50 re-read rows edited
# (its watermark column as it was), the other 49 and the rest keep their xmin
q "CREATE TABLE inc_xmin AS SELECT id, xmin::text AS x FROM inc_src" >/dev/null
etl_mysql -e "UPDATE inc_src SET note = 'edited' WHERE id = 20006"
is "$(q "SELECT rows || ' ' || merged_rows FROM etl_pull.load_table('inc_src')")" "50 1" \
	"a run re-reading 50 rows, one of them edited, merges that one only"
is "$(q "SELECT count(*) FILTER (WHERE s.xmin::text <> x.x) || ' ' ||
	count(*) FILTER (WHERE s.xmin::text <> x.x AND s.id = 20006) || ' ' || count(*)
	FROM inc_src s JOIN inc_xmin x USING (id)")" "1 1 20055" \
	"the edited row is rewritten (a new xmin); the unchanged re-read rows and all others are not"
is "$(q "SELECT strategy_reason FROM etl_pull.runs ORDER BY run_id DESC LIMIT 1")" \
	"incremental: merged by primary key lookups as the rows stream" \
	"a plain target is merged row by row as the rows stream, without a stage"
is "$(pg_digest inc_src)" "$(mysql_digest inc_src)" "target equals source after the edit"
q "DROP TABLE inc_xmin" >/dev/null

# a run that fails leaves the rows it wrote dead in the target's heap and
# primary key; the next run's probes step over them (and mark them dead)
q "CREATE FUNCTION inc_fail() RETURNS trigger LANGUAGE plpgsql AS
     \$\$BEGIN RAISE EXCEPTION 'inc_fail'; END\$\$;
   CREATE TRIGGER inc_fail AFTER INSERT ON inc_src FOR EACH ROW EXECUTE FUNCTION inc_fail()" >/dev/null
etl_mysql -e "UPDATE inc_src SET note = 'edited 2' WHERE id IN (20006, 20007);
	INSERT INTO inc_src VALUES (20056, 1, 'new', '2024-07-01')"
like "$(q "SELECT * FROM etl_pull.load_table('inc_src')")" 'inc_fail' "a run whose merge fails is an error"
q "DROP TRIGGER inc_fail ON inc_src; DROP FUNCTION inc_fail()" >/dev/null
is "$(q "SELECT rows || ' ' || merged_rows FROM etl_pull.load_table('inc_src')")" "51 3" \
	"the next run merges the 2 updated and 1 new row over the failed run's dead ones"
is "$(pg_digest inc_src)" "$(mysql_digest inc_src)" "target equals source after it"

# a target with triggers is staged and merged by SQL, its triggers fire for
# the rows inserted or updated; the same rows are rewritten
q "CREATE TABLE inc_log (op text, id bigint);
   CREATE FUNCTION inc_log() RETURNS trigger LANGUAGE plpgsql AS
     \$\$BEGIN INSERT INTO public.inc_log VALUES (TG_OP, NEW.id); RETURN NEW; END\$\$;
   CREATE TRIGGER inc_log AFTER INSERT OR UPDATE ON inc_src
     FOR EACH ROW EXECUTE FUNCTION inc_log();
   CREATE TABLE inc_xmin AS SELECT id, xmin::text AS x FROM inc_src" >/dev/null
etl_mysql -e "UPDATE inc_src SET note = 'edited 3' WHERE id IN (20006, 20007);
	INSERT INTO inc_src VALUES (20057, 1, 'new', '2024-07-01')"
is "$(q "SELECT rows || ' ' || merged_rows FROM etl_pull.load_table('inc_src')")" "52 3" \
	"with a trigger: 52 re-read, 2 updated and 1 inserted"
like "$(q "SELECT strategy_reason FROM etl_pull.runs ORDER BY run_id DESC LIMIT 1")" \
	'staged, then merged by primary key in SQL: .* because it has triggers' \
	"a target with triggers is staged and merged by SQL"
is "$(q "SELECT string_agg(op || ' ' || id, ', ' ORDER BY id) FROM inc_log")" \
	"UPDATE 20006, UPDATE 20007, INSERT 20057" "its triggers fired for the merged rows only"
is "$(q "SELECT count(*) FROM inc_src s JOIN inc_xmin x USING (id) WHERE s.xmin::text <> x.x")" "2" \
	"the SQL merge, too, rewrites only the changed rows"
is "$(pg_digest inc_src)" "$(mysql_digest inc_src)" "target equals source after the SQL merge"
q "DROP TRIGGER inc_log ON inc_src; DROP TABLE inc_log, inc_xmin; DROP FUNCTION inc_log()" >/dev/null
is "$(q "SET etl_pull.enable_optimizations = off;
	SELECT rows || ' ' || merged_rows FROM etl_pull.load_table('inc_src')")" "52 0" \
	"etl_pull.enable_optimizations = off: nothing changed, nothing merged"
is "$(q "SELECT strategy_reason FROM etl_pull.runs ORDER BY run_id DESC LIMIT 1")" \
	"incremental: staged, then merged by primary key in SQL: etl_pull.enable_optimizations is off" \
	"... staged and merged by SQL, as the flag says"

# deletes, found by key ranges
etl_mysql -e "DELETE FROM inc_src WHERE id BETWEEN 500 AND 509 OR id IN (7, 19999, 20003);"
q "SELECT etl_pull.set_table_option('inc_src', 'delete_missing', 'true')" >/dev/null
is "$(q "SELECT deleted_rows FROM etl_pull.load_table('inc_src')")" "13" \
	"delete_missing removes the 13 rows gone from the source"
is "$(pg_digest inc_src)" "$(mysql_digest inc_src)" "target equals source after deletes"

# a failed incremental run leaves the watermark where it was
before=$(q "SELECT vals FROM etl_pull.watermarks WHERE table_name = 'inc_src'")
q "SELECT etl_pull.set_table_option('inc_src', 'incremental_columns', 'no_such_column')" >/dev/null
like "$(q "SELECT * FROM etl_pull.load_table('inc_src')")" 'incremental column "no_such_column" is not a column' \
	"an unknown incremental column is an error"
q "SELECT etl_pull.set_table_option('inc_src', 'incremental_columns', 'updated')" >/dev/null
is "$(q "SELECT vals FROM etl_pull.watermarks WHERE table_name = 'inc_src'")" "$before" \
	"the watermark is unchanged by the failed run"

# look-back re-reads recent rows
q "SELECT etl_pull.set_table_option('inc_src', 'lookback', '86400')" >/dev/null
is "$(q "SELECT rows FROM etl_pull.load_table('inc_src')")" "52" \
	"a one-day look-back re-reads the rows of the last day"
q "SELECT etl_pull.set_table_option('inc_src', 'lookback', '15552000')" >/dev/null
is "$(q "SELECT rows FROM etl_pull.load_table('inc_src')")" "251" \
	"a 180-day look-back re-reads the rows of the last 180 days"

# force_full reloads everything and resets the watermark
is "$(q "SELECT extraction || ' ' || rows FROM etl_pull.load_table('inc_src', force_full => true)")" \
	"full 20044" "force_full reloads every row"
is "$(pg_digest inc_src)" "$(mysql_digest inc_src)" "target equals source after force_full"
q "SELECT etl_pull.reset_watermark('inc_src')" >/dev/null
is "$(q "SELECT extraction FROM etl_pull.load_table('inc_src')")" "full" \
	"after reset_watermark the next run is full"

# no primary key: refused unless append-only
q "SELECT etl_pull.add_table('inc_nokey', server => 'replica');
   SELECT etl_pull.set_table_option('inc_nokey', 'extraction', 'incremental');
   SELECT etl_pull.set_table_option('inc_nokey', 'incremental_columns', 'updated')" >/dev/null
like "$(q "SELECT * FROM etl_pull.load_table('inc_nokey')")" 'need a primary key on MySQL table' \
	"an incremental table without a primary key is refused"
q "SELECT etl_pull.set_table_option('inc_nokey', 'append_only', 'true')" >/dev/null
is "$(q "SELECT rows FROM etl_pull.load_table('inc_nokey')")" "100" "append-only: first run is full"
etl_mysql -e "INSERT INTO inc_nokey VALUES (101, 101, 'appended', '2030-01-01')"
is "$(q "SELECT rows || ' ' || merged_rows FROM etl_pull.load_table('inc_nokey')")" "2 2" \
	"append-only: the next run re-reads the rows at or past the watermark"
is "$(pg_digest inc_nokey)" "$(mysql_digest inc_nokey)" \
	"append-only: ... and replaces the target's copies of them: no duplicates"

# append-only, three runs and more: ties with the watermark, a row committed
# late (behind the watermark, inside the look-back), rows whose incremental
# column is NULL (read again by every run, never skipped, never doubled)
etl_mysql -e "
	DROP TABLE IF EXISTS inc_append;
	CREATE TABLE inc_append (id bigint NOT NULL, val int NOT NULL, note varchar(20),
	                         updated datetime(6) NULL);
	INSERT INTO inc_append SELECT seq, seq, 'a', '2024-01-01' + INTERVAL seq MINUTE
	  FROM seq_1_to_100;
	INSERT INTO inc_append VALUES (0, 0, 'null wm', NULL);"
q "SELECT etl_pull.add_table('inc_append', server => 'replica');
   SELECT etl_pull.set_table_option('inc_append', 'extraction', 'incremental');
   SELECT etl_pull.set_table_option('inc_append', 'incremental_columns', 'updated');
   SELECT etl_pull.set_table_option('inc_append', 'append_only', 'true')" >/dev/null
is "$(q "SELECT extraction || ' ' || rows FROM etl_pull.load_table('inc_append')")" "full 101" \
	"append-only run 1: full"
etl_mysql -e "INSERT INTO inc_append VALUES (101, 1, 'tie', '2024-01-01 01:40:00'),
	(102, 2, 'new', '2024-01-01 02:00:00')"
is "$(q "SELECT rows FROM etl_pull.load_table('inc_append')")" "4" \
	"append-only run 2 pulls the NULL row, the watermark's row, its tie and the new row"
is "$(pg_digest inc_append)" "$(mysql_digest inc_append)" "append-only run 2: target equals source"
is "$(q "SELECT rows FROM etl_pull.load_table('inc_append')")" "2" \
	"append-only run 3, nothing new: the NULL row and the row at the watermark again"
is "$(pg_digest inc_append)" "$(mysql_digest inc_append)" "append-only run 3: target equals source"
etl_mysql -e "INSERT INTO inc_append VALUES (103, 3, 'new', '2024-01-01 03:00:00')"
q "SELECT etl_pull.load_table('inc_append')" >/dev/null
is "$(pg_digest inc_append)" "$(mysql_digest inc_append)" "append-only run 4: target equals source"
# a row that commits late, with a time behind the watermark: a look-back
# of an hour reaches it, and re-reads the hour without doubling it
q "SELECT etl_pull.set_table_option('inc_append', 'lookback', '3600')" >/dev/null
etl_mysql -e "INSERT INTO inc_append VALUES (104, 4, 'late', '2024-01-01 02:30:00'),
	(105, 5, 'null too', NULL)"
is "$(q "SELECT rows FROM etl_pull.load_table('inc_append')")" "5" \
	"append-only with a look-back pulls the hour behind the watermark and the NULL rows"
is "$(pg_digest inc_append)" "$(mysql_digest inc_append)" \
	"append-only: the late row arrived once, the NULL rows are there once"
q "SELECT etl_pull.load_table('inc_append')" >/dev/null
is "$(pg_digest inc_append)" "$(mysql_digest inc_append)" "append-only: ... and stay so"

# the merge path reads rows whose incremental column is NULL again, too
etl_mysql -e "ALTER TABLE inc_src MODIFY updated datetime(6) NULL;
	INSERT INTO inc_src VALUES (90001, 1, 'null wm', NULL)"
q "SELECT etl_pull.load_table('inc_src', force_full => true)" >/dev/null
etl_mysql -e "UPDATE inc_src SET val = 2 WHERE id = 90001"
is "$(q "SELECT merged_rows FROM etl_pull.load_table('inc_src')")" "1" \
	"a change to a row whose incremental column is NULL is merged"
is "$(pg_digest inc_src)" "$(mysql_digest inc_src)" "target equals source with NULL watermark rows"

# delete_missing over keys spanning more than 2^63 bisects without overflow
etl_mysql -e "
	DROP TABLE IF EXISTS inc_wide;
	CREATE TABLE inc_wide (id bigint NOT NULL PRIMARY KEY, val int NOT NULL, note varchar(20),
	                       updated datetime(6) NOT NULL);
	INSERT INTO inc_wide SELECT seq, seq, 'w', '2024-01-01' FROM seq_1_to_25000;
	INSERT INTO inc_wide VALUES (-9000000000000000000, 0, 'lo', '2024-01-01'),
	                            (9000000000000000000, 0, 'hi', '2024-01-01');"
q "SELECT etl_pull.add_table('inc_wide', server => 'replica');
   SELECT etl_pull.set_table_option('inc_wide', 'extraction', 'incremental');
   SELECT etl_pull.set_table_option('inc_wide', 'incremental_columns', 'updated');
   SELECT etl_pull.set_table_option('inc_wide', 'delete_missing', 'true');
   SELECT etl_pull.load_table('inc_wide')" >/dev/null
etl_mysql -e "DELETE FROM inc_wide WHERE id IN (-9000000000000000000, 12345)"
is "$(q "SELECT deleted_rows FROM etl_pull.load_table('inc_wide')")" "2" \
	"delete_missing over a key span wider than 2^63 terminates and deletes the 2 rows"
is "$(pg_digest inc_wide)" "$(mysql_digest inc_wide)" "target equals source after it"

# the merge reads the target's rows to compare them: it needs SELECT on the
# target, as the SQL upsert (ON CONFLICT ... WHERE reads the row) does
q "DROP ROLE IF EXISTS regress_inc_writer" >/dev/null
q "CREATE ROLE regress_inc_writer;
   GRANT USAGE ON FOREIGN SERVER replica TO regress_inc_writer;
   CREATE USER MAPPING FOR regress_inc_writer SERVER replica
     OPTIONS (user '$ETL_PULL_MYSQL_USER', password '$ETL_PULL_MYSQL_PASSWORD');
   SELECT etl_pull.add_table('inc_priv', server => 'replica', source_table => 'inc_src');
   SELECT etl_pull.set_table_option('inc_priv', 'extraction', 'incremental');
   SELECT etl_pull.set_table_option('inc_priv', 'incremental_columns', 'updated');
   SELECT etl_pull.load_table('inc_priv');
   GRANT INSERT, UPDATE ON inc_priv TO regress_inc_writer" >/dev/null
like "$(q "SET ROLE regress_inc_writer; SELECT * FROM etl_pull.load_table('inc_priv')")" \
	'permission denied for table inc_priv' "a role with INSERT and UPDATE but no SELECT on the target cannot merge"
q "GRANT SELECT ON inc_priv TO regress_inc_writer" >/dev/null
is "$(q "SET ROLE regress_inc_writer; SELECT extraction || ' ' || merged_rows FROM etl_pull.load_table('inc_priv')")" \
	"incremental 0" "... with SELECT it can"
q "DROP OWNED BY regress_inc_writer; DROP ROLE regress_inc_writer" >/dev/null

# append-only needs incremental columns that both servers order alike
etl_mysql -e "DROP TABLE IF EXISTS inc_textwm;
	CREATE TABLE inc_textwm (id int NOT NULL, code varchar(10) NOT NULL);
	INSERT INTO inc_textwm VALUES (1, 'a'), (2, 'B')"
q "SELECT etl_pull.add_table('inc_textwm', server => 'replica');
   SELECT etl_pull.set_table_option('inc_textwm', 'extraction', 'incremental');
   SELECT etl_pull.set_table_option('inc_textwm', 'incremental_columns', 'code');
   SELECT etl_pull.set_table_option('inc_textwm', 'append_only', 'true');
   SELECT etl_pull.load_table('inc_textwm')" >/dev/null
like "$(q "SELECT * FROM etl_pull.load_table('inc_textwm')")" \
	'incremental column "code" of append-only table "inc_textwm" must be a number or a date/time column' \
	"append-only refuses a text incremental column"

# append-only into a target column coarser than the source's watermark
# column: the run deletes the target's rows at or past the bound and the
# source sends again only its rows at or past it, so a target that rounds
# (timestamp(0) for datetime(6), numeric(10,1) for decimal(10,3)) would
# lose the rows that round up to the bound, under "succeeded".  Refused on
# every run, before anything is written; exact once the column is widened.
etl_mysql -e "
	DROP TABLE IF EXISTS inc_coarse;
	CREATE TABLE inc_coarse (id bigint NOT NULL, val int NOT NULL, note varchar(20),
	                         updated datetime(6) NOT NULL);
	INSERT INTO inc_coarse VALUES (1, 1, 'a', '2024-01-01 09:59:58.100000'),
	    (2, 2, 'b', '2024-01-01 09:59:59.600000'), (3, 3, 'c', '2024-01-01 10:00:00.200000');"
q "CREATE TABLE inc_coarse (id bigint NOT NULL, val int NOT NULL, note varchar(20),
                            updated timestamp(0));
   SELECT etl_pull.add_table('inc_coarse', server => 'replica');
   SELECT etl_pull.set_table_option('inc_coarse', 'extraction', 'incremental');
   SELECT etl_pull.set_table_option('inc_coarse', 'incremental_columns', 'updated');
   SELECT etl_pull.set_table_option('inc_coarse', 'append_only', 'true')" >/dev/null
like "$(q "SELECT * FROM etl_pull.plan('inc_coarse', 0) WHERE section = 'extraction'")" \
	'watermark column updated\|refused: the target.s column is timestamp\(0\) without time zone, which does not keep every value of MySQL.s datetime\(6\) distinct and in order' \
	"plan: an append-only target coarser than the watermark column is refused"
for run in 1 2 3; do
	like "$(q "SELECT * FROM etl_pull.load_table('inc_coarse')")" \
		'column "updated" of table public.inc_coarse cannot hold incremental column "updated" of append-only table "inc_coarse" exactly' \
		"append-only into timestamp(0) from datetime(6), run $run: refused"
	etl_mysql -e "INSERT INTO inc_coarse VALUES ($((run + 3)), $run, 'next', '2024-01-01 10:00:00.$((run * 2))00000')"
done
is "$(q "SELECT count(*) FROM inc_coarse")" "0" "... before anything was written"
is "$(q "SELECT status FROM etl_pull.runs WHERE table_name = 'inc_coarse' ORDER BY run_id DESC LIMIT 1")" \
	"failed" "... recorded as failed, not succeeded"
q "ALTER TABLE inc_coarse ALTER COLUMN updated TYPE timestamp(6)" >/dev/null
for run in 1 2 3; do
	q "SELECT etl_pull.load_table('inc_coarse')" >/dev/null
	etl_mysql -e "INSERT INTO inc_coarse VALUES ($((run + 6)), $run, 'more', '2024-01-01 10:00:00.$((run + 6))00000')"
	is "$(pg_digest inc_coarse)" "$(mysql_digest "inc_coarse WHERE id <= $((run + 5))")" \
		"widened to timestamp(6), run $run: no row lost, none doubled"
done

# the same with a narrower numeric: decimal(10,3) at the source, numeric(10,1) in the target
etl_mysql -e "
	DROP TABLE IF EXISTS inc_coarse_num;
	CREATE TABLE inc_coarse_num (id int NOT NULL, amount decimal(10,3) NOT NULL);
	INSERT INTO inc_coarse_num VALUES (1, 1.100), (2, 1.160), (3, 1.240);"
q "CREATE TABLE inc_coarse_num (id int NOT NULL, amount numeric(10,1));
   SELECT etl_pull.add_table('inc_coarse_num', server => 'replica');
   SELECT etl_pull.set_table_option('inc_coarse_num', 'extraction', 'incremental');
   SELECT etl_pull.set_table_option('inc_coarse_num', 'incremental_columns', 'amount');
   SELECT etl_pull.set_table_option('inc_coarse_num', 'append_only', 'true')" >/dev/null
for run in 1 2; do
	like "$(q "SELECT * FROM etl_pull.load_table('inc_coarse_num')")" \
		'column "amount" of table public.inc_coarse_num cannot hold incremental column "amount" of append-only table "inc_coarse_num" exactly' \
		"append-only into numeric(10,1) from decimal(10,3), run $run: refused"
	etl_mysql -e "INSERT INTO inc_coarse_num VALUES ($((run + 3)), 1.24$run)"
done
q "ALTER TABLE inc_coarse_num ALTER COLUMN amount TYPE numeric(10,3)" >/dev/null
for run in 1 2 3; do
	q "SELECT etl_pull.load_table('inc_coarse_num')" >/dev/null
	etl_mysql -e "INSERT INTO inc_coarse_num VALUES ($((run + 5)), 1.25$run)"
	is "$(q "SELECT count(*) || ' ' || sum(amount) || ' ' || sum(id) FROM inc_coarse_num")" \
		"$(etl_mysql -N -e "SELECT COUNT(*), SUM(amount), SUM(id) FROM inc_coarse_num WHERE id <= $((run + 4))" | tr '\t' ' ')" \
		"widened to numeric(10,3), run $run: no row lost, none doubled"
done

# a FLOAT watermark is read exactly: MySQL prints a FLOAT with 6 significant digits, MAX(f) of
# 1234567.5 as 1234570, and a watermark of that text never pulled the rows in between; nor is
# a DOUBLE(M,D)'s MAX() cut to D decimals
etl_mysql -e "DROP TABLE IF EXISTS inc_float;
	CREATE TABLE inc_float (id int NOT NULL PRIMARY KEY, f float NOT NULL, d double(12,2),
	                        note varchar(20));
	INSERT INTO inc_float VALUES (1, 1234567, NULL, 'a'), (2, 1234567.25, NULL, 'b'),
	                             (3, 1234567.5, NULL, 'c')"
q "SELECT etl_pull.add_table('inc_float', server => 'replica');
   SELECT etl_pull.set_table_option('inc_float', 'extraction', 'incremental');
   SELECT etl_pull.set_table_option('inc_float', 'incremental_columns', 'f')" >/dev/null
float_rows() {
	q "SELECT count(*) || ' ' || string_agg(id || '=' || f::float8 || '/' || note, ',' ORDER BY id)
	   FROM inc_float"
}
mysql_float_rows() {
	etl_mysql -N -e "SELECT COUNT(*), GROUP_CONCAT(id, '=', CAST(f AS DOUBLE), '/', note ORDER BY id)
	                 FROM inc_float" | tr '\t' ' '
}
is "$(q "SELECT extraction || ' ' || rows FROM etl_pull.load_table('inc_float')")" "full 3" \
	"FLOAT watermark: the first run loads the 3 rows"
is "$(q "SELECT vals[1] FROM etl_pull.watermarks WHERE table_name = 'inc_float'")" "1234567.5" \
	"the watermark is the FLOAT's exact maximum, not MySQL's 1234570"
etl_mysql -e "INSERT INTO inc_float VALUES (4, 1234568, NULL, 'd'), (5, 1234569.75, NULL, 'e')"
is "$(q "SELECT rows FROM etl_pull.load_table('inc_float')")" "3" \
	"the second run pulls the 2 rows past the watermark (below its 6-digit text) and the tied one"
etl_mysql -e "INSERT INTO inc_float VALUES (6, 1234569.875, NULL, 'f');
	UPDATE inc_float SET note = 'e2' WHERE id = 5"
is "$(q "SELECT rows || ' ' || merged_rows FROM etl_pull.load_table('inc_float')")" "2 2" \
	"the third run pulls the new row and the edited one, tied with the watermark"
is "$(q "SELECT rows || ' ' || merged_rows FROM etl_pull.load_table('inc_float')")" "1 0" \
	"an unchanged source: the run re-reads the one row at the watermark"
is "$(float_rows)" "$(mysql_float_rows)" "every row arrived, once, as at the source"
is "$(q "SELECT vals[1] FROM etl_pull.watermarks WHERE table_name = 'inc_float'")" "1234569.875" \
	"the watermark is the exact maximum"
# MySQL prints -0.09999999999999998 in a DOUBLE(12,2) as -0.10
etl_mysql -e "UPDATE inc_float SET d = -id; UPDATE inc_float SET d = -0.09999999999999999 WHERE id = 6"
q "SELECT etl_pull.set_table_option('inc_float', 'incremental_columns', 'd')" >/dev/null
q "SELECT etl_pull.load_table('inc_float')" >/dev/null
is "$(q "SELECT vals[1] FROM etl_pull.watermarks WHERE table_name = 'inc_float'")" \
	"-0.09999999999999998" "a DOUBLE(M,D) watermark is exact too, not MySQL's -0.10"

done_testing
