# A load runs the target's code as the target's owner, never with the
# caller's greater rights (issue 25, item 4).
#
# An etl_pull_admin member that is no superuser registers tables whose
# targets it owns, each with code of its own that records current_user and
# session_user and, when it finds itself running as a superuser, makes the
# admin one (ALTER ROLE ... SUPERUSER): (a) BEFORE and AFTER triggers,
# (b) a column default, (c) a CHECK constraint, (d) a functional index,
# (e) a domain's CHECK.  A superuser (the nightly pg_cron job, say) then
# loads each with every strategy that can load it (stream, parallel, copy,
# standard), incremental runs (the C merge and the SQL merge through a
# staging table), a diff run (repair_table) and load_all.  After each load
# the admin must still be no superuser, and the code must have run as the
# admin.  Code that tries what the admin may not do (ALTER ROLE
# unconditionally), or what a security-restricted operation forbids (a
# temporary table), fails the load cleanly, and leaves the session the
# caller's.  Around it: a load into the caller's own target runs its code
# as the caller; a partition owned by another role, a role subject to the
# target's row-level security, a foreign table of another role, and a
# column_types domain of the admin for a column the superuser's load would
# create (with the target, or by evolve) are refused; a load started by an
# admin's trigger runs as the admin.  On 1.3's code the admin becomes
# superuser at the first load (63 of the checks fail there).
#
# The test creates roles and changes their attributes: its own cluster.
source "$(dirname "$0")/../tap.sh"
tap_own_cluster
tap_setup_db etl_tap_run_as_owner
ADMIN=regress_owner_admin

etl_mysql -e "
	DROP TABLE IF EXISTS ro_src;
	CREATE TABLE ro_src (id bigint NOT NULL PRIMARY KEY, val int NOT NULL,
	                     note varchar(20), updated datetime(6) NOT NULL);
	INSERT INTO ro_src SELECT seq, seq, CONCAT('n', seq), '2024-01-01' + INTERVAL seq SECOND
	  FROM seq_1_to_20;"

# psql as role $1
as_role() {
	PGOPTIONS='-c client_min_messages=warning' etl_psql -d "$TAP_DB" -Atq \
		-c "SET ROLE $1" -c "$2" 2>&1
}
# psql as the admin
aq() {
	as_role "$ADMIN" "$1"
}
# the admin registers table $1, whose target is evil.$1, to load with strategy $2
register() {
	aq "SELECT etl_pull.add_table('$1', server => 'replica', source_table => 'ro_src',
	                              target_table => 'evil.$1');
	    SELECT etl_pull.set_table_option('$1', 'strategy', '$2')" >/dev/null
}
# whether the admin is a superuser now; made none again for the next check
promoted() {
	local s
	s=$(q "SELECT rolsuper FROM pg_roles WHERE rolname = '$ADMIN'")
	q "ALTER ROLE $ADMIN NOSUPERUSER" >/dev/null
	echo "$s"
}
# who ran the code of kind $1 since the log was last emptied: "current_user/session_user"
ran_as() {
	q "SELECT string_agg(DISTINCT cu || '/' || su, ' ') FROM evil.log WHERE what = '$1'"
}
# load_table as the superuser: "status rows", or the error
load() {
	q "SELECT status || ' ' || rows FROM etl_pull.$2('$1')"
}

q "CREATE ROLE $ADMIN IN ROLE etl_pull_admin;
   CREATE SCHEMA evil AUTHORIZATION $ADMIN;
   GRANT USAGE ON FOREIGN SERVER replica TO $ADMIN" >/dev/null

