// The SQLite study storage: the conformance suite on one file, then what only SQLite has — WAL mode, the file and
// its folder created, clear errors for a folder, an unwritable place, a non-database and foreign or newer tables,
// and a lock held by another connection: retried with backoff past the busy timeout, then INSIGHT_E_STORAGE.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';

import Database from 'better-sqlite3';

import { openStudyStorage } from '../../src/study/open_storage';
import { SqliteStudyStorage } from '../../src/study/sqlite_storage';
import { spec, storageConformance } from './storage_conformance';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'insight-sqlite-study-'));
const file = path.join(tmp, 'nested', 'folder', 'study.db');
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

storageConformance('SQLite', () => ({ url: `sqlite:${file}`, open: () => openStudyStorage(`sqlite:${file}`) }));

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
        assert.deepEqual(db.prepare('SELECT key, value FROM meta ORDER BY key').all(), [{ key: 'format', value: 'insight-study' }, { key: 'version', value: '1' }]);
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
      assert.match(e.message, /^The study storage was written by a newer Insight \(schema version 7\); this one reads version 1\. Received: storage="sqlite:.*newer\.db", version=7\. Upgrade Insight/);
      return true;
    });
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
});
