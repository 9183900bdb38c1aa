import { readdirSync, rmSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { ProjectDocument, SiteSetSpec } from '../types/project-document.ts';
import { PROJECT_EXTENSION } from './project-file.ts';

/**
 * Autosave of the digitized sites with the project (issue #18 "nothing lost"). The sites go to a
 * NEW file per change, `<stem>.sites.<stamp>.geojson` beside the autosave copy, and the copy
 * then references it. Writing over one sites file would break old-or-new: a kill after the sites
 * write but before the copy's would pair the old copy with new sites. Sites files the copy on
 * disk no longer names are removed only after that copy is written (removeSupersededSites).
 */

/** Id of the digitized site set (the same id as renderer/src/lib/project-records.ts DIGITIZED_SITES_ID). */
export const DIGITIZED_SITES_ID = 'digitized-sites';

function stemOf(autosavePath: string): string {
  return basename(autosavePath).replace(new RegExp(`${PROJECT_EXTENSION.replace('.', '\\.')}$`), '');
}

const STAMP = /^[0-9a-z]+-[0-9]+$/;

/** A fresh sites path for the autosave copy at `autosavePath`; `stamp` is unique per write. */
export function autosaveSitesPath(autosavePath: string, stamp: string): string {
  if (!STAMP.test(stamp)) throw new Error(`autosave sites stamp must match ${STAMP}, got ${stamp}`);
  return join(dirname(autosavePath), `${stemOf(autosavePath)}.sites.${stamp}.geojson`);
}

/** The document with the digitized set pointing at `source` (or removed when null); other sets stay. */
export function withDigitizedSites(doc: ProjectDocument, spec: Omit<SiteSetSpec, 'id' | 'name'> | null): ProjectDocument {
  const others = doc.sites.filter((s) => s.id !== DIGITIZED_SITES_ID);
  return { ...doc, sites: spec ? [...others, { id: DIGITIZED_SITES_ID, name: 'Digitized sites', ...spec }] : others };
}

/** Removes this autosave copy's sites files except `keep` (the one the copy now on disk names). Returns the paths removed. */
export function removeSupersededSites(autosavePath: string, keep: string | null): string[] {
  const dir = dirname(autosavePath);
  const prefix = `${stemOf(autosavePath)}.sites.`;
  const removed: string[] = [];
  for (const name of readdirSync(dir)) {
    if (!name.startsWith(prefix) || !name.endsWith('.geojson')) continue;
    if (!STAMP.test(name.slice(prefix.length, -'.geojson'.length))) continue;
    const p = join(dir, name);
    if (p === keep) continue;
    rmSync(p, { force: true });
    removed.push(p);
  }
  return removed;
}
