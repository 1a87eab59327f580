// A study storage in one SQLite file (better-sqlite3), for workers on one machine. The file is in WAL mode (readers
// never wait for the writer), waits `busyTimeoutMs` for a lock, and every write is one `BEGIN IMMEDIATE` transaction:
// it takes the write lock before reading, so two workers never both hold a read lock and then ask to write — the
// deadlock SQLite answers with an immediate SQLITE_BUSY, Optuna's "database is locked". What still finds the file
// busy past the timeout is retried with jittered backoff, then ends in INSIGHT_E_STORAGE pointing to PostgreSQL.
// Times come from SQLite's clock (ISO 8601 UTC, ms), one clock for every worker on the machine. A file of schema
// version 1 is migrated to version 2 (trials.state accepts 'paused') when opened: trials is rebuilt by SQLite's
// documented procedure under the write lock, every row kept; two workers opening it at once migrate it once.
import * as fs from 'node:fs';
import * as path from 'node:path';

import Database from 'better-sqlite3';

import { ruleError } from '../errors';
import {
  SCHEMA_FORMAT, SCHEMA_VERSION, STATE_CHECK, WORKER_LOST, checkFinishState, checkFinite, checkJoin, checkSpec, checkStep, knownSchema,
  noStudy, noTrial, schemaError, studyOf, trialOf, type StudyRow, type TrialRow,
} from './records';
import { withRetry, type RetryPolicy } from './retry';
import type { CreateStudyOptions, StudyStorage } from './storage';
import type { IntermediateValue, Params, StudyRecord, StudySpec, TrialRecord, TrialState } from './types';

/** The trials table under `name` (the migration builds it as trials_v2, then renames it); retry_of refers to trials. */
const trialsTable = (name: string) => `CREATE TABLE ${name} (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  study_id INTEGER NOT NULL REFERENCES studies (id) ON DELETE CASCADE,
  number INTEGER NOT NULL,
  state TEXT NOT NULL CHECK (${STATE_CHECK}),
  params TEXT NOT NULL,
  value REAL,
  run_dir TEXT,
  worker_id TEXT,
  retry_of INTEGER REFERENCES trials (id),
  error TEXT,
  created_at TEXT NOT NULL,
  started_at TEXT,
  finished_at TEXT,
  heartbeat_at TEXT,
  UNIQUE (study_id, number)
)`;
const TRIAL_COLUMNS = 'id, study_id, number, state, params, value, run_dir, worker_id, retry_of, error, created_at, started_at, finished_at, heartbeat_at';
const TRIALS_INDEX = 'CREATE INDEX trials_by_state ON trials (study_id, state, number)';

/** The tables (version SCHEMA_VERSION). JSON columns hold JSON text; times are ISO 8601 UTC text. */
const SQLITE_SCHEMA = `
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE studies (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  name TEXT NOT NULL UNIQUE,
  metric TEXT NOT NULL,
  direction TEXT NOT NULL CHECK (direction IN ('maximize', 'minimize')),
  space TEXT NOT NULL,
  sampler TEXT NOT NULL,
  pruner TEXT NOT NULL,
  max_trials INTEGER NOT NULL CHECK (max_trials >= 1),
  base_config TEXT NOT NULL,
  created_at TEXT NOT NULL
);
${trialsTable('trials')};
${TRIALS_INDEX};
CREATE TABLE trial_values (
  trial_id INTEGER NOT NULL REFERENCES trials (id) ON DELETE CASCADE,
  step INTEGER NOT NULL,
  value REAL NOT NULL,
  PRIMARY KEY (trial_id, step)
);
`;

/** SQLite's clock as JSON's Date format: 2026-12-02T00:53:47.123Z. */
const NOW = "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')";

export interface SqliteStorageOptions {
  /** How long one statement waits for another worker's lock (SQLite's busy_timeout). Default 10 s. */
  busyTimeoutMs?: number;
  /** Backoff and tries after the busy timeout ran out. Default 5 retries, 50 ms doubling to 2 s. */
  retry?: RetryPolicy;
}

