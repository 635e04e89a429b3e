#!/usr/bin/env bash
# gen-smallleaks.sh: testdata/dumps/smallleaks*.txt from cmd/smallleaks, a
# service with four leaks of 1-4 goroutines each beside healthy pools, loops
# and a shutdown watcher (see the program's comment for the oracle).
#
#   smallleaks.debug2.txt          dumped at once: no wait times printed
#   smallleaks.leak.debug2.txt     the goroutineleak profile (GOEXPERIMENT=goroutineleakprofile):
#                                  the runtime's own verdict on the same program
#   smallleaks-panic-single.txt    -panic at the default GOTRACEBACK=single: the crash prints
#                                  only the crashing goroutine (stderr, exit status 2)
#   smallleaks-spin.debug2.txt     -spin 12 and no leaks: 12 request goroutines computing,
#                                  running or runnable
#   smallleaks-partial.leak.debug2.txt  -partial 9 and no other leaks, goroutineleak profile: 9
#                                  goroutines on one line, the runtime proves 1 of them leaked
#   smallleaks-alloc.debug2.txt    -alloc 8 and no leaks, GOGC=5: allocating goroutines caught
#                                  on the runtime's GC semaphore ([semacquire], no sync frame)
#   starters.debug2.txt            cmd/starters: goroutines started by sync.WaitGroup.Go,
#                                  time.AfterFunc and context.AfterFunc
#   smallleaks-alloc.pb.gz         the same as a protobuf profile (runtime frames kept)
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
status=0
env -u GOTRACEBACK "$WORK/smallleaks" -panic 2>"$OUT/smallleaks-panic-single.txt" || status=$?
[[ $status == 2 ]] || { echo "gen-smallleaks: -panic exited $status, want 2" >&2; exit 1; }
expect "$OUT/smallleaks-panic-single.txt" '^panic: assignment to entry in nil map'
[[ $(grep -c '^goroutine ' "$OUT/smallleaks-panic-single.txt") == 1 ]] ||
	{ echo "gen-smallleaks: the single-traceback panic printed more than one goroutine" >&2; exit 1; }
echo "wrote $OUT/smallleaks.debug2.txt $OUT/smallleaks.leak.debug2.txt $OUT/smallleaks-panic-single.txt"
"$GO" run ./cmd/starters -o "$OUT/starters.debug2.txt"
expect "$OUT/starters.debug2.txt" '^created by time\.goFunc$'
expect "$OUT/starters.debug2.txt" '^created by context\.\(\*afterFuncCtx\)\.cancel\.func1 in goroutine'
NOLEAKS=(-send 0 -lock 0 -wg 0 -recv 0)
"$WORK/smallleaks" "${NOLEAKS[@]}" -spin 12 -o "$OUT/smallleaks-spin.debug2.txt"
expect "$OUT/smallleaks-spin.debug2.txt" '^goroutine [0-9]+ \[(runnable|running)\]:'
"$WORK/smallleaks-leak" "${NOLEAKS[@]}" -partial 9 -form leak-debug2 -o "$OUT/smallleaks-partial.leak.debug2.txt"
[[ $(grep -c '^goroutine [0-9]* \[chan receive (leaked)\]' "$OUT/smallleaks-partial.leak.debug2.txt") == 1 ]] ||
	{ echo "gen-smallleaks: -partial 9: want exactly one (leaked) goroutine" >&2; exit 1; }
# Whether an allocator is caught on the semaphore at the moment of the dump is luck; retry.
for try in $(seq 20); do
	GOGC=5 "$WORK/smallleaks" "${NOLEAKS[@]}" -alloc 8 -o "$OUT/smallleaks-alloc.debug2.txt"
	grep -qE '^goroutine [0-9]+ \[semacquire\]:' "$OUT/smallleaks-alloc.debug2.txt" && break
	[[ $try == 20 ]] && { echo "gen-smallleaks: no [semacquire] in 20 tries" >&2; exit 1; }
done
# The same as a protobuf profile, which keeps the runtime's frames (gcParkAssist, semacquire).
for try in $(seq 20); do
	GOGC=5 "$WORK/smallleaks" "${NOLEAKS[@]}" -alloc 8 -form proto -o "$OUT/smallleaks-alloc.pb.gz"
	gzip -dc "$OUT/smallleaks-alloc.pb.gz" | grep -aqE 'runtime\.(gcParkAssist|gcStart)' && break
	[[ $try == 20 ]] && { echo "gen-smallleaks: no GC wait in the protobuf in 20 tries" >&2; exit 1; }
done
echo "wrote $OUT/smallleaks-spin.debug2.txt $OUT/smallleaks-partial.leak.debug2.txt $OUT/smallleaks-alloc.debug2.txt $OUT/smallleaks-alloc.pb.gz"
if [[ $WAITED == 1 ]]; then
	"$WORK/smallleaks" -wait 10m10s -o "$OUT/smallleaks-waited.debug2.txt"
	expect "$OUT/smallleaks-waited.debug2.txt" '^goroutine [0-9]+ \[chan receive, 10 minutes\]'
	echo "wrote $OUT/smallleaks-waited.debug2.txt"
fi
