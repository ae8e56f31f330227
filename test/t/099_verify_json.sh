# verify_table, repair_table and extraction = 'diff' see a change confined to a JSON document
# (issue 25, item 11), on real MariaDB: documents loaded into jsonb (the mapping) compare by a
# normal form both servers compute (MariaDB's JSON_NORMALIZE, strings decoded), so a changed
# value is found while key order, blanks, number spelling and escapes are not differences;
# documents loaded into json or text (column_types) compare by their exact text.  1.3 compared
# only whether a document was NULL: it said equal, and a diff run kept the old document.  From a
# server without JSON_NORMALIZE (the hostile fake server playing a MySQL 8) a jsonb document is
# compared by presence only, and the result, the run's notes and plan() say so: never equal.
source "$(dirname "$0")/../tap.sh"
tap_setup_db etl_tap_verify_json
q "CREATE FUNCTION keys(text[]) RETURNS text LANGUAGE sql
     AS \$\$SELECT coalesce(string_agg(k, ',' ORDER BY k), '') FROM unnest(\$1) k\$\$" >/dev/null

# what verify says, in one line: status, then different keys, then the columns not compared
vsay() {
	q "SELECT status || ' d=' || different_rows || keys(different_keys)
	          || ' m=' || missing_rows || ' e=' || extra_rows
	          || ' u=' || keys(uncompared_columns)
	     FROM etl_pull.verify_table('$1')"
}

etl_mysql -e "
	DROP TABLE IF EXISTS vj;
	CREATE TABLE vj (id int PRIMARY KEY, js json, jt json, jx json, note varchar(10));
	INSERT INTO vj VALUES
	 (1, '{\"a\": 1, \"b\": [1, 2.50, \"x\"], \"c\": {\"d\": true, \"e\": null}}',
	     '{\"a\": 1}', '{\"a\": 1}', 'one'),
	 (2, '{\"k\\\\u0041\": \"caf\\\\u00e9 \\\\/ t\\\\ty\\\\u0001 \\\\\"q\\\\\" \\\\u0022 \\\\\\\\ \\\\u005C \\\\ud83d\\\\ude00\",
	      \"n\": [1e400, -0.0, 0.000123, 12345678901234567890123, -7, 1E+2]}',
	     '[1, 2]', '[1, 2]', 'two'),
	 (3, '\"top \\\\\" level\"', '\"s\"', '\"s\"', NULL),
	 (4, NULL, NULL, NULL, NULL),
	 (5, '{\"long key\": 1, \"s\": 2, \"é\": {\"ü\": \"日本\"}, \"\": [], \"a b\": {}}',
	     '{}', '{}', 'five'),
	 (6, '[true, false, null, \"\", 0, [[]], {\"x\": {\"y\": [1, {\"z\": \"deep\"}]}}]', 'null', 'null', 'six');"
q "SELECT etl_pull.add_table('vj', server => 'replica');
   SELECT etl_pull.set_table_option('vj', 'column_types', 'jt:json, jx:text')" >/dev/null
is "$(q "SELECT rows FROM etl_pull.load_table('vj')")" "6" "six documents load"
is "$(q "SELECT string_agg(attname || ' ' || format_type(atttypid, atttypmod), ', ' ORDER BY attnum)
           FROM pg_attribute WHERE attrelid = 'vj'::regclass AND attnum > 1")" \
	"js jsonb, jt json, jx text, note character varying(10)" "js is jsonb (the mapping), jt json and jx text (column_types)"
is "$(vsay vj)" "equal d=0 m=0 e=0 u=" \
	"every document renders back into MariaDB's normal form: equal, no column left uncompared"

# ---- a change confined to one document's value, at the source
etl_mysql -e "UPDATE vj SET js = '{\"a\": 1, \"b\": [1, 2.51, \"x\"], \"c\": {\"d\": true, \"e\": null}}' WHERE id = 1;
	UPDATE vj SET js = REPLACE(js, 'caf', 'cab') WHERE id = 2;
	UPDATE vj SET js = '\"top \\\\\" levez\"' WHERE id = 3;
	UPDATE vj SET jt = '{\"a\": 2}' WHERE id = 5;
	UPDATE vj SET jx = '[1, 3]' WHERE id = 2;
	UPDATE vj SET js = REPLACE(js, 'deep', 'Deep') WHERE id = 6"
