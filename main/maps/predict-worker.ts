import { serveTasks, workerInput } from '../jobs/worker-pool.ts';
import { initBackend } from '../models/backend.ts';
import { loadRun, runClassifiers } from './run-models.ts';
import { openStackSource } from './stack-source.ts';
import { predictMap } from './predict-map.ts';
import type { PredictTileResult, PredictTileTask, PredictWorkerInput } from './parallel-predict.ts';

// Worker thread of predictRunParallel: loads the run's models and opens the stack ONCE (tfjs
// models cannot cross a thread boundary, and the wasm backend has its own heap per thread), then
// predicts one tile of rows per task with exactly the single-thread code (predictMap with
// rows = the tile and tileRows = its height), so the windows, batches and hence the numbers are
// those of the single-thread path with the same tiles.
const input = workerInput<PredictWorkerInput>();

const ready = (async () => {
  await initBackend(input.backend);
  const run = await loadRun(input.runDir, input.models);
  const source = await openStackSource(input.stackPath);
  return { run, source, classifiers: runClassifiers(run) };
})();

serveTasks<PredictTileTask, PredictTileResult>(async (task, ctx) => {
  const { run, source, classifiers } = await ready;
  let result: PredictTileResult | null = null;
  const rows = source.grid.rows;
  const height = task.rowEnd - task.rowStart;
  await predictMap(
    source,
    classifiers,
    { window: run.window, bandNames: run.bandNames, stats: run.stats, batchSize: input.batchSize, tileRows: height, rows: [task.rowStart, task.rowEnd] },
    (rowStart, probabilities, mask) => {
      result = { rowStart, probabilities, mask };
    },
    // predictMap reports the fraction of the whole grid; turn it into the fraction of this tile.
    { progress: (f) => ctx.progress((f * rows - task.rowStart) / height) },
  );
  const r = result as PredictTileResult | null;
  if (!r) throw new Error(`tile ${task.rowStart}–${task.rowEnd} produced no rows`);
  return { result: r, transfer: [...r.probabilities.map((p) => p.buffer as ArrayBuffer), r.mask.buffer as ArrayBuffer] };
});
