/**
 * The discovery sources, each keeping its last good list of endpoints:
 *
 * - FileSd: a Prometheus file_sd file, JSON or YAML (told apart by content: JSON starts with
 *   `[` or `{`). Reloaded when it changes: fs.watch on its directory (editors and Kubernetes
 *   ConfigMaps replace files by rename, which a watch on the file itself would lose), and a stat
 *   every refresh interval in case fs.watch misses it or is not available (network file systems).
 * - HttpSd: Prometheus's http_sd: the same JSON, fetched every refresh interval.
 * - PrometheusSd: a running Prometheus's `/api/v1/targets?state=active`, filtered by job and
 *   label matchers: the discovery (Kubernetes, Consul, cloud) a team already configured there.
 *
 * The first load is strict: a source that cannot be read at start is a UserError (exit 2), as
 * leakwatch would otherwise watch nothing and look healthy. Later failures keep the last good
 * list and log one line per failure streak.
 */
import { watch, type FSWatcher } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { messageOf, UserError } from '../../errors.js';
import { printable } from '../../render/escape.js';
import { fetchJson } from './fetch.js';
import { parseGroups, type Discovered } from './sd.js';

/** A file_sd file bigger than this is refused (a target list of 100,000 is a few MiB). */
const MAX_FILE_BYTES = 16 * 1024 * 1024;
/** Largest http_sd or Prometheus answer read (Prometheus sends every discovered label). */
const MAX_BODY_BYTES = 64 * 1024 * 1024;

export interface SourceOptions {
  refreshMs: number;
  timeoutMs: number;
  maxTargets: number;
  log: (line: string) => void;
}

export abstract class Source {
  /** What the source is, for messages: `file_sd targets.yaml`. */
  abstract readonly label: string;
  private found: Discovered[] = [];
  private failing = false;
  private capped = -1;
  protected stopped = false;
  protected onChange: () => void = () => undefined;
  protected readonly abort = new AbortController();

  constructor(protected readonly o: SourceOptions) {}

  /** Endpoints from the last good read. */
  current(): Discovered[] {
    return this.found;
  }

  /** Reads once (a failure is a UserError), then keeps the list fresh until stop(). */
  async start(onChange: () => void): Promise<void> {
    this.accept(await this.read());
    // Stopped meanwhile (another source failed its first read): start no timers.
    if (this.stopped) return;
    this.onChange = onChange;
    this.follow();
  }

  /**
   * Reads again now (SIGHUP, a file event, a poll); a failure keeps the last list. One read at
   * a time: asked during one, it reads once more after it, so the newest state always wins.
   */
  async refresh(): Promise<void> {
    if (this.reading) {
      this.again = true;
      return this.reading;
    }
    this.reading = (async () => {
      do {
        this.again = false;
        await this.readOnce();
      } while (this.again && !this.stopped);
    })().finally(() => (this.reading = undefined));
    return this.reading;
  }
  private reading?: Promise<void>;
  private again = false;

  private async readOnce(): Promise<void> {
    if (this.stopped) return;
    let found: Discovered[];
    try {
      found = await this.read();
    } catch (err) {
      if (this.stopped) return;
      if (!this.failing)
        this.o.log(
          `${this.label}: ${messageOf(err)}; keeping the last ${this.found.length} targets`,
        );
      this.failing = true;
      return;
    }
    if (this.stopped) return;
    if (this.failing) this.o.log(`${this.label}: read again`);
    this.failing = false;
    if (same(found, this.found)) return;
    this.accept(found);
    this.onChange();
  }

  private accept(found: Discovered[]): void {
    if (found.length > this.o.maxTargets) {
      if (this.capped !== found.length)
        this.o.log(
          `${this.label}: ${found.length} targets, over the cap of ${this.o.maxTargets} per source (--sd-max-targets); the first ${this.o.maxTargets} are watched`,
        );
      this.capped = found.length;
      found = found.slice(0, this.o.maxTargets);
    } else this.capped = -1;
    this.found = found;
  }

  stop(): void {
    this.stopped = true;
    this.abort.abort();
  }

