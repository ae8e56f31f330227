# Setting indexes = all: a created target gets the source's secondary
# B-tree indexes, built after the rows, named as on MySQL where PostgreSQL
# allows; prefix, FULLTEXT and ignored ones are skipped with their reason in
# the run's notes.  Reloads by every strategy keep them valid and used; an
# existing target and indexes = primary get none; a failed index build fails
# the load and its notes reach the failed run.
source "$(dirname "$0")/../tap.sh"
tap_setup_db etl_tap_indexes

# 64 characters, MySQL's longest name; PostgreSQL's longest is 63 bytes
long=idx_$(printf 'x%.0s' $(seq 60))

etl_mysql -e "
	CREATE DATABASE IF NOT EXISTS etl_indexes_t CHARACTER SET utf8mb4;
	DROP TABLE IF EXISTS etl_indexes_t.ix_src, etl_indexes_t.ix_mem, etl_indexes_t.ix_fail;
	CREATE TABLE etl_indexes_t.ix_src (
	    id int NOT NULL PRIMARY KEY,
	    Email varchar(100),
	    last_name varchar(50) NOT NULL,
	    first_name varchar(50) NOT NULL,
	    body text,
	    code varchar(40) NOT NULL,
	    score int NOT NULL,
	    UNIQUE KEY email_uq (Email),
	    KEY Name_Idx (last_name, first_name),
	    KEY body_prefix (body(20)),
	    FULLTEXT KEY body_ft (body),
	    KEY taken (code),
	    KEY $long (score, code),
	    KEY score_desc (score DESC, id),
	    KEY ign_idx (first_name) IGNORED);
	INSERT INTO etl_indexes_t.ix_src
	  SELECT seq, IF(seq % 10 = 0, NULL, CONCAT('user', seq, '@example.com')),
	         CONCAT('ln', seq % 50), CONCAT('fn', seq % 7), REPEAT('word ', seq % 5),
	         CONCAT('c', seq % 100), seq % 1000
	    FROM seq_1_to_5000;
	CREATE TABLE etl_indexes_t.ix_mem (id int NOT NULL PRIMARY KEY, k int NOT NULL,
	    UNIQUE KEY k_hash (k) USING HASH) ENGINE=MEMORY;
	INSERT INTO etl_indexes_t.ix_mem SELECT seq, seq * 3 FROM seq_1_to_100;
	CREATE TABLE etl_indexes_t.ix_fail (id int NOT NULL PRIMARY KEY, a int NOT NULL,
	    v double NOT NULL, UNIQUE KEY a_ok (a), UNIQUE KEY z_v (v));
	INSERT INTO etl_indexes_t.ix_fail VALUES (1, 1, 1.0000000001), (2, 2, 1.0000000002);"

# the source's name "taken" is a relation of the target's schema already
q "CREATE TABLE public.taken (x int)" >/dev/null

q "SELECT etl_pull.add_table('ix_src', server => 'replica', source_table => 'etl_indexes_t.ix_src');
   SELECT etl_pull.set_table_option('ix_src', 'indexes', 'all')" >/dev/null
out=$(PGOPTIONS='-c client_min_messages=notice' etl_psql -d "$TAP_DB" -Atq \
	-c "SELECT rows || ' ' || status FROM etl_pull.load_table('ix_src')" 2>&1)
like "$out" '5000 succeeded' "the first load with indexes = all succeeds"
like "$out" 'NOTICE:  created unique index email_uq on table public.ix_src from MySQL index "email_uq"' \
	"a NOTICE for each created index"
like "$out" 'NOTICE:  skipped index "body_ft" of MySQL table "etl_indexes_t.ix_src"' \
	"a NOTICE for each skipped index"

hashed=$(q "SELECT indexname FROM pg_indexes WHERE tablename = 'ix_src' AND indexname LIKE 'ix_src_idx_xxx%'")
like "$hashed" '^ix_src_idx_x+_[0-9a-f]{8}$' "the long name is cut with a hash suffix"
is "${#hashed}" 63 "... to 63 bytes"
is "$(q "SELECT string_agg(indexdef, E'\n' ORDER BY indexname) FROM pg_indexes
          WHERE tablename = 'ix_src' AND indexname <> '$hashed'")" \
	"CREATE UNIQUE INDEX email_uq ON public.ix_src USING btree (email)
