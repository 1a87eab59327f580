// PredictionService/Classify: the gRPC form of REST's :classify.
//   ClassificationRequest {model_spec, input {example_list {examples: [tf.Example]} | example_list_with_context}}
//   → ClassificationResponse {model_spec, result {classifications: [{classes: [{label, score}, ...]}, ...]}}
// Each tf.Example has one feature, "image": a float_list of H*W*C normalized values (row-major [H, W, C]) or a
// bytes_list with one encoded image file. As REST, every class comes back, highest score first (softmax
// probabilities; with signature_name "logits", logits). Context features are merged into each example.
import { serveError } from '../../../errors';
import { checkFinite } from '../../inputs/dense';
import { checkInstanceCount, type Instance } from '../../inputs/instances';
import { INPUT_NAME, SIGNATURES } from '../../inputs/tf_serving_body';
import { rankedClasses } from '../../outputs/ranked_classes';
import { infer, withServable } from '../../routes/shared';
import type { GrpcContext } from '../service';
import { readModelSpec, servedSpec, type ModelSpecMessage } from './model_spec';

/** A tf.Feature as the loader decodes it (oneofs on: `kind` names the list that is set). */
interface FeatureMessage {
  kind?: 'bytes_list' | 'float_list' | 'int64_list';
  bytes_list?: { value: Buffer[] };
  float_list?: { value: number[] };
}

interface ExampleMessage {
  features: { feature: Record<string, FeatureMessage> } | null;
}

export interface ClassificationRequestMessage {
  model_spec: ModelSpecMessage | null;
  input: {
    kind?: 'example_list' | 'example_list_with_context';
    example_list?: { examples: ExampleMessage[] };
    example_list_with_context?: { examples: ExampleMessage[]; context: ExampleMessage | null };
  } | null;
}

const EXAMPLE = `input {example_list {examples: [{features {feature {"${INPUT_NAME}": {bytes_list {value: [<JPEG bytes>]}}}}}]}}`;

export async function classify(ctx: GrpcContext, request: ClassificationRequestMessage): Promise<object> {
  const target = readModelSpec(request.model_spec);
  const { examples, context } = exampleList(request.input, ctx.config.maxInstances);
  return withServable(ctx, target.model, target.version, async (servable) => {
    const [h, w, c] = servable.inputShape;
    const instances = examples.map((example, i) => exampleInstance(example, context, h * w * c, i));
    const scores = (await infer(ctx, servable, instances))[SIGNATURES[target.signature]];
    return {
      model_spec: servedSpec(servable, target.signature),
      result: {
        classifications: instances.map((_, i) => ({
          classes: rankedClasses(scores, servable, i).map((r) => ({ label: r.label, score: r.score })),
        })),
      },
    };
  });
}

function exampleList(input: ClassificationRequestMessage['input'], maxInstances: number): { examples: ExampleMessage[]; context: ExampleMessage | null } {
  const withContext = input?.example_list ? null : input?.example_list_with_context ?? null;
  const list = input?.example_list ?? withContext;
  if (list === null || list.examples.length === 0) {
    throw serveError('SERVE_E_BAD_INPUT', 'A ClassificationRequest needs input.example_list (or example_list_with_context) with one tf.Example per image.',
      { 'input.examples': list === null ? null : 0 }, `Send ${EXAMPLE}.`);
  }
  checkInstanceCount(list.examples.length, maxInstances, 'input.examples.length');
  return { examples: list.examples, context: withContext?.context ?? null };
}

/** Example i's "image" feature (from the example, else the context) as an instance of rowSize values or an encoded image. */
function exampleInstance(example: ExampleMessage, context: ExampleMessage | null, rowSize: number, i: number): Instance {
  const where = `examples[${i}].${INPUT_NAME}`;
  const features = { ...context?.features?.feature, ...example.features?.feature };
  const other = Object.keys(features).filter((name) => name !== INPUT_NAME);
  if (other.length > 0) {
    throw serveError('SERVE_E_BAD_INPUT', `A tf.Example (with its context) may only have the feature "${INPUT_NAME}".`, { [`examples[${i}]`]: other.slice(0, 5) },
      'Remove the other features (check the spelling).');
  }
  const feature = features[INPUT_NAME];
  if (feature?.float_list) {
    if (feature.float_list.value.length !== rowSize) {
      throw serveError('SERVE_E_BAD_INPUT', `A float_list image must hold H*W*C = ${rowSize} normalized values (the model's input, row-major).`,
        { [`${where}.float_list.length`]: feature.float_list.value.length }, 'Send every pixel channel, or the encoded image in a bytes_list to have it resized.');
    }
    return { kind: 'flat', values: checkFinite(Float32Array.from(feature.float_list.value), `${where}.float_list`, 'DT_FLOAT'), dtype: 'float' };
  }
  if (feature?.bytes_list) {
    if (feature.bytes_list.value.length !== 1) {
      throw serveError('SERVE_E_BAD_INPUT', 'A bytes_list image must hold exactly one encoded image file.', { [`${where}.bytes_list.length`]: feature.bytes_list.value.length },
        'Send one tf.Example per image.');
    }
    return { kind: 'image', bytes: feature.bytes_list.value[0], where: `${where}.bytes_list` };
  }
  throw serveError('SERVE_E_BAD_INPUT', `Every tf.Example (with its context) must have the feature "${INPUT_NAME}" as a float_list or a bytes_list.`,
    { [where]: feature === undefined ? null : feature.kind ?? 'empty' }, `Send ${EXAMPLE}.`);
}
