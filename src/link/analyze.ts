/**
 * `analyze --source`: link a report's suspects to a checkout, and hand the renderers what they
 * show. Also the entry point for other front ends (watch alerts, the dashboard) that have one
 * group and a checkout: `linkGroup`.
 */
import type { Group } from '../analysis/group.js';
import type { Report } from '../analysis/suspects.js';
import type { Style } from '../render/style.js';
import { defaultSource, linkGroups, type GroupLink, type LinkResult } from './link.js';
import { linkJson, linkSummary, linkTextLines } from './render.js';

export interface ReportLink {
  result: LinkResult;
  /** For renderText's `link` option. */
  text(c: Style): { summary: string; suspect: (x: Report['suspects'][number]) => string[] };
  /** The report's JSON document with `sourceDir` and, on each suspect, `source`/`findings`/`lifetime`. */
  json(doc: { suspects: object[] }): object;
}

/**
 * Links the report's suspects. `source`: a directory, `false` for none, or undefined for the
 * default (the working directory, when its module is in the dump). Undefined when nothing is
 * linked.
 */
export async function linkReport(
  r: Report,
  source: string | false | undefined,
  cwd = process.cwd(),
): Promise<ReportLink | undefined> {
  if (source === false) return undefined;
  const groups = r.suspects.map((x) => x.group);
  const dir = source ?? (groups.length > 0 ? defaultSource(cwd, groups) : undefined);
  if (dir === undefined) return undefined;
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
 * Throws UserError when `dir` is not a Go module checkout.
 */
export async function linkGroup(dir: string, group: Group): Promise<GroupLink> {
  const r = await linkGroups(dir, [group]);
  return r.links.get(group)!;
}
