# The upgrade path: install 1.0, load a table, ALTER EXTENSION etl_pull
# UPDATE to the newest version, and the catalog equals a fresh install's
# (as do 1.1's, 1.2's, 1.3's and 1.4's updated) (a schema-only dump of the
# extension's schema, its privileges and policies); the data and history
# survive, and the upgraded extension loads again.
source "$(dirname "$0")/../tap.sh"

# the version a fresh install gets
latest=$(sed -n "s/^default_version = '\(.*\)'$/\1/p" "$ETL_PULL_REPO/etl_pull.control")

# Every object of the extension and its definition, one line each, sorted:
# functions (definition, security, settings, ACL), relations (columns,
# defaults, constraints, indexes, views, ACL, row security, policies) and
# comments.  (pg_dump shows an extension only as CREATE EXTENSION.)
catalog_of() {
	etl_psql -d "$1" -At <<-'SQL'
	SELECT line FROM (
	  SELECT 'function ' || p.oid::regprocedure || ' ' || pg_get_functiondef(p.oid)
	         || ' secdef=' || p.prosecdef || ' config=' || coalesce(p.proconfig::text, '')
	         || ' acl=' || coalesce(p.proacl::text, '') AS line
	    FROM pg_depend d JOIN pg_proc p ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid
	   WHERE d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e'
	     AND d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'etl_pull')
	  UNION ALL
	  SELECT 'relation ' || c.oid::regclass || ' kind=' || c.relkind::text || ' acl=' || coalesce(c.relacl::text, '')
	         || ' rls=' || c.relrowsecurity || ' view=' || coalesce(pg_get_viewdef(c.oid), '')
	         || ' comment=' || coalesce(obj_description(c.oid, 'pg_class'), '')
	    FROM pg_depend d JOIN pg_class c ON d.classid = 'pg_class'::regclass AND d.objid = c.oid
	   WHERE d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e'
	     AND d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'etl_pull')
	  UNION ALL
	  SELECT 'column ' || a.attrelid::regclass || '.' || a.attname || ' ' || format_type(a.atttypid, a.atttypmod)
	         || ' notnull=' || a.attnotnull || ' default=' || coalesce(pg_get_expr(ad.adbin, ad.adrelid), '')
	         || ' acl=' || coalesce(a.attacl::text, '') || ' comment=' || coalesce(col_description(a.attrelid, a.attnum), '')
	    FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
	    LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
	   WHERE c.relnamespace = 'etl_pull'::regnamespace AND a.attnum > 0 AND NOT a.attisdropped
	  UNION ALL
	  SELECT 'constraint ' || conrelid::regclass || ' ' || conname || ' ' || pg_get_constraintdef(oid)
	    FROM pg_constraint WHERE connamespace = 'etl_pull'::regnamespace
	  UNION ALL
	  SELECT 'index ' || pg_get_indexdef(indexrelid) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
	   WHERE c.relnamespace = 'etl_pull'::regnamespace
	  UNION ALL
	  SELECT 'policy ' || schemaname || '.' || tablename || ' ' || policyname || ' ' || cmd || ' '
	         || roles::text || ' ' || coalesce(qual, '') FROM pg_policies WHERE schemaname = 'etl_pull'
	  UNION ALL
	  SELECT 'fdw ' || fdwname || ' ' || fdwvalidator::regproc || ' ' || coalesce(obj_description(oid, 'pg_foreign_data_wrapper'), '')
	    FROM pg_foreign_data_wrapper WHERE fdwname = 'etl_pull'
	  UNION ALL
	  SELECT 'config ' || unnest(extconfig)::regclass || ' ' || (SELECT string_agg(x, ',') FROM unnest(extcondition) x)
	    FROM pg_extension WHERE extname = 'etl_pull'
	) l ORDER BY line
	SQL
}
setup() {
	PGOPTIONS="-c client_min_messages=warning" etl_psql -q -c "DROP DATABASE IF EXISTS $1" \
		-c "CREATE DATABASE $1" >/dev/null
}

setup etl_tap_fresh
etl_psql -q -d etl_tap_fresh -c "CREATE EXTENSION etl_pull" >/dev/null
is "$(etl_psql -d etl_tap_fresh -Atc "SELECT extversion FROM pg_extension WHERE extname = 'etl_pull'")" \
	"$latest" "a fresh install is version $latest"
fresh=$(catalog_of etl_tap_fresh)

