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
done_testing
