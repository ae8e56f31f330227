--
-- Per-table settings: add_table, set_table_option, remove_table
--
CREATE SERVER settings_srv FOREIGN DATA WRAPPER etl_pull OPTIONS (dbname 'etl_test');

-- registration checks the server
SELECT etl_pull.add_table('t1', server => 'no_such_server');
CREATE FOREIGN DATA WRAPPER other_fdw;
CREATE SERVER other_srv FOREIGN DATA WRAPPER other_fdw;
SELECT etl_pull.add_table('t1', server => 'other_srv');
DROP FOREIGN DATA WRAPPER other_fdw CASCADE;
SELECT etl_pull.add_table('t1', server => 'settings_srv');
SELECT etl_pull.add_table('t1', server => 'settings_srv');
SELECT etl_pull.add_table('', server => 'settings_srv');
SELECT etl_pull.add_table('t2', server => 'settings_srv', target_table => 'a.b.c');
SELECT name, server, source_table, target_table, extraction, strategy, batch_size,
       parallel_chunks, estimated_size_mb, zero_dates, invalid_utf8, on_error,
       analyze_target, enabled
  FROM etl_pull.tables ORDER BY name;

-- every key with a valid value
SELECT etl_pull.set_table_option('t1', 'source_table', 'opendental.periomeasure');
SELECT etl_pull.set_table_option('t1', 'target_table', 'public.perio');
SELECT etl_pull.set_table_option('t1', 'extraction', 'incremental');
SELECT etl_pull.set_table_option('t1', 'incremental_columns', 'DateTMeasured, PerioMeasureNum');
SELECT etl_pull.set_table_option('t1', 'strategy', 'stream');
SELECT etl_pull.set_table_option('t1', 'batch_size', '5000');
SELECT etl_pull.set_table_option('t1', 'parallel_chunks', '8');
SELECT etl_pull.set_table_option('t1', 'estimated_size_mb', '120.5');
SELECT etl_pull.set_table_option('t1', 'zero_dates', 'error');
SELECT etl_pull.set_table_option('t1', 'invalid_utf8', 'replace');
SELECT etl_pull.set_table_option('t1', 'on_error', 'reject');
SELECT etl_pull.set_table_option('t1', 'lookback', '300');
SELECT etl_pull.set_table_option('t1', 'append_only', 'true');
SELECT etl_pull.set_table_option('t1', 'delete_missing', 'yes');
SELECT etl_pull.set_table_option('t1', 'on_busy', 'skip');
SELECT etl_pull.set_table_option('t1', 'analyze_target', 'off');
SELECT etl_pull.set_table_option('t1', 'enabled', 'false');
SELECT name, server, source_table, target_table, extraction, incremental_columns,
       strategy, batch_size, parallel_chunks, estimated_size_mb, zero_dates,
       invalid_utf8, on_error, lookback, append_only, delete_missing, on_busy,
       analyze_target, enabled
  FROM etl_pull.tables WHERE name = 't1';

-- each bad value names the setting and what is allowed
SELECT etl_pull.set_table_option('t1', 'no_such_key', 'x');
SELECT etl_pull.set_table_option('t1', 'extraction', 'partial');
SELECT etl_pull.set_table_option('t1', 'strategy', 'fast');
SELECT etl_pull.set_table_option('t1', 'batch_size', '0');
SELECT etl_pull.set_table_option('t1', 'batch_size', 'lots');
SELECT etl_pull.set_table_option('t1', 'parallel_chunks', '17');
SELECT etl_pull.set_table_option('t1', 'estimated_size_mb', '-1');
SELECT etl_pull.set_table_option('t1', 'zero_dates', 'epoch');
SELECT etl_pull.set_table_option('t1', 'invalid_utf8', 'ignore');
SELECT etl_pull.set_table_option('t1', 'on_error', 'skip');
SELECT etl_pull.set_table_option('t1', 'enabled', 'perhaps');
SELECT etl_pull.set_table_option('t1', 'lookback', '-5');
SELECT etl_pull.set_table_option('t1', 'on_busy', 'queue');
SELECT etl_pull.set_table_option('t1', 'target_table', 'a.b.c');
SELECT etl_pull.set_table_option('t1', 'source_table', '');
SELECT etl_pull.set_table_option('t1', 'incremental_columns', '');
SELECT etl_pull.set_table_option('nope', 'strategy', 'stream');

-- NULL restores the default
SELECT etl_pull.set_table_option('t1', 'strategy', NULL);
SELECT etl_pull.set_table_option('t1', 'batch_size', NULL);
SELECT strategy, batch_size FROM etl_pull.tables WHERE name = 't1';