is "$(vsay vj)" "different d=5id=1,id=2,id=3,id=5,id=6 m=0 e=0 u=" \
	"a value changed inside a document (jsonb, json or text target) is found by key"

# ---- what the normal form makes equal: key order, blanks, number spelling, escapes (jsonb)
etl_mysql -e "UPDATE vj SET js = '{  \"c\" : {\"e\":null,\"d\":true},\"b\":[1,2.510e0,\"\\\\u0078\"], \"a\":1.0 }' WHERE id = 1"
q "SELECT etl_pull.set_table_option('vj', 'extraction', 'diff')" >/dev/null
is "$(q "SELECT extraction || ' ' || merged_rows || ' ' || deleted_rows FROM etl_pull.load_table('vj')")" \
	"diff 5 0" "a diff run pulls and merges the five changed rows"
like "$(q "SELECT notes FROM etl_pull.runs WHERE table_name = 'vj' ORDER BY run_id DESC LIMIT 1")" \
	"diff: compared row by row: 0 rows missing, 5 different, 0 gone, of 6 source rows" "its notes say what differed"
is "$(q "SELECT string_agg(id || ':' || js::text, ' | ' ORDER BY id) FROM vj WHERE id IN (1, 3)")" \
	'1:{"a": 1.0, "b": [1, 2.510, "x"], "c": {"d": true, "e": null}} | 3:"top \" levez"' \
	"the target holds the new documents"
is "$(q "SELECT jt::text || ' ' || jx FROM vj WHERE id = 5 UNION ALL SELECT jt::text || ' ' || jx FROM vj WHERE id = 2")" \
	"$(printf '%s\n%s' '{"a": 2} {}' '[1, 2] [1, 3]')" "json and text targets too"
is "$(vsay vj)" "equal d=0 m=0 e=0 u=" "verify is equal after the diff run"
is "$(q "SELECT extraction || ' ' || rows || ' ' || merged_rows FROM etl_pull.load_table('vj')")" "diff 6 0" \
	"an unchanged source writes nothing (its 6 rows read and compared)"

# key order and blanks only, at the source: equal for jsonb, a real difference for json (its text)
etl_mysql -e "UPDATE vj SET js = '{\"c\": {\"e\": null, \"d\": true}, \"a\": 1.00, \"b\": [1.0, 2.51, \"x\"]}' WHERE id = 1;
	UPDATE vj SET jt = '[1,2]' WHERE id = 2"
is "$(vsay vj)" "different d=1id=2 m=0 e=0 u=" \
	"blanks, key order and trailing zeros are no difference in jsonb; a json target keeps the text, and its blanks differ"
# (repair pulls the range, and merges the rows whose stored image differs: the json one, and the
# jsonb one whose numbers now have another scale, 1.00 for 1.0, equal as values)
is "$(q "SELECT merged_rows FROM etl_pull.repair_table('vj')")" "2" "repair_table merges that row"
is "$(q "SELECT jt::text FROM vj WHERE id = 2")" "[1,2]" "and the json target has the source's text"

# ---- a change at the target, in one document, found and repaired
q "UPDATE vj SET js = jsonb_set(js, '{c,d}', 'false') WHERE id = 1;
   UPDATE vj SET js = '\"été\"' WHERE id = 4" >/dev/null
is "$(vsay vj)" "different d=2id=1,id=4 m=0 e=0 u=" "a document changed at the target (and one that was NULL) is found"
is "$(q "SELECT merged_rows || ' ' || deleted_rows FROM etl_pull.repair_table('vj')")" "2 0" "repair_table restores both"
is "$(vsay vj)" "equal d=0 m=0 e=0 u=" "and verify is equal again"

