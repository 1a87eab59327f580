// Activating the configured compute backend, with the CLI's errors for an unavailable one. `auto` means torch when
// libtorch is there; without it, inference (evaluate, predict, serve, explain) runs on TensorFlow.js's cpu backend,
// but training does not: the cpu backend trains seed-cnn at ~1.5 images/s against ~1,700 on torch (a CIFAR-10
// epoch in 9 hours instead of 30 s), so training on it must be asked for by name (--backend cpu, or
// INSIGHT_BACKEND=cpu), and otherwise fails at once saying how to get libtorch.
import { HOW_TO_GET_LIBTORCH, initBackend, torchAvailable, torchUnavailableReason } from '../backend';
import { ruleError } from '../errors';
import { BACKEND_CHOICES, type BackendChoice } from './config_fields';

/** The environment variable that sets the backend when the command leaves it at auto. */
export const BACKEND_ENV = 'INSIGHT_BACKEND';

/** What the backend is started for: training refuses the cpu fallback unless it was chosen by name. */
export type BackendPurpose = 'inference' | 'training';

/** `name`, or INSIGHT_BACKEND's value when `name` is auto; INSIGHT_E_CONFIG for an unknown INSIGHT_BACKEND. */
export function resolveBackendChoice(name: BackendChoice, env: NodeJS.ProcessEnv = process.env): BackendChoice {
  const fromEnv = env[BACKEND_ENV];
  if (name !== 'auto' || fromEnv === undefined || fromEnv === '') return name;
  if (!(BACKEND_CHOICES as readonly string[]).includes(fromEnv)) {
    throw ruleError('INSIGHT_E_CONFIG', `${BACKEND_ENV} must be one of: ${BACKEND_CHOICES.join(', ')}.`, { [BACKEND_ENV]: fromEnv },
      `Set ${BACKEND_ENV}=cpu, torch or auto, or unset it.`);
  }
  return fromEnv as BackendChoice;
}

/**
 * Activates `name` ('auto' = INSIGHT_BACKEND if set, else torch when available, else cpu — for inference only) and
 * returns the active backend's name. INSIGHT_E_BACKEND when torch is asked for but missing, or when training would
 * fall back to cpu without being asked to.
 */
export async function startBackend(name: BackendChoice, purpose: BackendPurpose = 'inference'): Promise<string> {
  const choice = resolveBackendChoice(name);
  if (choice === 'auto' && purpose === 'training' && !torchAvailable) {
    throw ruleError('INSIGHT_E_BACKEND',
      'Training needs libtorch: the torch backend is unavailable, and TensorFlow.js\'s cpu backend trains about 1,000 times slower (seed-cnn: ~1.5 images/s instead of ~1,700).',
      { backend: name, reason: torchUnavailableReason },
      `${HOW_TO_GET_LIBTORCH} To train on the cpu backend anyway (tiny models and tests), pass --backend cpu or set ${BACKEND_ENV}=cpu.`);
  }
  try {
    return await initBackend(choice === 'auto' ? undefined : choice);
  } catch (error) {
    throw ruleError('INSIGHT_E_BACKEND', 'The requested backend must be available.', { backend: choice, reason: (error as Error).message },
      `${HOW_TO_GET_LIBTORCH} Or pass --backend cpu (much slower) or auto.`);
  }
}