-- Issue 29 item 12: a value the column cannot hold is refused as any bad
-- value is (a fraction of an integer is not rounded; an infinite size is
-- no size), and no error carries PL/pgSQL's context
SELECT etl_pull.set_table_option('t1', 'batch_size', '5000.5');
SELECT etl_pull.set_table_option('t1', 'batch_size', '1e3');
SELECT etl_pull.set_table_option('t1', 'estimated_size_mb', 'infinity');
SELECT etl_pull.set_table_option('t1', NULL, '1');
SELECT etl_pull.set_table_option('t1', 'server', 'other');
-- keys, choices and booleans in any case, stored as table_settings() spells them
SELECT etl_pull.set_table_option('t1', 'Batch_Size', ' 2000 ');
SELECT etl_pull.set_table_option('t1', 'STRATEGY', 'Stream');
SELECT etl_pull.set_table_option('t1', 'on_busy', 'WAIT');
SELECT etl_pull.set_table_option('t1', 'Append_Only', 'YES');
SELECT etl_pull.check_table_option('EXTRACTION', 'Incremental');
SELECT batch_size, strategy, on_busy, append_only FROM etl_pull.tables WHERE name = 't1';
SELECT etl_pull.set_table_option('t1', 'strategy', NULL);
SELECT etl_pull.set_table_option('t1', 'batch_size', NULL);
SELECT etl_pull.set_table_option('t1', 'on_busy', 'skip');
-- a target in a schema that does not exist (yet) is taken, with a warning
SELECT etl_pull.add_table('t3', server => 'settings_srv', target_table => 'no_such_schema.t3');
SELECT etl_pull.set_table_option('t3', 'target_table', 'also_missing.t3');
SELECT etl_pull.remove_table('t3');

-- watermarks are visible and resettable
SELECT * FROM etl_pull.watermarks;
SELECT etl_pull.reset_watermark('t1');
SELECT etl_pull.reset_watermark('nope');

-- a disabled table is not loaded
SELECT * FROM etl_pull.load_table('t1');

-- the settings survive pg_dump
SELECT c.relname FROM pg_extension e, unnest(e.extconfig) AS x(oid)
  JOIN pg_class c ON c.oid = x.oid
 WHERE e.extname = 'etl_pull' ORDER BY 1;

-- settings a load relies on are refused when set, naming the setting and why
SELECT etl_pull.set_table_option('t1', 'mysql_settings', 'time_zone=+05:00');
SELECT etl_pull.set_table_option('t1', 'mysql_settings', 'sort_buffer_size=1048576, Character_Set_Results=latin1');
SELECT etl_pull.set_table_option('t1', 'mysql_settings', 'collation_connection=latin1_swedish_ci');
SELECT etl_pull.set_table_option('t1', 'mysql_settings', 'names=latin1');
SELECT etl_pull.set_table_option('t1', 'mysql_settings', 'sql_select_limit=10');
SELECT etl_pull.set_table_option('t1', 'mysql_settings', 'sql_mode=NO_BACKSLASH_ESCAPES');
SELECT etl_pull.set_table_option('t1', 'mysql_settings', 'sql_mode=ansi');
SELECT etl_pull.set_table_option('t1', 'mysql_settings', 'transaction_isolation=READ-COMMITTED');
SELECT etl_pull.set_table_option('t1', 'mysql_settings', 'tx_read_only=0');
SELECT etl_pull.set_table_option('t1', 'mysql_settings', 'autocommit=0');
SELECT etl_pull.set_table_option('t1', 'mysql_settings', 'session.time_zone=+05:00');
SELECT etl_pull.set_table_option('t1', 'pg_settings', 'search_path=public');
SELECT etl_pull.set_table_option('t1', 'pg_settings', 'session_authorization=postgres');
SELECT etl_pull.set_table_option('t1', 'pg_settings', 'work_mem=8MB, ROLE=postgres');
SET etl_pull.mysql_settings = 'time_zone=SYSTEM';
SET etl_pull.pg_settings = 'work_mem=8MB, search_path=public';
SHOW etl_pull.pg_settings;
-- Issue 29 item 13: etl_pull.pg_settings takes what a table's pg_settings
-- takes: PostgreSQL settings with values they take, checked at SET (and
-- in ALTER ROLE ... SET) as a load would apply them
SET etl_pull.pg_settings = 'no_such_setting=1';
SET etl_pull.pg_settings = 'work_mem=lots';
SET etl_pull.pg_settings = 'work_mem=8MB, shared_buffers=1GB';
ALTER ROLE CURRENT_USER SET etl_pull.pg_settings = 'work_mem=lots';
SHOW etl_pull.pg_settings;
-- a placeholder, as SET takes it, and settings PostgreSQL takes
SET etl_pull.pg_settings = 'work_mem=8MB, myapp.load_label=nightly';
SHOW etl_pull.pg_settings;
RESET etl_pull.pg_settings;
-- others are still allowed
SELECT etl_pull.set_table_option('t1', 'mysql_settings', 'sql_mode=STRICT_TRANS_TABLES, sort_buffer_size=1048576');
SELECT etl_pull.set_table_option('t1', 'pg_settings', 'work_mem=8MB');
SELECT pg_settings, mysql_settings FROM etl_pull.tables WHERE name = 't1';
-- a superuser-only setting: a superuser may set it, an etl_pull_admin may not
-- (whoever runs the load, perhaps a superuser, would apply it)
SELECT etl_pull.set_table_option('t1', 'pg_settings', 'session_replication_role=replica');
CREATE ROLE regress_etl_settings_admin IN ROLE etl_pull_admin;
SET ROLE regress_etl_settings_admin;
SELECT etl_pull.set_table_option('t1', 'pg_settings', 'session_replication_role=replica');
SELECT etl_pull.set_table_option('t1', 'pg_settings', 'work_mem=4MB, log_min_duration_statement=0');
SET etl_pull.pg_settings = 'session_replication_role=replica';
SELECT etl_pull.set_table_option('t1', 'pg_settings', 'work_mem=16MB');
RESET ROLE;
SELECT pg_settings FROM etl_pull.tables WHERE name = 't1';
DROP ROLE regress_etl_settings_admin;

