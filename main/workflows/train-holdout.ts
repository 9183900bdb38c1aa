import type { ProgressDetail } from '../jobs/progress-detail.ts';
import { InvalidOptionError } from '../errors.ts';
import type { CrossValidationResult } from '../models/cross-validate.ts';
import { formatHoldout, holdoutRegions, runRegionHoldout, type HoldoutRunInput } from './holdout-run.ts';
import type { HoldoutMetrics, HoldoutSpec } from '../eval/region-holdout.ts';

/**
 * The train workflow's `--holdout-region POLYGON | --holdout-blocks N`: the options' check and
 * the run's "holdout" record (kept out of train.ts so its hunk stays two calls). Typed options,
 * not the CLI's parsed arguments: the workflow table has parsed them already, for the CLI and the
 * app alike, and commands/ sits above workflows/.
 */

/** The train workflow's hold-out options (TRAIN_OPTIONS holdoutRegion, holdoutBlocks); an empty region = not given. */
export interface HoldoutOptions {
  readonly holdoutRegion?: string;
  readonly holdoutBlocks?: number;
}

/** Where the hold-out writes: its lines (out), the per-split notes (err), progress and cancel. */
export interface HoldoutIo {
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
  readonly progress: (fraction: number, message: string, detail?: ProgressDetail) => void;
  readonly signal: AbortSignal;
}

export function holdoutSpecFromArgs(options: HoldoutOptions): HoldoutSpec | undefined {
  const path = options.holdoutRegion !== undefined && options.holdoutRegion !== '' ? options.holdoutRegion : undefined;
  const blocks = options.holdoutBlocks;
  if (blocks !== undefined && !Number.isFinite(blocks)) throw new InvalidOptionError(`geoanomaly train: --holdout-blocks must be a number, got "${blocks}"`);
  if (path !== undefined && blocks !== undefined) {
    throw new InvalidOptionError('geoanomaly train: give either --holdout-region POLYGON or --holdout-blocks N, not both');
  }
  if (blocks !== undefined) {
    if (!(Number.isInteger(blocks) && blocks >= 2)) throw new InvalidOptionError(`geoanomaly train: --holdout-blocks must be an integer ≥ 2, got ${blocks}`);
    return { kind: 'blocks', blocks };
  }
  return path !== undefined ? { kind: 'region', path } : undefined;
}


export async function runHoldoutForTrain(
  spec: HoldoutSpec,
  input: Omit<HoldoutRunInput, 'regions' | 'flag'> & { readonly cvs: ReadonlyMap<string, CrossValidationResult> },
  io: HoldoutIo,
): Promise<HoldoutMetrics> {
  const regions = await holdoutRegions(spec, input.stack.grid);
  const flag = spec.kind === 'region' ? `--holdout-region ${spec.path}` : `--holdout-blocks ${spec.blocks}`;
  const r = await runRegionHoldout(
    { ...input, regions, flag, onSplit: (s) => io.err(`hold-out ${s.region}: ${s.heldOutSiteIds.length} site(s) held out, ${s.depositCells.length} deposit(s) to score, ${s.trainIdx.length} training sample(s)`) },
    { signal: io.signal, progress: io.progress },
  );
  const models: HoldoutMetrics['models'] = {};
  for (const [name, rec] of Object.entries(r.models)) {
    const cvAuc = input.cvs.get(name)?.mean.auc;
    models[name] = { ...rec, cvAuc: cvAuc ?? null };
    io.out(formatHoldout(name, rec, cvAuc));
  }
  return {
    method: spec.kind === 'region' ? `region ${spec.path}` : `${spec.blocks} spatial blocks`,
    rules: 'trained on the sites outside the region (whole overlap groups), full map predicted, held-out deposit centre cells ranked against every other cell (auc) and the region\'s cells (aucInRegion), training cells excluded; ci95 = deposit bootstrap',
    models,
  };
}
