// Rejected multipart uploads must not stall their connection (issue 17, A2): a 413 for too many fields or files is
// answered with the house error, and the rest of the body is drained (declared length within --body-limit-mb), so
// the next request on the same kept-alive connection is answered at once; a body declared (or streamed) beyond the
// limit is answered and the connection closed. 20 fields (limit 16) ahead of a file is 413, not 400 "Premature close".
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';

import type { ServeInstance } from '../../src/serve/start';
import { multipartBody, rawExchange, saveVersion, tempRepository, testServer } from './helpers';

let server: ServeInstance;
let port: number;
const BOUNDARY = 'insight-test-boundary';

before(async () => {
  const root = tempRepository();
  await saveVersion(root, 'tiny', 1);
  server = await testServer(root, { maxInstances: 4, maxQueueSize: 16, bodyLimitMb: 2 });
  await server.app.listen({ port: 0, host: '127.0.0.1' });
  port = (server.app.server.address() as AddressInfo).port;
});
after(() => server.close());

const upload = (body: Buffer, headers: Record<string, string> = { 'Content-Length': String(body.length) }) => Buffer.concat([
  Buffer.from(`POST /v1/models/tiny:classify-image HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Type: multipart/form-data; boundary=${BOUNDARY}\r\n`
    + `${Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n`),
  body,
]);
const health = () => `GET /v2/health/live HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`;

describe('multipart limits keep the connection usable', () => {
  it('20 fields (limit 16) ahead of a 1 MB file: 413, and the next request on the connection is answered at once', async () => {
    const { answers } = await rawExchange(port, [upload(multipartBody(BOUNDARY, 20, 1, 1_000_000)), health()], 2, 10_000);
    assert.equal(answers.length, 2, 'both answers arrive on the one connection');
    assert.equal(answers[0].status, 413);
    assert.equal(answers[0].statusText, 'Payload Too Large');
    assert.deepEqual(JSON.parse(answers[0].body), {
      code: 'SERVE_E_PAYLOAD_TOO_LARGE',
      error: 'A multipart upload may have at most --max-instances files and 16 other fields. Received: limit="fields". Split the images over several requests.',
    });
    assert.equal(answers[0].headers.connection, 'keep-alive');
    assert.equal(answers[1].status, 200);
    assert.deepEqual(JSON.parse(answers[1].body), { live: true });
    assert.ok(answers[1].atMs < 2000, `the second answer came after ${answers[1].atMs} ms`);
  });

  it('6 files of 300 KB (limit 4): 413 from @fastify/multipart, and the next request is answered at once', async () => {
    const { answers } = await rawExchange(port, [upload(multipartBody(BOUNDARY, 0, 6, 300_000)), health()], 2, 10_000);
    assert.equal(answers.length, 2);
    assert.equal(answers[0].status, 413);
    assert.equal(JSON.parse(answers[0].body).code, 'SERVE_E_PAYLOAD_TOO_LARGE');
    assert.equal(JSON.parse(answers[0].body).error, 'A multipart upload may have at most --max-instances files and 16 other fields. Received: limit="files". Split the images over several requests.');
    assert.equal(answers[1].status, 200);
    assert.ok(answers[1].atMs < 2000, `the second answer came after ${answers[1].atMs} ms`);
  });

  it('a body declared over --body-limit-mb: 413 before any byte is read, and the connection closes', async () => {
    const head = upload(Buffer.alloc(0), { 'Content-Length': String(3 * 1024 * 1024) });
    const { answers, closed } = await rawExchange(port, [head, Buffer.alloc(64 * 1024, 0x41)], 2, 5000);
    assert.equal(answers.length, 1);
    assert.equal(answers[0].status, 413);
    assert.equal(answers[0].headers.connection, 'close');
    assert.match(JSON.parse(answers[0].body).error, /^A request body \(or uploaded file\) may be at most --body-limit-mb \(2097152 bytes\)\. Received: content-length="3145728"\./);
    assert.ok(closed && answers[0].atMs < 2000, `answered after ${answers[0].atMs} ms`);
  });

  it('a chunked upload with too many files: 413 and the connection closes (its length is unknown)', async () => {
    const body = multipartBody(BOUNDARY, 0, 6, 200_000);
    const chunked = Buffer.concat([Buffer.from(`${body.length.toString(16)}\r\n`), body, Buffer.from('\r\n')]);
    const { answers, closed } = await rawExchange(port, [upload(chunked, { 'Transfer-Encoding': 'chunked' })], 2, 5000);
    assert.equal(answers.length, 1);
    assert.equal(answers[0].status, 413);
    assert.equal(answers[0].headers.connection, 'close');
    assert.ok(closed);
  });

  it('the server still answers two requests on one fresh kept-alive connection', async () => {
    const { answers } = await rawExchange(port, [health(), health()], 2, 5000);
    assert.deepEqual(answers.map((a) => a.status), [200, 200]);
  });
});
