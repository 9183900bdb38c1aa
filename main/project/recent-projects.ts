import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeJsonAtomic } from '../util/atomic-write.ts';
import type { RecentProject } from '../types/project-document.ts';

/** How many recent projects are remembered. */
export const MAX_RECENT = 10;

const FILE = 'recent-projects.json';

/** The recent-project list in the user data folder, newest first; unreadable lists read as empty. */
export function readRecentProjects(dataDir: string): RecentProject[] {
  const file = join(dataDir, FILE);
  if (!existsSync(file)) return [];
  try {
    const v = JSON.parse(readFileSync(file, 'utf8')) as unknown;
    if (!Array.isArray(v)) return [];
    return v.filter(
      (r): r is RecentProject => !!r && typeof r === 'object' && typeof r.path === 'string' && typeof r.name === 'string' && typeof r.openedAt === 'string',
    );
  } catch {
    // A damaged list only loses the history; the projects themselves are untouched.
    return [];
  }
}

/** Moves (or adds) a project to the top of the list and saves it atomically. */
export function touchRecentProject(dataDir: string, path: string, name: string, now: Date = new Date()): RecentProject[] {
  const list = [{ path, name, openedAt: now.toISOString() }, ...readRecentProjects(dataDir).filter((r) => r.path !== path)].slice(0, MAX_RECENT);
  writeJsonAtomic(join(dataDir, FILE), list);
  return list;
}
