/**
 * `analyze --source`: link a report's suspects to a checkout, and hand the renderers what they
 * show. Also the entry point for other front ends (watch alerts, the dashboard) that have one
 * group and a checkout: `linkGroup`.
 */
import type { Report, Suspect } from '../analysis/suspects.js';
import type { Style } from '../render/style.js';
import { linkGroups, type GroupLink, type Linkable, type LinkResult } from './link.js';
import { enclosingModule } from './gomod.js';
import { linkBrief, linkJson, linkSummary, linkTextLines } from './render.js';

interface ReportLink {
  result: LinkResult;
  /** For renderText's `link` option. */
  text(c: Style): { summary: string; suspect: (x: Suspect) => string[] };
  /** The report's JSON document with `sourceDir` and, on each suspect, `source`/`findings`/`lifetime`. */
  json(doc: { suspects: object[] }): object;
}

/** Links the report's suspects to the checkout at `dir`. */
export async function linkReport(r: Report, dir: string): Promise<ReportLink> {
  const groups = r.suspects.map((x) => x.group);
  const result = await linkGroups(dir, groups);
  return {
    result,
    text: (c) => ({
      summary: linkSummary(result, groups, c),
      suspect: (x) => {
        const l = result.links.get(x.group);
        return l ? linkTextLines(l, c) : [];
      },
    }),
    json: (doc) => ({
      ...doc,
      sourceDir: result.dir,
      suspects: doc.suspects.map((s, i) => ({
        ...s,
        ...linkJson(result.links.get(groups[i]!)),
      })),
    }),
  };
}

/**
 * One group linked to a checkout: for a watch alert (`--source`) or the dashboard's group view.
 * `group` is an analysis Group, or made from an alert: `{ stack: { frames: [holder], createdBy },
 * blockedOn }`. Throws UserError when `dir` is not a Go module checkout.
 */
export async function linkGroup(dir: string, group: Linkable): Promise<GroupLink> {
  const r = await linkGroups(dir, [group]);
  return r.links.get(group)!;
}

/** What `leakwatch test` shows of the link: lines under each leak, and its JSON fields. */
interface TestLink {
  lines(x: Suspect, c: Style): string[];
  json(x: Suspect): ReturnType<typeof linkJson>;
}

/**
 * Links every leak of a `leakwatch test` run (per package and per test) to the module in `cwd`
 * and the lint findings of the leaking packages. Undefined when `cwd` holds no Go module.
 */
export async function linkTestLeaks(
  cwd: string,
  leaks: readonly Suspect[],
): Promise<TestLink | undefined> {
  if (leaks.length === 0 || enclosingModule(cwd) === undefined) return undefined;
  const result = await linkGroups(cwd, [...new Set(leaks.map((x) => x.group))], { cwd });
  return {
    lines: (x, c) => {
      const l = result.links.get(x.group);
      return l ? linkBrief(l, c) : [];
    },
    json: (x) => linkJson(result.links.get(x.group)),
  };
}
