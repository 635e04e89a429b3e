/**
 * The `go test -overlay` that installs the leak check without writing into the user's tree.
 *
 * A package without TestMain gets one added. A package with its own TestMain gets a copy of that
 * file in the overlay with the function renamed, its `m.Run()` replaced by the per-test driver
 * and its `os.Exit` calls routed through the final check, so that check runs after the user's
 * teardown, exactly when the test binary would exit. The driver checks after every top-level
 * test (see checkCode); each check lets goroutines that are finishing finish (bounded retries
 * with back-off), then writes the goroutine dump, or the goroutineleak profile where the
 * runtime has one.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TestPackage } from './packages.js';

/** Name of the file the overlay adds to each package (it never exists on disk). */
const ADDED_FILE = 'zz_leakwatch_testmain_test.go';

export interface SettleOptions {
  /** Tries to let goroutines finish before dumping. */
  retries: number;
  /** Longest pause between tries, in milliseconds (pauses double from 1 µs, as goleak's do). */
  maxDelayMs: number;
}

export interface PackageSetup {
  pkg: TestPackage;
  /** Base name of the dump files this package's test binary writes into LEAKWATCH_OUT. */
  key: string;
  /** How the check was installed, or why it could not be. */
  install: 'added' | 'wrapped' | 'skipped';
  note?: string;
}

interface Overlay {
  /** Path of the -overlay JSON. */
  file: string;
  setups: PackageSetup[];
}

/** File-name-safe key for a package's dumps. */
function packageKey(importPath: string): string {
  return importPath.replace(/[^A-Za-z0-9._-]+/g, '_');
}

/** What the generated code needs to know about the package. */
interface CheckSetup {
  key: string;
  settle: SettleOptions;
  /** Top-level tests that call t.Parallel (go test runs them together, after the others). */
  parallel: string[];
}

/**
 * The Go code of the check, shared by both installs.
 *
 * `leakwatchRun` stands in for `m.Run`. It asks the binary for its own test list (`-test.list`
 * into a pipe), then calls `m.Run` once per top-level test (the t.Parallel ones together, as
 * their group), selecting each through `-test.run` (or `-test.skip` when the user's -run has
 * alternatives) so the user's `-run`/`-skip` keep their exact meaning, and checks for goroutines left over after each call: a leak is named by the test that
 * left it with no re-run. `m.Run` may be called more than once (go.dev/issue/23129). Under
 * `-count=N` it drives the iterations itself so each is checked; `-timeout` stays one budget for
 * the whole binary (each call gets what is left). Flags whose outputs are written once per
 * binary (coverage, profiles) or that do not run tests (-list, -fuzz) get a single plain
 * `m.Run`, checked at the end as before.
 */
