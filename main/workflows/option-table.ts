import { InvalidOptionError } from '../errors.ts';
import { checkOutputPaths, type InputPath, type OutputKind, type OutputPath } from '../util/output-paths.ts';

/**
 * One option of a workflow, defined once: the workflow's typed options (and their defaults), the
 * CLI flag, its `--help` line and the app's typed payload all come from this row.
 * - `string` / `number` / `boolean`: one value; numbers are parsed from the flag's text;
 * - `strings`: a repeatable flag (`--knowledge a.tif --knowledge b.tif`) → string[].
 */
export interface OptionDef {
  readonly flag: string;
  readonly kind: 'string' | 'number' | 'boolean' | 'strings';
  readonly description: string;
  /** Placeholder of the value in `--help` (`--out STACK.tif`). */
  readonly valueName?: string;
  /** The default the workflow applies when the option is absent; `--help` prints it. */
  readonly default?: string | number | boolean;
  /** The default as `--help` writes it, when it differs from String(default) (e.g. 'none' for []). */
  readonly helpDefault?: string;
}

/** Option property name (camelCase, the workflow's) → its row. Insertion order = `--help` order. */
export type OptionTable = Readonly<Record<string, OptionDef>>;

/** The typed value of one row. */
type ValueOf<D extends OptionDef> = D['kind'] extends 'number' ? number : D['kind'] extends 'boolean' ? boolean : D['kind'] extends 'strings' ? readonly string[] : string;

/**
 * The options of a workflow as its callers pass them: every row optional (absent = its default,
 * where the table has one). Workflows resolve them with `withDefaults`.
 */
export type OptionsOf<T extends OptionTable> = { readonly [K in keyof T]?: ValueOf<T[K]> };

/** A row as the CLI's parser (node:util parseArgs) and `--help` want it (main/commands/command.ts OptionSpec). */
export interface CliOptionSpec {
  readonly type: 'string' | 'boolean';
  readonly multiple?: boolean;
  readonly default?: string;
  readonly description: string;
  readonly valueName?: string;
}

/** The CLI flags of a table, keyed by flag, in table order. */
export function cliOptions(table: OptionTable): Record<string, CliOptionSpec> {
  const out: Record<string, CliOptionSpec> = {};
  for (const def of Object.values(table)) {
    const shown = def.helpDefault ?? (def.default !== undefined && def.kind !== 'boolean' ? String(def.default) : undefined);
    out[def.flag] = {
      type: def.kind === 'boolean' ? 'boolean' : 'string',
      ...(def.kind === 'strings' ? { multiple: true } : {}),
      ...(shown !== undefined ? { default: shown } : {}),
      description: def.description,
      ...(def.valueName ? { valueName: def.valueName } : {}),
    };
  }
  return out;
}

/**
 * Parsed CLI values (flag → text) → the workflow's options. Only flags that were given (or that
 * parseArgs filled from the help default) appear; numbers must parse, with the error the CLI
 * has always given (`--cell must be a number, got "x"`).
 */
export function optionsFromFlags<T extends OptionTable>(table: T, values: Readonly<Record<string, string | boolean | string[] | undefined>>, cmd: string): OptionsOf<T> {
  const out: Record<string, unknown> = {};
  for (const [key, def] of Object.entries(table)) {
    const v = values[def.flag];
    if (v === undefined) continue;
    if (def.kind === 'boolean') out[key] = v === true;
    else if (def.kind === 'strings') {
      const list = (Array.isArray(v) ? v : [String(v)]).filter((s) => s !== '');
      out[key] = list;
    } else if (typeof v === 'string' && v !== '') {
      if (def.kind === 'number') {
        const n = Number(v);
        if (!Number.isFinite(n)) throw new InvalidOptionError(`geoanomaly ${cmd}: --${def.flag} must be a number, got "${v}"`);
        out[key] = n;
      } else out[key] = v;
    }
  }
  return out as OptionsOf<T>;
}

/** Typed options → the flags the CLI would take (the app's queue settings, logs, the manifest's command line). */
export function flagsFromOptions<T extends OptionTable>(table: T, options: OptionsOf<T>): string[] {
  const argv: string[] = [];
  for (const [key, def] of Object.entries(table)) {
    const v = (options as Record<string, unknown>)[key];
    if (v === undefined || v === false) continue;
    if (v === true) argv.push(`--${def.flag}`);
    else if (Array.isArray(v)) for (const x of v) argv.push(`--${def.flag}`, String(x));
    else argv.push(`--${def.flag}`, String(v));
  }
  return argv;
}

/** The table's defaults as values (rows without a default are left out). */
export function defaultsOf(table: OptionTable): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  for (const [key, def] of Object.entries(table)) if (def.default !== undefined) out[key] = def.default;
  return out;
}

/** A required option, or the named error the CLI has always given for its missing flag. */
export function required<T>(value: T | undefined, flag: string, cmd: string): T {
  if (value === undefined || value === '') throw new InvalidOptionError(`geoanomaly ${cmd}: --${flag} is required. Run "geoanomaly ${cmd} --help".`);
  return value;
}

/**
 * A compute request's options as the app sends them (flag → string, number, boolean or list;
 * main/api/contract.ts ComputeJobRequest) → the workflow's typed options, through the same
 * parser as the CLI's flags, so both front doors accept and refuse the same values.
 */
export function optionsFromRequest<T extends OptionTable>(table: T, options: Readonly<Record<string, string | number | boolean | readonly string[]>>, cmd: string): OptionsOf<T> {
  const known = new Set(Object.values(table).map((d) => d.flag));
  const values: Record<string, string | boolean | string[]> = {};
  for (const [flag, v] of Object.entries(options)) {
    if (!known.has(flag)) throw new InvalidOptionError(`geoanomaly ${cmd}: unknown option "--${flag}". Run "geoanomaly ${cmd} --help".`, { option: flag });
    values[flag] = typeof v === 'boolean' ? v : Array.isArray(v) ? v.map(String) : String(v);
  }
  return optionsFromFlags(table, values, cmd);
}

/** Which flags of a workflow name output paths (file or folder) and input paths. */
export interface WorkflowPaths {
  readonly outputs: Readonly<Record<string, OutputKind>>;
  readonly inputs?: readonly string[];
}

/**
 * Checks a workflow's output paths before it computes anything (writable, not a folder where a
 * file goes, not one of its inputs: main/util/output-paths.ts), whichever front door called it.
 */
export function checkWorkflowPaths(table: OptionTable, paths: WorkflowPaths, options: Readonly<Record<string, unknown>>): void {
  const byFlag = new Map(Object.entries(table).map(([key, d]) => [d.flag, key]));
  const listOf = (flag: string): string[] => {
    const v = options[byFlag.get(flag) ?? flag];
    if (typeof v === 'string') return v === '' ? [] : [v];
    if (Array.isArray(v)) return v.filter((s): s is string => typeof s === 'string' && s !== '');
    return [];
  };
  const outputs: OutputPath[] = [];
  for (const [flag, kind] of Object.entries(paths.outputs)) for (const path of listOf(flag)) outputs.push({ flag, path, kind });
  const inputs: InputPath[] = [];
  for (const flag of paths.inputs ?? []) for (const path of listOf(flag)) inputs.push({ flag, path });
  checkOutputPaths(outputs, inputs);
}
