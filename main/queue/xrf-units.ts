import type { UnitsPerJob } from './batch-option.ts';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { JobContext } from '../jobs/job.ts';
import { writeFileAtomic } from '../util/atomic-write.ts';
import type { SpectralCube } from '../xrf/cube.ts';
import { runXrfMethod, runXrfWorkflow, type MethodMetrics, type XrfMethod, type XrfMethodParams, type XrfMethodResult, type XrfMethodRunner, type XrfWorkflowOptions } from '../xrf/workflow.ts';
import { hashInputs } from './input-hash.ts';
import { decodePlain, encodePlain } from './plain-codec.ts';
import { newRunId, runUnits } from './queue-client.ts';
import type { QueueUnit, UnitHandler } from './units.ts';

/**
 * micro-XRF through the queue: one unit per detector method of the run (msfa, rx, lrx, autoad),
 * each run by the local path's runXrfMethod (main/xrf/workflow.ts) on the normalised cube, which
 * travels once per run as a file on the shared storage (hashed). Seeds are the run seed in the
 * payload, never the worker's. The command assembles the results with runXrfWorkflow's own
 * output code (score maps, metrics.json, ROC, separability, all written atomically), so the
 * outputs are the local run's bytes except the timing fields of metrics.json.
 */
export interface XrfMethodPayload {
  readonly inputPath: string;
  readonly method: XrfMethod;
  readonly params: XrfMethodParams;
}

let cached: { path: string; cube: SpectralCube } | null = null;

/** Worker side of an 'xrf-method' unit: the result is { method, scores, extra, seconds } encoded exactly. */
export const runXrfMethodUnit: UnitHandler = async (payload, ctx) => {
  const p = payload as XrfMethodPayload;
  if (cached?.path !== p.inputPath) cached = { path: p.inputPath, cube: decodePlain<SpectralCube>(readFileSync(p.inputPath)) };
  const r = await runXrfMethod(cached.cube, p.method, p.params, ctx);
  return encodePlain(r);
};

export interface XrfQueueOptions {
  readonly url: string;
  /** Folder on the shared storage for the run's input and unit results (removed at the end). */
  readonly workDir: string;
  readonly log?: (line: string) => void;
  readonly attempts?: number;
  /** Methods per BullMQ job (RunUnitsOptions.batch). @default 1 */
  readonly batch?: UnitsPerJob;
}

/** A runXrfWorkflow method runner that sends each method to the queue as a unit. */
export function queueMethodRunner(queue: XrfQueueOptions): XrfMethodRunner {
  return async (x, methods, params, ctx) => {
    const runId = newRunId('xrf');
    const dir = join(resolve(queue.workDir), `.queue-${runId}`);
    mkdirSync(dir, { recursive: true });
    try {
      const inputPath = join(dir, 'input.json');
      // The truth mask is not an input of any detector; it stays with the command.
      writeFileAtomic(inputPath, encodePlain({ ...x, truth: null } satisfies SpectralCube));
      const inputs = await hashInputs([inputPath]);
      const units: QueueUnit<XrfMethodPayload>[] = methods.map((method, i) => ({
        runId,
        index: i,
        kind: 'xrf-method',
        label: `xrf ${method}`,
        inputs,
        resultPath: join(dir, `unit-${i}.json`),
        payload: { inputPath, method, params },
      }));
      await runUnits(queue.url, units, { label: 'xrf', log: queue.log, attempts: queue.attempts, batch: queue.batch ?? 1 }, ctx);
      return units.map((u) => decodePlain<XrfMethodResult>(readFileSync(u.resultPath)));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
}

/** runXrfWorkflow with its methods run as units on the queue. */
export async function runXrfWorkflowViaQueue(cube: SpectralCube, o: XrfWorkflowOptions, queue: XrfQueueOptions, ctx?: JobContext): Promise<Record<string, MethodMetrics>> {
  return runXrfWorkflow(cube, o, ctx, queueMethodRunner(queue));
}
