#!/usr/bin/env bash
# test/debian.sh: run the test suite (or the demo) inside a fresh Debian root.
#
#   bash test/debian.sh 13 [run|demo]     (also: bash test/run --debian 13)
#
# Makes a minimal Debian root with debootstrap (from the archive this machine's apt uses, or
# $ETL_PULL_DEBIAN_MIRROR), copies the repository into it (the tracked files and the working
# tree's changes, not the build), mounts /proc, /sys and /dev/shm, and runs `bash test/run`
# (or `bash test/demo` and a check that it loaded periomeasure) there as root: the harness
# installs that distribution's packages itself, exactly as on a fresh machine.  The last line is
# test/run's "N passed, N failed"; the exit status is its status.
#
# Whatever happens (failure, Ctrl-C), the root is cleaned up afterwards: every process running
# inside it is stopped, its mounts are unmounted and it is removed (ETL_PULL_KEEP=1 keeps it,
# unmounted, for a look).  Runs as root; needs debootstrap (installed when missing).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
REPO=$PWD

DEBIAN_VERSION=${1:-13}
WHAT=${2:-run}
case $DEBIAN_VERSION in
12) SUITE=bookworm ;;
13) SUITE=trixie ;;
*) echo "usage: bash test/debian.sh 12|13 [run|demo]" >&2 && exit 2 ;;
esac
case $WHAT in
run | demo) ;;
*) echo "usage: bash test/debian.sh 12|13 [run|demo]" >&2 && exit 2 ;;
esac
ROOT=

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

# Processes whose root directory is $ROOT (the servers test/run started, anything left over).
root_pids() {
	local p
	for p in /proc/[0-9]*; do
		[ "$(readlink "$p/root" 2>/dev/null)" = "$ROOT" ] && echo "${p#/proc/}"
	done
	return 0
}

# Mount points at or under $ROOT, deepest first.
root_mounts() {
	awk -v r="$ROOT" '$2 == r || index($2, r "/") == 1 { print $2 }' /proc/mounts | sort -r
}

# EXIT trap: stop what runs in the root, unmount it and remove it.  Never removes a root that
# still has something mounted in it.
cleanup() {
	local rc=$? pids m i
	trap - EXIT INT TERM
	set +e
	[ -n "$ROOT" ] && [ -d "$ROOT" ] || exit "$rc"
	pids=$(root_pids)
	if [ -n "$pids" ]; then
		log "stopping what still runs in $ROOT: $(echo $pids)"
		# shellcheck disable=SC2086 # a list of pids
		kill -TERM $pids 2>/dev/null
		for ((i = 0; i < 100; i++)); do
			[ -z "$(root_pids)" ] && break
			sleep 0.1
		done
		pids=$(root_pids)
		# shellcheck disable=SC2086
		[ -z "$pids" ] || kill -KILL $pids 2>/dev/null
		sleep 0.5
	fi
	for m in $(root_mounts); do
		umount "$m" 2>/dev/null || umount -l "$m"
	done
	if [ -n "$(root_mounts)" ]; then
		log "error: still mounted under $ROOT, not removing it"
		exit 1
	fi
	if [ "${ETL_PULL_KEEP:-0}" = 1 ]; then
		log "kept $ROOT"
	else
		rm -rf --one-file-system "$ROOT"
	fi
	exit "$rc"
}

main() {
	local mirror rc=0 start
	[ "$(id -u)" -eq 0 ] || die "test/debian.sh must run as root (debootstrap, chroot, mount)"
	if ! command -v debootstrap >/dev/null; then
		log "installing debootstrap"
		DEBIAN_FRONTEND=noninteractive apt-get -qq install -y --no-install-recommends \
			debootstrap >/dev/null || die "could not install debootstrap"
	fi
	trap cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	ROOT=$(mktemp -d "${TMPDIR:-/var/tmp}/etl_pull_debian$DEBIAN_VERSION.XXXXXX")
	chmod 755 "$ROOT"
	mirror=$(debian_mirror)
	start=$SECONDS
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
	# Package installs must not start services: the root shares this machine's network (ports)
	printf '#!/bin/sh\nexit 101\n' >"$ROOT/usr/sbin/policy-rc.d"
	chmod 755 "$ROOT/usr/sbin/policy-rc.d"
	mkdir -p "$ROOT/etc/postgresql-common/createcluster.d"
	echo 'create_main_cluster = false' >"$ROOT/etc/postgresql-common/createcluster.d/etl_pull.conf"

	# The repository as a user would clone it, in root's home (not readable by postgres)
	mkdir -p "$ROOT/root/etl_pull"
	git -C "$REPO" ls-files -z --cached --others --exclude-standard |
		(cd "$REPO" && xargs -0 -r sh -c 'for f; do [ -e "$f" ] && printf "%s\0" "$f"; done' sh) |
		tar -C "$REPO" --null -T - -cf - | tar -C "$ROOT/root/etl_pull" -xf -

	log "running bash test/$WHAT in Debian $DEBIAN_VERSION ($SUITE)"
	chroot "$ROOT" /usr/bin/env -i HOME=/root LANG=C.UTF-8 TERM=dumb \
		PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
		ETL_PULL_KEEP="${ETL_PULL_KEEP:-0}" \
		bash -c 'cd /root/etl_pull && bash test/"$1"' sh "$WHAT" || rc=$?
	if [ "$WHAT" = demo ] && [ "$rc" -eq 0 ]; then
		chroot "$ROOT" /usr/bin/env -i HOME=/root PATH=/usr/sbin:/usr/bin:/sbin:/bin \
			bash -c 'cd /root/etl_pull && source /tmp/etl_pull_demo/env.sh &&
				test "$(psql -XAtc "SELECT count(*) FROM public.periomeasure")" = 583000 &&
				echo "demo: periomeasure loaded (583000 rows)" &&
				bash test/demo stop' || rc=$?
	fi
	log "Debian $DEBIAN_VERSION: test/$WHAT ended with status $rc after $((SECONDS - start)) s"
	return "$rc"
}

main "$@"
