// Credentials never leak and cannot be guessed at speed (issue 17, A3), and logs carry no payloads and only as much
// of the client address as --log-client-address allows (11): every malformed Authorization form is 401 whose body and
// log lines contain no 4-character piece of the key; query strings are redacted in logged URLs; failed
// authentication is throttled per client address (429 + Retry-After, counted in metrics).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import type { KeySources } from '../../src/serve/auth/key_source';
import { AUTH_FAILURE_BURST, AuthThrottle } from '../../src/serve/limits/auth_throttle';
import type { ServeInstance } from '../../src/serve/start';
import { instance, saveVersion, tempRepository, testServer } from './helpers';

// Mixed-case letters only: no 4-character piece of it occurs in English words, UUIDs, numbers or routes.
const KEY = 'QzXwVrTkPmNlSjHyGfDcBvWq';
const KEYS: KeySources = { inference: [KEY], admin: [], warnings: [] };
const PIECES = Array.from({ length: KEY.length - 3 }, (_, i) => KEY.slice(i, i + 4));

let root: string;
let server: ServeInstance;
const log: string[] = [];

before(async () => {
  root = tempRepository();
  await saveVersion(root, 'tiny', 1);
  server = await testServer(root, { logLevel: 'info' }, KEYS, { write: (line) => void log.push(line) });
});
after(() => server.close());

function leaks(text: string): string[] {
  return PIECES.filter((piece) => text.includes(piece));
}

describe('malformed Authorization headers', () => {
  const forms: [string, string][] = [
    ['the bare key', KEY],
    ['Bearer:<key>', `Bearer:${KEY}`],
    ['Bearer<key>', `Bearer${KEY}`],
    ['Basic <key>', `Basic ${KEY}`],
    ['Basic base64(user:key)', `Basic ${Buffer.from(`user:${KEY}`).toString('base64')}`],
    ['Token <key>', `Token ${KEY}`],
    ['Bearer <key> <key>', `Bearer ${KEY} ${KEY}`],
    ['Bearer <key>,x', `Bearer ${KEY},x`],
    ['<key> Bearer', `${KEY} Bearer`],
    ['whitespace', '   '],
    ['Bearer <wrong key>', `Bearer ${KEY.slice(0, 12)}AaBbCcDdEeFf`],
  ];
  for (const [name, header] of forms) {
    it(`${name} → 401, no piece of the key in the body or the log`, async () => {
      const before = log.length;
      const res = await server.app.inject({ method: 'POST', url: '/v1/models/tiny:predict', headers: { authorization: header }, payload: { instances: [instance(1)] } });
      assert.equal(res.statusCode, 401);
      assert.equal(res.json().code, 'SERVE_E_UNAUTHORIZED');
      assert.match(res.headers['www-authenticate'] as string, /^Bearer realm="insight"/);
      assert.deepEqual(leaks(res.body), [], res.body);
      const lines = log.slice(before).join('');
      assert.ok(lines.includes('SERVE_E_UNAUTHORIZED'), 'the rejection is logged');
      assert.deepEqual(leaks(lines), [], lines);
    });
  }

  it('names a known scheme, or only the header length', async () => {
    const send = async (authorization: string) => (await server.app.inject({ method: 'GET', url: '/v1/models/tiny', headers: { authorization } })).json().error as string;
    assert.match(await send(`Basic ${KEY}`), /^The Authorization header must use the Bearer scheme\. Received: scheme="Basic"\. Send `Authorization: Bearer <key>`/);
    assert.match(await send(KEY), /^The Authorization header must use the Bearer scheme\. Received: authorization="<24 characters without a \\"Bearer \\" scheme, not shown>"\./);
    assert.match(await send(`Bearer:${KEY}`), /Received: authorization="<31 characters without a \\"Bearer \\" scheme, not shown>"\./);
    assert.match(await send(`Bearer ${KEY} x`), /Received: scheme="Bearer", key="not one token without spaces or commas, not shown"\./);
  });
});

