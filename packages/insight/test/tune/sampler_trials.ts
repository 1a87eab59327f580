// Trial records for the sampler, pruner and importance tests: a study's trials as the storage returns them, built
// from (params, value) pairs or per-epoch reports, and a loop that runs a sampler on a toy objective.
import { streamRng } from '../../src/data/random';
import type { Direction, IntermediateValue, Params, TrialRecord, TrialState } from '../../src/study/types';
import type { Sampler } from '../../src/tune/samplers';
import type { SearchSpace } from '../../src/tune/space';

/** One trial record (number = id - 1); value null unless given. */
export function trial(number: number, params: Params, state: TrialState, value: number | null = null,
  intermediate: IntermediateValue[] = []): TrialRecord {
  return {
    id: number + 1, studyId: 1, number, state, params, value, intermediate, runDir: null, workerId: null, retryOf: null,
    error: null, createdAt: '2026-01-01T00:00:00Z', startedAt: null, finishedAt: null, heartbeatAt: null,
  };
}

/** A trial that reported `values` at steps 1, 2, ... (pruned or completed with its last value, running without). */
export function reported(number: number, values: number[], state: TrialState = 'running', params: Params = {}): TrialRecord {
  const intermediate = values.map((value, i) => ({ step: i + 1, value }));
  return trial(number, params, state, state === 'running' ? null : values[values.length - 1], intermediate);
}

/** Runs `n` sequential trials of `sampler` on `objective`, seeded; returns the trials in order. */
export function runStudy(sampler: Sampler, space: SearchSpace, objective: (p: Params) => number, n: number,
  seed: number, direction: Direction = 'minimize'): TrialRecord[] {
  const trials: TrialRecord[] = [];
  for (let i = 0; i < n; i++) {
    const params = sampler.sample(space, trials, direction, streamRng(seed, 'tune-test', i)) as Params;
    trials.push(trial(i, params, 'completed', objective(params)));
  }
  return trials;
}
