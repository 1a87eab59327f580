// The training run's TensorBoard log (Keras's TensorBoard callback), installed by train() by default
// (`--no-tensorboard` turns it off). It lives with training and feeds the tracker's pure writers (track/: event
// file, histograms, prediction grid, system metrics), so the tracker never imports training. Into one event file
// in the run directory it writes:
//   step/{loss,accuracy,lr,images_per_second}   every `stepEvery` updates, x = update (loss/accuracy: epoch running means)
//   epoch/{loss,accuracy,val_loss,val_accuracy,val_robust_accuracy,lr,images_per_second,seconds}   x = epoch
//   system/{cpu_percent,rss_bytes,heap_used_bytes,tensors,native_tensor_bytes}   every few seconds, x = update
//   weights/<name>, gradients/<name>   histograms per epoch (gradients of the epoch's last update), x = epoch
//   images/sample_predictions   at the end: a grid of sample images (spread over the validation split) with predicted and true class
//   images/confusion_matrix, report/*   from the final report (see logReport)
// The sample grid is also saved as the run's predictions.png + predictions.json for the dashboard. Logging never
// stops training: a failure is reported once as a note and that kind of record is skipped from then on.
import * as fs from 'node:fs';

import type { Tensor } from '@tensorflow/tfjs-core';
import sharp from 'sharp';

import { tf } from '../../backend';
import { normalizeImages, type ImageDataset, type Normalization } from '../../data';
import { confusionPng } from '../../eval/confusion_png';
import type { EvaluationMetrics } from '../../eval/metrics';
import { writeFileAtomic } from '../../run/atomic';
import type { RunDir } from '../../run/run_dir';
import { EventFileWriter } from '../../track/event_writer';
import { histogramOf } from '../../track/histogram';
import { predictionGridPng, type SamplePrediction } from '../../track/prediction_grid';
import { SystemSampler } from '../../track/system_metrics';
import type { BatchLogs, EpochLogs } from '../state';
import type { Callback, TrainingContext, UpdateInfo } from './callback';

export interface SampleSource {
  /** `count` images spread evenly through this dataset are shown (use the validation split: the model has not trained on it). */
  dataset: ImageDataset;
  normalization: Normalization;
  classNames: string[];
  /** Default 24. */
  count?: number;
}

export interface TensorBoardOptions {
  /** The event file goes into the run directory, and so do the sample predictions; the report's confusion.png is read from it. */
  run: RunDir;
  /** Step scalars every this many optimizer updates (default 10). */
  stepEvery?: number;
  /** Seconds between system samples (default 5). */
  systemEverySeconds?: number;
  /** Images for the sample-prediction grid; none → no grid. */
  samples?: SampleSource | null;
  /** Where problems go when no training context is at hand (logReport); default stderr. */
  warn?: (message: string) => void;
}

export class TensorBoard implements Callback {
  readonly name = 'tensorboard';
  private writer: EventFileWriter | null = null;
  private readonly sampler = new SystemSampler();
  private lastSystemSample = 0;
  private gradients: { names: string[]; tensors: Tensor[] } | null = null;
  private readonly failed = new Set<string>();
  private ctx: TrainingContext | null = null;
  private lastEpoch = 0;
  private lastLoggedStep = -1;
  private readonly stepEvery: number;
  private readonly systemMs: number;

  constructor(private readonly options: TensorBoardOptions) {
    this.stepEvery = Math.max(1, options.stepEvery ?? 10);
    this.systemMs = (options.systemEverySeconds ?? 5) * 1000;
  }

  /** The event file being written (null before training begins). */
  get eventFile(): string | null {
    return this.writer?.path ?? null;
  }

  onTrainBegin(ctx: TrainingContext): void {
    this.ctx = ctx;
    this.lastEpoch = ctx.state.epoch;
    this.guard('event file', () => {
      this.writer = new EventFileWriter(this.options.run.dir, { onError: (error) => this.report('event file', error) });
    });
    this.lastSystemSample = performance.now();
  }