describe('logs', () => {
  it('query strings are redacted in logged URLs, and the right key still works', async () => {
    const before = log.length;
    const res = await server.app.inject({ method: 'GET', url: `/v1/models/tiny?key=${KEY}&x=1`, headers: { authorization: `Bearer ${KEY}` } });
    assert.equal(res.statusCode, 200);
    const lines = log.slice(before).map((l) => JSON.parse(l) as { req?: { url: string } });
    assert.deepEqual(lines.filter((l) => l.req).map((l) => l.req!.url), ['/v1/models/tiny?[redacted]']);
    assert.deepEqual(leaks(log.slice(before).join('')), []);
  });

  it('no payloads: a request body never reaches the log at the default level, while the client sees what failed', async () => {
    const before = log.length;
    const bad = await server.app.inject({
      method: 'POST', url: '/v1/models/tiny:predict', headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' }, payload: '{"a": PAYLOADMARKER}',
    });
    assert.equal(bad.statusCode, 400);
    assert.match(bad.json().error, /PAYLOADMARKER/, 'the answer quotes the parser (for the caller)');
    const wrong = await server.app.inject({
      method: 'POST', url: '/v1/models/tiny:predict', headers: { authorization: `Bearer ${KEY}` }, payload: { instances: ['SECRETPIXELS'] },
    });
    assert.equal(wrong.statusCode, 400);
    const lines = log.slice(before).join('');
    assert.ok(lines.includes('SERVE_E_BAD_JSON') && lines.includes('SERVE_E_BAD_INPUT'));
    assert.ok(!lines.includes('PAYLOADMARKER') && !lines.includes('SECRETPIXELS'), lines);
  });

  for (const [mode, expected] of [['full', '203.0.113.77'], ['anonymized', '203.0.113.0'], ['none', undefined]] as const) {
    it(`--log-client-address ${mode}: the client address is logged as ${expected ?? 'nothing'}`, async () => {
      const lines: string[] = [];
      const s = await testServer(root, { logLevel: 'info', logClientAddress: mode }, KEYS, { write: (line) => void lines.push(line) });
      try {
        await s.app.inject({ method: 'GET', url: '/v2/health/live', remoteAddress: '203.0.113.77' });
        await s.app.inject({ method: 'GET', url: '/v2/health/live', remoteAddress: '2001:db8:1:2::5' });
        const reqs = lines.map((l) => JSON.parse(l) as { req?: { remoteAddress?: string; remotePort?: number } }).filter((l) => l.req).map((l) => l.req!);
        assert.deepEqual(reqs.map((r) => r.remoteAddress), [expected, mode === 'full' ? '2001:db8:1:2::5' : mode === 'anonymized' ? '2001:db8:1::' : undefined]);
        if (mode !== 'full') assert.ok(!lines.join('').includes('.77'));
      } finally {
        await s.close();
      }
    });
  }
});

describe('failed authentication is throttled per client address', () => {
  it(`500 wrong-key requests: ${AUTH_FAILURE_BURST} × 401, then 429 with Retry-After; other addresses unaffected`, async () => {
    const s = await testServer(root, {}, KEYS);
    try {
      const statuses: number[] = [];
      let retryAfter: string | undefined;
      for (let i = 0; i < 500; i++) {
        const res = await s.app.inject({ method: 'GET', url: '/v1/models/tiny', headers: { authorization: `Bearer WrongKeyNumber${i}xxxxxxxx` }, remoteAddress: '198.51.100.9' });
        statuses.push(res.statusCode);
        if (res.statusCode === 429) retryAfter = res.headers['retry-after'] as string;
      }
      assert.equal(statuses.filter((x) => x === 401).length, AUTH_FAILURE_BURST);
      assert.equal(statuses.filter((x) => x === 429).length, 500 - AUTH_FAILURE_BURST);
      assert.deepEqual(statuses.slice(0, AUTH_FAILURE_BURST + 1), [...Array(AUTH_FAILURE_BURST).fill(401), 429]);
      assert.ok(Number(retryAfter) >= 1 && Number(retryAfter) <= 5, `Retry-After: ${retryAfter}`);
      // Throttled means no key is compared, not even the right one, from that address; others are unaffected.
      const same = await s.app.inject({ method: 'GET', url: '/v1/models/tiny', headers: { authorization: `Bearer ${KEY}` }, remoteAddress: '198.51.100.9' });
      assert.equal(same.statusCode, 429);
      assert.match(same.json().error, /^A client address may fail authentication 20 times in a row, then once every 5 s\. Received: failedAuthentications=20, retryAfterSeconds=\d\./);
      const other = await s.app.inject({ method: 'GET', url: '/v1/models/tiny', headers: { authorization: `Bearer ${KEY}` }, remoteAddress: '198.51.100.10' });
      assert.equal(other.statusCode, 200);
      // Health probes need no key and are never throttled.
      assert.equal((await s.app.inject({ method: 'GET', url: '/v2/health/live', remoteAddress: '198.51.100.9' })).statusCode, 200);
      const metrics = await s.ctx.metricsText();
      assert.match(metrics, /insight_serve_auth_failures_total\{outcome="rejected"\} 20\n/);
      assert.match(metrics, new RegExp(`insight_serve_auth_failures_total\\{outcome="throttled"\\} ${500 - AUTH_FAILURE_BURST + 1}\\n`));
    } finally {
      await s.close();
    }
  });
});

describe('the auth throttle counts an IPv6 client by its /64', () => {
  it('addresses of one /64 share a bucket (a client picks any of them); another /64 and IPv4 do not', () => {
    let now = 0;
    const throttle = new AuthThrottle(3, 0.2, () => now);
    for (let i = 1; i <= 3; i++) throttle.fail(`2001:db8:1:2::${i.toString(16)}`);
    assert.ok(throttle.wait('2001:0db8:0001:0002:ffff:1:2:3') > 0, 'same /64, other address: throttled');
    assert.equal(throttle.wait('2001:db8:1:3::1'), 0);
    throttle.fail('::ffff:198.51.100.9');
    assert.equal(throttle.wait('198.51.100.10'), 0);
    assert.equal(throttle.size, 2);
    now = 16_000; // 3 tokens back at 0.2/s: both buckets full, dropped on the next sweep
    throttle.fail('198.51.100.10');
    assert.equal(throttle.size, 1);
  });
});
