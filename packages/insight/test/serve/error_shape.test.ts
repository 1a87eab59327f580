// Every error the framework raises is answered in the documented shape (issue 17, A7): {"error", "code"} with a
// catalogue code, the catalogue's HTTP status and that status's own reason phrase — malformed URLs, over-long path
// segments (414, not "Bad Request"), oversized headers (431), slow requests (408), big bodies (413), wrong content
// types (415), unknown routes and methods (404), malformed JSON (400). Answers never echo the malformed URL,
// never carry this machine's absolute paths, and a 404 for an unknown model says how to list models.
import assert from 'node:assert/strict';
import { STATUS_CODES } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';

import Fastify from 'fastify';

import { ERROR_CODES, type ErrorCode } from '../../src/errors';
import { errorHandler, hidePaths } from '../../src/serve/http/error_handler';
import type { ServeInstance } from '../../src/serve/start';
import { type RawAnswer, rawExchange, saveVersion, tempRepository, testServer } from './helpers';

let root: string;
let server: ServeInstance;
let port: number;

before(async () => {
  root = tempRepository();
  await saveVersion(root, 'tiny', 1);
  await saveVersion(root, 'secret-project-model', 1);
  server = await testServer(root, { bodyLimitMb: 0.01, requestTimeoutMs: 600 });
  await server.app.listen({ port: 0, host: '127.0.0.1' });
  port = (server.app.server.address() as AddressInfo).port;
});
after(() => server.close());

const request = (line: string, headers: Record<string, string> = {}, body = '') =>
  `${line} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n${Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n${body}`;

/** Asserts the house shape, the catalogue status and its reason phrase; returns the message. */
function houseError(answer: RawAnswer | undefined, code: ErrorCode): string {
  assert.ok(answer, 'an answer arrived');
  assert.equal(answer.status, ERROR_CODES[code].httpStatus, answer.body);
  assert.equal(answer.statusText, STATUS_CODES[answer.status]);
  assert.match(answer.headers['content-type'], /^application\/json/);
  const body = JSON.parse(answer.body) as Record<string, unknown>;
  assert.deepEqual(Object.keys(body).sort(), ['code', 'error']);
  assert.equal(body.code, code);
  const message = body.error as string;
  assert.match(message, / Received: .+\. \S/, 'rule + Received + fix');
  assert.ok(!message.includes(root) && !message.includes(os.tmpdir()), message);
  return message;
}

async function one(text: string, timeoutMs = 5000): Promise<RawAnswer | undefined> {
  return (await rawExchange(port, [text], 1, timeoutMs)).answers[0];
}

