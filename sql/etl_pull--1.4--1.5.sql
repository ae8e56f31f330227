/* etl_pull upgrade script, version 1.4 to 1.5 */

\echo Use "ALTER EXTENSION etl_pull UPDATE TO '1.5'" to load this file. \quit

-- 1.5: the real OpenDental replica (issue 28: exact default plans, unchanged
-- tables skipped, gentle reads of MyISAM sources, a full load near the
-- floor) and the binary-log stream (issue 27).  Each section below is headed
-- by the item it serves.

-- Issue 28, items 1-2: the default plan is exact, unchanged tables cost
-- nothing.
--
-- Item 2: import_tables registers diff for a table with a primary key
-- (an ON UPDATE stamp is not trusted: an edit may leave it alone, a delete
-- leaves no trace) and full for one without, and each row says what its
-- extraction sees of the source's changes and what it misses (sees,
-- misses; NULL misses: nothing).  Its result gains those two columns, so
-- the function is made again (same arguments, same rights).
DROP FUNCTION etl_pull.import_tables(name, text, text, text, text, text, boolean, boolean);
CREATE FUNCTION etl_pull.import_tables(server name,
                                       source_db text DEFAULT NULL,
                                       include text DEFAULT '%',
                                       exclude text DEFAULT NULL,
                                       load_group text DEFAULT NULL,
                                       target_schema text DEFAULT 'public',
                                       views boolean DEFAULT false,
                                       disable_missing boolean DEFAULT false)
RETURNS TABLE (name text, source text, target text, action text,
               extraction text, incremental_columns text[], primary_key text[],
               estimated_rows bigint, estimated_bytes bigint, engine text,
               notes text[], sees text, misses text)
AS 'MODULE_PATHNAME', 'etl_pull_import_tables'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION etl_pull.import_tables(name, text, text, text, text, text, boolean, boolean) IS
    'registers every table of a MySQL database with an exact plan (diff with a primary key, full without), saying what each plan sees and misses; again, it reports new, existing and missing tables';
REVOKE EXECUTE ON FUNCTION etl_pull.import_tables(name, text, text, text, text, text, boolean, boolean)
    FROM PUBLIC;
GRANT EXECUTE ON FUNCTION etl_pull.import_tables(name, text, text, text, text, text, boolean, boolean)
    TO etl_pull_admin;
