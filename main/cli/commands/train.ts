import type { Command } from '../command.ts';
import { cliOptions, optionsFromFlags } from '../../workflows/option-table.ts';
import { TRAIN_OPTIONS, TRAIN_PATHS, trainResultLines, trainWorkflow } from '../../workflows/train.ts';

export { parseTune } from '../../workflows/train.ts';

/** `geoanomaly train`: flags → TrainWorkflowOptions → trainWorkflow (main/workflows/train.ts) → printed lines. */
export const trainCommand: Command = {
  name: 'train',
  summary: 'cross-validate and train CNN / DCN / GK-CNN / GK-DCN patch classifiers and baselines (index, pc, logreg, rf)',
  usage:
    '--stack STACK.tif|DIR --sites SITES.geojson [--knowledge W.tif …] --model all,baselines|cnn,dcn,gk-cnn,gk-dcn,index,pc,logreg,rf [--index-elements A,B,…] ' +
    '[--epochs N] [--batch N] [--lr X] [--lambda X] [--min-epochs N] [--patience N] [--stop-on raw|smoothed] [--lr-schedule cosine|plateau|none] ' +
    '[--augment dihedral,noise,shift|none] [--noise-sd X] [--folds K] [--repeats R] [--seed N] [--engine auto|tfjs|onnx] [--seeds N] [--mask AREA.tif|.gpkg] [--nodata fill-mean|skip|refuse] [--holdout-region POLYGON|--holdout-blocks N] --out RUN_DIR',
  paths: TRAIN_PATHS,
  details: [
    'Writes RUN_DIR/metrics.json: { "<model>": { "folds": [{acc, auc, kappa, mcc, precision, recall, f1}, …],',
    '"mean": {…}, "sd": {…}, "ci95": {…} }, "comparisons": [{ "a", "b", "metric": "auc", "diff", "ci95", "method": "site bootstrap" }] },',
    'ci95 = 95% site-bootstrap percentile interval of the mean (held-out sites resampled in every fold; always inside',
    'the metric\'s range); comparisons = paired site bootstrap of every pair of models (same resample for both).',
    'Baselines run in the same folds: index (mean z of log10 values over --index-elements), pc (the robust PC',
    'most correlated with the training deposits), logreg (ml-logistic-regression) and rf (ml-random-forest) on',
    'per-site features (each element\'s centre value, window mean and sd); saved as models/<kind>/baseline.json.',
    'RUN_DIR/manifest.json (inputs\' SHA-256, options, seed,',
    'backend, package versions, band names, transform statistics) and one final model per kind,',
    'trained on all sites, under RUN_DIR/models/<kind>/ (TensorFlow.js layers format).',
    'RUN_DIR/roc.json: per model every fold\'s ROC points { folds: [{repeat, fold, auc, fpr, tpr}], mean: {fpr, tpr, auc} }',
    '(mean = vertical average on 101 false-positive rates; fold AUCs equal metrics.json\'s).',
    'manifest.json models.<kind>: history (per epoch: trainLoss, valLoss, learningRate, geologyShare, a, b), the kept',
    'epoch, a, b and geologyShare; manifest.json warnings: trust warnings (predictions collapsing to one class in most',
    'folds, a validation loss that never improves), each with its fix, also printed on stderr as "warning [code] …".',
    'Folds keep every cell of a site block (and overlapping blocks) together; the decision threshold',
    'is chosen on training folds only.',
    '',
    'Example (the Tianshan case study, whose label and weight grids are paired by index):',
    '  geoanomaly train --stack elements/ --sites sites.geojson --knowledge geology_weights.tif \\',
    '    --align-by-index 0,0 --model all --folds 5 --repeats 3 --out run1',
  ].join('\n'),
  options: cliOptions(TRAIN_OPTIONS),
  async run(args, io) {
    const result = await trainWorkflow(optionsFromFlags(TRAIN_OPTIONS, args.values, 'train'), { signal: io.signal, progress: io.progress, log: io.err });
    for (const line of trainResultLines(result)) io.out(line);
    return 0;
  },
};
