# mysql_settings are refused by their effect, not by their spelling.  A list of
# name=value pairs becomes SET SESSION on each of a load's connections; the
# settings a load relies on (sql_mode's quoting, escaping and padding modes,
# time_zone, the character sets, ...) were refused by name only, and a
# numeric sql_mode (2147483648 is PAD_CHAR_TO_FULL_LENGTH) went through: CHAR
# values then arrived padded.  Now a load reads the session back after the
# SET and refuses what changed, however it was spelt; the spellings it can
# recognise are refused when set, too.  Values stored before (by 1.3, which
# took them) are written here straight into etl_pull.tables, as a superuser
# can.
source "$(dirname "$0")/../tap.sh"
tap_setup_db etl_tap_mysql_settings

etl_mysql -e "
	DROP TABLE IF EXISTS set_pad;
	CREATE TABLE set_pad (id int NOT NULL PRIMARY KEY, c char(10) NOT NULL, v varchar(10));
	INSERT INTO set_pad VALUES (1, 'ab', 'x'), (2, 'c', ''), (3, 'defghij', NULL);"
q "SELECT etl_pull.add_table('set_pad', server => 'replica')" >/dev/null

# load_table's (or another call's) error, ERROR and DETAIL lines only
errors() {
	q "$1" | grep -aE '^(ERROR|DETAIL):' | tr '\n' '|'
}
padded() {
	q "SELECT string_agg(id || ':' || octet_length(c), ',' ORDER BY id) FROM set_pad"
}
store() {
	q "UPDATE etl_pull.tables SET mysql_settings = \$\$$1\$\$ WHERE name = 'set_pad'" >/dev/null
}

# ---- when set: the spellings it can read
for value in 'sql_mode=2147483648' 'sql_mode=4' 'SQL_Mode=Pad_Char_To_Full_Length' 'sql_mode=MySQL40' \
	'sql_mode=ansi_quotes'; do
	like "$(q "SELECT etl_pull.set_table_option('set_pad', 'mysql_settings', '$value')")" \
		'ERROR:  setting "[sS][qQ][lL]_[mM][oO][dD][eE]" is not allowed in "mysql_settings"' \
		"set_table_option refuses $value"
done
like "$(q "SELECT etl_pull.set_table_option('set_pad', 'mysql_settings', 'sql_mode=2147483648')")" \
	'DETAIL:  An sql_mode given as a number sets modes by their bits, which differ between servers; name the modes.' \
	"... a number because its bits are the server's to define"
like "$(q "LOAD 'etl_pull'; SET etl_pull.mysql_settings = 'sql_mode=2147483648'")" \
	'setting "sql_mode" is not allowed in "etl_pull.mysql_settings"' "the global list refuses it too"
is "$(q "SELECT coalesce(mysql_settings, 'none') FROM etl_pull.tables WHERE name = 'set_pad'")" "none" \
	"nothing was stored"

# ---- at the load: by effect, whatever the spelling
DETAIL_PAD='DETAIL:  sql_mode became "PAD_CHAR_TO_FULL_LENGTH". This sql_mode changes how MySQL reads the quotes, escapes and operators etl_pull sends, or the values it returns.|'
ERROR_MODE='ERROR:  the MySQL settings of table "set_pad" change session variable "sql_mode", which a load relies on|'
store 'sql_mode=2147483648'
is "$(errors "SELECT * FROM etl_pull.load_table('set_pad')")" "$ERROR_MODE$DETAIL_PAD" \
	"a numeric sql_mode (the PAD_CHAR_TO_FULL_LENGTH bit) is refused by its effect"
store 'Sql_Mode = pad_char_to_FULL_length, sort_buffer_size=1048576'
is "$(errors "SELECT * FROM etl_pull.load_table('set_pad')")" "$ERROR_MODE$DETAIL_PAD" \
	"a mixed-case name and value are refused by their effect"
store 'sql_mode=MySQL40'
is "$(errors "SELECT * FROM etl_pull.load_table('set_pad')")" \
	"${ERROR_MODE}DETAIL:  sql_mode became \"MYSQL40,HIGH_NOT_PRECEDENCE\". This sql_mode changes how MySQL reads the quotes, escapes and operators etl_pull sends, or the values it returns.|" \
	"a combination mode that includes HIGH_NOT_PRECEDENCE is refused by its effect"
store 'sql_mode=4'
like "$(errors "SELECT * FROM etl_pull.load_table('set_pad')")" \
	'sql_mode became "ANSI_QUOTES"' "the ANSI_QUOTES bit is refused by its effect"
is "$(q "SELECT to_regclass('public.set_pad') IS NULL")" "t" "no refused load created the target"
is "$(q "SELECT count(*) FILTER (WHERE status = 'failed') || '/' || count(*) FROM etl_pull.runs
         WHERE table_name = 'set_pad'")" "4/4" "each refused load is a failed run"

# every other call that connects for the table applies its settings the same way
store 'sql_mode=2147483648'
q "CREATE TABLE set_pad (id integer PRIMARY KEY, c text, v text)" >/dev/null
like "$(errors "SELECT * FROM etl_pull.verify_table('set_pad')")" 'change session variable "sql_mode"' \
	"verify_table refuses it"
like "$(errors "SELECT * FROM etl_pull.plan('set_pad')")" 'change session variable "sql_mode"' \
	"plan refuses it"
q "SELECT etl_pull.set_table_option('set_pad', 'extraction', 'diff')" >/dev/null
like "$(errors "SELECT * FROM etl_pull.repair_table('set_pad')")" 'change session variable "sql_mode"' \
	"repair_table refuses it"
q "SELECT etl_pull.set_table_option('set_pad', 'extraction', NULL); DROP TABLE set_pad" >/dev/null
q "SELECT etl_pull.set_table_option('set_pad', 'strategy', 'parallel');
   SELECT etl_pull.set_table_option('set_pad', 'parallel_chunks', '2')" >/dev/null
store 'sql_mode=2147483648'
like "$(errors "SELECT * FROM etl_pull.load_table('set_pad')")" 'change session variable "sql_mode"' \
	"a parallel load refuses it before it starts"
is "$(q "SELECT to_regclass('public.set_pad') IS NULL")" "t" "... and leaves no target behind"
q "SELECT etl_pull.set_table_option('set_pad', 'strategy', NULL)" >/dev/null

# ---- settings that change nothing a load relies on still load, and CHAR
# values arrive as MySQL stores them: unpadded
store 'sql_mode=STRICT_TRANS_TABLES, sort_buffer_size=1048576'
is "$(q "SELECT status || ' ' || rows FROM etl_pull.load_table('set_pad')")" "succeeded 3" \
	"allowed settings load"
is "$(padded)" "1:2,2:1,3:7" "CHAR values arrive unpadded"
is "$(q "SELECT string_agg(id || ':' || coalesce(v, 'NULL'), ',' ORDER BY id) FROM set_pad")" \
	"1:x,2:,3:NULL" "an empty string stays empty, NULL stays NULL"

done_testing
