/**
 * The fleet's history of `leakwatch watch`: a PostgreSQL database (client: `pg`), behind the same
 * `Store` contract as the embedded SQLite file (test/store-conformance.ts runs on both).
 *
 * - One scrape, one row: the group counts, waits and heap sites of a scrape are arrays in its
 *   `snapshots` row (group and site ids interned in `groups` and `heap_sites`). A row per group
 *   count costs PostgreSQL a 24-byte tuple header, a line pointer and an index entry per group,
 *   several times the count itself; arrays keep a scrape near 300 bytes (bench/RESULTS.md).
 * - One scrape, one round trip: `lw_add_scrape` (a server-side function) interns the target,
 *   groups and sites, merges the infos and inserts the row in one statement, hence one
 *   transaction; a remote database costs one network round trip per scrape, not ten.
 * - Retention by time partitions: `snapshots` is partitioned by day of `at`; prune() creates the
 *   coming days' partitions and drops whole days past `maxAgeMs`. No row-by-row deletes of
 *   history. Downsampling tiers (as SQLite has) are not implemented yet: see
 *   docs/watch-storage.md.
 * - Connection loss: every statement is bounded (server `statement_timeout`, client
 *   `query_timeout`, connect timeout). After a connection failure the store refuses at once,
 *   with one line naming the server and the cause, until a retry time that backs off from
 *   250 ms to 10 s; the first call after it tries to connect again. The watcher's write spool
 *   keeps and retries what was refused meanwhile.
 * - Schema: MIGRATIONS below, versioned in `schema_version`, each applied in one transaction
 *   under an advisory lock (two watchers starting at once migrate once); a database from a
 *   newer leakwatch is refused with one line.
 */
import pg from 'pg';
import { UserError, messageOf } from '../../errors.js';
import type { Frame } from '../../model/frame.js';
import {
  alertFromRow,
  countFromRow,
  asFrame,
  infoFromRow,
  type AlertRowValues,
  type InfoRow,
} from './rows.js';
import type {
  AlertEvent,
  Baseline,
  GroupCount,
  GroupInfo,
  Point,
  Replica,
  ReplicaBeat,
  Scrape,
  ScrapeGroups,
  Store,
} from '../types.js';
import { WAIT_BUCKETS, type WaitCounts } from '../waits.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/**
 * The PostgreSQL schema, as ordered migrations from an empty schema. Never edit one that has
 * shipped: append. Partitions of `snapshots` are created at run time (one per UTC day, named
 * `snapshots_pYYYYMMDD`), not by migrations.
 */
