// Loads the native addon (build/Release/tfjs_torch.node). When it is missing, `binding` is null and
// `bindingError` says why and how to get libtorch; nothing here throws at import time.
import * as path from 'node:path';

/** An opaque native tensor handle (a type-tagged napi External owning one at::Tensor). */
export type Handle = { readonly __torchHandle: unique symbol };

/** The addon's whole surface: tensors, any ATen operator by schema name, runtime settings. */
export interface TorchBinding {
  fromTypedArray(values: Float32Array | Int32Array | Uint8Array, shape: number[], dtypeCode: number): Handle;
  toTypedArray(h: Handle): Float32Array | Int32Array | Uint8Array;
  dispose(h: Handle): void;
  shape(h: Handle): number[];
  dtype(h: Handle): string;
  describe(h: Handle): string;
  liveTensors(): number;
  nativeBytes(): number;
  resolveOp(name: string, overload: string): number;
  schemaOf(id: number): string;
  /** Calls an operator; tensor results are cast to float32/int32 unless keepDtype. */
  call(id: number, args: unknown[], keepDtype?: boolean): unknown;
  /** A recorded list of operator calls (binding/program.cc; made by capture/). */
  programCreate(spec: ProgramSpec): ProgramHandle;
  /** Runs a program on input handles; returns its output tensors as new handles. */
  programRun(program: ProgramHandle, inputs: Handle[]): Handle[];
  /** programRun on the addon's compute thread (runs in order): the JS thread goes on meanwhile; the program and inputs are held until it has run. */
  programRunAsync(program: ProgramHandle, inputs: Handle[]): Promise<Handle[]>;
  /** Releases a program's captured tensors once no run uses them (running it afterwards throws). */
  programFree(program: ProgramHandle): void;
  setNumThreads(n: number): void;
  getNumThreads(): number;
  version(): { libtorch?: string; config: string };
  /** What the addon did to glibc's allocator at load (binding/addon.cc TuneMalloc). */
  mallocTuning(): string;
  // Collectives over c10d Gloo (binding/distributed.cc); distAvailable is false when built without Gloo.
  distAvailable: boolean;
  distInit(options: NativeGroupOptions): Promise<GroupHandle>;
  distAllreduce(g: GroupHandle, hs: Handle[], op: string): Promise<Handle[]>;
  distBroadcast(g: GroupHandle, hs: Handle[], root: number): Promise<Handle[]>;
  distAllgather(g: GroupHandle, h: Handle): Promise<Handle[]>;
  distBarrier(g: GroupHandle): Promise<void>;
  distSend(g: GroupHandle, h: Handle, dst: number, tag: number): Promise<void>;
  distRecv(g: GroupHandle, shape: number[], dtypeCode: number, src: number, tag: number): Promise<Handle>;
  distClose(g: GroupHandle): void;
}

/** An opaque native program: a recorded list of operator calls (binding/program.cc). */
export type ProgramHandle = { readonly __torchProgram: unique symbol };

/** One recorded call: the operator id (resolveOp), its arguments ({ slot } / { slots } for tensors), its result slots. */
export interface ProgramStep {
  op: number;
  args: unknown[];
  keep: boolean;
  /** Result slots, the results flattened (lists and tuples element by element); -1 for a none result. */
  outs: number[];
}

/** What programCreate takes: slots, captured constants and the recorded calls (see binding/program.cc). */
export interface ProgramSpec {
  numSlots: number;
  inputs: number[];
  outputs: number[];
  constants: [number, Handle][];
  steps: ProgramStep[];
}

/** An opaque native process group (a TCPStore plus a ProcessGroupGloo). */
export type GroupHandle = { readonly __torchGroup: unique symbol };

/** What the addon's distInit takes: rank 0 hosts the store at host:port. */
export interface NativeGroupOptions {
  host: string;
  port: number;
  rank: number;
  worldSize: number;
  timeoutMs: number;
  /** Gloo binds to this interface (torch's GLOO_SOCKET_IFNAME)... */
  ifname?: string;
  /** ...or to this host name or address; neither: the address this machine's host name resolves to. */
  hostname?: string;
}

// dist/src/binding.js and src/binding.ts sit two and one levels below the package root.
const packageRoot = path.basename(path.dirname(__dirname)) === 'dist' ? path.join(__dirname, '..', '..') : path.join(__dirname, '..');

/** How to get libtorch: the same words the install step prints (scripts/libtorch-location.js). */
// eslint-disable-next-line @typescript-eslint/no-require-imports -- a CommonJS script shared with the install step, found at run time
export const HOW_TO_GET_LIBTORCH: string = require(path.join(packageRoot, 'scripts', 'libtorch-location.js')).HOW_TO_GET_LIBTORCH;

/** Where the addon is loaded from: $INSIGHT_TORCH_ADDON (a custom build), else this package's build/Release. */
export function addonPath(): string {
  if (process.env.INSIGHT_TORCH_ADDON) return path.resolve(process.env.INSIGHT_TORCH_ADDON);
  return path.join(packageRoot, 'build', 'Release', 'tfjs_torch.node');
}

function load(): { binding: TorchBinding | null; error: string | null } {
  const addon = addonPath();
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- a native addon at a path known only at run time
    return { binding: require(addon) as TorchBinding, error: null };
  } catch (e) {
    const reason = (e as Error).message.split('\n')[0];
    return {
      binding: null,
      error: `@insight/tfjs-backend-torch: the native addon could not be loaded (${reason}). ${HOW_TO_GET_LIBTORCH}`,
    };
  }
}

const loaded = load();
export const binding: TorchBinding | null = loaded.binding;
export const bindingError: string | null = loaded.error;

/** The binding, or an Error that says how to get libtorch. */
export function requireBinding(): TorchBinding {
  if (binding == null) throw new Error(bindingError ?? 'tfjs-backend-torch: native addon unavailable');
  return binding;
}
