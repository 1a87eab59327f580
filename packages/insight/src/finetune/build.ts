// Assembling a fine-tuning model from a base: rebuild the base's graph on a new input (through a visual prompt
// under method prompt), cut it at `cutAt`, insert adapters or LoRA wrappers as the method asks, attach the new head
// to the cut's features. The same rebuild
// continues past the cut through the base's original head, giving the "original-head" model the forgetting report
// evaluates: the fine-tuned feature extractor with the base's own classifier.
import * as tfl from '@tensorflow/tfjs-layers';

import { ruleError } from '../errors';
import { blocksOf, type Block } from '../models/graph/blocks';
import { checkCutLayer, defaultCutLayer } from '../models/graph/cut';
import { graphSteps, rebuild } from '../models/graph/rebuild';
import { SeedSequence } from '../models/seeds';
import { applyAdapter } from './adapter';
import { attachHead, copyClassifierColumns } from './head';
import { applyLora, checkLoraTargets, defaultLoraTargets } from './lora';
import type { LoraLayer } from './lora_layer';
import { listOf, type FinetuneConfig } from './config';
import type { FinetuneMethod, HeadInit } from './method_names';
import { applyPrompt, defaultPromptWidth } from './prompt';

export interface BuildOptions {
  numClasses: number;
  method: FinetuneMethod;
  /** Layer to cut at; default: the last layer before the base's classifier. */
  cutAt?: string | null;
  /** lora: rank r and alpha (scale alpha/r), target layer names (default: every Dense/Conv2D up to the cut). */
  rank?: number;
  loraAlpha?: number;
  loraTargets?: string[] | null;
  /** adapter: bottleneck channels and sites (default: the end of every block). */
  adapterBottleneck?: number;
  adapterAfter?: string[] | null;
  /** prompt: frame width in pixels of the padding prompt (default: an eighth of the shorter side; >= half: whole image). */
  promptWidth?: number | null;
  /** The new head's initial weights (default zeros). */
  headInit?: HeadInit;
  /**
   * New class names and the base's: a new class named like a base class starts from the base classifier's weights
   * for it (when the head sits where the base's classifier sat: the default cut, a Dense classifier on vectors).
   * Unnamed bases ('0', '1', ...) match nothing.
   */
  classNames?: string[];
  baseClassNames?: string[];
  /** Default true when classNames and baseClassNames are given. */
  headFromBase?: boolean;
  seed?: number;
}

export interface FinetuneModel {
  /** image [batch, h, w, 3] → new logits [batch, numClasses]. */
  model: tfl.LayersModel;
  /** image → the base's original logits, through the (fine-tuned) feature extractor: for the forgetting report. */
  original: tfl.LayersModel;
  cutAt: string;
  /** The base's blocks up to the cut (original layers), bottom first. */
  blocks: Block[];
  /** Layers of `model` that come from the base, shared with it. */
  baseLayers: tfl.layers.Layer[];
  /** The new head's layers. */
  headLayers: tfl.layers.Layer[];
  /** Layers added by the method that train: adapter layers, LoRA wrappers, the prompt's strips. */
  addedLayers: tfl.layers.Layer[];
  /** Layers added by the method that never train (the prompt's zero source, reshapes and sums). */
  fixedLayers: tfl.layers.Layer[];
  /** prompt: the number of prompt values (0 for other methods). */
  promptSize: number;
  /** New classes whose head weights start from the base's classifier (headFromBase). */
  fromBase: string[];
  /** Every new class comes from the base: the head is the base's classifier (restricted), pretrained weights. */
  headPretrained: boolean;
  /** LoRA wrappers, by the name of the layer they wrap. */
  lora: Map<string, LoraLayer>;
}

/** The build options a fine-tuning config gives, for the new classes `classNames` on a base with `baseClassNames`. */
export function buildOptionsOf(config: FinetuneConfig, classNames: string[], baseClassNames: string[]): BuildOptions {
  return {
    numClasses: classNames.length, classNames, baseClassNames, headFromBase: config.headFromBase, method: config.method, cutAt: config.cutAt, rank: config.rank, loraAlpha: config.loraAlpha ?? config.rank,
    loraTargets: listOf(config.loraTargets), adapterBottleneck: config.adapterBottleneck, adapterAfter: listOf(config.adapterAfter),
    promptWidth: config.promptWidth, headInit: config.headInit, seed: config.seed,
  };
}

/**
 * Builds the fine-tuning model and its original-head twin over `base` (whose layers they share).
 * Example: `buildFinetuneModel(base, { numClasses: 5, method: 'lora', rank: 4 })`.
 */
