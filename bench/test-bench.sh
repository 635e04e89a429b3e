#!/usr/bin/env bash
# leakwatch test against plain go test and uber-go/goleak on testdata/gotest.
#
# 1. bench/goleak-compare.sh: what goleak.VerifyTestMain reports per package (added by overlay).
# 2. What leakwatch test reports on the same module (--json, summarised).
# 3. Wall time, interleaved, RUNS times each (default 5), median: plain `go test -count=1 ./...`,
#    `leakwatch test --no-attribute ./...` and `leakwatch test ./...` (with attribution).
#
# Build caches are warmed first (including the GOEXPERIMENT=goroutineleakprofile build leakwatch
# asks for), so the times compare test runs, not first compiles.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd -P)
root="$here/.."
mod="$root/testdata/gotest"
RUNS=${RUNS:-5}
lw() { node "$root/bin/leakwatch.js" "$@"; }

echo "## goleak (bench/goleak-compare.sh)"
RUNS=1 "$here/goleak-compare.sh" | sed -n '1,/plain go test/p'

echo
echo "## leakwatch test --json ./... (leaks per test)"
(cd "$mod" && lw test --json ./... 2>/dev/null || true) | node -e '
const j = JSON.parse(require("fs").readFileSync(0, "utf8"));
let g = 0, t = 0;
for (const p of j.packages) {
  const n = p.leaks.reduce((s, l) => s + l.count, 0); g += n;
  console.log(`${p.package}: ${p.result}, ${n} leaked (${p.install}${p.failedTests.length ? `, failed: ${p.failedTests}` : ""})`);
  for (const x of p.tests) { t++; console.log(`  ${x.test}: ${x.leaks.map((l) => `${l.count}x ${l.state}${l.certain ? " (certain)" : ""}`).join(", ")}`); }
}
console.log(`total: ${g} goroutines, ${t} tests named`);'

echo
echo "## wall time (median of $RUNS, interleaved)"
cd "$mod"
go test -count=1 ./... >/dev/null 2>&1 || true
lw test --no-attribute ./... >/dev/null 2>&1 || true
declare -A times
for i in $(seq "$RUNS"); do
  for name in plain noattr full; do
    case $name in
      plain) cmd=(go test -count=1 ./...) ;;
      noattr) cmd=(node "$root/bin/leakwatch.js" test --no-attribute ./...) ;;
      full) cmd=(node "$root/bin/leakwatch.js" test ./...) ;;
    esac
    s=$(date +%s.%N)
    "${cmd[@]}" >/dev/null 2>&1 || true
    e=$(date +%s.%N)
    times[$name]+="$(echo "$e - $s" | bc) "
  done
done
for name in plain noattr full; do
  med=$(echo "${times[$name]}" | tr ' ' '\n' | grep . | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
  printf '%-8s median %.2f s   (%s)\n' "$name" "$med" "${times[$name]}"
done
