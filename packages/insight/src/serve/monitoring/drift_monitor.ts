// The drift windows of a server, one per model name (its versions share one: drift is about the traffic). A
// model whose metadata carries no TrainingDistribution gets none, and so no drift gauges. The window restarts
// when the served metadata changes (a new version trained on other data).
import type { InsightModelMetadata, TrainingDistribution } from '../../models/metadata';
import { DriftWindow, type DriftSnapshot } from './drift';

export class DriftMonitor {
  private readonly windows = new Map<string, DriftWindow>();

  constructor(readonly windowSize = 1024) {}

  /** One forward pass of `model` (x: [rows, H, W, C] normalized, probabilities: [rows, numClasses]). */
  observe(model: string, metadata: InsightModelMetadata | undefined, x: Float32Array, rows: number, probabilities: Float32Array): void {
    const reference = usable(metadata);
    if (reference === null) {
      this.windows.delete(model);
      return;
    }
    let window = this.windows.get(model);
    if (window?.reference !== reference) {
      window = new DriftWindow(reference, this.windowSize);
      this.windows.set(model, window);
    }
    window.observe(x, rows, probabilities);
  }

  /**
   * Every model with a non-empty window: its snapshot. With `served` (the names serving now), the windows of other
   * models (unloaded or removed) are dropped first, so their gauges go with them.
   */
  snapshots(served?: ReadonlySet<string>): { model: string; snapshot: DriftSnapshot }[] {
    const out: { model: string; snapshot: DriftSnapshot }[] = [];
    for (const [model, window] of this.windows) {
      if (served !== undefined && !served.has(model)) {
        this.windows.delete(model);
        continue;
      }
      const snapshot = window.snapshot();
      if (snapshot !== null) out.push({ model, snapshot });
    }
    return out;
  }
}

/** The metadata's distribution when it matches the model (channels = inputShape's, one frequency per class). */
function usable(metadata: InsightModelMetadata | undefined): TrainingDistribution | null {
  const d = metadata?.trainingDistribution;
  if (d === undefined || metadata === undefined) return null;
  const ok = Array.isArray(d.channelMean) && d.channelMean.length === metadata.inputShape[2] && Array.isArray(d.channelStd)
    && Array.isArray(d.classFrequencies) && d.classFrequencies.length === metadata.classNames.length;
  return ok ? d : null;
}
