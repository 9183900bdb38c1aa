import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { InvalidOptionError } from '../../errors.ts';
import { parseCrs } from '../../grid/crs.ts';
import { emptyProject, loadProject, openProjectFile, saveProject, autosavePathFor, PROJECT_EXTENSION } from '../../project/project-file.ts';
import { readRecentProjects, touchRecentProject } from '../../project/recent-projects.ts';
import type { Autosaver } from '../../project/autosave.ts';
import { withRunDisplayNames } from '../../util/display-names.ts';
import type { LayerSpec, OpenedProject, ProjectDocument } from '../contract.ts';
import { crsInfo, optionalImport, type HandlerOptions, type Handlers, type HandlersOf } from './common.ts';
import { availableServices } from './compute.ts';
import type { LayerSources } from './layers.ts';

/** Project: about the app, new / open / save / autosave, recent projects and the bundled demo survey. */

const APP_VERSION = '0.1.0';

/** Seed of the bundled demo survey: every first start shows the same data. */
export const DEMO_SEED = 20260219;

interface DemoModule {
  writeDemoSurvey(dir: string, options: { seed: number }): { samples: string; faults: string; deposits: string; truth: string; manifest: string };
}

type ProjectHandlers = HandlersOf<'getAppInfo' | 'newProject' | 'openDemoProject' | 'openProject' | 'saveProject' | 'autosaveProject' | 'listRecentProjects'>;

export function createProjectHandlers(options: HandlerOptions, autosaver: Autosaver, sources: LayerSources, importLayer: Handlers['importLayer']): ProjectHandlers {
  const { dataDir } = options;

  const opened = (p: OpenedProject): OpenedProject => {
    if (p.path) touchRecentProject(dataDir, p.path, p.document.name);
    // Runs carry readable names (util/display-names.ts) for the jobs list; a user's name is kept.
    return { ...p, document: { ...p.document, runs: withRunDisplayNames(p.document.runs) } };
  };

  const openDemo = async (): Promise<OpenedProject> => {
    const demoDir = join(dataDir, 'demo-survey');
    const projectPath = join(demoDir, `demo-survey${PROJECT_EXTENSION}`);
    if (existsSync(projectPath)) return opened(loadProject(projectPath));
    const demo = await optionalImport<DemoModule>('../../demo/demo-survey.ts', 'The demo survey generator');
    const files = demo.writeDemoSurvey(demoDir, { seed: options.demoSeed ?? DEMO_SEED });
    const manifest = JSON.parse(readFileSync(files.manifest, 'utf8')) as { crs: string; xColumn: string; yColumn: string };
    const truth = await sources.rasterLayer(files.truth);
    const samples = await importLayer({ kind: 'samples', path: files.samples, table: { x: manifest.xColumn, y: manifest.yColumn, crs: manifest.crs } });
    // Bottom to top: the raster, fault lines, sample points, deposits.
    const layers: LayerSpec[] = [
      { ...truth, name: 'Anomaly (true, synthetic)' },
      { ...(await sources.vectorLayer(files.faults, 'faults')), name: 'Faults' },
      { ...samples, name: 'Samples', visible: true },
      { ...(await sources.vectorLayer(files.deposits, 'deposits')), name: 'Deposits' },
    ];
    const doc: ProjectDocument = { ...emptyProject('Demo survey', crsInfo(parseCrs(manifest.crs))), layers };
    saveProject(projectPath, doc);
    return opened(loadProject(projectPath));
  };

  return {
    async getAppInfo() {
      return {
        name: 'GeoAnomaly Workbench',
        version: APP_VERSION,
        host: options.host,
        versions: { node: process.versions.node, v8: process.versions.v8, ...(options.versions ?? {}) },
        availableServices: await availableServices(),
        dataDir,
      };
    },
    async newProject(p) {
      const crs = p.crs ? crsInfo(parseCrs(p.crs)) : null;
      return { path: null, document: emptyProject(p.name ?? 'Untitled project', crs) };
    },
    openDemoProject: openDemo,
    async openProject(p) {
      return opened(await openProjectFile(p.path));
    },
    async saveProject(p) {
      if (!p.path) throw new InvalidOptionError('saveProject needs a path; ask the user where to save the project');
      const path = saveProject(p.path, p.document);
      touchRecentProject(dataDir, path, p.document.name);
      return { path, savedAt: new Date().toISOString() };
    },
    async autosaveProject(p) {
      const target = p.path ? autosavePathFor(p.path) : join(dataDir, `unsaved.autosave${PROJECT_EXTENSION}`);
      autosaver.changed(target, p.document);
      return { path: target };
    },
    async listRecentProjects() {
      return readRecentProjects(dataDir).filter((r) => existsSync(r.path));
    },
  };
}
