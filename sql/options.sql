--
-- Server and user mapping options of the etl_pull wrapper (no MySQL needed)
--
CREATE EXTENSION etl_pull;

-- unknown options list the valid ones
CREATE SERVER bad FOREIGN DATA WRAPPER etl_pull OPTIONS (hostname 'x');
CREATE SERVER bad FOREIGN DATA WRAPPER etl_pull OPTIONS (user 'x');
-- bad values name the option and what is allowed
CREATE SERVER bad FOREIGN DATA WRAPPER etl_pull OPTIONS (port '0');
CREATE SERVER bad FOREIGN DATA WRAPPER etl_pull OPTIONS (port 'abc');
CREATE SERVER bad FOREIGN DATA WRAPPER etl_pull OPTIONS (connect_timeout '-1');
CREATE SERVER bad FOREIGN DATA WRAPPER etl_pull OPTIONS (ssl_mode 'sometimes');
CREATE SERVER bad FOREIGN DATA WRAPPER etl_pull OPTIONS (compress 'maybe');

-- every valid server option
CREATE SERVER opts FOREIGN DATA WRAPPER etl_pull
    OPTIONS (host 'db.example', port '3306', socket '/tmp/mysql.sock',
             dbname 'opendental', connect_timeout '5', read_timeout '600',
             write_timeout '600', ssl_mode 'verify_ca', ssl_ca '/etc/ca.pem',
             compress 'true');
ALTER SERVER opts OPTIONS (SET port '70000');
ALTER SERVER opts OPTIONS (SET ssl_mode 'disabled');

-- TLS: verify_ca names its CA, a client certificate comes with its key,
-- tls_version is a list of TLS versions
ALTER SERVER opts OPTIONS (SET ssl_mode 'verify_ca', DROP ssl_ca);
ALTER SERVER opts OPTIONS (ADD ssl_cert '/etc/client.pem');
ALTER SERVER opts OPTIONS (ADD ssl_key '');
ALTER SERVER opts OPTIONS (ADD tls_version 'TLSv1.1');
ALTER SERVER opts OPTIONS (ADD tls_version 'TLSv1.3, SSLv3');
ALTER SERVER opts OPTIONS (ADD tls_version '');
ALTER SERVER opts OPTIONS (SET ssl_mode 'verify_identity', ADD ssl_cert '/etc/client.pem',
                           ADD ssl_key '/etc/client.key', ADD tls_version 'TLSv1.2,TLSv1.3');
-- the PostgreSQL server reads these files: only superusers name them
CREATE ROLE regress_etl_server_owner;
GRANT USAGE ON FOREIGN DATA WRAPPER etl_pull TO regress_etl_server_owner;
SET ROLE regress_etl_server_owner;
CREATE SERVER notmine FOREIGN DATA WRAPPER etl_pull
    OPTIONS (ssl_mode 'verify_ca', ssl_ca '/etc/ssl/private/ssl-cert-snakeoil.key');
CREATE SERVER notmine FOREIGN DATA WRAPPER etl_pull
    OPTIONS (ssl_mode 'verify_identity', tls_version 'TLSv1.3');
DROP SERVER notmine;
RESET ROLE;
REVOKE USAGE ON FOREIGN DATA WRAPPER etl_pull FROM regress_etl_server_owner;
DROP ROLE regress_etl_server_owner;

-- user mappings take user and password only
CREATE USER MAPPING FOR CURRENT_USER SERVER opts OPTIONS (user 'etl', dbname 'x');
CREATE USER MAPPING FOR CURRENT_USER SERVER opts OPTIONS (user 'etl', password 'secret');
SELECT srvname, srvoptions FROM pg_foreign_server WHERE srvname = 'opts';

-- the wrapper itself takes no options
ALTER FOREIGN DATA WRAPPER etl_pull OPTIONS (ADD host 'x');

DROP SERVER opts CASCADE;
