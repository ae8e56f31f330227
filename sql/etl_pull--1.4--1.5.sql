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
-- the function is made again (same rights), with issue 27's argument
-- binlog too (binlog => true: each new table with a primary key follows the
-- binary log).
DROP FUNCTION etl_pull.import_tables(name, text, text, text, text, text, boolean, boolean);
CREATE FUNCTION etl_pull.import_tables(server name,
                                       source_db text DEFAULT NULL,
                                       include text DEFAULT '%',
                                       exclude text DEFAULT NULL,
                                       load_group text DEFAULT NULL,
                                       target_schema text DEFAULT 'public',
                                       views boolean DEFAULT false,
                                       disable_missing boolean DEFAULT false,
                                       binlog boolean DEFAULT false)
RETURNS TABLE (name text, source text, target text, action text,
               extraction text, incremental_columns text[], primary_key text[],
               estimated_rows bigint, estimated_bytes bigint, engine text,
               notes text[], sees text, misses text)
AS 'MODULE_PATHNAME', 'etl_pull_import_tables'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION etl_pull.import_tables(name, text, text, text, text, text, boolean, boolean, boolean) IS
    'registers every table of a MySQL database with an exact plan (diff with a primary key, full without; with binlog, tables with a primary key follow the binary log), saying what each plan sees and misses; again, it reports new, existing and missing tables';
REVOKE EXECUTE ON FUNCTION etl_pull.import_tables(name, text, text, text, text, text, boolean, boolean, boolean)
    FROM PUBLIC;
GRANT EXECUTE ON FUNCTION etl_pull.import_tables(name, text, text, text, text, text, boolean, boolean, boolean)
    TO etl_pull_admin;

-- Item 1: a load of a source table that has not changed since the table's
-- last load is skipped (setting skip_unchanged: default, which follows
-- the GUC etl_pull.skip_unchanged, on or off; src/load/unchanged.c).  The
-- signature of the source each load read before its first row is kept in
-- etl_pull.source_signatures, with the target's identity and a digest of
-- the table's settings and its server's options; a skipped run is
-- recorded with status 'unchanged' (no strategy, no rows, a note saying
-- since which run), which run_comparison, like a skipped one, does not
-- count as a load.
ALTER TABLE etl_pull.tables
    ADD COLUMN skip_unchanged text NOT NULL DEFAULT 'default'
        CHECK (skip_unchanged IN ('default', 'on', 'off'));
COMMENT ON COLUMN etl_pull.tables.skip_unchanged IS
    'skip a load when the source table (MyISAM, non-transactional Aria) is unchanged since the last load: default (etl_pull.skip_unchanged), on, off';

CREATE TABLE etl_pull.source_signatures (
    table_name      text PRIMARY KEY
                    REFERENCES etl_pull.tables (name) ON DELETE CASCADE ON UPDATE CASCADE,
    run_id          bigint NOT NULL,
    loaded_at       timestamptz NOT NULL,
    signature       text NOT NULL,
    settings        text NOT NULL,
    target          oid NOT NULL,
    target_filenode oid NOT NULL
);
COMMENT ON TABLE etl_pull.source_signatures IS
    'per table: the source''s signature (information_schema.TABLES) its last load read before its first row, the target''s identity and a digest of the settings then; skip_unchanged compares the next load''s with it';
REVOKE ALL ON etl_pull.source_signatures FROM PUBLIC;
GRANT SELECT, DELETE ON etl_pull.source_signatures TO etl_pull_admin;

ALTER TABLE etl_pull.runs DROP CONSTRAINT runs_status_check;
ALTER TABLE etl_pull.runs ADD CONSTRAINT runs_status_check
    CHECK (status IN ('succeeded', 'failed', 'skipped', 'unchanged'));

