/* etl_pull upgrade script, version 1.2 to 1.3 */

\echo Use "ALTER EXTENSION etl_pull UPDATE TO '1.3'" to load this file. \quit

-- Issue 16: verify and repair a table against its source; extraction
-- 'diff'; setting verify (src/settinglist.h).
ALTER TABLE etl_pull.tables DROP CONSTRAINT tables_extraction_check;
ALTER TABLE etl_pull.tables ADD CONSTRAINT tables_extraction_check
    CHECK (extraction IN ('full', 'incremental', 'diff'));
ALTER TABLE etl_pull.tables
    ADD COLUMN verify text NOT NULL DEFAULT 'off'
        CHECK (verify IN ('off', 'count', 'full'));
COMMENT ON COLUMN etl_pull.tables.verify IS
    'off; count: a full load compares its row count with the source''s before it commits; full: every row''s hash';

-- Compares a target with its source under one MySQL snapshot; recorded as
-- a run of strategy 'verify'.  Runs as the caller, as load_table does: it
-- needs USAGE on the server, a user mapping and SELECT on the target.
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
                                      OUT seconds double precision)
RETURNS record
AS 'MODULE_PATHNAME', 'etl_pull_verify_table'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION etl_pull.verify_table(text, integer) IS
    'compares a registered table''s target with its MySQL source, range hashes bisected to rows';

-- A diff run whatever the table's extraction: the key ranges that differ
-- pulled again and merged (insert, update, delete) in one transaction.
-- Runs as the caller, with INSERT, UPDATE and DELETE on the target.
CREATE FUNCTION etl_pull.repair_table(name text,
                                      OUT run_id bigint, OUT table_name text,
                                      OUT strategy text, OUT extraction text,
                                      OUT rows bigint, OUT seconds double precision,
                                      OUT rows_per_sec double precision,
                                      OUT peak_memory_kb bigint,
                                      OUT merged_rows bigint, OUT deleted_rows bigint,
                                      OUT rejected_rows bigint, OUT status text)
RETURNS record
AS 'MODULE_PATHNAME', 'etl_pull_repair_table'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION etl_pull.repair_table(text) IS
    'pulls again the key ranges of a registered table that differ from its MySQL source and merges them';

-- A verify run (strategy 'verify') is not a load: run_comparison, and so
-- performance_report, compare each table's latest load, as before.
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
         ORDER BY r.table_name, r.run_id DESC) s USING (table_name)
  LEFT JOIN etl_pull.runs b ON b.table_name OPERATOR(pg_catalog.=) l.table_name AND b.is_baseline;

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

-- Issue 18: rows read in MySQL's binary protocol by default; zero dates as -infinity
ALTER TABLE etl_pull.tables
    ADD COLUMN protocol text NOT NULL DEFAULT 'binary'
        CHECK (protocol IN ('binary', 'text'));
COMMENT ON COLUMN etl_pull.tables.protocol IS
    'binary: rows are read with a prepared statement (exact doubles, dates from their fields); text: with a text query';
ALTER TABLE etl_pull.tables DROP CONSTRAINT tables_zero_dates_check;
ALTER TABLE etl_pull.tables ADD CONSTRAINT tables_zero_dates_check
    CHECK (zero_dates IN ('null', 'error', 'infinity'));
COMMENT ON COLUMN etl_pull.tables.zero_dates IS
    'null: zero dates load as NULL; error: they fail the load; infinity: they load as -infinity';
