// The PostgreSQL study storage against a real server started for this file (test/support/postgres_server.ts; CI
// installs Debian's postgresql): the conformance suite, then what only PostgreSQL has — tables created once when
// workers start at once (advisory lock), the password kept out of urls and messages, and clear errors for a refused
// login, a missing database, a server that does not answer, foreign tables and a newer schema.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { Client } from 'pg';

import { openStudyStorage } from '../../src/study/open_storage';
import { PostgresStudyStorage } from '../../src/study/postgres_storage';
import { postgresBin, startPostgres, type PostgresServer } from '../support/postgres_server';
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
        assert.deepEqual(rows, [{ key: 'format', value: 'insight-study' }, { key: 'version', value: '1' }]);
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
    await assert.rejects(openStudyStorage(newer), { code: 'INSIGHT_E_STORAGE', message: /^The study storage was written by a newer Insight \(schema version 3\); this one reads version 1\./ });
  });
});
