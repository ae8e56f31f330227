--
-- What no setting can make a load do: write a system catalog, a system
-- schema or etl_pull's own tables, share one target between two registered
-- tables, or reach a target in a schema the caller may not use.
--
\getenv myuser ETL_PULL_MYSQL_USER
\getenv mypassword ETL_PULL_MYSQL_PASSWORD

-- system schemas and etl_pull's own are refused when set
SELECT etl_pull.add_table('sec_cat', server => 'replica', source_table => 'periomeasure',
                          target_table => 'pg_catalog.pg_description');
SELECT etl_pull.add_table('sec_cat', server => 'replica', source_table => 'periomeasure',
                          target_table => 'information_schema.sql_features');
SELECT etl_pull.add_table('sec_cat', server => 'replica', source_table => 'periomeasure',
                          target_table => 'pg_toast.anything');
SELECT etl_pull.add_table('sec_cat', server => 'replica', source_table => 'periomeasure',
                          target_table => 'etl_pull.runs');
SELECT etl_pull.add_table('sec_cat', server => 'replica', source_table => 'periomeasure');
SELECT etl_pull.set_table_option('sec_cat', 'target_table', '"pg_catalog".pg_class');
SELECT etl_pull.set_table_option('sec_cat', 'target_table', 'pg_temp.sec');

-- ... and when a load finds them in the registry anyway (written by the
-- extension's owner, or by 1.0): nothing is written, pg_description keeps
-- its rows
SELECT count(*) AS descriptions FROM pg_description \gset
UPDATE etl_pull.tables SET target_table = 'pg_catalog.pg_description' WHERE name = 'sec_cat';
SELECT status FROM etl_pull.load_table('sec_cat');
SELECT count(*) = :descriptions AS pg_description_unchanged FROM pg_description;
UPDATE etl_pull.tables SET target_table = NULL WHERE name = 'sec_cat';

-- two registered tables cannot share a target, however it is spelt
SELECT etl_pull.add_table('sec_twin', server => 'replica', source_table => 'periomeasure',
                          target_table => 'public.sec_cat');
SELECT etl_pull.add_table('sec_twin', server => 'replica', source_table => 'periomeasure',
                          target_table => 'SEC_CAT');
SELECT etl_pull.add_table('sec_twin', server => 'replica', source_table => 'periomeasure');
SELECT etl_pull.set_table_option('sec_twin', 'target_table', '"public"."sec_cat"');
SELECT etl_pull.set_table_option('sec_cat', 'target_table', 'sec_twin');
SELECT etl_pull.target_of('sec_twin', NULL), etl_pull.target_of('X', 'My."Odd"');

-- stream checks USAGE on the target's schema, as the SQL it replaces would
CREATE SCHEMA sec_locked;
CREATE TABLE sec_locked.perio (LIKE periomeasure INCLUDING ALL);
SELECT etl_pull.set_table_option('sec_cat', 'target_table', 'sec_locked.perio');
SELECT etl_pull.set_table_option('sec_cat', 'strategy', 'stream');
CREATE ROLE regress_sec_loader;
CREATE USER MAPPING FOR regress_sec_loader SERVER replica
    OPTIONS (user :'myuser', password :'mypassword');
GRANT USAGE ON FOREIGN SERVER replica TO regress_sec_loader;
GRANT INSERT, TRUNCATE ON sec_locked.perio TO regress_sec_loader;
SET ROLE regress_sec_loader;
SELECT status FROM etl_pull.load_table('sec_cat');
RESET ROLE;
GRANT USAGE ON SCHEMA sec_locked TO regress_sec_loader;
SET ROLE regress_sec_loader;
SELECT strategy, rows, status FROM etl_pull.load_table('sec_cat');
RESET ROLE;
SELECT count(*) FROM sec_locked.perio;

SELECT etl_pull.remove_table('sec_cat');
SELECT etl_pull.remove_table('sec_twin');
DROP SCHEMA sec_locked CASCADE;
DROP USER MAPPING FOR regress_sec_loader SERVER replica;
REVOKE ALL ON FOREIGN SERVER replica FROM regress_sec_loader;
DROP ROLE regress_sec_loader;
