// Image uploads (:classify-image, raw body or multipart) and images inside JSON: the model's own preprocessing,
// top-k, and every way an image can be bad — truncated, fake, empty, unsupported, a decompression bomb (refused
// from its header, before decoding) — answered 4xx with the server staying up and no tensor leaked.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import sharp from 'sharp';

import { tf } from '../../src/backend';
import { normalizeImages } from '../../src/data';
import type { ServeInstance } from '../../src/serve/start';
import { CLASSES, NORMALIZATION, SIZE, imageBytes, referenceProbabilities, saveVersion, tempRepository, testServer } from './helpers';

let server: ServeInstance;
let dir: string;
const MAX_PIXELS = 1_000_000;

before(async () => {
  const root = tempRepository();
  dir = await saveVersion(root, 'tiny', 1);
  server = await testServer(root, { maxImagePixels: MAX_PIXELS, maxInstances: 3, bodyLimitMb: 1 });
});
after(() => server.close());

const upload = (payload: Buffer | string, contentType: string, query = '') =>
  server.app.inject({ method: 'POST', url: `/v1/models/tiny:classify-image${query}`, payload, headers: { 'content-type': contentType } });

function multipart(files: { name: string; bytes: Buffer; type?: string }[], fields: Record<string, string> = {}): { payload: Buffer; contentType: string } {
  const boundary = '----insight-test-boundary';
  const parts: Buffer[] = [];
  for (const [name, value] of Object.entries(fields)) {
    parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`));
  }
  for (const f of files) {
    parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="image"; filename="${f.name}"\r\nContent-Type: ${f.type ?? 'image/png'}\r\n\r\n`));
    parts.push(f.bytes, Buffer.from('\r\n'));
  }
  parts.push(Buffer.from(`--${boundary}--\r\n`));
  return { payload: Buffer.concat(parts), contentType: `multipart/form-data; boundary=${boundary}` };
}

/** CRC-32 (PNG chunks). */
function crc32(bytes: Buffer): number {
  let crc = ~0;
  for (const b of bytes) {
    crc ^= b;
    for (let k = 0; k < 8; k++) crc = (crc >>> 1) ^ (0xedb88320 & -(crc & 1));
  }
  return ~crc >>> 0;
}

/** A small valid PNG whose header claims width x height: a decompression bomb's signature. */
async function pngClaiming(width: number, height: number): Promise<Buffer> {
  const png = Buffer.from(await imageBytes(4, 4));
  png.writeUInt32BE(width, 16);
  png.writeUInt32BE(height, 20);
  png.writeUInt32BE(crc32(png.subarray(12, 29)), 29);
  return png;
}

/** The reference: decode + resize + normalize by hand, then the model directly. */
async function reference(bytes: Buffer): Promise<Float32Array> {
  const { data } = await sharp(bytes).removeAlpha().toColourspace('srgb').resize(SIZE, SIZE, { fit: 'fill' }).raw().toBuffer({ resolveWithObject: true });
  const x = normalizeImages(new Uint8Array(data), NORMALIZATION);
  const nested = Array.from({ length: SIZE }, (_, y) => Array.from({ length: SIZE }, (_, c) => Array.from(x.subarray((y * SIZE + c) * 3, (y * SIZE + c) * 3 + 3))));
  return referenceProbabilities(dir, [nested]);
}

