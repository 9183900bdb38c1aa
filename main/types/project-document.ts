/**
 * The project document as it is saved (`*.gaproj`) and as it crosses the contract: layers and
 * their styles, training-site sets, run records, the map view, the guided study and the compare
 * layout. Types (and the compute request names) only, with no Node imports, in the lowest layer:
 * main/project/ reads and writes these documents and main/api/contract.ts (which the renderer
 * imports) re-exports them, so project/ need not import the API above it.
 */

import type { StudyState } from './study-state.ts';
import type { CompareLayout } from './compare-layout.ts';

/** A coordinate reference system as it crosses the contract (see main/grid/crs.ts). */
export interface CrsInfo {
  readonly epsg: number | null;
  readonly proj4: string;
  readonly name: string;
  readonly geographic: boolean;
}

/** The app's compute requests (each runs the workflow or command of that name as a job). */
export const COMPUTE_REQUESTS = ['krige', 'faults', 'sites', 'train', 'predict', 'explain', 'evaluate', 'xrf', 'rpca', 'layout', 'report'] as const;
export type ComputeRequestName = (typeof COMPUTE_REQUESTS)[number];

/**
 * A compute job's input: the options of the matching `geoanomaly` command (flag name →
 * value) and its positional arguments. The app runs the same command code as the CLI, in a
 * worker thread, so a run in the app and on the command line give the same numbers.
 */
export interface ComputeJobRequest {
  readonly options: Readonly<Record<string, string | number | boolean | readonly string[]>>;
  readonly positionals?: readonly string[];
}

export type ColorRampName = 'viridis' | 'magma' | 'turbo' | 'greys' | 'rdylbu';
export type StretchKind = 'minmax' | 'percentile' | 'log';

export interface RasterStyle {
  readonly ramp: ColorRampName;
  readonly stretch: StretchKind;
  /** Percentile clip for the 'percentile' stretch, e.g. [2, 98]. */
  readonly percentiles: readonly [number, number];
}

export interface VectorStyle {
  /** CSS colour of strokes and point outlines. */
  readonly stroke: string;
  /** CSS colour of polygon and point fills. */
  readonly fill: string;
  readonly pointRadiusPx: number;
  readonly strokeWidthPx: number;
}

interface LayerBase {
  readonly id: string;
  /** File-derived name (may hold the app's timestamp); also the layer's handle in the UI and tests. */
  readonly name: string;
  /** The name a person reads ("GK-DCN probability (run 3, 5-fold)", main/util/display-names.ts), editable in the layer panel; absent = `name`. */
  readonly displayName?: string;
  /** Source path; relative to the project file's folder when saved inside a project. */
  readonly source: string;
  readonly visible: boolean;
  /** 0 … 1. */
  readonly opacity: number;
}

export interface RasterLayerSpec extends LayerBase {
  readonly kind: 'raster';
  /** Bands of the source (a multiband GeoTIFF or a folder of single-band GeoTIFFs). */
  readonly bandNames: readonly string[];
  /** The band shown. */
  readonly band: string;
  readonly style: RasterStyle;
}

export interface VectorLayerSpec extends LayerBase {
  readonly kind: 'vector';
  /** What the features are, for default styles and for the workflow (faults feed fault rings). */
  readonly role: 'samples' | 'faults' | 'deposits' | 'sites' | 'other';
  readonly style: VectorStyle;
  /** For sample tables: the column mapping used on import. */
  readonly table?: SampleTableMapping;
}

export type LayerSpec = RasterLayerSpec | VectorLayerSpec;

export interface SampleTableMapping {
  readonly x: string;
  readonly y: string;
  /** EPSG:N, proj4 or WKT of the table's coordinates. */
  readonly crs: string;
}

/** A training-site set kept with the project (see main/sites). */
export interface SiteSetSpec {
  readonly id: string;
  readonly name: string;
  readonly source: string;
  /** Id of the raster layer whose grid the sites were digitized on (restored as the Sites panel's grid). */
  readonly gridLayerId?: string;
}

/** One finished computation kept with the project (a kriging run, a training run, …). */
export interface RunRecord {
  readonly id: string;
  /** Readable name ("Training run 3: CNN, GK-DCN (5-fold × 2)", main/util/display-names.ts). */
  readonly displayName?: string;
  readonly kind: ComputeRequestName;
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly request: ComputeJobRequest;
  readonly outputs: readonly string[];
}

export interface MapViewState {
  readonly centerX: number;
  readonly centerY: number;
  /** Map units (CRS units) per screen pixel. */
  readonly resolution: number;
}

/** The project document as saved to disk (`*.gaproj`, JSON). */
export interface ProjectDocument {
  readonly format: 'geoanomaly-project';
  /** 1: before the guided study; 2: adds `study` (main/project/project-file.ts reads both, writes 2). */
  readonly version: 1 | 2;
  readonly name: string;
  readonly crs: CrsInfo | null;
  /** Draw order: first = bottom. */
  readonly layers: readonly LayerSpec[];
  readonly sites: readonly SiteSetSpec[];
  readonly runs: readonly RunRecord[];
  readonly view: MapViewState | null;
  /** The guided study (New study wizard): raw inputs and a record of each step (version 2). */
  readonly study?: StudyState;
  /** The Compare tab's layout: layer and band per pane, mode, swipe divider (main/project/compare-layout.ts). */
  readonly compare?: CompareLayout;
}

/** A project as the backend hands it to the UI: the document with absolute layer sources. */
export interface OpenedProject {
  /** Where it is saved; null for a new, never-saved project. */
  readonly path: string | null;
  readonly document: ProjectDocument;
}

export interface RecentProject {
  readonly path: string;
  readonly name: string;
  readonly openedAt: string;
}
