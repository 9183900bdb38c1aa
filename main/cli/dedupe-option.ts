import type { OptionSpec, ParsedArgs } from './command.ts';
import { optionalString } from './command.ts';
import { InvalidOptionError } from '../errors.ts';
import { DEDUPE_POLICIES, type DedupePolicy } from '../sites/sites-geojson.ts';

/** `--dedupe first|refuse`: two or more sites (or deposit/negative points of different features) in one grid cell. */
export function dedupeOption(what: string): Record<string, OptionSpec> {
  return {
    dedupe: {
      type: 'string',
      description: `${what} in one grid cell: refuse (an error listing the cells) or first (keep the first feature of each cell, report the rest)`,
      valueName: 'first|refuse',
      default: 'refuse',
    },
  };
}

/** The flag value that keeps the first feature, as refusals quote it. */
export const DEDUPE_FIRST_FLAG = '--dedupe first';

export function dedupeOf(args: ParsedArgs, cmd: string): DedupePolicy {
  const v = optionalString(args, 'dedupe') ?? 'refuse';
  if (!(DEDUPE_POLICIES as readonly string[]).includes(v)) throw new InvalidOptionError(`geoanomaly ${cmd}: --dedupe must be "first" or "refuse", got "${v}"`);
  return v as DedupePolicy;
}
