/**
 * Library entry of the geoanomaly-workbench package (`import { … } from 'geoanomaly-workbench'`).
 * The compute core is usable without the app: I/O, grids, kriging, faults, sites, models.
 */
export * from './errors.ts';
export * from './grid/crs.ts';
export * from './grid/grid-spec.ts';
export * from './grid/raster.ts';
export * from './io/geotiff-read.ts';
export * from './io/geotiff-write.ts';
export { Rng } from './util/rng.ts';
export * from './grid/align.ts';
export * from './io/table.ts';
export * from './io/vector.ts';
export { generateDemoSurvey, writeDemoSurvey } from './demo/demo-survey.ts';
export * from './jobs/job.ts';
export {
  rocCurve, rocAuc, confusion, classificationMetrics, chooseThreshold, metricsFromConfusion, predictAt,
  MetricInputError, UndefinedMetricError,
  type RocCurve, type RocOptions, type Confusion, type ClassificationMetrics, type ThresholdMode,
} from './eval/metrics.ts';
export { groupedStratifiedKFold, summarize, TooFewGroupsError, MixedGroupLabelError, type Fold, type Summary } from './eval/folds.ts';
