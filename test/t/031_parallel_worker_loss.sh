# A parallel worker that goes away mid-load fails the load: terminated
# (pg_terminate_backend) or killed (SIGKILL, which makes the postmaster
# restart every backend), the target keeps its old rows, and a terminated
# worker's load is recorded as failed with the worker's own error.  The
# SIGKILL restarts the server: the test has a cluster of its own.
#
# The load is held deterministically: the target's key is a domain whose
# CHECK waits on an advisory lock that a "gate" session holds, but only for
# one key value in the middle of a chunk.  The process converting that row
# stops there (a domain makes the leader convert), and the workers, mid-chunk
# with rows read and their chunks unacknowledged, wait for room in their
# queues.
source "$(dirname "$0")/../tap.sh"
tap_own_cluster
tap_setup_db etl_tap_loss

etl_mysql -e "
	DROP TABLE IF EXISTS lossy;
	CREATE TABLE lossy (id bigint NOT NULL PRIMARY KEY, v bigint NOT NULL, note varchar(40) NOT NULL);
	INSERT INTO lossy SELECT seq, seq * 3, CONCAT('note ', seq) FROM seq_1_to_1000000;"

q "CREATE FUNCTION etl_gate(bigint) RETURNS boolean LANGUAGE plpgsql AS \$\$
   BEGIN
     IF \$1 = 777777 THEN
       PERFORM pg_advisory_lock_shared(4242); PERFORM pg_advisory_unlock_shared(4242);
     END IF;
     RETURN true;
   END \$\$;
   CREATE DOMAIN gated AS bigint CHECK (etl_gate(VALUE));
   CREATE TABLE lossy (id gated PRIMARY KEY, v bigint NOT NULL, note varchar(40) NOT NULL);
   SELECT etl_pull.add_table('lossy', server => 'replica');
   SELECT etl_pull.set_table_option('lossy', 'strategy', 'parallel');
   SELECT etl_pull.set_table_option('lossy', 'parallel_chunks', '4')" >/dev/null

mysql_lossy() {
	etl_mysql -N -e "SELECT COUNT(*), SUM(v), SUM(id * v), SUM(LENGTH(note)) FROM lossy" | tr '\t' ' '
}
pg_lossy() {
	q "SELECT count(*) || ' ' || sum(v) || ' ' || sum(id * v) || ' ' || sum(length(note)) FROM lossy"
}
workers_left() {
	etl_psql -Atc "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'etl_pull parallel worker'"
}
# wait until no parallel worker is left (up to 10 s); print how many are
no_workers() {
	for _ in $(seq 100); do
		[ "$(workers_left)" = 0 ] && break
		sleep 0.1
	done
	workers_left
}

is "$(q "SELECT strategy || ' ' || rows || ' ' || status FROM etl_pull.load_table('lossy')")" \
	"parallel 1000000 succeeded" "the gate is open: a parallel load of 1,000,000 rows"
is "$(pg_lossy)" "$(mysql_lossy)" "the target equals the source"

# the old rows, told apart from the source's
q "UPDATE lossy SET v = -v" >/dev/null
OLD=$(pg_lossy)
like "$OLD" '^1000000 -' "old rows in place (count and checksums: $OLD)"

