/**
 * The one typed contract between the workbench UI and its backend.
 *
 * Every request the renderer can make and every event the backend can push is declared here,
 * once. The Electron preload (ipcRenderer.invoke) and the browser host (WebSocket) both carry
 * exactly these maps, so the renderer cannot tell them apart and the browser tests drive the
 * real contract. Payloads are plain structured-clone data (objects, arrays, numbers, strings,
 * typed arrays); errors cross as `{ name, message, details }`.
 *
 * Long computations (krige, faults, sites, train, predict, explain, evaluate, xrf, rpca) return a
 * job id at once, stream `jobProgress`, end with `jobDone` or `jobFailed`, and accept
 * `cancelJob`.
 *
 * This file is imported by the renderer too (type-only), so it must not import Node modules.
 */

import type { ProgressDetail } from '../jobs/progress-detail.ts';
import { STUDY_REQUEST_NAMES, type StudyRequests } from '../project/study-types.ts';
import type { AttributeSiteParams, RunInsight, RunInsightParams, SiteAttribution } from './run-insight-contract.ts';
import {
  COMPUTE_REQUESTS,
  type ComputeJobRequest,
  type ComputeRequestName,
  type CrsInfo,
  type LayerSpec,
  type OpenedProject,
  type ProjectDocument,
  type RecentProject,
  type SampleTableMapping,
  type VectorLayerSpec,
} from '../types/project-document.ts';
import type { WorkflowJobResult } from '../workflows/workflow-results.ts';
import type { SiteExplanation } from '../workflows/explain-result.ts';

export type * from '../workflows/workflow-results.ts';
export type * from '../workflows/explain-result.ts';

// The project document's types live in main/types/ (below project/, which reads and writes the
// document); they are part of the contract as they are, so the renderer imports them from here.
export {
  COMPUTE_REQUESTS,
  type ColorRampName,
  type ComputeJobRequest,
  type ComputeRequestName,
  type CrsInfo,
  type LayerSpec,
  type MapViewState,
  type OpenedProject,
  type ProjectDocument,
  type RasterLayerSpec,
  type RasterStyle,
  type RecentProject,
  type RunRecord,
  type SampleTableMapping,
  type SiteSetSpec,
  type StretchKind,
  type VectorLayerSpec,
  type VectorStyle,
} from '../types/project-document.ts';

export interface GridInfo {
  readonly originX: number;
  readonly originY: number;
  readonly cellSizeX: number;
  readonly cellSizeY: number;
  readonly rows: number;
  readonly cols: number;
  readonly crs: CrsInfo | null;
}

/** Error as it crosses the contract. `name` is the class name (InvalidFileError, CrsError, …). */
export interface ContractError {
  readonly name: string;
  readonly message: string;
  readonly details: Record<string, unknown>;
}

// ---------------------------------------------------------------------------------------------
// Projects and layers (the document's types: main/types/project-document.ts, re-exported above)

export interface BandData {
  readonly source: string;
  readonly band: string;
  readonly grid: GridInfo;
  /** Row-major, NaN = nodata. */
  readonly values: Float32Array;
  readonly unit: string | null;
}

export interface FeatureCollectionData {
  readonly type: 'FeatureCollection';
  readonly features: readonly unknown[];
}

export interface VectorData {
  readonly source: string;
  readonly crs: CrsInfo | null;
  readonly geojson: FeatureCollectionData;
  /** "reprojected FILE from EPSG:A to EPSG:B (n features)" when the layer was reprojected into targetCrs (shown in the app's log). */
  readonly reprojected?: string | null;
}

export type ImportRequest =
  | { readonly kind: 'raster'; readonly path: string }
  | { readonly kind: 'vector'; readonly path: string; readonly role?: VectorLayerSpec['role'] }
  | { readonly kind: 'samples'; readonly path: string; readonly table: SampleTableMapping };

