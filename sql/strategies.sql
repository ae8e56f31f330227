--
-- Strategies: each one, how auto picks, its fallbacks, and the flag
--
-- perio_checksum_pg is the view load.sql made
CREATE VIEW perio_matches AS
SELECT m.row_count = p.row_count AS counts_match, m.checksum = p.checksum AS checksums_match
  FROM periomeasure_checksum m, perio_checksum_pg p;
SELECT etl_pull.set_table_option('periomeasure', 'target_table', NULL);

-- each strategy loads the same rows
SELECT etl_pull.set_table_option('periomeasure', 'strategy', 'standard');
SELECT strategy, rows FROM etl_pull.load_table('periomeasure');
SELECT * FROM perio_matches;
SELECT etl_pull.set_table_option('periomeasure', 'strategy', 'copy');
SELECT strategy, rows FROM etl_pull.load_table('periomeasure');
SELECT * FROM perio_matches;
SELECT etl_pull.set_table_option('periomeasure', 'strategy', 'stream');
SELECT strategy, rows FROM etl_pull.load_table('periomeasure');
SELECT * FROM perio_matches;
SELECT etl_pull.set_table_option('periomeasure', 'strategy', 'parallel');
SELECT strategy, rows FROM etl_pull.load_table('periomeasure');
SELECT * FROM perio_matches;
SELECT strategy, strategy_reason FROM etl_pull.runs ORDER BY run_id DESC LIMIT 4;

-- auto: by size against the thresholds
SELECT etl_pull.set_table_option('periomeasure', 'strategy', 'auto');
SELECT etl_pull.set_table_option('periomeasure', 'estimated_size_mb', '120');
SET etl_pull.stream_threshold_mb = 50;
SELECT strategy, rows FROM etl_pull.load_table('periomeasure');
SET etl_pull.stream_threshold_mb = 200;
SET etl_pull.copy_threshold_mb = 100;
SELECT strategy, rows FROM etl_pull.load_table('periomeasure');
SET etl_pull.copy_threshold_mb = 150;
SELECT strategy, rows FROM etl_pull.load_table('periomeasure');
SELECT strategy, strategy_reason FROM etl_pull.runs ORDER BY run_id DESC LIMIT 3;
RESET etl_pull.stream_threshold_mb;
RESET etl_pull.copy_threshold_mb;
-- many rows: parallel, when the key allows it
SET etl_pull.parallel_threshold_rows = 5000;
SELECT strategy, rows FROM etl_pull.load_table('periomeasure');
SELECT strategy_reason ~ '^auto: [0-9]+ rows >= etl_pull.parallel_threshold_rows \(5000\), plain table with an integer key$' AS by_rows
  FROM etl_pull.runs ORDER BY run_id DESC LIMIT 1;
-- (alltypes has 5 rows: below the threshold)
SELECT etl_pull.set_table_option('alltypes', 'strategy', 'auto');
SELECT strategy, rows FROM etl_pull.load_table('alltypes');
RESET etl_pull.parallel_threshold_rows;
-- measured at the source when not estimated
SELECT etl_pull.set_table_option('periomeasure', 'estimated_size_mb', NULL);
SELECT strategy, rows FROM etl_pull.load_table('periomeasure');
SELECT strategy_reason ~ '^auto: [0-9.]+ MB \(measured\) >= etl_pull.stream_threshold_mb \(0 MB\), plain table$' AS measured
  FROM etl_pull.runs ORDER BY run_id DESC LIMIT 1;

-- the flag: off means standard for every load
SET etl_pull.enable_optimizations = off;
SELECT strategy, rows FROM etl_pull.load_table('periomeasure');
RESET etl_pull.enable_optimizations;

-- a target with a trigger: auto takes copy, and the trigger fires
SELECT etl_pull.set_table_option('periomeasure', 'estimated_size_mb', '10');
CREATE TABLE perio_audit (n bigint);
CREATE FUNCTION perio_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE public.perio_audit SET n = n + 1;  -- loads pin search_path: qualify
    RETURN NEW;