const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE targets (
    id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name text NOT NULL UNIQUE
  );
  CREATE TABLE groups (
    id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    gid text NOT NULL UNIQUE,
    holder jsonb,
    holder_owner text,
    created_by jsonb,
    blocked_on text,
    stack jsonb,
    idle text,
    first_seen bigint NOT NULL,
    last_seen bigint NOT NULL
  );
  CREATE INDEX groups_by_last_seen ON groups (last_seen);
  CREATE TABLE heap_sites (
    id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    frame jsonb NOT NULL UNIQUE
  );
  -- grps/counts/leaked are parallel arrays (count 0 not stored); so are wait_grps/wait_minutes
  -- (NULL: this scrape read no waits) and sites/site_bytes.
  CREATE TABLE snapshots (
    target integer NOT NULL,
    at bigint NOT NULL,
    total integer NOT NULL,
    source text NOT NULL,
    duration_ms integer NOT NULL,
    heap_inuse bigint,
    grps integer[] NOT NULL,
    counts integer[] NOT NULL,
    leaked integer[] NOT NULL,
    wait_grps integer[],
    wait_minutes integer[],
    sites integer[],
    site_bytes bigint[]
  ) PARTITION BY RANGE (at);
  CREATE INDEX snapshots_by_target ON snapshots (target, at);
  CREATE INDEX snapshots_with_waits ON snapshots (target, at) WHERE wait_grps IS NOT NULL;
  CREATE TABLE errors (
    target integer NOT NULL REFERENCES targets (id),
    at bigint NOT NULL,
    message text NOT NULL
  );
  CREATE INDEX errors_by_target ON errors (target, at);
  CREATE INDEX errors_by_at ON errors (at);
  CREATE TABLE alerts (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    key text NOT NULL,
    type text NOT NULL CHECK (type IN ('alert', 'resolved')),
    target text NOT NULL,
    detector text NOT NULL,
    at text NOT NULL,
    at_ms bigint NOT NULL,
    summary text NOT NULL,
    group_id text,
    group_holder jsonb,
    group_created_by jsonb,
    group_blocked_on text,
    group_count integer,
    evidence jsonb NOT NULL,
    labels jsonb NOT NULL
  );
  CREATE INDEX alerts_by_at ON alerts (at_ms, id);
  CREATE INDEX alerts_by_key ON alerts (key, id);
  CREATE TABLE baselines (
    target integer PRIMARY KEY REFERENCES targets (id),
    since bigint NOT NULL,
    normal_peak integer
  );

  -- The id of a target name, interned on first use. The lookup comes first so a known name
  -- burns no identity value.
  CREATE FUNCTION lw_target(p_name text) RETURNS integer LANGUAGE plpgsql AS $$
  DECLARE t integer;
  BEGIN
    SELECT id INTO t FROM targets WHERE name = p_name;
    IF t IS NULL THEN
      INSERT INTO targets (name) VALUES (p_name) ON CONFLICT (name) DO NOTHING;
      SELECT id INTO t FROM targets WHERE name = p_name;
    END IF;
    RETURN t;
  END $$;

  -- One scrape: infos merged (a later info never loses a holder or creator learnt before; one
  -- with a creator wins over one without), groups and sites interned, one snapshot row.
  -- Counts of one group given twice are summed, waits take the longest.
  CREATE FUNCTION lw_add_scrape(
    p_target text, p_at bigint, p_total integer, p_source text, p_duration integer,
    p_heap bigint, p_gids text[], p_counts integer[], p_leaked integer[],
    p_wait_gids text[], p_wait_minutes integer[], p_sites jsonb, p_site_bytes bigint[],
    p_infos jsonb
  ) RETURNS void LANGUAGE plpgsql AS $$
  DECLARE
    t integer := lw_target(p_target);
    i jsonb;
    g integer[]; c integer[]; l integer[];
    wg integer[]; wm integer[];
    si integer[]; sb bigint[];
  BEGIN
    FOR i IN SELECT value FROM jsonb_array_elements(p_infos) LOOP
      INSERT INTO groups AS o (gid, holder, holder_owner, created_by, blocked_on, stack, idle,
        first_seen, last_seen)
      VALUES (i->>'id', i->'holder', i->>'holderOwner', i->'createdBy', i->>'blockedOn',
        i->'frames', i->>'idle', p_at, p_at)
      ON CONFLICT (gid) DO UPDATE SET
        holder_owner = CASE WHEN excluded.holder IS NOT NULL THEN excluded.holder_owner
          ELSE o.holder_owner END,
        holder = coalesce(excluded.holder, o.holder),
        created_by = coalesce(excluded.created_by, o.created_by),
        blocked_on = CASE WHEN o.stack IS NULL OR o.created_by IS NULL
          OR excluded.created_by IS NOT NULL THEN excluded.blocked_on ELSE o.blocked_on END,
        idle = CASE WHEN o.stack IS NULL OR o.created_by IS NULL
          OR excluded.created_by IS NOT NULL THEN excluded.idle ELSE o.idle END,
        stack = CASE WHEN o.stack IS NULL OR o.created_by IS NULL
          OR excluded.created_by IS NOT NULL THEN excluded.stack ELSE o.stack END,
        last_seen = greatest(o.last_seen, excluded.last_seen);
    END LOOP;
    -- Only the missing ones: ON CONFLICT alone would burn an identity value per known group.
    INSERT INTO groups (gid, first_seen, last_seen)
    SELECT DISTINCT u.x, p_at, p_at FROM unnest(p_gids || p_wait_gids) u (x)
    WHERE NOT EXISTS (SELECT 1 FROM groups WHERE gid = u.x)
    ON CONFLICT (gid) DO NOTHING;
    SELECT coalesce(array_agg(id ORDER BY id), '{}'), coalesce(array_agg(n ORDER BY id), '{}'),
      coalesce(array_agg(k ORDER BY id), '{}')
    INTO g, c, l FROM (
      SELECT gr.id, sum(u.n)::integer AS n, sum(u.k)::integer AS k
      FROM unnest(p_gids, p_counts, p_leaked) u (gid, n, k) JOIN groups gr ON gr.gid = u.gid
      GROUP BY gr.id HAVING sum(u.n) <> 0 OR sum(u.k) <> 0) q;
    -- last_seen is kept to within an hour: it only has to outlive the oldest partition.
    UPDATE groups SET last_seen = p_at WHERE id = ANY (g) AND last_seen < p_at - 3600000;
    IF cardinality(p_wait_gids) > 0 THEN
      SELECT array_agg(id ORDER BY id), array_agg(m ORDER BY id) INTO wg, wm FROM (
        SELECT gr.id, max(u.m) AS m FROM unnest(p_wait_gids, p_wait_minutes) u (gid, m)
        JOIN groups gr ON gr.gid = u.gid GROUP BY gr.id) q;
    END IF;
    IF jsonb_array_length(p_sites) > 0 THEN
      INSERT INTO heap_sites (frame)
      SELECT DISTINCT e.f FROM jsonb_array_elements(p_sites) e (f)
      WHERE NOT EXISTS (SELECT 1 FROM heap_sites WHERE frame = e.f)
      ON CONFLICT (frame) DO NOTHING;
      SELECT array_agg(h.id ORDER BY h.id), array_agg(u.b ORDER BY h.id) INTO si, sb FROM (
        SELECT e.f, sum(p_site_bytes[e.n])::bigint AS b
        FROM jsonb_array_elements(p_sites) WITH ORDINALITY e (f, n) GROUP BY e.f) u
      JOIN heap_sites h ON h.frame = u.f;
    END IF;
    INSERT INTO snapshots (target, at, total, source, duration_ms, heap_inuse, grps, counts,
      leaked, wait_grps, wait_minutes, sites, site_bytes)
    VALUES (t, p_at, p_total, p_source, p_duration, p_heap, g, c, l, wg, wm, si, sb);
  END $$;
  `,
  // 2: a target's labels (service discovery), kept with its history; NULL: none given.
  `
  ALTER TABLE targets ADD COLUMN labels jsonb;
  `,
  // 3: replicas (watch processes sharing this database; docs/watch-fleet.md). Liveness is judged
  // by the server's clock, so replicas on hosts whose clocks differ still agree on who is live,
  // and by each replica's own window (`live_ms`, from its heartbeat interval), so replicas with
  // different intervals agree too. `token` is one process's incarnation: a second live process
  // given the same id is refused.
  `
  CREATE TABLE replicas (
    id text PRIMARY KEY,
    token text NOT NULL,
    host text NOT NULL,
    pid integer NOT NULL,
    started timestamptz NOT NULL,
    last_seen timestamptz NOT NULL,
    live_ms integer NOT NULL,
    owned integer NOT NULL DEFAULT 0
  );
  -- Which replica recorded (and so sent) an alert event; NULL for a single watcher.
  ALTER TABLE alerts ADD COLUMN replica text;

  -- An alert event recorded and sent once for the whole fleet: under a lock on its key, it is
  -- inserted only if it changes the key's state (an alert for a key not open, a resolution for
  -- one open) and only for a replica whose heartbeat is live. Two replicas that both see the
  -- condition during a handover get 'sent' and 'duplicate'; a replica presumed dead gets
  -- 'not-live' (its targets belong to the others now, or will once it beats again).
  CREATE FUNCTION lw_add_alert_once(
    p_replica text, p_token text,
    p_key text, p_type text, p_target text, p_detector text, p_at text, p_at_ms bigint,
    p_summary text, p_group_id text, p_group_holder jsonb, p_group_created_by jsonb,
    p_group_blocked_on text, p_group_count integer, p_evidence jsonb, p_labels jsonb
  ) RETURNS text LANGUAGE plpgsql AS $$
  DECLARE newest text;
  BEGIN
    PERFORM pg_advisory_xact_lock(hashtextextended(p_key, 1279)); -- 1279: any fixed seed
    IF NOT EXISTS (SELECT 1 FROM replicas WHERE id = p_replica AND token = p_token
        AND last_seen > clock_timestamp() - live_ms * interval '1 millisecond') THEN
      RETURN 'not-live';
    END IF;
    SELECT type INTO newest FROM alerts WHERE key = p_key ORDER BY id DESC LIMIT 1;
    IF (p_type = 'alert' AND newest = 'alert')
        OR (p_type = 'resolved' AND newest IS DISTINCT FROM 'alert') THEN
      RETURN 'duplicate';
    END IF;
    INSERT INTO alerts (key, type, target, detector, at, at_ms, summary, group_id, group_holder,
      group_created_by, group_blocked_on, group_count, evidence, labels, replica)
    VALUES (p_key, p_type, p_target, p_detector, p_at, p_at_ms, p_summary, p_group_id,
      p_group_holder, p_group_created_by, p_group_blocked_on, p_group_count, p_evidence,
      p_labels, p_replica);
    RETURN 'sent';
  END $$;
  `,
  // 4: goroutines per (group, wait bucket) of each debug=2 dump, as three more parallel arrays
  // (src/watch/waits.ts WAIT_BUCKETS by index; empty buckets not stored; NULL: no dump read).
  // The 14-argument lw_add_scrape stays, writing no buckets, so a replica of the previous
  // version keeps writing during a rolling upgrade.
  `
  ALTER TABLE snapshots ADD COLUMN bucket_grps integer[], ADD COLUMN bucket_ids smallint[],
    ADD COLUMN bucket_counts integer[];
  CREATE INDEX snapshots_with_dumps ON snapshots (target, at) WHERE bucket_grps IS NOT NULL;
  -- One scrape: infos merged (a later info never loses a holder or creator learnt before; one
  -- with a creator wins over one without), groups and sites interned, one snapshot row.
  -- Counts of one group given twice are summed, waits take the longest.
  -- p_bucket_*: a debug=2 dump's goroutines per (group, wait bucket); NULL when none was read.
  CREATE FUNCTION lw_add_scrape(
    p_target text, p_at bigint, p_total integer, p_source text, p_duration integer,
    p_heap bigint, p_gids text[], p_counts integer[], p_leaked integer[],
    p_wait_gids text[], p_wait_minutes integer[], p_sites jsonb, p_site_bytes bigint[],
    p_infos jsonb, p_bucket_gids text[], p_bucket_ids integer[], p_bucket_counts integer[]
  ) RETURNS void LANGUAGE plpgsql AS $$
  DECLARE
    t integer := lw_target(p_target);
    i jsonb;
    g integer[]; c integer[]; l integer[];
    wg integer[]; wm integer[];
    si integer[]; sb bigint[];
    bg integer[]; bb smallint[]; bn integer[];
  BEGIN
    FOR i IN SELECT value FROM jsonb_array_elements(p_infos) LOOP
      INSERT INTO groups AS o (gid, holder, holder_owner, created_by, blocked_on, stack, idle,
        first_seen, last_seen)
      VALUES (i->>'id', i->'holder', i->>'holderOwner', i->'createdBy', i->>'blockedOn',
        i->'frames', i->>'idle', p_at, p_at)
      ON CONFLICT (gid) DO UPDATE SET
        holder_owner = CASE WHEN excluded.holder IS NOT NULL THEN excluded.holder_owner
          ELSE o.holder_owner END,
        holder = coalesce(excluded.holder, o.holder),
        created_by = coalesce(excluded.created_by, o.created_by),
        blocked_on = CASE WHEN o.stack IS NULL OR o.created_by IS NULL
          OR excluded.created_by IS NOT NULL THEN excluded.blocked_on ELSE o.blocked_on END,
        idle = CASE WHEN o.stack IS NULL OR o.created_by IS NULL
          OR excluded.created_by IS NOT NULL THEN excluded.idle ELSE o.idle END,
        stack = CASE WHEN o.stack IS NULL OR o.created_by IS NULL
          OR excluded.created_by IS NOT NULL THEN excluded.stack ELSE o.stack END,
        last_seen = greatest(o.last_seen, excluded.last_seen);
    END LOOP;
    -- Only the missing ones: ON CONFLICT alone would burn an identity value per known group.
    INSERT INTO groups (gid, first_seen, last_seen)
    SELECT DISTINCT u.x, p_at, p_at
    FROM unnest(p_gids || p_wait_gids || coalesce(p_bucket_gids, '{}')) u (x)
    WHERE NOT EXISTS (SELECT 1 FROM groups WHERE gid = u.x)
    ON CONFLICT (gid) DO NOTHING;
    SELECT coalesce(array_agg(id ORDER BY id), '{}'), coalesce(array_agg(n ORDER BY id), '{}'),
      coalesce(array_agg(k ORDER BY id), '{}')
    INTO g, c, l FROM (
      SELECT gr.id, sum(u.n)::integer AS n, sum(u.k)::integer AS k
      FROM unnest(p_gids, p_counts, p_leaked) u (gid, n, k) JOIN groups gr ON gr.gid = u.gid
      GROUP BY gr.id HAVING sum(u.n) <> 0 OR sum(u.k) <> 0) q;
    -- last_seen is kept to within an hour: it only has to outlive the oldest partition.
    UPDATE groups SET last_seen = p_at WHERE id = ANY (g) AND last_seen < p_at - 3600000;
    IF cardinality(p_wait_gids) > 0 THEN
      SELECT array_agg(id ORDER BY id), array_agg(m ORDER BY id) INTO wg, wm FROM (
        SELECT gr.id, max(u.m) AS m FROM unnest(p_wait_gids, p_wait_minutes) u (gid, m)
        JOIN groups gr ON gr.gid = u.gid GROUP BY gr.id) q;
    END IF;
    IF p_bucket_gids IS NOT NULL THEN
      SELECT coalesce(array_agg(id ORDER BY id, b), '{}'),
        coalesce(array_agg(b ORDER BY id, b), '{}'), coalesce(array_agg(n ORDER BY id, b), '{}')
      INTO bg, bb, bn FROM (
        SELECT gr.id, u.b::smallint AS b, sum(u.n)::integer AS n
        FROM unnest(p_bucket_gids, p_bucket_ids, p_bucket_counts) u (gid, b, n)
        JOIN groups gr ON gr.gid = u.gid GROUP BY gr.id, u.b HAVING sum(u.n) > 0) q;
    END IF;
    IF jsonb_array_length(p_sites) > 0 THEN
      INSERT INTO heap_sites (frame)
      SELECT DISTINCT e.f FROM jsonb_array_elements(p_sites) e (f)
      WHERE NOT EXISTS (SELECT 1 FROM heap_sites WHERE frame = e.f)
      ON CONFLICT (frame) DO NOTHING;
      SELECT array_agg(h.id ORDER BY h.id), array_agg(u.b ORDER BY h.id) INTO si, sb FROM (
        SELECT e.f, sum(p_site_bytes[e.n])::bigint AS b
        FROM jsonb_array_elements(p_sites) WITH ORDINALITY e (f, n) GROUP BY e.f) u
      JOIN heap_sites h ON h.frame = u.f;
    END IF;
    INSERT INTO snapshots (target, at, total, source, duration_ms, heap_inuse, grps, counts,
      leaked, wait_grps, wait_minutes, sites, site_bytes, bucket_grps, bucket_ids, bucket_counts)
    VALUES (t, p_at, p_total, p_source, p_duration, p_heap, g, c, l, wg, wm, si, sb, bg, bb, bn);
  END $$;
  CREATE OR REPLACE FUNCTION lw_add_scrape(
    p_target text, p_at bigint, p_total integer, p_source text, p_duration integer,
    p_heap bigint, p_gids text[], p_counts integer[], p_leaked integer[],
    p_wait_gids text[], p_wait_minutes integer[], p_sites jsonb, p_site_bytes bigint[],
    p_infos jsonb
  ) RETURNS void LANGUAGE sql AS $$
    SELECT lw_add_scrape(p_target, p_at, p_total, p_source, p_duration, p_heap, p_gids,
      p_counts, p_leaked, p_wait_gids, p_wait_minutes, p_sites, p_site_bytes, p_infos,
      NULL, NULL, NULL)
  $$;
  `,
];

/** The schema version this build writes. */
export const PG_SCHEMA_VERSION = MIGRATIONS.length;

/** Any constant: the advisory lock key under which migrations run. */
const MIGRATION_LOCK = 0x4c4b5754;

/** What `prune(now)` keeps. */
interface PgRetention {
  /** Whole days of snapshots older than this are dropped. Default 30 days. */
  maxAgeMs: number;
  /** Scrape errors kept for this long. Default 30 days. */
  errorsMs: number;
  /** Alert events kept for this long, except an alert still open. Default 400 days. */
  alertsMs: number;
}

const DEFAULT_PG_RETENTION: Readonly<PgRetention> = Object.freeze({
  maxAgeMs: 30 * DAY,
  errorsMs: 30 * DAY,
  alertsMs: 400 * DAY,
});

export interface PgStoreOptions {
  /** The PostgreSQL schema that holds leakwatch's tables (created if missing). Default `public`. */
  schema?: string;
  retention?: Partial<PgRetention>;
  /** Bound on every statement, on the server and in the client. Default 10 s. */
  statementTimeoutMs?: number;
  /** Bound on opening a connection. Default 5 s. */
  connectTimeoutMs?: number;
  /** Pool size. Default 4. */
  maxConnections?: number;
}

/** Where to connect, from a `postgres://` URL (parsed by open.ts). */
export interface PgTarget {
  host: string;
  port: number;
  user?: string;
  database: string;
  ssl?: false | { rejectUnauthorized: boolean };
}

