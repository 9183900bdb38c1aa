import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { main } from '../../main/cli/main.ts';
import { generateDemoSurvey } from '../../main/demo/demo-survey.ts';
import type { GridSpec } from '../../main/grid/grid-spec.ts';
import { makeStack, type RasterStack } from '../../main/grid/raster.ts';
import { writeGeoTiff } from '../../main/io/geotiff-write.ts';
import { readGeoTiff } from '../../main/io/geotiff-read.ts';
import { buildSites } from '../../main/sites/build-sites.ts';
import { cellsFromPoints } from '../../main/sites/label-cells.ts';
import { writeSitesGeoJson } from '../../main/sites/sites-geojson.ts';
import type { SiteSet } from '../../main/sites/site-blocks.ts';
import { extractPatches } from '../../main/sites/patches.ts';
import { trainingDataFrom, type TrainingData } from '../../main/models/train.ts';
import { initBackend } from '../../main/models/backend.ts';
import { readManifest } from '../../main/models/run-store.ts';
import { rocAuc } from '../../main/eval/metrics.ts';
import { assertUsableSplit, blockLayout, holdoutSplit, regionCells, spatialBlocks } from '../../main/eval/region-holdout.ts';
import { holdoutRegions, runRegionHoldout } from '../../main/workflows/holdout-run.ts';
import { holdoutSpecFromArgs } from '../../main/workflows/train-holdout.ts';
import { Rng } from '../../main/util/rng.ts';
import { tempDir } from '../helpers/paths.ts';

// A small seeded demo survey (main/demo/demo-survey.ts): 40 × 30 cells of 500 m, 14 deposits.
// The stack is the survey's own truth halo seen through noise (Au, As carry it; Cu does not),
// so a model trained on one part of the area can find the deposits of another.
const survey = generateDemoSurvey({ seed: 11, widthM: 20_000, heightM: 15_000, depositCount: 14, sampleCount: 200 });
const grid: GridSpec = survey.truthGrid;
const rng = new Rng(4);
const n = grid.rows * grid.cols;
const bands = [
  Float32Array.from(survey.truthBand, (t) => Math.exp(2.5 * t + rng.normal(0, 0.25))),
  Float32Array.from({ length: n }, () => Math.exp(rng.normal(0, 0.3))),
  Float32Array.from(survey.truthBand, (t) => Math.exp(1.5 * t + rng.normal(0, 0.3))),
];
const stack: RasterStack = makeStack(grid, ['Au', 'Cu', 'As'], bands, 'stack.tif');
const depositCells = cellsFromPoints(
  grid,
  survey.deposits.features.map((f) => f.geometry.coordinates[0]),
  survey.deposits.features.map((f) => f.geometry.coordinates[1]),
).cells;
const sites: SiteSet = buildSites(grid, { depositCells, negatives: { kind: 'auto', count: 14, seed: 2, minDepositDistM: 1500 } }).set;
// The western ~40 % of the area, with a notch (a non-rectangular polygon, in the grid's CRS).
const x0 = grid.originX;
const y0 = grid.originY;
const ymin = y0 - grid.rows * grid.cellSizeY;
const polygon = {
  type: 'FeatureCollection',
  crs: { type: 'name', properties: { name: 'urn:ogc:def:crs:EPSG::32645' } },
  features: [
    {
      type: 'Feature',
      properties: { name: 'west' },
      geometry: {
        type: 'Polygon',
        coordinates: [[[x0 - 100, ymin - 100], [x0 + 8_130, ymin - 100], [x0 + 8_130, y0 - 6_020], [x0 + 6_010, y0 - 4_000], [x0 + 8_130, y0 + 100], [x0 - 100, y0 + 100], [x0 - 100, ymin - 100]]],
      },
    },
  ],
};
let dir = '';

