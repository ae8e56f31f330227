/* etl_pull upgrade script, version 1.2 to 1.3 */

\echo Use "ALTER EXTENSION etl_pull UPDATE TO '1.3'" to load this file. \quit

-- Setting on_schema_change (src/settinglist.h, src/schema.c): what a load
-- does when the source's columns changed since the last load
ALTER TABLE etl_pull.tables
    ADD COLUMN on_schema_change text NOT NULL DEFAULT 'error'
        CHECK (on_schema_change IN ('error', 'evolve'));
COMMENT ON COLUMN etl_pull.tables.on_schema_change IS
    'error: a source change that needs the target altered fails the load, naming every change; evolve: the load adds new columns and widens types first';

-- The source's columns as the last successful load read them (written
-- only when they changed): what the next load compares the source with.
-- Written and read by the extension's owner, as watermarks are.
CREATE TABLE etl_pull.source_columns (
    table_name   text PRIMARY KEY
                 REFERENCES etl_pull.tables (name) ON DELETE CASCADE ON UPDATE CASCADE,
    columns      text[] NOT NULL,
    mysql_types  text[] NOT NULL,
    target_types text[] NOT NULL,
    recorded_at  timestamptz NOT NULL DEFAULT pg_catalog.now()
);
COMMENT ON TABLE etl_pull.source_columns IS
    'the MySQL columns of each table as its last successful load read them (COLUMN_TYPE, NOT NULL) and the PostgreSQL types they map to';
SELECT pg_catalog.pg_extension_config_dump('etl_pull.source_columns', '');
REVOKE ALL ON etl_pull.source_columns FROM PUBLIC;
GRANT SELECT ON etl_pull.source_columns TO etl_pull_admin;

-- The source's column changes a run found, one element each (schema.c):
-- applied (on_schema_change = evolve), held by the target as it is, or
-- the ones a failed run refused
ALTER TABLE etl_pull.runs ADD COLUMN schema_changes text[];
COMMENT ON COLUMN etl_pull.runs.schema_changes IS
    'the changes of the source''s columns the run found, and what it did about each';

-- A dry run of load_table (src/plan.c): what it would do now, as rows of
-- (section, item, detail), reading the source and a sample of its rows,
-- writing nothing.  Runs as the caller, as load_table does.
CREATE FUNCTION etl_pull.plan(name text, sample_rows integer DEFAULT 1000,
                              OUT section text, OUT item text, OUT detail text)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'etl_pull_plan'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION etl_pull.plan(text, integer) IS
    'what load_table(name) would do now, without moving rows: columns and types, schema changes, DDL, strategy, keys, extraction, missing privileges, TLS, data hazards in a sample';
