# Row-level security of a target is never bypassed on the caller's behalf.
# verify_table (and a diff run, repair_table, the setting verify) read the
# target through its access method, which no policy filters: for a role the
# policies apply to, verify_table reported the row count and the keys of rows
# it may not see.  Now verify_table is refused for such a role, and so is
# every load of a role that is not the owner (a load writes as the target's
# owner, whose rights would bypass the policies: 046_run_as_owner.sh).  An
# owner that forces row security on itself is refused, as COPY FROM does,
# whatever reads the target outside the executor or must see every row to
# be right (a full load, a diff run, an append-only run, delete_missing);
# its incremental merge applies the policies, as its INSERT ... ON CONFLICT
# does.  The owner, not subject to its policies, still verifies.  Roles are
# cluster-wide: the test takes a cluster of its own.
source "$(dirname "$0")/../tap.sh"
tap_own_cluster
tap_setup_db etl_tap_row_security

etl_mysql -e "
	DROP TABLE IF EXISTS rls_src;
	CREATE TABLE rls_src (id int NOT NULL PRIMARY KEY, who varchar(10) NOT NULL, v int NOT NULL,
	                      updated datetime(6) NOT NULL);
	INSERT INTO rls_src VALUES (1, 'alice', 10, '2024-01-01 00:00:01'),
	    (2, 'alice', 20, '2024-01-01 00:00:04'), (3, 'bob', 30, '2024-01-01 00:00:02'),
	    (4, 'bob', 40, '2024-01-01 00:00:03');"
PGOPTIONS="-c client_min_messages=warning" etl_psql -q -d "$TAP_DB" -v user="$ETL_PULL_MYSQL_USER" -v password="$ETL_PULL_MYSQL_PASSWORD" <<-'SQL' >/dev/null
	CREATE ROLE alice LOGIN;
	GRANT USAGE ON FOREIGN SERVER replica TO alice;
	CREATE USER MAPPING FOR alice SERVER replica OPTIONS (user :'user', password :'password');
	SELECT etl_pull.add_table('rls_t', server => 'replica', source_table => 'rls_src');
	SELECT etl_pull.load_table('rls_t');
	-- a row only bob may see, which the source lacks
	INSERT INTO rls_t VALUES (99, 'bob', 990, '2024-01-01');
	ALTER TABLE rls_t ENABLE ROW LEVEL SECURITY;
	CREATE POLICY own ON rls_t USING (who = current_user);
	GRANT SELECT, INSERT, UPDATE, DELETE, TRUNCATE ON rls_t TO alice;
SQL
as_alice() {
	q "SET ROLE alice; $1"
}
REFUSED='is not supported with row-level security on table public.rls_t'
NOT_OWNER='ERROR:  cannot load table public.rls_t as role "alice": its row-level security applies to that role'

is "$(as_alice "SELECT string_agg(id::text, ',' ORDER BY id) FROM rls_t")" "1,2" \
	"alice sees her two rows of the five"
out=$(as_alice "SELECT status, target_rows, extra_keys FROM etl_pull.verify_table('rls_t')")
like "$out" "ERROR:  verify_table $REFUSED" "verify_table refuses a role the target's policies apply to"
like "$out" "DETAIL:  The table's policies apply to role \"alice\"" "... saying why"
ok "$([[ $out != *99* && $out != *'|5|'* ]]; echo $?)" \
	"... and shows neither the hidden key nor the count of the hidden rows"
like "$(as_alice "SELECT * FROM etl_pull.repair_table('rls_t')")" "$NOT_OWNER" "repair_table is refused"
like "$(as_alice "SELECT * FROM etl_pull.load_table('rls_t')")" "$NOT_OWNER" \
	"a full load is refused: as the owner it would replace bob's rows too, which alice may not see"
like "$(as_alice "SELECT detail FROM etl_pull.plan('rls_t', 0) WHERE section = 'privileges'")" \
	"its policies apply to this role: every load is refused .*, and so is verify_table" \
	"plan says so"
is "$(q "SELECT count(*) || ' ' || sum(v) FROM rls_t")" "5 1090" "the target is as it was"

# a diff table, an append-only table, delete_missing and a plain incremental merge, as alice:
# refused too, before anything moves
q "SELECT etl_pull.set_table_option('rls_t', 'extraction', 'diff')" >/dev/null
like "$(as_alice "SELECT * FROM etl_pull.load_table('rls_t')")" "$NOT_OWNER" "a diff run is refused"
q "SELECT etl_pull.set_table_option('rls_t', 'extraction', 'incremental');
   SELECT etl_pull.set_table_option('rls_t', 'incremental_columns', 'updated');
   SELECT etl_pull.load_table('rls_t', force_full => true);
   INSERT INTO rls_t VALUES (99, 'bob', 990, '2024-01-01')" >/dev/null
