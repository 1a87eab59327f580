// The `torch` KernelBackend: tensor storage, reads and writes, memory accounting and timing.
//
// Each tensor's data lives in exactly one place:
//   - `values`: JS (a typed array or encoded strings), from write() or from a kernel that fell back to cpu;
//   - `handle`: a native at::Tensor (float32, int32, bool). JS values move there on the first native kernel
//     that needs them, and are then dropped (reads copy back from libtorch). While convolutions compute in
//     bfloat16 (precision.ts), a float32 activation they produce may be stored as bfloat16 (`bfloat16`): the
//     kernels that take it so (keptHandle) pass it on, every other use is given float32 (handle).
// complex64 tensors keep their real and imaginary parts as two float32 tensors of this backend, as
// tfjs-backend-cpu does.
import {
  backend_util, BackendTimingInfo, DataId, DataStorage, DataType, engine, KernelBackend, TensorInfo, util,
} from '@tensorflow/tfjs-core';

import { aten, ScalarType } from './aten';
import { Handle, requireBinding, TorchBinding } from './binding';
import { recording } from './capture/recorder';
import { getComputePrecision } from './precision';

export interface TensorEntry {
  dtype: DataType;
  shape: number[];
  refCount: number;
  handle?: Handle;
  values?: backend_util.BackendValues;
  complexTensorInfos?: { real: TensorInfo; imag: TensorInfo };
  /** A native by-product kept for a later gradient kernel (MaxPool's argmax indices); freed with the entry. */
  aux?: Handle;
  /** The handle is bfloat16 for this float32 tensor: an activation kept in the compute precision (precision.ts). */
  bfloat16?: boolean;
}

/** dtypes whose data can live in libtorch. */
export function isNativeDtype(dtype: DataType): boolean {
  return dtype === 'float32' || dtype === 'int32' || dtype === 'bool';
}

/**
 * A tensor whose JS values do not fill its shape (an empty float32[1], say), met when a native kernel first uploads
 * it. tfjs's cpu backend reads past such data (NaN results); libtorch cannot. nativeKernel names the input (here
 * 'tensor', which reads 'input tensor holds no data ... Received: tensor=...' when it is not one of the kernel's inputs).
 */
export class InputDataError extends Error {
  constructor(readonly info: TensorInfo, readonly length: number, name = 'tensor') {
    super(InputDataError.message(name, info, length));
  }

  static message(name: string, info: TensorInfo, length: number): string {
    const size = util.sizeFromShape(info.shape);
    const holds = length === 0 ? 'holds no data' : `holds ${length} values`;
    return `tfjs-backend-torch: input ${name} ${holds}: a tensor needs one value per element of its shape. ` +
      `Received: ${name}=${info.dtype}[${info.shape.join(',')}] with ${length} values for ${size} element${size === 1 ? '' : 's'}. ` +
      'Fix: make the tensor from its values (tf.tensor(values, shape) checks the length); a tensor built from a ' +
      'dataId written with fewer values, or returned by a custom kernel without them, holds none. (tfjs\'s cpu ' +
      'backend reads such a tensor as NaN without an error.)';
  }
}

/** Converts values to the typed array tfjs uses for `dtype` (Float32Array, Int32Array, Uint8Array). */
function typedValues(values: backend_util.BackendValues, dtype: DataType): Float32Array | Int32Array | Uint8Array {
  if (dtype === 'float32') return values instanceof Float32Array ? values : new Float32Array(values as ArrayLike<number>);
  if (dtype === 'int32') return values instanceof Int32Array ? values : new Int32Array(values as ArrayLike<number>);
  return values instanceof Uint8Array ? values : new Uint8Array(values as ArrayLike<number>);
}

export class TorchBackend extends KernelBackend {
  readonly binding: TorchBinding;
  readonly data: DataStorage<TensorEntry>;
  private nextId = 0;

  constructor() {
    super();
    this.binding = requireBinding();
    this.data = new DataStorage<TensorEntry>(this, engine());
  }

  // ---- storage ---------------------------------------------------------------------------------------------

  override write(values: backend_util.BackendValues, shape: number[], dtype: DataType): DataId {
    const dataId = { id: this.nextId++ };
    this.data.set(dataId, { values, dtype, shape, refCount: 1 });
    return dataId;
  }

  override move(dataId: DataId, values: backend_util.BackendValues, shape: number[], dtype: DataType,
    refCount: number): void {
    this.data.set(dataId, { values, dtype, shape, refCount });
  }

