# etl_pull.import_tables: a whole MariaDB database registered at once, with
# an exact plan per table (diff where there is a key, an ON UPDATE
# CURRENT_TIMESTAMP column or not, full otherwise) and what it sees and
# misses, notes on what the source is like (no key, Aria, generated
# columns, views), hostile and colliding names; then loaded with load_all;
# then, after edits that leave the stamp alone and hard deletes at the
# source (MyISAM and InnoDB), loaded again: every table equal to the
# source, compared outside etl_pull; then imported again as a sync (new
# tables registered, settings changed by hand kept, dropped tables reported
# and optionally disabled); and who may call it.  An existing PostgreSQL
# table named like a MySQL table is adopted only if etl_pull created it:
# another role's table, or the importer's own, is skipped with a note and
# keeps its rows through load_all; add_table names one only for its owner.
# Roles are cluster-wide, so the test takes a cluster of its own.
source "$(dirname "$0")/../tap.sh"
tap_own_cluster
tap_setup_db etl_tap_import

cleanup_mysql() {
	etl_mysql -e "DROP DATABASE IF EXISTS etl_import_t" >/dev/null 2>&1 || true
}
tap_on_exit cleanup_mysql

LONG="Long$(printf 'x%.0s' $(seq 60))" # 64 characters, MySQL's longest name
LONG_LC=${LONG,,}

# The source.  Names as MySQL quotes them, so the heredoc is not expanded
# except for ${LONG}.
etl_mysql <<SQL || echo "# could not create the MariaDB source database"
DROP DATABASE IF EXISTS etl_import_t;
CREATE DATABASE etl_import_t CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci;
USE etl_import_t;
CREATE TABLE orders (id int PRIMARY KEY, amount int,
    updated_at timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
    KEY (updated_at));
INSERT INTO orders (id, amount) SELECT seq, seq * 10 FROM seq_1_to_30;
CREATE TABLE events (id int PRIMARY KEY,
    a timestamp(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6),
    b timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP);
INSERT INTO events (id) SELECT seq FROM seq_1_to_31;
CREATE TABLE nodef (id int PRIMARY KEY,
    ts timestamp NULL DEFAULT NULL ON UPDATE CURRENT_TIMESTAMP);
INSERT INTO nodef (id) SELECT seq FROM seq_1_to_32;
CREATE TABLE nokey (v int,
    changed timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP);
INSERT INTO nokey (v) SELECT seq FROM seq_1_to_33;
CREATE TABLE legacy (id int PRIMARY KEY, v varchar(10)) ENGINE=Aria;
INSERT INTO legacy SELECT seq, 'v' FROM seq_1_to_34;
CREATE TABLE gen (id int PRIMARY KEY, a int, doubled int AS (a * 2) VIRTUAL,
    tripled int AS (a * 3) STORED);
