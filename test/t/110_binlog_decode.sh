# The binary log's decoder (issue 27): etl_pull.binlog_events() reads a
# MariaDB's row-format binary log through the stream's own transport and
# parser, and each row image decodes to the values a load of the same row
# gives, for every column type (old-format temporals too, char(1), a NULL
# JSON before more columns).
source "$(dirname "$0")/../tap.sh"
tap_own_mariadb --log-bin=binlog --binlog-format=ROW --server-id=7 --binlog-row-metadata=FULL
tap_setup_db etl_tap_binlog
etl_psql -q -d "$TAP_DB" -v port="$TAP_MYSQL_PORT" -v user="$ETL_PULL_MYSQL_USER" \
	-v password="$ETL_PULL_MYSQL_PASSWORD" <<-'SQL' >/dev/null
	CREATE SERVER binsrc FOREIGN DATA WRAPPER etl_pull
	    OPTIONS (host '127.0.0.1', port :'port', dbname 'etl_test');
	CREATE USER MAPPING FOR postgres SERVER binsrc OPTIONS (user :'user', password :'password');
SQL
my() { mariadb --no-defaults --skip-ssl --default-character-set=utf8mb4 \
	--socket="$TAP_MYSQL_SOCKET" -uroot etl_test "$@"; }

my -e "CREATE TABLE t1 (id int PRIMARY KEY, c char(1), v varchar(20), n int unsigned) ENGINE=MyISAM;
	FLUSH BINARY LOGS;"
FILE=$(my -N -e "SHOW MASTER STATUS" | cut -f1)
my -e "INSERT INTO t1 VALUES (1, 'A', 'hello', 4000000000), (2, NULL, 'x', 0);
	UPDATE t1 SET v = 'bye' WHERE id = 1; DELETE FROM t1 WHERE id = 2;"
is "$(q "SELECT string_agg(concat_ws(' ', kind, table_name, old_values::text, new_values::text), ' | '
            ORDER BY position, new_values[1]::int)
           FROM etl_pull.binlog_events('binsrc', '$FILE', 4, 100)
          WHERE kind IN ('insert', 'update', 'delete', 'query')")" \
	"insert etl_test.t1 {1,A,hello,4000000000} | insert etl_test.t1 {2,NULL,x,0} | query | update etl_test.t1 {1,A,hello,4000000000} {1,A,bye,4000000000} | query | delete etl_test.t1 {2,NULL,x,0} | query" \
	"a MyISAM table's insert, update and delete decode, each group ending in its COMMIT"

# From a GTID (the stream's resume point): the groups after it, at the same positions as read
# from the file (the server skips what comes before; etl_pull counts from the GTID event on)
GTID=$(q "SELECT gtid FROM etl_pull.binlog_events('binsrc', '$FILE', 4, 100) WHERE kind = 'gtid'
          ORDER BY position LIMIT 1")
like "$GTID" '^0-7-[0-9]+$' "the first group has a GTID"
events_from() {
	q "SELECT string_agg(concat_ws(' ', file, position, next_position, kind, gtid), ', ' ORDER BY position)
	     FROM etl_pull.binlog_events('binsrc', $1, 4, 100, start_gtid => $2)
	    WHERE kind IN ('gtid', 'table_map', 'update', 'delete', 'query', 'annotate') AND position > $3"
}
FIRST_AFTER=$(q "SELECT min(position) FROM etl_pull.binlog_events('binsrc', '$FILE', 4, 100)
                  WHERE kind = 'gtid' AND gtid <> '$GTID'")
is "$(events_from NULL "'$GTID'" 0)" "$(events_from "'$FILE'" NULL "$FIRST_AFTER - 1")" \
	"read after a GTID, the later groups come at the positions read from the file"

# ---- every column type, MyISAM as OpenDental's tables, old-format temporals too
my -e "SET GLOBAL mysql56_temporal_format = OFF"
my -e "CREATE TABLE old_t (id int PRIMARY KEY, t time, dt datetime, ts timestamp NULL DEFAULT NULL,
	after_ts varchar(5)) ENGINE=MyISAM"
my -e "SET GLOBAL mysql56_temporal_format = ON"
is "$(my -N -e "SELECT GROUP_CONCAT(COLUMN_TYPE ORDER BY ORDINAL_POSITION SEPARATOR ',')
	FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = 'etl_test' AND TABLE_NAME = 'old_t'")" \
	"int(11),time /* mariadb-5.3 */,datetime /* mariadb-5.3 */,timestamp /* mariadb-5.3 */,varchar(5)" \
	"old_t has the old (MariaDB 5.3) temporal formats"
my -e "CREATE TABLE all_t (id int PRIMARY KEY,
	ti tinyint, tiu tinyint unsigned, si smallint, siu smallint unsigned, mi mediumint,
	miu mediumint unsigned, i int, iu int unsigned, bi bigint, biu bigint unsigned,
	f float, d double, d2 double(10,3),
	dec1 decimal(10,2), dec2 decimal(30,10), dec3 decimal(5,0), dec4 decimal(20,19),
	b1 bit(1), b10 bit(10), b64 bit(64),
	c1 char(1), c10 char(10), c255 char(255), vc varchar(20), vc2 varchar(300),
	bin4 binary(4), vb varbinary(10),
	tt tinytext, tx text, mt mediumtext, lt longtext,
	tb tinyblob, bl blob, mb mediumblob, lb longblob,
	e enum('a','b','c'), s set('x','y','z'),
	dt date, dtm datetime, dtm3 datetime(3), dtm6 datetime(6),
	ts timestamp NULL DEFAULT NULL, ts2 timestamp(2) NULL DEFAULT NULL,
	ts6 timestamp(6) NULL DEFAULT NULL,
	tm time, tm1 time(1), tm4 time(4), tm6 time(6), y year,
	j json, g geometry, p point, after_j varchar(10)) ENGINE=MyISAM"

