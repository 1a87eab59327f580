// PredictionService/Predict: the gRPC form of REST's :predict.
//   PredictRequest {model_spec {name, version?, signature_name?}, inputs {"image": TensorProto}, output_filter?}
//   → PredictResponse {model_spec (the version that served), outputs {"probabilities" | "logits": DT_FLOAT [N, C]}}
// The input tensor is read by tensor_proto.ts; the instances run through the version's batcher with REST's `infer`,
// so a gRPC Predict and a REST :predict on one model share its batches.
import { serveError } from '../../../errors';
import { INPUT_NAME, SIGNATURES } from '../../inputs/tf_serving_body';
import { infer, withServable } from '../../routes/shared';
import type { GrpcContext } from '../service';
import { readModelSpec, servedSpec, type ModelSpecMessage } from './model_spec';
import { floatTensor, tensorInstances, type TensorProtoMessage } from './tensor_proto';

export interface PredictRequestMessage {
  model_spec: ModelSpecMessage | null;
  inputs: Record<string, TensorProtoMessage>;
  output_filter: string[];
}

export async function predict(ctx: GrpcContext, request: PredictRequestMessage): Promise<object> {
  const target = readModelSpec(request.model_spec);
  const names = Object.keys(request.inputs);
  if (names.length !== 1 || names[0] !== INPUT_NAME) {
    throw serveError('SERVE_E_BAD_INPUT', `PredictRequest.inputs must hold exactly one tensor, "${INPUT_NAME}".`, { inputs: names.slice(0, 5) },
      `Send inputs {"${INPUT_NAME}": <TensorProto of shape [N, H, W, C]>} (see GetModelMetadata).`);
  }
  const output = SIGNATURES[target.signature];
  const unknown = request.output_filter.filter((name) => name !== output);
  if (unknown.length > 0) {
    throw serveError('SERVE_E_BAD_INPUT', `output_filter may name only the signature's output ("${output}" for ${target.signature}).`,
      { output_filter: unknown.slice(0, 5) }, 'Leave output_filter empty for every output, or set signature_name to the signature that has the output.');
  }
  return withServable(ctx, target.model, target.version, async (servable) => {
    // Shapes are checked against the version the request runs on.
    const instances = tensorInstances(request.inputs[INPUT_NAME], servable.inputShape, ctx.config.maxInstances, `inputs["${INPUT_NAME}"]`);
    const result = await infer(ctx, servable, instances);
    return {
      model_spec: servedSpec(servable, target.signature),
      outputs: { [output]: floatTensor(result[output], instances.length, servable.numClasses) },
    };
  });
}
