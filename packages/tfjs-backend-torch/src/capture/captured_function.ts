// A tfjs function run natively after two eager runs: the first two calls with a given input signature (shapes,
// dtypes, compute precision) run eagerly and are recorded (recorder.ts); when both recordings agree — the same
// operators and arguments, the same variables, and every other tensor from outside the same one (or, for a constant
// the function makes, the same values) — later calls replay the recording in the addon (binding/program.cc) in one
// call, with no tfjs engine, kernel or JS work per operator. The results are the eager ones bit for bit: the same ATen calls on the
// same tensors. Otherwise (or on another backend) the function keeps running eagerly, and `stats()` says why.
//
// As torch.jit.trace and tf.function do, a replay does what the recorded runs did: control flow in JS that depends
// on anything but the input signature is not seen again, and tensors the function reads from outside are captured
// (tfjs tensors are immutable). Variables are not captured but read at every call: a replay takes the values they
// hold then, and a variable the function assigns (an optimizer's update, BatchNorm's moving statistics) is assigned
// its new value after the replay, so a whole training step (forward, gradients, update) can be captured. Anything
// that changes from step to step (a learning rate, a bias correction) must then come in as an input tensor. A run
// that creates variables (an optimizer's slots on its first call) is not kept as a recording; one that reads tensor
// data into JS (dataSync, a kernel falling back to cpu) or draws random numbers in JS is never replayed. Called while
// a gradient tape records (inside tf.grad), the function runs eagerly, so that its operators reach the tape;
// gradients taken inside it are captured.
import { DataType, engine, Tensor, TensorInfo, tidy, Variable } from '@tensorflow/tfjs-core';

import { TorchBackend } from '../backend';
import { Handle, ProgramHandle, ProgramStep, requireBinding } from '../binding';
import { isRecordingGradients } from '../kernels/conv_util';
import { getComputePrecision } from '../precision';
import { ExternalTensor, Recorder, recording, VariableHandles } from './recorder';

/** What a captured function did so far. */
export interface CaptureStats {
  /** Calls replayed natively. */
  replays: number;
  /** Calls run eagerly and recorded. */
  recordings: number;
  /** Calls run eagerly without recording (not replayable, or not on the torch backend). */
  eager: number;
  /** Input signatures with a native program now. */
  programs: number;
  /** Why signatures are not replayed (one line per signature). */
  refusals: string[];
}

export interface CapturedFunction<T extends Tensor | Tensor[]> {
  (...inputs: Tensor[]): T;
  /**
   * The same call with its replay run on the addon's compute thread, so that the JS thread goes on while it computes (a
   * server parsing the next requests). Only a replay that assigns no variables and gives back no input's data runs
   * there; any other call (the recording runs, a refused signature, another backend, under a gradient tape) runs
   * synchronously as a plain call does, inside tidy (its intermediate tensors freed), and resolves at once. Results
   * are the plain call's, bit for bit.
   */
  callAsync(...inputs: Tensor[]): Promise<T>;
  stats(): CaptureStats;
  /** Frees the programs (their captured tensors); the function still runs, recording again. */
  dispose(): void;
}

/** What fn returned: each result's dtype and shape, and whether it returned an array (else one tensor). */
interface Results {
  info: { dtype: DataType; shape: number[] }[];
  array: boolean;
}

/** A variable the function read: bound to the program's input `slot`; `dtype`: its data's native dtype then. */
interface BoundVariable {
  variable: Variable;
  slot: number;
  dtype: string;
}

interface Recording {
  recorder: Recorder;
  /** The results' slots. */
  outputs: number[];
  results: Results;
  /** The variables the run read, in the order the run first read them. */
  bound: BoundVariable[];
  /** The variables the run assigned, and the slot of the value each holds at its end. */
  writes: { variable: Variable; slot: number }[];
}

interface Program {
  native: ProgramHandle;
  results: Results;
  /** For each result: the index of the input whose data it is (given back as a new tensor on that data), or -1. */
  fromInput: number[];
  /** Program inputs after the function's own: these variables' values at each call. */
  bound: BoundVariable[];
  /** Program outputs after the results: the new values of these variables. */
  writes: Variable[];
}

