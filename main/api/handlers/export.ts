import type { HandlersOf } from './common.ts';

/** Results and exports: the variogram preview, JSON results the panels read, rasters, sites and metrics for reports. */

type ExportHandlers = HandlersOf<'krigeVariogram' | 'readJsonResult' | 'exportRaster' | 'exportSites' | 'exportMetricsCsv'>;

export function createExportHandlers(): ExportHandlers {
  return {
    async krigeVariogram(p) {
      const { variogramPreview } = await import('../kriging-requests.ts');
      return variogramPreview(p);
    },
    async readJsonResult(p) {
      const { readJsonResult } = await import('../kriging-requests.ts');
      return readJsonResult(p.path);
    },
    async exportRaster(p) {
      const { exportRasterRequest } = await import('../export-requests.ts');
      return exportRasterRequest(p);
    },
    async exportSites(p) {
      const { exportSitesRequest } = await import('../export-requests.ts');
      return exportSitesRequest(p);
    },
    async exportMetricsCsv(p) {
      const { exportMetricsCsvRequest } = await import('../export-requests.ts');
      return exportMetricsCsvRequest(p);
    },
  };
}
