// What a rank other than 0 of a data-parallel group does about stopping. The launcher forwards SIGINT/SIGTERM to
// every worker, but only rank 0 may decide where the group stops (it saves the run's checkpoint there): a follower
// keeps the first signal from killing it, and stops at the update whose allreduce carried rank 0's stop request
// (DataParallel.stopAgreed), as rank 0 does. A second signal stops it at once, as it stops one process.
import { ruleError } from '../../errors';
import type { Callback } from '../callbacks/callback';
import { ModelCheckpoint } from '../callbacks/model_checkpoint';
import type { DataParallel } from './data_parallel';

const SIGNALS = ['SIGINT', 'SIGTERM'] as const;
/** 128 + the signal's number, as a shell reports a process the signal stopped. */
const EXIT_STATUS: Record<(typeof SIGNALS)[number], number> = { SIGINT: 130, SIGTERM: 143 };

/** Holds off SIGINT and SIGTERM (the first of them; a second exits) until the returned release is called. */
export function holdSignals(): () => void {
  let heard = false;
  const listeners = SIGNALS.map((signal) => [signal, () => {
    if (heard) process.exit(EXIT_STATUS[signal]);
    heard = true;
  }] as const);
  for (const [signal, listener] of listeners) process.on(signal, listener);
  return () => {
    for (const [signal, listener] of listeners) process.off(signal, listener);
  };
}

/** The follower's callback: INSIGHT_E_INTERRUPTED at the update (or epoch end) where the group agreed to stop. */
export function followerStop(parallel: DataParallel): Callback {
  const interruption = (where: string) => ruleError('INSIGHT_E_INTERRUPTED', 'Training stops at SIGINT or SIGTERM, after saving its state at the next optimizer update.',
    { rank: parallel.rank, savedAt: where }, 'Rank 0 saved the run\'s checkpoints/last there; its message says how to resume the run.');
  return {
    name: 'followerStop',
    onBatchEnd: (logs, ctx) => {
      if (parallel.stopAgreed && ModelCheckpoint.atUpdateInEpoch(logs, ctx)) {
        throw interruption(`epoch ${logs.epochIndex + 1}, batch ${logs.batch}/${logs.batchesPerEpoch} (step ${logs.step})`);
      }
    },
    onEpochEnd: (logs) => {
      if (parallel.stopAgreed) throw interruption(`the end of epoch ${logs.epoch} (step ${logs.step})`);
    },
  };
}
