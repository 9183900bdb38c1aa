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
export * from './faults/fault-errors.ts';
export * from './faults/segment-index.ts';
export * from './faults/fault-lines.ts';
export * from './faults/distance-to-faults.ts';
export * from './faults/power-law.ts';
export * from './faults/weight-map.ts';
export * from './faults/fault-inputs.ts';
export * from './sites/site-errors.ts';
export * from './sites/label-cells.ts';
export * from './sites/site-inputs.ts';
export * from './sites/site-blocks.ts';
export * from './sites/negative-sites.ts';
export * from './sites/build-sites.ts';
export * from './sites/sites-geojson.ts';
export * from './sites/band-transform.ts';
export * from './sites/patches.ts';