FILE=$(my -N -e "FLUSH BINARY LOGS; SHOW MASTER STATUS" | cut -f1)
my -e "SET time_zone = '+00:00';
	INSERT INTO all_t VALUES (1,
	  1, 200, 300, 60000, 70000, 16000000, 2000000000, 4000000000, 9000000000000000000, 18446744073709551615,
	  3.14, 0.1, 2.5,
	  12345678.99, 12345678901234567890.0123456789, 99999, 0.1234567890123456789,
	  b'1', b'1010101010', b'1000000000000000000000000000000000000000000000000000000000000001',
	  'Y', 'abc', REPEAT('é', 255), 'héllo wörld', REPEAT('x', 300),
	  0x61620000, 0x00ff10,
	  'tiny', 'text ☃', 'medium', REPEAT('long', 100),
	  0x00ff, 0xdeadbeef, 0x01, REPEAT(0xab, 70000),
	  'b', 'x,z',
	  '2024-02-29', '2024-02-29 23:59:59', '2024-02-29 23:59:59.123', '1999-12-31 00:00:00.000001',
	  '2038-01-19 03:14:07', '2001-02-03 04:05:06.78', '2001-02-03 04:05:06.000009',
	  '838:59:59', '12:34:56.7', '00:00:00.0001', '-12:34:56.789012', 2024,
	  '{\"a\": [1, 2]}', ST_GeomFromText('LINESTRING(0 0, 1 1)'), ST_GeomFromText('POINT(1.5 -2)'), 'after'),
	(2,
	  -128, 0, -32768, 0, -8388608, 0, -2147483648, 0, -9223372036854775808, 0,
	  -1.5, -0.1, -2.5,
	  -12345678.99, -12345678901234567890.0123456789, -99999, -0.0000000000000000001,
	  b'0', b'0000000001', b'0',
	  ' ', '', '', '', '',
	  0x00, X'',
	  '', '', '', '',
	  X'', X'', X'', X'',
	  'a', '',
	  '1000-01-01', '1000-01-01 00:00:00', '1000-01-01 00:00:00.001', '9999-12-31 23:59:59.999999',
	  '1970-01-01 00:00:01', '1970-01-01 00:00:01.01', '2038-01-19 03:14:07.999999',
	  '-838:59:59', '-00:00:00.5', '-01:00:00.0001', '-00:00:00.000001', 1901,
	  '[]', ST_GeomFromText('POINT(0 0)'), ST_GeomFromText('POINT(0 0)'), '');
	INSERT INTO all_t (id, after_j) VALUES (3, 'after null');
	INSERT INTO all_t (id, dt, dtm, dtm3, ts, y, e) VALUES (4, '0000-00-00', '0000-00-00 00:00:00',
	  '2024-00-00 00:00:00.000', '0000-00-00 00:00:00', 0, 7);
	UPDATE all_t SET c1 = 'Z', vc = 'changed', j = NULL WHERE id = 1;
	INSERT INTO old_t VALUES (1, '-838:59:59', '2024-02-29 23:59:59', '2038-01-19 03:14:07', 'x'),
	  (2, '12:34:56', '0000-00-00 00:00:00', '0000-00-00 00:00:00', 'y'),
	  (3, NULL, NULL, NULL, 'z');"

