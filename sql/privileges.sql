--
-- Who may do what: etl_pull_admin manages tables; any role may load with
-- USAGE on the server and the privileges on the target the DML needs.
--
\getenv myuser ETL_PULL_MYSQL_USER
\getenv mypassword ETL_PULL_MYSQL_PASSWORD
CREATE ROLE regress_etl_analyst;
CREATE ROLE regress_etl_manager IN ROLE etl_pull_admin;
CREATE USER MAPPING FOR regress_etl_analyst SERVER replica
    OPTIONS (user :'myuser', password :'mypassword');
CREATE TABLE analyst_perio (LIKE periomeasure INCLUDING ALL);
ALTER TABLE analyst_perio OWNER TO regress_etl_manager;

-- a plain role may read the catalog but not change it
SET ROLE regress_etl_analyst;
SELECT count(*) > 0 AS can_read_tables FROM etl_pull.tables;
-- runs: only its own (errors may quote source values); watermarks: none
SELECT count(*) AS own_runs_visible FROM etl_pull.runs;
SELECT count(*) FROM etl_pull.watermarks;
SELECT count(*) >= 0 AS can_read_progress FROM etl_pull.progress;
SELECT etl_pull.performance_report() LIKE '# etl_pull performance report%' AS can_read_report;
SELECT etl_pull.add_table('analyst_perio', server => 'replica', source_table => 'periomeasure');
SELECT etl_pull.set_table_option('periomeasure', 'strategy', 'standard');
UPDATE etl_pull.tables SET strategy = 'standard';
SELECT count(*) FROM etl_pull.rejects;
RESET ROLE;

-- a member of etl_pull_admin may, through the functions only
SET ROLE regress_etl_manager;
SELECT etl_pull.add_table('analyst_perio', server => 'replica', source_table => 'periomeasure');
SELECT etl_pull.set_table_option('analyst_perio', 'batch_size', '500');
UPDATE etl_pull.tables SET batch_size = 0 WHERE name = 'analyst_perio';
INSERT INTO etl_pull.tables (name, server, target_table)
VALUES ('sneaky', 'replica', 'pg_catalog.pg_description');
DELETE FROM etl_pull.watermarks;
SELECT etl_pull.store_table_option('analyst_perio', 'batch_size', '0');
SELECT etl_pull.store_table_option('analyst_perio', 'server', 'other');
SELECT count(*) > 0 AS admin_reads_all_runs FROM etl_pull.runs;
RESET ROLE;

-- loading: USAGE on the server first ...
SET ROLE regress_etl_analyst;
SELECT rows FROM etl_pull.load_table('analyst_perio');
RESET ROLE;
GRANT USAGE ON FOREIGN SERVER replica TO regress_etl_analyst;
-- ... then INSERT on the target, checked before connecting ...
SET ROLE regress_etl_analyst;
SELECT rows FROM etl_pull.load_table('analyst_perio');
RESET ROLE;
GRANT INSERT ON analyst_perio TO regress_etl_analyst;
-- ... then what the strategy does: TRUNCATE for stream
SET ROLE regress_etl_analyst;
SELECT rows FROM etl_pull.load_table('analyst_perio');
RESET ROLE;
GRANT TRUNCATE ON analyst_perio TO regress_etl_analyst;
SET ROLE regress_etl_analyst;
SELECT strategy, rows, status FROM etl_pull.load_table('analyst_perio');
RESET ROLE;
-- DELETE for copy and standard
SET ROLE regress_etl_manager;
SELECT etl_pull.set_table_option('analyst_perio', 'strategy', 'copy');
RESET ROLE;
SET ROLE regress_etl_analyst;
SELECT rows FROM etl_pull.load_table('analyst_perio');
RESET ROLE;
GRANT DELETE ON analyst_perio TO regress_etl_analyst;
SET ROLE regress_etl_analyst;
SELECT strategy, rows, status FROM etl_pull.load_table('analyst_perio');
RESET ROLE;
SELECT count(*) FROM analyst_perio;
-- the runs record who ran them, successful and failed
SELECT run_as, strategy, status, rows, error FROM etl_pull.runs
 WHERE table_name = 'analyst_perio' ORDER BY run_id;
-- and the analyst sees exactly its own
SET ROLE regress_etl_analyst;
SELECT run_as, count(*) FROM etl_pull.runs GROUP BY run_as;
RESET ROLE;

SELECT etl_pull.remove_table('analyst_perio');
DROP TABLE analyst_perio;
DROP USER MAPPING FOR regress_etl_analyst SERVER replica;
REVOKE ALL ON FOREIGN SERVER replica FROM regress_etl_analyst;
DROP ROLE regress_etl_analyst;
DROP ROLE regress_etl_manager;
