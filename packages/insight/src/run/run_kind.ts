// What made a run, read from its config.json: each training command's schema has a key no other has.
//   train (insight train, train())     — none of the keys below
//   finetune (insight finetune)        — `base`, the model it starts from
//   distill (insight distill)          — `teacher`
//   compress (insight compress)        — `sparsity`
export const RUN_KINDS = ['train', 'finetune', 'distill', 'compress'] as const;
export type RunKind = (typeof RUN_KINDS)[number];

/** The kind of run a config describes. */
export function runKind(config: Record<string, unknown>): RunKind {
  if (typeof config.base === 'string') return 'finetune';
  if (typeof config.teacher === 'string') return 'distill';
  if (typeof config.sparsity === 'number') return 'compress';
  return 'train';
}