/** `dropped` counts recordings in a row not kept because the run created variables. */
type Signature = { first?: Recording; program?: Program; refusal?: string; dropped?: number };

/** Off (INSIGHT_TORCH_CAPTURE=0, or setCaptureEnabled(false)): every captured function runs eagerly. */
let captureEnabled = process.env.INSIGHT_TORCH_CAPTURE !== '0';

/**
 * Turns replaying on or off for every captured function (for debugging, or to measure what it gains); off, calls run
 * eagerly and record nothing. Programs already built are kept for when it is turned on again.
 */
export function setCaptureEnabled(enabled: boolean): void {
  captureEnabled = enabled;
}

/** What record() says of a run that created variables (an optimizer's slots made on its first call). */
const CREATED_VARIABLES = 'it creates variables on every call';

/**
 * `fn` run natively after two matching eager runs per input signature (see the header of this file). `fn` must be
 * synchronous and return a tensor or an array of tensors made from its inputs.
 * Example: `const predict = captureFunction((x) => model.apply(x, { training: false }) as tf.Tensor); predict(batch)`.
 */
export function captureFunction<T extends Tensor | Tensor[]>(fn: (...inputs: Tensor[]) => T): CapturedFunction<T> {
  const signatures = new Map<string, Signature>();
  const stats = { replays: 0, recordings: 0, eager: 0 };
  const call = (...inputs: Tensor[]): T => {
    const backend = engine().backend;
    // Inside another recording its operators are that one's; under a gradient tape a replay would record nothing.
    if (!captureEnabled || !(backend instanceof TorchBackend) || recording.active !== null || isRecordingGradients()) {
      stats.eager++;
      return fn(...inputs);
    }
    const handles = inputs.map((x) => backend.storedHandle(x));
    const key = keyOf(backend, inputs, handles);
    let signature = signatures.get(key);
    if (signature === undefined) signatures.set(key, signature = {});
    if (signature.program !== undefined) {
      const replayed = replay(backend, signature.program, inputs, handles as Handle[]);
      if (replayed !== null) {
        stats.replays++;
        return replayed as T;
      }
      dropProgram(signature);  // a variable it reads was disposed or changed its storage: record again
    }
    if (signature.refusal !== undefined) {
      stats.eager++;
      return fn(...inputs);
    }
    stats.recordings++;
    const { result, recorded } = record(backend, fn, inputs, handles);
    if (recorded === CREATED_VARIABLES && (signature.dropped = (signature.dropped ?? 0) + 1) < 3) {
      // Not a recording (what it did once, as making the variables, is not done again): the next call records.
      signature.first?.recorder.dispose();
      signature.first = undefined;
    } else if (typeof recorded === 'string') {
      signature.refusal = recorded;
      signature.first?.recorder.dispose();
      signature.first = undefined;
    } else if (signature.first === undefined) {
      signature.dropped = 0;
      signature.first = recorded;
    } else {
      const first = signature.first;
      signature.first = undefined;
      try {
        const difference = differ(first, recorded);
        if (difference !== null) signature.refusal = `two runs differ: ${difference}`;
        else signature.program = build(recorded);
      } catch (error) {
        // The eager result stands; this signature stays eager.
        signature.refusal = `the program could not be built: ${error instanceof Error ? error.message : String(error)}`;
      } finally {
        first.recorder.dispose();
        recorded.recorder.dispose();
      }
    }
    return result as T;
  };
  const callAsync = async (...inputs: Tensor[]): Promise<T> => {
    const backend = engine().backend;
    if (captureEnabled && backend instanceof TorchBackend && recording.active === null && !isRecordingGradients()) {
      const handles = inputs.map((x) => backend.storedHandle(x));
      const p = signatures.get(keyOf(backend, inputs, handles))?.program;
      const bound = p !== undefined && p.writes.length === 0 && p.fromInput.every((i) => i < 0) ? boundHandles(backend, p) : null;
      if (bound !== null) {
        stats.replays++;
        const outs = await requireBinding().programRunAsync(p!.native, [...(handles as Handle[]), ...bound]);
        return resultTensors(backend, p!, inputs, outs) as T;
      }
    }
    return tidy(() => call(...inputs));  // a caller cannot tidy across an await: the eager run's intermediates are freed here
  };
  return Object.assign(call, {
    callAsync,
    stats: (): CaptureStats => ({
      ...stats,
      programs: [...signatures.values()].filter((s) => s.program !== undefined).length,
      refusals: [...signatures.entries()].filter(([, s]) => s.refusal !== undefined).map(([k, s]) => `${k}: ${s.refusal}`),
    }),
    dispose: () => {
      for (const s of signatures.values()) {
        s.first?.recorder.dispose();
        dropProgram(s);
      }
      signatures.clear();
    },
  });
}

