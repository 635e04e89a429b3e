/**
 * The schema of a leakwatch SQLite database, as an ordered list of migrations from an empty file.
 *
 * A file is ours when its `application_id` header field says `LKWT`; its schema version is the
 * largest row of `schema_version` (mirrored in `user_version`). Migration N runs in one
 * transaction with the row that records it, so a crash mid-migration leaves version N-1 intact.
 * Never edit a migration that has shipped: append a new one.
 *
 * Layout (version 1), compact on purpose: a scrape is one `snapshots` row plus one
 * `group_counts` row per group, and both are written every 15 s for every target.
 *
 *   targets       id INTEGER PK, name UNIQUE                        interned target names
 *   groups        id INTEGER PK, gid TEXT UNIQUE (analysis groupId), user_frame, created_by,
 *                 blocked_on, stack (NULL: counts seen, no info yet), idle, first_seen,
 *                 last_seen (ms; kept to within an hour, for garbage collection)
 *   snapshots     id INTEGER PK, target → targets, at (ms), tier (0 full detail, 1 one per
 *                 medium bucket, 2 one per coarse bucket), total, source, duration_ms, heap_inuse
 *                 indexes: (target, at, total) covers totals() and series joins;
 *                          (tier, at) finds what retention must downsample next
 *   group_counts  (snapshot → snapshots ON DELETE CASCADE, grp → groups.id) PK, count, leaked;
 *                 WITHOUT ROWID: the primary key is the row, no second b-tree. Rows with count 0
 *                 are not stored (absent means 0). No declared foreign key on grp: SQLite would
 *                 scan the table to check one on every group deletion; retention collects
 *                 unreferenced groups through last_seen instead.
 *   errors        id PK, target → targets, at, message          indexes (target, at), (at)
 *   alerts        id PK, key, type, target, detector, at (ISO), at_ms, summary, group_* columns,
 *                 evidence (JSON), labels (JSON)              indexes (at_ms, id), (key, id)
 *
 * Version 2: frames are structured. groups.user_frame (the holding frame), created_by and stack
 * hold JSON ({func,pkg,file,line} and an array of them), and holder_owner says whose code the
 * holding frame is; alerts.group_user_frame and group_created_by hold JSON frames too. Infos
 * stored as text by version 1 are dropped (the next scrape learns them again). New tables:
 *
 *   group_waits   (snapshot → snapshots ON DELETE CASCADE, grp) PK, minutes: the longest wait
 *                 per group from a debug=2 dump; snapshots.has_waits marks the snapshots with any
 *   heap_sites    id PK, frame TEXT UNIQUE (JSON)             interned allocation sites
 *   heap_bytes    (snapshot → snapshots ON DELETE CASCADE, site) PK, bytes
 *   baselines     target PK → targets, since, normal_peak     what the peak detector learnt
 *   owner         one row: host, pid, started, heartbeat      the watcher that writes this file
 *
 * Version 3: targets.labels, the target's labels as last set (JSON object; NULL: none given).
 *
 * Version 4: wait-time distributions. snapshots.has_dump marks the scrapes that read a debug=2
 * dump (partial index snapshots_with_dumps on (target, at) finds them), and
 *
 *   wait_buckets  (snapshot → snapshots ON DELETE CASCADE, grp, bucket) PK, count: a group's
 *                 goroutines per wait bucket (src/watch/waits.ts WAIT_BUCKETS, by index) in
 *                 that dump; WITHOUT ROWID, empty buckets not stored
 */

/** `PRAGMA application_id` of a leakwatch database: 'LKWT'. */
export const APPLICATION_ID = 0x4c4b5754;