CREATE OR REPLACE VIEW etl_pull.run_comparison AS
SELECT l.table_name,
       l.run_id, l.strategy, l.extraction, l.rows, l.seconds, l.rows_per_sec,
       l.peak_memory_kb,
       b.run_id AS baseline_run_id, b.strategy AS baseline_strategy,
       b.rows_per_sec AS baseline_rows_per_sec, b.peak_memory_kb AS baseline_peak_memory_kb,
       CASE WHEN b.extraction IS NOT DISTINCT FROM l.extraction
            THEN pg_catalog.round((l.rows_per_sec OPERATOR(pg_catalog./) NULLIF(b.rows_per_sec, 0))::pg_catalog.numeric, 2)
       END AS speedup,
       CASE WHEN b.extraction IS NOT DISTINCT FROM l.extraction
            THEN pg_catalog.round((b.peak_memory_kb::pg_catalog.numeric OPERATOR(pg_catalog./) NULLIF(l.peak_memory_kb, 0)), 2)
       END AS memory_improvement,
       s.status AS last_status, s.finished_at AS last_finished_at,
       b.extraction AS baseline_extraction
  FROM (SELECT DISTINCT ON (r.table_name) r.* FROM etl_pull.runs r
         WHERE r.status OPERATOR(pg_catalog.=) 'succeeded'
           AND r.strategy IS DISTINCT FROM 'verify'
         ORDER BY r.table_name, r.run_id DESC) l
  JOIN (SELECT DISTINCT ON (r.table_name) r.* FROM etl_pull.runs r
         WHERE r.strategy IS DISTINCT FROM 'verify'
           AND r.status OPERATOR(pg_catalog.<>) 'skipped'
           AND r.status OPERATOR(pg_catalog.<>) 'unchanged'
         ORDER BY r.table_name, r.run_id DESC) s USING (table_name)
  LEFT JOIN etl_pull.runs b ON b.table_name OPERATOR(pg_catalog.=) l.table_name AND b.is_baseline;

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

-- Issue 27: following the source's binary log.  extraction = 'binlog' keeps
-- a table current from its group's stream; start_stream and stop_stream
-- run and stop the group's background worker; etl_pull.stream_state is the
-- stream's one row (its position is committed in the same transaction as
-- the changes it applied, so a crash neither loses nor repeats anything),
-- etl_pull.stream_tables the tables whose snapshot the stream has taken,
-- etl_pull.streams the view.  Only the library writes them, as the
-- extension's owner.
ALTER TABLE etl_pull.tables DROP CONSTRAINT tables_extraction_check;
ALTER TABLE etl_pull.tables ADD CONSTRAINT tables_extraction_check
    CHECK (extraction IN ('full', 'incremental', 'diff', 'binlog'));

CREATE TABLE etl_pull.stream_state (
    load_group      text PRIMARY KEY,
    server          text NOT NULL,
    run_as          name NOT NULL,
    wanted          boolean NOT NULL DEFAULT true,
    state           text NOT NULL DEFAULT 'snapshotting'
                    CHECK (state IN ('snapshotting', 'streaming', 'stopped', 'failed')),
    binlog_file     text,
    binlog_offset   bigint,
    gtid            text,
    source_time     timestamptz,
    applied_at      timestamptz,
    caught_up_at    timestamptz,
    changes_applied bigint NOT NULL DEFAULT 0,
    resnapshotting  text[],
    last_error      text,
    last_error_at   timestamptz,
    worker_pid      integer,
    started_at      timestamptz,
    server_id       bigint NOT NULL
);
COMMENT ON TABLE etl_pull.stream_state IS
    'one row per load group that follows the binary log: its state and the source position applied (written with the changes, in one transaction)';
SELECT pg_catalog.pg_extension_config_dump('etl_pull.stream_state', '');
REVOKE ALL ON etl_pull.stream_state FROM PUBLIC;
GRANT SELECT ON etl_pull.stream_state TO etl_pull_admin;

CREATE TABLE etl_pull.stream_tables (
    table_name      text PRIMARY KEY
                    REFERENCES etl_pull.tables (name) ON DELETE CASCADE ON UPDATE CASCADE,
    load_group      text NOT NULL,
    snapshot_run_id bigint,
    snapshot_file   text,
    snapshot_offset bigint,
    snapshotted_at  timestamptz NOT NULL DEFAULT pg_catalog.now()
);
COMMENT ON TABLE etl_pull.stream_tables IS
    'the tables a stream has snapshotted (a table without a row is snapshotted before the stream applies its changes)';
SELECT pg_catalog.pg_extension_config_dump('etl_pull.stream_tables', '');
REVOKE ALL ON etl_pull.stream_tables FROM PUBLIC;
GRANT SELECT ON etl_pull.stream_tables TO etl_pull_admin;

