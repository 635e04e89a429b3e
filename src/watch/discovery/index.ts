/**
 * Targets from service discovery (`watch --file-sd`, `--http-sd`, `--prometheus`), merged with
 * the static ones (URLs, `--config`) into the one full target list. `onTargets` is called with
 * the whole list each time it changes; the caller decides what to watch of it (all of it, or,
 * with replicas, its own share).
 */
import type { Target } from '../types.js';
import { Namer, toTargets, type SdOptions } from './sd.js';
import {
  FileSd,
  HttpSd,
  parseMatcher,
  PrometheusSd,
  sdUrl,
  type Source,
  type SourceOptions,
} from './sources.js';

export interface DiscoveryOptions extends SdOptions, SourceOptions {
  fileSd: string[];
  httpSd: string[];
  prometheus?: string;
  prometheusJobs: string[];
  prometheusMatch: string[];
}

export class Discovery {
  private readonly sources: Source[] = [];
  private readonly namer = new Namer();
  /** Per source, the last "left out" line logged, so a poll does not repeat it. */
  private readonly lastSkip = new Map<Source, string>();
  private lastClash = '';
  private list: Target[] = [];
  private staticTargets: Target[] = [];
  private onTargets: (all: Target[]) => void = () => undefined;

  /** Flags are checked here (a bad one is a UserError); nothing is read until start(). */
  constructor(private readonly o: DiscoveryOptions) {
    for (const f of o.fileSd) this.sources.push(new FileSd(f, o));
    for (const u of o.httpSd) this.sources.push(new HttpSd(sdUrl(u, '--http-sd'), o));
    const matchers = o.prometheusMatch.map(parseMatcher);
    if (o.prometheus)
      this.sources.push(
        new PrometheusSd(sdUrl(o.prometheus, '--prometheus'), o.prometheusJobs, matchers, o),
      );
  }

  /** Any source given: an empty list is then a state to wait out, not a mistake. */
  get dynamic(): boolean {
    return this.sources.length > 0;
  }

  /** First reads of every source (a failure is a UserError); then follows their changes. */
  async start(onTargets: (all: Target[]) => void): Promise<Target[]> {
    const changed = (): void => {
      const before = new Set(this.list.map((t) => t.name));
      this.merge();
      const now = new Set(this.list.map((t) => t.name));
      const added = [...now].filter((n) => !before.has(n));
      const gone = [...before].filter((n) => !now.has(n));
      if (added.length + gone.length > 0)
        this.o.log(
          `discovery: ${now.size - this.staticTargets.length} targets (${[...added.map((n) => `+${n}`), ...gone.map((n) => `-${n}`)].slice(0, 5).join(' ')}${added.length + gone.length > 5 ? ' …' : ''})`,
        );
      this.onTargets(this.list);
    };
    try {
      await Promise.all(this.sources.map((s) => s.start(changed)));
    } catch (err) {
      this.stop();
      throw err;
    }
    this.merge();
    this.onTargets = onTargets;
    if (this.dynamic)
      this.o.log(
        `discovery: ${this.list.length - this.staticTargets.length} targets from ${this.sources.length} source${this.sources.length === 1 ? '' : 's'}`,
      );
    return this.list;
  }

  /** The targets from URLs and --config; they win over a discovered one of the same name. */
  setStatic(targets: Target[]): void {
    this.staticTargets = targets;
  }

  /** SIGHUP: every source read again now, merged with the static targets given last. */
  async reload(): Promise<void> {
    await Promise.all(this.sources.map((s) => s.refresh()));
    this.merge();
    this.onTargets(this.list);
  }

  /** The full target list now: static first, then discovered. */
  current(): Target[] {
    return this.list;
  }

  stop(): void {
    for (const s of this.sources) s.stop();
  }

  private merge(): void {
    const found: ReturnType<typeof toTargets>['targets'] = [];
    for (const s of this.sources) {
      const r = toTargets(s.current(), this.o);
      found.push(...r.targets);
      const line = r.skipped.length
        ? `${s.label}: ${r.skipped.length} target${r.skipped.length === 1 ? '' : 's'} left out: ${[...new Set(r.skipped)].slice(0, 3).join('; ')}`
        : '';
      if (line && line !== this.lastSkip.get(s)) this.o.log(line);
      this.lastSkip.set(s, line);
    }
    const names = new Set(this.staticTargets.map((t) => t.name));
    // An endpoint listed by two sources (or given as a URL too) is scraped once: first wins.
    const urls = new Set(this.staticTargets.map((t) => t.url));
    const named = this.namer.name(
      found.filter((x) => !urls.has(x.target.url) && (urls.add(x.target.url), true)),
    );
    const clash = named.filter((t) => names.has(t.name));
    const line = clash.length
      ? `discovered target "${clash[0]!.name}"${clash.length > 1 ? ` and ${clash.length - 1} more` : ''} named like a static target: left out`
      : '';
    if (line && line !== this.lastClash) this.o.log(line);
    this.lastClash = line;
    this.list = [...this.staticTargets, ...named.filter((t) => !names.has(t.name))];
  }
}
