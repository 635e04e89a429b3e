// The synthetic scrapes both store benchmarks write (watch-store-bench.mjs, watch-store-pg-bench.mjs),
// so SQLite and PostgreSQL figures come from the same workload: G groups per target, half shared
// across targets, one leaking (+1 every 10 minutes), one sawtooth, one that comes and goes; 12
// structured frames per group; the heap every 20 scrapes (with allocation sites when `heapSites`).

const frame = (func, file, line) => ({
  func: `github.com/acme/notify/internal/svc.${func}`,
  pkg: 'github.com/acme/notify/internal/svc',
  file,
  line,
});

/** scrapeFor(t, i, seen): target t's i-th scrape; `seen` holds the group ids already described. */
export function makeScrapes({ groups: G, t0: T0, step: STEP, heapSites = false }) {
  return function scrapeFor(t, i, seen) {
    const groups = [];
    for (let k = 0; k < G; k++) {
      const id = k < G / 2 ? `shared-${k}` : `t${t}-own-${k}`;
      let count = 1 + ((k * 7) % 30);
      if (k === G - 1) count = 10 + Math.floor(i / 40); // a leak: +1 every 10 minutes
      if (k === G - 2) count = 5 + (i % 60); // sawtooth
      if (k === G - 3 && i % 7 === 0) continue; // comes and goes
      groups.push({ id, count, leaked: 0 });
    }
    const infos = [];
    for (const g of groups) {
      if (seen.has(g.id)) continue;
      seen.add(g.id);
      const frames = Array.from({ length: 12 }, (_, k) =>
        frame(`(*Service).step${k}_${g.id}`, `/src/notify/svc/file${k}.go`, 100 + k),
      );
      infos.push({
        id: g.id,
        blockedOn: 'chan-receive',
        frames,
        holder: frames[3],
        holderOwner: 'user',
      });
    }
    const s = {
      target: `target-${t}`,
      at: T0 + i * STEP + t * 37, // targets are not in lockstep
      total: groups.reduce((a, g) => a + g.count, 0),
      groups,
      infos,
      durationMs: 3 + (i % 5),
      source: 'proto',
    };
    if (i % 20 === 0)
      s.heap = {
        inuse: 50_000_000 + i * 1000,
        sites: heapSites
          ? [0, 1, 2].map((k) => ({
              frame: frame(`(*Cache).put${k}`, '/src/notify/svc/cache.go', 40 + k),
              bytes: 1e6 * (k + 1) + i,
            }))
          : [],
      };
    return s;
  };
}
