// InsightLora (finetune/lora_layer.ts), exported merged: the plain Dense or Conv2D it wraps, with the kernel
// W + (alpha/r)·A·B. Read through the layer's own `mergedKernel()` and `target` (this foundation folder cannot
// import the finetune feature, so the layer is recognised by its registered class name).
import type { tf } from '../../backend';
import { writeConv2d } from './conv';
import { writeDense } from './dense';
import type { Converter } from './step';

interface LoraLike {
  target: { className: string; config: Record<string, unknown> };
  mergedKernel(): tf.Tensor;
}

/** The wrapped layer's writer, by its class. */
const WRITERS: Readonly<Record<string, typeof writeDense>> = { Dense: writeDense, Conv2D: writeConv2d };

export const loraLayer: Converter = (ctx, step, [x]) => {
  const lora = step.layer as unknown as LoraLike;
  const write = WRITERS[lora.target.className];
  if (write === undefined) throw new Error(`LoRA around ${lora.target.className} is not supported`);
  const merged = lora.mergedKernel();
  try {
    return write(ctx, step, x, merged, lora.target.config);
  } finally {
    merged.dispose();
  }
};
