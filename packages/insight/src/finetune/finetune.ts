// `finetune(config)`: one whole fine-tuning run, as `insight finetune` does it — load and cut the base, attach
// the new head (and adapters, LoRA or a visual prompt), set the method's trainable set, plan the run (budget.ts:
// epochs from the data size, head alone first under full), train with Insight's training loop in a normal run
// directory, then write the report, the forgetting report and the model (LoRA merged by default),
// which `insight evaluate` and `insight predict` use like any other model.
import type * as tfl from '@tensorflow/tfjs-layers';

import { DataLoader } from '../data';
import { computeMetrics, type EvaluationMetrics } from '../eval/metrics';
import { runInference } from '../eval/inference';
import { setInsightMetadata } from '../models/metadata';
import { writeFileAtomic } from '../run/atomic';
import { recordRunData } from '../run/dataset_source';
import { augmentOf } from '../train/data_setup';
import { createOptimizer, type Optimizer } from '../train/optimizers';
import { RunSession } from '../train/session';
import type { TrainerState } from '../train/state';
import { fit } from '../train/trainer';
import { TRAIN_DEFAULTS } from '../train/config';
import { loadBaseModel } from './base_model';
import { planTraining } from './budget';
import { buildFinetuneModel, buildOptionsOf } from './build';
import { listOf, resolveFinetuneConfig, type FinetuneConfig } from './config';
import { prepareFinetuneData } from './data';
import { baseTaskAccuracy, forgettingReport, type ForgettingReport } from './forgetting';
import { GradualUnfreezing } from './gradual_unfreezing';
import { HeadFirst } from './head_first';
import { L2SP } from './l2sp';
import { mergeLora } from './lora';
import { configureMethod, parameterCounts, variablesOf } from './methods';

export interface FinetuneOptions {
  /** Where progress and info lines go (default process.stdout). */
  out?: NodeJS.WriteStream;
  /**
   * Stop at SIGINT/SIGTERM after saving checkpoints/last and mark the run interrupted (default true, as the CLI
   * does); false leaves the process's own signal handling alone (a killed run then shows as crashed).
   */
  handleSignals?: boolean;
}

export interface FinetuneResult {
  runDir: string;
  config: FinetuneConfig;
  backend: string;
  state: TrainerState;
  /** The fine-tuned model on the held-out images of the new classes. */
  report: EvaluationMetrics;
  /** Base-task accuracy before/after, when forgetting data was given. */
  forgetting: ForgettingReport | null;
  /** Parameters the method trains (at the end, for gradual unfreezing), the model's total, and the share. */
  trainableParams: number;
  totalParams: number;
  trainableShare: number;
  /** Wall time of the training loop (seconds). */
  trainSeconds: number;
  /** The saved model (merged for LoRA unless merge: false); the caller owns it (dispose when done). */
  model: tfl.LayersModel;
}

/**
 * Fine-tunes `config.base` on `config.data` per `config` (partial; see FINETUNE_SCHEMA for the defaults).
 * Example: `const { report } = await finetune({ base: 'runs/base', data: 'cifar.tar.gz', classes: '5,6,7,8,9',
 *   perClass: 100, method: 'lora', rank: 4 })`.
 */
