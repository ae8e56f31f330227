/* etl_pull install script, version 1.0 */

\echo Use "CREATE EXTENSION etl_pull" to load this file. \quit

-- Connections: servers and user mappings of the etl_pull wrapper
CREATE FUNCTION etl_pull.fdw_validator(text[], oid)
RETURNS void
AS 'MODULE_PATHNAME', 'etl_pull_fdw_validator'
LANGUAGE C STRICT;

CREATE FOREIGN DATA WRAPPER etl_pull VALIDATOR etl_pull.fdw_validator;
COMMENT ON FOREIGN DATA WRAPPER etl_pull IS
    'MySQL/MariaDB replicas that etl_pull loads tables from';

-- Registered tables and their settings
CREATE TABLE etl_pull.tables (
    name                text PRIMARY KEY,
    server              text NOT NULL,
    source_table        text,
    target_table        text,
    extraction          text NOT NULL DEFAULT 'full'
                        CHECK (extraction IN ('full', 'incremental')),
    incremental_columns text[],
    strategy            text NOT NULL DEFAULT 'auto'
                        CHECK (strategy IN ('auto', 'standard', 'stream', 'copy', 'parallel')),
    batch_size          integer NOT NULL DEFAULT 1000
                        CHECK (batch_size BETWEEN 1 AND 100000),
    parallel_chunks     integer NOT NULL DEFAULT 4
                        CHECK (parallel_chunks BETWEEN 1 AND 16),
    estimated_size_mb   numeric CHECK (estimated_size_mb >= 0),
    zero_dates          text NOT NULL DEFAULT 'null'
                        CHECK (zero_dates IN ('null', 'error')),
    invalid_utf8        text NOT NULL DEFAULT 'error'
                        CHECK (invalid_utf8 IN ('error', 'replace')),
    on_error            text NOT NULL DEFAULT 'abort'
                        CHECK (on_error IN ('abort', 'reject')),
    lookback            numeric NOT NULL DEFAULT 0 CHECK (lookback >= 0),
    append_only         boolean NOT NULL DEFAULT false,
    delete_missing      boolean NOT NULL DEFAULT false,
    on_busy             text NOT NULL DEFAULT 'wait'
                        CHECK (on_busy IN ('wait', 'skip')),
    load_group          text,
    column_types        text,
    pg_settings         text,
    mysql_settings      text,
    analyze_target      boolean NOT NULL DEFAULT true,
    enabled             boolean NOT NULL DEFAULT true,
    created_at          timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE etl_pull.tables IS
    'tables etl_pull loads; change with add_table, set_table_option, remove_table';
COMMENT ON COLUMN etl_pull.tables.source_table IS 'MySQL table: "table" or "db.table" (default: the name, in the server''s dbname)';
COMMENT ON COLUMN etl_pull.tables.target_table IS 'PostgreSQL table: "table" or "schema.table" (default: public.<name>)';
COMMENT ON COLUMN etl_pull.tables.strategy IS 'auto, standard, stream, copy or parallel';
COMMENT ON COLUMN etl_pull.tables.batch_size IS 'rows per bulk insert';
COMMENT ON COLUMN etl_pull.tables.zero_dates IS 'null: zero dates load as NULL; error: they fail the load';
COMMENT ON COLUMN etl_pull.tables.invalid_utf8 IS 'error: invalid UTF-8 or NUL bytes in text fail the load; replace: they become U+FFFD';
COMMENT ON COLUMN etl_pull.tables.incremental_columns IS 'columns whose maximum is the watermark of incremental loads';
COMMENT ON COLUMN etl_pull.tables.lookback IS 'incremental loads re-read this far behind the watermark: seconds for date/time columns, units for numbers';
COMMENT ON COLUMN etl_pull.tables.append_only IS 'incremental loads append instead of merging by primary key';
COMMENT ON COLUMN etl_pull.tables.delete_missing IS 'after an incremental load, delete target rows whose key is gone from the source';
COMMENT ON COLUMN etl_pull.tables.on_busy IS 'when the table is already loading: wait, or skip at once';
COMMENT ON COLUMN etl_pull.tables.load_group IS 'a group name for etl_pull.load_all(load_group)';
COMMENT ON COLUMN etl_pull.tables.column_types IS 'target type overrides for created targets: column:type, ...';
COMMENT ON COLUMN etl_pull.tables.pg_settings IS 'PostgreSQL settings during this table''s loads, after etl_pull.pg_settings: name=value, ...';
COMMENT ON COLUMN etl_pull.tables.mysql_settings IS 'MySQL SET SESSION settings of this table''s loads, after etl_pull.mysql_settings: name=value, ...';
COMMENT ON COLUMN etl_pull.tables.analyze_target IS 'ANALYZE the target after a full load';
SELECT pg_catalog.pg_extension_config_dump('etl_pull.tables', '');

-- Watermarks of incremental loads: MySQL's own text of MAX(column)
CREATE TABLE etl_pull.watermarks (
    table_name  text PRIMARY KEY
                REFERENCES etl_pull.tables (name) ON DELETE CASCADE ON UPDATE CASCADE,
    columns     text[] NOT NULL,
    vals        text[] NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE etl_pull.watermarks IS
    'where the next incremental load of each table starts; reset with etl_pull.reset_watermark';
SELECT pg_catalog.pg_extension_config_dump('etl_pull.watermarks', '');

-- Run history
CREATE TABLE etl_pull.runs (
    run_id          bigserial PRIMARY KEY,
    table_name      text NOT NULL,
    server          text,
    run_as          text,
    strategy        text,
    strategy_reason text,
    extraction      text,
    started_at      timestamptz NOT NULL,
    finished_at     timestamptz,
    seconds         double precision,
    rows            bigint,
    bytes           bigint,
    rows_per_sec    double precision
                    GENERATED ALWAYS AS (CASE WHEN seconds > 0 THEN rows / seconds END) STORED,
    peak_memory_kb  bigint,
    rejected_rows   bigint NOT NULL DEFAULT 0,
    merged_rows     bigint NOT NULL DEFAULT 0,
    source_position text,
    deleted_rows    bigint NOT NULL DEFAULT 0,
    status          text NOT NULL CHECK (status IN ('succeeded', 'failed')),
    error           text,
    is_baseline     boolean NOT NULL DEFAULT false
);
CREATE UNIQUE INDEX runs_one_baseline ON etl_pull.runs (table_name) WHERE is_baseline;
CREATE INDEX runs_table_name ON etl_pull.runs (table_name, run_id);
COMMENT ON TABLE etl_pull.runs IS 'one row per load_table run';
SELECT pg_catalog.pg_extension_config_dump('etl_pull.runs', '');
SELECT pg_catalog.pg_extension_config_dump('etl_pull.runs_run_id_seq', '');

-- Rows rejected by loads with on_error = reject
CREATE TABLE etl_pull.rejects (
    run_id      bigint NOT NULL,
    table_name  text NOT NULL,
    row_key     text,
    column_name text,
    reason      text NOT NULL,
    raw_text    text,
    raw_bytes   bytea,
    rejected_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX rejects_run_id ON etl_pull.rejects (run_id);
COMMENT ON TABLE etl_pull.rejects IS
    'rows that could not be converted, with the key, column, reason and raw value; readable by etl_pull_admin';
SELECT pg_catalog.pg_extension_config_dump('etl_pull.rejects', '');

-- Performance tracking: baselines, comparison, report
CREATE FUNCTION etl_pull.set_baseline(run_id bigint)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    t text;
BEGIN
    SELECT r.table_name INTO t FROM etl_pull.runs r
     WHERE r.run_id = set_baseline.run_id AND r.status = 'succeeded';
    IF NOT FOUND THEN
        RAISE EXCEPTION 'run % does not exist or did not succeed', set_baseline.run_id
              USING ERRCODE = 'undefined_object';
    END IF;
    UPDATE etl_pull.runs r SET is_baseline = false
     WHERE r.table_name = t AND r.is_baseline;
    UPDATE etl_pull.runs r SET is_baseline = true WHERE r.run_id = set_baseline.run_id;
END
$$;
COMMENT ON FUNCTION etl_pull.set_baseline(bigint) IS
    'marks a successful run as its table''s baseline for etl_pull.run_comparison';

CREATE VIEW etl_pull.run_comparison AS
SELECT l.table_name,
       l.run_id, l.strategy, l.extraction, l.rows, l.seconds, l.rows_per_sec,
       l.peak_memory_kb,
       b.run_id AS baseline_run_id, b.strategy AS baseline_strategy,
       b.rows_per_sec AS baseline_rows_per_sec, b.peak_memory_kb AS baseline_peak_memory_kb,
       round((l.rows_per_sec / nullif(b.rows_per_sec, 0))::numeric, 2) AS speedup,
       round((b.peak_memory_kb::numeric / nullif(l.peak_memory_kb, 0)), 2) AS memory_improvement,
       s.status AS last_status, s.finished_at AS last_finished_at
  FROM (SELECT DISTINCT ON (table_name) * FROM etl_pull.runs
         WHERE status = 'succeeded' ORDER BY table_name, run_id DESC) l
  JOIN (SELECT DISTINCT ON (table_name) * FROM etl_pull.runs
         ORDER BY table_name, run_id DESC) s USING (table_name)
  LEFT JOIN etl_pull.runs b ON b.table_name = l.table_name AND b.is_baseline;
COMMENT ON VIEW etl_pull.run_comparison IS
    'each table''s latest successful run against its baseline: speedup (rows/s) and memory improvement';

CREATE FUNCTION etl_pull.performance_report()
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
            coalesce(c.speedup || 'x', '-'),
            coalesce(c.memory_improvement || 'x', '-'),
            c.last_status), E'\n' ORDER BY c.table_name), '(no runs yet)')
    || E'\n'
  FROM etl_pull.run_comparison c
