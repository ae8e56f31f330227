/* etl_pull upgrade script, version 1.3 to 1.4 */

\echo Use "ALTER EXTENSION etl_pull UPDATE TO '1.4'" to load this file. \quit

-- Issue 25 (trust): 1.4 changes behaviour in C (loads run the target's code
-- as its owner, hostile replies refused, remote text made printable, ...).
-- Catalog changes, if any, follow below, each under the item it serves.

-- Item 5: registration adopts no table etl_pull did not create.  The
-- tables a load created (src/load/target.c), each as a regclass, so that
-- pg_dump writes it by name and a restore finds the restored table, and
-- under the name it had (a table renamed, or dropped and made again by
-- hand, is not the one created).  import_tables registers a MySQL table
-- into an existing PostgreSQL table only if etl_pull created it;
-- add_table and set_table_option('target_table') name an existing table
-- etl_pull did not create only for a role that owns it
-- (check_target_adoptable, called by check_target_free, which both call).
-- Written and read by the extension's owner, as watermarks are; no row for
-- the targets made before 1.4, which are adopted by nobody.
CREATE TABLE etl_pull.created_targets (
    target      regclass PRIMARY KEY,
    target_name text NOT NULL,
    table_name  text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT pg_catalog.now()
);
COMMENT ON TABLE etl_pull.created_targets IS
    'the target tables etl_pull''s loads created (as quoted schema.table then), and for which registered table';
SELECT pg_catalog.pg_extension_config_dump('etl_pull.created_targets', '');
REVOKE ALL ON etl_pull.created_targets FROM PUBLIC;
GRANT SELECT ON etl_pull.created_targets TO etl_pull_admin;