q "SELECT etl_pull.set_table_option('rls_t', 'append_only', 'true')" >/dev/null
like "$(as_alice "SELECT * FROM etl_pull.load_table('rls_t')")" "$NOT_OWNER" "an append-only run is refused"
q "SELECT etl_pull.set_table_option('rls_t', 'append_only', NULL);
   SELECT etl_pull.set_table_option('rls_t', 'delete_missing', 'true')" >/dev/null
like "$(as_alice "SELECT * FROM etl_pull.load_table('rls_t')")" "$NOT_OWNER" "delete_missing is refused"
q "SELECT etl_pull.set_table_option('rls_t', 'delete_missing', NULL)" >/dev/null
etl_mysql -e "UPDATE rls_src SET v = 11, updated = '2024-01-02' WHERE id = 1"
like "$(as_alice "SELECT * FROM etl_pull.load_table('rls_t')")" "$NOT_OWNER" \
	"an incremental merge is refused: it would merge as the owner, past alice's policies"
is "$(q "SELECT count(*) || ' ' || sum(v) FROM rls_t")" "5 1090" "the target is as it was"

# the owner is not subject to the policies: verify_table sees every row
is "$(q "SELECT status || ' ' || target_rows || ' ' || array_to_string(extra_keys, ',')
         FROM etl_pull.verify_table('rls_t')")" "different 5 id=99" \
	"the owner verifies, and finds the extra row"

# an owner that forces row security on itself (and may see all but bob's rows) is refused what
# must see every row, and its incremental merge applies the policies
q "ALTER TABLE rls_t FORCE ROW LEVEL SECURITY" >/dev/null
q "CREATE ROLE tabowner; ALTER TABLE rls_t OWNER TO tabowner;
   CREATE POLICY owner_all ON rls_t TO tabowner USING (who <> 'bob');
   GRANT USAGE ON FOREIGN SERVER replica TO tabowner;
   CREATE USER MAPPING FOR tabowner SERVER replica
     OPTIONS (user '$ETL_PULL_MYSQL_USER', password '$ETL_PULL_MYSQL_PASSWORD')" >/dev/null
as_owner() {
	q "SET ROLE tabowner; $1"
}
like "$(as_owner "SELECT * FROM etl_pull.verify_table('rls_t')")" "ERROR:  verify_table $REFUSED" \
	"an owner that forces row-level security on itself is refused verify_table"
like "$(as_owner "SELECT * FROM etl_pull.load_table('rls_t', force_full => true)")" \
	"ERROR:  a full load $REFUSED" "... a full load: it would delete only the rows the policies show"
like "$(as_owner "SELECT * FROM etl_pull.repair_table('rls_t')")" \
	"ERROR:  a diff run \\(extraction \"diff\", repair_table\\) $REFUSED" "... repair_table"
q "SELECT etl_pull.set_table_option('rls_t', 'append_only', 'true')" >/dev/null
like "$(as_owner "SELECT * FROM etl_pull.load_table('rls_t')")" "ERROR:  an append-only run $REFUSED" \
	"... an append-only run"
q "SELECT etl_pull.set_table_option('rls_t', 'append_only', NULL);
   SELECT etl_pull.set_table_option('rls_t', 'delete_missing', 'true')" >/dev/null
like "$(as_owner "SELECT * FROM etl_pull.load_table('rls_t')")" "ERROR:  delete_missing $REFUSED" \
	"... and delete_missing"
like "$(as_owner "SELECT detail FROM etl_pull.plan('rls_t', 0) WHERE section = 'privileges'")" \
	"its policies apply to this role: full loads, diff runs, repair_table, verify_table" \
	"plan says so"
q "SELECT etl_pull.set_table_option('rls_t', 'delete_missing', NULL)" >/dev/null
is "$(as_owner "SELECT extraction || ' ' || status || ' ' || merged_rows FROM etl_pull.load_table('rls_t')")" \
	"incremental succeeded 1" "its incremental merge runs, through the policies"
is "$(q "SELECT v FROM rls_t WHERE id = 1")" "11" "... and merged the changed row"
is "$(q "SELECT string_agg(status, ',' ORDER BY run_id) FROM etl_pull.runs
         WHERE table_name = 'rls_t' AND run_as = 'alice'")" "failed,failed,failed,failed,failed,failed,failed" \
	"each of alice's refusals is a failed run of hers"
is "$(q "SELECT count(*) FROM etl_pull.runs WHERE run_as = 'alice' AND (error ~ '99' OR notes ~ '99')")" \
	"0" "... whose record holds no hidden key"

done_testing