export async function finetune(input: Partial<FinetuneConfig> | Record<string, unknown>, options: FinetuneOptions = {}): Promise<FinetuneResult> {
  const config = resolveFinetuneConfig(input);
  const session = await RunSession.start({ backend: config.backend, progress: config.progress, out: options.out, handleSignals: options.handleSignals });
  const say = (line: string) => session.say(line);
  const inputShape = config.inputShape === null ? null : listOf(config.inputShape).map(Number) as [number, number, number];
  const base = await loadBaseModel(config.base, { inputShape, normalization: config.normalization === 'scale' ? { kind: 'scale' } : null });
  base.notices.forEach(say);
  const data = await prepareFinetuneData(config, base);
  const ft = buildFinetuneModel(base.model, buildOptionsOf(config, data.classNames, base.metadata.classNames));
  const params = configureMethod(ft, config.method, config.baseLrFactor);
  const finalCounts = parameterCounts(ft.model, params);
  const unfreezing = config.unfreezeEvery > 0 ? new GradualUnfreezing(ft.blocks, params, config.unfreezeEvery, config.baseLrFactor) : null;
  unfreezing?.apply(0);
  setInsightMetadata(ft.model, {
    formatVersion: 1,
    architecture: base.metadata.architecture,
    architectureOptions: { ...base.metadata.architectureOptions, finetuneMethod: config.method, finetuneCutAt: ft.cutAt },
    inputShape: base.metadata.inputShape,
    classNames: data.classNames,
    normalization: data.normalization,
  });

  const baseVariables = variablesOf(ft.baseLayers);
  const l2sp = config.l2sp > 0 ? new L2SP(params.map((p) => p.variable).filter((v) => baseVariables.has(v)), config.l2sp) : null;
  const workers = config.workers ?? undefined;
  const forgettingBefore = data.forgetting ? await baseTaskAccuracy(ft.original, data.forgetting, base.metadata.normalization, workers) : null;
  const train = new DataLoader(data.train, {
    batchSize: config.batchSize, shuffle: true, seed: config.seed, normalization: data.normalization, workers,
    augment: augmentOf({ ...TRAIN_DEFAULTS, augment: config.augment }),
  });
  const heldOut = new DataLoader(data.heldOut, { batchSize: 256, shuffle: false, normalization: data.normalization, workers });
  let optimizer: Optimizer | null = null;
  try {
    // Settings fine-tuning does not expose (beta1, momentum ...) are the training recipe's defaults.
    optimizer = createOptimizer(config.optimizer, params, { ...TRAIN_DEFAULTS, weightDecay: config.weightDecay });
    const plan = planTraining(config, train.batchesPerEpoch);
    const headFirst = plan.headEpochs > 0 ? new HeadFirst(ft.baseLayers, params, plan.headEpochs, config.baseLrFactor) : null;
    headFirst?.apply(0);
    const startCounts = parameterCounts(ft.model, params);
    const run = session.create(config.runsDir, config);

    const pct = (share: number) => `${(share * 100).toFixed(share < 0.01 ? 2 : 1)}%`;
    say(`Run ${run.dir}`);
    say(`  base ${base.dir} (${base.metadata.architecture}, ${base.model.countParams().toLocaleString('en-US')} parameters), cut at ${ft.cutAt}, backend ${session.backend}`);
    say(`  method ${config.method}: ${finalCounts.trainable.toLocaleString('en-US')} of ${finalCounts.total.toLocaleString('en-US')} parameters train (${pct(finalCounts.share)})` +
      `${unfreezing ? `; gradual unfreezing of ${ft.blocks.length} blocks every ${config.unfreezeEvery} epochs starts with ${startCounts.trainable.toLocaleString('en-US')} (${pct(startCounts.share)})` : ''}` +
      `${ft.promptSize > 0 ? `; a prompt of ${ft.promptSize.toLocaleString('en-US')} values on the input` : ''}`);
    if (ft.fromBase.length > 0) {
      say(`  head: ${ft.fromBase.join(', ')} start from the base's classifier (classes it already has)` +
        `${ft.headPretrained ? `, so the head trains as pretrained weights, at lr x ${config.baseLrFactor}` : `, the others from ${config.headInit}`}`);
    }
    say(`  data: ${data.train.count} training images, ${data.heldOutDescription}, ${data.classNames.length} classes (${data.classNames.join(', ')})`);
    recordRunData(run, data.record, say);
    say(`  ${config.optimizer} lr ${config.lr}${config.method === 'full' ? ` (base x ${config.baseLrFactor})` : ''}, ${config.schedule}` +
      `${plan.warmupSteps > 0 ? ` after ${plan.warmupSteps} warmup steps` : ''}, batch ${config.batchSize}, ${plan.description}${l2sp ? `, L2-SP ${config.l2sp}` : ''}, seed ${config.seed}`);

    const started = performance.now();
    const state = await fit(ft.model, train, {
      epochs: plan.epochs, optimizer, schedule: plan.schedule, seed: config.seed, validation: config.epochValidation ? heldOut : null,
      callbacks: session.callbacks(unfreezing ? [unfreezing] : headFirst ? [headFirst] : [], { monitor: config.epochValidation ? 'val_loss' : 'loss' }),
      penalty: l2sp ? () => l2sp.penalty() : undefined, adaptiveThreads: config.adaptiveThreads,
    });
    const trainSeconds = (performance.now() - started) / 1000;

    const report = computeMetrics(await runInference(ft.model, heldOut), data.classNames, [Math.min(config.topK, data.classNames.length)]);
    await session.report(report, data.heldOutDescription);
    let forgetting: ForgettingReport | null = null;
    if (data.forgetting && forgettingBefore !== null) {
      forgetting = forgettingReport(data.forgetting.count, forgettingBefore, await baseTaskAccuracy(ft.original, data.forgetting, base.metadata.normalization, workers));
      writeFileAtomic(run.forgettingJson, `${JSON.stringify(forgetting, null, 2)}\n`);
      say(`Forgetting on ${forgetting.count} base-task images (original head): accuracy ${forgetting.before.toFixed(4)} before, ${forgetting.after.toFixed(4)} after (drop ${forgetting.drop.toFixed(4)})`);
    }
    const model = config.method === 'lora' && config.merge ? mergeLora(ft.model) : ft.model;
    await session.complete(model, {
      summary: {
        method: config.method, base: base.dir, cutAt: ft.cutAt, epochs: state.epoch, steps: state.step,
        trainableParams: finalCounts.trainable, totalParams: finalCounts.total, trainSeconds, forgetting,
      },
      modelNote: model !== ft.model ? ' (LoRA merged into the weights)' : '',
    });
    return {
      runDir: run.dir, config, backend: session.backend, state, report, forgetting, trainableParams: finalCounts.trainable,
      totalParams: finalCounts.total, trainableShare: finalCounts.share, trainSeconds, model,
    };
  } catch (error) {
    session.fail(error);
    ft.model.dispose();
    throw error;
  } finally {
    optimizer?.dispose();
    l2sp?.dispose();
    await train.close();
    await heldOut.close();
  }
}
