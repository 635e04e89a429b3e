#!/usr/bin/env bash
# Regenerates the goroutine-dump fixtures in testdata/dumps/ (every file not
# starting with "notify-") from the programs in testdata/cmd/. Every fixture
# is real runtime output; the only transformations are the mechanical
# wrappings at the end (container log prefixes, CRLF, gzip) of
# anchors.debug2.txt.
#
#   scripts/gen-shapes.sh            # everything (about 70 s: two dumps wait 65 s)
#   SLOW=0 scripts/gen-shapes.sh     # skip the 65 s "-waited" dumps
#
# Needs only the Go toolchain (plus bash, gzip, awk, sed, grep). Each fixture
# is checked for the feature it exists for; the script fails if one is missing.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$here"
out="$here/dumps"
mkdir -p "$out"
SLOW=${SLOW:-1}

bin=$(mktemp -d)
trap 'rm -rf "$bin"' EXIT
ulimit -c 0 || true # GOTRACEBACK=crash aborts: no core files

# Programs run with a clean traceback environment unless a fixture asks for more.
unset GOTRACEBACK
export GODEBUG=""

echo "go: $(go version)"
echo "building into $bin"
for p in anchors healthy-http workerpool shapes deadlock; do
	go build -o "$bin/$p" "./cmd/$p"
done
for p in anchors shapes healthy-http; do
	GOEXPERIMENT=goroutineleakprofile go build -o "$bin/$p-leak" "./cmd/$p"
done

written=()
wrote() { written+=("$@"); }

# fail FILE MESSAGE
fail() {
	echo "gen-shapes: $1: $2" >&2
	exit 1
}
# expect FILE EXTENDED-REGEX [what]: the fixture must contain a match.
expect() {
	grep -Eq -- "$2" "$1" || fail "$1" "expected to match /$2/${3:+ ($3)}"
}
# expect_gz FILE: gzip that Go's pprof can read.
expect_pb() {
	gzip -t "$1" || fail "$1" "not gzip"
	go tool pprof -raw "$1" >/dev/null 2>&1 || fail "$1" "go tool pprof cannot read it"
}
# run_status EXPECTED CMD...: run, require exit status EXPECTED.
run_status() {
	local want=$1 rc=0
	shift
	"$@" || rc=$?
	[[ $rc == "$want" ]] || fail "$*" "exit status $rc, want $want"
}

# ---- anchors: the seed's memory anchors, distinct counts per group ----
counts="fire-and-forget=12,chan-send=11,chan-recv=10,context=9,nil-send=8,nil-recv=7,select-empty=6,mutex=5,waitgroup=4,cond=3,rwmutex=2"
A=("$bin/anchors" -counts "$counts")
AL=("$bin/anchors-leak" -counts "$counts")

if [[ $SLOW != 0 ]]; then
	# started first, in the background: they sleep 65 s before dumping
	"${A[@]}" -wait 65s -form debug2 -o "$out/anchors-waited.debug2.txt" &
	w1=$!
	"${AL[@]}" -wait 65s -form leak-debug2 -o "$out/anchors-waited.leak.debug2.txt" &
	w2=$!
fi

"${A[@]}" -form debug2 -o "$out/anchors.debug2.txt"
"${A[@]}" -form debug1 -o "$out/anchors.debug1.txt"
"${A[@]}" -form proto -o "$out/anchors.pb.gz"
"${AL[@]}" -form leak-debug2 -o "$out/anchors.leak.debug2.txt"
"${AL[@]}" -form leak-debug1 -o "$out/anchors.leak.debug1.txt"
"${AL[@]}" -form leak-proto -o "$out/anchors.leak.pb.gz"
wrote anchors.debug2.txt anchors.debug1.txt anchors.pb.gz anchors.leak.debug2.txt anchors.leak.debug1.txt anchors.leak.pb.gz

f=$out/anchors.debug2.txt
for pat in '\[sleep\]' '\[chan send\]' '\[chan receive\]' '\[select\]' '\[chan send \(nil chan\)\]' \
	'\[chan receive \(nil chan\)\]' '\[select \(no cases\)\]' '\[sync\.Mutex\.Lock\]' \
	'\[sync\.WaitGroup\.Wait\]' '\[sync\.Cond\.Wait\]' '\[sync\.RWMutex\.RLock\]' \
	'^created by main\.[A-Za-z]+ in goroutine 1$' '^main\.awaitResult\(\.\.\.\)$'; do
	expect "$f" "$pat"
