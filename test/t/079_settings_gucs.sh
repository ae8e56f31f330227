# etl_pull.pg_settings and etl_pull.mysql_settings set where a DBA sets them,
# in postgresql.conf (issue 29, item 13).  A value PostgreSQL refuses is
# refused where the GUC is read, naming the GUC, as PostgreSQL refuses its
# own (the load then runs with the default); a value only the load can
# judge (a MySQL variable, a right of the user who loads) fails the load
# with an error whose CONTEXT names the list it came from.  Before, the
# bad value reached every load, and its error named neither the GUC nor
# the item.
#
# The test edits postgresql.conf: its own cluster.
source "$(dirname "$0")/../tap.sh"
tap_own_cluster
tap_setup_db etl_tap_settings_gucs

etl_mysql -e "
	DROP TABLE IF EXISTS guc_src;
	CREATE TABLE guc_src (id int NOT NULL PRIMARY KEY, v varchar(10));
	INSERT INTO guc_src VALUES (1, 'a'), (2, 'b');"
q "SELECT etl_pull.add_table('guc_src', server => 'replica')" >/dev/null

# conf NAME VALUE: set NAME in postgresql.conf, reload, and wait until a new
# session sees it (before etl_pull is loaded: the placeholder's raw value)
conf() {
	echo "$1 = '$2'" >>"$ETL_PULL_PGDATA/postgresql.conf"
	q "SELECT pg_reload_conf()" >/dev/null
	for _ in $(seq 100); do
		[ "$(q "SHOW $1")" = "$2" ] && return 0
		sleep 0.1
	done
	echo "# $1 did not become '$2'"
}
# the messages of a call, one line each (a CONTEXT's further lines included)
errors() {
	q "$1" | grep -avE '^(succeeded|failed|maintenance_work_mem=.*)$' | tr '\n' '|'
}

# ---- a MySQL variable the server does not have: only the load can tell
conf etl_pull.mysql_settings 'no_such_variable=1'
out=$(errors "SELECT status FROM etl_pull.load_table('guc_src')")
like "$out" 'ERROR:  .*no_such_variable' "the load fails on MySQL's error"
like "$out" '\|applying configuration parameter "etl_pull.mysql_settings"\|' \
	"... whose context names etl_pull.mysql_settings"
q "SELECT etl_pull.set_table_option('guc_src', 'mysql_settings', 'sort_buffer_size=1048576')" >/dev/null
like "$(errors "SELECT status FROM etl_pull.load_table('guc_src')")" \
	'\|applying configuration parameter "etl_pull.mysql_settings" and setting "mysql_settings" of table "guc_src"\|' \
	"... and the table's setting when it has one too"
conf etl_pull.mysql_settings ''
is "$(q "SELECT status FROM etl_pull.load_table('guc_src')")" "succeeded" "without it the load succeeds"

# ---- a PostgreSQL value PostgreSQL refuses: refused where it is read
conf etl_pull.pg_settings 'work_mem=lots'
out=$(errors "LOAD 'etl_pull'; SHOW etl_pull.pg_settings")
like "$out" 'WARNING:  invalid setting "work_mem" in "etl_pull.pg_settings"' \
	"loading etl_pull warns, naming the GUC and the item"
like "$(q "LOAD 'etl_pull'; SHOW etl_pull.pg_settings" 2>/dev/null | tail -n 1)" '^maintenance_work_mem=16MB$' \
	"... and keeps the default"
is "$(q "SELECT status FROM etl_pull.load_table('guc_src')" | tail -n 1)" "succeeded" \
	"loads go on with the default"
conf etl_pull.pg_settings 'unknown_setting=1'
like "$(errors "LOAD 'etl_pull'")" 'WARNING:  invalid setting "unknown_setting" in "etl_pull.pg_settings"' \
	"an unknown name is refused the same way"
conf etl_pull.pg_settings 'maintenance_work_mem=16MB'

# ---- a table's value stored before 1.4 checked it: the error names the setting
q "UPDATE etl_pull.tables SET pg_settings = 'work_mem=lots' WHERE name = 'guc_src'" >/dev/null
out=$(errors "SELECT status FROM etl_pull.load_table('guc_src')")
like "$out" 'invalid value for parameter "work_mem": "lots"' "a bad table value fails the load"
like "$out" 'CONTEXT:  item "work_mem" of setting "pg_settings" of table "guc_src"' \
	"... and its context names the table's setting"

done_testing
