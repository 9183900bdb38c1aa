/**
 * `geoanomaly krige` says where the grid is extrapolation: a grid reaching far beyond its samples
 * warns (kriging-extrapolation, with the fix) and --extrapolation-mask writes the cells, checked
 * against gdalinfo's statistics of the written band; a grid that its samples cover does not warn.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { krigeCommand } from '../../main/cli/commands/krige.ts';
import { parseCommandArgs } from '../../main/cli/command.ts';
import { readGeoTiff } from '../../main/io/geotiff-read.ts';
import { Rng } from '../../main/util/rng.ts';

const dir = mkdtempSync(join(tmpdir(), 'krige-extrapolation-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function krige(...argv: string[]): Promise<{ out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await krigeCommand.run(parseCommandArgs(krigeCommand, argv), { out: (l) => out.push(l), err: (l) => err.push(l), progress: () => {}, signal: new AbortController().signal });
  expect(code).toBe(0);
  return { out, err };
}

/** 80 samples of a smooth field in [x0, x1] × [y0, y1] (metres). */
function samples(file: string, x0: number, x1: number, y0: number, y1: number): void {
  const rng = new Rng(9);
  const rows = ['x,y,Au'];
  for (let i = 0; i < 80; i++) {
    const x = x0 + (x1 - x0) * rng.uniform();
    const y = y0 + (y1 - y0) * rng.uniform();
    rows.push(`${x.toFixed(1)},${y.toFixed(1)},${(5 + Math.sin(x / 700) + Math.cos(y / 900) + 0.1 * rng.normal()).toFixed(4)}`);
  }
  writeFileSync(file, rows.join('\n') + '\n');
}

describe('geoanomaly krige: extrapolation warning', () => {
  // Fixed spherical model, range 1500 m: the grid is 10 km × 10 km, the samples fill only its lower-left 4 km × 4 km.
  const common = ['--x', 'x', '--y', 'y', '--crs', 'EPSG:32645', '--fields', 'Au', '--cell', '250', '--variogram', 'sph:0.01:1:1500', '--threads', '1'];

  it('warns when most of the grid is outside the samples\' hull and range, and writes the mask', async () => {
    const csv = join(dir, 'corner.csv');
    samples(csv, 500_000, 504_000, 4_600_000, 4_604_000);
    const mask = join(dir, 'mask.tif');
    const { err } = await krige('--samples', csv, ...common, '--extent', '500000,4600000,510000,4610000', '--out', join(dir, 'g.tif'), '--extrapolation-mask', mask);
    const warn = err.filter((l) => l.startsWith('warning [kriging-extrapolation] Au:'));
    expect(warn).toHaveLength(1);
    expect(warn[0]).toMatch(/--maxdist 1500/);
    expect(warn[0]).toMatch(/--extrapolation-mask/);
    const m = await readGeoTiff(mask);
    expect(m.bandNames).toEqual(['extrapolated_Au']);
    const flagged = m.bands[0].reduce((a, v) => a + v, 0);
    // The samples' hull lies inside 4 km × 4 km = 16% of the grid: at least 84% of the 1600 cells are flagged.
    expect(flagged).toBeGreaterThanOrEqual(0.84 * 1600);
    // Independent reader: GDAL's mean of the mask band is the flagged share.
    const info = JSON.parse(execFileSync('gdalinfo', ['-json', '-stats', mask], { encoding: 'utf8' })) as { bands: { mean: number }[] };
    expect(Math.abs(info.bands[0].mean - flagged / 1600)).toBeLessThan(1e-6); // GDAL computes the mean in double precision
  });

  it('does not warn when the samples cover the grid', async () => {
    const csv = join(dir, 'cover.csv');
    samples(csv, 499_900, 504_100, 4_599_900, 4_604_100);
    const { err } = await krige('--samples', csv, ...common, '--extent', '500000,4600000,504000,4604000', '--out', join(dir, 'g2.tif'));
    expect(err.filter((l) => l.startsWith('warning [kriging-extrapolation]'))).toEqual([]);
  });
});
