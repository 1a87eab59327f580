// "Head first, then unfreeze" (fastai's fine_tune, after Howard & Ruder's ULMFiT): under method full the base
// stays frozen for the first `epochs` epochs — its params at learning-rate scale 0, so the optimizer leaves them
// bit for bit, and its BatchNorm layers in inference mode — while the new head learns; then the whole base thaws at
// lr × baseLrFactor. A new head's first gradients are large and uninformed; the base only sees gradients once the
// head means something. The state is a function of the epoch, so a resumed run agrees.
import type { tf } from '../backend';
import type { Callback, TrainingContext } from '../train/callbacks/callback';
import type { Param } from '../train/optimizers';
import type * as tfl from '@tensorflow/tfjs-layers';
import { isBatchNorm, setInferenceMode } from './freeze';

export class HeadFirst implements Callback {
  readonly name = 'head_first';
  private readonly baseParams: Param[];
  private readonly norms: tfl.layers.Layer[];
  private frozen: boolean | null = null;

  /**
   * baseLayers: the base's layers up to the cut; params: the optimizer's params (the base's among them);
   * epochs: epochs with the base frozen (> 0); baseLrFactor: the thawed base's lrScale.
   */
  constructor(baseLayers: tfl.layers.Layer[], params: Param[], readonly epochs: number, private readonly baseLrFactor: number) {
    const base = new Set(baseLayers.flatMap((layer) => layer.weights.map((w) => w.read() as tf.Variable)));
    this.baseParams = params.filter((p) => base.has(p.variable));
    this.norms = baseLayers.filter(isBatchNorm);
  }

  /** True while the base is frozen, i.e. during epochs 0 .. epochs − 1. */
  frozenAt(epochIndex: number): boolean {
    return epochIndex < this.epochs;
  }

  /** Applies the state of epoch `epochIndex` (0-based); returns whether the base is frozen. */
  apply(epochIndex: number): boolean {
    const frozen = this.frozenAt(epochIndex);
    for (const param of this.baseParams) param.lrScale = frozen ? 0 : this.baseLrFactor;
    for (const layer of this.norms) setInferenceMode(layer, frozen);
    return frozen;
  }

  onEpochBegin(epochIndex: number, ctx: TrainingContext): void {
    const frozen = this.apply(epochIndex);
    if (this.frozen === true && !frozen) {
      ctx.note(`head first: epoch ${epochIndex + 1} unfreezes the base (${this.baseParams.length} weight tensors at lr x ${this.baseLrFactor})`);
    }
    this.frozen = frozen;
  }
}
