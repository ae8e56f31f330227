# load_all's workers never wait for each other's unrelated tables: a small
# table whose index wants the name a big table's uncommitted index has taken
# (MySQL's index names are per table, PostgreSQL's per schema) commits while
# the big table's load is still open, under another name, and no worker
# waits on a lock of another.  Two gates (advisory locks held by background
# sessions) stop the big table's load after its indexes are built, before
# its commit (a trigger on its run row), and hold back the second worker's
# first table (a trigger on its target) until then.
source "$(dirname "$0")/../tap.sh"
tap_setup_db etl_tap_overlap

etl_mysql -e "
	DROP DATABASE IF EXISTS etl_ovl;
	CREATE DATABASE etl_ovl;
	USE etl_ovl;
	CREATE TABLE big (id int NOT NULL PRIMARY KEY, PatNum int NOT NULL, ProvNum int,
	                  DateEntry datetime, Note varchar(40),
	                  KEY PatNum (PatNum), KEY ProvNum (ProvNum), KEY DateEntry (DateEntry),
	                  KEY PatDate (PatNum, DateEntry)) ENGINE = MyISAM;
	INSERT INTO big SELECT seq, seq % 7919, seq % 31, '2024-01-01' + INTERVAL seq MINUTE, MD5(seq)
	  FROM seq_1_to_300000;
	CREATE TABLE hold (id int NOT NULL PRIMARY KEY, v varchar(40)) ENGINE = MyISAM;
	INSERT INTO hold SELECT seq, MD5(seq) FROM seq_1_to_3000;
	CREATE TABLE small (id int NOT NULL PRIMARY KEY, PatNum int NOT NULL, KEY PatNum (PatNum))
	  ENGINE = MyISAM;
	INSERT INTO small SELECT seq, seq * 3 FROM seq_1_to_21;"
cleanup() { etl_mysql -e "DROP DATABASE IF EXISTS etl_ovl" 2>/dev/null; }
tap_on_exit cleanup

# a_big, b_hold, c_small: the order of the names and of the sizes alike (load_all takes the
# biggest first)
q "SELECT etl_pull.add_table('a_big', server => 'replica', source_table => 'etl_ovl.big');
   SELECT etl_pull.add_table('b_hold', server => 'replica', source_table => 'etl_ovl.hold');
   SELECT etl_pull.add_table('c_small', server => 'replica', source_table => 'etl_ovl.small');
   SELECT etl_pull.set_table_option(t, 'load_group', 'ovl'), etl_pull.set_table_option(t, 'indexes', 'all')
     FROM unnest(ARRAY['a_big', 'b_hold', 'c_small']) t;
   CREATE TABLE b_hold (id int PRIMARY KEY, v text);
   CREATE FUNCTION etl_gate() RETURNS trigger LANGUAGE plpgsql AS \$\$
   BEGIN PERFORM pg_catalog.pg_advisory_lock_shared(TG_ARGV[0]::bigint);
         PERFORM pg_catalog.pg_advisory_unlock_shared(TG_ARGV[0]::bigint);
         RETURN NEW; END \$\$;
   CREATE TRIGGER gate BEFORE INSERT ON b_hold FOR EACH ROW EXECUTE FUNCTION etl_gate(10302);
   CREATE TRIGGER gate AFTER INSERT ON etl_pull.runs FOR EACH ROW
     WHEN (NEW.table_name = 'a_big') EXECUTE FUNCTION public.etl_gate(10301)" >/dev/null

# gate_close KEY: a background session holds advisory lock KEY
gate_close() {
	PGAPPNAME=etl_gate_$1 etl_psql -d "$TAP_DB" -Atq -c "SELECT pg_advisory_lock($1), pg_sleep(600)" \
		>/dev/null 2>&1 &
	until [ "$(q "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = $1 AND granted")" = 1 ]; do
		sleep 0.05
	done
}
gate_open() {
	q "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'etl_gate_$1'" >/dev/null
}
gates_open() { gate_open 10301; gate_open 10302; }
tap_on_exit gates_open
# how many sessions wait on gate KEY
waiting() {
	q "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = $1 AND NOT granted"
}
# the locks a load worker waits for, but the gates'
worker_waits() {
	q "SELECT coalesce(string_agg(l.locktype || ' ' || l.mode || coalesce(' ' || l.classid::regclass::text, ''), '; '), '')
	     FROM pg_locks l JOIN pg_stat_activity a USING (pid)
	    WHERE NOT l.granted AND a.backend_type = 'etl_pull load worker'
	      AND NOT (l.locktype = 'advisory' AND l.objid IN (10301, 10302))"
}

gate_close 10301
gate_close 10302
q "SELECT string_agg(table_name || ' ' || status, ', ' ORDER BY table_name)
     FROM etl_pull.load_all('ovl', 2)" >"$TESTDIR/overlap.out" 2>&1 &
LOAD=$!
# one worker stops in a_big's commit (its indexes built), the other in b_hold
for ((i = 0; i < 1200; i++)); do
	[ "$(waiting 10301)" = 1 ] && [ "$(waiting 10302)" = 1 ] && break
	sleep 0.1
done
is "$(waiting 10301) $(waiting 10302)" "1 1" "a_big waits before its commit, its indexes built; b_hold waits too"
is "$(q "SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'SELECT string_agg(table_name%' AND state = 'active'")" \
	"1" "load_all is running"

# b_hold goes on, then c_small: it must commit while a_big's load is still open
gate_open 10302
waits=
for ((i = 0; i < 600; i++)); do
	w=$(worker_waits)
	[ -n "$w" ] && waits="$w"
	[ "$(q "SELECT count(*) FROM c_small" 2>/dev/null)" = 21 ] && break
	sleep 0.1
done
is "$(q "SELECT count(*) FROM c_small" 2>&1)" "21" "c_small's rows are visible from another session"
is "$(q "SELECT to_regclass('a_big') IS NULL")" "t" "while a_big's load has not committed"
is "$(waiting 10301)" "1" "(a_big still waits at its gate)"
is "$waits" "" "no load worker waited on a lock of the other's"
is "$(q "SELECT string_agg(indexrelid::regclass::text, ' ' ORDER BY 1) FROM pg_index
          WHERE indrelid = 'c_small'::regclass AND NOT indisprimary")" "c_small_patnum" \
	"c_small's index takes the derived name: a_big's uncommitted index holds \"patnum\""

gate_open 10301
wait "$LOAD"
is "$(cat "$TESTDIR/overlap.out")" "a_big succeeded, b_hold succeeded, c_small succeeded" \
	"every table of the load_all succeeds"
is "$(q "SELECT string_agg(indexrelid::regclass::text, ' ' ORDER BY 1) FROM pg_index
          WHERE indrelid = 'a_big'::regclass AND NOT indisprimary")" "dateentry patdate patnum provnum" \
	"a_big has its four indexes"
is "$(q "SELECT count(*) FROM a_big")" "300000" "a_big has every row"
is "$(q "SELECT count(*) FROM a_big WHERE PatNum = 17")" \
	"$(etl_mysql -N -e "SELECT COUNT(*) FROM etl_ovl.big WHERE PatNum = 17")" "a_big's index answers as MySQL does"

done_testing
