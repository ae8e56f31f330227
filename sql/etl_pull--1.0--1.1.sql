/* etl_pull upgrade script, version 1.0 to 1.1 */

\echo Use "ALTER EXTENSION etl_pull UPDATE TO '1.1'" to load this file. \quit

-- Every registered table gets a stable identity, the key of its "loading"
-- lock (load_table), so that two names can never share a lock the way two
-- names with the same 32-bit hash did.  integer, because the lock key is
-- the second half of a two-part advisory lock key; dumped with the table.
CREATE SEQUENCE etl_pull.tables_table_id_seq AS integer;
ALTER TABLE etl_pull.tables
    ADD COLUMN table_id integer NOT NULL
        DEFAULT pg_catalog.nextval('etl_pull.tables_table_id_seq') UNIQUE;
ALTER SEQUENCE etl_pull.tables_table_id_seq OWNED BY etl_pull.tables.table_id;
SELECT pg_catalog.pg_extension_config_dump('etl_pull.tables_table_id_seq', '');
GRANT USAGE ON SEQUENCE etl_pull.tables_table_id_seq TO etl_pull_admin;
COMMENT ON COLUMN etl_pull.tables.table_id IS
    'stable identity of the registered table: the key of its loading lock';
