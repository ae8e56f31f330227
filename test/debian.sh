#!/usr/bin/env bash
# test/debian.sh: run the test suite, the demo or the package test inside fresh Debian roots.
#
#   bash test/debian.sh 13 [run|demo|package]     (also: bash test/run --debian 13)
#
# Makes a minimal Debian root with debootstrap (from the archive this machine's apt uses, or
# $ETL_PULL_DEBIAN_MIRROR), copies the repository into it (the tracked files and the working
# tree's changes, not the build) in root's home, mounts /proc, /sys and /dev/shm, and runs there
# as root, exactly as on a fresh machine (the harness installs that distribution's packages):
#
#   run       bash test/run; the last line is its "N passed, N failed"
#   demo      bash test/demo, then checks that periomeasure arrived whole and stops the demo
#   package   bash test/package.sh build in one root, then test/package.sh check with the .debs
#             in a second fresh root that never had a compiler or the repository's build
#
# The exit status is that of what ran.  Whatever happens (failure, Ctrl-C), each root is cleaned
# up afterwards: every process running inside it is stopped, its mounts are unmounted and it is
# removed (ETL_PULL_KEEP=1 keeps them, unmounted, for a look).  Runs as root; needs debootstrap
# (installed when missing).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
REPO=$PWD

usage() { echo "usage: bash test/debian.sh 12|13 [run|demo|package]" >&2 && exit 2; }
DEBIAN_VERSION=${1:-13}
WHAT=${2:-run}
case $DEBIAN_VERSION in
12) SUITE=bookworm ;;
13) SUITE=trixie ;;
*) usage ;;
esac
case $WHAT in
run | demo | package) ;;
*) usage ;;
esac
ROOTS=()

