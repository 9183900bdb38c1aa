import { basename } from 'node:path';
import { existsSync } from 'node:fs';
import { InvalidOptionError } from '../errors.ts';
import { sha256File } from '../util/file-hash.ts';
import {
  STUDY_STEP_IDS,
  type StepInputRecord,
  type StepRun,
  type StepStatus,
  type StudyInputs,
  type StudyState,
  type StudyStepId,
  type StudyStepRecord,
} from './study-types.ts';

/**
 * The guided study's steps as a DAG, and which of them are stale (issue #18).
 *
 *   table → kriging ─┬→ faults ─┐
 *                    ├→ sites ──┼→ training → compare → report
 *                    └──────────┘                 ↑        │
 *                                      training ──┴────────┘
 *
 * Kriging makes the grid the fault-distance and site rasters are drawn on, so faults and sites
 * hang below it; training reads all three. A step is stale when a file it read has a different
 * SHA-256 now (or is gone), or when an upstream step is stale, not run, or ran again after it.
 * Staleness therefore flows down the DAG: a new faults file marks faults, training, compare and
 * report, never the table, kriging or sites.
 */

export const STEP_DEPENDENCIES: Readonly<Record<StudyStepId, readonly StudyStepId[]>> = {
  table: [],
  kriging: ['table'],
  faults: ['kriging'],
  sites: ['kriging'],
  training: ['kriging', 'faults', 'sites'],
  compare: ['training'],
  report: ['training', 'compare'],
};

export const STEP_TITLES: Readonly<Record<StudyStepId, string>> = {
  table: 'Sample table',
  kriging: 'Kriging',
  faults: 'Faults',
  sites: 'Training sites',
  training: 'Training',
  compare: 'Compare',
  report: 'Report',
};

/** STUDY_STEP_IDS is already a topological order of STEP_DEPENDENCIES (checked by the unit test). */
export const STEP_ORDER: readonly StudyStepId[] = STUDY_STEP_IDS;

export function emptyStudy(inputs: Partial<StudyInputs> = {}): StudyState {
  return { inputs: { samples: inputs.samples ?? null, faults: inputs.faults ?? null, deposits: inputs.deposits ?? null, stack: inputs.stack ?? null }, steps: {}, current: 'table' };
}

export function isStudyStepId(v: unknown): v is StudyStepId {
  return typeof v === 'string' && (STUDY_STEP_IDS as readonly string[]).includes(v);
}

/** Every step below `step` in the DAG (not including it), in step order. */
export function downstreamOf(step: StudyStepId): StudyStepId[] {
  const below = new Set<StudyStepId>();
  for (const s of STEP_ORDER) {
    if (STEP_DEPENDENCIES[s].some((d) => d === step || below.has(d))) below.add(s);
  }
  return STEP_ORDER.filter((s) => below.has(s));
}

/** Current SHA-256 of each path (null: the file is gone). */
export type CurrentHashes = ReadonlyMap<string, string | null>;

/**
 * Status of every step, in step order. Pure: the caller hashes the files (hashStudyInputs), so
 * this is unit-tested without touching the disk.
 */
export function stepStatuses(study: StudyState, hashes: CurrentHashes): StepStatus[] {
  const result = new Map<StudyStepId, StepStatus>();
  for (const step of STEP_ORDER) {
    const rec = study.steps[step];
    if (!rec) {
      result.set(step, { step, status: 'never-run', reasons: ['not run yet'] });
      continue;
    }
    const reasons: string[] = [];
    for (const input of rec.inputs) {
      const now = hashes.get(input.path);
      if (now === undefined) continue; // not hashed by the caller: no evidence either way
      if (now === null) reasons.push(`${basename(input.path)} (${input.role}) is gone`);
      else if (now !== input.sha256) reasons.push(`${basename(input.path)} (${input.role}) changed since the step ran`);
    }
    for (const dep of STEP_DEPENDENCIES[step]) {
      const depStatus = result.get(dep)!;
      const depRec = study.steps[dep];
      if (depStatus.status === 'never-run') reasons.push(`${STEP_TITLES[dep]} has not run`);
      else if (depStatus.status === 'stale') reasons.push(`${STEP_TITLES[dep]} is stale`);
      else if (depRec && rec.upstream[dep] !== depRec.finishedAt) reasons.push(`${STEP_TITLES[dep]} ran again since`);
    }
    result.set(step, { step, status: reasons.length > 0 ? 'stale' : 'done', reasons });
  }
  return STEP_ORDER.map((s) => result.get(s)!);
}

/**
 * "Run stale steps": the stale steps, in an order where every step comes after the steps it
 * depends on. Steps never run are not included (the wizard runs those one by one, with the user
 * choosing their options); a stale step's record keeps the options it ran with.
 */
export function staleSteps(statuses: readonly StepStatus[]): StudyStepId[] {
  const stale = new Set(statuses.filter((s) => s.status === 'stale').map((s) => s.step));
  return STEP_ORDER.filter((s) => stale.has(s));
}

