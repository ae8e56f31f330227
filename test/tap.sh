# test/tap.sh: a small TAP library for the bash tests in test/t (sourced).
#
# The tests run under `prove --exec bash` from test/run, with the servers'
# coordinates in the environment (see test/lib.sh).  Each test file works in
# a database of its own, created by tap_setup_db.

source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

TAP_N=0
TAP_FAILED=0
TAP_DB=

ok() {
	TAP_N=$((TAP_N + 1))
	if [ "$1" = 0 ]; then
		echo "ok $TAP_N - $2"
	else
		echo "not ok $TAP_N - $2"
		TAP_FAILED=$((TAP_FAILED + 1))
	fi
}

# is GOT EXPECTED DESCRIPTION
is() {
	if [ "$1" = "$2" ]; then
		ok 0 "$3"
	else
		ok 1 "$3"
		echo "#   got:      '$1'"
		echo "#   expected: '$2'"
	fi
}

# like GOT REGEX DESCRIPTION
like() {
	if [[ $1 =~ $2 ]]; then
		ok 0 "$3"
	else
		ok 1 "$3"
		echo "#   got:         '$1'"
		echo "#   not matching '$2'"
	fi
}

done_testing() {
	echo "1..$TAP_N"
	[ "$TAP_FAILED" -eq 0 ]
}

# psql in the test's database: q 'SQL' prints the unaligned result
q() {
	PGOPTIONS='-c client_min_messages=warning' etl_psql -d "$TAP_DB" -Atq -c "$1" 2>&1
}

# A database with etl_pull and a server "replica" mapped for postgres
tap_setup_db() {
	TAP_DB=$1
	PGOPTIONS="-c client_min_messages=warning" etl_psql -q -c "DROP DATABASE IF EXISTS $TAP_DB" -c "CREATE DATABASE $TAP_DB" >/dev/null
	etl_psql -q -d "$TAP_DB" -v port="$ETL_PULL_MYSQL_PORT" -v db="$ETL_PULL_MYSQL_DB" \
		-v user="$ETL_PULL_MYSQL_USER" -v password="$ETL_PULL_MYSQL_PASSWORD" <<-'SQL' >/dev/null
		CREATE EXTENSION etl_pull;
		CREATE SERVER replica FOREIGN DATA WRAPPER etl_pull
		    OPTIONS (host '127.0.0.1', port :'port', dbname :'db');
		CREATE USER MAPPING FOR postgres SERVER replica
		    OPTIONS (user :'user', password :'password');
	SQL
}

# MariaDB's and PostgreSQL's digest of a table with columns id, val, note,
# updated (datetime(6)): equal when the rows are equal
mysql_digest() {
	etl_mysql -N -e "SET SESSION group_concat_max_len = 1073741824;
		SELECT COUNT(*), MD5(GROUP_CONCAT(CONCAT_WS('|', id, val, IFNULL(note, '\\\\N'),
		       DATE_FORMAT(updated, '%Y-%m-%d %H:%i:%s.%f')) ORDER BY id SEPARATOR ','))
		  FROM $1" | tr '\t' ' '
}

pg_digest() {
	q "SELECT count(*) || ' ' || md5(string_agg(concat_ws('|', id, val, coalesce(note, '\\N'),
	          to_char(updated, 'YYYY-MM-DD HH24:MI:SS.US')), ',' ORDER BY id)) FROM $1"
}