# the admin's code: it records who runs it, and promotes the admin when that
# is a superuser (so that a load that runs it as the admin succeeds)
aq "CREATE TABLE evil.log (what text, cu name, su name);
    CREATE FUNCTION evil.pwn(what text) RETURNS boolean LANGUAGE plpgsql AS \$f\$
    BEGIN
        INSERT INTO evil.log VALUES (what, current_user, session_user);
        IF (SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = current_user) THEN
            ALTER ROLE $ADMIN SUPERUSER;
        END IF;
        RETURN true;
    END \$f\$;
    CREATE FUNCTION evil.pwn_trigger() RETURNS trigger LANGUAGE plpgsql AS \$f\$
    BEGIN
        PERFORM evil.pwn(TG_ARGV[0]);
        RETURN NEW;
    END \$f\$;
    CREATE FUNCTION evil.pwn_index(v int) RETURNS int LANGUAGE plpgsql IMMUTABLE AS \$f\$
    BEGIN
        PERFORM evil.pwn('index');
        RETURN v;
    END \$f\$;
    CREATE DOMAIN evil.pint AS integer CHECK (evil.pwn('domain'));
    -- (a) triggers
    CREATE TABLE evil.t_trigger (id bigint PRIMARY KEY, val int, note varchar(20), updated timestamp(6));
    CREATE TRIGGER b BEFORE INSERT OR UPDATE ON evil.t_trigger
        FOR EACH ROW EXECUTE FUNCTION evil.pwn_trigger('trigger');
    CREATE TRIGGER a AFTER INSERT ON evil.t_trigger
        FOR EACH STATEMENT EXECUTE FUNCTION evil.pwn_trigger('after');
    -- (b) a default of a column the source lacks
    CREATE TABLE evil.t_default (id bigint PRIMARY KEY, val int, note varchar(20), updated timestamp(6),
                                 x boolean DEFAULT evil.pwn('default'));
    -- (c) a CHECK constraint
    CREATE TABLE evil.t_check (id bigint PRIMARY KEY, val int, note varchar(20), updated timestamp(6),
                               CHECK (evil.pwn('check')));
    -- (d) a functional index
    CREATE TABLE evil.t_index (id bigint PRIMARY KEY, val int, note varchar(20), updated timestamp(6));
    CREATE INDEX ON evil.t_index (evil.pwn_index(val));
    -- (e) a domain
    CREATE TABLE evil.t_domain (id bigint PRIMARY KEY, val evil.pint, note varchar(20), updated timestamp(6));
    -- incremental runs: the C merge (a CHECK), the SQL merge through a stage (a trigger)
    CREATE TABLE evil.t_check_inc (LIKE evil.t_check INCLUDING ALL);
    CREATE TABLE evil.t_trigger_inc (LIKE evil.t_trigger INCLUDING ALL);
    CREATE TRIGGER b BEFORE INSERT OR UPDATE ON evil.t_trigger_inc
        FOR EACH ROW EXECUTE FUNCTION evil.pwn_trigger('trigger');
    SELECT etl_pull.add_table(t, server => 'replica', source_table => 'ro_src',
                              target_table => 'evil.' || t)
      FROM unnest(ARRAY['t_trigger', 't_default', 't_check', 't_index', 't_domain',
                        't_check_inc', 't_trigger_inc']) t;
    SELECT etl_pull.set_table_option(t, 'extraction', 'incremental'),
           etl_pull.set_table_option(t, 'incremental_columns', 'updated')
      FROM unnest(ARRAY['t_check_inc', 't_trigger_inc']) t;" >/dev/null
is "$(q "SELECT count(*) FROM etl_pull.tables WHERE target_table LIKE 'evil.%'")" "7" \
	"the admin registered its seven targets"

# the trap is armed: the admin's code run by a superuser promotes the admin
q "SELECT evil.pwn('control')" >/dev/null
is "$(promoted)" "t" "control: evil.pwn() run by a superuser makes the admin superuser"

