// API keys: Bearer keys for inference, separate admin keys, health probes open, constant-time matching on
// digests, keys from env and files (never in logs or answers), and no keys → loopback only.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';

import { InsightError } from '../../src/errors';
import { KeyRing } from '../../src/serve/auth/key_ring';
import { readKeySources } from '../../src/serve/auth/key_source';
import { isLoopback } from '../../src/serve/config';
import { checkExposure, type ServeInstance } from '../../src/serve/start';
import { ADMIN_KEY, INFERENCE_KEY, KEYS, bearer, instance, saveVersion, tempRepository, testConfig, testServer } from './helpers';

let server: ServeInstance;
const logLines: string[] = [];

before(async () => {
  const root = tempRepository();
  await saveVersion(root, 'tiny', 1);
  server = await testServer(root, { logLevel: 'info' }, KEYS, { write: (line) => void logLines.push(line) });
});
after(() => server.close());

const request = (method: 'GET' | 'POST', url: string, headers: Record<string, string> = {}, payload?: unknown) =>
  server.app.inject({ method, url, headers, payload: payload as object });
const predictBody = { instances: [instance(1)] };

describe('API keys', () => {
  it('health probes need no key', async () => {
    assert.equal((await request('GET', '/v2/health/live')).statusCode, 200);
    assert.equal((await request('GET', '/v2/health/ready')).statusCode, 200);
  });

  it('inference without a key is 401 with WWW-Authenticate, before the body is read', async () => {
    const res = await request('POST', '/v1/models/tiny:predict', {}, predictBody);
    assert.equal(res.statusCode, 401);
    assert.equal(res.headers['www-authenticate'], 'Bearer realm="insight"');
    assert.equal(res.json().code, 'SERVE_E_UNAUTHORIZED');
    assert.match(res.json().error, /^This route needs an API key\. Received: authorization=null\. Send `Authorization: Bearer <key>`/);
    // Even a body that would be a 400 gets 401 first: nothing is parsed for strangers.
    const garbage = await server.app.inject({ method: 'POST', url: '/v1/models/tiny:predict', payload: '{oops', headers: { 'content-type': 'application/json' } });
    assert.equal(garbage.statusCode, 401);
  });

  it('a wrong key or scheme is 401, and the key is never echoed', async () => {
    const wrong = await request('POST', '/v1/models/tiny:predict', bearer('not-a-valid-key-but-long-enough'), predictBody);
    assert.equal(wrong.statusCode, 401);
    assert.match(wrong.json().error, /^The API key must match one of the configured keys\. Received: key="<31 characters, not shown>"\./);
    assert.ok(!wrong.body.includes('not-a-valid-key'));
    const basic = await request('POST', '/v1/models/tiny:predict', { authorization: `Basic ${Buffer.from('a:b').toString('base64')}` }, predictBody);
    assert.equal(basic.statusCode, 401);
    assert.match(basic.json().error, /^The Authorization header must use the Bearer scheme\. Received: scheme="Basic"\./);
  });

  it('an inference key serves inference and metrics, but an admin route is 403', async () => {
    assert.equal((await request('POST', '/v1/models/tiny:predict', bearer(INFERENCE_KEY), predictBody)).statusCode, 200);
    assert.equal((await request('GET', '/metrics', bearer(INFERENCE_KEY))).statusCode, 200);
    const admin = await request('POST', '/admin/models/tiny/reload', bearer(INFERENCE_KEY));
    assert.equal(admin.statusCode, 403);
    assert.equal(admin.json().code, 'SERVE_E_FORBIDDEN');
    assert.match(admin.json().error, /^Admin routes need an admin key; inference keys may not change what is served\. Received: key="[0-9a-f]{8}", scope="inference"\. Use an admin key/);
  });

  it('an admin key serves admin routes (and inference)', async () => {
    const list = await request('GET', '/admin/models', bearer(ADMIN_KEY));
    assert.equal(list.statusCode, 200);
    assert.deepEqual(list.json().models.map((m: { name: string }) => m.name), ['tiny']);
    assert.equal((await request('POST', '/v1/models/tiny:predict', bearer(ADMIN_KEY), predictBody)).statusCode, 200);
  });

  it('keys never appear in the logs (Authorization is redacted); request ids do', async () => {
    await request('POST', '/v1/models/tiny:predict', { ...bearer(INFERENCE_KEY), 'x-request-id': 'trace-42' }, predictBody);
    const log = logLines.join('');
    assert.ok(!log.includes(INFERENCE_KEY) && !log.includes(ADMIN_KEY) && !log.includes('not-a-valid-key'));
    assert.ok(logLines.some((l) => JSON.parse(l).reqId === 'trace-42'));
    assert.equal((await request('GET', '/v2/health/live', { 'x-request-id': 'abc' })).headers['x-request-id'], 'abc');
  });
});

