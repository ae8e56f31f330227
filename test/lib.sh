# test/lib.sh: shared helpers for the etl_pull test harness (sourced by test/run and test/demo).
#
# Installs what is missing, builds the extension, and starts/stops a throwaway MariaDB and
# PostgreSQL (the distribution's, or PG_CONFIG's) on their own ports and sockets under one work
# directory.  The servers never read the repository: everything they need lives in the work
# directory.  Must run as root (apt-get, and the servers run as the mysql and postgres users).
#
#   etl_install_packages [PKG...]  apt-get install whatever is missing (default: the suite's)
#   etl_build_install              make && make install in the repository
#   etl_start_servers [WORKDIR]    start both servers, export ETL_PULL_* and PG* (see env.sh)
#   etl_stop_servers               stop both, remove WORKDIR unless ETL_PULL_KEEP=1
#   etl_mysql ARGS / etl_psql ARGS clients as MariaDB root on etl_test / as postgres
#   etl_mysql_db DB ARGS           the MariaDB client as root on database DB
#   etl_load_fixtures              test/fixtures/*.sql into etl_test (periomeasure with 10000 rows)
#   etl_make_periomeasure ROWS     (re)create etl_test.periomeasure with ROWS rows
#   etl_hostile_node_modules       install the hostile fake MySQL server's npm packages
#   etl_demo_mysql DB ROWS         the demo's MariaDB tables in DB (periomeasure, test/demo.sql)
#   etl_demo_setup DB [ARGS]       the demo's PostgreSQL setup (README's examples use it)

# shellcheck shell=bash disable=SC2119,SC2120 # optional arguments
ETL_PULL_REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

# The PostgreSQL major the distribution ships (its packages are what etl_install_packages
# installs): Debian 12 has 15, Debian 13 has 17; elsewhere the newest one installed, else 15.
etl_distribution_pg_major() {
	local id version_id major
	id=$(. /etc/os-release 2>/dev/null && echo "${ID:-}")
	version_id=$(. /etc/os-release 2>/dev/null && echo "${VERSION_ID:-}")
	case $id:$version_id in
	debian:12) echo 15 ;;
	debian:13) echo 17 ;;
	*)
		major=$(find /usr/lib/postgresql -mindepth 3 -maxdepth 3 -path '*/bin/pg_config' \
			2>/dev/null | awk -F/ '{ print $5 }' | sort -n | tail -n 1)
		echo "${major:-15}"
		;;
	esac
}

# PG_CONFIG picks the PostgreSQL installation; by default the distribution's major.  Its major
# names the packages (postgresql-N, postgresql-server-dev-N, postgresql-N-cron, ...).
if [ -n "${PG_CONFIG:-}" ]; then
	ETL_PG_CONFIG=$PG_CONFIG
	ETL_PG_MAJOR=$("$ETL_PG_CONFIG" --version 2>/dev/null | sed -n 's/^PostgreSQL \([0-9]*\).*/\1/p')
	[ -n "$ETL_PG_MAJOR" ] || { echo "etl_pull: error: $PG_CONFIG does not run" >&2; exit 1; }
else
	ETL_PG_MAJOR=$(etl_distribution_pg_major)
	ETL_PG_CONFIG=/usr/lib/postgresql/$ETL_PG_MAJOR/bin/pg_config
fi
# The installation's bindir, from its pg_config.  Before etl_install_packages has installed
# postgresql-server-dev-N (a fresh machine) the distribution's pg_config may be missing: its own
# directory is then the bindir, as in every layout that ships one, and etl_install_packages asks
# pg_config again once it is there.
etl_pg_bindir() {
	ETL_PG_BIN=$("$ETL_PG_CONFIG" --bindir 2>/dev/null) && [ -n "$ETL_PG_BIN" ] && return 0
	ETL_PG_BIN=$(dirname "$ETL_PG_CONFIG")
	return 1
}
etl_pg_bindir || true
ETL_MARKER=.etl_pull_workdir
# What the demo needs (build, both servers, pg_cron for README's scheduling example; ss and ps for
# the harness), and what only the test suite adds (mysql_fdw and pgloader for the benchmarks,
# IPC::Run for the Perl TAP tests, Node.js for the hostile server, openssl for the TLS test).
ETL_DEMO_PACKAGES=("postgresql-$ETL_PG_MAJOR" "postgresql-server-dev-$ETL_PG_MAJOR"
	"postgresql-$ETL_PG_MAJOR-cron" mariadb-server mariadb-client default-libmysqlclient-dev
	build-essential iproute2 procps)
