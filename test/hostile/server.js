// test/hostile/server.js: a deliberately hostile fake MySQL server for etl_pull's TAP tests.
//
// It speaks the server side of the MySQL protocol with the packet classes of the npm package
// mysql2 (pinned in package.json / package-lock.json; the harness installs it outside the
// repository and points NODE_PATH at it).  It plays a replica with one table, fakedb.hostile_t
// (id int primary key, val varchar(40)), and the MySQL user name a client logs in with picks
// how it misbehaves:
//
//   good        an honest server: the three rows (1,'one'), (2,'two'), (3,'three')
//   infile      answers the first statement with a LOAD DATA LOCAL INFILE request for the
//               file named by --infile (a client that obeys sends the file's bytes)
//   cleartext   asks, after the handshake, to switch to mysql_clear_password (a client that
//               obeys sends the password in clear text)
//   nullname    result metadata whose first column has a NULL name
//   nullinfo    information_schema.COLUMNS with a NULL COLUMN_NAME
//   narrow      information_schema.COLUMNS with 3 of the 9 columns asked for
//   shortrow    data rows with 1 value where the result announces 2 columns (in the text
//               protocol; in the binary one, rows whose packet ends after the first value)
//   longlen     in the binary protocol, a data row whose val announces 16 MB and holds 1 byte
//   badtime     in the binary protocol, a data row whose val is a DATETIME with month 13,
//               day 40, hour 25 (the text protocol gets the honest rows)
//   inject      an honest server, except that the keys delete_missing reads back hold
//               "1}'::bigint[]); COPY (SELECT 1) TO PROGRAM 'touch <--touch>'; --"
//   sessnull    an honest server, except that the session variables a load reads back around
//               a table's mysql_settings have a NULL sql_mode
//   imp_badname to import_tables' queries: a table whose TABLE_NAME is NULL
//   imp_odd     to import_tables' queries: a table listed twice, sizes that are no numbers,
//               a sequence, an engine named like SQL, a functional key part (no COLUMN_NAME)
//   trickle     never answers the data SELECT (text or binary protocol); while that session
//               is open, every new connection (the client's KILL QUERY one) gets its
//               greeting one byte every 0.5 s, forever (see "trickle" below)
//   trickle_kill  as trickle, but new connections log in normally, and a KILL statement is
//               answered one byte every 0.5 s, forever
//   badname, jsondoc: see their block below (a column name that is no UTF-8; a MySQL 8 JSON column)
//   binlog_<mode>  answers COM_BINLOG_DUMP with a MariaDB binary log of one group (GTID, BEGIN,
//               a TABLE_MAP of fakedb.hostile_t, a WRITE_ROWS of (1,'one'), (2,'two'), COMMIT)
//               and a heartbeat, spoiled as <mode> says: good (not at all), longval (a value
//               announces more bytes than the row holds), shortmeta (a table map's column
//               metadata ends early), badpos (an event's end_log_pos disagrees with its length),
//               gone (error 1236, as for a purged log), fuzz (the Nth dump of the server's life
//               has one event truncated or one bit flipped, by N), pos0 (honest, but the events
//               inside the group have end_log_pos 0, as MariaDB 11.4 and later write them),
//               nullsum (no row for the binary log's checksum algorithm, before the dump)

//   bad_<class>_<shape>  honest, except that the statements of one class (MIN/MAX, COUNT,
//               an information_schema view, the binary log position, ...) are answered in one
//               malformed shape: see "hostile replies" below
//
// The data SELECT also answers in the binary protocol (COM_STMT_PREPARE, COM_STMT_EXECUTE,
// COM_STMT_CLOSE), with id as an INT and val as a VARCHAR, as a real server would.
//
// Everything a client sends is written to --log as one JSON object a line, so a test can show
// what a client did and did not send (a file's bytes, a password).
//
//   NODE_PATH=DIR/node_modules node server.js --port-file F --log F [--infile F] [--touch F]
//                                             [--flavour mariadb]
'use strict';

const fs = require('fs');
const path = require('path');
const mysql = require('mysql2');

// mysql2 exports its server but not its packet classes: load them from its own directory.
const lib = path.join(path.dirname(require.resolve('mysql2')), 'lib');
const Command = require(path.join(lib, 'commands/command.js'));
const Packets = require(path.join(lib, 'packets/index.js'));
const Packet = require(path.join(lib, 'packets/packet.js'));
const Types = mysql.Types;

const args = {};
for (let i = 2; i < process.argv.length; i += 2) {
	args[process.argv[i].replace(/^--/, '')] = process.argv[i + 1];
}
const logFd = fs.openSync(args.log, 'a');
function log(obj) {
	fs.writeSync(logFd, JSON.stringify(obj) + '\n');
}

// CLIENT_LONG_PASSWORD | FOUND_ROWS | LONG_FLAG | CONNECT_WITH_DB | PROTOCOL_41 |
// TRANSACTIONS | SECURE_CONNECTION | MULTI_RESULTS | PLUGIN_AUTH; no SSL, no DEPRECATE_EOF
const CAPS = 0x1 | 0x2 | 0x4 | 0x8 | 0x200 | 0x2000 | 0x8000 | 0x20000 | 0x80000;
const UTF8MB4 = 45;
const ROWS = [['1', 'one'], ['2', 'two'], ['3', 'three']];
const INJECTION = `1}'::bigint[]); COPY (SELECT 1) TO PROGRAM 'touch ${args.touch || '/nonexistent'}'; --`;

// A packet with these body bytes (the connection writes the header)
function raw(body) {
	const buf = Buffer.alloc(body.length + 4);
	body.copy(buf, 4);
	return new Packet(0, buf, 0, buf.length);
}