CREATE UNIQUE INDEX ix_src_pkey ON public.ix_src USING btree (id)
CREATE INDEX ix_src_taken ON public.ix_src USING btree (code)
CREATE INDEX name_idx ON public.ix_src USING btree (last_name, first_name)
CREATE INDEX score_desc ON public.ix_src USING btree (score DESC, id)" \
	"unique, multi-column and descending indexes, with their names or derived ones"
is "$(q "SELECT indexdef FROM pg_indexes WHERE indexname = '$hashed'")" \
	"CREATE INDEX $hashed ON public.ix_src USING btree (score, code)" "the long-named index's columns"
is "$(q "SELECT count(*) FROM pg_indexes WHERE indexname = 'taken'")" 0 \
	"the name of an existing relation is not taken"

notes=$(q "SELECT notes FROM etl_pull.runs WHERE table_name = 'ix_src' ORDER BY run_id DESC LIMIT 1")
is "$notes" "index \"body_ft\": skipped, a FULLTEXT index; index \"body_prefix\": skipped, a prefix index (body(20)); index \"email_uq\": created unique email_uq (email); index \"$long\": created $hashed (score, code); index \"ign_idx\": skipped, ignored by the optimizer (IGNORED); index \"Name_Idx\": created name_idx (last_name, first_name); index \"score_desc\": created score_desc (score DESC, id); index \"taken\": created ix_src_taken (code)" \
	"the run's notes list every index created or skipped, with the reason"
is "$(q "SELECT count(*) FILTER (WHERE email IS NULL) || ' ' || count(DISTINCT email) FROM ix_src")" \
	"500 4500" "the unique index holds the source's many NULLs"

# index scans give the source's answers, after each reload by each strategy
mysql_count() {
	etl_mysql -N -e "SELECT COUNT(*) FROM etl_indexes_t.ix_src WHERE $1"
}
pg_index_count() {
	q "SET enable_seqscan = off; SET enable_bitmapscan = off;
	   SELECT count(*) FROM ix_src WHERE $1"
}
uses_index() {
	q "SET enable_seqscan = off; SET enable_bitmapscan = off;
	   EXPLAIN (COSTS OFF) SELECT count(*) FROM ix_src WHERE $1" | grep -o "using $2" | head -n 1
}
check_indexes() {
	is "$(q "SELECT count(*) || ' ' || bool_and(i.indisvalid AND i.indisready)
	          FROM pg_index i WHERE i.indrelid = 'public.ix_src'::regclass")" "6 true" \
		"$1: the 6 indexes are there and valid"
	is "$(uses_index "last_name = 'ln7' AND first_name = 'fn3'" name_idx)" "using name_idx" \
		"$1: the two-column index is used"
	is "$(pg_index_count "last_name = 'ln7' AND first_name = 'fn3'")" \
		"$(mysql_count "last_name = 'ln7' AND first_name = 'fn3'")" "$1: its count is the source's"
	is "$(uses_index "email = 'user77@example.com'" email_uq)" "using email_uq" \
		"$1: the unique index is used"
	# MySQL compares the bytes, as the target's C collation does (MariaDB 11's default
	# collation, uca1400, sorts ':' before the digits)
	is "$(pg_index_count "email LIKE 'user%' AND email >= 'user9' AND email < 'user:'")" \
		"$(mysql_count "Email LIKE 'user%' AND CAST(Email AS BINARY) >= 'user9' AND CAST(Email AS BINARY) < 'user:'")" \
		"$1: its count is the source's"
	is "$(pg_index_count "score BETWEEN 100 AND 199")" "$(mysql_count "score BETWEEN 100 AND 199")" \
		"$1: the descending index counts as the source"
}
check_indexes "first load"