  onBatchEnd(logs: BatchLogs): void {
    const writer = this.writer;
    if (!writer) return;
    // With gradient accumulation several batches share a step: log each step once.
    if (logs.step % this.stepEvery === 0 && logs.step !== this.lastLoggedStep) {
      this.lastLoggedStep = logs.step;
      writer.addScalars({
        'step/loss': logs.loss, 'step/accuracy': logs.accuracy, 'step/lr': logs.lr, 'step/images_per_second': logs.imagesPerSecond,
      }, logs.step);
    }
    if (performance.now() - this.lastSystemSample >= this.systemMs) this.logSystem(logs.step);
  }

  onGradients(grads: readonly Tensor[], info: UpdateInfo, ctx: TrainingContext): void {
    if (!info.lastOfEpoch || !this.writer || this.failed.has('gradient histograms')) return;
    this.guard('gradient histograms', () => {
      this.disposeGradients();
      // Cheap: a clone shares or copies the buffers once; the histograms are computed at epoch end, off this path.
      this.gradients = { names: ctx.model.trainableWeights.map((w) => w.name), tensors: grads.map((g) => tf.clone(g)) };
    });
  }

  async onEpochEnd(logs: EpochLogs, ctx: TrainingContext): Promise<void> {
    const writer = this.writer;
    if (!writer) return;
    this.lastEpoch = logs.epoch;
    const scalars: Record<string, number> = {
      'epoch/loss': logs.loss, 'epoch/accuracy': logs.accuracy, 'epoch/lr': logs.lr,
      'epoch/images_per_second': logs.imagesPerSecond, 'epoch/seconds': logs.seconds,
    };
    if (logs.val_loss !== undefined) scalars['epoch/val_loss'] = logs.val_loss;
    if (logs.val_accuracy !== undefined) scalars['epoch/val_accuracy'] = logs.val_accuracy;
    if (logs.val_robust_accuracy !== undefined) scalars['epoch/val_robust_accuracy'] = logs.val_robust_accuracy;
    writer.addScalars(scalars, logs.epoch);
    await this.guardAsync('weight histograms', async () => {
      for (const weight of ctx.model.weights) {
        const { histo } = histogramOf(await weight.read().data() as Float32Array);
        if (histo) writer.addHistogram(`weights/${weight.name}`, histo, logs.epoch);
      }
    });
    const gradients = this.gradients;
    this.gradients = null;
    if (gradients) {
      await this.guardAsync('gradient histograms', async () => {
        try {
          for (const [i, tensor] of gradients.tensors.entries()) {
            const { histo } = histogramOf(await tensor.data() as Float32Array);
            if (histo) writer.addHistogram(`gradients/${gradients.names[i]}`, histo, logs.epoch);
          }
        } finally {
          tf.dispose(gradients.tensors);
        }
      });
    }
    this.logSystem(logs.step);
    writer.flush();
  }

  async onTrainEnd(ctx: TrainingContext): Promise<void> {
    this.disposeGradients();
    const samples = this.options.samples;
    if (this.writer && samples && samples.dataset.count > 0) {
      await this.guardAsync('sample predictions', () => this.logSamplePredictions(ctx, samples));
    }
    this.writer?.flush();
  }

  /**
   * The final evaluation: its confusion matrix as an image (the run's report/confusion.png when written, else
   * drawn here), loss, accuracy, top-k and per-class F1 as scalars at the last epoch; then closes the file.
   */
  async logReport(report: EvaluationMetrics): Promise<void> {
    const writer = this.writer;
    if (!writer) return;
    const step = this.lastEpoch;
    const scalars: Record<string, number> = { 'report/loss': report.loss, 'report/accuracy': report.accuracy };
    for (const [k, value] of Object.entries(report.topK)) scalars[`report/top_${k}_accuracy`] = value;
    for (const c of report.perClass) scalars[`report/f1/${c.name}`] = c.f1;
    writer.addScalars(scalars, step);
    await this.guardAsync('confusion matrix image', async () => {
      const file = this.options.run.confusionPng;
      const png = fs.existsSync(file) ? fs.readFileSync(file) : await confusionPng(report.confusion, report.classNames);
      const meta = await sharp(png).metadata();
      writer.addImage('images/confusion_matrix', png, { height: meta.height!, width: meta.width!, colorspace: meta.channels ?? 3 }, step);
    });
    this.close();
  }

