// Prints which tfjs kernels run natively on `torch` and which fall back to the cpu kernel on copied data.
// Exits non-zero if a kernel that training and inference of image classifiers need falls back.
//   npm run kernels
import { getKernelsForBackend } from '@tensorflow/tfjs-core';

import { nativeKernelNames } from '../src/index';
import { REQUIRED_NATIVE_KERNELS } from '../src/required_kernels';

const all = (getKernelsForBackend('torch') as { kernelName: string }[]).map((k) => k.kernelName).sort();
const native = all.filter((k) => nativeKernelNames.has(k));
const fallback = all.filter((k) => !nativeKernelNames.has(k));
console.log(`native (${native.length}):\n  ${native.join(' ')}\n`);
console.log(`fallback to cpu (${fallback.length}):\n  ${fallback.join(' ')}\n`);
const missing = REQUIRED_NATIVE_KERNELS.filter((k) => !nativeKernelNames.has(k));
if (missing.length > 0) {
  console.log(`required kernels that fall back (${missing.length}): ${missing.join(' ')}`);
  process.exitCode = 1;
} else {
  console.log(`all ${REQUIRED_NATIVE_KERNELS.length} required kernels are native.`);
}
