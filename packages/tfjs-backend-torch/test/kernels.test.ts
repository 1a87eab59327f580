// Every kernel that image-classifier training and inference touch is native (never the cpu fallback).
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { getKernel } from '@tensorflow/tfjs-core';

import { nativeKernelNames } from '../src/index';
import { REQUIRED_NATIVE_KERNELS } from '../src/required_kernels';

test('required kernels are registered natively for torch', () => {
  const missing = REQUIRED_NATIVE_KERNELS.filter((k) => !nativeKernelNames.has(k) || getKernel(k, 'torch') === undefined);
  assert.deepEqual(missing, []);
});