END $$;
INSERT INTO perio_audit VALUES (0);
CREATE TRIGGER perio_count BEFORE INSERT ON periomeasure
    FOR EACH ROW EXECUTE FUNCTION perio_count();
SELECT strategy, rows FROM etl_pull.load_table('periomeasure');
SELECT strategy_reason FROM etl_pull.runs ORDER BY run_id DESC LIMIT 1;
SELECT n FROM perio_audit;
-- stream refuses a target whose trigger it would bypass
SELECT etl_pull.set_table_option('periomeasure', 'strategy', 'stream');
SELECT strategy, rows FROM etl_pull.load_table('periomeasure');
SELECT etl_pull.set_table_option('periomeasure', 'strategy', 'auto');
DROP TRIGGER perio_count ON periomeasure;
DROP FUNCTION perio_count();
DROP TABLE perio_audit;

-- row-level security rules out stream, which would bypass the policies;
-- copy applies them as COPY does (for roles subject to them a full load is
-- refused: it could not delete the rows they hide; test/t/092_row_security.sh)
ALTER TABLE periomeasure ENABLE ROW LEVEL SECURITY;
SELECT strategy, rows FROM etl_pull.load_table('periomeasure');
SELECT strategy_reason FROM etl_pull.runs ORDER BY run_id DESC LIMIT 1;
ALTER TABLE periomeasure DISABLE ROW LEVEL SECURITY;
SELECT etl_pull.set_table_option('periomeasure', 'estimated_size_mb', NULL);

-- a partitioned target: copy routes the rows to the partitions
CREATE TABLE perio_parts (LIKE periomeasure) PARTITION BY RANGE (periomeasurenum);
CREATE TABLE perio_parts_1 PARTITION OF perio_parts FOR VALUES FROM (MINVALUE) TO (5000);
CREATE TABLE perio_parts_2 PARTITION OF perio_parts FOR VALUES FROM (5000) TO (MAXVALUE);
SELECT etl_pull.add_table('perio_parts', server => 'replica', source_table => 'periomeasure');
SELECT etl_pull.set_table_option('perio_parts', 'estimated_size_mb', '10');
SELECT strategy, rows FROM etl_pull.load_table('perio_parts');
SELECT strategy_reason FROM etl_pull.runs ORDER BY run_id DESC LIMIT 1;
SELECT count(*) FROM perio_parts_1;
SELECT count(*) FROM perio_parts_2;
-- a second load replaces them
SELECT strategy, rows FROM etl_pull.load_table('perio_parts');
SELECT count(*) FROM perio_parts;

-- the copy strategy checks INSERT as COPY would
CREATE ROLE regress_etl_copier;
GRANT USAGE ON SCHEMA etl_pull TO regress_etl_copier;
GRANT SELECT ON etl_pull.tables TO regress_etl_copier;
GRANT USAGE ON FOREIGN SERVER replica TO regress_etl_copier;
GRANT DELETE ON perio_parts TO regress_etl_copier;
SET ROLE regress_etl_copier;
SELECT strategy, rows FROM etl_pull.load_table('perio_parts');
RESET ROLE;
REVOKE ALL ON perio_parts FROM regress_etl_copier;
REVOKE ALL ON FOREIGN SERVER replica FROM regress_etl_copier;
REVOKE ALL ON etl_pull.tables FROM regress_etl_copier;
REVOKE ALL ON SCHEMA etl_pull FROM regress_etl_copier;
DROP ROLE regress_etl_copier;

-- session settings: applied during the load only
CREATE TABLE seen_settings (mwm text, sc text, wm text);
CREATE FUNCTION see_settings() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO public.seen_settings VALUES (current_setting('maintenance_work_mem'),
                                      current_setting('synchronous_commit'),
                                      current_setting('work_mem'));
    RETURN NULL;
END $$;
CREATE TRIGGER see_settings AFTER INSERT ON perio_parts
    FOR EACH STATEMENT EXECUTE FUNCTION see_settings();