$$;
COMMENT ON FUNCTION etl_pull.performance_report() IS
    'a markdown report: each table''s latest run, and its speed and memory against the baseline';

-- Settings
CREATE FUNCTION etl_pull.check_table_option(key text, value text)
RETURNS text
AS 'MODULE_PATHNAME', 'etl_pull_check_table_option'
LANGUAGE C;
COMMENT ON FUNCTION etl_pull.check_table_option(text, text) IS
    'raises an error if value is not allowed for the table setting key; returns the value to store';

CREATE FUNCTION etl_pull.add_table(name text, server text,
                                   source_table text DEFAULT NULL,
                                   target_table text DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF add_table.name IS NULL OR add_table.name = '' THEN
        RAISE EXCEPTION 'table name must not be empty'
              USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_foreign_server s
                   JOIN pg_foreign_data_wrapper w ON w.oid = s.srvfdw
                   WHERE s.srvname = add_table.server AND w.fdwname = 'etl_pull') THEN
        RAISE EXCEPTION 'server "%" does not exist or does not use foreign-data wrapper "etl_pull"',
              add_table.server
              USING ERRCODE = 'undefined_object',
                    HINT = 'Create it with CREATE SERVER ... FOREIGN DATA WRAPPER etl_pull.';
    END IF;
    PERFORM etl_pull.check_table_option('source_table', add_table.source_table);
    PERFORM etl_pull.check_table_option('target_table', add_table.target_table);
    IF EXISTS (SELECT 1 FROM etl_pull.tables t WHERE t.name = add_table.name) THEN
        RAISE EXCEPTION 'table "%" is already registered', add_table.name
              USING ERRCODE = 'duplicate_object',
                    HINT = 'Change it with etl_pull.set_table_option(), or remove it first.';
    END IF;
    INSERT INTO etl_pull.tables (name, server, source_table, target_table)
    VALUES (add_table.name, add_table.server, add_table.source_table,
            add_table.target_table);
