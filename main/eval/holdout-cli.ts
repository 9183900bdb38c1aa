import type { CliIo, ParsedArgs } from '../commands/command.ts';
import { optionalNumber, optionalString } from '../commands/command.ts';
import { InvalidOptionError } from '../errors.ts';
import type { CrossValidationResult } from '../models/cross-validate.ts';
import { formatHoldout, holdoutRegions, runRegionHoldout, type HoldoutRunInput } from './holdout-run.ts';
import type { HoldoutMetrics, HoldoutSpec } from './region-holdout.ts';

/**
 * `train --holdout-region POLYGON | --holdout-blocks N`: the flags' parsing and the run's
 * "holdout" record (kept out of the train command so its hunk stays two calls).
 */

export function holdoutSpecFromArgs(args: ParsedArgs): HoldoutSpec | undefined {
  const path = optionalString(args, 'holdout-region');
  const blocks = optionalNumber(args, 'holdout-blocks', 'train');
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
  io: CliIo,
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
