import type { UnitsPerJob } from './batch-option.ts';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { subJob, throwIfCancelled, type JobContext } from '../jobs/job.ts';
import type { ModelKind } from '../models/architectures.ts';
import { checkCrossValidationOptions, evaluateFold, finalTuning, foldsFor, summarizeFolds, trainSeedFor, type CheckedCrossValidationOptions, type CrossValidationOptions, type CvTask, type CvTaskResult, type ModelRunResult, type TuneResult } from '../models/cross-validate.ts';
import type { TrainedModel, TrainingData } from '../models/train.ts';
import { writeFileAtomic } from '../util/atomic-write.ts';
import { hashInputs } from './input-hash.ts';
import { decodePlain, encodePlain } from './plain-codec.ts';
import { newRunId, runUnits } from './queue-client.ts';
import type { QueueUnit, UnitHandler, UnitReceipt } from './units.ts';

/**
 * Training through the queue: the units of the local parallel path (cross-validate.ts
 * crossValidateAndFitParallel with final models in the pool): one fold of one model kind
 * (folds × repeats × kinds) or one final model, each run by cv-worker.ts' code (evaluateFold,
 * finalTuning + trainModel) and seeded by its identity (trainSeedFor(seed, repeat, fold); the run
 * seed for final models), never by the worker. The training data and options travel once per run
 * as a file on the shared storage (hashed); fold models are saved by the worker into the run
 * folder as locally, final models to a unit-scoped folder, loaded back here. Folds train on one
 * thread, final models on train.threads (the command's --threads), so results equal the local
 * `train --threads N` bit for bit.
 */
export interface TrainUnitPayload {
  /** File with { data, options } (plain-codec) on the shared storage. */
  readonly inputPath: string;
  readonly task: CvTask;
}

interface TrainInput {
  readonly data: TrainingData;
  readonly options: CheckedCrossValidationOptions;
}

let cached: { path: string; input: TrainInput } | null = null;
let backend: Promise<{ name: string }> | null = null;

/** Worker side of a 'train' unit: exactly cv-worker.ts' handler. */
export const runTrainUnit: UnitHandler = async (payload, ctx) => {
  const p = payload as TrainUnitPayload;
  if (cached?.path !== p.inputPath) cached = { path: p.inputPath, input: decodePlain<TrainInput>(readFileSync(p.inputPath)) };
  const { data, options } = cached.input;
  const { initBackend } = await import('../models/backend.ts');
  backend ??= initBackend(options.backend as Parameters<typeof initBackend>[0]);
  const b = await backend;
  const task = p.task;
  if (task.type === 'fold') {
    return encodePlain({ type: 'fold', fold: await evaluateFold(task.kind, data, task.spec, options, ctx), backend: b.name } satisfies CvTaskResult);
  }
  const { trainModel } = await import('../models/train.ts');
  const { fileModelHandler } = await import('../models/run-store.ts');
  const all = Array.from({ length: data.n }, (_, i) => i);
  const tuned = await finalTuning(task.kind, data, options);
  const trained = await trainModel(task.kind, data, all, { ...options.train, ...(tuned?.chosen ?? {}), seed: options.seed }, ctx);
  try {
    rmSync(task.saveDir, { recursive: true, force: true }); // a retried unit starts clean
    await trained.model.save(fileModelHandler(task.saveDir));
    const { model: _model, ...rest } = trained;
    return encodePlain({ type: 'final', trained: rest, ...(tuned ? { tuned } : {}) } satisfies CvTaskResult);
  } finally {
    trained.model.dispose();
  }
};

/**
 * crossValidateAndFit through the queue. `workDir` is a folder on the shared storage (the run
 * folder); the run's unit files live in `workDir/.queue-<runId>/` and are removed at the end.
 */
