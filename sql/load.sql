--
-- Full loads of the demo table: counts and checksums against MariaDB's own
--
\getenv myport ETL_PULL_MYSQL_PORT
\getenv mydb ETL_PULL_MYSQL_DB
\getenv myuser ETL_PULL_MYSQL_USER
\getenv mypassword ETL_PULL_MYSQL_PASSWORD
CREATE SERVER replica FOREIGN DATA WRAPPER etl_pull
    OPTIONS (host '127.0.0.1', port :'myport', dbname :'mydb');
CREATE USER MAPPING FOR CURRENT_USER SERVER replica
    OPTIONS (user :'myuser', password :'mypassword');

SELECT etl_pull.add_table('periomeasure', server => 'replica');
SELECT table_name, strategy, extraction, rows
  FROM etl_pull.load_table('periomeasure');

-- the target was created with the lossless mapping and the primary key
\d periomeasure

-- MariaDB's own count and checksum, loaded through etl_pull from a view
SELECT etl_pull.add_table('periomeasure_checksum', server => 'replica');
SELECT rows FROM etl_pull.load_table('periomeasure_checksum');
CREATE VIEW perio_checksum_pg AS
SELECT count(*) AS row_count,
       sum(('x' || left(md5(concat_ws('|',
           periomeasurenum, perioexamnum, sequencetype, inttooth, toothvalue,
           mbvalue, bvalue, dbvalue, mlvalue, lvalue, dlvalue,
           coalesce(to_char(secdatetentry, 'YYYY-MM-DD HH24:MI:SS'), '\N'),
           coalesce(to_char(secdatetedit AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS'), '\N'),
           coalesce(to_char(datetmeasured, 'YYYY-MM-DD HH24:MI:SS.US'), '\N'))),
           15))::bit(60)::bigint) AS checksum
  FROM periomeasure;
SELECT m.row_count AS mysql_rows, p.row_count AS pg_rows,
       m.checksum = p.checksum AS checksums_match
  FROM periomeasure_checksum m, perio_checksum_pg p;

-- zero dates arrived as NULL (1% of the rows)
SELECT count(*) FILTER (WHERE secdatetentry IS NULL) AS zero_dates FROM periomeasure;

-- a second full load replaces the rows: same table, not double
SELECT table_name, strategy, rows FROM etl_pull.load_table('periomeasure');
SELECT m.row_count = p.row_count AS counts_match, m.checksum = p.checksum AS checksums_match
  FROM periomeasure_checksum m, perio_checksum_pg p;

-- the swap keeps the table's identity: grants, views and indexes survive
CREATE ROLE regress_etl_reader;
GRANT SELECT ON periomeasure TO regress_etl_reader;
CREATE INDEX periomeasure_exam ON periomeasure (perioexamnum);
SELECT 'periomeasure'::regclass::oid AS oid_before \gset
SELECT rows FROM etl_pull.load_table('periomeasure');
SELECT 'periomeasure'::regclass::oid = :oid_before AS same_oid,
       has_table_privilege('regress_etl_reader', 'periomeasure', 'SELECT') AS grant_kept;
SET enable_seqscan = off;
SELECT count(*) FROM periomeasure WHERE perioexamnum = 1;
RESET enable_seqscan;
SELECT row_count FROM perio_checksum_pg;

-- loading into a schema-qualified target chosen by setting
CREATE SCHEMA dental;
SELECT etl_pull.set_table_option('periomeasure', 'target_table', 'dental.perio');
SELECT rows FROM etl_pull.load_table('periomeasure');
SELECT count(*) FROM dental.perio;

-- the run history
SELECT table_name, strategy, strategy_reason ~ '^auto: .* plain table$' AS auto_plain,
       extraction, rows, bytes > 0 AS has_bytes,
       seconds >= 0 AS has_seconds, peak_memory_kb > 0 AS has_memory, status, error
  FROM etl_pull.runs ORDER BY run_id;

-- optimizations off: every load is a standard one
SET etl_pull.enable_optimizations = off;
SELECT strategy, rows FROM etl_pull.load_table('periomeasure');
RESET etl_pull.enable_optimizations;
SELECT strategy_reason FROM etl_pull.runs ORDER BY run_id DESC LIMIT 1;
SELECT count(*) FROM dental.perio;

-- performance tracking: a baseline, the comparison, the report
SELECT etl_pull.set_baseline(min(run_id)) FROM etl_pull.runs WHERE table_name = 'periomeasure';
SELECT etl_pull.set_baseline(12345);
SELECT table_name, baseline_run_id, strategy, baseline_strategy, speedup > 0 AS has_speedup,
       memory_improvement > 0 AS has_memory_improvement, last_status
  FROM etl_pull.run_comparison ORDER BY table_name;
SELECT regexp_replace(etl_pull.performance_report(), '\d+(\.\d+)?', 'N', 'g') AS report;

-- (perio_checksum_pg stays for strategies.sql)
DROP SCHEMA dental CASCADE;
REVOKE SELECT ON periomeasure FROM regress_etl_reader;
DROP ROLE regress_etl_reader;

-- Issue 29 item 12: what only a load can check names the setting in its error
SELECT etl_pull.add_table('misset', server => 'replica', source_table => 'periomeasure',
                          target_table => 'no_such_schema.misset');
SELECT status FROM etl_pull.load_table('misset');
SELECT etl_pull.set_table_option('misset', 'target_table', NULL);
SELECT etl_pull.set_table_option('misset', 'extraction', 'incremental');
SELECT etl_pull.set_table_option('misset', 'incremental_columns', 'DateTMeasured, NoSuchColumn');
SELECT status FROM etl_pull.load_table('misset');
SELECT etl_pull.set_table_option('misset', 'extraction', NULL);
SELECT etl_pull.set_table_option('misset', 'column_types', 'NoSuchColumn:text');
SELECT status FROM etl_pull.load_table('misset');
SELECT etl_pull.remove_table('misset');
