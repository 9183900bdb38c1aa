/**
 * Registers the kernels the wasm backend lacks (or runs slowly) for training. Idempotent. Missing
 * kernels are registered only when tfjs itself has none, so a future tfjs-backend-wasm that ships
 * its own wins; the slow Conv2DBackpropInput is wrapped once (the wrapper delegates to the
 * original for the cases it does not speed up).
 */
import { getKernel, registerKernel, unregisterKernel } from '@tensorflow/tfjs-core';
import type { KernelConfig } from '@tensorflow/tfjs-core';
import { conv2dBackpropFilterWasmConfig } from './conv2d-backprop-filter-wasm.ts';
import { makeConv2dBackpropInputWasmConfig } from './conv2d-backprop-input-wasm.ts';
import { unsortedSegmentSumWasmConfig } from './unsorted-segment-sum-wasm.ts';

const MISSING_WASM_KERNELS: readonly KernelConfig[] = [conv2dBackpropFilterWasmConfig, unsortedSegmentSumWasmConfig];

let inputGradWrapped = false;

export function registerWasmTrainingKernels(): void {
  for (const config of MISSING_WASM_KERNELS) {
    if (!getKernel(config.kernelName, config.backendName)) registerKernel(config);
  }
  const original = getKernel('Conv2DBackpropInput', 'wasm');
  if (!inputGradWrapped && original) {
    unregisterKernel('Conv2DBackpropInput', 'wasm');
    registerKernel(makeConv2dBackpropInputWasmConfig(original));
    inputGradWrapped = true;
  }
}