beforeAll(async () => {
  dir = tempDir('holdout-');
  writeGeoTiff(join(dir, 'stack.tif'), { grid, bandNames: ['Au', 'Cu', 'As'], bands });
  writeSitesGeoJson(join(dir, 'sites.geojson'), sites);
  writeFileSync(join(dir, 'west.geojson'), JSON.stringify(polygon));
  await initBackend('auto');
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** The region as GDAL rasterises it (cell-centre rule) onto the same grid: the reference for regionCells. */
async function gdalRegion(): Promise<Float32Array> {
  const out = join(dir, 'west.tif');
  execFileSync('gdal_rasterize', ['-q', '-burn', '1', '-ot', 'Byte', '-init', '0', '-te', String(x0), String(ymin), String(x0 + grid.cols * grid.cellSizeX), String(y0), '-tr', String(grid.cellSizeX), String(grid.cellSizeY), join(dir, 'west.geojson'), out]);
  return (await readGeoTiff(out)).bands[0];
}

describe('region hold-out cells', () => {
  it('equal gdal_rasterize of the polygon (cell centres) on the stack grid', async () => {
    const ref = await gdalRegion();
    const mine = regionCells(grid, polygon.features as never, 'west.geojson');
    let inside = 0;
    for (let i = 0; i < n; i++) {
      expect(mine[i], `cell ${i}`).toBe(ref[i]);
      inside += mine[i];
    }
    // The notch matters: the region is neither empty nor a plain rectangle of whole columns.
    expect(inside).toBeGreaterThan(100);
    expect(inside % grid.rows).not.toBe(0);
  });

  it('names the problem: both flags, a polygon off the grid, a region that leaves one class', async () => {
    expect(() => holdoutSpecFromArgs({ holdoutRegion: 'a.gpkg', holdoutBlocks: 3 })).toThrow(/either --holdout-region POLYGON or --holdout-blocks N, not both/);
    expect(() => holdoutSpecFromArgs({ holdoutBlocks: 1 })).toThrow(/--holdout-blocks must be an integer ≥ 2, got 1/);
    // 100 km east of the grid: plausible coordinates for its CRS (degrees would be refused as such first).
    const ox = grid.originX + 100_000;
    const oy = grid.originY;
    const far = { ...polygon, features: [{ ...polygon.features[0], geometry: { type: 'Polygon', coordinates: [[[ox, oy], [ox + 1000, oy], [ox + 1000, oy + 1000], [ox, oy]]] } }] };
    writeFileSync(join(dir, 'far.geojson'), JSON.stringify(far));
    await expect(holdoutRegions({ kind: 'region', path: join(dir, 'far.geojson') }, grid)).rejects.toThrow(/covers no cell centre of the 30×40 grid. Check its CRS/);
    const everything = { name: 'all', cells: new Uint8Array(n).fill(1) };
    expect(() => assertUsableSplit(holdoutSplit(sites, everything), Int32Array.from(sites.sites, (s) => s.label), '--holdout-region all.gpkg')).toThrow(/leaves 0 deposit and 0 non-deposit training sample\(s\)/);
  });

  it('cuts N spatial blocks that tile the grid exactly once', () => {
    expect(blockLayout(grid, 4)).toEqual({ across: 2, down: 2 });
    expect(blockLayout(grid, 3)).toEqual({ across: 3, down: 1 });
    const blocks = spatialBlocks(grid, 6);
    expect(blocks).toHaveLength(6);
    const cover = new Uint8Array(n);
    for (const b of blocks) b.cells.forEach((v, i) => (cover[i] += v));
    expect(Array.from(cover).every((v) => v === 1)).toBe(true);
  });
});

describe('region hold-out split and training', () => {
  const patches = extractPatches(stack, sites, { size: 5 });
  const data = trainingDataFrom(patches);
  const region = { name: 'west', cells: regionCells(grid, polygon.features as never) };
  const split = holdoutSplit(sites, region);

  it('keeps every cell of a held-out group out of training and scores the deposits inside', () => {
    const groupInRegion = new Set(sites.sites.filter((s) => region.cells[s.row * grid.cols + s.col]).map((s) => s.groupId));
    expect(groupInRegion.size).toBeGreaterThan(0);
    for (const i of split.trainIdx) expect(groupInRegion.has(sites.sites[i].groupId)).toBe(false);
    expect(split.trainIdx.length + sites.sites.filter((s) => groupInRegion.has(s.groupId)).length).toBe(sites.sites.length);
    const expected = sites.sites.filter((s) => s.label === 1 && s.centre && region.cells[s.row * grid.cols + s.col]).map((s) => s.row * grid.cols + s.col);
    expect(split.depositCells.sort((a, b) => a - b)).toEqual(expected.sort((a, b) => a - b));
    expect(expected.length).toBeGreaterThanOrEqual(3);
  });

  /** The data with every held-out sample scrambled (labels flipped, patches replaced by noise). */
  function scrambled(which: readonly number[]): TrainingData {
    const x = Float32Array.from(data.x);
    const labels = Int32Array.from(data.labels as ArrayLike<number>);
    const size = data.patchSize * data.patchSize * data.channels;
    const r = new Rng(99);
    for (const i of which) {
      labels[i] = 1 - labels[i];
      for (let j = 0; j < size; j++) x[i * size + j] = r.normal(0, 3);
    }
    return { ...data, x, labels };
  }

  async function holdoutMaps(d: TrainingData): Promise<{ maps: Float32Array[]; auc: Record<string, number | null>; recomputed: Record<string, number> }> {
    const maps: Float32Array[] = [];
    const recomputed: Record<string, number> = {};
    const r = await runRegionHoldout({
      stack, sites, data: d, stats: patches.stats, networks: ['cnn'], baselines: ['logreg'], baselineFit: { bandNames: stack.bandNames },
      train: { epochs: 3, batchSize: 32, threads: 1, engine: 'tfjs', validationFraction: 0 }, seed: 5, regions: [region], flag: '--holdout-region west.geojson',
      onMaps: (s, names, m) => {
        maps.push(...m);
        // Reference: the map ROC AUC of deposit cells vs every other scored cell (metrics.ts rocAuc, checked against sklearn).
        names.forEach((name, k) => {
          const labels: number[] = [];
          const scores: number[] = [];
          for (let c = 0; c < n; c++) {
            if (s.exclude[c] || !Number.isFinite(m[k][c])) continue;
            labels.push(s.depositCells.includes(c) ? 1 : 0);
            scores.push(m[k][c]);
          }
          recomputed[name] = rocAuc(labels, scores);
        });
      },
    });
    return { maps, auc: Object.fromEntries(Object.entries(r.models).map(([k, v]) => [k, v.auc])), recomputed };
  }

  it('held-out samples never enter training: scrambling them leaves the hold-out maps bit-identical, scrambling a training sample does not', async () => {
    const base = await holdoutMaps(data);
    const heldOut = sites.sites.map((_, i) => i).filter((i) => !split.trainIdx.includes(i));
    const same = await holdoutMaps(scrambled(heldOut));
    for (let m = 0; m < base.maps.length; m++) expect(Array.from(same.maps[m])).toEqual(Array.from(base.maps[m]));
    // Control: the same change to training samples changes the maps (so the check above can fail).
    const other = await holdoutMaps(scrambled(split.trainIdx.slice(0, heldOut.length)));
    for (let m = 0; m < base.maps.length; m++) expect(Array.from(other.maps[m])).not.toEqual(Array.from(base.maps[m]));
    // The reported AUC is the ROC AUC of the map at the held-out deposits; tolerance 1e-9 (float64 sums of placements).
    for (const k of ['cnn', 'logreg']) expect(Math.abs((base.auc[k] as number) - base.recomputed[k])).toBeLessThan(1e-9);
    // A signal carried by Au/As everywhere transfers to the held-out west: logreg ranks its deposits high.
    expect(base.auc.logreg as number).toBeGreaterThan(0.8);
  });
});

describe('train --holdout-region / --holdout-blocks', () => {
  it('reports the hold-out map AUC with its bootstrap interval beside the grouped CV in metrics.json and the manifest', async () => {
    const code = await main(
      ['train', '--stack', join(dir, 'stack.tif'), '--sites', join(dir, 'sites.geojson'), '--model', 'cnn,logreg,index', '--index-elements', 'Au,As', '--epochs', '2', '--folds', '2', '--repeats', '1',
        '--patch-size', '5', '--seed', '3', '--threads', '1', '--engine', 'tfjs', '--holdout-region', join(dir, 'west.geojson'), '--out', join(dir, 'run')],
    );
    expect(code).toBe(0);
    const metrics = JSON.parse(readFileSync(join(dir, 'run', 'metrics.json'), 'utf8'));
    expect(Object.keys(metrics.holdout.models).sort()).toEqual(['cnn', 'index', 'logreg']);
    for (const k of ['cnn', 'logreg', 'index']) {
      const h = metrics.holdout.models[k];
      expect(h.deposits).toBeGreaterThanOrEqual(3);
      expect(h.auc).toBeGreaterThanOrEqual(0);
      expect(h.auc).toBeLessThanOrEqual(1);
      expect(h.ci95[0]).toBeLessThanOrEqual(h.auc);
      expect(h.ci95[1]).toBeGreaterThanOrEqual(h.auc);
      expect(h.ci95[0]).toBeGreaterThanOrEqual(0);
      expect(h.ci95[1]).toBeLessThanOrEqual(1);
      expect(h.cvAuc).toBeCloseTo(metrics[k].mean.auc, 12);
    }
    expect(readManifest(join(dir, 'run')).options.holdout).toEqual({ kind: 'region', path: join(dir, 'west.geojson') });
    // The report shows it beside the grouped CV (and metrics.json still reads as a run).
    expect(await main(['report', '--run', join(dir, 'run'), '--out', join(dir, 'report.html')])).toBe(0);
    const html = readFileSync(join(dir, 'report.html'), 'utf8');
    expect(html).toContain('Region hold-out (region ');
    expect(html).toContain(metrics.holdout.models.logreg.auc.toFixed(3));

    const code2 = await main(
      ['train', '--stack', join(dir, 'stack.tif'), '--sites', join(dir, 'sites.geojson'), '--model', 'logreg,index', '--index-elements', 'Au,As', '--folds', '2', '--repeats', '1',
        '--patch-size', '5', '--seed', '3', '--threads', '1', '--holdout-blocks', '2', '--out', join(dir, 'run2')],
    );
    expect(code2).toBe(0);
    const m2 = JSON.parse(readFileSync(join(dir, 'run2', 'metrics.json'), 'utf8'));
    expect(m2.holdout.models.logreg.regions).toHaveLength(2);
    // Pooled over blocks: every deposit scored once, by the model that did not see its block.
    expect(m2.holdout.models.logreg.deposits).toBe(m2.holdout.models.logreg.regions.reduce((a: number, r: { deposits: number }) => a + r.deposits, 0));
  });
});