SELECT etl_pull.set_table_option('perio_parts', 'pg_settings', 'work_mem=8MB');
SELECT etl_pull.set_table_option('perio_parts', 'mysql_settings', 'sort_buffer_size=1048576, sql_big_selects=1');
SHOW maintenance_work_mem;
SHOW synchronous_commit;
SHOW work_mem;
SELECT strategy, rows FROM etl_pull.load_table('perio_parts');
SELECT * FROM seen_settings;
-- the caller's session is as it was
SHOW maintenance_work_mem;
SHOW synchronous_commit;
SHOW work_mem;
-- Issue 29 item 14: by default a load leaves durability alone, so the
-- caller's transaction commits as the caller asked
BEGIN;
SELECT rows FROM etl_pull.load_table('perio_parts');
SHOW synchronous_commit;
SHOW work_mem;
COMMIT;
-- weakening it is an opt-in, which lasts to the end of the caller's
-- transaction (it acts at commit)
SET etl_pull.pg_settings = 'maintenance_work_mem=16MB, synchronous_commit=off';
BEGIN;
SELECT rows FROM etl_pull.load_table('perio_parts');
SHOW synchronous_commit;
COMMIT;
SHOW synchronous_commit;
RESET etl_pull.pg_settings;
-- the MySQL side: the load's connection as MySQL reports it
SELECT etl_pull.add_table('session_vars', server => 'replica');
SELECT etl_pull.set_table_option('session_vars', 'mysql_settings', 'sort_buffer_size=1048576');
SET etl_pull.net_timeout = '2h';
SELECT rows FROM etl_pull.load_table('session_vars');
RESET etl_pull.net_timeout;
SELECT * FROM session_vars ORDER BY name;
-- bad settings are refused when set
SELECT etl_pull.set_table_option('perio_parts', 'pg_settings', 'work_mem');
SELECT etl_pull.set_table_option('perio_parts', 'pg_settings', 'no_such_setting=1');
SELECT etl_pull.set_table_option('perio_parts', 'pg_settings', 'work_mem=lots');
SELECT etl_pull.set_table_option('perio_parts', 'pg_settings', 'shared_buffers=1GB');
SELECT etl_pull.set_table_option('perio_parts', 'mysql_settings', 'a b=1');
SET etl_pull.pg_settings = 'oops';
DROP TRIGGER see_settings ON perio_parts;
DROP FUNCTION see_settings();
DROP TABLE seen_settings;

-- parallel needs a primary key, and a target stream could load
SELECT etl_pull.set_table_option('perio_parts', 'strategy', 'parallel');
SELECT strategy, rows FROM etl_pull.load_table('perio_parts');
SELECT etl_pull.set_table_option('session_vars', 'strategy', 'parallel');
SELECT strategy, rows FROM etl_pull.load_table('session_vars');
DROP VIEW perio_matches;
DROP VIEW perio_checksum_pg;

-- a target of the user's with more columns than the source: the others get
-- their defaults under every strategy; generated columns rule stream out
CREATE TABLE iso_defaults (id integer PRIMARY KEY, v varchar(10), note text DEFAULT 'from mysql',
                           n bigserial, flag boolean DEFAULT true, empty text);
SELECT etl_pull.add_table('iso_defaults', server => 'replica', source_table => 'iso_small');
SELECT strategy, rows FROM etl_pull.load_table('iso_defaults');
SELECT count(*), min(note), max(note), min(n), max(n), bool_and(flag), count(empty)
  FROM iso_defaults;
SELECT etl_pull.set_table_option('iso_defaults', 'strategy', 'standard');
SELECT strategy, rows FROM etl_pull.load_table('iso_defaults');
SELECT count(*), min(note), min(n), max(n), bool_and(flag) FROM iso_defaults;
CREATE TABLE iso_generated (id integer PRIMARY KEY, v varchar(10),
                            twice integer GENERATED ALWAYS AS (id * 2) STORED);
SELECT etl_pull.add_table('iso_generated', server => 'replica', source_table => 'iso_small');
SELECT etl_pull.set_table_option('iso_generated', 'estimated_size_mb', '1');
SELECT strategy, rows FROM etl_pull.load_table('iso_generated');
SELECT strategy_reason FROM etl_pull.runs ORDER BY run_id DESC LIMIT 1;
SELECT count(*), sum(twice) = 2 * sum(id) AS generated FROM iso_generated;