done
[[ $(grep -c '^goroutine ' "$f") == 78 ]] || fail "$f" "want 78 goroutines (77 anchored + main)"
expect "$out/anchors.debug1.txt" '^goroutine profile: total 78$'
expect "$out/anchors.debug1.txt" '^12 @ '
expect_pb "$out/anchors.pb.gz"
f=$out/anchors.leak.debug2.txt
for pat in '\[chan send \(leaked\)\]' '\[chan receive \(leaked\)\]' '\[chan send \(nil chan\) \(leaked\)\]' \
	'\[chan receive \(nil chan\) \(leaked\)\]' '\[select \(no cases\) \(leaked\)\]' '\[sync\.Mutex\.Lock \(leaked\)\]' \
	'\[sync\.WaitGroup\.Wait \(leaked\)\]' '\[sync\.Cond\.Wait \(leaked\)\]' '\[sync\.RWMutex\.RLock \(leaked\)\]' \
	'\[sleep\]' '\[select\]'; do
	expect "$f" "$pat"
done
[[ $(grep -c '(leaked)\]:$' "$f") == 56 ]] || fail "$f" "want 56 leaked goroutines"
expect "$out/anchors.leak.debug1.txt" '^goroutineleak profile: total 56$'
expect_pb "$out/anchors.leak.pb.gz"

# ---- healthy programs ----
for form in debug2 debug1 proto; do
	ext=$form.txt
	[[ $form == proto ]] && ext=pb.gz
	"$bin/healthy-http" -form "$form" -o "$out/healthy-http.$ext"
	wrote "healthy-http.$ext"
done
for pat in 'net/http\.\(\*conn\)\.serve' 'net/http\.\(\*persistConn\)\.readLoop' \
	'net/http\.\(\*persistConn\)\.writeLoop' 'net/http\.\(\*Server\)\.Serve' '\[IO wait\]'; do
	expect "$out/healthy-http.debug2.txt" "$pat"
done
expect "$out/healthy-http.debug1.txt" '^goroutine profile: total '
expect_pb "$out/healthy-http.pb.gz"
# The goroutineleak profile at debug=2 of a program with no leak: the same text as a goroutine
# dump, no "(leaked)" anywhere; only the dumping goroutine's frames say which profile it was.
"$bin/healthy-http-leak" -form leak-debug2 -o "$out/healthy-http.leak.debug2.txt"
wrote healthy-http.leak.debug2.txt
expect "$out/healthy-http.leak.debug2.txt" 'runtime/pprof\.writeGoroutineLeak'
! grep -q '(leaked)' "$out/healthy-http.leak.debug2.txt" || fail healthy-http.leak.debug2.txt "want no leaked goroutine"
"$bin/workerpool" -form debug2 -o "$out/workerpool.debug2.txt"
wrote workerpool.debug2.txt
[[ $(grep -c '^main\.worker(' "$out/workerpool.debug2.txt") == 8 ]] || fail workerpool.debug2.txt "want 8 workers"
expect "$out/workerpool.debug2.txt" '^main\.\(\*Pool\)\.dispatch\('

# ---- shapes that write a dump ----
for mode in deep generics closures locked labels; do
	"$bin/shapes" -mode "$mode" -o "$out/shapes-$mode.txt"
	wrote "shapes-$mode.txt"
done
expect "$out/shapes-deep.txt" '^\.\.\.[0-9]+ frames elided\.\.\.$'
expect "$out/shapes-generics.txt" '^main\.Sum\[\.\.\.\]\('
expect "$out/shapes-generics.txt" '^main\.\(\*Queue\[\.\.\.\]\)\.Pop\('
expect "$out/shapes-generics.txt" '^main\.Pair\[\.\.\.\]\.Await\('
expect "$out/shapes-closures.txt" '^main\.startClosures\.func[0-9]+\.[0-9]+\.[0-9]+\(\)$'
expect "$out/shapes-closures.txt" '^main\.init\.func[0-9]+\('
expect "$out/shapes-closures.txt" '\(\.\.\.\)$'
expect "$out/shapes-locked.txt" '^goroutine [0-9]+ \[chan receive, locked to thread\]:$'
expect "$out/shapes-labels.txt" '^goroutine [0-9]+ \[chan receive labels:\{"handler": "checkout", "region": "eu-west-1"\}\]:$'
expect "$out/shapes-labels.txt" 'labels:\{.*\\u00e9'
"$bin/shapes" -mode labels -form debug1 -o "$out/shapes-labels.debug1.txt"
"$bin/shapes" -mode labels -form proto -o "$out/shapes-labels.pb.gz"
wrote shapes-labels.debug1.txt shapes-labels.pb.gz
expect "$out/shapes-labels.debug1.txt" '^# labels: \{"handler":"checkout", "region":"eu-west-1"\}$'
expect_pb "$out/shapes-labels.pb.gz"
go tool pprof -raw "$out/shapes-labels.pb.gz" 2>/dev/null | grep -q 'handler:\[checkout\]' ||
	fail shapes-labels.pb.gz "labels missing from the proto"

