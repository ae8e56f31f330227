# The row comparison (load/rowdiff.c, issue 28): a diff run of a MyISAM table with a single
# integer key reads the source's rows in key-range statements and compares them on our side,
# writing only what differs (an edit that left the stamp alone, a hard delete, an insert), with
# the counts a diff run records; MariaDB's general log shows row reads in key ranges and no CRC32
# aggregate (which the range-hash path, still there with etl_pull.enable_optimizations = off,
# sends); the re-check passes of a full load under a concurrent writer compare so too, and the
# target ends equal to the source.
source "$(dirname "$0")/../tap.sh"
tap_setup_db etl_tap_rowdiff

ROWS=300000
read -r old_log_output old_general_log < <(etl_mysql -N -e 'SELECT @@GLOBAL.log_output, @@GLOBAL.general_log')
etl_mysql -e "
	DROP TABLE IF EXISTS rd_t, rd_ctl;
	DROP PROCEDURE IF EXISTS rd_writer;
	CREATE TABLE rd_t (id int NOT NULL AUTO_INCREMENT PRIMARY KEY, val int NOT NULL,
	  note varchar(200), updated datetime(6) NOT NULL) ENGINE = MyISAM;
	INSERT INTO rd_t (id, val, note, updated)
	  SELECT seq, seq % 1000, REPEAT(CHAR(65 + seq % 26), 100), '2024-01-01 00:00:00' + INTERVAL seq SECOND
	    FROM seq_1_to_$ROWS;
	CREATE TABLE rd_ctl (k varchar(10) PRIMARY KEY, v int) ENGINE = InnoDB;"
# rd_writer(n): n writes 10 ms apart: updates that leave the stamp alone, inserts, deletes
etl_mysql -e "
	DELIMITER //
	CREATE PROCEDURE rd_writer(n int)
	BEGIN
	  DECLARE i int DEFAULT 0;
	  WHILE i < n DO
	    IF i % 3 = 0 THEN
	      UPDATE rd_t SET val = val + 1 WHERE id = 1 + (i * 7919) % $ROWS;
	    ELSEIF i % 3 = 1 THEN
	      INSERT INTO rd_t (val, note, updated) VALUES (i, 'new', SYSDATE(6));
	    ELSE
	      DELETE FROM rd_t WHERE id = 1 + (i * 104729) % $ROWS;
	    END IF;
	    DO SLEEP(0.01);
	    SET i = i + 1;
	  END WHILE;
	END//"
cleanup() {
	etl_mysql -e "SET GLOBAL general_log = $old_general_log; SET GLOBAL log_output = '$old_log_output';
		DROP TABLE IF EXISTS rd_t, rd_ctl; DROP PROCEDURE IF EXISTS rd_writer" 2>/dev/null
}
tap_on_exit cleanup

notes() { q "SELECT notes FROM etl_pull.runs WHERE table_name = '$1' ORDER BY run_id DESC LIMIT 1"; }
# statements etl_pull sent about rd_t since the log was cleared, matching the regular expression $1
logged() {
	etl_mysql -N -e "SELECT COUNT(*) FROM mysql.general_log
		WHERE command_type IN ('Query', 'Execute', 'Prepare') AND CONVERT(argument USING utf8mb4) LIKE '%rd\\_t%'
		  AND CONVERT(argument USING utf8mb4) REGEXP '$1'"
}
log_on() { etl_mysql -e "SET GLOBAL log_output = 'TABLE'; SET GLOBAL general_log = ON; TRUNCATE mysql.general_log"; }
log_off() { etl_mysql -e "SET GLOBAL general_log = OFF"; }

q "SELECT etl_pull.add_table('rd_t', server => 'replica');
   SELECT etl_pull.set_table_option('rd_t', 'extraction', 'diff')" >/dev/null
is "$(q "SELECT extraction || ' ' || rows FROM etl_pull.load_table('rd_t')")" "full $ROWS" "the first diff run is a full load"

# ---- an edit that leaves the stamp alone, a hard delete, an insert
etl_mysql -e "UPDATE rd_t SET note = 'edited' WHERE id = 1234;
	DELETE FROM rd_t WHERE id = 150000;
	INSERT INTO rd_t (id, val, note, updated) VALUES ($((ROWS + 7)), 1, 'added', '2024-06-01')"
log_on
is "$(q "SELECT extraction || ' ' || rows || ' ' || merged_rows || ' ' || deleted_rows FROM etl_pull.load_table('rd_t')")" \
	"diff $ROWS 2 1" "a diff run reads every row ($ROWS), updates one and inserts one (merged 2), deletes one"
log_off
is "$(pg_digest rd_t)" "$(mysql_digest rd_t)" "the target equals the source"
like "$(notes rd_t)" "diff: compared row by row: 1 rows missing, 1 different, 1 gone, of $ROWS source rows read in [0-9]+ statements" \
	"its notes say the rows were compared row by row, and what differed"
reads=$(logged 'FORCE INDEX \\(PRIMARY\\).* ORDER BY `id` LIMIT')
ok $([ "$reads" -ge 2 ] && echo 0 || echo 1) "MariaDB's general log shows the rows read in key-range statements ($reads)"
is "$(logged 'CRC32.*FROM [^ ]*`rd_t`')" "0" "and no CRC32 aggregate: MariaDB hashed no row"
like "$(q "SELECT strategy_reason FROM etl_pull.runs WHERE table_name = 'rd_t' ORDER BY run_id DESC LIMIT 1")" \
	"row by row for a single integer key" "the run's strategy_reason says how it compares"