describe(':classify-image', () => {
  it('a raw PNG body → top-k classes with the probabilities of the model\'s own preprocessing', async () => {
    const png = await imageBytes(40, 24);
    const res = await upload(png, 'image/png');
    assert.equal(res.statusCode, 200, res.body);
    const body = res.json();
    assert.deepEqual(body.model_spec, { name: 'tiny', version: '1' });
    const [prediction] = body.predictions;
    assert.equal(prediction.file, null);
    assert.equal(prediction.top.length, CLASSES.length);
    const expected = await reference(png);
    for (const t of prediction.top) {
      assert.equal(t.class_name, CLASSES[t.index]);
      assert.ok(Math.abs(t.probability - expected[t.index]) < 1e-5, `${t.probability} vs ${expected[t.index]}`);
    }
    assert.ok(prediction.top[0].probability >= prediction.top[1].probability);
  });

  it('JPEG, WebP and application/octet-stream bodies work; ?top_k limits the classes', async () => {
    for (const [format, type] of [['jpeg', 'image/jpeg'], ['webp', 'image/webp'], ['png', 'application/octet-stream']] as const) {
      const res = await upload(await imageBytes(16, 16, format), type, '?top_k=1');
      assert.equal(res.statusCode, 200, `${type}: ${res.body}`);
      assert.equal(res.json().predictions[0].top.length, 1);
    }
  });

  it('multipart uploads classify every file, in order, named', async () => {
    const a = await imageBytes(16, 16);
    const b = await imageBytes(30, 10, 'jpeg');
    const { payload, contentType } = multipart([{ name: 'a.png', bytes: a }, { name: 'b.jpg', bytes: b, type: 'image/jpeg' }], { note: 'ignored' });
    const res = await upload(payload, contentType, '?top_k=2');
    assert.equal(res.statusCode, 200, res.body);
    const predictions = res.json().predictions;
    assert.deepEqual(predictions.map((p: { file: string }) => p.file), ['a.png', 'b.jpg']);
    const expected = await reference(a);
    assert.ok(Math.abs(predictions[0].top[0].probability - expected[predictions[0].top[0].index]) < 1e-5);
  });
});

