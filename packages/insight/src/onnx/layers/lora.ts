// InsightLora (finetune/lora_layer.ts), exported merged: the plain Dense or Conv2D it wraps, with the kernel
// W + (alpha/r)·A·B. Read through the layer's own `mergedKernel()` and `target` (this foundation folder cannot
// import the finetune feature, so the layer is recognised by its registered class name).
import type { tf } from '../../backend';
import { loraConv2d } from './conv';
import { loraDense } from './dense';
import type { Converter } from './step';

interface LoraLike {
  target: { className: string; config: Record<string, unknown> };
  mergedKernel(): tf.Tensor;
}

export const loraLayer: Converter = (ctx, step, [x]) => {
  const lora = step.layer as unknown as LoraLike;
  const merged = lora.mergedKernel();
  if (lora.target.className === 'Dense') return loraDense(ctx, step, x, merged, lora.target.config);
  if (lora.target.className === 'Conv2D') return loraConv2d(ctx, step, x, merged, lora.target.config);
  merged.dispose();
  throw new Error(`LoRA around ${lora.target.className} is not supported`);
};