export interface TablePreview {
  readonly path: string;
  readonly columns: readonly string[];
  /** First rows, as text. */
  readonly rows: readonly (readonly string[])[];
  /** Best guesses for the X / Y columns, or null. */
  readonly guessX: string | null;
  readonly guessY: string | null;
}

export interface AppInfo {
  readonly name: string;
  readonly version: string;
  /** 'electron' in the desktop app, 'browser' under `geoanomaly serve`. */
  readonly host: 'electron' | 'browser';
  readonly versions: Readonly<Record<string, string>>;
  /** Compute requests whose service exists in this build. */
  readonly availableServices: readonly ComputeRequestName[];
  readonly dataDir: string;
}

// ---------------------------------------------------------------------------------------------
// Long jobs

export interface JobStarted {
  readonly jobId: string;
}

export interface JobResult {
  readonly exitCode: number;
  /** Lines the command printed to stdout (summaries, output paths). */
  readonly lines: readonly string[];
  /** Every registered workflow's job: its typed result (main/workflows/workflow-results.ts), so nothing is parsed from `lines`. */
  readonly workflow?: WorkflowJobResult;
}

export interface JobInfo {
  readonly jobId: string;
  readonly kind: string;
  readonly state: 'running' | 'done' | 'failed' | 'cancelled';
  readonly fraction: number;
  readonly message: string;
}

// ---------------------------------------------------------------------------------------------
// Training sites as the Sites panel edits them

/**
 * One site as the Sites panel edits it: the centre of a block (3×3 cells by default), at the
 * centre of its grid cell, in the CRS of the grid layer. The backend expands centres into
 * blocks (main/sites/site-blocks.ts) when it writes the sites GeoJSON of main/sites/sites-geojson.ts.
 */
// Defined in sites/ (export/ writes them too, below the API); part of the contract as they are.
import type { SiteCentre, SitesWritten } from '../sites/site-centre-types.ts';
export type { SiteCentre, SitesWritten };

// ---------------------------------------------------------------------------------------------
// Kriging preview

/** Experimental variogram of one sample column with the model krige would fit (or the one given). */
export interface VariogramPreview {
  readonly field: string;
  /** True when the values were log-transformed first (`krige --log`). */
  readonly log: boolean;
  readonly pointCount: number;
  /** Non-empty lag bins: mean pair distance (m), semivariance, pair count. */
  readonly distM: readonly number[];
  readonly gamma: readonly number[];
  readonly np: readonly number[];
  readonly cutoffM: number;
  readonly model: { readonly type: string; readonly nugget: number; readonly psill: number; readonly rangeM: number };
  /** gstat-style spec, accepted by `krige --variogram` ("sph:0.05:0.59:897"). */
  readonly spec: string;
  /** True when fitted here; false when the caller fixed the model. */
  readonly fitted: boolean;
  /** Weighted SSE of the fit (null for a fixed model). */
  readonly sse: number | null;
  /** The model's semivariance on a regular distance grid from 0 to the cutoff, for drawing. */
  readonly curveDistM: readonly number[];
  readonly curveGamma: readonly number[];
}

// ---------------------------------------------------------------------------------------------
// Per-site interpretability (Compare view)

export interface ExplainSiteParams {
  readonly runDir: string;
  /** Map coordinates (the stack's CRS) of the clicked site; its cell's window is explained. */
  readonly x: number;
  readonly y: number;
  /** Element stack; default: the stack named in the run's manifest. */
  readonly stack?: string;
  /** Layer (e.g. conv1, dcn2); default: each model's last spatial layer (Grad-CAM) and first deformable layer (offsets). */
  readonly layer?: string;
  /** Class explained: 1 deposit (default), 0 non-deposit. */
  readonly classIndex?: number;
}

// ModelSiteExplanation and SiteExplanation: the explain workflow's typed result (main/workflows/explain-result.ts, re-exported above).

export interface RunDescription {
  readonly runDir: string;
  readonly models: readonly string[];
  readonly stack: string | null;
  readonly sites: string | null;
  readonly window: number | null;
}

