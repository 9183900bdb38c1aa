/**
 * TensorFlow.js backend selection for the compute core.
 *
 * Order for 'auto': tfjs-node ('tensorflow', native TensorFlow, optionally with CUDA) when
 * `@tensorflow/tfjs-node-gpu` or `@tensorflow/tfjs-node` can be imported (optionalDependencies,
 * often absent), else the WebAssembly backend (XNNPACK, SIMD, single thread in Node), else the
 * pure-JS cpu backend. The wasm backend lacks a few kernels that training needs
 * (Conv2DBackpropFilter above all); `registerWasmTrainingKernels` fills them in, so conv nets and
 * the deformable convolution train on wasm instead of silently falling back to the 30–100× slower
 * cpu backend (tfjs never falls back per kernel: a missing kernel is an exception).
 *
 * We depend on tfjs-core + tfjs-layers + backends, not on the `@tensorflow/tfjs` bundle, so only
 * one copy of tfjs-core is loaded and the layers, ops and kernels all share its registry.
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
// tfjs-core alone registers no gradients; the tfjs-layers bundle registers all of core's
// (into the global registry shared with tfjs-core), so importing it here makes tf.grad work.
import '@tensorflow/tfjs-layers';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { InvalidOptionError, WorkbenchError } from '../errors.ts';
import { registerBatchNormGrad } from './kernels/batch-norm-grad.ts';
import { registerWasmTrainingKernels } from './kernels/register-wasm-kernels.ts';

export type BackendPreference = 'auto' | 'wasm' | 'cpu' | 'tensorflow';

export interface BackendInfo {
  /** tfjs backend name now active: 'tensorflow' | 'wasm' | 'cpu'. */
  readonly name: string;
  /** Human-readable line for logs and run manifests (what ran, with which features). */
  readonly detail: string;
}

/** The requested backend cannot be started (package absent, wasm binary unreadable). */
export class BackendUnavailableError extends WorkbenchError {}

const PREFERENCES: readonly BackendPreference[] = ['auto', 'wasm', 'cpu', 'tensorflow'];

let active: BackendInfo | null = null;
let activePreference: BackendPreference | null = null;
let pending: Promise<BackendInfo> | null = null;
let wasmPathsSet = false;
let nodePackage: string | null = null;

/** The tfjs-core namespace every module of the workbench uses (one shared registry). */
export function getTf(): typeof tf {
  return tf;
}

/** The backend chosen by the last `initBackend` call, or null before the first. */
export function activeBackend(): BackendInfo | null {
  return active;
}

/**
 * Selects and initialises a backend. Idempotent: repeated calls with the same preference return
 * the same result without re-initialising; a different preference switches backends.
 * @param preferred 'auto' (default) | 'wasm' | 'cpu' | 'tensorflow'
 */
export async function initBackend(preferred: BackendPreference = 'auto'): Promise<BackendInfo> {
  if (!PREFERENCES.includes(preferred)) {
    throw new InvalidOptionError(
      `backend must be one of ${PREFERENCES.join(', ')}; found "${String(preferred)}". Pass a listed name.`,
      { preferred },
    );
  }
  // Serialise concurrent callers: tf.setBackend is global state.
  while (pending) await pending.catch(() => undefined);
  if (active && activePreference === preferred && tf.getBackend() === active.name) return active;
  registerBatchNormGrad();
  pending = select(preferred);
  try {
    active = await pending;
    activePreference = preferred;
    return active;
  } finally {
    pending = null;
  }
}

async function select(preferred: BackendPreference): Promise<BackendInfo> {
  if (preferred === 'tensorflow') {
    const info = await tryTensorflow();
    if (!info) {
      throw new BackendUnavailableError(
        'backend "tensorflow" was requested but neither @tensorflow/tfjs-node-gpu nor @tensorflow/tfjs-node ' +
          'could be imported. Install one of them (npm install @tensorflow/tfjs-node@4.22.0) or use "auto"/"wasm".',
      );
    }
    return info;
  }
  if (preferred === 'cpu') return useCpu('requested');
  if (preferred === 'wasm') return useWasm();
  // auto
  const native = await tryTensorflow();
  if (native) return native;
  try {
    return await useWasm();
  } catch (err) {
    return useCpu(`wasm failed to start: ${(err as Error).message}`);
  }
}

async function tryTensorflow(): Promise<BackendInfo | null> {
  if (!nodePackage) {
    // The specifier is a variable so bundlers and tsc do not require the optional package.
    for (const name of ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node']) {
      try {
        await import(/* @vite-ignore */ name);
        nodePackage = name;
        break;
      } catch {
        // absent or its native binary failed to load: try the next one
      }
    }
  }
  if (!nodePackage || !tf.findBackendFactory('tensorflow')) return null;
  const ok = await tf.setBackend('tensorflow');
  if (!ok) return null;
  await tf.ready();
  return { name: 'tensorflow', detail: `tensorflow (${nodePackage} 4.22, native TensorFlow${nodePackage.endsWith('gpu') ? ' + CUDA' : ''})` };
}

async function useWasm(): Promise<BackendInfo> {
  if (!wasmPathsSet) {
    // Load the .wasm binaries from node_modules so the backend starts offline. Threads need
    // worker support that tfjs does not provide in Node: single thread, SIMD where available.
    const require = createRequire(import.meta.url);
    const dist = path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm'));
    setWasmPaths(dist + path.sep);
    tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
    wasmPathsSet = true;
  }
  registerWasmTrainingKernels();
  const ok = await tf.setBackend('wasm');
  if (!ok) {
    throw new BackendUnavailableError(
      'the wasm backend failed to initialise (its .wasm binary could not be loaded from ' +
        'node_modules/@tensorflow/tfjs-backend-wasm/dist). Reinstall @tensorflow/tfjs-backend-wasm or use "cpu".',
    );
  }
  await tf.ready();
  const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
  return { name: 'wasm', detail: `wasm (tfjs-backend-wasm 4.22, XNNPACK, ${simd ? 'SIMD' : 'no SIMD'}, 1 thread)` };
}

async function useCpu(why: string): Promise<BackendInfo> {
  const ok = await tf.setBackend('cpu');
  if (!ok) throw new BackendUnavailableError('the cpu backend failed to initialise; reinstall @tensorflow/tfjs-backend-cpu.');
  await tf.ready();
  return { name: 'cpu', detail: `cpu (tfjs-backend-cpu 4.22, pure JavaScript; ${why})` };
}
