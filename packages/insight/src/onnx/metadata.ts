// The Insight metadata of an exported .onnx file (classes, input shape, normalisation), read back from its
// metadata_props, so a served or evaluated .onnx knows what its outputs mean.
import type { InsightModelMetadata } from '../models/metadata';
import { ONNX_METADATA_KEY } from './export';
import { ModelProtoType } from './onnx_proto';

/** The metadata exportOnnx embedded in `bytes` (an .onnx file), or null when it has none. */
export function readOnnxMetadata(bytes: Uint8Array): InsightModelMetadata | null {
  const model = ModelProtoType.toObject(ModelProtoType.decode(bytes), { defaults: false }) as { metadata_props?: { key?: string; value?: string }[] };
  const entry = (model.metadata_props ?? []).find((p) => p.key === ONNX_METADATA_KEY);
  return entry?.value ? (JSON.parse(entry.value) as InsightModelMetadata) : null;
}
