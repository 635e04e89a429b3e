#!/usr/bin/env bash
# gen-notify.sh: regenerate testdata/dumps/notify-* from real runs of
# cmd/notify-server (leaky and fixed) under load from cmd/notify-load.
# Nothing in the output is written by hand: every file is what the Go runtime
# served on /debug/pprof. See testdata/NOTIFY.md.
#
# Usage: scripts/gen-notify.sh            small dumps + the 50,847-goroutine incident
#        INCIDENT=0 scripts/gen-notify.sh small dumps only (a few seconds)
#
# Environment:
#   INCIDENT=0|1    generate the incident-size dumps (default 1)
#   OUT=DIR         where to write (default: testdata/dumps)
#   TARGET=N        incident goroutine count (default 50847)
#   HEARTBEAT=dur   server -heartbeat (default 30s, the incident service's value)
#   GO=path         go command (default: go)
set -euo pipefail

TESTDATA=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUT=${OUT:-$TESTDATA/dumps}
INCIDENT=${INCIDENT:-1}
TARGET=${TARGET:-50847}
GO=${GO:-go}

# Small load: enough for every population to show, small enough to read.
SMALL_LOAD=(-clients 200 -broadcasts 4 -late-clients 50 -publishes 25)
# Incident: 12,000 vanished users, at most 10 broadcast rounds, 1,000 late
# users; notify-load fills the remainder with single publishes. The leaky
# server keeps one socket per user, so clients + late clients must stay well
# under the file descriptor limit (ulimit -n).
INCIDENT_LOAD=(-clients 12000 -broadcasts 10 -late-clients 1000)
# The incident's 30s heartbeat. A 1s heartbeat also works, but then the
# incident dump catches thousands of heartbeat goroutines "runnable" (their
# tickers fire between the stop-the-world passes pprof makes while it grows
# its buffer), which blurs the picture this fixture exists to show.
HEARTBEAT=${HEARTBEAT:-30s}

WORK=$(mktemp -d)
PIDS=()

