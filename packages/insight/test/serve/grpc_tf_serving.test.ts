// TF Serving's gRPC PredictionService (Predict, Classify, GetModelMetadata) on a real server started with
// --grpc-port 0, called by a generic gRPC client built from the same .proto files with its own loader options
// (grpc_client.ts: int64 as strings): every answer is checked against the REST answer for the same input on the same
// server (TF Serving :predict / :classify / metadata, KServe v2 for uint8 pixels), and the errors against REST's codes
// and house messages.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';

import { status } from '@grpc/grpc-js';
import { loadSync, type MessageTypeDefinition } from '@grpc/proto-loader';

import { protoRoot } from '../../src/serve/grpc/protos';
import { listenGrpcOn, type ServeInstance } from '../../src/serve/start';
import { grpcClient, type UnaryClient } from './grpc_client';
import { CLASSES, INFERENCE_KEY, KEYS, SIZE, bearer, imageBytes, instance, saveVersion, tempRepository, testServer } from './helpers';

const SERVICE_PROTO = 'tensorflow_serving/apis/prediction_service.proto';

let server: ServeInstance;
let client: UnaryClient;
let signatureDefMap: MessageTypeDefinition<object, object>;

before(async () => {
  const root = tempRepository();
  await saveVersion(root, 'tiny', 1);
  await saveVersion(root, 'tiny', 2);
  server = await testServer(root, { keepVersions: 2, grpcPort: 0 }, KEYS);
  await listenGrpcOn(server, server.ctx.config.grpcPort!);
  client = grpcClient(SERVICE_PROTO, 'tensorflow.serving.PredictionService', server.grpc!.address);
  // What a client unpacks GetModelMetadata's Any with: the message type named by its type_url.
  const definition = loadSync(path.join(protoRoot(), SERVICE_PROTO), { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true, includeDirs: [protoRoot()] });
  signatureDefMap = definition['tensorflow.serving.SignatureDefMap'] as MessageTypeDefinition<object, object>;
});
after(async () => {
  client.close();
  await server.close();
});

interface Failure {
  code: status;
  details: string;
  errorCode: string | null;
}

async function ok<T = Record<string, unknown>>(method: string, request: object): Promise<T> {
  const answer = await client.call<T>(method, request, INFERENCE_KEY, 20_000);
  assert.ok(answer.ok, `${method} failed: ${JSON.stringify(answer)}`);
  return answer.response;
}

async function failure(method: string, request: object, key: string | null = INFERENCE_KEY): Promise<Failure> {
  const answer = await client.call(method, request, key, 20_000);
  assert.ok(!answer.ok, `${method} should fail: ${JSON.stringify(answer)}`);
  return answer;
}

const rest = (url: string, payload: object) => server.app.inject({ method: 'POST', url, payload, headers: bearer(INFERENCE_KEY) });

/** A TensorProto's shape. */
const dims = (...sizes: number[]) => ({ dim: sizes.map((size) => ({ size })) });

interface TensorAnswer {
  dtype: string;
  tensor_shape: { dim: { size: string }[] };
  tensor_content: Buffer;
}

/** A DT_FLOAT answer tensor's values (tensor_content, little-endian float32). */
function values(tensor: TensorAnswer): number[] {
  assert.equal(tensor.dtype, 'DT_FLOAT');
  const bytes = Buffer.from(tensor.tensor_content);
  return Array.from({ length: bytes.length / 4 }, (_, i) => bytes.readFloatLE(i * 4));
}

function assertClose(actual: number[], expected: number[], tolerance = 1e-6): void {
  assert.equal(actual.length, expected.length);
  actual.forEach((a, i) => assert.ok(Math.abs(a - expected[i]) <= tolerance, `[${i}] ${a} vs ${expected[i]}`));
}

/** Images as float32 little-endian bytes, row-major [N, SIZE, SIZE, 3]. */
function floatBytes(images: number[][][][]): Buffer {
  return Buffer.from(new Float32Array(images.flat(3)).buffer);
}