# the same change found by the range hashes (enable_optimizations = off): the log's check tells
# the two paths apart
etl_mysql -e "UPDATE rd_t SET note = 'edited again' WHERE id = 1234; DELETE FROM rd_t WHERE id = 150001"
log_on
is "$(q "SET etl_pull.enable_optimizations = off;
         SELECT merged_rows || ' ' || deleted_rows FROM etl_pull.load_table('rd_t')" | tail -n 1)" \
	"1 1" "with etl_pull.enable_optimizations = off the range hashes find the same"
log_off
ok $([ "$(logged 'CRC32.*FROM [^ ]*`rd_t`')" -gt 0 ] && echo 0 || echo 1) "... and MariaDB's general log shows their CRC32 aggregates"
like "$(notes rd_t)" "diff: range hashes, not compared row by row: etl_pull.enable_optimizations is off" \
	"its notes say why it compared by hash"
is "$(pg_digest rd_t)" "$(mysql_digest rd_t)" "the target equals the source"

# ---- a source row the load rejects (on_error = reject): its key is unknown, so the target rows
# around it are kept, not deleted; the others still compared
q "SELECT etl_pull.set_table_option('rd_t', 'on_error', 'reject');
   SELECT etl_pull.set_table_option('rd_t', 'zero_dates', 'error')" >/dev/null
etl_mysql -e "SET SESSION sql_mode = ''; UPDATE rd_t SET updated = '0000-00-00 00:00:00' WHERE id = 500;
	DELETE FROM rd_t WHERE id = 501; UPDATE rd_t SET val = -1 WHERE id = 90000"
is "$(q "SELECT rejected_rows || ' ' || merged_rows || ' ' || deleted_rows FROM etl_pull.load_table('rd_t')")" "1 1 0" \
	"a row rejected: the other change merged, nothing deleted around the rejected row"
is "$(q "SELECT count(*) FROM rd_t WHERE id IN (500, 501)")" "2" \
	"the target keeps its rows where the rejected row lay (its key unknown), the deleted one next to it too"
etl_mysql -e "UPDATE rd_t SET updated = '2024-01-01' WHERE id = 500"
is "$(q "SELECT rejected_rows || ' ' || merged_rows || ' ' || deleted_rows FROM etl_pull.load_table('rd_t')")" "0 1 1" \
	"the row fixed at the source, the next run updates it and deletes the row gone next to it"
q "SELECT etl_pull.set_table_option('rd_t', 'on_error', NULL);
   SELECT etl_pull.set_table_option('rd_t', 'zero_dates', NULL)" >/dev/null
is "$(pg_digest rd_t)" "$(mysql_digest rd_t)" "the target equals the source"

# ---- a target the C merge cannot write (a trigger): range hashes, and the run says why
q "CREATE FUNCTION public.rd_noop() RETURNS trigger LANGUAGE plpgsql AS \$\$ BEGIN RETURN NEW; END \$\$;
   CREATE TRIGGER rd_noop BEFORE UPDATE ON public.rd_t FOR EACH ROW EXECUTE FUNCTION public.rd_noop()" >/dev/null
etl_mysql -e "UPDATE rd_t SET val = val + 1 WHERE id = 99"
is "$(q "SELECT merged_rows || ' ' || deleted_rows FROM etl_pull.load_table('rd_t')")" "1 0" \
	"a target with a trigger: the changed row merged"
like "$(notes rd_t)" "diff: range hashes, not compared row by row: table public.rd_t cannot be merged row by row because it has triggers" \
	"by range hashes, its notes say why"
q "DROP TRIGGER rd_noop ON public.rd_t" >/dev/null

# ---- a full load under a concurrent writer: its re-check passes compare row by row, and the
# target ends equal to the source (the writer ends within the read, before the second pass,
# which the two passes promise exactness for)
q "SELECT etl_pull.set_table_option('rd_t', 'extraction', 'full');
   SELECT etl_pull.set_table_option('rd_t', 'skip_unchanged', 'off')" >/dev/null
etl_mysql -e "CALL rd_writer(40)" &
w=$!
sleep 0.2
st=$(q "SELECT status FROM etl_pull.load_table('rd_t')")
wait "$w"
like "$st" "^succeeded" "a full load while rows are edited (stamp untouched), inserted and deleted"
like "$(notes rd_t)" "settle pass 1: compared row by row: [0-9]+ rows missing, [0-9]+ different, [0-9]+ gone, of [0-9]+ source rows" \
	"its re-check pass compared the rows row by row"
# the load's rows are those of its read, not the passes' reads too
ok $([ "$(q "SELECT rows FROM etl_pull.runs WHERE table_name = 'rd_t' ORDER BY run_id DESC LIMIT 1")" -le $((ROWS + 200)) ] && echo 0 || echo 1) \
	"the run's rows count the load's read only"
is "$(pg_digest rd_t)" "$(mysql_digest rd_t)" "the target equals the source after the writer"

done_testing