  override refCount(dataId: DataId): number {
    return this.data.has(dataId) ? this.data.get(dataId).refCount : 0;
  }

  override incRef(dataId: DataId): void {
    this.data.get(dataId).refCount++;
  }

  override numDataIds(): number {
    return this.data.numDataIds();
  }

  override disposeData(dataId: DataId, force = false): boolean {
    if (!this.data.has(dataId)) return true;
    const entry = this.data.get(dataId);
    entry.refCount--;
    if (!force && entry.refCount > 0) return false;
    if (entry.handle !== undefined) this.binding.dispose(entry.handle);
    if (entry.aux !== undefined) this.binding.dispose(entry.aux);
    if (entry.complexTensorInfos != null) {
      this.disposeData(entry.complexTensorInfos.real.dataId, true);
      this.disposeData(entry.complexTensorInfos.imag.dataId, true);
    }
    this.data.delete(dataId);
    return true;
  }

  /** Frees an intermediate result made inside a kernel. */
  disposeIntermediateTensorInfo(info: TensorInfo): void {
    this.disposeData(info.dataId);
  }

  override async read(dataId: DataId): Promise<backend_util.BackendValues> {
    return this.readSync(dataId);
  }

  override readSync(dataId: DataId): backend_util.BackendValues {
    const entry = this.data.get(dataId);
    if (entry.dtype === 'complex64') {
      const { real, imag } = entry.complexTensorInfos!;
      return backend_util.mergeRealAndImagArrays(this.readSync(real.dataId) as Float32Array,
        this.readSync(imag.dataId) as Float32Array);
    }
    if (entry.values !== undefined) return entry.values;
    recording.active?.read('a tensor read');
    return this.binding.toTypedArray(entry.handle!);
  }

  // ---- bridging between TensorInfos and native handles --------------------------------------------------------

  /**
   * The native tensor for `info`, uploading JS-resident data on first use. Shape and dtype follow `info`: a float32
   * tensor stored in bfloat16 is widened for this use.
   */
  handle(info: TensorInfo): Handle {
    const h = this.stored(info);
    return this.data.get(info.dataId).bfloat16 && info.dtype === 'float32' ? this.tmp(aten.to(h, ScalarType.float32)) : h;
  }

  /**
   * As `handle`, but a float32 tensor stored in bfloat16 stays bfloat16 while convolutions compute in bfloat16: for
   * kernels whose result keeps its input's precision (ReLU, pooling, their gradients; see kernels/compute_dtype.ts).
   */
  keptHandle(info: TensorInfo): Handle {
    return this.isBfloat16(info) ? this.stored(info) : this.handle(info);
  }

  /**
   * True when keptHandle gives `info`'s data in bfloat16: an activation stored so, while convolutions compute in
   * bfloat16 (afterwards every kernel reads it widened).
   */
  isBfloat16(info: TensorInfo): boolean {
    return this.data.get(info.dataId).bfloat16 === true && info.dtype === 'float32' && getComputePrecision() === 'bfloat16';
  }

  /**
   * The native tensor behind `info` as stored (uploading JS-resident data first), also when `info` is a view of it
   * under another shape (the handle then has the stored shape: see isView); null for an alias of another dtype or no
   * native dtype. What a captured function binds its inputs and variables to (capture/).
   */
  storedHandle(info: TensorInfo): Handle | null {
    const entry = this.data.get(info.dataId);
    if (!isNativeDtype(info.dtype) || entry.dtype !== info.dtype) return null;
    return this.stored({ dataId: info.dataId, shape: entry.shape, dtype: entry.dtype });
  }

  /** True when `info` has another shape than its data (a view made by a reshape). */
  isView(info: TensorInfo): boolean {
    return !util.arraysEqual(this.data.get(info.dataId).shape, info.shape);
  }

  /** The id the next data id will get: ids made from now on are at least this (capture/ tells constants by it). */
  nextDataId(): number {
    return this.nextId;
  }