# The load's SELECT, in the text protocol, rendered as binlog_events shows values: bytes in hex
hex() { echo "CONCAT('\\\\x', LOWER($1))"; }
ALL_COLS=(id ti tiu si siu mi miu i iu bi biu "CAST(f AS DOUBLE)" d "CAST(d2 AS DOUBLE)"
	dec1 dec2 dec3 dec4 "$(hex "LPAD(HEX(b1), 2, '0')")" "$(hex "LPAD(HEX(b10), 4, '0')")"
	"$(hex "LPAD(HEX(b64), 16, '0')")" c1 c10 c255 vc vc2 "$(hex "HEX(bin4)")" "$(hex "HEX(vb)")"
	tt tx mt lt "$(hex "HEX(tb)")" "$(hex "HEX(bl)")" "$(hex "HEX(mb)")" "$(hex "HEX(lb)")" e s
	dt dtm dtm3 dtm6 ts ts2 ts6 tm tm1 tm4 tm6 "y + 0" j "$(hex "HEX(ST_AsBinary(g))")"
	"$(hex "HEX(ST_AsBinary(p))")" after_j)
OLD_COLS=(id t dt ts after_ts)
# mysql_rows TABLE EXPR...: each row's values joined by |, NULL as NULL, by id
mysql_rows() {
	local table=$1 list= e
	shift
	for e in "$@"; do
		list+="${list:+, }IFNULL($e, 'NULL')"
	done
	my -N -r -e "SET time_zone = '+00:00'; SELECT CONCAT_WS('|', $list) FROM $table ORDER BY id"
}
# decoded_rows TABLE: the last image of each row in the binary log, as mysql_rows
decoded_rows() {
	q "SELECT v FROM (SELECT DISTINCT ON (new_values[1]::int) new_values[1]::int AS id,
	           array_to_string(new_values, '|', 'NULL') AS v
	      FROM etl_pull.binlog_events('binsrc', '$FILE', 4, 1000)
	     WHERE table_name = 'etl_test.$1' AND kind IN ('insert', 'update')
	     ORDER BY new_values[1]::int, position DESC) r ORDER BY id"
}
is "$(my -N -e "SELECT (SELECT COUNT(*) FROM all_t), (SELECT COUNT(*) FROM old_t)")" "4	3" \
	"the source holds the rows to compare"
is "$(decoded_rows all_t)" "$(mysql_rows all_t "${ALL_COLS[@]}")" \
	"every type decodes to the text the load's SELECT returns (char(1), a NULL JSON before more columns, zero dates, negative times, unsigned maxima)"
is "$(decoded_rows old_t)" "$(mysql_rows old_t "${OLD_COLS[@]}")" \
	"the old (MariaDB 5.3) TIME, DATETIME and TIMESTAMP decode too"

# ---- the rows a load of the same tables gives equal the rows built from the decoded values
q "SELECT etl_pull.add_table('all_t', server => 'binsrc', source_table => 'etl_test.all_t');
   SELECT etl_pull.add_table('old_t', server => 'binsrc', source_table => 'etl_test.old_t');
   SELECT status FROM etl_pull.load_table('all_t');
   SELECT status FROM etl_pull.load_table('old_t')" >/dev/null
# decoded_vs_loaded(target, values): the columns of the loaded row whose value differs from the
# decoded text read by the target type's input (bytes from hex, BIT from its bytes, TIMESTAMP as
# UTC, zero dates NULL as zero_dates = null loads them, SET as text[])
q "CREATE FUNCTION decoded_vs_loaded(tbl regclass, vals text[]) RETURNS text LANGUAGE plpgsql AS \$f\$
DECLARE
	a record;
	expr text;
	same boolean;
	bad text := '';
