/* etl_pull upgrade script, version 1.1 to 1.2 */

\echo Use "ALTER EXTENSION etl_pull UPDATE TO '1.2'" to load this file. \quit

-- The per-table settings as the library knows them (src/settinglist.h):
-- the tests compare them with etl_pull.tables' columns and with README.md.
-- Read-only, for anyone.
CREATE FUNCTION etl_pull.table_settings()
RETURNS TABLE (name text, kind text, allowed text, default_value text, description text)
AS 'MODULE_PATHNAME', 'etl_pull_table_settings'
LANGUAGE C STABLE;
COMMENT ON FUNCTION etl_pull.table_settings() IS
    'the per-table settings: name, kind, allowed values, default (NULL: none) and what each does';

-- The marker of etl_pull's loads among the COPY progress slots, and the
-- class of their "loading" advisory locks (pg_locks.classid), defined once
-- in C (src/progress.h) and read from there by the progress view
CREATE FUNCTION etl_pull.progress_marker() RETURNS integer
AS 'MODULE_PATHNAME', 'etl_pull_progress_marker'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION etl_pull.progress_marker() IS
    'the marker of etl_pull loads in pg_stat_get_progress_info(''COPY'').param16, and the classid of their loading locks';

-- The slots are laid out in src/progress.c
CREATE OR REPLACE VIEW etl_pull.progress AS
SELECT p.pid,
       d.datname AS database,
       p.relid::pg_catalog.regclass AS target_table,
       CASE p.param17 WHEN 1 THEN 'streaming' WHEN 2 THEN 'swapping'
                      WHEN 3 THEN 'merging' WHEN 4 THEN 'reading (worker)' END AS phase,
       p.param18 AS rows_done,
       NULLIF(p.param19, 0) AS rows_estimated,
       pg_catalog.round(CASE WHEN p.param19 OPERATOR(pg_catalog.>) 0 THEN
                    LEAST(100.0 OPERATOR(pg_catalog.*) p.param18
                                     OPERATOR(pg_catalog./) p.param19, 100) END, 1) AS percent,
       p.param8 AS bytes_done,
       pg_catalog.round(p.param18 OPERATOR(pg_catalog./)
             NULLIF(EXTRACT(epoch FROM pg_catalog.clock_timestamp()
                                                  OPERATOR(pg_catalog.-) s.started), 0)) AS rows_per_sec,
       pg_catalog.date_trunc('second', pg_catalog.clock_timestamp() OPERATOR(pg_catalog.-) s.started) AS elapsed,
       CASE WHEN p.param18 OPERATOR(pg_catalog.>) 0 AND p.param19 OPERATOR(pg_catalog.>) p.param18 THEN
           pg_catalog.date_trunc('second', (pg_catalog.clock_timestamp() OPERATOR(pg_catalog.-) s.started)
                      OPERATOR(pg_catalog.*) ((p.param19 OPERATOR(pg_catalog.-) p.param18)::pg_catalog.float8
                                              OPERATOR(pg_catalog./) p.param18))
       END AS eta
  FROM pg_catalog.pg_stat_get_progress_info('COPY') p
  LEFT JOIN pg_catalog.pg_database d ON d.oid OPERATOR(pg_catalog.=) p.datid,
  LATERAL (SELECT pg_catalog.to_timestamp(p.param20 OPERATOR(pg_catalog./) 1000000.0) AS started) s
 WHERE p.param16 OPERATOR(pg_catalog.=) etl_pull.progress_marker();

-- Setting indexes (src/settinglist.h): the source's secondary indexes on a
-- created target
ALTER TABLE etl_pull.tables
    ADD COLUMN indexes text NOT NULL DEFAULT 'primary'
        CHECK (indexes IN ('primary', 'all'));
COMMENT ON COLUMN etl_pull.tables.indexes IS
    'primary: a created target gets the source''s primary key; all: its unique and non-unique B-tree indexes too';

-- What a run noted beyond its numbers (src/recorder.c, EtlPullRunNote):
-- lines joined by '; ', in the order the load added them; NULL for none.
-- The first load of a target created with indexes = 'all' notes each
-- secondary index it created or skipped, with the reason.
ALTER TABLE etl_pull.runs ADD COLUMN notes text;
COMMENT ON COLUMN etl_pull.runs.notes IS
    'what the run noted, lines joined by ''; '' (e.g. the indexes a created target got or skipped, and why)';

-- Register every table of a MySQL database with an inferred plan (see
-- README.md, Importing a whole database).  Runs as the caller: it connects
-- with the caller's user mapping and registers through add_table and
-- set_table_option, so it takes what they take (etl_pull_admin), and USAGE
-- on the server.
CREATE FUNCTION etl_pull.import_tables(server name,
                                       source_db text DEFAULT NULL,
                                       include text DEFAULT '%',
                                       exclude text DEFAULT NULL,
                                       load_group text DEFAULT NULL,
                                       target_schema text DEFAULT 'public',
                                       views boolean DEFAULT false,
                                       disable_missing boolean DEFAULT false)
RETURNS TABLE (name text, source text, target text, action text,
               extraction text, incremental_columns text[], primary_key text[],
               estimated_rows bigint, estimated_bytes bigint, engine text,
               notes text[])
AS 'MODULE_PATHNAME', 'etl_pull_import_tables'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION etl_pull.import_tables(name, text, text, text, text, text, boolean, boolean) IS
    'registers every table of a MySQL database with an inferred plan; again, it reports new, existing and missing tables';
REVOKE EXECUTE ON FUNCTION etl_pull.import_tables(name, text, text, text, text, text, boolean, boolean)
    FROM PUBLIC;
GRANT EXECUTE ON FUNCTION etl_pull.import_tables(name, text, text, text, text, text, boolean, boolean)
    TO etl_pull_admin;

-- load_all(..., consistent): every table of the group from one MySQL
-- snapshot (src/load_all.c)
DROP FUNCTION etl_pull.load_all(text, integer);
CREATE FUNCTION etl_pull.load_all(load_group text DEFAULT NULL,
                                  max_parallel integer DEFAULT NULL,
                                  consistent boolean DEFAULT false)
RETURNS TABLE (table_name text, status text, run_id bigint, rows bigint,
               seconds double precision, error text)
AS 'MODULE_PATHNAME', 'etl_pull_load_all'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION etl_pull.load_all(text, integer, boolean) IS
    'loads every enabled table (of a group), several at once in background workers, each in its own transaction; with consistent, all from one MySQL snapshot';