# the first load by each strategy: the swap strategies swap the rows' heap
# in before the indexes are built
for s in stream parallel copy standard; do
	q "DROP TABLE public.ix_src;
	   SELECT etl_pull.set_table_option('ix_src', 'strategy', '$s')" >/dev/null
	is "$(q "SELECT strategy || ' ' || status FROM etl_pull.load_table('ix_src')")" "$s succeeded" \
		"a first load by $s"
	like "$(q "SELECT notes FROM etl_pull.runs WHERE table_name = 'ix_src' ORDER BY run_id DESC LIMIT 1")" \
		'^index "body_ft": skipped, .* index "taken": created ix_src_taken \(code\)$' "$s: the same notes"
	check_indexes "$s first load"
done

next=5001
for s in stream parallel copy standard; do
	etl_mysql -e "INSERT INTO etl_indexes_t.ix_src
	  SELECT $next + seq, CONCAT('new', $next + seq, '@example.com'), 'ln7', 'fn3', 'x',
	         'c1', 150 FROM seq_1_to_37;
	  DELETE FROM etl_indexes_t.ix_src WHERE id % 97 = ${#s};"
	next=$((next + 37))
	q "SELECT etl_pull.set_table_option('ix_src', 'strategy', '$s')" >/dev/null
	is "$(q "SELECT strategy || ' ' || status FROM etl_pull.load_table('ix_src')")" "$s succeeded" \
		"a reload by $s"
	is "$(q "SELECT coalesce(notes, '') FROM etl_pull.runs WHERE table_name = 'ix_src'
	          ORDER BY run_id DESC LIMIT 1")" "" "$s: a reload notes no index"
	check_indexes "$s reload"
	is "$(q "SELECT count(*) FROM ix_src")" "$(mysql_count "true")" "$s: the row count is the source's"
done

# an incremental table: its first (full) run creates the indexes, the
# next merges into them
q "SELECT etl_pull.add_table('ix_inc', server => 'replica', source_table => 'etl_indexes_t.ix_src');
   SELECT etl_pull.set_table_option('ix_inc', 'indexes', 'all');
   SELECT etl_pull.set_table_option('ix_inc', 'extraction', 'incremental');
   SELECT etl_pull.set_table_option('ix_inc', 'incremental_columns', 'id')" >/dev/null
is "$(q "SELECT extraction || ' ' || status FROM etl_pull.load_table('ix_inc')")" "full succeeded" \
	"an incremental table's first run"
etl_mysql -e "INSERT INTO etl_indexes_t.ix_src VALUES (90001, 'inc@example.com', 'ln7', 'fn3', 'x', 'c1', 1)"
is "$(q "SELECT extraction || ' ' || merged_rows FROM etl_pull.load_table('ix_inc')")" "incremental 1" \
	"... and its next run merges"
is "$(q "SELECT count(*) FROM pg_indexes WHERE tablename = 'ix_inc'")" 6 "the incremental target has the 6 indexes"
is "$(q "SET enable_seqscan = off; SET enable_bitmapscan = off;
         SELECT count(*) FROM ix_inc WHERE last_name = 'ln7' AND first_name = 'fn3'")" \
	"$(mysql_count "last_name = 'ln7' AND first_name = 'fn3'")" "... and its index counts as the source"

# HASH on a MEMORY table: a unique B-tree
q "SELECT etl_pull.add_table('ix_mem', server => 'replica', source_table => 'etl_indexes_t.ix_mem');
   SELECT etl_pull.set_table_option('ix_mem', 'indexes', 'all')" >/dev/null
is "$(q "SELECT status FROM etl_pull.load_table('ix_mem')")" succeeded "a MEMORY table loads"
is "$(q "SELECT indexdef FROM pg_indexes WHERE indexname = 'k_hash'")" \
	"CREATE UNIQUE INDEX k_hash ON public.ix_mem USING btree (k)" "its HASH index is a unique B-tree"
like "$(q "SELECT notes FROM etl_pull.runs WHERE table_name = 'ix_mem'")" \
	'index "k_hash": created unique k_hash \(k\) as a B-tree, HASH on MySQL' "... and the notes say so"

# an existing target (the DBA's) gets no indexes; nor does indexes = primary
q "CREATE TABLE public.ix_pre (id int PRIMARY KEY, email varchar(100), last_name varchar(50),
     first_name varchar(50), body text, code varchar(40), score int)" >/dev/null
