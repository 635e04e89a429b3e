/**
 * Replicas of `watch` on one PostgreSQL database (src/watch/fleet.ts): rendezvous ownership,
 * membership by heartbeats on the real server at 127.0.0.1:5432 (a replica whose database
 * connection is gone stops beating, and the others take its targets), one alert per fleet under
 * concurrent replicas, and a replica id held twice. Each run creates its own database
 * (fleetrep_*) and drops it. Skipped, with the reason printed, when no server answers.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type pg from 'pg';
import { UserError } from '../src/errors.js';
import { Fleet, isFleetStore, ownerOf } from '../src/watch/fleet.js';
import { openPostgresStore, type PgTarget } from '../src/watch/store/postgres.js';
import type { AlertEvent, Target } from '../src/watch/types.js';
import { PG_HOST, PG_PORT, pgAdmin, pgUser } from './pg-helpers.js';
import { cli, cliProcess } from './helpers.js';
import { until, watch } from './watch-helpers.js';

const names = (n: number, prefix = 'svc'): string[] =>
  Array.from({ length: n }, (_, i) => `${prefix}-${i}`);

describe('rendezvous ownership', () => {
  const targets = names(10_000);
  const replicas = ['a:1', 'b:2', 'c:3'];

  it('spreads targets evenly and agrees whatever the order of the replicas', () => {
    const count = new Map<string, number>();
    for (const t of targets) {
      const o = ownerOf(t, replicas)!;
      assert.equal(ownerOf(t, [...replicas].reverse()), o);
      count.set(o, (count.get(o) ?? 0) + 1);
    }
    for (const r of replicas) {
      const share = (count.get(r) ?? 0) / targets.length;
      assert.ok(share > 0.3 && share < 0.37, `${r} owns ${(share * 100).toFixed(1)}%`);
    }
  });

  it('a replica that leaves moves its own targets only, spread over the others', () => {
    let moved = 0;
    const to = new Map<string, number>();
    for (const t of targets) {
      const before = ownerOf(t, replicas)!;
      const after = ownerOf(t, ['a:1', 'c:3'])!;
      if (before !== 'b:2') assert.equal(after, before, `${t} stays with ${before}`);
      else {
        moved++;
        to.set(after, (to.get(after) ?? 0) + 1);
      }
    }
    assert.ok(moved > 0);
    for (const r of ['a:1', 'c:3']) assert.ok((to.get(r) ?? 0) > moved * 0.4, `${r} takes a share`);
    assert.equal(ownerOf('x', []), undefined);
  });
});

const found = await pgUser();
const skip = 'why' in found ? found.why : false;
if (skip) console.log(`# skipping the fleet membership tests: ${skip}`);
const USER = 'user' in found ? found.user : 'postgres';
const DB = `fleetrep_${randomBytes(4).toString('hex')}`;
const TARGET: PgTarget = { host: PG_HOST, port: PG_PORT, user: USER, database: DB };

const admin = <T>(fn: (c: pg.Client) => Promise<T>, database = 'postgres'): Promise<T> =>
  pgAdmin(USER, fn, database);

const target = (name: string): Target => ({
  name,
  url: `http://127.0.0.1:1/${name}`,
  labels: {},
  intervalMs: 1000,
});

const alert = (type: AlertEvent['type'], key: string): AlertEvent => ({
  type,
  key,
  target: key.split('|')[0]!,
  detector: key.split('|')[1]!,
  at: new Date().toISOString(),
  summary: `${type} ${key}`,
  evidence: {},
  labels: {},
});

describe('replicas on one PostgreSQL database', { skip, timeout: 120_000 }, () => {
  before(async () => {
    await admin((c) => c.query(`CREATE DATABASE ${DB}`));
  });
  after(async () => {
    await admin((c) => c.query(`DROP DATABASE IF EXISTS ${DB} WITH (FORCE)`));
  });

  let seq = 0;
  type Replica = Awaited<ReturnType<typeof replica>>;
  /** A replica on its own connection pool, as a separate process would have. */
  async function replica(schema: string, id: string, intervalMs: number, targets: Target[]) {
    const store = await openPostgresStore(TARGET, { schema, statementTimeoutMs: 3000 });
    assert.ok(isFleetStore(store));
    const owned = { names: [] as string[] };
    const logs: string[] = [];
    const fleet = new Fleet({
      store,
      id,
      intervalMs,
      apply: (t) => (owned.names = t.map((x) => x.name).sort()),
      log: (l) => logs.push(l),
    });
    await fleet.start(targets).catch(async (err: unknown) => {
      await store.close();
      throw err;
    });
    return { store, fleet, owned, logs };
  }

  it('three replicas share the targets; one that loses its database is taken over, its view kept', async () => {
    const schema = `fleet_t${++seq}`;
    const all = names(60).map(target);
    const interval = 400;
    const rs: Replica[] = [];
    for (const id of ['r1', 'r2', 'r3']) rs.push(await replica(schema, id, interval, all));
    try {
      const everyoneSees3 = () => rs.every((r) => r.fleet.view().members.length === 3);
      await until(everyoneSees3, 20_000, 'every replica to see three live members');
      // One beat more: the first replica saw the others only at its next beat.
      await until(
        () => rs.reduce((n, r) => n + r.owned.names.length, 0) === all.length,
        20_000,
        'the targets shared without overlap',
      );
      const union = rs.flatMap((r) => r.owned.names).sort();
      assert.deepEqual(union, all.map((t) => t.name).sort(), 'each target owned exactly once');
      for (const r of rs) assert.ok(r.owned.names.length > 5, `${r.fleet.id} owns a share`);
      const view = rs[0]!.fleet.view();
      for (const t of view.targets)
        assert.ok(
          rs.find((r) => r.fleet.id === t.owner)!.owned.names.includes(t.name),
          `/api/fleet names ${t.owner} as the owner of ${t.name}`,
        );

      // r3 loses its database (the server closes its connections; its beats now fail).
      const dead = rs[2]!;
      const deadOwned = [...dead.owned.names];
      const keep = rs.slice(0, 2).map((r) => [...r.owned.names]);
      await dead.store.close();
      const t0 = Date.now();
      await until(
        () => rs.slice(0, 2).reduce((n, r) => n + r.owned.names.length, 0) === all.length,
        20 * interval,
        'the survivors to take over every target',
      );
      console.log(`# takeover after ${Date.now() - t0} ms (interval ${interval} ms)`);
      for (const [i, r] of rs.slice(0, 2).entries())
        for (const n of keep[i]!) assert.ok(r.owned.names.includes(n), `${r.fleet.id} kept ${n}`);
      assert.deepEqual(dead.owned.names, deadOwned, 'the cut-off replica keeps its last view');
      assert.match(dead.logs.join('\n'), /heartbeat failed .*keeping \d+ targets/);
    } finally {
      for (const r of rs) {
        await r.fleet.stop();
        await r.store.close();
      }
    }
  });

  it('a replica that stops cleanly hands its targets over at once; a new one takes a share', async () => {
    const schema = `fleet_t${++seq}`;
    const all = names(30).map(target);
    const a = await replica(schema, 'a', 300, all);
    const b = await replica(schema, 'b', 300, all);
    try {
      await until(() => a.owned.names.length + b.owned.names.length === 30, 10_000, 'a split');
      await b.fleet.stop();
      await until(() => a.owned.names.length === 30, 10_000, 'a to take all after b left');
      const c = await replica(schema, 'c', 300, all);
      try {
        assert.ok(c.owned.names.length > 0, 'the newcomer owns a share at once');
        await until(
          () => a.owned.names.length + c.owned.names.length === 30,
          10_000,
          'a to release the newcomer’s share',
        );
      } finally {
        await c.fleet.stop();
        await c.store.close();
      }
    } finally {
      await a.fleet.stop();
      await Promise.all([a.store.close(), b.store.close()]);
    }
  });

  it('an alert and its resolution are recorded once for the fleet, whoever races for them', async () => {
    const schema = `fleet_t${++seq}`;
    const rs: Replica[] = [];
    for (const id of ['x', 'y', 'z']) rs.push(await replica(schema, id, 1000, []));
    try {
      for (let round = 0; round < 5; round++) {
        const key = `svc|growth|g${round}`;
        // Ten decisions per replica at once, as a handover might race.
        const fired = await Promise.all(
          rs.flatMap((r) => Array.from({ length: 10 }, () => r.fleet.decide(alert('alert', key)))),
        );
        assert.equal(fired.filter(Boolean).length, 1, `one replica sends the alert ${key}`);
        const resolved = await Promise.all(
          rs.flatMap((r) =>
            Array.from({ length: 10 }, () => r.fleet.decide(alert('resolved', key))),
          ),
        );
        assert.equal(resolved.filter(Boolean).length, 1, `one replica resolves ${key}`);
      }
      const rows = await admin(
        (c) =>
          c.query<{ key: string; type: string; replica: string }>(
            `SELECT key, type, replica FROM ${schema}.alerts ORDER BY id`,
          ),
        DB,
      );
      assert.equal(rows.rows.length, 10, 'five alerts, five resolutions');
      for (const r of rows.rows) assert.ok(['x', 'y', 'z'].includes(r.replica), r.replica);
      // A resolution with no open alert is never recorded.
      assert.equal(await rs[0]!.fleet.decide(alert('resolved', 'svc|peak|')), false);
      assert.equal((await rs[0]!.store.openAlerts()).length, 0);
    } finally {
      for (const r of rs) {
        await r.fleet.stop();
        await r.store.close();
      }
    }
  });

  it('the CLI refuses a replica id held by a live replica, and --replica-id on SQLite', async () => {
    const db = `postgres://${USER}@${PG_HOST}:${PG_PORT}/${DB}?schema=fleet_cli`;
    const first = watch([
      '--db',
      db,
      '--replica-id',
      'twin',
      '--interval',
      '1s',
      'http://127.0.0.1:1',
    ]);
    try {
      await until(() => /owns 1 of 1 targets/.test(first.stderr()), 30_000, 'the first replica');
      const r = await cliProcess([
        'watch',
        '--db',
        db,
        '--replica-id',
        'twin',
        '--no-view',
        'http://127.0.0.1:1',
      ]);
      assert.equal(r.code, 2, r.stderr);
      assert.equal(
        r.stderr.trim(),
        'leakwatch: --replica-id twin: another live replica holds this id; give each replica its own',
      );
    } finally {
      first.proc.kill('SIGTERM');
      await new Promise((r) => first.proc.once('close', r));
    }
    const r = await cli(['watch', '--db', 'x.db', '--replica-id', 'a', 'http://127.0.0.1:1']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--replica-id a: replicas share a PostgreSQL --db/);
    assert.equal(r.stderr.trim().split('\n').length, 1);
  });

  it('a replica whose heartbeat lapsed cannot send; a live replica id given twice is refused', async () => {
    const schema = `fleet_t${++seq}`;
    const a = await replica(schema, 'same', 60_000, []);
    try {
      await assert.rejects(replica(schema, 'same', 60_000, []), (err: unknown) => {
        assert.ok(err instanceof UserError, String(err));
        assert.match(err.message, /^--replica-id same: another live replica holds this id/);
        return true;
      });
      // Its heartbeat 2 minutes old: the fleet no longer counts it.
      await admin(
        (c) =>
          c.query(`UPDATE ${schema}.replicas SET last_seen = last_seen - interval '2 minutes'`),
        DB,
      );
      await assert.rejects(a.fleet.decide(alert('alert', 'svc|stuck|g')), /not live in the fleet/);
      assert.deepEqual(await a.store.openAlerts(), [], 'nothing recorded');
    } finally {
      await a.fleet.stop();
      await a.store.close();
    }
  });
});
