// Small constant tensors computed in JS (index maps, random draws) and uploaded for one kernel call.
import { ScalarType } from '../aten';
import { TorchBackend } from '../backend';
import { Handle } from '../binding';

/** An int32 [n] (or `shape`) scratch tensor holding `values`; freed when the kernel returns. */
export function int32Const(backend: TorchBackend, values: ArrayLike<number>, shape = [values.length]): Handle {
  return backend.tmp(backend.binding.fromTypedArray(Int32Array.from(values), shape, ScalarType.int32));
}

/** A float32 [n] (or `shape`) scratch tensor holding `values`; freed when the kernel returns. */
export function float32Const(backend: TorchBackend, values: ArrayLike<number>, shape = [values.length]): Handle {
  return backend.tmp(backend.binding.fromTypedArray(Float32Array.from(values), shape, ScalarType.float32));
}
