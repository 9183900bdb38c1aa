import { checkOutputPaths, type InputPath, type OutputPath } from '../util/output-paths.ts';
import type { Command, ParsedArgs } from './command.ts';

function values(v: ParsedArgs['values'][string]): string[] {
  if (typeof v === 'string') return v === '' ? [] : [v];
  if (Array.isArray(v)) return v.filter((s) => s !== '');
  return [];
}

/**
 * Checks the output paths a command was given (its `paths` declaration) before it runs, so a
 * read-only folder, a folder named as a file or an output that is also an input fails in
 * milliseconds with an OutputPathError instead of after the computation. Run by both front
 * doors: the CLI (main/cli/main.ts) and the app's command worker (main/api/command-worker.ts).
 */
export function preflightPaths(cmd: Command, args: ParsedArgs): void {
  if (!cmd.paths) return;
  const outputs: OutputPath[] = [];
  for (const [flag, kind] of Object.entries(cmd.paths.outputs)) for (const path of values(args.values[flag])) outputs.push({ flag, path, kind });
  const inputs: InputPath[] = [];
  for (const flag of cmd.paths.inputs ?? []) for (const path of values(args.values[flag])) inputs.push({ flag, path });
  checkOutputPaths(outputs, inputs);
}