describe('KeyRing', () => {
  it('matches by SHA-256 digest; admin wins when a key is in both lists; ids are digest prefixes', () => {
    const ring = new KeyRing(['k'.repeat(16), 'both'.repeat(4)], ['a'.repeat(16), 'both'.repeat(4)]);
    assert.equal(ring.match('k'.repeat(16))?.scope, 'inference');
    assert.equal(ring.match('a'.repeat(16))?.scope, 'admin');
    assert.equal(ring.match('both'.repeat(4))?.scope, 'admin');
    assert.equal(ring.match('k'.repeat(15)), null);
    assert.equal(ring.match(''), null);
    assert.match(ring.match('k'.repeat(16))!.id, /^[0-9a-f]{8}$/);
    assert.equal(new KeyRing([], []).isOpen, true);
    assert.equal(new KeyRing(['k'.repeat(16)], []).hasAdminKeys, false);
  });
});

describe('key sources', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'insight-keys-'));
  const file = (name: string, text: string, mode = 0o600) => {
    const p = path.join(dir, name);
    fs.writeFileSync(p, text, { mode });
    fs.chmodSync(p, mode);
    return p;
  };

  it('reads env (comma-separated) and files (one per line, # comments), warning about loose permissions', () => {
    const keys = readKeySources(
      { apiKeysFile: file('api', `# inference\n${'f'.repeat(20)}\n\n  ${'g'.repeat(20)}  \n`), adminKeysFile: file('admin', `${'h'.repeat(24)}\n`, 0o644) },
      { INSIGHT_API_KEYS: `${'e'.repeat(16)}, ${'d'.repeat(16)}`, INSIGHT_ADMIN_KEYS: '' },
    );
    assert.deepEqual(keys.inference, ['e'.repeat(16), 'd'.repeat(16), 'f'.repeat(20), 'g'.repeat(20)]);
    assert.deepEqual(keys.admin, ['h'.repeat(24)]);
    assert.equal(keys.warnings.length, 1);
    assert.match(keys.warnings[0], /--admin-keys-file .* is readable by other users; chmod 600 it\./);
  });

  it('short keys, missing files and empty files are INSIGHT_E_CONFIG errors that never show the key', () => {
    assert.throws(() => readKeySources({ apiKeysFile: null, adminKeysFile: null }, { INSIGHT_API_KEYS: 'shortsecret' }), (e: unknown) =>
      e instanceof InsightError && e.code === 'INSIGHT_E_CONFIG'
      && e.message === 'API keys must be at least 16 characters without spaces or commas. Received: env="INSIGHT_API_KEYS", position=1, length=11. Generate keys with e.g. `openssl rand -hex 24`.');
    assert.throws(() => readKeySources({ apiKeysFile: file('short', 'x\nabc\n'), adminKeysFile: null }, {}), /Received: file=".*short", line=1, length=1\./);
    assert.throws(() => readKeySources({ apiKeysFile: path.join(dir, 'missing'), adminKeysFile: null }, {}),
      /InsightError: The --api-keys-file file must exist and be readable\. Received: api-keys-file=".*missing", error="ENOENT"\./);
    assert.throws(() => readKeySources({ apiKeysFile: file('empty', '# nothing\n'), adminKeysFile: null }, {}), /must contain at least one key/);
  });
});

describe('exposure', () => {
  it('without keys the server refuses to listen beyond loopback', () => {
    const none = { inference: [], admin: [] };
    for (const host of ['127.0.0.1', 'localhost', '::1', '127.0.0.2']) assert.doesNotThrow(() => checkExposure(testConfig('/x', { host }), none));
    for (const host of ['0.0.0.0', '::', '192.168.1.10']) {
      assert.throws(() => checkExposure(testConfig('/x', { host }), none), (e: unknown) => e instanceof InsightError && e.code === 'INSIGHT_E_CONFIG'
        && e.message.startsWith(`insight serve listens beyond loopback (127.0.0.1, ::1) only with API keys configured. Received: host="${host}", apiKeys=0. Set INSIGHT_API_KEYS`));
    }
    assert.doesNotThrow(() => checkExposure(testConfig('/x', { host: '0.0.0.0' }), { inference: ['k'.repeat(16)], admin: [] }));
    assert.equal(isLoopback('[::1]'), true);
    assert.equal(isLoopback('128.0.0.1'), false);
  });
});
