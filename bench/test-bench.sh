#!/usr/bin/env bash
# The cost of `leakwatch test` beside plain go test and uber-go/goleak, in one run.
#
# 1. Clean packages, code we did not write: golang.org/x/sync (errgroup, semaphore,
#    singleflight, syncmap; fetched through the module proxy and copied out of the module cache,
#    which go refuses to overlay). Plain `go test -count=1 ./...` against `leakwatch test ./...`.
#    And a tiny clean package (testdata/gotest/clean), where leakwatch's fixed cost shows.
# 2. A leaking package: testdata/gotest/leaky (3 of its 9 tests leak). goleak's per-test check,
#    `defer goleak.VerifyNone(t)` first thing in every test (added to copies of the test files
#    through -overlay, so nothing is edited), against `leakwatch test ./leaky` (a check after
#    every test, no re-run) and plain go test.
# 3. With COMPARE=1, first what each tool reports on testdata/gotest (bench/goleak-compare.sh
#    and leakwatch test --json, summarised).
#
# Times are wall seconds, RUNS rounds (default 5) interleaved so load hits all commands alike,
# after an untimed warm-up of every command (build caches, including the
# GOEXPERIMENT=goroutineleakprofile build leakwatch asks for). Median and ratio to the peer.
#
#   bench/test-bench.sh          RUNS=9 bench/test-bench.sh          COMPARE=1 bench/test-bench.sh
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd -P)
root="$here/.."
gotest="$root/testdata/gotest"
RUNS=${RUNS:-5}
SYNC=golang.org/x/sync@v0.25.0
GOLEAK=go.uber.org/goleak@v1.3.0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
lw() { node "$root/bin/leakwatch.js" "$@"; }

echo "leakwatch test cost: $(go version | cut -d' ' -f3-), node $(node --version), $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), load $(cut -d' ' -f1-3 /proc/loadavg), RUNS=$RUNS"

if [ "${COMPARE:-}" = 1 ]; then
	echo
	echo "## goleak.VerifyTestMain on testdata/gotest (bench/goleak-compare.sh)"
	RUNS=1 "$here/goleak-compare.sh" | sed -n '1,/plain go test/p'
	echo
	echo "## leakwatch test --json ./... on testdata/gotest (leaks per test)"
	(cd "$gotest" && lw test --json ./... 2>/dev/null || true) | node -e '
const j = JSON.parse(require("fs").readFileSync(0, "utf8"));
let g = 0, t = 0;
for (const p of j.packages) {
  const n = p.leaks.reduce((s, l) => s + l.count, 0); g += n;
  console.log(`${p.package}: ${p.result}, ${n} leaked (${p.install}${p.failedTests.length ? `, failed: ${p.failedTests}` : ""})`);
  for (const x of p.tests) { t++; console.log(`  ${x.test} (${x.via}): ${x.leaks.map((l) => `${l.count}x ${l.state}${l.certain ? " (certain)" : ""}`).join(", ")}`); }
}
console.log(`total: ${g} goroutines, ${t} tests named`);'
fi

# --- setup: x/sync outside the module cache; leaky's tests with goleak.VerifyNone.
dir=$(go mod download -json "$SYNC" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
cp -r "$dir" "$tmp/xsync" && chmod -R u+w "$tmp/xsync"

mkdir "$tmp/modroot"
cp "$gotest/go.mod" "$tmp/modroot/"
(cd "$tmp/modroot" && go get "$GOLEAK" >/dev/null 2>&1) || {
	echo "cannot fetch $GOLEAK (Go module proxy unreachable?)" >&2
	exit 2
}
repl="\"$gotest/go.mod\":\"$tmp/modroot/go.mod\",\"$gotest/go.sum\":\"$tmp/modroot/go.sum\""
for f in "$gotest"/leaky/*_test.go; do
	out="$tmp/verifynone-$(basename "$f")"
	# goleak's per-test form: defer goleak.VerifyNone(t) as the first statement of each test.
	perl -0pe 's/^(func Test\w*\((\w+) \*testing\.T\) \{)$/$1\n\tdefer goleak.VerifyNone($2)/mg;
		s/^import \(\n/import (\n\t"go.uber.org\/goleak"\n/m;
		s/^import "testing"\n/import (\n\t"testing"\n\n\t"go.uber.org\/goleak"\n)\n/m' "$f" >"$out"
	repl="$repl,\"$f\":\"$out\""
done
echo "{\"Replace\":{$repl}}" >"$tmp/verifynone.json"

# name|dir|command...
cmds=(
	"sync-plain|$tmp/xsync|go test -count=1 ./..."
	"sync-leakwatch|$tmp/xsync|node $root/bin/leakwatch.js test ./..."
	"small-plain|$gotest|go test -count=1 ./clean"
	"small-leakwatch|$gotest|node $root/bin/leakwatch.js test ./clean"
	"leaky-plain|$gotest|go test -count=1 ./leaky"
	"leaky-goleak|$gotest|go test -count=1 -overlay $tmp/verifynone.json ./leaky"
	"leaky-leakwatch|$gotest|node $root/bin/leakwatch.js test ./leaky"
)
declare -A times
for round in $(seq 0 "$RUNS"); do
	for c in "${cmds[@]}"; do
		IFS='|' read -r name cwd cmd <<<"$c"
		s=$(date +%s.%N)
		# shellcheck disable=SC2086
		(cd "$cwd" && $cmd >"$tmp/$name.out" 2>&1) || true
		e=$(date +%s.%N)
		[ "$round" = 0 ] && continue # warm-up
		times[$name]+="$(awk -v a="$s" -v b="$e" 'BEGIN { printf "%.2f", b - a }') "
	done
done
median() { tr ' ' '\n' <<<"$1" | grep . | sort -n | awk '{ a[NR] = $1 } END { printf "%.2f", (NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2) }'; }
echo
printf '%-16s %8s   %s\n' command median "runs (s)"
for c in "${cmds[@]}"; do
	name=${c%%|*}
	printf '%-16s %7ss   %s\n' "$name" "$(median "${times[$name]}")" "${times[$name]}"
done
ratio() { awk -v a="$(median "${times[$1]}")" -v b="$(median "${times[$2]}")" 'BEGIN { printf "%.2f", a / b }'; }
echo
echo "clean (x/sync):  leakwatch / plain go test = $(ratio sync-leakwatch sync-plain)x (target <= 1.2x)"
echo "small clean package (testdata/gotest/clean, 6 tests, ~10 ms of test time): leakwatch / plain = $(ratio small-leakwatch small-plain)x, +$(awk -v a="$(median "${times[small-leakwatch]}")" -v b="$(median "${times[small-plain]}")" 'BEGIN { printf "%.2f", a - b }') s"
echo "leaking (leaky): leakwatch / goleak VerifyNone = $(ratio leaky-leakwatch leaky-goleak)x (target <= 1.5x); leakwatch / plain = $(ratio leaky-leakwatch leaky-plain)x"
echo
echo "what each reported on leaky (last run):"
echo "  goleak:    $(grep -c -E '^\s*--- FAIL' "$tmp/leaky-goleak.out" || true) tests failed by VerifyNone; $(grep -c -E 'Goroutine [0-9]+ in state ' "$tmp/leaky-goleak.out" || true) goroutine reports"
echo "  leakwatch: $(grep -E '^\s+Test' "$tmp/leaky-leakwatch.out" | sed 's/^ *//' | tr '\n' ' ')"
echo "  x/sync:    $(grep -E 'No leaks|leaked goroutines\.' "$tmp/sync-leakwatch.out")"
