# A subtransaction that aborts while a table streams must not cut the MySQL connection the load
# reads from, least of all the one a load_all worker keeps across its tables (1.3 closed it,
# and the next fetch crashed the backend: every session of the cluster was lost).  Each way a
# load aborts subtransactions of its own, one table each, loaded by load_all (the worker's kept
# connection, one worker for all the tables, with and without consistent) and by load_table:
#   a_dom   on_error = reject, a bad value for a domain column (binary protocol)
#   b_enum  on_error = reject, a bad value for an enum column (text protocol)
#   c_trg   a trigger whose PL/pgSQL block catches an error on every row (copy)
#   d_nest  a trigger that runs a failing nested load_table inside BEGIN ... EXCEPTION (copy)
# Each must load the right rows with the right status, and no backend may crash.
source "$(dirname "$0")/../tap.sh"
tap_own_cluster # a crash must not take the shared cluster's sessions with it
tap_setup_db etl_tap_subxact_abort

ROWS=5000
etl_mysql -e "
	DROP DATABASE IF EXISTS etl_sx;
	CREATE DATABASE etl_sx;
	CREATE TABLE etl_sx.dom (id int NOT NULL PRIMARY KEY, n int NOT NULL);
	INSERT INTO etl_sx.dom SELECT seq, IF(seq % 1000 = 7, -seq, seq) FROM seq_1_to_$ROWS;
	CREATE TABLE etl_sx.enm (id int NOT NULL PRIMARY KEY, color varchar(10) NOT NULL);
	INSERT INTO etl_sx.enm SELECT seq, IF(seq % 1000 = 13, 'purple', ELT(1 + seq % 3, 'red', 'green', 'blue'))
	  FROM seq_1_to_$ROWS;
	CREATE TABLE etl_sx.plain (id int NOT NULL PRIMARY KEY, v varchar(20) NOT NULL);
	INSERT INTO etl_sx.plain SELECT seq, CONCAT('v', seq) FROM seq_1_to_$ROWS;
	CREATE TABLE etl_sx.too_big (id int NOT NULL PRIMARY KEY, n int NOT NULL);
	INSERT INTO etl_sx.too_big SELECT seq, IF(seq = 900, 100000, seq) FROM seq_1_to_1000;"
cleanup() { etl_mysql -e "DROP DATABASE IF EXISTS etl_sx" 2>/dev/null; }
tap_on_exit cleanup

q "CREATE DOMAIN posint AS integer CHECK (VALUE > 0);
   CREATE TABLE a_dom (id integer PRIMARY KEY, n posint);
   SELECT etl_pull.add_table('a_dom', server => 'replica', source_table => 'etl_sx.dom');
   SELECT etl_pull.set_table_option('a_dom', 'on_error', 'reject');
   SELECT etl_pull.set_table_option('a_dom', 'strategy', 'stream');

   CREATE TYPE color AS ENUM ('red', 'green', 'blue');
   CREATE TABLE b_enum (id integer PRIMARY KEY, color color);
   SELECT etl_pull.add_table('b_enum', server => 'replica', source_table => 'etl_sx.enm');
   SELECT etl_pull.set_table_option('b_enum', 'on_error', 'reject');
   SELECT etl_pull.set_table_option('b_enum', 'protocol', 'text');
   SELECT etl_pull.set_table_option('b_enum', 'strategy', 'standard');

   CREATE TABLE c_trg (id integer PRIMARY KEY, v text, caught boolean);
   CREATE FUNCTION c_catch() RETURNS trigger LANGUAGE plpgsql AS \$\$
   BEGIN
       BEGIN
           PERFORM 1 / (NEW.id - NEW.id);
       EXCEPTION WHEN division_by_zero THEN
           NEW.caught := true;
       END;
       RETURN NEW;
   END \$\$;
   CREATE TRIGGER c_catch BEFORE INSERT ON c_trg FOR EACH ROW EXECUTE FUNCTION c_catch();
   SELECT etl_pull.add_table('c_trg', server => 'replica', source_table => 'etl_sx.plain');
   SELECT etl_pull.set_table_option('c_trg', 'strategy', 'copy');

   CREATE TABLE too_big (id integer PRIMARY KEY, n smallint);
   SELECT etl_pull.add_table('too_big', server => 'replica', source_table => 'etl_sx.too_big');
   CREATE TABLE d_nest (id integer PRIMARY KEY, v text, nested text);
   CREATE FUNCTION d_nested_load() RETURNS trigger LANGUAGE plpgsql AS \$\$
   BEGIN
       IF NEW.id IN (10, 2500) THEN
           BEGIN
               PERFORM etl_pull.load_table('too_big');
           EXCEPTION WHEN numeric_value_out_of_range THEN
               NEW.nested := 'failed';
           END;
       END IF;
       RETURN NEW;
   END \$\$;
   CREATE TRIGGER d_nested_load BEFORE INSERT ON d_nest FOR EACH ROW EXECUTE FUNCTION d_nested_load();
   SELECT etl_pull.add_table('d_nest', server => 'replica', source_table => 'etl_sx.plain');
   SELECT etl_pull.set_table_option('d_nest', 'strategy', 'copy');

   SELECT etl_pull.set_table_option(t, 'load_group', 'sx')
     FROM unnest(ARRAY['a_dom', 'b_enum', 'c_trg', 'd_nest']) t" >/dev/null

