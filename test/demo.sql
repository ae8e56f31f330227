-- test/demo.sql: the demo's two small OpenDental tables beside periomeasure, so that every
-- example in README.md runs in the demo as pasted (test/t/100_readme_examples.sh checks it).
--   patient     a primary key and a watermark column: import_tables registers it incremental
--   claimproc   a primary key and no watermark column: full, or extraction = 'diff'
-- 200 patients and 1,000 claim procedures, each value a fixed function of the row number.

SET SESSION time_zone = '+00:00';

DROP TABLE IF EXISTS patient;
CREATE TABLE patient (
  PatNum bigint(20) NOT NULL AUTO_INCREMENT PRIMARY KEY,
  LName varchar(100) NOT NULL DEFAULT '',
  FName varchar(100) NOT NULL DEFAULT '',
  Birthdate date NOT NULL DEFAULT '0001-01-01',
  SecDateTEdit timestamp NOT NULL DEFAULT current_timestamp() ON UPDATE current_timestamp(),
  KEY SecDateTEdit (SecDateTEdit)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
INSERT INTO patient (PatNum, LName, FName, Birthdate, SecDateTEdit)
SELECT seq, CONCAT('Lname', seq), CONCAT('Fname', seq),
       DATE_ADD('1950-01-01', INTERVAL seq * 97 DAY),
       TIMESTAMP('2022-01-01') + INTERVAL seq HOUR
  FROM seq_1_to_200;

DROP TABLE IF EXISTS claimproc;
CREATE TABLE claimproc (
  ClaimProcNum bigint(20) NOT NULL AUTO_INCREMENT PRIMARY KEY,
  PatNum bigint(20) NOT NULL,
  ClaimNum bigint(20) NOT NULL,
  InsPayAmt double NOT NULL DEFAULT 0,
  Status tinyint(3) unsigned NOT NULL DEFAULT 0,
  DateCP date NOT NULL DEFAULT '0001-01-01',
  KEY PatNum (PatNum)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
INSERT INTO claimproc (ClaimProcNum, PatNum, ClaimNum, InsPayAmt, Status, DateCP)
SELECT seq, 1 + seq % 200, 1 + seq DIV 3, (seq % 400) * 1.25, seq % 8,
       DATE_ADD('2020-01-01', INTERVAL seq DAY)
  FROM seq_1_to_1000;
