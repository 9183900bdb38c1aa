import { serveTasks, workerInput } from '../jobs/worker-pool.ts';
import { openStackSource } from './stack-source.ts';
import { predictMap, type NamedClassifier } from './predict-map.ts';
import type { TransformStats } from '../sites/band-transform.ts';
import type { PredictTileResult, PredictTileTask, PredictWorkerInput } from './parallel-predict.ts';
import { loadOrt } from '../onnx/onnx-runtime.ts';
import { onnxRunClassifiers } from './onnx/onnx-classifier.ts';

// Worker thread of predictRunParallel: loads the run's models and opens the stack ONCE (tfjs
// models cannot cross a thread boundary, and the wasm backend has its own heap per thread), then
// predicts one tile of rows per task with exactly the single-thread code (predictMap with
// rows = the tile and tileRows = its height), so the windows, batches and hence the numbers are
// those of the single-thread path with the same tiles.
// Engine onnx: the main thread sends the exported ONNX models; this worker starts ONNX Runtime
// sessions from them and never loads tfjs (imported below only for the tfjs engine: saves the
// start-up of tfjs-core/-layers and the wasm backend in every worker).
const input = workerInput<PredictWorkerInput>();

interface Ready {
  readonly window: number;
  readonly bandNames: string[];
  readonly stats: TransformStats;
  readonly classifiers: NamedClassifier[];
}

const ready = (async (): Promise<Ready & { source: Awaited<ReturnType<typeof openStackSource>> }> => {
  if (input.onnx) {
    const classifiers = await onnxRunClassifiers(await loadOrt(), input.onnx, input.intraOpThreads);
    const source = await openStackSource(input.stackPath, { mask: input.mask });
    return { window: input.onnx.window, bandNames: input.onnx.bandNames, stats: input.onnx.stats, classifiers, source };
  }
  const { initBackend } = await import('../models/backend.ts');
  const { loadRun, runClassifiers } = await import('./run-models.ts');
  await initBackend(input.backend);
  const run = await loadRun(input.runDir, input.models);
  const source = await openStackSource(input.stackPath, { mask: input.mask });
  return { window: run.window, bandNames: run.bandNames, stats: run.stats, classifiers: runClassifiers(run), source };
})();

serveTasks<PredictTileTask, PredictTileResult>(async (task, ctx) => {
  const { window, bandNames, stats, source, classifiers } = await ready;
  let result: PredictTileResult | null = null;
  const rows = source.grid.rows;
  const height = task.rowEnd - task.rowStart;
  await predictMap(
    source,
    classifiers,
    { window, bandNames, stats, batchSize: input.batchSize, tileRows: height, rows: [task.rowStart, task.rowEnd] },
    (rowStart, probabilities, mask) => {
      result = { rowStart, probabilities, mask };
    },
    // predictMap reports the fraction of the whole grid; turn it into the fraction of this tile.
    { signal: ctx.signal, progress: (f) => ctx.progress((f * rows - task.rowStart) / height) },
  );
  const r = result as PredictTileResult | null;
  if (!r) throw new Error(`tile ${task.rowStart}–${task.rowEnd} produced no rows`);
  return { result: r, transfer: [...r.probabilities.map((p) => p.buffer as ArrayBuffer), r.mask.buffer as ArrayBuffer] };
});