/** Deterministic raw pixels, [N, SIZE, SIZE, 3] flattened. */
function pixels(n: number, seed: number): number[] {
  return Array.from({ length: n * SIZE * SIZE * 3 }, (_, i) => (i * 37 + seed * 101) % 256);
}

describe('gRPC tensorflow.serving.PredictionService', () => {
  it('Predict: tensor_content and float_val answer what REST :predict answers, from the default (highest) version', async () => {
    const xs = [instance(1), instance(2), instance(3)];
    const expected = (await rest('/v1/models/tiny:predict', { instances: xs })).json().predictions.flat() as number[];
    const shape = dims(3, SIZE, SIZE, 3);
    const raw = await ok<{ outputs: Record<string, TensorAnswer>; model_spec: Record<string, unknown> }>('Predict', {
      model_spec: { name: 'tiny' }, inputs: { image: { dtype: 'DT_FLOAT', tensor_shape: shape, tensor_content: floatBytes(xs) } },
    });
    assert.deepEqual(Object.keys(raw.outputs), ['probabilities']);
    assert.deepEqual(raw.outputs.probabilities.tensor_shape.dim.map((d) => d.size), ['3', String(CLASSES.length)]);
    assertClose(values(raw.outputs.probabilities), expected);
    assert.deepEqual(raw.model_spec, { name: 'tiny', version: { value: '2' }, signature_name: 'serving_default', version_choice: 'version' });
    const listed = await ok<{ outputs: Record<string, TensorAnswer> }>('Predict', {
      model_spec: { name: 'tiny', signature_name: 'serving_default' }, output_filter: ['probabilities'],
      inputs: { image: { dtype: 'DT_FLOAT', tensor_shape: shape, float_val: xs.flat(3) } },
    });
    assertClose(values(listed.outputs.probabilities), expected);
  });

  it('Predict on model_spec.version runs that version; signature "logits" answers REST\'s logits', async () => {
    const xs = [instance(4), instance(5)];
    const expected = (await rest('/v1/models/tiny/versions/1:predict', { signature_name: 'logits', instances: xs })).json().predictions.flat() as number[];
    const answer = await ok<{ outputs: Record<string, TensorAnswer>; model_spec: { version: { value: string } } }>('Predict', {
      model_spec: { name: 'tiny', version: { value: 1 }, signature_name: 'logits' },
      inputs: { image: { dtype: 'DT_FLOAT', tensor_shape: dims(2, SIZE, SIZE, 3), tensor_content: floatBytes(xs) } },
    });
    assert.deepEqual(Object.keys(answer.outputs), ['logits']);
    assertClose(values(answer.outputs.logits), expected);
    assert.equal(answer.model_spec.version.value, '1');
    // The logits are not the probabilities: the signature really switched the output.
    const probabilities = (await rest('/v1/models/tiny/versions/1:predict', { instances: xs })).json().predictions.flat() as number[];
    assert.ok(expected.some((v, i) => Math.abs(v - probabilities[i]) > 1e-3));
  });

  it('Predict: DT_UINT8 pixels (tensor_content or int_val) are normalized as REST\'s UINT8 inputs are', async () => {
    const data = pixels(2, 7);
    const v2 = await rest('/v2/models/tiny/infer', { inputs: [{ name: 'image', shape: [2, SIZE, SIZE, 3], datatype: 'UINT8', data }], outputs: [{ name: 'probabilities' }] });
    assert.equal(v2.statusCode, 200, v2.body);
    const expected = v2.json().outputs[0].data as number[];
    const shape = dims(2, SIZE, SIZE, 3);
    const bytes = await ok<{ outputs: Record<string, TensorAnswer> }>('Predict', {
      model_spec: { name: 'tiny' }, inputs: { image: { dtype: 'DT_UINT8', tensor_shape: shape, tensor_content: Buffer.from(data) } },
    });
    assertClose(values(bytes.outputs.probabilities), expected);
    const ints = await ok<{ outputs: Record<string, TensorAnswer> }>('Predict', {
      model_spec: { name: 'tiny' }, inputs: { image: { dtype: 'DT_UINT8', tensor_shape: shape, int_val: data } },
    });
    assertClose(values(ints.outputs.probabilities), expected);
    const outOfRange = await failure('Predict', {
      model_spec: { name: 'tiny' }, inputs: { image: { dtype: 'DT_UINT8', tensor_shape: shape, int_val: data.map((v, i) => (i === 5 ? 300 : v)) } },
    });
    assert.equal(outOfRange.code, status.INVALID_ARGUMENT);
    assert.match(outOfRange.details, /DT_UINT8 tensor values must be integers in \[0, 255\]\. Received: inputs\["image"\]\.int_val\[5\]=300\./);
  });

  it('Predict: DT_STRING encoded images (a JPEG made here) answer what REST\'s {"b64": ...} answers', async () => {
    const jpeg = await imageBytes(20, 14, 'jpeg');
    const png = await imageBytes(8, 8, 'png');
    const expected = (await rest('/v1/models/tiny:predict', { instances: [{ b64: jpeg.toString('base64') }, { b64: png.toString('base64') }] })).json().predictions.flat() as number[];
    const answer = await ok<{ outputs: Record<string, TensorAnswer> }>('Predict', {
      model_spec: { name: 'tiny' }, inputs: { image: { dtype: 'DT_STRING', tensor_shape: dims(2), string_val: [jpeg, png] } },
    });
    assertClose(values(answer.outputs.probabilities), expected);
    const broken = await failure('Predict', { model_spec: { name: 'tiny' }, inputs: { image: { dtype: 'DT_STRING', tensor_shape: dims(1), string_val: [Buffer.from('not an image')] } } });
    assert.equal(broken.code, status.INVALID_ARGUMENT);
    assert.equal(broken.errorCode, 'SERVE_E_BAD_IMAGE');
    assert.match(broken.details, /inputs\["image"\]\.string_val\[0\]/);
  });

  it('Predict: a wrong shape, byte count, dtype, signature or output is INVALID_ARGUMENT with the house message', async () => {
    const wrongShape = await failure('Predict', { model_spec: { name: 'tiny' }, inputs: { image: { dtype: 'DT_FLOAT', tensor_shape: dims(1, SIZE, 4, 3), float_val: new Array(SIZE * 4 * 3).fill(0) } } });
    assert.equal(wrongShape.code, status.INVALID_ARGUMENT);
    assert.equal(wrongShape.errorCode, 'SERVE_E_BAD_INPUT');
    assert.equal(wrongShape.details, `A DT_FLOAT input must have shape [N, ${SIZE}, ${SIZE}, 3] (the model's input shape). Received: inputs["image"].tensor_shape=[1,${SIZE},4,3]. `
      + `Send shape [N, ${SIZE}, ${SIZE}, 3] with N >= 1, or DT_STRING with encoded images to have them resized.`);
    const short = await failure('Predict', { model_spec: { name: 'tiny' }, inputs: { image: { dtype: 'DT_FLOAT', tensor_shape: dims(1, SIZE, SIZE, 3), tensor_content: Buffer.alloc(12) } } });
    assert.match(short.details, /tensor_content must hold product\(tensor_shape\) x 4 bytes .* Received: .*expectedBytes=768, tensor_content=12\./);
    const nan = new Float32Array(SIZE * SIZE * 3);
    nan[10] = NaN;
    const notFinite = await failure('Predict', { model_spec: { name: 'tiny' }, inputs: { image: { dtype: 'DT_FLOAT', tensor_shape: dims(1, SIZE, SIZE, 3), tensor_content: Buffer.from(nan.buffer) } } });
    assert.match(notFinite.details, /^Every tensor value must be a finite number\. Received: inputs\["image"\] element 10=NaN\./);
    const dtype = await failure('Predict', { model_spec: { name: 'tiny' }, inputs: { image: { dtype: 'DT_DOUBLE', tensor_shape: dims(1, SIZE, SIZE, 3) } } });
    assert.match(dtype.details, /must be DT_FLOAT .*Received: inputs\["image"\]\.dtype="DT_DOUBLE"\./);
    // The same rule and message as REST's signature_name.
    const restSignature = (await rest('/v1/models/tiny:predict', { signature_name: 'embeddings', instances: [instance(1)] })).json().error as string;
    const signature = await failure('Predict', { model_spec: { name: 'tiny', signature_name: 'embeddings' }, inputs: { image: { dtype: 'DT_FLOAT', tensor_shape: dims(1, SIZE, SIZE, 3), tensor_content: floatBytes([instance(1)]) } } });
    assert.equal(signature.code, status.INVALID_ARGUMENT);
    assert.equal(signature.details, restSignature);
    const filter = await failure('Predict', { model_spec: { name: 'tiny' }, output_filter: ['logits'], inputs: { image: { dtype: 'DT_FLOAT', tensor_shape: dims(1, SIZE, SIZE, 3), tensor_content: floatBytes([instance(1)]) } } });
    assert.match(filter.details, /output_filter may name only the signature's output \("probabilities" for serving_default\)\. Received: output_filter=\["logits"\]\./);
    const inputs = await failure('Predict', { model_spec: { name: 'tiny' }, inputs: { pixels: { dtype: 'DT_FLOAT', tensor_shape: dims(1, SIZE, SIZE, 3) } } });
    assert.match(inputs.details, /inputs must hold exactly one tensor, "image"\. Received: inputs=\["pixels"\]\./);
  });

  it('Predict: a claimed batch beyond --max-instances is refused before any value is read', async () => {
    const huge = await failure('Predict', { model_spec: { name: 'tiny' }, inputs: { image: { dtype: 'DT_FLOAT', tensor_shape: dims(1_000_000_000, SIZE, SIZE, 3) } } });
    assert.equal(huge.code, status.INVALID_ARGUMENT);
    assert.match(huge.details, /^One request may carry at most --max-instances=\d+ images\. Received: inputs\["image"\]\.tensor_shape\[0\]=1000000000\./);
    const images = await failure('Predict', { model_spec: { name: 'tiny' }, inputs: { image: { dtype: 'DT_STRING', tensor_shape: dims(2), string_val: [Buffer.from('x')] } } });
    assert.equal(images.details, 'inputs["image"].string_val must have one encoded image per element of tensor_shape. '
      + 'Received: inputs["image"].tensor_shape=[2], string_val.length=1. Make tensor_shape [N] with N the number of images.');
  });

  it('an unknown model, version or version label is NOT_FOUND with REST\'s code', async () => {
    const input = { image: { dtype: 'DT_FLOAT', tensor_shape: dims(1, SIZE, SIZE, 3), tensor_content: floatBytes([instance(1)]) } };
    const model = await failure('Predict', { model_spec: { name: 'missing' }, inputs: input });
    const restModel = await rest('/v1/models/missing:predict', { instances: [instance(1)] });
    assert.equal(restModel.statusCode, 404);
    assert.deepEqual([model.code, model.errorCode, model.details], [status.NOT_FOUND, 'SERVE_E_MODEL_NOT_FOUND', restModel.json().error]);
    const version = await failure('Predict', { model_spec: { name: 'tiny', version: { value: 7 } }, inputs: input });
    assert.equal(version.code, status.NOT_FOUND);
    assert.equal(version.errorCode, 'SERVE_E_VERSION_NOT_FOUND');
    assert.match(version.details, /Received: model="tiny", version=7, served=\[2,1\]/);
    const label = await failure('Predict', { model_spec: { name: 'tiny', version_label: 'stable' }, inputs: input });
    assert.equal(label.code, status.NOT_FOUND);
    assert.match(label.details, /serves no version labels.*version_label="stable"/);
    const metadata = await failure('GetModelMetadata', { model_spec: { name: 'missing' }, metadata_field: ['signature_def'] });
    assert.equal(metadata.code, status.NOT_FOUND);
  });

  it('Classify: float_list and bytes_list examples get REST :classify\'s labels and scores, in its order', async () => {
    const jpeg = await imageBytes(16, 12, 'jpeg');
    const restAnswer = await rest('/v1/models/tiny:classify', { examples: [{ image: instance(8) }, { image: { b64: jpeg.toString('base64') } }] });
    assert.equal(restAnswer.statusCode, 200, restAnswer.body);
    const expected = restAnswer.json().results as [string, number][][];
    const answer = await ok<{ result: { classifications: { classes: { label: string; score: number }[] }[] }; model_spec: { version: { value: string } } }>('Classify', {
      model_spec: { name: 'tiny' },
      input: { example_list: { examples: [
        { features: { feature: { image: { float_list: { value: instance(8).flat(2) } } } } },
        { features: { feature: { image: { bytes_list: { value: [jpeg] } } } } },
      ] } },
    });
    assert.equal(answer.model_spec.version.value, '2');
    assert.equal(answer.result.classifications.length, 2);
    answer.result.classifications.forEach((c, i) => {
      assert.deepEqual(c.classes.map((k) => k.label), expected[i].map(([label]) => label));
      assertClose(c.classes.map((k) => k.score), expected[i].map(([, score]) => score), 1e-6);
    });
    // With a context example: its "image" feature goes to every example that has none.
    const withContext = await ok<{ result: { classifications: { classes: { label: string }[] }[] } }>('Classify', {
      model_spec: { name: 'tiny' },
      input: { example_list_with_context: { context: { features: { feature: { image: { bytes_list: { value: [jpeg] } } } } }, examples: [{}, {}] } },
    });
    assert.deepEqual(withContext.result.classifications.map((c) => c.classes.map((k) => k.label)), [expected[1].map(([l]) => l), expected[1].map(([l]) => l)]);
    const short = await failure('Classify', { model_spec: { name: 'tiny' }, input: { example_list: { examples: [{ features: { feature: { image: { float_list: { value: [1, 2] } } } } }] } } });
    assert.equal(short.code, status.INVALID_ARGUMENT);
    assert.match(short.details, /float_list image must hold H\*W\*C = 192 .*Received: examples\[0\]\.image\.float_list\.length=2\./);
  });

  it('GetModelMetadata: the Any unpacks to REST\'s signature_def (inputs, outputs, shapes, method)', async () => {
    const answer = await ok<{ model_spec: Record<string, unknown>; metadata: Record<string, { type_url: string; value: Buffer }> }>('GetModelMetadata', {
      model_spec: { name: 'tiny', version: { value: 1 } }, metadata_field: ['signature_def'],
    });
    assert.deepEqual(answer.model_spec, { name: 'tiny', version: { value: '1' }, signature_name: '', version_choice: 'version' });
    const any = answer.metadata.signature_def;
    assert.equal(any.type_url, 'type.googleapis.com/tensorflow.serving.SignatureDefMap');
    const map = signatureDefMap.deserialize(any.value) as { signature_def: Record<string, unknown> };
    const restMap = (await server.app.inject({ method: 'GET', url: '/v1/models/tiny/versions/1/metadata', headers: bearer(INFERENCE_KEY) })).json().metadata.signature_def.signature_def;
    // The same map as REST's JSON (int64 sizes as strings in both; `encoding` is the loader's name of TensorInfo's oneof).
    const unpacked = JSON.parse(JSON.stringify(map.signature_def), (k, v) => (k === 'encoding' ? undefined : v));
    assert.deepEqual(unpacked, restMap);
    const sig = unpacked.serving_default;
    assert.deepEqual(sig.inputs.image.tensor_shape.dim.map((d: { size: string }) => d.size), ['-1', String(SIZE), String(SIZE), '3']);
    assert.deepEqual(Object.keys(unpacked.logits.outputs), ['logits']);
    const none = await failure('GetModelMetadata', { model_spec: { name: 'tiny' }, metadata_field: [] });
    assert.equal(none.code, status.INVALID_ARGUMENT);
    assert.match(none.details, /metadata_field must list the fields to return, of: signature_def\./);
  });

  it('Predict and REST :predict run on the same batcher; calls are counted under their method labels', async () => {
    const batcher = server.ctx.repository.resolve('tiny').batcher;
    const before = batcher.stats.rows;
    const xs = Array.from({ length: 6 }, (_, i) => instance(200 + i));
    const grpcCalls = xs.map((x) => ok<{ outputs: Record<string, TensorAnswer> }>('Predict', {
      model_spec: { name: 'tiny' }, inputs: { image: { dtype: 'DT_FLOAT', tensor_shape: dims(1, SIZE, SIZE, 3), tensor_content: floatBytes([x]) } },
    }));
    const restCalls = xs.slice(0, 2).map((x) => rest('/v1/models/tiny:predict', { instances: [x] }));
    const [got, viaRest] = await Promise.all([Promise.all(grpcCalls), Promise.all(restCalls)]);
    assert.equal(batcher.stats.rows - before, 8);
    viaRest.forEach((r, i) => assertClose(values(got[i].outputs.probabilities), r.json().predictions[0]));
    const text = await server.ctx.metrics.registry.metrics();
    for (const [method, code] of [['Predict', 'OK'], ['Predict', 'INVALID_ARGUMENT'], ['Predict', 'NOT_FOUND'], ['Classify', 'OK'], ['GetModelMetadata', 'OK']]) {
      assert.match(text, new RegExp(`route="grpc /tensorflow\\.serving\\.PredictionService/${method}",method="GRPC",status="${code}"\\} [1-9]`), `${method} ${code}`);
    }
  });

  it('without a key the methods are UNAUTHENTICATED (keys on), and no answer echoes a key', async () => {
    const input = { image: { dtype: 'DT_FLOAT', tensor_shape: dims(1, SIZE, SIZE, 3), tensor_content: floatBytes([instance(1)]) } };
    const none = await failure('Predict', { model_spec: { name: 'tiny' }, inputs: input }, null);
    assert.equal(none.code, status.UNAUTHENTICATED);
    assert.equal(none.errorCode, 'SERVE_E_UNAUTHORIZED');
    const wrong = await failure('GetModelMetadata', { model_spec: { name: 'tiny' }, metadata_field: ['signature_def'] }, 'wrong-key-0123456789');
    assert.equal(wrong.code, status.UNAUTHENTICATED);
    assert.doesNotMatch(wrong.details, /wrong-key/);
  });

  it('every TF Serving and TensorFlow .proto names the published file and release it follows, and what it leaves out', () => {
    const files = ['tensorflow_serving', 'tensorflow'].flatMap((dir) => fs.readdirSync(path.join(protoRoot(), dir), { recursive: true, encoding: 'utf8' })
      .filter((f) => f.endsWith('.proto')).map((f) => path.join(dir, f)));
    assert.equal(files.length, 12);
    for (const file of files) {
      const text = fs.readFileSync(path.join(protoRoot(), file), 'utf8');
      const header = text.slice(0, text.indexOf('syntax = "proto3";'));
      const repository = file.startsWith('tensorflow_serving') ? 'tensorflow/serving' : 'tensorflow/tensorflow';
      assert.ok(header.includes(`github.com/${repository}  ${file.split(path.sep).join('/')}  (release 2.x`), `${file}: ${header.split('\n')[1]}`);
      assert.match(header, /Trimmed|Complete/, file);
    }
  });
});
