# Hostile identifiers and values: a MariaDB table whose name and columns hold
# backticks, quotes, dots, spaces, non-ASCII and reserved words, hostile
# registered names and targets, and an incremental load whose watermark column
# name and watermark value hold quotes and would-be SQL.  Values must arrive
# exactly and nothing may ever be executed as SQL on either side.
source "$(dirname "$0")/../tap.sh"
tap_setup_db etl_tap_hostile

# start from the fixture's state (the runner loaded it, but this test changes it)
etl_mysql <"$ETL_PULL_REPO/test/fixtures/hostile.sql" || echo "# could not reload hostile.sql"
q "CREATE TABLE public.pg_sentinel (id int); INSERT INTO public.pg_sentinel VALUES (1)" >/dev/null
PG_LOG=$ETL_PULL_PGLOG
LOG_START=$(stat -c %s "$PG_LOG")

# MySQL names, as MySQL quotes them (backticks, not command substitutions)
# shellcheck disable=SC2016
SRC='`weird ``name``. "x" ü`'
# shellcheck disable=SC2016
INC_SRC='`inc ``wm``'"'"'s "table"`'

# A canonical rendering of a row: the PK, then every value as the hex of its
# UTF-8 bytes or N for NULL, so that no separator can be confused with data.
# hostile_digest_mysql / hostile_digest_pg print "count md5".
hostile_digest_mysql() {
	etl_mysql -N -e "SET SESSION group_concat_max_len = 1073741824;
		SELECT COUNT(*), MD5(GROUP_CONCAT(CONCAT_WS('|', \`select\`,
		       IFNULL(LOWER(HEX(\`col\`\`tick\`)), 'N'), IFNULL(LOWER(HEX(\`it's\`)), 'N'),
		       IFNULL(LOWER(HEX(\`\"dq\"\`)), 'N'), IFNULL(\`a.b\`, 'N'),
		       IFNULL(LOWER(HEX(\`spaces here\`)), 'N'), IFNULL(LOWER(HEX(\`ünïcödé\`)), 'N'),
		       IFNULL(LOWER(HEX(\`Mixed Case\`)), 'N'))
		       ORDER BY \`select\` SEPARATOR ','))
		  FROM $SRC" | tr '\t' ' '
}
hostile_digest_pg() {
	q "SELECT count(*) || ' ' || md5(string_agg(concat_ws('|', \"select\",
	          coalesce(encode(convert_to(\"col\`tick\", 'UTF8'), 'hex'), 'N'),
	          coalesce(encode(convert_to(\"it's\", 'UTF8'), 'hex'), 'N'),
	          coalesce(encode(convert_to(\"\"\"dq\"\"\", 'UTF8'), 'hex'), 'N'),
	          coalesce(\"a.b\"::text, 'N'),
	          coalesce(encode(convert_to(\"spaces here\", 'UTF8'), 'hex'), 'N'),
	          coalesce(encode(convert_to(\"ünïcödé\", 'UTF8'), 'hex'), 'N'),
	          coalesce(encode(convert_to(\"mixed case\", 'UTF8'), 'hex'), 'N')),
	          ',' ORDER BY \"select\")) FROM $1"
}
inc_digest_mysql() {
	etl_mysql -N -e "SET SESSION group_concat_max_len = 1073741824;
		SELECT COUNT(*), MD5(GROUP_CONCAT(CONCAT_WS('|', \`k'ey\`,
		       LOWER(HEX(\`w'm \"col\"\`\`x\`)), IFNULL(LOWER(HEX(\`v al\`)), 'N'))
		       ORDER BY \`k'ey\` SEPARATOR ','))
		  FROM $INC_SRC" | tr '\t' ' '
}
inc_digest_pg() {
	q "SELECT count(*) || ' ' || md5(string_agg(concat_ws('|', \"k'ey\",
	          encode(convert_to(\"w'm \"\"col\"\"\`x\", 'UTF8'), 'hex'),
	          coalesce(encode(convert_to(\"v al\", 'UTF8'), 'hex'), 'N')),
	          ',' ORDER BY \"k'ey\")) FROM $1"
}
sentinels() {
	echo "$(etl_mysql -N -e 'SELECT COUNT(*) FROM hostile_sentinel' 2>&1)" \
		"$(q 'SELECT count(*) FROM public.pg_sentinel')"
}

is "$(hostile_digest_mysql | cut -d' ' -f1)" "7" "the hostile MariaDB table has its 7 rows"

# ---- a hostile source, named with `quoted`.`names`, into a hostile target
is "$(q "SELECT etl_pull.add_table('hostile', server => 'replica',
                                   source_table => '\`etl_test\`.$SRC',
                                   target_table => 'public.\"Tbl ; drop\"')")" "" \
	"add_table accepts a \`quoted\`.\`name\` source and a quoted target"
is "$(q "SELECT strategy || ' ' || rows || ' ' || status FROM etl_pull.load_table('hostile')")" \
	"stream 7 succeeded" "the hostile table loads"
is "$(q "SELECT string_agg(attname, ',' ORDER BY attnum) FROM pg_attribute
          WHERE attrelid = 'public.\"Tbl ; drop\"'::regclass AND attnum > 0")" \
	"select,col\`tick,it's,\"dq\",a.b,spaces here,ünïcödé,mixed case" \
	"the target's columns are the source's names (ASCII lower-cased), quotes and all"
is "$(q "SELECT string_agg(a.attname, ',') FROM pg_index i
          JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)
          WHERE i.indrelid = 'public.\"Tbl ; drop\"'::regclass AND i.indisprimary")" \
	"select" "the primary key on the reserved-word column is created"
mysql_sum=$(hostile_digest_mysql)
is "$(hostile_digest_pg 'public."Tbl ; drop"')" "$mysql_sum" \
	"every value equals MariaDB's, byte for byte (stream)"
is "$(q "SELECT \"ünïcödé\" || '/' || \"spaces here\" FROM public.\"Tbl ; drop\" WHERE \"select\" = 3")" \
	"'); DROP TABLE hostile_sentinel; --/\\N" "values that look like SQL or NULL arrive as text"

for s in standard copy; do
	q "UPDATE public.\"Tbl ; drop\" SET \"it's\" = 'old'" >/dev/null
	q "SELECT etl_pull.set_table_option('hostile', 'strategy', '$s')" >/dev/null
	is "$(q "SELECT strategy || ' ' || rows FROM etl_pull.load_table('hostile')")" "$s 7" \
		"the hostile table loads with strategy $s"
	is "$(hostile_digest_pg 'public."Tbl ; drop"')" "$mysql_sum" \
		"every value equals MariaDB's, byte for byte ($s)"
done

# ---- a hostile registered name: default target public.<lower-cased name>
HNAME="Hostile'); DROP TABLE public.pg_sentinel; --\"x\""
HNAME_SQL=${HNAME//\'/\'\'}
is "$(q "SELECT etl_pull.add_table('$HNAME_SQL', server => 'replica', source_table => '$SRC')")" "" \
	"add_table accepts a hostile registered name and a \`quoted\` table on the server's dbname"
is "$(q "SELECT rows || ' ' || status FROM etl_pull.load_table('$HNAME_SQL')")" "7 succeeded" \
	"the table with the hostile name loads"
target=$(q "SELECT to_regclass(quote_ident(lower('$HNAME_SQL')))::oid IS NOT NULL")
is "$target" "t" "its target is public.<the name, lower-cased>, one quoted identifier"
is "$(hostile_digest_pg "public.$(q "SELECT quote_ident(lower('$HNAME_SQL'))")")" "$mysql_sum" \
	"every value equals MariaDB's under the hostile name"
is "$(q "SELECT count(*) FROM etl_pull.runs WHERE table_name = '$HNAME_SQL' AND status = 'succeeded'")" \
	"1" "the run is recorded under the hostile name"

# ---- a hostile schema
q "CREATE SCHEMA \"we'ird \"\"sch\"\"\"" >/dev/null
q "SELECT etl_pull.add_table('hostile_schema', server => 'replica', source_table => '$SRC',
                             target_table => '\"we''ird \"\"sch\"\"\".\"T.t\"')" >/dev/null
is "$(q "SELECT rows FROM etl_pull.load_table('hostile_schema')")" "7" \
	"a target in a schema with quotes and a table with a dot loads"
is "$(hostile_digest_pg '"we'"'"'ird ""sch"""."T.t"')" "$mysql_sum" \
	"every value equals MariaDB's in the hostile schema"

# ---- incremental: hostile watermark column, watermark values with quotes
WM_COL="w'm \"col\"\`x"
is "$(q "SELECT etl_pull.add_table('hostile_inc', server => 'replica', source_table => '${INC_SRC//\'/\'\'}',
                                   target_table => '\"Inc ''tgt\"');
         SELECT etl_pull.set_table_option('hostile_inc', 'extraction', 'incremental');
         SELECT etl_pull.set_table_option('hostile_inc', 'incremental_columns', '${WM_COL//\'/\'\'}')")" \
	"" "incremental_columns accepts a column name with quotes and a backtick"
is "$(q "SELECT extraction || ' ' || rows FROM etl_pull.load_table('hostile_inc')")" "full 4" \
	"the first incremental run is full"
is "$(q "SELECT columns[1] || ' => ' || vals[1] FROM etl_pull.watermarks WHERE table_name = 'hostile_inc'")" \
	"$WM_COL => it's \"x\"" "the watermark is MAX() of the hostile column: it's \"x\""
is "$(inc_digest_pg '"Inc '"'"'tgt"')" "$(inc_digest_mysql)" "target equals source after the full run"

# rows tied with the watermark, past it, and a new maximum that is would-be SQL
etl_mysql -e "INSERT INTO $INC_SRC VALUES (5, 'it''s \"y\"', 'fifth'), (6, 'it''s \"x\"', 'tie');
              UPDATE $INC_SRC SET \`w'm \"col\"\`\`x\` = 'z''; DROP TABLE hostile_sentinel; -- \\\\',
                                  \`v al\` = 'updated' WHERE \`k'ey\` = 1;"
is "$(q "SELECT extraction || ' ' || rows || ' ' || merged_rows FROM etl_pull.load_table('hostile_inc')")" \
	"incremental 4 3" "the second run reads the 4 rows at or past it's \"x\" and merges the 3 that changed"
is "$(q "SELECT vals[1] FROM etl_pull.watermarks WHERE table_name = 'hostile_inc'")" \
	"z'; DROP TABLE hostile_sentinel; -- \\" \
	"the new watermark is MariaDB's text, quote and backslash included"
is "$(inc_digest_pg '"Inc '"'"'tgt"')" "$(inc_digest_mysql)" "target equals source after the second run"

# the next run puts that watermark into the WHERE clause
etl_mysql -e "INSERT INTO $INC_SRC VALUES (7, 'zz \"q\" \\\\ '' end', 'seventh'), (8, 'z', 'below');"
is "$(q "SELECT extraction || ' ' || rows || ' ' || merged_rows FROM etl_pull.load_table('hostile_inc')")" \
	"incremental 2 1" "the third run reads only the tied row and the new maximum"
is "$(q "SELECT vals[1] FROM etl_pull.watermarks WHERE table_name = 'hostile_inc'")" \
	"zz \"q\" \\ ' end" "the watermark advanced to zz \"q\" \\ ' end"
is "$(q "SELECT count(*) FROM \"Inc 'tgt\" WHERE \"k'ey\" = 8")" "0" \
	"a row below the watermark is not read (the predicate compared, it did not break)"
is "$(q "SELECT extraction || ' ' || rows FROM etl_pull.load_table('hostile_inc', force_full => true)")" \
	"full 8" "force_full reads all 8 rows"
is "$(inc_digest_pg '"Inc '"'"'tgt"')" "$(inc_digest_mysql)" "target equals source after force_full"

# delete_missing compares key ranges on the hostile key column
etl_mysql -e "DELETE FROM $INC_SRC WHERE \`k'ey\` IN (2, 6)"
q "SELECT etl_pull.set_table_option('hostile_inc', 'delete_missing', 'true')" >/dev/null
is "$(q "SELECT extraction || ' ' || deleted_rows FROM etl_pull.load_table('hostile_inc')")" \
	"incremental 2" "delete_missing finds the 2 deleted rows through the hostile key"
is "$(inc_digest_pg '"Inc '"'"'tgt"')" "$(inc_digest_mysql)" "target equals source after deletes"

is "$(q "SELECT count(*) FROM etl_pull.runs WHERE status <> 'succeeded'")" "0" "no run failed"
is "$(sentinels)" "1 1" "the sentinel tables in MariaDB and PostgreSQL still exist"
log_tail=$(tail -c +"$((LOG_START + 1))" "$PG_LOG")
is "$(grep -c -e 'in your SQL syntax' -e 'syntax error' <<<"$log_tail")" "0" \
	"no statement on either side was malformed (no syntax error in this test's server log)"
is "$(grep -c -e 'ERROR:' <<<"$log_tail")" "0" "this test caused no ERROR in the server log"

# ---- names longer than PostgreSQL's 63 bytes (run last: they are known to fail)
# A registered name of 70 characters: its default target is public.<name>,
# which PostgreSQL truncates to 63 bytes like any identifier.
LONG_NAME=$(printf 'Long%.0s' {1..17})xx # 70 characters
q "SELECT etl_pull.add_table('$LONG_NAME', server => 'replica', source_table => 'iso_small')" >/dev/null
is "$(q "SELECT rows || ' ' || status FROM etl_pull.load_table('$LONG_NAME')")" \
	"100 succeeded" "a 70-character registered name loads into its (63-byte) default target"
is "$(q "SELECT count(*) FROM public.\"${LONG_NAME,,}\"")" "100" \
	"the default target is the name lower-cased and truncated to 63 bytes"
# MySQL allows 64-character column names (up to 256 bytes); the created target
# has them truncated to 63 bytes, as PostgreSQL truncates any identifier.
C63=$(printf 'c%.0s' {1..63})
U31=$(printf 'ü%.0s' {1..31})
q "SELECT etl_pull.add_table('hostile_long', server => 'replica')" >/dev/null
is "$(q "SELECT rows || ' ' || status FROM etl_pull.load_table('hostile_long')")" \
	"2 succeeded" "a table whose column names exceed 63 bytes loads"
is "$(q "SELECT string_agg(id || ':' || coalesce(\"$C63\"::text, 'N') || ':' || coalesce(\"$U31\", 'N'),
                           ',' ORDER BY id) FROM hostile_long")" \
	"1:64:forty,2:N:N" "its values arrive under the 63-byte (truncated) column names"

done_testing