BEGIN
	FOR a IN SELECT attnum, attname, format_type(atttypid, atttypmod) AS typ, atttypid::regtype::text AS base
	           FROM pg_attribute WHERE attrelid = tbl AND attnum > 0 AND NOT attisdropped ORDER BY attnum LOOP
		expr := CASE
			WHEN a.base = 'bit' THEN format('right((''x'' || substr(\$1, 3))::bit varying::text, %s)::%s',
			                                substring(a.typ from '\d+'), a.typ)
			WHEN a.base LIKE 'timestamp%' OR a.base = 'date' THEN
				format('CASE WHEN \$1 ~ ''^0000-|-00'' THEN NULL ELSE (\$1 || %L)::%s END',
				       CASE WHEN a.base LIKE '%with time zone' THEN '+00' ELSE '' END, a.typ)
			WHEN a.base = 'text[]' THEN 'string_to_array(\$1, '','')'
			ELSE format('\$1::%s', a.typ) END;
		EXECUTE format('SELECT %I IS NOT DISTINCT FROM %s FROM %s WHERE id = \$2', a.attname, expr, tbl)
		   INTO same USING vals[a.attnum], vals[1]::int;
		IF NOT same THEN bad := bad || ' ' || a.attname; END IF;
	END LOOP;
	RETURN bad;
END \$f\$" >/dev/null
compare_loaded() {
	q "SELECT string_agg(id || ':' || d, ',' ORDER BY id) FROM (
	     SELECT DISTINCT ON (new_values[1]::int) new_values[1]::int AS id, decoded_vs_loaded('$1', new_values) AS d
	       FROM etl_pull.binlog_events('binsrc', '$FILE', 4, 1000)
	      WHERE table_name = 'etl_test.$1' AND kind IN ('insert', 'update')
	      ORDER BY new_values[1]::int, position DESC) r"
}
is "$(q "SELECT count(*) FROM all_t") $(q "SELECT count(*) FROM old_t")" "4 3" "both tables loaded"
is "$(compare_loaded all_t)" "1:,2:,3:,4:" "each loaded row of all_t equals the row built from its decoded values"
is "$(compare_loaded old_t)" "1:,2:,3:" "and of old_t"

# ---- an idle source: the dump ends at the first heartbeat, well within the read timeout
END_POS=$(my -N -e "SHOW MASTER STATUS" | cut -f2)
START=$(date +%s%N)
is "$(q "SELECT string_agg(kind, ',' ORDER BY position) FROM etl_pull.binlog_events('binsrc', '$FILE', $END_POS, 1000000)")" \
	"rotate,format" "reading at the end of the log returns once the source has been silent for a heartbeat"
ELAPSED=$((($(date +%s%N) - START) / 1000000))
ok $((ELAPSED < 10000 ? 0 : 1)) "and within seconds (${ELAPSED} ms)"

# ---- a purged position: its own SQLSTATE, which the stream answers with a new snapshot
NEW=$(my -N -e "FLUSH BINARY LOGS; SHOW MASTER STATUS" | cut -f1)
my -e "PURGE BINARY LOGS TO '$NEW'"
is "$(q "DO \$\$ BEGIN PERFORM * FROM etl_pull.binlog_events('binsrc', '$FILE', 4, 10);
	EXCEPTION WHEN OTHERS THEN RAISE WARNING '% %', SQLSTATE, SQLERRM; END \$\$")" \
	"WARNING:  55PB1 MySQL server \"binsrc\" no longer has the binary log position asked for" \
	"reading a purged binary log is SQLSTATE 55PB1"

# ---- OpenDental's collation (utf8mb3_uca1400_ai_ci, MariaDB 10.10+) and other UTF-8 ones pass
UCA=$(my -N -e "FLUSH BINARY LOGS; SHOW MASTER STATUS" | cut -f1)
my -e "CREATE TABLE uca_t (id int PRIMARY KEY, a varchar(10) COLLATE utf8mb3_uca1400_ai_ci,
	b char(3) COLLATE utf8mb4_uca1400_as_cs, c text COLLATE utf8mb3_general_ci,
	d varchar(5) COLLATE utf8mb4_bin, e char(2) CHARACTER SET ascii) ENGINE=MyISAM;
	INSERT INTO uca_t VALUES (1, 'ÉtÉ', '☃é', 'naïve', 'ß', 'ok')"
# (read from the file before: across a real ROTATE, whose position and name etl_pull parses)
is "$(q "SELECT array_to_string(new_values, '|') FROM etl_pull.binlog_events('binsrc', '$NEW', 4, 100)
          WHERE kind = 'insert'")" "1|ÉtÉ|☃é|naïve|ß|ok" \
	"utf8mb3 and utf8mb4 columns of the UCA 14.0, general and bin collations, and ascii, decode"
