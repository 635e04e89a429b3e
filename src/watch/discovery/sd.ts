/**
 * What every discovery source shares: Prometheus's target-group format, and the one way a
 * discovered endpoint becomes a `Target` (its pprof URL, its labels, its name).
 *
 * The format (file_sd, http_sd): a list of `{ "targets": ["host:port", ...], "labels": {...} }`.
 * Each address becomes one endpoint whose labels are the group's, plus `instance` (the address,
 * unless the group sets it) and `__address__`. Labels starting with `__` (`__address__`,
 * `__scheme__`, Prometheus's `__meta_*`) are usable in templates but not kept on the target,
 * as Prometheus drops them after relabelling.
 *
 * Names. History is keyed on a target's name, so the name decides what history follows: the
 * `--target-name` template (`{namespace}/{service}`), else `{job}/{instance}` (`{instance}`
 * without a job), which is per address and so starts over when a pod comes back on a new IP.
 * Several endpoints with one name (the replicas of a Deployment) get slots: `NAME`, `NAME#2`,
 * `NAME#3`... A slot stays with its endpoint while it lives; when one goes, the newest of the
 * higher slots moves down into the gap, so a replacement pod continues its predecessor's series
 * (the watcher sees the drop as a restart). Slots are handed out afresh, by address, when
 * leakwatch restarts, and a scale-down can hand one replica's series to another.
 */
import { UserError } from '../../errors.js';
import { printable } from '../../render/escape.js';
import type { Target } from '../types.js';

/** One endpoint a source found, before it is named: all its labels, `__` ones included. */
export interface Discovered {
  labels: Record<string, string>;
}

/** How discovered endpoints become targets (from the `watch` flags). */
export interface SdOptions {
  intervalMs: number;
  /** `{label}` template of a target's name; default `{job}/{instance}`. */
  nameTemplate?: string;
  /** The pprof port: a number, or a `{label}` template; default the discovered address's. */
  port?: string;
  /** Where net/http/pprof is mounted under, when not at `/` (`/admin` → /admin/debug/pprof/). */
  path?: string;
  /** Most endpoints taken from one source; the rest are dropped, with one log line. */
  maxTargets: number;
}

const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TEMPLATE_PART = /\{([^{}]*)\}/g;

/** A `{label}` template is valid: it names at least one label, each a Prometheus label name. */
export function checkTemplate(t: string, flag: string): string {
  const names = [...t.matchAll(TEMPLATE_PART)].map((m) => m[1]!);
  if (names.length === 0)
    throw new UserError(`${flag} "${printable(t)}": expected {label} parts, like {job}/{instance}`);
  for (const n of names)
    if (!LABEL.test(n))
      throw new UserError(
        `${flag} "${printable(t)}": {${printable(n)}} is not a label name ([a-zA-Z_][a-zA-Z0-9_]*)`,
      );
  return t;
}

/** `{namespace}/{pod}` with these labels; a label the endpoint lacks is empty. */
export function expand(template: string, labels: Record<string, string>): string {
  return template.replace(TEMPLATE_PART, (_, n: string) => labels[n] ?? '');
}

/**
 * Prometheus's target-group list, checked: a list of objects with a `targets` list of
 * `host:port` strings and optional string `labels`. `where` names the source in messages.
 */
export function parseGroups(raw: unknown, where: string): Discovered[] {
  const shape = `expected a list of {"targets": ["host:port", ...], "labels": {...}} (Prometheus file_sd/http_sd format)`;
  if (!Array.isArray(raw)) throw new UserError(`${where}: ${shape}`);
  const out: Discovered[] = [];
  raw.forEach((g: unknown, i) => {
    const at = `${where}: group ${i + 1}`;
    if (typeof g !== 'object' || g === null || Array.isArray(g))
      throw new UserError(`${at}: ${shape}`);
    const o = g as Record<string, unknown>;
    if (!Array.isArray(o.targets))
      throw new UserError(`${at}: "targets" must be a list of "host:port"`);
    const labels: Record<string, string> = {};
    if (o.labels !== undefined && o.labels !== null) {
      if (typeof o.labels !== 'object' || Array.isArray(o.labels))
        throw new UserError(`${at}: "labels" must be an object of strings`);
      for (const [k, v] of Object.entries(o.labels)) {
        if (!LABEL.test(k))
          throw new UserError(`${at}: label "${printable(k)}" is not a label name`);
        // YAML reads `port: 6060` as a number; Prometheus (Go's YAML) takes it as the string.
        if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean')
          throw new UserError(
            `${at}: label ${k} must be a string, got ${v === null ? 'null' : typeof v}`,
          );
        labels[k] = String(v);
      }
    }
    for (const t of o.targets) {
      if (
        typeof t !== 'string' ||
        !/^[^\s/:@]+(:\d{1,5})?$|^\[[0-9a-fA-F:.]+\](:\d{1,5})?$/.test(t)
      )
        throw new UserError(
          `${at}: target ${printable(JSON.stringify(t) ?? String(t))} is not "host:port" (no scheme, path or credentials)`,
        );
      out.push({ labels: { instance: t, ...labels, __address__: t } });
    }
  });
  return out;
}

