import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { basename, extname, join, resolve } from 'node:path';
import { WorkbenchError, InvalidOptionError, InvalidFileError, serializeError } from '../errors.ts';
import { parseCrs, type Crs } from '../grid/crs.ts';
import { readGeoTiffInfo, readStack } from '../io/geotiff-read.ts';
import type { RasterStack } from '../grid/raster.ts';
import { emptyProject, loadProject, openProjectFile, saveProject, autosavePathFor, PROJECT_EXTENSION } from '../project/project-file.ts';
import { createStudyHandlers } from './study-requests.ts';
import { readRecentProjects, touchRecentProject } from '../project/recent-projects.ts';
import { Autosaver } from '../project/autosave.ts';
import { checkUserFile, checkUserFileOrFolder } from '../util/user-file.ts';
import { JobManager, type EmitFn } from './job-manager.ts';
import { QUEUE_CANCEL_GRACE_MS, runCommandInWorker, toArgv } from './command-job.ts';
import { runWorkflowJob, withQueue } from './workflow-job.ts';
import { isWorkflowName } from '../workflows/registry.ts';
import { parseQueueUrl, redactQueueUrl } from '../queue/queue-url.ts';
import { rasterDisplayName, withRunDisplayNames } from '../util/display-names.ts';
import {
  COMPUTE_REQUESTS,
  QUEUE_REQUESTS,
  isComputeRequest,
  isRequestName,
  type ComputeRequestName,
  type ComputeSettings,
  type ContractError,
  type CrsInfo,
  type LayerSpec,
  type OpenedProject,
  type Params,
  type ProjectDocument,
  type RasterLayerSpec,
  type RequestName,
  type Requests,
  type Result,
  type VectorLayerSpec,
  type VectorStyle,
} from './contract.ts';

/** A service the request needs is not part of this build (yet), or not available on this host. */
export class NotAvailableError extends WorkbenchError {}

/** Every request, implemented: what the Electron IPC handlers and the WebSocket host call. */
export type Handlers = { [K in RequestName]: (params: Params<K>) => Promise<Result<K>> };

export interface HandlerOptions {
  /** Per-user data folder: recent projects, the generated demo survey, autosaves of unsaved projects. */
  readonly dataDir: string;
  readonly host: 'electron' | 'browser';
  readonly emit: EmitFn;
  /** Native file dialog (Electron only). */
  readonly pickPaths?: (p: Params<'pickPaths'>) => Promise<readonly string[] | null>;
  /** Extra version strings shown in Help → About (electron, chrome, backend…). */
  readonly versions?: Readonly<Record<string, string>>;
  /** Seed of the generated demo survey. @default DEMO_SEED */
  readonly demoSeed?: number;
  /** Quiet period before an autosave copy is written. @default 2000 */
  readonly autosaveDelayMs?: number;
}

const APP_VERSION = '0.1.0';

const ROLE_STYLES: Record<VectorLayerSpec['role'], VectorStyle> = {
  samples: { stroke: '#1f2937', fill: '#f59e0b', pointRadiusPx: 3, strokeWidthPx: 1 },
  faults: { stroke: '#dc2626', fill: 'rgba(220,38,38,0.2)', pointRadiusPx: 3, strokeWidthPx: 2 },
  deposits: { stroke: '#111827', fill: '#facc15', pointRadiusPx: 6, strokeWidthPx: 1.5 },
  sites: { stroke: '#065f46', fill: '#34d399', pointRadiusPx: 5, strokeWidthPx: 1.5 },
  other: { stroke: '#1d4ed8', fill: 'rgba(29,78,216,0.25)', pointRadiusPx: 4, strokeWidthPx: 1.5 },
};

function guessRole(path: string): VectorLayerSpec['role'] {
  const n = basename(path).toLowerCase();
  if (/fault|lineament/.test(n)) return 'faults';
  if (/deposit|occurrence|mine/.test(n)) return 'deposits';
  if (/site|label|train/.test(n)) return 'sites';
  if (/sample|geochem|survey/.test(n)) return 'samples';
  return 'other';
}

const crsInfo = (c: Crs | null): CrsInfo | null => (c ? { epsg: c.epsg, proj4: c.proj4, name: c.name, geographic: c.geographic } : null);