/** Frees a signature's program (its captured tensors) at once. */
function dropProgram(signature: Signature): void {
  if (signature.program !== undefined) requireBinding().programFree(signature.program.native);
  signature.program = undefined;
}

/** The signature's key: the inputs' signature and the compute precision. */
function keyOf(backend: TorchBackend, inputs: Tensor[], handles: (Handle | null)[]): string {
  return `${signatureOf(backend, inputs, handles)}|${getComputePrecision()}`;
}

/**
 * What, besides the compute precision, selects a program for these inputs: each input's dtype and shape, the shape of
 * its data when it is a view of data stored under another shape (v[...]: the program gets that data and reshapes it,
 * as the kernels did) or an alias of another dtype (a: not replayed), whether it is stored in bfloat16 (b: kernels read
 * it as stored), and whether it is the same data as an earlier input (=k: one slot serves both).
 */
function signatureOf(backend: TorchBackend, inputs: Tensor[], handles: (Handle | null)[]): string {
  return inputs.map((x, i) => {
    const h = handles[i];
    const same = h === null ? -1 : handles.indexOf(h);
    const form = h === null ? 'a' : backend.isView(x) ? `v[${backend.data.get(x.dataId).shape}]` : '';
    return `${x.dtype}[${x.shape}]${form}${h !== null && backend.isBfloat16(x) ? 'b' : ''}${same >= 0 && same < i ? `=${same}` : ''}`;
  }).join(',');
}

/** One eager run of fn under a recorder: its result, and the recording or why it cannot be replayed. */
function record(backend: TorchBackend, fn: (...inputs: Tensor[]) => Tensor | Tensor[], inputs: Tensor[], handles: (Handle | null)[]):
  { result: Tensor | Tensor[]; recorded: Recording | string } {
  if (handles.some((h) => h === null)) return { result: fn(...inputs), recorded: 'an input is an alias of data of another dtype' };
  const variablesBefore = Object.values(engine().registeredVariables);
  const dataBefore = variablesBefore.map((v) => v.dataId);
  // A variable's value given as an input would also be what the function reads as that weight: one slot for both.
  const variableData = new Set(dataBefore);
  if (inputs.some((x) => variableData.has(x.dataId))) return { result: fn(...inputs), recorded: 'an input is the value of a variable' };
  const recorder = new Recorder(handles as Handle[], variableHandles(backend, variablesBefore));
  recording.firstDataId = backend.nextDataId();
  recording.active = recorder;
  let result: Tensor | Tensor[];
  let outputs: Tensor[];
  let outHandles: (Handle | null)[];
  let written: Variable[];
  let writeHandles: Handle[];
  try {
    result = fn(...inputs);
    outputs = Array.isArray(result) ? result : [result];
    // A result may be a view of another tensor's data (tfjs-layers' Dense reshapes): its handle under its own shape
    // is then made by a recorded reshape. So may a variable's new value.
    outHandles = outputs.map((t) => (t instanceof Tensor && t.dtype !== 'string' && t.dtype !== 'complex64' ? backend.keptHandle(t) : null));
    written = variablesBefore.filter((v, i) => !v.isDisposed && v.dataId !== dataBefore[i]);
    writeHandles = written.map((v) => backend.keptHandle(v));
  } catch (error) {
    recorder.dispose(); // the error reaches the caller as from an eager call
    throw error;
  } finally {
    recording.active = null;
  }
  const created = Object.keys(engine().registeredVariables).length !== variablesBefore.length ||
    variablesBefore.some((v) => engine().registeredVariables[v.name] !== v);
  const refusal = created ? CREATED_VARIABLES : recorder.refusal ??
    (outHandles.some((h) => h === null) ? 'a result is not a float32, int32 or bool tensor' : null);
  const outSlots = refusal === null ? (outHandles as Handle[]).map((h) => recorder.slotOf(h)) : [];
  const writeSlots = refusal === null ? writeHandles.map((h) => recorder.slotOf(h)) : [];
  backend.freeScratch(); // the views made above for results (outside any kernel, nothing else is there)
  if (refusal !== null) {
    recorder.dispose();
    return { result, recorded: refusal };
  }
  const bound = recorder.externals.filter((e) => e.variable !== null)
    .map((e) => ({ variable: e.variable!, slot: e.slot, dtype: requireBinding().dtype(e.kept) }));
  return {
    result,
    recorded: {
      recorder,
      outputs: outSlots,
      results: { info: outputs.map((t) => ({ dtype: t.dtype, shape: t.shape })), array: Array.isArray(result) },
      bound,
      writes: written.map((variable, i) => ({ variable, slot: writeSlots[i] })),
    },
  };
}

