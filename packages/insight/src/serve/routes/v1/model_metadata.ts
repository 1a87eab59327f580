// TF Serving model metadata: GET /v1/models/{model}[/versions/{version}]/metadata → the SignatureDefs in TF
// Serving's JSON shape (input "image" [-1, H, W, C] DT_FLOAT; outputs "probabilities" for serving_default and
// "logits" for the "logits" signature), plus an "insight" entry with what TF Serving has no field for: class
// names, normalization, architecture, platform (tfjs or ONNX Runtime), the inference settings its answers are
// computed with (output kind, temperature, test-time augmentation), and the accepted encodings.
import type { RouteOptions } from 'fastify';

import type { ServeContext } from '../../http/context';
import { INPUT_NAME, SIGNATURES } from '../../inputs/tf_serving_body';
import { IMAGE_FORMATS } from '../../inputs/decode_image';
import type { Servable } from '../../repository/servable';
import { parseVersion } from '../shared';

type Params = { model: string; version?: string };

export function modelMetadataRoutes(ctx: ServeContext): RouteOptions[] {
  const handler = async (request: { params: unknown }) => {
    const { model, version } = request.params as Params;
    return tfServingMetadata(ctx.repository.resolve(model, parseVersion(version)));
  };
  return [
    { method: 'GET', url: '/v1/models/:model/metadata', config: { scope: 'inference' }, handler },
    { method: 'GET', url: '/v1/models/:model/versions/:version/metadata', config: { scope: 'inference' }, handler },
  ];
}

function tensorInfo(name: string, dims: number[]) {
  return {
    dtype: 'DT_FLOAT',
    tensor_shape: { dim: dims.map((size) => ({ size: String(size), name: '' })), unknown_rank: false },
    name,
  };
}

export function tfServingMetadata(s: Servable) {
  const signatureDef = Object.fromEntries(Object.entries(SIGNATURES).map(([signature, output]) => [signature, {
    inputs: { [INPUT_NAME]: tensorInfo(`${signature}_${INPUT_NAME}:0`, [-1, ...s.inputShape]) },
    outputs: { [output]: tensorInfo(`StatefulPartitionedCall:0`, [-1, s.numClasses]) },
    method_name: 'tensorflow/serving/predict',
  }]));
  return {
    model_spec: { name: s.name, signature_name: '', version: String(s.version) },
    metadata: {
      signature_def: { signature_def: signatureDef },
      insight: {
        architecture: s.metadata.architecture,
        platform: s.platform,
        input_shape: s.inputShape,
        class_names: s.metadata.classNames,
        normalization: s.metadata.normalization,
        inference: s.inference,
        image_formats: IMAGE_FORMATS,
        loaded_at: s.loadedAt.toISOString(),
      },
    },
  };
}