# ---- a text column loaded into jsonb (column_types) is a document too
etl_mysql -e "DROP TABLE IF EXISTS vj_text; CREATE TABLE vj_text (id int PRIMARY KEY, doc text);
	INSERT INTO vj_text VALUES (1, '{\"b\": 1, \"a\": [true]}'), (2, 'not json'), (3, NULL)"
q "SELECT etl_pull.add_table('vj_text', server => 'replica');
   SELECT etl_pull.set_table_option('vj_text', 'column_types', 'doc:jsonb');
   SELECT etl_pull.set_table_option('vj_text', 'on_error', 'reject')" >/dev/null
is "$(q "SELECT rows || ' ' || rejected_rows FROM etl_pull.load_table('vj_text')")" "3 1" \
	"a text column loads into jsonb, the value that is no JSON rejected"
is "$(q "SELECT status || ' ' || missing_rows || keys(missing_keys) FROM etl_pull.verify_table('vj_text')")" \
	"different 1id=2" "the document compares equal; the row jsonb could not take is missing, not equal to anything"
etl_mysql -e "UPDATE vj_text SET doc = '{\"a\": [false], \"b\": 1}' WHERE id = 1"
is "$(q "SELECT different_rows || keys(different_keys) FROM etl_pull.verify_table('vj_text')")" "1id=1" \
	"and a changed value in it is found"

# ---- a server that cannot compute the normal form (MySQL 8, MariaDB before 10.7): a document
# loaded into jsonb is compared by presence only, and nothing says equal.  The hostile fake
# server plays a MySQL 8 with a json column, honestly.
tap_fake_server jsondoc || { done_testing; exit 1; }
q "SELECT etl_pull.add_table('hj', server => 'fake', source_table => 'fakedb.hostile_t');
   SELECT etl_pull.set_table_option('hj', 'protocol', 'text')" >/dev/null
is "$(q "SELECT rows FROM etl_pull.load_table('hj')")" "3" "the MySQL 8 fake's three rows load"
is "$(vsay hj)" "not comparable d=0 m=0 e=0 u=doc" \
	"verify_table: not comparable (never equal), naming the jsonb column it compared by presence only"
like "$(q "SELECT notes FROM etl_pull.runs WHERE table_name = 'hj' ORDER BY run_id DESC LIMIT 1")" \
	'^verify: not comparable, no difference in 3 rows in 1 ranges, but columns not compared \(a change in them is not seen\): doc \(JSON into jsonb, only whether NULL: the MySQL server lacks JSON_NORMALIZE' \
	"the run's notes say which column was not compared and why"
q "UPDATE hj SET doc = '{\"a\": 2}' WHERE id = 1" >/dev/null
is "$(vsay hj)" "not comparable d=0 m=0 e=0 u=doc" "a changed document there is not seen, and the status still says so"
q "UPDATE hj SET doc = NULL WHERE id = 2" >/dev/null
is "$(vsay hj)" "different d=1id=2 m=0 e=0 u=doc" "a document become NULL is (presence), the column still named"
q "SELECT etl_pull.set_table_option('hj', 'extraction', 'diff')" >/dev/null
# a diff run of its integer key compares the rows themselves, documents too: both restored
like "$(q "SELECT merged_rows FROM etl_pull.load_table('hj');
           SELECT notes FROM etl_pull.runs WHERE table_name = 'hj' ORDER BY run_id DESC LIMIT 1" | tr '\n' ' ')" \
	'^2 diff: compared row by row: 0 rows missing, 2 different, 0 gone, of 3 source rows read in 1 statement ' \
	"a diff run compares the documents as loaded (row by row), and merges the two changed ones"
is "$(q "SELECT string_agg(id || ':' || coalesce(doc::text, 'NULL'), ' ' ORDER BY id) FROM hj")" \
	'1:{"a": 1} 2:[1, 2] 3:NULL' "the target holds the source's documents again"
like "$(q "SELECT item || ': ' || detail FROM etl_pull.plan('hj', 0) WHERE item = 'not compared'")" \
	'^not compared: diff runs, verify = full and verify_table: columns not compared \(a change in them is not seen\): doc \(JSON into jsonb' \
	"plan() shows the column not compared"

done_testing
