/** Public surface of the kriging engine (see docs/kriging.md). */
export {
  type ModelType, type Anisotropy, type VariogramModel, MODEL_TYPES, structure, semivariance, totalSill,
  covarianceFunction, validateModel, describeModel, parseVariogramSpec, anisotropyTransform,
} from './variogram-model.ts';
export { type ExperimentalVariogram, type ExperimentalVariogramOptions, experimentalVariogram, experimentalVariograms } from './experimental-variogram.ts';
export { type FittedVariogram, type FitOptions, fitVariogram, fitBestVariogram } from './fit-variogram.ts';
export { NeighbourIndex } from './neighbour-search.ts';
export { type KrigingField, type NeighbourhoodOptions, type PredictionOutput, KrigingPredictor } from './kriging-predictor.ts';
export { type KrigeOptions, type CheckedKrigeOptions, checkKrigeOptions } from './krige-options.ts';
export { type SampleInput, type FieldModel, type PreparedKriging, CoincidentPointsError, mergeCoincidentPoints, prepareKriging } from './prepare-samples.ts';
export { type KrigeResult, krigeGrid } from './krige-grid.ts';
export { type CvPoint, type CvSummary, type CvResult, summarizeCv, crossValidate } from './cross-validation.ts';