GODEBUG=tracebackancestors=5 "$bin/shapes" -mode ancestors -o "$out/ancestors.txt"
wrote ancestors.txt
expect "$out/ancestors.txt" '^\[originating from goroutine [0-9]+\]:$'

"$bin/shapes-leak" -mode leaked -o "$out/shapes-leaked.txt"
wrote shapes-leaked.txt
expect "$out/shapes-leaked.txt" '\[select \(leaked\)\]'
expect "$out/shapes-leaked.txt" '^goroutine [0-9]+ \[chan receive\]:$'

# ---- process-ending shapes: the runtime's stderr is the fixture ----
# panic: a busy goroutine keeps running on its own thread while the dump is
# written when the world is not frozen (GODEBUG=dontfreezetheworld=1).
ok=0
for try in $(seq 10); do
	run_status 2 env GOTRACEBACK=all GODEBUG=dontfreezetheworld=1 "$bin/shapes" -mode panic 2>"$out/panic.txt"
	if grep -q 'goroutine running on other thread; stack unavailable' "$out/panic.txt"; then
		ok=1
		break
	fi
done
[[ $ok == 1 ]] || fail panic.txt "no 'goroutine running on other thread' after 10 tries"
expect "$out/panic.txt" '^panic: order 42 has no items$'
run_status 2 env GOTRACEBACK=all "$bin/shapes" -mode panic -repanic 2>"$out/panic-repanic.txt"
expect "$out/panic-repanic.txt" '^panic: order 42 has no items \[recovered, repanicked\]$'
wrote panic.txt panic-repanic.txt

run_status 2 "$bin/deadlock" 2>"$out/deadlock.txt"
expect "$out/deadlock.txt" '^fatal error: all goroutines are asleep - deadlock!$'
wrote deadlock.txt

# sigquit: started, then killed with SIGQUIT from outside like an operator would.
"$bin/shapes" -mode sigquit -external >"$bin/sigquit.out" 2>"$out/sigquit.txt" &
pid=$!
for _ in $(seq 100); do
	grep -q '^ready' "$bin/sigquit.out" && break
	sleep 0.1
done
grep -q '^ready' "$bin/sigquit.out" || fail sigquit.txt "program never became ready"
kill -QUIT "$pid"
rc=0
wait "$pid" || rc=$?
[[ $rc == 2 ]] || fail sigquit.txt "exit status $rc, want 2"
expect "$out/sigquit.txt" '^SIGQUIT: quit$'
expect "$out/sigquit.txt" '^PC=0x[0-9a-f]+ m=[0-9]+ sigcode=[0-9]+$'
wrote sigquit.txt

run_status 2 env GOTRACEBACK=system "$bin/shapes" -mode system 2>"$out/system.txt"
expect "$out/system.txt" '^goroutine [0-9]+ gp=0x[0-9a-f]+ m=[0-9]+ mp=0x[0-9a-f]+ \[running\]:$'
expect "$out/system.txt" '^goroutine [0-9]+ gp=0x[0-9a-f]+ m=nil \['
expect "$out/system.txt" ' fp=0x[0-9a-f]+ sp=0x[0-9a-f]+ pc=0x[0-9a-f]+$'
expect "$out/system.txt" '^\[signal SIGSEGV: segmentation violation code=0x[0-9a-f]+ addr=0x0 pc=0x[0-9a-f]+\]$'
expect "$out/system.txt" '\.gowrap[0-9]+\(\)$'
expect "$out/system.txt" '-fm\(\)$'
wrote system.txt

# crash: SIGQUIT at traceback level crash dumps all goroutines, then every M.
# With dontfreezetheworld the busy goroutine keeps running, so (when the
# scheduler puts it on an M other than the one that got the signal) it shows
# up twice: "running on other thread" first, then with its stack in its M's
# section. Retry until that happens; the other features are always there.
ok=0
for try in $(seq 10); do
	run_status 134 env GOTRACEBACK=crash GODEBUG=dontfreezetheworld=1 "$bin/shapes" -mode crash 2>"$out/crash.txt"
	if grep -q 'goroutine running on other thread; stack unavailable' "$out/crash.txt" &&
		[[ -n $(grep -E '^goroutine [1-9][0-9]* gp=0x[0-9a-f]+ m=[0-9]+ mp=0x[0-9a-f]+ \[running\]:$' "$out/crash.txt" | sort | uniq -d) ]]; then
		ok=1
		break
	fi
