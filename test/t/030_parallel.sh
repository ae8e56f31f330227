# The parallel strategy: equal to the source; one snapshot for all workers
# while writers change the source; a worker's error and a cancel abort
# cleanly; without the lock privilege a WARNING says what is lost.
source "$(dirname "$0")/../tap.sh"
tap_setup_db etl_tap_parallel

# 1,000,000 accounts whose balances always add up to 1,000,000,000
etl_mysql -e "
	DROP TABLE IF EXISTS accounts;
	CREATE TABLE accounts (id bigint NOT NULL PRIMARY KEY, balance bigint NOT NULL,
	                       owner varchar(40) NOT NULL, opened datetime NOT NULL);
	INSERT INTO accounts SELECT seq, 1000, CONCAT('owner ', seq), '2020-01-01' + INTERVAL seq MINUTE
	  FROM seq_1_to_1000000;"

q "SELECT etl_pull.add_table('accounts', server => 'replica');
   SELECT etl_pull.set_table_option('accounts', 'strategy', 'parallel');
   SELECT etl_pull.set_table_option('accounts', 'parallel_chunks', '4')" >/dev/null

mysql_accounts() {
	etl_mysql -N -e "SELECT COUNT(*), SUM(balance), SUM(id * balance) FROM accounts" | tr '\t' ' '
}
pg_accounts() {
	q "SELECT count(*) || ' ' || sum(balance) || ' ' || sum(id * balance) FROM accounts"
}

is "$(q "SELECT strategy || ' ' || rows || ' ' || status FROM etl_pull.load_table('accounts')")" \
	"parallel 1000000 succeeded" "a parallel load of 1,000,000 rows"
is "$(pg_accounts)" "$(mysql_accounts)" "the target equals the source"
like "$(q "SELECT source_position FROM etl_pull.runs ORDER BY run_id DESC LIMIT 1")" '^gtid [0-9-]+, binlog ' \
	"the run records the snapshot's binary log position"

# writers move money between the first and the last chunk during the load
writer() {
	local i
	for i in $(seq 300); do
		etl_mysql -e "START TRANSACTION;
			UPDATE accounts SET balance = balance - 7 WHERE id = $((i * 17 % 200000 + 1));
			UPDATE accounts SET balance = balance + 7 WHERE id = $((999999 - i * 13 % 200000));
			INSERT INTO accounts VALUES ($((1000000 + i)), 0, 'new', NOW());
			COMMIT;" 2>/dev/null
	done
}
writer &
WRITER=$!
sleep 0.3
out=$(q "SELECT rows FROM etl_pull.load_table('accounts')")
wait "$WRITER"
like "$out" '^[0-9]+$' "a parallel load while writers change the source"
is "$(q "SELECT sum(balance) FROM accounts")" "1000000000" \
	"every worker read the same snapshot: the balances add up"
is "$(q "SELECT count(*) FROM accounts")" "$out" "the load has as many rows as it read"

# a load with one worker reads the same as with four
q "SELECT etl_pull.set_table_option('accounts', 'parallel_chunks', '1')" >/dev/null
is "$(q "SELECT rows FROM etl_pull.load_table('accounts')")" "1000300" "one worker"
is "$(pg_accounts)" "$(mysql_accounts)" "the target equals the source after the writers"
q "SELECT etl_pull.set_table_option('accounts', 'parallel_chunks', '4')" >/dev/null

# From here the load can be held mid-stream: a CHECK constraint waits on an
# advisory lock that a "gate" session holds, so the leader stops at its
# first row and the workers stop on their full queues, mid-query.
q "CREATE FUNCTION etl_gate(bigint) RETURNS boolean LANGUAGE plpgsql AS \$\$
   BEGIN PERFORM pg_advisory_lock_shared(4242); PERFORM pg_advisory_unlock_shared(4242);
         RETURN true; END \$\$;
   ALTER TABLE accounts ADD CONSTRAINT gate CHECK (etl_gate(id))" >/dev/null
