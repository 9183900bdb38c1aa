/**
 * Library entry of the geoanomaly-workbench package (`import { … } from 'geoanomaly-workbench'`).
 *
 * The public surface, curated (ARCHITECTURE.md "Library entry"): the workflows, the named errors,
 * the readers and writers of the files the workbench uses, and the documented algorithms of the
 * compute core. Engine plumbing (worker pools, ONNX graph builders and exporters, the
 * data-parallel trainer, tile planners, layer internals) is not exported: it changes with the
 * engines, and the workflows are the stable way to reach it. The app's contract
 * (main/api/contract.ts) sits above this entry; the payloads it carries are the workflow option
 * and result types exported here.
 */

// ---------------------------------------------------------------------------------------------
// Workflows: the user-level tasks the CLI and the app run (main/workflows/registry.ts)

export { runWorkflow, loadWorkflow, isWorkflowName, WORKFLOW_NAMES } from './workflows/registry.ts';
export type { Workflows, WorkflowName, WorkflowOptions, WorkflowResult, WorkflowFn, WorkflowModule } from './workflows/registry.ts';
export { runWorkflowInWorker, WorkflowWorkerError, CANCEL_GRACE_MS } from './workflows/run-in-worker.ts';
export type { OptionDef, OptionTable, OptionsOf } from './workflows/option-table.ts';
export type { KrigeWorkflowOptions } from './workflows/krige.ts';
export type { TrainWorkflowOptions } from './workflows/train.ts';
export type { PredictWorkflowOptions } from './workflows/predict.ts';
export type { ExplainWorkflowOptions, ExplainPoint } from './workflows/explain-options.ts';
export type * from './workflows/workflow-results.ts';
export type * from './workflows/explain-result.ts';
export type { JobContext, ProgressFn } from './jobs/job.ts';

// ---------------------------------------------------------------------------------------------
// Named errors (each says what was expected, what was found and the fix)

export * from './errors.ts';
export { MetricInputError, UndefinedMetricError } from './eval/metrics.ts';
export { TooFewGroupsError, MixedGroupLabelError } from './eval/folds.ts';
export * from './faults/fault-errors.ts';
export * from './sites/site-errors.ts';
export { RaggedRowError } from './io/table.ts';
export { CoincidentPointsError } from './kriging/prepare-samples.ts';
export { DeformConvShapeError } from './nn/layers/deform-conv-op.ts';
export { BackendUnavailableError } from './models/backend.ts';
export { MissingKnowledgeError } from './models/train.ts';
export { OnnxRuntimeUnavailableError } from './onnx/onnx-runtime.ts';
export { MatVersionError } from './xrf/mat-v5.ts';
export { CubeFormatError } from './xrf/cube.ts';
export { UnknownLayerError, RunFolderError } from './export/export-errors.ts';

// ---------------------------------------------------------------------------------------------
// Grids, CRSs and raster stacks

export { crsFromEpsg, crsFromWkt, crsFromProj4, parseCrs, sameCrs, requireProjected, makeTransform } from './grid/crs.ts';
export type { Crs, AreaOfUse } from './grid/crs.ts';
export { gridExtent, cellCenterX, cellCenterY, cellOf, inGrid, geoTransform, gridFromExtent, compareGrids, assertAligned } from './grid/grid-spec.ts';
export type { GridSpec, Extent, AlignmentReport } from './grid/grid-spec.ts';
export { makeStack, bandIndex, bandStats } from './grid/raster.ts';
export type { RasterStack, BandStats } from './grid/raster.ts';
export { resampleToGrid, alignByIndex } from './grid/align.ts';
export type { ResampleMethod, IndexOffset } from './grid/align.ts';

// ---------------------------------------------------------------------------------------------
// Readers and writers

export { readGeoTiffInfo, readGeoTiff, readGeoTiffFolder, readStack } from './io/geotiff-read.ts';
export type { GeoTiffInfo } from './io/geotiff-read.ts';
export { writeGeoTiff, GeoTiffWriter } from './io/geotiff-write.ts';
export type { GeoTiffWriteOptions } from './io/geotiff-write.ts';
export { readSampleTable, readTableCells, inspectSampleTable, guessCoordinateColumns } from './io/table.ts';
export type { SampleTable, SampleTableData, SampleTableOptions } from './io/table.ts';
export { readVector, VECTOR_EXTENSIONS } from './io/vector.ts';
export type { VectorLayer, VectorReadOptions } from './io/vector.ts';
export { readSitesGeoJson, writeSitesGeoJson, sitesToGeoJson, sitesReadNote, DEDUPE_POLICIES } from './sites/sites-geojson.ts';
export type { DedupePolicy, SitesReadOptions, SitesRead } from './sites/sites-geojson.ts';
export { readManifest, loadModel } from './models/run-store.ts';
export type { RunManifest, InputRecord } from './models/run-store.ts';
export { readCube, readTruthMask } from './xrf/cube-import.ts';
export { readMatFile } from './xrf/mat-v5.ts';
export type { MatArray, MatFile } from './xrf/mat-v5.ts';
export { exportRaster } from './export/raster-export.ts';
export { exportSites } from './export/sites-export.ts';
export { exportMetricsCsv, readRunMetrics } from './export/metrics-csv.ts';
export { writeMapLayout } from './export/map-layout.ts';
export type { MapLayoutOptions, MapLayout } from './export/map-layout.ts';
export { writeRunReport } from './export/run-report.ts';
export { generateDemoSurvey, writeDemoSurvey } from './demo/demo-survey.ts';

