import type { ComputeJobRequest, SitesWritten } from '../../../main/api/contract.ts';
import { errorText, type Workbench } from './workbench.svelte.ts';

/** Parameters of the automatic negative selection (`geoanomaly sites --negatives auto`). */
export interface AutoNegativeParams {
  /** Source of the deposits layer (points). */
  readonly deposits: string;
  /** Source of a faults layer, or '' for none. */
  readonly faults: string;
  /** Number of negative blocks; null = one per deposit cell (the command's default). */
  readonly count: number | null;
  /** Minimum distance to any deposit, metres; null = the command's default (10 cells). */
  readonly minDepositDistM: number | null;
  /** Minimum distance to any fault, metres; null = the command's default (5 cells with faults). */
  readonly minFaultDistM: number | null;
  readonly seed: number;
}

function gridSource(wb: Workbench): string {
  const l = wb.siteGridLayer;
  if (!l) throw new Error('add a raster layer first: sites are cells of its grid');
  return l.source;
}

/** A fresh output path in the data folder (the browser host has no save dialog). */
export function runOutputPath(wb: Workbench, stem: string, ext: string): string {
  const dir = wb.appInfo?.dataDir ?? '.';
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  return `${dir}/runs/${stem}-${stamp}.${ext}`;
}

/**
 * Runs the automatic negative selection as a job, then replaces the deposit and automatic sites
 * with its result; the user's own sites stay. One undo step restores the previous sites.
 * Returns an error message for the panel, or null.
 */
export async function runAutoNegatives(wb: Workbench, p: AutoNegativeParams): Promise<string | null> {
  let grid: string;
  try {
    grid = gridSource(wb);
  } catch (e) {
    return errorText(e);
  }
  const out = runOutputPath(wb, 'sites', 'geojson');
  const options: Record<string, string | number> = { deposits: p.deposits, grid, negatives: 'auto', seed: p.seed, out };
  if (p.faults) options.faults = p.faults;
  if (p.count !== null) options.count = p.count;
  if (p.minDepositDistM !== null) options['min-deposit-dist'] = p.minDepositDistM;
  if (p.minFaultDistM !== null) options['min-fault-dist'] = p.minFaultDistM;
  const request: ComputeJobRequest = { options };
  const outcome = await wb.jobs.start('sites', request, 'Sites: automatic negatives');
  if (!outcome.ok) return outcome.error ? `${outcome.error.name}: ${outcome.error.message}` : 'the sites job failed';
  // The sites workflow's typed result (main/workflows/sites-result.ts): the file and the counts per class.
  const done = outcome.result?.workflow;
  if (done?.workflow !== 'sites') return 'the sites job returned no sites result';
  const r = done.result;
  try {
    const { sites } = await wb.api.request('readSites', { path: r.outputs.sites, gridSource: grid });
    wb.setSites([...wb.sites.filter((s) => s.source === 'user'), ...sites.filter((s) => s.source !== 'user')]);
    wb.addLog('info', `Automatic sites: ${r.positives.blocks} positive and ${r.negatives.blocks} negative blocks (${r.positives.cells} + ${r.negatives.cells} cells) from ${r.outputs.sites}`);
    return null;
  } catch (e) {
    return errorText(e);
  }
}

/** Replaces the sites with those of a file (GeoJSON or Shapefile); undoable. */
export async function importSites(wb: Workbench, path: string): Promise<string | null> {
  try {
    const { sites } = await wb.api.request('readSites', { path, gridSource: gridSource(wb) });
    wb.setSites(sites);
    wb.addLog('info', `Imported ${sites.length} sites from ${path}`);
    return null;
  } catch (e) {
    return errorText(e);
  }
}

/** Writes the sites (every cell of every block) as the sites GeoJSON of main/sites/sites-geojson.ts. */
export async function exportSites(wb: Workbench, path: string): Promise<{ error: string | null; written: SitesWritten | null }> {
  try {
    const written = await wb.api.request('writeSites', { path, gridSource: gridSource(wb), sites: wb.sites });
    wb.addLog('info', `Saved ${written.positiveBlocks} positive and ${written.negativeBlocks} negative blocks (${written.cells} cells) to ${written.path}`);
    return { error: null, written };
  } catch (e) {
    return { error: errorText(e), written: null };
  }
}
