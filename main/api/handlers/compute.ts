import { InvalidOptionError } from '../../errors.ts';
import { isWorkflowName } from '../../workflows/registry.ts';
import { parseQueueUrl, redactQueueUrl } from '../../queue/queue-url.ts';
import type { JobManager } from '../job-manager.ts';
import { QUEUE_CANCEL_GRACE_MS, runCommandInWorker, toArgv } from '../command-job.ts';
import { runWorkflowJob, withQueue } from '../workflow-job.ts';
import { COMPUTE_REQUESTS, QUEUE_REQUESTS, type ComputeRequestName, type ComputeSettings, type Params } from '../contract.ts';
import { NotAvailableError, type HandlersOf } from './common.ts';

/** Compute: the long requests as jobs (workflows or commands in a worker), cancel, the job list, Settings → Compute. */

/** The compute requests this build can run: those with a command in the registry. */
export async function availableServices(): Promise<ComputeRequestName[]> {
  const { COMMANDS } = await import('../../commands/registry.ts');
  return COMPUTE_REQUESTS.filter((n) => COMMANDS.some((c) => c.name === n));
}

type ComputeHandlers = HandlersOf<ComputeRequestName | 'cancelJob' | 'listJobs' | 'getComputeSettings' | 'setComputeSettings'>;

export function createComputeHandlers(jobs: JobManager): ComputeHandlers {
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
    // The registered workflows (main/workflows/registry.ts): the workflow itself in a worker, typed result; the others run their command.
    if (isWorkflowName(name)) return { jobId: jobs.start(name, (ctx) => runWorkflowJob(name, withQueue(p, queueUrl && viaQueue && p.options.queue === undefined ? queueUrl : null), ctx, grace)) };
    return { jobId: jobs.start(name, (ctx) => runCommandInWorker(name, argv, ctx, grace)) };
  };

  return {
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
    async getComputeSettings() {
      return computeSettings();
    },
    async setComputeSettings(p) {
      if (p.mode === 'local') queueUrl = null;
      else if (p.mode === 'queue' && typeof p.queueUrl === 'string') queueUrl = parseQueueUrl(p.queueUrl.trim()).url;
      else throw new InvalidOptionError('setComputeSettings: mode must be "local", or "queue" with a queueUrl (redis://[:PASSWORD@]HOST:PORT[/DB] or rediss://)');
      return computeSettings();
    },
  };
}
