#!/bin/bash
# The stream's memory stays bounded for a source transaction of many rows (issue 27, "Bounded"):
# a periomeasure-like MyISAM table of 200,000 rows streamed, then one UPDATE of every row and
# one DELETE of every row, each a single statement (one group of the binary log, one
# transaction of 200,000 row images); while the worker applies each, its private memory
# (RssAnon of /proc/PID/status) is sampled, and its peak must stay within a generous bound of
# what it used before (a worker that kept anything per row, the decoded images or the
# converted values, would need well over that).  The targets equal the sources afterwards.
# The UPDATE changes no indexed column and the target has room on its pages: the stream's
# updates are HOT, as PostgreSQL's own would be (its indexes do not grow).
source "$(dirname "$0")/../tap.sh"

ROWS=200000
BOUND_MB=48

tap_own_mariadb --log-bin --binlog-format=ROW --binlog-row-metadata=FULL --server-id=116
tap_setup_db etl_tap_stream_memory
tap_own_mysql_server rowlog
# the stream stopped however the test ends, before its MariaDB is: a worker left retrying a
# server that is gone would linger in the shared cluster for the tests after this one
stop_stream() {
	q "SELECT etl_pull.stop_stream('g')" >/dev/null 2>&1
}
tap_on_exit stop_stream
{
	echo "SET @rows = $ROWS; SET SESSION sql_log_bin = 0;"
	sed 's/ENGINE=InnoDB/ENGINE=MyISAM/' "$ETL_PULL_REPO/test/fixtures/periomeasure.sql"
} | tap_own_mysql etl_test

src_rows() {
	tap_own_mysql -N etl_test -e "SELECT COUNT(*), SUM(ToothValue), SUM(PerioMeasureNum * MBvalue),
		MAX(SecDateTEdit) FROM periomeasure" | tr '\t' ' '
}
dst_rows() {
	q "SELECT count(*) || ' ' || coalesce(sum(toothvalue)::text, 'NULL') || ' ' ||
	          coalesce(sum(periomeasurenum * mbvalue)::text, 'NULL') || ' ' ||
	          coalesce(to_char(max(secdatetedit) AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS'), 'NULL')
	     FROM public.periomeasure"
}

q "SELECT etl_pull.add_table('periomeasure', server => 'rowlog'),
          etl_pull.set_table_option('periomeasure', 'extraction', 'binlog'),
          etl_pull.set_table_option('periomeasure', 'indexes', 'all'),
          etl_pull.set_table_option('periomeasure', 'load_group', 'g')" >/dev/null
like "$(q "SELECT etl_pull.start_stream('g')")" '^[0-9]+$' "the stream starts"
tap_stream_caught_up g 120
ok $? "it snapshots $ROWS rows and catches up"
pid=$(q "SELECT worker_pid FROM etl_pull.streams WHERE load_group = 'g'")

# rss: the worker's private memory now, in kB
rss() {
	awk '/^RssAnon:/ { print $2 }' "/proc/$pid/status"
}

# caught_up: whether the stream stands at the end of the source's binary log now (and stop
# waiting, failing, when the stream failed)
caught_up() {
	local at
	at=$(q "SELECT state || ' ' || binlog_file || ' ' || binlog_offset FROM etl_pull.streams
	         WHERE load_group = 'g'")
	[[ $at == failed* ]] && { echo "# the stream failed: $(q "SELECT last_error FROM etl_pull.streams")" >&2; return 0; }
	[ "$at" = "streaming $(tap_own_mysql -N -e "SHOW MASTER STATUS" | awk '{print $1 " " $2}')" ]
}

# applied STATEMENT: run it at the source, sample the worker's memory until the stream has
# applied it (at most 300 s); prints "growth_kB samples" (the peak over the memory before)
applied() {
	local base peak=0 n=0 v i
	base=$(rss)
	tap_own_mysql etl_test -e "$1"
	for ((i = 0; i < 6000; i++)); do
		v=$(rss) || break
		[ "$v" -gt "$peak" ] && peak=$v
		n=$((n + 1))
		caught_up && break
		sleep 0.05
	done
	echo "$((peak - base)) $n"
}

# Room on every page (fillfactor 50), so that PostgreSQL can make each update HOT: the UPDATE
# below changes no indexed column, and the merge must leave the index entries alone
q "ALTER TABLE public.periomeasure SET (fillfactor = 50)" >/dev/null
q "VACUUM FULL public.periomeasure" >/dev/null
sizes() {
	q "SELECT string_agg(pg_relation_size(i.indexrelid)::text, ',' ORDER BY i.indexrelid)
	     FROM pg_index i WHERE i.indrelid = 'public.periomeasure'::regclass"
}
sizes_before=$(sizes)

changes=$(q "SELECT changes_applied FROM etl_pull.streams")
read -r grew samples < <(applied "UPDATE periomeasure SET ToothValue = ToothValue + 1, MBvalue = (MBvalue + 1) MOD 10")
echo "# UPDATE of $ROWS rows: the worker's private memory grew by $((grew / 1024)) MB at most ($samples samples)"
[ "$samples" -gt 1 ]
ok $? "the worker's memory is sampled while it applies"
[ "$grew" -lt $((BOUND_MB * 1024)) ]
ok $? "one UPDATE of $ROWS rows: the worker's memory grows by less than $BOUND_MB MB"
is "$(dst_rows)" "$(src_rows)" "the target equals the source after the UPDATE"
is "$(q "SELECT changes_applied - $changes FROM etl_pull.streams")" "$ROWS" "each row applied once"
is "$(sizes)" "$sizes_before" "no indexed column changed: the updates were HOT, the indexes did not grow"

read -r grew samples < <(applied "DELETE FROM periomeasure")
echo "# DELETE of $ROWS rows: the worker's private memory grew by $((grew / 1024)) MB at most ($samples samples)"
[ "$grew" -lt $((BOUND_MB * 1024)) ]
ok $? "one DELETE of $ROWS rows: the worker's memory grows by less than $BOUND_MB MB"
is "$(dst_rows)" "0 NULL NULL NULL" "the target is empty after the DELETE"
is "$(q "SELECT state FROM etl_pull.streams")" "streaming" "the stream goes on"
q "SELECT etl_pull.stop_stream('g')" >/dev/null
is "$(q "SELECT count(*) FROM pg_stat_activity WHERE backend_type LIKE 'etl_pull%'")" "0" \
	"stop_stream leaves no worker"

done_testing
