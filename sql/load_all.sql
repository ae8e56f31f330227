--
-- load_all: every enabled table of a group, several at once, each in its own
-- transaction; one failure does not stop the others
--
SELECT etl_pull.add_table('g_perio', server => 'replica', source_table => 'periomeasure');
SELECT etl_pull.add_table('g_small', server => 'replica', source_table => 'iso_small');
SELECT etl_pull.add_table('g_broken', server => 'replica', source_table => 'no_such_table');
SELECT etl_pull.add_table('g_off', server => 'replica', source_table => 'iso_big');
SELECT etl_pull.set_table_option(t, 'load_group', 'nightly')
  FROM unnest(ARRAY['g_perio', 'g_small', 'g_broken', 'g_off']) t;
SELECT etl_pull.set_table_option('g_off', 'enabled', 'false');

SELECT table_name, status, rows, run_id IS NOT NULL AS has_run, error
  FROM etl_pull.load_all('nightly', max_parallel => 2);
-- the successful loads committed on their own
SELECT count(*) FROM g_perio;
SELECT count(*) FROM g_small;
SELECT to_regclass('g_off') IS NULL AS disabled_not_loaded;
SELECT table_name, status, rows, error FROM etl_pull.runs
 WHERE table_name LIKE 'g\_%' ORDER BY table_name, run_id;

-- one at a time gives the same
SELECT table_name, status, rows FROM etl_pull.load_all('nightly', max_parallel => 1);
SELECT * FROM etl_pull.load_all('no_such_group');
SELECT * FROM etl_pull.load_all('nightly', max_parallel => 0);

SELECT etl_pull.remove_table(t) FROM unnest(ARRAY['g_perio', 'g_small', 'g_broken', 'g_off']) t;
DROP TABLE g_perio, g_small;
