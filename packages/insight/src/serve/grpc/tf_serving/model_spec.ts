// TF Serving's ModelSpec (tensorflow_serving/apis/model.proto) read as REST reads its URL and body: the model's name,
// a version number or none (the default: the highest served version), and the signature (serving_default →
// probabilities, "logits" → logits). Version labels name no version here (Insight configures none): NOT_FOUND.
// Answers echo the spec with the version that served.
import { serveError } from '../../../errors';
import { parseSignature, type SignatureName } from '../../inputs/tf_serving_body';
import type { Servable } from '../../repository/servable';

/** A ModelSpec as the loader decodes it: oneof members only when set (`version_choice` names the one that is). */
export interface ModelSpecMessage {
  name: string;
  version?: { value: number | string } | null;
  version_label?: string;
  signature_name: string;
  version_choice?: 'version' | 'version_label';
}

export interface ModelTarget {
  model: string;
  /** undefined: the default version. */
  version: number | undefined;
  signature: SignatureName;
}

/** The model, version and signature a request's model_spec names. Throws SERVE_E_BAD_INPUT / SERVE_E_VERSION_NOT_FOUND. */
export function readModelSpec(spec: ModelSpecMessage | null): ModelTarget {
  if (spec === null || spec.name === '') {
    throw serveError('SERVE_E_BAD_INPUT', 'A request must name its model in model_spec.name.', { 'model_spec.name': spec === null ? null : '' },
      'Set model_spec.name (the model\'s folder name in the repository).');
  }
  return { model: spec.name, version: readVersion(spec), signature: parseSignature(spec.signature_name) };
}

function readVersion(spec: ModelSpecMessage): number | undefined {
  if (spec.version_label !== undefined) {
    throw serveError('SERVE_E_VERSION_NOT_FOUND', 'Insight serves no version labels: a request names a version by number, or none for the default.',
      { model: spec.name, version_label: spec.version_label.slice(0, 64) }, 'Set model_spec.version to a served version, or leave it unset for the highest one.');
  }
  if (spec.version === undefined || spec.version === null) return undefined;
  const version = Number(spec.version.value);
  if (!(Number.isSafeInteger(version) && version >= 1)) {
    throw serveError('SERVE_E_BAD_INPUT', 'model_spec.version must be a positive integer.', { 'model_spec.version': String(spec.version.value) },
      'Set it to a served version number, or leave it unset for the default (highest) version.');
  }
  return version;
}

/** The model_spec of an answer: the servable's name and version, and the signature that ran ('' for metadata). */
export function servedSpec(servable: Servable, signature: SignatureName | ''): object {
  return { name: servable.name, version: { value: servable.version }, signature_name: signature };
}
