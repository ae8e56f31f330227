--
-- etl_pull.plan(): what load_table would do, without doing it.  The
-- connection's TLS row depends on the server's setup: it is checked apart.
--
-- a table whose target does not exist: the DDL it would run
SELECT etl_pull.add_table('plan_new', server => 'replica');
SELECT etl_pull.set_table_option('plan_new', 'indexes', 'all');
SELECT etl_pull.set_table_option('plan_new', 'estimated_size_mb', '0');
SELECT section, item, detail FROM etl_pull.plan('plan_new') WHERE section <> 'connection';
SELECT detail ~ '^(not encrypted|TLS)' AS tls_state_shown
  FROM etl_pull.plan('plan_new', 0) WHERE section = 'connection';
-- the table's pg_settings apply, as in a load
SELECT etl_pull.set_table_option('plan_new', 'pg_settings', 'etl_pull.stream_threshold_mb=100');
SELECT item, detail FROM etl_pull.plan('plan_new', 0) WHERE section = 'strategy';
-- and nothing was created, recorded or remembered
SELECT to_regclass('public.plan_new') AS target,
       (SELECT count(*) FROM etl_pull.runs WHERE table_name = 'plan_new') AS runs,
       (SELECT count(*) FROM etl_pull.source_columns WHERE table_name = 'plan_new') AS remembered;