// ---------------------------------------------------------------------------------------------
// Export for reports (main/export, main/api/export-requests.ts)

export interface RasterExported {
  readonly path: string;
  readonly bandNames: readonly string[];
  readonly rows: number;
  readonly cols: number;
}

export interface SitesExported extends SitesWritten {
  readonly format: 'geojson' | 'shapefile' | 'geopackage';
  /** Every file written (.shp, .shx, .dbf, .prj for a shapefile). */
  readonly files: readonly string[];
}


/** Compute requests whose command takes `--queue URL` (main/queue): they run through the queue when one is set. */
export const QUEUE_REQUESTS = ['predict', 'train', 'krige', 'xrf'] as const satisfies readonly ComputeRequestName[];

/**
 * Settings → Compute: where predict/train/krige/xrf jobs run. The queue URL may carry a password
 * (`redis://:PASS@host`): the backend keeps the full URL in its memory only (never in a project,
 * the settings, a log or an answer) and answers it redacted; after a restart the user sets it again.
 */
export interface ComputeSettings {
  readonly mode: 'local' | 'queue';
  /** The queue URL with its password replaced by `***`; null when local. */
  readonly queueUrl: string | null;
  /** The requests that run with `--queue` when mode is 'queue'. */
  readonly queueRequests: readonly ComputeRequestName[];
}

// ---------------------------------------------------------------------------------------------
// Micro-XRF panel (main/api/xrf-requests.ts)

/** The synthetic micro-XRF sample written as a cube TIFF and its truth mask TIFF. */
export interface XrfSyntheticFiles {
  readonly cube: string;
  readonly truth: string;
  readonly seed: number;
  readonly rows: number;
  readonly cols: number;
  readonly channels: number;
}

export interface XrfCubeInfo {
  readonly path: string;
  readonly rows: number;
  readonly cols: number;
  readonly bandCount: number;
  readonly bandNames: readonly string[];
  /** Anomaly pixels of the cube file's own truth map (.mat `map`), or null when it has none. */
  readonly ownTruthPixels: number | null;
  /** True when the cube has a CRS (map coordinates); false for lab images in pixel coordinates. */
  readonly georeferenced: boolean;
  readonly crsName: string | null;
  /** The channels' energy/wavelength (from the file or the band names), else channel numbers. */
  readonly axis: XrfAxis;
  readonly pixelSizeUm: number | null;
  /** The HDF5 dataset the cube was read from when one was given, else null. */
  readonly dataset: string | null;
}

/** Spectral axis of a cube for plots and CSV: `title` is e.g. "energy (keV)". */
export interface XrfAxis {
  readonly quantity: 'energy' | 'wavelength' | 'channel';
  readonly unit: string;
  readonly title: string;
  readonly values: readonly number[];
}

/** A clicked pixel: its spectrum, the background mean spectrum and its anomaly score. */
export interface XrfPixelSpectrum {
  readonly row: number;
  readonly col: number;
  readonly spectrum: readonly number[];
  readonly background: readonly number[];
  readonly backgroundPixels: number;
  readonly backgroundRule: 'score ≤ 95th percentile' | 'all pixels';
  /** The pixel's value in the given score map, or null when none was given. */
  readonly score: number | null;
  readonly axis: XrfAxis;
}

/** Mean spectrum of a brushed rectangle (rows and cols inclusive). */
export interface XrfRegionSpectrum {
  readonly rows: readonly [number, number];
  readonly cols: readonly [number, number];
  readonly pixelCount: number;
  readonly mean: readonly number[];
  readonly axis: XrfAxis;
}

/** One band as a map, row-major, with its value range. */
export interface XrfElementMap {
  readonly band: number;
  readonly name: string;
  readonly rows: number;
  readonly cols: number;
  readonly values: Float32Array;
  readonly min: number;
  readonly max: number;
}

