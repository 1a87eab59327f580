// Every bad payload we could think of, on every JSON route: each is answered 4xx with its stable code and a
// message that states the rule, what was received and the fix; after all of them the server still answers
// correctly and TensorFlow.js holds exactly the tensors it held before (nothing leaked).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { tf } from '../../src/backend';
import type { ServeInstance } from '../../src/serve/start';
import { SIZE, instance, saveVersion, tempRepository, testServer } from './helpers';

let server: ServeInstance;

before(async () => {
  const root = tempRepository();
  await saveVersion(root, 'tiny', 1);
  server = await testServer(root, { bodyLimitMb: 4, maxInstances: 8, maxQueueSize: 64 });
});
after(() => server.close());

interface Case {
  name: string;
  url?: string;
  /** A string is sent verbatim as application/json (for syntax errors); anything else as JSON. */
  body: unknown;
  contentType?: string;
  status: number;
  code: string;
  message: RegExp;
}

const PREDICT = '/v1/models/tiny:predict';
const INFER = '/v2/models/tiny/infer';
const good = instance(1);
const goodFlat = good.flat(2);
const fp32 = (over: Record<string, unknown>) => ({ inputs: [{ name: 'image', shape: [1, SIZE, SIZE, 3], datatype: 'FP32', data: goodFlat, ...over }] });
const withValue = (v: unknown) => {
  const x = structuredClone(good) as unknown[][][];
  x[2][3][1] = v;
  return { instances: [x] };
};

