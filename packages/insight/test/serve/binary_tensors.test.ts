// The binary tensor data extension (KServe v2 / Triton), both ways. Requests are built byte by byte here as the spec
// describes them (JSON header, then little-endian tensor bytes; Inference-Header-Content-Length = the JSON's bytes),
// responses are taken apart by hand (DataView), and the codec's fast decoders are compared with its plain reference.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import {
  BinaryChunks, decodeBytesElements, decodeReference, encodeBinaryBody, encodeBytesElements, halfToFloat, splitBinaryBody, toFloat32,
  type FixedDatatype,
} from '../../src/serve/inputs/binary_tensors';
import type { ServeInstance } from '../../src/serve/start';
import { SIZE, imageBytes, instance, referenceProbabilities, saveVersion, tempRepository, testServer } from './helpers';

const ROW = SIZE * SIZE * 3;
const INFER = '/v2/models/tiny/infer';

/** A binary request body per the spec: JSON header, then each tensor's bytes; returns the header length too. */
function binaryRequest(header: object, ...tensors: Uint8Array[]): { payload: Buffer; headers: Record<string, string> } {
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  return { payload: Buffer.concat([json, ...tensors]), headers: { 'inference-header-content-length': String(json.length) } };
}

/** float32 values → little-endian bytes, written one by one. */
function f32(values: ArrayLike<number>): Buffer {
  const out = Buffer.alloc(values.length * 4);
  for (let i = 0; i < values.length; i++) out.writeFloatLE(values[i], i * 4);
  return out;
}

/** A response body split by hand: the JSON answer and the bytes after it. */
function splitResponse(res: { headers: Record<string, unknown>; rawPayload: Buffer }): { answer: { outputs: { name: string; datatype: string; shape: number[]; parameters?: { binary_data_size: number }; data?: unknown[] }[] }; rest: Buffer } {
  const n = Number(res.headers['inference-header-content-length']);
  assert.ok(Number.isInteger(n) && n > 0, 'Inference-Header-Content-Length is set');
  return { answer: JSON.parse(res.rawPayload.subarray(0, n).toString('utf8')), rest: res.rawPayload.subarray(n) };
}

/** little-endian float32 bytes → numbers, by hand. */
function readF32(bytes: Buffer): number[] {
  return Array.from({ length: bytes.length / 4 }, (_, i) => bytes.readFloatLE(i * 4));
}