export interface XrfSpectrumSeries {
  readonly label: string;
  readonly values: readonly number[];
}

export interface XrfSpectraCsv {
  readonly path: string;
  readonly rows: number;
  readonly columns: number;
}

/** Three bands of a cube, each stretched between two percentiles: RGBA bytes, row-major. */
export interface XrfComposite {
  readonly rows: number;
  readonly cols: number;
  readonly bands: readonly number[];
  readonly bandNames: readonly string[];
  readonly percentiles: readonly [number, number];
  /** Value range [low, high] mapped to 0…255 per channel (R, G, B). */
  readonly ranges: readonly (readonly [number, number])[];
  readonly rgba: Uint8ClampedArray;
}

// ---------------------------------------------------------------------------------------------
// The channel maps

/** Request name → (params) => result. Every request takes exactly one plain params object. */
export interface Requests extends StudyRequests {
  getAppInfo: (p: Record<string, never>) => AppInfo;
  newProject: (p: { readonly name?: string; readonly crs?: string }) => OpenedProject;
  /** Opens the bundled demo survey, generating it into the user data folder on first use. */
  openDemoProject: (p: Record<string, never>) => OpenedProject;
  openProject: (p: { readonly path: string }) => OpenedProject;
  /** Saves atomically; `path` omitted = the project's current path. */
  saveProject: (p: { readonly path: string; readonly document: ProjectDocument }) => { readonly path: string; readonly savedAt: string };
  /** Schedules an autosave copy next to the project (or in the data folder when unsaved); written once edits pause, and on shutdown. */
  autosaveProject: (p: { readonly path: string | null; readonly document: ProjectDocument }) => { readonly path: string };
  listRecentProjects: (p: Record<string, never>) => readonly RecentProject[];
  previewTable: (p: { readonly path: string }) => TablePreview;
  importLayer: (p: ImportRequest) => LayerSpec;
  getRasterBand: (p: { readonly source: string; readonly band: string }) => BandData;
  getVectorData: (p: { readonly source: string; readonly table?: SampleTableMapping; readonly targetCrs?: string }) => VectorData;
  /** Native file dialog; the browser host has none and answers NotAvailableError. */
  pickPaths: (p: { readonly title: string; readonly directory?: boolean; readonly save?: boolean; readonly extensions?: readonly string[] }) => readonly string[] | null;
  krige: (p: ComputeJobRequest) => JobStarted;
  faults: (p: ComputeJobRequest) => JobStarted;
  sites: (p: ComputeJobRequest) => JobStarted;
  train: (p: ComputeJobRequest) => JobStarted;
  predict: (p: ComputeJobRequest) => JobStarted;
  explain: (p: ComputeJobRequest) => JobStarted;
  evaluate: (p: ComputeJobRequest) => JobStarted;
  xrf: (p: ComputeJobRequest) => JobStarted;
  rpca: (p: ComputeJobRequest) => JobStarted;
  /** Map layout page (PNG/PDF) — `geoanomaly layout`. */
  layout: (p: ComputeJobRequest) => JobStarted;
  /** Training-run report (HTML/PDF) — `geoanomaly report`. */
  report: (p: ComputeJobRequest) => JobStarted;
  cancelJob: (p: { readonly jobId: string }) => { readonly cancelled: boolean };
  /** Settings → Compute (see ComputeSettings): the current mode and the redacted queue URL. */
  getComputeSettings: (p: Record<string, never>) => ComputeSettings;
  /** Sets local compute or a queue URL (checked: redis:// or rediss://); jobs started afterwards use it. */
  setComputeSettings: (p: { readonly mode: 'local' } | { readonly mode: 'queue'; readonly queueUrl: string }) => ComputeSettings;
  /** Reads a sites GeoJSON (or Shapefile) onto the grid of `gridSource`: one centre per block (siteId). */
  readSites: (p: { readonly path: string; readonly gridSource: string }) => { readonly sites: readonly SiteCentre[] };
  /**
   * Expands centres into blocks on the grid of `gridSource` and writes the sites GeoJSON atomically.
   * Only to .geojson/.json; an existing file only if it is a sites file or `replace` is true (the
   * user confirmed replacing it in a save dialog): main/api/sites-write-target.ts.
   */
  writeSites: (p: { readonly path: string; readonly gridSource: string; readonly sites: readonly SiteCentre[]; readonly blockRadius?: number; readonly replace?: boolean }) => SitesWritten;
  listJobs: (p: Record<string, never>) => readonly JobInfo[];
  /**
   * The experimental variogram of one column of a sample table and the model the `krige`
   * command fits to it (same duplicate merging, log transform and weighted least squares), or
   * a fixed `variogram` spec to draw against the same points ("refit" with edited parameters).
   */
  krigeVariogram: (p: {
    readonly samples: string;
    readonly table: SampleTableMapping;
    readonly field: string;
    readonly log?: boolean;
    readonly model?: 'auto' | 'sph' | 'exp' | 'gau';
    readonly variogram?: string;
  }) => VariogramPreview;
  /** Writes (once) the seeded synthetic micro-XRF sample into the data folder: cube and truth mask TIFFs. */
  xrfSyntheticSample: (p: { readonly seed?: number; readonly rows?: number; readonly cols?: number; readonly channels?: number }) => XrfSyntheticFiles;
  /** Size and band names of a micro-XRF cube (.mat, multi-band .tif, .csv, folder of element images). */
  xrfCubeInfo: (p: { readonly path: string; readonly dataset?: string }) => XrfCubeInfo;
  /** RGB composite of three bands (0-based indices), each stretched between two percentiles (default 2–98). */
  xrfComposite: (p: { readonly path: string; readonly dataset?: string; readonly bands: readonly [number, number, number]; readonly percentiles?: readonly [number, number] }) => XrfComposite;
  /** A pixel's spectrum, the background mean spectrum and (with `scoreTiff`, a run's score map) its anomaly score. */
  xrfPixelSpectrum: (p: { readonly path: string; readonly dataset?: string; readonly row: number; readonly col: number; readonly scoreTiff?: string }) => XrfPixelSpectrum;
  /** Mean spectrum of the rectangle between two pixel corners. */
  xrfRegionSpectrum: (p: { readonly path: string; readonly dataset?: string; readonly row0: number; readonly col0: number; readonly row1: number; readonly col1: number }) => XrfRegionSpectrum;
  /** One band (0-based) of a cube as a map: the viewer's per-element maps. */
  xrfElementMap: (p: { readonly path: string; readonly dataset?: string; readonly band: number }) => XrfElementMap;
  /** Writes spectra as CSV (band, axis value, one column per spectrum), atomically. */
  xrfExportSpectra: (p: { readonly path: string; readonly dataset?: string; readonly out: string; readonly spectra: readonly XrfSpectrumSeries[] }) => XrfSpectraCsv;
  /** A JSON result file a job wrote (CV summary, fault report, metrics); `.json` only, ≤ 20 MB. */
  readJsonResult: (p: { readonly path: string }) => unknown;
  /** A raster layer (all bands, or the chosen ones in that order) to one GeoTIFF, atomically. */
  exportRaster: (p: { readonly source: string; readonly bands?: readonly string[]; readonly path: string }) => RasterExported;
  /** Sites to `.geojson` (the sites format), `.gpkg` (GeoPackage, layer "sites") or `.shp` (ESRI Shapefile with .shx/.dbf/.prj), blocks expanded on `gridSource`. */
  exportSites: (p: { readonly path: string; readonly gridSource: string; readonly sites: readonly SiteCentre[]; readonly blockRadius?: number }) => SitesExported;
  /** A training run's metrics.json as CSV: one row per model × fold, then mean and sd rows. */
  exportMetricsCsv: (p: { readonly runDir: string; readonly path: string }) => { readonly path: string; readonly rows: number };
  /** Grad-CAM of every model of a saved run around one cell, and the offsets of its DCN models: the explain workflow at one point (main/workflows/explain.ts). */
  explainSite: (p: ExplainSiteParams) => SiteExplanation;
  /** A run folder's models and the stack / sites files its manifest names. */
  describeRun: (p: { readonly runDir: string }) => RunDescription;
  /** A run's learning curves, trust warnings, CV beside region hold-out, comparisons (main/api/run-insight-requests.ts). */
  runInsight: (p: RunInsightParams) => RunInsight;
  /** Per-element (occlusion) attribution of every network at one clicked cell's window (main/api/run-insight-requests.ts). */
  attributeSite: (p: AttributeSiteParams) => SiteAttribution;
}

