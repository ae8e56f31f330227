# Elevated code never resolves a name through someone else's search_path.
#
# A role with no privileges, owning only a schema of its own, defines the
# names etl_pull's bookkeeping uses (nextval, clock_timestamp, now,
# make_interval, the operator -) as functions that run a shell command, and
# puts its schema first in search_path; a database owner does the same to
# the whole database with ALTER DATABASE ... SET search_path, which reaches
# the failed-run recorder worker.  Each trap is shown armed (an unqualified
# call springs it), then every load must leave it unsprung: the files the
# shell commands would write are absent.  The extension must also refuse a
# pre-existing schema etl_pull or role etl_pull_admin it did not create.
#
# The test creates roles and changes etl_pull_admin's comment, which every
# CREATE EXTENSION etl_pull checks: cluster-wide state, so its own cluster.
source "$(dirname "$0")/../tap.sh"
tap_own_cluster
tap_setup_db etl_tap_search_path
PGDATA_DIR=$ETL_PULL_PGDATA

# psql as postgres in database $1 with search_path "evil, pg_catalog"
evil_q() {
	PGOPTIONS='-c client_min_messages=warning -c search_path=evil,pg_catalog' \
		etl_psql -d "$1" -Atq -c "$2" 2>&1
}
sprung() {
	local f found=
	for f in "$PGDATA_DIR"/pwned_*; do
		[ -e "$f" ] && found="$found ${f##*/}"
	done
	echo "${found# }"
}

# the traps: each writes pwned_<name> in the data directory when it runs
TRAPS=$(cat <<-'SQL'
	CREATE FUNCTION evil.spring(what text) RETURNS void LANGUAGE plpgsql AS $f$
	BEGIN
	    EXECUTE format('COPY (SELECT 1) TO PROGRAM %L', 'touch pwned_' || what);
	END $f$;
	CREATE FUNCTION evil.nextval(text) RETURNS bigint LANGUAGE plpgsql AS
	    $f$BEGIN PERFORM evil.spring('nextval'); RETURN 1; END$f$;
	CREATE FUNCTION evil.nextval(regclass) RETURNS bigint LANGUAGE plpgsql AS
	    $f$BEGIN PERFORM evil.spring('nextval'); RETURN 1; END$f$;
	CREATE FUNCTION evil.clock_timestamp() RETURNS timestamptz LANGUAGE plpgsql AS
	    $f$BEGIN PERFORM evil.spring('clock_timestamp'); RETURN '2000-01-01'; END$f$;
	CREATE FUNCTION evil.now() RETURNS timestamptz LANGUAGE plpgsql AS
	    $f$BEGIN PERFORM evil.spring('now'); RETURN '2000-01-01'; END$f$;
	CREATE FUNCTION evil.make_interval(secs double precision) RETURNS interval LANGUAGE plpgsql AS
	    $f$BEGIN PERFORM evil.spring('make_interval'); RETURN '1s'; END$f$;
	CREATE FUNCTION evil.minus(timestamptz, interval) RETURNS timestamptz LANGUAGE plpgsql AS
	    $f$BEGIN PERFORM evil.spring('minus'); RETURN $1; END$f$;
	CREATE OPERATOR evil.- (LEFTARG = timestamptz, RIGHTARG = interval, FUNCTION = evil.minus);
	CREATE FUNCTION evil.count() RETURNS bigint LANGUAGE plpgsql AS
	    $f$BEGIN PERFORM evil.spring('count'); RETURN 1; END$f$;
	CREATE FUNCTION evil.sum(bigint) RETURNS bigint LANGUAGE plpgsql AS
	    $f$BEGIN PERFORM evil.spring('sum'); RETURN 1; END$f$;
	SQL
)

etl_mysql -e "
	DROP TABLE IF EXISTS sp_src;
	CREATE TABLE sp_src (id bigint NOT NULL PRIMARY KEY, val int NOT NULL,
	                     updated datetime(6) NOT NULL);
	INSERT INTO sp_src SELECT seq, seq, '2024-01-01' + INTERVAL seq SECOND FROM seq_1_to_1000;"