const BACKOFF_MIN_MS = 250;
const BACKOFF_MAX_MS = 10_000;

type GroupRow = InfoRow;

type AlertRow = AlertRowValues;

/**
 * Opens the store: connects, creates the schema or migrates it. A server that cannot be reached
 * or a database that is not leakwatch's is refused with a one-line UserError.
 */
export async function openPostgresStore(
  target: PgTarget,
  opts: PgStoreOptions = {},
): Promise<PostgresStore> {
  const store = new PostgresStore(target, opts);
  try {
    await store.migrate();
  } catch (err) {
    await store.close();
    throw err instanceof UserError ? err : new UserError(oneLine(messageOf(err)));
  }
  return store;
}

class PostgresStore implements Store {
  /** The server and database, for messages (never a password). */
  readonly where: string;
  readonly retention: Readonly<PgRetention>;
  private readonly pool: pg.Pool;
  private readonly poolConfig: pg.PoolConfig;
  /**
   * One connection of its own for a fleet's heartbeats and alert decisions, made on the first
   * heartbeat: behind a backlog of scrape writes in the pool, a heartbeat would come late and
   * the replica would be taken for dead.
   */
  private control?: pg.Pool;
  private readonly schema: string;
  /** Days whose partition is known to exist (epoch day numbers). */
  private readonly days = new Set<number>();
  private retryAt = 0;
  private backoff = 0;
  private lastFailure = '';
  private closed = false;