is "$(q "SELECT string_agg(file || ':' || position, ' ' ORDER BY file, position)
           FROM etl_pull.binlog_events('binsrc', '$NEW', 4, 100) WHERE kind IN ('rotate', 'format')")" \
	"$NEW:4 $NEW:4 $NEW:$(my -N -e "SHOW BINARY LOGS" | awk -v f="$NEW" '$1 == f { print $2 - 44 }') $UCA:4 $UCA:4" \
	"a real ROTATE at a file's end leads to the next file's offset 4 (its made-up ROTATE, its FORMAT_DESCRIPTION)"

# ---- text in another character set than utf8mb3/utf8mb4/ascii/binary is refused, never passed on
my -e "CREATE TABLE latin_t (id int PRIMARY KEY, v varchar(10) CHARACTER SET latin1) ENGINE=MyISAM;
	INSERT INTO latin_t VALUES (1, 'café')"
is "$(q "DO \$\$ BEGIN PERFORM * FROM etl_pull.binlog_events('binsrc', '$NEW', 4, 100);
	EXCEPTION WHEN OTHERS THEN RAISE WARNING '% %', SQLSTATE, SQLERRM; END \$\$")" \
	"WARNING:  0A000 column 2 of table \"etl_test.latin_t\" has collation 8, which the binary log stream cannot convert" \
	"a latin1 column is refused with its collation named"

# ---- old-format times with fractional digits (MariaDB 5.3's), whose digits only the catalog knows
N2=$(my -N -e "FLUSH BINARY LOGS; SHOW MASTER STATUS" | cut -f1)
my -e "SET GLOBAL mysql56_temporal_format = OFF"
my -e "CREATE TABLE old_h (id int PRIMARY KEY, t1 time(1), t3 time(3), t6 time(6), dt1 datetime(1),
	dt4 datetime(4), dt6 datetime(6), ts2 timestamp(2) NULL DEFAULT NULL,
	ts5 timestamp(5) NULL DEFAULT NULL, a varchar(5)) ENGINE=MyISAM"
my -e "SET GLOBAL mysql56_temporal_format = ON"
is "$(my -N -e "SELECT COUNT(*) FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = 'etl_test'
	AND TABLE_NAME = 'old_h' AND COLUMN_TYPE LIKE '%mariadb-5.3%'")" "8" "old_h's times are old-format ones"
my -e "SET time_zone = '+00:00';
	INSERT INTO old_h VALUES (1, '-838:59:59.9', '-12:34:56.789', '838:59:59.999999',
	  '2024-02-29 23:59:59.1', '1000-01-01 00:00:00.0001', '9999-12-31 23:59:59.999999',
	  '2038-01-19 03:14:07.99', '1970-01-01 00:00:01.00001', 'x'),
	(2, '00:00:00.1', '-00:00:00.001', '-838:59:59.999999', '0000-00-00 00:00:00.0',
	  '2024-00-00 00:00:00.0000', '2001-02-03 04:05:06.000007', '0000-00-00 00:00:00.00',
	  '2001-02-03 04:05:06.78901', 'y'),
	(3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 'z')"
OLD_H_COLS=(id t1 t3 t6 dt1 dt4 dt6 ts2 ts5 a)
FILE=$N2
is "$(decoded_rows old_h)" "$(mysql_rows old_h "${OLD_H_COLS[@]}")" \
	"old-format TIME, DATETIME and TIMESTAMP with 1 to 6 fractional digits decode (their digits from the catalog)"

# ---- compressed events (log_bin_compress) are refused, never skipped
my -e "SET GLOBAL log_bin_compress = ON, GLOBAL log_bin_compress_min_len = 10"
my -e "INSERT INTO old_h (id, a) VALUES (4, REPEAT('c', 5))"
my -e "SET GLOBAL log_bin_compress = OFF"
like "$(q "SELECT count(*) FROM etl_pull.binlog_events('binsrc', '$N2', 4, 1000)")" \
	"binary log event of type 16[6-9] cannot be read: compressed row changes" \
	"a compressed rows event is an error naming it"

# ---- only etl_pull_admin may read the binary log
q "CREATE ROLE binlog_nobody" >/dev/null
like "$(q "SET ROLE binlog_nobody; SELECT * FROM etl_pull.binlog_events('binsrc', '$NEW', 4, 1)")" \
	"permission denied for function binlog_events" "a role without etl_pull_admin may not call binlog_events"
q "DROP ROLE binlog_nobody" >/dev/null
done_testing
