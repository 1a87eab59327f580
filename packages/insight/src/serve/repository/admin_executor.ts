// Admin commands (load, unload, reload, list) as data, so that they can run on this process's repository or be
// broadcast to every worker of a cluster (lifecycle/cluster.ts) and answer the same way.
import { ServeError, type ServeErrorCode } from '../../errors';
import type { ModelRepository, ModelSnapshot } from './repository';

export type AdminCommand =
  | { action: 'list' }
  | { action: 'load'; model: string; version: number | null }
  | { action: 'unload'; model: string }
  | { action: 'reload'; model: string };

/** A command's outcome, serializable for IPC. */
export type AdminOutcome =
  | { ok: true; models: ModelSnapshot[] }
  | { ok: false; code: ServeErrorCode; message: string };

export interface AdminExecutor {
  /** Runs `command`; resolves with the models' snapshots (one model for load/unload/reload) or throws ServeError. */
  run(command: AdminCommand): Promise<{ models: ModelSnapshot[]; workers: number }>;
}

/** Runs a command on one repository and captures its error as data. */
export async function runAdminCommand(repository: ModelRepository, command: AdminCommand): Promise<AdminOutcome> {
  try {
    switch (command.action) {
      case 'list':
        return { ok: true, models: repository.snapshot() };
      case 'load':
        return { ok: true, models: [await repository.load(command.model, command.version)] };
      case 'unload':
        return { ok: true, models: [await repository.unload(command.model)] };
      case 'reload':
        return { ok: true, models: [await repository.reload(command.model)] };
    }
  } catch (error) {
    if (error instanceof ServeError) return { ok: false, code: error.code, message: error.message };
    return { ok: false, code: 'SERVE_E_INTERNAL', message: (error as Error).message };
  }
}

/** The executor of a single-process server. */
export function localAdmin(repository: ModelRepository): AdminExecutor {
  return {
    async run(command) {
      const outcome = await runAdminCommand(repository, command);
      if (!outcome.ok) throw new ServeError(outcome.code, outcome.message);
      return { models: outcome.models, workers: 1 };
    },
  };
}