END
$$;
COMMENT ON FUNCTION etl_pull.add_table(text, text, text, text) IS
    'registers a MySQL table for loading, with default settings';

CREATE FUNCTION etl_pull.set_table_option(name text, key text, value text)
RETURNS void
LANGUAGE plpgsql
AS $$
-- no SET search_path: type names in column_types resolve in the caller's
DECLARE
    coltype text;
    stored text;
BEGIN
    stored := etl_pull.check_table_option(set_table_option.key, set_table_option.value);
    IF NOT EXISTS (SELECT 1 FROM etl_pull.tables t WHERE t.name = set_table_option.name) THEN
        RAISE EXCEPTION 'table "%" is not registered with etl_pull', set_table_option.name
              USING ERRCODE = 'undefined_object',
                    HINT = 'Register it with etl_pull.add_table().';
    END IF;
    SELECT pg_catalog.format_type(a.atttypid, a.atttypmod) INTO coltype
      FROM pg_catalog.pg_attribute a
     WHERE a.attrelid = 'etl_pull.tables'::pg_catalog.regclass
       AND a.attname = set_table_option.key;
    IF stored IS NULL THEN
        EXECUTE pg_catalog.format('UPDATE etl_pull.tables SET %I = DEFAULT WHERE name = $1',
                                  set_table_option.key)
        USING set_table_option.name;
    ELSIF coltype = 'text[]' THEN
        EXECUTE pg_catalog.format('UPDATE etl_pull.tables SET %I = $1 WHERE name = $2',
                                  set_table_option.key)
        USING (SELECT pg_catalog.array_agg(pg_catalog.btrim(c))
                 FROM pg_catalog.unnest(pg_catalog.string_to_array(stored, ',')) c),
              set_table_option.name;
    ELSE
        EXECUTE pg_catalog.format('UPDATE etl_pull.tables SET %I = CAST($1 AS %s) WHERE name = $2',
                                  set_table_option.key, coltype)
        USING stored, set_table_option.name;
    END IF;