INSERT INTO gen (id, a) SELECT seq, seq FROM seq_1_to_35;
CREATE VIEW v_orders AS SELECT id, amount FROM orders WHERE id <= 5;
CREATE TABLE \`Tick\`\`s 'q' "dq" ü.dot'); DROP TABLE pg_sentinel; --\` (\`k'ey\` int PRIMARY KEY);
INSERT INTO \`Tick\`\`s 'q' "dq" ü.dot'); DROP TABLE pg_sentinel; --\` SELECT seq FROM seq_1_to_36;
CREATE TABLE \`${LONG}\` (id int PRIMARY KEY);
INSERT INTO \`${LONG}\` SELECT seq FROM seq_1_to_37;
CREATE TABLE Mixed (id int PRIMARY KEY);
INSERT INTO Mixed SELECT seq FROM seq_1_to_38;
CREATE TABLE mixed (id int PRIMARY KEY);
CREATE TABLE clash (id int PRIMARY KEY);
CREATE TABLE targetclash (id int PRIMARY KEY);
CREATE TABLE tmp_scratch (id int PRIMARY KEY);
CREATE TABLE accounts (id int PRIMARY KEY, v int);
INSERT INTO accounts VALUES (1, 100);
CREATE TABLE mine (id int PRIMARY KEY);
INSERT INTO mine VALUES (1);
CREATE TABLE claims (id int PRIMARY KEY, amount int, note varchar(20),
    stamp timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP) ENGINE=MyISAM;
INSERT INTO claims (id, amount, note, stamp)
    SELECT seq, seq * 3, CONCAT('n', seq), '2020-01-02 03:04:05' FROM seq_1_to_40;
CREATE TABLE applog (v int, msg varchar(20)) ENGINE=MyISAM;
INSERT INTO applog SELECT seq, CONCAT('m', seq) FROM seq_1_to_41;
SQL
HOSTILE="Tick\`s 'q' \"dq\" ü.dot'); DROP TABLE pg_sentinel; --"
HOSTILE_LC="tick\`s 'q' \"dq\" ü.dot'); drop table pg_sentinel; --"
HOSTILE_SQL=${HOSTILE_LC//\'/\'\'}

q "CREATE TABLE public.pg_sentinel (id int); INSERT INTO public.pg_sentinel VALUES (1)" >/dev/null
# tables etl_pull did not create, named like two of the source's: public.accounts with 5 rows
# of another role's, and public.mine of the importing role's own
q "CREATE ROLE imp_other;
   CREATE TABLE public.accounts (id int, v int);
   INSERT INTO public.accounts SELECT g, g FROM generate_series(1, 5) g;
   ALTER TABLE public.accounts OWNER TO imp_other;
   CREATE TABLE public.mine (id int); INSERT INTO public.mine VALUES (7)" >/dev/null
# registered by hand before: a name the import would take, and a target
q "SELECT etl_pull.add_table('clash', server => 'replica', source_table => 'periomeasure',
                             target_table => 'public.clash_elsewhere');
   SELECT etl_pull.add_table('other', server => 'replica', source_table => 'periomeasure',
                             target_table => 'public.targetclash')" >/dev/null

# ---- arguments checked before anything is read
like "$(q "SELECT * FROM etl_pull.import_tables('replica', 'etl_import_t', target_schema => 'pg_catalog')")" \
	'etl_pull does not load into schema "pg_catalog"' "a system target schema is refused"
like "$(q "SELECT * FROM etl_pull.import_tables('replica', 'etl_import_t', target_schema => 'etl_pull')")" \
	'etl_pull does not load into schema "etl_pull"' "schema etl_pull is refused"
like "$(q "SELECT * FROM etl_pull.import_tables('replica', 'etl_import_t', target_schema => 'nosuch')")" \
	'schema "nosuch" does not exist' "a missing target schema is refused"
like "$(q "SELECT * FROM etl_pull.import_tables('replica', 'etl_import_t', load_group => '')")" \
	'invalid value "" for setting "load_group"' "an empty load_group is refused by the setting's validator"
like "$(q "SELECT * FROM etl_pull.import_tables('replica', 'no_such_db')")" \
	'MySQL database "no_such_db" does not exist' "a missing MySQL database is an error"
like "$(q "SELECT * FROM etl_pull.import_tables('nosuch')")" 'server "nosuch" does not exist' \
	"a missing server is an error"
is "$(q "SELECT count(*) FROM etl_pull.tables")" "2" "nothing was registered by the refused calls"

# ---- the first import
q "CREATE TABLE imp1 AS SELECT * FROM etl_pull.import_tables('replica', 'etl_import_t',
       exclude => 'tmp\\_%, nothing%', load_group => 'imp')" >/dev/null
plan() {
	q "SELECT name || '|' || action || '|' || coalesce(extraction, '') || '|'
	          || coalesce(array_to_string(incremental_columns, ','), '') || '|'
	          || coalesce(array_to_string(primary_key, ','), '') || '|' || coalesce(engine, '')
	     FROM $1 WHERE source = 'etl_import_t.' || \$\$$2\$\$"
}
notes() {
	q "SELECT array_to_string(notes, ' / ') FROM $1 WHERE source = 'etl_import_t.' || \$\$$2\$\$"
}
is "$(q "SELECT count(*) FROM imp1")" "17" "one row per table and view of the source, the excluded one left out"
is "$(q "SELECT count(*) FROM imp1 WHERE source LIKE '%tmp_scratch'")" "0" "exclude wins over include"
sight() {
	q "SELECT coalesce(sees, '-') || ' | ' || coalesce(misses, '-')
	     FROM $1 WHERE source = 'etl_import_t.' || \$\$$2\$\$"
}
SEES_DIFF="every insert, edit and delete: with a single integer key every row read in key ranges and compared by key, only what differs written; otherwise key ranges compared by hash, only the ranges that differ pulled | -"
SEES_FULL="every insert, edit and delete, at the cost of reading every row on every run | -"
is "$(plan imp1 orders)" "orders|registered|diff||id|InnoDB" \
	"a key and an ON UPDATE column: diff, not incremental on the stamp"
is "$(notes imp1 orders)" \
	"ON UPDATE CURRENT_TIMESTAMP column updated_at: not trusted as a watermark (an edit may leave it alone, a delete leaves no trace): diff; where every edit moves it and rows are never deleted, extraction incremental on it reads less" \
	"... saying why the stamp is not trusted, and when the DBA may choose incremental"
is "$(sight imp1 orders)" "$SEES_DIFF" "... and that diff sees every change and misses nothing"
is "$(plan imp1 claims)" "claims|registered|diff||id|MyISAM" "a MyISAM table with a key and a stamp: diff"
is "$(plan imp1 events)" "events|registered|diff||id|InnoDB" "two ON UPDATE columns: diff"
like "$(notes imp1 events)" "^ON UPDATE CURRENT_TIMESTAMP columns a, b: not trusted as a watermark" "... both named"
is "$(plan imp1 nodef)" "nodef|registered|diff||id|InnoDB" \
	"an ON UPDATE column without DEFAULT CURRENT_TIMESTAMP: diff too"
is "$(plan imp1 nokey)" "nokey|registered|full|||InnoDB" "no primary key: full"
is "$(notes imp1 nokey)" "no primary key: loads full" "... said so"
is "$(sight imp1 nokey)" "$SEES_FULL" "... which sees everything, at the cost of a full read"
is "$(plan imp1 applog)" "applog|registered|full|||MyISAM" "a MyISAM table without a key: full"
is "$(plan imp1 legacy)" "legacy|registered|diff||id|Aria" "an Aria table registers"
is "$(notes imp1 legacy)" "engine Aria: not covered by a consistent snapshot" "... with a note on its engine"
is "$(plan imp1 gen)" "gen|registered|diff||id|InnoDB" "a table with generated columns registers"
is "$(notes imp1 gen)" \
	"generated columns doubled, tripled: loaded as plain columns holding the values computed at the source" \
	"... with a note on them"
is "$(plan imp1 v_orders)" "v_orders|skipped||||" "a view is skipped"
is "$(sight imp1 v_orders)" "- | -" "... and has no plan to see anything with"
is "$(notes imp1 v_orders)" "view: skipped (views => true registers it)" "... said so"
is "$(plan imp1 "$HOSTILE")" "$HOSTILE_LC|registered|diff||k'ey|InnoDB" \
	"a hostile name registers, lower-cased"
is "$(q "SELECT target FROM imp1 WHERE name = '$HOSTILE_SQL'")" \
	"public.$(q "SELECT quote_ident('$HOSTILE_SQL')")" "... into one quoted identifier"
is "$(plan imp1 "$LONG")" "$LONG_LC|registered|diff||id|InnoDB" "a 64-character name registers"
is "$(notes imp1 "$LONG")" "target name truncated to 63 bytes" "... its target cut to 63 bytes, said so"
is "$(plan imp1 Mixed)" "mixed|registered|diff||id|InnoDB" "Mixed registers as mixed"
is "$(plan imp1 mixed)" "mixed|skipped|||id|InnoDB" "mixed, the same after lower-casing, is skipped"
like "$(notes imp1 mixed)" 'name "mixed" is taken by another table of this import' "... said so"
is "$(plan imp1 clash)" "clash|skipped|||id|InnoDB" "a name registered for another source is skipped"
like "$(notes imp1 clash)" 'name "clash" is already registered for another source' "... said so"
is "$(plan imp1 targetclash)" "targetclash|skipped|||id|InnoDB" "a target another table loads into is skipped"
like "$(notes imp1 targetclash)" 'table "other" already loads into public.targetclash' "... with add_table's reason"
is "$(plan imp1 accounts)" "accounts|skipped|||id|InnoDB" \
	"a table named like an existing table of another role's, which etl_pull did not create, is skipped"
is "$(notes imp1 accounts)" \
	"table public.accounts exists and etl_pull did not create it: not adopted (its owner may register it by name with add_table)" \
	"... said so"
is "$(plan imp1 mine)" "mine|skipped|||id|InnoDB" "... and so is one named like a table of the importer's own"
like "$(notes imp1 mine)" "table public.mine exists and etl_pull did not create it: not adopted" "... said so"
is "$(q "SELECT count(*) FROM etl_pull.tables WHERE name IN ('accounts', 'mine')")" "0" "neither is registered"
is "$(q "SELECT estimated_rows IS NOT NULL AND estimated_bytes > 0 FROM imp1 WHERE name = 'orders'")" "t" \
	"estimated rows and size come from information_schema.TABLES"

# ---- what was registered, through add_table and set_table_option
is "$(q "SELECT source_table || '|' || target_table || '|' || extraction || '|'
              || coalesce(array_to_string(incremental_columns, ','), '-') || '|' || indexes || '|' || load_group
         FROM etl_pull.tables WHERE name = 'orders'")" \
	"\`etl_import_t\`.\`orders\`|public.orders|diff|-|all|imp" \
	"orders: source, target, extraction diff without a watermark, indexes all, load group"
is "$(q "SELECT string_agg(extraction || '=' || count, ' ' ORDER BY extraction)
         FROM (SELECT extraction, count(*) FROM etl_pull.tables WHERE load_group = 'imp'
                GROUP BY extraction) e")" "diff=9 full=2" "nine diff tables (a key), two full (none)"
is "$(q "SELECT count(*) FROM etl_pull.tables WHERE load_group = 'imp' AND indexes = 'all'
           AND enabled AND server = 'replica'")" "11" "eleven tables registered in the group, indexes all"
is "$(q "SELECT count(*) FROM etl_pull.tables WHERE load_group = 'imp' AND on_schema_change = 'evolve'")" "11" \
	"and on_schema_change evolve"
is "$(q "SELECT source_table FROM etl_pull.tables WHERE name = '$HOSTILE_SQL'")" \
	"\`etl_import_t\`.\`Tick\`\`s 'q' \"dq\" ü.dot'); DROP TABLE pg_sentinel; --\`" \
	"the hostile source is stored \`quoted\`"
is "$(q "SELECT target_table FROM etl_pull.tables WHERE name = 'clash'")" "public.clash_elsewhere" \
	"the clashing registration is untouched"

# ---- load them all
is "$(q "SELECT count(*) FILTER (WHERE status = 'succeeded') || '/' || count(*)
         FROM etl_pull.load_all('imp')")" "11/11" "load_all loads every imported table"
counts() {
	q "SELECT string_agg(i.name || '=' || (xpath('/row/c/text()',
	          query_to_xml('SELECT count(*) AS c FROM ' || i.target, false, true, '')))[1]::text,
	          ',' ORDER BY i.name COLLATE \"C\")
	     FROM $1 i WHERE i.action = 'registered'"
}
is "$(counts imp1)" "applog=41,claims=40,events=31,gen=35,legacy=34,$LONG_LC=37,mixed=38,nodef=32,nokey=33,orders=30,$HOSTILE_LC=36" \
	"every target holds its source's rows"
is "$(q "SELECT sum(doubled) || ' ' || sum(tripled) FROM public.gen")" "1260 1890" \
	"generated columns arrive as their computed values"
is "$(q "SELECT count(*) FROM public.pg_sentinel")" "1" "nothing in a name ran as SQL"
is "$(q "SELECT count(*) || ' ' || sum(v) FROM public.accounts")" "5 15" \
	"public.accounts, skipped, keeps its 5 rows through load_all"
is "$(q "SELECT string_agg(id::text, ',') FROM public.mine")" "7" "... and public.mine its row"
is "$(q "SELECT count(*) FROM etl_pull.watermarks")" "0" "no table has a watermark: none is incremental"

# ---- the default plan is exact: an edit that leaves the stamp alone (as OpenDental's do) and
# a hard delete, in a MyISAM and an InnoDB table, and an edit of a table without a key; the
# next load_all makes every table equal to the source, compared outside etl_pull (the mysql
# client's text against psql's)
etl_mysql -e "USE etl_import_t;
	UPDATE claims SET amount = 999, note = 'edited', stamp = stamp WHERE id = 7;
	DELETE FROM claims WHERE id = 9;
	UPDATE orders SET amount = 777, updated_at = updated_at WHERE id = 4;
	DELETE FROM orders WHERE id = 6;
	UPDATE applog SET msg = 'changed' WHERE v = 3;
	INSERT INTO claims (id, amount, note, stamp) VALUES (100, 1, 'new', '2020-01-02 03:04:05');"
is "$(etl_mysql -N -e "SET time_zone = '+00:00'; SELECT stamp, note FROM etl_import_t.claims WHERE id = 7")" \
	"$(printf '2020-01-02 03:04:05\tedited')" "the source's edit left the stamp where it was"
last_run=$(q "SELECT max(run_id) FROM etl_pull.runs")
is "$(q "SELECT count(*) FILTER (WHERE status IN ('succeeded', 'unchanged')) || '/' || count(*)
         FROM etl_pull.load_all('imp')")" "11/11" "load_all again: every table succeeds (or is unchanged)"
src_rows() { # the source's rows of table $1, columns $2, in key order $3, as the mysql client prints them
	etl_mysql -N -e "SET time_zone = '+00:00'; SELECT $2 FROM etl_import_t.\`$1\` ORDER BY $3"
}
pg_rows() {
	q "COPY (SELECT $2 FROM public.\"$1\" ORDER BY $3) TO STDOUT"
}
is "$(pg_rows claims "id, amount, note, to_char(stamp AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS')" id)" \
	"$(src_rows claims "id, amount, note, stamp" id)" "claims (MyISAM): the unstamped edit, the delete and the insert arrived"
is "$(pg_rows orders "id, amount, to_char(updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS')" id)" \
	"$(src_rows orders "id, amount, updated_at" id)" "orders (InnoDB): the unstamped edit and the delete arrived"
is "$(pg_rows applog "v, msg" "v, msg")" "$(src_rows applog "v, msg" "v, msg")" "applog (no key): the edit arrived"
for t in events nodef nokey legacy mixed "$LONG_LC"; do
	src=$t
	[ "$t" = mixed ] && src=Mixed
	[ "$t" = "$LONG_LC" ] && src=$LONG
	cols=$(etl_mysql -N -e "SELECT GROUP_CONCAT(COLUMN_NAME ORDER BY ORDINAL_POSITION)
		FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = 'etl_import_t' AND TABLE_NAME = '$src'
		AND DATA_TYPE NOT IN ('timestamp')")
	is "$(pg_rows "$t" "${cols,,}" "${cols,,}")" "$(src_rows "$src" "$cols" "$cols")" "$t equals its source"
done
is "$(q "SELECT string_agg(table_name || ':' || extraction, ' ' ORDER BY table_name) FROM etl_pull.runs
          WHERE table_name IN ('claims', 'orders') AND status = 'succeeded' AND run_id > $last_run")" \
	"claims:diff orders:diff" "the changed tables were refreshed by diff runs, not reloaded"

# ---- views on request
q "CREATE TABLE impv AS SELECT * FROM etl_pull.import_tables('replica', 'etl_import_t',
       include => 'v\\_%', views => true, load_group => 'views')" >/dev/null
is "$(plan impv v_orders)" "v_orders|registered|full|||" "views => true registers a view, full"
is "$(notes impv v_orders)" "view: no primary key, loads full" "... said so"
is "$(q "SELECT rows || ' ' || status FROM etl_pull.load_table('v_orders')")" "5 succeeded" \
	"the view loads"

# ---- again, as a sync: settings changed by hand stay, new and gone tables reported
q "SELECT etl_pull.set_table_option('orders', 'batch_size', '7');
   SELECT etl_pull.set_table_option('events', 'extraction', 'incremental');
   SELECT etl_pull.set_table_option('events', 'incremental_columns', 'a');
   SELECT etl_pull.set_table_option('nokey', 'indexes', 'primary')" >/dev/null
etl_mysql -e "USE etl_import_t; DROP TABLE legacy; CREATE TABLE newone (id int PRIMARY KEY);
	INSERT INTO newone SELECT seq FROM seq_1_to_39;"
before=$(q "SELECT md5(string_agg(t::text, ',' ORDER BY name)) FROM etl_pull.tables t WHERE name <> 'newone'")
q "CREATE TABLE imp2 AS SELECT * FROM etl_pull.import_tables('replica', 'etl_import_t',
       exclude => 'tmp\\_%', load_group => 'imp')" >/dev/null
is "$(plan imp2 newone)" "newone|registered|diff||id|InnoDB" "a new source table is registered"
is "$(plan imp2 legacy)" "legacy|missing|diff|||" "a dropped one is reported missing"
is "$(q "SELECT enabled FROM etl_pull.tables WHERE name = 'legacy'")" "t" "... and left enabled"
is "$(plan imp2 orders)" "orders|exists|diff||id|InnoDB" "orders exists"
is "$(plan imp2 events)" "events|exists|incremental|a|id|InnoDB" "events exists, as registered: the extraction set by hand"
is "$(sight imp2 events)" "inserts and edits that move a | edits that leave a alone; deletes" \
	"... and its row says what an incremental plan by the stamp misses"
is "$(q "SELECT string_agg(action, ',' ORDER BY action) FROM (SELECT DISTINCT action FROM imp2) a")" \
	"exists,missing,registered,skipped" "nothing else is registered again"
is "$(q "SELECT md5(string_agg(t::text, ',' ORDER BY name)) FROM etl_pull.tables t WHERE name <> 'newone'")" \
	"$before" "no existing registration changed (batch_size, extraction, indexes set by hand kept)"
is "$(q "SELECT string_agg(name || ':' || batch_size || ':' || extraction || ':' || indexes, ' ' ORDER BY name)
         FROM etl_pull.tables WHERE name IN ('orders', 'events', 'nokey')")" \
	"events:1000:incremental:all nokey:1000:full:primary orders:7:diff:all" "the hand-set values are there"
is "$(q "SELECT action FROM etl_pull.import_tables('replica', 'etl_import_t', include => 'legacy',
                                                   disable_missing => true)")" "disabled" \
	"disable_missing => true disables the missing table"
is "$(q "SELECT enabled FROM etl_pull.tables WHERE name = 'legacy'")" "f" "... in etl_pull.tables"
is "$(q "SELECT action || ' ' || array_to_string(notes, ' / ')
         FROM etl_pull.import_tables('replica', 'etl_import_t', include => 'legacy')")" \
	"missing gone from the source / disabled already" "again: missing, disabled already"
is "$(q "SELECT count(*) FROM etl_pull.import_tables('replica', 'etl_import_t', include => 'orders, gen')")" \
	"2" "include takes a list of patterns"

# ---- a target etl_pull created is adopted again once its registration is gone (a sync after
# remove_table); one it did not create still is not
q "SELECT etl_pull.remove_table('gen')" >/dev/null
is "$(q "SELECT string_agg(name || ' ' || action, ', ' ORDER BY name)
         FROM etl_pull.import_tables('replica', 'etl_import_t', include => 'gen, accounts')")" \
	"accounts skipped, gen registered" "re-imported, gen loads into the public.gen etl_pull created; accounts is skipped again"

# ---- who may import
etl_psql -q -d "$TAP_DB" -v user="$ETL_PULL_MYSQL_USER" -v password="$ETL_PULL_MYSQL_PASSWORD" <<-'SQL' >/dev/null
	CREATE ROLE imp_plain LOGIN;
	CREATE ROLE imp_admin LOGIN IN ROLE etl_pull_admin;
	CREATE USER MAPPING FOR imp_plain SERVER replica OPTIONS (user :'user', password :'password');
	GRANT USAGE ON FOREIGN SERVER replica TO imp_plain;
SQL
etl_mysql -e "CREATE TABLE etl_import_t.byadmin (id int PRIMARY KEY)"
registered=$(q "SELECT count(*) FROM etl_pull.tables")
like "$(q "SET ROLE imp_plain; SELECT * FROM etl_pull.import_tables('replica', 'etl_import_t')")" \
	"permission denied for function import_tables" "a role without etl_pull_admin may not import"
q "GRANT EXECUTE ON FUNCTION etl_pull.import_tables(name, text, text, text, text, text, boolean, boolean, boolean) TO imp_plain" >/dev/null
like "$(q "SET ROLE imp_plain; SELECT * FROM etl_pull.import_tables('replica', 'etl_import_t')")" \
	"permission denied to import tables" "... not even when granted EXECUTE: registering is etl_pull_admin's"
like "$(q "SET ROLE imp_admin; SELECT * FROM etl_pull.import_tables('replica', 'etl_import_t')")" \
	"permission denied for foreign server replica" "an admin needs USAGE on the server"
q "GRANT USAGE ON FOREIGN SERVER replica TO imp_admin" >/dev/null
like "$(q "SET ROLE imp_admin; SELECT * FROM etl_pull.import_tables('replica', 'etl_import_t')")" \
	'user mapping not found' "... and a user mapping"
etl_psql -q -d "$TAP_DB" -v user="$ETL_PULL_MYSQL_USER" -v password="$ETL_PULL_MYSQL_PASSWORD" <<-'SQL' >/dev/null
	CREATE USER MAPPING FOR imp_admin SERVER replica OPTIONS (user :'user', password :'password');
SQL
is "$(q "SELECT count(*) FROM etl_pull.tables")" "$registered" "the refused calls registered nothing"
is "$(q "SET ROLE imp_admin; SELECT name || ' ' || action FROM etl_pull.import_tables('replica', 'etl_import_t', include => 'byadmin')")" \
	"byadmin registered" "with both, an admin imports"
is "$(q "SELECT count(*) FROM etl_pull.tables WHERE name = 'byadmin' AND indexes = 'all'")" "1" \
	"... through the same functions"

# ---- add_table and set_table_option name an existing table etl_pull did not create only for
# its owner, by name or by the default public.<name>
like "$(q "SET ROLE imp_admin; SELECT etl_pull.add_table('acc', server => 'replica',
               source_table => 'etl_import_t.accounts', target_table => 'public.accounts')")" \
	'table public.accounts exists and etl_pull did not create it.*role "imp_admin" does not own it' \
	"add_table: an admin may not name another role's table as its target"
like "$(q "SET ROLE imp_admin; SELECT etl_pull.add_table('accounts', server => 'replica',
               source_table => 'etl_import_t.accounts')")" \
	'table public.accounts exists and etl_pull did not create it' "... nor have it by its default name"
q "SET ROLE imp_admin; SELECT etl_pull.add_table('acc', server => 'replica',
       source_table => 'etl_import_t.accounts', target_table => 'public.acc')" >/dev/null
like "$(q "SET ROLE imp_admin; SELECT etl_pull.set_table_option('acc', 'target_table', 'public.accounts')")" \
	'table public.accounts exists and etl_pull did not create it' "set_table_option may not point a table at it either"
q "ALTER TABLE public.mine OWNER TO imp_admin" >/dev/null
q "SET ROLE imp_admin; SELECT etl_pull.set_table_option('acc', 'target_table', 'public.mine')" >/dev/null
is "$(q "SELECT etl_pull.target_of(name, target_table) FROM etl_pull.tables WHERE name = 'acc'")" \
	"public.mine" "its owner may name it"
q "GRANT imp_other TO imp_admin" >/dev/null
q "SET ROLE imp_admin; SELECT etl_pull.add_table('acc2', server => 'replica',
       source_table => 'etl_import_t.accounts', target_table => 'public.accounts')" >/dev/null
is "$(q "SELECT count(*) FROM etl_pull.tables WHERE name = 'acc2'")" "1" "... and so may a member of the owning role"
is "$(q "SELECT count(*) || ' ' || sum(v) FROM public.accounts")" "5 15" "public.accounts still holds its 5 rows"

done_testing
