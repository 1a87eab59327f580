// PredictionService/GetModelMetadata: the gRPC form of REST's GET /v1/models/{m}[/versions/{v}]/metadata.
//   GetModelMetadataRequest {model_spec {name, version?}, metadata_field: ["signature_def"]}
//   → GetModelMetadataResponse {model_spec, metadata {"signature_def": Any(tensorflow.serving.SignatureDefMap)}}
// The signatures are REST's own (routes/v1/model_metadata.ts), packed as TF Serving packs them: an Any with
// type_url "type.googleapis.com/tensorflow.serving.SignatureDefMap" around the serialized map.
import { serveError } from '../../../errors';
import { tfServingMetadata } from '../../routes/v1/model_metadata';
import type { GrpcContext } from '../service';
import { readModelSpec, servedSpec, type ModelSpecMessage } from './model_spec';

export interface GetModelMetadataRequestMessage {
  model_spec: ModelSpecMessage | null;
  metadata_field: string[];
}

/** The metadata fields served, each with its message type (TF Serving serves "signature_def" only, as here). */
const METADATA_FIELDS = { signature_def: 'tensorflow.serving.SignatureDefMap' } as const;

/** Serializes a message of one of METADATA_FIELDS's types (from the loaded .proto files). */
export type Serializer = (typeName: string, value: object) => Buffer;

export async function getModelMetadata(ctx: GrpcContext, request: GetModelMetadataRequestMessage, serialize: Serializer): Promise<object> {
  const target = readModelSpec(request.model_spec);
  const fields = [...new Set(request.metadata_field)];
  const unknown = fields.filter((field) => !Object.prototype.hasOwnProperty.call(METADATA_FIELDS, field));
  if (fields.length === 0 || unknown.length > 0) {
    throw serveError('SERVE_E_BAD_INPUT', `metadata_field must list the fields to return, of: ${Object.keys(METADATA_FIELDS).join(', ')}.`,
      { metadata_field: fields.length === 0 ? [] : unknown.slice(0, 5) }, 'Send metadata_field: ["signature_def"].');
  }
  const servable = ctx.repository.resolve(target.model, target.version);
  const { signature_def: signatureDefMap } = tfServingMetadata(servable).metadata;
  const typeName = METADATA_FIELDS.signature_def;
  return {
    model_spec: servedSpec(servable, ''),
    metadata: { signature_def: { type_url: `type.googleapis.com/${typeName}`, value: serialize(typeName, signatureDefMap) } },
  };
}