q "CREATE ROLE regress_evil;
   CREATE SCHEMA evil AUTHORIZATION regress_evil;
   SELECT etl_pull.add_table('sp_full', server => 'replica', source_table => 'sp_src');
   SELECT etl_pull.add_table('sp_inc', server => 'replica', source_table => 'sp_src');
   SELECT etl_pull.set_table_option('sp_inc', 'extraction', 'incremental');
   SELECT etl_pull.set_table_option('sp_inc', 'incremental_columns', 'updated');
   SELECT etl_pull.set_table_option('sp_inc', 'delete_missing', 'true');
   SELECT etl_pull.add_table('sp_missing', server => 'replica', source_table => 'no_such_table');" >/dev/null
etl_psql -q -d etl_tap_search_path -c "SET ROLE regress_evil" -c "$TRAPS" >/dev/null 2>&1 ||
	echo "# could not create the traps"
rm -f "$PGDATA_DIR"/pwned_*

# the trap is armed: an unqualified call resolves to it
evil_q etl_tap_search_path "SELECT clock_timestamp()" >/dev/null
is "$(sprung)" "pwned_clock_timestamp" "control: an unqualified clock_timestamp() runs the trap"
rm -f "$PGDATA_DIR"/pwned_*

# 1. a role with no privileges calls load_table with its schema first
out=$(PGOPTIONS='-c search_path=evil,pg_catalog' etl_psql -d etl_tap_search_path -Atq \
	-c "SET ROLE regress_evil" -c "SELECT status FROM etl_pull.load_table('sp_full')" 2>&1)
like "$out" 'permission denied for foreign server replica' \
	"the unprivileged role's load fails on the server's USAGE"
is "$(sprung)" "" "... and none of its functions ran as the extension's owner"
is "$(q "SELECT count(*) FROM etl_pull.runs WHERE table_name = 'sp_full' AND run_as = 'regress_evil' AND status = 'failed'")" \
	"1" "... and its failed run is recorded"

# 2. a superuser (a pg_cron job, say) loads with the same search_path:
# full, then incremental with delete_missing (its reconcile SQL), then a failure
is "$(evil_q etl_tap_search_path "SELECT status || ' ' || rows FROM etl_pull.load_table('sp_full')")" \
	"succeeded 1000" "a superuser's full load with the hostile search_path succeeds"
is "$(evil_q etl_tap_search_path "SELECT status || ' ' || rows FROM etl_pull.load_table('sp_inc')")" \
	"succeeded 1000" "... and its first incremental run"
etl_mysql -e "DELETE FROM sp_src WHERE id = 500;
	UPDATE sp_src SET val = -1, updated = '2025-01-01' WHERE id = 7;"
is "$(evil_q etl_tap_search_path "SELECT status || ' ' || merged_rows || ' ' || deleted_rows FROM etl_pull.load_table('sp_inc')")" \
	"succeeded 1 1" "... and an incremental run that merges and deletes"
like "$(evil_q etl_tap_search_path "SELECT status FROM etl_pull.load_table('sp_missing')")" \
	"doesn't exist" "... and a failing load"
is "$(sprung)" "" "no trap ran in any of them"
is "$(q "SELECT count(*) FROM etl_pull.runs WHERE table_name IN ('sp_full', 'sp_inc', 'sp_missing') AND run_as = 'postgres'")" \
	"4" "all four runs are recorded"

