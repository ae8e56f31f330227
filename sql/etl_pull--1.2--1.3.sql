/* etl_pull upgrade script, version 1.2 to 1.3 */

\echo Use "ALTER EXTENSION etl_pull UPDATE TO '1.3'" to load this file. \quit

-- Issue 18: rows read in MySQL's binary protocol by default; zero dates as -infinity
ALTER TABLE etl_pull.tables
    ADD COLUMN protocol text NOT NULL DEFAULT 'binary'
        CHECK (protocol IN ('binary', 'text'));
COMMENT ON COLUMN etl_pull.tables.protocol IS
    'binary: rows are read with a prepared statement (exact doubles, dates from their fields); text: with a text query';
ALTER TABLE etl_pull.tables DROP CONSTRAINT tables_zero_dates_check;
ALTER TABLE etl_pull.tables ADD CONSTRAINT tables_zero_dates_check
    CHECK (zero_dates IN ('null', 'error', 'infinity'));
COMMENT ON COLUMN etl_pull.tables.zero_dates IS
    'null: zero dates load as NULL; error: they fail the load; infinity: they load as -infinity';