const DEFAULT_RETRY: RetryPolicy = { retries: 5, baseMs: 50, capMs: 2000 };

const code = (error: unknown) => String((error as { code?: unknown }).code ?? '');
/** SQLITE_BUSY, SQLITE_LOCKED and their extended codes (SQLITE_BUSY_SNAPSHOT, SQLITE_LOCKED_SHAREDCACHE, ...). */
const isBusy = (error: unknown) => /^SQLITE_(BUSY|LOCKED)/.test(code(error));

export class SqliteStudyStorage implements StudyStorage {
  readonly url: string;
  private readonly policy: RetryPolicy;

  private constructor(private readonly db: Database.Database, readonly file: string, private readonly busyTimeoutMs: number, policy: RetryPolicy) {
    this.url = `sqlite:${file}`;
    this.policy = policy;
  }

  /** Opens `file` (creating it, its folder and the tables as needed). */
  static async open(file: string, options: SqliteStorageOptions = {}): Promise<SqliteStudyStorage> {
    const absolute = path.resolve(file);
    const url = `sqlite:${absolute}`;
    const cannot = (rule: string, error: unknown) => ruleError('INSIGHT_E_STORAGE', rule, { storage: url, error: code(error) || (error as Error).message },
      'Pass --storage sqlite:<file> with a file path in a folder you can write (or a PostgreSQL URL).', { cause: error });
    if (fs.existsSync(absolute) && fs.statSync(absolute).isDirectory()) {
      throw ruleError('INSIGHT_E_STORAGE', 'A SQLite study storage must be a file, not a folder.', { storage: url },
        `Name a file, e.g. --storage sqlite:${path.join(absolute, 'study.db')}.`);
    }
    try {
      fs.mkdirSync(path.dirname(absolute), { recursive: true });
    } catch (error) {
      throw cannot('The folder of a SQLite study storage must exist or be creatable.', error);
    }
    const busyTimeoutMs = options.busyTimeoutMs ?? 10_000;
    let db: Database.Database;
    try {
      db = new Database(absolute, { timeout: busyTimeoutMs });
    } catch (error) {
      throw cannot('A SQLite study storage must be a file this process can create, read and write.', error);
    }
    const storage = new SqliteStudyStorage(db, absolute, busyTimeoutMs, options.retry ?? DEFAULT_RETRY);
    try {
      await storage.retrying('open', () => db.pragma('journal_mode = WAL'));
      await storage.migrate();
      db.pragma('foreign_keys = ON');
    } catch (error) {
      db.close();
      if (isBusy(error) || (error as { code?: string }).code === 'INSIGHT_E_STORAGE') throw error;
      if (code(error) === 'SQLITE_NOTADB') {
        throw ruleError('INSIGHT_E_STORAGE', 'A SQLite study storage must be a SQLite database file.', { storage: url },
          'Name a new file (it is created) or one an earlier `insight tune` wrote.', { cause: error });
      }
      throw cannot('A SQLite study storage must be a file this process can create, read and write.', error);
    }
    return storage;
  }

