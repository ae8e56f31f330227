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

-- Issue 29, item 5: a load that on_busy = skip skips is recorded, with
-- status 'skipped' (no strategy, no extraction, a note saying why).
-- run_comparison, and so performance_report, compare loads: a skipped
-- run is not one, so its "last status" is that of the latest load.
ALTER TABLE etl_pull.runs DROP CONSTRAINT runs_status_check;
ALTER TABLE etl_pull.runs ADD CONSTRAINT runs_status_check
    CHECK (status IN ('succeeded', 'failed', 'skipped'));
CREATE OR REPLACE VIEW etl_pull.run_comparison AS
SELECT l.table_name,
       l.run_id, l.strategy, l.extraction, l.rows, l.seconds, l.rows_per_sec,
       l.peak_memory_kb,
       b.run_id AS baseline_run_id, b.strategy AS baseline_strategy,
       b.rows_per_sec AS baseline_rows_per_sec, b.peak_memory_kb AS baseline_peak_memory_kb,
       pg_catalog.round((l.rows_per_sec OPERATOR(pg_catalog./) NULLIF(b.rows_per_sec, 0))::pg_catalog.numeric, 2) AS speedup,
       pg_catalog.round((b.peak_memory_kb::pg_catalog.numeric OPERATOR(pg_catalog./) NULLIF(l.peak_memory_kb, 0)), 2) AS memory_improvement,
       s.status AS last_status, s.finished_at AS last_finished_at
  FROM (SELECT DISTINCT ON (r.table_name) r.* FROM etl_pull.runs r
         WHERE r.status OPERATOR(pg_catalog.=) 'succeeded'
           AND r.strategy IS DISTINCT FROM 'verify'
         ORDER BY r.table_name, r.run_id DESC) l
  JOIN (SELECT DISTINCT ON (r.table_name) r.* FROM etl_pull.runs r
         WHERE r.strategy IS DISTINCT FROM 'verify'
           AND r.status OPERATOR(pg_catalog.<>) 'skipped'
         ORDER BY r.table_name, r.run_id DESC) s USING (table_name)
  LEFT JOIN etl_pull.runs b ON b.table_name OPERATOR(pg_catalog.=) l.table_name AND b.is_baseline;
