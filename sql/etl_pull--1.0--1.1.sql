/* etl_pull upgrade script, version 1.0 to 1.1 */

\echo Use "ALTER EXTENSION etl_pull UPDATE TO '1.1'" to load this file. \quit

-- Who may do what (see README.md, Security).  1.1 closes what 1.0 left
-- open: etl_pull_admin changes the registry only through the functions,
-- which validate every value and now run as the extension's owner with a
-- pinned search_path; what a run records (errors holding source values,
-- watermarks) is no longer readable by PUBLIC.

-- The role is etl_pull's: marked so that a later install in another
-- database knows it (install_checks.sql refuses an unmarked one)
DO $$
BEGIN
    EXECUTE pg_catalog.format('COMMENT ON ROLE %I IS %L', 'etl_pull_admin',
                              'created by extension etl_pull: may register tables and change their settings');
END
$$;

-- The target a registered table loads into, as etl_pull resolves it:
-- quoted "schema"."table" (default public.<name>)
CREATE FUNCTION etl_pull.target_of(name text, target_table text)
RETURNS text
AS 'MODULE_PATHNAME', 'etl_pull_target_of'
LANGUAGE C IMMUTABLE;
COMMENT ON FUNCTION etl_pull.target_of(text, text) IS
    'the quoted schema.table a registered table loads into';

-- Raise an error unless "target" is free: no other registered table may
-- load into it.  The caller holds etl_pull.tables in SHARE ROW EXCLUSIVE
-- mode, so two registrations cannot both pass.
CREATE FUNCTION etl_pull.check_target_free(name text, target_table text)
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
END
$$;
REVOKE EXECUTE ON FUNCTION etl_pull.check_target_free(text, text) FROM PUBLIC;

CREATE OR REPLACE FUNCTION etl_pull.add_table(name text, server text,
                                              source_table text DEFAULT NULL,
                                              target_table text DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF add_table.name IS NULL OR add_table.name OPERATOR(pg_catalog.=) '' THEN
        RAISE EXCEPTION 'table name must not be empty'
              USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_foreign_server s
                   JOIN pg_catalog.pg_foreign_data_wrapper w
                     ON w.oid OPERATOR(pg_catalog.=) s.srvfdw
                   WHERE s.srvname OPERATOR(pg_catalog.=) add_table.server
                     AND w.fdwname OPERATOR(pg_catalog.=) 'etl_pull') THEN
        RAISE EXCEPTION 'server "%" does not exist or does not use foreign-data wrapper "etl_pull"',
              add_table.server
              USING ERRCODE = 'undefined_object',
                    HINT = 'Create it with CREATE SERVER ... FOREIGN DATA WRAPPER etl_pull.';
    END IF;
    PERFORM etl_pull.check_table_option('source_table', add_table.source_table);
    PERFORM etl_pull.check_table_option('target_table', add_table.target_table);
    LOCK TABLE etl_pull.tables IN SHARE ROW EXCLUSIVE MODE;
    IF EXISTS (SELECT 1 FROM etl_pull.tables t
               WHERE t.name OPERATOR(pg_catalog.=) add_table.name) THEN
        RAISE EXCEPTION 'table "%" is already registered', add_table.name
              USING ERRCODE = 'duplicate_object',
                    HINT = 'Change it with etl_pull.set_table_option(), or remove it first.';
    END IF;
    PERFORM etl_pull.check_target_free(add_table.name, add_table.target_table);
    INSERT INTO etl_pull.tables (name, server, source_table, target_table)
    VALUES (add_table.name, add_table.server, add_table.source_table,
            add_table.target_table);
END
$$;

-- Store one setting, validated again here: this is the only way into
-- etl_pull.tables, and it runs as the extension's owner
CREATE FUNCTION etl_pull.store_table_option(name text, key text, value text)
RETURNS void
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    coltype text;
    stored text;
BEGIN
    stored := etl_pull.check_table_option(store_table_option.key, store_table_option.value);
    IF store_table_option.key OPERATOR(pg_catalog.=) ANY (ARRAY['name', 'server', 'created_at']) THEN
        RAISE EXCEPTION 'unrecognized table setting "%"', store_table_option.key
              USING ERRCODE = 'undefined_object';
    END IF;
    LOCK TABLE etl_pull.tables IN SHARE ROW EXCLUSIVE MODE;
    IF NOT EXISTS (SELECT 1 FROM etl_pull.tables t
                   WHERE t.name OPERATOR(pg_catalog.=) store_table_option.name) THEN
        RAISE EXCEPTION 'table "%" is not registered with etl_pull', store_table_option.name
              USING ERRCODE = 'undefined_object',
                    HINT = 'Register it with etl_pull.add_table().';
    END IF;
    IF store_table_option.key OPERATOR(pg_catalog.=) 'target_table' THEN
        PERFORM etl_pull.check_target_free(store_table_option.name, stored);
    END IF;
    SELECT pg_catalog.format_type(a.atttypid, a.atttypmod) INTO STRICT coltype
      FROM pg_catalog.pg_attribute a
     WHERE a.attrelid OPERATOR(pg_catalog.=) 'etl_pull.tables'::pg_catalog.regclass
       AND a.attname OPERATOR(pg_catalog.=) store_table_option.key
       AND NOT a.attisdropped;
    IF stored IS NULL THEN
        EXECUTE pg_catalog.format('UPDATE etl_pull.tables SET %I = DEFAULT'
                                  ' WHERE name OPERATOR(pg_catalog.=) $1',
                                  store_table_option.key)
        USING store_table_option.name;
    ELSIF coltype OPERATOR(pg_catalog.=) 'text[]' THEN
        EXECUTE pg_catalog.format('UPDATE etl_pull.tables SET %I = $1'
                                  ' WHERE name OPERATOR(pg_catalog.=) $2',
                                  store_table_option.key)
        USING (SELECT pg_catalog.array_agg(pg_catalog.btrim(c))
                 FROM pg_catalog.unnest(pg_catalog.string_to_array(stored, ',')) c),
              store_table_option.name;
    ELSE
        EXECUTE pg_catalog.format('UPDATE etl_pull.tables SET %I = CAST($1 AS %s)'
                                  ' WHERE name OPERATOR(pg_catalog.=) $2',
                                  store_table_option.key, coltype)
        USING stored, store_table_option.name;
    END IF;
