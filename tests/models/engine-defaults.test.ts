import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../main/models/backend.ts';
import { checkTrainOptions, TfjsThreadsError, trainModel } from '../../main/models/train.ts';
import { checkCrossValidationOptions, crossValidateAndFit } from '../../main/models/cross-validate.ts';
import { checkPredictRunOptions } from '../../main/maps/parallel-predict.ts';
import { DEFAULT_ENGINE } from '../../main/onnx/onnx-run.ts';
import { TRAIN_OPTIONS } from '../../main/workflows/train.ts';
import { PREDICT_OPTIONS } from '../../main/workflows/predict.ts';
import { trainCommand } from '../../main/cli/commands/train.ts';
import { predictCommand } from '../../main/cli/commands/predict.ts';
import { InvalidOptionError } from '../../main/errors.ts';
import { TINY, toyData } from './toy-data.ts';

/**
 * Issue 17 §2: one default engine for every caller (library, CLI, app), and the tfjs loop on one
 * thread only (its data-parallel trainer for patch classifiers was retired).
 */
beforeAll(async () => {
  await initBackend('wasm');
});

const all = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

describe('one default engine', () => {
  it("is 'auto' in trainModel, crossValidate, predictRun, the workflows' option tables and the CLI's flags", () => {
    expect(DEFAULT_ENGINE).toBe('auto');
    // Library: the checked options of each entry point.
    expect(checkTrainOptions({}).engine).toBe(DEFAULT_ENGINE);
    expect(checkTrainOptions(checkCrossValidationOptions({}).train).engine).toBe(DEFAULT_ENGINE);
    expect(checkPredictRunOptions({ runDir: 'unused' }).engine).toBe(DEFAULT_ENGINE);
    // Workflows (what the app's typed requests carry) and the CLI flags generated from them.
    expect(TRAIN_OPTIONS.engine.default).toBe(DEFAULT_ENGINE);
    expect(PREDICT_OPTIONS.engine.default).toBe(DEFAULT_ENGINE);
    expect(trainCommand.options.engine.default).toBe(DEFAULT_ENGINE);
    expect(predictCommand.options.engine.default).toBe(DEFAULT_ENGINE);
  });
});

describe('the tfjs engine trains on one thread', () => {
  const data = toyData({ sites: 8, perSite: 3, signal: 2, seed: 5 });
  const base = { epochs: 1, batchSize: 8, architecture: TINY, validationFraction: 0, seed: 3 };

  it("engine 'tfjs' with threads > 1 is refused with TfjsThreadsError naming the fix, before anything is built", async () => {
    const before = tf.memory().numTensors;
    const run = trainModel('cnn', data, all(data.n), { ...base, engine: 'tfjs', threads: 2 });
    await expect(run).rejects.toBeInstanceOf(TfjsThreadsError);
    await expect(run).rejects.toBeInstanceOf(InvalidOptionError);
    await expect(run).rejects.toThrow(/--engine onnx/);
    expect(tf.memory().numTensors).toBe(before);
    // The same through crossValidateAndFit's final model (folds train one per thread).
    await expect(crossValidateAndFit(['cnn'], data, { folds: 2, repeats: 1, seed: 3, train: { ...base, engine: 'tfjs', threads: 2 } })).rejects.toBeInstanceOf(TfjsThreadsError);
  });

  it("'auto' falling back to tfjs with threads > 1 trains on one thread, says so, and gives the 1-thread tfjs bits", async () => {
    const failing = async (): Promise<never> => {
      throw new Error('simulated: cannot find module onnxruntime-node');
    };
    const messages: string[] = [];
    const ctx = { progress: (_f: number, m?: string) => void (m && messages.push(m)) };
    const fallback = await trainModel('gk-cnn', data, all(data.n), { ...base, epochs: 2, engine: 'auto', threads: 2 }, ctx, { ortLoader: failing });
    const oracle = await trainModel('gk-cnn', data, all(data.n), { ...base, epochs: 2, engine: 'tfjs', threads: 1 });
    try {
      expect(fallback.engine).toBe('tfjs');
      expect(messages.some((m) => /the tfjs engine trains on 1 thread \(threads 2 apply to the onnx engine only\)/.test(m))).toBe(true);
      // Reference: the single-thread tfjs loop (the test oracle) with the same seed: exact.
      expect(fallback.history).toEqual(oracle.history);
      const w = (t: typeof oracle): number[][] => t.model.getWeights().map((x) => Array.from(x.dataSync()));
      expect(w(fallback)).toEqual(w(oracle));
    } finally {
      fallback.model.dispose();
      oracle.model.dispose();
    }
  });
});
