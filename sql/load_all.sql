--
-- load_all: every enabled table of a group, several at once, each in its own
-- transaction; one failure does not stop the others
--
\getenv myuser ETL_PULL_MYSQL_USER
\getenv mypassword ETL_PULL_MYSQL_PASSWORD
SELECT etl_pull.add_table('g_perio', server => 'replica', source_table => 'periomeasure');
SELECT etl_pull.add_table('g_small', server => 'replica', source_table => 'iso_small');
SELECT etl_pull.add_table('g_broken', server => 'replica', source_table => 'no_such_table');
SELECT etl_pull.add_table('g_off', server => 'replica', source_table => 'iso_big');
SELECT etl_pull.set_table_option(t, 'load_group', 'nightly')
  FROM unnest(ARRAY['g_perio', 'g_small', 'g_broken', 'g_off']) t;
SELECT etl_pull.set_table_option('g_off', 'enabled', 'false');

-- every row has its run, the failed one too (the workers' runs commit
-- after this statement's snapshot: read them in the next)
CREATE TEMP TABLE la AS SELECT * FROM etl_pull.load_all('nightly', max_parallel => 2);
SELECT la.table_name, la.status, la.rows, r.status AS run_status, la.error
  FROM la LEFT JOIN etl_pull.runs r USING (run_id) ORDER BY 1;
DROP TABLE la;
-- the successful loads committed on their own
SELECT count(*) FROM g_perio;
SELECT count(*) FROM g_small;
SELECT to_regclass('g_off') IS NULL AS disabled_not_loaded;
SELECT table_name, status, rows, error FROM etl_pull.runs
 WHERE table_name LIKE 'g\_%' ORDER BY table_name, run_id;

-- one at a time gives the same
SELECT table_name, status, rows FROM etl_pull.load_all('nightly', max_parallel => 1);
SELECT * FROM etl_pull.load_all('nightly', max_parallel => 0);

-- a group with no enabled table is an error naming it (a typo in a pg_cron
-- job must not load nothing, silently, every night); so is a load_all of
-- every group when no table is enabled, or none is registered
SELECT * FROM etl_pull.load_all('no_such_group');
SELECT etl_pull.set_table_option('g_off', 'load_group', 'sleeping');
SELECT * FROM etl_pull.load_all('sleeping');
BEGIN;
UPDATE etl_pull.tables SET enabled = false;
SELECT * FROM etl_pull.load_all();
ROLLBACK;
BEGIN;
DELETE FROM etl_pull.tables;
SELECT * FROM etl_pull.load_all();
ROLLBACK;
SELECT etl_pull.set_table_option('g_off', 'load_group', 'nightly');

-- on_busy = skip: a table another session (here this one) is loading is
-- skipped, and the skip is a run of its own; run_comparison's last status
-- is the latest load's
SELECT etl_pull.set_table_option('g_small', 'on_busy', 'skip');
BEGIN;
SELECT status FROM etl_pull.load_table('g_small');
CREATE TEMP TABLE la AS SELECT * FROM etl_pull.load_all('nightly', max_parallel => 2);
COMMIT;
SELECT la.table_name, la.status, la.rows, r.status AS run_status, r.strategy, r.extraction,
       r.rows AS run_rows, r.notes
  FROM la LEFT JOIN etl_pull.runs r USING (run_id) ORDER BY 1;
SELECT count(*) FROM g_small;
SELECT string_agg(status, ', ' ORDER BY run_id) FROM etl_pull.runs WHERE table_name = 'g_small';
SELECT last_status FROM etl_pull.run_comparison WHERE table_name = 'g_small';
DROP TABLE la;

-- a role that cannot log in cannot have background workers: load_all and
-- the parallel strategy say so before they start any
CREATE ROLE regress_etl_nologin NOLOGIN;
CREATE SCHEMA regress_nologin AUTHORIZATION regress_etl_nologin;
GRANT USAGE ON FOREIGN SERVER replica TO regress_etl_nologin;
CREATE USER MAPPING FOR regress_etl_nologin SERVER replica
    OPTIONS (user :'myuser', password :'mypassword');
SELECT etl_pull.add_table('g_par', server => 'replica', source_table => 'periomeasure',
                          target_table => 'regress_nologin.g_par');
SELECT etl_pull.set_table_option('g_par', 'strategy', 'parallel');
SET ROLE regress_etl_nologin;
SELECT * FROM etl_pull.load_all('nightly');
SELECT status FROM etl_pull.load_table('g_par');
RESET ROLE;
SELECT etl_pull.remove_table('g_par');
DROP SCHEMA regress_nologin CASCADE;
DROP USER MAPPING FOR regress_etl_nologin SERVER replica;
REVOKE USAGE ON FOREIGN SERVER replica FROM regress_etl_nologin;
DROP ROLE regress_etl_nologin;

SELECT etl_pull.remove_table(t) FROM unnest(ARRAY['g_perio', 'g_small', 'g_broken', 'g_off']) t;
DROP TABLE g_perio, g_small;
