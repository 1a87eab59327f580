// KServe v2 model metadata: GET /v2/models/{model}[/versions/{version}] →
//   {"name", "versions": ["2", "1"], "platform": "tensorflowjs_layers" (or "onnxruntime_onnx" for a model.onnx version),
//    "inputs": [{"name": "image", "datatype": "FP32", "shape": [-1, H, W, C]}],
//    "outputs": [{"name": "probabilities", ...}, {"name": "logits", ...}], "parameters": {class_names, ...}}
// The input also accepts FP16, UINT8 and INT32 (raw pixels) and BYTES (encoded images), listed in parameters.
import type { RouteOptions } from 'fastify';

import type { ServeContext } from '../../http/context';
import { IMAGE_FORMATS } from '../../inputs/decode_image';
import { INPUT_NAME } from '../../inputs/tf_serving_body';
import { V2_OUTPUTS } from '../../inputs/v2_body';
import { parseV2Version } from '../shared';

type Params = { model: string; version?: string };

/** The metadata of `model` at `version` (undefined: the default one), as this route and gRPC's ModelMetadata answer it. */
export function v2ModelMetadata(ctx: ServeContext, model: string, version: string | undefined) {
  const s = ctx.repository.resolve(model, parseV2Version(ctx, model, version));
  const served = ctx.repository.snapshot().find((m) => m.name === model)?.servingVersions ?? [];
  return {
    name: s.name,
    versions: version === undefined ? served.map(String) : [String(s.version)],
    platform: s.platform,
    inputs: [{ name: INPUT_NAME, datatype: 'FP32', shape: [-1, ...s.inputShape] }],
    outputs: V2_OUTPUTS.map((name) => ({ name, datatype: 'FP32', shape: [-1, s.numClasses] })),
    parameters: {
      version: String(s.version),
      class_names: s.metadata.classNames,
      normalization: s.metadata.normalization,
      inference: s.inference,
      input_datatypes: ['FP32 or FP16 (normalized)', 'UINT8 or INT32 (raw RGB pixels)',
        `BYTES (${IMAGE_FORMATS.join('/')} files, shape [N]: base64 in JSON, raw as binary tensor data)`],
    },
  };
}

export function v2ModelMetadataRoutes(ctx: ServeContext): RouteOptions[] {
  const handler = async (request: { params: unknown }) => {
    const { model, version } = request.params as Params;
    return v2ModelMetadata(ctx, model, version);
  };
  return [
    { method: 'GET', url: '/v2/models/:model', config: { scope: 'inference' }, handler },
    { method: 'GET', url: '/v2/models/:model/versions/:version', config: { scope: 'inference' }, handler },
  ];
}
