#!/bin/bash
# The binary log's stream over TLS (issue 27, item 7: the replication connection uses the
# server's TLS settings).  The test makes a certificate authority, a second one that signed
# nothing of ours and a server certificate for 127.0.0.1 with openssl, and starts a MariaDB of its
# own that logs in row format and speaks TLS, with a user that must use TLS (REQUIRE SSL) and may
# read the binary log.  etl_pull.binlog_events (whose first connection is the replication one)
# reads the log with ssl_mode verify_identity and the right CA, and fails with MySQL's TLS error
# with the wrong CA (verify_identity and verify_ca); a client without TLS is refused; a stream snapshots and follows
# inserts, updates and deletes over TLS, the dump at MariaDB being that user's (so encrypted);
# with the wrong CA, start_stream refuses at once, and a running stream whose connections are cut
# fails in its worker with the TLS error in etl_pull.streams, applies nothing, and goes on by
# itself once the right CA is back.
source "$(dirname "$0")/../tap.sh"

C=$TESTDIR/tls_118
rm -rf "$C"
mkdir -p "$C"
chmod 755 "$C"
PW="tls-stream-pw-$$"
make_ca() { # NAME CN
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=$2" \
		-keyout "$C/$1.key" -out "$C/$1.pem" 2>/dev/null
}
make_ca ca "etl_pull stream test CA" && make_ca wrong_ca "some other CA" &&
	openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" \
		-keyout "$C/server.key" -out "$C/server.csr" 2>/dev/null &&
	openssl x509 -req -in "$C/server.csr" -CA "$C/ca.pem" -CAkey "$C/ca.key" -CAcreateserial \
		-days 2 -out "$C/server.pem" -extfile <(printf 'subjectAltName=IP:127.0.0.1\n') 2>/dev/null