  constructor(target: PgTarget, opts: PgStoreOptions = {}) {
    this.where = `postgres://${target.user ? `${target.user}@` : ''}${target.host}:${target.port}/${target.database}`;
    const schema = opts.schema ?? 'public';
    if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema))
      throw new UserError(`${this.where}: schema "${schema}": expected a lower-case identifier`);
    this.schema = schema;
    const given = Object.entries(opts.retention ?? {}).filter(([, v]) => v !== undefined);
    const r = { ...DEFAULT_PG_RETENTION, ...Object.fromEntries(given) } as PgRetention;
    for (const [k, v] of Object.entries(r))
      if (typeof v !== 'number' || !(v > 0))
        throw new UserError(`retention.${k}: must be a positive number of ms`);
    this.retention = Object.freeze(r);
    const statementMs = opts.statementTimeoutMs ?? 10_000;
    const types = new pg.TypeOverrides();
    // bigint columns hold ms timestamps and byte counts, far below 2^53.
    types.setTypeParser(pg.types.builtins.INT8, Number);
    this.poolConfig = {
      host: target.host,
      port: target.port,
      user: target.user,
      database: target.database,
      ssl: target.ssl ?? false,
      max: opts.maxConnections ?? 4,
      connectionTimeoutMillis: opts.connectTimeoutMs ?? 5_000,
      idleTimeoutMillis: 30_000,
      keepAlive: true,
      statement_timeout: statementMs,
      // The client's own bound: a server that stopped answering (no RST) is not waited on.
      query_timeout: statementMs + 2_000,
      application_name: 'leakwatch',
      // DDL (partitions) waits at most this long for a lock, then is retried at the next prune.
      lock_timeout: 5_000,
      options: `-c search_path=${schema} -c synchronous_commit=off`,
      types,
    };
    this.pool = new pg.Pool(this.poolConfig);
    // An idle connection that the server closes (restart, failover) is reported here; the pool
    // has already dropped it, and the next query opens a new one.
    this.pool.on('error', (err) => {
      this.lastFailure = oneLine(messageOf(err));
    });
  }

  /** Creates or migrates the schema; refuses a database of something else or a newer schema. */
  async migrate(): Promise<void> {
    await this.withClient(async (c) => {
      const version = await this.version(c);
      if (version === PG_SCHEMA_VERSION) return;
      await c.query('BEGIN');
      try {
        // Two watchers starting at once: the second waits here, then sees the work done
        // (CREATE SCHEMA IF NOT EXISTS itself is not safe against a concurrent one).
        await c.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
        await c.query(`CREATE SCHEMA IF NOT EXISTS ${this.schema}`);
        let v = await this.version(c);
        if (v === 0)
          await c.query(
            'CREATE TABLE schema_version (version integer PRIMARY KEY, applied_at bigint NOT NULL)',
          );
        for (; v < PG_SCHEMA_VERSION; v++) {
          await c.query(MIGRATIONS[v]!);
          await c.query('INSERT INTO schema_version (version, applied_at) VALUES ($1, $2)', [
            v + 1,
            Date.now(),
          ]);
        }
        await c.query('COMMIT');
      } catch (err) {
        await c.query('ROLLBACK').catch(() => undefined);
        throw err;
      }
    });
  }

  /** The schema version of this schema: 0 when empty; refusals for foreign or newer ones. */
  private async version(c: pg.PoolClient): Promise<number> {
    const tables = await c.query<{ name: string }>(
      `SELECT c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE n.nspname = $1 AND c.relkind IN ('r', 'p')`,
      [this.schema],
    );
    const names = new Set(tables.rows.map((r) => r.name));
    if (!names.has('schema_version')) {
      if (names.size === 0) return 0;
      throw new UserError(
        `${this.where}: schema ${this.schema} holds other tables and no leakwatch schema_version; give leakwatch an empty database or schema`,
      );
    }
    const r = await c.query<{ v: number | null }>('SELECT max(version) AS v FROM schema_version');
    const v = r.rows[0]?.v ?? 0;
    if (v > PG_SCHEMA_VERSION)
      throw new UserError(
        `${this.where}: written by a newer leakwatch (schema ${v}; this one knows up to ${PG_SCHEMA_VERSION})`,
      );
    return v;
  }

  async addScrape(s: Scrape): Promise<void> {
    if (!Number.isFinite(s.at)) throw new Error(`addScrape: bad time ${s.at}`);
    for (const g of s.groups)
      if (!isCount(g.count) || !isCount(g.leaked))
        throw new Error(
          `addScrape ${s.target}: group ${g.id}: count ${g.count}, leaked ${g.leaked}: expected whole numbers >= 0`,
        );
    const groups = s.groups.filter((g) => g.count !== 0 || g.leaked !== 0);
    const waits = [...(s.waits ?? [])];
    const sites = s.heap?.sites ?? [];
    // A dump's (group, bucket, count) triples, empty buckets left out; null: no dump read.
    const buckets = s.waitBuckets
      ? [...s.waitBuckets].flatMap(([gid, counts]) =>
          counts.flatMap((n, b) => (n > 0 ? [[clean(gid), b, n] as const] : [])),
        )
      : null;
    for (const [gid, , n] of buckets ?? [])
      if (!isCount(n))
        throw new Error(
          `addScrape ${s.target}: group ${gid}: wait bucket count ${n}: expected a whole number`,
        );
    const params = [
      clean(s.target),
      Math.round(s.at),
      s.total,
      clean(s.source),
      Math.round(s.durationMs),
      s.heap ? Math.round(s.heap.inuse) : null,
      groups.map((g) => clean(g.id)),
      groups.map((g) => g.count),
      groups.map((g) => g.leaked),
      waits.map(([gid]) => clean(gid)),
      waits.map(([, m]) => Math.round(m)),
      JSON.stringify(sites.map((x) => frameJson(x.frame))),
      sites.map((x) => Math.round(x.bytes)),
      JSON.stringify(s.infos.map(infoJson)),
      buckets && buckets.map(([gid]) => gid),
      buckets && buckets.map(([, b]) => b),
      buckets && buckets.map(([, , n]) => n),
    ];
    const day = Math.floor(s.at / DAY);
    await this.withClient(async (c) => {
      if (!this.days.has(day)) await this.ensureDay(c, day);
      const run = () =>
        c.query({
          name: 'lw_add_scrape',
          text: `SELECT lw_add_scrape($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14,
                   $15, $16, $17)`,
          values: params,
        });
      try {
        await run();
      } catch (err) {
        // 23514: no partition for this time (prune dropped the day meanwhile): make it, once.
        if ((err as { code?: string }).code !== '23514') throw err;
        this.days.delete(day);
        await this.ensureDay(c, day);
        await run();
      }
    });
  }

  /** Creates the partition of one UTC day (epoch day number) if it does not exist. */
  private async ensureDay(c: pg.PoolClient, day: number): Promise<void> {
    const name = partitionName(day);
    try {
      await c.query(
        `CREATE TABLE IF NOT EXISTS ${name} PARTITION OF snapshots FOR VALUES FROM (${day * DAY}) TO (${(day + 1) * DAY})`,
      );
    } catch (err) {
      // Another watcher created it at the same moment (IF NOT EXISTS is not atomic).
      const code = (err as { code?: string }).code;
      if (code !== '42P07' && code !== '23505') throw err;
    }
    this.days.add(day);
  }

  async addError(target: string, at: number, error: string): Promise<void> {
    await this.query('INSERT INTO errors (target, at, message) VALUES (lw_target($1), $2, $3)', [
      clean(target),
      Math.round(at),
      clean(error),
    ]);
  }

  async errors(target: string, from: number, to: number): Promise<{ at: number; error: string }[]> {
    return this.query<{ at: number; error: string }>(
      `SELECT e.at, e.message AS error FROM errors e JOIN targets t ON t.id = e.target
       WHERE t.name = $1 AND e.at >= $2 AND e.at <= $3 ORDER BY e.at`,
      [clean(target), ms(from), ms(to)],
    );
  }

  async totals(target: string, from: number, to: number): Promise<Point[]> {
    return this.query<Point>(
      `SELECT s.at, s.total AS value FROM snapshots s
       WHERE s.target = (SELECT id FROM targets WHERE name = $1) AND s.at >= $2 AND s.at <= $3
       ORDER BY s.at`,
      [clean(target), ms(from), ms(to)],
      'lw_totals',
    );
  }

  /** One point per snapshot of the target in [from, to]; 0 where the group was absent. */
  async groupSeries(target: string, group: string, from: number, to: number): Promise<Point[]> {
    return this.query<Point>(
      `SELECT s.at, coalesce(s.counts[array_position(s.grps, g.id)], 0) AS value
       FROM groups g, snapshots s
       WHERE g.gid = $2 AND s.target = (SELECT id FROM targets WHERE name = $1)
         AND s.at >= $3 AND s.at <= $4
       ORDER BY s.at`,
      [clean(target), clean(group), ms(from), ms(to)],
      'lw_series',
    );
  }

  async latestGroups(
    target: string,
    limit: number,
  ): Promise<(GroupCount & { info?: GroupInfo })[]> {
    const rows = await this.query<GroupRow & { count: number; leaked: number }>(
      `SELECT g.gid, u.count, u.leaked, g.holder, g.holder_owner, g.created_by, g.blocked_on,
         g.stack, g.idle
       FROM (SELECT grps, counts, leaked FROM snapshots
             WHERE target = (SELECT id FROM targets WHERE name = $1) ORDER BY at DESC LIMIT 1) s
       CROSS JOIN LATERAL unnest(s.grps, s.counts, s.leaked) u (grp, count, leaked)
       JOIN groups g ON g.id = u.grp
       ORDER BY u.count DESC, g.gid COLLATE "C" LIMIT $2`,
      [clean(target), Math.max(0, Math.floor(limit))],
      'lw_latest',
    );
    return rows.map((r) => countFromRow(r, infoFromRow(r)));
  }

  async groupsAt(target: string, at: number, limit: number): Promise<ScrapeGroups | undefined> {
    if (Number.isNaN(at)) return undefined;
    // The nearest scrape on either side (each one index probe), then its groups; a scrape with
    // no groups still yields one row (gid NULL), so its time and total are known.
    const rows = await this.query<
      GroupRow & { at: string; total: number; count: number | null; leaked: number | null }
    >(
      `WITH t AS (SELECT id FROM targets WHERE name = $1),
       s AS (
         SELECT * FROM (
           (SELECT at, total, grps, counts, leaked FROM snapshots
            WHERE target = (SELECT id FROM t) AND at <= $2 ORDER BY at DESC LIMIT 1)
           UNION ALL
           (SELECT at, total, grps, counts, leaked FROM snapshots
            WHERE target = (SELECT id FROM t) AND at >= $2 ORDER BY at LIMIT 1)
         ) n ORDER BY abs(n.at - $2::bigint), n.at LIMIT 1)
       SELECT s.at, s.total, g.gid, u.count, u.leaked, g.holder, g.holder_owner, g.created_by,
         g.blocked_on, g.stack, g.idle
       FROM s LEFT JOIN LATERAL unnest(s.grps, s.counts, s.leaked) u (grp, count, leaked) ON true
       LEFT JOIN groups g ON g.id = u.grp
       ORDER BY u.count DESC NULLS LAST, g.gid COLLATE "C" LIMIT $3`,
      [clean(target), ms(at), Math.max(1, Math.floor(limit))],
      'lw_groups_at',
    );
    const first = rows[0];
    if (!first) return undefined;
    return {
      at: Number(first.at),
      total: first.total,
      groups: rows
        .filter((r) => r.gid !== null && r.count !== null && limit >= 1)
        .map((r) =>
          countFromRow({ gid: r.gid, count: r.count!, leaked: r.leaked ?? 0 }, infoFromRow(r)),
        ),
    };
  }

  async groupInfo(id: string): Promise<GroupInfo | undefined> {
    const rows = await this.query<GroupRow>(
      'SELECT gid, holder, holder_owner, created_by, blocked_on, stack, idle FROM groups WHERE gid = $1',
      [clean(id)],
    );
    return rows[0] && infoFromRow(rows[0]);
  }

  async latestWaits(
    target: string,
  ): Promise<{ at: number; waits: Map<string, number> } | undefined> {
    const rows = await this.query<{ at: number; gid: string | null; minutes: number | null }>(
      `SELECT s.at, g.gid, u.minutes
       FROM (SELECT at, wait_grps, wait_minutes FROM snapshots
             WHERE target = (SELECT id FROM targets WHERE name = $1) AND wait_grps IS NOT NULL
             ORDER BY at DESC LIMIT 1) s
       LEFT JOIN LATERAL unnest(s.wait_grps, s.wait_minutes) u (grp, minutes) ON true
       LEFT JOIN groups g ON g.id = u.grp`,
      [clean(target)],
    );
    if (rows.length === 0) return undefined;
    const waits = new Map<string, number>();
    for (const r of rows) if (r.gid !== null && r.minutes !== null) waits.set(r.gid, r.minutes);
    return { at: rows[0]!.at, waits };
  }

  async groupWaits(
    target: string,
    group: string,
    from: number,
    to: number,
  ): Promise<{ first: WaitCounts; last: WaitCounts } | undefined> {
    if (Number.isNaN(from) || Number.isNaN(to)) return undefined;
    // The first (k 0) and last (k 1) dump in range, each one probe of the partial index, and
    // the group's (bucket, count) pairs in each; a dump without the group yields one row.
    const rows = await this.query<{ k: number; at: number; b: number | null; n: number | null }>(
      `WITH t AS (SELECT id FROM targets WHERE name = $1),
       d AS (
         (SELECT 0 AS k, at, bucket_grps, bucket_ids, bucket_counts FROM snapshots
          WHERE target = (SELECT id FROM t) AND bucket_grps IS NOT NULL AND at >= $3 AND at <= $4
          ORDER BY at LIMIT 1)
         UNION ALL
         (SELECT 1 AS k, at, bucket_grps, bucket_ids, bucket_counts FROM snapshots
          WHERE target = (SELECT id FROM t) AND bucket_grps IS NOT NULL AND at >= $3 AND at <= $4
          ORDER BY at DESC LIMIT 1))
       SELECT d.k, d.at, u.b, u.n FROM d
       LEFT JOIN LATERAL (
         SELECT x.b, x.n FROM unnest(d.bucket_grps, d.bucket_ids, d.bucket_counts) x (grp, b, n)
         WHERE x.grp = (SELECT id FROM groups WHERE gid = $2)) u ON true`,
      [clean(target), clean(group), ms(from), ms(to)],
      'lw_group_waits',
    );
    const of = (k: number): WaitCounts | undefined => {
      const mine = rows.filter((r) => r.k === k);
      if (mine.length === 0) return undefined;
      const counts = WAIT_BUCKETS.map(() => 0);
      for (const r of mine)
        if (r.b !== null && r.n !== null && r.b < counts.length) counts[r.b] = r.n;
      return { at: mine[0]!.at, counts };
    };
    const first = of(0);
    const last = of(1);
    return first && last ? { first, last } : undefined;
  }

  async heapSeries(target: string, from: number, to: number): Promise<Point[]> {
    return this.query<Point>(
      `SELECT at, heap_inuse AS value FROM snapshots
       WHERE target = (SELECT id FROM targets WHERE name = $1) AND at >= $2 AND at <= $3
         AND heap_inuse IS NOT NULL
       ORDER BY at`,
      [clean(target), ms(from), ms(to)],
    );
  }

  async heapSites(
    target: string,
    from: number,
    to: number,
  ): Promise<{ frame: Frame; points: Point[] }[]> {
    const rows = await this.query<{ id: number; frame: unknown; at: number; bytes: number }>(
      `SELECT h.id, h.frame, s.at, u.bytes
       FROM snapshots s
       CROSS JOIN LATERAL unnest(s.sites, s.site_bytes) u (site, bytes)
       JOIN heap_sites h ON h.id = u.site
       WHERE s.target = (SELECT id FROM targets WHERE name = $1) AND s.at >= $2 AND s.at <= $3
         AND s.sites IS NOT NULL
       ORDER BY s.at, h.id`,
      [clean(target), ms(from), ms(to)],
    );
    const by = new Map<number, { frame: Frame; points: Point[] }>();
    for (const r of rows) {
      let e = by.get(r.id);
      if (!e) {
        const frame = asFrame(r.frame);
        if (!frame) continue;
        e = { frame, points: [] };
        by.set(r.id, e);
      }
      e.points.push({ at: r.at, value: r.bytes });
    }
    return [...by.values()];
  }

  async baseline(target: string): Promise<Baseline | undefined> {
    const rows = await this.query<{ since: number; normal_peak: number | null }>(
      `SELECT b.since, b.normal_peak FROM baselines b JOIN targets t ON t.id = b.target
       WHERE t.name = $1`,
      [clean(target)],
    );
    const r = rows[0];
    if (!r) return undefined;
    const b: Baseline = { since: r.since };
    if (r.normal_peak !== null) b.normalPeak = r.normal_peak;
    return b;
  }

  async setBaseline(target: string, b: Baseline): Promise<void> {
    await this.query(
      `INSERT INTO baselines (target, since, normal_peak) VALUES (lw_target($1), $2, $3)
       ON CONFLICT (target) DO UPDATE SET since = excluded.since, normal_peak = excluded.normal_peak`,
      [clean(target), Math.round(b.since), b.normalPeak ?? null],
    );
  }

  async targets(): Promise<
    { name: string; lastAt: number; lastTotal: number; labels: Record<string, string> }[]
  > {
    return this.query<{
      name: string;
      lastAt: number;
      lastTotal: number;
      labels: Record<string, string>;
    }>(
      `SELECT t.name, s.at AS "lastAt", s.total AS "lastTotal",
         coalesce(t.labels, '{}'::jsonb) AS labels FROM targets t
       CROSS JOIN LATERAL (SELECT at, total FROM snapshots WHERE target = t.id
                           ORDER BY at DESC LIMIT 1) s
       ORDER BY t.name COLLATE "C"`,
      [],
    );
  }

  async setTargetLabels(target: string, labels: Record<string, string>): Promise<void> {
    await this.query('UPDATE targets SET labels = $2 WHERE id = lw_target($1)', [
      clean(target),
      JSON.stringify(cleanJson(labels)),
    ]);
  }

  async alerts(limit: number): Promise<AlertEvent[]> {
    const rows = await this.query<AlertRow>(
      'SELECT * FROM alerts ORDER BY at_ms DESC, id DESC LIMIT $1',
      [Math.max(0, Math.floor(limit))],
    );
    return rows.map(alertFromRow);
  }

  async openAlerts(): Promise<AlertEvent[]> {
    const rows = await this.query<AlertRow>(
      `SELECT * FROM (SELECT DISTINCT ON (key) * FROM alerts ORDER BY key, id DESC) a
       WHERE type = 'alert' ORDER BY at_ms, id`,
      [],
    );
    return rows.map(alertFromRow);
  }

  async addAlert(e: AlertEvent): Promise<void> {
    await this.query(
      `INSERT INTO alerts (key, type, target, detector, at, at_ms, summary, group_id, group_holder,
         group_created_by, group_blocked_on, group_count, evidence, labels)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
      alertValues(e),
    );
  }

  // The fleet's side of the store (src/watch/fleet.ts FleetStore).

  /**
   * Renews this replica's heartbeat (registering it on the first, live for `liveMs` from now),
   * prunes replicas silent for long, and returns the live ones (`me` among them), or undefined
   * when another live process holds this replica id.
   */
  async heartbeat(me: ReplicaBeat, liveMs: number): Promise<Replica[] | undefined> {
    return this.withClient(async (c) => {
      const up = await c.query(
        `INSERT INTO replicas AS r (id, token, host, pid, started, last_seen, live_ms, owned)
         VALUES ($1, $2, $3, $4, clock_timestamp(), clock_timestamp(), $6, $5)
         ON CONFLICT (id) DO UPDATE SET token = excluded.token, host = excluded.host,
           pid = excluded.pid, owned = excluded.owned, last_seen = clock_timestamp(),
           live_ms = excluded.live_ms,
           started = CASE WHEN r.token = excluded.token THEN r.started ELSE excluded.started END
         WHERE r.token = excluded.token
           OR r.last_seen <= clock_timestamp() - r.live_ms * interval '1 millisecond'`,
        [clean(me.id), me.token, clean(me.host), me.pid, me.owned, liveMs],
      );
      if (up.rowCount === 0) return undefined;
      // Rows of replicas gone for an hour are no one's concern any more.
      await c.query("DELETE FROM replicas WHERE last_seen < clock_timestamp() - interval '1 hour'");
      const r = await c.query<Replica>(
        `SELECT id, host, pid, owned,
           (extract(epoch FROM started) * 1000)::bigint AS started,
           (extract(epoch FROM last_seen) * 1000)::bigint AS "lastSeen"
         FROM replicas WHERE last_seen > clock_timestamp() - live_ms * interval '1 millisecond'
         ORDER BY id COLLATE "C"`,
      );
      return r.rows;
    }, this.controlPool());
  }

  private controlPool(): pg.Pool {
    if (!this.control) {
      // Kept open (no idle timeout): a heartbeat must not wait for a new connection.
      this.control = new pg.Pool({ ...this.poolConfig, max: 1, idleTimeoutMillis: 0 });
      this.control.on('error', (err) => {
        this.lastFailure = oneLine(messageOf(err));
      });
    }
    return this.control;
  }

  /** Removes this replica's row (a clean stop), so the others take its targets at their next beat. */
  async leave(id: string, token: string): Promise<void> {
    await this.withClient(
      (c) => c.query('DELETE FROM replicas WHERE id = $1 AND token = $2', [clean(id), token]),
      this.controlPool(),
    );
  }

  /** Records `e` for the fleet if it changes its key's state (lw_add_alert_once). */
  async addAlertOnce(
    e: AlertEvent,
    me: { id: string; token: string },
  ): Promise<'sent' | 'duplicate' | 'not-live'> {
    const r = await this.withClient(
      (c) =>
        c.query<{ r: 'sent' | 'duplicate' | 'not-live' }>({
          name: 'lw_add_alert_once',
          text: `SELECT lw_add_alert_once($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13,
                   $14, $15, $16) AS r`,
          values: [clean(me.id), me.token, ...alertValues(e)],
        }),
      this.controlPool(),
    );
    return r.rows[0]!.r;
  }

  /**
   * Applies the retention as of `now` (ms): makes sure the partitions of today and the next two
   * days exist (so scrapes never wait on DDL), drops the partitions of days that ended more than
   * `maxAgeMs` ago, deletes old errors and resolved alerts, and collects groups that no kept
   * snapshot can refer to. True once done; false when a partition could not be dropped yet
   * (a lock held by a long reader), to be retried at the next call.
   */
  async prune(now: number): Promise<boolean> {
    const r = this.retention;
    return this.withClient(async (c) => {
      const today = Math.floor(now / DAY);
      for (let d = today; d <= today + 2; d++) if (!this.days.has(d)) await this.ensureDay(c, d);
      const parts = await this.partitions(c);
      let done = true;
      for (const day of parts) {
        if ((day + 1) * DAY > now - r.maxAgeMs) continue;
        try {
          await c.query(`DROP TABLE IF EXISTS ${partitionName(day)}`);
          this.days.delete(day);
        } catch (err) {
          if ((err as { code?: string }).code !== '55P03') throw err; // lock_timeout
          done = false;
        }
      }
      await c.query('DELETE FROM errors WHERE at < $1', [now - r.errorsMs]);
      await c.query(
        `DELETE FROM alerts WHERE at_ms < $1 AND id NOT IN (
           SELECT id FROM (SELECT DISTINCT ON (key) id, type FROM alerts ORDER BY key, id DESC) a
           WHERE type = 'alert')`,
        [now - r.alertsMs],
      );
      // A group's last_seen lags its last sighting by at most an hour (lw_add_scrape).
      const kept = (await this.partitions(c))[0];
      if (kept !== undefined)
        await c.query('DELETE FROM groups WHERE last_seen < $1', [kept * DAY - HOUR]);
      return done;
    });
  }

  /** The days that have a partition, oldest first. */
  private async partitions(c: pg.PoolClient): Promise<number[]> {
    const r = await c.query<{ name: string }>(
      `SELECT k.relname AS name FROM pg_inherits i
       JOIN pg_class p ON p.oid = i.inhparent JOIN pg_namespace n ON n.oid = p.relnamespace
       JOIN pg_class k ON k.oid = i.inhrelid
       WHERE p.relname = 'snapshots' AND n.nspname = $1`,
      [this.schema],
    );
    return r.rows
      .map((x) => dayOfPartition(x.name))
      .filter((d): d is number => d !== undefined)
      .sort((a, b) => a - b);
  }

  /** Bytes of leakwatch's tables and indexes in this schema, and the partitions (oldest first). */
  async stats(): Promise<{ bytes: number; snapshotBytes: number; days: number[] }> {
    return this.withClient(async (c) => {
      const r = await c.query<{ bytes: number | null; snap: number | null }>(
        `SELECT sum(pg_total_relation_size(c.oid))::bigint AS bytes,
           sum(pg_total_relation_size(c.oid)) FILTER (WHERE c.relname LIKE 'snapshots_p%')::bigint AS snap
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname = $1 AND c.relkind = 'r'`,
        [this.schema],
      );
      return {
        bytes: r.rows[0]?.bytes ?? 0,
        snapshotBytes: r.rows[0]?.snap ?? 0,
        days: await this.partitions(c),
      };
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([this.pool.end(), this.control?.end()]);
  }

  private async query<R extends pg.QueryResultRow>(
    text: string,
    values: unknown[],
    name?: string,
  ): Promise<R[]> {
    return this.withClient(async (c) => {
      const r = await c.query<R>(name ? { name, text, values } : { text, values });
      return r.rows;
    });
  }

  /**
   * Runs `work` on a pooled connection. Fails at once (one line) while the server is known to
   * be unreachable and the retry time has not come; a connection error sets the next retry
   * time (backing off) and destroys the connection instead of returning it to the pool.
   */
  private async withClient<T>(
    work: (c: pg.PoolClient) => Promise<T>,
    pool = this.pool,
  ): Promise<T> {
    if (this.closed) throw new Error(`${this.where}: the store is closed`);
    const wait = this.retryAt - Date.now();
    if (wait > 0)
      throw new Error(
        `${this.where}: unreachable (${this.lastFailure}); next attempt in ${Math.ceil(wait / 100) / 10} s`,
      );
    let c: pg.PoolClient;
    try {
      c = await pool.connect();
    } catch (err) {
      this.failed(err);
      throw new Error(`${this.where}: cannot connect (${oneLine(messageOf(err))})`);
    }
    // The pool listens for errors on idle connections only: a connection that dies between two
    // statements of `work` would otherwise emit an unhandled 'error' and end the process.
    let broken: Error | undefined;
    const onError = (err: Error): void => {
      broken = err;
    };
    c.on('error', onError);
    try {
      const out = await work(c);
      c.removeListener('error', onError);
      c.release(broken);
      this.backoff = 0;
      this.retryAt = 0;
      return out;
    } catch (err) {
      c.removeListener('error', onError);
      const lost = broken !== undefined || isConnectionError(err);
      // A connection that failed or timed out mid-statement is in an unknown state: destroy it.
      c.release(lost ? (broken ?? (err as Error)) : undefined);
      if (lost) this.failed(err);
      if (err instanceof UserError) throw err;
      const e = new Error(`${this.where}: ${oneLine(messageOf(err))}`);
      (e as { code?: unknown }).code = (err as { code?: unknown }).code;
      throw e;
    }
  }

  private failed(err: unknown): void {
    this.backoff = Math.min(BACKOFF_MAX_MS, this.backoff === 0 ? BACKOFF_MIN_MS : this.backoff * 2);
    this.retryAt = Date.now() + this.backoff;
    this.lastFailure = oneLine(messageOf(err));
  }
}

/** A connection-level failure (as opposed to a statement the server refused). */
function isConnectionError(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string') {
    // Class 08: connection exception; 57P01-03: shutdown, crash, cannot connect now.
    if (code.startsWith('08') || /^57P0[1-3]$/.test(code)) return true;
    if (/^E[A-Z]+$/.test(code)) return true; // ECONNRESET, ECONNREFUSED, EPIPE, ETIMEDOUT...
  }
  return /Connection terminated|Query read timeout|timeout exceeded when trying to connect/i.test(
    messageOf(err),
  );
}

function isCount(n: unknown): boolean {
  return typeof n === 'number' && Number.isSafeInteger(n) && n >= 0 && n <= 0x7fffffff;
}

/** A query bound in ms: the API passes Infinity for "no bound". */
function ms(t: number): number {
  if (Number.isNaN(t)) throw new Error('a time bound is NaN');
  return Math.max(-8.64e15, Math.min(8.64e15, Math.round(t)));
}

function partitionName(day: number): string {
  const d = new Date(day * DAY);
  const ymd = d.toISOString().slice(0, 10).replaceAll('-', '');
  return `snapshots_p${ymd}`;
}

function dayOfPartition(name: string): number | undefined {
  const m = /^snapshots_p(\d{4})(\d{2})(\d{2})$/.exec(name);
  if (!m) return undefined;
  return Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])) / DAY;
}

function oneLine(s: string): string {
  return s.replace(/\s*\n\s*/g, ' ').trim();
}

/**
 * PostgreSQL text and jsonb cannot hold U+0000, nor JSON a lone surrogate: a hostile target's
 * frame must not make a scrape unwritable (the spool would retry it forever), so those become
 * U+FFFD. Everything else is kept as given.
 */
function clean(s: string): string {
  return s.replace(
    // eslint-disable-next-line no-control-regex -- U+0000 is exactly what must not reach the server
    /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g,
    '\uFFFD',
  );
}

function cleanJson(x: unknown): unknown {
  if (typeof x === 'string') return clean(x);
  if (Array.isArray(x)) return x.map(cleanJson);
  if (typeof x === 'object' && x !== null)
    return Object.fromEntries(Object.entries(x).map(([k, v]) => [clean(k), cleanJson(v)]));
  return x;
}

/** The stored form of a frame: exactly its four fields. */
function frameJson(f: Frame): Frame {
  return { func: clean(f.func), pkg: clean(f.pkg), file: clean(f.file), line: f.line };
}

function infoJson(i: GroupInfo): Record<string, unknown> {
  return {
    id: clean(i.id),
    frames: i.frames.map(frameJson),
    holder: i.holder ? frameJson(i.holder) : undefined,
    holderOwner: i.holderOwner,
    createdBy: i.createdBy ? frameJson(i.createdBy) : undefined,
    blockedOn: clean(i.blockedOn),
    idle: i.idle === undefined ? undefined : clean(i.idle),
  };
}

/** The values of an alerts row, in the column order of addAlert and lw_add_alert_once. */
function alertValues(e: AlertEvent): unknown[] {
  const atMs = Date.parse(e.at);
  return [
    clean(e.key),
    e.type,
    clean(e.target),
    clean(e.detector),
    clean(e.at),
    Number.isFinite(atMs) ? atMs : Date.now(),
    clean(e.summary),
    e.group ? clean(e.group.id) : null,
    e.group?.holder ? JSON.stringify(frameJson(e.group.holder)) : null,
    e.group?.createdBy ? JSON.stringify(frameJson(e.group.createdBy)) : null,
    e.group ? clean(e.group.blockedOn) : null,
    e.group?.count ?? null,
    JSON.stringify(cleanJson(e.evidence ?? {})),
    JSON.stringify(cleanJson(e.labels ?? {})),
  ];
}
