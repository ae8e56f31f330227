# Secrets live only in user mappings: after successful, failing (wrong
# password, connection refused, missing table, mid-stream error) and cancelled
# loads, with every log turned up, the password is nowhere: not in the server
# logs of either side, etl_pull's tables and views, pg_stat_activity, MariaDB's
# process list, or what the client was told.
#
# PostgreSQL's logging is turned up with ALTER SYSTEM in a cluster of the
# test's own; MariaDB's (shared) is put back at exit.
source "$(dirname "$0")/../tap.sh"
tap_own_cluster
tap_setup_db etl_tap_secrets

PW='Sup3r-S3cret-Pa55word'
WRONG="$PW-WRONG"
NEEDLE='Sup3r-S3cret' # a prefix of both: also catches a truncated leak
W=$ETL_PULL_WORKDIR
OUT=$(mktemp -d)
GENERAL_LOG=$W/mysql-general.log
read -r old_log_warnings old_log_output old_general_log_file < <(etl_mysql -N -e \
	'SELECT @@GLOBAL.log_warnings, @@GLOBAL.log_output, @@GLOBAL.general_log_file')

# MariaDB user, kept out of the binary log (its CREATE USER carries the password)
etl_mysql -e "SET SESSION sql_log_bin = 0;
	DROP USER IF EXISTS 'etl_secret_user'@'127.0.0.1', 'etl_secret_user'@'localhost';
	CREATE USER 'etl_secret_user'@'127.0.0.1' IDENTIFIED BY '$PW';
	CREATE USER 'etl_secret_user'@'localhost' IDENTIFIED BY '$PW';
	GRANT SELECT ON etl_test.* TO 'etl_secret_user'@'127.0.0.1';
	GRANT SELECT ON etl_test.* TO 'etl_secret_user'@'localhost';"

# 20,000 rows that MySQL streams over about two seconds
etl_mysql -e "
	DROP TABLE IF EXISTS secret_slow_src;
	CREATE TABLE secret_slow_src (id int NOT NULL PRIMARY KEY, v varchar(20) NOT NULL);
	INSERT INTO secret_slow_src SELECT seq, CONCAT('v', seq) FROM seq_1_to_20000;
	CREATE OR REPLACE VIEW secret_slow_view AS
	SELECT id, v, IF(id % 1000 = 0, SLEEP(0.1), 0) AS pause FROM secret_slow_src;"

# Mappings before the logs are turned up (log_statement would log the DDL itself)
etl_psql -q -d "$TAP_DB" -v port="$ETL_PULL_MYSQL_PORT" -v db="$ETL_PULL_MYSQL_DB" \
	-v pw="$PW" -v wrong="$WRONG" <<-'SQL' >/dev/null
	CREATE SERVER secret FOREIGN DATA WRAPPER etl_pull
	    OPTIONS (host '127.0.0.1', port :'port', dbname :'db');
	CREATE USER MAPPING FOR postgres SERVER secret
	    OPTIONS (user 'etl_secret_user', password :'pw');
	CREATE SERVER secret_wrong FOREIGN DATA WRAPPER etl_pull
	    OPTIONS (host '127.0.0.1', port :'port', dbname :'db');
	CREATE USER MAPPING FOR postgres SERVER secret_wrong
	    OPTIONS (user 'etl_secret_user', password :'wrong');
	CREATE SERVER secret_refused FOREIGN DATA WRAPPER etl_pull
	    OPTIONS (host '127.0.0.1', port '1', dbname :'db', connect_timeout '2');
	CREATE USER MAPPING FOR postgres SERVER secret_refused
	    OPTIONS (user 'etl_secret_user', password :'pw');
	SELECT etl_pull.add_table('s_ok', server => 'secret', source_table => 'iso_big');
	SELECT etl_pull.add_table('s_slow', server => 'secret', source_table => 'secret_slow_view');
	SELECT etl_pull.add_table('s_wrong', server => 'secret_wrong', source_table => 'iso_big');
	SELECT etl_pull.add_table('s_refused', server => 'secret_refused', source_table => 'iso_big');
	SELECT etl_pull.add_table('s_missing', server => 'secret', source_table => 'no_such_table');
	SELECT etl_pull.add_table('s_mid', server => 'secret', source_table => 'midstream_error');
	SQL

