# load_all(group, max_parallel, consistent): with consistent every table of
# the group is read from one MySQL snapshot, and every run records its
# binary log position; without it each table has a snapshot of its own.
# A worker keeps its MySQL connection across its tables, and no table's
# mysql_settings reach the next.  Without the privileges for the lock or
# the position: a WARNING, and the load goes on.
source "$(dirname "$0")/../tap.sh"
tap_setup_db etl_tap_consistent

# Two tables of accounts whose balances always add up to 40,000,000; a
# MyISAM table; a view that shows the session it is read in
etl_mysql -e "
	DROP DATABASE IF EXISTS etl_grp;
	CREATE DATABASE etl_grp;
	CREATE TABLE etl_grp.accounts_a (id int NOT NULL PRIMARY KEY, balance bigint NOT NULL) ENGINE = InnoDB;
	CREATE TABLE etl_grp.accounts_b LIKE etl_grp.accounts_a;
	INSERT INTO etl_grp.accounts_a SELECT seq, 1000 FROM seq_1_to_20000;
	INSERT INTO etl_grp.accounts_b SELECT seq, 1000 FROM seq_1_to_20000;
	CREATE TABLE etl_grp.legacy (id int NOT NULL PRIMARY KEY) ENGINE = MyISAM;
	INSERT INTO etl_grp.legacy SELECT seq FROM seq_1_to_10;
	CREATE FUNCTION etl_grp.session_lock_wait_timeout() RETURNS bigint NOT DETERMINISTIC NO SQL
	  RETURN @@session.lock_wait_timeout;
	CREATE VIEW etl_grp.session_view AS
	  SELECT CONNECTION_ID() AS conn, LENGTH(GROUP_CONCAT(LPAD(seq, 10, '0'))) AS gc_len,
	         etl_grp.session_lock_wait_timeout() AS lwt
	    FROM seq_1_to_1000;
	DROP USER IF EXISTS 'etl_grp_ro'@'127.0.0.1', 'etl_grp_reload'@'127.0.0.1';
	CREATE USER 'etl_grp_ro'@'127.0.0.1' IDENTIFIED BY 'ro_pw';
	GRANT SELECT, SHOW VIEW ON etl_grp.* TO 'etl_grp_ro'@'127.0.0.1';
	CREATE USER 'etl_grp_reload'@'127.0.0.1' IDENTIFIED BY 'reload_pw';
	GRANT SELECT, SHOW VIEW ON etl_grp.* TO 'etl_grp_reload'@'127.0.0.1';
	GRANT RELOAD ON *.* TO 'etl_grp_reload'@'127.0.0.1';"
cleanup() {
	etl_mysql -e "DROP DATABASE IF EXISTS etl_grp;
		DROP USER IF EXISTS 'etl_grp_ro'@'127.0.0.1', 'etl_grp_reload'@'127.0.0.1'" 2>/dev/null
}
tap_on_exit cleanup
TOTAL=40000000

q "SELECT etl_pull.add_table('acc_a', server => 'replica', source_table => 'etl_grp.accounts_a');
   SELECT etl_pull.add_table('acc_b', server => 'replica', source_table => 'etl_grp.accounts_b');
   SELECT etl_pull.set_table_option(t, 'load_group', 'bank') FROM unnest(ARRAY['acc_a', 'acc_b']) t;
   SELECT etl_pull.add_table('s1_with', server => 'replica', source_table => 'etl_grp.session_view');
   SELECT etl_pull.set_table_option('s1_with', 'mysql_settings', 'group_concat_max_len=2000');
   SELECT etl_pull.add_table('s2_without', server => 'replica', source_table => 'etl_grp.session_view');
   SELECT etl_pull.set_table_option(t, 'load_group', 'sess') FROM unnest(ARRAY['s1_with', 's2_without']) t;
   SELECT etl_pull.add_table('l1_par', server => 'replica', source_table => 'etl_grp.accounts_a');
   SELECT etl_pull.set_table_option('l1_par', 'strategy', 'parallel');
   SELECT etl_pull.add_table('l2_sess', server => 'replica', source_table => 'etl_grp.session_view');
   SELECT etl_pull.set_table_option(t, 'load_group', 'lwt') FROM unnest(ARRAY['l1_par', 'l2_sess']) t;
   SELECT etl_pull.add_table('m1_legacy', server => 'replica', source_table => 'etl_grp.legacy');
   SELECT etl_pull.add_table('m2_acc', server => 'replica', source_table => 'etl_grp.accounts_a');
   SELECT etl_pull.set_table_option(t, 'load_group', 'mixed') FROM unnest(ARRAY['m1_legacy', 'm2_acc']) t" \
	>/dev/null