  /** The endpoints, or a UserError naming the source and what was expected. */
  protected abstract read(): Promise<Discovered[]>;
  /** Keeps the list fresh (timers, watches), until stop(). */
  protected abstract follow(): void;

  /** Calls refresh() every refresh interval, one at a time. */
  protected poll(): void {
    const tick = (): void => {
      if (this.stopped) return;
      void this.refresh().finally(() => {
        if (!this.stopped) this.timer = setTimeout(tick, this.o.refreshMs);
      });
    };
    this.timer = setTimeout(tick, this.o.refreshMs);
    const stop = (): void => clearTimeout(this.timer);
    this.abort.signal.addEventListener('abort', stop, { once: true });
  }
  private timer?: NodeJS.Timeout;
}

function same(a: Discovered[], b: Discovered[]): boolean {
  return a.length === b.length && JSON.stringify(a) === JSON.stringify(b);
}

export class FileSd extends Source {
  readonly label: string;
  private watcher?: FSWatcher;
  private version = '';
  private pending?: NodeJS.Timeout;

  constructor(
    private readonly path: string,
    o: SourceOptions,
  ) {
    super(o);
    this.label = `file_sd ${path}`;
  }

  protected async read(): Promise<Discovered[]> {
    let text: string;
    try {
      const st = await stat(this.path);
      if (st.size > MAX_FILE_BYTES)
        throw new UserError(`${this.path}: ${st.size} bytes, over the ${MAX_FILE_BYTES}-byte cap`);
      this.version = `${st.ino}:${st.size}:${st.mtimeMs}`;
      text = await readFile(this.path, 'utf8');
    } catch (err) {
      if (err instanceof UserError) throw err;
      throw new UserError(`${this.path}: cannot read the file_sd file (${messageOf(err)})`);
    }
    let raw: unknown;
    const json = /^\s*[[{]/.test(text);
    try {
      raw = json ? JSON.parse(text) : parseYaml(text, { maxAliasCount: 100 });
    } catch (err) {
      const first = messageOf(err).split('\n')[0];
      throw new UserError(`${this.path}: not valid ${json ? 'JSON' : 'YAML'} (${first})`);
    }
    // An empty file is an empty list, as Prometheus reads it.
    return parseGroups(raw ?? [], this.path);
  }

  protected follow(): void {
    const soon = (): void => {
      clearTimeout(this.pending);
      // Editors write in several steps: read once they are done.
      this.pending = setTimeout(() => void this.refresh(), 100);
    };
    try {
      const name = basename(this.path);
      this.watcher = watch(dirname(this.path), { persistent: false }, (_, f) => {
        // A ConfigMap swaps its `..data` link, not the file: any event in the directory counts.
        if (!f || f === name || f.startsWith('..')) soon();
      });
      this.watcher.on('error', () => {
        this.watcher?.close();
        this.watcher = undefined;
      });
    } catch (err) {
      this.o.log(
        `${this.label}: cannot watch for changes (${messageOf(err)}); checking every ${this.o.refreshMs} ms`,
      );
    }
    // The stat fallback: cheap, and catches what fs.watch misses.
    const check = (): void => {
      if (this.stopped) return;
      stat(this.path).then(
        (st) => {
          if (`${st.ino}:${st.size}:${st.mtimeMs}` !== this.version) soon();
        },
        () => soon(),
      );
    };
    const t = setInterval(check, this.o.refreshMs);
    t.unref();
    this.abort.signal.addEventListener(
      'abort',
      () => {
        clearInterval(t);
        clearTimeout(this.pending);
        this.watcher?.close();
      },
      { once: true },
    );
  }
}

/** A URL given to a discovery flag: http(s), no credentials (they would show in logs). */
export function sdUrl(v: string, flag: string): URL {
  let url: URL;
  try {
    url = new URL(v);
  } catch {
    throw new UserError(`${flag} ${printable(v)}: not a URL (expected http://host:port/...)`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new UserError(`${flag} ${printable(v)}: must be http:// or https://`);
  if (url.username || url.password)
    throw new UserError(
      `${flag} ${url.protocol}//…@${url.host}: credentials in the URL are refused (they would show in logs)`,
    );
  return url;
}

export class HttpSd extends Source {
  readonly label: string;

  constructor(
    private readonly url: URL,
    o: SourceOptions,
  ) {
    super(o);
    this.label = `http_sd ${url.href}`;
  }

  protected async read(): Promise<Discovered[]> {
    const raw = await fetchJson(this.url.href, {
      timeoutMs: this.o.timeoutMs,
      maxBytes: MAX_BODY_BYTES,
      signal: this.abort.signal,
      expected: 'a list of target groups (Prometheus http_sd format)',
    });
    return parseGroups(raw, this.url.href);
  }

  protected follow(): void {
    this.poll();
  }
}

/** One `--prometheus-match`: `label=value`, `!=`, `=~` or `!~` (regexes anchored, as in PromQL). */
interface Matcher {
  name: string;
  test: (v: string) => boolean;
}

export function parseMatcher(v: string): Matcher {
  const m = /^\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*"?(.*?)"?\s*$/.exec(v);
  if (!m)
    throw new UserError(
      `--prometheus-match ${printable(v)}: expected LABEL=VALUE, LABEL!=VALUE, LABEL=~REGEX or LABEL!~REGEX`,
    );
  const [, name, op, value] = m as unknown as [string, string, string, string];
  if (op === '=' || op === '!=') {
    const eq = op === '=';
    return { name, test: (x) => (x === value) === eq };
  }
  let re: RegExp;
  try {
    re = new RegExp(`^(?:${value})$`);
  } catch (err) {
    throw new UserError(`--prometheus-match ${printable(v)}: bad regex (${messageOf(err)})`);
  }
  const want = op === '=~';
  return { name, test: (x) => re.test(x) === want };
}

/** The fields of one entry of `data.activeTargets` that we read. */
interface ActiveTarget {
  discoveredLabels?: Record<string, string>;
  labels?: Record<string, string>;
  scrapeUrl?: string;
}

export class PrometheusSd extends Source {
  readonly label: string;
  private readonly api: string;

  constructor(
    base: URL,
    private readonly jobs: string[],
    private readonly matchers: Matcher[],
    o: SourceOptions,
  ) {
    super(o);
    this.label = `prometheus ${base.href}`;
    this.api = new URL('api/v1/targets?state=active', base.href.replace(/\/?$/, '/')).href;
  }

  protected async read(): Promise<Discovered[]> {
    const raw = await fetchJson(this.api, {
      timeoutMs: this.o.timeoutMs,
      maxBytes: MAX_BODY_BYTES,
      signal: this.abort.signal,
      expected: "Prometheus's target list (is this the Prometheus server's URL?)",
    });
    const active = (raw as { data?: { activeTargets?: unknown } } | null)?.data?.activeTargets;
    if ((raw as { status?: unknown } | null)?.status !== 'success' || !Array.isArray(active))
      throw new UserError(
        `${this.api}: expected {"status": "success", "data": {"activeTargets": [...]}} (is this the Prometheus server's URL?)`,
      );
    const out: Discovered[] = [];
    for (const t of active as ActiveTarget[]) {
      if (typeof t !== 'object' || t === null || typeof t.scrapeUrl !== 'string') continue;
      let scrape: URL;
      try {
        scrape = new URL(t.scrapeUrl);
      } catch {
        continue;
      }
      // The address Prometheus scrapes after relabelling (the discovered __address__ may
      // differ), its labels after relabelling, and the discovered ones (__meta_*) beneath.
      const labels: Record<string, string> = {
        ...strings(t.discoveredLabels),
        ...strings(t.labels),
        __address__: scrape.host,
        __scheme__: scrape.protocol.slice(0, -1),
      };
      if (this.jobs.length > 0 && !this.jobs.includes(labels.job ?? '')) continue;
      if (!this.matchers.every((m) => m.test(labels[m.name] ?? ''))) continue;
      out.push({ labels });
    }
    return out;
  }

  protected follow(): void {
    this.poll();
  }
}

function strings(o: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (typeof o !== 'object' || o === null) return out;
  for (const [k, v] of Object.entries(o)) if (typeof v === 'string') out[k] = v;
  return out;
}
