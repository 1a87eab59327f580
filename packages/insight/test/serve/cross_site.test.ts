// A server without keys (loopback only) refuses cross-site and DNS-rebinding requests (issue 17, A4): admin and
// state-changing routes need a loopback Host (with the listening port) and the server's own Origin; GETs of
// inference metadata and health probes stay open; a server with keys is protected by its keys instead.
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';

import type { ServeInstance } from '../../src/serve/start';
import { ADMIN_KEY, KEYS, bearer, instance, rawExchange, saveVersion, tempRepository, testServer } from './helpers';

let root: string;
let server: ServeInstance;
let port: number;

before(async () => {
  root = tempRepository();
  await saveVersion(root, 'tiny', 1);
  server = await testServer(root);
  await server.app.listen({ port: 0, host: '127.0.0.1' });
  port = (server.app.server.address() as AddressInfo).port;
});
after(() => server.close());

/** One request on a real connection (so the server knows its port), with exactly these headers. */
async function send(method: string, path: string, headers: Record<string, string>, body = '') {
  const head = `${method} ${path} HTTP/1.1\r\n${Object.entries({ ...headers, 'Content-Length': String(Buffer.byteLength(body)) }).map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n`;
  const { answers } = await rawExchange(port, [head + body], 1, 5000);
  assert.equal(answers.length, 1);
  return { status: answers[0].status, body: JSON.parse(answers[0].body) as Record<string, unknown> };
}

const unloaded = () => server.ctx.repository.snapshot().find((m) => m.name === 'tiny')!.unloaded;

describe('keyless loopback server: cross-site requests', () => {
  it('the issue\'s attack — POST unload with Origin evil.example and Host rebind.evil.example:PORT — is 403 and unloads nothing', async () => {
    const res = await send('POST', '/admin/models/tiny/unload', { Host: `rebind.evil.example:${port}`, Origin: 'http://evil.example' });
    assert.equal(res.status, 403);
    assert.deepEqual(res.body, {
      code: 'SERVE_E_FORBIDDEN',
      error: `A server without API keys answers admin and state-changing requests only for a loopback Host (DNS rebinding). Received: host="rebind.evil.example:${port}". `
        + 'Call the server from a local program (curl, a script) at http://127.0.0.1:<port>, not from a web page; or start it with API keys.',
    });
    assert.equal(unloaded(), false);
  });

  it('CSRF shape: a loopback Host with a foreign Origin is 403', async () => {
    const res = await send('POST', '/admin/models/tiny/unload', { Host: `127.0.0.1:${port}`, Origin: 'http://evil.example' });
    assert.equal(res.status, 403);
    assert.match(res.body.error as string, /^A server without API keys answers admin and state-changing requests only from its own origin \(CSRF\)\. Received: origin="http:\/\/evil\.example"\./);
    assert.equal(unloaded(), false);
  });

  it('DNS rebinding shape: a foreign Host without Origin is 403, for admin reads and inference POSTs too', async () => {
    for (const [method, path, body] of [['POST', '/admin/models/tiny/unload', ''], ['GET', '/admin/models', ''],
      ['POST', '/v1/models/tiny:predict', JSON.stringify({ instances: [instance(1)] })]] as const) {
      const res = await send(method, path, { Host: `rebind.evil.example:${port}`, 'Content-Type': 'application/json' }, body);
      assert.equal(res.status, 403, `${method} ${path}`);
      assert.equal(res.body.code, 'SERVE_E_FORBIDDEN');
    }
    assert.equal(unloaded(), false);
  });

  it('Sec-Fetch-Site cross-site or same-site, a null Origin, another loopback port, no Host: 403', async () => {
    const cases: Record<string, string>[] = [
      { Host: `127.0.0.1:${port}`, 'Sec-Fetch-Site': 'cross-site' },
      { Host: `localhost:${port}`, 'Sec-Fetch-Site': 'same-site' },
      { Host: `127.0.0.1:${port}`, Origin: 'null' },
      { Host: `127.0.0.1:${port}`, Origin: `http://127.0.0.1:${port + 1}` },
      { Host: `127.0.0.1:${port + 1}` },
      { Host: `localhost.evil.example:${port}` },
      { Host: `127.0.0.1.nip.io:${port}` },
    ];
    for (const headers of cases) assert.equal((await send('POST', '/admin/models/tiny/reload', headers)).status, 403, JSON.stringify(headers));
    assert.equal(unloaded(), false);
  });

  it('GETs of inference metadata and health probes stay open from any Host', async () => {
    assert.equal((await send('GET', '/v1/models/tiny', { Host: `rebind.evil.example:${port}` })).status, 200);
    assert.equal((await send('GET', '/v2/health/ready', { Host: `rebind.evil.example:${port}`, Origin: 'http://evil.example' })).status, 200);
  });

  it('local programs and same-origin pages still work: loopback Host names, own Origin, Sec-Fetch-Site same-origin', async () => {
    const predict = JSON.stringify({ instances: [instance(1)] });
    const allowed: Record<string, string>[] = [{ Host: `127.0.0.1:${port}` }, { Host: `localhost:${port}` }, { Host: `[::1]:${port}` }, { Host: '127.0.0.1' },
      { Host: `127.0.0.1:${port}`, Origin: `http://127.0.0.1:${port}`, 'Sec-Fetch-Site': 'same-origin' }];
    for (const headers of allowed) {
      const res = await send('POST', '/v1/models/tiny:predict', { ...headers, 'Content-Type': 'application/json' }, predict);
      assert.equal(res.status, 200, JSON.stringify(headers));
    }
    const reload = await send('POST', '/admin/models/tiny/reload', { Host: `localhost:${port}`, Origin: `http://localhost:${port}` });
    assert.equal(reload.status, 200);
  });
});

describe('a server with keys', () => {
  it('takes an admin request with a valid key whatever Host and Origin say (browsers do not send keys by themselves)', async () => {
    const keyed = await testServer(root, {}, KEYS);
    try {
      const res = await keyed.app.inject({ method: 'GET', url: '/admin/models', headers: { ...bearer(ADMIN_KEY), host: 'rebind.evil.example:1', origin: 'http://evil.example' } });
      assert.equal(res.statusCode, 200);
      const anonymous = await keyed.app.inject({ method: 'POST', url: '/admin/models/tiny/unload', headers: { host: 'rebind.evil.example:1', origin: 'http://evil.example' } });
      assert.equal(anonymous.statusCode, 401);
    } finally {
      await keyed.close();
    }
  });
});