SELECT etl_pull.remove_table('t1');
SELECT etl_pull.remove_table('t1');
SELECT count(*) FROM etl_pull.tables;
DROP SERVER settings_srv;

-- the settings as the library describes them (src/settinglist.h)
SELECT name, kind, allowed, default_value FROM etl_pull.table_settings();
-- and etl_pull.tables agree with them: every setting is a column and every
-- column but the registration's own (name, server, created_at, table_id) is
-- a setting, of its kind's type, with its default, nullable when it has none
WITH s AS (
  SELECT name, kind, default_value,
         CASE kind WHEN 'column_list' THEN 'text[]' WHEN 'integer' THEN 'integer'
                   WHEN 'numeric' THEN 'numeric' WHEN 'boolean' THEN 'boolean'
                   ELSE 'text' END AS type
    FROM etl_pull.table_settings()
), c AS (
  SELECT a.attname::text AS name, format_type(a.atttypid, a.atttypmod) AS type,
         NOT a.attnotnull AS nullable,
         regexp_replace(pg_get_expr(d.adbin, d.adrelid), '^''(.*)''::text$', '\1') AS default_value
    FROM pg_attribute a
    LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
   WHERE a.attrelid = 'etl_pull.tables'::regclass AND a.attnum > 0 AND NOT a.attisdropped
     AND a.attname NOT IN ('name', 'server', 'created_at', 'table_id')
)
SELECT coalesce(s.name, c.name) AS setting, s.type, c.type AS column_type,
       s.default_value, c.default_value AS column_default, c.nullable
  FROM s FULL JOIN c ON c.name = s.name
 WHERE s.name IS NULL OR c.name IS NULL OR s.type <> c.type
    OR s.default_value IS DISTINCT FROM c.default_value
    OR (s.default_value IS NULL) <> c.nullable;
-- the columns' CHECKs allow what the validator allows: a choice's values, an
-- integer's range
SELECT s.name, s.allowed, pg_get_constraintdef(k.oid) AS "check"
  FROM etl_pull.table_settings() s
  JOIN pg_constraint k ON k.conrelid = 'etl_pull.tables'::regclass AND k.contype = 'c'
   AND k.conkey = ARRAY[(SELECT attnum FROM pg_attribute
                          WHERE attrelid = 'etl_pull.tables'::regclass AND attname = s.name)]
 WHERE (s.kind = 'choice' AND
        ARRAY(SELECT m[1] FROM regexp_matches(pg_get_constraintdef(k.oid), '''([^'']*)''', 'g') m ORDER BY 1)
        <> ARRAY(SELECT v FROM unnest(string_to_array(s.allowed, ', ')) v ORDER BY 1))
    OR (s.kind = 'integer' AND
        regexp_replace(pg_get_constraintdef(k.oid), '^.* >= (\d+)\) AND .* <= (\d+)\).*$',
                       'integers from \1 to \2') <> s.allowed);
SELECT name, kind FROM etl_pull.table_settings() s
 WHERE kind IN ('choice', 'integer', 'numeric')
   AND NOT EXISTS (SELECT 1 FROM pg_constraint k
                    WHERE k.conrelid = 'etl_pull.tables'::regclass AND k.contype = 'c'
                      AND k.conkey = ARRAY[(SELECT attnum FROM pg_attribute
                                             WHERE attrelid = 'etl_pull.tables'::regclass
                                               AND attname = s.name)]);
-- every default is a value the validator accepts, stored as it is
SELECT name, default_value FROM etl_pull.table_settings()
 WHERE default_value IS NOT NULL
   AND etl_pull.check_table_option(name, default_value) IS DISTINCT FROM default_value;
