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
export * from './kriging/index.ts';
export { runTasks, serveTasks, workerInput, defaultThreads, type WorkerPoolOptions, type TaskContext, type TaskOutput } from './jobs/worker-pool.ts';
export { deformConv2d, DeformConvShapeError } from './models/deform-conv-op.ts';
export type { DeformConv2dOptions } from './models/deform-conv-op.ts';
export { DeformConv2D } from './models/deform-conv-layer.ts';
export type { DeformConv2DArgs } from './models/deform-conv-layer.ts';
export { initBackend, getTf, activeBackend, BackendUnavailableError } from './models/backend.ts';
export type { BackendInfo, BackendPreference } from './models/backend.ts';
export { buildModel, checkArchitectureOptions, parseModelKinds, isDeformable, usesGeology, MODEL_KINDS, SameConv2D, SeededDropout } from './models/architectures.ts';
export type { ModelKind, ArchitectureOptions } from './models/architectures.ts';
export { createGeologyVariables, geologyProbability, geologyLoss, crossEntropy, totalLoss } from './models/geology-loss.ts';
export type { GeologyTermVariables } from './models/geology-loss.ts';
export { trainModel, trainingDataFrom, predictDepositProbability, validationSplit, checkTrainOptions, MissingKnowledgeError } from './models/train.ts';
export type { TrainingData, TrainOptions, TrainedModel, EpochRecord } from './models/train.ts';
export { crossValidate, crossValidateAndFit, checkCrossValidationOptions, metricsJsonEntry, summarizeFolds, METRIC_NAMES } from './models/cross-validate.ts';
export type { CrossValidationOptions, CrossValidationResult, FoldResult, CvProtocol, MetricName } from './models/cross-validate.ts';
export { saveModel, loadModel, fileModelHandler, readManifest, writeManifest, sha256File, describeInput, packageVersions } from './models/run-store.ts';
export type { RunManifest, InputRecord } from './models/run-store.ts';
export { evaluateMap, type MapEvaluation, type MapEvaluationOptions, type SuccessRateCurve, type PredictionAreaCurve, type PaIntersection } from './eval/success-rate.ts';
export { concentrationArea, anomalyClasses, type ConcentrationArea, type ConcentrationAreaOptions, type CaSegment } from './eval/concentration-area.ts';
export { robustPca, ilrBasis, type RobustPca, type RobustPcaOptions, type LogTransform } from './eval/robust-pca.ts';
export { detMcd, type McdResult, type McdOptions } from './eval/mcd.ts';
export { readMatFile, matToPixelMajor, MatVersionError } from './xrf/mat-v5.ts';
export type { MatArray, MatFile } from './xrf/mat-v5.ts';
export { makeCube, normalizeCube, CubeFormatError, NORMALIZATIONS } from './xrf/cube.ts';
export type { SpectralCube, Normalization } from './xrf/cube.ts';
export { readCube, readTruthMask } from './xrf/cube-import.ts';
export { syntheticSample } from './xrf/synthetic.ts';
export type { SyntheticOptions, SyntheticSample } from './xrf/synthetic.ts';
export { globalRx, localRx } from './xrf/rx.ts';
export { dbscan } from './xrf/dbscan.ts';
export { pseudoLabels } from './xrf/pseudo-labels.ts';
export { runMsfaNet, checkMsfaOptions, ABLATIONS } from './xrf/msfa-net.ts';
export type { Ablation, MsfaOptions, MsfaResult } from './xrf/msfa-net.ts';
export { runAutoAd } from './xrf/auto-ad.ts';
export { runXrfWorkflow, XRF_METHODS } from './xrf/workflow.ts';
export type { XrfMethod, XrfWorkflowOptions } from './xrf/workflow.ts';
export { predictRun, predictRunToGeoTiff, checkPredictRunOptions, defaultTileRows, planTiles } from './maps/parallel-predict.ts';
export type { PredictRunOptions } from './maps/parallel-predict.ts';