# 3. a database owner sets the database's search_path: the recorder worker
# (a new session) would pick it up
q "CREATE ROLE regress_evil_owner" >/dev/null
q "CREATE DATABASE etl_tap_evil_db OWNER regress_evil_owner" >/dev/null
etl_psql -q -d etl_tap_evil_db -v port="$ETL_PULL_MYSQL_PORT" -v db="$ETL_PULL_MYSQL_DB" \
	-v user="$ETL_PULL_MYSQL_USER" -v password="$ETL_PULL_MYSQL_PASSWORD" <<-'SQL' >/dev/null 2>&1
	SET client_min_messages = warning;
	CREATE EXTENSION etl_pull;
	CREATE SERVER replica FOREIGN DATA WRAPPER etl_pull
	    OPTIONS (host '127.0.0.1', port :'port', dbname :'db');
	CREATE USER MAPPING FOR postgres SERVER replica
	    OPTIONS (user :'user', password :'password');
	SELECT etl_pull.add_table('sp_missing', server => 'replica', source_table => 'no_such_table');
	SET ROLE regress_evil_owner;
	CREATE SCHEMA evil;
	ALTER DATABASE etl_tap_evil_db SET search_path = evil, pg_catalog;
SQL
etl_psql -q -d etl_tap_evil_db -c "SET ROLE regress_evil_owner" -c "$TRAPS" >/dev/null 2>&1 ||
	echo "# could not create the traps in etl_tap_evil_db"
rm -f "$PGDATA_DIR"/pwned_*
PGOPTIONS='-c client_min_messages=warning' etl_psql -d etl_tap_evil_db -Atq -c "SELECT now()" >/dev/null 2>&1
is "$(sprung)" "pwned_now" "control: a new session in the database resolves now() to the trap"
rm -f "$PGDATA_DIR"/pwned_*
like "$(PGOPTIONS='-c client_min_messages=warning' etl_psql -d etl_tap_evil_db -Atq \
	-c "SELECT status FROM etl_pull.load_table('sp_missing')" 2>&1)" "doesn't exist" \
	"a failing load in the database owner's database"
is "$(sprung)" "" "... ran no trap in the recorder worker"
is "$(etl_psql -d etl_tap_evil_db -Atq -c "SELECT pg_catalog.count(*) FROM etl_pull.runs WHERE status = 'failed'")" \
	"1" "... which recorded the failed run"

# 4. the extension does not adopt a schema or a role it did not create
q "CREATE ROLE regress_squatter" >/dev/null
q "CREATE DATABASE etl_tap_adopt" >/dev/null
etl_psql -q -d etl_tap_adopt -c "CREATE SCHEMA etl_pull AUTHORIZATION regress_squatter" >/dev/null
like "$(etl_psql -d etl_tap_adopt -Atq -c "CREATE EXTENSION etl_pull" 2>&1)" \
	'schema "etl_pull" already exists' "CREATE EXTENSION refuses a schema etl_pull someone else made"
etl_psql -q -d etl_tap_adopt -c "DROP SCHEMA etl_pull" >/dev/null
comment=$(q "SELECT shobj_description(oid, 'pg_authid') FROM pg_roles WHERE rolname = 'etl_pull_admin'")
restore_comment() { q "COMMENT ON ROLE etl_pull_admin IS '$comment'" >/dev/null; }
q "COMMENT ON ROLE etl_pull_admin IS NULL" >/dev/null
like "$(etl_psql -d etl_tap_adopt -Atq -c "CREATE EXTENSION etl_pull" 2>&1)" \
	'role "etl_pull_admin" already exists and was not created by etl_pull' \
	"CREATE EXTENSION refuses a role etl_pull_admin it did not create"
restore_comment
is "$(etl_psql -d etl_tap_adopt -Atq -c "CREATE EXTENSION etl_pull" -c "SELECT extversion FROM pg_extension WHERE extname = 'etl_pull'" 2>&1)" \
	"$(sed -n "s/^default_version = '\(.*\)'$/\1/p" "$ETL_PULL_REPO/etl_pull.control")" \
	"... and installs where the schema is its own and the role is its"

q "DROP DATABASE etl_tap_adopt" >/dev/null
q "DROP DATABASE etl_tap_evil_db" >/dev/null
q "DROP SCHEMA evil CASCADE; DROP ROLE regress_evil; DROP ROLE regress_evil_owner; DROP ROLE regress_squatter" >/dev/null
rm -f "$PGDATA_DIR"/pwned_*
done_testing
