#!/usr/bin/env bash
# gen-smallleaks.sh: testdata/dumps/smallleaks*.txt from cmd/smallleaks, a
# service with four leaks of 1-4 goroutines each beside healthy pools, loops
# and a shutdown watcher (see the program's comment for the oracle).
#
#   smallleaks.debug2.txt          dumped at once: no wait times printed
#   smallleaks.leak.debug2.txt     the goroutineleak profile (GOEXPERIMENT=goroutineleakprofile):
#                                  the runtime's own verdict on the same program
#   smallleaks-waited.debug2.txt   dumped after -wait 10m10s: ", 10 minutes" on
#                                  everything that has not woken (WAITED=0 skips it)
set -euo pipefail
TESTDATA=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUT=${OUT:-$TESTDATA/dumps}
WAITED=${WAITED:-1}
GO=${GO:-go}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

cd "$TESTDATA"
"$GO" build -o "$WORK/smallleaks" ./cmd/smallleaks
GOEXPERIMENT=goroutineleakprofile "$GO" build -o "$WORK/smallleaks-leak" ./cmd/smallleaks

expect() { grep -qE "$2" "$1" || { echo "gen-smallleaks: $1 lacks /$2/" >&2; exit 1; }; }

"$WORK/smallleaks" -o "$OUT/smallleaks.debug2.txt"
expect "$OUT/smallleaks.debug2.txt" '^created by sync\.\(\*WaitGroup\)\.Go in goroutine'
"$WORK/smallleaks-leak" -form leak-debug2 -o "$OUT/smallleaks.leak.debug2.txt"
expect "$OUT/smallleaks.leak.debug2.txt" '\[chan send \(leaked\)\]'
echo "wrote $OUT/smallleaks.debug2.txt $OUT/smallleaks.leak.debug2.txt"
if [[ $WAITED == 1 ]]; then
	"$WORK/smallleaks" -wait 10m10s -o "$OUT/smallleaks-waited.debug2.txt"
	expect "$OUT/smallleaks-waited.debug2.txt" '^goroutine [0-9]+ \[chan receive, 10 minutes\]'
	echo "wrote $OUT/smallleaks-waited.debug2.txt"
fi
