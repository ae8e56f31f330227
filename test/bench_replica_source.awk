# test/bench_replica_source.awk: the SQL that builds test/bench_replica's source, an OpenDental
# replica of the shape in opendental-tables.csv (one line a table: table, rows, size_mb,
# primary_key, columns, sync_profile, change_column), at a scale.
#
#   awk -F, -v scale=0.25 -v db=od -v out=DIR -f bench_replica_source.awk opendental-tables.csv
#
# Writes DIR/gen.0.sql and DIR/gen.1.sql (the tables split in two halves of about equal rows,
# for two clients at once; feed the CSV biggest first for a good split) and DIR/tables.tsv
# (table, rows, primary key, stamp column, sync_profile).  Every table is MyISAM, utf8mb3:
#
#   - rows: round(rows x scale), at least 1 for a table that has rows, 0 for an empty one;
#   - columns: as many as the CSV says.  The key `...Num` bigint AUTO_INCREMENT; the change
#     column a TIMESTAMP DEFAULT/ON UPDATE current_timestamp() where the CSV names a stamp
#     (SecDateTEdit, DateTStamp), a plain DATETIME that edits do not move where it names
#     another date column (DateTEntry, EntryDateTime, ...); the rest cycle through OpenDental's
#     type mix by frequency: bigint foreign keys, varchar(255), tinyint(4), tinyint(3) unsigned,
#     date ("no date" 0001-01-01 in 3-45% of a column's rows), double (money, whole cents), text
#     (NULL on 10%), int(11), datetime, time, float (quarters), mediumtext, char(1) utf8mb3_bin;
#     string lengths sized so that a row is about what the CSV's size_mb / rows says (a table
#     whose rows are over 60 kB, documentmisc, carries that much base64 in its first text);
#   - secondary indexes: int(columns x 0.45), 2 more from 10 columns on (procedurelog 67
#     columns: 32; securitylog 12: 7), on the foreign keys first, then the dates, datetimes,
#     small integers, two varchars, then (key, date) pairs; the stamp leads an index in every
#     third stamped table only (OpenDental: 26 stamps lead none);
#   - the tables without a primary key: the first column is a plain bigint, and every 50th
#     row repeats the one before it exactly.
# Values are fixed functions of the row number, one INSERT .. SELECT over MariaDB's
# seq_1_to_N per table.
BEGIN {
	split("PatNum ProvNum ClinicNum UserNum CodeNum PlanNum ClaimNum AptNum DefNum EmployeeNum InsSubNum FeeSchedNum CarrierNum OperatoryNum ProcNum", fk_names, " ")
	split("Descript Note2 Abbr FName LName Address City Zip Email Phone Tooth Surf ClaimId Remarks Code", vc_names, " ")
	split("Status Priority IsHidden ProcStatus Urgency PlaceService IsNew Kind", ti_names, " ")
	split("ProcDate DateService DateEntry DateCP DatePay DateSent", d_names, " ")
	split("Note Comments Extra Details", tx_names, " ")
	fixed["bigint"] = 8; fixed["tinyint"] = 1; fixed["tinyintu"] = 1; fixed["date"] = 3
	fixed["double"] = 8; fixed["int"] = 4; fixed["datetime"] = 8; fixed["time"] = 3
	fixed["float"] = 4; fixed["char"] = 3; fixed["stamp"] = 4; fixed["varchar"] = 1
	fixed["text"] = 4; fixed["mediumtext"] = 4
	# OpenDental's type mix: the cycle the non-key columns take
	ncycle = split("bigint varchar tinyint bigint date tinyintu double varchar bigint text int tinyint datetime bigint date double time float varchar char", cycle, " ")
	half[0] = 0; half[1] = 0
	stamped = 0
	printf "" > (out "/tables.tsv")
}

function q(s) { return "`" s "`" }

# a column name of kind k (the n-th of its kind), not yet used in this table
function colname(k, n,    base, name, i) {
	if (k == "bigint") base = fk_names[(n - 1) % 15 + 1] (n > 15 ? int((n - 1) / 15) + 1 : "")
	else if (k == "varchar") base = vc_names[(n - 1) % 15 + 1] (n > 15 ? int((n - 1) / 15) + 1 : "")
	else if (k == "tinyint" || k == "tinyintu") base = ti_names[(n - 1) % 8 + 1] (n > 8 ? int((n - 1) / 8) + 1 : "")
	else if (k == "date") base = d_names[(n - 1) % 6 + 1] (n > 6 ? int((n - 1) / 6) + 1 : "")
	else if (k == "text" || k == "mediumtext") base = tx_names[(n - 1) % 4 + 1] (n > 4 ? int((n - 1) / 4) + 1 : "")
	else if (k == "double") base = "Amount" n
	else if (k == "int") base = "ItemOrder" n
	else if (k == "datetime") base = "DateTime" n
	else if (k == "time") base = "TimeAt" n
	else if (k == "float") base = "Factor" n
	else if (k == "blob") base = "RawBase64"
	else base = "Flag" n
	name = base
	for (i = 2; tolower(name) in used; i++) name = base "_" i
	used[tolower(name)] = 1
	return name
}

