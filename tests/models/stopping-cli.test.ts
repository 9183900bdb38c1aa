/**
 * `geoanomaly train --stop-on`: the criterion reaches the fits and the manifest, the final model
 * keeps an epoch of a full 5-epoch window, and a bad value is refused with the flag named.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../main/cli/main.ts';
import { crsFromEpsg } from '../../main/grid/crs.ts';
import type { GridSpec } from '../../main/grid/grid-spec.ts';
import { writeGeoTiff } from '../../main/io/geotiff-write.ts';
import { buildSites } from '../../main/sites/build-sites.ts';
import { writeSitesGeoJson } from '../../main/sites/sites-geojson.ts';
import { readManifest } from '../../main/models/run-store.ts';
import { Rng } from '../../main/util/rng.ts';

const grid: GridSpec = { originX: 500_000, originY: 4_600_000, cellSizeX: 1000, cellSizeY: 1000, rows: 20, cols: 20, crs: crsFromEpsg(32645) };
const deposits = [4 * 20 + 4, 4 * 20 + 15, 15 * 20 + 4, 15 * 20 + 15];
const negatives = [10 * 20 + 2, 2 * 20 + 10, 17 * 20 + 10, 10 * 20 + 17];
let dir = '';

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'stopping-cli-'));
  const rng = new Rng(4);
  const n = grid.rows * grid.cols;
  const bands = [0, 1].map(() => Float32Array.from({ length: n }, () => Math.exp(rng.normal(1, 0.3))));
  writeGeoTiff(join(dir, 'stack.tif'), { grid, bandNames: ['Au', 'Cu'], bands });
  writeSitesGeoJson(join(dir, 'sites.geojson'), buildSites(grid, { depositCells: deposits, negatives: { kind: 'user', cells: negatives } }).set);
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

const base = (out: string, extra: string[]): string[] => [
  'train', '--stack', join(dir, 'stack.tif'), '--sites', join(dir, 'sites.geojson'), '--model', 'cnn',
  '--folds', '2', '--repeats', '1', '--patch-size', '5', '--threads', '1', '--batch', '16', '--engine', 'tfjs', '--out', out, ...extra,
];

describe('geoanomaly train --stop-on', () => {
  it('smoothed reaches the manifest, and the final model keeps an epoch ≥ 5 (the first full window)', async () => {
    const out = join(dir, 'run');
    expect(await main(base(out, ['--epochs', '8', '--patience', '2', '--stop-on', 'smoothed']))).toBe(0);
    const m = readManifest(out);
    expect((m.options as { train: Record<string, unknown> }).train).toMatchObject({ stopOn: 'smoothed', patience: 2 });
    const c = m.models.cnn;
    expect(c.history!.length).toBeGreaterThanOrEqual(5);
    expect(c.epochs).toBeGreaterThanOrEqual(5);
  });

  it('a bad value is refused with the flag named', async () => {
    const lines: string[] = [];
    const orig = process.stderr.write.bind(process.stderr);
    process.stderr.write = ((chunk: string | Uint8Array): boolean => {
      lines.push(String(chunk));
      return true;
    }) as typeof process.stderr.write;
    try {
      expect(await main(base(join(dir, 'bad'), ['--stop-on', 'ema']))).not.toBe(0);
    } finally {
      process.stderr.write = orig;
    }
    expect(lines.join('')).toMatch(/--stop-on smoothed/);
  });
});
