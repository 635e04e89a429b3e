/**
 * Issue #13's replicas, end to end with real processes: three `leakwatch watch` replicas on one
 * PostgreSQL database watch six real notification services (one leaking, under load) found in
 * one Prometheus file_sd file. Each alert is sent once for the fleet; the replica that sent it is killed with -9
 * and the leak is fixed (the fixed build deployed on the same port); a surviving replica takes
 * the target over and sends `resolved`; no event is sent twice. Skipped, with the reason
 * printed, without Go or a PostgreSQL server.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadRound } from '../src/cli/commands/demo.js';
import { buildProgram, noGo, serve, type Served } from './helpers.js';
import { pgAdmin, pgUser, PG_HOST, PG_PORT } from './pg-helpers.js';
import { FAST, until, watch, type Event } from './watch-helpers.js';

const found = await pgUser();
const skip = noGo() ?? ('why' in found ? found.why : false);
if (skip) console.log(`# skipping the fleet kill -9 test: ${skip}`);
const USER = 'user' in found ? found.user : 'postgres';
const DB = `fleetrep_kill_${randomBytes(4).toString('hex')}`;

type Replica = ReturnType<typeof watch> & { id: string; api?: string };

describe('watch: three replicas, one killed with -9', { skip, timeout: 180_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'leakwatch-fleet-'));
  let server = '';
  let loadBin = '';
  const services: Served[] = [];
  let loading = true;
  let loadLoop: Promise<void> = Promise.resolve();
  const replicas: Replica[] = [];

  before(async () => {
    await pgAdmin(USER, (c) => c.query(`CREATE DATABASE ${DB}`));
    server = buildProgram('cmd/notify-server');
    loadBin = buildProgram('cmd/notify-load');
    services.push(await serve(server, ['-variant', 'leaky', '-heartbeat', '30s']));
    for (let i = 1; i < 6; i++)
      services.push(await serve(server, ['-variant', 'fixed', '-heartbeat', '30s']));
    const leaky = services[0]!.url;
    loadLoop = (async () => {
      for (let round = 1; loading; round++) {
        await loadRound(loadBin, [leaky], round).catch(() => undefined);
        await new Promise((r) => setTimeout(r, 300));
      }
    })();
  });
  after(async () => {
    loading = false;
    for (const r of replicas) r.proc.kill('SIGKILL');
    await loadLoop;
    for (const s of services) await s.stop();
    await pgAdmin(USER, (c) => c.query(`DROP DATABASE IF EXISTS ${DB} WITH (FORCE)`));
    rmSync(dir, { recursive: true, force: true });
  });

  it('each alert is sent once; after a kill -9 a survivor resolves it, once', async () => {
    // The targets as service discovery hands them over: a Prometheus file_sd file, each service
    // named by its label (history follows the service, not its address).
    const config = join(dir, 'targets.json');
    const groups = services.map((s, i) => ({
      targets: [new URL(s.url).host],
      labels: { job: 'notify', service: `svc-${i}`, team: i === 0 ? 'pay' : 'core' },
    }));
    writeFileSync(config, JSON.stringify(groups));
    const db = `postgres://${USER}@${PG_HOST}:${PG_PORT}/${DB}`;
    for (const id of ['r1', 'r2', 'r3']) {
      const w = watch([
        ...FAST,
        // Only the growth detector: the peak one would also fire, and the test counts alerts.
        '--peak-factor',
        '1000',
        '--db',
        db,
        '--file-sd',
        config,
        '--target-name',
        '{service}',
        '--replica-id',
        id,
        '--listen',
        '127.0.0.1:0',
      ]);
      replicas.push({ ...w, id });
    }
    const all = (): { id: string; e: Event }[] =>
      replicas.flatMap((r) => r.events.map((e) => ({ id: r.id, e })));
    const stderrs = (): string => replicas.map((r) => `--- ${r.id}:\n${r.stderr()}`).join('\n');
    const fail = (e: Error): never => {
      throw new Error(
        `${e.message}; events ${JSON.stringify(all().map((x) => `${x.id} ${x.e.type} ${x.e.key}`))}\n${stderrs()}`,
      );
    };

    await until(
      () => all().some((x) => x.e.type === 'alert'),
      90_000,
      'an alert on the leaky service',
    ).catch(fail);
    // A few more evaluations: a duplicate from another replica would show now.
    await new Promise((r) => setTimeout(r, 3000));
    const alerts = all().filter((x) => x.e.type === 'alert');
    assert.ok(
      alerts.every((x) => x.e.target === 'svc-0'),
      `alerts only on the leaky service: ${JSON.stringify(alerts.map((x) => x.e.key))}`,
    );
    // The discovered labels ride on the alert, for Alertmanager's routing by team.
    assert.ok(
      alerts.every((x) => x.e.labels.team === 'pay' && x.e.labels.service === 'svc-0'),
      JSON.stringify(alerts.map((x) => x.e.labels)),
    );
    const keys = alerts.map((x) => x.e.key);
    assert.deepEqual(keys, [...new Set(keys)], 'each alert sent once for the fleet');
    console.log(`# ${keys.length} alert(s) on svc-0: ${keys.join(', ')}`);
    const senders = new Set(alerts.map((x) => x.id));
    assert.equal(senders.size, 1, 'sent by the replica that owns svc-0');
    const sender = replicas.find((r) => senders.has(r.id))!;
    const survivors = replicas.filter((r) => r !== sender);

    // The fleet as a survivor's API shows it: three live replicas, svc-0 owned by the sender.
    const api = /API on (http:\/\/[\d.]+:\d+)/.exec(survivors[0]!.stderr())?.[1];
    assert.ok(api, survivors[0]!.stderr());
    const fleet = (await (await fetch(`${api}/api/fleet`)).json()) as {
      members: { id: string }[];
      targets: { name: string; owner: string }[];
    };
    assert.deepEqual(fleet.members.map((m) => m.id).sort(), ['r1', 'r2', 'r3']);
    assert.equal(fleet.targets.find((t) => t.name === 'svc-0')?.owner, sender.id);

    sender.proc.kill('SIGKILL');
    await new Promise((r) => sender.proc.once('close', r));
    const killedAt = Date.now();
    // The fix deployed on the same address; the load stops.
    loading = false;
    await loadLoop;
    const addr = new URL(services[0]!.url).host;
    await services[0]!.stop();
    services[0] = await serve(server, ['-variant', 'fixed', '-heartbeat', '30s', '-addr', addr]);

    const open = new Set(keys);
    const resolvedBy = (): { id: string; e: Event }[] =>
      survivors.flatMap((r) =>
        r.events.filter((e) => e.type === 'resolved').map((e) => ({ id: r.id, e })),
      );
    await until(
      () => [...open].every((k) => resolvedBy().some((x) => x.e.key === k)),
      60_000,
      `a survivor to resolve ${[...open].join(', ')}`,
    ).catch(fail);
    console.log(`# resolved ${Date.now() - killedAt} ms after the kill`);
    // Evaluations enough for a second resolution from the other survivor to show.
    await new Promise((r) => setTimeout(r, 3000));
    const resolved = resolvedBy().map((x) => x.e.key);
    assert.deepEqual(resolved.sort(), [...open].sort(), 'each resolved once, by one survivor');
    const again = survivors.flatMap((r) => r.events.filter((e) => e.type === 'alert'));
    assert.deepEqual(
      again.map((e) => e.key),
      [],
      'no alert sent again after the kill',
    );
    const metrics = await (await fetch(`${api}/metrics`)).text();
    assert.match(
      metrics,
      new RegExp(`^leakwatch_fleet_replicas\\{replica="${survivors[0]!.id}"\\} 2$`, 'm'),
    );
    const later = (await (await fetch(`${api}/api/fleet`)).json()) as typeof fleet;
    assert.deepEqual(
      later.members.map((m) => m.id).sort(),
      survivors.map((r) => r.id).sort(),
      'the killed replica has left the fleet',
    );
  });
});