pg_total() { q "SELECT (SELECT sum(balance) FROM acc_a) + (SELECT sum(balance) FROM acc_b)"; }
# the distinct source positions, and how many runs have one, of the runs in $1 (a,b,...)
positions() {
	q "SELECT count(DISTINCT source_position) || ' ' || count(source_position)
	     FROM etl_pull.runs WHERE run_id IN ($1)"
}

# ---- the group's snapshot under concurrent writers moving money from one table to the other
is "$(q "SELECT string_agg(status, ' ' ORDER BY table_name) FROM etl_pull.load_all('bank', 2, consistent => true)")" \
	"succeeded succeeded" "a consistent load_all of two tables"
is "$(pg_total)" "$TOTAL" "the balances add up"

writer() {
	local i
	for i in $(seq 100000); do
		[ -e "$TESTDIR/stop" ] && break
		etl_mysql -e "START TRANSACTION;
			UPDATE etl_grp.accounts_a SET balance = balance - 3 WHERE id = $((i * 17 % 20000 + 1));
			UPDATE etl_grp.accounts_b SET balance = balance + 3 WHERE id = $((i * 13 % 20000 + 1));
			COMMIT;" 2>/dev/null
	done
}
TESTDIR=$(mktemp -d)
writer &
WRITER=$!
stop_writer() { [ -d "$TESTDIR" ] && touch "$TESTDIR/stop"; wait "$WRITER" 2>/dev/null || true; }
tap_on_exit stop_writer
bad=0
same=0
for round in $(seq 8); do
	ids=$(q "SELECT string_agg(run_id::text, ',') FROM etl_pull.load_all('bank', 2, consistent => true)
	         WHERE status = 'succeeded'")
	[ "$(pg_total)" = "$TOTAL" ] || bad=$((bad + 1))
	[ "$(positions "$ids")" = "1 2" ] && same=$((same + 1))
done
stop_writer
is "$bad" "0" "under writers, every consistent load_all keeps the sum (8 rounds)"
is "$same" "8" "both runs of each round record the same, non-empty source position"
like "$(q "SELECT source_position FROM etl_pull.runs ORDER BY run_id DESC LIMIT 1")" \
	'^gtid [0-9-]+, binlog [^:]+:[0-9]+$' "the position is the GTID and binlog position"
is "$(etl_mysql -N -e "SELECT SUM(balance) FROM (SELECT balance FROM etl_grp.accounts_a
                        UNION ALL SELECT balance FROM etl_grp.accounts_b) t")" "$TOTAL" \
	"the writers kept the sum at the source"

# ---- a controlled interleaving: acc_a is loaded, then a transfer commits, then acc_b.  A
# trigger on acc_a's target waits on an advisory lock that a "gate" session holds, so that the
# one worker stops in acc_a's load while the test moves money at the source.
q "CREATE FUNCTION etl_gate() RETURNS trigger LANGUAGE plpgsql AS \$\$
   BEGIN PERFORM pg_advisory_lock_shared(9797); PERFORM pg_advisory_unlock_shared(9797);
         RETURN NEW; END \$\$;
   CREATE TRIGGER gate BEFORE INSERT ON acc_a FOR EACH ROW EXECUTE FUNCTION etl_gate()" >/dev/null
# load_all('bank', 1, consistent => $1) with a transfer of 500 while acc_a is being written
interleaved() {
	tap_gate_close 9797
	q "SELECT string_agg(status, ' ' ORDER BY table_name) FROM etl_pull.load_all('bank', 1, consistent => $1)" \
		>"$TESTDIR/load.out" 2>&1 &
	LOAD=$!
	until [ "$(q "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = 9797 AND NOT granted")" -ge 1 ]; do
		sleep 0.05
	done
	etl_mysql -e "START TRANSACTION;
		UPDATE etl_grp.accounts_a SET balance = balance - 500 WHERE id = 1;
		UPDATE etl_grp.accounts_b SET balance = balance + 500 WHERE id = 1;
		COMMIT;"
	tap_gate_open
	wait "$LOAD"
}
interleaved false
is "$(cat "$TESTDIR/load.out")" "succeeded succeeded" "independent snapshots: both tables load"
is "$(pg_total)" "$((TOTAL + 500))" "but the transfer is counted twice: acc_a before it, acc_b after"
interleaved true
is "$(cat "$TESTDIR/load.out")" "succeeded succeeded" "one snapshot, the same interleaving"
is "$(pg_total)" "$TOTAL" "the balances add up: both tables as of the snapshot"
q "DROP TRIGGER gate ON acc_a" >/dev/null

# ---- the connection is kept across a worker's tables, and its session settings are reset
GC_DEFAULT=$(etl_mysql -N -e "SELECT LEAST(@@global.group_concat_max_len, 10999)")
for consistent in false true; do
	is "$(q "SELECT string_agg(status, ' ' ORDER BY table_name) FROM etl_pull.load_all('sess', 1, consistent => $consistent)")" \
		"succeeded succeeded" "consistent => $consistent: two tables, one worker"
	is "$(q "SELECT (SELECT gc_len FROM s1_with) || ' ' || (SELECT gc_len FROM s2_without)")" \
		"2000 $GC_DEFAULT" "consistent => $consistent: the first table's mysql_settings do not reach the second"
	is "$(q "SELECT (SELECT conn FROM s1_with) = (SELECT conn FROM s2_without)")" "t" \
		"consistent => $consistent: both were read on one MySQL connection"
done

# the parallel strategy's snapshot handshake sets lock_wait_timeout on the load's connection,
# which a worker keeps: it is back to the server's default for the next table
LWT_DEFAULT=$(etl_mysql -N -e "SELECT @@global.lock_wait_timeout")
is "$(q "SELECT string_agg(status, ' ' ORDER BY table_name) FROM etl_pull.load_all('lwt', 1)")" \
	"succeeded succeeded" "a parallel table, then another, in one worker"
is "$(q "SELECT strategy FROM etl_pull.runs WHERE table_name = 'l1_par' ORDER BY run_id DESC LIMIT 1") $(q "SELECT lwt FROM l2_sess")" \
	"parallel $LWT_DEFAULT" "the parallel load's lock_wait_timeout does not reach the next table"

# ---- a MyISAM table is not in the snapshot: its row fails, the others still read the snapshot
out=$(q "SELECT table_name || ' ' || status || ' ' || coalesce(error, '')
           FROM etl_pull.load_all('mixed', 1, consistent => true) ORDER BY table_name")
like "$out" 'm1_legacy failed MySQL table "etl_grp.legacy" cannot be read from the group.s consistent snapshot: The table uses storage engine MyISAM' \
	"consistent refuses a MyISAM table, naming it and its engine"
like "$out" 'm2_acc succeeded' "the next table of the same worker still loads"
like "$(q "SELECT source_position FROM etl_pull.runs WHERE table_name = 'm2_acc' ORDER BY run_id DESC LIMIT 1")" \
	'^gtid ' "from the group's snapshot"
like "$(q "SELECT table_name || ' ' || status FROM etl_pull.load_all('mixed', 1) ORDER BY table_name")" \
	'm1_legacy succeeded' "without consistent the MyISAM table loads"

# ---- a worker's MySQL connection killed mid-stream: that table fails; without consistent the
# worker connects again for the next table, with consistent the snapshot is lost for it.
# A million rows, so that the server is still sending when the connection is killed.
# load_all takes the biggest tables first, by MariaDB's statistics: ANALYZE makes them
# know big is, so that k1_big loads (and is killed) before k2_small.
etl_mysql -e "CREATE TABLE etl_grp.big (id int NOT NULL PRIMARY KEY, balance bigint NOT NULL) ENGINE = InnoDB;
	INSERT INTO etl_grp.big SELECT seq, 1 FROM seq_1_to_1000000;
	ANALYZE TABLE etl_grp.big;" >/dev/null
q "SELECT etl_pull.add_table('k1_big', server => 'replica', source_table => 'etl_grp.big');
   SELECT etl_pull.add_table('k2_small', server => 'replica', source_table => 'etl_grp.accounts_b');
   SELECT etl_pull.set_table_option(t, 'load_group', 'killed') FROM unnest(ARRAY['k1_big', 'k2_small']) t;
   SELECT rows FROM etl_pull.load_table('k1_big');
   CREATE TRIGGER gate BEFORE INSERT ON k1_big FOR EACH ROW EXECUTE FUNCTION etl_gate()" >/dev/null
killed() {
	local id=
	tap_gate_close 9797
	q "SELECT table_name || ' ' || status || ' ' || coalesce(error, '')
	     FROM etl_pull.load_all('killed', 1, consistent => $1) ORDER BY table_name" >"$TESTDIR/load.out" 2>&1 &
	LOAD=$!
	until [ "$(q "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = 9797 AND NOT granted")" -ge 1 ]; do
		sleep 0.05
	done
	until [ -n "$id" ]; do
		id=$(etl_mysql -N -e "SELECT ID FROM information_schema.PROCESSLIST
		                      WHERE INFO LIKE 'SELECT %FROM _etl_grp_._big_%'
		                        AND ID <> CONNECTION_ID() LIMIT 1")
		[ -n "$id" ] || sleep 0.05
	done
	etl_mysql -e "KILL $id"
	tap_gate_open
	wait "$LOAD"
}
killed false
like "$(cat "$TESTDIR/load.out")" 'k1_big failed could not fetch rows from MySQL server "replica"' \
	"consistent => false: the killed table fails with the fetch error"
like "$(cat "$TESTDIR/load.out")" 'k2_small succeeded' "the worker connects again for the next table"
is "$(q "SELECT count(*) FROM k1_big")" "1000000" "the failed table keeps its rows"
killed true
like "$(cat "$TESTDIR/load.out")" 'k1_big failed could not fetch rows from MySQL server "replica"' \
	"consistent => true: the killed table fails with the fetch error"
like "$(cat "$TESTDIR/load.out")" 'k2_small failed the group.s consistent snapshot is lost for table "k2_small"' \
	"the next table cannot go back to the lost snapshot, and says so"
is "$(etl_psql -Atc "SELECT count(*) FROM pg_stat_activity WHERE backend_type LIKE 'etl_pull%'")" "0" \
	"no worker is left"

# ---- without RELOAD: a WARNING, and each table reads its own snapshot
map_user() {
	etl_psql -q -d "$TAP_DB" -v user="$1" -v password="$2" <<-'SQL'
		ALTER USER MAPPING FOR postgres SERVER replica OPTIONS (SET user :'user', SET password :'password');
	SQL
}
map_user etl_grp_ro ro_pw
out=$(etl_psql -d "$TAP_DB" -Atc "SELECT string_agg(status || ' ' || run_id, ',') FROM etl_pull.load_all('bank', 2, consistent => true)" 2>&1)
like "$out" 'WARNING:  could not lock MySQL server "replica" for the group.s consistent snapshot' \
	"without RELOAD a WARNING says the snapshot is not shared"
like "$out" 'Each table is read from a snapshot of its own' "and what that means"
ids=$(echo "$out" | tail -n 1 | sed 's/succeeded //g')
like "$ids" '^[0-9]+,[0-9]+$' "both tables still load"
is "$(positions "$ids")" "0 0" "and their runs record no position"

# ---- with RELOAD but without BINLOG MONITOR: one snapshot, but only the GTID position
map_user etl_grp_reload reload_pw
out=$(etl_psql -d "$TAP_DB" -Atc "SELECT string_agg(status || ' ' || run_id, ',') FROM etl_pull.load_all('bank', 2, consistent => true)" 2>&1)
like "$out" 'WARNING:  could not read the binary log position of the group.s snapshot on MySQL server "replica"' \
	"without BINLOG MONITOR a WARNING says the position is incomplete"
ids=$(echo "$out" | tail -n 1 | sed 's/succeeded //g')
is "$(positions "$ids")" "1 2" "the runs share one position"
like "$(q "SELECT source_position FROM etl_pull.runs ORDER BY run_id DESC LIMIT 1")" '^gtid [0-9-]+$' \
	"the GTID position"
is "$(pg_total)" "$TOTAL" "the balances add up"
map_user "$ETL_PULL_MYSQL_USER" "$ETL_PULL_MYSQL_PASSWORD"

# a consistent group must be on one server
etl_psql -q -d "$TAP_DB" -v port="$ETL_PULL_MYSQL_PORT" -v user="$ETL_PULL_MYSQL_USER" \
	-v password="$ETL_PULL_MYSQL_PASSWORD" <<-'SQL'
	CREATE SERVER replica2 FOREIGN DATA WRAPPER etl_pull OPTIONS (host '127.0.0.1', port :'port');
	CREATE USER MAPPING FOR postgres SERVER replica2 OPTIONS (user :'user', password :'password');
SQL
q "SELECT etl_pull.add_table('acc_c', server => 'replica2', source_table => 'etl_grp.accounts_b');
   SELECT etl_pull.set_table_option('acc_c', 'load_group', 'bank')" >/dev/null
like "$(q "SELECT * FROM etl_pull.load_all('bank', 2, consistent => true)")" \
	'ERROR:  a consistent load_all reads every table from one MySQL server' "two servers: an error"
is "$(etl_psql -Atc "SELECT count(*) FROM pg_stat_activity WHERE backend_type LIKE 'etl_pull%'")" "0" \
	"no worker is left"

rm -rf "$TESTDIR"
done_testing