END
$$;
COMMENT ON FUNCTION etl_pull.store_table_option(text, text, text) IS
    'stores one setting of a registered table (set_table_option calls it after resolving type names)';

-- Runs as the caller only to resolve column_types' type names in the
-- caller's search_path (stored schema-qualified); storing is the owner's
CREATE OR REPLACE FUNCTION etl_pull.set_table_option(name text, key text, value text)
RETURNS void
LANGUAGE plpgsql
AS $$
BEGIN
    PERFORM etl_pull.store_table_option(
        set_table_option.name, set_table_option.key,
        etl_pull.check_table_option(set_table_option.key, set_table_option.value));
END
$$;

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
END
$$;

CREATE OR REPLACE FUNCTION etl_pull.reset_watermark(name text)
RETURNS void
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM etl_pull.tables t
                   WHERE t.name OPERATOR(pg_catalog.=) reset_watermark.name) THEN
        RAISE EXCEPTION 'table "%" is not registered with etl_pull', reset_watermark.name
              USING ERRCODE = 'undefined_object';
    END IF;
    DELETE FROM etl_pull.watermarks w
     WHERE w.table_name OPERATOR(pg_catalog.=) reset_watermark.name;
END
$$;

CREATE OR REPLACE FUNCTION etl_pull.set_baseline(run_id bigint)
RETURNS void
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    t text;
BEGIN
    SELECT r.table_name INTO t FROM etl_pull.runs r
     WHERE r.run_id OPERATOR(pg_catalog.=) set_baseline.run_id
       AND r.status OPERATOR(pg_catalog.=) 'succeeded';
    IF NOT FOUND THEN
        RAISE EXCEPTION 'run % does not exist or did not succeed', set_baseline.run_id
              USING ERRCODE = 'undefined_object';
    END IF;
    UPDATE etl_pull.runs r SET is_baseline = false
     WHERE r.table_name OPERATOR(pg_catalog.=) t AND r.is_baseline;
    UPDATE etl_pull.runs r SET is_baseline = true
     WHERE r.run_id OPERATOR(pg_catalog.=) set_baseline.run_id;
END
$$;

-- Privileges
REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON etl_pull.tables, etl_pull.watermarks
    FROM etl_pull_admin;
REVOKE UPDATE (is_baseline) ON etl_pull.runs FROM etl_pull_admin;
REVOKE SELECT ON etl_pull.watermarks FROM PUBLIC;
GRANT SELECT ON etl_pull.watermarks, etl_pull.runs TO etl_pull_admin;
REVOKE EXECUTE ON FUNCTION etl_pull.store_table_option(text, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION etl_pull.store_table_option(text, text, text) TO etl_pull_admin;

-- A run's error may quote source values: each role sees its own runs,
-- etl_pull_admin sees all; run_comparison (no errors, no values) and so
-- performance_report stay readable by anyone
ALTER TABLE etl_pull.runs ENABLE ROW LEVEL SECURITY;
CREATE POLICY runs_own ON etl_pull.runs FOR SELECT TO PUBLIC
    USING (run_as OPERATOR(pg_catalog.=) CURRENT_USER);
CREATE POLICY runs_admin ON etl_pull.runs FOR SELECT TO etl_pull_admin
    USING (true);

-- Every registered table gets a stable identity, the key of its "loading"
-- lock (load_table), so that two names can never share a lock the way two
-- names with the same 32-bit hash did.  integer, because the lock key is
-- the second half of a two-part advisory lock key; dumped with the table.
-- add_table runs as the owner, who assigns it.
CREATE SEQUENCE etl_pull.tables_table_id_seq AS integer;
ALTER TABLE etl_pull.tables
    ADD COLUMN table_id integer NOT NULL
        DEFAULT pg_catalog.nextval('etl_pull.tables_table_id_seq') UNIQUE;
ALTER SEQUENCE etl_pull.tables_table_id_seq OWNED BY etl_pull.tables.table_id;
SELECT pg_catalog.pg_extension_config_dump('etl_pull.tables_table_id_seq', '');
COMMENT ON COLUMN etl_pull.tables.table_id IS
    'stable identity of the registered table: the key of its loading lock';
