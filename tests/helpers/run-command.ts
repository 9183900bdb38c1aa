import type { CliIo, Command } from '../../main/cli/command.ts';
import { parseCommandArgs } from '../../main/cli/command.ts';

/** Runs a CLI command in-process (no process start), collecting its stdout and stderr lines. */
export async function runCommand(cmd: Command, argv: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIo = { out: (l) => out.push(l), err: (l) => err.push(l), progress: () => undefined, signal: new AbortController().signal };
  const code = await cmd.run(parseCommandArgs(cmd, argv), io);
  return { code, out, err };
}