  /**
   * Creates the tables in an empty file, or migrates an older version in place; refuses another program's tables and
   * a newer schema. Runs with foreign keys off (PRAGMA foreign_keys is a no-op inside a transaction, so it is set
   * before): the migration drops trials, which with them on would first delete every trial_values row (cascade).
   */
  private async migrate(): Promise<void> {
    const read = () => {
      const hasMeta = this.db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'").get() !== undefined;
      const rows = hasMeta ? this.db.prepare('SELECT key, value FROM meta').all() as { key: string; value: string }[] : [];
      const meta = new Map(rows.map((r) => [r.key, r.value]));
      const tables = (this.db.prepare("SELECT count(*) AS n FROM sqlite_master WHERE type = 'table' AND name IN ('studies', 'trials', 'trial_values')").get() as { n: number }).n;
      return { hasMeta, format: meta.get('format'), version: meta.has('version') ? Number(meta.get('version')) : undefined, tables };
    };
    const check = (state: ReturnType<typeof read>) => {
      if (state.hasMeta && !knownSchema(state.format, state.version)) throw schemaError(this.url, state.format, state.version);
      if (!state.hasMeta && state.tables > 0) throw schemaError(this.url, undefined, undefined);
    };
    const now = await this.retrying('open', read);
    check(now);
    if (now.version === SCHEMA_VERSION) return;
    this.db.pragma('foreign_keys = OFF');
    await this.write('open', () => {
      const again = read(); // another worker may have created or migrated the tables meanwhile
      check(again);
      if (again.version === SCHEMA_VERSION) return;
      if (!again.hasMeta) {
        this.db.exec(SQLITE_SCHEMA);
        this.db.prepare("INSERT INTO meta (key, value) VALUES ('format', ?), ('version', ?)").run(SCHEMA_FORMAT, String(SCHEMA_VERSION));
        return;
      }
      this.migrateFrom1(); // version 1, the only older one
    });
  }

  /**
   * Version 1 → 2, inside the write transaction, foreign keys off: trials.state's CHECK accepts 'paused'. SQLite cannot
   * alter a CHECK, so trials is rebuilt as its documentation says (lang_altertable.html, "Making Other Kinds Of Table
   * Schema Changes"): create trials_v2, copy every row (ids kept), drop trials, rename trials_v2, recreate the index,
   * check the foreign keys. AUTOINCREMENT's high-water mark is carried over, so no trial id is ever reused.
   */
  private migrateFrom1(): void {
    const sequence = this.db.prepare("SELECT seq FROM sqlite_sequence WHERE name = 'trials'").get() as { seq: number } | undefined;
    this.db.exec(`${trialsTable('trials_v2')};
      INSERT INTO trials_v2 (${TRIAL_COLUMNS}) SELECT ${TRIAL_COLUMNS} FROM trials;
      DROP TABLE trials;
      ALTER TABLE trials_v2 RENAME TO trials;
      ${TRIALS_INDEX};`);
    if (sequence !== undefined && this.db.prepare("UPDATE sqlite_sequence SET seq = max(seq, ?) WHERE name = 'trials'").run(sequence.seq).changes === 0) {
      this.db.prepare("INSERT INTO sqlite_sequence (name, seq) VALUES ('trials', ?)").run(sequence.seq);
    }
    const broken = this.db.pragma('foreign_key_check') as unknown[];
    if (broken.length > 0) {
      throw ruleError('INSIGHT_E_STORAGE', 'A study storage migrated to a new schema version must keep every reference between its rows.',
        { storage: this.url, from: 1, to: SCHEMA_VERSION, brokenReferences: broken.length },
        'The file was left unchanged (version 1): check it with `sqlite3 <file> "PRAGMA foreign_key_check"`, or start a new study storage.');
    }
    this.db.prepare("UPDATE meta SET value = ? WHERE key = 'version'").run(String(SCHEMA_VERSION));
  }

  private retrying<T>(operation: string, attempt: () => T): Promise<T> {
    return withRetry(attempt, isBusy, this.policy, ({ error, attempts, waitedMs }) => ruleError('INSIGHT_E_STORAGE',
      'The SQLite study storage stayed locked by other writers past its busy timeout and retries.',
      { storage: this.url, operation, attempts, busyTimeoutMs: this.busyTimeoutMs, waitedMs, error: code(error) },
      'SQLite suits a few workers on one machine: for many workers, or workers on several machines, use PostgreSQL ' +
      '(--storage postgres://user:password@host:5432/database). Check too that no other program keeps the file in a long transaction.',
      { cause: error }));
  }

  /** One write transaction that holds the write lock from its start (BEGIN IMMEDIATE). */
  private write<T>(operation: string, body: () => T): Promise<T> {
    return this.retrying(operation, () => this.db.transaction(body).immediate());
  }

  /** One read transaction: its statements see one snapshot (WAL: never waits for the writer). */
  private read<T>(operation: string, body: () => T): Promise<T> {
    return this.retrying(operation, () => this.db.transaction(body).deferred());
  }