# Every log up: PostgreSQL at debug1 with every statement and connection,
# MariaDB's general query log and access-denied warnings.  MariaDB's are
# restored at exit; PostgreSQL's cluster is the test's own.
restore() {
	etl_mysql -e "SET GLOBAL general_log = OFF; SET GLOBAL log_warnings = $old_log_warnings;
		SET GLOBAL log_output = '$old_log_output';
		SET GLOBAL general_log_file = '$old_general_log_file';
		SET SESSION sql_log_bin = 0;
		DROP USER IF EXISTS 'etl_secret_user'@'127.0.0.1', 'etl_secret_user'@'localhost';"
	[ -n "${SAMPLER_PID:-}" ] && kill "$SAMPLER_PID" 2>/dev/null
	rm -rf "$OUT"
}
tap_on_exit restore
etl_psql -q -c "ALTER SYSTEM SET log_min_messages = 'debug1'" -c "ALTER SYSTEM SET log_statement = 'all'" \
	-c "ALTER SYSTEM SET log_error_verbosity = 'verbose'" -c "ALTER SYSTEM SET log_connections = on" \
	-c "ALTER SYSTEM SET log_disconnections = on" -c "SELECT pg_reload_conf()" >/dev/null
etl_mysql -e "SET GLOBAL log_output = 'FILE'; SET GLOBAL general_log_file = '$GENERAL_LOG';
	SET GLOBAL general_log = ON; SET GLOBAL log_warnings = 4;"
for _ in $(seq 50); do
	[ "$(etl_psql -Atc 'SHOW log_statement')" = all ] && break
	sleep 0.1
done
LOG_START=$(stat -c %s "$ETL_PULL_PGLOG")

# The client: every message down to debug5, in the session and its log lines;
# progress messages every 1000 rows, as notices.  Prints the result rows, then
# the messages (errors, notices, debug); appends both to client.out.
sq() {
	PGOPTIONS='-c client_min_messages=debug5 -c log_min_messages=debug5
	           -c etl_pull.progress_messages=notice -c etl_pull.progress_rows=1000' \
		"$ETL_PG_BIN/psql" -X -d "$TAP_DB" -At -v VERBOSITY=verbose -c "$1" \
		>"$OUT/last.out" 2>"$OUT/last.err"
	cat "$OUT/last.out" "$OUT/last.err" | tee -a "$OUT/client.out"
}

# A second session samples pg_stat_activity, etl_pull.progress and MariaDB's
# process list every 0.1 s while the loads run.
sampler() {
	while [ ! -e "$OUT/stop" ]; do
		etl_psql -Atc "SELECT pid || ' ' || coalesce(usename, '') || ' ' || coalesce(application_name, '')
		                      || ' ' || backend_type || ': ' || coalesce(query, '')
		                 FROM pg_stat_activity WHERE pid <> pg_backend_pid()" >>"$OUT/activity" 2>&1
		etl_psql -d "$TAP_DB" -Atc "SELECT p::text FROM etl_pull.progress p" >>"$OUT/progress" 2>&1
		etl_mysql -N -e "SELECT CONCAT_WS(' ', ID, USER, HOST, DB, COMMAND, STATE, INFO)
		                   FROM information_schema.PROCESSLIST" >>"$OUT/processlist" 2>&1
		sleep 0.1
	done
}
sampler &
SAMPLER_PID=$!

# ---- loads that succeed
for s in stream standard copy; do
	sq "SELECT etl_pull.set_table_option('s_ok', 'strategy', '$s')" >/dev/null
	is "$(sq "SELECT rows FROM etl_pull.load_table('s_ok')" | head -n 1)" "1000" \
		"a load with strategy $s succeeds"
