import type { RasterLayerSpec } from '../../../main/api/contract.ts';

/**
 * Which layer a panel preselects. The demo survey's synthetic truth raster (anomaly-truth.tif,
 * band anomaly_truth) is a check on the models, not an input a geochemist would pick, so it is
 * chosen only when nothing else is loaded; among the rest the newest (last imported or computed)
 * wins, since that is usually the layer being worked on.
 */
export function preferredGrid(rasters: readonly RasterLayerSpec[]): RasterLayerSpec | null {
  const isTruth = (l: RasterLayerSpec): boolean => /(^|[^a-z])truth([^a-z]|$)/i.test(`${l.source} ${l.bandNames.join(' ')}`);
  // A kriging variance stack shares its prediction's grid, but a user means the prediction.
  const isVariance = (l: RasterLayerSpec): boolean => /(^|[^a-z])variance\.tiff?$/i.test(l.source);
  const newestFirst = [...rasters].reverse();
  return newestFirst.find((l) => !isTruth(l) && !isVariance(l)) ?? newestFirst.find((l) => !isTruth(l)) ?? rasters[0] ?? null;
}

/** "1 band", "3 bands": one function for the backend's messages and the panels (main/util/display-names.ts). */
export { bandCount } from '../../../main/util/display-names.ts';
