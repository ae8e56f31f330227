# TLS that verifies.  The test makes a certificate authority with openssl, a second one that
# signed nothing of ours, server certificates for 127.0.0.2 and for "localhost", and a client
# certificate, and starts a throwaway MariaDB on 127.0.0.2 (Connector/C 3.4 never checks the host
# name of 127.0.0.1) that speaks TLS 1.3 only and whose users must use
# TLS (one of them with a client certificate).  The right CA connects (verify_ca and
# verify_identity); a wrong CA, a certificate for another host name (verify_identity; verify_ca
# checks the chain only), a TLS version the server does not speak, a missing client
# certificate, and "required" or "verify_ca" against the suite's MariaDB, which has no TLS,
# each fail with a clear error and leave the target unchanged.
source "$(dirname "$0")/../tap.sh"
tap_setup_db etl_tap_tls

T=$TESTDIR/tls
rm -rf "$T"
mkdir -p "$T/certs"
chmod 1777 "$T" # the MariaDB (mysql) puts its socket, pid and log here
chmod 755 "$T/certs"
C=$T/certs
PW="tls-test-pw-$$"

# ---- certificates: an authority, a wrong one, two server certificates, a client's
make_ca() { # NAME CN
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=$2" \
		-keyout "$C/$1.key" -out "$C/$1.pem" 2>/dev/null
}
make_cert() { # NAME CN SAN
	openssl req -newkey rsa:2048 -nodes -subj "/CN=$2" \
		-keyout "$C/$1.key" -out "$C/$1.csr" 2>/dev/null &&
		openssl x509 -req -in "$C/$1.csr" -CA "$C/ca.pem" -CAkey "$C/ca.key" \
			-CAcreateserial -days 2 -out "$C/$1.pem" \
			-extfile <(printf 'subjectAltName=%s\n' "$3") 2>/dev/null
}
make_ca ca "etl_pull test CA" && make_ca wrong_ca "some other CA" &&
	make_cert server_ip 127.0.0.2 IP:127.0.0.2 &&
	make_cert server_localhost localhost DNS:localhost &&
	make_cert client "etl_pull client" DNS:client
