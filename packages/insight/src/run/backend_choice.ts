// Activating the configured compute backend, with the CLI's error for an unavailable one.
import { initBackend } from '../backend';
import { ruleError } from '../errors';
import type { BackendChoice } from './config_fields';

/** Activates `name` ('auto' = torch when available, else cpu) and returns the active backend's name. */
export async function startBackend(name: BackendChoice): Promise<string> {
  try {
    return await initBackend(name === 'auto' ? undefined : name);
  } catch (error) {
    throw ruleError('INSIGHT_E_BACKEND', 'The requested backend must be available.', { backend: name, reason: (error as Error).message },
      'Install libtorch and rebuild @insight/tfjs-backend-torch, or pass --backend cpu (slower) or auto.');
  }
}