  /** Flushes and closes the event file; later records are dropped. */
  close(): void {
    this.disposeGradients();
    this.writer?.close();
  }

  private async logSamplePredictions(ctx: TrainingContext, source: SampleSource): Promise<void> {
    const { dataset, normalization, classNames } = source;
    const count = Math.min(source.count ?? 24, dataset.count);
    const pixelsPerImage = dataset.height * dataset.width * 3;
    // Evenly spaced through the split: image folders list their images class by class.
    const indices = Array.from({ length: count }, (_, i) => Math.floor((i * dataset.count) / count));
    const images = new Uint8Array(count * pixelsPerImage);
    indices.forEach((index, i) => images.set(dataset.images.subarray(index * pixelsPerImage, (index + 1) * pixelsPerImage), i * pixelsPerImage));
    const [height, width] = ctx.model.inputs[0].shape.slice(1, 3) as number[];
    const probs = tf.tidy(() => {
      const x = tf.tensor4d(normalizeImages(images, normalization), [count, dataset.height, dataset.width, 3]);
      const input = dataset.height === height && dataset.width === width ? x : tf.image.resizeBilinear(x, [height, width]);
      return tf.softmax(ctx.model.apply(input, { training: false }) as Tensor) as Tensor;
    });
    const values = await probs.data() as Float32Array;
    const numClasses = probs.shape[1]!;
    probs.dispose();
    const samples: SamplePrediction[] = [];
    for (let i = 0; i < count; i++) {
      const row = values.subarray(i * numClasses, (i + 1) * numClasses);
      let predicted = 0;
      for (let c = 1; c < numClasses; c++) if (row[c] > row[predicted]) predicted = c;
      samples.push({
        pixels: images.subarray(i * pixelsPerImage, (i + 1) * pixelsPerImage), height: dataset.height, width: dataset.width,
        label: dataset.labels[indices[i]], predicted, probability: row[predicted],
      });
    }
    const grid = await predictionGridPng(samples, classNames);
    this.writer!.addImage('images/sample_predictions', grid.png, { height: grid.height, width: grid.width }, this.lastEpoch);
    writeFileAtomic(this.options.run.predictionsPng, grid.png);
    writeFileAtomic(this.options.run.predictionsJson, `${JSON.stringify({
      classNames,
      samples: samples.map((s, i) => ({ index: indices[i], label: s.label, predicted: s.predicted, probability: s.probability })),
    }, null, 2)}\n`);
  }

  private logSystem(step: number): void {
    this.lastSystemSample = performance.now();
    this.guard('system metrics', () => {
      const sample = this.sampler.sample();
      this.writer?.addScalars(Object.fromEntries(Object.entries(sample).map(([key, value]) => [`system/${key}`, value])), step);
    });
  }

  private disposeGradients(): void {
    if (this.gradients) tf.dispose(this.gradients.tensors);
    this.gradients = null;
  }

  private guard(what: string, body: () => void): void {
    if (this.failed.has(what)) return;
    try {
      body();
    } catch (error) {
      this.report(what, error);
    }
  }

  private async guardAsync(what: string, body: () => Promise<void>): Promise<void> {
    if (this.failed.has(what)) return;
    try {
      await body();
    } catch (error) {
      this.report(what, error);
    }
  }

  /** One note per kind of failure; that kind is skipped from then on. */
  private report(what: string, error: unknown): void {
    if (this.failed.has(what)) return;
    this.failed.add(what);
    const message = `TensorBoard log: ${what} could not be written and is skipped from now on (${(error as Error).message ?? error}).`;
    if (this.ctx) this.ctx.note(message);
    else (this.options.warn ?? ((m: string) => process.stderr.write(`${m}\n`)))(message);
  }
}
