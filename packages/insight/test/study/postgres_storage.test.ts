// The PostgreSQL study storage against a real server started for this file (test/support/postgres_server.ts; CI
// installs Debian's postgresql): the conformance suite, then what only PostgreSQL has — tables created once when
// workers start at once (advisory lock), the password kept out of urls and messages, clear errors for a refused
// login, a missing database, a server that does not answer, foreign tables and a newer schema; a paused trial claimed
// by exactly one of many workers (and a claim waiting on another's row lock); a schema version 1 database migrated in
// place by one of several workers opening it at once; calls whose commit the server made but whose answer a dropped
// connection lost (test/study/pg_drop_proxy.ts: creating, claiming, pausing and finishing trials, enqueuing a retry),
// retried and returning what the first try did.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';

import { Client } from 'pg';

import { openStudyStorage } from '../../src/study/open_storage';
import { PostgresStudyStorage } from '../../src/study/postgres_storage';
import { postgresBin, startPostgres, type PostgresServer } from '../support/postgres_server';
import { startDropProxy, type MessageMatch } from './pg_drop_proxy';
import { POSTGRES_V1_SCHEMA, V1_POSTGRES_SEQUENCES, V1_ROWS, V1_RUNNING } from './schema_v1';
import { spec, storageConformance } from './storage_conformance';

let server: PostgresServer;
before(async () => {
  server = await startPostgres();
});
after(async () => {
  await server?.stop();
});

/** The server's URL for another database (created on demand). */
async function database(name: string): Promise<string> {
  const admin = new Client({ connectionString: server.url });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  return server.url.replace(/\/insight$/, `/${name}`);
}

async function sql(url: string, text: string): Promise<void> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}

/** The rows of one query, on a connection of its own. */
async function rows<R>(url: string, text: string): Promise<R[]> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(text)).rows as R[];
  } finally {
    await client.end();
  }
}

/** Every row of the storage's tables (what a migration must keep). */
const rowsOf = async (url: string) => ({
  meta: await rows(url, 'SELECT key, value FROM meta ORDER BY key'),
  studies: await rows(url, 'SELECT * FROM studies ORDER BY id'),
  trials: await rows(url, 'SELECT * FROM trials ORDER BY id'),
  values: await rows(url, 'SELECT * FROM trial_values ORDER BY trial_id, step'),
});

/** The CHECK constraints of a table, by name, with their definitions. */
const checksOf = (url: string, table: string) => rows<{ name: string; definition: string }>(url,
  `SELECT conname AS name, pg_get_constraintdef(oid) AS definition FROM pg_constraint WHERE conrelid = '${table}'::regclass AND contype = 'c' ORDER BY conname`);

/** A database of schema version 1 as Insight wrote it, with the fixture's rows, then `extra` SQL. */
async function v1Database(name: string, extra = ''): Promise<string> {
  const url = await database(name);
  await sql(url, POSTGRES_V1_SCHEMA + V1_ROWS + V1_POSTGRES_SEQUENCES + extra);
  return url;
}

storageConformance('PostgreSQL', () => ({ url: server.url, open: () => openStudyStorage(server.url) }));

