--
-- Every strategy loads the same values: one encoding whatever the
-- session's, DATETIME into timestamptz as UTC, domains checked everywhere;
-- rejects that leave the backend sound; published targets; a copy target
-- whose trigger starts another load.
--
\set VERBOSITY default

-- each strategy in turn on table t: loaded rows, or the error's SQLSTATE
-- and message (the load's own subtransaction is rolled back)
CREATE FUNCTION try_strategies(t text, strategies text[]
                               DEFAULT ARRAY['standard', 'stream', 'copy', 'parallel'])
RETURNS TABLE (strategy text, result text)
LANGUAGE plpgsql AS $$
BEGIN
    FOREACH strategy IN ARRAY strategies LOOP
        PERFORM etl_pull.set_table_option(t, 'strategy', strategy);
        BEGIN
            SELECT 'loaded ' || l.rows || ', rejected ' || l.rejected_rows
              INTO result FROM etl_pull.load_table(t) l;
        EXCEPTION WHEN OTHERS THEN
            result := SQLSTATE || ': ' || SQLERRM;
        END;
        RETURN NEXT;
    END LOOP;
END
$$;

--
-- One encoding: the type fixture through copy under LATIN1, WIN1252 and
-- UTF8 equals the stream load, value for value, invalid_utf8 = replace
--
SELECT etl_pull.add_table('enc_types', server => 'replica', source_table => 'alltypes');
SELECT etl_pull.set_table_option('enc_types', 'invalid_utf8', 'replace');
SELECT etl_pull.set_table_option('enc_types', 'strategy', 'stream');
SELECT strategy, rows FROM etl_pull.load_table('enc_types');
CREATE TABLE enc_types_stream AS SELECT * FROM enc_types;
-- rows, values compared (every column of every row, as jsonb) and those
-- that differ
CREATE VIEW enc_types_diff AS
SELECT (SELECT count(*) FROM enc_types) AS rows,
       count(*) AS values_compared,
       count(*) FILTER (WHERE a.value IS DISTINCT FROM b.value) AS differing_values
  FROM (SELECT t.id, j.key, j.value FROM enc_types t, jsonb_each(to_jsonb(t)) j) a
  FULL JOIN (SELECT t.id, j.key, j.value FROM enc_types_stream t, jsonb_each(to_jsonb(t)) j) b
       USING (id, key);
SELECT etl_pull.set_table_option('enc_types', 'strategy', 'copy');
SET client_encoding = 'LATIN1';
SELECT strategy, rows FROM etl_pull.load_table('enc_types');
SELECT * FROM enc_types_diff;
SET client_encoding = 'WIN1252';
SELECT strategy, rows FROM etl_pull.load_table('enc_types');
SELECT * FROM enc_types_diff;
SET client_encoding = 'UTF8';
SELECT strategy, rows FROM etl_pull.load_table('enc_types');
SELECT * FROM enc_types_diff;
-- the multibyte and latin1 values themselves
SELECT id, vc, tt, l1 FROM enc_types WHERE id = 5;

-- invalid UTF-8 and NUL bytes through copy: replaced as stream replaces
-- them (U+FFFD), under any client encoding, or an error by default
CREATE TABLE enc_bad (id integer PRIMARY KEY, b text);
SELECT etl_pull.add_table('enc_bad', server => 'replica', source_table => 'badutf8');
SELECT etl_pull.add_table('enc_nul', server => 'replica', source_table => 'nulbytes');
SELECT etl_pull.set_table_option(t, 'invalid_utf8', 'replace') FROM unnest(ARRAY['enc_bad', 'enc_nul']) t;
SELECT etl_pull.set_table_option(t, 'strategy', 'stream') FROM unnest(ARRAY['enc_bad', 'enc_nul']) t;
SELECT rows FROM etl_pull.load_table('enc_bad');
SELECT rows FROM etl_pull.load_table('enc_nul');
CREATE TABLE enc_bad_stream AS SELECT * FROM enc_bad;
CREATE TABLE enc_nul_stream AS SELECT * FROM enc_nul;
SELECT etl_pull.set_table_option(t, 'strategy', 'copy') FROM unnest(ARRAY['enc_bad', 'enc_nul']) t;
SET client_encoding = 'LATIN1';
SELECT rows FROM etl_pull.load_table('enc_bad');
SELECT rows FROM etl_pull.load_table('enc_nul');
RESET client_encoding;
SELECT (SELECT count(*) FROM (TABLE enc_bad EXCEPT TABLE enc_bad_stream) d) AS bad_differing,
       (SELECT count(*) FROM (TABLE enc_nul EXCEPT TABLE enc_nul_stream) d) AS nul_differing;
SELECT id, b, encode(convert_to(b, 'UTF8'), 'hex') FROM enc_bad ORDER BY id;
SELECT id, t, encode(convert_to(t, 'UTF8'), 'hex') FROM enc_nul ORDER BY id;
SELECT etl_pull.set_table_option(t, 'invalid_utf8', NULL) FROM unnest(ARRAY['enc_bad', 'enc_nul']) t;
SELECT rows FROM etl_pull.load_table('enc_bad');
SELECT rows FROM etl_pull.load_table('enc_nul');
SELECT count(*) FROM enc_bad;

--
-- DATETIME and DATE into timestamptz are UTC in every strategy, whatever
-- the session's TimeZone (2024-03-10 02:30 does not exist in New York)
--
SET TimeZone = 'America/New_York';
CREATE TABLE tz_times (id integer PRIMARY KEY, d timestamptz, dt timestamptz,
                       dt6 timestamptz(6), ts timestamptz(3));
SELECT etl_pull.add_table('tz_times', server => 'replica');
CREATE TABLE tz_seen (strategy text, id integer, d text, dt text, dt6 text, ts text);
CREATE FUNCTION tz_load(s text) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE n bigint;
BEGIN
    PERFORM etl_pull.set_table_option('tz_times', 'strategy', s);
    SELECT rows INTO n FROM etl_pull.load_table('tz_times');
    INSERT INTO tz_seen
    SELECT s, id, to_char(d AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS'),
           to_char(dt AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS'),
           to_char(dt6 AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US'),
           to_char(ts AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.MS')
      FROM tz_times;
    RETURN n;
END $$;
SELECT s AS strategy, tz_load(s) AS rows
  FROM unnest(ARRAY['standard', 'stream', 'copy', 'parallel']) s;
-- one set of values, seen by all four strategies: MySQL's own text
SELECT id, d, dt, dt6, ts, count(*) AS strategies
  FROM tz_seen GROUP BY id, d, dt, dt6, ts ORDER BY id;
RESET TimeZone;

--
-- Domains: NOT NULL and CHECK hold in every strategy, on the fast paths
-- too (and a domain over timestamptz reads DATETIME as UTC too)
--
CREATE DOMAIN etl_posint AS integer CHECK (VALUE > 0);
CREATE DOMAIN etl_nntext AS varchar(10) NOT NULL;
CREATE DOMAIN etl_nnts AS timestamptz NOT NULL;
CREATE TABLE dom_ok (id integer PRIMARY KEY, n etl_posint, s etl_nntext, d etl_nnts);
CREATE TABLE dom_check (LIKE dom_ok);
CREATE TABLE dom_null (LIKE dom_ok);
SELECT etl_pull.add_table(t, server => 'replica') FROM unnest(ARRAY['dom_ok', 'dom_check', 'dom_null']) t;
SELECT * FROM try_strategies('dom_ok');
SELECT id, n, s, d AT TIME ZONE 'UTC' AS d_utc FROM dom_ok ORDER BY id;
SELECT * FROM try_strategies('dom_check');
SELECT * FROM try_strategies('dom_null');
SELECT count(*) AS rows_kept FROM dom_ok;
-- a target column no source column fills gets NULL, checked against its
-- domain, or its default
CREATE TABLE dom_extra (LIKE dom_ok, extra etl_nntext);
SELECT etl_pull.add_table('dom_extra', server => 'replica', source_table => 'dom_ok');
SELECT * FROM try_strategies('dom_extra');
ALTER TABLE dom_extra ALTER COLUMN extra SET DEFAULT 'x';
SELECT * FROM try_strategies('dom_extra');
SELECT extra, count(*) FROM dom_extra GROUP BY extra;

--
-- on_error = reject with a domain whose CHECK runs SQL: the failing rows
-- are rejected in subtransactions, so nothing they held (here an SPI
-- connection) is left behind, and no WARNING follows
--
CREATE FUNCTION etl_positive(v integer) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
    IF v <= 0 THEN
        PERFORM count(*) FROM pg_class;
        RAISE EXCEPTION 'value % is not positive', v;
    END IF;
    RETURN true;
END $$;
CREATE DOMAIN etl_checked AS integer CHECK (etl_positive(VALUE));
CREATE TABLE rej_dom (id integer PRIMARY KEY, n etl_checked, s text);
SELECT etl_pull.add_table('rej_dom', server => 'replica');
SELECT etl_pull.set_table_option('rej_dom', 'on_error', 'reject');
SELECT * FROM try_strategies('rej_dom', ARRAY['stream', 'standard', 'parallel']);
SELECT * FROM rej_dom ORDER BY id;
SELECT row_key, column_name, reason, raw_text FROM etl_pull.rejects
 WHERE table_name = 'rej_dom' AND run_id = (SELECT max(run_id) FROM etl_pull.runs)
 ORDER BY row_key;
-- in batches of two rows: two batches fail and are redone row by row,
-- the last one converts at once
SELECT etl_pull.set_table_option('rej_dom', 'batch_size', '2');
SELECT * FROM try_strategies('rej_dom', ARRAY['stream', 'parallel']);
SELECT * FROM rej_dom ORDER BY id;
SELECT etl_pull.set_table_option('rej_dom', 'batch_size', NULL);
-- without reject the first bad row fails the load, in every strategy
SELECT etl_pull.set_table_option('rej_dom', 'on_error', NULL);
SELECT * FROM try_strategies('rej_dom');

--
-- Published targets: stream and parallel swap the storage, which logical
-- replication does not see; auto falls back, an explicit choice is an error
--
CREATE SCHEMA etl_pub;
CREATE TABLE etl_pub.pub_t (id integer PRIMARY KEY, n integer, s text, d timestamp);
SELECT etl_pull.add_table('pub_t', server => 'replica', source_table => 'dom_ok',
                          target_table => 'etl_pub.pub_t');
SELECT strategy FROM etl_pull.load_table('pub_t');
SET client_min_messages = error; -- wal_level need not be logical here
CREATE PUBLICATION etl_pub_table FOR TABLE etl_pub.pub_t;
RESET client_min_messages;
SELECT strategy, rows FROM etl_pull.load_table('pub_t');
SELECT strategy, strategy_reason FROM etl_pull.runs ORDER BY run_id DESC LIMIT 1;
SELECT etl_pull.set_table_option('pub_t', 'strategy', 'stream');
SELECT strategy, rows FROM etl_pull.load_table('pub_t');
SELECT etl_pull.set_table_option('pub_t', 'strategy', 'parallel');
SELECT strategy, rows FROM etl_pull.load_table('pub_t');
DROP PUBLICATION etl_pub_table;
SET client_min_messages = error;
CREATE PUBLICATION etl_pub_schema FOR TABLES IN SCHEMA etl_pub;
RESET client_min_messages;
SELECT * FROM try_strategies('pub_t', ARRAY['stream', 'auto']);
SELECT strategy, strategy_reason FROM etl_pull.runs ORDER BY run_id DESC LIMIT 1;
DROP PUBLICATION etl_pub_schema;
SET client_min_messages = error;
CREATE PUBLICATION etl_pub_all FOR ALL TABLES;
RESET client_min_messages;
SELECT * FROM try_strategies('pub_t', ARRAY['parallel', 'auto']);
SELECT strategy, strategy_reason FROM etl_pull.runs ORDER BY run_id DESC LIMIT 1;
DROP PUBLICATION etl_pub_all;
-- unpublished, it streams again
SELECT * FROM try_strategies('pub_t', ARRAY['auto']);
SELECT strategy FROM etl_pull.runs ORDER BY run_id DESC LIMIT 1;
SELECT count(*) FROM etl_pub.pub_t;

--
-- A trigger on a copy target that starts another copy load: both load,
-- the backend survives
--
CREATE TABLE reentry_outer (id integer PRIMARY KEY, n integer, s text, d timestamp);
CREATE TABLE reentry_inner (id integer PRIMARY KEY, n integer, s text, d timestamp);
SELECT etl_pull.add_table('reentry_outer', server => 'replica', source_table => 'dom_ok');
SELECT etl_pull.add_table('reentry_inner', server => 'replica', source_table => 'dom_check');
SELECT etl_pull.set_table_option(t, 'strategy', 'copy') FROM unnest(ARRAY['reentry_outer', 'reentry_inner']) t;
CREATE FUNCTION reentry_load() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.id = 2 THEN
        PERFORM etl_pull.load_table('reentry_inner');
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER reentry BEFORE INSERT ON reentry_outer
    FOR EACH ROW EXECUTE FUNCTION reentry_load();
SELECT strategy, rows FROM etl_pull.load_table('reentry_outer');
SELECT (SELECT count(*) FROM reentry_outer) AS outer_rows,
       (SELECT count(*) FROM reentry_inner) AS inner_rows;
SELECT table_name, strategy, rows, status FROM etl_pull.runs
 WHERE table_name LIKE 'reentry%' ORDER BY run_id;
-- a trigger that loads the table being loaded is refused, not recursed into
CREATE OR REPLACE FUNCTION reentry_load() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.id = 2 THEN
        PERFORM etl_pull.load_table('reentry_outer');
    END IF;
    RETURN NEW;
END $$;
SELECT strategy, rows FROM etl_pull.load_table('reentry_outer');
SELECT count(*) AS outer_rows FROM reentry_outer;
