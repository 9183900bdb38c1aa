/**
 * Registers the kernels the wasm backend lacks for training (idempotent). Each is registered
 * only when tfjs itself has none, so a future tfjs-backend-wasm that ships its own wins.
 */
import { getKernel, registerKernel } from '@tensorflow/tfjs-core';
import type { KernelConfig } from '@tensorflow/tfjs-core';
import { conv2dBackpropFilterWasmConfig } from './conv2d-backprop-filter-wasm.ts';
import { unsortedSegmentSumWasmConfig } from './unsorted-segment-sum-wasm.ts';

const WASM_TRAINING_KERNELS: readonly KernelConfig[] = [conv2dBackpropFilterWasmConfig, unsortedSegmentSumWasmConfig];

export function registerWasmTrainingKernels(): void {
  for (const config of WASM_TRAINING_KERNELS) {
    if (!getKernel(config.kernelName, config.backendName)) registerKernel(config);
  }
}