describe('framework errors in the house shape', () => {
  it('FST_ERR_BAD_URL (bad percent-encoding) → 400 SERVE_E_BAD_INPUT without echoing the URL', async () => {
    const message = houseError(await one(request('GET /v1/models/%E0%A4%A')), 'SERVE_E_BAD_INPUT');
    assert.equal(message, 'The URL path must be valid percent-encoded UTF-8. Received: path="<19 characters, not shown>". Percent-encode names in the URL (e.g. encodeURIComponent).');
  });

  it('a 150-character model name → 414 URI Too Long (SERVE_E_URI_TOO_LONG), not "Bad Request"', async () => {
    const message = houseError(await one(request(`GET /v1/models/${'m'.repeat(150)}`)), 'SERVE_E_URI_TOO_LONG');
    assert.ok(!message.includes('mmmm'));
  });

  it('20 KB of headers → 431 (SERVE_E_HEADERS_TOO_LARGE) and the connection closes', async () => {
    const { answers, closed } = await rawExchange(port, [request('GET /v2/health/live', { 'X-Big': 'a'.repeat(20_000) })], 2, 3000);
    houseError(answers[0], 'SERVE_E_HEADERS_TOO_LARGE');
    assert.equal(answers[0].headers.connection, 'close');
    assert.ok(closed);
  });

  it('a body that stops arriving → 408 (SERVE_E_REQUEST_TIMEOUT) near --request-timeout-ms (600 ms)', async () => {
    const answer = await one(request('POST /v1/models/tiny:predict', { 'Content-Type': 'application/json', 'Content-Length': '200' }, '{"instances": ['), 5000);
    assert.equal(houseError(answer, 'SERVE_E_REQUEST_TIMEOUT'), 'A client must send its whole request within --request-timeout-ms (600 ms). Received: requestTimeoutMs=600. '
      + 'Send the body at once (slow networks: raise --request-timeout-ms).');
    assert.ok(answer!.atMs >= 500 && answer!.atMs < 2500, `cut after ${answer!.atMs} ms`);
  });

  it('a body over --body-limit-mb → 413 (declared, and chunked)', async () => {
    const big = JSON.stringify({ instances: [[[[1, 2, 3]]]], pad: 'x'.repeat(20_000) });
    houseError(await one(request('POST /v1/models/tiny:predict', { 'Content-Type': 'application/json', 'Content-Length': String(big.length) }, big)), 'SERVE_E_PAYLOAD_TOO_LARGE');
    const chunked = `${big.length.toString(16)}\r\n${big}\r\n0\r\n\r\n`;
    houseError(await one(request('POST /v1/models/tiny:predict', { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' }, chunked)), 'SERVE_E_PAYLOAD_TOO_LARGE');
  });

  it('a wrong content type → 415, malformed JSON → 400 SERVE_E_BAD_JSON', async () => {
    houseError(await one(request('POST /v1/models/tiny:predict', { 'Content-Type': 'text/csv', 'Content-Length': '3' }, '1,2')), 'SERVE_E_UNSUPPORTED_MEDIA');
    houseError(await one(request('POST /v1/models/tiny:predict', { 'Content-Type': 'application/json', 'Content-Length': '5' }, '{oops')), 'SERVE_E_BAD_JSON');
  });

  it('an unknown route and an unknown method → 404 SERVE_E_NOT_FOUND', async () => {
    houseError(await one(request('GET /v3/nothing')), 'SERVE_E_NOT_FOUND');
    houseError(await one(request('DELETE /v1/models/tiny')), 'SERVE_E_NOT_FOUND');
    houseError(await one(request('BREW /v1/models/tiny')), 'SERVE_E_BAD_INPUT');
  });

  it('an unknown model → 404 SERVE_E_MODEL_NOT_FOUND that says it is unknown', async () => {
    const message = houseError(await one(request('GET /v1/models/nope')), 'SERVE_E_MODEL_NOT_FOUND');
    assert.match(message, /Received: model="nope"/);
  });

  it('an unknown model\'s 404 does not list every model name', async () => {
    const message = houseError(await one(request('GET /v1/models/nope')), 'SERVE_E_MODEL_NOT_FOUND');
    assert.ok(!message.includes('secret-project-model'), message);
  });
});

describe('absolute paths never reach an answer', () => {
  it('hidePaths maps the repository, the temp folder, the home folder and the working directory to labels', () => {
    const text = `open '${path.join(root, 'tiny', '1', 'w.bin')}', '${path.join(os.tmpdir(), 'x.bin')}', '${path.join(os.homedir(), '.insight', 'k')}', '${path.join(process.cwd(), 'm.json')}'`;
    assert.equal(hidePaths(text, root), "open '<models>/tiny/1/w.bin', '<tmp>/x.bin', '<home>/.insight/k', './m.json'");
    assert.equal(hidePaths('POST /v1/models/<model>:predict', root), 'POST /v1/models/<model>:predict');
  });

  it('a framework error whose message carries a path is answered without it', async () => {
    const app = Fastify({ logger: false });
    app.setErrorHandler(errorHandler({ bodyLimit: 1024, models: root }));
    app.get('/fault', async () => {
      throw Object.assign(new Error(`ENOENT: no such file, open '${path.join(root, 'tiny', '1', 'x')}'`), { statusCode: 422 });
    });
    const res = await app.inject({ method: 'GET', url: '/fault' });
    await app.close();
    assert.equal(res.statusCode, 400);
    assert.equal(res.json().code, 'SERVE_E_BAD_INPUT');
    assert.ok(!res.body.includes(root) && res.body.includes('<models>/tiny/1/x'), res.body);
  });
});
