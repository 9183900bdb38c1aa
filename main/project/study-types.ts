import type { ProjectDocument, SampleTableMapping } from '../types/project-document.ts';
import type { SiteCentre } from '../sites/site-centre-types.ts';
import type { StepOptionValue, StudyState, StudyStepId } from '../types/study-state.ts';
// The study state the project document holds lives in main/types/ (below project/); its names stay importable from here.
export { STUDY_STEP_IDS, type StepInputRecord, type StepOptionValue, type StudyInputs, type StudyState, type StudyStepId, type StudyStepRecord } from '../types/study-state.ts';

/**
 * The guided study (issue #18): step statuses, finished runs, table summaries and the study
 * requests; types only, no Node imports, so the contract and the renderer can import them. The
 * state the project file keeps is main/types/study-state.ts; the logic lives in study-steps.ts.
 */

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