export type MenuAction =
  | 'new-project'
  | 'open-project'
  | 'save-project'
  | 'save-project-as'
  | 'import-layer'
  | 'export-map'
  | 'undo'
  | 'redo'
  | 'about';

/** Event name → payload. */
export interface Events {
  /** `detail`: typed data beside the message (a learning-curve point per epoch); never parsed from `message`. */
  jobProgress: { readonly jobId: string; readonly fraction: number; readonly message: string; readonly detail?: ProgressDetail };
  jobDone: { readonly jobId: string; readonly result: JobResult };
  jobFailed: { readonly jobId: string; readonly error: ContractError };
  log: { readonly level: 'info' | 'warn' | 'error'; readonly message: string; readonly time: string };
  /** A native menu item was chosen (Electron only). */
  menu: { readonly action: MenuAction };
}

export type RequestName = keyof Requests;
export type EventName = keyof Events;
export type Params<K extends RequestName> = Parameters<Requests[K]>[0];
export type Result<K extends RequestName> = ReturnType<Requests[K]>;

export const REQUEST_NAMES: readonly RequestName[] = [
  'getAppInfo',
  'newProject',
  'openDemoProject',
  'openProject',
  'saveProject',
  'autosaveProject',
  'listRecentProjects',
  ...STUDY_REQUEST_NAMES,
  'previewTable',
  'importLayer',
  'getRasterBand',
  'getVectorData',
  'pickPaths',
  ...COMPUTE_REQUESTS,
  'cancelJob',
  'getComputeSettings',
  'setComputeSettings',
  'listJobs',
  'readSites',
  'writeSites',
  'krigeVariogram',
  'readJsonResult',
  'exportRaster',
  'exportSites',
  'exportMetricsCsv',
  'xrfSyntheticSample',
  'xrfCubeInfo',
  'xrfComposite',
  'xrfPixelSpectrum',
  'xrfRegionSpectrum',
  'xrfElementMap',
  'xrfExportSpectra',
  'explainSite',
  'describeRun',
  'runInsight',
  'attributeSite',
];

export const EVENT_NAMES: readonly EventName[] = ['jobProgress', 'jobDone', 'jobFailed', 'log', 'menu'];

/** IPC channel of a request / event (Electron); one prefix so the preload can whitelist. */
export const requestChannel = (name: RequestName): string => `workbench:req:${name}`;
export const eventChannel = (name: EventName): string => `workbench:evt:${name}`;

/**
 * What the preload exposes as `window.workbench` and what the WebSocket client implements:
 * a typed request function and an event subscription returning an unsubscribe function.
 */
export interface WorkbenchApi {
  request<K extends RequestName>(name: K, params: Params<K>): Promise<Result<K>>;
  on<E extends EventName>(name: E, listener: (payload: Events[E]) => void): () => void;
}

export function isRequestName(s: unknown): s is RequestName {
  return typeof s === 'string' && (REQUEST_NAMES as readonly string[]).includes(s);
}

export function isComputeRequest(s: string): s is ComputeRequestName {
  return (COMPUTE_REQUESTS as readonly string[]).includes(s);
}
