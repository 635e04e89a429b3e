// What service discovery costs leakwatch at fleet size: one read of a Prometheus target list
// (Kubernetes-shaped: ~40 discovered labels per target, as the pod role gives them), of an
// http_sd answer and of a file_sd file in JSON and in YAML, each turned into named targets.
// The lists are generated here, in memory and in a temporary file; the Prometheus and http_sd
// ones are served by a real HTTP server on 127.0.0.1 and read through the same code as
// `watch --prometheus` / `--http-sd` (dist/src, so run `npx tsc -p tsconfig.json` first).
//
//   node bench/discovery-bench.mjs [--targets 10000] [--runs 5] [--write]
//
// --write replaces the `bench:discovery` block of bench/RESULTS.md.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { cpus, loadavg, totalmem, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, URL } from 'node:url';
import { stringify as toYaml } from 'yaml';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const arg = (name, d) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : d;
};
const N = arg('--targets', 10_000);
const RUNS = arg('--runs', 5);
const WRITE = process.argv.includes('--write');

const { Namer, toTargets } = await import(join(ROOT, 'dist/src/watch/discovery/sd.js'));
const { FileSd, HttpSd, PrometheusSd } = await import(
  join(ROOT, 'dist/src/watch/discovery/sources.js')
);

// A pod as Kubernetes discovery describes it: namespace, pod, node, container, ports, labels
// and annotations of the pod and of its controller.
function pod(i) {
  const ns = `team-${i % 50}`;
  const app = `svc-${i % 400}`;
  const ip = `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
  const meta = {
    __address__: `${ip}:8080`,
    __metrics_path__: '/metrics',
    __scheme__: 'http',
    __scrape_interval__: '15s',
    __scrape_timeout__: '10s',
    job: 'kubernetes-pods',
    __meta_kubernetes_namespace: ns,
    __meta_kubernetes_pod_name: `${app}-7d9f8c6b5-${i.toString(36)}`,
    __meta_kubernetes_pod_ip: ip,
    __meta_kubernetes_pod_uid: `0b1c2d3e-${i}`,
    __meta_kubernetes_pod_node_name: `node-${i % 200}`,
    __meta_kubernetes_pod_host_ip: `192.168.${(i >> 8) & 255}.${i & 255}`,
    __meta_kubernetes_pod_phase: 'Running',
    __meta_kubernetes_pod_ready: 'true',
    __meta_kubernetes_pod_container_name: app,
    __meta_kubernetes_pod_container_image: `registry.example.com/${app}:1.${i % 30}.0`,
    __meta_kubernetes_pod_container_port_name: 'http',
    __meta_kubernetes_pod_container_port_number: '8080',
    __meta_kubernetes_pod_container_port_protocol: 'TCP',
    __meta_kubernetes_pod_container_init: 'false',
    __meta_kubernetes_pod_controller_kind: 'ReplicaSet',
    __meta_kubernetes_pod_controller_name: `${app}-7d9f8c6b5`,
    __meta_kubernetes_pod_annotation_pprof_port: '6060',
    __meta_kubernetes_pod_annotationpresent_pprof_port: 'true',
    __meta_kubernetes_pod_annotation_prometheus_io_scrape: 'true',
    __meta_kubernetes_pod_annotationpresent_prometheus_io_scrape: 'true',
    __meta_kubernetes_pod_label_app: app,
    __meta_kubernetes_pod_labelpresent_app: 'true',
    __meta_kubernetes_pod_label_team: ns,
    __meta_kubernetes_pod_labelpresent_team: 'true',
    __meta_kubernetes_pod_label_pod_template_hash: '7d9f8c6b5',
    __meta_kubernetes_pod_labelpresent_pod_template_hash: 'true',
    __meta_kubernetes_pod_label_version: `1.${i % 30}.0`,
    __meta_kubernetes_pod_labelpresent_version: 'true',
  };
  const labels = {
    instance: `${ip}:8080`,
    job: 'kubernetes-pods',
    namespace: ns,
    pod: meta.__meta_kubernetes_pod_name,
    service: app,
    team: ns,
  };
  return { meta, labels, ip, app, ns };
}

const pods = Array.from({ length: N }, (_, i) => pod(i));
const promBody = JSON.stringify({
  status: 'success',
  data: {
    activeTargets: pods.map((p) => ({
      discoveredLabels: p.meta,
      labels: p.labels,
      scrapePool: 'kubernetes-pods',
      scrapeUrl: `http://${p.labels.instance}/metrics`,
      globalUrl: `http://${p.labels.instance}/metrics`,
      lastError: '',
      lastScrape: '2026-12-01T10:00:00Z',
      lastScrapeDuration: 0.002,
      health: 'up',
      scrapeInterval: '15s',
      scrapeTimeout: '10s',
    })),
    droppedTargets: [],
    droppedTargetCounts: { 'kubernetes-pods': 0 },
  },
});
// One group per service, as a deploy tool would write it.
const byApp = new Map();
for (const p of pods) {
  const g = byApp.get(p.app) ?? { targets: [], labels: { namespace: p.ns, service: p.app } };
  g.targets.push(`${p.ip}:6060`);
  byApp.set(p.app, g);
}
const groups = [...byApp.values()];
const sdBody = JSON.stringify(groups);

