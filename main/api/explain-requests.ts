import { join } from 'node:path';
import { readManifest, MANIFEST_FILE } from '../models/run-store.ts';
import { InvalidOptionError } from '../errors.ts';
import { checkUserFile } from '../util/user-file.ts';
import { runWorkflow } from '../workflows/registry.ts';
import { runSitesPath, runStackPath } from '../workflows/explain.ts';
import type { ExplainSiteParams, SiteExplanation } from './contract.ts';

export { runSitesPath, runStackPath } from '../workflows/explain.ts';

/**
 * The Compare view's per-site interpretability request: Grad-CAM of every model of a saved run
 * for the window around one clicked cell, and the learned offsets of its deformable models.
 *
 * It is the explain workflow at one point (main/workflows/explain.ts, `at: { x, y }`), the same
 * function as `geoanomaly explain`, so the numbers equal the command's
 * (tests/maps/explain-requests.test.ts). One window through 2–4 small models takes tens of
 * milliseconds, so it is answered directly, in this thread, instead of as a job; the workflow
 * keeps the loaded run and stack, since every click on the same run needs them again.
 */
export async function explainSite(p: ExplainSiteParams): Promise<SiteExplanation> {
  const r = await runWorkflow('explain', { run: p.runDir, stack: p.stack, layer: p.layer, classIndex: p.classIndex, at: { x: p.x, y: p.y } });
  // A workflow given `at` always answers with one cell; anything else is a bug here, not the user's input.
  if (r.mode !== 'site') throw new InvalidOptionError(`explainSite: the explain workflow answered "${r.mode}" for a point`);
  return r.site;
}

/** What the Compare view needs to know about a run before the first click. */
export async function describeRun(runDir: string): Promise<{ runDir: string; models: string[]; stack: string | null; sites: string | null; window: number | null }> {
  await checkUserFile(join(runDir, MANIFEST_FILE), 'json');
  const m = readManifest(runDir);
  let stack: string | null = null;
  try {
    stack = runStackPath(runDir);
  } catch {
    stack = null;
  }
  const patch = m.patch as { size?: number };
  return { runDir, models: Object.keys(m.models), stack, sites: runSitesPath(runDir), window: patch?.size ?? null };
}
