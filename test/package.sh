#!/usr/bin/env bash
# test/package.sh: build the Debian package, and check an installed one.
#
#   bash test/package.sh build [OUTDIR]   installs the build dependencies (debhelper,
#                                         postgresql-server-dev-all, libmariadb-dev) and builds
#                                         postgresql-N-etl-pull with pg_buildext, one binary
#                                         package per PostgreSQL major in debian/pgversions that
#                                         is installed; the .debs go to OUTDIR (default ./build)
#   bash test/package.sh check DEB...     installs the packages (apt pulls postgresql-N and the
#                                         MariaDB client library), MariaDB and pg_cron, starts
#                                         throwaway servers (test/lib.sh), and checks that
#                                         CREATE EXTENSION etl_pull and a load of periomeasure
#                                         work from the packaged files: count and checksum
#                                         against MariaDB's own; prints "package: ok"
#
# `bash test/debian.sh 13 package` does both in two fresh Debian 13 roots: it builds in one and
# checks in another that has never seen a compiler.  Runs as root.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
REPO=$PWD

log() { printf 'etl_pull: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

apt_install() {
	local out
	out=$(mktemp)
	if ! { apt-get -qq update &&
		DEBIAN_FRONTEND=noninteractive apt-get -qq install -y --no-install-recommends "$@"; } \
		>"$out" 2>&1; then
		cat "$out" >&2
		rm -f "$out"
		die "apt-get install $* failed"
	fi
	rm -f "$out"
}

build() {
	local out=${1:-$REPO/build} src
	[[ $out == /* ]] || out=$PWD/$out
	apt_install build-essential debhelper dpkg-dev postgresql-server-dev-all libmariadb-dev
	# dpkg-buildpackage writes its results next to the source: build in a copy
	src=$(mktemp -d)/etl-pull
	mkdir -p "$src" "$out"
	tar -C "$REPO" --exclude=./build --exclude=./.git -cf - . | tar -C "$src" -xf -
	(cd "$src" && make -s clean >/dev/null 2>&1 || true)
	(cd "$src" && pg_buildext updatecontrol && dpkg-buildpackage -us -uc -b) >"$out/build.log" 2>&1 ||
		{ tail -n 50 "$out/build.log" >&2; die "dpkg-buildpackage failed (log: $out/build.log)"; }
	if grep -q 'warning:' "$out/build.log"; then
		grep 'warning:' "$out/build.log" >&2
		die "the package build has compiler warnings"
	fi
	cp "$(dirname "$src")"/postgresql-*-etl-pull_*.deb "$out/"
	rm -rf "$(dirname "$src")"
	ls "$out"/postgresql-*-etl-pull_*.deb
}

check() {
	local deb debs=() major so rows
	[ $# -gt 0 ] || die "usage: bash test/package.sh check DEB..."
	for deb in "$@"; do
		[[ $deb == */* ]] || deb=./$deb
		case $deb in *-dbgsym_*) continue ;; esac
		debs+=("$(cd "$(dirname "$deb")" && pwd)/$(basename "$deb")")
	done
	major=$(basename "${debs[0]}" | sed -n 's/^postgresql-\([0-9]*\)-etl-pull_.*/\1/p')
	[ -n "$major" ] || die "${debs[0]} is not a postgresql-N-etl-pull package"
	apt_install "${debs[@]}" "postgresql-$major-cron" mariadb-server mariadb-client \
		iproute2 procps
	so=/usr/lib/postgresql/$major/lib/etl_pull.so
	dpkg -S "$so" | grep -q "^postgresql-$major-etl-pull:" || die "$so is not from the package"
	# the license: the PostgreSQL License, as LICENSE and META.json say
	grep -q '^License: PostgreSQL$' "/usr/share/doc/postgresql-$major-etl-pull/copyright" ||
		die "the package's copyright file does not name the PostgreSQL License"
	grep -q '"license": "postgresql"' "$REPO/META.json" || die "META.json does not name the PostgreSQL License"
	cmp -s <(sed -n '/^ Permission to use/,$p' "/usr/share/doc/postgresql-$major-etl-pull/copyright" |
		sed 's/^ //; s/^\.$//') <(sed -n '/^Permission to use/,$p' "$REPO/LICENSE") ||
		die "the package's license text differs from LICENSE"

	unset PG_CONFIG # the packaged PostgreSQL: the distribution's (there is no pg_config here)
	# shellcheck source=test/lib.sh
	source "$REPO/test/lib.sh"
	ETL_PG_BIN=/usr/lib/postgresql/$major/bin
	trap etl_stop_servers EXIT
	etl_start_servers
	etl_make_periomeasure 10000
	etl_mysql <"$REPO/test/fixtures/periomeasure_checksum.sql"
	rows=$(PGTZ=UTC etl_psql -q -At -v port="$ETL_PULL_MYSQL_PORT" <<-'SQL'
		SET client_min_messages = warning;
		CREATE EXTENSION etl_pull;
		CREATE SERVER replica FOREIGN DATA WRAPPER etl_pull
		    OPTIONS (host '127.0.0.1', port :'port', dbname 'etl_test');
		CREATE USER MAPPING FOR postgres SERVER replica
		    OPTIONS (user 'etl', password 'etl_secret_pw');
		SELECT etl_pull.add_table('periomeasure', server => 'replica') \g /dev/null
		SELECT etl_pull.add_table('periomeasure_checksum', server => 'replica') \g /dev/null
		SELECT status FROM etl_pull.load_table('periomeasure') \g /dev/null
		SELECT status FROM etl_pull.load_table('periomeasure_checksum') \g /dev/null
		SELECT m.row_count || ' ' || p.count || ' ' || (m.checksum = p.checksum)
		  FROM periomeasure_checksum m,
		       (SELECT count(*),
		               sum(('x' || left(md5(concat_ws('|',
		                   periomeasurenum, perioexamnum, sequencetype, inttooth, toothvalue,
		                   mbvalue, bvalue, dbvalue, mlvalue, lvalue, dlvalue,
		                   coalesce(to_char(secdatetentry, 'YYYY-MM-DD HH24:MI:SS'), '\N'),
		                   coalesce(to_char(secdatetedit AT TIME ZONE 'UTC',
		                                    'YYYY-MM-DD HH24:MI:SS'), '\N'),
		                   coalesce(to_char(datetmeasured, 'YYYY-MM-DD HH24:MI:SS.US'), '\N'))),
		                   15))::bit(60)::bigint) AS checksum
		          FROM public.periomeasure) p;
	SQL
	) || die "CREATE EXTENSION or the load failed"
	[ "$rows" = "10000 10000 true" ] ||
		die "periomeasure: MariaDB rows, PostgreSQL rows, checksums equal: $rows (want 10000 10000 true)"
	echo "package: ok (postgresql-$major-etl-pull: CREATE EXTENSION and a load of 10000 rows, checksum equal)"
}

[ "$(id -u)" -eq 0 ] || die "test/package.sh must run as root (apt-get, servers)"
case ${1:-} in
build) shift && build "$@" ;;
check) shift && check "$@" ;;
*) echo "usage: bash test/package.sh build [OUTDIR] | check DEB..." >&2 && exit 2 ;;
esac
