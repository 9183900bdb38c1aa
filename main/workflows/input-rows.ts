/**
 * `--layer`, `--<input>-layer` and `--dedupe` as option rows: the same text as
 * main/cli/layer-options.ts and main/cli/dedupe-option.ts (which workflows may not import),
 * shared by every workflow table that reads vector inputs, so their `--help` texts stay what they were.
 * Type imports only, as the tables: the renderer's type check may read this file.
 */
export const LAYER_ROW = {
  flag: 'layer',
  kind: 'string',
  description: 'layer of a multi-layer vector input (GeoPackage) for every input without its own --INPUT-layer; see "geoanomaly info FILE.gpkg"',
  valueName: 'NAME',
} as const;

export function inputLayerRow<I extends string>(input: I) {
  return { flag: `${input}-layer`, kind: 'string', description: `layer of --${input} when it is a GeoPackage holding several layers`, valueName: 'NAME' } as const;
}

export function dedupeRow(what: string) {
  return {
    flag: 'dedupe',
    kind: 'string',
    description: `${what} in one grid cell: refuse (an error listing the cells) or first (keep the first feature of each cell, report the rest)`,
    valueName: 'first|refuse',
    default: 'refuse',
  } as const;
}