END
$$;
COMMENT ON FUNCTION etl_pull.set_table_option(text, text, text) IS
    'changes one setting of a registered table; NULL restores the default';

CREATE FUNCTION etl_pull.remove_table(name text)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    DELETE FROM etl_pull.tables t WHERE t.name = remove_table.name;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'table "%" is not registered with etl_pull', remove_table.name
              USING ERRCODE = 'undefined_object';
    END IF;
END
$$;
COMMENT ON FUNCTION etl_pull.remove_table(text) IS
    'unregisters a table (its target table and run history stay)';

CREATE FUNCTION etl_pull.reset_watermark(name text)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM etl_pull.tables t WHERE t.name = reset_watermark.name) THEN
        RAISE EXCEPTION 'table "%" is not registered with etl_pull', reset_watermark.name
              USING ERRCODE = 'undefined_object';
    END IF;
    DELETE FROM etl_pull.watermarks w WHERE w.table_name = reset_watermark.name;
END
$$;
COMMENT ON FUNCTION etl_pull.reset_watermark(text) IS
    'forgets a table''s watermark: its next incremental load is a full one';

-- Loading
CREATE FUNCTION etl_pull.load_table(name text, force_full boolean DEFAULT false,
                                    OUT run_id bigint, OUT table_name text,
                                    OUT strategy text, OUT extraction text,
                                    OUT rows bigint, OUT seconds double precision,
                                    OUT rows_per_sec double precision,
                                    OUT peak_memory_kb bigint,
                                    OUT merged_rows bigint, OUT deleted_rows bigint,
                                    OUT rejected_rows bigint, OUT status text)
RETURNS record
AS 'MODULE_PATHNAME', 'etl_pull_load_table'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION etl_pull.load_table(text, boolean) IS
    'loads a registered table from its MySQL source in one transaction';

-- Live progress of the loads running now, in any session
CREATE VIEW etl_pull.progress AS
SELECT p.pid,
       d.datname AS database,
       p.relid::regclass AS target_table,
       CASE p.param17 WHEN 1 THEN 'streaming' WHEN 2 THEN 'swapping'
                      WHEN 3 THEN 'merging' WHEN 4 THEN 'reading (worker)' END AS phase,
       p.param18 AS rows_done,
       nullif(p.param19, 0) AS rows_estimated,
       round(CASE WHEN p.param19 > 0 THEN least(100.0 * p.param18 / p.param19, 100) END, 1) AS percent,
       p.param8 AS bytes_done,
       round(p.param18 / nullif(extract(epoch FROM clock_timestamp() - s.started), 0)) AS rows_per_sec,
       date_trunc('second', clock_timestamp() - s.started) AS elapsed,
       CASE WHEN p.param18 > 0 AND p.param19 > p.param18 THEN
           date_trunc('second', (clock_timestamp() - s.started)
                      * ((p.param19 - p.param18)::float8 / p.param18))
       END AS eta
  FROM pg_stat_get_progress_info('COPY') p
  LEFT JOIN pg_database d ON d.oid = p.datid,
  LATERAL (SELECT to_timestamp(p.param20 / 1000000.0) AS started) s
 WHERE p.param16 = 1163152464;   -- 'ETLP': a load by etl_pull, not a COPY
COMMENT ON VIEW etl_pull.progress IS
    'loads running now: phase, rows done of the estimate, rate, elapsed time and ETA';
GRANT SELECT ON etl_pull.progress TO PUBLIC;

