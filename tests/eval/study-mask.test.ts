import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { main } from '../../main/cli/main.ts';
import { readGeoTiff } from '../../main/io/geotiff-read.ts';
import { writeGeoTiff } from '../../main/io/geotiff-write.ts';
import { buildSites } from '../../main/sites/build-sites.ts';
import { writeSitesGeoJson } from '../../main/sites/sites-geojson.ts';
import { readManifest } from '../../main/models/run-store.ts';
import { readStudyMask } from '../../main/eval/study-mask.ts';
import { REPO_ROOT, tempDir } from '../helpers/paths.ts';

// Fixture and references: tests/fixtures/mask/make_mask_fixture.py (GDAL + numpy + sklearn).
const FIX = join(REPO_ROOT, 'tests/fixtures/mask');
const expected = JSON.parse(readFileSync(join(FIX, 'expected.json'), 'utf8')) as {
  insideCells: number;
  depositsInside: [number, number][];
  depositsOutside: [number, number][];
  log10MeansInside: number[];
  log10StdsInside: number[];
  log10MeansAll: number[];
  aucInside: number;
};
let dir = '';
let grid: Awaited<ReturnType<typeof readGeoTiff>>['grid'];
let inside: Uint8Array;

beforeAll(async () => {
  dir = tempDir('mask-');
  const stack = await readGeoTiff(join(FIX, 'stack.tif'));
  grid = stack.grid;
  inside = (await readStudyMask(join(FIX, 'area.tif'), grid)).cells;
  const cell = ([r, c]: [number, number]): number => r * grid.cols + c;
  // Negatives: four cells inside the area, away from the deposits.
  const negatives = [cell([19, 0]), cell([19, 5]), cell([7, 4]), cell([13, 10])];
  const sites = buildSites(grid, { depositCells: [...expected.depositsInside, ...expected.depositsOutside].map(cell), negatives: { kind: 'user', cells: negatives } }).set;
  writeSitesGeoJson(join(dir, 'sites.geojson'), sites);
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('--mask', () => {
  it('reads the same study area from the GeoPackage polygon as gdal_rasterize wrote into the raster', async () => {
    const fromGpkg = await readStudyMask(join(FIX, 'area.gpkg'), grid);
    expect(fromGpkg.inside).toBe(expected.insideCells);
    expect(Array.from(fromGpkg.cells)).toEqual(Array.from(inside));
  });

  it('train: standardisation statistics over the study area only (numpy), site cells outside dropped; predict: cells outside are nodata', async () => {
    const run = join(dir, 'run');
    const code = await main([
      'train', '--stack', join(FIX, 'stack.tif'), '--sites', join(dir, 'sites.geojson'), '--model', 'cnn,logreg', '--epochs', '1', '--folds', '2', '--repeats', '1',
      '--patch-size', '3', '--seed', '2', '--threads', '1', '--engine', 'tfjs', '--mask', join(FIX, 'area.gpkg'), '--out', run,
    ]);
    expect(code).toBe(0);
    const m = readManifest(run);
    const stats = (m.patch as { stats: { means: number[]; stds: number[] }; samples: number }).stats;
    for (let b = 0; b < 3; b++) {
      // Reference: numpy log10 mean / std (ddof 0) of the float32 values over the mask's cells; tolerance 1e-9 (summation order).
      expect(Math.abs(stats.means[b] - expected.log10MeansInside[b])).toBeLessThan(1e-9);
      expect(Math.abs(stats.stds[b] - expected.log10StdsInside[b])).toBeLessThan(1e-9);
      // The unmasked mean is far off (the outside cells are 50× larger): the mask really acted.
      expect(Math.abs(stats.means[b] - expected.log10MeansAll[b])).toBeGreaterThan(0.5);
    }
    const sites = JSON.parse(readFileSync(join(dir, 'sites.geojson'), 'utf8')) as { features: { properties: { row: number; col: number } }[] };
    const insideSites = sites.features.filter((f) => inside[f.properties.row * grid.cols + f.properties.col]).length;
    expect(insideSites).toBeLessThan(sites.features.length);
    expect((m.patch as { samples: number }).samples).toBe(insideSites);
    expect(m.options.mask).toBe(join(FIX, 'area.gpkg'));
    expect(m.inputs.some((i) => i.role === 'mask' && /^[0-9a-f]{64}$/.test(String(i.sha256)))).toBe(true);

    const out = join(dir, 'prob.tif');
    expect(await main(['predict', '--run', run, '--stack', join(FIX, 'stack.tif'), '--mask', join(FIX, 'area.tif'), '--threads', '1', '--engine', 'tfjs', '--out', out])).toBe(0);
    const map = await readGeoTiff(out);
    for (const name of ['p_cnn', 'p_logreg', 'sd_cnn', 'sd_logreg']) {
      const band = map.bands[map.bandNames.indexOf(name)];
      for (let i = 0; i < band.length; i++) expect(Number.isFinite(band[i]), `${name} cell ${i}`).toBe(inside[i] === 1);
    }
    // Worker threads open the stack with the same mask: bit-identical bands.
    const out2 = join(dir, 'prob-2.tif');
    expect(await main(['predict', '--run', run, '--stack', join(FIX, 'stack.tif'), '--mask', join(FIX, 'area.tif'), '--threads', '2', '--engine', 'tfjs', '--out', out2])).toBe(0);
    const map2 = await readGeoTiff(out2);
    map.bands.forEach((b, i) => expect(Array.from(map2.bands[i])).toEqual(Array.from(b)));
  });

  it('evaluate: deposits and background outside the study area are ignored (sklearn AUC over the area)', async () => {
    const out = join(dir, 'eval.json');
    expect(await main(['evaluate', '--map', join(FIX, 'prob.tif'), '--deposits', join(FIX, 'deposits.geojson'), '--mask', join(FIX, 'area.gpkg'), '--classes', join(dir, 'classes.tif'), '--out', out])).toBe(0);
    const e = JSON.parse(readFileSync(out, 'utf8'));
    // Reference: sklearn roc_auc_score over the mask's cells; tolerance 1e-12 (exact rank statistic in float64).
    expect(Math.abs(e.auc - expected.aucInside)).toBeLessThan(1e-12);
    expect(e.counts.depositsOutsideMask).toBe(expected.depositsOutside.length);
    expect(e.counts.depositsUsed).toBe(expected.depositsInside.length);
    const classes = (await readGeoTiff(join(dir, 'classes.tif'))).bands[0];
    for (let i = 0; i < classes.length; i++) if (!inside[i]) expect(Number.isFinite(classes[i]) && classes[i] > 0).toBe(false);
    // Without the mask the two deposits scored 0 outside the area count, and the AUC drops.
    expect(await main(['evaluate', '--map', join(FIX, 'prob.tif'), '--deposits', join(FIX, 'deposits.geojson'), '--out', join(dir, 'eval0.json')])).toBe(0);
    expect(JSON.parse(readFileSync(join(dir, 'eval0.json'), 'utf8')).auc).toBeLessThan(e.auc - 0.05);
  });
});

describe('train --nodata', () => {
  it('refuse names the flags; skip drops the sites whose patch holds nodata; fill-mean keeps them', async () => {
    const stack = await readGeoTiff(join(FIX, 'stack.tif'));
    const bands = stack.bands.map((b) => Float32Array.from(b));
    const hole = 15 * grid.cols + 4; // next to the deposit at (15, 3)
    bands[1][hole] = NaN;
    writeGeoTiff(join(dir, 'holes.tif'), { grid, bandNames: stack.bandNames, bands });
    const base = ['train', '--stack', join(dir, 'holes.tif'), '--sites', join(dir, 'sites.geojson'), '--model', 'logreg', '--folds', '2', '--repeats', '1', '--patch-size', '3', '--seed', '2', '--threads', '1'];
    const failure = async (argv: string[]): Promise<string> => {
      const lines: string[] = [];
      const spy = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => (lines.push(String(chunk)), true));
      try {
        expect(await main(argv)).not.toBe(0);
      } finally {
        spy.mockRestore();
      }
      return lines.join('');
    };
    expect(await failure([...base, '--out', join(dir, 'r0')])).toMatch(/EmptyInputError: .*holes\.tif: 8 patch\(es\) contain nodata.*--nodata fill-mean.*--nodata skip/);
    expect(await failure([...base, '--nodata', 'drop', '--out', join(dir, 'r1')])).toMatch(/--nodata must be one of fill-mean, skip, refuse, got "drop"/);
    expect(await main([...base, '--nodata', 'skip', '--out', join(dir, 'r2')])).toBe(0);
    expect(await main([...base, '--nodata', 'fill-mean', '--out', join(dir, 'r3')])).toBe(0);
    const n = (r: string): number => (readManifest(join(dir, r)).patch as { samples: number }).samples;
    const all = JSON.parse(readFileSync(join(dir, 'sites.geojson'), 'utf8')).features as { properties: { row: number; col: number } }[];
    // Sites whose 3×3 window (reflect-padded) covers the hole: |Δrow| ≤ 1 and |Δcol| ≤ 1; the hole's own cell is also dropped under fill-mean.
    const touching = all.filter((f) => Math.abs(f.properties.row - 15) <= 1 && Math.abs(f.properties.col - 4) <= 1).length;
    const onHole = all.filter((f) => f.properties.row === 15 && f.properties.col === 4).length;
    expect(touching).toBeGreaterThan(1);
    expect(n('r2')).toBe(all.length - touching);
    expect(n('r3')).toBe(all.length - onHole);
  });
});