function lenenc(s) {
	if (s === null) {
		return Buffer.from([0xfb]);
	}
	const b = Buffer.from(s, 'utf8');
	if (b.length >= 251) {
		throw new Error('long strings are not needed here');
	}
	return Buffer.concat([Buffer.from([b.length]), b]);
}

function column(name, type) {
	return {
		catalog: 'def', schema: 'fakedb', table: 't', orgTable: 't', name: name,
		orgName: name, characterSet: UTF8MB4, columnLength: 160,
		columnType: type || Types.VAR_STRING, flags: 0, decimals: 0,
	};
}

// A column definition packet whose name is NULL (0xfb), which no real server sends
function nullNameColumn() {
	const fixed = Buffer.alloc(13);
	fixed[0] = 0x0c;
	fixed.writeUInt16LE(UTF8MB4, 1);
	fixed.writeUInt32LE(160, 3);
	fixed[7] = Types.VAR_STRING;
	return raw(Buffer.concat([lenenc('def'), lenenc('fakedb'), lenenc('t'), lenenc('t'),
		lenenc(null), lenenc(null), fixed]));
}

// Send a text result set: names of the columns, rows of strings (null for NULL)
function result(conn, names, rows) {
	conn.writePacket(Packets.ResultSetHeader.toPacket(names.length));
	names.forEach((n) => conn.writePacket(Packets.ColumnDefinition.toPacket(column(n), 'utf8')));
	conn.writeEof();
	rows.forEach((r) => conn.writePacket(raw(Buffer.concat(r.map(lenenc)))));
	conn.writeEof();
}

const COLUMNS = ['COLUMN_NAME', 'DATA_TYPE', 'COLUMN_TYPE', 'CHARACTER_MAXIMUM_LENGTH',
	'NUMERIC_PRECISION', 'NUMERIC_SCALE', 'DATETIME_PRECISION', 'IS_NULLABLE',
	'CHARACTER_SET_NAME'];
const COLUMN_ROWS = [
	['id', 'int', 'int(11)', null, '10', '0', null, 'NO', null],
	['val', 'varchar', 'varchar(40)', '40', null, null, null, 'YES', 'utf8mb4'],
];
// The same with val a longtext, whose CHECK constraints etl_pull asks for (MariaDB's JSON): what
// the users bad_checks_* are answered, so that the statement they malform is sent
const LONGTEXT_ROWS = [COLUMN_ROWS[0],
	['val', 'longtext', 'longtext', '4294967295', null, null, null, 'YES', 'utf8mb4']];

// What import_tables reads of fakedb, for the users imp_*
function importAnswer(user, conn, sql) {
	if (/information_schema\.SCHEMATA/i.test(sql)) {
		result(conn, ['SCHEMA_NAME'], [['fakedb']]);
	} else if (/information_schema\.TABLES/i.test(sql)) {
		const t = ['hostile_t', 'BASE TABLE', 'InnoDB', '3', '16384'];
		result(conn, ['TABLE_NAME', 'TABLE_TYPE', 'ENGINE', 'TABLE_ROWS', 'DATA_LENGTH'],
			user === 'imp_badname' ? [t, [null, 'BASE TABLE', 'InnoDB', '1', '1']] :
				[t, t, ['odd`seq', 'SEQUENCE', null, null, null],
					['e', 'BASE TABLE', "x'); DROP TABLE t; --", '99999999999999999999', '-1']]);
	} else if (/information_schema\.STATISTICS/i.test(sql)) {
		result(conn, ['TABLE_NAME', 'INDEX_NAME', 'SEQ_IN_INDEX', 'COLUMN_NAME'],
			[['hostile_t', 'PRIMARY', '1', 'id'], ['e', 'fx', '1', null], ['nosuch', 'PRIMARY', '1', 'id']]);
	} else if (/information_schema\.COLUMNS/i.test(sql)) {
		result(conn, ['TABLE_NAME', 'COLUMN_NAME', 'EXTRA', 'INTEGER'],
			[['e', 'ts', 'on update current_timestamp()', '0']]);
	} else {
		return false;
	}
	return true;
}

// ---- badname and jsondoc: text that is no UTF-8, a MySQL 8 JSON column (issue 25, items 11, 12) ----
//   badname  information_schema.COLUMNS names the second column "v\xFFl": a byte that is no
//            UTF-8 (MySQL's own identifiers are UTF-8); the data SELECT of that column, sent in
//            the text protocol, gets the honest rows
//   jsondoc  plays a MySQL 8 (no JSON_NORMALIZE) whose fakedb.hostile_t is (id int primary key,
//            doc json) with the rows (1, {"a": 1}), (2, [1, 2]), (3, NULL), and answers the
//            comparisons of verify_table and diff runs honestly (the hash sums of its rows'
//            canonical text, in which a document is "J": presence only)
const F_BADNAME = Buffer.from([0x76, 0xff, 0x6c]);
const F_DOCS = [['1', '{"a": 1}'], ['2', '[1, 2]'], ['3', null]];

// zlib's CRC-32, as MySQL's CRC32()
function fCrc32(s) {
	let crc = 0xffffffff;
	for (const byte of Buffer.from(s, 'utf8')) {
		crc ^= byte;
		for (let k = 0; k < 8; k++) {
			crc = (crc & 1) ? (0xedb88320 ^ (crc >>> 1)) : (crc >>> 1);
		}
	}
	return (crc ^ 0xffffffff) >>> 0;
}