done
[[ $ok == 1 ]] || echo "gen-shapes: warning: crash.txt: the running goroutine did not show up twice in 10 tries" >&2
expect "$out/crash.txt" '^-----$'
expect "$out/crash.txt" '^goroutine 0 gp=0x[0-9a-f]+ m=[0-9]+ mp=0x[0-9a-f]+ \[idle\]:$'
expect "$out/crash.txt" '^rip +0x[0-9a-f]+$'
wrote crash.txt

# ---- go test output ----
SHAPES_SYNCTEST_OUT="$out/synctest.txt" go test -count=1 -run '^TestSynctestDump$' ./cmd/shapes >/dev/null
expect "$out/synctest.txt" '^goroutine [0-9]+ \[chan receive \(durable\), synctest bubble [0-9]+\]:$'
expect "$out/synctest.txt" '^goroutine [0-9]+ \[sleep \(durable\), synctest bubble [0-9]+\]:$'
expect "$out/synctest.txt" '^goroutine [0-9]+ \[sync\.Mutex\.Lock, synctest bubble [0-9]+\]:$'
wrote synctest.txt
run_status 1 env SHAPES_SYNCTEST_DEADLOCK=1 go test -count=1 -run '^TestSynctestDeadlock$' ./cmd/shapes >"$out/synctest-deadlock.txt" 2>&1
expect "$out/synctest-deadlock.txt" '^panic: deadlock: main bubble goroutine has exited but blocked goroutines remain'
wrote synctest-deadlock.txt
run_status 1 env SHAPES_TEST_TIMEOUT=1 go test -count=1 -timeout 2s -run '^TestHangs$' ./cmd/shapes >"$out/gotest-timeout.txt" 2>&1
expect "$out/gotest-timeout.txt" '^panic: test timed out after 2s$'
expect "$out/gotest-timeout.txt" '^FAIL	leakwatch\.test/testdata/cmd/shapes	'
wrote gotest-timeout.txt

# ---- mechanical wrappings of anchors.debug2.txt ----
src=$out/anchors.debug2.txt
{
	printf '2026-11-28T07:59:58.101000000Z stdout F {"level":"info","ts":"2026-11-28T07:59:58Z","msg":"starting api","addr":":8080"}\n'
	printf '2026-11-28T07:59:59.250000000Z stdout F {"level":"warn","ts":"2026-11-28T07:59:59Z","msg":"slow request","path":"/v1/orders","ms":1874}\n'
	printf '2026-11-28T07:59:59.990000000Z stderr F 2026/11/28 07:59:59 received SIGUSR1, dumping goroutines\n'
	awk '{ printf "2026-11-28T08:00:00.%09dZ stderr F %s\n", 123456789 + NR * 1000, $0 }' "$src"
	printf '2026-11-28T08:00:01.000000000Z stdout F {"level":"info","ts":"2026-11-28T08:00:01Z","msg":"goroutine dump written","goroutines":78}\n'
	printf '2026-11-28T08:00:02.500000000Z stdout F {"level":"error","ts":"2026-11-28T08:00:02Z","msg":"upstream timeout","err":"context deadline exceeded"}\n'
} >"$out/container-log.txt"
sed 's/$/\r/' "$src" >"$out/crlf.txt"
gzip -9 -n -c "$src" >"$out/anchors.debug2.txt.gz"
wrote container-log.txt crlf.txt anchors.debug2.txt.gz

if [[ $SLOW != 0 ]]; then
	wait "$w1"
	wait "$w2"
	expect "$out/anchors-waited.debug2.txt" '^goroutine [0-9]+ \[chan send, 1 minutes\]:$'
	expect "$out/anchors-waited.debug2.txt" '^goroutine [0-9]+ \[select \(no cases\), 1 minutes\]:$'
	expect "$out/anchors-waited.leak.debug2.txt" '^goroutine [0-9]+ \[chan send \(leaked\)\]:$'
	wrote anchors-waited.debug2.txt anchors-waited.leak.debug2.txt
else
	echo "SLOW=0: skipped anchors-waited.debug2.txt and anchors-waited.leak.debug2.txt"
fi

echo "wrote to $out:"
total=0
for f in "${written[@]}"; do
	sz=$(wc -c <"$out/$f")
	total=$((total + sz))
	printf '  %8d  %s\n' "$sz" "$f"
done
printf '  %8d  total\n' "$total"
