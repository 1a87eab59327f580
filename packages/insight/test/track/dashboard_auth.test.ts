// The dashboard's key: required when it is bound beyond loopback (start-up refuses without one), enforced on every
// request once configured (401 + a Basic challenge without it), accepted as a Bearer token or a Basic password,
// and never echoed.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';

import type { FastifyInstance } from 'fastify';

import { InsightError } from '../../src/errors';
import { RunIndex } from '../../src/track/run_index';
import { checkDashboardExposure, DASHBOARD_KEYS_ENV, readDashboardKeys } from '../../src/track/dashboard/access_keys';
import { resolveDashboardConfig } from '../../src/track/dashboard/config';
import { buildDashboard, startDashboard } from '../../src/track/dashboard/server';
import { tempRunsDir, writeRun } from './fixtures';

const KEY = 'k3y-0123456789abcdef-secret';
const OTHER = 'other-dash-key-fedcba9876543210';
const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

describe('dashboard keys: where they come from', () => {
  it('reads the env (comma-separated) and a key file (one per line, # comments)', () => {
    const dir = tempRunsDir('insight-dash-keys-');
    const file = path.join(dir, 'keys');
    fs.writeFileSync(file, `# the team\n${OTHER}\n\n`);
    assert.deepEqual(readDashboardKeys(file, { [DASHBOARD_KEYS_ENV]: ` ${KEY} ,` }), [KEY, OTHER]);
    assert.deepEqual(readDashboardKeys(null, {}), []);
    assert.equal(resolveDashboardConfig({ keysFile: file }).keysFile, file);
  });

  it('rejects short keys without showing them, and a missing file', () => {
    const error = (() => {
      try {
        readDashboardKeys(null, { [DASHBOARD_KEYS_ENV]: 'short-secret' });
      } catch (e) {
        return e as InsightError;
      }
      throw new Error('no error');
    })();
    assert.equal(error.code, 'INSIGHT_E_CONFIG');
    assert.match(error.message, /at least 16 characters.*Received: env="INSIGHT_DASHBOARD_KEYS", position=1, length=12/s);
    assert.ok(!error.message.includes('short-secret'));
    assert.throws(() => readDashboardKeys('/nonexistent/keys', {}), /The --keys-file file must exist and be readable\. Received: keys-file="\/nonexistent\/keys", error="ENOENT"/);
  });
});

describe('dashboard beyond loopback', () => {
  it('refuses to start on 0.0.0.0 without a key, with the fix in the message', async () => {
    const runsDir = tempRunsDir('insight-dash-exposed-');
    await assert.rejects(startDashboard({ runsDir, port: 0, host: '0.0.0.0' }, { env: {} }), (error: InsightError) => {
      assert.equal(error.code, 'INSIGHT_E_CONFIG');
      assert.match(error.message, /listens beyond loopback \(127\.0\.0\.1, ::1\) only with a dashboard key configured.*Received: host="0\.0\.0\.0", keys=0.*Set INSIGHT_DASHBOARD_KEYS.*--keys-file <file>.*--host 127\.0\.0\.1/s);
      return true;
    });
    assert.doesNotThrow(() => checkDashboardExposure('0.0.0.0', [KEY]));
    for (const host of ['127.0.0.1', '::1', 'localhost', '127.1.2.3']) assert.doesNotThrow(() => checkDashboardExposure(host, []));
    assert.throws(() => checkDashboardExposure('192.168.1.5', []), /only with a dashboard key/);
  });
});

