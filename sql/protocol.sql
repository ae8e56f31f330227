--
-- The two read protocols (setting protocol): values MySQL's text rounds or
-- shortens arrive exactly with either, by every strategy; zero dates in key
-- and NOT NULL columns load with zero_dates = infinity.  The type fixture
-- (sql/types.sql, binary by default) loads with the text protocol too.
--
SELECT etl_pull.add_table('exact_values', server => 'replica');
SELECT etl_pull.add_table('exact_values_text', server => 'replica');
SELECT rows FROM etl_pull.load_table('exact_values_text');
SELECT protocol FROM etl_pull.tables WHERE name = 'exact_values';

-- DOUBLE(10,5), FLOAT(7,3) and YEAR(2) as stored, with the default protocol (binary)
SELECT rows FROM etl_pull.load_table('exact_values');
\d exact_values
SELECT id, d, f, y2, y4 FROM exact_values ORDER BY id;

-- each value against MariaDB's own exact rendering of it
CREATE VIEW exact_mismatches AS
SELECT t.id, c.col, c.pg, c.mysql
  FROM exact_values t JOIN exact_values_text x USING (id),
  LATERAL (VALUES
    ('d', t.d::text, x.d::float8::text), ('f', t.f::text, x.f::float8::float4::text),
    ('y2', t.y2::text, x.y2), ('y4', t.y4::text, x.y4)
  ) AS c(col, pg, mysql)
 WHERE c.pg IS DISTINCT FROM c.mysql;
SELECT * FROM exact_mismatches;

-- a YEAR(2) primary key, and zero dates in a key and NOT NULL columns
SELECT etl_pull.add_table('year2_key', server => 'replica');
SELECT etl_pull.add_table('zero_key', server => 'replica');
SELECT etl_pull.set_table_option('zero_key', 'zero_dates', 'infinity');
SELECT rows FROM etl_pull.load_table('year2_key');
SELECT * FROM year2_key ORDER BY y;
SELECT rows FROM etl_pull.load_table('zero_key');
\d zero_key
SELECT d, dt, ts AT TIME ZONE 'UTC' AS ts_utc, n FROM zero_key ORDER BY n;

-- every strategy with each protocol: the same values each time
CREATE TABLE expect_exact AS SELECT * FROM exact_values;
CREATE TABLE expect_year2 AS SELECT * FROM year2_key;
CREATE TABLE expect_zero AS SELECT * FROM zero_key;
CREATE FUNCTION differing(a regclass, b regclass) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE n bigint;
BEGIN
    EXECUTE format('SELECT count(*) FROM ((TABLE %s EXCEPT ALL TABLE %s) UNION ALL (TABLE %s EXCEPT ALL TABLE %s)) d',
                   a, b, b, a) INTO n;
    RETURN n;
END $$;
SELECT format('SELECT etl_pull.set_table_option(%L, ''protocol'', %L), etl_pull.set_table_option(%L, ''strategy'', %L)',
              t, p, t, s) AS set_options,
       format('SELECT %L AS protocol, strategy, rows, status FROM etl_pull.load_table(%L)', p, t) AS load,
       format('SELECT %L AS t, %L AS protocol, %L AS strategy, differing(%L, %L) AS differing_rows%s',
              t, p, s, t, e,
              CASE WHEN t = 'exact_values' THEN ', (SELECT count(*) FROM exact_mismatches) AS mismatches' ELSE '' END)
         AS check
  FROM (VALUES ('binary'), ('text')) pr(p),
       (VALUES ('standard'), ('stream'), ('copy'), ('parallel')) st(s),
       (VALUES ('exact_values', 'expect_exact'), ('year2_key', 'expect_year2'),
               ('zero_key', 'expect_zero')) tb(t, e)
 ORDER BY p, t, s \gexec

-- the type fixture with the text protocol, by every strategy: no value differs
-- from MariaDB's own rendering (type_mismatches, as in sql/types.sql)
SELECT etl_pull.set_table_option('alltypes', 'protocol', 'text');
SELECT format('SELECT etl_pull.set_table_option(''alltypes'', ''strategy'', %L)', s) AS set_options,
       format('SELECT strategy, rows, status FROM etl_pull.load_table(''alltypes'')') AS load,
       format('SELECT %L AS strategy, count(*) AS mismatches FROM type_mismatches', s) AS check
  FROM (VALUES ('standard'), ('stream'), ('copy'), ('parallel')) st(s) \gexec
SELECT count(*) * 35 AS values_compared FROM alltypes JOIN alltypes_text USING (id);

-- what the text protocol cannot do that the binary one does: nothing the
-- fixture holds (both read every value exactly); binary is the default
SELECT etl_pull.set_table_option('alltypes', 'protocol', NULL);
SELECT protocol FROM etl_pull.tables WHERE name = 'alltypes';
SELECT etl_pull.set_table_option('alltypes', 'protocol', 'compressed');

DROP FUNCTION differing(regclass, regclass);
DROP TABLE expect_exact, expect_year2, expect_zero;