log() { printf 'etl_pull: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

# The Debian archive apt uses here (deb822 .sources or sources.list), not the security one.
debian_mirror() {
	local uri
	if [ -n "${ETL_PULL_DEBIAN_MIRROR:-}" ]; then
		echo "$ETL_PULL_DEBIAN_MIRROR"
		return
	fi
	uri=$(cat /etc/apt/sources.list.d/*.sources 2>/dev/null |
		awk '/^URIs:/ { for (i = 2; i <= NF; i++) print $i }' | grep -v security | head -n 1)
	[ -n "$uri" ] || uri=$(awk '$1 == "deb" && $0 !~ /security/ { for (i = 2; i <= NF; i++)
		if ($i ~ /^[a-z]+:\/\//) { print $i; exit } }' /etc/apt/sources.list 2>/dev/null)
	echo "${uri:-http://deb.debian.org/debian}"
}

# Processes whose root directory is $1 (the servers a test started, anything left over).
root_pids() {
	local p
	for p in /proc/[0-9]*; do
		[ "$(readlink "$p/root" 2>/dev/null)" = "$1" ] && echo "${p#/proc/}"
	done
	return 0
}

# Mount points at or under $1, deepest first.
root_mounts() {
	awk -v r="$1" '$2 == r || index($2, r "/") == 1 { print $2 }' /proc/mounts | sort -r
}

# Stop what runs in root $1, unmount it and remove it.  Never removes a root that still has
# something mounted in it.
remove_root() {
	local root=$1 pids m i
	[ -d "$root" ] || return 0
	pids=$(root_pids "$root")
	if [ -n "$pids" ]; then
		log "stopping what still runs in $root: $(echo $pids)"
		# shellcheck disable=SC2086 # a list of pids
		kill -TERM $pids 2>/dev/null
		for ((i = 0; i < 100; i++)); do
			[ -z "$(root_pids "$root")" ] && break
			sleep 0.1
		done
		pids=$(root_pids "$root")
		# shellcheck disable=SC2086
		[ -z "$pids" ] || kill -KILL $pids 2>/dev/null
		sleep 0.5
	fi
	for m in $(root_mounts "$root"); do
		umount "$m" 2>/dev/null || umount -l "$m"
	done
	if [ -n "$(root_mounts "$root")" ]; then
		log "error: still mounted under $root, not removing it"
		return 1
	fi
	if [ "${ETL_PULL_KEEP:-0}" = 1 ]; then
		log "kept $root"
	else
		rm -rf --one-file-system "$root"
	fi
}

# EXIT trap: every root made goes, whatever happened.
cleanup() {
	local rc=$? root
	trap - EXIT INT TERM
	set +e
	for root in "${ROOTS[@]}"; do
		remove_root "$root" || rc=1
	done
	exit "$rc"
}

# Make a fresh root, ready to chroot into; its path is in ROOT.
make_root() {
	local mirror start=$SECONDS
	ROOT=$(mktemp -d "${TMPDIR:-/var/tmp}/etl_pull_debian$DEBIAN_VERSION.XXXXXX")
	ROOTS+=("$ROOT")
	chmod 755 "$ROOT"
	mirror=$(debian_mirror)
	log "debootstrap $SUITE from $mirror into $ROOT"
	debootstrap --variant=minbase "$SUITE" "$ROOT" "$mirror" >"$ROOT.debootstrap.log" 2>&1 ||
		{ cat "$ROOT.debootstrap.log" >&2; rm -f "$ROOT.debootstrap.log"; die "debootstrap failed"; }
	rm -f "$ROOT.debootstrap.log"
	log "debootstrap done in $((SECONDS - start)) s"
	mount -t proc proc "$ROOT/proc"
	mount -t sysfs -o ro sysfs "$ROOT/sys"
	mkdir -p "$ROOT/dev/shm"
	mount -t tmpfs -o mode=1777,size=2g tmpfs "$ROOT/dev/shm" # PostgreSQL's dynamic shared memory
	cp /etc/resolv.conf "$ROOT/etc/resolv.conf"
	# This machine's own certificate authorities: a proxy on the way to the npm registry may be
	# signed by one (test/run installs the hostile server's npm packages)
	if compgen -G '/usr/local/share/ca-certificates/*.crt' >/dev/null; then
		mkdir -p "$ROOT/usr/local/share/ca-certificates" "$ROOT/etc/ssl"
		cp /usr/local/share/ca-certificates/*.crt "$ROOT/usr/local/share/ca-certificates/"
		cat /usr/local/share/ca-certificates/*.crt >"$ROOT/etc/ssl/etl_pull-local-cas.pem"
	fi
	# Package installs must not start services: the root shares this machine's network (ports)
	printf '#!/bin/sh\nexit 101\n' >"$ROOT/usr/sbin/policy-rc.d"
	chmod 755 "$ROOT/usr/sbin/policy-rc.d"
	mkdir -p "$ROOT/etc/postgresql-common/createcluster.d"
	echo 'create_main_cluster = false' >"$ROOT/etc/postgresql-common/createcluster.d/etl_pull.conf"
}

# The repository as a user would clone it, in root's home (not readable by postgres).
copy_repo() {
	mkdir -p "$1/root/etl_pull"
	git -C "$REPO" ls-files -z --cached --others --exclude-standard |
		(cd "$REPO" && xargs -0 -r sh -c 'for f; do [ -e "$f" ] && printf "%s\0" "$f"; done' sh) |
		tar -C "$REPO" --null -T - -cf - | tar -C "$1/root/etl_pull" -xf -
}

# in_root ROOT SCRIPT: run the bash SCRIPT as root in ROOT, from the repository's copy.
in_root() {
	chroot "$1" /usr/bin/env -i HOME=/root LANG=C.UTF-8 TERM=dumb \
		PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
		ETL_PULL_KEEP="${ETL_PULL_KEEP:-0}" NODE_EXTRA_CA_CERTS=/etc/ssl/etl_pull-local-cas.pem \
		bash -c "cd /root/etl_pull && $2"
}

main() {
	local rc=0 start=$SECONDS build check
	[ "$(id -u)" -eq 0 ] || die "test/debian.sh must run as root (debootstrap, chroot, mount)"
	if ! command -v debootstrap >/dev/null; then
		log "installing debootstrap"
		DEBIAN_FRONTEND=noninteractive apt-get -qq install -y --no-install-recommends \
			debootstrap >/dev/null || die "could not install debootstrap"
	fi
	trap cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	make_root
	copy_repo "$ROOT"
	log "running $WHAT in Debian $DEBIAN_VERSION ($SUITE)"
	case $WHAT in
	run) in_root "$ROOT" 'bash test/run' || rc=$? ;;
	demo)
		in_root "$ROOT" 'bash test/demo && source /tmp/etl_pull_demo/env.sh &&
			n=$(psql -XAtc "SELECT count(*) FROM public.periomeasure") &&
			echo "demo: public.periomeasure has $n rows" && test "$n" = 583000 &&
			bash test/demo stop' || rc=$?
		;;
	package)
		build=$ROOT
		in_root "$build" 'bash test/package.sh build /root/debs' || rc=$?
		if [ "$rc" -eq 0 ]; then
			make_root
			check=$ROOT
			copy_repo "$check"
			mkdir -p "$check/root/debs"
			cp "$build"/root/debs/*.deb "$check/root/debs/"
			remove_root "$build" # (its packages are not for the check's root)
			in_root "$check" 'bash test/package.sh check /root/debs/*.deb' || rc=$?
		fi
		;;
	esac
	log "Debian $DEBIAN_VERSION: $WHAT ended with status $rc after $((SECONDS - start)) s"
	return "$rc"
}

main "$@"