q "SELECT etl_pull.add_table('ix_pre', server => 'replica', source_table => 'etl_indexes_t.ix_src');
   SELECT etl_pull.set_table_option('ix_pre', 'indexes', 'all');
   SELECT etl_pull.add_table('ix_prim', server => 'replica', source_table => 'etl_indexes_t.ix_src')" \
	>/dev/null
is "$(q "SELECT status FROM etl_pull.load_table('ix_pre')")" succeeded "an existing target loads"
is "$(q "SELECT string_agg(indexname, ' ') FROM pg_indexes WHERE tablename = 'ix_pre'")" "ix_pre_pkey" \
	"an existing target keeps its own indexes only, with indexes = all"
is "$(q "SELECT status FROM etl_pull.load_table('ix_prim')")" succeeded "a load with indexes = primary"
is "$(q "SELECT string_agg(indexname, ' ') FROM pg_indexes WHERE tablename = 'ix_prim'")" "ix_prim_pkey" \
	"indexes = primary (the default) creates the primary key only"
is "$(q "SELECT coalesce(notes, 'none') FROM etl_pull.runs WHERE table_name = 'ix_prim'")" none \
	"... and notes nothing"

# a unique index the rows break in PostgreSQL (two doubles equal as real)
# fails the load: no table is left, and the failed run has the notes so far
q "SELECT etl_pull.add_table('ix_fail', server => 'replica', source_table => 'etl_indexes_t.ix_fail');
   SELECT etl_pull.set_table_option('ix_fail', 'indexes', 'all');
   SELECT etl_pull.set_table_option('ix_fail', 'column_types', 'v:real')" >/dev/null
like "$(q "SELECT status FROM etl_pull.load_table('ix_fail')")" 'could not create unique index "z_v"' \
	"a unique index that the loaded rows break fails the load"
is "$(q "SELECT to_regclass('public.ix_fail') IS NULL")" t "the created table is rolled back"
like "$(q "SELECT status || ': ' || notes FROM etl_pull.runs WHERE table_name = 'ix_fail'")" \
	'^failed: in place: compared row by row: 2 rows missing, 0 different, 0 gone, of 2 source rows read in 1 statement \(the longest [0-9]+ ms\); index "a_ok": created unique a_ok \(a\)$' \
	"the failed run records the notes it had (a small table's load in place, then the index)"

# load_all's workers create targets at once: two tables whose index has the
# same name both load, the first to commit keeps the name, the other's is
# prefixed with its table (without the schema lock, both found the name free
# and one failed with a duplicate key in pg_class)
for i in 1 2 3 4; do
	etl_mysql -e "CREATE TABLE etl_indexes_t.race$i (id int PRIMARY KEY, pat int, KEY PatNum (pat));
		INSERT INTO etl_indexes_t.race$i SELECT seq, seq % 7 FROM seq_1_to_2000"
	q "SELECT etl_pull.add_table('race$i', server => 'replica', source_table => 'etl_indexes_t.race$i');
	   SELECT etl_pull.set_table_option('race$i', 'indexes', 'all');
	   SELECT etl_pull.set_table_option('race$i', 'load_group', 'race')" >/dev/null
done
is "$(q "SELECT string_agg(status, ' ') FROM etl_pull.load_all('race', 4)")" \
	"succeeded succeeded succeeded succeeded" "four targets with a same-named index created at once"
is "$(q "SELECT count(*) || ' ' || count(*) FILTER (WHERE indexname = 'patnum') || ' '
           || count(*) FILTER (WHERE indexname = tablename || '_patnum')
           FROM pg_indexes WHERE tablename LIKE 'race_' AND indexdef LIKE '%(pat)'")" \
	"4 1 3" "one keeps the name patnum, the others are prefixed with their table"

etl_mysql -e "DROP DATABASE etl_indexes_t"
done_testing