function checkCode(c: CheckSetup): string {
  const s = c.settle;
  const par = c.parallel.map((n) => `\t${JSON.stringify(n)}: true,\n`).join('');
  return `
var leakwatchBaseline = leakwatchruntime.NumGoroutine()

// leakwatchStderr keeps the process's stderr file reachable. Under go test -json, each m.Run
// sets os.Stderr = os.Stdout and keeps the previous os.Stderr in testing's realStderr; from the
// second call on that is stdout, the stderr *os.File becomes garbage, and its finalizer closes
// fd 2 at the next GC: a later timeout panic and its goroutine dump would vanish.
var leakwatchStderr = leakwatchos.Stderr

// leakwatchParallel: top-level tests whose body calls t.Parallel.
var leakwatchParallel = map[string]bool{
${par}}

var (
	leakwatchCode     = -1 // what leakwatchRun returned; -1 before it ran
	leakwatchProgress leakwatchatomic.Int64
	leakwatchChecks   int
)

func leakwatchFlag(name string) string {
	if f := leakwatchflag.Lookup(name); f != nil {
		return f.Value.String()
	}
	return ""
}

func leakwatchSet(name, value string) { _ = leakwatchflag.Set(name, value) }

// leakwatchPerTest: can the tests be run one m.Run call at a time and checked after each?
func leakwatchPerTest() bool {
	if leakwatchos.Getenv("LEAKWATCH_PER_TEST") != "1" || leakwatchtesting.CoverMode() != "" {
		return false
	}
	for _, f := range []string{"test.list", "test.fuzz", "test.cpuprofile", "test.memprofile", "test.blockprofile", "test.mutexprofile", "test.trace", "test.coverprofile"} {
		if leakwatchFlag(f) != "" {
			return false
		}
	}
	return leakwatchFlag("test.fuzzworker") != "true"
}

// leakwatchRun stands in for m.Run.
func leakwatchRun(m *leakwatchtesting.M) int {
	if !leakwatchflag.Parsed() {
		leakwatchflag.Parse()
	}
	dir := leakwatchos.Getenv("LEAKWATCH_OUT")
	if d, err := leakwatchtime.ParseDuration(leakwatchos.Getenv("LEAKWATCH_HANG_AFTER")); err == nil && d > 0 {
		go leakwatchWatch(d)
	}
	if dir == "" || !leakwatchPerTest() {
		leakwatchCode = m.Run()
		return leakwatchCode
	}
	// Let goroutines started by init reach the point where they block, so the start dump shows
	// them where later dumps will.
	for i := 0; i < 10; i++ {
		leakwatchruntime.Gosched()
	}
	leakwatchWrite(dir+"/${c.key}.start.txt", "goroutine")
	tests, fuzz, examples, ok := leakwatchList(m)
	if !ok {
		leakwatchCode = m.Run()
		return leakwatchCode
	}
	run, skip, bench := leakwatchFlag("test.run"), leakwatchFlag("test.skip"), leakwatchFlag("test.bench")
	count, _ := leakwatchstrconv.Atoi(leakwatchFlag("test.count"))
	if count < 1 {
		count = 1
	}
	timeout, _ := leakwatchtime.ParseDuration(leakwatchFlag("test.timeout"))
	deadline := leakwatchtime.Now().Add(timeout)
	if sh := leakwatchFlag("test.shuffle"); sh != "off" {
		seed := leakwatchtime.Now().UnixNano()
		if sh != "on" {
			n, err := leakwatchstrconv.ParseInt(sh, 10, 64)
			if err != nil { // testing says what is wrong with it
				leakwatchCode = m.Run()
				return leakwatchCode
			}
			seed = n
		}
		// The same shuffle as testing's, of the same list: -shuffle=seed replays the order.
		leakwatchfmt.Println("-test.shuffle", seed)
		rng := leakwatchrand.New(leakwatchrand.NewSource(seed))
		rng.Shuffle(len(tests), func(i, j int) { tests[i], tests[j] = tests[j], tests[i] })
		leakwatchSet("test.shuffle", "off")
	}
	serial := leakwatchos.Getenv("LEAKWATCH_SERIAL") == "1"
	var groups [][]string
	var par []string
	for _, t := range tests {
		if !leakwatchSelected(t, run, skip) {
			continue
		}
		if leakwatchParallel[t] && !serial {
			par = append(par, t)
		} else {
			groups = append(groups, []string{t})
		}
	}
	if len(par) > 0 {
		groups = append(groups, par)
	}
	for _, list := range [][]string{fuzz, examples} {
		for _, t := range list {
			if leakwatchSelected(t, run, skip) {
				groups = append(groups, []string{t})
			}
		}
	}
	if len(groups) == 0 { // nothing selected: let testing say so, and run benchmarks
		leakwatchCode = m.Run()
		return leakwatchCode
	}
	all := append(append(append([]string{}, tests...), fuzz...), examples...)
	leakwatchSet("test.count", "1")
	leakwatchSet("test.bench", "")
	failfast := leakwatchFlag("test.failfast") == "true"
	code := 0
	stop := false
	for iter := 1; iter <= count && !stop; iter++ {
		for _, g := range groups {
			if c := leakwatchRunGroup(m, dir, g, all, run, skip, iter, timeout, deadline); c != 0 {
				if code == 0 {
					code = c
				}
				if failfast {
					stop = true
					break
				}
			}
		}
	}
	leakwatchSet("test.run", run)
	if bench != "" && !stop {
		leakwatchSet("test.run", "^$")
		leakwatchSet("test.skip", skip)
		leakwatchSet("test.bench", bench)
		leakwatchSetTimeout(timeout, deadline)
		if c := m.Run(); c != 0 && code == 0 {
			code = c
		}
	}
	// Every test was checked: the final check compares against what is left now, so it does
	// not wait again for goroutines the checks already reported.
	leakwatchBaseline = leakwatchruntime.NumGoroutine()
	leakwatchCode = code
	return code
}

// leakwatchList asks testing for the binary's own test list, in the order m.Run runs them.
func leakwatchList(m *leakwatchtesting.M) (tests, fuzz, examples []string, ok bool) {
	r, w, err := leakwatchos.Pipe()
	if err != nil {
		return nil, nil, nil, false
	}
	stdout, stderr := leakwatchos.Stdout, leakwatchos.Stderr
	leakwatchos.Stdout = w
	var out leakwatchstrings.Builder
	done := make(chan struct{})
	go func() {
		_, _ = leakwatchio.Copy(&out, r)
		close(done)
	}()
	leakwatchSet("test.list", ".*")
	code := m.Run()
	leakwatchSet("test.list", "")
	_ = w.Close()
	<-done
	_ = r.Close()
	leakwatchos.Stdout, leakwatchos.Stderr = stdout, stderr
	if code != 0 {
		return nil, nil, nil, false
	}
	for _, name := range leakwatchstrings.Fields(out.String()) {
		switch {
		case leakwatchstrings.HasPrefix(name, "Test"):
			tests = append(tests, name)
		case leakwatchstrings.HasPrefix(name, "Fuzz"):
			fuzz = append(fuzz, name)
		case leakwatchstrings.HasPrefix(name, "Example"):
			examples = append(examples, name)
		}
	}
	return tests, fuzz, examples, true
}

// leakwatchSelected: would -run and -skip let this top-level test run at all?
func leakwatchSelected(name, run, skip string) bool {
	return leakwatchMatches(run, name, true) && !leakwatchMatches(skip, name, false)
}

// leakwatchMatches: does an alternative of a -run (or -skip) pattern take this top-level name?
// For -run, an alternative whose first element matches; for -skip, only a one-element one.
func leakwatchMatches(pattern, name string, run bool) bool {
	if pattern == "" {
		return run
	}
	for _, alt := range leakwatchSplit(pattern, '|') {
		elems := leakwatchSplit(alt, '/')
		if !run && len(elems) > 1 {
			continue
		}
		re, err := leakwatchregexp.Compile(elems[0])
		if err != nil {
			return run // testing reports the bad pattern
		}
		if re.MatchString(name) {
			return true
		}
	}
	return false
}

// leakwatchSplit splits a -run pattern on sep outside brackets and parentheses, as testing does.
func leakwatchSplit(s string, sep byte) []string {
	var out []string
	cs, cp, start := 0, 0, 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '[':
			cs++
		case c == ']':
			if cs > 0 {
				cs--
			}
		case c == '(' && cs == 0:
			cp++
		case c == ')' && cs == 0:
			cp--
		case c == '\\\\':
			i++
		case c == sep && cs == 0 && cp == 0:
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return append(out, s[start:])
}

func leakwatchSetTimeout(timeout leakwatchtime.Duration, deadline leakwatchtime.Time) leakwatchtime.Duration {
	if timeout <= 0 {
		return 0
	}
	rem := leakwatchtime.Until(deadline).Round(leakwatchtime.Millisecond)
	if rem > timeout/100*99 {
		rem = timeout // the first tests: the user's own figure in the timeout message
	} else if rem < leakwatchtime.Millisecond {
		rem = leakwatchtime.Millisecond
	}
	leakwatchSet("test.timeout", rem.String())
	return rem
}

// leakwatchRunGroup runs one test (or the parallel group) and checks what it left.
func leakwatchRunGroup(m *leakwatchtesting.M, dir string, group, all []string, run, skip string, iter int, timeout leakwatchtime.Duration, deadline leakwatchtime.Time) int {
	quoted := make([]string, len(group))
	for i, t := range group {
		quoted[i] = leakwatchregexp.QuoteMeta(t)
	}
	// Select the group with -run when the user's -run has one alternative: its first element
	// is replaced (the group was chosen by it), the subtest elements kept. Otherwise keep the
	// user's -run and skip every other test (exact, but slower with thousands of tests).
	if alts := leakwatchSplit(run, '|'); len(alts) == 1 {
		elems := leakwatchSplit(run, '/')
		elems[0] = "^(?:" + leakwatchstrings.Join(quoted, "|") + ")$"
		leakwatchSet("test.run", leakwatchstrings.Join(elems, "/"))
	} else {
		in := map[string]bool{}
		for _, t := range group {
			in[t] = true
		}
		var others []string
		for _, t := range all {
			if !in[t] {
				others = append(others, leakwatchregexp.QuoteMeta(t))
			}
		}
		sk := skip
		if len(others) > 0 {
			sk = "^(?:" + leakwatchstrings.Join(others, "|") + ")$"
			if skip != "" {
				sk += "|" + skip
			}
		}
		leakwatchSet("test.skip", sk)
	}
	var mark *leakwatchtime.Timer
	if rem := leakwatchSetTimeout(timeout, deadline); rem > 0 && leakwatchpprof.Lookup("goroutineleak") != nil {
		// Just before the alarm, let the runtime mark the goroutines it can prove stuck, so the
		// timeout's goroutine dump carries the verdicts.
		margin := rem / 10
		if margin > leakwatchtime.Second {
			margin = leakwatchtime.Second
		}
		mark = leakwatchtime.AfterFunc(rem-margin, leakwatchMarkLeaked)
	}
	base := leakwatchruntime.NumGoroutine()
	code := m.Run()
	if mark != nil {
		mark.Stop()
	}
	leakwatchProgress.Add(1)
	leakwatchChecks++
	n := leakwatchstrconv.Itoa(leakwatchChecks)
	leakwatchSettle(base)
	dumped := leakwatchruntime.NumGoroutine() > base
	if dumped {
		if !leakwatchWrite(dir+"/${c.key}.c"+n+".leak.txt", "goroutineleak") {
			leakwatchWrite(dir+"/${c.key}.c"+n+".txt", "goroutine")
		}
	}
	line := leakwatchfmt.Sprintf("%s\\t%d\\t%d\\t%t\\t%s\\n", n, iter, code, dumped, leakwatchstrings.Join(group, " "))
	if f, err := leakwatchos.OpenFile(dir+"/${c.key}.checks", leakwatchos.O_APPEND|leakwatchos.O_CREATE|leakwatchos.O_WRONLY, 0o644); err == nil {
		_, _ = f.WriteString(line)
		_ = f.Close()
	}
	return code
}

// leakwatchSettle lets goroutines that are ending end (goleak's schedule, bounded).
func leakwatchSettle(base int) {
	delay := leakwatchtime.Microsecond
	for i := 0; i < ${s.retries} && leakwatchruntime.NumGoroutine() > base; i++ {
		leakwatchtime.Sleep(delay)
		if delay *= 2; delay > ${s.maxDelayMs}*leakwatchtime.Millisecond {
			delay = ${s.maxDelayMs} * leakwatchtime.Millisecond
		}
	}
}

// leakwatchCheck runs when the binary is about to exit: it writes what is left.
func leakwatchCheck() {
	dir := leakwatchos.Getenv("LEAKWATCH_OUT")
	if dir == "" {
		return
	}
	leakwatchSettle(leakwatchBaseline)
	leakwatchWrite(dir+"/${c.key}.leak.txt", "goroutineleak")
	leakwatchWrite(dir+"/${c.key}.txt", "goroutine")
}

// leakwatchMarkLeaked runs the runtime's leak detection: goroutines it proves stuck show
// "(leaked)" in every later dump, the timeout's and SIGQUIT's included.
func leakwatchMarkLeaked() {
	if p := leakwatchpprof.Lookup("goroutineleak"); p != nil {
		_ = p.WriteTo(leakwatchio.Discard, 2)
	}
}

// leakwatchWatch (--hang-after): when no test has finished for d and every goroutine has sat
// blocked on the same stack for two looks in a row, nothing will move again: SIGQUIT, so the
// runtime prints every goroutine now instead of at the -timeout.
func leakwatchWatch(d leakwatchtime.Duration) {
	tick := d / 4
	if tick < 20*leakwatchtime.Millisecond {
		tick = 20 * leakwatchtime.Millisecond
	} else if tick > leakwatchtime.Second {
		tick = leakwatchtime.Second
	}
	last, since, prev := leakwatchProgress.Load(), leakwatchtime.Now(), ""
	for {
		leakwatchtime.Sleep(tick)
		if p := leakwatchProgress.Load(); p != last {
			last, since, prev = p, leakwatchtime.Now(), ""
			continue
		}
		if leakwatchtime.Since(since) < d {
			continue
		}
		stacks, blocked := leakwatchBlocked()
		if !blocked || stacks != prev {
			prev = stacks
			continue
		}
		leakwatchMarkLeaked()
		leakwatchfmt.Fprintf(leakwatchos.Stderr, "leakwatch: no test finished for %v and every goroutine is blocked: SIGQUIT for a goroutine dump\\n", d)
		leakwatchdebug.SetTraceback("all")
		if p, err := leakwatchos.FindProcess(leakwatchos.Getpid()); err == nil && p.Signal(leakwatchsyscall.SIGQUIT) == nil {
			leakwatchtime.Sleep(leakwatchtime.Hour)
		}
		panic("leakwatch: the test is hung (no test finished for " + d.String() + ")")
	}
}

// leakwatchBlocked returns every other goroutine's state and stack, and whether all are blocked.
func leakwatchBlocked() (string, bool) {
	buf := make([]byte, 1<<16)
	for {
		n := leakwatchruntime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	var b leakwatchstrings.Builder
	for i, rec := range leakwatchstrings.Split(string(buf), "\\n\\n") {
		if i == 0 {
			continue // this goroutine
		}
		head, stack, _ := leakwatchstrings.Cut(rec, "\\n")
		open, end := leakwatchstrings.Index(head, "["), leakwatchstrings.LastIndex(head, "]")
		if open < 0 || end < open {
			return "", false
		}
		state, _, _ := leakwatchstrings.Cut(head[open+1:end], ",") // drop ", N minutes"
		switch state {
		case "running", "runnable", "syscall", "preempted":
			return "", false
		}
		b.WriteString(head[:open] + state + "\\n" + stack + "\\n")
	}
	return b.String(), true
}

// leakwatchExitCode: the code testing would exit with after a TestMain that returns.
func leakwatchExitCode(m *leakwatchtesting.M) int {
	if leakwatchCode >= 0 {
		return leakwatchCode
	}
	return int(leakwatchreflect.ValueOf(m).Elem().FieldByName("exitCode").Int())
}

// leakwatchWrite writes a profile at debug=2; false when this build has no such profile.
func leakwatchWrite(path, profile string) bool {
	p := leakwatchpprof.Lookup(profile)
	if p == nil {
		return false
	}
	f, err := leakwatchos.Create(path + ".tmp")
	if err != nil {
		return true
	}
	err = p.WriteTo(f, 2)
	if cerr := f.Close(); err == nil && cerr == nil {
		_ = leakwatchos.Rename(path+".tmp", path)
	}
	return true
}
`;
}

