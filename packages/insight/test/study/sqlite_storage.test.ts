// The SQLite study storage: the conformance suite on one file, then what only SQLite has — WAL mode, the file and
// its folder created, clear errors for a folder, an unwritable place, a non-database and foreign or newer tables,
// a lock held by another connection (retried with backoff past the busy timeout, then INSIGHT_E_STORAGE), and a
// schema version 1 file migrated in place (trials rebuilt, every row kept), by one of several processes opening it.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';

import Database from 'better-sqlite3';

import { openStudyStorage } from '../../src/study/open_storage';
import { SqliteStudyStorage } from '../../src/study/sqlite_storage';
import { SQLITE_V1_SCHEMA, V1_ROWS, V1_RUNNING } from './schema_v1';
import { exited, lineFrom, spec, startWorker, storageConformance } from './storage_conformance';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'insight-sqlite-study-'));
const file = path.join(tmp, 'nested', 'folder', 'study.db');
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

storageConformance('SQLite', () => ({ url: `sqlite:${file}`, open: () => openStudyStorage(`sqlite:${file}`) }));

/** Runs `read` on a read-only connection of its own to `where`. */
function peek<T>(where: string, read: (db: Database.Database) => T): T {
  const db = new Database(where, { readonly: true });
  try {
    return read(db);
  } finally {
    db.close();
  }
}

/** Every row of the three tables (what a migration must keep), and meta. */
const rowsOf = (where: string) => peek(where, (db) => ({
  meta: db.prepare('SELECT key, value FROM meta ORDER BY key').all(),
  studies: db.prepare('SELECT * FROM studies ORDER BY id').all(),
  trials: db.prepare('SELECT * FROM trials ORDER BY id').all(),
  values: db.prepare('SELECT * FROM trial_values ORDER BY trial_id, step').all(),
}));

/** trials' and trial_values' layout as SQLite reports it (columns, foreign keys, indexes with their columns). */
const layoutOf = (where: string) => peek(where, (db) => Object.fromEntries(['trials', 'trial_values'].map((table) => [table, {
  columns: db.pragma(`table_info(${table})`),
  foreignKeys: db.pragma(`foreign_key_list(${table})`),
  indexes: (db.pragma(`index_list(${table})`) as { name: string; unique: number; origin: string }[])
    .map(({ name, unique, origin }) => ({ name, unique, origin, columns: (db.pragma(`index_info(${name})`) as { name: string }[]).map((c) => c.name) }))
    .sort((x, y) => x.name.localeCompare(y.name)),
}])));

/** A file of schema version 1 as Insight wrote it, with the fixture's rows. */
function v1File(name: string): string {
  const where = path.join(tmp, name);
  const db = new Database(where);
  db.exec(SQLITE_V1_SCHEMA + V1_ROWS);
  db.close();
  return where;
}

