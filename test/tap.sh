# test/tap.sh: a small TAP library for the bash tests in test/t (sourced).
#
# The tests run under `prove --exec bash` from test/run, with the servers'
# coordinates in the environment (see test/lib.sh).  Each test file works in
# a database of its own, created by tap_setup_db, and in MariaDB tables of
# its own in etl_test.  A test that changes the server's configuration
# (ALTER SYSTEM, a restart, a crash, cluster-wide roles) calls
# tap_own_cluster first: it gets a throwaway PostgreSQL of its own, so that
# nothing it does reaches the next test.
#
# tap.sh owns the EXIT trap: a test registers its cleanup with tap_on_exit
# (never `trap ... EXIT`, which would displace the cluster's stop).

source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

TAP_N=0
TAP_FAILED=0
TAP_DB=
TAP_EXIT_HANDLERS=()
TAP_OWN_PGDATA=

# tap_on_exit COMMAND: run COMMAND (a function name, say) when the test exits,
# however it exits; the last registered runs first, and all of them before
# the test's own cluster stops.
tap_on_exit() {
	TAP_EXIT_HANDLERS+=("$1")
}

tap_exit() {
	local rc=$? i
	trap - EXIT
	for ((i = ${#TAP_EXIT_HANDLERS[@]} - 1; i >= 0; i--)); do
		eval "${TAP_EXIT_HANDLERS[i]}"
	done
	tap_stop_own_cluster
	exit "$rc"
}
trap tap_exit EXIT
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM

# tap_own_cluster: initdb and start a PostgreSQL cluster for this test alone,
# in ETL_PULL_WORKDIR/clusters/<test>/ (data in pg/, log in pg.log, socket
# in the directory itself) on a port of its own, configured as the shared
# one (test/lib.sh: pg_cron preloaded, the etl_test.* settings), and point
# PG* and ETL_PULL_PG* at it for the rest of the test.  The extension is
# already installed in the PostgreSQL installation; tap_setup_db creates it.
# The cluster is stopped when the test exits and removed unless
# ETL_PULL_KEEP=1; test/run stops one left running.
tap_own_cluster() {
	local dir port
	if [ -z "${ETL_PULL_WORKDIR:-}" ] || [ ! -e "$ETL_PULL_WORKDIR/$ETL_MARKER" ]; then
		etl_die "tap_own_cluster needs the harness's work directory (run the test from test/run)"
	fi
	[ -z "$TAP_OWN_PGDATA" ] || etl_die "tap_own_cluster: this test has its cluster already"
	dir=$ETL_PULL_WORKDIR/clusters/$(basename "$0" .sh)
	if [ -e "$dir" ]; then # a previous run's, in a kept work directory
		etl_stop_postgres "$dir/pg"
		rm -rf "$dir"
	fi
	mkdir -p "$dir"
	chown postgres "$dir"
	chmod 755 "$ETL_PULL_WORKDIR/clusters"
	# Not the shared cluster's port (35432 and up) nor Debian's (5432), so
	# that a client given half of the new coordinates (the socket directory
	# or the port) fails instead of reaching another cluster.  Each cluster
	# listens on a socket in its own directory only.
	port=$(etl_free_port 36432)
	[ "$port" != "${ETL_PULL_PGPORT:-}" ] || port=$(etl_free_port $((port + 1)))
	TAP_OWN_PGDATA=$dir/pg
	etl_init_postgres "$dir/pg" "$port" "$dir" "$dir/pg.log"
	export PGHOST=$dir PGPORT=$port PGUSER=postgres PGDATABASE=postgres
	export ETL_PULL_PGHOST=$PGHOST ETL_PULL_PGPORT=$PGPORT ETL_PULL_PGUSER=$PGUSER
	export ETL_PULL_PGDATABASE=$PGDATABASE ETL_PULL_PGDATA=$dir/pg ETL_PULL_PGLOG=$dir/pg.log
	echo "# own PostgreSQL cluster in $dir (port $port)"
}

# tap_own_mariadb [OPTION...]: start a MariaDB for this test alone, with the suite's options and
# the OPTIONs (a binary log in row format, say), in ETL_PULL_WORKDIR/mariadbs/<test>/, with the
# suite's etl_test database and users; sets TAP_MYSQL_PORT and TAP_MYSQL_SOCKET.  It is stopped
# when the test exits (and by test/run's clean-up if it is left running); the shared MariaDB's
# configuration is never touched.
TAP_OWN_MARIADB=
tap_own_mariadb() {
	local dir
	[ -n "${ETL_PULL_WORKDIR:-}" ] && [ -e "$ETL_PULL_WORKDIR/$ETL_MARKER" ] ||
		etl_die "tap_own_mariadb needs the harness's work directory (run the test from test/run)"
	dir=$ETL_PULL_WORKDIR/mariadbs/$(basename "$0" .sh)
	if [ -e "$dir" ]; then
		etl_stop_mariadb "$dir"
		rm -rf "$dir"
	fi
	mkdir -p "$dir"
	chmod 1777 "$ETL_PULL_WORKDIR/mariadbs" "$dir"
	TAP_MYSQL_PORT=$(etl_free_port $((ETL_PULL_MYSQL_PORT + 100)))
	TAP_MYSQL_SOCKET=$dir/mysql.sock
	TAP_OWN_MARIADB=$dir
	tap_on_exit tap_stop_own_mariadb
	etl_mariadb_in "$dir" "$TAP_MYSQL_PORT" "$@"
	TAP_MYSQL_PORT=$ETL_MARIADB_PORT
	etl_mysql_setup "$TAP_MYSQL_SOCKET"
	echo "# own MariaDB in $dir (port $TAP_MYSQL_PORT)"
}
tap_stop_own_mariadb() {
	[ -n "$TAP_OWN_MARIADB" ] || return 0
	etl_stop_mariadb "$TAP_OWN_MARIADB"
	[ "${ETL_PULL_KEEP:-0}" = 1 ] || rm -rf "$TAP_OWN_MARIADB"
	TAP_OWN_MARIADB=
}

# tap_own_mysql ARGS: the MariaDB client as root on the test's own MariaDB (tap_own_mariadb).
tap_own_mysql() {
	mariadb --no-defaults --skip-ssl --default-character-set=utf8mb4 \
		--socket="$TAP_MYSQL_SOCKET" -uroot "$@"
}

# tap_own_mysql_server NAME: a foreign server NAME for the test's own MariaDB (database etl_test),
# and a user mapping for postgres with the suite's user, in TAP_DB (after tap_setup_db).
tap_own_mysql_server() {
	q "CREATE SERVER $1 FOREIGN DATA WRAPPER etl_pull
	     OPTIONS (host '127.0.0.1', port '$TAP_MYSQL_PORT', dbname 'etl_test');
	   CREATE USER MAPPING FOR postgres SERVER $1
	     OPTIONS (user '$ETL_PULL_MYSQL_USER', password '$ETL_PULL_MYSQL_PASSWORD')" >/dev/null
}

# tap_stream_caught_up GROUP SECONDS: wait up to SECONDS until the stream of load group GROUP
# streams at the position of the end of the own MariaDB's binary log, no table of it being
# snapshotted again (resnapshotting empty); false if it does not.
tap_stream_caught_up() {
	local i pos
	for ((i = 0; i < $2 * 10; i++)); do
		pos=$(tap_own_mysql -N -e "SHOW MASTER STATUS" | awk '{print $1 " " $2}')
		[ "$(q "SELECT binlog_file || ' ' || binlog_offset FROM etl_pull.streams
		          WHERE load_group = '$1' AND state = 'streaming'
		            AND coalesce(cardinality(resnapshotting), 0) = 0")" = "$pos" ] && return 0
		sleep 0.1
	done
	return 1
}

# Stop the test's own cluster and remove it (kept when ETL_PULL_KEEP=1).
tap_stop_own_cluster() {
	[ -n "$TAP_OWN_PGDATA" ] || return 0
	etl_stop_postgres "$TAP_OWN_PGDATA"
	[ "${ETL_PULL_KEEP:-0}" = 1 ] || rm -rf "$(dirname "$TAP_OWN_PGDATA")"
	TAP_OWN_PGDATA=
}

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

# A gate: tap_gate_close KEY holds advisory lock KEY in a background session
# (application_name etl_gate), so that code under test waiting on it (a trigger
# or CHECK calling pg_advisory_lock_shared(KEY)) stops there; tap_gate_open ends
# that session, and the code goes on.
tap_gate_close() {
	PGAPPNAME=etl_gate etl_psql -d "$TAP_DB" -Atq -c "SELECT pg_advisory_lock($1), pg_sleep(600)" \
		>/dev/null 2>&1 &
	TAP_GATE=$!
	until [ "$(q "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = $1 AND granted")" = 1 ]; do
		sleep 0.05
	done
}
tap_gate_open() {
	etl_psql -Atqc "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'etl_gate'" \
		>/dev/null 2>&1
	wait "$TAP_GATE" 2>/dev/null || true
}

# The hostile fake MySQL server (test/hostile/server.js): tap_hostile_server DIR [ARG...] starts
# it in DIR, made anew, with --port-file DIR/port --log DIR/server.log and the ARGs, and sets
# HOSTILE_PORT (empty when it did not start: DIR/server.out says why).  It runs as nobody, from
# a copy in DIR (nobody may not read the repository, a clone in root's home).  tap_hostile_stop
# stops it; so does the test's exit.
HOSTILE_PID=
tap_hostile_server() {
	local dir=$1 modules i
	shift
	modules=$(etl_hostile_node_modules) || modules=
	rm -rf "$dir"
	mkdir -p "$dir"
	chmod 1777 "$dir" # the server runs as nobody; PostgreSQL (postgres) could write here too
	cp "$ETL_PULL_REPO/test/hostile/server.js" "$dir/server.js"
	chmod 644 "$dir/server.js"
	tap_hostile_stop
	tap_on_exit tap_hostile_stop
	(cd "$dir" && exec runuser -u nobody -- env NODE_PATH="$modules" \
		node "$dir/server.js" --port-file "$dir/port" --log "$dir/server.log" "$@") \
		</dev/null >"$dir/server.out" 2>&1 &
	HOSTILE_PID=$!
	for ((i = 0; i < 100; i++)); do
		[ -s "$dir/port" ] && break
		sleep 0.1
	done
	HOSTILE_PORT=$(cat "$dir/port" 2>/dev/null)
}
tap_hostile_stop() {
	[ -n "$HOSTILE_PID" ] && kill "$HOSTILE_PID" 2>/dev/null && wait "$HOSTILE_PID" 2>/dev/null
	HOSTILE_PID=
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

# tap_fake_server USER: start the hostile fake MySQL server (tap_hostile_server) in
# $TESTDIR/hostile_<test> and make it server "fake" of the test's database (dbname fakedb), which
# postgres reaches as USER (the MySQL user name picks the server's mode); false, after printing
# the server's output, when it does not listen.
tap_fake_server() {
	local dir=${TESTDIR:-/tmp}/hostile_$(basename "$0" .sh)
	tap_hostile_server "$dir"
	[[ $HOSTILE_PORT =~ ^[0-9]+$ ]] || { cat "$dir/server.out"; return 1; }
	etl_psql -q -d "$TAP_DB" -v port="$HOSTILE_PORT" -v user="$1" <<-'SQL' >/dev/null
		CREATE SERVER fake FOREIGN DATA WRAPPER etl_pull
		    OPTIONS (host '127.0.0.1', port :'port', dbname 'fakedb');
		CREATE USER MAPPING FOR postgres SERVER fake OPTIONS (user :'user', password 'pw');
	SQL
}
