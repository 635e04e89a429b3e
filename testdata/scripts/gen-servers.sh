#!/usr/bin/env bash
# gen-servers.sh: goroutine dumps of healthy open-source servers under load,
# for the "quiet on healthy servers" tests (testdata/dumps/server-*.gz).
#
# Each server is fetched through the Go module proxy at a pinned version and
# its source copied out of the module cache before it is built, so its frames
# carry ordinary paths, as they do for the people who write it. (Built from
# the module cache, every frame would count as third-party code and the test
# would prove less.) The load programs are ours: cmd/natsload, cmd/amload.
# While the load runs, /debug/pprof/goroutine?debug=2 is fetched twice after
# LOAD_SECS, then once more after LATE_MINUTES, when goroutines that have not
# woken since the start print ", N minutes" (the wait-time rules need that).
# The servers run side by side. Every dump is kept as the runtime served it,
# gzipped.
#
# Usage: scripts/gen-servers.sh [nats] [alertmanager] [coredns]   (default: all)
#
# Environment:
#   CACHE=DIR   sources and binaries, outside the repository
#               (default: $HOME/.cache/leakwatch)
#   OUT=DIR     where to write (default: testdata/dumps)
#   LOAD_SECS=N seconds of load before the first dump (default 8)
#   LATE_MINUTES=N  minutes of load before the last dump (default 11; 0: none)
#   GO=path     go command (default: go)
set -euo pipefail

TESTDATA=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUT=${OUT:-$TESTDATA/dumps}
CACHE=${CACHE:-$HOME/.cache/leakwatch}
LOAD_SECS=${LOAD_SECS:-8}
LATE_MINUTES=${LATE_MINUTES:-11}
GO=${GO:-go}

NATS_MOD=github.com/nats-io/nats-server/v2
NATS_VER=v2.15.3
AM_MOD=github.com/prometheus/alertmanager
AM_VER=v0.35.0
DNS_MOD=github.com/coredns/coredns
DNS_VER=v1.15.0
# CoreDNS is built with the plugins the Corefile below uses, the way its docs
# say to build a custom CoreDNS (plugin.cfg, then go generate): the full list
# pulls in the Kubernetes, cloud and etcd clients, minutes more of building.
DNS_PLUGINS="metadata cancel timeouts reload bind ready health pprof prometheus errors log cache hosts loop whoami"

