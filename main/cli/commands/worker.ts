import type { Command } from '../command.ts';
import { optionalNumber, requireString } from '../command.ts';
import { InvalidOptionError } from '../../errors.ts';
import { runQueueWorker } from '../../queue/queue-worker.ts';

const posInt = (v: number | undefined, flag: string): number | undefined => {
  if (v !== undefined && !(Number.isInteger(v) && v >= 1)) throw new InvalidOptionError(`geoanomaly worker: --${flag} must be an integer ≥ 1, got ${v}`);
  return v;
};

export const workerCommand: Command = {
  name: 'worker',
  summary: 'run the units (prediction tiles, CV folds, kriging blocks) of --queue runs from a Redis queue (BullMQ); one per machine',
  usage: '--queue redis://HOST:PORT[/DB] [--concurrency N] [--threads N] [--once]',
  details: [
    'Pulls the units that predict, train, krige and xrf enqueue with --queue (tiles of rows; CV folds and final models; row blocks; detector methods), checks the',
    'SHA-256 of each unit\'s inputs (every machine must see the same files at the same paths: a shared',
    'filesystem such as NFS), runs it with the same code as the local path and writes its result to the',
    'unit\'s temporary path next to the output; the command assembles the output atomically.',
    'Small units come in batches (one BullMQ job = several units of one run, e.g. a sweep of short',
    'trainings); each unit is still checked, run and written on its own, in order.',
    'Logs each unit it ran. SIGTERM / Ctrl-C: takes no new unit, finishes the running ones, returns the',
    'rest of their batches to the queue (another worker runs them), exits 0.',
    'A worker killed mid-unit loses its lock after --lock-ms; another worker then runs its batch again,',
    'skipping the units the batch had recorded as done.',
    'The password of redis://:PASSWORD@HOST is never printed. Use rediss:// for TLS.',
    'Example: geoanomaly worker --queue redis://10.0.0.5:6379 --concurrency 2',
  ].join('\n'),
  options: {
    queue: { type: 'string', description: 'Redis URL of the queue: redis://[:PASSWORD@]HOST:PORT[/DB] or rediss:// (TLS)', valueName: 'URL' },
    concurrency: { type: 'string', description: 'jobs (batches of units) run at once in this process', valueName: 'N', default: '1' },
    threads: { type: 'string', description: "threads per unit where the unit leaves it open: ONNX Runtime intra-op threads of prediction tiles (default: the command's --intra-op-threads; the numbers do not change). Training units ignore it: a final model trains on the command's --threads, so its bits never depend on the worker", valueName: 'N' },
    once: { type: 'boolean', description: 'run one job (one unit, or one batch of small units), then exit (entry point for Kubernetes Jobs / Slurm array tasks)' },
    'lock-ms': { type: 'string', description: 'lock of a running unit: a dead worker\'s unit is retried elsewhere after this', valueName: 'MS', default: '30000' },
    'stalled-ms': { type: 'string', description: 'how often to look for units of dead workers', valueName: 'MS', default: '30000' },
  },
  async run(args, io) {
    const queue = requireString(args, 'queue', 'worker');
    const concurrency = posInt(optionalNumber(args, 'concurrency', 'worker'), 'concurrency') ?? 1;
    const threads = posInt(optionalNumber(args, 'threads', 'worker'), 'threads') ?? null;
    const lockDurationMs = posInt(optionalNumber(args, 'lock-ms', 'worker'), 'lock-ms') ?? 30_000;
    const stalledIntervalMs = posInt(optionalNumber(args, 'stalled-ms', 'worker'), 'stalled-ms') ?? 30_000;
    // SIGTERM (Kubernetes, systemd, Slurm) and Ctrl-C both stop the loop gently; io.signal is Ctrl-C.
    const ac = new AbortController();
    const stop = (): void => ac.abort();
    process.once('SIGTERM', stop);
    io.signal.addEventListener('abort', stop, { once: true });
    try {
      const s = await runQueueWorker(queue, { concurrency, threads, once: args.values.once === true, lockDurationMs, stalledIntervalMs, log: io.err, signal: ac.signal });
      io.out(`worker ${s.worker}: ${s.units} unit(s) done, ${s.failed} failed`);
      return s.failed > 0 && args.values.once === true ? 1 : 0;
    } finally {
      process.off('SIGTERM', stop);
    }
  },
};