  async createStudy(spec: StudySpec, options: CreateStudyOptions = {}): Promise<StudyRecord> {
    checkSpec(spec);
    const record = await this.write('createStudy', () => {
      const existing = this.studyRow(spec.name);
      if (existing) return studyOf(existing); // joined: its trials, enqueued or not, are its creator's business
      const { lastInsertRowid } = this.db.prepare(`INSERT INTO studies (name, metric, direction, space, sampler, pruner, max_trials, base_config, created_at)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ${NOW})`).run(spec.name, spec.metric, spec.direction, JSON.stringify(spec.space ?? null),
        JSON.stringify(spec.sampler ?? {}), JSON.stringify(spec.pruner ?? {}), spec.maxTrials, JSON.stringify(spec.baseConfig ?? {}));
      const created = studyOf(this.db.prepare('SELECT * FROM studies WHERE id = ?').get(lastInsertRowid) as StudyRow);
      // In the creating transaction (BEGIN IMMEDIATE): a worker creating the study at the same moment waits for it, then joins.
      for (const params of (options.enqueue ?? []).slice(0, spec.maxTrials)) this.insertTrial(created.id, params, 'waiting', null, null);
      return created;
    });
    checkJoin(record, spec, this.url);
    return record;
  }

  private studyRow(name: string): StudyRow | undefined {
    return this.db.prepare('SELECT * FROM studies WHERE name = ?').get(name) as StudyRow | undefined;
  }

  async getStudy(name: string): Promise<StudyRecord | null> {
    const row = await this.retrying('getStudy', () => this.studyRow(name));
    return row ? studyOf(row) : null;
  }

  async listStudies(): Promise<StudyRecord[]> {
    const rows = await this.retrying('listStudies', () => this.db.prepare('SELECT * FROM studies ORDER BY id').all() as StudyRow[]);
    return rows.map(studyOf);
  }

  claimWaitingTrial(studyId: number, workerId: string): Promise<TrialRecord | null> {
    return this.write('claimWaitingTrial', () => {
      // This claim made again (storage.ts): the trial the worker claimed from waiting and has not heartbeated since.
      const held = this.db.prepare(`SELECT * FROM trials WHERE study_id = ? AND state = 'running' AND worker_id = ?
        AND heartbeat_at = started_at AND started_at > created_at ORDER BY number LIMIT 1`).get(studyId, workerId) as TrialRow | undefined;
      const row = held ?? this.db.prepare(`UPDATE trials SET state = 'running', worker_id = ?, started_at = ${NOW}, heartbeat_at = ${NOW}
        WHERE id = (SELECT id FROM trials WHERE study_id = ? AND state = 'waiting' ORDER BY number LIMIT 1) RETURNING *`)
        .get(workerId, studyId) as TrialRow | undefined;
      return row ? this.withValues(row) : null;
    });
  }

  createTrial(studyId: number, params: Params, workerId: string): Promise<TrialRecord | null> {
    return this.write('createTrial', () => {
      const study = this.db.prepare('SELECT max_trials FROM studies WHERE id = ?').get(studyId) as { max_trials: number } | undefined;
      if (!study) throw noStudy(this.url, studyId);
      // This creation made again (storage.ts): the running trial the worker holds with these params, before the budget.
      const held = this.db.prepare(`SELECT * FROM trials WHERE study_id = ? AND state = 'running' AND worker_id = ? AND params = ?
        ORDER BY number LIMIT 1`).get(studyId, workerId, JSON.stringify(params)) as TrialRow | undefined;
      if (held) return this.withValues(held);
      const { counted } = this.db.prepare("SELECT count(*) AS counted FROM trials WHERE study_id = ? AND state != 'failed'").get(studyId) as { counted: number };
      if (counted >= study.max_trials) return null;
      return this.insertTrial(studyId, params, 'running', workerId, null);
    });
  }

