# Index builds as cheap as PostgreSQL allows, and load_all's order: a
# load's secondary index builds (indexes = all, and the swap's rebuild of a
# target that has them) sort in etl_pull.index_build_memory, not in
# etl_pull.pg_settings' small maintenance_work_mem (trace_sort shows each
# sort's memory); a target with a primary key alone keeps the small one;
# the caller's session keeps its own.  load_all's workers take the biggest
# tables (at the source) first.
source "$(dirname "$0")/../tap.sh"
tap_setup_db etl_tap_index_builds

etl_mysql -e "
	DROP DATABASE IF EXISTS etl_ixb;
	CREATE DATABASE etl_ixb;
	USE etl_ixb;
	CREATE TABLE wide (id int NOT NULL PRIMARY KEY, a int, b varchar(20), KEY a (a), KEY b (b));
	INSERT INTO wide SELECT seq, seq % 97, MD5(seq) FROM seq_1_to_20000;
	CREATE TABLE narrow (id int NOT NULL PRIMARY KEY, a int);
	INSERT INTO narrow SELECT seq, seq FROM seq_1_to_20000;
	CREATE TABLE a_tiny (id int NOT NULL PRIMARY KEY);
	INSERT INTO a_tiny VALUES (1), (2), (3);
	CREATE TABLE m_mid (id int NOT NULL PRIMARY KEY, v varchar(40));
	INSERT INTO m_mid SELECT seq, MD5(seq) FROM seq_1_to_3000;
	CREATE TABLE z_big (id int NOT NULL PRIMARY KEY, v varchar(40));
	INSERT INTO z_big SELECT seq, MD5(seq) FROM seq_1_to_60000;
	ANALYZE TABLE a_tiny, m_mid, z_big;"
cleanup() { etl_mysql -e "DROP DATABASE IF EXISTS etl_ixb" 2>/dev/null; }
tap_on_exit cleanup

q "SELECT etl_pull.add_table('wide', server => 'replica', source_table => 'etl_ixb.wide');
   SELECT etl_pull.set_table_option('wide', 'indexes', 'all');
   SELECT etl_pull.add_table('narrow', server => 'replica', source_table => 'etl_ixb.narrow');
   SELECT etl_pull.set_table_option('narrow', 'indexes', 'all')" >/dev/null

# load_table NAME with trace_sort: the memory of each index sort, "unique workMem" a line
sorts() {
	PGOPTIONS='-c client_min_messages=log -c trace_sort=on -c etl_pull.index_build_memory=48MB' \
		etl_psql -d "$TAP_DB" -Atq -c "SELECT status FROM etl_pull.load_table('$1')" 2>&1 |
		sed -n 's/.*begin index sort: unique = \([tf]\), workMem = \([0-9]*\),.*/\1 \2/p' |
		grep -v ' 4096$' | sort | uniq -c | awk '{ printf "%s%s %s x%s", sep, $2, $3, $1; sep = ", " }'
}
# the first load creates wide's target: its primary key is built empty by CREATE TABLE, then
# rebuilt by the swap, in 16 MB; its two secondary indexes are built after the rows in 48 MB
is "$(sorts wide)" "f 49152 x2, t 16384 x2" "first load: the secondary indexes sort in etl_pull.index_build_memory"
# a reload swaps the rows in: the rebuild of all three indexes sorts in 48 MB
is "$(sorts wide)" "f 49152 x2, t 49152 x1" "reload of a target with secondary indexes: its whole rebuild too"
# a target with a primary key alone: etl_pull.pg_settings' 16 MB, first load and reload
is "$(sorts narrow)" "t 16384 x2" "first load of a target with a primary key alone: pg_settings' memory"
is "$(sorts narrow)" "t 16384 x1" "its reload too"
is "$(q "SELECT count(*) FROM wide WHERE a = 5") $(q "SELECT count(*) FROM pg_indexes WHERE tablename = 'wide'")" \
	"$(etl_mysql -N -e "SELECT COUNT(*) FROM etl_ixb.wide WHERE a = 5") 3" "wide's rows and indexes are there"
is "$(PGOPTIONS='-c maintenance_work_mem=20MB' etl_psql -d "$TAP_DB" -Atq \
	-c "SELECT status FROM etl_pull.load_table('wide')" -c "SHOW maintenance_work_mem")" \
	"succeeded
20MB" "the caller's maintenance_work_mem is its own again after the load"
like "$(q "LOAD 'etl_pull'; SET etl_pull.index_build_memory = '512kB'")" "is outside the valid range" \
	"etl_pull.index_build_memory is at least 1 MB"

# ---- load_all with one worker takes z_big (60,000 rows), m_mid, a_tiny: biggest first
q "SELECT etl_pull.add_table(t, server => 'replica', source_table => 'etl_ixb.' || t),
          etl_pull.set_table_option(t, 'load_group', 'order')
     FROM unnest(ARRAY['a_tiny', 'm_mid', 'z_big']) t" >/dev/null
is "$(q "SELECT string_agg(table_name || ' ' || status, ', ') FROM etl_pull.load_all('order', 1)")" \
	"a_tiny succeeded, m_mid succeeded, z_big succeeded" "load_all's result rows stay in name order"
is "$(q "SELECT string_agg(table_name, ' ' ORDER BY run_id) FROM etl_pull.runs WHERE table_name IN ('a_tiny', 'm_mid', 'z_big')")" \
	"z_big m_mid a_tiny" "its worker loaded the biggest table first, the smallest last"
# a server that cannot say the sizes: the order is by name, and each load says what is wrong
q "CREATE SERVER nowhere FOREIGN DATA WRAPPER etl_pull OPTIONS (host '127.0.0.1', port '1', dbname 'etl_ixb');
   CREATE USER MAPPING FOR postgres SERVER nowhere OPTIONS (user 'nobody', password 'x');
   SELECT etl_pull.add_table('lost_' || t, server => 'nowhere', source_table => 'etl_ixb.' || t),
          etl_pull.set_table_option('lost_' || t, 'load_group', 'lost')
     FROM unnest(ARRAY['a_tiny', 'z_big']) t" >/dev/null
is "$(q "SELECT string_agg(table_name || ' ' || status, ', ') FROM etl_pull.load_all('lost', 1)")" \
	"lost_a_tiny failed, lost_z_big failed" "an unreachable server: each table's own load fails"

done_testing