# each later release, as released, updated to the newest version
for from in 1.1 1.2 1.3 1.4; do
	[ "$from" = "$latest" ] && continue
	db=etl_tap_from${from/./}
	setup "$db"
	etl_psql -q -d "$db" -c "CREATE EXTENSION etl_pull VERSION '$from'" \
		-c "ALTER EXTENSION etl_pull UPDATE" >/dev/null
	updated=$(catalog_of "$db")
	if [ -n "$fresh" ] && [ "$fresh" = "$updated" ]; then
		ok 0 "$from updated to $latest has the catalog of a fresh $latest install"
	else
		ok 1 "$from updated to $latest has the catalog of a fresh $latest install"
		diff <(echo "$fresh") <(echo "$updated") | head -40 | sed 's/^/# /'
	fi
	q "DROP DATABASE $db" >/dev/null
done

tap_setup_db etl_tap_upgrade
etl_psql -q -d etl_tap_upgrade -c "DROP EXTENSION etl_pull CASCADE" \
	-c "CREATE EXTENSION etl_pull VERSION '1.0'" >/dev/null 2>&1
etl_psql -q -d etl_tap_upgrade -v port="$ETL_PULL_MYSQL_PORT" -v db="$ETL_PULL_MYSQL_DB" \
	-v user="$ETL_PULL_MYSQL_USER" -v password="$ETL_PULL_MYSQL_PASSWORD" <<-'SQL' >/dev/null
	CREATE SERVER replica FOREIGN DATA WRAPPER etl_pull
	    OPTIONS (host '127.0.0.1', port :'port', dbname :'db');
	CREATE USER MAPPING FOR postgres SERVER replica
	    OPTIONS (user :'user', password :'password');
SQL
is "$(q "SELECT extversion FROM pg_extension WHERE extname = 'etl_pull'")" "1.0" "1.0 installs"
etl_mysql -e "DROP TABLE IF EXISTS upg_src;
	CREATE TABLE upg_src (id int NOT NULL PRIMARY KEY, updated datetime(6) NOT NULL);
	INSERT INTO upg_src SELECT seq, '2024-01-01' + INTERVAL seq SECOND FROM seq_1_to_100;"
q "SELECT etl_pull.add_table('periomeasure', server => 'replica');
   SELECT etl_pull.add_table('upg_src', server => 'replica');
   SELECT etl_pull.set_table_option('upg_src', 'extraction', 'incremental');
   SELECT etl_pull.set_table_option('upg_src', 'incremental_columns', 'updated');
   SELECT etl_pull.set_table_option('upg_src', 'batch_size', '77');
   SELECT etl_pull.load_table('upg_src')" >/dev/null
is "$(q "SELECT status || ' ' || rows FROM etl_pull.load_table('periomeasure')")" \
	"succeeded 10000" "1.0 loads a table"

is "$(q "ALTER EXTENSION etl_pull UPDATE; SELECT extversion FROM pg_extension WHERE extname = 'etl_pull'")" \
	"$latest" "ALTER EXTENSION etl_pull UPDATE goes from 1.0 to $latest"
upgraded=$(catalog_of etl_tap_upgrade)
if [ -n "$fresh" ] && [ "$fresh" = "$upgraded" ]; then ok 0 "the upgraded catalog equals a fresh $latest install's ($(echo "$fresh" | wc -l) objects and columns)"
else
	ok 1 "the upgraded catalog equals a fresh $latest install's"
	diff <(echo "$fresh") <(echo "$upgraded") | head -40 | sed 's/^/# /'
fi
is "$(q "SELECT count(*) FROM periomeasure") $(q "SELECT count(*) FROM etl_pull.runs")" \
	"10000 2" "the data and the run history survive the upgrade"
is "$(q "SELECT string_agg(name || ':' || batch_size || ':' || extraction, ',' ORDER BY name) FROM etl_pull.tables")" \
	"periomeasure:1000:full,upg_src:77:incremental" "the registered tables and their settings survive"
is "$(q "SELECT vals[1] FROM etl_pull.watermarks WHERE table_name = 'upg_src'")" \
	"2024-01-01 00:01:40.000000" "the watermark survives"
etl_mysql -e "INSERT INTO upg_src VALUES (101, '2024-02-01')"
is "$(q "SELECT extraction || ' ' || rows FROM etl_pull.load_table('upg_src')")" \
	"incremental 2" "the upgraded extension goes on from the old watermark"
is "$(q "SELECT status || ' ' || rows FROM etl_pull.load_table('periomeasure')")" \
	"succeeded 10000" "the upgraded extension loads again"

q "DROP DATABASE etl_tap_fresh" >/dev/null
done_testing