/**
 * The native handles of these variables' data (uploading data still in JS, as a first read would), for telling the
 * variables among the tensors a run reads; data held by two variables, or by a variable under another shape, is
 * 'ambiguous'.
 */
function variableHandles(backend: TorchBackend, variables: Variable[]): VariableHandles {
  const found: VariableHandles = new Map();
  for (const v of variables) {
    if (v.isDisposed) continue;
    const h = backend.storedHandle(v);
    if (h !== null) found.set(h, found.has(h) || backend.isView(v) ? 'ambiguous' : v);
  }
  return found;
}

/** Where two recordings of one signature differ, or null when one program serves both. */
function differ(a: Recording, b: Recording): string | null {
  const [ra, rb] = [a.recorder, b.recorder];
  if (ra.steps.length !== rb.steps.length) return `${ra.steps.length} against ${rb.steps.length} operator calls`;
  for (let i = 0; i < ra.steps.length; i++) {
    if (!sameStep(ra.steps[i], rb.steps[i])) return `operator call ${i} (${requireBinding().schemaOf(rb.steps[i].op).split('(')[0]})`;
  }
  if (!sameValue(a.outputs, b.outputs)) return 'the results';  // (the inputs' slots follow from the signature)
  if (ra.externals.length !== rb.externals.length) return 'the tensors read from outside';
  for (let i = 0; i < ra.externals.length; i++) {
    const why = externalDiffers(ra.externals[i], rb.externals[i]);
    if (why !== null) return why;
  }
  const sameWrites = a.writes.length === b.writes.length &&
    a.writes.every((w, i) => w.variable === b.writes[i].variable && w.slot === b.writes[i].slot);
  return sameWrites ? null : 'the variables assigned';
}

function sameStep(a: ProgramStep, b: ProgramStep): boolean {
  return a.op === b.op && a.keep === b.keep && sameValue(a.outs, b.outs) && sameValue(a.args, b.args);
}

