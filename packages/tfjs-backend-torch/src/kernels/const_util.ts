// Small constant tensors computed in JS (index maps, random draws) and uploaded for one kernel call.
import { ScalarType } from '../aten';
import { TorchBackend } from '../backend';
import { Handle } from '../binding';
import { recording } from '../capture/recorder';

/** An int32 [n] (or `shape`) scratch tensor holding `values`; freed when the kernel returns. */
export function int32Const(backend: TorchBackend, values: ArrayLike<number>, shape = [values.length]): Handle {
  return made(backend.tmp(backend.binding.fromTypedArray(Int32Array.from(values), shape, ScalarType.int32)));
}

/** A float32 [n] (or `shape`) scratch tensor holding `values`; freed when the kernel returns. */
export function float32Const(backend: TorchBackend, values: ArrayLike<number>, shape = [values.length]): Handle {
  return made(backend.tmp(backend.binding.fromTypedArray(Float32Array.from(values), shape, ScalarType.float32)));
}

/** Tells a recording in progress (capture/) that `h` holds values made in JS during the run. */
function made(h: Handle): Handle {
  recording.active?.made(h);
  return h;
}