describe('PostgreSQL study storage', () => {
  it('creates its tables once when several workers open a fresh database at once, and keeps the password out of its url', async () => {
    const url = await database('fresh');
    const storages = await Promise.all(Array.from({ length: 4 }, () => openStudyStorage(url.replace('postgresql://', 'postgres://'))));
    try {
      for (const storage of storages) {
        assert.equal(storage.url, `postgres://postgres:***@127.0.0.1:${server.port}/fresh`);
        assert.ok(!storage.url.includes(server.password));
      }
      const study = await storages[0].createStudy(spec({ name: 'shared' }));
      assert.equal((await storages[3].getStudy('shared'))?.id, study.id);
      const client = new Client({ connectionString: url });
      await client.connect();
      try {
        const { rows } = await client.query("SELECT key, value FROM meta ORDER BY key");
        assert.deepEqual(rows, [{ key: 'format', value: 'insight-study' }, { key: 'version', value: '2' }]);
        const tables = await client.query("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename");
        assert.deepEqual(tables.rows.map((r: { tablename: string }) => r.tablename), ['meta', 'studies', 'trial_values', 'trials']);
        // times are the server's: created_at is a timestamptz set by now()
        const { rows: [{ skew }] } = await client.query<{ skew: number }>('SELECT abs(extract(epoch FROM now() - created_at))::float8 AS skew FROM studies');
        assert.ok(skew < 60, String(skew));
      } finally {
        await client.end();
      }
    } finally {
      await Promise.all(storages.map((s) => s.close()));
    }
  });

  it('says clearly, without the password, when the login is refused, the database is missing or the server does not answer', async () => {
    const wrong = server.url.replace(`:${server.password}@`, ':not-the-password@');
    await assert.rejects(openStudyStorage(wrong), (e: Error & { code: string }) => {
      assert.equal(e.code, 'INSIGHT_E_STORAGE');
      assert.match(e.message, new RegExp(`^PostgreSQL refused the study storage's login\\. Received: storage="postgresql://postgres:\\*\\*\\*@127\\.0\\.0\\.1:${server.port}/insight", operation="open", error="28P01: password authentication failed for user \\\\"postgres\\\\""\\. Check the user and password`));
      assert.ok(!e.message.includes('not-the-password'));
      return true;
    });
    await assert.rejects(openStudyStorage(server.url.replace(/\/insight$/, '/nowhere')), (e: Error & { code: string }) => {
      assert.equal(e.code, 'INSIGHT_E_STORAGE');
      assert.match(e.message, /^The study storage's PostgreSQL database does not exist\. Received: storage="postgresql:\/\/postgres:\*\*\*@[^"]+\/nowhere", operation="open", error="3D000: database \\"nowhere\\" does not exist"\. Create it first \(createdb <name>/);
      assert.ok(!e.message.includes(server.password));
      return true;
    });
    // a port nothing listens on: retried with backoff, then the fix
    const closed = server.url.replace(`:${server.port}/`, ':1/');
    const started = Date.now();
    await assert.rejects(PostgresStudyStorage.open(closed, { retry: { retries: 2, baseMs: 50, capMs: 100 } }), (e: Error & { code: string }) => {
      assert.equal(e.code, 'INSIGHT_E_STORAGE');
      assert.match(e.message, /^Cannot reach the PostgreSQL study storage\. Received: storage="postgresql:\/\/postgres:\*\*\*@127\.0\.0\.1:1\/insight", operation="open", attempts=3, waitedMs=\d+, error="ECONNREFUSED: .*"\. Check that the server runs and listens on that host and port/);
      assert.ok(!e.message.includes(server.password));
      return true;
    });
    assert.ok(Date.now() - started >= 50, 'it retried');
  });

  it('rides out a server restart: calls made while it is down are retried until it is back', async () => {
    const storage = await openStudyStorage(server.url);
    try {
      const study = await storage.createStudy(spec({ maxTrials: 3 }));
      const trial = (await storage.createTrial(study.id, { lr: 0.1 }, 'w1'))!;
      server.pause();
      const back = new Promise<void>((resolve) => setTimeout(() => {
        server.resume();
        resolve();
      }, 600));
      const started = Date.now();
      assert.equal(await storage.heartbeat(trial.id, 'w1', 'runs/r1'), true);
      assert.ok(Date.now() - started >= 500, 'it waited for the server');
      await back;
      assert.equal((await storage.createTrial(study.id, { lr: 0.2 }, 'w1'))?.number, 1);
      assert.equal((await storage.trial(trial.id))?.runDir, 'runs/r1');
    } finally {
      await storage.close();
    }
  });

  it('retries a call whose commit the server made but whose answer a dropped connection lost, and returns what the first try did', async () => {
    const proxy = await startDropProxy(server.port);
    const storage = await PostgresStudyStorage.open(server.url.replace(`:${server.port}/`, `:${proxy.port}/`), { retry: { retries: 3, baseMs: 20, capMs: 50 } });
    try {
      const commit: MessageMatch = (type, text) => type === 'Q' && text === 'COMMIT';
      const statement = (part: string): MessageMatch => (type, text) => type === 'P' && text.includes(part);
      /** Runs `call` with the server's answer to the first message `match` accepts lost (its connection cut), then checks it was. */
      const lost = async <T>(match: MessageMatch, call: () => Promise<T>): Promise<T> => {
        const drops = proxy.drops;
        proxy.dropAnswerTo(match);
        const result = await call(); // the cut comes before the retry that answers
        assert.equal(proxy.drops, drops + 1, 'the answer was lost once');
        return result;
      };
      // createStudy with a grid's points (one transaction): tried again, the study exists and nothing more is enqueued
      const points = [{ lr: 0.1 }, { lr: 0.2 }, { lr: 0.3 }];
      const study = await lost(commit, () => storage.createStudy(spec({ maxTrials: 5 }), { enqueue: points }));
      assert.deepEqual((await storage.trials(study.id)).map((t) => [t.number, t.state, t.params]), points.map((p, i) => [i, 'waiting', p]));
      // claimWaitingTrial (one statement, its own commit): the trial claimed, not a second one
      const claimed = await lost(statement('WITH held AS'), () => storage.claimWaitingTrial(study.id, 'w1'));
      assert.deepEqual([claimed?.number, claimed?.state, claimed?.workerId], [0, 'running', 'w1']);
      assert.deepEqual((await storage.trials(study.id)).map((t) => [t.number, t.state]), [[0, 'running'], [1, 'waiting'], [2, 'waiting']]);
      // createTrial (a transaction): the trial created, not a phantom second one with the same params
      const created = await lost(commit, () => storage.createTrial(study.id, { lr: 0.4 }, 'w2'));
      assert.deepEqual([created?.number, created?.state, created?.workerId], [3, 'running', 'w2']);
      assert.deepEqual((await storage.trials(study.id)).map((t) => t.number), [0, 1, 2, 3]);
      // claimPausedTrial (one statement): the trial claimed, not null
      assert.equal(await storage.pauseTrial(created!.id, 'w2', 0.5), true);
      const promoted = await lost(statement('claimed AS (UPDATE'), () => storage.claimPausedTrial(created!.id, 'w3'));
      assert.deepEqual([promoted?.id, promoted?.state, promoted?.workerId], [created!.id, 'running', 'w3']);
      assert.equal(await storage.heartbeat(created!.id, 'w3'), true);
      // pauseTrial and finishTrial (one statement each): true, as the first try's commit was, not "no longer held"
      assert.equal(await lost(statement("SET state = 'paused'"), () => storage.pauseTrial(created!.id, 'w3', 0.6)), true);
      assert.equal((await storage.claimPausedTrial(created!.id, 'w3'))?.state, 'running');
      assert.equal(await lost(statement('SET state = $3'), () => storage.finishTrial(created!.id, 'w3', 'failed', null, 'interrupted (SIGTERM)')), true);
      assert.deepEqual([(await storage.trial(created!.id))?.state, (await storage.trial(created!.id))?.error], ['failed', 'interrupted (SIGTERM)']);
      // enqueueTrial of its retry (a transaction): one retry
      const retry = await lost(commit, () => storage.enqueueTrial(study.id, { lr: 0.4 }, created!.id));
      assert.deepEqual((await storage.trials(study.id)).filter((t) => t.retryOf === created!.id).map((t) => [t.id, t.state]), [[retry.id, 'waiting']]);
    } finally {
      await storage.close();
      await proxy.close();
    }
  });

  it('the test server says how to install PostgreSQL when there is none', () => {
    const saved = process.env.INSIGHT_PG_BIN;
    delete process.env.INSIGHT_PG_BIN;
    try {
      assert.throws(() => postgresBin('/nonexistent/postgresql'), /^Error: No PostgreSQL server found in \/nonexistent\/postgresql\/<version>\/bin \(initdb, pg_ctl, postgres\)\. Install PostgreSQL with scripts\/install-system-packages\.sh/);
    } finally {
      if (saved !== undefined) process.env.INSIGHT_PG_BIN = saved;
    }
  });

  it('refuses another program\'s tables and a storage written by a newer Insight', async () => {
    const foreign = await database('foreign_app');
    await sql(foreign, 'CREATE TABLE trials (id integer)');
    await assert.rejects(openStudyStorage(foreign), (e: Error & { code: string }) => e.code === 'INSIGHT_E_STORAGE' &&
      /^The storage holds tables that are not an Insight study storage's\. Received: storage="postgresql:\/\/postgres:\*\*\*@[^"]+\/foreign_app", format=null\. Give each study storage a database/.test(e.message));
    const newer = await database('newer');
    await (await openStudyStorage(newer)).close();
    await sql(newer, "UPDATE meta SET value = '3' WHERE key = 'version'");
    await assert.rejects(openStudyStorage(newer), { code: 'INSIGHT_E_STORAGE', message: /^The study storage was written by a newer Insight \(schema version 3\); this one reads versions up to 2\./ });
  });

  it('gives each paused trial to exactly one of several workers claiming them all at once', async () => {
    const storages = await Promise.all(Array.from({ length: 4 }, () => openStudyStorage(server.url)));
    try {
      const [first] = storages;
      const study = await first.createStudy(spec({ maxTrials: 6 }));
      const ids: number[] = [];
      for (let i = 0; i < 6; i++) {
        const trial = (await first.createTrial(study.id, { lr: (i + 1) / 10 }, 'pauser'))!;
        await first.reportIntermediate(trial.id, 1, i / 10);
        assert.equal(await first.pauseTrial(trial.id, 'pauser', i / 10), true);
        ids.push(trial.id);
      }
      const claims = await Promise.all(storages.flatMap((storage, w) => ids.map(async (id) => ({ id, worker: `w${w}`, got: await storage.claimPausedTrial(id, `w${w}`) }))));
      const won = claims.filter((c) => c.got !== null).sort((x, y) => x.id - y.id);
      assert.deepEqual(won.map((c) => c.id), ids, 'each paused trial claimed once: 6 of 24 claims');
      for (const { got, worker } of won) assert.deepEqual([got!.state, got!.workerId, got!.intermediate.length], ['running', worker, 1]);
      assert.deepEqual((await first.trials(study.id)).map((t) => [t.id, t.state, t.workerId]), won.map((c) => [c.id, 'running', c.worker]));
    } finally {
      await Promise.all(storages.map((s) => s.close()));
    }
  });

  it('a claim waiting on another transaction\'s lock of the paused trial re-checks it: the trial after a rollback, nothing after a commit', async () => {
    const storage = await openStudyStorage(server.url);
    const other = new Client({ connectionString: server.url });
    await other.connect();
    try {
      const study = await storage.createStudy(spec());
      const trial = (await storage.createTrial(study.id, { lr: 0.1 }, 'w1'))!;
      assert.equal(await storage.pauseTrial(trial.id, 'w1', 0.4), true);
      /** `other` claims the trial in an open transaction; `claimer` claims it meanwhile; then `other` ends with `end`. */
      const race = async (end: 'COMMIT' | 'ROLLBACK', claimer: string) => {
        await other.query('BEGIN');
        assert.equal((await other.query("UPDATE trials SET state = 'running', worker_id = 'other' WHERE id = $1 AND state = 'paused'", [trial.id])).rowCount, 1);
        let settled = false;
        const claim = storage.claimPausedTrial(trial.id, claimer).finally(() => {
          settled = true;
        });
        await sleep(300);
        assert.equal(settled, false, 'the claim waits for the row lock');
        const { rows: [{ waiting }] } = await other.query<{ waiting: number }>(
          "SELECT count(*)::int AS waiting FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%claimed AS (UPDATE trials%'");
        assert.equal(waiting, 1);
        await other.query(end);
        return claim;
      };
      const won = await race('ROLLBACK', 'w2');
      assert.deepEqual([won?.id, won?.state, won?.workerId, won?.intermediate], [trial.id, 'running', 'w2', []]);
      assert.equal(await storage.pauseTrial(trial.id, 'w2', 0.45), true);
      assert.equal(await race('COMMIT', 'w3'), null);
      const held = (await storage.trial(trial.id))!;
      assert.deepEqual([held.state, held.workerId], ['running', 'other']);
    } finally {
      await other.end();
      await storage.close();
    }
  });

  it('migrates a schema version 1 database in place, once, when several workers open it at once: every row kept, paused accepted', async () => {
    const url = await v1Database('v1_shared');
    await assert.rejects(sql(url, "UPDATE trials SET state = 'paused' WHERE id = 3"), { code: '23514' }); // check_violation
    const before = await rowsOf(url);
    assert.deepEqual([before.studies.length, before.trials.length, before.values.length], [2, 5, 5]);
    const fresh = await database('v2_fresh');
    await (await openStudyStorage(fresh)).close();
    const storages = await Promise.all(Array.from({ length: 4 }, () => openStudyStorage(url)));
    try {
      const after = await rowsOf(url);
      assert.deepEqual(after.meta, [{ key: 'format', value: 'insight-study' }, { key: 'version', value: '2' }]);
      assert.deepEqual({ ...after, meta: before.meta }, before, 'every row of every table');
      const checks = await checksOf(url, 'trials');
      assert.deepEqual(checks, await checksOf(fresh, 'trials'), 'the same CHECK as a new database');
      assert.equal(checks.length, 1);
      assert.match(checks[0].definition, /'paused'/);

      const [storage, another] = storages;
      const study = (await storage.getStudy('cifar-asha'))!;
      const trials = await another.trials(study.id);
      assert.deepEqual(trials.map((t) => [t.id, t.number, t.state, t.value, t.retryOf, t.intermediate.length]), [
        [1, 0, 'completed', 0.81, null, 2], [2, 1, 'failed', null, null, 1], [3, 2, 'running', null, 2, 1], [4, 3, 'pruned', 0.2, null, 1]]);
      assert.deepEqual([trials[2].startedAt, trials[2].workerId], ['2026-01-05T10:03:01.000Z', V1_RUNNING.workerId]);
      assert.equal(await storage.pauseTrial(V1_RUNNING.id, V1_RUNNING.workerId, 0.31), true);
      assert.deepEqual(await another.trial(V1_RUNNING.id).then((t) => [t?.state, t?.value, t?.workerId, t?.retryOf]), ['paused', 0.31, V1_RUNNING.workerId, V1_RUNNING.retryOf]);
      assert.equal((await another.claimPausedTrial(V1_RUNNING.id, 'host:14:dd'))?.startedAt, '2026-01-05T10:03:01.000Z');
      assert.deepEqual(await storage.createTrial(study.id, { lr: 0.2 }, 'host:14:dd').then((t) => [t?.id, t?.number]), [6, 4], 'ids go on after the old ones');
    } finally {
      await Promise.all(storages.map((s) => s.close()));
    }
  });

  it('finds a version 1 database\'s state CHECK by the column it constrains, whatever its name, and leaves other CHECKs alone', async () => {
    const url = await v1Database('v1_renamed', 'ALTER TABLE trials RENAME CONSTRAINT trials_state_check TO "Legacy State Rule";');
    assert.deepEqual((await checksOf(url, 'trials')).map((c) => c.name), ['Legacy State Rule']);
    const studyChecks = await checksOf(url, 'studies');
    assert.equal(studyChecks.length, 2);
    const storage = await openStudyStorage(url);
    try {
      const checks = await checksOf(url, 'trials');
      assert.deepEqual(checks.map((c) => c.name), ['trials_state_check']);
      assert.match(checks[0].definition, /'paused'/);
      assert.deepEqual(await checksOf(url, 'studies'), studyChecks);
      assert.equal(await storage.pauseTrial(V1_RUNNING.id, V1_RUNNING.workerId, 0.31), true);
    } finally {
      await storage.close();
    }
  });
});