describe('binary tensor codec', () => {
  it('every fixed datatype decodes like the DataView reference, from unaligned offsets too', () => {
    const cases: [FixedDatatype, number[], (b: Buffer, v: number, o: number) => void, number][] = [
      ['FP32', [1.5, -2.25, 3e-8, 65504], (b, v, o) => b.writeFloatLE(v, o), 4],
      ['FP64', [0.1, -7, 1e10], (b, v, o) => b.writeDoubleLE(v, o), 8],
      ['UINT8', [0, 7, 255], (b, v, o) => b.writeUInt8(v, o), 1],
      ['INT8', [-128, 0, 127], (b, v, o) => b.writeInt8(v, o), 1],
      ['UINT16', [0, 513, 65535], (b, v, o) => b.writeUInt16LE(v, o), 2],
      ['INT16', [-32768, 1, 32767], (b, v, o) => b.writeInt16LE(v, o), 2],
      ['INT32', [-5, 0, 255, 2 ** 24], (b, v, o) => b.writeInt32LE(v, o), 4],
      ['UINT32', [0, 4096, 2 ** 31], (b, v, o) => b.writeUInt32LE(v, o), 4],
      ['INT64', [-3, 2 ** 40], (b, v, o) => b.writeBigInt64LE(BigInt(v), o), 8],
      ['BOOL', [0, 1, 1], (b, v, o) => b.writeUInt8(v, o), 1],
    ];
    for (const [datatype, values, write, size] of cases) {
      // One padding byte in front: the tensor starts at an odd offset, as it does after a JSON header.
      const raw = Buffer.alloc(1 + values.length * size);
      values.forEach((v, i) => write(raw, v, 1 + i * size));
      const bytes = raw.subarray(1);
      const fast = toFloat32(bytes, datatype, values.length);
      assert.deepEqual(Array.from(fast), values.map(Math.fround), datatype);
      assert.deepEqual(decodeReference(bytes, datatype).map(Math.fround), Array.from(fast), `${datatype} reference`);
      // Straight into a slice of a bigger (batch) buffer, leaving its neighbours alone.
      const batch = new Float32Array(values.length + 2).fill(-1);
      toFloat32(bytes, datatype, values.length, 'x', batch.subarray(1, 1 + values.length));
      assert.deepEqual(Array.from(batch), [-1, ...values.map(Math.fround), -1], `${datatype} into a subarray`);
    }
  });

  it('FP16 bit patterns decode to their values (normal, subnormal, infinity, NaN)', () => {
    const patterns: [number, number][] = [[0x3c00, 1], [0xc000, -2], [0x7bff, 65504], [0x0001, 2 ** -24], [0x3555, 0.333251953125],
      [0x8000, -0], [0x7c00, Infinity], [0xfc00, -Infinity]];
    const bytes = Buffer.alloc(2 * (patterns.length + 1));
    patterns.forEach(([bits], i) => bytes.writeUInt16LE(bits, 2 * i));
    bytes.writeUInt16LE(0x7e00, 2 * patterns.length); // NaN
    const out = toFloat32(bytes, 'FP16', patterns.length + 1);
    patterns.forEach(([bits, value], i) => {
      assert.equal(out[i], value, `0x${bits.toString(16)}`);
      assert.equal(halfToFloat(bits), value);
    });
    assert.ok(Number.isNaN(out[patterns.length]));
    // Every one of the 65536 patterns agrees with the reference.
    const all = Buffer.alloc(65536 * 2);
    for (let h = 0; h < 65536; h++) all.writeUInt16LE(h, 2 * h);
    const table = toFloat32(all, 'FP16', 65536);
    const reference = decodeReference(all, 'FP16');
    for (let h = 0; h < 65536; h++) assert.ok(Object.is(table[h], Math.fround(reference[h])) || (Number.isNaN(table[h]) && Number.isNaN(reference[h])), `0x${h.toString(16)}`);
  });

  it('BYTES elements: 4-byte little-endian length, then the bytes', () => {
    const hand = Buffer.from([2, 0, 0, 0, 0x68, 0x69, 0, 0, 0, 0, 3, 0, 0, 0, 0x61, 0x62, 0x63]);
    assert.deepEqual(decodeBytesElements(hand, 3).map((b) => b.toString()), ['hi', '', 'abc']);
    assert.deepEqual(encodeBytesElements(['hi', '', 'abc']), hand);
    assert.throws(() => decodeBytesElements(hand.subarray(0, 15), 3), /^ServeError: A binary BYTES tensor must be product\(shape\) elements/);
    assert.throws(() => decodeBytesElements(hand, 2), /Received: tensor="tensor", expectedElements=2, elementsRead=2, bytesRead=10/);
  });

  it('splits a body at Inference-Header-Content-Length; chunk and length errors say what is wrong', () => {
    const body = Buffer.concat([Buffer.from('{"a":1}'), Buffer.from([1, 2, 3, 4, 5])]);
    const { json, binary } = splitBinaryBody(body, '7');
    assert.equal(json, '{"a":1}');
    assert.deepEqual([...binary], [1, 2, 3, 4, 5]);
    for (const bad of ['13', '-1', 'abc', '']) {
      assert.throws(() => splitBinaryBody(body, bad), /^ServeError: Inference-Header-Content-Length must be the byte length of the JSON at the start of the body\. Received: inference-header-content-length=/);
    }
    const chunks = new BinaryChunks(binary);
    assert.deepEqual([...chunks.take(2, 'a')], [1, 2]);
    assert.throws(() => chunks.take(4, 'b'), /Received: tensor="b", binary_data_size=4, bytesLeft=3\./);
    assert.throws(() => chunks.finish(), /^ServeError: The body must end where the last binary tensor ends\. Received: declaredBytes=2, binaryBytes=5\./);
    assert.throws(() => toFloat32(Buffer.alloc(6), 'FP32', 2, 'inputs[0]'), /Received: tensor="inputs\[0\]", datatype="FP32", elements=2, expectedBytes=8, binary_data_size=6\./);
  });

  it('encodeBinaryBody: the JSON, then the chunks; the header length is the JSON\'s bytes (UTF-8)', () => {
    const { body, headerLength } = encodeBinaryBody({ name: 'é' }, [f32([1, 2]), Buffer.from([9])]);
    assert.equal(headerLength, Buffer.byteLength('{"name":"é"}'));
    assert.deepEqual(JSON.parse(body.subarray(0, headerLength).toString()), { name: 'é' });
    assert.deepEqual(readF32(body.subarray(headerLength, headerLength + 8)), [1, 2]);
    assert.equal(body[headerLength + 8], 9);
  });
});

