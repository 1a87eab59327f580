// TF Serving's REST docs call the server with `curl -d '{"instances": ...}' -X POST .../v1/models/<m>:predict`, which
// sends the JSON as Content-Type application/x-www-form-urlencoded; TF Serving reads it as JSON, and so do our TF
// Serving routes. The request below is byte for byte what curl 7.88 sends for that command (request line and headers
// as captured from `curl -d ... -X POST`), written on a raw socket to a listening server.
import assert from 'node:assert/strict';
import * as net from 'node:net';
import { after, before, describe, it } from 'node:test';

import type { ServeInstance } from '../../src/serve/start';
import { CLASSES, instance, referenceProbabilities, saveVersion, tempRepository, testServer } from './helpers';

let server: ServeInstance;
let dir: string;
let port: number;

before(async () => {
  const root = tempRepository();
  dir = await saveVersion(root, 'tiny', 1);
  server = await testServer(root, { drainMs: 0 });
  port = Number(new URL(await server.app.listen({ port: 0, host: '127.0.0.1' })).port);
});
after(() => server.close());

/** `curl -d '<body>' -X POST http://127.0.0.1:<port><path>` as raw bytes; resolves with status, headers and body. */
function curlDashD(path: string, body: string, contentType = 'application/x-www-form-urlencoded'): Promise<{ status: number; head: string; body: string }> {
  const request = `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUser-Agent: curl/7.88.1\r\nAccept: */*\r\n` +
    `Content-Length: ${Buffer.byteLength(body)}\r\nContent-Type: ${contentType}\r\n\r\n${body}`;
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.end(request));
    let text = '';
    socket.on('data', (c) => { text += c.toString(); });
    socket.on('error', reject);
    socket.on('close', () => {
      const split = text.indexOf('\r\n\r\n');
      resolve({ status: Number(text.slice(9, 12)), head: text.slice(0, split), body: text.slice(split + 4) });
    });
    // The server keeps the connection open (keep-alive): close once the whole response is in.
    socket.on('data', () => {
      const split = text.indexOf('\r\n\r\n');
      const length = /content-length: (\d+)/i.exec(text.slice(0, split));
      if (split >= 0 && length !== null && Buffer.byteLength(text.slice(split + 4)) >= Number(length[1])) socket.destroy();
    });
  });
}

describe('TF Serving: the documented curl -d shape (form content type)', () => {
  it(':predict reads the form-encoded body as JSON and answers as for application/json', async () => {
    const xs = [instance(1), instance(2)];
    const body = JSON.stringify({ instances: xs });
    const form = await curlDashD('/v1/models/tiny:predict', body);
    assert.equal(form.status, 200, form.body);
    const asJson = await curlDashD('/v1/models/tiny:predict', body, 'application/json');
    assert.deepEqual(JSON.parse(form.body), JSON.parse(asJson.body));
    const reference = await referenceProbabilities(dir, xs);
    const predictions: number[][] = JSON.parse(form.body).predictions;
    predictions.flat().forEach((p, i) => assert.ok(Math.abs(p - reference[i]) < 1e-5, `${p} vs ${reference[i]}`));
  });

  it(':classify and a versioned URL too; a charset parameter is fine', async () => {
    const res = await curlDashD('/v1/models/tiny/versions/1:classify', JSON.stringify({ examples: [{ image: instance(3) }] }),
      'application/x-www-form-urlencoded; charset=utf-8');
    assert.equal(res.status, 200, res.body);
    const results: [string, number][][] = JSON.parse(res.body).results;
    assert.deepEqual(results[0].map(([label]) => label).sort(), [...CLASSES].sort());
  });

  it('a form body that is not JSON is 400 SERVE_E_BAD_JSON (as a JSON body would be), not 415', async () => {
    const res = await curlDashD('/v1/models/tiny:predict', 'instances=1&x=2');
    assert.equal(res.status, 400);
    assert.equal(JSON.parse(res.body).code, 'SERVE_E_BAD_JSON');
    assert.match(JSON.parse(res.body).error, /^The body must be valid JSON\./);
  });

  it('only the TF Serving routes read forms as JSON: KServe v2 infer still answers 415', async () => {
    const res = await curlDashD('/v2/models/tiny/infer', JSON.stringify({ inputs: [{ name: 'image', shape: [1, 8, 8, 3], datatype: 'FP32', data: instance(1).flat(2) }] }));
    assert.equal(res.status, 415, res.body);
    assert.equal(JSON.parse(res.body).code, 'SERVE_E_UNSUPPORTED_MEDIA');
  });
});
