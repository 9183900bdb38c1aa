/**
 * Worker thread of parallel cross-validation (see crossValidateAndFitParallel): starts its own
 * tfjs backend, then trains the folds and final models it is handed, with the same seeded code
 * as the single-thread path.
 */
import { serveTasks, workerInput } from '../jobs/worker-pool.ts';
import { initBackend, type BackendPreference } from './backend.ts';
import { evaluateFold, finalTuning, type CvTask, type CvTaskResult, type CvWorkerInput } from './cross-validate.ts';
import { trainModel } from './train.ts';
import { fileModelHandler } from './run-store.ts';

const input = workerInput<CvWorkerInput>();
let backend: Promise<{ name: string }> | null = null;

serveTasks<CvTask, CvTaskResult>(async (task, tctx) => {
  backend ??= initBackend(input.options.backend as BackendPreference);
  const b = await backend;
  const ctx = { progress: (f: number) => tctx.progress(f) };
  if (task.type === 'fold') {
    return { result: { type: 'fold', fold: await evaluateFold(task.kind, input.data, task.spec, input.options, ctx), backend: b.name } };
  }
  const all = Array.from({ length: input.data.n }, (_, i) => i);
  const tuned = await finalTuning(task.kind, input.data, input.options);
  const trained = await trainModel(task.kind, input.data, all, { ...input.options.train, ...(tuned?.chosen ?? {}), seed: input.options.seed }, ctx);
  try {
    await trained.model.save(fileModelHandler(task.saveDir));
    const { model: _model, ...rest } = trained;
    return { result: { type: 'final', trained: rest, ...(tuned ? { tuned } : {}) } };
  } finally {
    trained.model.dispose();
  }
});
