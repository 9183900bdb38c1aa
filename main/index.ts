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