wait_for_workers_reading() {
	local id=
	for _ in $(seq 200); do
		id=$(etl_mysql -N -e "SELECT ID FROM information_schema.PROCESSLIST
		                      WHERE INFO LIKE 'SELECT%accounts%WHERE%' AND ID <> CONNECTION_ID() LIMIT 1")
		[ -n "$id" ] && break
		sleep 0.05
	done
	echo "$id"
}

# a worker's MySQL connection is killed: the load fails with its error, old
# rows stay.  One worker, so it must go back to MySQL for its next chunk
# (with several, the others could take the remaining chunks while the
# killed one still drains what its socket had buffered: no row lost).
q "UPDATE accounts SET owner = 'old';
   SELECT etl_pull.set_table_option('accounts', 'parallel_chunks', '1')" >/dev/null
tap_gate_close 4242
q "SELECT rows FROM etl_pull.load_table('accounts')" >"$TESTDIR/par.out" 2>&1 &
LOAD=$!
id=$(wait_for_workers_reading)
etl_mysql -e "KILL $id"
tap_gate_open
wait "$LOAD"
like "$(cat "$TESTDIR/par.out")" 'ERROR:  could not (fetch rows from|execute query on) MySQL server "replica"' \
	"the worker's error is raised in the leader"
like "$(cat "$TESTDIR/par.out")" 'CONTEXT:  .*etl_pull parallel worker 1' "naming the worker"
q "SELECT etl_pull.set_table_option('accounts', 'parallel_chunks', '4')" >/dev/null
is "$(q "SELECT count(*) || ' ' || min(owner) FROM accounts")" "1000300 old" "the old rows are intact"
sleep 0.5
is "$(etl_psql -Atc "SELECT count(*) FROM pg_stat_activity WHERE backend_type LIKE 'etl_pull%'")" "0" \
	"no worker is left"

# cancelling the leader mid-stream stops every worker
tap_gate_close 4242
q "SELECT rows FROM etl_pull.load_table('accounts')" >"$TESTDIR/par.out" 2>&1 &
LOAD=$!
wait_for_workers_reading >/dev/null
etl_psql -Atc "SELECT pg_cancel_backend(pid) FROM pg_stat_activity
               WHERE query LIKE 'SELECT rows FROM etl_pull.load_table(''accounts'')%'" >/dev/null
wait "$LOAD"
tap_gate_open
like "$(cat "$TESTDIR/par.out")" "canceling statement due to user request" "the load was cancelled"
sleep 1
is "$(etl_psql -Atc "SELECT count(*) FROM pg_stat_activity WHERE backend_type LIKE 'etl_pull%'")" "0" \
	"within a second no worker is left"
is "$(q "SELECT count(*) || ' ' || min(owner) FROM accounts")" "1000300 old" "the old rows are intact"
is "$(q "SELECT count(*) FROM pg_class WHERE relname LIKE 'pg_temp_%'")" "0" "no transient heap left"
q "ALTER TABLE accounts DROP CONSTRAINT gate" >/dev/null

# other keys: a composite key with text, and a date key, cut at sampled boundaries
etl_mysql -e "
	DROP TABLE IF EXISTS regional;
	CREATE TABLE regional (region varchar(20) NOT NULL, n int NOT NULL, amount decimal(12,2) NOT NULL,
	                       PRIMARY KEY (region, n));
	INSERT INTO regional SELECT ELT(1 + seq % 5, 'north', 'south', 'east', 'west', 'it''s \"central\"'),
	                            seq, seq / 7 FROM seq_1_to_200000;
	ANALYZE TABLE regional;
	DROP TABLE IF EXISTS daily;
	CREATE TABLE daily (day date NOT NULL PRIMARY KEY, total bigint NOT NULL);
	INSERT INTO daily SELECT '1900-01-01' + INTERVAL seq DAY, seq FROM seq_1_to_40000;
	ANALYZE TABLE daily;" >/dev/null
q "SELECT etl_pull.add_table('regional', server => 'replica');
   SELECT etl_pull.set_table_option('regional', 'strategy', 'parallel');
   SELECT etl_pull.add_table('daily', server => 'replica');
   SELECT etl_pull.set_table_option('daily', 'strategy', 'parallel')" >/dev/null
is "$(q "SELECT strategy || ' ' || rows FROM etl_pull.load_table('regional')")" "parallel 200000" \
	"a composite text key is cut into chunks"
is "$(q "SELECT count(*) || ' ' || count(DISTINCT (region, n)) || ' ' || sum(amount) FROM regional")" \
	"$(etl_mysql -N -e "SELECT COUNT(*), COUNT(DISTINCT region, n), SUM(amount) FROM regional" | tr '\t' ' ')" \
	"and loads every row once"
is "$(q "SELECT strategy || ' ' || rows FROM etl_pull.load_table('daily')")" "parallel 40000" \
	"a date key is cut into chunks"
is "$(q "SELECT count(DISTINCT day) || ' ' || sum(total) FROM daily")" "40000 800020000" \
	"and loads every row once"

# integer keys at the ends of the 64-bit ranges: the chunk bounds never overflow (1.3 cut
# INT64_MAX - 20 .. INT64_MAX into bounds that wrapped around, and loaded 21 rows as 41)
etl_mysql -e "
	DROP TABLE IF EXISTS edge_top, edge_bottom, edge_span, edge_utop, edge_uspan;
	CREATE TABLE edge_top (id bigint NOT NULL PRIMARY KEY, v varchar(30) NOT NULL);
	INSERT INTO edge_top SELECT 9223372036854775807 - seq, CONCAT('top ', seq) FROM seq_0_to_20;
	CREATE TABLE edge_bottom LIKE edge_top;
	INSERT INTO edge_bottom SELECT -9223372036854775808 + CAST(seq AS SIGNED), CONCAT('bottom ', seq)
	  FROM seq_0_to_20;
	CREATE TABLE edge_span LIKE edge_top;
	INSERT INTO edge_span SELECT * FROM edge_top UNION ALL SELECT * FROM edge_bottom;
	CREATE TABLE edge_utop (id bigint unsigned NOT NULL PRIMARY KEY, v varchar(30) NOT NULL);
	INSERT INTO edge_utop SELECT 18446744073709551615 - seq, CONCAT('top ', seq) FROM seq_0_to_20;
	CREATE TABLE edge_uspan LIKE edge_utop;
	INSERT INTO edge_uspan SELECT * FROM edge_utop UNION ALL SELECT seq, CONCAT('bottom ', seq)
	  FROM seq_0_to_20;" || echo "Bail out! could not create the edge_* tables"
# targets without a key, so that a row loaded twice shows
q "CREATE TABLE edge_top (id bigint NOT NULL, v varchar(30) NOT NULL);
   CREATE TABLE edge_bottom (LIKE edge_top);
   CREATE TABLE edge_span (LIKE edge_top);
   CREATE TABLE edge_utop (id numeric(20,0) NOT NULL, v varchar(30) NOT NULL);
   CREATE TABLE edge_uspan (LIKE edge_utop)" >/dev/null
for t in edge_top edge_bottom edge_span edge_utop edge_uspan; do
	q "SELECT etl_pull.add_table('$t', server => 'replica');
	   SELECT etl_pull.set_table_option('$t', 'strategy', 'parallel');
	   SELECT etl_pull.set_table_option('$t', 'parallel_chunks', '4')" >/dev/null
	rows=$(etl_mysql -N -e "SELECT COUNT(*) FROM $t")
	is "$(q "SELECT strategy || ' ' || rows || ' ' || status FROM etl_pull.load_table('$t')")" \
		"parallel $rows succeeded" "$t: a parallel load of the $rows rows"
	is "$(q "SELECT count(*) || ' ' || count(DISTINCT id) || ' '
	              || md5(string_agg(id || ':' || v, ',' ORDER BY id)) FROM $t")" \
		"$(etl_mysql -N -e "SELECT COUNT(*), COUNT(DISTINCT id),
		                           MD5(GROUP_CONCAT(id, ':', v ORDER BY id SEPARATOR ','))
		                      FROM $t" | tr '\t' ' ')" \
		"$t: every row once, as at the source"
done
like "$(q "SELECT detail FROM etl_pull.plan('edge_uspan') WHERE section = 'keys' AND item = 'parallel'")" \
	'integer key id cut into equal ranges of 0 to 18446744073709551615$' \
	"a BIGINT UNSIGNED key is cut into ranges too, up to 2^64 - 1"
is "$(q "SELECT count(*) FROM etl_pull.runs r, etl_pull.tables t
         WHERE t.name LIKE 'edge_u%' AND r.table_name = t.name AND r.strategy = 'parallel'")" "2" \
	"... by the parallel strategy"

# without RELOAD and LOCK TABLES: a WARNING, and the load goes on
etl_psql -q -d "$TAP_DB" -v user="$ETL_PULL_MYSQL_LIMITED_USER" \
	-v password="$ETL_PULL_MYSQL_LIMITED_PASSWORD" <<-'SQL'
	ALTER USER MAPPING FOR postgres SERVER replica OPTIONS (SET user :'user', SET password :'password');
SQL
out=$(etl_psql -d "$TAP_DB" -Atc "SELECT rows FROM etl_pull.load_table('accounts')" 2>&1)
like "$out" 'WARNING:  could not lock MySQL table "etl_test.accounts" for a common snapshot' \
	"without the lock privilege a WARNING says so"
like "$out" 'Each parallel worker reads its own snapshot' "and what is lost"
like "$out" '1000300$' "the load still completes"

done_testing
