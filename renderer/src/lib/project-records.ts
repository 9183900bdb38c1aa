import type { ComputeJobRequest, ComputeRequestName, ProjectDocument, RunRecord, SiteSetSpec } from '../../../main/api/contract.ts';
import { recordedTrainRun, type RunContext } from '../../../main/util/display-names.ts';

/**
 * What the project file keeps of the session's work: finished compute jobs as `runs` and the
 * digitized sites as a sites GeoJSON next to the project, referenced in `sites`. Pure functions
 * (no Svelte, no contract calls), unit-tested in tests/renderer/project-records.test.ts.
 */

/** Flags of the `geoanomaly` commands that name files or folders the command writes. */
export const OUTPUT_FLAGS = ['out', 'variance', 'cv', 'distance', 'weight', 'report'] as const;

/** Id of the one site set the Sites panel keeps with a project. */
export const DIGITIZED_SITES_ID = 'digitized-sites';

/** The outputs a finished job wrote, from its request's output flags, in OUTPUT_FLAGS order. */
export function runOutputs(request: ComputeJobRequest): string[] {
  return OUTPUT_FLAGS.flatMap((f) => {
    const v = request.options[f];
    return typeof v === 'string' && v !== '' ? [v] : [];
  });
}

export function runRecord(job: { readonly jobId: string; readonly kind: ComputeRequestName; readonly request: ComputeJobRequest; readonly startedAt: number; readonly endedAt: number | null }): RunRecord {
  return {
    id: job.jobId,
    kind: job.kind,
    startedAt: new Date(job.startedAt).toISOString(),
    finishedAt: new Date(job.endedAt ?? job.startedAt).toISOString(),
    request: job.request,
    outputs: runOutputs(job.request),
  };
}

/** The document with one more run (a run id already recorded is not added twice). */
export function withRun(doc: ProjectDocument, run: RunRecord): ProjectDocument {
  return doc.runs.some((r) => r.id === run.id) ? doc : { ...doc, runs: [...doc.runs, run] };
}

/** Where the digitized sites of the project at `projectPath` are saved: `<stem>.sites.geojson` beside it. */
export function sitesPathFor(projectPath: string): string {
  return `${projectPath.replace(/\.gaproj$/i, '')}.sites.geojson`;
}

/** The document's site sets with the digitized set replaced (or removed when `spec` is null); other sets stay. */
export function withSiteSet(doc: ProjectDocument, spec: SiteSetSpec | null): ProjectDocument {
  const others = doc.sites.filter((s) => s.id !== DIGITIZED_SITES_ID);
  return { ...doc, sites: spec ? [...others, spec] : others };
}

/** The training run folder of a recorded run, or null when it is not a training run. */
export function trainingRunDir(run: RunRecord): string | null {
  const out = run.request.options.out;
  return run.kind === 'train' && typeof out === 'string' ? out : null;
}

/**
 * How a prediction of the run folder `runDir` is named: the Jobs panel's title ("Prediction maps:
 * Training run 3: CNN (5-fold × 3)") and the run its layer names ("CNN probability (run 3,
 * 5-fold)"), from the project's record of the run; a folder the project did not record keeps
 * the plain title and the names its files give.
 */
export function predictionNaming(doc: ProjectDocument | null, runDir: string, title: string): { readonly title: string; readonly run?: RunContext } {
  const recorded = doc ? recordedTrainRun(doc.runs, runDir) : null;
  return recorded ? { title: `${title}: ${recorded.displayName}`, run: recorded.context } : { title };
}