/** Every distinct path the study's records read. */
export function recordedInputPaths(study: StudyState): string[] {
  const paths = new Set<string>();
  for (const step of STEP_ORDER) for (const i of study.steps[step]?.inputs ?? []) paths.add(i.path);
  return [...paths];
}

/** Hashes every recorded input (streamed, see util/file-hash.ts); a missing file hashes to null. */
export async function hashStudyInputs(study: StudyState, hash: (path: string) => Promise<string> = sha256File): Promise<Map<string, string | null>> {
  const out = new Map<string, string | null>();
  for (const p of recordedInputPaths(study)) out.set(p, existsSync(p) ? await hash(p) : null);
  return out;
}

/**
 * The study with the record of one finished step: inputs hashed now, upstream steps' finishedAt
 * noted. Only a step whose upstream steps have all run can be recorded (else its upstream
 * stamps would be meaningless).
 */
export async function recordStep(study: StudyState, run: StepRun, hash: (path: string) => Promise<string> = sha256File): Promise<StudyState> {
  const missing = STEP_DEPENDENCIES[run.step].filter((d) => !study.steps[d]);
  if (missing.length > 0) {
    throw new InvalidOptionError(`Study step "${run.step}" needs ${missing.map((m) => `"${m}"`).join(', ')} to have run first; run ${missing.map((m) => STEP_TITLES[m]).join(', ')} before ${STEP_TITLES[run.step]}`, { step: run.step, missing });
  }
  const inputs: StepInputRecord[] = [];
  for (const i of run.inputs) {
    if (!existsSync(i.path)) throw new InvalidOptionError(`Study step "${run.step}": its ${i.role} input ${i.path} does not exist; pick the file again`, { step: run.step, path: i.path });
    inputs.push({ role: i.role, path: i.path, sha256: await hash(i.path) });
  }
  const upstream: Partial<Record<StudyStepId, string>> = {};
  for (const d of STEP_DEPENDENCIES[run.step]) upstream[d] = study.steps[d]!.finishedAt;
  const record: StudyStepRecord = {
    step: run.step,
    inputs,
    options: { ...(run.options ?? {}) },
    outputs: [...(run.outputs ?? [])],
    startedAt: run.startedAt,
    finishedAt: run.finishedAt,
    upstream,
    ...(run.runId ? { runId: run.runId } : {}),
  };
  return { ...study, steps: { ...study.steps, [run.step]: record } };
}

/** The study with every path mapped (project-file.ts: relative on disk, absolute in memory). */
export function mapStudyPaths(study: StudyState, f: (path: string) => string): StudyState {
  const opt = (p: string | null): string | null => (p === null ? null : f(p));
  const steps: Partial<Record<StudyStepId, StudyStepRecord>> = {};
  for (const s of STEP_ORDER) {
    const r = study.steps[s];
    if (r) steps[s] = { ...r, inputs: r.inputs.map((i) => ({ ...i, path: f(i.path) })), outputs: r.outputs.map(f) };
  }
  const i = study.inputs;
  return { ...study, inputs: { samples: opt(i.samples), faults: opt(i.faults), deposits: opt(i.deposits), stack: opt(i.stack) }, steps };
}

/** Checks the `study` section of a parsed project file; returns the first problem, or null. */
export function studyProblem(value: unknown): string | null {
  if (value === null || typeof value !== 'object') return 'its "study" is not an object';
  const s = value as Record<string, unknown>;
  if (!isStudyStepId(s.current)) return `its study's current step is ${JSON.stringify(s.current)}, expected one of ${STUDY_STEP_IDS.join(', ')}`;
  const inputs = s.inputs as Record<string, unknown> | null;
  if (!inputs || typeof inputs !== 'object') return 'its study has no "inputs"';
  for (const k of ['samples', 'faults', 'deposits', 'stack']) {
    if (inputs[k] !== null && typeof inputs[k] !== 'string') return `its study input "${k}" must be a path or null`;
  }
  const steps = s.steps as Record<string, unknown> | null;
  if (!steps || typeof steps !== 'object') return 'its study has no "steps"';
  for (const [k, v] of Object.entries(steps)) {
    if (!isStudyStepId(k)) return `its study has an unknown step "${k}"`;
    const r = v as Record<string, unknown> | null;
    if (!r || typeof r !== 'object' || r.step !== k) return `its study step "${k}" is not a step record`;
    if (!Array.isArray(r.inputs) || !r.inputs.every((i) => i && typeof i === 'object' && typeof (i as StepInputRecord).path === 'string' && /^[0-9a-f]{64}$/.test((i as StepInputRecord).sha256))) {
      return `its study step "${k}" has inputs without a path and SHA-256`;
    }
    if (!Array.isArray(r.outputs) || typeof r.startedAt !== 'string' || typeof r.finishedAt !== 'string' || !r.upstream || typeof r.upstream !== 'object') return `its study step "${k}" lacks outputs or times`;
  }
  return null;
}
