# load_all(group, ..., consistent => true) over MyISAM tables whose setting
# source_lock is read (issue 28 item 3): the group holds them all with one
# FLUSH TABLES ... WITH READ LOCK, taken with the group's snapshot, so they
# are read as of one point in time; their writers wait until the last of
# their reads is over, and no longer (not until the loads commit).  A
# MyISAM table without the setting still fails, naming the setting.
source "$(dirname "$0")/../tap.sh"
tap_setup_db etl_tap_held_group

# Two MyISAM tables of accounts whose balances always add up to 40,000,000 (a transfer is
# one multi-table UPDATE: MyISAM locks both tables for it)
etl_mysql -e "
	DROP DATABASE IF EXISTS etl_held;
	CREATE DATABASE etl_held;
	CREATE TABLE etl_held.accounts_a (id int NOT NULL PRIMARY KEY, balance bigint NOT NULL) ENGINE = MyISAM;
	CREATE TABLE etl_held.accounts_b LIKE etl_held.accounts_a;
	INSERT INTO etl_held.accounts_a SELECT seq, 1000 FROM seq_1_to_20000;
	INSERT INTO etl_held.accounts_b SELECT seq, 1000 FROM seq_1_to_20000;
	CREATE TABLE etl_held.ctl (k varchar(10) PRIMARY KEY) ENGINE = InnoDB;"
cleanup() {
	etl_mysql -e "DROP DATABASE IF EXISTS etl_held" 2>/dev/null
}
tap_on_exit cleanup
TOTAL=40000000
TESTDIR=$(mktemp -d)

q "SELECT etl_pull.add_table(t, server => 'replica', source_table => 'etl_held.accounts_' || right(t, 1))
     FROM unnest(ARRAY['ha', 'hb', 'pa', 'pb']) t;
   SELECT etl_pull.set_table_option(t, 'load_group', 'held') FROM unnest(ARRAY['ha', 'hb']) t;
   SELECT etl_pull.set_table_option(t, 'source_lock', 'read') FROM unnest(ARRAY['ha', 'hb']) t;
   SELECT etl_pull.set_table_option(t, 'load_group', 'plain') FROM unnest(ARRAY['pa', 'pb']) t;
   SELECT etl_pull.set_table_option(t, 'skip_unchanged', 'off') FROM unnest(ARRAY['ha', 'hb', 'pa', 'pb']) t" \
	>/dev/null

total() { q "SELECT (SELECT sum(balance) FROM $1) + (SELECT sum(balance) FROM $2)"; }
transfer() {
	etl_mysql -e "UPDATE etl_held.accounts_a a JOIN etl_held.accounts_b b ON a.id = $1 AND b.id = $2
	              SET a.balance = a.balance - $3, b.balance = b.balance + $3"
}
last_notes() { q "SELECT notes FROM etl_pull.runs WHERE table_name = '$1' ORDER BY run_id DESC LIMIT 1"; }