# the pid of a worker held mid-chunk, with rows read, once the gate holds
# the load: the worker converting key 777777 waits at the gate itself (tuple
# mode), or the leader does (a domain makes the leader convert) and every
# worker soon waits for room in its queue
held_worker() {
	local pid=
	for _ in $(seq 600); do
		pid=$(q "SELECT a.pid FROM pg_stat_activity a
		           JOIN etl_pull.progress p ON p.pid = a.pid
		          WHERE a.backend_type = 'etl_pull parallel worker' AND p.rows_done > 0
		            AND EXISTS (SELECT 1 FROM pg_locks l WHERE l.locktype = 'advisory'
		                           AND l.objid = 4242 AND NOT l.granted)
		            AND (a.wait_event IN ('MessageQueueSend', 'advisory'))
		          ORDER BY a.pid LIMIT 1")
		[ -n "$pid" ] && break
		sleep 0.05
	done
	echo "$pid"
}
runs_failed() {
	q "SELECT count(*) FROM etl_pull.runs WHERE table_name = 'lossy' AND status = 'failed'"
}
runs_succeeded() {
	q "SELECT count(*) FROM etl_pull.runs WHERE table_name = 'lossy' AND status = 'succeeded'"
}

# --- pg_terminate_backend on one worker mid-load
failed_before=$(runs_failed)
succeeded_before=$(runs_succeeded)
tap_gate_close 4242
etl_psql -d "$TAP_DB" -Atq -v VERBOSITY=verbose \
	-c "SELECT rows FROM etl_pull.load_table('lossy')" >"$TESTDIR/loss.out" 2>&1 &
LOAD=$!
pid=$(held_worker)
like "$pid" '^[0-9]+$' "a worker is held mid-chunk, with rows read"
is "$(q "SELECT pg_terminate_backend($pid)")" "t" "the worker is terminated"
tap_gate_open
wait "$LOAD"
is "$?" "1" "the load fails"
out=$(cat "$TESTDIR/loss.out")
like "$out" 'ERROR:  57P01: terminating background worker "etl_pull parallel worker" due to administrator command' \
	"with the worker's own error and SQLSTATE"
like "$out" 'etl_pull parallel worker [0-9]+' "and a context line naming the worker"
is "$(pg_lossy)" "$OLD" "the target keeps its old rows (count and checksums)"
is "$(runs_failed)" "$((failed_before + 1))" "the failed run is recorded"
like "$(q "SELECT status || ': ' || error FROM etl_pull.runs WHERE table_name = 'lossy' ORDER BY run_id DESC LIMIT 1")" \
	'^failed: terminating background worker "etl_pull parallel worker" due to administrator command' \
	"with the worker's error"
like "$(q "SELECT strategy || ' ' || source_position FROM etl_pull.runs WHERE table_name = 'lossy' ORDER BY run_id DESC LIMIT 1")" \
	'^parallel gtid [0-9-]+, binlog ' "and, as a successful run's row would, the snapshot's binary log position"
is "$(runs_succeeded)" "$succeeded_before" "and no run is recorded as succeeded"
is "$(no_workers)" "0" "no worker is left"
is "$(q "SELECT count(*) FROM pg_class WHERE relname LIKE 'pg_temp_%'")" "0" "no transient heap left"

# --- SIGKILL of one worker mid-load: the postmaster restarts every backend,
# the load's with them; after the restart the target has its old rows
tap_gate_close 4242
etl_psql -d "$TAP_DB" -Atq -c "SELECT rows FROM etl_pull.load_table('lossy')" >"$TESTDIR/kill.out" 2>&1 &
LOAD=$!
pid=$(held_worker)
like "$pid" '^[0-9]+$' "a worker is held mid-chunk, with rows read"
kill -KILL "$pid"
wait "$LOAD"
is "$?" "2" "the load's connection is lost in the restart"
like "$(cat "$TESTDIR/kill.out")" 'terminating connection because of crash of another server process|server closed the connection unexpectedly' \
	"because a server process crashed"
wait "$TAP_GATE" 2>/dev/null || true
for _ in $(seq 600); do
	etl_psql -d "$TAP_DB" -Atqc "SELECT 1" >/dev/null 2>&1 && break
	sleep 0.1
done
is "$(q "SELECT 1")" "1" "the server is back"
is "$(pg_lossy)" "$OLD" "the target keeps its old rows (count and checksums)"
is "$(runs_succeeded)" "$succeeded_before" "no run is recorded as succeeded"
is "$(no_workers)" "0" "no worker is left"

# and the next load, gate open, is whole again
is "$(q "SELECT rows || ' ' || status FROM etl_pull.load_table('lossy')")" "1000000 succeeded" \
	"the next load succeeds"
is "$(pg_lossy)" "$(mysql_lossy)" "and equals the source"

done_testing