-- Raise an error unless the role registering "name" (the current role
-- outside any SECURITY DEFINER function, as for pg_settings' rights) may
-- make its target an existing table: one etl_pull created, or one it owns
CREATE FUNCTION etl_pull.check_target_adoptable(name text, target_table text)
RETURNS void
AS 'MODULE_PATHNAME', 'etl_pull_check_target_adoptable'
LANGUAGE C;
REVOKE EXECUTE ON FUNCTION etl_pull.check_target_adoptable(text, text) FROM PUBLIC;

CREATE OR REPLACE FUNCTION etl_pull.check_target_free(name text, target_table text)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    other text;
    target text := etl_pull.target_of(check_target_free.name, check_target_free.target_table);
BEGIN
    SELECT t.name INTO other FROM etl_pull.tables t
     WHERE t.name OPERATOR(pg_catalog.<>) check_target_free.name
       AND etl_pull.target_of(t.name, t.target_table) OPERATOR(pg_catalog.=) target
     LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'table "%" already loads into %', other, target
              USING ERRCODE = 'duplicate_object',
                    HINT = 'Give each registered table a target of its own with "target_table".';
    END IF;
    PERFORM etl_pull.check_target_adoptable(check_target_free.name, check_target_free.target_table);
END
$$;

-- Item 11: verify_table compares JSON documents (by their text into json or
-- text, by a normal form into jsonb); a column it cannot compare (JSON into
-- jsonb from a server without JSON_NORMALIZE) is named in
-- uncompared_columns, and the status is then 'not comparable' rather than
-- 'equal' when nothing else differs.  A new result column: the function is
-- created again.
DROP FUNCTION etl_pull.verify_table(text, integer);
CREATE FUNCTION etl_pull.verify_table(name text, max_keys integer DEFAULT 10,
                                      OUT run_id bigint, OUT table_name text,
                                      OUT status text,
                                      OUT source_rows bigint, OUT target_rows bigint,
                                      OUT ranges integer, OUT differing_ranges integer,
                                      OUT missing_rows bigint, OUT extra_rows bigint,
                                      OUT different_rows bigint,
                                      OUT missing_keys text[], OUT extra_keys text[],
                                      OUT different_keys text[],
                                      OUT rows_located boolean,
                                      OUT seconds double precision,
                                      OUT uncompared_columns text[])
RETURNS record
AS 'MODULE_PATHNAME', 'etl_pull_verify_table'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION etl_pull.verify_table(text, integer) IS
    'compares a registered table''s target with its MySQL source, range hashes bisected to rows; status equal, different, or not comparable (uncompared_columns)';

-- Issue 29 item 12: the functions that write etl_pull.tables are C
-- (src/catalog/register.c), so that their errors carry no PL/pgSQL
-- context; keys, choices and booleans are taken in any case and stored as
-- etl_pull.table_settings() spells them, integers as digits.  Their
-- signatures, defaults, rights and comments are unchanged.
CREATE OR REPLACE FUNCTION etl_pull.check_target_free(name text, target_table text)
RETURNS void
AS 'MODULE_PATHNAME', 'etl_pull_check_target_free'
LANGUAGE C
SET search_path = pg_catalog, pg_temp;

CREATE OR REPLACE FUNCTION etl_pull.add_table(name text, server text,
                                              source_table text DEFAULT NULL,
                                              target_table text DEFAULT NULL)
RETURNS void
AS 'MODULE_PATHNAME', 'etl_pull_add_table'
LANGUAGE C
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp;

CREATE OR REPLACE FUNCTION etl_pull.store_table_option(name text, key text, value text)
RETURNS void
AS 'MODULE_PATHNAME', 'etl_pull_store_table_option'
LANGUAGE C
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp;

-- Runs as the caller only to resolve column_types' type names in the
-- caller's search_path (stored schema-qualified); storing is the owner's
CREATE OR REPLACE FUNCTION etl_pull.set_table_option(name text, key text, value text)
RETURNS void
AS 'MODULE_PATHNAME', 'etl_pull_set_table_option'
LANGUAGE C;

-- Issue 29 item 4: what a comparison found, in a column a monitor can
-- query.  verify_table and a load with the setting verify (count or full)
-- record 'equal', 'different' or 'not comparable' (no difference found,
-- but some columns could not be compared); NULL for a run that compared
-- nothing.  Not the status: status says whether the run completed (a
-- verify that finds a difference did its work and succeeded; a load whose
-- check finds one failed and rolled back), this column what the
-- comparison saw.
ALTER TABLE etl_pull.runs
    ADD COLUMN verify_status text
        CHECK (verify_status IN ('equal', 'different', 'not comparable'));
COMMENT ON COLUMN etl_pull.runs.verify_status IS
    'what the run''s comparison with the source found (verify_table, setting verify): equal, different, not comparable; NULL when it compared nothing';

-- Issue 29 item 11: a baseline is a successful load (not a verify run, a
-- failed or a skipped one), and a run is compared only with a baseline of
-- its own extraction (full with full, incremental with incremental, diff
-- with diff): run_comparison's speedup and memory_improvement are NULL
-- otherwise, baseline_extraction says why, and performance_report says
-- "no baseline of this kind".
CREATE OR REPLACE FUNCTION etl_pull.set_baseline(run_id bigint)
RETURNS void
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    r record;
BEGIN
    SELECT x.table_name, x.status, x.strategy INTO r FROM etl_pull.runs x
     WHERE x.run_id OPERATOR(pg_catalog.=) set_baseline.run_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'run % does not exist', set_baseline.run_id
              USING ERRCODE = 'undefined_object',
                    HINT = 'Choose a run_id of etl_pull.runs.';
    END IF;
    IF r.strategy OPERATOR(pg_catalog.=) 'verify' THEN
        RAISE EXCEPTION 'run % is a verify run, not a load', set_baseline.run_id
              USING ERRCODE = 'invalid_parameter_value',
                    HINT = 'A baseline is a successful load: choose a run whose strategy is not "verify".';
    END IF;
    IF r.status OPERATOR(pg_catalog.<>) 'succeeded' THEN
        RAISE EXCEPTION 'run % is not a successful load', set_baseline.run_id
              USING ERRCODE = 'invalid_parameter_value',
                    DETAIL = pg_catalog.format('Its status is "%s".', r.status),
                    HINT = 'A baseline is a successful load: choose a run whose status is "succeeded".';
    END IF;
    UPDATE etl_pull.runs x SET is_baseline = false
     WHERE x.table_name OPERATOR(pg_catalog.=) r.table_name AND x.is_baseline;
    UPDATE etl_pull.runs x SET is_baseline = true
     WHERE x.run_id OPERATOR(pg_catalog.=) set_baseline.run_id;
END
$$;
COMMENT ON FUNCTION etl_pull.set_baseline(bigint) IS
    'marks a successful load as its table''s baseline for etl_pull.run_comparison (runs of the same extraction are compared with it)';

CREATE OR REPLACE VIEW etl_pull.run_comparison AS
SELECT l.table_name,
       l.run_id, l.strategy, l.extraction, l.rows, l.seconds, l.rows_per_sec,
       l.peak_memory_kb,
       b.run_id AS baseline_run_id, b.strategy AS baseline_strategy,
       b.rows_per_sec AS baseline_rows_per_sec, b.peak_memory_kb AS baseline_peak_memory_kb,
       CASE WHEN b.extraction IS NOT DISTINCT FROM l.extraction
            THEN pg_catalog.round((l.rows_per_sec OPERATOR(pg_catalog./) NULLIF(b.rows_per_sec, 0))::pg_catalog.numeric, 2)
       END AS speedup,
       CASE WHEN b.extraction IS NOT DISTINCT FROM l.extraction
            THEN pg_catalog.round((b.peak_memory_kb::pg_catalog.numeric OPERATOR(pg_catalog./) NULLIF(l.peak_memory_kb, 0)), 2)
       END AS memory_improvement,
       s.status AS last_status, s.finished_at AS last_finished_at,
       b.extraction AS baseline_extraction
  FROM (SELECT DISTINCT ON (r.table_name) r.* FROM etl_pull.runs r
         WHERE r.status OPERATOR(pg_catalog.=) 'succeeded'
           AND r.strategy IS DISTINCT FROM 'verify'
         ORDER BY r.table_name, r.run_id DESC) l
  JOIN (SELECT DISTINCT ON (r.table_name) r.* FROM etl_pull.runs r
         WHERE r.strategy IS DISTINCT FROM 'verify'
           AND r.status OPERATOR(pg_catalog.<>) 'skipped'
         ORDER BY r.table_name, r.run_id DESC) s USING (table_name)
  LEFT JOIN etl_pull.runs b ON b.table_name OPERATOR(pg_catalog.=) l.table_name AND b.is_baseline;
COMMENT ON VIEW etl_pull.run_comparison IS
    'each table''s latest successful load against its baseline when that is of the same extraction: speedup (rows/s) and memory improvement';

CREATE OR REPLACE FUNCTION etl_pull.performance_report()
RETURNS text
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
SELECT E'# etl_pull performance report\n\n'
    || E'| table | strategy | rows | seconds | rows/s | peak memory | speed vs baseline | memory vs baseline | last status |\n'
    || E'|---|---|---:|---:|---:|---:|---:|---:|---|\n'
    || coalesce(string_agg(format('| %s | %s | %s | %s | %s | %s | %s | %s | %s |',
            c.table_name, c.strategy, c.rows, round(c.seconds::numeric, 2),
            round(c.rows_per_sec::numeric), coalesce(c.peak_memory_kb || ' kB', '-'),
            CASE WHEN c.baseline_run_id IS NULL THEN '-'
                 WHEN c.baseline_extraction IS DISTINCT FROM c.extraction
                 THEN 'no baseline of this kind'
                 ELSE coalesce(c.speedup || 'x', '-') END,
            CASE WHEN c.baseline_run_id IS NULL THEN '-'
                 WHEN c.baseline_extraction IS DISTINCT FROM c.extraction
                 THEN 'no baseline of this kind'
                 ELSE coalesce(c.memory_improvement || 'x', '-') END,
            c.last_status), E'\n' ORDER BY c.table_name), '(no runs yet)')
    || E'\n'
  FROM etl_pull.run_comparison c
$$;

-- Issue 29, item 10: housekeeping.  etl_pull.runs keeps a row per run
-- forever; purge_runs deletes the runs that started before now() minus
-- "older_than", with the rows they rejected (etl_pull.rejects), but never
-- a table's baseline, its "keep_per_table" latest runs, nor its latest
-- successful run of each kind (load, verify): what run_comparison and
-- performance_report read.  etl_pull_admin's; runs as the extension's
-- owner, as set_baseline does.  Returns the number of runs deleted.
CREATE FUNCTION etl_pull.purge_runs(older_than interval, keep_per_table integer DEFAULT 1)
RETURNS bigint
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    purged bigint;
BEGIN
    IF purge_runs.older_than IS NULL
       OR purge_runs.older_than OPERATOR(pg_catalog.<) interval '0' THEN
        RAISE EXCEPTION 'older_than must be an interval of zero or more, not %',
              coalesce(purge_runs.older_than::text, 'NULL')
              USING ERRCODE = 'invalid_parameter_value',
                    HINT = 'Give the age of the runs to delete, such as interval ''90 days''.';
    END IF;
    IF purge_runs.keep_per_table IS NULL
       OR purge_runs.keep_per_table OPERATOR(pg_catalog.<) 1 THEN
        RAISE EXCEPTION 'keep_per_table must be 1 or more, not %',
              coalesce(purge_runs.keep_per_table::text, 'NULL')
              USING ERRCODE = 'invalid_parameter_value',
                    HINT = 'Each table keeps at least its latest run.';
    END IF;
    WITH ranked AS (
        SELECT r.run_id, r.started_at, r.is_baseline, r.status,
               pg_catalog.row_number() OVER (PARTITION BY r.table_name
                                             ORDER BY r.run_id DESC) AS nth,
               pg_catalog.row_number() OVER (PARTITION BY r.table_name, r.status,
                                                          r.strategy IS NOT DISTINCT FROM 'verify'
                                             ORDER BY r.run_id DESC) AS nth_of_kind
          FROM etl_pull.runs r
    ), gone AS (
        DELETE FROM etl_pull.runs r
         USING ranked k
         WHERE k.run_id OPERATOR(pg_catalog.=) r.run_id
           AND k.started_at OPERATOR(pg_catalog.<)
               (pg_catalog.now() OPERATOR(pg_catalog.-) purge_runs.older_than)
           AND NOT k.is_baseline
           AND k.nth OPERATOR(pg_catalog.>) purge_runs.keep_per_table
           AND NOT (k.status OPERATOR(pg_catalog.=) 'succeeded'
                    AND k.nth_of_kind OPERATOR(pg_catalog.=) 1)
        RETURNING r.run_id
    ), rejected AS (
        DELETE FROM etl_pull.rejects j
         USING gone g
         WHERE j.run_id OPERATOR(pg_catalog.=) g.run_id
    )
    SELECT pg_catalog.count(*) INTO purged FROM gone;
    RETURN purged;
END
$$;
COMMENT ON FUNCTION etl_pull.purge_runs(interval, integer) IS
    'deletes the runs older than older_than and their rejected rows, keeping each table''s baseline, its keep_per_table latest runs and its latest successful load and verify';
REVOKE EXECUTE ON FUNCTION etl_pull.purge_runs(interval, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION etl_pull.purge_runs(interval, integer) TO etl_pull_admin;

-- Item 10: a registered table names its server (etl_pull.tables.server).
-- DROP SERVER (or DROP OWNED) of a server that registered tables load
-- from is refused, naming them; ALTER SERVER ... RENAME TO carries the new
-- name over to them (src/catalog/server_ddl.c).  Both event triggers are
-- the extension's: DROP EXTENSION drops them.
CREATE FUNCTION etl_pull.refuse_server_drop()
RETURNS event_trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    srv text;
    users text;
BEGIN
    SELECT o.address_names[1],
           pg_catalog.string_agg(pg_catalog.format('"%s"', t.name), ', ' ORDER BY t.name)
      INTO srv, users
      FROM pg_catalog.pg_event_trigger_dropped_objects() o
      JOIN etl_pull.tables t ON t.server OPERATOR(pg_catalog.=) o.address_names[1]
     WHERE o.object_type OPERATOR(pg_catalog.=) 'server'
     GROUP BY o.address_names[1]
     ORDER BY o.address_names[1]
     LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'cannot drop server "%" because registered tables load from it', srv
              USING ERRCODE = 'dependent_objects_still_exist',
                    DETAIL = pg_catalog.format('etl_pull tables loading from server "%s": %s.', srv, users),
                    HINT = 'Unregister them with etl_pull.remove_table() first.';
    END IF;
END
$$;
COMMENT ON FUNCTION etl_pull.refuse_server_drop() IS
    'event trigger: refuses to drop a server that registered tables load from';
CREATE EVENT TRIGGER etl_pull_server_drop ON sql_drop
    WHEN TAG IN ('DROP SERVER', 'DROP OWNED')
    EXECUTE FUNCTION etl_pull.refuse_server_drop();

CREATE FUNCTION etl_pull.server_renamed()
RETURNS event_trigger
AS 'MODULE_PATHNAME', 'etl_pull_server_renamed'
LANGUAGE C
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION etl_pull.server_renamed() IS
    'event trigger: the registered tables of a renamed server take its new name';
REVOKE EXECUTE ON FUNCTION etl_pull.server_renamed() FROM PUBLIC;
CREATE EVENT TRIGGER etl_pull_server_rename ON ddl_command_end
    WHEN TAG IN ('ALTER SERVER')
    EXECUTE FUNCTION etl_pull.server_renamed();

-- Issue 29, items 7 and 9: scheduling with pg_cron from any database.
-- pg_cron keeps its jobs in cron.database_name; a table registered in
-- another database is scheduled there with cron.schedule_in_database by a
-- background worker (src/commands/cron.c).  A job loads one table, in a
-- transaction of its own.  Its name is "etl_pull: <name>" in pg_cron's
-- database, "etl_pull: <database>: <name>" in another (a digest when too
-- long); a job of that name that runs something else is not overwritten.
-- unschedule and remove_table remove the jobs that load the table, found
-- by their command and database.
CREATE FUNCTION etl_pull.cron_unschedule_load(name text, removing_table boolean)
RETURNS bigint
AS 'MODULE_PATHNAME', 'etl_pull_cron_unschedule_load'
LANGUAGE C STRICT VOLATILE;
COMMENT ON FUNCTION etl_pull.cron_unschedule_load(text, boolean) IS
    'removes the pg_cron jobs that load the table of this database, as far as the caller sees them; NULL without pg_cron';

CREATE OR REPLACE FUNCTION etl_pull.schedule(name text, schedule text)
RETURNS bigint
AS 'MODULE_PATHNAME', 'etl_pull_schedule'
LANGUAGE C STRICT
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION etl_pull.schedule(text, text) IS
    'schedules a table''s load with pg_cron, from any database (job "etl_pull: <name>", or "etl_pull: <database>: <name>" outside pg_cron''s database); returns the job id';

CREATE OR REPLACE FUNCTION etl_pull.unschedule(name text)
RETURNS boolean
AS 'MODULE_PATHNAME', 'etl_pull_unschedule'
LANGUAGE C STRICT
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION etl_pull.unschedule(text) IS
    'removes the pg_cron jobs that load a table of this database; false when there was none';

-- remove_table takes the table's pg_cron jobs with it (every role's: it
-- runs as the extension's owner), saying which
CREATE OR REPLACE FUNCTION etl_pull.remove_table(name text)
RETURNS void
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    DELETE FROM etl_pull.tables t WHERE t.name OPERATOR(pg_catalog.=) remove_table.name;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'table "%" is not registered with etl_pull', remove_table.name
              USING ERRCODE = 'undefined_object';
    END IF;
    PERFORM etl_pull.cron_unschedule_load(remove_table.name, true);
END
$$;
COMMENT ON FUNCTION etl_pull.remove_table(text) IS
    'unregisters a table and removes the pg_cron jobs that load it (its target table and run history stay)';

-- Issue 29, item 5: a load that on_busy = skip skips is recorded, with
-- status 'skipped' (no strategy, no extraction, a note saying why).
-- run_comparison, and so performance_report, compare loads: a skipped
-- run is not one, so its "last status" is that of the latest load (the
-- view is defined once, with item 11's changes, above).
ALTER TABLE etl_pull.runs DROP CONSTRAINT runs_status_check;
ALTER TABLE etl_pull.runs ADD CONSTRAINT runs_status_check
    CHECK (status IN ('succeeded', 'failed', 'skipped'));