ETL_TEST_PACKAGES=("postgresql-$ETL_PG_MAJOR-mysql-fdw" pgloader libipc-run-perl nodejs openssl)
ETL_PACKAGES=("${ETL_DEMO_PACKAGES[@]}" "${ETL_TEST_PACKAGES[@]}")
ETL_ENV_VARS=(ETL_PULL_WORKDIR ETL_PULL_MYSQL_HOST ETL_PULL_MYSQL_PORT ETL_PULL_MYSQL_SOCKET
	ETL_PULL_MYSQL_DB ETL_PULL_MYSQL_USER ETL_PULL_MYSQL_PASSWORD
	ETL_PULL_MYSQL_LIMITED_USER ETL_PULL_MYSQL_LIMITED_PASSWORD
	PGHOST PGPORT PGUSER PGDATABASE
	ETL_PULL_PGHOST ETL_PULL_PGPORT ETL_PULL_PGUSER ETL_PULL_PGDATABASE ETL_PULL_PGDATA
	ETL_PULL_PGLOG)

etl_log() { printf 'etl_pull: %s\n' "$*" >&2; }
etl_die() { etl_log "error: $*"; exit 1; }

# ---------------------------------------------------------------- packages and build

# etl_install_packages [PACKAGE...]: install those (default: ETL_PACKAGES, the test suite's) that
# are not installed yet (nothing at all when all are there).
etl_install_packages() {
	local pkg missing=() log
	[ $# -gt 0 ] || set -- "${ETL_PACKAGES[@]}"
	for pkg in "$@"; do
		dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' ||
			missing+=("$pkg")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	[ "$(id -u)" -eq 0 ] || etl_die "missing packages (run as root to install): ${missing[*]}"
	etl_log "installing ${missing[*]}"
	log=$(mktemp)
	if ! { apt-get -qq update &&
		DEBIAN_FRONTEND=noninteractive apt-get -qq install -y --no-install-recommends \
			"${missing[@]}"; } >"$log" 2>&1; then
		cat "$log" >&2
		rm -f "$log"
		etl_die "apt-get failed"
	fi
	rm -f "$log"
	etl_pg_bindir || etl_die "$ETL_PG_CONFIG does not run after installing ${missing[*]}"
}

# Build and install the extension from the repository root; stops the script on failure.
etl_build_install() {
	make -C "$ETL_PULL_REPO" -s -j"$(nproc)" PG_CONFIG="$ETL_PG_CONFIG" ||
		etl_die "build failed"
	make -C "$ETL_PULL_REPO" -s install PG_CONFIG="$ETL_PG_CONFIG" >/dev/null ||
		etl_die "make install failed"
}

# The npm packages of the hostile fake MySQL server (test/hostile/package-lock.json), installed
# with `npm ci` once per lock file under /var/cache/etl_pull, outside the repository.  Prints the
# node_modules directory to put in NODE_PATH.
etl_hostile_node_modules() {
	local src=$ETL_PULL_REPO/test/hostile sum dir tmp
	command -v npm >/dev/null ||
		DEBIAN_FRONTEND=noninteractive apt-get -qq install -y --no-install-recommends npm \
			>/dev/null 2>&1 || { etl_log "npm is missing"; return 1; }
	sum=$(cat "$src/package.json" "$src/package-lock.json" | sha256sum | cut -c1-16)
	dir=/var/cache/etl_pull/hostile-$sum
	if [ ! -e "$dir/node_modules" ]; then
		mkdir -p /var/cache/etl_pull
		tmp=$(mktemp -d "$dir.XXXXXX")
		cp "$src/package.json" "$src/package-lock.json" "$tmp/"
		if ! (cd "$tmp" && npm ci --no-audit --no-fund --loglevel=error) >&2; then
			rm -rf "$tmp"
			etl_log "npm ci for test/hostile failed"
			return 1
		fi
		chmod -R a+rX "$tmp"
		# another run may have finished first: keep the one that is there
		mv -T "$tmp" "$dir" 2>/dev/null || rm -rf "$tmp"
	fi
	echo "$dir/node_modules"
}

# ---------------------------------------------------------------- small helpers

# Print the first TCP port at or above $1 that nothing listens on.
etl_free_port() {
	local port=$1
	while [ -n "$(ss -Htln "sport = :$port")" ]; do
		port=$((port + 1))
	done
	echo "$port"
}

# Run a command as system user $1, from the work directory (the caller's cwd may be unreadable).
etl_as() {
	local user=$1
	shift
	(cd "$ETL_PULL_WORKDIR" && runuser -u "$user" -- "$@")
}

# True when process $1 is alive (not a zombie) and its command line contains $2: a stale pid
# file must never make us signal somebody else's process.
etl_pid_ours() {
	[ -n "$1" ] && ps -o stat= -p "$1" 2>/dev/null | grep -qv '^Z' &&
		tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null | grep -qF -- "$2"
}

# Wait up to $3 seconds for process $1 (command line containing $2) to exit.
etl_wait_exit() {
	local i
	for ((i = 0; i < $3 * 10; i++)); do
		etl_pid_ours "$1" "$2" || return 0
		sleep 0.1
	done
	! etl_pid_ours "$1" "$2"
}

etl_mysql() {
	etl_mysql_db etl_test "$@"
}

# etl_mysql_db DB ARGS: the client as MariaDB root on database DB
etl_mysql_db() {
	mariadb --no-defaults --skip-ssl --default-character-set=utf8mb4 \
		--socket="$ETL_PULL_MYSQL_SOCKET" -uroot "$@"
}

etl_psql() {
	"$ETL_PG_BIN/psql" -X -v ON_ERROR_STOP=1 "$@"
}

# ---------------------------------------------------------------- start

# Make $1 an empty work directory we own: create it, or clean one a previous run left behind.
etl_prepare_dir() {
	local dir=$1
	if [ -e "$dir/$ETL_MARKER" ]; then
		ETL_PULL_WORKDIR=$dir ETL_PULL_KEEP=0 etl_stop_servers
	elif [ -e "$dir" ] && [ -n "$(ls -A "$dir")" ]; then
		etl_die "$dir is not empty and was not made by etl_pull; refusing to use it"
	fi
	mkdir -p "$dir"
}

# Start MariaDB and PostgreSQL under WORKDIR ($1, default a new temp dir) and export their
# coordinates.  Call etl_stop_servers (an EXIT trap) even when this fails half way.
etl_start_servers() {
	local dir=${1:-}
	[ "$(id -u)" -eq 0 ] || etl_die "the test servers must be started as root"
	if [ -z "$dir" ]; then
		dir=$(mktemp -d -t etl_pull.XXXXXX)
	else
		etl_prepare_dir "$dir"
		dir=$(cd "$dir" && pwd)
	fi
	touch "$dir/$ETL_MARKER"
	# Both server users write sockets, pid files and logs here, like in /tmp.
	chmod 1777 "$dir"
	export ETL_PULL_WORKDIR=$dir
	runuser -u postgres -- test -w "$dir" ||
		etl_die "$dir is not reachable by the postgres user (check the modes of its parents)"
	etl_start_mariadb
	etl_start_postgres
	etl_write_env
	etl_log "servers up in $dir (MariaDB port $ETL_PULL_MYSQL_PORT, PostgreSQL port $PGPORT)"
}

# The suite's MariaDB has no TLS (MariaDB 11.4 and later would make themselves a certificate:
# --skip-ssl), and so its clients say --skip-ssl (11.4 and later clients insist on TLS).
etl_start_mariadb() {
	local dir=$ETL_PULL_WORKDIR
	export ETL_PULL_MYSQL_HOST=127.0.0.1 ETL_PULL_MYSQL_DB=etl_test
	export ETL_PULL_MYSQL_USER=etl ETL_PULL_MYSQL_PASSWORD=etl_secret_pw
	export ETL_PULL_MYSQL_LIMITED_USER=etl_limited ETL_PULL_MYSQL_LIMITED_PASSWORD=limited_pw
	export ETL_PULL_MYSQL_SOCKET=$dir/mysql.sock
	ETL_PULL_MYSQL_PORT=$(etl_free_port 33306)
	export ETL_PULL_MYSQL_PORT
	etl_mariadb_in "$dir" "$ETL_PULL_MYSQL_PORT" --log-bin="$dir/binlog" --server-id=1
	ETL_PULL_MYSQL_PORT=$ETL_MARIADB_PORT
	etl_mysql_setup "$ETL_PULL_MYSQL_SOCKET"
}

# etl_mariadb_in DIR PORT [OPTION...]: initialise and start a MariaDB with its data in DIR/mysql,
# its socket DIR/mysql.sock, pid file and logs in DIR, on 127.0.0.1:PORT, with the suite's
# options and the OPTIONs (a binary log's, say); etl_stop_mariadb DIR stops it.  When another
# process takes PORT between etl_free_port and the start (several suites on one machine), it
# starts again on the next free port: ETL_MARIADB_PORT is the port it listens on.
etl_mariadb_in() {
	local dir=$1 port=$2 i try
	shift 2
	mariadb-install-db --no-defaults --user=mysql --datadir="$dir/mysql" \
		--auth-root-authentication-method=socket --skip-test-db \
		>"$dir/mysql-install.log" 2>&1 ||
		{ cat "$dir/mysql-install.log" >&2; etl_die "mariadb-install-db failed"; }
	for ((try = 0; try < 5; try++)); do
		rm -f "$dir/mysql.log" # mariadbd (user mysql) makes it anew
		# exec: no shell may linger holding the caller's stdout (a pipe would never close).
		(cd "$dir" && exec setsid nohup /usr/sbin/mariadbd --no-defaults --user=mysql \
			--datadir="$dir/mysql" --socket="$dir/mysql.sock" \
			--port="$port" --bind-address=127.0.0.1 --skip-name-resolve \
			--pid-file="$dir/mysql.pid" --log-error="$dir/mysql.log" \
			--innodb-buffer-pool-size=1G \
			--max-allowed-packet=256M --sql-mode='' --character-set-server=utf8mb4 \
			--collation-server=utf8mb4_general_ci --skip-ssl "$@") </dev/null >>"$dir/mysql.out" 2>&1 &
		for ((i = 0; i < 600; i++)); do
			mariadb-admin --no-defaults --skip-ssl --socket="$dir/mysql.sock" -uroot ping \
				>/dev/null 2>&1 && break
			grep -qs 'Aborting' "$dir/mysql.log" && i=600 && break
			sleep 0.1
		done
		[ "$i" -ge 600 ] && grep -qs 'Address already in use' "$dir/mysql.log" || break
		etl_wait_exit "$(pgrep -f -- "--datadir=$dir/mysql( |$)" | head -n 1)" "$dir/mysql" 30
		port=$(etl_free_port $((port + 1)))
	done
	if [ "$i" -ge 600 ]; then
		cat "$dir/mysql.out" "$dir/mysql.log" >&2 2>/dev/null
		etl_die "MariaDB did not start (log above)"
	fi
	ETL_MARIADB_PORT=$port
}

# The test database and its users on the MariaDB of socket $1: etl (everything; the loader
# needs RELOAD and REPLICATION CLIENT) and etl_limited (SELECT on etl_test only).
etl_mysql_setup() {
	mariadb --no-defaults --skip-ssl --socket="$1" -uroot <<-'SQL' ||
		CREATE DATABASE etl_test CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci;
		CREATE USER 'etl'@'127.0.0.1' IDENTIFIED BY 'etl_secret_pw';
		CREATE USER 'etl'@'localhost' IDENTIFIED BY 'etl_secret_pw';
		GRANT ALL PRIVILEGES ON *.* TO 'etl'@'127.0.0.1';
		GRANT ALL PRIVILEGES ON *.* TO 'etl'@'localhost';
		CREATE USER 'etl_limited'@'127.0.0.1' IDENTIFIED BY 'limited_pw';
		CREATE USER 'etl_limited'@'localhost' IDENTIFIED BY 'limited_pw';
		GRANT SELECT ON etl_test.* TO 'etl_limited'@'127.0.0.1';
		GRANT SELECT ON etl_test.* TO 'etl_limited'@'localhost';
	SQL
		etl_die "could not create the MariaDB test database and users"
}

etl_start_postgres() {
	local dir=$ETL_PULL_WORKDIR
	export PGHOST=$dir PGUSER=postgres PGDATABASE=postgres
	PGPORT=$(etl_free_port 35432)
	export PGPORT
	# The same under names that PostgreSQL::Test::Utils (TAP) does not delete.
	export ETL_PULL_PGHOST=$PGHOST ETL_PULL_PGPORT=$PGPORT ETL_PULL_PGUSER=$PGUSER
	export ETL_PULL_PGDATABASE=$PGDATABASE ETL_PULL_PGDATA=$dir/pg ETL_PULL_PGLOG=$dir/pg.log
	etl_init_postgres "$dir/pg" "$PGPORT" "$dir" "$dir/pg.log"
}

# etl_init_postgres PGDATA PORT SOCKETDIR LOG: initdb a new cluster in PGDATA as the postgres
# user, configure it (etl_pg_conf) and start it, listening on SOCKETDIR/.s.PGSQL.PORT only.
# The shared cluster of etl_start_servers and a test's own (tap_own_cluster in test/tap.sh).
etl_init_postgres() {
	local data=$1 port=$2 sockdir=$3 log=$4
	[ ${#sockdir} -le 90 ] ||
		etl_die "$sockdir is too long for a Unix socket directory (use a shorter work directory)"
	etl_as postgres "$ETL_PG_BIN/initdb" -D "$data" -U postgres -A trust --no-sync \
		-E UTF8 --locale=C.UTF-8 >"$data.initdb.log" 2>&1 ||
		{ cat "$data.initdb.log" >&2; etl_die "initdb of $data failed"; }
	etl_pg_conf "$port" "$sockdir" >>"$data/postgresql.conf"
	etl_as postgres "$ETL_PG_BIN/pg_ctl" -D "$data" -l "$log" -w -t 60 start \
		>/dev/null 2>&1 ||
		{ cat "$log" >&2; etl_die "PostgreSQL in $data did not start (log above)"; }
}

# etl_pg_conf PORT SOCKETDIR: the postgresql.conf additions.  etl_test.* are placeholder
# settings (not the extension's reserved etl_pull. prefix) so that SQL tests can read the MariaDB
# coordinates with current_setting().
etl_pg_conf() {
	cat <<-EOF

		# added by test/lib.sh
		port = $1
		unix_socket_directories = '$2'
		listen_addresses = ''
		shared_preload_libraries = 'pg_cron'
		cron.database_name = 'postgres'
		cron.host = '$2'
		max_worker_processes = 24
		logging_collector = off
		log_min_messages = info
		etl_test.mysql_host = '$ETL_PULL_MYSQL_HOST'
		etl_test.mysql_port = '$ETL_PULL_MYSQL_PORT'
		etl_test.mysql_socket = '$ETL_PULL_MYSQL_SOCKET'
		etl_test.mysql_db = '$ETL_PULL_MYSQL_DB'
		etl_test.mysql_user = '$ETL_PULL_MYSQL_USER'
		etl_test.mysql_password = '$ETL_PULL_MYSQL_PASSWORD'
	EOF
}

# WORKDIR/env.sh: the exports, for a person to `source`.
etl_write_env() {
	local var
	{
		echo "# etl_pull test servers: source this file, then run psql (MariaDB as root:"
		echo "# mariadb --no-defaults --skip-ssl --socket=\$ETL_PULL_MYSQL_SOCKET -uroot etl_test)"
		for var in "${ETL_ENV_VARS[@]}"; do
			printf 'export %s=%q\n' "$var" "${!var}"
		done
		# shellcheck disable=SC2016 # $PATH is for env.sh to expand
		printf 'export PATH=%q:"$PATH"\n' "$ETL_PG_BIN"
	} >"$ETL_PULL_WORKDIR/env.sh"
}

# ---------------------------------------------------------------- stop

# Stop both servers of ETL_PULL_WORKDIR, and any test's own cluster left running in it
# (WORKDIR/clusters/*), and remove it (kept when ETL_PULL_KEEP=1).  Idempotent, quiet and never
# fails, so it is safe in an EXIT trap.
etl_stop_servers() {
	local - dir=${ETL_PULL_WORKDIR:-} data
	set +e
	[ -n "$dir" ] && [ -e "$dir/$ETL_MARKER" ] || return 0
	for data in "$dir"/clusters/*/pg; do
		[ -d "$data" ] && etl_stop_postgres "$data"
	done
	for data in "$dir"/mariadbs/*/mysql; do
		[ -d "$data" ] && etl_stop_mariadb "$(dirname "$data")"
	done
	etl_stop_postgres "$dir/pg"
	etl_stop_mariadb "$dir"
	if [ "${ETL_PULL_KEEP:-0}" = 1 ]; then
		etl_log "kept $dir"
	else
		rm -rf "$dir"
	fi
	return 0
}

# etl_stop_postgres PGDATA: stop the cluster in PGDATA if it runs (and is ours).  Never fails.
etl_stop_postgres() {
	local data=$1 pid
	[ -f "$data/postmaster.pid" ] || return 0
	pid=$(head -n 1 "$data/postmaster.pid")
	etl_pid_ours "$pid" "$data" || return 0
	(cd "$(dirname "$data")" && runuser -u postgres -- "$ETL_PG_BIN/pg_ctl" -D "$data" -m fast \
		-w -t 60 stop) >/dev/null 2>&1
	etl_wait_exit "$pid" "$data" 5 && return 0
	etl_log "PostgreSQL in $data did not stop; sending SIGQUIT to $pid"
	kill -QUIT "$pid" 2>/dev/null
	etl_wait_exit "$pid" "$data" 10 || kill -KILL "$pid" 2>/dev/null
}

etl_stop_mariadb() {
	local dir=$1 pid
	pid=$(cat "$dir/mysql.pid" 2>/dev/null)
	# Started but no pid file yet: find it by its own (unique) data directory.
	[ -n "$pid" ] || pid=$(pgrep -f -- "--datadir=$dir/mysql( |$)" | head -n 1)
	etl_pid_ours "$pid" "$dir/mysql" || return 0
	mariadb-admin --no-defaults --skip-ssl --socket="$dir/mysql.sock" -uroot shutdown >/dev/null 2>&1
	etl_wait_exit "$pid" "$dir/mysql" 60 && return 0
	etl_log "MariaDB in $dir did not stop; sending SIGTERM to $pid"
	kill -TERM "$pid" 2>/dev/null
	etl_wait_exit "$pid" "$dir/mysql" 30 || kill -KILL "$pid" 2>/dev/null
}

# ---------------------------------------------------------------- fixtures

# (Re)create etl_test.periomeasure with $1 rows.
etl_make_periomeasure() {
	[[ $1 =~ ^[0-9]+$ ]] || etl_die "periomeasure row count must be a number, not \"$1\""
	{
		echo "SET @rows = $1;"
		cat "$ETL_PULL_REPO/test/fixtures/periomeasure.sql"
	} | etl_mysql || etl_die "loading test/fixtures/periomeasure.sql failed"
}

# Every test/fixtures/*.sql into etl_test in name order; periomeasure with 10000 rows.
etl_load_fixtures() {
	local f LC_ALL=C
	for f in "$ETL_PULL_REPO"/test/fixtures/*.sql; do
		case ${f##*/} in
		periomeasure.sql) etl_make_periomeasure 10000 ;;
		*) etl_mysql <"$f" || etl_die "loading test/fixtures/${f##*/} failed" ;;
		esac
	done
}