ok $? "openssl made the authorities and the server's certificate"
chown mysql "$C/server.key"
chmod 600 "$C"/*.key
chmod 644 "$C"/*.pem

# the suite's options say --skip-ssl; the certificate options after it turn TLS on again
tap_own_mariadb --log-bin --binlog-format=ROW --binlog-row-metadata=FULL --server-id=118 \
	--ssl --ssl-ca="$C/ca.pem" --ssl-cert="$C/server.pem" --ssl-key="$C/server.key"
is "$(tap_own_mysql -N -e "SELECT @@have_ssl, @@binlog_format")" "YES	ROW" \
	"the test's MariaDB speaks TLS and logs in row format"
tap_own_mysql etl_test <<-SQL
	CREATE USER 'tls_repl'@'127.0.0.1' IDENTIFIED BY '$PW' REQUIRE SSL;
	GRANT SELECT, RELOAD, REPLICATION SLAVE, BINLOG MONITOR ON *.* TO 'tls_repl'@'127.0.0.1';
	CREATE TABLE etl_test.st (id int NOT NULL PRIMARY KEY, val varchar(20)) ENGINE = MyISAM;
	INSERT INTO etl_test.st SELECT seq, CONCAT('v', seq) FROM seq_1_to_100;
SQL

tap_setup_db etl_tap_stream_tls
etl_psql -q -d "$TAP_DB" -v port="$TAP_MYSQL_PORT" -v pw="$PW" -v ca="$C/ca.pem" <<-'SQL' >/dev/null
	CREATE SERVER tlslog FOREIGN DATA WRAPPER etl_pull
	    OPTIONS (host '127.0.0.1', port :'port', dbname 'etl_test',
	             ssl_mode 'verify_identity', ssl_ca :'ca');
	CREATE USER MAPPING FOR postgres SERVER tlslog OPTIONS (user 'tls_repl', password :'pw');
	SELECT etl_pull.add_table('st', server => 'tlslog', target_table => 'public.st');
	SELECT etl_pull.set_table_option('st', 'extraction', 'binlog');
	SELECT etl_pull.set_table_option('st', 'load_group', 'tg');
SQL
server() { # OPTIONS for ALTER SERVER tlslog
	q "ALTER SERVER tlslog OPTIONS ($1)" >/dev/null
}
errors() { # the ERROR and DETAIL lines of psql's output, joined
	grep -aE '^(ERROR|DETAIL):' | tr '\n' '|'
}
src_rows() {
	tap_own_mysql -N etl_test -e "SELECT COUNT(*), MD5(GROUP_CONCAT(CONCAT_WS('|', id, val) ORDER BY id SEPARATOR ';')) FROM st" |
		tr '\t' ' '
}
dst_rows() {
	q "SELECT count(*) || ' ' || md5(string_agg(concat_ws('|', id, val), ';' ORDER BY id)) FROM public.st"
}
dump_users() { # the users of the binary log dumps at MariaDB
	tap_own_mysql -N -e "SELECT IFNULL(GROUP_CONCAT(DISTINCT USER), '') FROM information_schema.PROCESSLIST
		WHERE COMMAND LIKE 'Binlog Dump%'"
}
CERT_ERROR="DETAIL:  MySQL error 2026: TLS/SSL error: self-signed certificate in certificate chain|"
FILE=$(tap_own_mysql -N -e "SHOW BINARY LOGS" | awk 'NR == 1 { print $1 }')

# ---- the replication connection alone (binlog_events opens it first)
like "$(q "SELECT count(*) > 0 FROM etl_pull.binlog_events('tlslog', '$FILE', 4, 5)")" "^t$" \
	"binlog_events reads the log over TLS, verify_identity with the right CA"
server "SET ssl_ca '$C/wrong_ca.pem'"
is "$(q "SELECT count(*) FROM etl_pull.binlog_events('tlslog', '$FILE', 4, 5)" | errors)" \
	"ERROR:  could not connect to MySQL server \"tlslog\"|$CERT_ERROR" \
	"binlog_events with a CA that did not sign the server's certificate fails with MySQL's TLS error"
server "SET ssl_mode 'verify_ca'"
is "$(q "SELECT count(*) FROM etl_pull.binlog_events('tlslog', '$FILE', 4, 5)" | errors)" \
	"ERROR:  could not connect to MySQL server \"tlslog\"|$CERT_ERROR" \
	"and so with verify_ca"
like "$(mariadb --no-defaults --skip-ssl -h 127.0.0.1 -P "$TAP_MYSQL_PORT" -u tls_repl -p"$PW" \
		-N -e "SELECT 1" 2>&1)" "Access denied for user 'tls_repl'" \
	"a client without TLS is refused the user that must use TLS (the test's premise)"
server "SET ssl_mode 'verify_identity', SET ssl_ca '$C/ca.pem'"

# ---- a stream over TLS
pid=$(q "SELECT etl_pull.start_stream('tg')")
like "$pid" '^[0-9]+$' "start_stream over TLS starts the worker"
tap_stream_caught_up tg 60
ok $? "the stream snapshots its table and catches up"
tap_own_mysql etl_test -e "INSERT INTO st VALUES (101, 'new'), (102, 'newer');
	UPDATE st SET val = 'edited' WHERE id BETWEEN 10 AND 19;
	DELETE FROM st WHERE id BETWEEN 50 AND 59"
tap_stream_caught_up tg 60
ok $? "the stream applies the inserts, updates and deletes"
is "$(dst_rows)" "$(src_rows)" "the target equals the source"
is "$(dump_users)" "tls_repl" "the binary log's dump at MariaDB is the user that must use TLS"

# ---- the wrong CA: start_stream refuses at once
q "SELECT etl_pull.stop_stream('tg')" >/dev/null
server "SET ssl_mode 'verify_ca', SET ssl_ca '$C/wrong_ca.pem'"
is "$(q "SELECT etl_pull.start_stream('tg')" | errors)" \
	"ERROR:  could not connect to MySQL server \"tlslog\"|$CERT_ERROR" \
	"start_stream with the wrong CA fails with MySQL's TLS error"

# ---- the wrong CA while the stream runs: its worker reconnects, fails, applies nothing
server "SET ssl_mode 'verify_identity', SET ssl_ca '$C/ca.pem'"
q "SELECT etl_pull.start_stream('tg')" >/dev/null
tap_stream_caught_up tg 60
ok $? "the stream runs again with the right CA"
server "SET ssl_mode 'verify_ca', SET ssl_ca '$C/wrong_ca.pem'"
before=$(dst_rows)
for id in $(tap_own_mysql -N -e "SELECT ID FROM information_schema.PROCESSLIST WHERE USER = 'tls_repl'"); do
	tap_own_mysql -e "KILL $id" 2>/dev/null
done
for ((i = 0; i < 200; i++)); do
	[ "$(q "SELECT state FROM etl_pull.streams WHERE last_error LIKE '%certificate%'")" = failed ] && break
	sleep 0.1
done
like "$(q "SELECT state || ' ' || last_error FROM etl_pull.streams")" \
	"^failed could not connect to MySQL server \"tlslog\".*MySQL error 2026: TLS/SSL error: self-signed certificate in certificate chain" \
	"the worker fails with MySQL's TLS error, shown in etl_pull.streams"
tap_own_mysql etl_test -e "INSERT INTO st VALUES (103, 'unseen'); DELETE FROM st WHERE id = 1"
sleep 3 # a retry or two, with the wrong CA still
is "$(q "SELECT state FROM etl_pull.streams")" "failed" "the stream stays failed while the CA is wrong"
is "$(dst_rows)" "$before" "nothing is applied"
is "$(dump_users)" "" "and no dump reads the log"
server "SET ssl_mode 'verify_identity', SET ssl_ca '$C/ca.pem'"
tap_stream_caught_up tg 90
ok $? "the right CA back, the worker goes on by itself"
is "$(dst_rows)" "$(src_rows)" "and the target equals the source"
q "SELECT etl_pull.stop_stream('tg')" >/dev/null

done_testing