ok $? "openssl made the authorities and certificates"
cp "$C/server_ip.pem" "$C/server.pem"
cp "$C/server_ip.key" "$C/server.key"
chown mysql "$C/server.key" "$C/server_ip.key" "$C/server_localhost.key"
chown postgres "$C/client.key"
chmod 600 "$C"/*.key
chmod 644 "$C"/*.pem

# ---- a MariaDB that speaks TLS 1.3 only
TLS_PORT=$(etl_free_port 34306)
SOCK=$T/mysql.sock
mkdir -p "$T/mysql"
chown mysql "$T/mysql"
stop_tls_mariadb() {
	mariadb-admin --no-defaults --socket="$SOCK" -uroot shutdown >/dev/null 2>&1
}
tap_on_exit stop_tls_mariadb
mariadb-install-db --no-defaults --user=mysql --datadir="$T/mysql" \
	--auth-root-authentication-method=socket --skip-test-db >"$T/install.log" 2>&1
(cd "$T" && exec setsid nohup /usr/sbin/mariadbd --no-defaults --user=mysql \
	--datadir="$T/mysql" --socket="$SOCK" --port="$TLS_PORT" --bind-address=127.0.0.2 \
	--skip-name-resolve --pid-file="$T/mysql.pid" --log-error="$T/mysql.log" \
	--innodb-buffer-pool-size=64M --character-set-server=utf8mb4 \
	--ssl-ca="$C/ca.pem" --ssl-cert="$C/server.pem" --ssl-key="$C/server.key" \
	--tls-version=TLSv1.3) </dev/null >"$T/mysql.out" 2>&1 &
for ((i = 0; i < 300; i++)); do
	mariadb-admin --no-defaults --socket="$SOCK" -uroot ping >/dev/null 2>&1 && break
	sleep 0.1
done
tls_mysql() { mariadb --no-defaults --socket="$SOCK" -uroot "$@"; }
tls_mysql <<-SQL
	CREATE DATABASE tlsdb CHARACTER SET utf8mb4;
	CREATE TABLE tlsdb.tls_t (id int PRIMARY KEY, val varchar(20));
	INSERT INTO tlsdb.tls_t VALUES (1, 'one'), (2, 'two');
	CREATE USER 'tls_user'@'127.0.0.1' IDENTIFIED BY '$PW' REQUIRE SSL;
	GRANT SELECT, RELOAD ON *.* TO 'tls_user'@'127.0.0.1';
	CREATE USER 'x509_user'@'127.0.0.1' IDENTIFIED BY '$PW' REQUIRE X509;
	GRANT SELECT, RELOAD ON *.* TO 'x509_user'@'127.0.0.1';
SQL
is "$(tls_mysql -N -e "SELECT @@have_ssl, @@tls_version")" "YES	TLSv1.3" \
	"the throwaway MariaDB speaks TLS 1.3 only"

etl_psql -q -d "$TAP_DB" -v port="$TLS_PORT" -v pw="$PW" -v ca="$C/ca.pem" <<-'SQL' >/dev/null
	CREATE SERVER tls FOREIGN DATA WRAPPER etl_pull
	    OPTIONS (host '127.0.0.2', port :'port', dbname 'tlsdb',
	             ssl_mode 'verify_identity', ssl_ca :'ca');
	CREATE USER MAPPING FOR postgres SERVER tls OPTIONS (user 'tls_user', password :'pw');
	SELECT etl_pull.add_table('tls_t', server => 'tls', source_table => 'tlsdb.tls_t',
	                          target_table => 'public.tls_t');
SQL

server() { # OPTIONS for ALTER SERVER tls
	q "ALTER SERVER tls OPTIONS ($1)" >/dev/null
}
load() {
	q "SELECT status || ' ' || rows FROM etl_pull.load_table('tls_t')"
}
load_error() {
	load | grep -aE '^(ERROR|DETAIL|HINT):' | tr '\n' '|'
}
target() {
	q "SELECT count(*) || ' ' || string_agg(id || ':' || val, ',' ORDER BY id) FROM public.tls_t"
}
# Connector/C 3.4 (MariaDB 11.x's) words a wrong host name differently
CC34=0
case $(mariadb_config --cc_version 2>/dev/null) in 3.[0-3].*) ;; *) CC34=1 ;; esac
NAME_ERROR="Validation of SSL server certificate failed"
[ "$CC34" = 0 ] || NAME_ERROR="Hostname verification failed"
TLS_HINT="HINT:  Check the server options ssl_mode, ssl_ca, ssl_cert, ssl_key and tls_version, and that the MySQL server's certificate is issued for the host name in \"host\".|"

# ---- the right CA
is "$(load)" "succeeded 2" "verify_identity with the right CA and a certificate for 127.0.0.2 connects"
GOOD=$(target)
is "$GOOD" "2 1:one,2:two" "the target holds the two rows"
tls_mysql -e "INSERT INTO tlsdb.tls_t VALUES (3, 'three')"
server "SET ssl_mode 'verify_ca'"
is "$(load)" "succeeded 3" "verify_ca with the right CA connects"
GOOD=$(target)

# ---- a wrong CA
server "SET ssl_ca '$C/wrong_ca.pem'"
tls_mysql -e "INSERT INTO tlsdb.tls_t VALUES (4, 'four')"
is "$(load_error)" \
	"ERROR:  could not connect to MySQL server \"tls\"|DETAIL:  MySQL error 2026: TLS/SSL error: self-signed certificate in certificate chain|$TLS_HINT" \
	"verify_ca with a CA that did not sign the server's certificate fails"
is "$(target)" "$GOOD" "the target is unchanged"
server "SET ssl_mode 'verify_identity'"
is "$(load_error)" \
	"ERROR:  could not connect to MySQL server \"tls\"|DETAIL:  MySQL error 2026: TLS/SSL error: self-signed certificate in certificate chain|$TLS_HINT" \
	"verify_identity with the wrong CA fails"
is "$(target)" "$GOOD" "the target is unchanged"

# ---- a certificate for "localhost", reached as 127.0.0.2
cp "$C/server_localhost.pem" "$C/server.pem"
cp "$C/server_localhost.key" "$C/server.key"
tls_mysql -e "FLUSH SSL"
server "SET ssl_ca '$C/ca.pem'"
is "$(load_error)" \
	"ERROR:  could not connect to MySQL server \"tls\"|DETAIL:  MySQL error 2026: TLS/SSL error: $NAME_ERROR|$TLS_HINT" \
	"verify_identity fails for a certificate issued to another host name"
is "$(target)" "$GOOD" "the target is unchanged"
server "SET ssl_mode 'verify_ca'"
if [ "$CC34" = 1 ]; then
	# Connector/C 3.4 checks the name whenever it verifies, except for a loopback address
	is "$(load_error)" \
		"ERROR:  could not connect to MySQL server \"tls\"|DETAIL:  MySQL error 2026: TLS/SSL error: $NAME_ERROR|$TLS_HINT" \
		"verify_ca with Connector/C 3.4 checks the name too (not a loopback address)"
else
	is "$(load)" "succeeded 4" "verify_ca accepts the same certificate: it checks the chain, not the name"
fi
GOOD=$(target)
# back to the certificate for 127.0.0.2
cp "$C/server_ip.pem" "$C/server.pem"
cp "$C/server_ip.key" "$C/server.key"
tls_mysql -e "FLUSH SSL"

# ---- a TLS version the server does not speak
server "ADD tls_version 'TLSv1.2'"
tls_mysql -e "INSERT INTO tlsdb.tls_t VALUES (5, 'five')"
like "$(load_error)" \
	"^ERROR:  could not connect to MySQL server \"tls\"\|DETAIL:  MySQL error 2026: TLS/SSL error: .*(protocol version|no protocols available|handshake failure).*\|HINT:  Check the server options" \
	"tls_version TLSv1.2 against a TLS 1.3 server fails"
is "$(target)" "$GOOD" "the target is unchanged"
server "SET tls_version 'TLSv1.2,TLSv1.3'"
is "$(load)" "succeeded 5" "tls_version TLSv1.2,TLSv1.3 connects"
GOOD=$(target)

# ---- client certificates: a user that must show one
q "ALTER USER MAPPING FOR postgres SERVER tls OPTIONS (SET user 'x509_user')" >/dev/null
tls_mysql -e "INSERT INTO tlsdb.tls_t VALUES (6, 'six')"
like "$(load_error)" \
	"^ERROR:  could not connect to MySQL server \"tls\"\|DETAIL:  MySQL error 1045: Access denied for user 'x509_user'@'127.0.0.1'" \
	"without ssl_cert and ssl_key, a user that requires a client certificate is refused"
is "$(target)" "$GOOD" "the target is unchanged"
server "ADD ssl_cert '$C/client.pem', ADD ssl_key '$C/client.key'"
is "$(load)" "succeeded 6" "with ssl_cert and ssl_key the client certificate is presented and accepted"
GOOD=$(target)

# ---- "required" and "verify_ca" against a server without TLS (the suite's MariaDB)
q "ALTER USER MAPPING FOR postgres SERVER tls
     OPTIONS (SET user '$ETL_PULL_MYSQL_USER', SET password '$ETL_PULL_MYSQL_PASSWORD')" >/dev/null
server "SET host '$ETL_PULL_MYSQL_HOST', SET port '$ETL_PULL_MYSQL_PORT', SET ssl_mode 'required', DROP ssl_cert, DROP ssl_key,
        DROP tls_version"
is "$(load_error)" \
	"ERROR:  could not connect to MySQL server \"tls\" over TLS|DETAIL:  ssl_mode is \"required\", but the server does not support TLS.|" \
	"required against a server without TLS fails"
is "$(target)" "$GOOD" "the target is unchanged"
is "$(q "SELECT string_agg(section || '|' || coalesce(item, '') || '|' || detail, E'\n') FROM etl_pull.plan('tls_t', 0)")" \
	'table|name|tls_t
connection|connect|load_table fails: could not connect to MySQL server "tls" over TLS (ssl_mode is "required", but the server does not support TLS); the plan stops here' \
	"plan reports the TLS setting the server cannot meet as a row, with the load's error, and stops"
server "SET ssl_mode 'verify_ca'"
# (Connector/C 3.4 refuses it itself, as for verify_identity)
like "$(load_error)" \
	"^(ERROR:  could not connect to MySQL server \"tls\" over TLS\|DETAIL:  ssl_mode is \"verify_ca\", but the server does not support TLS\.\||ERROR:  could not connect to MySQL server \"tls\"\|DETAIL:  MySQL error 2026: TLS/SSL error: SSL is required, but the server does not support it\|HINT:  .*)$" \
	"verify_ca against a server without TLS fails"
server "SET ssl_mode 'verify_identity'"
is "$(load_error)" \
	"ERROR:  could not connect to MySQL server \"tls\"|DETAIL:  MySQL error 2026: TLS/SSL error: SSL is required, but the server does not support it|$TLS_HINT" \
	"verify_identity against a server without TLS fails before authenticating"
is "$(target)" "$GOOD" "the target is unchanged"

stop_tls_mariadb
done_testing
