import { parseArgs, type ParseArgsConfig } from 'node:util';
import { InvalidOptionError } from '../errors.ts';
import type { OutputKind } from '../util/output-paths.ts';
import type { ProgressDetail } from '../jobs/progress-detail.ts';

export type OptionSpec = NonNullable<ParseArgsConfig['options']>[string] & { description: string; valueName?: string };

/** One `geoanomaly` subcommand. */
export interface Command {
  readonly name: string;
  readonly summary: string;
  /** Usage line after `geoanomaly NAME`. */
  readonly usage: string;
  readonly options: Readonly<Record<string, OptionSpec>>;
  /** Extra help text (examples, notes). */
  readonly details?: string;
  /**
   * Which options name paths: every output is checked before `run` starts (writable, not a
   * folder where a file goes, not one of the inputs; see main/commands/preflight-paths.ts).
   */
  readonly paths?: CommandPaths;
  run(args: ParsedArgs, io: CliIo): Promise<number>;
}

/** Option names (without dashes) of a command's output and input paths. */
export interface CommandPaths {
  readonly outputs: Readonly<Record<string, OutputKind>>;
  readonly inputs?: readonly string[];
}

export interface ParsedArgs {
  readonly values: Record<string, string | boolean | string[] | undefined>;
  readonly positionals: string[];
}

export interface CliIo {
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
  /** Progress lines (stderr, overwritten on a TTY). */
  readonly progress: (fraction: number, message: string, detail?: ProgressDetail) => void;
  readonly signal: AbortSignal;
}

export function parseCommandArgs(cmd: Command, argv: string[]): ParsedArgs {
  const options: NonNullable<ParseArgsConfig['options']> = {};
  for (const [k, v] of Object.entries(cmd.options)) {
    const { description: _d, valueName: _v, ...rest } = v;
    options[k] = rest;
  }
  options.help = { type: 'boolean', short: 'h' };
  try {
    const { values, positionals } = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
    return { values: values as ParsedArgs['values'], positionals };
  } catch (e) {
    throw new InvalidOptionError(`${(e as Error).message}. Run "geoanomaly ${cmd.name} --help".`);
  }
}

export function formatHelp(cmd: Command): string {
  const lines = [`geoanomaly ${cmd.name} — ${cmd.summary}`, '', `Usage: geoanomaly ${cmd.name} ${cmd.usage}`, '', 'Options:'];
  for (const [k, v] of Object.entries(cmd.options)) {
    const flag = `--${k}${v.type === 'string' ? ` ${v.valueName ?? 'VALUE'}` : ''}`;
    lines.push(`  ${flag.padEnd(30)} ${v.description}${v.default !== undefined ? ` (default ${String(v.default)})` : ''}`);
  }
  lines.push(`  ${'--help, -h'.padEnd(30)} show this help`);
  if (cmd.details) lines.push('', cmd.details);
  return lines.join('\n');
}

/** Required string option, or a named error telling the user which flag is missing. */
export function requireString(args: ParsedArgs, name: string, cmd: string): string {
  const v = args.values[name];
  if (typeof v !== 'string' || v === '') throw new InvalidOptionError(`geoanomaly ${cmd}: --${name} is required. Run "geoanomaly ${cmd} --help".`);
  return v;
}

export function optionalString(args: ParsedArgs, name: string): string | undefined {
  const v = args.values[name];
  return typeof v === 'string' && v !== '' ? v : undefined;
}

export function optionalNumber(args: ParsedArgs, name: string, cmd: string): number | undefined {
  const v = optionalString(args, name);
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n)) throw new InvalidOptionError(`geoanomaly ${cmd}: --${name} must be a number, got "${v}"`);
  return n;
}

/**
 * A command as the registry lists it: name and summary for `--help`, and the module that holds
 * it, imported only when the command runs (`--help` and `info` must not pay for TensorFlow.js).
 */
export interface CommandEntry {
  readonly name: string;
  /** One line for `geoanomaly --help`; the loaded command's `summary` must say the same. */
  readonly summary: string;
  readonly load: () => Promise<Command>;
}

/** The entry of `name` in `entries`, or undefined. */
export function findCommand(entries: readonly CommandEntry[], name: string): CommandEntry | undefined {
  return entries.find((c) => c.name === name);
}
