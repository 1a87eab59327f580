// Runs any tfjs-backend-cpu kernel on this backend's tensors: inputs are copied into a private cpu backend,
// the cpu kernel runs there, and its outputs come back as JS-resident tensors of this backend (uploaded to
// libtorch only if a native kernel later needs them). This keeps every kernel tfjs knows working while the
// native set grows; `npm run kernels` lists which kernels take this path.
import { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import { KernelConfig, KernelFunc, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs-core';

import type { TorchBackend } from './backend';

let cpuBackend: MathBackendCPU | null = null;
function cpu(): MathBackendCPU {
  if (cpuBackend === null) {
    cpuBackend = new MathBackendCPU();
    (cpuBackend as unknown as { firstUse: boolean }).firstUse = false;  // no "install tfjs-node" banner
  }
  return cpuBackend;
}

/** Copies one of our tensors into the private cpu backend; returns its cpu TensorInfo. */
function toCpu(backend: TorchBackend, info: TensorInfo): TensorInfo {
  const c = cpu();
  const entry = backend.data.get(info.dataId);
  if (entry.dtype === 'complex64') {
    // The parts take the shape of `info` (which may alias them under a new shape): cpu's Real and Imag read it.
    const { real, imag } = entry.complexTensorInfos!;
    const r = c.makeTensorInfo(info.shape, 'float32', backend.readSync(real.dataId));
    const i = c.makeTensorInfo(info.shape, 'float32', backend.readSync(imag.dataId));
    const out = c.makeTensorInfo(info.shape, 'complex64');
    c.data.get(out.dataId).complexTensorInfos = { real: r, imag: i };
    return out;
  }
  // The engine hands kernels Tensors, and a few cpu kernels read `rank` (Dilation2DBackpropInput).
  return { dataId: c.write(backend.readSync(info.dataId), info.shape, info.dtype), shape: info.shape,
    dtype: info.dtype, rank: info.shape.length } as TensorInfo;
}

/** Takes a cpu result back as a tensor of ours, and frees it in cpu. */
function fromCpu(backend: TorchBackend, out: TensorInfo): TensorInfo {
  const c = cpu();
  let result: TensorInfo;
  if (out.dtype === 'complex64') {
    const { real, imag } = c.data.get(out.dataId).complexTensorInfos!;
    result = backend.makeTensorInfo(out.shape, 'complex64');
    backend.data.get(result.dataId).complexTensorInfos = {
      real: backend.makeTensorInfo(real.shape, 'float32', c.readSync(real.dataId)),
      imag: backend.makeTensorInfo(imag.shape, 'float32', c.readSync(imag.dataId)),
    };
  } else {
    result = backend.makeTensorInfo(out.shape, out.dtype, c.readSync(out.dataId));
  }
  c.disposeData(out.dataId);
  return result;
}

/** Runs `cpuKernel` on copies of the inputs. */
export function runOnCpu(cpuKernel: KernelFunc, inputs: Record<string, TensorInfo>, attrs: NamedAttrMap,
  backend: TorchBackend): TensorInfo | TensorInfo[] {
  const c = cpu();
  // Some kernels (Concat, AddN, Einsum, Pack) take an array of inputs rather than named ones.
  const cpuInputs: Record<string, TensorInfo> | TensorInfo[] = Array.isArray(inputs) ? [] : {};
  // An input may itself be a list of tensors (RaggedGather's paramsNestedSplits).
  const copies: TensorInfo[] = [];
  const originals = new Map<object, TensorInfo>();  // cpu dataId -> our input
  const copy = (info: TensorInfo) => {
    const out = toCpu(backend, info);
    copies.push(out);
    originals.set(out.dataId, info);
    return out;
  };
  for (const name of Object.keys(inputs)) {
    const input = inputs[name] as TensorInfo | TensorInfo[] | undefined;
    if (input == null) continue;
    (cpuInputs as Record<string, unknown>)[name] = Array.isArray(input) ? input.map(copy) : copy(input);
  }
  try {
    const out = cpuKernel({ inputs: cpuInputs as Record<string, TensorInfo>, attrs, backend: c });
    // A cpu kernel may return an input's data under a new shape (Identity, Reshape, ExpandDims): alias our
    // input the same way instead of copying, as tfjs's memory accounting expects.
    const back = (o: TensorInfo): TensorInfo => {
      const original = originals.get(o.dataId);
      if (original === undefined) return fromCpu(backend, o);
      c.disposeData(o.dataId);
      return backend.alias(original, o.shape, o.dtype);
    };
    return Array.isArray(out) ? out.map(back) : back(out);
  } finally {
    for (const info of copies) c.disposeData(info.dataId);
  }
}

/** A kernel config for `torch` that runs the cpu kernel through the copy path above. */
export function fallbackKernel(cpuConfig: KernelConfig): KernelConfig {
  return {
    kernelName: cpuConfig.kernelName,
    backendName: 'torch',
    kernelFunc: ({ inputs, attrs, backend }) =>
      runOnCpu(cpuConfig.kernelFunc, inputs as Record<string, TensorInfo>, attrs ?? {}, backend as TorchBackend),
  };
}