function ddl_type(k) {
	if (k == "bigint") return "bigint(20) NOT NULL DEFAULT 0"
	if (k == "varchar") return "varchar(255) NOT NULL DEFAULT ''"
	if (k == "tinyint") return "tinyint(4) NOT NULL DEFAULT 0"
	if (k == "tinyintu") return "tinyint(3) unsigned NOT NULL DEFAULT 0"
	if (k == "date") return "date NOT NULL DEFAULT '0001-01-01'"
	if (k == "double") return "double NOT NULL DEFAULT 0"
	if (k == "text") return "text DEFAULT NULL"
	if (k == "int") return "int(11) NOT NULL DEFAULT 0"
	if (k == "datetime" || k == "changed") return "datetime NOT NULL DEFAULT '0001-01-01 00:00:00'"
	if (k == "time") return "time NOT NULL DEFAULT '00:00:00'"
	if (k == "float") return "float NOT NULL DEFAULT 0"
	if (k == "mediumtext") return "mediumtext DEFAULT NULL"
	if (k == "char") return "char(1) CHARACTER SET utf8mb3 COLLATE utf8mb3_bin NOT NULL DEFAULT ''"
	if (k == "stamp") return "timestamp NOT NULL DEFAULT current_timestamp() ON UPDATE current_timestamp()"
	if (k == "key") return "bigint(20) NOT NULL AUTO_INCREMENT"
	if (k == "plainkey") return "bigint(20) NOT NULL DEFAULT 0"
}

# a string of about len characters (len x 0.5 .. 1.5 over the rows), some empty, some not ASCII
function str_expr(len, j,    l) {
	l = int(len)
	if (l < 1) l = 1
	return "IF((b + " j ") MOD 11 = 0, '', LEFT(CONCAT(b, ' ', ELT(1 + (b + " j ") MOD 6, 'Exam', 'Prophy', 'Crown D2740', 'Zoë''s note', 'Composite – 2 surf.', 'BWX'), ' ', REPEAT('tooth 14 MOD perio ', " int(l / 19) + 1 ")), GREATEST(1, " l " * (1 + (b + " j ") MOD 3) DIV 2)))"
}

# the value of column j of kind k for row b
function val_expr(k, j, len) {
	if (k == "key" || k == "plainkey") return "b"
	if (k == "bigint") return "IF((b + " j ") MOD 7 = 0, 0, (b * " (7919 + 2 * j) " + " j ") MOD " fkmod " + 1)"
	if (k == "varchar") return str_expr(len, j)
	if (k == "tinyint") return "(b + " j ") MOD 7 - 1"
	if (k == "tinyintu") return "(b * 3 + " j ") MOD 256"
	if (k == "date") return "IF((b * 13 + " j ") MOD 100 < " (3 + (j * 7) % 43) ", '0001-01-01', DATE'2005-01-01' + INTERVAL (b * 31 + " j ") MOD 7300 DAY)"
	if (k == "double") return "((b * 104729 + " j ") MOD 2000000) / 100 - 5000"
	if (k == "blob")
		return "(SELECT GROUP_CONCAT(TO_BASE64(UNHEX(SHA2(CONCAT(b, '-', z.seq), 512))) SEPARATOR '') FROM seq_1_to_" int(len / 88) + 1 " z)"
	if (k == "text" || k == "mediumtext")
		return "IF((b + " j ") MOD " (k == "text" ? "10 = 3" : "2 = 1") ", NULL, CONCAT('note ', b, ': ', " str_expr(len, j) ", IF(b MOD 97 = 0, 'tab\\there\\nline 2 \\\\ backslash', '')))"
	if (k == "int") return "(b * 7 + " j ") MOD 100000 - 50"
	if (k == "datetime") return "IF((b + " j ") MOD 50 = 0, '0001-01-01 00:00:00', TIMESTAMP'2008-01-01 00:00:00' + INTERVAL (b * 15485863 + " j ") MOD 536112000 SECOND)"
	if (k == "changed") return "TIMESTAMP'2012-01-01 00:00:00' + INTERVAL (b * 7877 + " j ") MOD 400000000 SECOND"
	if (k == "time") return "SEC_TO_TIME((b * 37 + " j ") MOD 86400)"
	if (k == "float") return "((b + " j ") MOD 4000) / 4"
	if (k == "char") return "ELT(1 + (b + " j ") MOD 4, 'A', 'B', 'C', 'X')"
	if (k == "stamp") return "TIMESTAMP'2015-01-01 00:00:00' + INTERVAL (b * 7877) MOD 315360000 SECOND"
}

