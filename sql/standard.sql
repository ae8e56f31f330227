--
-- The standard strategy (plain INSERTs) and when auto falls back to it
--
SELECT etl_pull.set_table_option('periomeasure', 'target_table', NULL);
SELECT etl_pull.set_table_option('periomeasure', 'strategy', 'standard');
SELECT strategy, rows FROM etl_pull.load_table('periomeasure');
SELECT count(*) FROM periomeasure;

-- a target with a trigger: auto takes the standard path, and the trigger fires
CREATE TABLE perio_audit (n bigint);
CREATE FUNCTION perio_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE perio_audit SET n = n + 1;
    RETURN NEW;
END $$;
INSERT INTO perio_audit VALUES (0);
CREATE TRIGGER perio_count BEFORE INSERT ON periomeasure
    FOR EACH ROW EXECUTE FUNCTION perio_count();
SELECT etl_pull.set_table_option('periomeasure', 'strategy', 'auto');
SELECT strategy, rows FROM etl_pull.load_table('periomeasure');
SELECT strategy_reason FROM etl_pull.runs ORDER BY run_id DESC LIMIT 1;
SELECT n FROM perio_audit;
-- stream refuses a target it would bypass the trigger of
SELECT etl_pull.set_table_option('periomeasure', 'strategy', 'stream');
SELECT strategy, rows FROM etl_pull.load_table('periomeasure');
DROP TRIGGER perio_count ON periomeasure;
DROP FUNCTION perio_count();
DROP TABLE perio_audit;

-- a partitioned target
CREATE TABLE perio_parts (LIKE periomeasure) PARTITION BY RANGE (periomeasurenum);
CREATE TABLE perio_parts_1 PARTITION OF perio_parts FOR VALUES FROM (MINVALUE) TO (5000);
CREATE TABLE perio_parts_2 PARTITION OF perio_parts FOR VALUES FROM (5000) TO (MAXVALUE);
SELECT etl_pull.add_table('perio_parts', server => 'replica', source_table => 'periomeasure');
SELECT strategy, rows FROM etl_pull.load_table('perio_parts');
SELECT strategy_reason FROM etl_pull.runs ORDER BY run_id DESC LIMIT 1;
SELECT count(*) FROM perio_parts_1;
SELECT count(*) FROM perio_parts_2;

-- strategies not in this version say so
SELECT etl_pull.set_table_option('periomeasure', 'strategy', 'parallel');
SELECT strategy, rows FROM etl_pull.load_table('periomeasure');
SELECT etl_pull.set_table_option('periomeasure', 'strategy', 'auto');
