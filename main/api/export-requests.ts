import { exportRaster } from '../export/raster-export.ts';
import { exportSites } from '../export/sites-export.ts';
import { exportMetricsCsv } from '../export/metrics-csv.ts';
import { join } from 'node:path';
import { checkUserFile, checkUserFileOrFolder } from '../util/user-file.ts';
import type { Params, Result } from './contract.ts';

const checkRaster = (path: string) => checkUserFileOrFolder(path, 'raster', ['.tif', '.tiff']);

/**
 * The export requests that finish in well under a second (a GeoTIFF copy of chosen bands,
 * sites to GeoJSON/Shapefile, metrics to CSV). The page layout and the run report draw
 * images for seconds, so they are compute jobs instead (`layout`, `report`: the workflows of
 * main/workflows/ in a worker thread, with progress, cancel and a typed result).
 */
export async function exportRasterRequest(p: Params<'exportRaster'>): Promise<Result<'exportRaster'>> {
  await checkRaster(p.source);
  const r = await exportRaster(p.source, p.path, p.bands);
  return { path: r.path, bandNames: [...r.bandNames], rows: r.rows, cols: r.cols };
}

export async function exportSitesRequest(p: Params<'exportSites'>): Promise<Result<'exportSites'>> {
  await checkRaster(p.gridSource);
  const r = await exportSites(p.path, p.gridSource, p.sites, p.blockRadius ?? 1);
  return { path: r.path, files: r.files, format: r.format, positiveBlocks: r.positiveBlocks, negativeBlocks: r.negativeBlocks, cells: r.cells };
}

export async function exportMetricsCsvRequest(p: Params<'exportMetricsCsv'>): Promise<Result<'exportMetricsCsv'>> {
  await checkUserFile(join(p.runDir, 'metrics.json'), 'json');
  return exportMetricsCsv(p.runDir, p.path);
}
