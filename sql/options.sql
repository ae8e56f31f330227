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

-- user mappings take user and password only
CREATE USER MAPPING FOR CURRENT_USER SERVER opts OPTIONS (user 'etl', dbname 'x');
CREATE USER MAPPING FOR CURRENT_USER SERVER opts OPTIONS (user 'etl', password 'secret');
SELECT srvname, srvoptions FROM pg_foreign_server WHERE srvname = 'opts';

-- the wrapper itself takes no options
ALTER FOREIGN DATA WRAPPER etl_pull OPTIONS (ADD host 'x');

DROP SERVER opts CASCADE;
