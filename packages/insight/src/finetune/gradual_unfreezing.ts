// Gradual unfreezing (Howard & Ruder's ULMFiT, as in fastai): the base starts frozen and one more block thaws from
// the top (the output side) every `every` epochs, until the whole base trains. Frozen blocks keep their weights
// bit for bit (their params have lrScale 0, so the optimizer skips them) and run BatchNorm in inference mode;
// a thawed block trains at lr × baseLrFactor. The state is a function of the epoch, so a resumed run agrees.
import type { tf } from '../backend';
import type { Callback, TrainingContext } from '../train/callbacks/callback';
import type { Param } from '../train/optimizers';
import type { Block } from '../models/graph/blocks';
import { isBatchNorm, setInferenceMode } from './freeze';

export class GradualUnfreezing implements Callback {
  readonly name = 'gradual_unfreezing';
  private readonly blockOf = new Map<tf.Variable, number>();
  private thawed = -1;

  /**
   * blocks: the base's blocks bottom first; params: the optimizer's params (base params among them);
   * every: epochs between thaws (block k from the top thaws at epoch k·every); baseLrFactor: thawed params' lrScale.
   */
  constructor(private readonly blocks: Block[], private readonly params: Param[], readonly every: number, private readonly baseLrFactor: number) {
    blocks.forEach((block, b) => {
      for (const layer of block.layers) for (const w of layer.weights) this.blockOf.set(w.read() as tf.Variable, b);
    });
  }

  /** Blocks trainable during epoch `epochIndex` (0-based), counted from the top. */
  thawedAt(epochIndex: number): number {
    return Math.min(this.blocks.length, Math.floor(epochIndex / this.every));
  }

  /** Applies the schedule for `epochIndex`: lrScale 0 and inference-mode BatchNorm below the thawed blocks. */
  apply(epochIndex: number): number {
    const thawed = this.thawedAt(epochIndex);
    const firstThawed = this.blocks.length - thawed;
    for (const param of this.params) {
      const b = this.blockOf.get(param.variable);
      if (b !== undefined) param.lrScale = b >= firstThawed ? this.baseLrFactor : 0;
    }
    this.blocks.forEach((block, b) => {
      for (const layer of block.layers) if (isBatchNorm(layer)) setInferenceMode(layer, b < firstThawed);
    });
    return thawed;
  }

  onEpochBegin(epochIndex: number, ctx: TrainingContext): void {
    const thawed = this.apply(epochIndex);
    if (thawed !== this.thawed && this.thawed >= 0) {
      const layers = this.blocks[this.blocks.length - thawed].layers.map((l) => l.name).join(', ');
      ctx.note(`gradual unfreezing: epoch ${epochIndex + 1} thaws block ${this.blocks.length - thawed + 1} (${layers}); ${thawed} of ${this.blocks.length} base blocks train`);
    }
    this.thawed = thawed;
  }
}
