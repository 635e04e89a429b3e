#!/usr/bin/env node
// What /metrics costs at fleet size (issue #13): the watcher's API (dist/src/watch/api.js, the
// real server on 127.0.0.1) over N targets (default 1,000), each with G stack groups (default
// 200), each group's growth history reduced to its first and last points (the only ones /metrics
// reads: the rise is the latest count less the first kept). For several
// K (--metrics-groups) side by side: time to answer GET /metrics (median and max of R requests),
// CPU per request, body size, and series. The watcher's state is built in memory with the shapes the watcher
// keeps (TargetStatus, latest groups, infos, group series); no scraping is involved.
//
//   npm run build && node bench/prom-metrics-bench.mjs [--targets 1000] [--groups 200] [--write]
import { performance } from 'node:perf_hooks';
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { startApi } = await import(join(root, 'dist', 'src', 'watch', 'api.js'));
const arg = (name, d) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : d;
};
const N = Number(arg('targets', 1000));
const G = Number(arg('groups', 200));
const R = Number(arg('requests', 20));
const WRITE = process.argv.includes('--write');
const KS = [5, 20, 100];

// The fleet: every target labelled like a Kubernetes pod; groups of varied size, a few rising.
const targets = [];
for (let t = 0; t < N; t++) {
  const latest = [];
  const infos = new Map();
  const groups = new Map();
  for (let g = 0; g < G; g++) {
    const id = `g${(t * 7919 + g * 104729).toString(16)}`;
    const count = 1 + ((g * 37) % 500);
    const rising = g % 50 === 0;
    latest.push({ id, count, leaked: 0 });
    const func = `example.com/svc${t % 40}/internal/handler.(*Server).serve${g}.func1`;
    infos.set(id, {
      id,
      frames: [{ func, pkg: 'handler', file: '/src/handler.go', line: g + 1 }],
      holder: { func, pkg: 'handler', file: '/src/handler.go', line: g + 1 },
      blockedOn: g % 3 ? 'chan-receive' : 'select',
      ...(g % 10 === 9 ? { idle: 'net/http server connection' } : {}),
    });
    groups.set(id, [
      { at: 0, value: rising ? 0 : count },
      { at: 1_800_000, value: count },
    ]);
  }
  latest.sort((a, b) => b.count - a.count);
  targets.push({
    status: {
      name: `shop/checkout-${t}`,
      url: `http://10.0.${t >> 8}.${t & 255}:6060`,
      labels: { team: `team-${t % 12}`, namespace: `shop-${t % 30}`, pod: `checkout-${t}-7d9f` },
      state: 'ok',
      lastTotal: latest.reduce((s, g) => s + g.count, 0),
      lastDurationMs: 40,
      failures: 0,
      scrapes: 100,
      firing: [],
    },
    history: { latest, infos, groups, normalPeak: 30_000 },
  });
}
const byName = new Map(targets.map((t) => [t.status.name, t.history]));
const watcher = { status: () => targets.map((t) => t.status), history: (n) => byName.get(n) };

const rows = [];
for (const k of KS) {
  const server = await startApi({ host: '127.0.0.1', port: 0, store: {}, watcher, topN: k });
  const url = `http://127.0.0.1:${server.address().port}/metrics`;
  await (await globalThis.fetch(url)).text(); // warm-up
  const times = [];
  const cpu = [];
  let body = '';
  for (let i = 0; i < R; i++) {
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    body = await (await globalThis.fetch(url)).text();
    const c = process.cpuUsage(c0);
    times.push(performance.now() - t0);
    cpu.push((c.user + c.system) / 1000);
  }
  cpu.sort((a, b) => a - b);
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
  times.sort((a, b) => a - b);
  const series = body.split('\n').filter((l) => l && !l.startsWith('#')).length;
  const leak = body
    .split('\n')
    .filter((l) =>
      /^leakwatch_(goroutines|normal_peak_goroutines|group_goroutines)\{/.test(l),
    ).length;
  rows.push({
    k,
    p50: times[times.length >> 1].toFixed(0),
    cpu: cpu[cpu.length >> 1].toFixed(0),
    max: times[times.length - 1].toFixed(0),
    mb: (Buffer.byteLength(body) / 1e6).toFixed(2),
    series,
    leak,
  });
}

const load = loadavg()
  .map((x) => x.toFixed(2))
  .join(', ');
const report = `<!-- bench:prom-metrics -->
## /metrics at fleet size (Prometheus, issue #13)

Made by \`node bench/prom-metrics-bench.mjs --targets ${N} --groups ${G} --requests ${R} --write\` on ${new Date().toISOString().slice(0, 16)} UTC;
${cpus()[0]?.model ?? '?'}, ${cpus().length} cores, ${Math.round(totalmem() / 2 ** 30)} GiB; node ${process.version}; load average ${load}
(other work shares the machine: times are noisy, sizes and series exact).

${N} targets, each with ${G} stack groups (one in ten idle by design, one in fifty rising),
labelled team/namespace/pod; GET /metrics from the real API server, ${R} times
per K (\`watch --metrics-groups K\`):

| K | CPU ms (p50) | wall ms (p50) | wall ms (max) | body MB | series | leak series (targets x (K + 2)) |
| ---: | ---: | ---: | ---: | ---: | ---: | ---: |
${rows.map((r) => `| ${r.k} | ${r.cpu} | ${r.p50} | ${r.max} | ${r.mb} | ${r.series} | ${r.leak} (${N * (r.k + 2)}) |`).join('\n')}

CPU is the process's (user + system) per request: the server rendering /metrics and the client
here reading the body; wall time also counts waiting for a core.
<!-- /bench:prom-metrics -->
`;
console.log(report);
if (WRITE) {
  const file = join(root, 'bench', 'RESULTS.md');
  let text = readFileSync(file, 'utf8');
  const re = /<!-- bench:prom-metrics -->[\s\S]*?<!-- \/bench:prom-metrics -->\n?/;
  text = re.test(text) ? text.replace(re, report) : `${text.trimEnd()}\n\n${report}`;
  writeFileSync(file, text);
  console.error('wrote bench/RESULTS.md');
}