-- an existing target with drift: the target and the source's columns as
-- last loaded are made by hand (the source has since widened name, added
-- a label to kind, gained extra, dropped gone, and changed code's type)
CREATE TABLE plan_drift (id integer PRIMARY KEY, name varchar(20), kind text NOT NULL,
                         code integer, gone integer, updated timestamp(0) NOT NULL);
SELECT etl_pull.add_table('plan_drift', server => 'replica');
SELECT etl_pull.set_table_option('plan_drift', 'extraction', 'incremental');
SELECT etl_pull.set_table_option('plan_drift', 'incremental_columns', 'updated');
SELECT etl_pull.set_table_option('plan_drift', 'strategy', 'copy');
INSERT INTO etl_pull.source_columns (table_name, columns, mysql_types, target_types)
VALUES ('plan_drift', '{id,name,kind,code,gone,updated}',
        '{"int(11) NOT NULL","varchar(20)","enum(''a'',''b'') NOT NULL","int(11)","int(11)","datetime NOT NULL"}',
        '{integer,"character varying(20)",text,integer,integer,"timestamp(0) without time zone"}');
INSERT INTO etl_pull.watermarks (table_name, columns, vals)
VALUES ('plan_drift', '{updated}', '{"2026-01-01 00:00:00"}');
SELECT section, item, detail FROM etl_pull.plan('plan_drift') WHERE section <> 'connection';
-- evolve would still refuse code's change; without it, it would alter
SELECT etl_pull.set_table_option('plan_drift', 'on_schema_change', 'evolve');
UPDATE etl_pull.source_columns SET mysql_types[4] = 'varchar(5)', target_types[4] = 'integer'
 WHERE table_name = 'plan_drift';
SELECT item, detail FROM etl_pull.plan('plan_drift', 0) WHERE section = 'schema';
-- the plan changed nothing
SELECT count(*) AS rows, (SELECT count(*) FROM etl_pull.watermarks) AS watermarks,
       (SELECT mysql_types[2] FROM etl_pull.source_columns WHERE table_name = 'plan_drift') AS remembered
  FROM plan_drift;
\d plan_drift

-- a view on a column to widen: evolve fails the load, and the plan says so
-- with the load's own message
CREATE VIEW plan_drift_names AS SELECT id, name FROM plan_drift;
SELECT item, detail FROM etl_pull.plan('plan_drift', 0)
 WHERE section = 'schema' AND item IN ('refused', 'on_schema_change');
SELECT rows FROM etl_pull.load_table('plan_drift');
DROP VIEW plan_drift_names;

-- a diff table: what its next run compares, or why it cannot
SELECT etl_pull.set_table_option('plan_drift', 'extraction', 'diff');
SELECT item, detail FROM etl_pull.plan('plan_drift', 0) WHERE section = 'extraction';
SELECT etl_pull.set_table_option('plan_new', 'extraction', 'diff');
SELECT item, detail FROM etl_pull.plan('plan_new', 0) WHERE section = 'extraction';
CREATE TABLE plan_parted (id integer NOT NULL, v integer) PARTITION BY RANGE (id);
CREATE TABLE plan_parted_all PARTITION OF plan_parted DEFAULT;
SELECT etl_pull.add_table('plan_parted', server => 'replica', source_table => 'plan_drift',
                          target_table => 'public.plan_parted');
SELECT etl_pull.set_table_option('plan_parted', 'extraction', 'diff');
SELECT item, detail FROM etl_pull.plan('plan_parted', 0) WHERE section = 'extraction';
-- and a load that would verify it fails: said so
SELECT etl_pull.set_table_option('plan_parted', 'extraction', 'full');
SELECT etl_pull.set_table_option('plan_parted', 'verify', 'count');
SELECT item, detail FROM etl_pull.plan('plan_parted', 0) WHERE section = 'extraction';
SELECT etl_pull.remove_table('plan_parted');
DROP TABLE plan_parted;
SELECT etl_pull.set_table_option('plan_drift', 'extraction', 'incremental');

-- a table with each hazard, in an existing target that cannot take them
CREATE TABLE plan_hazards (id integer PRIMARY KEY, d date NOT NULL, u integer, t time,
                           b text, nn varchar(10) NOT NULL);
SELECT etl_pull.add_table('plan_hazards', server => 'replica');
SELECT etl_pull.set_table_option('plan_hazards', 'strategy', 'stream');
SELECT item, detail FROM etl_pull.plan('plan_hazards') WHERE section IN ('column', 'hazard');
-- the load fails on them as the plan says
SELECT rows FROM etl_pull.load_table('plan_hazards');

-- a caller lacking privileges: told what is missing, not refused
\getenv myuser ETL_PULL_MYSQL_USER
\getenv mypassword ETL_PULL_MYSQL_PASSWORD
CREATE ROLE regress_plan_reader;
GRANT SELECT ON plan_drift TO regress_plan_reader;
SET ROLE regress_plan_reader;
SELECT section, item, detail FROM etl_pull.plan('plan_drift');
RESET ROLE;
GRANT USAGE ON FOREIGN SERVER replica TO regress_plan_reader;
SET ROLE regress_plan_reader;
SELECT section, item, detail FROM etl_pull.plan('plan_drift');
RESET ROLE;
CREATE USER MAPPING FOR regress_plan_reader SERVER replica
    OPTIONS (user :'myuser', password :'mypassword');
SET ROLE regress_plan_reader;
SELECT item, detail FROM etl_pull.plan('plan_drift', 0)
 WHERE section IN ('privileges', 'extraction', 'strategy');
RESET ROLE;
-- a reader of nothing sees no watermark values
REVOKE SELECT ON plan_drift FROM regress_plan_reader;
SET ROLE regress_plan_reader;
SELECT item, detail FROM etl_pull.plan('plan_drift', 0) WHERE section = 'extraction';
RESET ROLE;

-- an incremental table without a primary key: every load fails, the
-- plan says so (and how a run with one merges today)
SELECT etl_pull.add_table('plan_nokey', server => 'replica');
SELECT etl_pull.set_table_option('plan_nokey', 'extraction', 'incremental');
SELECT etl_pull.set_table_option('plan_nokey', 'incremental_columns', 'updated');
SELECT item, detail FROM etl_pull.plan('plan_nokey', 0)
 WHERE section = 'strategy' AND item = 'incremental' OR section = 'extraction' AND item = 'next run';
SELECT rows FROM etl_pull.load_table('plan_nokey');
-- append_only takes it: the plan says what the runs do
SELECT etl_pull.set_table_option('plan_nokey', 'append_only', 'true');
SELECT rows FROM etl_pull.load_table('plan_nokey');
SELECT item, detail FROM etl_pull.plan('plan_nokey', 0)
 WHERE section = 'strategy' AND item = 'incremental' OR section = 'extraction' AND item = 'next run';
SELECT etl_pull.remove_table('plan_nokey');
DROP TABLE plan_nokey;

-- a target schema that does not exist: a row saying the load fails, as it does
CREATE SCHEMA plan_gone;
SELECT etl_pull.add_table('plan_noschema', server => 'replica', source_table => 'plan_new',
                          target_table => 'plan_gone.plan_new');
DROP SCHEMA plan_gone;
SELECT section, item, detail FROM etl_pull.plan('plan_noschema', 0);
SELECT rows FROM etl_pull.load_table('plan_noschema');
SELECT etl_pull.remove_table('plan_noschema');

DROP USER MAPPING FOR regress_plan_reader SERVER replica;
REVOKE USAGE ON FOREIGN SERVER replica FROM regress_plan_reader;
DROP ROLE regress_plan_reader;
SELECT etl_pull.remove_table('plan_new');
SELECT etl_pull.remove_table('plan_drift');
SELECT etl_pull.remove_table('plan_hazards');
DROP TABLE plan_drift, plan_hazards;