const CASES: Case[] = [
  // Not JSON at all.
  { name: 'syntax error', body: '{"instances": [', status: 400, code: 'SERVE_E_BAD_JSON', message: /^The body must be valid JSON\. Received: error="Unexpected end of JSON input"\. Check the JSON syntax/ },
  { name: 'NaN literal', body: '{"instances": [NaN]}', status: 400, code: 'SERVE_E_BAD_JSON', message: /^The body must be valid JSON\. Received: error="Unexpected token 'N'.*"\. Check the JSON syntax \(JSON has no NaN/ },
  { name: 'empty JSON body', body: '', status: 400, code: 'SERVE_E_BAD_JSON', message: /^A request with Content-Type application\/json must have a JSON body\. Received: body="empty"\./ },
  { name: '__proto__ key (prototype poisoning)', body: '{"__proto__": {"admin": true}, "instances": []}', status: 400, code: 'SERVE_E_BAD_JSON', message: /^The body must not contain "__proto__" or "constructor\.prototype" keys\./ },
  { name: 'escaped __proto__ key, nested', body: '{"instances": [{"\\u005f_proto__": {}}]}', status: 400, code: 'SERVE_E_BAD_JSON', message: /must not contain "__proto__"/ },
  { name: 'constructor.prototype key', body: '{"constructor": {"prototype": {"x": 1}}}', status: 400, code: 'SERVE_E_BAD_JSON', message: /must not contain/ },
  // JSON, wrong structure.
  { name: 'body is a list', body: [1, 2, 3], status: 400, code: 'SERVE_E_BAD_INPUT', message: /^The body of :predict must be a JSON object\. Received: The body of :predict="array\(3\)"\. Send \{"instances"/ },
  { name: 'body is a string', body: '"hello"', status: 400, code: 'SERVE_E_BAD_INPUT', message: /must be a JSON object\. Received: .*="string"/ },
  { name: 'neither instances nor inputs', body: { signature_name: 'serving_default' }, status: 400, code: 'SERVE_E_BAD_INPUT', message: /^A :predict body must have exactly one of "instances" \(row format\) and "inputs" \(columnar format\)\. Received: keys=\["signature_name"\]\./ },
  { name: 'both instances and inputs', body: { instances: [good], inputs: [good] }, status: 400, code: 'SERVE_E_BAD_INPUT', message: /exactly one of "instances"/ },
  { name: 'misspelled key', body: { instance: [good] }, status: 400, code: 'SERVE_E_BAD_INPUT', message: /^The body of :predict may only have the keys "signature_name", "instances", "inputs"\. Received: unknownKeys=\["instance"\]\. Remove the other keys/ },
  { name: 'empty instances', body: { instances: [] }, status: 400, code: 'SERVE_E_BAD_INPUT', message: /^"instances" must be a non-empty list with one entry per image\. Received: instances="array\(0\)"\./ },
  { name: 'instances is an object', body: { instances: { a: 1 } }, status: 400, code: 'SERVE_E_BAD_INPUT', message: /Received: instances="object"/ },
  { name: 'instance is a number', body: { instances: [3] }, status: 400, code: 'SERVE_E_BAD_INPUT', message: /^An input value must be a nested list of numbers or \{"b64": "<encoded image>"\}\. Received: instances\[0\]="number"\./ },
  { name: 'unknown signature', body: { signature_name: 'classify_me', instances: [good] }, status: 400, code: 'SERVE_E_BAD_INPUT', message: /^signature_name must be one of: serving_default, logits\. Received: signature_name="classify_me"\./ },
  { name: 'named input with the wrong name', body: { instances: [{ pixels: good }] }, status: 400, code: 'SERVE_E_BAD_INPUT', message: /^instances\[0\] may only have the keys "image"\. Received: unknownKeys=\["pixels"\]/ },
  // Shapes.
  { name: 'wrong height', body: { instances: [good.slice(1)] }, status: 400, code: 'SERVE_E_BAD_INPUT', message: /^instances\[0\] must be a nested list of shape \[8, 8, 3\] \(the model's input shape\)\. Received: instances\[0\]="array\(7\)", expectedLength=8, dimension=0\./ },
  { name: 'wrong channel count', body: { instances: [good.map((r) => r.map((p) => [...p, 0]))] }, status: 400, code: 'SERVE_E_BAD_INPUT', message: /Received: instances\[0\]\[0\]\[0\]="array\(4\)", expectedLength=3, dimension=2\./ },
  { name: 'flat instead of nested', body: { instances: [goodFlat] }, status: 400, code: 'SERVE_E_BAD_INPUT', message: /Received: instances\[0\]="array\(192\)", expectedLength=8, dimension=0\./ },
  { name: 'one level too deep', body: { instances: [good.map((r) => r.map((p) => p.map((v) => [v])))] }, status: 400, code: 'SERVE_E_BAD_INPUT', message: /^Every tensor value must be a finite number\. Received: instances\[0\]\[0\]\[0\]\[0\]="array\(1\)"\./ },
  { name: '10,000 levels of nesting', body: `{"instances": [${'['.repeat(10_000)}${']'.repeat(10_000)}]}`, status: 400, code: 'SERVE_E_BAD_INPUT', message: /must be a nested list of shape \[8, 8, 3\]/ },
  { name: 'huge flat array (1,000,000 numbers)', body: `{"instances": [[${new Array(1_000_000).fill('0').join(',')}]]}`, status: 413, code: 'SERVE_E_PAYLOAD_TOO_LARGE', message: /^A JSON body may hold at most --max-instances × the largest model input numbers .* Received: numbers="> \d+", limit=\d+\./ },
  { name: 'more instances than --max-instances', body: { instances: Array.from({ length: 9 }, () => good) }, status: 400, code: 'SERVE_E_BAD_INPUT', message: /^One request may carry at most --max-instances=8 images\. Received: instances\.length=9\. Split the images/ },
  // Values.
  { name: 'a string value', body: withValue('0.5'), status: 400, code: 'SERVE_E_BAD_INPUT', message: /^Every tensor value must be a finite number\. Received: instances\[0\]\[2\]\[3\]\[1\]="string"\. Send numbers/ },
  { name: 'a null value', body: withValue(null), status: 400, code: 'SERVE_E_BAD_INPUT', message: /Received: instances\[0\]\[2\]\[3\]\[1\]="null"/ },
  { name: 'a boolean value', body: withValue(true), status: 400, code: 'SERVE_E_BAD_INPUT', message: /Received: instances\[0\]\[2\]\[3\]\[1\]="boolean"/ },
  { name: 'an object value', body: withValue({ x: 1 }), status: 400, code: 'SERVE_E_BAD_INPUT', message: /Received: instances\[0\]\[2\]\[3\]\[1\]="object"/ },
  { name: '1e400 (parses as Infinity)', body: `{"instances": [${JSON.stringify(good).replace(/^\[\[\[[^,\]]+/, '[[[1e400')}]}`, status: 400, code: 'SERVE_E_BAD_INPUT', message: /Received: instances\[0\]\[0\]\[0\]\[0\]=Infinity\./ },
  // Base64 images.
  { name: 'b64 with invalid characters', body: { instances: [{ b64: 'not base64!!' }] }, status: 400, code: 'SERVE_E_BAD_INPUT', message: /^instances\[0\]\.b64 must be a non-empty base64 string of an encoded image\. Received: instances\[0\]\.b64="string\(12\) not base64!!"\./ },
  { name: 'b64 is a number', body: { instances: [{ b64: 42 }] }, status: 400, code: 'SERVE_E_BAD_INPUT', message: /Received: instances\[0\]\.b64="number"/ },
  { name: 'b64 with extra keys', body: { instances: [{ b64: 'AAAA', scale: 2 }] }, status: 400, code: 'SERVE_E_BAD_INPUT', message: /may only have the keys "b64"/ },
  { name: 'b64 of something that is not an image', body: { instances: [{ b64: Buffer.from('GIF89a but not really').toString('base64') }] }, status: 400, code: 'SERVE_E_BAD_IMAGE', message: /^An image must be a complete JPEG, PNG, WebP or GIF file\. Received: instances\[0\]\.b64="21 bytes", error=".*GIF.*"\. Send the whole file/ },
  // Media types and limits.
  { name: 'text/plain to :predict', body: 'instances=1', contentType: 'text/plain', status: 415, code: 'SERVE_E_UNSUPPORTED_MEDIA', message: /Received: content-type="text\/plain"/ },
  { name: 'an image body to :predict', body: 'PNG', contentType: 'image/png', status: 415, code: 'SERVE_E_UNSUPPORTED_MEDIA', message: /^This route takes a JSON body \(Content-Type: application\/json\)\. Received: content-type="image\/png"\./ },
  { name: 'body over --body-limit-mb', body: `{"instances": [${'0,'.repeat(2_200_000)}0]}`, status: 413, code: 'SERVE_E_PAYLOAD_TOO_LARGE', message: /^A request body \(or uploaded file\) may be at most --body-limit-mb \(4194304 bytes\)\. Received: content-length="4400018"\./ },
  // :classify.
  { name: ':classify without examples', url: '/v1/models/tiny:classify', body: { instances: [good] }, status: 400, code: 'SERVE_E_BAD_INPUT', message: /^The body of :classify may only have the keys "signature_name", "context", "examples"/ },
  { name: ':classify example without the image feature', url: '/v1/models/tiny:classify', body: { examples: [{}] }, status: 400, code: 'SERVE_E_BAD_INPUT', message: /^Every example \(with "context"\) must have the feature "image"\./ },
  { name: ':classify example is a list', url: '/v1/models/tiny:classify', body: { examples: [[1]] }, status: 400, code: 'SERVE_E_BAD_INPUT', message: /^examples\[0\] must be a JSON object\./ },
  // KServe v2.
  { name: 'v2: no inputs', url: INFER, body: {}, status: 400, code: 'SERVE_E_BAD_INPUT', message: /^"inputs" must be a list with exactly one tensor, "image"\. Received: inputs="undefined"\./ },
  { name: 'v2: two inputs', url: INFER, body: { inputs: [fp32({}).inputs[0], fp32({}).inputs[0]] }, status: 400, code: 'SERVE_E_BAD_INPUT', message: /exactly one tensor/ },
  { name: 'v2: wrong input name', url: INFER, body: fp32({ name: 'input_1' }), status: 400, code: 'SERVE_E_BAD_INPUT', message: /^The model's input is named "image"\. Received: inputs\[0\]\.name="input_1"\./ },
  { name: 'v2: shape with a zero', url: INFER, body: fp32({ shape: [1, 0, 8, 3] }), status: 400, code: 'SERVE_E_BAD_INPUT', message: /^"shape" must be a list of positive integers\./ },
  { name: 'v2: huge claimed shape (no allocation)', url: INFER, body: fp32({ shape: [8, 100000, 100000, 3] }), status: 400, code: 'SERVE_E_BAD_INPUT', message: /must have shape \[N, 8, 8, 3\]/ },
  { name: 'v2: shape[0] over --max-instances', url: INFER, body: fp32({ shape: [1000, 8, 8, 3] }), status: 400, code: 'SERVE_E_BAD_INPUT', message: /Received: shape\[0\]=1000\./ },
  { name: 'v2: datatype INT64', url: INFER, body: fp32({ datatype: 'INT64' }), status: 400, code: 'SERVE_E_BAD_INPUT', message: /^The input datatype must be FP32 or FP16 \(normalized\), UINT8 or INT32 \(raw pixels\) or BYTES \(encoded images\)\. Received: inputs\[0\]\.datatype="INT64"\./ },
  { name: 'v2: data shorter than the shape', url: INFER, body: fp32({ data: goodFlat.slice(1) }), status: 400, code: 'SERVE_E_BAD_INPUT', message: /^inputs\[0\]\.data must hold exactly product\(shape\) values\. Received: shape=\[1,8,8,3\], expected=192, data\.length=191\./ },
  { name: 'v2: data is a string', url: INFER, body: fp32({ data: 'abc' }), status: 400, code: 'SERVE_E_BAD_INPUT', message: /Received: inputs\[0\]\.data="string"/ },
  { name: 'v2: a string in the data', url: INFER, body: fp32({ data: ['1', ...goodFlat.slice(1)] }), status: 400, code: 'SERVE_E_BAD_INPUT', message: /Received: inputs\[0\]\.data\[0\]="string"/ },
  { name: 'v2: UINT8 value 256', url: INFER, body: fp32({ datatype: 'UINT8', data: goodFlat.map(() => 256) }), status: 400, code: 'SERVE_E_BAD_INPUT', message: /^UINT8 tensor values must be integers in \[0, 255\]\. Received: inputs\[0\]\.data\[0\]=256\./ },
  { name: 'v2: UINT8 fraction', url: INFER, body: fp32({ datatype: 'UINT8', data: goodFlat.map(() => 0.5) }), status: 400, code: 'SERVE_E_BAD_INPUT', message: /Received: inputs\[0\]\.data\[0\]=0\.5\./ },
  { name: 'v2: BYTES with a number', url: INFER, body: { inputs: [{ name: 'image', shape: [1], datatype: 'BYTES', data: [5] }] }, status: 400, code: 'SERVE_E_BAD_INPUT', message: /^inputs\[0\]\.data\[0\] must be a non-empty base64 string/ },
  { name: 'v2: BYTES with a 4-d shape', url: INFER, body: { inputs: [{ name: 'image', shape: [1, 2, 2, 1], datatype: 'BYTES', data: ['AA'] }] }, status: 400, code: 'SERVE_E_BAD_INPUT', message: /^A BYTES input \(encoded images\) must have shape \[N\] or \[N, 1\]\./ },
  { name: 'v2: unknown output', url: INFER, body: { ...fp32({}), outputs: [{ name: 'features' }] }, status: 400, code: 'SERVE_E_BAD_INPUT', message: /^An output name must be one of: probabilities, logits\. Received: outputs\[0\]\.name="features"\./ },
  { name: 'v2: classification 0', url: INFER, body: { ...fp32({}), outputs: [{ name: 'logits', parameters: { classification: 0 } }] }, status: 400, code: 'SERVE_E_BAD_INPUT', message: /^"classification" must be an integer in \[1, 3\]/ },
  { name: 'v2: binary_data not a boolean', url: INFER, body: { ...fp32({}), outputs: [{ name: 'logits', parameters: { binary_data: 1 } }] }, status: 400, code: 'SERVE_E_BAD_INPUT', message: /^outputs\[0\]\.parameters\.binary_data must be true or false\./ },
  { name: 'v2: id is a number', url: INFER, body: { ...fp32({}), id: 7 }, status: 400, code: 'SERVE_E_BAD_INPUT', message: /^"id" must be a string of at most 256 characters\./ },
  // Routes.
  { name: 'GET on an inference route', url: PREDICT, body: undefined, status: 404, code: 'SERVE_E_NOT_FOUND', message: /^TF Serving methods \(:predict, :classify, :classify-image, :explain\) take POST\. Received: method="GET", path="\/v1\/models\/tiny:predict"\./ },
  { name: 'unknown path', url: '/v3/anything', body: undefined, status: 404, code: 'SERVE_E_NOT_FOUND', message: /^The request must address one of the server's routes\. Received: method="GET", path="\/v3\/anything"\./ },
];

async function send(c: Case) {
  const raw = typeof c.body === 'string';
  return server.app.inject({
    method: c.body === undefined ? 'GET' : 'POST',
    url: c.url ?? PREDICT,
    payload: c.body === undefined ? undefined : raw ? (c.body as string) : JSON.stringify(c.body),
    headers: c.body === undefined ? {} : { 'content-type': c.contentType ?? 'application/json' },
  });
}

describe('bad requests', () => {
  let tensorsBefore = 0;
  let bytesBefore = 0;
  before(() => {
    tensorsBefore = tf.memory().numTensors;
    bytesBefore = tf.memory().numBytes;
  });

  for (const c of CASES) {
    it(`${c.name} → ${c.status} ${c.code}`, async () => {
      const res = await send(c);
      assert.equal(res.statusCode, c.status, res.body);
      const body = res.json();
      assert.equal(body.code, c.code);
      assert.match(body.error, c.message);
      assert.match(body.error, / Received: .+\. \S/, 'rule, Received, fix');
      assert.ok(body.error.length < 700, 'messages stay short whatever was sent');
    });
  }

  it('after all of them the server answers correctly and no tensor or tensor byte leaked', async () => {
    for (const c of CASES) await send(c); // a second round, to be sure
    const res = await server.app.inject({ method: 'POST', url: PREDICT, payload: { instances: [good] } });
    assert.equal(res.statusCode, 200);
    assert.equal(tf.memory().numTensors, tensorsBefore);
    assert.equal(tf.memory().numBytes, bytesBefore);
  });
});
