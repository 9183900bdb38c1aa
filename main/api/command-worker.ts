/**
 * Worker-thread body of a compute job: runs one `geoanomaly` command with the given argv,
 * forwarding its stdout lines and progress to the parent and honouring a 'cancel' message.
 * The app and the CLI thus execute the same command code, off the main event loop.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { COMMANDS } from '../commands/registry.ts';
import { findCommand, parseCommandArgs } from '../commands/command.ts';
import { serializeError } from '../errors.ts';
import type { ProgressDetail } from '../jobs/progress-detail.ts';
import { preflightPaths } from '../commands/preflight-paths.ts';

export interface CommandWorkerInput {
  readonly command: string;
  readonly argv: readonly string[];
}

export type CommandWorkerMessage =
  | { readonly t: 'out'; readonly line: string }
  | { readonly t: 'progress'; readonly fraction: number; readonly message: string; readonly detail?: ProgressDetail }
  | { readonly t: 'done'; readonly exitCode: number }
  | { readonly t: 'error'; readonly error: { name: string; message: string; details: Record<string, unknown> } };

const port = parentPort;
if (!port) throw new Error('command-worker.ts must run in a worker thread');
const input = workerData as CommandWorkerInput;
const ac = new AbortController();
port.on('message', (m: unknown) => {
  if (m === 'cancel') ac.abort();
});
const post = (m: CommandWorkerMessage): void => port.postMessage(m);

try {
  const entry = findCommand(COMMANDS, input.command);
  if (!entry) throw new Error(`no command "${input.command}" in this build`);
  const cmd = await entry.load();
  const args = parseCommandArgs(cmd, [...input.argv]);
  preflightPaths(cmd, args);
  const exitCode = await cmd.run(args, {
    out: (line) => post({ t: 'out', line }),
    err: (line) => post({ t: 'out', line }),
    progress: (fraction, message, detail?: ProgressDetail) => post({ t: 'progress', fraction, message, ...(detail ? { detail } : {}) }),
    signal: ac.signal,
  });
  post({ t: 'done', exitCode });
} catch (e) {
  post({ t: 'error', error: serializeError(e) });
}
port.close();
