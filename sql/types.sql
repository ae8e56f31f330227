--
-- Every type of the mapping, with edge values, checked against MariaDB's
-- own rendering of each value; then the policies for what PostgreSQL
-- cannot hold.
--
SELECT etl_pull.add_table('alltypes', server => 'replica');
SELECT rows FROM etl_pull.load_table('alltypes');
\d alltypes

-- the values as loaded (long ones summarized)
SELECT id, ti, tiu, si, siu, mi, miu, i, iu, bi, biu FROM alltypes ORDER BY id;
SELECT id, dec1, dec2, fl, db FROM alltypes ORDER BY id;
SELECT id, b1, b10, b64 FROM alltypes ORDER BY id;
SELECT id, ch, vc, length(tt) AS tt_len, length(tx) AS tx_len, length(lt) AS lt_len,
       bn, vb, length(bl) AS bl_len, en, st FROM alltypes ORDER BY id;
SELECT id, to_char(d, 'YYYY-MM-DD') AS d, to_char(dt, 'YYYY-MM-DD HH24:MI:SS') AS dt,
       to_char(dt6, 'YYYY-MM-DD HH24:MI:SS.US') AS dt6,
       to_char(ts AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.MS') AS ts_utc,
       tm::text, tm6::text, yr FROM alltypes ORDER BY id;
SELECT id, js, encode(geo, 'hex') AS geo_wkb, l1 FROM alltypes ORDER BY id;
SELECT tt, tx FROM alltypes WHERE id = 5;

-- floats arrive to the last bit: compare with the exact values
SELECT id, fl = float4 '-3.40282e38' OR fl = float4 '3.40282e38' OR fl = 0 OR fl = float4 '0.1' AS fl_exact,
       db = float8 '-1.7976931348623157e308' OR db = float8 '1.7976931348623157e308'
       OR db = 0 OR db = float8 '0.1' AS db_exact
  FROM alltypes WHERE fl IS NOT NULL ORDER BY id;

-- MariaDB's rendering of every value, loaded as text from a view
SELECT etl_pull.add_table('alltypes_text', server => 'replica');
SELECT rows FROM etl_pull.load_table('alltypes_text');

CREATE FUNCTION mysql_time(iv interval, frac boolean) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN iv < interval '0' THEN '-' ELSE '' END
        || CASE WHEN s < 36000 THEN lpad(floor(s / 3600)::text, 2, '0')
                ELSE floor(s / 3600)::text END || ':'
        || lpad(floor(mod(s, 3600) / 60)::text, 2, '0') || ':'
        || CASE WHEN frac THEN to_char(mod(s, 60), 'FM00.000000')
                ELSE lpad(floor(mod(s, 60))::text, 2, '0') END
      FROM (SELECT abs(extract(epoch FROM iv)) AS s) x
$$;
CREATE FUNCTION no_zero_date(v text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$ SELECT CASE WHEN v ~ '^0000-00-00' THEN NULL ELSE v END $$;

CREATE VIEW type_mismatches AS
SELECT t.id, c.col, c.pg, c.mysql
  FROM alltypes t JOIN alltypes_text x USING (id),
  LATERAL (VALUES
    ('ti', t.ti::text, x.ti), ('tiu', t.tiu::text, x.tiu), ('si', t.si::text, x.si),
    ('siu', t.siu::text, x.siu), ('mi', t.mi::text, x.mi), ('miu', t.miu::text, x.miu),
    ('i', t.i::text, x.i), ('iu', t.iu::text, x.iu), ('bi', t.bi::text, x.bi),
    ('biu', t.biu::text, x.biu), ('dec1', t.dec1::text, x.dec1), ('dec2', t.dec2::text, x.dec2),
    ('b1', upper(to_hex(t.b1::bigint)), x.b1), ('b10', upper(to_hex(t.b10::bigint)), x.b10),
    ('b64', upper(to_hex(t.b64::bigint)), x.b64),
    ('ch', t.ch, x.ch), ('vc', t.vc, x.vc), ('tt', t.tt, x.tt),
    ('tx', md5(t.tx), x.tx_md5), ('lt', md5(t.lt), x.lt_md5),
    ('lt_len', length(t.lt)::text, x.lt_len::text),
    ('bn', upper(encode(t.bn, 'hex')), x.bn), ('vb', upper(encode(t.vb, 'hex')), x.vb),
    ('bl', md5(t.bl), x.bl_md5), ('en', t.en, x.en), ('st', array_to_string(t.st, ','), x.st),
    ('d', to_char(t.d, 'YYYY-MM-DD'), no_zero_date(x.d)),
    ('dt', to_char(t.dt, 'YYYY-MM-DD HH24:MI:SS'), no_zero_date(x.dt)),
    ('dt6', to_char(t.dt6, 'YYYY-MM-DD HH24:MI:SS.US'), no_zero_date(x.dt6)),
    ('ts', to_char(t.ts AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.MS'), no_zero_date(x.ts)),
    ('tm', mysql_time(t.tm, false), x.tm), ('tm6', mysql_time(t.tm6, true), x.tm6),
    ('yr', lpad(t.yr::text, 4, '0'), x.yr),
    ('geo', upper(encode(t.geo, 'hex')), x.geo), ('l1', t.l1, x.l1)
  ) AS c(col, pg, mysql)
 WHERE c.pg IS DISTINCT FROM c.mysql;

-- how many values were compared, and which differ (none may)
SELECT count(*) * 35 AS values_compared FROM alltypes JOIN alltypes_text USING (id);
SELECT * FROM type_mismatches ORDER BY id, col;

-- the standard strategy converts the same way
SELECT etl_pull.set_table_option('alltypes', 'strategy', 'standard');
CREATE TABLE alltypes_stream AS SELECT * FROM alltypes;
SELECT strategy, rows FROM etl_pull.load_table('alltypes');
SELECT count(*) AS differing_rows FROM (
    (SELECT * FROM alltypes EXCEPT SELECT * FROM alltypes_stream)
    UNION ALL
    (SELECT * FROM alltypes_stream EXCEPT SELECT * FROM alltypes)) d;
SELECT * FROM type_mismatches ORDER BY id, col;

-- and so does the parallel strategy, whose workers convert the rows
SELECT etl_pull.set_table_option('alltypes', 'strategy', 'parallel');
SELECT strategy, rows FROM etl_pull.load_table('alltypes');
SELECT count(*) AS differing_rows FROM (
    (SELECT * FROM alltypes EXCEPT SELECT * FROM alltypes_stream)
    UNION ALL
    (SELECT * FROM alltypes_stream EXCEPT SELECT * FROM alltypes)) d;

-- and so does the copy strategy
SELECT etl_pull.set_table_option('alltypes', 'strategy', 'copy');
SELECT strategy, rows FROM etl_pull.load_table('alltypes');
SELECT count(*) AS differing_rows FROM (
    (SELECT * FROM alltypes EXCEPT SELECT * FROM alltypes_stream)
    UNION ALL
    (SELECT * FROM alltypes_stream EXCEPT SELECT * FROM alltypes)) d;
SELECT * FROM type_mismatches ORDER BY id, col;
DROP TABLE alltypes_stream;

--
-- Policies
--

-- zero dates: NULL by default (the created column is nullable) ...
SELECT etl_pull.add_table('zerodates', server => 'replica');
SELECT rows FROM etl_pull.load_table('zerodates');
SELECT id, d, dt FROM zerodates ORDER BY id;
-- ... or an error naming the column and the row
SELECT etl_pull.set_table_option('zerodates', 'zero_dates', 'error');
SELECT rows FROM etl_pull.load_table('zerodates');
-- a NOT NULL target column cannot take one
SELECT etl_pull.set_table_option('zerodates', 'zero_dates', NULL);
DELETE FROM zerodates WHERE d IS NULL;
ALTER TABLE zerodates ALTER COLUMN d SET NOT NULL;
SELECT rows FROM etl_pull.load_table('zerodates');
SELECT id, d, dt FROM zerodates ORDER BY id;

-- NUL bytes in text: an error by default, U+FFFD with invalid_utf8 = replace
SELECT etl_pull.add_table('nulbytes', server => 'replica');
SELECT rows FROM etl_pull.load_table('nulbytes');
SELECT etl_pull.set_table_option('nulbytes', 'invalid_utf8', 'replace');
SELECT rows FROM etl_pull.load_table('nulbytes');
SELECT id, t, encode(convert_to(t, 'UTF8'), 'hex') FROM nulbytes ORDER BY id;

-- a narrower target the user made: overflow and truncation are errors
CREATE TABLE bigvalues (id integer PRIMARY KEY, v bigint, s varchar(10));
SELECT etl_pull.add_table('bigvalues', server => 'replica');
SELECT rows FROM etl_pull.load_table('bigvalues');
ALTER TABLE bigvalues ALTER COLUMN v TYPE numeric(20,0);
SELECT rows FROM etl_pull.load_table('bigvalues');
ALTER TABLE bigvalues ALTER COLUMN s TYPE varchar(30);
SELECT rows FROM etl_pull.load_table('bigvalues');
SELECT * FROM bigvalues ORDER BY id;

-- a target missing a source column is refused before any row moves
ALTER TABLE bigvalues DROP COLUMN s;
SELECT rows FROM etl_pull.load_table('bigvalues');
SELECT count(*) FROM bigvalues;

--
-- Per-column target types, and rejects instead of aborting
--
CREATE TYPE shirt_size AS ENUM ('small', 'medium', 'large');
CREATE TYPE small_only AS ENUM ('small');
SELECT etl_pull.add_table('overrides', server => 'replica');
SELECT etl_pull.set_table_option('overrides', 'column_types', 'size:shirt_size, amount: numeric(10,2)');
SELECT rows FROM etl_pull.load_table('overrides');
\d overrides
SELECT * FROM overrides ORDER BY id;
SELECT column_types FROM etl_pull.tables WHERE name = 'overrides';
DROP TABLE overrides;
-- overrides are checked against what the source can hold
SELECT etl_pull.set_table_option('overrides', 'column_types', 'size:small_only');
SELECT rows FROM etl_pull.load_table('overrides');
SELECT etl_pull.set_table_option('overrides', 'column_types', 'note:boolean');
SELECT rows FROM etl_pull.load_table('overrides');
SELECT etl_pull.set_table_option('overrides', 'column_types', 'note:integer');
SELECT rows FROM etl_pull.load_table('overrides');
SELECT etl_pull.set_table_option('overrides', 'column_types', 'nope:integer');
SELECT rows FROM etl_pull.load_table('overrides');
SELECT etl_pull.set_table_option('overrides', 'column_types', 'flag:no_such_type');
SELECT etl_pull.set_table_option('overrides', 'column_types', 'flag boolean');
-- a narrower type: values that do not fit are errors ...
SELECT etl_pull.set_table_option('overrides', 'column_types', 'flag:boolean, size:shirt_size, amount:smallint');
SELECT rows FROM etl_pull.load_table('overrides');
SELECT count(*) FROM pg_class WHERE relname = 'overrides';
-- ... or, with on_error = reject, rejected rows, and the load goes on
SELECT etl_pull.set_table_option('overrides', 'on_error', 'reject');
SELECT rows, rejected_rows, status FROM etl_pull.load_table('overrides');
SELECT * FROM overrides ORDER BY id;
SELECT r.table_name, r.row_key, r.column_name, r.reason, r.raw_text, r.raw_bytes,
       r.run_id = (SELECT max(run_id) FROM etl_pull.runs) AS this_run
  FROM etl_pull.rejects r ORDER BY row_key;
SELECT rows, rejected_rows, status FROM etl_pull.runs ORDER BY run_id DESC LIMIT 1;
-- the standard strategy rejects the same rows; copy cannot reject
SELECT etl_pull.set_table_option('overrides', 'strategy', 'standard');
SELECT rows, rejected_rows FROM etl_pull.load_table('overrides');
SELECT count(*) FROM overrides;
SELECT etl_pull.set_table_option('overrides', 'strategy', 'copy');
SELECT rows, rejected_rows FROM etl_pull.load_table('overrides');

-- invalid UTF-8 bound for a text column: an error by default, U+FFFD with replace
CREATE TABLE badutf8 (id integer PRIMARY KEY, b text);
SELECT etl_pull.add_table('badutf8', server => 'replica');
SELECT rows FROM etl_pull.load_table('badutf8');
SELECT etl_pull.set_table_option('badutf8', 'invalid_utf8', 'replace');
SELECT rows FROM etl_pull.load_table('badutf8');
SELECT id, b, encode(convert_to(b, 'UTF8'), 'hex') FROM badutf8 ORDER BY id;

-- a 32 MB longblob arrives byte for byte (MariaDB's length and MD5 from a view)
SELECT etl_pull.add_table('bigblob', server => 'replica');
SELECT etl_pull.add_table('bigblob_digest', server => 'replica');
SELECT rows FROM etl_pull.load_table('bigblob');
SELECT rows FROM etl_pull.load_table('bigblob_digest');
SELECT d.len, length(b.data) = d.len AS same_length, md5(b.data) = d.md5 AS same_md5
  FROM bigblob b JOIN bigblob_digest d USING (id);

-- typmods of an existing target are applied as PostgreSQL's input applies
-- them, with either protocol: varbit(n) takes at most n bits (BIT(8) into
-- varbit(4) is an error, as varbit_in's), an interval's fields and
-- precision cut and round the time (MySQL's TIME text read as interval_in
-- reads it under that typmod)
CREATE TABLE typmods (id integer PRIMARY KEY, b8 varbit(4), b3 varbit(4), t interval hour);
CREATE TABLE typmods_expected (id integer PRIMARY KEY, mysql_text text);
INSERT INTO typmods_expected VALUES (1, '-838:59:59'), (2, '26:34:56.7895'), (3, '00:00:59.5');
SELECT etl_pull.add_table('typmods', server => 'replica');
SELECT etl_pull.set_table_option('typmods', 'protocol', 'text');
SELECT rows FROM etl_pull.load_table('typmods');
SELECT etl_pull.set_table_option('typmods', 'protocol', 'binary');
SELECT rows FROM etl_pull.load_table('typmods');
SELECT etl_pull.set_table_option('typmods', 'on_error', 'reject');
SELECT rows, rejected_rows FROM etl_pull.load_table('typmods');
SELECT row_key, column_name, reason FROM etl_pull.rejects
 WHERE table_name = 'typmods' ORDER BY run_id, row_key;
SELECT etl_pull.set_table_option('typmods', 'on_error', NULL);
ALTER TABLE typmods ALTER COLUMN b8 TYPE varbit(8);
CREATE FUNCTION typmods_check(protocol text) RETURNS TABLE (id integer, b8 varbit, b3 varbit,
    t interval, t_typmod text, as_interval_in boolean)
LANGUAGE plpgsql AS $$
DECLARE
    typ text;
BEGIN
    PERFORM etl_pull.set_table_option('typmods', 'protocol', protocol);
    FOREACH typ IN ARRAY ARRAY['interval hour', 'interval day to second(0)',
                               'interval minute to second(1)', 'interval(2)', 'interval']
    LOOP
        EXECUTE format('ALTER TABLE typmods ALTER COLUMN t TYPE %s', typ);
        PERFORM etl_pull.load_table('typmods');
        RETURN QUERY EXECUTE format(
            'SELECT m.id, m.b8, m.b3, m.t, %L::text, m.t = e.mysql_text::%s
               FROM typmods m JOIN typmods_expected e USING (id) ORDER BY m.id', typ, typ);
    END LOOP;
END $$;
SELECT * FROM typmods_check('text');
SELECT count(*) AS differ_from_text_protocol FROM (
    (SELECT * FROM typmods_check('text') EXCEPT SELECT * FROM typmods_check('binary'))
    UNION ALL
    (SELECT * FROM typmods_check('binary') EXCEPT SELECT * FROM typmods_check('text'))) d;
