/* etl_pull upgrade script, version 1.4 to 1.5 */

\echo Use "ALTER EXTENSION etl_pull UPDATE TO '1.5'" to load this file. \quit

-- 1.5: the real OpenDental replica (issue 28: exact default plans, unchanged
-- tables skipped, gentle reads of MyISAM sources, a full load near the
-- floor) and the binary-log stream (issue 27).  Each section below is headed
-- by the item it serves.

-- Issue 27, the binary log's decoder: etl_pull.binlog_events(), a DBA's
-- diagnostic that reads a source's binary log through the stream's own
-- transport and parser and shows each event, and each row image decoded as
-- the stream hands it to the converters.  Only etl_pull_admin may run it:
-- the binary log holds every change of every database on the server.
CREATE FUNCTION etl_pull.binlog_events(server name, start_file text,
                                       start_offset bigint DEFAULT 4,
                                       max_events integer DEFAULT 1000,
                                       server_id bigint DEFAULT NULL,
                                       start_gtid text DEFAULT NULL,
                                       OUT file text, OUT "position" bigint,
                                       OUT next_position bigint, OUT kind text,
                                       OUT event_type integer,
                                       OUT event_server_id bigint,
                                       OUT gtid text, OUT table_name text,
                                       OUT statement text,
                                       OUT old_values text[], OUT new_values text[])
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'etl_pull_binlog_events'
LANGUAGE C CALLED ON NULL INPUT VOLATILE;
COMMENT ON FUNCTION etl_pull.binlog_events(name, text, bigint, integer, bigint, text) IS
    'the source''s binary log from a file and offset (or after a GTID), each event and row image decoded as the binlog stream reads it (a diagnostic; etl_pull_admin only)';
REVOKE EXECUTE ON FUNCTION etl_pull.binlog_events(name, text, bigint, integer, bigint, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION etl_pull.binlog_events(name, text, bigint, integer, bigint, text) TO etl_pull_admin;
