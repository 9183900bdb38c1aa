import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { main } from '../../main/cli/main.ts';
import { crsFromEpsg } from '../../main/grid/crs.ts';
import type { GridSpec } from '../../main/grid/grid-spec.ts';
import { writeGeoTiff } from '../../main/io/geotiff-write.ts';
import { readGeoTiff } from '../../main/io/geotiff-read.ts';
import { buildSites } from '../../main/sites/build-sites.ts';
import { writeSitesGeoJson } from '../../main/sites/sites-geojson.ts';
import { ensembleMembers, readManifest } from '../../main/models/run-store.ts';
import { predictRunToGeoTiff } from '../../main/maps/parallel-predict.ts';
import { initBackend } from '../../main/models/backend.ts';
import { Rng } from '../../main/util/rng.ts';
import { tempDir } from '../helpers/paths.ts';

// 16 × 16 cells, three elements, Au raised around four deposits (as tests/maps/ensemble-predict).
const grid: GridSpec = { originX: 500_000, originY: 4_600_000, cellSizeX: 1000, cellSizeY: 1000, rows: 16, cols: 16, crs: crsFromEpsg(32645) };
const deposits = [3 * 16 + 3, 3 * 16 + 12, 12 * 16 + 3, 12 * 16 + 12];
const negatives = [8 * 16 + 1, 1 * 16 + 8, 14 * 16 + 8, 8 * 16 + 14];
let dir = '';

beforeAll(async () => {
  dir = tempDir('seeds-');
  const rng = new Rng(6);
  const n = grid.rows * grid.cols;
  const bands = [0, 1, 2].map(() => Float32Array.from({ length: n }, () => Math.exp(rng.normal(1, 0.3))));
  for (const d of deposits) for (let dr = -1; dr <= 1; dr++) for (let dc = -1; dc <= 1; dc++) bands[0][d + dr * 16 + dc] *= 3 + rng.uniform();
  writeGeoTiff(join(dir, 'stack.tif'), { grid, bandNames: ['Au', 'Cu', 'As'], bands });
  writeSitesGeoJson(join(dir, 'sites.geojson'), buildSites(grid, { depositCells: deposits, negatives: { kind: 'user', cells: negatives } }).set);
  expect(await main(['train', '--stack', join(dir, 'stack.tif'), '--sites', join(dir, 'sites.geojson'), '--model', 'cnn,logreg', '--epochs', '2', '--folds', '2', '--repeats', '1',
    '--patch-size', '3', '--seed', '3', '--seeds', '3', '--threads', '1', '--engine', 'tfjs', '--out', join(dir, 'run')])).toBe(0);
  await initBackend('auto');
}, 120_000);

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('train --seeds N / predict --seeds N', () => {
  it('stores N − 1 seed members per network; predict --seeds 1 gives sd 0; --seeds 3 gives mean and sd (n − 1) of the members (numpy)', async () => {
    const run = join(dir, 'run');
    const m = readManifest(run);
    expect(m.models.cnn.seeds?.map((s) => s.name)).toEqual(['cnn/seed-1', 'cnn/seed-2']);
    expect(ensembleMembers(m, 'cnn', 'seeds', 3)).toEqual(['cnn', 'cnn/seed-1', 'cnn/seed-2']);
    expect(() => ensembleMembers(m, 'cnn', 'seeds', 4)).toThrow(/stores 3 seed\(s\) of cnn.*train --seeds 4/);

    expect(await main(['predict', '--run', run, '--stack', join(dir, 'stack.tif'), '--seeds', '1', '--threads', '1', '--engine', 'tfjs', '--out', join(dir, 's1.tif')])).toBe(0);
    const s1 = await readGeoTiff(join(dir, 's1.tif'));
    for (const k of ['cnn', 'logreg']) expect(Array.from(s1.bands[s1.bandNames.indexOf(`sd_${k}`)]).every((v) => v === 0)).toBe(true);

    expect(await main(['predict', '--run', run, '--stack', join(dir, 'stack.tif'), '--seeds', '3', '--threads', '1', '--engine', 'tfjs', '--out', join(dir, 's3.tif')])).toBe(0);
    const members = ['cnn', 'cnn/seed-1', 'cnn/seed-2'];
    const files = members.map((_, i) => join(dir, `member-${i}.tif`));
    for (const [i, name] of members.entries()) await predictRunToGeoTiff(join(dir, 'stack.tif'), files[i], { runDir: run, models: [name], threads: 1, engine: 'tfjs' });
    // Reference: numpy mean and std(ddof=1) over the members' maps, read with GDAL.
    const py = [
      'import sys, json, numpy as np',
      'from osgeo import gdal',
      'ds = [gdal.Open(f) for f in sys.argv[1:]]  # keep the datasets alive while their bands are read',
      'a = np.stack([d.GetRasterBand(1).ReadAsArray().astype(np.float64) for d in ds])',
      'print(json.dumps({"mean": a.mean(0).ravel().tolist(), "sd": a.std(0, ddof=1).ravel().tolist()}))',
    ].join('\n');
    const r = spawnSync('/usr/bin/python3', ['-c', py, ...files], { encoding: 'utf8', maxBuffer: 64 << 20 });
    expect(r.status, r.stderr).toBe(0);
    const ref = JSON.parse(r.stdout) as { mean: number[]; sd: number[] };
    const s3 = await readGeoTiff(join(dir, 's3.tif'));
    const mean = s3.bands[s3.bandNames.indexOf('p_cnn')];
    const sd = s3.bands[s3.bandNames.indexOf('sd_cnn')];
    let maxSd = 0;
    for (let c = 0; c < mean.length; c++) {
      // Tolerance 1e-6: float32 storage of the bands.
      expect(Math.abs(mean[c] - ref.mean[c])).toBeLessThan(1e-6);
      expect(Math.abs(sd[c] - ref.sd[c])).toBeLessThan(1e-6);
      maxSd = Math.max(maxSd, ref.sd[c]);
    }
    // The seeds really differ (an ensemble of copies would test nothing).
    expect(maxSd).toBeGreaterThan(1e-3);
    // A baseline has no seed members: its seeds ensemble is the final model alone.
    expect(Array.from(s3.bands[s3.bandNames.indexOf('sd_logreg')]).every((v) => v === 0)).toBe(true);
  });
});
