--
-- Failures are loud: each is an ERROR with MySQL's own text in the
-- detail, and the target keeps its rows.
--
\getenv myport ETL_PULL_MYSQL_PORT
\getenv mydb ETL_PULL_MYSQL_DB
\getenv myuser ETL_PULL_MYSQL_USER
\getenv mypassword ETL_PULL_MYSQL_PASSWORD
\set VERBOSITY default

-- a target with rows that must survive every failure below
SELECT etl_pull.add_table('victim', server => 'replica', source_table => 'midstream_src');
SELECT rows FROM etl_pull.load_table('victim');
SELECT count(*) FROM victim;

-- unknown table
SELECT * FROM etl_pull.load_table('no_such_table');

-- unknown server (dropped after registration): a server that registered
-- tables load from cannot be dropped, unless event triggers are off
CREATE SERVER doomed FOREIGN DATA WRAPPER etl_pull OPTIONS (host '127.0.0.1', port :'myport');
SELECT etl_pull.add_table('orphan', server => 'doomed');
DROP SERVER doomed;
SET session_replication_role = replica;
DROP SERVER doomed;
RESET session_replication_role;
SELECT * FROM etl_pull.load_table('orphan');
SELECT etl_pull.remove_table('orphan');

-- no user mapping (a target of its own, with the same rows: two
-- registered tables cannot share one)
CREATE TABLE unmapped_target AS SELECT * FROM victim;
CREATE SERVER unmapped FOREIGN DATA WRAPPER etl_pull
    OPTIONS (host '127.0.0.1', port :'myport', dbname :'mydb');
SELECT etl_pull.add_table('unmapped_victim', server => 'unmapped', target_table => 'unmapped_target',
                          source_table => 'midstream_src');
SELECT * FROM etl_pull.load_table('unmapped_victim');

-- wrong password: MySQL's message, never the password
CREATE USER MAPPING FOR CURRENT_USER SERVER unmapped
    OPTIONS (user :'myuser', password 'wrong-password-xyzzy');
SELECT * FROM etl_pull.load_table('unmapped_victim');
SELECT count(*) FROM unmapped_target;

-- MariaDB down (nothing listens on port 1)
ALTER SERVER unmapped OPTIONS (SET port '1');
SELECT * FROM etl_pull.load_table('unmapped_victim');
SELECT count(*) FROM unmapped_target;

-- the source table is missing
SELECT etl_pull.set_table_option('victim', 'source_table', 'no_such_source');
SELECT * FROM etl_pull.load_table('victim');
SELECT etl_pull.set_table_option('victim', 'source_table', 'no_such_db.midstream_src');
SELECT * FROM etl_pull.load_table('victim');
SELECT count(*) FROM victim;

-- MySQL fails the statement mid-stream, after sending 3999 rows: an
-- error, never a short table
SELECT etl_pull.set_table_option('victim', 'source_table', 'midstream_error');
ALTER TABLE victim ADD COLUMN k integer, ADD COLUMN s integer;
SELECT * FROM etl_pull.load_table('victim');
SELECT count(*) FROM victim;

-- the connection is lost mid-stream (server stalls past the read timeout)
CREATE SERVER stalling FOREIGN DATA WRAPPER etl_pull
    OPTIONS (host '127.0.0.1', port :'myport', dbname :'mydb', read_timeout '1');
CREATE USER MAPPING FOR CURRENT_USER SERVER stalling
    OPTIONS (user :'myuser', password :'mypassword');
CREATE TABLE stall_target AS SELECT * FROM victim;
SELECT etl_pull.add_table('stall_victim', server => 'stalling', target_table => 'stall_target',
                          source_table => 'midstream_stall');
SELECT * FROM etl_pull.load_table('stall_victim');
SELECT count(*) FROM stall_target;

-- a value the target cannot hold (see also types.sql)
SELECT etl_pull.set_table_option('victim', 'source_table', 'midstream_src');
ALTER TABLE victim DROP COLUMN v, ADD COLUMN v varchar(3);
SELECT * FROM etl_pull.load_table('victim');
SELECT count(*) FROM victim;

-- the failed runs left nothing behind: no transient tables
SELECT count(*) FROM pg_class WHERE relname LIKE 'pg_temp_%';

-- a non-superuser needs a password in the mapping, and cannot use a socket
CREATE ROLE regress_etl_plain;
GRANT USAGE ON SCHEMA etl_pull TO regress_etl_plain;
GRANT SELECT ON etl_pull.tables TO regress_etl_plain;
GRANT USAGE ON FOREIGN SERVER replica TO regress_etl_plain;
GRANT INSERT, TRUNCATE ON victim TO regress_etl_plain;
CREATE USER MAPPING FOR regress_etl_plain SERVER replica OPTIONS (user :'myuser');
SET ROLE regress_etl_plain;
SELECT * FROM etl_pull.load_table('victim');
RESET ROLE;
ALTER SERVER replica OPTIONS (ADD socket '/nonexistent/mysql.sock');
ALTER USER MAPPING FOR regress_etl_plain SERVER replica OPTIONS (ADD password 'x');
SET ROLE regress_etl_plain;
SELECT * FROM etl_pull.load_table('victim');
RESET ROLE;
ALTER SERVER replica OPTIONS (DROP socket);
-- and the privileges the DML needs on the target, checked before connecting
ALTER USER MAPPING FOR regress_etl_plain SERVER replica OPTIONS (SET password :'mypassword');
REVOKE INSERT, TRUNCATE ON victim FROM regress_etl_plain;
SET ROLE regress_etl_plain;
SELECT * FROM etl_pull.load_table('victim');
RESET ROLE;
DROP USER MAPPING FOR regress_etl_plain SERVER replica;
REVOKE ALL ON FOREIGN SERVER replica FROM regress_etl_plain;
REVOKE ALL ON etl_pull.tables FROM regress_etl_plain;
REVOKE ALL ON SCHEMA etl_pull FROM regress_etl_plain;
DROP ROLE regress_etl_plain;

-- every failed run is recorded with its error, although its transaction
-- rolled back
SELECT table_name, run_as, strategy, status,
       CASE WHEN table_name = 'stall_victim' THEN rows > 0 END AS stalled_after_rows,
       CASE WHEN table_name <> 'stall_victim' THEN rows END AS rows, error
  FROM etl_pull.runs WHERE table_name LIKE '%victim' ORDER BY run_id;