/** The pprof base URL of an endpoint, or why it has none. */
function urlOf(d: Discovered, o: SdOptions): string | { skip: string } {
  const l = d.labels;
  const scheme = l.__scheme__ ?? 'http';
  if (scheme !== 'http' && scheme !== 'https') return { skip: `__scheme__ "${scheme}"` };
  let url: URL;
  try {
    url = new URL(`${scheme}://${l.__address__ ?? ''}`);
  } catch {
    return { skip: `address "${l.__address__ ?? ''}"` };
  }
  if (o.port !== undefined) {
    const p = /^\d+$/.test(o.port) ? o.port : expand(o.port, l);
    if (!/^\d{1,5}$/.test(p) || Number(p) < 1 || Number(p) > 65535)
      return { skip: `no pprof port (--pprof-port ${o.port} gave "${p}")` };
    url.port = p;
  }
  const path = (o.path ?? '').replace(/^\/*/, '/').replace(/\/+$/, '');
  return `${url.protocol}//${url.host}${path}`;
}

/**
 * Endpoints → targets: URL, kept labels, base name. Endpoints without a usable URL or name are
 * left out; `skipped` says why (the caller logs one line per source, not one per endpoint).
 */
export function toTargets(
  found: Discovered[],
  o: SdOptions,
): { targets: { base: string; target: Target }[]; skipped: string[] } {
  const targets: { base: string; target: Target }[] = [];
  const skipped: string[] = [];
  const seen = new Set<string>();
  for (const d of found) {
    const url = urlOf(d, o);
    if (typeof url !== 'string') {
      skipped.push(url.skip);
      continue;
    }
    // One endpoint listed twice (two groups, two jobs on one pod) is scraped once.
    if (seen.has(url)) continue;
    seen.add(url);
    const labels: Record<string, string> = {};
    for (const [k, v] of Object.entries(d.labels)) if (!k.startsWith('__')) labels[k] = v;
    const template = o.nameTemplate ?? (labels.job ? '{job}/{instance}' : '{instance}');
    const base = expand(template, d.labels);
    if (!base.replace(/[/#\s-]/g, '')) {
      skipped.push(`empty name from ${template}`);
      continue;
    }
    targets.push({ base, target: { name: base, url, labels, intervalMs: o.intervalMs } });
  }
  return { targets, skipped };
}

/**
 * Names endpoints that share a base name by slot (`NAME`, `NAME#2`, ...), stable while they live
 * (see the top of this file). One Namer per watch process: it remembers the slots.
 */
export class Namer {
  /** Base name → endpoint URL → slot (1-based). */
  private readonly slots = new Map<string, Map<string, number>>();

  name(list: { base: string; target: Target }[]): Target[] {
    const by = new Map<string, { base: string; target: Target }[]>();
    for (const x of list) by.set(x.base, [...(by.get(x.base) ?? []), x]);
    for (const base of this.slots.keys()) if (!by.has(base)) this.slots.delete(base);
    const out: Target[] = [];
    for (const [base, xs] of by) {
      const have = this.slots.get(base) ?? new Map<string, number>();
      const urls = new Set(xs.map((x) => x.target.url));
      for (const u of have.keys()) if (!urls.has(u)) have.delete(u);
      const used = new Set(have.values());
      const fresh = xs.map((x) => x.target.url).filter((u) => !have.has(u));
      fresh.sort();
      let next = 1;
      for (const u of fresh) {
        while (used.has(next)) next++;
        have.set(u, next);
        used.add(next);
      }
      // Fill gaps from the top: the highest slot (the newest endpoint) takes the lowest gap.
      for (;;) {
        const top = Math.max(...have.values());
        let gap = 1;
        while (used.has(gap)) gap++;
        if (gap > top) break;
        const u = [...have].find(([, s]) => s === top)![0];
        have.set(u, gap);
        used.delete(top);
        used.add(gap);
      }
      this.slots.set(base, have);
      for (const x of xs) {
        const slot = have.get(x.target.url)!;
        out.push({ ...x.target, name: slot === 1 ? base : `${base}#${slot}` });
      }
    }
    return out;
  }
}
