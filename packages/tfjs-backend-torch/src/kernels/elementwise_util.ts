// Shared by the elementwise kernels: tfjs-backend-cpu's dtype rules on ATen, and the cpu kernel for the few
// inputs whose tfjs results ATen cannot reproduce (bool arithmetic stored as Uint8, mixed dtypes).
import { DataType, TensorInfo } from '@tensorflow/tfjs-core';

import { aten, ScalarType } from '../aten';
import { TorchBackend } from '../backend';
import { recording } from '../capture/recorder';
import { Handle } from '../binding';
import { NativeKernelArgs, runCpuKernel } from '../kernel_util';
import { scalarAs } from './scalar_util';

/**
 * h (float32) converted as `Int32Array.from` does: truncated, NaN and ±Infinity to 0, wrapped modulo 2^32.
 * (ATen's float -> int cast is undefined for those.) fmod is exact, and the addon returns int64 results as
 * int32, wrapping.
 */
export function jsToInt32(backend: TorchBackend, h: Handle): Handle {
  const finite = backend.tmp(aten.nanToNum(h, 0, 0, 0));
  const wrapped = backend.tmp(aten.fmodScalar(finite, 4294967296));
  return aten.to(wrapped, ScalarType.int64);
}

/** x's native tensor as float32 (a scratch copy unless x already is float32). */
export function float32Handle(backend: TorchBackend, x: TensorInfo): Handle {
  const h = backend.handle(x);
  return x.dtype === 'float32' ? h : backend.tmp(aten.to(h, ScalarType.float32));
}

/** h as `dtype` with tfjs's conversion rules (bool: != 0; float -> int32: `jsToInt32`). */
export function castTo(backend: TorchBackend, h: Handle, dtype: DataType): Handle {
  const from = backend.binding.dtype(h);
  if (dtype === 'bool') return aten.neScalar(h, 0);
  if (dtype === 'int32' && from === 'float32') return jsToInt32(backend, h);
  return aten.to(h, ScalarType[dtype as 'float32' | 'int32']);
}

/** Wraps r as an output of dtype `dtype`, converting it first if ATen's result dtype differs. */
export function outputAs(backend: TorchBackend, r: Handle, dtype: DataType): TensorInfo {
  if (backend.binding.dtype(r) === dtype) return backend.makeOutput(r, dtype);
  return backend.makeOutput(castTo(backend, backend.tmp(r), dtype), dtype);
}

/**
 * A unary op y = f(x) whose output keeps x's dtype, as the cpu kernels do. float32 runs f natively; so does int32
 * when `int32Native` (f keeps int32 exact: abs, floor, clamp...). Otherwise int32 goes to cpu, as tfjs computes
 * f in float64 and truncates, which float32 can land on the other side of an integer (tanh(9) = 1, not 0.99..).
 * bool goes to cpu too (tfjs stores the float results in a Uint8Array).
 */
export function unaryMath<A>(kernelName: string, args: NativeKernelArgs<A>, f: (h: Handle) => Handle,
  int32Native = false): TensorInfo | TensorInfo[] {
  const { inputs: { x }, backend } = args;
  if (x.dtype === 'bool' || (x.dtype === 'int32' && !int32Native)) return runCpuKernel(kernelName, args);
  return outputAs(backend, f(backend.handle(x)), x.dtype);
}

/**
 * A binary op with numpy broadcasting whose output has a's dtype, as the cpu kernels do. Mixed dtypes (tfjs's
 * ops make them match first) and, unless `boolOk`, bool inputs (arithmetic stored as Uint8) go to cpu.
 */
export function binaryMath<A>(kernelName: string, args: NativeKernelArgs<A>,
  f: (a: Handle, b: Handle) => Handle, boolOk = false): TensorInfo | TensorInfo[] {
  const { inputs: { a, b }, backend } = args;
  if (a.dtype !== b.dtype || (a.dtype === 'bool' && !boolOk)) return runCpuKernel(kernelName, args);
  return outputAs(backend, f(backend.handle(a), backend.handle(b)), a.dtype);
}

/**
 * x < 0 ? alpha * x : x for float32 h, alpha converted by scalarAs. ATen's leaky_relu computes 0 * alpha for x = 0,
 * NaN for an infinite or NaN alpha where tfjs keeps x: such an alpha scales only x < 0.
 */
export function leakyReluOf(backend: TorchBackend, h: Handle, alpha: number): Handle {
  const a = scalarAs(alpha, 'float32');
  if (Number.isFinite(a)) return aten.leakyRelu(h, a);
  return aten.where(backend.tmp(aten.ltScalar(h, 0)), backend.tmp(aten.mulScalar(h, a)), h);
}

/** Whether every element of the float32 tensor h is finite (one pass and a one-byte read). */
export function allFinite(backend: TorchBackend, h: Handle): boolean {
  const all = backend.tmp(aten.allElements(backend.tmp(aten.isfinite(h))));
  recording.active?.read('a finiteness check');
  return backend.binding.toTypedArray(all)[0] !== 0;
}

/** Where the int32 divisor b is -1 or 0: the divisors x86 integer division traps on (SIGFPE) or ATen rejects. */
function trapsDivision(backend: TorchBackend, b: Handle): Handle {
  return backend.tmp(aten.eq(backend.tmp(aten.clamp(b, -1, 0)), b));
}

/**
 * int32 a / b rounded by `mode`, with JS's results where integer division cannot run: b == 0 gives 0 (Int32Array
 * stores ±Infinity and NaN as 0) and INT_MIN / -1 gives INT_MIN (2^31 wrapped), i.e. a * b for b in {-1, 0}.
 */
export function int32Div(backend: TorchBackend, a: Handle, b: Handle, mode: 'trunc' | 'floor'): Handle {
  const special = trapsDivision(backend, b);
  const q = backend.tmp(aten.divMode(a, backend.tmp(aten.maskedFill(b, special, 1)), mode));
  return aten.where(special, backend.tmp(aten.mul(a, b)), q);
}

/** b with its -1s and 0s replaced by 1, for ATen's int32 remainder (x mod 1 = 0, as tfjs's x mod -1 and x mod 0). */
export function int32SafeDivisor(backend: TorchBackend, b: Handle): Handle {
  return aten.maskedFill(b, trapsDivision(backend, b), 1);
}