export const MIGRATIONS: readonly string[] = [
  // 1: the first schema.
  `
  CREATE TABLE schema_version (
    version INTEGER PRIMARY KEY,
    applied_at INTEGER NOT NULL
  );
  CREATE TABLE targets (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE
  );
  CREATE TABLE groups (
    id INTEGER PRIMARY KEY,
    gid TEXT NOT NULL UNIQUE,
    user_frame TEXT,
    created_by TEXT,
    blocked_on TEXT,
    stack TEXT,
    idle TEXT,
    first_seen INTEGER NOT NULL,
    last_seen INTEGER NOT NULL
  );
  CREATE TABLE snapshots (
    id INTEGER PRIMARY KEY,
    target INTEGER NOT NULL REFERENCES targets (id),
    at INTEGER NOT NULL,
    tier INTEGER NOT NULL DEFAULT 0,
    total INTEGER NOT NULL,
    source TEXT NOT NULL,
    duration_ms INTEGER NOT NULL,
    heap_inuse INTEGER
  );
  CREATE INDEX snapshots_by_target ON snapshots (target, at, total);
  CREATE INDEX snapshots_by_tier ON snapshots (tier, at);
  CREATE TABLE group_counts (
    snapshot INTEGER NOT NULL REFERENCES snapshots (id) ON DELETE CASCADE,
    grp INTEGER NOT NULL,
    count INTEGER NOT NULL,
    leaked INTEGER NOT NULL,
    PRIMARY KEY (snapshot, grp)
  ) WITHOUT ROWID;
  CREATE TABLE errors (
    id INTEGER PRIMARY KEY,
    target INTEGER NOT NULL REFERENCES targets (id),
    at INTEGER NOT NULL,
    message TEXT NOT NULL
  );
  CREATE INDEX errors_by_target ON errors (target, at);
  CREATE INDEX errors_by_at ON errors (at);
  CREATE TABLE alerts (
    id INTEGER PRIMARY KEY,
    key TEXT NOT NULL,
    type TEXT NOT NULL CHECK (type IN ('alert', 'resolved')),
    target TEXT NOT NULL,
    detector TEXT NOT NULL,
    at TEXT NOT NULL,
    at_ms INTEGER NOT NULL,
    summary TEXT NOT NULL,
    group_id TEXT,
    group_user_frame TEXT,
    group_created_by TEXT,
    group_blocked_on TEXT,
    group_count INTEGER,
    evidence TEXT NOT NULL,
    labels TEXT NOT NULL
  );
  CREATE INDEX alerts_by_at ON alerts (at_ms, id);
  CREATE INDEX alerts_by_key ON alerts (key, id);
  `,
  // 2: structured frames; waits, heap sites, baselines and the owner kept for restarts.
  `
  UPDATE groups SET user_frame = NULL, created_by = NULL, stack = NULL;
  ALTER TABLE groups ADD COLUMN holder_owner TEXT;
  UPDATE alerts SET group_user_frame = NULL, group_created_by = NULL;
  ALTER TABLE snapshots ADD COLUMN has_waits INTEGER NOT NULL DEFAULT 0;
  CREATE TABLE group_waits (
    snapshot INTEGER NOT NULL REFERENCES snapshots (id) ON DELETE CASCADE,
    grp INTEGER NOT NULL,
    minutes INTEGER NOT NULL,
    PRIMARY KEY (snapshot, grp)
  ) WITHOUT ROWID;
  CREATE TABLE heap_sites (
    id INTEGER PRIMARY KEY,
    frame TEXT NOT NULL UNIQUE
  );
  CREATE TABLE heap_bytes (
    snapshot INTEGER NOT NULL REFERENCES snapshots (id) ON DELETE CASCADE,
    site INTEGER NOT NULL,
    bytes INTEGER NOT NULL,
    PRIMARY KEY (snapshot, site)
  ) WITHOUT ROWID;
  CREATE TABLE baselines (
    target INTEGER PRIMARY KEY REFERENCES targets (id),
    since INTEGER NOT NULL,
    normal_peak INTEGER
  );
  CREATE TABLE owner (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    host TEXT NOT NULL,
    pid INTEGER NOT NULL,
    started INTEGER NOT NULL,
    heartbeat INTEGER NOT NULL
  );
  `,
  // 3: a target's labels (service discovery), kept with its history.
  `
  ALTER TABLE targets ADD COLUMN labels TEXT;
  `,
  // 4: goroutines per wait bucket, per group, of each debug=2 dump.
  `
  ALTER TABLE snapshots ADD COLUMN has_dump INTEGER NOT NULL DEFAULT 0;
  CREATE INDEX snapshots_with_dumps ON snapshots (target, at) WHERE has_dump = 1;
  CREATE TABLE wait_buckets (
    snapshot INTEGER NOT NULL REFERENCES snapshots (id) ON DELETE CASCADE,
    grp INTEGER NOT NULL,
    bucket INTEGER NOT NULL,
    count INTEGER NOT NULL,
    PRIMARY KEY (snapshot, grp, bucket)
  ) WITHOUT ROWID;
  `,
];

/** The schema version this build writes. */
export const SCHEMA_VERSION = MIGRATIONS.length;
