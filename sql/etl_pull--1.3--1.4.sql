/* etl_pull upgrade script, version 1.3 to 1.4 */

\echo Use "ALTER EXTENSION etl_pull UPDATE TO '1.4'" to load this file. \quit

-- Issue 25 (trust): 1.4 changes behaviour in C (loads run the target's code
-- as its owner, hostile replies refused, remote text made printable, ...).
-- Catalog changes, if any, follow below, each under the item it serves.

-- Item 11: verify_table compares JSON documents (by their text into json or
-- text, by a normal form into jsonb); a column it cannot compare (JSON into
-- jsonb from a server without JSON_NORMALIZE) is named in
-- uncompared_columns, and the status is then 'not comparable' rather than
-- 'equal' when nothing else differs.  A new result column: the function is
-- created again.
DROP FUNCTION etl_pull.verify_table(text, integer);
CREATE FUNCTION etl_pull.verify_table(name text, max_keys integer DEFAULT 10,
                                      OUT run_id bigint, OUT table_name text,
                                      OUT status text,
                                      OUT source_rows bigint, OUT target_rows bigint,
                                      OUT ranges integer, OUT differing_ranges integer,
                                      OUT missing_rows bigint, OUT extra_rows bigint,
                                      OUT different_rows bigint,
                                      OUT missing_keys text[], OUT extra_keys text[],
                                      OUT different_keys text[],
                                      OUT rows_located boolean,
                                      OUT seconds double precision,
                                      OUT uncompared_columns text[])
RETURNS record
AS 'MODULE_PATHNAME', 'etl_pull_verify_table'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION etl_pull.verify_table(text, integer) IS
    'compares a registered table''s target with its MySQL source, range hashes bisected to rows; status equal, different, or not comparable (uncompared_columns)';