// ---------------------------------------------------------------------------------------------
// Algorithms of the compute core, each tested against an outside reference (docs/)

export { Rng } from './util/rng.ts';
export * from './kriging/index.ts';
export {
  rocCurve, rocAuc, confusion, classificationMetrics, chooseThreshold, metricsFromConfusion, predictAt,
  type RocCurve, type RocOptions, type Confusion, type ClassificationMetrics, type ThresholdMode,
} from './eval/metrics.ts';
export { groupedStratifiedKFold, summarize, type Fold, type Summary } from './eval/folds.ts';
export { evaluateMap, type MapEvaluation, type MapEvaluationOptions, type SuccessRateCurve, type PredictionAreaCurve, type PaIntersection } from './eval/success-rate.ts';
export { concentrationArea, anomalyClasses, type ConcentrationArea, type ConcentrationAreaOptions, type CaSegment } from './eval/concentration-area.ts';
export { robustPca, ilrBasis, type RobustPca, type RobustPcaOptions, type LogTransform } from './eval/robust-pca.ts';
export { detMcd, type McdResult, type McdOptions } from './eval/mcd.ts';
export { distanceFromSegments, distanceFromFaultMask, faultBuffers, type SegmentDistanceOptions } from './faults/distance-to-faults.ts';
export { fitDensityPowerLaw, ringDistanceKm, defaultRingWidth, type PowerLawFit, type RingStats, type DensityOptions } from './faults/power-law.ts';
export { weightMap, ringWeights, type WeightMapOptions, type WeightNormalisation } from './faults/weight-map.ts';
export { faultDistanceFromFile, type FaultFileOptions, type FaultDistance } from './faults/fault-inputs.ts';
export { blocksAround, mergeSites, countLabels, type Site, type SiteSet, type SiteSource, type BlockOptions } from './sites/site-blocks.ts';
export { buildSites, type BuildSitesOptions, type NegativeSpec, type SitesSummary } from './sites/build-sites.ts';
export { transformStack, applyTransform, BAND_TRANSFORMS, type BandTransform, type TransformOptions, type TransformStats } from './sites/band-transform.ts';
export { extractPatches, type PatchOptions, type PatchDataset } from './sites/patches.ts';
export { deformConv2d } from './nn/layers/deform-conv-op.ts';
export type { DeformConv2dOptions } from './nn/layers/deform-conv-op.ts';
export { DeformConv2D } from './nn/layers/deform-conv-layer.ts';
export type { DeformConv2DArgs } from './nn/layers/deform-conv-layer.ts';
export { initBackend, activeBackend } from './models/backend.ts';
export type { BackendInfo, BackendPreference } from './models/backend.ts';
export { buildModel, MODEL_KINDS } from './models/architectures.ts';
export type { ModelKind, ArchitectureOptions } from './models/architectures.ts';
export { trainModel, trainingDataFrom, predictDepositProbability, TRAIN_ENGINES } from './models/train.ts';
export type { TrainingData, TrainOptions, TrainedModel, EpochRecord, TrainEngine } from './models/train.ts';
// crossValidate here is the models' (as before); kriging's leave-one-out crossValidate is shadowed by it (kriging workflow: cv option).
export { crossValidate, crossValidateAndFit, METRIC_NAMES } from './models/cross-validate.ts';
export type { CrossValidationOptions, CrossValidationResult, FoldResult, CvProtocol, MetricName } from './models/cross-validate.ts';
export { syntheticSample } from './xrf/synthetic.ts';
export type { SyntheticOptions, SyntheticSample } from './xrf/synthetic.ts';
export { makeCube, normalizeCube, NORMALIZATIONS } from './xrf/cube.ts';
export type { SpectralCube, Normalization } from './xrf/cube.ts';
export { globalRx, localRx } from './xrf/rx.ts';
export { dbscan } from './xrf/dbscan.ts';
export { runMsfaNet, ABLATIONS } from './xrf/msfa-net.ts';
export type { Ablation, MsfaOptions, MsfaResult } from './xrf/msfa-net.ts';
export { runAutoAd } from './xrf/auto-ad.ts';
export { runXrfWorkflow, XRF_METHODS } from './xrf/workflow.ts';
export type { XrfMethod, XrfWorkflowOptions } from './xrf/workflow.ts';