CREATE FUNCTION etl_pull.load_all(load_group text DEFAULT NULL,
                                  max_parallel integer DEFAULT NULL)
RETURNS TABLE (table_name text, status text, run_id bigint, rows bigint,
               seconds double precision, error text)
AS 'MODULE_PATHNAME', 'etl_pull_load_all'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION etl_pull.load_all(text, integer) IS
    'loads every enabled table (of a group), several at once in background workers, each in its own transaction';

-- Scheduling with pg_cron, when it is installed
-- pg_cron job names are of type name (63 bytes): long table names get a
-- digest, so that two of them never share a job
CREATE FUNCTION etl_pull.cron_job_name(name text)
RETURNS text
LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT CASE WHEN octet_length('etl_pull: ' || name) <= 63
                THEN 'etl_pull: ' || name
                ELSE 'etl_pull: md5 ' || md5(name) END
$$;
COMMENT ON FUNCTION etl_pull.cron_job_name(text) IS
    'the pg_cron job name etl_pull.schedule uses for a table';

CREATE FUNCTION etl_pull.schedule(name text, schedule text)
RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    jobid bigint;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM etl_pull.tables t WHERE t.name = schedule.name) THEN
        RAISE EXCEPTION 'table "%" is not registered with etl_pull', schedule.name
              USING ERRCODE = 'undefined_object',
                    HINT = 'Register it with etl_pull.add_table().';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_cron') THEN
        RAISE EXCEPTION 'pg_cron is not installed in this database'
              USING ERRCODE = 'feature_not_supported',
                    HINT = 'Add pg_cron to shared_preload_libraries, set cron.database_name, and CREATE EXTENSION pg_cron.';
    END IF;
    EXECUTE 'SELECT cron.schedule($1, $2, $3)'
       INTO jobid
      USING etl_pull.cron_job_name(schedule.name), schedule.schedule,
            format('SELECT etl_pull.load_table(%L)', schedule.name);
    RETURN jobid;
END
$$;
COMMENT ON FUNCTION etl_pull.schedule(text, text) IS
    'schedules a table''s load with pg_cron (job "etl_pull: <name>"); returns the job id';

CREATE FUNCTION etl_pull.unschedule(name text)
RETURNS boolean
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    done boolean;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_cron') THEN
        RAISE EXCEPTION 'pg_cron is not installed in this database'
              USING ERRCODE = 'feature_not_supported';
    END IF;
    EXECUTE 'SELECT cron.unschedule($1)' INTO done USING etl_pull.cron_job_name(unschedule.name);
    RETURN done;
END
$$;
COMMENT ON FUNCTION etl_pull.unschedule(text) IS
    'removes the pg_cron job of a table''s load';

-- Privileges.  Anyone may read the registered tables, the history and the
-- progress, and call load_table (which checks USAGE on the server and the
-- privileges on the target the DML would need).  Registering tables and
-- changing settings, watermarks and baselines takes etl_pull_admin.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'etl_pull_admin') THEN
        CREATE ROLE etl_pull_admin NOLOGIN;
    END IF;
END
$$;
GRANT USAGE ON SCHEMA etl_pull TO PUBLIC;
REVOKE ALL ON etl_pull.tables, etl_pull.watermarks, etl_pull.runs, etl_pull.rejects FROM PUBLIC;
GRANT SELECT ON etl_pull.tables, etl_pull.watermarks, etl_pull.runs, etl_pull.run_comparison TO PUBLIC;
GRANT SELECT, INSERT, UPDATE, DELETE ON etl_pull.tables, etl_pull.watermarks TO etl_pull_admin;
GRANT SELECT, DELETE ON etl_pull.rejects TO etl_pull_admin;
GRANT UPDATE (is_baseline) ON etl_pull.runs TO etl_pull_admin;
REVOKE EXECUTE ON FUNCTION etl_pull.add_table(text, text, text, text),
                           etl_pull.set_table_option(text, text, text),
                           etl_pull.remove_table(text),
                           etl_pull.reset_watermark(text),
                           etl_pull.set_baseline(bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION etl_pull.add_table(text, text, text, text),
                          etl_pull.set_table_option(text, text, text),
                          etl_pull.remove_table(text),
                          etl_pull.reset_watermark(text),
                          etl_pull.set_baseline(bigint) TO etl_pull_admin;
