#!/bin/bash
# The crash drill, in short form (issue 27, "Exactly once, across any crash"): while a writer
# changes the source all the time (log appends, in-place edits of which some leave the stamp
# alone, hard deletes, multi-row statements, multi-statement transfers between two InnoDB rows),
# the stream is killed at random moments: kill -9 of its worker (the postmaster's crash restart)
# and immediate shutdowns of the whole PostgreSQL, CRASH_DRILL_KILLS times (default 6; the
# benchmark's drill is 20).  etl_pull is in shared_preload_libraries: the launcher starts the
# stream again each time.  Afterwards, the writer stopped and the stream caught up, every table
# equals its source by an independent digest of each side (MariaDB's own MD5 of its rows, and
# PostgreSQL's of the target's, not etl_pull's code) and by etl_pull.verify_table; the transfers'
# sum holds; and the stream applied each change once (the log's row count equals the source's).
source "$(dirname "$0")/../tap.sh"

KILLS=${CRASH_DRILL_KILLS:-6}

tap_own_mariadb --log-bin --binlog-format=ROW --binlog-row-metadata=FULL --server-id=121
tap_own_cluster
echo "shared_preload_libraries = 'pg_cron,etl_pull'" >>"$ETL_PULL_PGDATA/postgresql.conf"
pg_restart() {
	etl_as postgres "$ETL_PG_BIN/pg_ctl" -D "$ETL_PULL_PGDATA" -w -t 60 restart \
		-l "$ETL_PULL_PGLOG" "$@" >/dev/null
}
pg_restart
tap_setup_db etl_tap_crash_drill
tap_own_mysql_server rowlog
tap_own_mysql etl_test -e "
	CREATE TABLE cd_log (id int NOT NULL AUTO_INCREMENT PRIMARY KEY, msg varchar(100) NOT NULL,
	  at datetime(6) NOT NULL) ENGINE = MyISAM;
	CREATE TABLE cd_acct (id int NOT NULL PRIMARY KEY, balance decimal(12,2) NOT NULL,
	  note char(1) NOT NULL, stamp timestamp(6) NOT NULL DEFAULT '2024-01-01 00:00:00'
	  ON UPDATE CURRENT_TIMESTAMP(6)) ENGINE = MyISAM;
	CREATE TABLE cd_pair (id int NOT NULL PRIMARY KEY, amount int NOT NULL) ENGINE = InnoDB;
	INSERT INTO cd_log (msg, at) SELECT CONCAT('seed ', seq), '2024-01-01' FROM seq_1_to_2000;
	INSERT INTO cd_acct (id, balance, note) SELECT seq, seq * 1.5, CHAR(65 + seq % 26)
	  FROM seq_1_to_3000;
	INSERT INTO cd_pair VALUES (1, 50000), (2, 50000);
	DELIMITER //
	CREATE PROCEDURE cd_writer(n int)
	BEGIN
	  DECLARE i int DEFAULT 0;
	  DECLARE k int;
	  WHILE i < n AND NOT EXISTS (SELECT 1 FROM cd_stop) DO
	    SET k = 1 + (i * 7919) % 3000;
	    INSERT INTO cd_log (msg, at) VALUES (CONCAT('w ', i), SYSDATE(6));
	    CASE i % 5
	      WHEN 0 THEN UPDATE cd_acct SET balance = balance + 1 WHERE id = k;
	      WHEN 1 THEN UPDATE cd_acct SET note = CHAR(65 + i % 26), stamp = stamp WHERE id = k;
	      WHEN 2 THEN DELETE FROM cd_acct WHERE id = k;
	      WHEN 3 THEN INSERT INTO cd_acct (id, balance, note) VALUES (k, i, 'N')
	                  ON DUPLICATE KEY UPDATE balance = balance - 1;
	      ELSE UPDATE cd_acct SET balance = balance + 0.25 WHERE id BETWEEN k AND k + 20;
	    END CASE;
	    START TRANSACTION;
	    UPDATE cd_pair SET amount = amount - 7 WHERE id = 1 + i % 2;
	    UPDATE cd_pair SET amount = amount + 7 WHERE id = 2 - i % 2;
	    COMMIT;
	    DO SLEEP(0.005);
	    SET i = i + 1;
	  END WHILE;
	END//
	DELIMITER ;
	CREATE TABLE cd_stop (x int) ENGINE = MyISAM;"
for t in cd_log cd_acct cd_pair; do
	q "SELECT etl_pull.add_table('$t', server => 'rowlog'),
	          etl_pull.set_table_option('$t', 'extraction', 'binlog'),
	          etl_pull.set_table_option('$t', 'load_group', 'drill')" >/dev/null
done