  /** The native tensor as stored, under `info`'s shape (and dtype, for an alias of another dtype). */
  private stored(info: TensorInfo): Handle {
    const entry = this.data.get(info.dataId);
    if (entry.handle === undefined) {
      if (!isNativeDtype(entry.dtype)) {
        throw new Error(`tfjs-backend-torch: a ${entry.dtype} tensor cannot be used by a native kernel.`);
      }
      const values = typedValues(entry.values ?? [], entry.dtype);
      if (values.length !== util.sizeFromShape(entry.shape)) throw new InputDataError(info, values.length);
      entry.handle = this.binding.fromTypedArray(values, entry.shape, ScalarType[entry.dtype as 'float32' | 'int32' | 'bool']);
      entry.values = undefined;  // one copy is enough: reads now come from libtorch
      // A tensor made during a recorded run holds values the function made (capture/recorder.ts).
      if (recording.active !== null && (info.dataId as { id: number }).id >= recording.firstDataId) recording.active.made(entry.handle);
    }
    let h = entry.handle;
    // A kernel may alias a dataId under a new shape (cpu's Reshape) or dtype (cpu's Cast to a wider
    // type shares the data): give this use the shape and dtype that `info` says.
    if (!util.arraysEqual(entry.shape, info.shape)) h = this.tmp(aten.reshape(h, info.shape));
    if (entry.dtype !== info.dtype && isNativeDtype(info.dtype)) {
      h = this.tmp(aten.to(h, ScalarType[info.dtype as 'float32' | 'int32' | 'bool']));
    }
    return h;
  }

  /**
   * Handles made inside the kernel being run (views, intermediates): freed when it returns, see
   * `runNative` in kernel_util.ts. Kernels call `tmp(h)` on every handle that is not an output.
   */
  readonly scratch: Handle[] = [];
  tmp(h: Handle): Handle {
    this.scratch.push(h);
    return h;
  }
  freeScratch(): void {
    for (const h of this.scratch) this.binding.dispose(h);
    this.scratch.length = 0;
  }

  /**
   * x's data under another shape or dtype, with no new data id: one more reference to x's entry, as
   * tfjs-backend-cpu's Reshape and Identity return. View-like kernels (Reshape, ExpandDims, Identity, a same-dtype
   * Cast, an identity StridedSlice...) use it so that a kernel leaves the data ids cpu's leaves, which tfjs's
   * test-mode leak check (engine.checkKernelForMemLeak) counts. `handle()` gives each use its own shape.
   */
  alias(x: TensorInfo, shape: number[] = x.shape, dtype: DataType = x.dtype): TensorInfo {
    this.incRef(x.dataId);
    return { dataId: x.dataId, shape, dtype };
  }

  /** Wraps a native result as a TensorInfo owned by this backend. */
  makeOutput(h: Handle, dtype?: DataType, shape?: number[]): TensorInfo {
    const outShape = shape ?? this.binding.shape(h);
    // Only kernels computing in bfloat16 (or passing on a bfloat16 input) make bfloat16 results: stored as such.
    const bfloat16 = getComputePrecision() === 'bfloat16' && this.binding.dtype(h) === 'BFloat16';
    const outDtype = bfloat16 ? 'float32' : dtype ?? (this.binding.dtype(h) as DataType);
    const dataId = { id: this.nextId++ };
    this.data.set(dataId, { handle: h, dtype: outDtype, shape: outShape, refCount: 1, ...(bfloat16 ? { bfloat16 } : {}) });
    return { dataId, shape: outShape, dtype: outDtype };
  }

  /** Wraps JS values as a TensorInfo owned by this backend. */
  makeTensorInfo(shape: number[], dtype: DataType, values?: backend_util.BackendValues | string[]): TensorInfo {
    let stored = values as backend_util.BackendValues;
    if (dtype === 'string' && values != null && values.length > 0 && util.isString(values[0])) {
      stored = (values as string[]).map((s) => util.encodeString(s));
    }
    if (stored == null && dtype !== 'complex64') {
      stored = util.getTypedArrayFromDType(dtype as 'float32', util.sizeFromShape(shape));
    }
    return { dataId: this.write(stored, shape, dtype), shape, dtype };
  }

  // ---- runtime --------------------------------------------------------------------------------------------

  override memory(): { unreliable: boolean; reasons?: string[]; numBytesInNative: number; numNativeTensors: number } {
    return {
      unreliable: true,
      reasons: ['Bytes of tensors whose data sits only in JS are counted by the engine, not in numBytesInNative.'],
      numBytesInNative: this.binding.nativeBytes(),
      numNativeTensors: this.binding.liveTensors(),
    };
  }

  override async time(f: () => void): Promise<BackendTimingInfo> {
    const start = util.now();
    f();
    return { kernelMs: util.now() - start };
  }

  override timerAvailable(): boolean {
    return true;
  }

  override floatPrecision(): 16 | 32 {
    return 32;
  }

  override epsilon(): number {
    return super.epsilon();
  }

  override dispose(): void {
    // Tensors are freed one by one through disposeData; nothing global to release.
  }
}