# ---------------------------------------------------------------- the demo's objects

# etl_demo_mysql DB ROWS: the demo's MariaDB tables in database DB (created if missing):
# periomeasure with ROWS rows, and test/demo.sql's patient and claimproc.
etl_demo_mysql() {
	local db=$1
	[[ $2 =~ ^[0-9]+$ ]] || etl_die "periomeasure row count must be a number, not \"$2\""
	etl_mysql_db -e "CREATE DATABASE IF NOT EXISTS \`$db\`" ||
		etl_die "could not create MariaDB database $db"
	{
		echo "SET @rows = $2;"
		cat "$ETL_PULL_REPO/test/fixtures/periomeasure.sql" "$ETL_PULL_REPO/test/demo.sql"
	} | etl_mysql_db "$db" || etl_die "could not make the demo's tables in MariaDB database $db"
}

# etl_demo_setup MYSQL_DB [PSQL ARGS]: in PostgreSQL (PG*), what the demo sets up before its load
# and README's examples use: the extensions etl_pull and pg_cron, the server replica on MariaDB
# database MYSQL_DB, the caller's user mapping, and periomeasure registered.  Echoes the SQL.
etl_demo_setup() {
	local db=$1
	shift
	etl_psql -v port="$ETL_PULL_MYSQL_PORT" -v db="$db" -v user="$ETL_PULL_MYSQL_USER" \
		-v password="$ETL_PULL_MYSQL_PASSWORD" "$@" <<-'SQL'
		\set ECHO queries
		CREATE EXTENSION etl_pull;
		CREATE EXTENSION pg_cron;
		CREATE SERVER replica FOREIGN DATA WRAPPER etl_pull
		    OPTIONS (host '127.0.0.1', port :'port', dbname :'db');
		CREATE USER MAPPING FOR CURRENT_USER SERVER replica
		    OPTIONS (user :'user', password :'password');
		SELECT etl_pull.add_table('periomeasure', server => 'replica');
	SQL
}