const IMPORTS = `import (
	leakwatchflag "flag"
	leakwatchfmt "fmt"
	leakwatchio "io"
	leakwatchrand "math/rand"
	leakwatchos "os"
	leakwatchreflect "reflect"
	leakwatchregexp "regexp"
	leakwatchruntime "runtime"
	leakwatchdebug "runtime/debug"
	leakwatchpprof "runtime/pprof"
	leakwatchstrconv "strconv"
	leakwatchstrings "strings"
	leakwatchatomic "sync/atomic"
	leakwatchsyscall "syscall"
	leakwatchtesting "testing"
	leakwatchtime "time"
)
`;

const HEADER = '// Code generated by leakwatch test, in an -overlay only. DO NOT EDIT.\n\n';

/** A TestMain for a package that has none. */
function addedTestMain(packageName: string, c: CheckSetup): string {
  return `${HEADER}package ${packageName}

${IMPORTS}
func TestMain(m *leakwatchtesting.M) {
	code := leakwatchRun(m)
	leakwatchCheck()
	leakwatchos.Exit(code)
}
${checkCode(c)}`;
}

/** The companion of a wrapped TestMain: calls the user's, checks when it exits or returns. */
function wrapperTestMain(packageName: string, c: CheckSetup): string {
  return `${HEADER}package ${packageName}

${IMPORTS}
func TestMain(m *leakwatchtesting.M) {
	leakwatchUserTestMain(m)
	leakwatchCheck()
	leakwatchos.Exit(leakwatchExitCode(m))
}

// leakwatchExit stands in for os.Exit inside the user's TestMain.
func leakwatchExit(code int) {
	leakwatchCheck()
	leakwatchos.Exit(code)
}
${checkCode(c)}`;
}