WORK=$(mktemp -d)
PIDS=()
cleanup() {
	local pid
	for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
	for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# A background run's own processes (a subshell does not run the parent's trap).
cleanup_own() {
	local pid
	for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
	for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
}

log() { printf 'gen-servers: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }
for c in curl gzip python3 "$GO"; do command -v "$c" >/dev/null || die "$c not found"; done

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# fetch MOD VER NAME: copies the module's source to $CACHE/src/NAME@VER (once).
fetch() {
	local mod=$1 ver=$2 name=$3 dir
	SRC="$CACHE/src/$name-$ver"
	[[ -d $SRC ]] && return
	dir=$("$GO" mod download -json "$mod@$ver" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')
	[[ -n $dir ]] || die "go mod download $mod@$ver gave no directory"
	mkdir -p "$CACHE/src"
	cp -r "$dir" "$SRC.tmp"
	chmod -R u+w "$SRC.tmp"
	mv "$SRC.tmp" "$SRC"
}

# build NAME VER PKG: builds PKG of $CACHE/src/NAME@VER into $CACHE/bin (once); sets BIN.
build() {
	local name=$1 ver=$2 pkg=$3
	BIN="$CACHE/bin/$name-$ver"
	[[ -x $BIN ]] && return
	mkdir -p "$CACHE/bin"
	log "building $name $ver (once; cached in $CACHE)"
	(cd "$CACHE/src/$name-$ver" && "$GO" build -o "$BIN.tmp" "$pkg")
	mv "$BIN.tmp" "$BIN"
}

# The web UI is built by npm in Alertmanager's release process and is not in
# the module; the binary embeds ui/app/dist. The load never asks for the UI,
# so an empty page stands in for it (no Go source is touched).
am_ui() {
	local d="$CACHE/src/alertmanager-$AM_VER/ui/app/dist"
	mkdir -p "$d/elm" "$d/mantine"
	[[ -f $d/elm/index.html ]] || echo '<!doctype html><title>UI not built</title>' >"$d/elm/index.html"
	[[ -f $d/mantine/index.html ]] || cp "$d/elm/index.html" "$d/mantine/index.html"
}

# Trims CoreDNS's plugin.cfg to $DNS_PLUGINS and regenerates its plugin list (once).
dns_plugins() {
	local d="$CACHE/src/coredns-$DNS_VER" p keep
	[[ -f $d/.leakwatch-plugins ]] && return
	cp "$d/plugin.cfg" "$d/plugin.cfg.orig"
	: >"$d/plugin.cfg"
	while IFS= read -r line; do
		keep=0
		for p in $DNS_PLUGINS; do [[ $line == "$p:"* ]] && keep=1; done
		[[ $keep == 1 ]] && echo "$line" >>"$d/plugin.cfg"
	done <"$d/plugin.cfg.orig"
	(cd "$d" && "$GO" generate coredns.go)
	echo "$DNS_PLUGINS" >"$d/.leakwatch-plugins"
}

wait_http() {
	local url=$1 i
	for i in $(seq 200); do
		curl -fsS -o /dev/null --max-time 2 "$url" 2>/dev/null && return
		sleep 0.1
	done
	die "$url did not answer"
}

# dumps NAME PPROF_BASE: two debug=2 dumps 3 s apart after LOAD_SECS, and
# one after LATE_MINUTES, while the load runs.
dumps() {
	local name=$1 base=$2 t=0 f when
	mkdir -p "$OUT"
	for when in "$LOAD_SECS:1" "$((LOAD_SECS + 3)):2" "$((LATE_MINUTES * 60)):late"; do
		[[ ${when%%:*} -gt 0 ]] || continue
		sleep $((${when%%:*} - t))
		t=${when%%:*}
		f="$OUT/server-$name-${when##*:}.debug2.txt.gz"
		curl -fsS --max-time 30 "$base/debug/pprof/goroutine?debug=2" | gzip -9n >"$f"
		log "wrote $f ($(stat -c %s "$f") bytes, $(zcat "$f" | grep -c '^goroutine ') goroutines)"
	done
}

(cd "$TESTDATA" && for p in natsload amload dnsload; do "$GO" build -o "$WORK/$p" "./cmd/$p" || exit 1; done)

gen_nats() {
	fetch "$NATS_MOD" "$NATS_VER" nats-server
	build nats-server "$NATS_VER" .
	local port pport
	port=$(free_port)
	pport=$(free_port)
	"$BIN" -a 127.0.0.1 -p "$port" -profile "$pport" >"$WORK/nats.log" 2>&1 &
	PIDS+=($!)
	wait_http "http://127.0.0.1:$pport/debug/pprof/"
	"$WORK/natsload" -addr "127.0.0.1:$port" -subs 40 -pubs 8 >"$WORK/natsload.log" 2>&1 &
	PIDS+=($!)
	dumps nats "http://127.0.0.1:$pport"
}

gen_alertmanager() {
	fetch "$AM_MOD" "$AM_VER" alertmanager
	am_ui
	build alertmanager "$AM_VER" ./cmd/alertmanager
	local port hook
	port=$(free_port)
	hook=$(free_port)
	cat >"$WORK/am.yml" <<YAML
route:
  receiver: hook
  group_by: [alertname, instance]
  group_wait: 1s
  group_interval: 2s
  repeat_interval: 1m
receivers:
  - name: hook
    webhook_configs:
      - url: http://127.0.0.1:$hook/hook
YAML
	"$BIN" --config.file="$WORK/am.yml" --storage.path="$WORK/am" \
		--web.listen-address="127.0.0.1:$port" --cluster.listen-address= >"$WORK/am.log" 2>&1 &
	PIDS+=($!)
	wait_http "http://127.0.0.1:$port/-/ready"
	"$WORK/amload" -url "http://127.0.0.1:$port" -hook "127.0.0.1:$hook" >"$WORK/amload.log" 2>&1 &
	PIDS+=($!)
	dumps alertmanager "http://127.0.0.1:$port"
}

gen_coredns() {
	fetch "$DNS_MOD" "$DNS_VER" coredns
	dns_plugins
	build coredns "$DNS_VER" .
	local port pport hport rport
	port=$(free_port)
	pport=$(free_port)
	hport=$(free_port)
	rport=$(free_port)
	{
		echo "127.0.0.1 localhost"
		for i in $(seq 0 19); do echo "10.0.0.$i host-$i.example.org"; done
	} >"$WORK/hosts"
	cat >"$WORK/Corefile" <<COREFILE
.:$port {
	bind 127.0.0.1
	pprof 127.0.0.1:$pport
	prometheus 127.0.0.1:$rport
	health 127.0.0.1:$hport
	errors
	cache 30
	hosts $WORK/hosts {
		fallthrough
	}
	whoami
}
COREFILE
	"$BIN" -conf "$WORK/Corefile" >"$WORK/coredns.log" 2>&1 &
	PIDS+=($!)
	wait_http "http://127.0.0.1:$pport/debug/pprof/"
	"$WORK/dnsload" -addr "127.0.0.1:$port" -workers 8 >"$WORK/dnsload.log" 2>&1 &
	PIDS+=($!)
	dumps coredns "http://127.0.0.1:$pport"
}

targets=("$@")
[[ ${#targets[@]} -gt 0 ]] || targets=(nats alertmanager coredns)
# Build first (one at a time: builds are what is slow), then run side by side.
for t in "${targets[@]}"; do
	case $t in
	nats) fetch "$NATS_MOD" "$NATS_VER" nats-server && build nats-server "$NATS_VER" . ;;
	alertmanager) fetch "$AM_MOD" "$AM_VER" alertmanager && am_ui && build alertmanager "$AM_VER" ./cmd/alertmanager ;;
	coredns) fetch "$DNS_MOD" "$DNS_VER" coredns && dns_plugins && build coredns "$DNS_VER" . ;;
	*) die "unknown server $t (nats, alertmanager, coredns)" ;;
	esac
done
RUNS=()
for t in "${targets[@]}"; do
	case $t in
	nats) (trap cleanup_own EXIT; gen_nats) & ;;
	alertmanager) (trap cleanup_own EXIT; gen_alertmanager) & ;;
	coredns) (trap cleanup_own EXIT; gen_coredns) & ;;
	esac
	RUNS+=($!)
done
trap 'kill "${RUNS[@]}" 2>/dev/null; exit 130' INT TERM
status=0
for pid in "${RUNS[@]}"; do wait "$pid" || status=1; done
exit $status
