# Who sees a load in etl_pull.progress (issue 29, item 6): a role sees its
# own loads, from any of its sessions, as pg_stat_activity shows it its own
# backends: the loads of its sessions and of the load_all workers they
# start; another role's only with the privileges of pg_read_all_stats (or
# as a superuser).  Roles are cluster-wide: the test takes a cluster of
# its own.
source "$(dirname "$0")/../tap.sh"
tap_own_cluster
tap_setup_db etl_tap_progress_roles

# 20,000 rows that MySQL streams over about two seconds
etl_mysql -e "
	DROP TABLE IF EXISTS slow_roles_src;
	CREATE TABLE slow_roles_src (id int NOT NULL PRIMARY KEY, v varchar(20) NOT NULL);
	INSERT INTO slow_roles_src SELECT seq, CONCAT('v', seq) FROM seq_1_to_20000;
	CREATE OR REPLACE VIEW slow_roles_view AS
	SELECT id, v, IF(id % 1000 = 0, SLEEP(0.1), 0) AS pause FROM slow_roles_src;"
PGOPTIONS="-c client_min_messages=warning" etl_psql -q -d "$TAP_DB" -v user="$ETL_PULL_MYSQL_USER" \
	-v password="$ETL_PULL_MYSQL_PASSWORD" <<-'SQL' >/dev/null
	CREATE ROLE pr_loader LOGIN;
	CREATE ROLE pr_other LOGIN;
	CREATE ROLE pr_stats LOGIN IN ROLE pg_read_all_stats;
	GRANT USAGE ON FOREIGN SERVER replica TO pr_loader;
	CREATE USER MAPPING FOR pr_loader SERVER replica OPTIONS (user :'user', password :'password');
	GRANT CREATE ON SCHEMA public TO pr_loader;
	SELECT etl_pull.add_table('slow_roles', server => 'replica', source_table => 'slow_roles_view',
	                          target_table => 'public.slow_roles_target');
	SQL

as() {
	PGOPTIONS='-c client_min_messages=warning' etl_psql -d "$TAP_DB" -U "$1" -Atq -c "$2" 2>&1
}
SEEN="SELECT count(*) || ' ' || coalesce(string_agg(phase, ','), '-') FROM etl_pull.progress"

# start_load ROLE SQL: run SQL as ROLE in the background until the load
# shows in the progress slots (seen by a superuser)
start_load() {
	as "$1" "$2" >/dev/null &
	LOAD_PID=$!
	for _ in $(seq 100); do
		[ "$(q "SELECT count(*) FROM etl_pull.progress")" = 1 ] && return 0
		sleep 0.05
	done
	return 1
}

for how in "load_table:SELECT rows FROM etl_pull.load_table('slow_roles')" \
	"load_all:SELECT status FROM etl_pull.load_all()"; do
	start_load pr_loader "${how#*:}"
	is "$(as pr_loader "$SEEN")" "1 streaming" "${how%%:*}: the loading role sees its load from another session"
	is "$(as pr_other "$SEEN")" "0 -" "${how%%:*}: another role does not"
	is "$(as pr_stats "$SEEN")" "1 streaming" "${how%%:*}: a role with pg_read_all_stats does"
	wait "$LOAD_PID"
done
is "$(q "SELECT string_agg(status || ' ' || rows || ' ' || run_as, ',' ORDER BY run_id) FROM etl_pull.runs")" \
	"succeeded 20000 pr_loader,succeeded 20000 pr_loader" "both loads ran as pr_loader"

done_testing