# each target with each strategy, loaded by the superuser
for case in t_trigger:copy t_trigger:standard \
	t_default:stream t_default:parallel t_default:copy t_default:standard \
	t_check:stream t_check:parallel t_check:copy t_check:standard \
	t_index:stream t_index:copy t_index:standard \
	t_domain:stream t_domain:parallel t_domain:copy t_domain:standard; do
	table=${case%%:*}
	strategy=${case#*:}
	kind=${table#t_}
	aq "SELECT etl_pull.set_table_option('$table', 'strategy', '$strategy')" >/dev/null
	q "TRUNCATE evil.log" >/dev/null
	is "$(load "$table" load_table)" "succeeded 20" "$table by $strategy: the superuser's load succeeds"
	is "$(q "SELECT strategy FROM etl_pull.runs ORDER BY run_id DESC LIMIT 1")" "$strategy" \
		"... with strategy $strategy"
	is "$(promoted)" "f" "... and the admin is no superuser"
	is "$(ran_as "$kind")" "$ADMIN/postgres" "... its $kind ran as the admin (in the superuser's session)"
done
is "$(ran_as after)" "" "(the log was emptied between loads)"
q "TRUNCATE evil.log" >/dev/null
load t_trigger load_table >/dev/null
is "$(ran_as after)" "$ADMIN/postgres" "the AFTER statement trigger ran as the admin too"

# incremental runs: the first is full, the next merges the changed rows
for table in t_check_inc t_trigger_inc; do
	is "$(load "$table" load_table)" "succeeded 20" "$table: the first (full) run succeeds"
	is "$(promoted)" "f" "... and the admin is no superuser"
done
etl_mysql -e "UPDATE ro_src SET val = val + 100, updated = '2025-01-01' WHERE id IN (3, 4)"
for table in t_check_inc t_trigger_inc; do
	kind=${table#t_}
	kind=${kind%_inc}
	q "TRUNCATE evil.log" >/dev/null
	is "$(q "SELECT status || ' ' || extraction || ' ' || merged_rows FROM etl_pull.load_table('$table')")" \
		"succeeded incremental 2" "$table: the incremental run merges the 2 changed rows"
	is "$(promoted)" "f" "... and the admin is no superuser"
	is "$(ran_as "$kind")" "$ADMIN/postgres" "... its $kind ran as the admin"
done
like "$(q "SELECT strategy_reason FROM etl_pull.runs WHERE table_name = 't_trigger_inc' ORDER BY run_id DESC LIMIT 1")" \
	"staged, then merged by primary key in SQL" "(t_trigger_inc merged through its temporary stage)"

# a diff run (repair_table) of the domain's target
q "UPDATE evil.t_domain SET note = 'changed' WHERE id = 5" >/dev/null
q "TRUNCATE evil.log" >/dev/null
is "$(q "SELECT status || ' ' || merged_rows FROM etl_pull.repair_table('t_domain')")" "succeeded 3" \
	"repair_table of t_domain merges the 3 rows that differ"
is "$(promoted)" "f" "... and the admin is no superuser"
is "$(ran_as domain)" "$ADMIN/postgres" "... its domain ran as the admin"

# load_all, in its background workers
aq "SELECT etl_pull.set_table_option(t, 'load_group', 'evil')
      FROM unnest(ARRAY['t_trigger', 't_default', 't_check', 't_index', 't_domain']) t;
    SELECT etl_pull.set_table_option('t_default', 'strategy', 'stream')" >/dev/null
q "TRUNCATE evil.log" >/dev/null
is "$(q "SELECT string_agg(status, ' ') FROM etl_pull.load_all('evil', 2)")" \
	"succeeded succeeded succeeded succeeded succeeded" "load_all of the admin's five targets succeeds"
is "$(promoted)" "f" "... and the admin is no superuser"
is "$(q "SELECT string_agg(DISTINCT what, ' ' ORDER BY what) || ': ' || string_agg(DISTINCT cu || '/' || su, ' ') FROM evil.log")" \
	"after check default domain index trigger: $ADMIN/postgres" "... every kind of code ran as the admin"

# code that tries what the admin may not do fails the load, cleanly
aq "CREATE TABLE evil.t_loud (LIKE evil.t_trigger INCLUDING ALL);
    CREATE FUNCTION evil.loud() RETURNS trigger LANGUAGE plpgsql AS \$f\$
    BEGIN
        ALTER ROLE $ADMIN SUPERUSER;
        RETURN NEW;
    END \$f\$;
    CREATE TRIGGER loud BEFORE INSERT ON evil.t_loud FOR EACH ROW EXECUTE FUNCTION evil.loud();
    CREATE TABLE evil.t_temp (LIKE evil.t_trigger INCLUDING ALL);
    CREATE FUNCTION evil.temp() RETURNS trigger LANGUAGE plpgsql AS \$f\$
    BEGIN
        CREATE TEMP TABLE IF NOT EXISTS planted (x int);
        RETURN NEW;
    END \$f\$;
    CREATE TRIGGER temp BEFORE INSERT ON evil.t_temp FOR EACH ROW EXECUTE FUNCTION evil.temp();
    SELECT etl_pull.add_table(t, server => 'replica', source_table => 'ro_src',
                              target_table => 'evil.' || t)
      FROM unnest(ARRAY['t_loud', 't_temp']) t" >/dev/null
like "$(load t_loud load_table)" "ERROR: .*(permission denied|must be superuser)" \
	"a trigger that runs ALTER ROLE ... SUPERUSER fails the superuser's load"
is "$(promoted)" "f" "... and the admin is no superuser"
is "$(q "SELECT status FROM etl_pull.runs WHERE table_name = 't_loud' ORDER BY run_id DESC LIMIT 1")" \
	"failed" "... and the failed run is recorded"
like "$(load t_temp load_table)" "cannot create temporary table within security-restricted operation" \
	"a trigger that creates a temporary table fails: it runs as a security-restricted operation"
is "$(q "SELECT count(*) FROM evil.t_temp")" "0" "... and writes nothing"

# in one session, after a load that failed (its error caught) and one
# that succeeded: the caller's role and search_path are back, and the
# security restriction is lifted (a temporary table may be created)
is "$(q "DO \$\$BEGIN
             PERFORM etl_pull.load_table('t_loud');
         EXCEPTION WHEN insufficient_privilege THEN NULL;
         END\$\$;
         DO \$\$BEGIN PERFORM etl_pull.load_table('t_trigger'); END\$\$;
         CREATE TEMP TABLE after_loads (x int);
         SELECT current_user || ' ' || current_setting('search_path') || ' ' || count(*)
           FROM pg_class WHERE relname = 'after_loads'")" 'postgres "$user", public 1' \
	"after the loads the session is the caller's again, unrestricted"
is "$(promoted)" "f" "... and the admin is no superuser"

# the caller's own target: its code runs as the caller, and loads as before
q "CREATE FUNCTION public.note(what text) RETURNS boolean LANGUAGE sql AS
       \$f\$INSERT INTO evil.log VALUES (what, current_user, session_user) RETURNING true\$f\$;
   CREATE FUNCTION public.note_trigger() RETURNS trigger LANGUAGE plpgsql AS
       \$f\$BEGIN PERFORM public.note(TG_ARGV[0]); RETURN NEW; END\$f\$;
   CREATE TABLE public.t_own (id bigint PRIMARY KEY, val int, note varchar(20), updated timestamp(6),
                              x boolean DEFAULT public.note('own default'));
   CREATE TRIGGER own BEFORE INSERT ON public.t_own
       FOR EACH ROW EXECUTE FUNCTION public.note_trigger('own trigger');
   SELECT etl_pull.add_table('t_own', server => 'replica', source_table => 'ro_src')" >/dev/null
q "TRUNCATE evil.log" >/dev/null
is "$(load t_own load_table)" "succeeded 20" "a load into the superuser's own target succeeds"
is "$(ran_as 'own trigger') $(ran_as 'own default')" "postgres/postgres postgres/postgres" \
	"... and its trigger and default ran as the superuser, its owner"

# a caller that is the owner lends no rights: no restriction, so a deferred foreign key (which a
# security-restricted operation may not queue) and a trigger's temporary table work as in its own
# INSERT; the same target of the admin's fails the superuser's load, restricted
q "CREATE TABLE public.t_ref (id bigint PRIMARY KEY);
   INSERT INTO public.t_ref SELECT generate_series(1, 20);
   CREATE FUNCTION public.temp_trigger() RETURNS trigger LANGUAGE plpgsql AS
       \$f\$BEGIN CREATE TEMP TABLE IF NOT EXISTS own_scratch (x int); RETURN NEW; END\$f\$;
   CREATE TABLE public.t_own_fk (id bigint PRIMARY KEY
                                     REFERENCES public.t_ref DEFERRABLE INITIALLY DEFERRED,
                                 val int, note varchar(20), updated timestamp(6));
   CREATE TRIGGER scratch BEFORE INSERT ON public.t_own_fk
       FOR EACH ROW EXECUTE FUNCTION public.temp_trigger();
   SELECT etl_pull.add_table('t_own_fk', server => 'replica', source_table => 'ro_src')" >/dev/null
is "$(load t_own_fk load_table)" "succeeded 20" \
	"the superuser's own target with a deferred foreign key and a trigger's temporary table loads"
q "ALTER TABLE public.t_own_fk OWNER TO $ADMIN; GRANT SELECT, REFERENCES ON public.t_ref TO $ADMIN" >/dev/null
like "$(load t_own_fk load_table)" "cannot fire deferred trigger within security-restricted operation|cannot create temporary table within security-restricted operation" \
	"... and, once the admin owns it, fails the superuser's restricted load"
is "$(q "SELECT count(*) FROM public.t_own_fk")" "20" "... its rows kept"

# a partition owned by another role: its code would run as the root's owner
q "CREATE TABLE public.t_parts (id bigint PRIMARY KEY, val int, note varchar(20), updated timestamp(6))
       PARTITION BY RANGE (id);
   CREATE TABLE public.t_parts_1 PARTITION OF public.t_parts FOR VALUES FROM (MINVALUE) TO (10);
   CREATE TABLE public.t_parts_2 (LIKE public.t_parts);
   ALTER TABLE public.t_parts_2 OWNER TO $ADMIN;
   ALTER TABLE public.t_parts ATTACH PARTITION public.t_parts_2 FOR VALUES FROM (10) TO (MAXVALUE);
   SELECT etl_pull.add_table('t_parts', server => 'replica', source_table => 'ro_src')" >/dev/null
aq "CREATE TRIGGER part BEFORE INSERT ON public.t_parts_2
        FOR EACH ROW EXECUTE FUNCTION evil.pwn_trigger('partition')" >/dev/null
like "$(load t_parts load_table)" 'partition public.t_parts_2 of table public.t_parts is owned by role "regress_owner_admin"' \
	"a partitioned target with a partition of another owner is refused"
is "$(promoted)" "f" "... and the admin is no superuser"
q "DROP TRIGGER part ON public.t_parts_2; ALTER TABLE public.t_parts_2 OWNER TO postgres" >/dev/null
is "$(load t_parts load_table)" "succeeded 20" "... and loads once its partitions are the root owner's"

# a load started by a trigger of the admin's target runs as the admin:
# it may not load the superuser's own table
q "TRUNCATE public.t_own" >/dev/null
aq "CREATE TABLE evil.t_nest (LIKE evil.t_trigger INCLUDING ALL);
    CREATE FUNCTION evil.nest() RETURNS trigger LANGUAGE plpgsql AS \$f\$
    BEGIN
        IF NEW.id = 1 THEN
            PERFORM etl_pull.load_table('t_own');
        END IF;
        RETURN NEW;
    END \$f\$;
    CREATE TRIGGER nest BEFORE INSERT ON evil.t_nest FOR EACH ROW EXECUTE FUNCTION evil.nest()" >/dev/null
register t_nest copy
like "$(load t_nest load_table)" "permission denied for table t_own" \
	"a load started by the admin's trigger runs with the admin's rights"
is "$(q "SELECT run_as FROM etl_pull.runs WHERE table_name = 't_own' ORDER BY run_id DESC LIMIT 1")" \
	"$ADMIN" "... and its run is recorded as the admin's"
is "$(q "SELECT count(*) FROM public.t_own")" "0" "... and the superuser's table is not loaded"
is "$(promoted)" "f" "... and the admin is no superuser"

# a role subject to the target's row-level security: writing as the owner
# would bypass the policies that restrict it
q "CREATE ROLE regress_owner_loader;
   CREATE USER MAPPING FOR regress_owner_loader SERVER replica
       OPTIONS (user '$ETL_PULL_MYSQL_USER', password '$ETL_PULL_MYSQL_PASSWORD');
   GRANT USAGE ON FOREIGN SERVER replica TO regress_owner_loader;
   GRANT USAGE ON SCHEMA evil TO regress_owner_loader" >/dev/null
aq "CREATE TABLE evil.t_rls (LIKE evil.t_trigger INCLUDING ALL);
    ALTER TABLE evil.t_rls ENABLE ROW LEVEL SECURITY;
    CREATE POLICY small ON evil.t_rls USING (id < 5);
    GRANT SELECT, INSERT, DELETE ON evil.t_rls TO regress_owner_loader" >/dev/null
register t_rls standard
like "$(as_role regress_owner_loader "SELECT status FROM etl_pull.load_table('t_rls')")" \
	'cannot load table evil.t_rls as role "regress_owner_loader": its row-level security applies to that role' \
	"a role subject to the target's row-level security is refused"
is "$(q "SELECT count(*) FROM evil.t_rls")" "0" "... and nothing is written"

# ... and one that is a foreign table of another role: as its owner, the
# load would write through the owner's user mapping
q "CREATE EXTENSION postgres_fdw;
   CREATE SERVER loop FOREIGN DATA WRAPPER postgres_fdw OPTIONS (dbname '$TAP_DB');
   GRANT USAGE ON FOREIGN SERVER loop TO $ADMIN" >/dev/null
aq "CREATE USER MAPPING FOR $ADMIN SERVER loop OPTIONS (user '$ADMIN', password 'secret');
    CREATE FOREIGN TABLE evil.t_ft (id bigint, val int, note varchar(20), updated timestamp(6))
        SERVER loop OPTIONS (table_name 'nowhere');
    GRANT INSERT, DELETE ON evil.t_ft TO regress_owner_loader" >/dev/null
register t_ft standard
like "$(as_role regress_owner_loader "SELECT status FROM etl_pull.load_table('t_ft')")" \
	'cannot load table evil.t_ft as role "regress_owner_loader": it is a foreign table of role "regress_owner_admin"' \
	"a role without the owner's rights may not write a foreign table through the owner's user mapping"

# column_types naming the admin's domain for a target the superuser's load
# creates: the domain would run as the superuser, the created target's owner
aq "SELECT etl_pull.add_table('t_created', server => 'replica', source_table => 'ro_src');
    SELECT etl_pull.set_table_option('t_created', 'column_types', 'val:evil.pint')" >/dev/null
like "$(load t_created load_table)" 'domain evil.pint of column "val" is owned by role "regress_owner_admin"' \
	"a created target's column_types domain owned by the admin is refused"
is "$(promoted)" "f" "... and the admin is no superuser"
is "$(q "SELECT to_regclass('public.t_created') IS NULL")" "t" "... and no target is created"
aq "SELECT etl_pull.set_table_option('t_created', 'column_types', NULL)" >/dev/null
is "$(load t_created load_table)" "succeeded 20" "... and without it the load creates the target"
# ... nor for a column evolve adds to the superuser's target
etl_mysql -e "ALTER TABLE ro_src ADD COLUMN extra int NOT NULL DEFAULT 1"
aq "SELECT etl_pull.set_table_option('t_created', 'on_schema_change', 'evolve');
    SELECT etl_pull.set_table_option('t_created', 'column_types', 'extra:evil.pint')" >/dev/null
like "$(load t_created load_table)" 'domain evil.pint of column "extra" is owned by role "regress_owner_admin"' \
	"a column_types domain of the admin for a column evolve would add is refused"
is "$(promoted)" "f" "... and the admin is no superuser"
is "$(q "SELECT count(*) FROM pg_attribute WHERE attrelid = 'public.t_created'::regclass AND attname = 'extra'")" \
	"0" "... and the target is not altered"

q "DROP SCHEMA evil CASCADE; DROP OWNED BY regress_owner_loader; DROP OWNED BY $ADMIN;
   DROP USER MAPPING IF EXISTS FOR $ADMIN SERVER loop; DROP SERVER loop;
   DROP USER MAPPING FOR regress_owner_loader SERVER replica;
   DROP ROLE regress_owner_loader; DROP ROLE $ADMIN" >/dev/null
done_testing