describe('binary tensor data on POST /v2/models/{m}/infer', () => {
  let server: ServeInstance;
  let dir: string;
  before(async () => {
    const root = tempRepository();
    dir = await saveVersion(root, 'tiny', 1);
    server = await testServer(root);
  });
  after(() => server.close());

  const xs = [instance(1), instance(2)];
  const jsonInput = { name: 'image', shape: [2, SIZE, SIZE, 3], datatype: 'FP32', data: xs.flat(3) };
  const inject = (payload: Buffer, headers: Record<string, string>, url = INFER) => server.app.inject({ method: 'POST', url, payload, headers });
  const jsonAnswer = async (body: object) => {
    const res = await server.app.inject({ method: 'POST', url: INFER, payload: body });
    assert.equal(res.statusCode, 200, res.body);
    return res.json();
  };

  it('an FP32 input as raw bytes answers exactly like the same input as JSON', async () => {
    const header = { id: 'b1', inputs: [{ name: 'image', shape: [2, SIZE, SIZE, 3], datatype: 'FP32', parameters: { binary_data_size: 2 * ROW * 4 } }] };
    const { payload, headers } = binaryRequest(header, f32(xs.flat(3)));
    // Triton's client sends no Content-Type; others send application/octet-stream or even application/json.
    for (const type of [undefined, 'application/octet-stream', 'application/json']) {
      const res = await inject(payload, type === undefined ? headers : { ...headers, 'content-type': type });
      assert.equal(res.statusCode, 200, `${type}: ${res.body}`);
      assert.match(String(res.headers['content-type']), /^application\/json/);
      assert.deepEqual(res.json(), await jsonAnswer({ id: 'b1', inputs: [jsonInput] }));
    }
  });

  it('binary_data_output: every output comes back as little-endian bytes after the JSON', async () => {
    const { payload, headers } = binaryRequest({
      parameters: { binary_data_output: true },
      inputs: [{ name: 'image', shape: [2, SIZE, SIZE, 3], datatype: 'FP32', parameters: { binary_data_size: 2 * ROW * 4 } }],
    }, f32(xs.flat(3)));
    const res = await inject(payload, headers);
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(res.headers['content-type'], 'application/octet-stream');
    const { answer, rest } = splitResponse(res);
    assert.deepEqual(answer.outputs.map((o) => [o.name, o.datatype, o.shape, o.parameters, o.data]), [
      ['probabilities', 'FP32', [2, 3], { binary_data_size: 24 }, undefined],
      ['logits', 'FP32', [2, 3], { binary_data_size: 24 }, undefined],
    ]);
    assert.equal(rest.length, 48);
    const probabilities = readF32(rest.subarray(0, 24));
    const json = await jsonAnswer({ inputs: [jsonInput] });
    assert.deepEqual(probabilities, json.outputs[0].data);
    assert.deepEqual(readF32(rest.subarray(24)), json.outputs[1].data);
    const reference = await referenceProbabilities(dir, xs);
    probabilities.forEach((p, i) => assert.ok(Math.abs(p - reference[i]) < 1e-5, `${p} vs ${reference[i]}`));
    assert.ok(Math.abs(probabilities[0] + probabilities[1] + probabilities[2] - 1) < 1e-5);
  });

  it('per-output binary_data overrides binary_data_output; a JSON request may ask for binary outputs; classification as BYTES', async () => {
    const res = await server.app.inject({
      method: 'POST', url: INFER, payload: {
        parameters: { binary_data_output: true }, inputs: [jsonInput],
        outputs: [{ name: 'logits', parameters: { binary_data: false } }, { name: 'probabilities', parameters: { classification: 2 } }],
      },
    });
    assert.equal(res.statusCode, 200, res.body);
    const { answer, rest } = splitResponse(res);
    const [logits, top] = answer.outputs;
    assert.equal(logits.data!.length, 6, 'logits stay JSON');
    assert.deepEqual([top.name, top.datatype, top.shape, top.parameters], ['probabilities', 'BYTES', [2, 2], { binary_data_size: rest.length }]);
    // By hand: four elements, each a uint32 length and a "score:index:label" string.
    const strings: string[] = [];
    for (let o = 0; o < rest.length;) {
      const n = rest.readUInt32LE(o);
      strings.push(rest.subarray(o + 4, o + 4 + n).toString());
      o += 4 + n;
    }
    const asJson = (await jsonAnswer({ inputs: [jsonInput], outputs: [{ name: 'probabilities', parameters: { classification: 2 } }] })).outputs[0].data;
    assert.deepEqual(strings, asJson);
    assert.match(strings[0], /^0\.\d+:\d:(cat|dog|ship)$/);
  });

  it('UINT8 and INT32 pixels, FP16 floats and BYTES images as binary data', async () => {
    const pixels = Array.from({ length: ROW }, (_, i) => (i * 37) % 256);
    const u8 = await jsonAnswer({ inputs: [{ name: 'image', shape: [1, SIZE, SIZE, 3], datatype: 'UINT8', data: pixels }] });
    const asUint8 = binaryRequest({ inputs: [{ name: 'image', shape: [1, SIZE, SIZE, 3], datatype: 'UINT8', parameters: { binary_data_size: ROW } }] }, Buffer.from(pixels));
    assert.deepEqual((await inject(asUint8.payload, asUint8.headers)).json(), u8);
    const int32 = Buffer.alloc(ROW * 4);
    pixels.forEach((p, i) => int32.writeInt32LE(p, 4 * i));
    const asInt32 = binaryRequest({ inputs: [{ name: 'image', shape: [1, SIZE, SIZE, 3], datatype: 'INT32', parameters: { binary_data_size: ROW * 4 } }] }, int32);
    assert.deepEqual((await inject(asInt32.payload, asInt32.headers)).json(), u8);
    int32.writeInt32LE(300, 8);
    const tooBright = binaryRequest({ inputs: [{ name: 'image', shape: [1, SIZE, SIZE, 3], datatype: 'INT32', parameters: { binary_data_size: ROW * 4 } }] }, int32);
    const outOfRange = await inject(tooBright.payload, tooBright.headers);
    assert.equal(outOfRange.statusCode, 400);
    assert.match(outOfRange.json().error, /^INT32 tensor values must be integers in \[0, 255\]\. Received: inputs\[0\] element 2=300\./);

    // FP16: values k/256 in [-1, 1) are exact in half precision, so the answer equals the FP32 one.
    const halves = Array.from({ length: ROW }, (_, i) => ((i * 53) % 512) / 256 - 1);
    const fp16 = Buffer.alloc(ROW * 2);
    halves.forEach((v, i) => {
      // Hand encoding of k/256: sign, exponent, 10-bit fraction.
      if (v === 0) return;
      const sign = v < 0 ? 0x8000 : 0;
      const exponent = Math.floor(Math.log2(Math.abs(v)));
      const fraction = Math.round((Math.abs(v) / 2 ** exponent - 1) * 1024);
      fp16.writeUInt16LE(sign | ((exponent + 15) << 10) | fraction, 2 * i);
    });
    const asFp16 = binaryRequest({ inputs: [{ name: 'image', shape: [1, SIZE, SIZE, 3], datatype: 'FP16', parameters: { binary_data_size: ROW * 2 } }] }, fp16);
    const fp16Res = await inject(asFp16.payload, asFp16.headers);
    assert.equal(fp16Res.statusCode, 200, fp16Res.body);
    assert.deepEqual(fp16Res.json(), await jsonAnswer({ inputs: [{ name: 'image', shape: [1, SIZE, SIZE, 3], datatype: 'FP32', data: halves }] }));

    const png = await imageBytes(20, 12, 'png');
    const length = Buffer.alloc(4);
    length.writeUInt32LE(png.length);
    const asBytes = binaryRequest({ inputs: [{ name: 'image', shape: [1], datatype: 'BYTES', parameters: { binary_data_size: 4 + png.length } }] }, length, png);
    const bytesRes = await inject(asBytes.payload, asBytes.headers);
    assert.equal(bytesRes.statusCode, 200, bytesRes.body);
    assert.deepEqual(bytesRes.json(), await jsonAnswer({ inputs: [{ name: 'image', shape: [1], datatype: 'BYTES', data: [png.toString('base64')] }] }));
  });

  it('a round trip through the codec: encodeBinaryBody request → binary answer decoded by hand', async () => {
    const { body, headerLength } = encodeBinaryBody({
      inputs: [{ name: 'image', shape: [2, SIZE, SIZE, 3], datatype: 'FP32', parameters: { binary_data_size: 2 * ROW * 4 } }],
      outputs: [{ name: 'probabilities', parameters: { binary_data: true } }],
    }, [new Uint8Array(new Float32Array(xs.flat(3)).buffer)]);
    const res = await inject(body, { 'inference-header-content-length': String(headerLength), 'content-type': 'application/octet-stream' });
    const { answer, rest } = splitResponse(res);
    assert.deepEqual(answer.outputs.map((o) => o.name), ['probabilities']);
    assert.deepEqual(readF32(rest), (await jsonAnswer({ inputs: [jsonInput], outputs: [{ name: 'probabilities' }] })).outputs[0].data);
  });

  const fp32Header = (size: number, extra: object = {}) => ({ inputs: [{ name: 'image', shape: [1, SIZE, SIZE, 3], datatype: 'FP32', parameters: { binary_data_size: size }, ...extra }] });
  const errors: { name: string; request: () => { payload: Buffer; headers: Record<string, string> }; message: RegExp }[] = [
    { name: 'binary_data_size disagrees with the shape', request: () => binaryRequest(fp32Header(ROW * 4 - 4), f32(Array(ROW - 1).fill(0))),
      message: /^binary_data_size must be product\(shape\) x the datatype's element size\. Received: inputs\[0\]\.datatype="FP32", inputs\[0\]\.shape=\[1,8,8,3\], binary_data_size=764, expected=768\./ },
    { name: 'a negative binary_data_size', request: () => binaryRequest(fp32Header(-4), f32(Array(ROW).fill(0))),
      message: /^binary_data_size must be a non-negative integer \(bytes\)\. Received: binary_data_size=-4\./ },
    { name: 'a binary_data_size beyond exact integers', request: () => binaryRequest(fp32Header(2 ** 60), f32(Array(ROW).fill(0))),
      message: /^binary_data_size must be a non-negative integer \(bytes\)\. Received: binary_data_size=1152921504606847000\./ },
    { name: 'a BYTES binary_data_size larger than the body', request: () => binaryRequest({ inputs: [{ name: 'image', shape: [1], datatype: 'BYTES', parameters: { binary_data_size: 2 ** 40 } }] }, Buffer.from([1, 0, 0, 0, 7])),
      message: /^The binary tensor data must hold every binary_data_size the JSON header declares, in order\. Received: tensor="inputs\[0\]", binary_data_size=1099511627776, bytesLeft=5\./ },
    { name: 'a shape that is not the model\'s', request: () => binaryRequest({ inputs: [{ name: 'image', shape: [1, SIZE, SIZE, 4], datatype: 'FP32', parameters: { binary_data_size: SIZE * SIZE * 16 } }] }, Buffer.alloc(SIZE * SIZE * 16)),
      message: /^An FP32 input must have shape \[N, 8, 8, 3\] \(the model's input shape\)\. Received: inputs\[0\]\.shape=\[1,8,8,4\]\./ },
    { name: 'fewer bytes than declared', request: () => binaryRequest(fp32Header(ROW * 4), f32(Array(ROW - 1).fill(0))),
      message: /^The binary tensor data must hold every binary_data_size the JSON header declares, in order\. Received: tensor="inputs\[0\]", binary_data_size=768, bytesLeft=764\./ },
    { name: 'a NaN in FP32 bytes', request: () => binaryRequest(fp32Header(ROW * 4), f32([...Array(ROW - 1).fill(0), NaN])),
      message: new RegExp(`^Every tensor value must be a finite number\\. Received: inputs\\[0\\] element ${ROW - 1}=NaN\\.`) },
    { name: 'an Infinity in FP16 bytes', request: () => binaryRequest({ inputs: [{ name: 'image', shape: [1, SIZE, SIZE, 3], datatype: 'FP16', parameters: { binary_data_size: ROW * 2 } }] },
      Buffer.from(new Uint16Array([0x7c00, ...Array(ROW - 1).fill(0)]).buffer)),
      message: /^Every tensor value must be a finite number\. Received: inputs\[0\] element 0=Infinity\./ },
    { name: 'bytes left over', request: () => binaryRequest(fp32Header(ROW * 4), f32(Array(ROW + 1).fill(0))),
      message: /^The body must end where the last binary tensor ends\. Received: declaredBytes=768, binaryBytes=772\./ },
    { name: 'header length beyond the body', request: () => ({ payload: Buffer.from('{}'), headers: { 'inference-header-content-length': '99' } }),
      message: /^Inference-Header-Content-Length must be the byte length of the JSON at the start of the body\. Received: inference-header-content-length="99", bodyBytes=2\./ },
    { name: 'data and binary_data_size together', request: () => binaryRequest(fp32Header(ROW * 4, { data: [1] }), f32(Array(ROW).fill(0))),
      message: /^An input has either "data" \(JSON\) or binary_data_size \(binary\), not both\./ },
    { name: 'a datatype the model does not take', request: () => binaryRequest({ inputs: [{ name: 'image', shape: [1, SIZE, SIZE, 3], datatype: 'INT64', parameters: { binary_data_size: ROW * 8 } }] }, Buffer.alloc(ROW * 8)),
      message: /^The input datatype must be FP32 or FP16 \(normalized\), UINT8 or INT32 \(raw pixels\) or BYTES \(encoded images\)\. Received: inputs\[0\]\.datatype="INT64"\./ },
    { name: 'a JSON header that is not JSON', request: () => binaryRequest({}, Buffer.from('x')), message: /^The body must be valid JSON\./ },
  ];
  for (const { name, request, message } of errors) {
    it(`400 for ${name}`, async () => {
      const { payload, headers } = request();
      // The last case: the JSON header's length points into the tensor bytes.
      const res = await inject(payload, name.startsWith('a JSON header') ? { 'inference-header-content-length': String(payload.length) } : headers);
      assert.equal(res.statusCode, 400, res.body);
      assert.equal(res.json().code, name.startsWith('a JSON header') ? 'SERVE_E_BAD_JSON' : 'SERVE_E_BAD_INPUT');
      assert.match(res.json().error, message);
    });
  }

  it('binary_data_size in a plain JSON body, and a non-boolean binary_data, are 400', async () => {
    const noHeader = await server.app.inject({ method: 'POST', url: INFER, payload: fp32Header(ROW * 4) });
    assert.equal(noHeader.statusCode, 400);
    assert.match(noHeader.json().error, /^An input with binary_data_size needs a binary body: the JSON header, then the tensor bytes\./);
    const notBool = await server.app.inject({ method: 'POST', url: INFER, payload: { inputs: [jsonInput], outputs: [{ name: 'logits', parameters: { binary_data: 'yes' } }] } });
    assert.equal(notBool.statusCode, 400);
    assert.match(notBool.json().error, /^outputs\[0\]\.parameters\.binary_data must be true or false\. Received: outputs\[0\]\.parameters\.binary_data="yes"\./);
  });
});
