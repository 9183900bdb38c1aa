import type { HandlersOf } from './common.ts';

/** Training sites digitised in the app: read a sites file's centres, write them back (main/api/site-requests.ts). */

export function createSiteHandlers(): HandlersOf<'readSites' | 'writeSites'> {
  return {
    async readSites(p) {
      const { readSiteCentres } = await import('../site-requests.ts');
      return { sites: await readSiteCentres(p.path, p.gridSource) };
    },
    async writeSites(p) {
      const { writeSiteCentres } = await import('../site-requests.ts');
      return writeSiteCentres(p.path, p.gridSource, p.sites, p.blockRadius ?? 1, p.replace === true);
    },
  };
}
