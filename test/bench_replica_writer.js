// test/bench_replica_writer.js: test/bench_replica's busy clinic.  Plays OpenDental's writes
// against the source, one connection, single-row statements as its .NET client sends them, and
// times every statement (the practice's wait, when a MyISAM read lock holds it).
//
//   node bench_replica_writer.js TABLES.TSV RATE COUNT SEED SUMMARY.JSON
//
// TABLES.TSV: test/bench_replica_source.awk's list (table, rows, primary key, stamp column,
// sync_profile, columns).  RATE: statements a second (0: as fast as the server answers); COUNT:
// statements to send (0: until SIGTERM or SIGINT).  The connection: BENCH_MYSQL_HOST,
// BENCH_MYSQL_PORT, BENCH_MYSQL_USER, MYSQL_PWD, BENCH_MYSQL_DB.  NODE_PATH must find mysql2.
//
// Real time (1x) is 970 statements per 15 minutes, in this mix: 650 in-place UPDATEs of one row
// of the in_place_updates tables (a table picked with weight sqrt(rows); one in six sets the
// stamp column to its own value, an edit that leaves the stamp alone), 50 INSERTs into them, 30
// hard DELETEs (half in appointment), and 240 log appends (securitylog 100, securityloghash 100,
// entrylog 20, inseditlog 20).  Keys are drawn from 1..MAX(key) read at the start, so some
// UPDATEs and DELETEs find no row (counted apart).  On exit it writes SUMMARY.JSON: statements
// sent by kind, rows changed, the longest statement (ms, kind, table, when) and the 50th, 99th
// percentiles, and how many took over 500 ms.
//
// BENCH_HEARTBEAT (a table, db.name, with an AUTO_INCREMENT key and a DECIMAL(17,6) at_epoch):
// over a second connection, one row a second holding the source's clock, UNIX_TIMESTAMP(NOW(6)),
// for test/bench_stream's lag measured outside the stream (counted in the summary as heartbeats).
'use strict';
const fs = require('fs');
const mysql = require('mysql2/promise');

const [tablesFile, rateArg, countArg, seedArg, summaryFile] = process.argv.slice(2);
const rate = Number(rateArg);
const count = Number(countArg);
if (!summaryFile || !(rate >= 0) || !(count >= 0)) {
	console.error('usage: node bench_replica_writer.js TABLES.TSV RATE COUNT SEED SUMMARY.JSON');
	process.exit(2);
}