const server = createServer((req, res) => {
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(req.url.startsWith('/api/v1/targets') ? promBody : sdBody);
});
// Reads take seconds on a loaded machine: keep the connection past them, as Prometheus does.
server.keepAliveTimeout = 60_000;
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const base = `http://127.0.0.1:${server.address().port}`;
const dir = mkdtempSync(join(tmpdir(), 'leakwatch-discovery-bench-'));
writeFileSync(join(dir, 'sd.json'), sdBody);
writeFileSync(join(dir, 'sd.yaml'), toYaml(groups));

const common = { refreshMs: 3_600_000, timeoutMs: 60_000, maxTargets: 1_000_000, log: () => {} };
const sd = { intervalMs: 15_000, maxTargets: 1_000_000 };
const cases = [
  {
    name: 'Prometheus /api/v1/targets (Kubernetes pods)',
    bytes: promBody.length,
    make: () => new PrometheusSd(new URL(base), ['kubernetes-pods'], [], common),
    opts: {
      ...sd,
      port: '{__meta_kubernetes_pod_annotation_pprof_port}',
      nameTemplate: '{namespace}/{service}',
    },
  },
  {
    name: 'http_sd',
    bytes: sdBody.length,
    make: () => new HttpSd(new URL(`${base}/sd`), common),
    opts: { ...sd, nameTemplate: '{namespace}/{service}' },
  },
  {
    name: 'file_sd JSON',
    bytes: sdBody.length,
    make: () => new FileSd(join(dir, 'sd.json'), common),
    opts: { ...sd, nameTemplate: '{namespace}/{service}' },
  },
  {
    name: 'file_sd YAML',
    bytes: readFileSync(join(dir, 'sd.yaml')).length,
    make: () => new FileSd(join(dir, 'sd.yaml'), common),
    opts: { ...sd, nameTemplate: '{namespace}/{service}' },
  },
];

const rows = [];
for (const c of cases) {
  const times = [];
  let heap = 0;
  let named = 0;
  for (let r = 0; r < RUNS; r++) {
    globalThis.gc?.();
    const before = process.memoryUsage().heapUsed;
    const t0 = process.hrtime.bigint();
    const s = c.make();
    await s.start(() => {});
    const targets = new Namer().name(toTargets(s.current(), c.opts).targets);
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    s.stop();
    heap = Math.max(heap, process.memoryUsage().heapUsed - before);
    times.push(ms);
    named = targets.length;
  }
  times.sort((a, b) => a - b);
  rows.push({ ...c, named, median: times[Math.floor(times.length / 2)], heap });
  console.error(
    `${c.name}: ${named} targets, median ${times[Math.floor(times.length / 2)].toFixed(0)} ms`,
  );
}
server.close();
rmSync(dir, { recursive: true, force: true });

const mb = (b) => (b / 1024 / 1024).toFixed(1);
const report = `<!-- bench:discovery -->
## watch: service discovery at fleet size

Made by \`node --expose-gc bench/discovery-bench.mjs --targets ${N} --runs ${RUNS} --write\` on ${new Date().toISOString().slice(0, 16)} UTC;
${cpus()[0]?.model.trim() ?? 'CPU'}, ${cpus().length} cores, ${Math.round(totalmem() / 2 ** 30)} GiB; node ${process.version};
load average ${loadavg()
  .map((x) => x.toFixed(2))
  .join(', ')} at the end (other work was running on the machine).

One read of each source, turned into named targets (\`--target-name '{namespace}/{service}'\`, so
the replicas of a service get slots): fetch or file read, parse, checks, naming. ${N} pods in 400
services; the Prometheus list carries ${Object.keys(pods[0].meta).length} discovered labels per target, as
Kubernetes pod discovery does. Median of ${RUNS} runs; heap is the most the read left allocated
(before collection, so an upper bound).

| source | answer | targets | median | heap |
| --- | ---: | ---: | ---: | ---: |
${rows.map((r) => `| ${r.name} | ${mb(r.bytes)} MB | ${r.named} | ${r.median.toFixed(0)} ms | ${mb(r.heap)} MB |`).join('\n')}

Each read happens once per \`--sd-refresh\` (30 s); divide a median by 30 s for the share of one
core that discovery takes at this size. The caps: 64 MiB per answer, 16 MiB per file, \`--sd-max-targets\` (10,000) per source.
<!-- /bench:discovery -->
`;
console.log(report);
if (WRITE) {
  const file = join(ROOT, 'bench', 'RESULTS.md');
  let text = readFileSync(file, 'utf8');
  const re = /<!-- bench:discovery -->[\s\S]*?<!-- \/bench:discovery -->\n?/;
  text = re.test(text) ? text.replace(re, report) : `${text.trimEnd()}\n\n${report}`;
  writeFileSync(file, text);
}