{ sub(/\r$/, "") }	# the CSV has CRLF line ends
$1 == "table" { next }
{
	table = $1; src_rows = $2 + 0; size_mb = $3 + 0; pk = $4; ncols = $5 + 0; profile = $6; change = $7
	rows = (src_rows == 0) ? 0 : int(src_rows * scale + 0.5)
	if (src_rows > 0 && rows < 1) rows = 1
	fkmod = int(rows / 8) + 10
	delete used; delete kind; delete name
	n = 0; delete per_kind
	# the key (or, without one, a plain bigint first column)
	n++
	if (pk != "") { name[n] = pk; kind[n] = "key" }
	else { name[n] = table "Num"; kind[n] = "plainkey" }
	used[tolower(name[n])] = 1
	stamp = ""
	have_change = (change != "" && change != pk && change !~ /Num$/)
	if (have_change) used[tolower(change)] = 1
	others = ncols - 1 - (have_change ? 1 : 0)
	for (c = 0; c < others; c++) {
		k = cycle[c % ncycle + 1]
		if (k == "char" && int(c / ncycle) % 2 == 1) k = "mediumtext"
		n++
		kind[n] = k
		per_kind[k]++
		name[n] = colname(k, per_kind[k])
	}
	# a table of rows over 60 kB (documentmisc: base64 images) keeps them in its last column
	per_row = (src_rows > 0) ? size_mb * 1048576 / src_rows * 0.55 : 60
	blobcol = 0
	if (per_row > 60000 && others > 0) {
		blobcol = n
		delete used[tolower(name[n])]
		kind[n] = "mediumtext"
		name[n] = colname("blob", 0)
	}
	if (have_change) {
		n++
		name[n] = change
		kind[n] = (change == "SecDateTEdit" || change == "DateTStamp") ? "stamp" : "changed"
		if (kind[n] == "stamp") { stamp = change; stamped++ }
	}
	# string sizes: about 55% of the CSV's bytes per row are data
	strings = 0; fixb = 0
	for (c = 1; c <= n; c++) {
		k = kind[c]
		if (k == "varchar") strings += 1
		else if (k == "text" || k == "mediumtext") strings += 2
		else fixb += (k in fixed) ? fixed[k] : 8
	}
	left = per_row - fixb
	if (left < 8 * strings) left = 8 * strings
	vlen = strings ? left / strings : 0
	if (vlen > 120) vlen = 120
	tlen = strings ? 2 * left / strings : 0
	if (tlen > 4000) tlen = 4000

	file = (half[0] <= half[1]) ? 0 : 1
	half[file] += rows * ncols + 50
	f = out "/gen." file ".sql"
	printf "CREATE TABLE %s.%s (\n", q(db), q(table) > f
	for (c = 1; c <= n; c++)
		printf "  %s %s,\n", q(name[c]), ddl_type(kind[c]) > f
	# secondary indexes
	nidx = int(ncols * 0.45) + (ncols >= 10 ? 2 : 0)
	delete cand; nc = 0
	if (stamp != "" && stamped % 3 == 0) cand[++nc] = q(stamp)
	split("bigint date datetime tinyint tinyintu int", order, " ")
	for (o = 1; o <= 6; o++)
		for (c = 2; c <= n; c++)
			if (kind[c] == order[o]) cand[++nc] = q(name[c])
	nv = 0
	for (c = 2; c <= n && nv < 2; c++)
		if (kind[c] == "varchar") { cand[++nc] = q(name[c]); nv++ }
	for (c = 2; c <= n; c++)
		if (kind[c] == "bigint")
			for (d = 2; d <= n; d++)
				if (kind[d] == "date" || kind[d] == "datetime") cand[++nc] = q(name[c]) ", " q(name[d])
	for (i = 1; i <= nidx && i <= nc && i <= 60; i++) {
		iname = cand[i]
		gsub(/`/, "", iname); gsub(/, /, "_", iname)
		printf "  KEY %s (%s),\n", q("ix_" iname), cand[i] > f
	}
	if (pk != "") printf "  PRIMARY KEY (%s)\n", q(pk) > f
	else printf "  KEY %s (%s)\n", q("ix_" name[1]), q(name[1]) > f
	printf ") ENGINE=MyISAM DEFAULT CHARSET=utf8mb3 COLLATE=utf8mb3_general_ci;\n" > f
	if (rows > 0) {
		printf "INSERT INTO %s.%s (", q(db), q(table) > f
		for (c = 1; c <= n; c++) printf "%s%s", (c > 1 ? ", " : ""), q(name[c]) > f
		printf ")\nSELECT " > f
		for (c = 1; c <= n; c++)
			printf "%s%s", (c > 1 ? ",\n  " : ""), (c == blobcol ? val_expr("blob", c, per_row) : val_expr(kind[c], c, (kind[c] == "varchar" ? vlen : tlen))) > f
		if (pk != "")
			printf "\nFROM (SELECT CAST(seq AS SIGNED) AS b FROM seq_1_to_%d) s;\n", rows > f
		else
			printf "\nFROM (SELECT CAST(IF(seq MOD 50 = 0, seq - 1, seq) AS SIGNED) AS b FROM seq_1_to_%d) s;\n", rows > f
	}
	printf "%s\t%d\t%s\t%s\t%s\t%d\n", table, rows, pk, stamp, profile, ncols > (out "/tables.tsv")
}