# ---- without the setting, a consistent load_all refuses MyISAM tables, naming the setting
out=$(q "SELECT table_name || ' ' || status || ' ' || coalesce(error, '')
           FROM etl_pull.load_all('plain', 2, consistent => true) ORDER BY table_name")
like "$out" 'pa failed MySQL table "etl_held.accounts_a" cannot be read from the group.s consistent snapshot: The table uses storage engine MyISAM; .*its setting source_lock is none' \
	"source_lock none: consistent refuses the MyISAM table, naming the setting"
like "$out" 'pb failed' "both tables"

# ---- plan() says the table will be held
like "$(q "SELECT detail FROM etl_pull.plan('ha') WHERE section = 'strategy' AND item = 'source reads'")" \
	'^source_lock read: FLUSH TABLES \.\.\. WITH READ LOCK held .*writers wait for the whole read.*in a consistent load_all, the group.s lock on all its held tables' \
	"plan() says the lock is held, for the whole read, and the group's in a consistent load_all"

# ---- a controlled interleaving: with one worker the first table is read, then a transfer,
# then the second table is read.  A trigger on the second table's target waits on an advisory
# lock that a "gate" session holds, so the worker stops in the middle of that table's read.
q "CREATE FUNCTION etl_gate() RETURNS trigger LANGUAGE plpgsql AS \$\$
   BEGIN PERFORM pg_advisory_lock_shared(11911); PERFORM pg_advisory_unlock_shared(11911);
         RETURN NEW; END \$\$;
   SELECT status FROM etl_pull.load_all('plain', 1);
   SELECT status FROM etl_pull.load_all('held', 1, consistent => true);
   CREATE TRIGGER gate BEFORE INSERT ON pb FOR EACH ROW EXECUTE FUNCTION etl_gate();
   CREATE TRIGGER gate BEFORE INSERT ON hb FOR EACH ROW EXECUTE FUNCTION etl_gate()" >/dev/null
# wait (30 s at most, or until the load_all is over) until the load waits at gate $1
gated() {
	local i
	for i in $(seq 600); do
		[ "$(q "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = $1 AND NOT granted")" -ge 1 ] && break
		kill -0 "$LOAD" 2>/dev/null || break
		sleep 0.05
	done
}

# without the lock (source_lock none, each table read on its own): the transfer goes through
# while the second table is read, and the copy counts it once, on one side only
tap_gate_close 11911
q "SELECT string_agg(status, ' ' ORDER BY table_name) FROM etl_pull.load_all('plain', 1)" >"$TESTDIR/load.out" 2>&1 &
LOAD=$!
gated 11911
transfer 1 20000 500
tap_gate_open
wait "$LOAD"
is "$(cat "$TESTDIR/load.out")" "succeeded succeeded" "both tables load"
is "$(total pa pb)" "$((TOTAL + 500))" "but the sum is off: the first table before the transfer, the second after"

# with the lock: the transfer waits until the last held read is over, and the sum holds.  A
# deferred trigger on hb's target waits on a second gate at hb's commit: the transfer goes
# through before the load commits.
q "CREATE FUNCTION etl_gate2() RETURNS trigger LANGUAGE plpgsql AS \$\$
   BEGIN PERFORM pg_advisory_lock_shared(11912); PERFORM pg_advisory_unlock_shared(11912);
         RETURN NULL; END \$\$;
   CREATE CONSTRAINT TRIGGER gate2 AFTER INSERT ON hb DEFERRABLE INITIALLY DEFERRED
     FOR EACH ROW WHEN (NEW.id = 1) EXECUTE FUNCTION etl_gate2()" >/dev/null
tap_gate_close 11911
PGAPPNAME=etl_gate2 etl_psql -d "$TAP_DB" -Atq -c "SELECT pg_advisory_lock(11912), pg_sleep(600)" >/dev/null 2>&1 &
GATE2=$!
until [ "$(q "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = 11912 AND granted")" = 1 ]; do sleep 0.05; done
q "SELECT string_agg(status, ' ' ORDER BY table_name) FROM etl_pull.load_all('held', 1, consistent => true)" >"$TESTDIR/load.out" 2>&1 &
LOAD=$!
gated 11911
(transfer 1 20000 700 && touch "$TESTDIR/transferred") &
T=$!
sleep 1
ok "$([ ! -e "$TESTDIR/transferred" ] && echo 0 || echo 1)" "source_lock read: the transfer waits while the group's tables are read"
like "$(etl_mysql -N -e "SELECT STATE FROM information_schema.PROCESSLIST WHERE INFO LIKE 'UPDATE etl_held.accounts_a%'")" \
	'Waiting for table metadata lock' "at the metadata lock"
# the second table's read ends; its commit waits at the second gate
tap_gate_open
gated 11912
for i in $(seq 400); do [ -e "$TESTDIR/transferred" ] && break; sleep 0.05; done
ok "$([ -e "$TESTDIR/transferred" ] && echo 0 || echo 1)" "the transfer goes through once the reads are over"
ok "$(kill -0 "$LOAD" 2>/dev/null && [ "$(q "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = 11912 AND NOT granted")" -ge 1 ] && echo 0 || echo 1)" \
	"while the load_all has not committed hb yet (the lock is not held to commit)"
etl_psql -Atqc "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'etl_gate2'" >/dev/null
wait "$GATE2" 2>/dev/null
wait "$LOAD"
wait "$T"
is "$(cat "$TESTDIR/load.out")" "succeeded succeeded" "both tables load"
is "$(total ha hb)" "$TOTAL" "the sum holds: both tables as of one point, before the transfer"
like "$(last_notes hb)" 'source_lock read: read under the group.s lock on its held tables, taken with its snapshot, held for [0-9]+ ms when this table.s read ended' \
	"the notes say the table was read under the group's lock, and for how long it was held"
q "DROP TRIGGER gate2 ON hb" >/dev/null

# a load_all cancelled while it holds the group's tables releases them: the transfer goes on
rm -f "$TESTDIR/transferred"
tap_gate_close 11911
PGAPPNAME=etl_held_all etl_psql -d "$TAP_DB" -Atq -c "SELECT * FROM etl_pull.load_all('held', 1, consistent => true)" \
	>"$TESTDIR/load.out" 2>&1 &
LOAD=$!
gated 11911
(transfer 2 19999 100 && touch "$TESTDIR/transferred") &
T=$!
sleep 1
ok "$([ ! -e "$TESTDIR/transferred" ] && echo 0 || echo 1)" "a transfer waits while a load_all holds the tables"
q "SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE application_name = 'etl_held_all'" >/dev/null
wait "$LOAD"
like "$(cat "$TESTDIR/load.out")" 'canceling statement due to user request' "the load_all is cancelled"
for i in $(seq 200); do [ -e "$TESTDIR/transferred" ] && break; sleep 0.05; done
ok "$([ -e "$TESTDIR/transferred" ] && echo 0 || echo 1)" "its hold is released: the transfer goes on"
wait "$T"
tap_gate_open
q "DROP TRIGGER gate ON hb; DROP TRIGGER gate ON pb" >/dev/null

# ---- under a writer that never stops moving money, every consistent load_all keeps the sum
writer() {
	local i
	for i in $(seq 100000); do
		[ -e "$TESTDIR/stop" ] && break
		transfer $((i * 17 % 20000 + 1)) $((i * 13 % 20000 + 1)) 3 2>/dev/null
	done
}
writer &
WRITER=$!
stop_writer() { [ -d "$TESTDIR" ] && touch "$TESTDIR/stop"; wait "$WRITER" 2>/dev/null || true; }
tap_on_exit stop_writer
bad=0
same=0
for round in $(seq 6); do
	ids=$(q "SELECT string_agg(run_id::text, ',') FROM etl_pull.load_all('held', 2, consistent => true)
	         WHERE status = 'succeeded'")
	[ "$(total ha hb)" = "$TOTAL" ] || bad=$((bad + 1))
	[ "$(q "SELECT count(DISTINCT source_position) || ' ' || count(source_position)
	          FROM etl_pull.runs WHERE run_id IN ($ids)")" = "1 2" ] && same=$((same + 1))
done
stop_writer
is "$bad" "0" "under writers, every consistent load_all of the held tables keeps the sum (6 rounds)"
is "$same" "6" "both runs of each round record the group's one source position"
is "$(etl_mysql -N -e "SELECT SUM(balance) FROM (SELECT balance FROM etl_held.accounts_a
                        UNION ALL SELECT balance FROM etl_held.accounts_b) t")" "$TOTAL" \
	"the writers kept the sum at the source"

# ---- a held table and one without the setting in one group: that one fails, naming the setting
q "SELECT etl_pull.set_table_option('pa', 'load_group', 'held')" >/dev/null
out=$(q "SELECT table_name || ' ' || status || ' ' || coalesce(error, '')
           FROM etl_pull.load_all('held', 2, consistent => true) ORDER BY table_name")
like "$out" 'ha succeeded' "the held tables load"
like "$out" 'hb succeeded' "both"
like "$out" 'pa failed MySQL table "etl_held.accounts_a" cannot be read from the group.s consistent snapshot.*source_lock is none' \
	"the other fails, naming the setting"
is "$(etl_psql -Atc "SELECT count(*) FROM pg_stat_activity WHERE backend_type LIKE 'etl_pull%'")" "0" \
	"no worker is left"
mysql_sessions() {
	local i n
	for i in $(seq 100); do
		n=$(etl_mysql -N -e "SELECT COUNT(*) FROM information_schema.PROCESSLIST
		                     WHERE USER = '$ETL_PULL_MYSQL_USER' AND ID <> CONNECTION_ID()")
		[ "$n" = 0 ] && break
		sleep 0.05
	done
	echo "$n"
}
is "$(mysql_sessions)" "0" "no connection is left at MySQL (the lock is released)"

rm -rf "$TESTDIR"
done_testing