export function buildFinetuneModel(base: tfl.LayersModel, options: BuildOptions): FinetuneModel {
  if (!Number.isInteger(options.numClasses) || options.numClasses < 2) {
    throw ruleError('INSIGHT_E_CONFIG', 'A new head needs at least 2 classes.', { classes: options.numClasses },
      'Fine-tune on a dataset with two or more classes (image subfolders, or --classes with two or more indices).');
  }
  const cutAt = options.cutAt ? checkCutLayer(base, options.cutAt) : defaultCutLayer(base);
  const blocks = blocksOf(base, cutAt);
  const seeds = new SeedSequence(options.seed);
  const loraTargets = options.method === 'lora'
    ? new Set(options.loraTargets?.length ? checkLoraTargets(base, cutAt, options.loraTargets) : defaultLoraTargets(base, cutAt))
    : new Set<string>();
  const adapterSites = options.method === 'adapter' ? new Set(adapterSitesOf(base, cutAt, blocks, options.adapterAfter ?? null)) : new Set<string>();

  const input = tfl.input({ shape: base.inputs[0].shape.slice(1) as number[], name: 'image' });
  const [height, width] = input.shape.slice(1, 3) as number[];
  const prompt = options.method === 'prompt' ? applyPrompt(input, options.promptWidth ?? defaultPromptWidth(height, width)) : null;
  const lora = new Map<string, LoraLayer>();
  let features: tfl.SymbolicTensor | undefined;
  let pastCut = false;
  const { output: originalLogits } = rebuild(base, prompt?.output ?? input, {
    hook: (step, inputs, apply) => {
      if (pastCut) return undefined;
      let outputs: tfl.SymbolicTensor[];
      if (loraTargets.has(step.layer.name)) {
        const wrapped = applyLora(step, inputs, options.rank ?? 4, options.loraAlpha ?? options.rank ?? 4, seeds.take());
        lora.set(step.layer.name, wrapped.layer);
        outputs = [wrapped.output];
      } else {
        outputs = apply(inputs);
      }
      if (adapterSites.has(step.layer.name)) outputs = [applyAdapter(outputs[0], step.layer.name, options.adapterBottleneck ?? 8, seeds)];
      if (step.layer.name === cutAt) {
        features = outputs[0];
        pastCut = true;
      }
      return outputs;
    },
  });
  const head = attachHead(features!, options.numClasses, options.headInit ?? 'zeros', seeds.take());
  const fromBase = options.headFromBase !== false ? headFromBase(base, cutAt, head.layers, options.classNames ?? [], options.baseClassNames ?? []) : [];
  const model = tfl.model({ inputs: input, outputs: head.logits, name: `${base.name}_finetune` });
  const original = tfl.model({ inputs: input, outputs: originalLogits, name: `${base.name}_original_head` });

  const baseLayerSet = new Set(base.layers);
  const headSet = new Set(head.layers);
  const fixedSet = new Set(prompt?.fixed ?? []);
  const baseLayers = model.layers.filter((l) => baseLayerSet.has(l));
  const addedLayers = model.layers.filter((l) => !baseLayerSet.has(l) && !headSet.has(l) && !fixedSet.has(l) && l.getClassName() !== 'InputLayer');
  return {
    model, original, cutAt, blocks, baseLayers, headLayers: head.layers, addedLayers, fixedLayers: prompt?.fixed ?? [], promptSize: prompt?.size ?? 0,
    fromBase, headPretrained: fromBase.length === options.numClasses, lora,
  };
}

/**
 * Starts the head's columns of new classes the base names from the base classifier's, when the head replaces that
 * classifier exactly: the cut is the layer feeding it, it is a Dense producing logits (linear), and the head is one
 * Dense on the same vectors. Returns the classes copied.
 */
function headFromBase(base: tfl.LayersModel, cutAt: string, headLayers: tfl.layers.Layer[], names: string[], baseNames: string[]): string[] {
  const steps = graphSteps(base);
  const classifier = steps[steps.length - 1].layer;
  const unnamed = baseNames.every((name, i) => name === String(i));
  const linear = (classifier.getConfig().activation ?? 'linear') === 'linear';
  if (unnamed || headLayers.length !== 1 || classifier.getClassName() !== 'Dense' || !linear || cutAt !== defaultCutLayer(base)) return [];
  const pairs = names.map((name, j) => [j, baseNames.indexOf(name)] as [number, number]).filter(([, i]) => i >= 0);
  if (pairs.length > 0) copyClassifierColumns(headLayers[0], classifier, pairs);
  return pairs.map(([j]) => names[j]);
}

/** Adapter sites: the given layer names (checked), else every block's adapter site. */
function adapterSitesOf(base: tfl.LayersModel, cutAt: string, blocks: Block[], requested: string[] | null): string[] {
  if (requested === null || requested.length === 0) return blocks.map((b) => b.adapterSite);
  const names: string[] = [];
  for (const step of graphSteps(base)) {
    names.push(step.layer.name);
    if (step.layer.name === cutAt) break;
  }
  for (const name of requested) {
    if (!names.includes(name)) {
      throw ruleError('INSIGHT_E_CONFIG', 'Every adapter site must be a layer of the base at or before the cut.',
        { adapterAfter: requested, unknown: name }, `Use some of: ${names.join(', ')} (default: ${blocks.map((b) => b.adapterSite).join(', ')}).`);
    }
  }
  return requested;
}