  enqueueTrial(studyId: number, params: Params, retryOf: number | null = null): Promise<TrialRecord> {
    return this.write('enqueueTrial', () => {
      if (this.db.prepare('SELECT 1 FROM studies WHERE id = ?').get(studyId) === undefined) throw noStudy(this.url, studyId);
      // A trial is retried once: this retry enqueued again (storage.ts) returns the first.
      const retry = retryOf === null ? undefined : this.db.prepare('SELECT * FROM trials WHERE study_id = ? AND retry_of = ? ORDER BY number LIMIT 1')
        .get(studyId, retryOf) as TrialRow | undefined;
      return retry ? this.withValues(retry) : this.insertTrial(studyId, params, 'waiting', null, retryOf);
    });
  }

  /** Inside a write transaction: the study's next trial number. */
  private insertTrial(studyId: number, params: Params, state: 'running' | 'waiting', workerId: string | null, retryOf: number | null): TrialRecord {
    const running = state === 'running';
    return trialOf(this.db.prepare(`INSERT INTO trials (study_id, number, state, params, worker_id, retry_of, created_at, started_at, heartbeat_at)
      VALUES (?, (SELECT COALESCE(MAX(number) + 1, 0) FROM trials WHERE study_id = ?), ?, ?, ?, ?, ${NOW},
        ${running ? NOW : 'NULL'}, ${running ? NOW : 'NULL'}) RETURNING *`)
      .get(studyId, studyId, state, JSON.stringify(params), workerId, retryOf) as TrialRow);
  }

  async reportIntermediate(trialId: number, step: number, value: number): Promise<void> {
    checkStep(step, trialId);
    checkFinite('intermediate value', value, trialId);
    await this.write('reportIntermediate', () => {
      const trial = this.db.prepare('SELECT state FROM trials WHERE id = ?').get(trialId) as { state: TrialState } | undefined;
      if (!trial) throw noTrial(this.url, trialId);
      if (trial.state !== 'running') return; // the trial was declared lost (or finished): its late reports count for nothing
      this.db.prepare('INSERT INTO trial_values (trial_id, step, value) VALUES (?, ?, ?) ON CONFLICT (trial_id, step) DO UPDATE SET value = excluded.value')
        .run(trialId, step, value);
    });
  }

  heartbeat(trialId: number, workerId: string, runDir?: string): Promise<boolean> {
    return this.write('heartbeat', () => this.db.prepare(`UPDATE trials SET heartbeat_at = ${NOW}, run_dir = COALESCE(?, run_dir)
      WHERE id = ? AND state = 'running' AND worker_id = ?`).run(runDir ?? null, trialId, workerId).changes === 1);
  }

  async finishTrial(trialId: number, workerId: string, state: Exclude<TrialState, 'waiting' | 'running' | 'paused'>, value: number | null, error?: string): Promise<boolean> {
    checkFinishState(state, trialId);
    checkFinite('value', value, trialId);
    // Also true when this worker already finished it so (this call made again, storage.ts): the first finish's time kept.
    return this.write('finishTrial', () => this.db.prepare(`UPDATE trials SET state = @state, value = @value, error = @error,
        finished_at = CASE WHEN state = 'running' THEN ${NOW} ELSE finished_at END
      WHERE id = @trialId AND worker_id = @workerId AND (state = 'running' OR (state = @state AND value IS @value AND error IS @error))`)
      .run({ state, value, error: error ?? null, trialId, workerId }).changes === 1);
  }

  async pauseTrial(trialId: number, workerId: string, value: number): Promise<boolean> {
    checkFinite('value', value, trialId);
    // No heartbeat: nobody trains it, so the stale sweep (running trials only) never declares it lost; worker_id says
    // who paused it. Also true when this worker already paused it with this value (this call made again, storage.ts).
    return this.write('pauseTrial', () => this.db.prepare(`UPDATE trials SET state = 'paused', value = @value, heartbeat_at = NULL
      WHERE id = @trialId AND worker_id = @workerId AND (state = 'running' OR (state = 'paused' AND value = @value))`)
      .run({ value, trialId, workerId }).changes === 1);
  }

