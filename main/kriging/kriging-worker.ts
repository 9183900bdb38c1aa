import { workerData } from 'node:worker_threads';
import { serveTasks } from '../jobs/worker-pool.ts';
import { PredictorCache, predictBlock, type BlockResult, type BlockTask, type PredictionData } from './predict-block.ts';

// Worker thread of krigeGrid: predicts blocks of grid rows (see predict-block.ts). The shared
// inputs arrive once as workerData; predictors (and global factorisations) are cached per group.
const data = workerData as PredictionData;
const cache = new PredictorCache(data);

serveTasks<BlockTask, BlockResult>((task, ctx) => {
  const result = predictBlock(data, cache, task, (f) => ctx.progress(f));
  return { result, transfer: [result.pred.buffer as ArrayBuffer, result.variance.buffer as ArrayBuffer] };
});