/**
 * Rewrites a test file's TestMain: renamed, `m.Run()` inside its body replaced by the per-test
 * driver, and `os.Exit(` routed to the check.
 * Returns undefined (with a reason) when the shape is not one we can rewrite safely.
 */
export function wrapUserTestMain(source: string): { code: string } | { reason: string } {
  const m = /^func\s+TestMain(\s*\(\s*(\w+)\s+\*testing\.M\s*\))/m.exec(source);
  if (!m) return { reason: 'TestMain not found' };
  const osAlias = /^\s*(?:import\s+)?([\w.]+\s+)?"os"\s*$/m.exec(source);
  const alias = osAlias?.[1]?.trim() || 'os';
  if (alias === '_' || alias === '.') return { reason: `"os" is imported as ${alias}` };
  // The body: from the first { after the signature to its matching }, skipping strings,
  // runes and comments so braces inside them do not count.
  const open = source.indexOf('{', m.index + m[0].length);
  const close = matchBrace(source, open);
  if (open < 0 || close < 0) return { reason: 'could not find the end of TestMain' };
  // m.Run() becomes the per-test driver; os.Exit goes through the final check.
  const param = m[2]!;
  const body = source
    .slice(open, close + 1)
    .split(`${alias}.Exit(`)
    .join('leakwatchExit(')
    .split(`${param}.Run()`)
    .join(`leakwatchRun(${param})`);
  const code =
    source.slice(0, m.index) +
    `func leakwatchUserTestMain${m[1]}` +
    source.slice(m.index + m[0].length, open) +
    body +
    source.slice(close + 1);
  return { code };
}