// mulberry32: a seeded generator, so that two runs with one seed play the same clinic
let seed = Number(seedArg) >>> 0;
function random() {
	seed = (seed + 0x6D2B79F5) >>> 0;
	let t = seed;
	t = Math.imul(t ^ (t >>> 15), t | 1);
	t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
	return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const pick = (items) => items[Math.floor(random() * items.length)];
function weighted(items) {
	const total = items.reduce((s, x) => s + x.weight, 0);
	let r = random() * total;
	for (const x of items) {
		r -= x.weight;
		if (r < 0) return x;
	}
	return items[items.length - 1];
}

const LOGS = { securitylog: 100, securityloghash: 100, entrylog: 20, inseditlog: 20 };
const MIX = [['update', 650], ['insert', 50], ['delete', 30], ['log', 240]];

let stopping = false;
process.on('SIGTERM', () => { stopping = true; });
process.on('SIGINT', () => { stopping = true; });

async function main() {
	const conn = await mysql.createConnection({
		host: process.env.BENCH_MYSQL_HOST, port: Number(process.env.BENCH_MYSQL_PORT),
		user: process.env.BENCH_MYSQL_USER, password: process.env.MYSQL_PWD,
		database: process.env.BENCH_MYSQL_DB, charset: 'utf8mb4_general_ci',
	});
	await conn.query("SET SESSION sql_mode = '', time_zone = '+00:00'");
	const listed = fs.readFileSync(tablesFile, 'utf8').split('\n').filter(Boolean)
		.map((l) => l.split('\t'))
		.map(([name, rows, key, stamp, profile]) => ({ name, rows: Number(rows), key, stamp, profile }));
	const [cols] = await conn.query(
		`SELECT TABLE_NAME AS t, COLUMN_NAME AS c, DATA_TYPE AS d, COLUMN_KEY AS k, EXTRA AS e
		   FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE()
		  ORDER BY TABLE_NAME, ORDINAL_POSITION`);
	const byTable = new Map();
	for (const r of cols) {
		if (!byTable.has(r.t)) byTable.set(r.t, []);
		byTable.get(r.t).push(r);
	}
	const tables = [];
	for (const t of listed) {
		if (!t.key || !(t.profile === 'in_place_updates' || t.name in LOGS)) continue;
		const c = byTable.get(t.name) || [];
		t.ints = c.filter((x) => ['tinyint', 'int'].includes(x.d) && x.k !== 'PRI').map((x) => x.c);
		t.chars = c.filter((x) => x.d === 'varchar').map((x) => x.c);
		t.fks = c.filter((x) => x.d === 'bigint' && x.k !== 'PRI').map((x) => x.c);
		// a plain datetime the application sets on insert (DateTEntry, EntryDateTime, ...)
		t.entry = c.filter((x) => x.d === 'datetime' && /^(DateT|Date[A-Z].*Time|EntryDate|TimeEntry)/.test(x.c))
			.map((x) => x.c).pop();
		const [[m]] = await conn.query(`SELECT COALESCE(MAX(\`${t.key}\`), 0) AS m FROM \`${t.name}\``);
		t.max = Number(m.m);
		t.weight = Math.sqrt(t.rows);
		tables.push(t);
	}
	const inPlace = tables.filter((t) => t.profile === 'in_place_updates' && t.rows > 0 && t.ints.length);
	const logs = Object.entries(LOGS).map(([name, weight]) => ({ t: tables.find((x) => x.name === name), weight }))
		.filter((x) => x.t);
	const mix = MIX.map(([kind, weight]) => ({ kind, weight }));
	if (!inPlace.length) throw new Error('no in-place table with rows');

	const beats = await heartbeat(process.env.BENCH_HEARTBEAT);
	const times = [];
	const sent = {}, changed = {}, missed = {};
	let longest = { ms: 0 };
	const started = Date.now();
	const q = (s) => '`' + s + '`';
	for (let i = 0; !stopping && (count === 0 || i < count); i++) {
		if (rate > 0) {
			const due = started + (i * 1000) / rate;
			const now = Date.now();
			if (due > now) await new Promise((r) => setTimeout(r, due - now));
			if (stopping) break;
		}
		let kind = weighted(mix).kind;
		let t, sql;
		if (kind === 'log') {
			t = weighted(logs).t;
			kind = 'log';
		} else if (kind === 'delete') {
			t = (random() < 0.5 && inPlace.find((x) => x.name === 'appointment')) || weighted(inPlace);
		} else {
			t = weighted(inPlace);
		}
		const n = i + 1;
		if (kind === 'update') {
			const key = 1 + Math.floor(random() * t.max);
			const keep = t.stamp && random() < 1 / 6;
			const set = (t.chars.length && n % 2)
				? `${q(pick(t.chars))} = CONCAT('edit ${n} ', LEFT(${q(t.chars[0])}, 200))`
				: `${q(pick(t.ints))} = (${q(t.ints[0])} + ${1 + (n % 5)}) MOD 100`;
			sql = `UPDATE ${q(t.name)} SET ${set}${keep ? `, ${q(t.stamp)} = ${q(t.stamp)}` : ''} WHERE ${q(t.key)} = ${key}`;
			if (keep) kind = 'update_keep_stamp';
		} else if (kind === 'delete') {
			sql = `DELETE FROM ${q(t.name)} WHERE ${q(t.key)} = ${1 + Math.floor(random() * t.max)}`;
		} else {
			const c = [], v = [];
			if (t.fks.length) { c.push(q(t.fks[0])); v.push(String(1 + Math.floor(random() * 5000))); }
			if (t.chars.length) { c.push(q(t.chars[0])); v.push(`'new ${n} Zoë'`); }
			if (t.ints.length) { c.push(q(t.ints[0])); v.push(String(n % 7)); }
			if (t.entry) { c.push(q(t.entry)); v.push('NOW()'); }
			sql = `INSERT INTO ${q(t.name)} (${c.join(', ')}) VALUES (${v.join(', ')})`;
		}
		const t0 = process.hrtime.bigint();
		const [res] = await conn.query(sql);
		const ms = Number(process.hrtime.bigint() - t0) / 1e6;
		times.push(ms);
		sent[kind] = (sent[kind] || 0) + 1;
		if (res.affectedRows > 0) {
			changed[kind] = (changed[kind] || 0) + res.affectedRows;
			if (res.insertId && res.insertId > t.max) t.max = res.insertId;
		} else {
			missed[kind] = (missed[kind] || 0) + 1;
		}
		if (ms > longest.ms)
			longest = { ms, kind, table: t.name, at_s: (Date.now() - started) / 1000 };
	}
	await conn.end();
	const heartbeats = await beats.stop();
	times.sort((a, b) => a - b);
	const pct = (p) => (times.length ? times[Math.min(times.length - 1, Math.floor(p * times.length))] : 0);
	fs.writeFileSync(summaryFile, JSON.stringify({
		statements: times.length, seconds: (Date.now() - started) / 1000, sent, changed,
		no_row: missed, longest, p50_ms: pct(0.5), p99_ms: pct(0.99),
		over_500ms: times.filter((x) => x > 500).length, heartbeats,
	}) + '\n');
}

// heartbeat(TABLE): a row a second into TABLE over a connection of its own, until stop() (which
// returns how many were written); nothing when TABLE is empty
async function heartbeat(table) {
	if (!table) return { stop: async () => 0 };
	const hb = await mysql.createConnection({
		host: process.env.BENCH_MYSQL_HOST, port: Number(process.env.BENCH_MYSQL_PORT),
		user: process.env.BENCH_MYSQL_USER, password: process.env.MYSQL_PWD,
	});
	const sql = `INSERT INTO ${table.split('.').map((x) => '`' + x + '`').join('.')} (at_epoch) VALUES (UNIX_TIMESTAMP(NOW(6)))`;
	let n = 0, pending = Promise.resolve();
	const beat = () => { pending = pending.then(() => hb.query(sql)).then(() => { n++; }); };
	beat();
	const timer = setInterval(beat, 1000);
	return {
		stop: async () => {
			clearInterval(timer);
			await pending;
			await hb.end();
			return n;
		},
	};
}

main().catch((e) => {
	console.error(`bench_replica_writer: ${e.message}`);
	process.exit(1);
});