/** Deep equality of recorded arguments (numbers by Object.is, so NaN matches NaN and 0 does not match -0). */
function sameValue(a: unknown, b: unknown): boolean {
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((x, i) => sameValue(x, b[i]));
  if (typeof a === 'object' && a !== null) {
    if (typeof b !== 'object' || b === null || Array.isArray(b)) return false;
    const [ka, kb] = [Object.keys(a), Object.keys(b)];
    return ka.length === kb.length && ka.every((k) => sameValue((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
  }
  return Object.is(a, b);
}

let equalOp = -1;

/** Null when the two runs read the same tensor from outside (or constants with the same values), else why not. */
function externalDiffers(a: ExternalTensor, b: ExternalTensor): string | null {
  if (a.slot !== b.slot) return 'the tensors read from outside';
  if (a.variable !== null || b.variable !== null) {
    if (a.variable !== b.variable) return 'a variable read in one run is another tensor in the second';
    return requireBinding().dtype(a.kept) === requireBinding().dtype(b.kept) ? null : 'a variable is stored in another dtype';
  }
  if (a.original === b.original) return null;
  if (!a.madeDuringRun || !b.madeDuringRun) return 'a tensor read from outside the function is another one in the second run';
  const binding = requireBinding();
  if (equalOp < 0) equalOp = binding.resolveOp('aten::equal', '');
  const same = binding.dtype(a.kept) === binding.dtype(b.kept) && sameValue(binding.shape(a.kept), binding.shape(b.kept)) &&
    binding.call(equalOp, [a.kept, b.kept]) === true;
  return same ? null : 'a constant the function makes has other values in the second run (random numbers drawn in JS?)';
}

/**
 * The native program of a recording: the variables it read are inputs after the function's own, the new values of
 * those it assigned outputs after its results; the other externals become constants.
 */
function build(r: Recording): Program {
  const { recorder } = r;
  const native = requireBinding().programCreate({
    numSlots: recorder.numSlots,
    inputs: [...recorder.inputs, ...r.bound.map((b) => b.slot)],
    outputs: [...r.outputs, ...r.writes.map((w) => w.slot)],
    constants: recorder.externals.filter((e) => e.variable === null).map((e) => [e.slot, e.kept]),
    steps: recorder.steps,
  });
  return {
    native, results: r.results, fromInput: r.outputs.map((slot) => recorder.inputs.indexOf(slot)), bound: r.bound,
    writes: r.writes.map((w) => w.variable),
  };
}

/**
 * Runs the program on `inputs` and the bound variables' current values, assigns the variables it writes, and gives
 * the results; null (nothing run) when a variable it reads or writes was disposed, or one it reads is no longer
 * stored as recorded.
 */
function replay(backend: TorchBackend, p: Program, inputs: Tensor[], handles: Handle[]): Tensor | Tensor[] | null {
  if (p.writes.some((v) => v.isDisposed)) return null;
  const bound = boundHandles(backend, p);
  if (bound === null) return null;
  const outs = requireBinding().programRun(p.native, bound.length === 0 ? handles : [...handles, ...bound]);
  p.writes.forEach((v, i) => {
    const value = engine().makeTensorFromTensorInfo(backend.makeOutput(outs[p.results.info.length + i], v.dtype, v.shape), backend);
    v.assign(value);
    value.dispose();
  });
  return resultTensors(backend, p, inputs, outs);
}

/** The bound variables' data now, or null when one was disposed or is no longer stored as recorded. */
function boundHandles(backend: TorchBackend, p: Program): Handle[] | null {
  const bound: Handle[] = [];
  for (const b of p.bound) {
    const h = b.variable.isDisposed || backend.isView(b.variable) ? null : backend.storedHandle(b.variable);
    if (h === null || requireBinding().dtype(h) !== b.dtype) return null;
    bound.push(h);
  }
  return bound;
}

/** The function's results from a run's output handles (the first results.info.length of them). */
function resultTensors(backend: TorchBackend, p: Program, inputs: Tensor[], outs: Handle[]): Tensor | Tensor[] {
  const tensors = outs.slice(0, p.results.info.length).map((h, i) => {
    if (p.fromInput[i] >= 0) {
      // A result that is an input's data: a new tensor on that data (as tf.identity makes), not a copy.
      requireBinding().dispose(h);
      const { shape, dtype } = p.results.info[i];
      return engine().makeTensorFromTensorInfo(backend.alias(inputs[p.fromInput[i]], shape, dtype), backend);
    }
    const info: TensorInfo = backend.makeOutput(h, p.results.info[i].dtype, p.results.info[i].shape);
    return engine().makeTensorFromTensorInfo(info, backend);
  });
  return p.results.array ? tensors : tensors[0];
}