cleanup() {
	local pid
	for pid in "${PIDS[@]}"; do
		kill "$pid" 2>/dev/null || true
	done
	for pid in "${PIDS[@]}"; do
		wait "$pid" 2>/dev/null || true
	done
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log() { printf 'gen-notify: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

need() { command -v "$1" >/dev/null || die "$1 not found"; }
need curl
need gzip
need "$GO"

build() {
	log "building into $WORK"
	(cd "$TESTDATA" &&
		"$GO" build -o "$WORK/notify-server" ./cmd/notify-server &&
		GOEXPERIMENT=goroutineleakprofile "$GO" build -o "$WORK/notify-server-leakprofile" ./cmd/notify-server &&
		"$GO" build -o "$WORK/notify-load" ./cmd/notify-load)
}

# start_server BINARY VARIANT: starts a server on a free loopback port and
# sets URL and SERVER_PID.
start_server() {
	local bin=$1 variant=$2 out i
	out="$WORK/server-$bin-$variant-$RANDOM.out"
	"$WORK/$bin" -variant "$variant" -addr 127.0.0.1:0 -heartbeat "$HEARTBEAT" >"$out" 2>&1 &
	SERVER_PID=$!
	PIDS+=("$SERVER_PID")
	URL=
	for i in $(seq 100); do
		if [[ -s $out ]]; then
			URL=$(head -n1 "$out" | sed -n 's|^listening on \(http://.*\)$|\1|p')
			[[ -n $URL ]] && break
		fi
		kill -0 "$SERVER_PID" 2>/dev/null || die "$bin exited: $(cat "$out")"
		sleep 0.1
	done
	[[ -n $URL ]] || die "$bin did not report its address"
	log "$bin -variant $variant at $URL (pid $SERVER_PID)"
}

stop_server() {
	kill "$SERVER_PID" 2>/dev/null || true
	wait "$SERVER_PID" 2>/dev/null || true
}

# load ARGS...: runs notify-load against URL; its stdout is kept in LOAD_OUT.
# It runs in the background so that a signal reaches the traps at once (bash
# defers traps while a foreground child runs, and the incident load takes a
# while).
load() {
	local pid
	"$WORK/notify-load" -url "$URL" "$@" >"$WORK/load.out" &
	pid=$!
	PIDS+=("$pid")
	wait "$pid" || die "notify-load failed"
	LOAD_OUT=$(<"$WORK/load.out")
	printf '%s\n' "$LOAD_OUT" | sed 's/^/  /' >&2
}

fetch() { # fetch PATH FILE
	curl -sSf --max-time 120 -o "$2" "$URL$1" || die "GET $1 failed"
}

# dump3 PROFILE PREFIX: debug=2, debug=1 and debug=0 (gzipped protobuf).
dump3() {
	fetch "/debug/pprof/$1?debug=2" "$OUT/$2.debug2.txt"
	fetch "/debug/pprof/$1?debug=1" "$OUT/$2.debug1.txt"
	fetch "/debug/pprof/$1" "$OUT/$2.pb.gz"
}

count_goroutines() { grep -c '^goroutine [0-9]' || true; }

mkdir -p "$OUT"
build
WRITTEN=()

# --- small load -------------------------------------------------------------

start_server notify-server leaky
load "${SMALL_LOAD[@]}"
dump3 goroutine notify-leaky
WRITTEN+=(notify-leaky.debug2.txt notify-leaky.debug1.txt notify-leaky.pb.gz)
stop_server

start_server notify-server fixed
load "${SMALL_LOAD[@]}"
dump3 goroutine notify-fixed
WRITTEN+=(notify-fixed.debug2.txt notify-fixed.debug1.txt notify-fixed.pb.gz)
stop_server

# Same leaky service, built with the Go 1.26 leak-profile experiment. Each
# request to /debug/pprof/goroutineleak runs a leak-detecting GC first.
start_server notify-server-leakprofile leaky
load "${SMALL_LOAD[@]}"
dump3 goroutineleak notify-leaky.leak
WRITTEN+=(notify-leaky.leak.debug2.txt notify-leaky.leak.debug1.txt notify-leaky.leak.pb.gz)
stop_server

# --- the incident -----------------------------------------------------------

if [[ $INCIDENT != 0 ]]; then
	started=$SECONDS
	start_server notify-server leaky
	load "${INCIDENT_LOAD[@]}" -target-goroutines "$TARGET"
	replay=$(printf '%s\n' "$LOAD_OUT" | sed -n 's/^load applied: //p')
	[[ -n $replay ]] || die "notify-load did not report the load it applied"
	fetch "/debug/pprof/goroutine?debug=2" "$WORK/incident.txt"
	n=$(count_goroutines <"$WORK/incident.txt")
	[[ $n == "$TARGET" ]] || die "incident dump holds $n goroutines, want $TARGET"
	gzip -9n <"$WORK/incident.txt" >"$OUT/notify-leaky-$TARGET.debug2.txt.gz"
	WRITTEN+=("notify-leaky-$TARGET.debug2.txt.gz")
	stop_server

	# The fixed service under exactly the load the leaky one received.
	start_server notify-server fixed
	# shellcheck disable=SC2086 # $replay is a list of flags
	load $replay
	fetch "/debug/pprof/goroutine?debug=2" "$WORK/fixed.txt"
	gzip -9n <"$WORK/fixed.txt" >"$OUT/notify-fixed-under-incident-load.debug2.txt.gz"
	WRITTEN+=(notify-fixed-under-incident-load.debug2.txt.gz)
	stop_server
	log "incident: $n goroutines, load $replay, $((SECONDS - started))s"
fi

# --- report -----------------------------------------------------------------

for f in "${WRITTEN[@]}"; do
	case $f in
	*.debug1.txt) what=$(head -n1 "$OUT/$f") ;;
	*.txt) what="$(count_goroutines <"$OUT/$f") goroutines" ;;
	*.txt.gz) what="$(gzip -dc "$OUT/$f" | count_goroutines) goroutines, $(gzip -dc "$OUT/$f" | wc -c) bytes uncompressed" ;;
	*) what="protobuf" ;;
	esac
	printf '%10d  %s  (%s)\n' "$(wc -c <"$OUT/$f")" "$OUT/$f" "$what"
done