-- A stream's errors may quote source values: each role sees the streams it
-- runs (or a role it is a member of runs), etl_pull_admin sees all
CREATE VIEW etl_pull.streams WITH (security_barrier) AS
SELECT s.load_group, s.server, s.run_as,
       CASE WHEN s.state IN ('snapshotting', 'streaming') AND NOT s.wanted
            THEN 'stopped' ELSE s.state END AS state,
       s.binlog_file, s.binlog_offset, s.gtid, s.source_time,
       CASE WHEN s.state OPERATOR(pg_catalog.<>) 'streaming' THEN NULL
            WHEN s.caught_up_at IS NOT NULL
                 AND s.caught_up_at OPERATOR(pg_catalog.>=) s.applied_at
                 AND s.caught_up_at OPERATOR(pg_catalog.>=) s.started_at
            THEN 0::double precision
            ELSE pg_catalog.date_part('epoch', pg_catalog.now() OPERATOR(pg_catalog.-)
                                      COALESCE(s.source_time, s.started_at)) END AS lag_seconds,
       s.changes_applied, s.resnapshotting, s.last_error, s.last_error_at,
       s.worker_pid, s.started_at, s.applied_at
  FROM etl_pull.stream_state s
 WHERE EXISTS (SELECT FROM pg_catalog.pg_roles r
                WHERE r.rolname OPERATOR(pg_catalog.=) s.run_as
                  AND pg_catalog.pg_has_role(CURRENT_USER, r.oid, 'USAGE'))
    OR pg_catalog.pg_has_role(CURRENT_USER, 'etl_pull_admin', 'USAGE');
COMMENT ON VIEW etl_pull.streams IS
    'one row per load group that follows the binary log: server, state, the source position applied, lag, changes, re-snapshots, the last error';
GRANT SELECT ON etl_pull.streams TO PUBLIC;

CREATE FUNCTION etl_pull.start_stream(load_group text)
RETURNS integer
AS 'MODULE_PATHNAME', 'etl_pull_start_stream'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION etl_pull.start_stream(text) IS
    'starts (or resumes from its recorded position) the background worker that keeps the group''s binlog tables current; returns its process id';

CREATE FUNCTION etl_pull.stop_stream(load_group text)
RETURNS boolean
AS 'MODULE_PATHNAME', 'etl_pull_stop_stream'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION etl_pull.stop_stream(text) IS
    'stops the group''s stream worker (its position is kept: start_stream resumes there); returns whether one was running';

-- import_tables(..., binlog => true) registers each new table that has a
-- primary key with extraction 'binlog' (the others load full, and a note
-- says why): the argument is in import_tables' one definition above, in
-- issue 28's section, which remakes the function for its new columns too.

-- Issue 28 (item 3, held reads): setting source_lock.  A load of a table
-- that no snapshot covers (MyISAM, Aria) with source_lock 'read' holds
-- FLUSH TABLES ... WITH READ LOCK on the table, on a connection of its
-- own, from before its read until the read (and the check of setting
-- verify) ends: its writers wait, and parallel chunks, verify = full and
-- a consistent load_all read one state of it (src/load/held.c).
ALTER TABLE etl_pull.tables
    ADD COLUMN source_lock text NOT NULL DEFAULT 'none'
        CHECK (source_lock IN ('none', 'read'));
COMMENT ON COLUMN etl_pull.tables.source_lock IS
    'a load of a MyISAM or Aria source holds its writers back for the whole read (FLUSH TABLES ... WITH READ LOCK): none, read';

-- Issue 28 (item 1, append-only logs): setting full_compare_every.  A diff
-- table with a single integer key that the source only appends to (a log)
-- compares every row on every N-th run only, once a comparison of every
-- row found nothing but appended rows; the runs between read the
-- rows past the target's highest key and (MyISAM, Aria) check the source's
-- exact row count against the target's, so that an edit of an older row is
-- found at the next full comparison (src/load/cadence.c).
-- etl_pull.full_comparisons keeps, per such table, the last run that
-- compared (or loaded) every row, what it found edited or deleted, and how
-- many runs read only new rows since; only the library writes it, as the
-- extension's owner.
ALTER TABLE etl_pull.tables
    ADD COLUMN full_compare_every integer NOT NULL DEFAULT 1
        CHECK (full_compare_every BETWEEN 1 AND 1000);
COMMENT ON COLUMN etl_pull.tables.full_compare_every IS
    'a diff table the source only appends to: every N-th run compares every row, the runs between read only the rows past the target''s highest key; 1: every run compares every row';

CREATE TABLE etl_pull.full_comparisons (
    table_name  text PRIMARY KEY
                REFERENCES etl_pull.tables (name) ON DELETE CASCADE ON UPDATE CASCADE,
    run_id      bigint NOT NULL,
    compared_at timestamptz NOT NULL,
    runs_since  integer NOT NULL,
    edits_found bigint
);
COMMENT ON TABLE etl_pull.full_comparisons IS
    'per table with full_compare_every above 1: the last run that compared or loaded every row, the rows it found edited or deleted (NULL: a full load, which cannot tell), and the runs since that read only the rows past the target''s highest key';
REVOKE ALL ON etl_pull.full_comparisons FROM PUBLIC;
GRANT SELECT, DELETE ON etl_pull.full_comparisons TO etl_pull_admin;