describe('bad images are 4xx, the server stays up, and no tensor leaks', () => {
  const cases: { name: string; send: () => Promise<{ payload: Buffer | string; type: string; query?: string }>; status: number; code: string; message: RegExp }[] = [
    { name: 'truncated PNG', send: async () => ({ payload: (await imageBytes(64, 64)).subarray(0, 200), type: 'image/png' }),
      status: 400, code: 'SERVE_E_BAD_IMAGE', message: /^An image must be a complete JPEG, PNG, WebP or GIF file\. Received: body="200 bytes", error=".+"\. Send the whole file/ },
    { name: 'fake JPEG (random bytes)', send: async () => ({ payload: Buffer.from('this is not a jpeg at all, just text'), type: 'image/jpeg' }),
      status: 400, code: 'SERVE_E_BAD_IMAGE', message: /^An image must be a complete JPEG, PNG, WebP or GIF file\./ },
    { name: 'truncated JPEG', send: async () => { const j = await imageBytes(64, 64, 'jpeg'); return { payload: j.subarray(0, j.length - 300), type: 'image/jpeg' }; },
      status: 400, code: 'SERVE_E_BAD_IMAGE', message: /must be a complete/ },
    { name: 'empty body', send: async () => ({ payload: Buffer.alloc(0), type: 'image/png' }),
      status: 400, code: 'SERVE_E_BAD_IMAGE', message: /^An image must not be empty\. Received: body="0 bytes"\./ },
    { name: 'decompression bomb: header claims 100000 x 100000', send: async () => ({ payload: await pngClaiming(100_000, 100_000), type: 'image/png' }),
      status: 413, code: 'SERVE_E_IMAGE_TOO_LARGE', message: /^An image may have at most --max-image-pixels=1000000 pixels\. Received: body="100000x100000 = 10000000000 pixels"\. Downscale it/ },
    { name: 'real image over the pixel limit (2000 x 1000, highly compressible)', send: async () => ({
      payload: await sharp({ create: { width: 2000, height: 1000, channels: 3, background: '#000' } }).png().toBuffer(), type: 'image/png' }),
      status: 413, code: 'SERVE_E_IMAGE_TOO_LARGE', message: /2000x1000 = 2000000 pixels/ },
    { name: 'unsupported format in an accepted type (TIFF sent as image/png)', send: async () => ({
      payload: await sharp({ create: { width: 4, height: 4, channels: 3, background: '#fff' } }).tiff().toBuffer(), type: 'image/png' }),
      status: 400, code: 'SERVE_E_BAD_IMAGE', message: /^An image must be one of: jpeg, png, webp, gif\. Received: body="tiff"/ },
    { name: 'SVG content type', send: async () => ({ payload: '<svg xmlns="http://www.w3.org/2000/svg"/>', type: 'image/svg+xml' }),
      status: 415, code: 'SERVE_E_UNSUPPORTED_MEDIA', message: /^The Content-Type must be application\/json, multipart\/form-data or one of image\/jpeg.* Received: content-type="image\/svg\+xml"/ },
    { name: 'text/plain', send: async () => ({ payload: 'hello', type: 'text/plain' }),
      status: 415, code: 'SERVE_E_UNSUPPORTED_MEDIA', message: /Received: content-type="text\/plain"/ },
    { name: 'JSON to the image route', send: async () => ({ payload: '{"instances": []}', type: 'application/json' }),
      status: 415, code: 'SERVE_E_UNSUPPORTED_MEDIA', message: /^Image routes take the image bytes as the body .* JSON clients use :predict with \{"b64": \.\.\.\}\.$/ },
    { name: 'multipart without files', send: async () => { const m = multipart([], { a: 'b' }); return { payload: m.payload, type: m.contentType }; },
      status: 400, code: 'SERVE_E_BAD_INPUT', message: /^A multipart upload must contain at least one file part\./ },
    { name: 'multipart with more files than --max-instances', send: async () => {
      const png = await imageBytes(8, 8);
      const m = multipart([1, 2, 3, 4, 5].map((i) => ({ name: `${i}.png`, bytes: png })));
      return { payload: m.payload, type: m.contentType };
    }, status: 413, code: 'SERVE_E_PAYLOAD_TOO_LARGE', message: /^A multipart upload may have at most --max-instances files/ },
    { name: 'multipart file over the body limit', send: async () => {
      const m = multipart([{ name: 'big.png', bytes: Buffer.alloc(2 * 1024 * 1024, 7) }]);
      return { payload: m.payload, type: m.contentType };
    }, status: 413, code: 'SERVE_E_PAYLOAD_TOO_LARGE', message: /^A request body \(or uploaded file\) may be at most --body-limit-mb \(1048576 bytes\)/ },
    { name: 'raw body over the body limit', send: async () => ({ payload: Buffer.alloc(1024 * 1024 + 1, 1), type: 'image/png' }),
      status: 413, code: 'SERVE_E_PAYLOAD_TOO_LARGE', message: /may be at most --body-limit-mb/ },
    { name: 'malformed multipart (no closing boundary)', send: async () => {
      const m = multipart([{ name: 'a.png', bytes: await imageBytes(8, 8) }]);
      return { payload: m.payload.subarray(0, m.payload.length - 40), type: m.contentType };
    }, status: 400, code: 'SERVE_E_BAD_INPUT', message: /^A multipart body must be complete and well-formed\. Received: error="Premature close"\./ },
    { name: 'top_k=0', send: async () => ({ payload: await imageBytes(8, 8), type: 'image/png', query: '?top_k=0' }),
      status: 400, code: 'SERVE_E_BAD_INPUT', message: /^top_k must be a positive integer\. Received: top_k="0"\./ },
  ];

  for (const c of cases) {
    it(c.name, async () => {
      const { payload, type, query } = await c.send();
      const before = tf.memory().numTensors;
      const res = await upload(payload, type, query);
      assert.equal(res.statusCode, c.status, res.body);
      assert.equal(res.json().code, c.code);
      assert.match(res.json().error, c.message);
      assert.equal(tf.memory().numTensors, before, 'no tensor leaked');
      const ok = await upload(await imageBytes(8, 8), 'image/png');
      assert.equal(ok.statusCode, 200, 'the server still answers');
    });
  }

  it('an image bomb inside JSON ({"b64": ...}) is refused the same way', async () => {
    const res = await server.app.inject({ method: 'POST', url: '/v1/models/tiny:predict', payload: { instances: [{ b64: (await pngClaiming(50_000, 50_000)).toString('base64') }] } });
    assert.equal(res.statusCode, 413);
    assert.match(res.json().error, /Received: instances\[0\]\.b64="50000x50000 = 2500000000 pixels"/);
  });
});