done
is "$(sq "SELECT rows FROM etl_pull.load_table('s_slow')" | head -n 1)" "20000" \
	"a slow load (about 2 s) succeeds"

# ---- loads that fail
like "$(sq "SELECT * FROM etl_pull.load_table('s_wrong')")" "Access denied for user 'etl_secret_user'" \
	"a wrong password fails the load"
like "$(sq "SELECT * FROM etl_pull.load_table('s_refused')")" "could not connect to MySQL server \"secret_refused\"" \
	"a refused connection fails the load"
like "$(sq "SELECT * FROM etl_pull.load_table('s_missing')")" "no_such_table" \
	"a missing source table fails the load"
like "$(sq "SELECT * FROM etl_pull.load_table('s_mid')")" "MySQL error 1242" \
	"an error mid-stream fails the load"
like "$(sq "SET statement_timeout = '700ms'; SELECT * FROM etl_pull.load_table('s_slow')")" \
	"canceling statement due to statement timeout" "a slow load is cancelled by statement_timeout"
is "$(q "SELECT count(*) FROM etl_pull.runs WHERE status = 'failed'")" "5" \
	"the 5 failed runs are recorded"

touch "$OUT/stop"
wait "$SAMPLER_PID"
SAMPLER_PID=
sleep 0.2 # the failed-run recorder's log lines

# ---- the evidence was gathered
like "$(cat "$OUT/activity")" "load_table\('s_slow'\)" "pg_stat_activity was sampled during the slow load"
like "$(cat "$OUT/progress")" "streaming" "etl_pull.progress was sampled during the slow load"
like "$(cat "$OUT/processlist")" "etl_secret_user.*secret_slow_view" \
	"MariaDB's process list was sampled during the slow load"
pglog=$(tail -c +"$((LOG_START + 1))" "$ETL_PULL_PGLOG")
like "$pglog" "DEBUG:" "the PostgreSQL log has debug messages"
like "$pglog" "statement: SELECT rows FROM etl_pull.load_table\('s_ok'\)" "the PostgreSQL log has every statement"
like "$(cat "$GENERAL_LOG" 2>&1)" "etl_secret_user" "MariaDB's general log has the loads' connections"
like "$(cat "$OUT/client.out")" "DEBUG:" "the client got debug messages"
like "$(cat "$W/mysql.log")" "Access denied for user 'etl_secret_user'" \
	"MariaDB's error log has the failed logins"
like "$(q "SELECT array_to_string(umoptions, ',') FROM pg_user_mappings WHERE srvname = 'secret_wrong'")" \
	"$NEEDLE" "control: the search finds the password where it lives (the user mapping)"

# ---- the password is nowhere
# not_found PLACE FILE...: the password (or the wrong one) is in none of the files
not_found() {
	local place=$1 hits
	shift
	hits=$(cat "$@" 2>/dev/null | grep -aF -- "$NEEDLE" | head -n 3)
	is "$hits" "" "the password is not in $place"
}
not_found "the PostgreSQL server log" "$ETL_PULL_PGLOG"
not_found "the MariaDB error log" "$W/mysql.log" "$W/mysql.out"
not_found "the MariaDB general query log" "$GENERAL_LOG"
not_found "the MariaDB binary log" "$W"/binlog.[0-9]*
q "SELECT r::text FROM etl_pull.runs r" >"$OUT/runs"
not_found "etl_pull.runs" "$OUT/runs"
not_found "etl_pull.progress (sampled during the loads)" "$OUT/progress"
not_found "pg_stat_activity (sampled during the loads)" "$OUT/activity"
not_found "MariaDB's process list (sampled during the loads)" "$OUT/processlist"
not_found "the client's results, errors, notices and debug messages" "$OUT/client.out"
q "SELECT t::text FROM etl_pull.tables t; SELECT w::text FROM etl_pull.watermarks w;
   SELECT c::text FROM etl_pull.run_comparison c; SELECT etl_pull.performance_report()" >"$OUT/etl_pull_schema"
not_found "etl_pull's other tables, views and report" "$OUT/etl_pull_schema"

done_testing