export async function crossValidateAndFitViaQueue(
  kinds: readonly ModelKind[],
  data: TrainingData,
  options: CrossValidationOptions,
  queue: {
    readonly url: string;
    readonly workDir: string;
    readonly log?: (line: string) => void;
    readonly attempts?: number;
    /** Units per BullMQ job (RunUnitsOptions.batch): trainings of a sweep can be tens of ms each, so by default timed and packed into ≈ 1 s batches. @default 'auto' */
    readonly batch?: UnitsPerJob;
    /** Called with every unit's receipt (worker, times) once all are done: bench/scale-out.ts splits the queue overhead with them. */
    readonly onReceipts?: (receipts: readonly UnitReceipt[]) => void;
  },
  ctx?: JobContext,
): Promise<Map<ModelKind, ModelRunResult>> {
  const checked = checkCrossValidationOptions(options);
  // Folds train on one thread each (evaluateFold forces it, as locally). A final model trains on
  // train.threads (the command's --threads: ONNX intra-op threads; tfjs trains on one thread),
  // as the local run trains its finals after the folds: so the final models are the bits of
  // the local run at the same --threads. The count travels in the unit's input, never the worker's
  // own --threads: a unit's result must not depend on which worker runs it.
  const o: CheckedCrossValidationOptions = { ...checked, threads: 1, saveFoldModels: checked.saveFoldModels === '' ? '' : resolve(checked.saveFoldModels) };
  throwIfCancelled(ctx, 'cross-validation');
  const runId = newRunId('train');
  const dir = join(resolve(queue.workDir), `.queue-${runId}`);
  mkdirSync(dir, { recursive: true });
  try {
    const inputPath = join(dir, 'input.json');
    writeFileAtomic(inputPath, encodePlain({ data, options: o } satisfies TrainInput));
    const inputs = await hashInputs([inputPath]);
    const tasks: CvTask[] = [];
    for (const kind of kinds) tasks.push({ type: 'final', kind, saveDir: join(dir, `final-${kind}`) });
    for (const kind of kinds) {
      for (let r = 0; r < o.repeats; r++) {
        foldsFor(data, o, r).forEach(({ train, test }, f) => tasks.push({ type: 'fold', kind, spec: { repeat: r, fold: f, train, test, trainSeed: trainSeedFor(o.seed, r, f) } }));
      }
    }
    const units: QueueUnit<TrainUnitPayload>[] = tasks.map((task, i) => ({
      runId,
      index: i,
      kind: 'train',
      label: task.type === 'final' ? `train ${task.kind} final model` : `train ${task.kind} repeat ${task.spec.repeat + 1} fold ${task.spec.fold + 1}`,
      inputs,
      resultPath: join(dir, `unit-${i}.json`),
      payload: { inputPath, task },
    }));
    const receipts = await runUnits(queue.url, units, { label: 'cross-validation', log: queue.log, attempts: queue.attempts, batch: queue.batch ?? 'auto' }, subJob(ctx, 0, 0.95));
    queue.onReceipts?.(receipts);
    const results = units.map((u) => decodePlain<CvTaskResult>(readFileSync(u.resultPath)));
    const tfl = await import('@tensorflow/tfjs-layers');
    const { fileModelHandler } = await import('../models/run-store.ts');
    const out = new Map<ModelKind, ModelRunResult>();
    try {
      // The same assembly as crossValidateAndFitParallel (finals in the pool).
      for (const kind of kinds) {
        const folds = results.flatMap((res, i) => (res.type === 'fold' && tasks[i].kind === kind ? [res.fold] : []));
        const fb = results.find((res, i) => res.type === 'fold' && tasks[i].kind === kind) as { backend: string } | undefined;
        const fin = results.find((res, i) => res.type === 'final' && tasks[i].kind === kind) as { trained: Omit<TrainedModel, 'model'>; tuned?: TuneResult };
        const final: TrainedModel = { ...fin.trained, model: await tfl.loadLayersModel(fileModelHandler(join(dir, `final-${kind}`))) };
        out.set(kind, {
          cv: { kind, protocol: o.protocol, options: o, folds, ...summarizeFolds(folds, o.repeats, data, o.seed), backend: fb?.backend ?? final.backend },
          final,
          ...(fin.tuned ? { finalTuned: fin.tuned } : {}),
        });
      }
    } catch (e) {
      for (const r of out.values()) r.final.model.dispose();
      throw e;
    }
    return out;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
