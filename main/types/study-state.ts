/**
 * The guided study as the project file keeps it (issue #18): the `study` member of the project
 * document. Types (and the step list) only, with no imports, so that the document types
 * (project-document.ts) sit in this low layer; the study's requests and the wizard's types stay
 * in main/project/study-types.ts, which re-exports these.
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
