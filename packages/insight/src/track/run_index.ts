// The run index: <runs dir>/index.sqlite (better-sqlite3), one row per run directory with its hyperparameters
// (params table, one row per flattened config key), final and best metrics (metrics table) and tags, plus its name
// (--name) and kind (train, finetune) as columns, so runs can
// be filtered and sorted in SQL. The run directories are the truth and the index a cache of them: every refresh
// stats each run's tracked files and re-reads only runs whose mtime/size fingerprint changed, drops rows of
// deleted runs, and a deleted, corrupt or outdated index file is rebuilt from scratch. When the runs directory is
// read-only the index lives in memory for the session.
import * as fs from 'node:fs';
import * as path from 'node:path';

import Database from 'better-sqlite3';

import { ruleError } from '../errors';
import { RunDir, RUNS_INDEX_FILE } from '../run/run_dir';
import { paramText } from './flatten';
import { higherIsBetter } from './run_metrics';
import { resolveKey, sortsDescending, type Condition, type ResolvedKey, type RunQuery } from './run_query';
import { runFingerprint, summarizeRun, type RunSummary } from './run_summary';

/** Bump when the schema changes: an index with another version is rebuilt. */
const SCHEMA_VERSION = '2';

const SCHEMA = `
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE runs (
  id TEXT PRIMARY KEY,
  name TEXT,
  kind TEXT NOT NULL,
  dir TEXT NOT NULL,
  status TEXT NOT NULL,
  created TEXT NOT NULL,
  updated TEXT,
  epochs INTEGER NOT NULL,
  steps INTEGER NOT NULL,
  config TEXT NOT NULL,
  summary TEXT NOT NULL,
  fingerprint TEXT NOT NULL
);
CREATE TABLE params (run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE, key TEXT NOT NULL, value TEXT NOT NULL, num REAL,
  PRIMARY KEY (run_id, key));
CREATE TABLE metrics (run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE, name TEXT NOT NULL, final REAL, best REAL,
  PRIMARY KEY (run_id, name));
CREATE TABLE tags (run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE, tag TEXT NOT NULL, PRIMARY KEY (run_id, tag));
CREATE INDEX params_by_key ON params (key, value);
CREATE INDEX metrics_by_name ON metrics (name);
`;

export interface RefreshResult {
  added: string[];
  updated: string[];
  removed: string[];
}

/** Throws INSIGHT_E_RUNS_DIR unless `runsDir` is an existing directory. */
export function checkRunsDir(runsDir: string): void {
  let isDir = false;
  try {
    isDir = fs.statSync(runsDir).isDirectory();
  } catch {
    // missing: reported below
  }
  if (!isDir) {
    throw ruleError('INSIGHT_E_RUNS_DIR', 'The runs directory must be an existing directory.', { runsDir, exists: fs.existsSync(runsDir) },
      'Pass the directory `insight train` wrote runs into with --runs-dir (default: runs, relative to the working directory).');
  }
}

function numeric(text: string): number | null {
  return text.trim() !== '' && Number.isFinite(Number(text)) ? Number(text) : null;
}

export class RunIndex {
  private constructor(private readonly db: Database.Database, readonly runsDir: string, readonly file: string | null) {}

  /**
   * Opens (creating or rebuilding as needed) the index of `runsDir` and refreshes it. `warn` hears about a rebuilt
   * corrupt file or an in-memory fallback.
   */
  static open(runsDir: string, options: { warn?: (message: string) => void } = {}): RunIndex {
    checkRunsDir(runsDir);
    const warn = options.warn ?? (() => undefined);
    const file = path.join(runsDir, RUNS_INDEX_FILE);
    let db: Database.Database | null = null;
    try {
      db = RunIndex.openFile(file);
    } catch (error) {
      if ((error as { code?: string }).code === 'SQLITE_NOTADB' || (error as { code?: string }).code === 'SQLITE_CORRUPT') {
        warn(`${file} was not a valid SQLite database; rebuilt it from the run directories.`);
        for (const suffix of ['', '-wal', '-shm']) fs.rmSync(`${file}${suffix}`, { force: true });
        try {
          db = RunIndex.openFile(file);
        } catch {
          db = null;
        }
      }
      if (db === null) warn(`Cannot write ${file} (${(error as Error).message}); the run index is kept in memory for this session.`);
    }
    const index = new RunIndex(db ?? RunIndex.prepare(new Database(':memory:')), runsDir, db ? file : null);
    index.refresh();
    return index;
  }