/** Serialises any thrown value for the contract. */
export function toContractError(e: unknown): ContractError {
  return serializeError(e);
}

/**
 * Lazily imports a module of the compute core. Services written after this file (or removed
 * from a slim build) answer NotAvailableError instead of breaking every other request.
 */
async function optionalImport<T>(specifier: string, service: string): Promise<T> {
  try {
    return (await import(specifier)) as T;
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === 'ERR_MODULE_NOT_FOUND' && String((e as Error).message).includes(specifier.replace(/^\.\.?\//, ''))) {
      throw new NotAvailableError(`${service} is not available in this build (module ${specifier} is missing).`, { service });
    }
    throw e;
  }
}

interface DemoModule {
  writeDemoSurvey(dir: string, options: { seed: number }): { samples: string; faults: string; deposits: string; truth: string; manifest: string };
}

/** The files a folder stack reader loads (main/io/geotiff-read.ts readStack). */
const RASTER_FILES = ['.tif', '.tiff'];

/**
 * Every path a request names is checked before a reader touches it (main/util/user-file.ts):
 * a regular file (symlinks resolved) or a folder of regular files, within the size limit of
 * the whole-file read that follows. A device, FIFO or huge file answers a named error instead
 * of filling memory or blocking the one event loop every window shares.
 */
const checkRaster = (path: string) => checkUserFileOrFolder(path, 'raster', RASTER_FILES);
const checkTable = (path: string) => checkUserFile(path, 'table');
const checkVector = (path: string) => checkUserFile(path, 'vector');

/** Seed of the bundled demo survey: every first start shows the same data. */
export const DEMO_SEED = 20260219;

let layerSeq = 0;
function layerId(name: string): string {
  layerSeq += 1;
  return `${name.replace(/[^A-Za-z0-9_-]+/g, '_')}-${Date.now().toString(36)}-${layerSeq}`;
}

/** Builds the request handlers; `jobs` and `autosaver` are exposed for shutdown and tests. */
export function createHandlers(options: HandlerOptions): { handlers: Handlers; jobs: JobManager; autosaver: Autosaver } {
  const { dataDir, emit } = options;
  const jobs = new JobManager(emit);
  const autosaver = new Autosaver({
    delayMs: options.autosaveDelayMs ?? 2000,
    onError: (e) => emit('log', { level: 'warn', message: `Autosave failed: ${serializeError(e).message}`, time: new Date().toISOString() }),
  });
  mkdirSync(dataDir, { recursive: true });

  // A few recently used stacks stay in memory: switching bands must not re-read the file.
  const stackCache = new Map<string, { mtimeMs: number; stack: Promise<RasterStack> }>();
  const getStack = async (source: string): Promise<RasterStack> => {
    const path = resolve(source);
    await checkRaster(path);
    const mtimeMs = existsSync(path) ? statSync(path).mtimeMs : -1;
    const hit = stackCache.get(path);
    if (hit && hit.mtimeMs === mtimeMs) return hit.stack;
    const stack = readStack(path);
    stack.catch(() => stackCache.delete(path));
    stackCache.set(path, { mtimeMs, stack });
    while (stackCache.size > 4) stackCache.delete(stackCache.keys().next().value as string);
    return stack;
  };

  const availableServices = async (): Promise<ComputeRequestName[]> => {
    const { COMMANDS } = await import('../commands/registry.ts');
    return COMPUTE_REQUESTS.filter((n) => COMMANDS.some((c) => c.name === n));
  };

  const rasterLayer = async (path: string): Promise<RasterLayerSpec> => {
    let bandNames: string[];
    if ((await checkRaster(path)).isDirectory) {
      bandNames = (await getStack(path)).bandNames;
    } else {
      const info = await readGeoTiffInfo(path);
      bandNames = info.bandNames;
    }
    const name = basename(path, extname(path));
    // Only where it says more than the file name (a plain file keeps its name; callers may rename).
    const readable = rasterDisplayName({ path, bandNames });
    return {
      kind: 'raster',
      id: layerId(name),
      name,
      ...(readable !== name ? { displayName: readable } : {}),
      source: path,
      visible: true,
      opacity: 1,
      bandNames,
      band: bandNames[0],
      style: { ramp: 'viridis', stretch: 'percentile', percentiles: [2, 98] },
    };
  };

  const vectorLayer = async (path: string, role?: VectorLayerSpec['role']): Promise<VectorLayerSpec> => {
    const { readVector } = await import('../io/vector.ts');
    await checkVector(path);
    await readVector(path);
    const r = role ?? guessRole(path);
    const name = basename(path, extname(path));
    return { kind: 'vector', id: layerId(name), name, source: path, visible: true, opacity: 1, role: r, style: ROLE_STYLES[r] };
  };

  const opened = (p: OpenedProject): OpenedProject => {
    if (p.path) touchRecentProject(dataDir, p.path, p.document.name);
    // Runs carry readable names (util/display-names.ts) for the jobs list; a user's name is kept.
    return { ...p, document: { ...p.document, runs: withRunDisplayNames(p.document.runs) } };
  };

  const openDemo = async (): Promise<OpenedProject> => {
    const demoDir = join(dataDir, 'demo-survey');
    const projectPath = join(demoDir, `demo-survey${PROJECT_EXTENSION}`);
    if (existsSync(projectPath)) return opened(loadProject(projectPath));
    const demo = await optionalImport<DemoModule>('../demo/demo-survey.ts', 'The demo survey generator');
    const files = demo.writeDemoSurvey(demoDir, { seed: options.demoSeed ?? DEMO_SEED });
    const manifest = JSON.parse(readFileSync(files.manifest, 'utf8')) as { crs: string; xColumn: string; yColumn: string };
    const truth = await rasterLayer(files.truth);
    const samples = await handlers.importLayer({ kind: 'samples', path: files.samples, table: { x: manifest.xColumn, y: manifest.yColumn, crs: manifest.crs } });
    // Bottom to top: the raster, fault lines, sample points, deposits.
    const layers: LayerSpec[] = [
      { ...truth, name: 'Anomaly (true, synthetic)' },
      { ...(await vectorLayer(files.faults, 'faults')), name: 'Faults' },
      { ...samples, name: 'Samples', visible: true },
      { ...(await vectorLayer(files.deposits, 'deposits')), name: 'Deposits' },
    ];
    const doc: ProjectDocument = { ...emptyProject('Demo survey', crsInfo(parseCrs(manifest.crs))), layers };
    saveProject(projectPath, doc);
    return opened(loadProject(projectPath));
  };

  /** The full queue URL: in this process's memory only (see ComputeSettings). */
  let queueUrl: string | null = null;
  const computeSettings = (): ComputeSettings => ({ mode: queueUrl ? 'queue' : 'local', queueUrl: queueUrl ? redactQueueUrl(queueUrl) : null, queueRequests: [...QUEUE_REQUESTS] });

  const compute = (name: ComputeRequestName) => async (p: Params<'krige'>) => {
    if (!(await availableServices()).includes(name)) {
      throw new NotAvailableError(`The ${name} service is not available in this build (no "geoanomaly ${name}" command).`, { service: name });
    }
    const argv = toArgv(p);
    // Settings → Compute: a queue URL set in this session runs the queue-capable commands through
    // it (unless the request names its own --queue). Only argv carries it, never the request the
    // renderer records in the project's runs, and the commands print it redacted.
    if (queueUrl && (QUEUE_REQUESTS as readonly string[]).includes(name) && p.options.queue === undefined) argv.push('--queue', queueUrl);
    const viaQueue = argv.includes('--queue');
    const grace = viaQueue ? QUEUE_CANCEL_GRACE_MS : undefined;
    // krige, train, predict: the workflow itself in a worker (main/workflows), typed result; the others run their command.
    if (isWorkflowName(name)) return { jobId: jobs.start(name, (ctx) => runWorkflowJob(name, withQueue(p, queueUrl && viaQueue && p.options.queue === undefined ? queueUrl : null), ctx, grace)) };
    return { jobId: jobs.start(name, (ctx) => runCommandInWorker(name, argv, ctx, grace)) };
  };


  const handlers: Handlers = {
    ...createStudyHandlers({ dataDir, autosaver }),
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
    async previewTable(p) {
      const { readTableCells } = await import('../io/table.ts');
      await checkTable(p.path);
      const { header, rows } = await readTableCells(p.path);
      const find = (re: RegExp): string | null => header.find((h) => re.test(h)) ?? null;
      return {
        path: p.path,
        columns: header,
        rows: rows.slice(0, 5).map((r) => (r as unknown[]).map((c) => String(c ?? ''))),
        guessX: find(/^(x|east(ing)?|utm_?e|lon(gitude)?)$/i),
        guessY: find(/^(y|north(ing)?|utm_?n|lat(itude)?)$/i),
      };
    },
    async importLayer(p) {
      if (!existsSync(p.path)) throw new InvalidFileError(p.path, 'file not found', 'Check the path');
      if (p.kind === 'raster') return rasterLayer(p.path);
      if (p.kind === 'vector') return vectorLayer(p.path, p.role);
      const { readSampleTable } = await import('../io/table.ts');
      await checkTable(p.path);
      const table = await readSampleTable(p.path, { x: p.table.x, y: p.table.y, crs: parseCrs(p.table.crs) });
      const name = basename(p.path, extname(p.path));
      const layer: VectorLayerSpec = {
        kind: 'vector',
        id: layerId(name),
        name: `${name} (${table.rowCount} samples)`,
        source: p.path,
        visible: true,
        opacity: 1,
        role: 'samples',
        style: ROLE_STYLES.samples,
        table: p.table,
      };
      return layer;
    },
    async getRasterBand(p) {
      const stack = await getStack(p.source);
      const i = stack.bandNames.indexOf(p.band);
      if (i < 0) throw new InvalidOptionError(`${p.source} has no band "${p.band}" (bands: ${stack.bandNames.join(', ')})`, { source: p.source, band: p.band });
      const g = stack.grid;
      return {
        source: p.source,
        band: p.band,
        grid: { originX: g.originX, originY: g.originY, cellSizeX: g.cellSizeX, cellSizeY: g.cellSizeY, rows: g.rows, cols: g.cols, crs: crsInfo(g.crs) },
        values: stack.bands[i],
        unit: stack.units?.[i] ?? null,
      };
    },
    async getVectorData(p) {
      const targetCrs = p.targetCrs ? parseCrs(p.targetCrs) : undefined;
      if (p.table) {
        const { readSampleTable } = await import('../io/table.ts');
        await checkTable(p.source);
        const t = await readSampleTable(p.source, { x: p.table.x, y: p.table.y, crs: parseCrs(p.table.crs), targetCrs });
        const features = Array.from({ length: t.rowCount }, (_, i) => ({
          type: 'Feature' as const,
          geometry: { type: 'Point' as const, coordinates: [t.x[i], t.y[i]] },
          properties: Object.fromEntries([
            ...Object.entries(t.attributes).map(([k, v]) => [k, v[i]]),
            ...t.columns.map((c) => [c, Number.isFinite(t.values[c][i]) ? t.values[c][i] : null]),
          ]),
        }));
        return { source: p.source, crs: crsInfo(t.crs), geojson: { type: 'FeatureCollection', features } };
      }
      const { readVector } = await import('../io/vector.ts');
      await checkVector(p.source);
      let reprojected: string | null = null;
      const v = await readVector(p.source, { targetCrs, log: (m) => (reprojected = m) });
      return { source: p.source, crs: crsInfo(v.crs), geojson: { type: 'FeatureCollection', features: v.features }, reprojected };
    },
    async pickPaths(p) {
      if (!options.pickPaths) {
        throw new NotAvailableError('The browser host has no native file dialog: type the path of the file on the machine running "geoanomaly serve".', { host: options.host });
      }
      return options.pickPaths(p);
    },
    krige: compute('krige'),
    faults: compute('faults'),
    sites: compute('sites'),
    train: compute('train'),
    predict: compute('predict'),
    explain: compute('explain'),
    evaluate: compute('evaluate'),
    xrf: compute('xrf'),
    rpca: compute('rpca'),
    layout: compute('layout'),
    report: compute('report'),
    async cancelJob(p) {
      return { cancelled: jobs.cancel(p.jobId) };
    },
    async listJobs() {
      return jobs.list();
    },
    async krigeVariogram(p) {
      const { variogramPreview } = await import('./kriging-requests.ts');
      return variogramPreview(p);
    },
    async xrfSyntheticSample(p) {
      const { writeSyntheticXrfSample } = await import('./xrf-requests.ts');
      return writeSyntheticXrfSample(dataDir, p);
    },
    async xrfCubeInfo(p) {
      const { xrfCubeInfo } = await import('./xrf-requests.ts');
      return xrfCubeInfo(p.path, p.dataset);
    },
    async xrfComposite(p) {
      const { xrfComposite } = await import('./xrf-requests.ts');
      return xrfComposite(p.path, p.bands, p.percentiles, p.dataset);
    },
    async xrfPixelSpectrum(p) {
      const { xrfPixelSpectrum } = await import('./xrf-requests.ts');
      return xrfPixelSpectrum(p);
    },
    async xrfRegionSpectrum(p) {
      const { xrfRegionSpectrum } = await import('./xrf-requests.ts');
      return xrfRegionSpectrum(p);
    },
    async xrfElementMap(p) {
      const { xrfElementMap } = await import('./xrf-requests.ts');
      return xrfElementMap(p);
    },
    async xrfExportSpectra(p) {
      const { xrfExportSpectra } = await import('./xrf-requests.ts');
      return xrfExportSpectra(p);
    },
    async readJsonResult(p) {
      const { readJsonResult } = await import('./kriging-requests.ts');
      return readJsonResult(p.path);
    },
    async exportRaster(p) {
      const { exportRasterRequest } = await import('./export-requests.ts');
      return exportRasterRequest(p);
    },
    async exportSites(p) {
      const { exportSitesRequest } = await import('./export-requests.ts');
      return exportSitesRequest(p);
    },
    async exportMetricsCsv(p) {
      const { exportMetricsCsvRequest } = await import('./export-requests.ts');
      return exportMetricsCsvRequest(p);
    },
    async explainSite(p) {
      const { explainSite } = await import('./explain-requests.ts');
      return explainSite(p);
    },
    async getComputeSettings() {
      return computeSettings();
    },
    async setComputeSettings(p) {
      if (p.mode === 'local') queueUrl = null;
      else if (p.mode === 'queue' && typeof p.queueUrl === 'string') queueUrl = parseQueueUrl(p.queueUrl.trim()).url;
      else throw new InvalidOptionError('setComputeSettings: mode must be "local", or "queue" with a queueUrl (redis://[:PASSWORD@]HOST:PORT[/DB] or rediss://)');
      return computeSettings();
    },
    async runInsight(p) {
      const { runInsight } = await import('./run-insight-requests.ts');
      return runInsight(p.runDir);
    },
    async attributeSite(p) {
      const { attributeSite } = await import('./run-insight-requests.ts');
      return attributeSite(p);
    },
    async describeRun(p) {
      const { describeRun } = await import('./explain-requests.ts');
      return describeRun(p.runDir);
    },
    async readSites(p) {
      const { readSiteCentres } = await import('./site-requests.ts');
      return { sites: await readSiteCentres(p.path, p.gridSource) };
    },
    async writeSites(p) {
      const { writeSiteCentres } = await import('./site-requests.ts');
      return writeSiteCentres(p.path, p.gridSource, p.sites, p.blockRadius ?? 1, p.replace === true);
    },
  };
  return { handlers, jobs, autosaver };
}

export type DispatchResult = { ok: true; result: unknown } | { ok: false; error: ContractError };

/**
 * Validates a request coming from outside (IPC or WebSocket) and runs it. Unknown names and
 * non-object params are rejected here, so handlers only ever see well-formed calls.
 */
export async function dispatch(handlers: Handlers, name: unknown, params: unknown): Promise<DispatchResult> {
  try {
    if (!isRequestName(name)) throw new InvalidOptionError(`unknown request ${JSON.stringify(name)}`, { name });
    if (params === null || typeof params !== 'object' || Array.isArray(params)) {
      throw new InvalidOptionError(`request ${name} needs one params object, got ${params === null ? 'null' : typeof params}`, { name });
    }
    if (isComputeRequest(name)) {
      const o = (params as { options?: unknown }).options;
      if (o === null || typeof o !== 'object' || Array.isArray(o)) throw new InvalidOptionError(`request ${name} needs params.options (the command's flags)`, { name });
    }
    const fn = handlers[name] as (p: unknown) => Promise<unknown>;
    return { ok: true, result: await fn(params) };
  } catch (e) {
    return { ok: false, error: toContractError(e) };
  }
}

export type { Requests };