// A text result whose values may be Buffers (bytes sent as they are)
function fResult(conn, names, rows) {
	const enc = (v) => (Buffer.isBuffer(v) ?
		Buffer.concat([Buffer.from([v.length]), v]) : lenenc(v));
	conn.writePacket(Packets.ResultSetHeader.toPacket(names.length));
	names.forEach((n) => conn.writePacket(Packets.ColumnDefinition.toPacket(column(n), 'utf8')));
	conn.writeEof();
	rows.forEach((r) => conn.writePacket(raw(Buffer.concat(r.map(enc)))));
	conn.writeEof();
}

// Answer "sql" in the modes badname and jsondoc; false when the common answers apply
function answerNameJson(sess, conn, sql) {
	const user = sess.user;

	if (user === 'badname') {
		if (/information_schema\.COLUMNS/i.test(sql)) {
			fResult(conn, COLUMNS, [COLUMN_ROWS[0], [F_BADNAME].concat(COLUMN_ROWS[1].slice(1))]);
			return true;
		}
		if (/^SELECT `id`, `v.l` FROM /i.test(sql)) {
			result(conn, ['id', 'v'], ROWS);
			return true;
		}
		return false;
	}
	if (user !== 'jsondoc') {
		return false;
	}
	if (/information_schema\.COLUMNS/i.test(sql)) {
		result(conn, COLUMNS, [COLUMN_ROWS[0],
			['doc', 'json', 'json', null, null, null, null, 'YES', null]]);
	} else if (/^SELECT `id`, `doc` FROM /i.test(sql)) {
		result(conn, ['id', 'doc'], F_DOCS);
	} else if (/^SHOW SESSION STATUS/i.test(sql)) {
		result(conn, ['Variable_name', 'Value'], []);		// no TLS (what plan() asks)
	} else if (/information_schema\.STATISTICS/i.test(sql) && /NON_UNIQUE/i.test(sql)) {
		result(conn, ['INDEX_NAME', 'NON_UNIQUE', 'SEQ_IN_INDEX', 'COLUMN_NAME', 'SUB_PART',
			'INDEX_TYPE', 'COLLATION', 'IGNORED'], []);		// no secondary index
	} else if (/SUM\(CRC32\(/i.test(sql) && / GROUP BY r/i.test(sql)) {
		// one range (three rows): the count and the sum of the rows' CRC-32s
		const sum = F_DOCS.reduce((a, [id, doc]) => a + fCrc32(`,${id},${doc === null ? 'N' : 'J'}`), 0);
		result(conn, ['r', 'COUNT(*)', 'SUM'], [['0', String(F_DOCS.length), String(sum)]]);
	} else if (/^SELECT CONCAT_WS\(/i.test(sql)) {
		// rows of the ranges that differ: key text and hash
		result(conn, ['key', 'CRC32'], F_DOCS.map(([id, doc]) =>
			[`,${id}`, String(fCrc32(`,${id},${doc === null ? 'N' : 'J'}`))]));
	} else {
		return false;
	}
	return true;
}
// ---- end of badname and jsondoc -------------------------------------------------------------

// ---- hostile replies (issue 25): users bad_<class>_<shape> -----------------------------------
//
// Every statement etl_pull sends that is not a row fetch belongs to one of the classes of
// REPLY_CLASSES below, with the honest answer of this fake replica.  A user bad_<class>_<shape>
// gets honest answers to everything, except that the statements of <class> are answered in
// <shape>:
//
//   null   the class's value `at` ([row, column] of a value MySQL never leaves NULL there, if
//          the class has one: else the first) is NULL
//   few    the result has one column fewer than the statement asks for (its last dropped)
//   many   one column more (a last column "EXTRA" holding 1)
//   text   the class's number `num` is "12abc" (the first value, in a class without a number)
//   huge   it is 99999999999999999999999 (past every 64-bit integer)
//   empty  the result has no row
//   two    the result's first row comes twice (a second row, for a one-row answer)
//
// Started with --flavour mariadb, the server calls itself MariaDB (the handshake comes before
// the user name), so that the statements etl_pull sends to MariaDB only are asked too.

const SERVER_VERSION = args.flavour === 'mariadb' ? '5.5.5-10.11.6-MariaDB-hostile' :
	'8.0.36-hostile';

// The signature of skip_unchanged (src/load/unchanged.c), read before every load: honestly an
// InnoDB table's, which never skips; a load takes the sizes (and a MyISAM table's UPDATE_TIME)
// from it, not from 'sizes'
const SIGNATURE_SQL = /^SELECT t\.ENGINE, t\.CREATE_OPTIONS, /;
const SIGNATURE = [['ENGINE', 'CREATE_OPTIONS', 'CREATE_TIME', 'UPDATE_TIME', 'TABLE_ROWS',
	'DATA_LENGTH', 'CHECKSUM', 'trusted', 'columns', 'UNIX_TIMESTAMP(t.UPDATE_TIME)',
	'UNIX_TIMESTAMP()'],
[['InnoDB', '', '2026-01-01 00:00:00', null, '3', '16384', null, null, '2/123/456', null,
	'1767225600']]];

// name, the statements of the class, honest column names and rows, `at` and `num`
const REPLY_CLASSES = [
	['columns', /^SELECT COLUMN_NAME, DATA_TYPE, .* FROM information_schema\.COLUMNS/s,
		(sql, user) => [COLUMNS, user.startsWith('bad_checks_') ? LONGTEXT_ROWS : COLUMN_ROWS],
		[0, 0], [1, 3]],
	['pk', /^SELECT COLUMN_NAME FROM information_schema\.STATISTICS .*INDEX_NAME = 'PRIMARY'/s,
		() => [['COLUMN_NAME'], [['id']]], [0, 0], null],
	['indexes', /^SELECT INDEX_NAME, NON_UNIQUE, .* FROM information_schema\.STATISTICS/s,
		() => [['INDEX_NAME', 'NON_UNIQUE', 'SEQ_IN_INDEX', 'COLUMN_NAME', 'SUB_PART', 'INDEX_TYPE',
			'COLLATION', 'IGNORED'], [['val_idx', '1', '1', 'val', null, 'BTREE', 'A', 'NO']]],
		[0, 0], [0, 2]],
	['checks', /^SELECT CHECK_CLAUSE FROM information_schema\.CHECK_CONSTRAINTS/s,
		() => [['CHECK_CLAUSE'], [['`id` > 0']]], [0, 0], null],
	['signature', SIGNATURE_SQL, () => SIGNATURE, [0, 8], [0, 4]],
	['sizes', /^SELECT TABLE_ROWS, DATA_LENGTH, ENGINE FROM information_schema\.TABLES/s,
		() => [['TABLE_ROWS', 'DATA_LENGTH', 'ENGINE'], [['3', '16384', 'InnoDB']]], [0, 2], [0, 0]],
	['minmax', /^SELECT MIN\([^()]*\), MAX\(/,
		() => [['MIN', 'MAX'], [['1', '3']]], [0, 1], [0, 1]],
	['appendmin', /^SELECT MIN\([^()]*\) FROM .* WHERE /s,
		() => [['MIN'], [['1']]], [0, 0], [0, 0]],
	['watermark', /^SELECT (CAST\()?MAX\(/,
		(sql) => {
			const n = (sql.match(/MAX\(/g) || []).length;
			return [Array.from({ length: n }, (_, i) => `MAX${i}`), [Array(n).fill('3')]];
		}, [0, 0], [0, 0]],
	// a count and sum that no target matches, so that delete_missing always reads the keys
	['rangesum', /^SELECT COUNT\(\*\), SUM\(/,
		() => [['COUNT(*)', 'SUM'], [['3', '7']]], [0, 0], [0, 0]],
	['rangekeys', /^SELECT `id` FROM .* BETWEEN /s,
		() => [['id'], [['1'], ['3']]], [0, 0], [0, 0]],
	['count', /^SELECT COUNT\(\*\) FROM /,
		() => [['COUNT(*)'], [['3']]], [0, 0], [0, 0]],
	['rangehash', / AS r, COUNT\(\*\), CAST\(SUM\(CRC32\(/,
		() => [['r', 'COUNT(*)', 'SUM'], [['0', '3', '12345']]], [0, 1], [0, 2]],
	['rowhash', /^SELECT CONCAT_WS\(.*, CRC32\(CONCAT_WS\(/s,
		() => [['k', 'h'], [[',1', '1'], [',2', '2'], [',3', '3']]], [0, 0], [0, 1]],
	['gtid', /^SELECT @@gtid_binlog_pos/,
		() => [['@@gtid_binlog_pos'], [['0-1-42']]], [0, 0], [0, 0]],
	['binlog', /^SHOW MASTER STATUS/,
		() => [['File', 'Position'], [['binlog.000001', '1234']]], [0, 1], [0, 1]],
	['status', /^SHOW SESSION STATUS LIKE /,
		() => [['Variable_name', 'Value'], [['Ssl_cipher', '']]], [0, 0], null],
	['schemata', /^SELECT SCHEMA_NAME FROM information_schema\.SCHEMATA/,
		() => [['SCHEMA_NAME'], [['fakedb']]], [0, 0], null],
	['imptables', /^SELECT TABLE_NAME, TABLE_TYPE, ENGINE, TABLE_ROWS, DATA_LENGTH FROM /,
		() => [['TABLE_NAME', 'TABLE_TYPE', 'ENGINE', 'TABLE_ROWS', 'DATA_LENGTH'],
			[['hostile_t', 'BASE TABLE', 'InnoDB', '3', '16384']]], [0, 0], [0, 3]],
	['impkeys', /^SELECT TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX, COLUMN_NAME FROM /,
		() => [['TABLE_NAME', 'INDEX_NAME', 'SEQ_IN_INDEX', 'COLUMN_NAME'],
			[['hostile_t', 'PRIMARY', '1', 'id']]], [0, 0], [0, 2]],
	['impcolumns', /^SELECT TABLE_NAME, COLUMN_NAME, EXTRA, DATA_TYPE IN /,
		() => [['TABLE_NAME', 'COLUMN_NAME', 'EXTRA', 'INTEGER'],
			[['hostile_t', 'val', 'VIRTUAL GENERATED', '1']]], [0, 0], null],
];

// The answer of the class in that shape: [names, rows]
function malformed(names, rows, at, num, shape) {
	const n = names.slice();
	let r = rows.map((row) => row.slice());
	const set = (pos, v) => {
		if (r.length > 0) {
			r[pos ? pos[0] : 0][pos ? pos[1] : 0] = v;
		}
	};

	switch (shape) {
		case 'null': set(at, null); break;
		case 'few': n.pop(); r = r.map((row) => row.slice(0, n.length)); break;
		case 'many': n.push('EXTRA'); r = r.map((row) => row.concat(['1'])); break;
		case 'text': set(num, '12abc'); break;
		case 'huge': set(num, '99999999999999999999999'); break;
		case 'empty': r = []; break;
		case 'two': r = r.concat([r[0]]); break;
		default: throw new Error(`no shape ${shape}`);
	}
	return [n, r];
}

// Answer a statement of a bad_<class>_<shape> user; false for one that belongs to no class
// (the data SELECT, SET, ...), which answer() answers as for every user
function badAnswer(user, conn, sql) {
	const m = /^bad_([a-z]+)_([a-z]+)(_[a-z0-9]+)?$/.exec(user);
	const c = REPLY_CLASSES.find(([, re]) => re.test(sql));

	if (c === undefined) {
		return false;
	}
	let [names, rows] = c[2](sql, user);
	if (m && m[1] === c[0]) {
		log({ user, event: 'malformed', class: c[0], shape: m[2] });
		[names, rows] = malformed(names, rows, c[3], c[4], m[2]);
	}
	result(conn, names, rows);
	return true;
}

// ---- end of hostile replies ------------------------------------------------------------------

// Answer one statement as user "user" would have it answered
function answer(sess, conn, sql) {
	const user = sess.user;

	// before the modes that answer whatever names information_schema.COLUMNS
	if (SIGNATURE_SQL.test(sql) && !user.startsWith('bad_')) {
		result(conn, SIGNATURE[0], SIGNATURE[1]);
		return true;
	}
	if (answerNameJson(sess, conn, sql)) {
		return true;
	}

	if (user.startsWith('imp_') && importAnswer(user, conn, sql)) {
		return true;
	}
	if (user.startsWith('bad_') && badAnswer(user, conn, sql)) {
		return true;
	}

	if (user === 'infile' && !sess.infileSent) {
		sess.infileSent = true;
		sess.infile = { bytes: 0, data: [] };
		log({ user, event: 'infile_request', file: args.infile });
		conn.writePacket(raw(Buffer.concat([Buffer.from([0xfb]), Buffer.from(args.infile)])));
		return false;			// the response waits for the client's file
	}
	if (/information_schema\.COLUMNS/i.test(sql)) {
		if (user === 'nullname') {
			conn.writePacket(Packets.ResultSetHeader.toPacket(2));
			conn.writePacket(nullNameColumn());
			conn.writePacket(Packets.ColumnDefinition.toPacket(column('DATA_TYPE'), 'utf8'));
			conn.writeEof();
			conn.writeEof();
		} else if (user === 'nullinfo') {
			result(conn, COLUMNS, [[null, 'int', 'int(11)', null, '10', '0', null, 'NO', null]]);
		} else if (user === 'narrow') {
			result(conn, COLUMNS.slice(0, 3), COLUMN_ROWS.map((r) => r.slice(0, 3)));
		} else {
			result(conn, COLUMNS, COLUMN_ROWS);
		}
	} else if (/information_schema\.STATISTICS/i.test(sql)) {
		result(conn, ['COLUMN_NAME'], [['id']]);
	} else if (/information_schema\.TABLES/i.test(sql)) {
		result(conn, ['TABLE_ROWS', 'DATA_LENGTH', 'ENGINE'], [['3', '16384', 'InnoDB']]);
	} else if (/information_schema\.CHECK_CONSTRAINTS/i.test(sql)) {
		result(conn, ['CHECK_CLAUSE'], []);
	} else if (/^SELECT COUNT\(\*\), SUM\(/i.test(sql)) {
		// delete_missing compares ranges: say rows are gone (the honest server lists keys 1
		// and 2, the attacker key 1 and its payload), so that it reads the keys
		result(conn, ['COUNT(*)', 'SUM'], [user === 'inject' ? ['1', '1'] : ['2', '3']]);
	} else if (/^SELECT `id` FROM .* BETWEEN/i.test(sql)) {
		result(conn, ['id'], user === 'inject' ? [['1'], [INJECTION]] : [['1'], ['2']]);
	} else if (/^SELECT MIN\(/i.test(sql)) {
		result(conn, ['MIN', 'MAX'], [['1', '3']]);
	} else if (/^SELECT MAX\(/i.test(sql)) {
		const n = (sql.match(/MAX\(/g) || []).length;
		result(conn, Array.from({ length: n }, (_, i) => `MAX${i}`), [Array(n).fill('3')]);
	} else if (/^SELECT `id`, `val` FROM /i.test(sql)) {
		result(conn, ['id', 'val'], ROWS);
	} else if (user === 'sessnull' && /^SELECT @@SESSION\.sql_mode, /i.test(sql)) {
		const names = sql.replace(/^SELECT /i, '').split(', ');
		result(conn, names, [names.map((n, i) => (i === 0 ? null : 'x'))]);
	} else if (user === 'binlog_nullsum' && /^SELECT @@(GLOBAL\.)?binlog_checksum/i.test(sql)) {
		result(conn, ['v'], []);
	} else if (/^SELECT @rpl_semi_sync_slave/i.test(sql)) {
		result(conn, ['v'], [['0']]);
	} else if (/^SELECT @@/i.test(sql)) {
		result(conn, ['value'], [['']]);
	} else if (/^SHOW /i.test(sql)) {
		conn.writeError({ code: 1227, message: 'Access denied; the fake server has no binlog' });
	} else if (/^SELECT /i.test(sql)) {
		log({ user, event: 'unknown_query', sql });
		conn.writeError({ code: 1064, message: 'the fake server does not know this query' });
	} else {
		conn.writeOk();
	}
	return true;
}

// A binary-protocol row: header, NULL bitmap (offset 2), then each value in its type's form
function binaryRow(values, types) {
	const bitmap = Buffer.alloc(Math.floor((values.length + 7 + 2) / 8));
	const parts = [];

	values.forEach((v, i) => {
		if (v === null) {
			bitmap[(i + 2) >> 3] |= 1 << ((i + 2) & 7);
		} else if (types[i] === Types.LONG) {
			const b = Buffer.alloc(4);
			b.writeInt32LE(Number(v));
			parts.push(b);
		} else if (Buffer.isBuffer(v)) {
			parts.push(v);
		} else {
			parts.push(lenenc(v));
		}
	});
	return raw(Buffer.concat([Buffer.from([0]), bitmap].concat(parts)));
}

const DATA_COLUMNS = [['id', Types.LONG], ['val', Types.VAR_STRING]];

function dataColumns(conn, types) {
	DATA_COLUMNS.forEach(([n, t], i) =>
		conn.writePacket(Packets.ColumnDefinition.toPacket(column(n, types ? types[i] : t), 'utf8')));
	conn.writeEof();
}

// COM_STMT_PREPARE of the data SELECT: statement id, 2 columns, no parameters
function prepareAnswer(conn, id) {
	const ok = Buffer.alloc(12);
	ok[0] = 0x00;
	ok.writeUInt32LE(id, 1);
	ok.writeUInt16LE(DATA_COLUMNS.length, 5);
	ok.writeUInt16LE(0, 7);
	conn.writePacket(raw(ok));
	dataColumns(conn);
}

// COM_STMT_EXECUTE of the data SELECT, as user "user" would have it answered
function executeAnswer(user, conn) {
	const types = DATA_COLUMNS.map(([, t]) => t);

	conn.writePacket(Packets.ResultSetHeader.toPacket(DATA_COLUMNS.length));
	if (user === 'badtime') {
		// a DATETIME of 7 bytes: year 2020, month 13, day 40, 25:61:61
		const dt = Buffer.from([7, 0xe4, 0x07, 13, 40, 25, 61, 61]);
		dataColumns(conn, [Types.LONG, Types.DATETIME]);
		conn.writePacket(binaryRow(['1', dt], [Types.LONG, Types.DATETIME]));
	} else if (user === 'longlen') {
		// val's length prefix announces 16 MB that the row does not hold
		dataColumns(conn);
		conn.writePacket(binaryRow(['1', Buffer.from([0xfd, 0xff, 0xff, 0xff, 0x41])], types));
	} else if (user === 'shortrow') {
		dataColumns(conn);
		ROWS.forEach((r) => conn.writePacket(binaryRow([r[0]], types)));
	} else {
		dataColumns(conn);
		ROWS.forEach((r) => conn.writePacket(binaryRow(r, types)));
	}
	conn.writeEof();
}

// shortrow: the real answer to the data SELECT, built by hand
function shortRows(conn) {
	conn.writePacket(Packets.ResultSetHeader.toPacket(2));
	conn.writePacket(Packets.ColumnDefinition.toPacket(column('id'), 'utf8'));
	conn.writePacket(Packets.ColumnDefinition.toPacket(column('val'), 'utf8'));
	conn.writeEof();
	ROWS.forEach((r) => conn.writePacket(raw(lenenc(r[0]))));
	conn.writeEof();
}

// ---- trickle, trickle_kill: a server that holds a client's clean-up (issue 25, item 3) ----
//
// The data SELECT of a trickle* session is never answered, so the client gives up on it
// (statement_timeout) and sends KILL QUERY over a second connection.  That connection is
// answered one byte every 0.5 s, forever: a per-read timeout never fires.  For trickle the
// trickling begins with the greeting of any connection made while the stalled session is
// open; for trickle_kill, with the answer to KILL.  Events: stall, trickle (with the
// connection's number), and close of a trickled connection with the bytes it got.
const stalled = new Set();		// trickle* sessions whose data SELECT is unanswered
let trickled = 0;

// Send "conn" a packet whose header announces 65535 bytes, then one byte every 0.5 s
function trickleForever(conn, user, what) {
	const id = ++trickled;
	let sent = 0;

	log({ user, event: 'trickle', what, connection: id });
	// mysql2 drops a connection whose client sends nothing for 10 s: this one must not
	clearTimeout(conn.connectTimeout);
	conn.connectTimeout = null;
	conn.on('error', (err) => log({ user, event: 'error', message: err.message }));
	conn.stream.write(Buffer.from([0xff, 0xff, 0x00, conn.sequenceId || 0]));
	const timer = setInterval(() => {
		conn.stream.write(Buffer.from([sent === 0 ? 0x0a : 0x78]));
		sent++;
	}, 500);
	conn.stream.on('close', () => {
		clearInterval(timer);
		log({ user, event: 'close', trickled: id, bytes: sent });
	});
	conn.stream.on('error', () => clearInterval(timer));
}

// A new connection: trickle its greeting if a trickle session has stalled.  True if so.
function trickleGreeting(conn) {
	const armed = [...stalled].some((sess) => sess.user === 'trickle');

	if (armed) {
		trickleForever(conn, '(greeting)', 'greeting');
	}
	return armed;
}

// A statement of session "sess": true if it is one a trickle* session does not answer
function trickleStatement(sess, conn, sql) {
	if (!sess.user || !sess.user.startsWith('trickle')) {
		return false;
	}
	if (sql === null || /^SELECT `id`, `val` FROM /i.test(sql)) {
		log({ user: sess.user, event: 'stall' });
		stalled.add(sess);
		conn.stream.on('close', () => stalled.delete(sess));
		return true;
	}
	if (sess.user === 'trickle_kill' && /^KILL /i.test(sql) && stalled.size > 0) {
		trickleForever(conn, sess.user, 'kill');
		return true;
	}
	return false;
}
// ---- end of trickle ----

// ---------------------------------------------------------------- binary log (binlog_<mode>)

// One event: the common header (timestamp, type, server id 1, length, end_log_pos, flags), the
// body, no checksum (the format description says so)
function binlogEvent(type, body, endPos, flags) {
	const h = Buffer.alloc(19);
	h.writeUInt32LE(type === 4 && flags ? 0 : 1700000000, 0);
	h[4] = type;
	h.writeUInt32LE(1, 5);
	h.writeUInt32LE(19 + body.length, 9);
	h.writeUInt32LE(endPos, 13);
	h.writeUInt16LE(flags || 0, 17);
	return Buffer.concat([h, body]);
}

function u32(v) { const b = Buffer.alloc(4); b.writeUInt32LE(v); return b; }
function u64(v) { const b = Buffer.alloc(8); b.writeBigUInt64LE(BigInt(v)); return b; }
function cstr(s) { return Buffer.concat([Buffer.from(s, 'utf8'), Buffer.from([0])]); }

const BINLOG_FILE = 'fake-bin.000001';

// The honest events of one dump, with their end positions counted from offset 4
function binlogEvents(mode) {
	const events = [];
	let pos = 4;
	let inGroup = false;
	const add = (type, body, flags, badPos) => {
		const len = 19 + body.length;
		const fake = flags === 0x20;
		if (!fake) {
			pos += len;
		}
		events.push(binlogEvent(type, body,
			fake || (mode === 'pos0' && inGroup) ? 0 : pos + (badPos ? 100 : 0), flags));
	};
	// the dump's made-up ROTATE naming the file
	add(4, Buffer.concat([u64(4), Buffer.from(BINLOG_FILE)]), 0x20);
	// FORMAT_DESCRIPTION: version 4, MariaDB, header 19, post-header lengths, no checksum
	const post = Buffer.alloc(166);
	post[2 - 1] = 13;		// QUERY
	post[4 - 1] = 8;		// ROTATE
	post[19 - 1] = 8;		// TABLE_MAP
	post[23 - 1] = 8; post[24 - 1] = 8; post[25 - 1] = 8;	// rows v1
	post[161 - 1] = 4;		// BINLOG_CHECKPOINT
	post[162 - 1] = 19;		// GTID
	post[163 - 1] = 4;		// GTID_LIST
	const version = Buffer.alloc(50);
	version.write('10.11.6-MariaDB-hostile');
	add(15, Buffer.concat([Buffer.from([4, 0]), version, u32(0), Buffer.from([19]), post,
		Buffer.from([0]), u32(0)]));
	// GTID 0-1-1, not standalone
	add(162, Buffer.concat([u64(1), u32(0), Buffer.from([0]), Buffer.alloc(6)]));
	const query = (q) => Buffer.concat([u32(1), u32(0), Buffer.from([6]), Buffer.alloc(2),
		Buffer.alloc(2), cstr('fakedb'), Buffer.from(q)]);
	inGroup = true;
	add(2, query('BEGIN'));
	// TABLE_MAP 42: fakedb.hostile_t (id int, val varchar(40)), signedness
	add(19, Buffer.concat([Buffer.from([42, 0, 0, 0, 0, 0, 0, 0]), Buffer.from([6]), cstr('fakedb'),
		Buffer.from([9]), cstr('hostile_t'), Buffer.from([2, 3, 15]),
		mode === 'shortmeta' ? Buffer.from([1, 40]) : Buffer.from([2, 40, 0]),
		Buffer.from([0x02]), Buffer.from([1, 1, 0x00])]));
	// WRITE_ROWS v1: (1, 'one'), (2, 'two')
	const row = (id, val, lenByte) => Buffer.concat([Buffer.from([0]), u32(id),
		Buffer.from([lenByte === undefined ? Buffer.byteLength(val) : lenByte]), Buffer.from(val)]);
	add(23, Buffer.concat([Buffer.from([42, 0, 0, 0, 0, 0, 1, 0]), Buffer.from([2]), Buffer.from([0x03]),
		row(1, 'one'), row(2, 'two', mode === 'longval' ? 200 : undefined)]), 0, mode === 'badpos');
	inGroup = false;
	add(2, query('COMMIT'));
	return events;
}

let binlogDumps = 0;

// Spoil one event of the stream for the Nth dump: truncate it (its length fixed to match,
// so that only what follows the framing is wrong) or flip one bit outside its length field
function fuzzEvents(events, n) {
	const k = 1 + (n % (events.length - 1));	// never the first ROTATE alone
	const ev = Buffer.from(events[k]);
	let spoiled;
	if (n % 2 === 0) {
		const cut = 19 + ((n * 7) % Math.max(1, ev.length - 19));
		spoiled = ev.subarray(0, cut);
		spoiled.writeUInt32LE(spoiled.length, 9);
	} else {
		let at = (n * 37) % ev.length;
		if (at >= 9 && at < 13) {
			at = 13;
		}
		ev[at] ^= 1 << (n % 8);
		spoiled = ev;
	}
	events[k] = spoiled;
	return events;
}

function binlogDump(user, conn) {
	const mode = user.replace(/^binlog_/, '');
	let events;

	conn.sequenceId = 1;
	if (mode === 'gone') {
		conn.writeError({ code: 1236, message: "Could not find first log file name in binary log index file" });
		return;
	}
	events = binlogEvents(mode);
	if (mode === 'fuzz') {
		events = fuzzEvents(events, ++binlogDumps);
	}
	events.push(binlogEvent(27, Buffer.from(BINLOG_FILE), 0, 0));	// heartbeat
	events.forEach((ev) => conn.writePacket(raw(Buffer.concat([Buffer.from([0]), ev]))));
}

// One client session: the handshake, then one command after another.
class Session extends Command {
	start(packet, conn) {
		conn.serverConfig = { encoding: 'utf8', characterSet: UTF8MB4 };
		this.hello = new Packets.Handshake({
			protocolVersion: 10, serverVersion: SERVER_VERSION, connectionId: ++Session.ids,
			statusFlags: 2, characterSet: UTF8MB4, capabilityFlags: CAPS,
		});
		this.hello.setScrambleData(() => conn.writePacket(this.hello.toPacket(0)));
		return Session.prototype.handshakeResponse;
	}

	handshakeResponse(packet, conn) {
		const r = Packets.HandshakeResponse.fromPacket(packet, CAPS);

		this.user = r.user;
		log({ user: r.user, event: 'handshake_response', plugin: r.authPluginName,
			database: r.database, auth_response_hex: Buffer.from(r.authToken || '').toString('hex') });
		if (r.user === 'cleartext') {
			log({ user: r.user, event: 'auth_switch_request', plugin: 'mysql_clear_password' });
			conn.writePacket(new Packets.AuthSwitchRequest({
				pluginName: 'mysql_clear_password', pluginData: Buffer.alloc(0),
			}).toPacket());
			return Session.prototype.authSwitchResponse;
		}
		conn.writeOk();
		conn.sequenceId = 0;
		return Session.prototype.command;
	}

	authSwitchResponse(packet, conn) {
		const body = packet.buffer.slice(packet.offset, packet.end);

		log({ user: this.user, event: 'auth_switch_response', hex: body.toString('hex'),
			text: body.toString('latin1') });
		conn.writeOk();
		conn.sequenceId = 0;
		return Session.prototype.command;
	}

	command(packet, conn) {
		const body = packet.buffer.slice(packet.offset, packet.end);

		if (this.infile && !this.infile.done) {
			// the client's answer to a LOCAL INFILE request: data packets, then an empty one
			if (body.length > 0) {
				this.infile.bytes += body.length;
				this.infile.data.push(body.toString('latin1'));
				return Session.prototype.command;
			}
			this.infile.done = true;
			log({ user: this.user, event: 'infile_data', bytes: this.infile.bytes,
				text: this.infile.data.join('') });
			conn.writeOk();
			conn.sequenceId = 0;
			return Session.prototype.command;
		}
		switch (body[0]) {
			case 0x01:			// COM_QUIT
				log({ user: this.user, event: 'quit' });
				conn.stream.end();
				return null;
			case 0x03: {		// COM_QUERY
				const sql = body.slice(1).toString('utf8');
				log({ user: this.user, event: 'query', sql });
				if (trickleStatement(this, conn, sql)) {
					return Session.prototype.command;
				}
				if (this.user === 'shortrow' && /^SELECT `id`, `val` FROM /i.test(sql)) {
					shortRows(conn);
				} else if (!answer(this, conn, sql)) {
					return Session.prototype.command;
				}
				break;
			}
			case 0x16: {		// COM_STMT_PREPARE
				const sql = body.slice(1).toString('utf8');
				log({ user: this.user, event: 'prepare', sql });
				if (/^SELECT `id`, `val` FROM /i.test(sql)) {
					this.stmts = this.stmts || {};
					this.stmtId = (this.stmtId || 0) + 1;
					this.stmts[this.stmtId] = sql;
					prepareAnswer(conn, this.stmtId);
				} else {
					log({ user: this.user, event: 'unknown_prepare', sql });
					conn.writeError({ code: 1064, message: 'the fake server does not prepare this query' });
				}
				break;
			}
			case 0x17: {		// COM_STMT_EXECUTE
				const id = body.readUInt32LE(1);
				log({ user: this.user, event: 'execute', id });
				if (this.stmts && this.stmts[id] && trickleStatement(this, conn, null)) {
					return Session.prototype.command;
				}
				if (this.stmts && this.stmts[id]) {
					executeAnswer(this.user, conn);
				} else {
					conn.writeError({ code: 1243, message: 'unknown prepared statement handler' });
				}
				break;
			}
			case 0x19:			// COM_STMT_CLOSE: no answer
				log({ user: this.user, event: 'stmt_close' });
				if (this.stmts) {
					delete this.stmts[body.readUInt32LE(1)];
				}
				conn.sequenceId = 0;
				return Session.prototype.command;
			case 0x12:			// COM_BINLOG_DUMP
				log({ user: this.user, event: 'binlog_dump', hex: body.toString('hex') });
				binlogDump(this.user, conn);
				return Session.prototype.command;
			case 0x0e:			// COM_PING
			case 0x02:			// COM_INIT_DB
				conn.writeOk();
				break;
			default:
				log({ user: this.user, event: 'packet', hex: body.toString('hex') });
				conn.writeError({ code: 1047, message: 'unknown command' });
		}
		conn.sequenceId = 0;
		return Session.prototype.command;
	}
}
Session.ids = 0;

// Command.execute treats a client packet that starts with 0xff as an error; here every
// packet is the client's data.
Session.prototype.execute = function (packet, conn) {
	if (!this.next) {
		this.next = this.start;
		conn._resetSequenceId();
	}
	this.next = this.next(packet, conn);
	return !this.next;
};

const server = mysql.createServer();
server.on('connection', (conn) => {
	const sess = new Session();

	conn.stream.setNoDelay(true);	// answers are many small packets: no Nagle delays
	if (trickleGreeting(conn)) {
		return;
	}

	conn.on('error', (err) => log({ user: sess.user, event: 'error', message: err.message }));
	conn.stream.on('close', () => log({ user: sess.user, event: 'close' }));
	conn.addCommand(sess);
});
server.listen(0, '127.0.0.1', () => {
	fs.writeFileSync(args['port-file'], String(server._server.address().port));
});
process.on('SIGTERM', () => process.exit(0));