  private static openFile(file: string): Database.Database {
    const db = new Database(file, { timeout: 5000 });
    try {
      db.pragma('journal_mode = WAL');
      return RunIndex.prepare(db);
    } catch (error) {
      db.close();
      throw error;
    }
  }

  /** Creates the schema, or rebuilds it when the stored version differs. */
  private static prepare(db: Database.Database): Database.Database {
    db.pragma('foreign_keys = ON');
    const hasMeta = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'").get();
    const version = hasMeta ? (db.prepare("SELECT value FROM meta WHERE key = 'schema'").get() as { value: string } | undefined)?.value : undefined;
    if (version !== SCHEMA_VERSION) {
      db.transaction(() => {
        for (const table of ['tags', 'metrics', 'params', 'runs', 'meta']) db.exec(`DROP TABLE IF EXISTS ${table}`);
        db.exec(SCHEMA);
        db.prepare("INSERT INTO meta (key, value) VALUES ('schema', ?)").run(SCHEMA_VERSION);
      })();
    }
    return db;
  }

  /** Brings the index up to date with the run directories (re-reading only changed runs). */
  refresh(): RefreshResult {
    checkRunsDir(this.runsDir);
    const dirs = fs.readdirSync(this.runsDir, { withFileTypes: true })
      .filter((entry) => entry.isDirectory() && !entry.name.startsWith('.') && RunDir.looksLikeRun(path.join(this.runsDir, entry.name)))
      .map((entry) => entry.name);
    const known = new Map((this.db.prepare('SELECT id, fingerprint FROM runs').all() as { id: string; fingerprint: string }[]).map((r) => [r.id, r.fingerprint]));
    const result: RefreshResult = { added: [], updated: [], removed: [] };
    const changed: { summary: RunSummary; fingerprint: string }[] = [];
    for (const id of dirs) {
      const dir = path.join(this.runsDir, id);
      const fingerprint = runFingerprint(dir);
      if (known.get(id) === fingerprint) continue;
      changed.push({ summary: summarizeRun(dir), fingerprint });
      (known.has(id) ? result.updated : result.added).push(id);
    }
    const present = new Set(dirs);
    result.removed = [...known.keys()].filter((id) => !present.has(id));
    if (changed.length === 0 && result.removed.length === 0) return result;
    this.db.transaction(() => {
      for (const id of result.removed) this.db.prepare('DELETE FROM runs WHERE id = ?').run(id);
      for (const { summary, fingerprint } of changed) this.store(summary, fingerprint);
    })();
    return result;
  }

  private store(run: RunSummary, fingerprint: string): void {
    this.db.prepare('DELETE FROM runs WHERE id = ?').run(run.id);
    this.db.prepare(`INSERT INTO runs (id, name, kind, dir, status, created, updated, epochs, steps, config, summary, fingerprint)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`).run(run.id, run.name, run.kind, run.dir, run.status, run.createdAt, run.updatedAt, run.epochs, run.steps,
      JSON.stringify(run.config), JSON.stringify(run), fingerprint);
    const param = this.db.prepare('INSERT INTO params (run_id, key, value, num) VALUES (?, ?, ?, ?)');
    for (const [key, value] of Object.entries(run.params)) param.run(run.id, key, paramText(value), typeof value === 'number' ? value : null);
    const metric = this.db.prepare('INSERT INTO metrics (run_id, name, final, best) VALUES (?, ?, ?, ?)');
    for (const name of new Set([...Object.keys(run.final), ...Object.keys(run.best)])) metric.run(run.id, name, run.final[name] ?? null, run.best[name] ?? null);
    const tag = this.db.prepare('INSERT INTO tags (run_id, tag) VALUES (?, ?)');
    for (const t of new Set(run.tags)) tag.run(run.id, t);
  }

