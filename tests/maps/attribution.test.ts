import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { main } from '../../main/cli/main.ts';
import { crsFromEpsg } from '../../main/grid/crs.ts';
import type { GridSpec } from '../../main/grid/grid-spec.ts';
import { makeStack } from '../../main/grid/raster.ts';
import { writeGeoTiff } from '../../main/io/geotiff-write.ts';
import { readGeoTiff } from '../../main/io/geotiff-read.ts';
import { buildSites } from '../../main/sites/build-sites.ts';
import { writeSitesGeoJson } from '../../main/sites/sites-geojson.ts';
import { extractPatches } from '../../main/sites/patches.ts';
import { initBackend } from '../../main/models/backend.ts';
import { loadRun } from '../../main/maps/run-models.ts';
import { Rng } from '../../main/util/rng.ts';
import { tempDir } from '../helpers/paths.ts';

// A 24 × 24 survey of four elements where ONLY Zn (the third band) carries the deposit signal:
// Zn is raised around the deposits, Cu, Pb and Ag are noise. Attribution must rank Zn first.
const N = 24;
const grid: GridSpec = { originX: 500_000, originY: 4_600_000, cellSizeX: 1000, cellSizeY: 1000, rows: N, cols: N, crs: crsFromEpsg(32645) };
const deposits = [[4, 4], [4, 18], [18, 5], [19, 19], [11, 11]].map(([r, c]) => r * N + c);
const negatives = [[11, 2], [2, 11], [21, 12], [11, 21], [7, 14]].map(([r, c]) => r * N + c);
const names = ['Cu', 'Pb', 'Zn', 'Ag'];
let dir = '';

type SitesJson = { models: Record<string, { ranking: { band: string; meanAbs: number }[]; sites: { siteId: string; row: number; col: number; p: number; pBaseline: number; attribution: Record<string, number> }[] }> };

beforeAll(async () => {
  dir = tempDir('attribution-');
  const rng = new Rng(8);
  const bands = names.map(() => Float32Array.from({ length: N * N }, () => Math.exp(rng.normal(1, 0.3))));
  for (const d of deposits) {
    const r = Math.floor(d / N);
    const c = d % N;
    for (let dr = -2; dr <= 2; dr++) for (let dc = -2; dc <= 2; dc++) bands[2][(r + dr) * N + c + dc] *= 4 + rng.uniform();
  }
  writeGeoTiff(join(dir, 'stack.tif'), { grid, bandNames: names, bands });
  writeSitesGeoJson(join(dir, 'sites.geojson'), buildSites(grid, { depositCells: deposits, negatives: { kind: 'user', cells: negatives } }).set);
  expect(await main(['train', '--stack', join(dir, 'stack.tif'), '--sites', join(dir, 'sites.geojson'), '--model', 'cnn', '--epochs', '8', '--val-fraction', '0',
    '--folds', '2', '--repeats', '1', '--patch-size', '5', '--seed', '4', '--threads', '1', '--engine', 'tfjs', '--out', join(dir, 'run')])).toBe(0);
  for (const method of ['ig', 'occlusion']) {
    expect(await main(['explain', '--run', join(dir, 'run'), '--stack', join(dir, 'stack.tif'), '--sites', join(dir, 'sites.geojson'), '--gradcam', '--max-sites', '2',
      '--attribution', method, ...(method === 'ig' ? ['--no-maps'] : []), '--out', join(dir, method)])).toBe(0);
  }
  await initBackend('auto');
}, 240_000);

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

const read = (method: string): SitesJson => JSON.parse(readFileSync(join(dir, method, 'attribution-sites.json'), 'utf8')) as SitesJson;

describe('explain --attribution', () => {
  it('ranks the only signal-carrying element (Zn) first, with both methods, beside Grad-CAM', () => {
    for (const method of ['ig', 'occlusion']) {
      const r = read(method).models.cnn;
      expect(r.ranking[0].band, method).toBe('Zn');
      // Clearly first: at least twice the next element's mean |attribution|.
      expect(r.ranking[0].meanAbs).toBeGreaterThan(2 * r.ranking[1].meanAbs);
      expect(r.sites).toHaveLength(deposits.length);
      const csv = readFileSync(join(dir, method, 'attribution-sites.csv'), 'utf8').trim().split('\n');
      expect(csv).toHaveLength(1 + deposits.length * names.length);
      // Grad-CAM is still written beside it.
      expect(readFileSync(join(dir, method, 'explain.json'), 'utf8')).toContain('"sites"');
    }
  });

  it('integrated gradients are complete: per site the bands sum to p(x) − p(mean window)', () => {
    for (const s of read('ig').models.cnn.sites) {
      const sum = Object.values(s.attribution).reduce((a, b) => a + b, 0);
      // Completeness (Sundararajan et al. 2017) holds up to the 64-step midpoint rule's error; tolerance 0.01.
      expect(Math.abs(sum - (s.p - s.pBaseline))).toBeLessThan(0.01);
    }
  });

  it('occlusion equals p(x) − p(x with one band at its mean) recomputed with model.predict, and the map raster agrees at the sites', async () => {
    const run = await loadRun(join(dir, 'run'));
    const model = run.models.get('cnn');
    if (!model) throw new Error('no cnn');
    const stack = await readGeoTiff(join(dir, 'stack.tif'));
    const centres = buildSites(grid, { depositCells: deposits, negatives: { kind: 'none' } }).set.sites.filter((s) => s.centre);
    const patches = extractPatches(makeStack(grid, names, stack.bands), { grid, sites: centres }, { size: 5, stats: run.stats });
    const C = names.length;
    const predict = (x: Float32Array): Float32Array => tf.tidy(() => tf.slice(model.predict(tf.tensor4d(x, [centres.length, 5, 5, C])) as tf.Tensor2D, [0, 1], [-1, 1]).dataSync() as Float32Array);
    const p = predict(patches.x);
    const occ = read('occlusion').models.cnn.sites;
    const map = await readGeoTiff(join(dir, 'occlusion', 'attribution-cnn.tif'));
    expect(map.bandNames).toEqual(names);
    names.forEach((band, b) => {
      const x = Float32Array.from(patches.x);
      for (let i = b; i < x.length; i += C) x[i] = 0;
      const q = predict(x);
      centres.forEach((s, i) => {
        const site = occ.find((o) => o.row === s.row && o.col === s.col);
        // Reference: the saved model's own predict(); tolerance 1e-5 (float32 batches of different sizes).
        expect(Math.abs((site?.attribution[band] ?? NaN) - (p[i] - q[i]))).toBeLessThan(1e-5);
        expect(Math.abs(map.bands[b][s.row * N + s.col] - (p[i] - q[i]))).toBeLessThan(1e-5);
      });
    });
    for (const m of run.models.values()) m.dispose();
  });
});
