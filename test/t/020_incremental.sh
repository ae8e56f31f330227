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
is "$(q "SELECT rows FROM etl_pull.load_table('inc_src')")" "50" \
	"a one-day look-back re-reads the rows of the last day"
q "SELECT etl_pull.set_table_option('inc_src', 'lookback', '15552000')" >/dev/null
is "$(q "SELECT rows FROM etl_pull.load_table('inc_src')")" "249" \
	"a 180-day look-back re-reads the rows of the last 180 days"

# force_full reloads everything and resets the watermark
is "$(q "SELECT extraction || ' ' || rows FROM etl_pull.load_table('inc_src', force_full => true)")" \
	"full 20042" "force_full reloads every row"
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
	"append-only: the next run appends the rows at or past the watermark"

done_testing
