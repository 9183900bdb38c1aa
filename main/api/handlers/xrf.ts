import type { HandlersOf } from './common.ts';

/** XRF core scans: the synthetic sample, cube facts, composites, spectra and element maps (main/api/xrf-requests.ts). */

type XrfHandlers = HandlersOf<'xrfSyntheticSample' | 'xrfCubeInfo' | 'xrfComposite' | 'xrfPixelSpectrum' | 'xrfRegionSpectrum' | 'xrfElementMap' | 'xrfExportSpectra'>;

export function createXrfHandlers(dataDir: string): XrfHandlers {
  return {
    async xrfSyntheticSample(p) {
      const { writeSyntheticXrfSample } = await import('../xrf-requests.ts');
      return writeSyntheticXrfSample(dataDir, p);
    },
    async xrfCubeInfo(p) {
      const { xrfCubeInfo } = await import('../xrf-requests.ts');
      return xrfCubeInfo(p.path, p.dataset);
    },
    async xrfComposite(p) {
      const { xrfComposite } = await import('../xrf-requests.ts');
      return xrfComposite(p.path, p.bands, p.percentiles, p.dataset);
    },
    async xrfPixelSpectrum(p) {
      const { xrfPixelSpectrum } = await import('../xrf-requests.ts');
      return xrfPixelSpectrum(p);
    },
    async xrfRegionSpectrum(p) {
      const { xrfRegionSpectrum } = await import('../xrf-requests.ts');
      return xrfRegionSpectrum(p);
    },
    async xrfElementMap(p) {
      const { xrfElementMap } = await import('../xrf-requests.ts');
      return xrfElementMap(p);
    },
    async xrfExportSpectra(p) {
      const { xrfExportSpectra } = await import('../xrf-requests.ts');
      return xrfExportSpectra(p);
    },
  };
}
