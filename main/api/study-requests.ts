import { join } from 'node:path';
import type { Autosaver } from '../project/autosave.ts';
import { autosavePathFor, PROJECT_EXTENSION } from '../project/project-file.ts';
import { autosaveSitesPath, removeSupersededSites, withDigitizedSites } from '../project/session-autosave.ts';
import { hashStudyInputs, recordStep, stepStatuses, staleSteps } from '../project/study-steps.ts';
import type { StudyRequests } from '../project/study-types.ts';
import { checkUserFile } from '../util/user-file.ts';

/**
 * The guided study's requests (issue #18): session autosave with the digitized sites, study
 * step status and records, and step 1's table summary. Registered in handlers.ts by one spread.
 * The table reader, CRS parser and sites writer load on first use, as handlers.ts does for them.
 */

export type StudyHandlers = { [K in keyof StudyRequests]: (p: Parameters<StudyRequests[K]>[0]) => Promise<ReturnType<StudyRequests[K]>> };

export function createStudyHandlers(options: { readonly dataDir: string; readonly autosaver: Autosaver }): StudyHandlers {
  /** Per autosave copy: what the last sites file written holds, so an unchanged set is not rewritten. */
  const lastSites = new Map<string, { key: string; path: string }>();
  let seq = 0;
  return {
    async autosaveSession(p) {
      const target = p.path ? autosavePathFor(p.path) : join(options.dataDir, `unsaved.autosave${PROJECT_EXTENSION}`);
      let doc = p.document;
      let sitesPath: string | null = null;
      if (p.sites) {
        if (p.sites.centres.length > 0) {
          const key = JSON.stringify([p.sites.gridSource, p.sites.centres]);
          const last = lastSites.get(target);
          if (last && last.key === key) sitesPath = last.path;
          else {
            sitesPath = autosaveSitesPath(target, `${Date.now().toString(36)}-${++seq}`);
            const { writeSiteCentres } = await import('./site-requests.ts');
            await writeSiteCentres(sitesPath, p.sites.gridSource, p.sites.centres);
            lastSites.set(target, { key, path: sitesPath });
          }
          doc = withDigitizedSites(doc, { source: sitesPath, gridLayerId: p.sites.gridLayerId });
        } else {
          doc = withDigitizedSites(doc, null);
          lastSites.delete(target);
        }
      }
      const keep = sitesPath;
      options.autosaver.changed(target, doc, p.sites ? () => removeSupersededSites(target, keep) : undefined);
      return { path: target, sitesPath };
    },
    async studyStatus(p) {
      const statuses = stepStatuses(p.study, await hashStudyInputs(p.study));
      return { statuses, stale: staleSteps(statuses) };
    },
    async recordStudyStep(p) {
      return recordStep(p.study, p.run);
    },
    async studyTableSummary(p) {
      await checkUserFile(p.path, 'table');
      const [{ summarizeTable }, { parseCrs }] = await Promise.all([import('../project/table-summary.ts'), import('../grid/crs.ts')]);
      return summarizeTable(p.path, { x: p.table.x, y: p.table.y, crs: parseCrs(p.table.crs) }, p.bins);
    },
  };
}
