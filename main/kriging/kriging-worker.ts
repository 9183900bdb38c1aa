import { serveTasks, workerInput } from '../jobs/worker-pool.ts';
import { PredictorCache, predictBlock, type BlockResult, type BlockTask, type PredictionData } from './predict-block.ts';

// Worker thread of krigeGrid: predicts blocks of grid rows (see predict-block.ts). The shared
// inputs arrive once as the pool's worker input; predictors (and global factorisations) are cached per group.
const data = workerInput<PredictionData>();
const cache = new PredictorCache(data);

serveTasks<BlockTask, BlockResult>((task, ctx) => {
  const result = predictBlock(data, cache, task, (f) => ctx.progress(f));
  return { result, transfer: [result.pred.buffer as ArrayBuffer, result.variance.buffer as ArrayBuffer] };
});
