import type { ProjectDocument, SampleTableMapping, SiteCentre } from '../api/contract.ts';

/**
 * The guided study as the project file keeps it (issue #18): types only, no Node imports, so the
 * contract and the renderer can import them. The logic lives in study-steps.ts.
 */

/** The seven steps of a guided study, in the order the wizard walks them. */
export const STUDY_STEP_IDS = ['table', 'kriging', 'faults', 'sites', 'training', 'compare', 'report'] as const;
export type StudyStepId = (typeof STUDY_STEP_IDS)[number];

/** The raw files a study starts from (absolute in memory, relative to the project when saved). */
export interface StudyInputs {
  /** Sample table: CSV, XLSX or GeoPackage. */
  readonly samples: string | null;
  readonly faults: string | null;
  readonly deposits: string | null;
  /** An existing evidence stack (GeoTIFF), used as the grid and extra evidence; optional. */
  readonly stack: string | null;
}

/** One file a step read, with its SHA-256 when the step ran. */
export interface StepInputRecord {
  /** What the file is to the step ("samples", "faults", "stack", …). */
  readonly role: string;
  readonly path: string;
  readonly sha256: string;
}

/** Option values as the step's command took them (flags of the `geoanomaly` command). */
export type StepOptionValue = string | number | boolean;

/** What one finished step did: inputs with hashes, options, outputs and when. */
export interface StudyStepRecord {
  readonly step: StudyStepId;
  readonly inputs: readonly StepInputRecord[];
  readonly options: Readonly<Record<string, StepOptionValue>>;
  readonly outputs: readonly string[];
  readonly startedAt: string;
  readonly finishedAt: string;
  /** finishedAt of each upstream step's record this run consumed: a rerun upstream makes this one stale. */
  readonly upstream: Readonly<Partial<Record<StudyStepId, string>>>;
  /** Id of the run in the project's `runs` list, when the step was a compute job. */
  readonly runId?: string;
}

export interface StudyState {
  readonly inputs: StudyInputs;
  /** The latest record of each step that has run. */
  readonly steps: Readonly<Partial<Record<StudyStepId, StudyStepRecord>>>;
  /** The step the wizard showed last (reopening the project returns to it). */
  readonly current: StudyStepId;
}

/**
 * never-run: no record; done: the record matches its inputs and upstream; stale: an input's hash
 * changed, an input is gone, or an upstream step is stale, not run or reran since.
 */
export type StepStatusKind = 'never-run' | 'done' | 'stale';

export interface StepStatus {
  readonly step: StudyStepId;
  readonly status: StepStatusKind;
  /** Why it is stale or not run, in words a person reads ("faults.geojson changed since the step ran"). */
  readonly reasons: readonly string[];
}

/** A finished step as the wizard reports it (recordStep hashes the inputs). */
export interface StepRun {
  readonly step: StudyStepId;
  readonly inputs: readonly { readonly role: string; readonly path: string }[];
  readonly options?: Readonly<Record<string, StepOptionValue>>;
  readonly outputs?: readonly string[];
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly runId?: string;
}


export interface ElementSummary {
  readonly name: string;
  readonly unit: string | null;
  /** Finite values (censored ones included, substituted). */
  readonly count: number;
  readonly censored: number;
  readonly missing: number;
  readonly min: number;
  readonly max: number;
  /** Whether histogram and probability plot are of log10 values. */
  readonly log10: boolean;
  /** Bin edges (bins + 1), in the plotted scale (log10 or raw), as numpy.histogram. */
  readonly edges: readonly number[];
  readonly counts: readonly number[];
  /** Normal quantiles of the plotting positions (scipy.stats.probplot's "osm"). */
  readonly quantiles: readonly number[];
  /** The sorted values in the plotted scale ("osr"). */
  readonly sorted: readonly number[];
}

export interface TableSummary {
  readonly path: string;
  readonly rows: number;
  readonly duplicateLocations: number;
  /** Bounding box of the sample coordinates [xmin, ymin, xmax, ymax] (the wizard's default kriging cell is a fraction of it). */
  readonly extent: readonly [number, number, number, number];
  readonly elements: readonly ElementSummary[];
}


/** The digitized sites as the renderer holds them, for the autosave to write beside the project. */
export interface SessionSites {
  /** The raster the sites snap to (its grid expands each centre into a block). */
  readonly gridSource: string;
  readonly gridLayerId: string;
  readonly centres: readonly SiteCentre[];
}

/**
 * The study requests (main/api/study-requests.ts), merged into the contract's Requests. Types
 * only, so the renderer can import them.
 */
export interface StudyRequests {
  /**
   * Autosave of everything the user made: the document (layers and their styles, runs, study)
   * and, when given, the digitized sites, written to a new sites file beside the autosave copy
   * that the copy then references. Old-or-new holds for the pair: the previous sites file is
   * removed only after the copy naming the new one is in place.
   */
  autosaveSession: (p: { readonly path: string | null; readonly document: ProjectDocument; readonly sites?: SessionSites }) => { readonly path: string; readonly sitesPath: string | null };
  /** Status of every study step (inputs hashed now) and the stale steps in run order. */
  studyStatus: (p: { readonly study: StudyState }) => { readonly statuses: readonly StepStatus[]; readonly stale: readonly StudyStepId[] };
  /** The study with one finished step recorded (inputs hashed, upstream stamps noted). */
  recordStudyStep: (p: { readonly study: StudyState; readonly run: StepRun }) => StudyState;
  /** Step 1: per element unit, counts, histogram and probability plot (main/project/table-summary.ts). */
  studyTableSummary: (p: { readonly path: string; readonly table: SampleTableMapping; readonly bins?: number }) => TableSummary;
}

export const STUDY_REQUEST_NAMES = ['autosaveSession', 'studyStatus', 'recordStudyStep', 'studyTableSummary'] as const satisfies readonly (keyof StudyRequests)[];
