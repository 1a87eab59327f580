// Records the ATen calls one run of a function makes through the kernels (aten.ts reports each call here while a
// recorder is active): which operator, its arguments with every tensor handle replaced by a numbered slot, and the
// slots of its results. A handle the run did not make is an external: an input (slots given up front), or a tensor
// from outside, made from JS values during the run (constants such as tf.scalar(2)), or a variable's value (bound
// again at every replay: a variable may be assigned between calls); each external is kept alive by an alias handle
// until the recorder is disposed. A run that reads tensor data into JS, or whose operator returns a number, cannot be
// replayed: `refusal` says why.
import type { Variable } from '@tensorflow/tfjs-core';

import { Handle, ProgramStep, requireBinding } from '../binding';

/** A tensor the run read but did not make. */
export interface ExternalTensor {
  slot: number;
  /** The handle the run read (compared by identity between two recordings). */
  original: Handle;
  /** A second handle on the same tensor, alive until the recorder is disposed. */
  kept: Handle;
  /** Uploaded from JS values made during the run (a constant of the function), rather than read from outside. */
  madeDuringRun: boolean;
  /** The variable whose value this is when the run read it, if any: a replay reads the variable's value then. */
  variable: Variable | null;
}

/**
 * The variables whose values a run may read, by the native handle of their data. 'ambiguous' marks data that more
 * than one variable holds or that a variable holds under another shape: a run reading it cannot be replayed.
 */
export type VariableHandles = Map<Handle, Variable | 'ambiguous'>;

/** A tensor handle among call() arguments: an object that is not an array (arguments are numbers, strings, lists). */
function isHandle(v: unknown): v is Handle {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

let aliasOp = -1;

export class Recorder {
  readonly steps: ProgramStep[] = [];
  readonly externals: ExternalTensor[] = [];
  readonly inputs: number[];
  /** Why this run cannot be replayed, or null. */
  refusal: string | null = null;
  private readonly slots = new Map<Handle, number>();
  private readonly madeDuringRun = new Set<Handle>();
  private nextSlot = 0;

  /** `inputs`: the native handles of the function's input tensors, in order. */
  constructor(inputs: Handle[], private readonly variables: VariableHandles) {
    this.inputs = inputs.map((h) => this.slots.get(h) ?? this.newSlot(h));
  }

  get numSlots(): number {
    return this.nextSlot;
  }

  /** Called by aten.ts after each operator call while this recorder is active. */
  op(op: number, args: unknown[], keep: boolean, result: unknown): void {
    if (this.refusal !== null) return;
    const recorded = args.map((a) => this.arg(a));
    const outs: number[] = [];
    if (!this.results(result, outs)) {
      this.refusal = `${requireBinding().schemaOf(op).split('(')[0]} returned a value that is not a tensor`;
      return;
    }
    this.steps.push({ op, args: recorded, keep, outs });
  }

  /** A handle uploaded from JS values made during the run (a constant the function made). */
  made(h: Handle): void {
    this.madeDuringRun.add(h);
  }

  /** Tensor data was read into JS during the run: what follows may depend on it, so the run is not replayable. */
  read(what: string): void {
    this.refusal ??= `it reads tensor data into JS (${what})`;
  }

  /** The slot of a tensor the run gave as a result (made by a recorded call, an input or an external). */
  slotOf(h: Handle): number {
    return this.slots.get(h) ?? this.external(h);
  }

  /** Frees the handles kept for externals. */
  dispose(): void {
    const b = requireBinding();
    for (const e of this.externals) b.dispose(e.kept);
    this.externals.length = 0;
  }

  private newSlot(h: Handle): number {
    const slot = this.nextSlot++;
    this.slots.set(h, slot);
    return slot;
  }

  private external(h: Handle): number {
    const slot = this.newSlot(h);
    const b = requireBinding();
    if (aliasOp < 0) aliasOp = b.resolveOp('aten::alias', '');
    const variable = this.variables.get(h) ?? null;
    if (variable === 'ambiguous') this.refusal ??= 'it reads data that several variables share, or a variable under another shape';
    // Called on the binding itself, so the alias is not recorded.
    this.externals.push({
      slot, original: h, kept: b.call(aliasOp, [h], true) as Handle, madeDuringRun: this.madeDuringRun.has(h),
      variable: variable === 'ambiguous' ? null : variable,
    });
    return slot;
  }

  private arg(a: unknown): unknown {
    if (isHandle(a)) return { slot: this.slotOf(a) };
    if (Array.isArray(a) && a.some(isHandle)) return { slots: a.map((e) => (e == null ? null : this.slotOf(e as Handle))) };
    return a;
  }

  /** Flattens a call's result into result slots; false for a result that is not tensors (or none). */
  private results(r: unknown, outs: number[]): boolean {
    if (r === null) {
      outs.push(-1);
      return true;
    }
    if (Array.isArray(r)) return r.every((e) => this.results(e, outs));
    if (!isHandle(r)) return false;
    outs.push(this.newSlot(r));
    return true;
  }
}

/**
 * The recorder of the run in progress, if any (read by aten.ts and the backend on every call), and the first data id
 * made during that run.
 */
export const recording: { active: Recorder | null; firstDataId: number } = { active: null, firstDataId: 0 };