function matchBrace(s: string, open: number): number {
  let depth = 0;
  for (let i = open; i < s.length; i++) {
    const c = s[i];
    if (c === '/' && s[i + 1] === '/') i = s.indexOf('\n', i) < 0 ? s.length : s.indexOf('\n', i);
    else if (c === '/' && s[i + 1] === '*') i = s.indexOf('*/', i + 2) + 1;
    else if (c === '"' || c === "'") {
      for (i++; i < s.length && s[i] !== c; i++) if (s[i] === '\\') i++;
    } else if (c === '`') i = s.indexOf('`', i + 1);
    else if (c === '{') depth++;
    else if (c === '}' && --depth === 0) return i;
    if (i < 0) return -1;
  }
  return -1;
}

/**
 * Top-level tests whose body calls `.Parallel()`: go test runs them together after the others,
 * and so does the driver. A test that reaches t.Parallel through a helper is missed and simply
 * runs alone (still checked, only not concurrently with the group).
 */
function parallelTests(pkg: TestPackage): string[] {
  const out: string[] = [];
  for (const f of [...pkg.testFiles, ...pkg.xtestFiles]) {
    let src: string;
    try {
      src = readFileSync(join(pkg.dir, f), 'utf8');
    } catch {
      continue;
    }
    for (const m of src.matchAll(/^func\s+(Test[^a-z]\w*|Test)\s*\(\s*\w+\s+\*\w+\.T\s*\)/gm)) {
      const open = src.indexOf('{', m.index + m[0].length);
      const close = matchBrace(src, open);
      if (open >= 0 && close > open && /\.Parallel\(\)/.test(src.slice(open, close)))
        out.push(m[1]!);
    }
  }
  return out;
}

