import type { Command } from '../command.ts';
import { cliOptions, optionsFromFlags } from '../../workflows/option-table.ts';
import { EVALUATE_OPTIONS, EVALUATE_PATHS, evaluateResultLines, evaluateWorkflow } from '../../workflows/evaluate.ts';

/** `geoanomaly evaluate`: flags → EvaluateWorkflowOptions → evaluateWorkflow (main/workflows/evaluate.ts) → printed lines. */
export const evaluateCommand: Command = {
  name: 'evaluate',
  summary: 'map-level evaluation: AUC, success-rate curve, P–A plot, C–A thresholds',
  usage: '--map PROB.tif --deposits FILE [--exclude-training SITES.geojson] [--compare A,B,… [--compare-map OTHER.tif]] [--mask AREA.tif|.gpkg] [--labels-as-points] --out EVAL.json',
  paths: EVALUATE_PATHS,
  options: cliOptions(EVALUATE_OPTIONS),
  details:
    'Deposits must be held out from training; cells of the training sites (--exclude-training) are removed from\n' +
    'the study area so the map is not scored on its own training labels. auc is the ROC AUC of deposit cells\n' +
    'against all other study cells; successRate.auc the area under the success-rate curve.\n' +
    'Example: geoanomaly evaluate --map run/prob-gk-dcn.tif --deposits holdout.geojson --exclude-training sites.geojson --out eval.json',
  async run(args, io) {
    const result = await evaluateWorkflow(optionsFromFlags(EVALUATE_OPTIONS, args.values, 'evaluate'), { signal: io.signal, progress: io.progress, log: io.err });
    for (const line of evaluateResultLines(result)) io.out(line);
    return 0;
  },
};