describe('SQLite study storage', () => {
  it('creates the file and its folders, in WAL mode with a busy timeout, and says where it is', async () => {
    const where = path.join(tmp, 'a', 'b', 'new.db');
    const storage = await openStudyStorage(where);
    try {
      assert.equal(storage.url, `sqlite:${where}`);
      assert.ok(fs.statSync(where).isFile());
      const db = new Database(where, { readonly: true });
      try {
        assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
        assert.deepEqual(db.prepare('SELECT key, value FROM meta ORDER BY key').all(), [{ key: 'format', value: 'insight-study' }, { key: 'version', value: '2' }]);
        const tables = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name").all() as { name: string }[]).map((t) => t.name);
        assert.deepEqual(tables, ['meta', 'studies', 'trial_values', 'trials']);
      } finally {
        db.close();
      }
    } finally {
      await storage.close();
    }
    // reopened: same tables, studies kept
    const again = await openStudyStorage(`sqlite:${where}`);
    await again.createStudy(spec({ name: 'kept' }));
    await again.close();
    const third = await openStudyStorage(`sqlite:${where}`);
    assert.equal((await third.getStudy('kept'))?.name, 'kept');
    await third.close();
  });

  it('says clearly when the path is a folder, under a file, or not a SQLite database', async () => {
    await assert.rejects(openStudyStorage(`sqlite:${tmp}`), (e: Error & { code: string }) => {
      assert.equal(e.code, 'INSIGHT_E_STORAGE');
      assert.equal(e.message, `A SQLite study storage must be a file, not a folder. Received: storage="sqlite:${tmp}". Name a file, e.g. --storage sqlite:${path.join(tmp, 'study.db')}.`);
      return true;
    });
    const plain = path.join(tmp, 'plain.txt');
    fs.writeFileSync(plain, 'not a database, just text that is long enough to have a header of its own......');
    await assert.rejects(openStudyStorage(path.join(plain, 'study.db')), (e: Error & { code: string }) => {
      assert.equal(e.code, 'INSIGHT_E_STORAGE');
      assert.match(e.message, /^The folder of a SQLite study storage must exist or be creatable\. Received: storage="sqlite:.*plain\.txt\/study\.db", error="(ENOTDIR|EEXIST)"\. Pass --storage sqlite:<file> with a file path in a folder you can write/);
      return true;
    });
    await assert.rejects(openStudyStorage(plain), (e: Error & { code: string }) => {
      assert.equal(e.code, 'INSIGHT_E_STORAGE');
      assert.match(e.message, /^A SQLite study storage must be a SQLite database file\. Received: storage="sqlite:.*plain\.txt"\. Name a new file/);
      return true;
    });
  });

  it('refuses another program\'s tables and a storage written by a newer Insight', async () => {
    const foreign = path.join(tmp, 'foreign.db');
    const db = new Database(foreign);
    db.exec("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT); INSERT INTO meta VALUES ('schema', '2')");
    db.close();
    await assert.rejects(openStudyStorage(foreign), { code: 'INSIGHT_E_STORAGE', message: /^The storage holds tables that are not an Insight study storage's\. Received: storage="sqlite:.*foreign\.db", format=null\. Give each study storage a database \(or SQLite file\) of its own\.$/ });
    const other = path.join(tmp, 'other.db');
    const db2 = new Database(other);
    db2.exec('CREATE TABLE trials (id INTEGER)');
    db2.close();
    await assert.rejects(openStudyStorage(other), { code: 'INSIGHT_E_STORAGE', message: /not an Insight study storage's/ });

    const newer = path.join(tmp, 'newer.db');
    await (await openStudyStorage(newer)).close();
    const db3 = new Database(newer);
    db3.prepare("UPDATE meta SET value = '7' WHERE key = 'version'").run();
    db3.close();
    await assert.rejects(openStudyStorage(newer), (e: Error & { code: string }) => {
      assert.equal(e.code, 'INSIGHT_E_STORAGE');
      assert.match(e.message, /^The study storage was written by a newer Insight \(schema version 7\); this one reads versions up to 2\. Received: storage="sqlite:.*newer\.db", version=7\. Upgrade Insight/);
      return true;
    });
    const db4 = new Database(newer);
    db4.prepare("UPDATE meta SET value = 'two' WHERE key = 'version'").run();
    db4.close();
    await assert.rejects(openStudyStorage(newer), { code: 'INSIGHT_E_STORAGE',
      message: /^The study storage's meta table must hold its schema version, an integer >= 1\. Received: storage="sqlite:.*newer\.db", version=NaN\. Give each study storage/ });
  });

  it('waits out a writer holding the lock past the busy timeout (retries with backoff), then gives up with the fix', async () => {
    const where = path.join(tmp, 'locked.db');
    const storage = await SqliteStudyStorage.open(where, { busyTimeoutMs: 30, retry: { retries: 8, baseMs: 40, capMs: 200 } });
    const study = await storage.createStudy(spec({ maxTrials: 5 }));
    const blocker = new Database(where);
    try {
      blocker.exec('BEGIN IMMEDIATE');
      setTimeout(() => blocker.exec('COMMIT'), 250).unref();
      const started = Date.now();
      const trial = await storage.createTrial(study.id, { lr: 0.1 }, 'w1');
      assert.equal(trial?.number, 0);
      assert.ok(Date.now() - started >= 200, 'it waited for the other writer');

      const impatient = await SqliteStudyStorage.open(where, { busyTimeoutMs: 20, retry: { retries: 2, baseMs: 10, capMs: 20 } });
      try {
        blocker.exec('BEGIN IMMEDIATE');
        await assert.rejects(impatient.createTrial(study.id, { lr: 0.2 }, 'w2'), (e: Error & { code: string }) => {
          assert.equal(e.code, 'INSIGHT_E_STORAGE');
          assert.match(e.message, new RegExp(`^The SQLite study storage stayed locked by other writers past its busy timeout and retries\\. Received: storage="sqlite:${where}", operation="createTrial", attempts=3, busyTimeoutMs=20, waitedMs=\\d+, error="SQLITE_BUSY"\\. SQLite suits a few workers on one machine: for many workers, or workers on several machines, use PostgreSQL \\(--storage postgres://`));
          return true;
        });
        blocker.exec('ROLLBACK');
        assert.equal((await impatient.trials(study.id)).length, 1, 'the failed call wrote nothing');
      } finally {
        await impatient.close();
      }
    } finally {
      if (blocker.inTransaction) blocker.exec('ROLLBACK');
      blocker.close();
      await storage.close();
    }
  });

  it('migrates a schema version 1 file in place: every study, trial and report kept, ids never reused, paused accepted', async () => {
    const where = v1File('v1.db');
    const raw = new Database(where);
    raw.prepare("UPDATE sqlite_sequence SET seq = 12 WHERE name = 'trials'").run(); // as if trials 6-12 had gone with a deleted study
    assert.throws(() => raw.prepare("UPDATE trials SET state = 'paused' WHERE id = 3").run(), /CHECK constraint failed/);
    raw.close();
    const before = rowsOf(where);
    assert.deepEqual([before.studies.length, before.trials.length, before.values.length], [2, 5, 5]);
    const fresh = path.join(tmp, 'v2-fresh.db');
    await (await openStudyStorage(fresh)).close();

    const storage = await openStudyStorage(where);
    try {
      const after = rowsOf(where);
      assert.deepEqual(after.meta, [{ key: 'format', value: 'insight-study' }, { key: 'version', value: '2' }]);
      assert.deepEqual({ ...after, meta: before.meta }, before, 'every row of every table, byte for byte');
      assert.deepEqual(layoutOf(where), layoutOf(fresh), 'the same columns, keys and indexes as a new file');
      assert.deepEqual(peek(where, (db) => db.prepare("SELECT seq FROM sqlite_sequence WHERE name = 'trials'").get()), { seq: 12 });
      assert.deepEqual(peek(where, (db) => db.pragma('foreign_key_check')), []);

      const study = (await storage.getStudy('cifar-asha'))!;
      assert.deepEqual([study.id, study.maxTrials, study.direction, study.baseConfig], [1, 6, 'maximize', { epochs: 9 }]);
      const trials = await storage.trials(study.id);
      assert.deepEqual(trials.map((t) => [t.id, t.number, t.state, t.value, t.retryOf, t.workerId, t.intermediate.length]), [
        [1, 0, 'completed', 0.81, null, 'host:11:aa', 2], [2, 1, 'failed', null, null, 'host:12:bb', 1],
        [3, 2, 'running', null, 2, 'host:13:cc', 1], [4, 3, 'pruned', 0.2, null, 'host:11:aa', 1]]);
      assert.deepEqual(trials[0].intermediate, [{ step: 1, value: 0.5 }, { step: 2, value: 0.81 }]);
      assert.equal(trials[1].error, 'worker lost: no heartbeat for 60 s');
      assert.deepEqual((await storage.trials((await storage.getStudy('loss-grid'))!.id)).map((t) => [t.id, t.state, t.params]), [[5, 'waiting', { lr: 0.3 }]]);

      // the running retry can now be paused by its holder, and promoted
      assert.equal(await storage.pauseTrial(V1_RUNNING.id, V1_RUNNING.workerId, 0.31), true);
      const paused = (await storage.trial(V1_RUNNING.id))!;
      assert.deepEqual([paused.state, paused.value, paused.workerId, paused.retryOf], ['paused', 0.31, V1_RUNNING.workerId, V1_RUNNING.retryOf]);
      const promoted = (await storage.claimPausedTrial(V1_RUNNING.id, 'host:14:dd'))!;
      assert.deepEqual([promoted.state, promoted.startedAt, promoted.intermediate], ['running', '2026-01-05T10:03:01.000Z', [{ step: 1, value: 0.31 }]]);
      // ids go on past the old high-water mark, and foreign keys are enforced again
      assert.deepEqual(await storage.enqueueTrial(study.id, { lr: 0.2 }).then((t) => [t.id, t.number]), [13, 4]);
      await assert.rejects(storage.enqueueTrial(study.id, { lr: 0.2 }, 999), { code: 'SQLITE_CONSTRAINT_FOREIGNKEY' });
    } finally {
      await storage.close();
    }
    // reopened: already version 2, nothing migrated again
    const written = rowsOf(where);
    await (await openStudyStorage(where)).close();
    assert.deepEqual(rowsOf(where), written);
  });

  it('migrates a version 1 file once, every row kept, when several worker processes open it at once', async () => {
    const where = v1File('v1-shared.db');
    const before = rowsOf(where);
    const workers = ['m0', 'm1', 'm2'].map((id) => startWorker(`sqlite:${where}`, 'cifar-asha', id, 'open'));
    try {
      for (const worker of workers) assert.equal(await lineFrom(worker, 0), 'ready');
      for (const worker of workers) worker.stdin.write('go\n');
      const seen = await Promise.all(workers.map(async (worker) => JSON.parse(await lineFrom(worker, 1)) as unknown));
      for (const worker of workers) {
        assert.equal(await exited(worker), 0);
        assert.equal(worker.stderr_, '');
      }
      for (const trials of seen) assert.deepEqual(trials, [[0, 'completed'], [1, 'failed'], [2, 'running'], [3, 'pruned']]);
    } finally {
      for (const worker of workers) worker.kill('SIGKILL');
    }
    const after = rowsOf(where);
    assert.deepEqual(after.meta, [{ key: 'format', value: 'insight-study' }, { key: 'version', value: '2' }]);
    assert.deepEqual({ ...after, meta: before.meta }, before);
    const fresh = path.join(tmp, 'v2-fresh-2.db');
    await (await openStudyStorage(fresh)).close();
    assert.deepEqual(layoutOf(where), layoutOf(fresh));
  });
});
