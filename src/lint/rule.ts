/**
 * What a lint rule is: an id, a one-line summary, and a check over one parsed package that
 * reports findings through a callback. Rules live one per folder under rules/<id>/.
 */
import type { GoFile, Package } from './go/package.js';
import type { Node } from './go/syntax.js';

/** What the config can set a rule to. */
export type Severity = 'error' | 'warning';

export interface Report {
  /** Where the finding points: the node's start. */
  at: Node;
  file: GoFile;
  /** One line, in ownership terms: who owns it, when should it die, what keeps it alive. */
  message: string;
  /** What to change. */
  fix: string;
  /**
   * The partner's way out that strands the leaking side (the case or return through which a
   * receiver leaves, say). In a test file, when that way is a failed test (t.Fatal, a timeout
   * case), the leak happens only after the test has already failed, and is reported apart.
   */
  partner?: Node;
  /** The partner's file, when it is not `file` (followed into another function's file). */
  partnerFile?: GoFile;
}

export interface Rule {
  id: string;
  /** One line for help, docs and SARIF. */
  summary: string;
  /**
   * Words the rule cannot do without: it reports nothing in a package unless each pattern
   * matches the code (comments and strings blanked) of some file. Lint runs the rule only where
   * they all match, and parses no package where no enabled rule's do (run.ts): on the standard
   * library that is half the source. A rule without `needs` runs on every package, and so makes
   * every package be parsed. Keep them a superset of what `check` starts from.
   */
  needs?: readonly RegExp[];
  check(pkg: Package, report: (r: Report) => void): void;
}

export interface Finding {
  rule: string;
  /** `note` for a leak that can happen only after its test has failed (see `testOnly`). */
  severity: Severity | 'note';
  /** Path as given or relative to the working directory, with forward slashes. */
  file: string;
  line: number;
  /** 1-based, in bytes like the go tool. */
  column: number;
  /** 1-based, in UTF-16 code units, as SARIF counts them (not in the JSON output). */
  columnUtf16: number;
  message: string;
  fix: string;
  /** Set when the leak is reachable only after the test has failed: how it fails. */
  testOnly?: string;
  /** Import path of the finding's package as Go names it in stacks (`main` for a command). */
  package?: string;
  /** The declared function holding it, as Go prints it after the package: `(*T).m`, `F`. */
  function?: string;
  /** Where the partner that strands it is (the case, return or call that leaves), when known. */
  partner?: { file: string; line: number; column: number; columnUtf16: number };
}