describe('dashboard requests with keys configured', () => {
  let runsDir: string;
  let index: RunIndex;
  let app: FastifyInstance;

  before(async () => {
    runsDir = tempRunsDir('insight-dash-auth-');
    await writeRun(runsDir, { id: 'run-a', config: { optimizer: 'adam' }, epochs: 1 });
    index = RunIndex.open(runsDir);
    app = buildDashboard({ runsDir, index, pollMs: 50, heartbeatMs: 1000 }, [KEY, OTHER]);
  });
  after(async () => {
    await app.close();
    index.close();
  });

  it('answers 401 with a Basic challenge without a key or with a wrong one, and never echoes what was sent', async () => {
    for (const authorization of [undefined, `Bearer ${KEY.slice(0, -1)}x`, KEY, `Bearer:${KEY}`, basic('me', 'wrong-password-0123456789')]) {
      for (const url of ['/', '/api/runs', '/api/runs/run-a', '/api/stream?runs=run-a']) {
        const res = await app.inject({ url, headers: authorization === undefined ? {} : { authorization } });
        assert.equal(res.statusCode, 401, `${url} ${authorization}`);
        assert.equal(res.headers['www-authenticate'], 'Basic realm="insight dashboard", charset="UTF-8"');
        const body = res.json() as { code: string; message: string };
        assert.equal(body.code, 'SERVE_E_UNAUTHORIZED');
        assert.match(body.message, /The dashboard needs a dashboard key\. Received: authorization="(absent|no matching key)"/);
        assert.ok(!res.body.includes(KEY.slice(0, 8)) && !res.body.includes('wrong-pass'), 'no part of a credential in the answer');
      }
    }
  });

  it('serves with a Bearer key or the key as a Basic password (any user)', async () => {
    const bearer = await app.inject({ url: '/api/runs', headers: { authorization: `Bearer ${OTHER}` } });
    assert.equal(bearer.statusCode, 200);
    assert.deepEqual((bearer.json() as { runs: { id: string }[] }).runs.map((r) => r.id), ['run-a']);
    const browser = await app.inject({ url: '/', headers: { authorization: basic('anyone', KEY) } });
    assert.equal(browser.statusCode, 200);
    assert.match(String(browser.headers['content-type']), /text\/html/);
  });

  it('enforces keys over real HTTP too (a key file, bound on loopback)', async () => {
    const file = path.join(runsDir, '..', `keys-${process.pid}`);
    fs.writeFileSync(file, `${KEY}\n`, { mode: 0o600 });
    const server = await startDashboard({ runsDir, port: 0, host: '127.0.0.1', keysFile: file }, { env: {} });
    try {
      assert.equal((await fetch(`${server.url}api/runs`)).status, 401);
      const ok = await fetch(`${server.url}api/runs`, { headers: { authorization: `Bearer ${KEY}` } });
      assert.equal(ok.status, 200);
      await ok.arrayBuffer();
    } finally {
      await server.close();
    }
  });
});

describe('dashboard on loopback without keys', () => {
  it('stays open, as before', async () => {
    const runsDir = tempRunsDir('insight-dash-open-');
    const server = await startDashboard({ runsDir, port: 0, host: '127.0.0.1' }, { env: {} });
    try {
      const res = await fetch(`${server.url}api/runs`);
      assert.equal(res.status, 200);
      await res.arrayBuffer();
    } finally {
      await server.close();
    }
  });

  it('answers only a loopback Host (any port, as through an SSH tunnel): a rebound name gets 403', async () => {
    const runsDir = tempRunsDir('insight-dash-rebind-');
    const index = RunIndex.open(runsDir);
    const app = buildDashboard({ runsDir, index, pollMs: 50, heartbeatMs: 1000 });
    try {
      for (const host of ['localhost:6006', '127.0.0.1:8080', '[::1]:6006', 'localhost']) {
        assert.equal((await app.inject({ url: '/api/runs', headers: { host } })).statusCode, 200, host);
      }
      for (const host of ['rebind.evil.example:6006', '127.0.0.1.evil.example', '[::ffff:7f00:1]:6006']) {
        const res = await app.inject({ url: '/api/runs', headers: { host } });
        assert.equal(res.statusCode, 403, host);
        assert.match((res.json() as { message: string }).message, /^A dashboard without keys answers only requests for a loopback Host \(DNS rebinding\)\. Received: host=".+"\. Open it at http:\/\/127\.0\.0\.1:<port>/);
      }
    } finally {
      await app.close();
      index.close();
    }
  });
});
