// A learning-rate schedule in phases, each its own schedule restarted at its first step: fastai's fine_tune runs one
// cycle on the head alone and a second, new cycle once the base is unfrozen. Still a pure function of the step, so a
// checkpoint only needs the step.
import { ruleError } from '../errors';
import type { LearningRateSchedule } from '../train/schedules';

export interface Phase {
  /** First update (0-based) of the phase; the first phase starts at 0. */
  start: number;
  /** Asked for `step − start`. */
  schedule: LearningRateSchedule;
}

export class PhasedSchedule implements LearningRateSchedule {
  readonly name = 'phased';

  constructor(private readonly phases: Phase[]) {
    if (phases.length === 0 || phases[0].start !== 0 || phases.some((p, i) => i > 0 && p.start <= phases[i - 1].start)) {
      throw ruleError('INSIGHT_E_CONFIG', 'A phased schedule needs phases in increasing order of start, the first at step 0.',
        { starts: phases.map((p) => p.start) }, 'Start the first phase at step 0 and each next one later.');
    }
  }

  lrAt(step: number): number {
    let phase = this.phases[0];
    for (const p of this.phases) if (p.start <= step) phase = p;
    return phase.schedule.lrAt(step - phase.start);
  }
}
