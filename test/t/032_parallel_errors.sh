# Errors raised in etl_pull's background workers keep their identity in the
# caller: a parallel worker's NOT NULL violation is SQLSTATE 23502 with its
# detail, a conversion error keeps its detail and context; load_all reports
# a worker's error.  Workers resolve no name through a search_path that
# ALTER DATABASE ... SET gave them.
source "$(dirname "$0")/../tap.sh"
tap_setup_db etl_tap_errors

etl_mysql -e "
	DROP TABLE IF EXISTS nn_src;
	CREATE TABLE nn_src (id int NOT NULL PRIMARY KEY, v varchar(20) NULL);
	INSERT INTO nn_src SELECT seq, CONCAT('value ', seq) FROM seq_1_to_100000;"

# the target exists with a NOT NULL column: the workers convert (tuple mode)
q "CREATE TABLE nn (id integer PRIMARY KEY, v varchar(20) NOT NULL);
   SELECT etl_pull.add_table('nn', server => 'replica', source_table => 'nn_src');
   SELECT etl_pull.set_table_option('nn', 'strategy', 'parallel');
   SELECT etl_pull.set_table_option('nn', 'parallel_chunks', '4')" >/dev/null
is "$(q "SELECT strategy || ' ' || rows || ' ' || status FROM etl_pull.load_table('nn')")" \
	"parallel 100000 succeeded" "a parallel load into a NOT NULL column"
OLD=$(q "SELECT count(*) || ' ' || md5(string_agg(v, ',' ORDER BY id)) FROM nn")

# one NULL in the middle of a chunk
etl_mysql -e "UPDATE nn_src SET v = NULL WHERE id = 77777"
verbose() {
	etl_psql -d "$TAP_DB" -Atq -v VERBOSITY=verbose -c "$1" 2>&1
}
out=$(verbose "SELECT rows FROM etl_pull.load_table('nn')")
like "$out" 'ERROR:  23502: null value in column "v" of relation "nn" violates not-null constraint' \
	"a worker's NOT NULL violation arrives as SQLSTATE 23502"
like "$out" 'DETAIL:  Failing row contains \(77777, null\)\.' "with its detail"
like "$out" 'MySQL table "etl_test.nn_src", row with key \(id=77777\)' "with the row's key in the context"
like "$out" 'etl_pull parallel worker [0-9]+' "and the worker named in the context"
like "$out" 'SCHEMA NAME:  public.*TABLE NAME:  nn.*COLUMN NAME:  v' "with the table and column fields"
like "$out" 'LOCATION:  not_null_violation, parallel.c' "raised in the worker"
is "$(q "SELECT count(*) || ' ' || md5(string_agg(v, ',' ORDER BY id)) FROM nn")" "$OLD" \
	"the target keeps its old rows"
is "$(q "SELECT status || ': ' || error FROM etl_pull.runs WHERE table_name = 'nn' ORDER BY run_id DESC LIMIT 1")" \
	'failed: null value in column "v" of relation "nn" violates not-null constraint: Failing row contains (77777, null).' \
	"the failed run is recorded with the error and its detail"

# a stream load says the same (the executor's own check)
q "SELECT etl_pull.set_table_option('nn', 'strategy', 'stream')" >/dev/null
stream=$(verbose "SELECT rows FROM etl_pull.load_table('nn')")
like "$stream" 'ERROR:  23502: null value in column "v" of relation "nn" violates not-null constraint' \
	"stream raises the same error"
like "$stream" 'DETAIL:  Failing row contains \(77777, null\)\.' "with the same detail"
q "SELECT etl_pull.set_table_option('nn', 'strategy', 'parallel')" >/dev/null

# a conversion error in a worker keeps its SQLSTATE, detail and context
etl_mysql -e "UPDATE nn_src SET v = 'fine' WHERE id = 77777;
	ALTER TABLE nn_src MODIFY v varchar(40); UPDATE nn_src SET v = REPEAT('x', 30) WHERE id = 55555"
# (forgetting the source's columns as last loaded, so that the widening is
# no schema change that on_schema_change = error refuses before any row moves)
q "DELETE FROM etl_pull.source_columns WHERE table_name = 'nn'" >/dev/null
out=$(verbose "SELECT rows FROM etl_pull.load_table('nn')")
like "$out" 'ERROR:  22001: ' "a value too long for the target arrives as SQLSTATE 22001"
like "$out" 'DETAIL:  The value has 30 characters\.' "with its detail"
like "$out" 'column "v" of MySQL table "etl_test.nn_src", row with key \(id=55555\)' \
	"with the worker's context"
like "$out" 'etl_pull parallel worker [0-9]+' "and the worker named"
etl_mysql -e "UPDATE nn_src SET v = 'fine' WHERE id = 55555; ALTER TABLE nn_src MODIFY v varchar(20)"

# load_all: a worker's error arrives as its message and detail
q "SELECT etl_pull.add_table('broken', server => 'replica', source_table => 'no_such_table');
   SELECT etl_pull.set_table_option('broken', 'load_group', 'g');
   SELECT etl_pull.set_table_option('nn', 'load_group', 'g')" >/dev/null
is "$(q "SELECT string_agg(table_name || ' ' || status || ' ' || coalesce(error, '-'), '; ' ORDER BY table_name)
         FROM etl_pull.load_all('g')")" \
	"broken failed could not execute query on MySQL server \"replica\": MySQL error 1146: Table 'etl_test.no_such_table' doesn't exist; nn succeeded -" \
	"load_all reports a worker's error, and loads the other table"

# workers pin search_path: a database default that puts a hostile schema
# first (the callers here set their own) does not reach them
q "CREATE SCHEMA evil;
   CREATE FUNCTION evil.texteq(text, text) RETURNS boolean LANGUAGE plpgsql AS
     \$\$ BEGIN RAISE EXCEPTION 'hijacked by evil.='; END \$\$;
   CREATE OPERATOR evil.= (LEFTARG = text, RIGHTARG = text, FUNCTION = evil.texteq);
   GRANT USAGE ON SCHEMA evil TO PUBLIC;
   ALTER DATABASE $TAP_DB SET search_path = evil, pg_catalog, public" >/dev/null
is "$(etl_psql -d "$TAP_DB" -Atqc "SELECT 'a'::text = 'a'::text" 2>&1 | grep -o 'hijacked by evil.=')" \
	"hijacked by evil.=" "the hostile operator is what the database's search_path resolves"
pinned() {
	PGOPTIONS='-c search_path=public -c client_min_messages=warning' \
		etl_psql -d "$TAP_DB" -Atq -c "$1" 2>&1
}
is "$(pinned "SELECT rows || ' ' || status FROM etl_pull.load_table('nn')")" "100000 succeeded" \
	"a parallel load's workers resolve pg_catalog's operator"
is "$(pinned "SELECT table_name || ' ' || status FROM etl_pull.load_all('g') WHERE table_name = 'nn'")" \
	"nn succeeded" "so do load_all's workers"
q "ALTER DATABASE $TAP_DB RESET search_path; DROP SCHEMA evil CASCADE" >/dev/null

done_testing
