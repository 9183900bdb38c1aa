import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, isAbsolute, relative, resolve, sep } from 'node:path';
import { InvalidFileError, WorkbenchError } from '../errors.ts';
import { writeJsonAtomic } from '../util/atomic-write.ts';
import { removeStaleTemps } from '../util/stale-temp.ts';
import { checkUserFile, FileTooLargeError, NotARegularFileError, READ_LIMITS, readUserFile } from '../util/user-file.ts';
import type { CrsInfo, LayerSpec, OpenedProject, ProjectDocument } from '../types/project-document.ts';
import { mapStudyPaths, studyProblem } from './study-steps.ts';
import { compareLayoutProblem } from './compare-layout.ts';

/**
 * The project file (`*.gaproj`): a JSON document listing layers (with styles), training-site
 * sets, finished runs and the map view. Layer sources are stored relative to the project's
 * folder so a project folder can be moved or shared; in memory (OpenedProject) they are
 * absolute. Saving goes through writeJsonAtomic (temp file, fsync, rename, directory fsync),
 * so a crash or kill during a save leaves the previous file or the new one, never a mix.
 *
 * Format versions: 1 (layers, sites, runs, view); 2 adds the optional guided `study` (inputs and
 * step records, main/project/study-steps.ts). Version 1 files open as version 2 without a study;
 * files are always written as the current version. The optional `compare` layout
 * (main/project/compare-layout.ts) is additive: a file without it opens with the default layout.
 */

export const PROJECT_EXTENSION = '.gaproj';

/** The version this workbench writes; it reads this one and every older one. */
export const PROJECT_FORMAT_VERSION = 2;

export class ProjectFormatError extends WorkbenchError {}

export function emptyProject(name = 'Untitled project', crs: CrsInfo | null = null): ProjectDocument {
  return { format: 'geoanomaly-project', version: PROJECT_FORMAT_VERSION, name, crs, layers: [], sites: [], runs: [], view: null };
}

function mapSources(doc: ProjectDocument, f: (source: string) => string): ProjectDocument {
  return {
    ...doc,
    layers: doc.layers.map((l) => ({ ...l, source: f(l.source) }) as LayerSpec),
    sites: doc.sites.map((s) => ({ ...s, source: f(s.source) })),
    ...(doc.study ? { study: mapStudyPaths(doc.study, f) } : {}),
  };
}

/** Relative paths with forward slashes, so a project saved on Windows opens on Linux. */
function toRelative(projectDir: string, source: string): string {
  if (!isAbsolute(source)) return source.split(sep).join('/');
  const rel = relative(projectDir, source);
  // Sources on another drive (Windows) cannot be relative; keep them absolute.
  return isAbsolute(rel) ? source : rel.split(sep).join('/');
}

function toAbsolute(projectDir: string, source: string): string {
  return isAbsolute(source) ? source : resolve(projectDir, source);
}

function fail(file: string, problem: string): never {
  throw new InvalidFileError(file, problem, 'Open an autosave copy (*.autosave.gaproj) if one exists, or re-create the project');
}

