import type { OptionSpec, ParsedArgs } from './command.ts';
import { optionalString } from './command.ts';

/**
 * `--layer NAME` and `--<input>-layer NAME` for commands that read vector inputs which may be
 * multi-layer files (GeoPackage). Each input has its own flag (`--faults-layer`, `--deposits-layer`,
 * …) because one GeoPackage often holds the faults and the deposits side by side; `--layer`
 * is the shorthand for every input that has no flag of its own. The per-input flag is the one an
 * error quotes, so the fix it offers is exact.
 */
export interface LayerChoice {
  /** Layer name, when one was given. */
  readonly layer?: string;
  /** The flag quoted in errors ("choose one with --deposits-layer NAME"). */
  readonly layerFlag: string;
}

/** The generic `--layer` option (omitted on `explain`, whose `--layer` names a network layer). */
export const LAYER_OPTION: Readonly<Record<string, OptionSpec>> = {
  layer: { type: 'string', description: 'layer of a multi-layer vector input (GeoPackage) for every input without its own --INPUT-layer; see "geoanomaly info FILE.gpkg"', valueName: 'NAME' },
};

/** `--<input>-layer` options for the named inputs. */
export function inputLayerOptions(...inputs: readonly string[]): Record<string, OptionSpec> {
  const out: Record<string, OptionSpec> = {};
  for (const i of inputs) out[`${i}-layer`] = { type: 'string', description: `layer of --${i} when it is a GeoPackage holding several layers`, valueName: 'NAME' };
  return out;
}

/** The layer for `input`: its own flag, else `--layer` (when the command has it). */
export function layerFor(args: ParsedArgs, input: string, options: { readonly generic?: boolean } = {}): LayerChoice {
  const own = optionalString(args, `${input}-layer`);
  if (own !== undefined) return { layer: own, layerFlag: `--${input}-layer` };
  const generic = options.generic === false ? undefined : optionalString(args, 'layer');
  return { layer: generic, layerFlag: `--${input}-layer` };
}