  /** The hyperparameter keys and metric names of the indexed runs, sorted. */
  keys(): { params: string[]; metrics: string[] } {
    return {
      params: (this.db.prepare('SELECT DISTINCT key FROM params ORDER BY key').all() as { key: string }[]).map((r) => r.key),
      metrics: (this.db.prepare('SELECT DISTINCT name FROM metrics ORDER BY name').all() as { name: string }[]).map((r) => r.name),
    };
  }

  /** Runs matching `query`, in its order (default: newest first). Call refresh() first for fresh results. */
  list(query: RunQuery = {}): RunSummary[] {
    const known = this.keys();
    const clauses: string[] = [];
    const args: unknown[] = [];
    for (const condition of query.where ?? []) {
      const [sql, values] = conditionSql(resolveKey(condition.key, known), condition);
      clauses.push(sql);
      args.push(...values);
    }
    for (const tag of query.tags ?? []) {
      clauses.push('EXISTS (SELECT 1 FROM tags t WHERE t.run_id = runs.id AND t.tag = ?)');
      args.push(tag);
    }
    let order = 'runs.created DESC, runs.id DESC';
    const orderArgs: unknown[] = [];
    if (query.sort !== undefined) {
      const resolved = resolveKey(query.sort, known, '--sort');
      const direction = sortsDescending(resolved, higherIsBetter) !== Boolean(query.reverse) ? 'DESC' : 'ASC';
      const expressions = sortExpressions(resolved);
      // Runs without the key go last in either direction.
      order = `${expressions.map((e) => `(${e}) IS NULL, (${e}) ${direction}`).join(', ')}, ${order}`;
      const keyArg = resolved.kind === 'column' ? [] : [resolved.name];
      for (let i = 0; i < expressions.length; i++) orderArgs.push(...keyArg, ...keyArg);
    } else if (query.reverse) {
      order = 'runs.created ASC, runs.id ASC';
    }
    const limit = query.limit !== undefined ? ` LIMIT ${Math.max(0, Math.floor(query.limit))}` : '';
    const sql = `SELECT summary FROM runs ${clauses.length ? `WHERE ${clauses.join(' AND ')}` : ''} ORDER BY ${order}${limit}`;
    return (this.db.prepare(sql).all(...args, ...orderArgs) as { summary: string }[]).map((r) => JSON.parse(r.summary) as RunSummary);
  }

  /** The run with this exact id, or null. */
  get(id: string): RunSummary | null {
    const row = this.db.prepare('SELECT summary FROM runs WHERE id = ?').get(id) as { summary: string } | undefined;
    return row ? JSON.parse(row.summary) as RunSummary : null;
  }

  /** The run named by `ref`: an id, a run name (--name) that one run has, a unique id prefix, or a path ending in the run's directory. */
  resolve(ref: string): RunSummary {
    const id = path.basename(ref.replace(/[/\\]+$/, ''));
    const exact = this.get(id);
    if (exact) return exact;
    const named = (this.db.prepare('SELECT id FROM runs WHERE name = ? ORDER BY created DESC, id DESC').all(ref) as { id: string }[]).map((r) => r.id);
    if (named.length === 1) return this.get(named[0])!;
    if (named.length > 1) {
      throw ruleError('INSIGHT_E_RUN_NOT_FOUND', 'A run name must belong to exactly one run to name it.', { run: ref, runs: named.slice(0, 5) },
        'Give the run id (or a unique prefix) instead.');
    }
    const matches = (this.db.prepare('SELECT id FROM runs WHERE substr(id, 1, length(?)) = ? ORDER BY id').all(id, id) as { id: string }[]).map((r) => r.id);
    if (matches.length === 1) return this.get(matches[0])!;
    if (matches.length > 1) {
      throw ruleError('INSIGHT_E_RUN_NOT_FOUND', 'A run prefix must match exactly one run.', { run: ref, matches: matches.slice(0, 5) },
        'Give more characters of the run id.');
    }
    const some = (this.db.prepare('SELECT id FROM runs ORDER BY created DESC LIMIT 3').all() as { id: string }[]).map((r) => r.id);
    throw ruleError('INSIGHT_E_RUN_NOT_FOUND', 'A run must be a run id (or unique prefix) in the runs directory.', { run: ref, runsDir: this.runsDir },
      some.length ? `Run \`insight runs --runs-dir ${this.runsDir}\` to list them (newest: ${some.join(', ')}); a run's --name names it too.`
        : 'The runs directory has no runs yet: train one with `insight train`.');
  }