/** Writes the generated files and the overlay JSON into `workDir`. */
export function buildOverlay(pkgs: TestPackage[], workDir: string, s: SettleOptions): Overlay {
  const replace: Record<string, string> = {};
  const setups: PackageSetup[] = [];
  mkdirSync(workDir, { recursive: true });
  pkgs.forEach((pkg, i) => {
    const key = packageKey(pkg.importPath);
    const gen = join(workDir, `testmain_${i}.go`);
    const check: CheckSetup = { key, settle: s, parallel: parallelTests(pkg) };
    if (!pkg.ownTestMain) {
      writeFileSync(gen, addedTestMain(pkg.name, check));
      replace[join(pkg.dir, ADDED_FILE)] = gen;
      setups.push({ pkg, key, install: 'added' });
      return;
    }
    const userFile = join(pkg.dir, pkg.ownTestMain.file);
    const wrapped = wrapUserTestMain(readFileSync(userFile, 'utf8'));
    if ('reason' in wrapped) {
      setups.push({
        pkg,
        key,
        install: 'skipped',
        note: `has its own TestMain in ${pkg.ownTestMain.file} that leakwatch cannot wrap (${wrapped.reason}); run without a leak check. Make TestMain call os.Exit(code) or return after m.Run(), with "os" imported normally.`,
      });
      return;
    }
    const copy = join(workDir, `usermain_${i}.go`);
    writeFileSync(copy, wrapped.code);
    replace[userFile] = copy;
    const pkgName = pkg.ownTestMain.external ? `${pkg.name}_test` : pkg.name;
    writeFileSync(gen, wrapperTestMain(pkgName, check));
    replace[join(pkg.dir, ADDED_FILE)] = gen;
    setups.push({
      pkg,
      key,
      install: 'wrapped',
      note: `has its own TestMain (${pkg.ownTestMain.file}); leakwatch wrapped it in the overlay, so the check runs when TestMain exits, after your teardown. Nothing in your tree was changed.`,
    });
  });
  const file = join(workDir, 'overlay.json');
  writeFileSync(file, JSON.stringify({ Replace: replace }, null, 1));
  return { file, setups };
}