# Each side's digest of a table, computed by that side's own SQL
src_digest() {
	case $1 in
	cd_log) tap_own_mysql -N etl_test -e "SET SESSION group_concat_max_len = 1 << 30;
		SELECT COUNT(*), MD5(GROUP_CONCAT(CONCAT_WS('|', id, msg, DATE_FORMAT(at, '%Y-%m-%d %H:%i:%s.%f'))
		  ORDER BY id)) FROM cd_log" ;;
	cd_acct) tap_own_mysql -N etl_test -e "SET SESSION group_concat_max_len = 1 << 30, time_zone = '+00:00';
		SELECT COUNT(*), MD5(GROUP_CONCAT(CONCAT_WS('|', id, balance, note,
		  DATE_FORMAT(stamp, '%Y-%m-%d %H:%i:%s.%f')) ORDER BY id)) FROM cd_acct" ;;
	cd_pair) tap_own_mysql -N etl_test -e "SET SESSION group_concat_max_len = 1 << 30;
		SELECT COUNT(*), MD5(GROUP_CONCAT(CONCAT_WS('|', id, amount) ORDER BY id)) FROM cd_pair" ;;
	esac | tr '\t' ' '
}
dst_digest() {
	case $1 in
	cd_log) q "SELECT count(*) || ' ' || md5(string_agg(concat_ws('|', id, msg,
		  to_char(at, 'YYYY-MM-DD HH24:MI:SS.US')), ',' ORDER BY id)) FROM public.cd_log" ;;
	cd_acct) q "SET TIME ZONE 'UTC'; SELECT count(*) || ' ' || md5(string_agg(concat_ws('|', id,
		  balance, note, to_char(stamp, 'YYYY-MM-DD HH24:MI:SS.US')), ',' ORDER BY id))
		  FROM public.cd_acct" | tail -1 ;;
	cd_pair) q "SELECT count(*) || ' ' || md5(string_agg(concat_ws('|', id, amount), ',' ORDER BY id))
		  FROM public.cd_pair" ;;
	esac
}
# wait (up to 60 s) for PostgreSQL to answer and a worker other than "$1" to stream again
wait_worker() {
	local i pid
	for ((i = 0; i < 600; i++)); do
		pid=$(q "SELECT worker_pid FROM etl_pull.streams WHERE state = 'streaming'" 2>/dev/null)
		[[ $pid =~ ^[0-9]+$ ]] && [ "$pid" != "$1" ] && return 0
		sleep 0.1
	done
	return 1
}

like "$(q "SELECT etl_pull.start_stream('drill')")" '^[0-9]+$' "the stream starts"
tap_stream_caught_up drill 60
ok $? "and catches up"

# the writer runs all through the drill (stopped by a row in cd_stop)
tap_own_mysql etl_test -e "CALL cd_writer(1000000)" &
writer=$!
stop_writer() {
	tap_own_mysql etl_test -e "INSERT INTO cd_stop VALUES (1)" 2>/dev/null
	wait "$writer" 2>/dev/null
}
tap_on_exit stop_writer
sleep 1

came_back=0
for ((n = 1; n <= KILLS; n++)); do
	# a random moment: 0.2 to 2.2 s after the stream is back
	sleep "$(awk -v r="$RANDOM" 'BEGIN { printf "%.2f", 0.2 + (r % 2000) / 1000 }')"
	pid=$(q "SELECT worker_pid FROM etl_pull.streams")
	if ((n % 3 == 0)); then
		echo "# kill $n: PostgreSQL stopped immediately (as by a crash) and started again"
		pg_restart -m immediate
	else
		echo "# kill $n: kill -9 of the stream's worker ($pid)"
		kill -9 "$pid"
	fi
	wait_worker "$pid" && came_back=$((came_back + 1))
done
is "$came_back" "$KILLS" "after each of the $KILLS kills the stream came back by itself"
writes=$(tap_own_mysql -N etl_test -e "SELECT COUNT(*) FROM cd_log WHERE msg LIKE 'w %'")
echo "# the writer's rounds during the drill: $writes (each: an append, an edit, a transfer)"
[ "$writes" -gt 100 ]
ok $? "the writer kept writing through the drill"

stop_writer
tap_stream_caught_up drill 120
ok $? "the writer stopped, the stream catches up"
is "$(q "SELECT state FROM etl_pull.streams")" "streaming" "and is streaming"
for t in cd_log cd_acct cd_pair; do
	is "$(dst_digest $t)" "$(src_digest $t)" "$t equals its source (each side's own digest)"
	is "$(q "SELECT status FROM etl_pull.verify_table('$t')")" "equal" "$t: verify_table says equal"
done
is "$(q "SELECT sum(amount) FROM public.cd_pair")" "100000" "the transfers' sum holds"
is "$(q "SELECT count(*) FROM public.cd_log")" \
	"$(tap_own_mysql -N etl_test -e "SELECT COUNT(*) FROM cd_log")" \
	"every append applied once (no row twice, none lost: the log's keys are unique, its count equal)"
is "$(q "SELECT etl_pull.stop_stream('drill')")" "t" "stop_stream"

done_testing