  close(): void {
    this.db.close();
  }
}

/** SQL (with ? placeholders) and values for one --where condition. */
function conditionSql(key: ResolvedKey, c: Condition): [string, unknown[]] {
  const number = numeric(c.value);
  const sqlOp = c.op === '!=' ? '=' : c.op;
  const negate = c.op === '!=';
  if (key.kind === 'column') {
    const numericColumn = key.column === 'epochs' || key.column === 'steps';
    // A run without a name compares as '' (so name!=x keeps it).
    const column = numericColumn ? `runs.${key.column}` : `COALESCE(runs.${key.column}, '')`;
    if (c.op === '~') return [`instr(lower(${column}), lower(?)) > 0`, [c.value]];
    if (numericColumn && number === null) throw numberNeeded(c);
    return [`${negate ? 'NOT ' : ''}(${column} ${sqlOp} ?)`, [numericColumn ? number : c.value]];
  }
  if (key.kind === 'metric') {
    if (number === null || c.op === '~') throw numberNeeded(c);
    const column = key.which === 'either' ? 'COALESCE(m.best, m.final)' : `m.${key.which}`;
    return [`${negate ? 'NOT ' : ''}EXISTS (SELECT 1 FROM metrics m WHERE m.run_id = runs.id AND m.name = ? AND ${column} ${sqlOp} ?)`, [key.name, number]];
  }
  if (c.op === '~') return ['EXISTS (SELECT 1 FROM params p WHERE p.run_id = runs.id AND p.key = ? AND instr(lower(p.value), lower(?)) > 0)', [key.name, c.value]];
  // Numbers compare as numbers (lr=1e-3 matches 0.001); anything else as the text the index stores.
  const test = number !== null ? `(p.num ${sqlOp} ? OR (p.num IS NULL AND p.value ${sqlOp} ?))` : `p.value ${sqlOp} ?`;
  return [`${negate ? 'NOT ' : ''}EXISTS (SELECT 1 FROM params p WHERE p.run_id = runs.id AND p.key = ? AND ${test})`,
    number !== null ? [key.name, number, c.value] : [key.name, c.value]];
}

function numberNeeded(c: Condition) {
  return ruleError('INSIGHT_E_QUERY', `A filter on ${c.key} compares numbers with one of = != > >= < <=.`, { where: `${c.key}${c.op}${c.value}` },
    `Pass e.g. --where "${c.key}>0.5".`);
}

/** The ORDER BY expressions of a sort key (params: numbers first, then text). */
function sortExpressions(key: ResolvedKey): string[] {
  if (key.kind === 'column') return [`runs.${key.column}`];
  if (key.kind === 'metric') {
    const column = key.which === 'either' ? 'COALESCE(m.best, m.final)' : `m.${key.which}`;
    return [`SELECT ${column} FROM metrics m WHERE m.run_id = runs.id AND m.name = ?`];
  }
  return ['SELECT p.num FROM params p WHERE p.run_id = runs.id AND p.key = ?', 'SELECT p.value FROM params p WHERE p.run_id = runs.id AND p.key = ?'];
}
