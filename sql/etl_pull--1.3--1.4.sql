/* etl_pull upgrade script, version 1.3 to 1.4 */

\echo Use "ALTER EXTENSION etl_pull UPDATE TO '1.4'" to load this file. \quit

-- Issue 25 (trust): 1.4 changes behaviour in C (loads run the target's code
-- as its owner, hostile replies refused, remote text made printable, ...).
-- Catalog changes, if any, follow below, each under the item it serves.

-- Item 5: registration adopts no table etl_pull did not create.  The
-- tables a load created (src/load_target.c), each as a regclass, so that
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