  prunePausedTrial(trialId: number, workerId: string): Promise<TrialRecord | null> {
    return this.write('prunePausedTrial', () => {
      const row = this.db.prepare(`UPDATE trials SET state = 'pruned', worker_id = ?, finished_at = ${NOW}
        WHERE id = ? AND state = 'paused' RETURNING *`).get(workerId, trialId) as TrialRow | undefined;
      return row ? this.withValues(row) : null;
    });
  }

  claimPausedTrial(trialId: number, workerId: string): Promise<TrialRecord | null> {
    // started_at stays the first start; value goes back to null (a running trial's, until it finishes). Already
    // running held by this worker: this claim made again (storage.ts), the trial returned as it is.
    return this.write('claimPausedTrial', () => {
      const row = this.db.prepare(`UPDATE trials SET state = 'running', worker_id = ?, value = NULL, heartbeat_at = ${NOW}
        WHERE id = ? AND state = 'paused' RETURNING *`).get(workerId, trialId) as TrialRow | undefined
        ?? this.db.prepare("SELECT * FROM trials WHERE id = ? AND state = 'running' AND worker_id = ?").get(trialId, workerId) as TrialRow | undefined;
      return row ? this.withValues(row) : null;
    });
  }

  async failStaleTrials(studyId: number, staleSeconds: number): Promise<TrialRecord[]> {
    if (!(staleSeconds >= 0)) throw ruleError('INSIGHT_E_CONFIG', 'staleSeconds must be a number >= 0.', { staleSeconds }, 'Pass e.g. 60.');
    return this.write('failStaleTrials', () => {
      const lost = this.db.prepare(`UPDATE trials SET state = 'failed', error = ?, finished_at = ${NOW}
        WHERE study_id = ? AND state = 'running' AND heartbeat_at < strftime('%Y-%m-%dT%H:%M:%fZ', 'now', ?) RETURNING *`)
        .all(`${WORKER_LOST} for ${staleSeconds} s`, studyId, `-${staleSeconds} seconds`) as TrialRow[];
      lost.sort((a, b) => a.number - b.number);
      for (const trial of lost) this.insertTrial(studyId, JSON.parse(trial.params as string) as Params, 'waiting', null, trial.id);
      return lost.map((row) => this.withValues(row));
    });
  }

  trials(studyId: number, states?: readonly TrialState[]): Promise<TrialRecord[]> {
    return this.read('trials', () => {
      const only = states === undefined ? '' : `AND state IN (${states.map(() => '?').join(', ') || "''"})`;
      const rows = this.db.prepare(`SELECT * FROM trials WHERE study_id = ? ${only} ORDER BY number`).all(studyId, ...(states ?? [])) as TrialRow[];
      const values = this.db.prepare(`SELECT v.trial_id, v.step, v.value FROM trial_values v JOIN trials t ON t.id = v.trial_id
        WHERE t.study_id = ? ${only.replace('state', 't.state')} ORDER BY v.trial_id, v.step`).all(studyId, ...(states ?? [])) as { trial_id: number; step: number; value: number }[];
      const byTrial = new Map<number, IntermediateValue[]>();
      for (const { trial_id: id, step, value } of values) {
        if (!byTrial.has(id)) byTrial.set(id, []);
        byTrial.get(id)!.push({ step, value });
      }
      return rows.map((row) => trialOf(row, byTrial.get(row.id) ?? []));
    });
  }

  trial(trialId: number): Promise<TrialRecord | null> {
    return this.read('trial', () => {
      const row = this.db.prepare('SELECT * FROM trials WHERE id = ?').get(trialId) as TrialRow | undefined;
      return row ? this.withValues(row) : null;
    });
  }

  /** Inside a transaction: the record of `row` with its intermediate values. */
  private withValues(row: TrialRow): TrialRecord {
    return trialOf(row, this.db.prepare('SELECT step, value FROM trial_values WHERE trial_id = ? ORDER BY step').all(row.id) as IntermediateValue[]);
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}