# The cluster as it is now: a crash anywhere restarts the checkpointer (the postmaster stays)
cluster_state() {
	q "SELECT pg_postmaster_start_time() || ' ' || backend_start FROM pg_stat_activity
	    WHERE backend_type = 'checkpointer'"
}
STATE=$(cluster_state)
crashes() { grep -ac 'terminated by signal' "$ETL_PULL_PGLOG"; }

# What each table holds: rows, and the rows each variant marks
contents() {
	q "SELECT (SELECT count(*) FROM a_dom) || ' ' || (SELECT count(*) FROM b_enum) || ' '
	       || (SELECT count(*) FILTER (WHERE caught) || '/' || count(*) FROM c_trg) || ' '
	       || (SELECT string_agg(id || ':' || nested, ',' ORDER BY id) FILTER (WHERE nested IS NOT NULL)
	           || '/' || count(*) FROM d_nest)"
}
EXPECTED_CONTENTS="4995 4995 $ROWS/$ROWS 10:failed,2500:failed/$ROWS"
# the runs since run id $1: table, status and rejected rows, by run id (a nested load's run
# comes after the run of the load that started it); with $2 = by_table, by table and run id
# (load_all takes the tables biggest first, by their sizes at the source)
runs_since() {
	local order=run_id
	[ "${2:-}" = by_table ] && order="table_name, run_id"
	q "SELECT string_agg(table_name || ' ' || status || ' ' || rejected_rows, ', ' ORDER BY $order)
	     FROM etl_pull.runs WHERE run_id > $1"
}
last_run() { q "SELECT coalesce(max(run_id), 0) FROM etl_pull.runs"; }
EXPECTED_RUNS="a_dom succeeded 5, b_enum succeeded 5, c_trg succeeded 0, d_nest succeeded 0, too_big failed 0, too_big failed 0"

reset_targets() {
	q "TRUNCATE a_dom, b_enum, c_trg, d_nest" >/dev/null
}

# ---- load_all, one worker: its kept connection reads every table in turn
reset_targets
before=$(last_run)
is "$(q "SELECT string_agg(table_name || ' ' || status || ' ' || rows, ', ' ORDER BY table_name)
           FROM etl_pull.load_all('sx', 1)")" \
	"a_dom succeeded $ROWS, b_enum succeeded $ROWS, c_trg succeeded $ROWS, d_nest succeeded $ROWS" \
	"load_all: every table loads while its subtransactions abort"
is "$(contents)" "$EXPECTED_CONTENTS" "load_all: each target holds the right rows"
is "$(runs_since "$before" by_table)" "$EXPECTED_RUNS" \
	"load_all: the runs, the rejected rows and the nested loads' failures are recorded"
is "$(crashes)" "0" "load_all: no backend crashed"

# ---- the same with consistent: the kept connection holds the group's snapshot
reset_targets
before=$(last_run)
is "$(q "SELECT string_agg(table_name || ' ' || status || ' ' || rows, ', ' ORDER BY table_name)
           FROM etl_pull.load_all('sx', 1, consistent => true)")" \
	"a_dom succeeded $ROWS, b_enum succeeded $ROWS, c_trg succeeded $ROWS, d_nest succeeded $ROWS" \
	"load_all with consistent: every table loads from the snapshot"
is "$(contents)" "$EXPECTED_CONTENTS" "load_all with consistent: each target holds the right rows"
is "$(runs_since "$before" by_table)" "$EXPECTED_RUNS" "load_all with consistent: the runs are recorded"
is "$(crashes)" "0" "load_all with consistent: no backend crashed"

# ---- two workers, each table on whichever is free
reset_targets
is "$(q "SELECT string_agg(table_name || ' ' || status, ', ' ORDER BY table_name)
           FROM etl_pull.load_all('sx', 2)")" \
	"a_dom succeeded, b_enum succeeded, c_trg succeeded, d_nest succeeded" \
	"load_all with two workers: every table loads"
is "$(contents)" "$EXPECTED_CONTENTS" "load_all with two workers: each target holds the right rows"

# ---- load_table, each on a connection of its own
reset_targets
before=$(last_run)
is "$(q "SELECT string_agg(l.status || ' ' || l.rows, ', ' ORDER BY t)
           FROM unnest(ARRAY['a_dom', 'b_enum', 'c_trg', 'd_nest']) t,
                LATERAL etl_pull.load_table(t) l")" \
	"succeeded $ROWS, succeeded $ROWS, succeeded $ROWS, succeeded $ROWS" \
	"load_table: every table loads while its subtransactions abort"
is "$(contents)" "$EXPECTED_CONTENTS" "load_table: each target holds the right rows"
is "$(runs_since "$before")" "$EXPECTED_RUNS" "load_table: the runs are recorded"

is "$(crashes)" "0" "the server log shows no backend terminated by a signal"
is "$(cluster_state)" "$STATE" "the cluster never restarted"

done_testing