/** Checks the parsed JSON is a project document, naming the first problem found. */
export function validateProjectDocument(value: unknown, file: string): ProjectDocument {
  if (value === null || typeof value !== 'object') fail(file, 'is not a JSON object');
  const d = value as Record<string, unknown>;
  // Only what the parser recognised is echoed, and briefly: the file may be anything the user
  // (or a request) pointed at, and its content is not ours to repeat.
  if (d.format !== 'geoanomaly-project') fail(file, `is not a GeoAnomaly project (its "format" is ${echo(d.format)}, expected "geoanomaly-project")`);
  if (d.version !== 1 && d.version !== PROJECT_FORMAT_VERSION) {
    if (typeof d.version === 'number' && Number.isInteger(d.version) && d.version > PROJECT_FORMAT_VERSION) {
      throw new ProjectFormatError(`${file}: project format version ${String(d.version)} is newer than this workbench understands (${PROJECT_FORMAT_VERSION}). Update the workbench.`, { file, version: d.version });
    }
    fail(file, `has format version ${echo(d.version)}, expected 1 or ${PROJECT_FORMAT_VERSION}`);
  }
  if (typeof d.name !== 'string') fail(file, 'has no project name');
  for (const key of ['layers', 'sites', 'runs'] as const) {
    if (!Array.isArray(d[key])) fail(file, `has no "${key}" list`);
  }
  (d.layers as unknown[]).forEach((l, i) => {
    const layer = l as Record<string, unknown>;
    if (!layer || typeof layer !== 'object') fail(file, `layer ${i} is not an object`);
    if (layer.kind !== 'raster' && layer.kind !== 'vector') fail(file, `layer ${i} has kind ${JSON.stringify(layer.kind)}, expected "raster" or "vector"`);
    for (const k of ['id', 'name', 'source']) if (typeof layer[k] !== 'string') fail(file, `layer ${i} has no "${k}"`);
    if (typeof layer.opacity !== 'number' || layer.opacity < 0 || layer.opacity > 1) fail(file, `layer ${i} opacity must be a number in 0…1`);
    if (layer.kind === 'raster' && (typeof layer.band !== 'string' || !Array.isArray(layer.bandNames))) fail(file, `raster layer ${i} has no band`);
  });
  if (d.study !== undefined) {
    if (d.version === 1) fail(file, 'is format version 1 but has a "study" (added in version 2)');
    const problem = studyProblem(d.study);
    if (problem) fail(file, problem);
  }
  // The compare layout is optional in every version (an older workbench never wrote one).
  if (d.compare !== undefined) {
    const problem = compareLayoutProblem(d.compare);
    if (problem) fail(file, problem);
  }
  // Version 1 → 2 adds only the optional study: the upgrade is the version number.
  return { ...(d as unknown as ProjectDocument), version: PROJECT_FORMAT_VERSION };
}

/** A short, single-line rendering of a parsed value for an error message. */
function echo(v: unknown): string {
  if (v === undefined) return 'missing';
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 40 ? `${s.slice(0, 37)}…` : s;
}

function parseProject(path: string, text: string): OpenedProject {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    // JSON.parse's message quotes the first bytes of the file ("root:x:0:0"… for /etc/passwd):
    // say what the file is not, never what it holds.
    fail(path, 'is not a GeoAnomaly project (not a JSON document)');
  }
  const doc = validateProjectDocument(parsed, path);
  // Opening a project is the app's start in its folder: temps left there by a killed save,
  // autosave or export (ours only, writer gone) are removed now.
  removeStaleTemps(dirname(path));
  return { path, document: mapSources(doc, (s) => toAbsolute(dirname(path), s)) };
}

/** Synchronous open (CLI, tests): the same checks as openProjectFile. */
export function loadProject(file: string): OpenedProject {
  const path = resolve(file);
  if (!existsSync(path)) throw new InvalidFileError(path, 'project file not found', 'Check the path or pick it from the recent projects');
  const s = statSync(path);
  if (!s.isFile()) throw new NotARegularFileError(path, s.isDirectory() ? 'a folder' : 'not a regular file', `a ${PROJECT_EXTENSION} project file`);
  if (s.size > READ_LIMITS.project) throw new FileTooLargeError(path, s.size, READ_LIMITS.project, 'project');
  return parseProject(path, readFileSync(path, 'utf8'));
}

/** Opens a project off the event loop (the app's backend): regular file, size-capped, async read. */
export async function openProjectFile(file: string): Promise<OpenedProject> {
  const path = resolve(file);
  try {
    await checkUserFile(path, 'project');
  } catch (e) {
    if (e instanceof InvalidFileError && e.details.problem === 'file not found') throw new InvalidFileError(path, 'project file not found', 'Check the path or pick it from the recent projects');
    throw e;
  }
  return parseProject(path, (await readUserFile(path, 'project')).toString('utf8'));
}

/** Saves atomically; returns the absolute path written. */
export function saveProject(file: string, doc: ProjectDocument): string {
  const path = resolve(file.endsWith(PROJECT_EXTENSION) ? file : file + PROJECT_EXTENSION);
  validateProjectDocument(doc, path);
  writeJsonAtomic(path, mapSources(doc, (s) => toRelative(dirname(path), s)));
  return path;
}

/** The autosave sibling of a project file: `x.gaproj` → `x.autosave.gaproj`. */
export function autosavePathFor(projectPath: string): string {
  return projectPath.endsWith(PROJECT_EXTENSION)
    ? projectPath.slice(0, -PROJECT_EXTENSION.length) + '.autosave' + PROJECT_EXTENSION
    : projectPath + '.autosave' + PROJECT_EXTENSION;
}
