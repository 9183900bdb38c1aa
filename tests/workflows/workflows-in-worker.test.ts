import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crsFromEpsg } from '../../main/grid/crs.ts';
import type { GridSpec } from '../../main/grid/grid-spec.ts';
import { writeGeoTiff } from '../../main/io/geotiff-write.ts';
import { readGeoTiff } from '../../main/io/geotiff-read.ts';
import { buildSites } from '../../main/sites/build-sites.ts';
import { writeSitesGeoJson } from '../../main/sites/sites-geojson.ts';
import { readManifest } from '../../main/models/run-store.ts';
import { Rng } from '../../main/util/rng.ts';
import { CancelledError, InvalidOptionError } from '../../main/errors.ts';
import { runWorkflow } from '../../main/workflows/registry.ts';
import { runWorkflowInWorker } from '../../main/workflows/run-in-worker.ts';
import { krigeResultLines, type KrigeWorkflowOptions } from '../../main/workflows/krige.ts';
import type { TrainWorkflowOptions } from '../../main/workflows/train.ts';
import type { EpochProgress } from '../../main/jobs/progress-detail.ts';

/**
 * Issue 17 §1: a workflow runs as well in a worker thread as in the calling thread (same typed
 * result, same bits on disk), its result carries paths, metrics and the learning history as
 * data, and cancel stops it.
 */
let dir = '';
// A 24 × 24 survey of 3 elements on 1 km cells; Au is raised around four deposit cells
// (the fixture of tests/models/train-cli.test.ts).
const grid: GridSpec = { originX: 500_000, originY: 4_600_000, cellSizeX: 1000, cellSizeY: 1000, rows: 24, cols: 24, crs: crsFromEpsg(32645) };
const deposits = [5 * 24 + 5, 5 * 24 + 18, 18 * 24 + 5, 18 * 24 + 18];
const negatives = [11 * 24 + 2, 2 * 24 + 11, 21 * 24 + 11, 11 * 24 + 21];

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'workflows-'));
  const rng = new Rng(5);
  // 60 seeded samples of two elements with a trend, in UTM metres.
  const rows = ['x,y,Cu,Zn'];
  for (let i = 0; i < 60; i++) {
    const x = 500_000 + rng.uniform() * 20_000;
    const y = 4_600_000 + rng.uniform() * 20_000;
    rows.push(`${x.toFixed(1)},${y.toFixed(1)},${(10 + x / 5000 - 100 + rng.normal(0, 1)).toFixed(3)},${(5 + y / 4000 - 1150 + rng.normal(0, 0.5)).toFixed(3)}`);
  }
  writeFileSync(join(dir, 'samples.csv'), rows.join('\n') + '\n');
  const n = grid.rows * grid.cols;
  const bands = [0, 1, 2].map(() => Float32Array.from({ length: n }, () => Math.exp(rng.normal(1, 0.3))));
  for (const d of deposits) {
    const r = Math.floor(d / 24);
    const c = d % 24;
    for (let dr = -2; dr <= 2; dr++) for (let dc = -2; dc <= 2; dc++) bands[0][(r + dr) * 24 + c + dc] *= 4;
  }
  writeGeoTiff(join(dir, 'stack.tif'), { grid, bandNames: ['Au', 'Cu', 'As'], bands });
  writeSitesGeoJson(join(dir, 'sites.geojson'), buildSites(grid, { depositCells: deposits, negatives: { kind: 'user', cells: negatives } }).set);
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

const krigeOptions = (tag: string): KrigeWorkflowOptions => ({
  samples: join(dir, 'samples.csv'),
  x: 'x',
  y: 'y',
  crs: 'EPSG:32645',
  fields: 'all',
  cell: 1000,
  out: join(dir, `krige-${tag}.tif`),
  variance: join(dir, `krige-${tag}-var.tif`),
  cv: join(dir, `krige-${tag}-cv.json`),
  threads: 1,
});

describe('krige workflow', () => {
  it('gives the same typed result and the same bits in the calling thread and in a worker', async () => {
    const here = await runWorkflow('krige', krigeOptions('here'));
    const logs: string[] = [];
    const progress: number[] = [];
    const there = await runWorkflowInWorker('krige', krigeOptions('worker'), { log: (l) => logs.push(l), progress: (f) => progress.push(f) });
    // Everything but the output paths is identical (exact: same code, same inputs).
    const strip = (r: typeof here) => ({ ...r, outputs: {} });
    expect(strip(there)).toEqual(strip(here));
    expect(there.outputs).toEqual({ prediction: join(dir, 'krige-worker.tif'), variance: join(dir, 'krige-worker-var.tif'), cv: join(dir, 'krige-worker-cv.json') });
    // Worker log lines and progress reach the caller.
    expect(logs.some((l) => /^kriging 2 element\(s\) from 60 samples onto \d+×\d+ cells of 1000 m$/.test(l))).toBe(true);
    expect(progress.length).toBeGreaterThan(0);
    // The files are bit-identical.
    const a = await readGeoTiff(here.outputs.prediction);
    const b = await readGeoTiff(there.outputs.prediction);
    expect(b.bandNames).toEqual(['Cu', 'Zn']);
    for (let i = 0; i < a.bands.length; i++) expect(Buffer.from(b.bands[i].buffer).equals(Buffer.from(a.bands[i].buffer))).toBe(true);
    // The typed result is what the files say: per element the model, and the CV summary of cv.json.
    const cvJson = JSON.parse(readFileSync(there.outputs.cv as string, 'utf8')) as { elements: { name: string; modelSpec: string; summary: unknown }[] };
    expect(there.elements.map((e) => e.name)).toEqual(['Cu', 'Zn']);
    for (const e of there.elements) {
      const j = cvJson.elements.find((x) => x.name === e.name);
      expect(e.cv).toEqual(j?.summary);
      expect(e.modelSpec).toBe(j?.modelSpec);
      expect(e.fitSse).not.toBeNull();
    }
    expect(there.grid).toEqual({ cols: a.grid.cols, rows: a.grid.rows, cellSizeM: 1000, crs: a.grid.crs?.name });
    // The CLI's lines come from the result: one per element, then the files.
    const lines = krigeResultLines(there);
    expect(lines[0]).toMatch(/^Cu {7}\S.* \(fitted, weighted SSE /);
    expect(lines).toContain(`wrote ${there.outputs.prediction}`);
    expect(lines.at(-1)).toBe(`wrote ${there.outputs.cv}`);
  });

  it('a bad option fails in the worker with the same named error as in the calling thread', async () => {
    const bad = { ...krigeOptions('bad'), model: 'linear' };
    await expect(runWorkflow('krige', bad)).rejects.toThrow(InvalidOptionError);
    const e = await runWorkflowInWorker('krige', bad).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(InvalidOptionError);
    expect((e as Error).message).toBe('geoanomaly krige: --model must be auto, sph, exp or gau, got "linear"');
  });
});

const trainOptions = (out: string): TrainWorkflowOptions => ({
  stack: join(dir, 'stack.tif'),
  sites: join(dir, 'sites.geojson'),
  model: 'cnn,logreg',
  epochs: 3,
  folds: 2,
  repeats: 1,
  patchSize: 5,
  seed: 3,
  threads: 1,
  engine: 'tfjs',
  out: join(dir, out),
});

describe('train workflow', () => {
  it('gives the same metrics and learning history in the calling thread and in a worker, typed', async () => {
    const here = await runWorkflow('train', trainOptions('run-here'));
    const details: EpochProgress[] = [];
    const there = await runWorkflowInWorker('train', trainOptions('run-worker'), { progress: (_f, _m, d) => d && details.push(d) });
    expect(there.models.map((m) => [m.kind, m.type])).toEqual([['cnn', 'network'], ['logreg', 'baseline']]);
    // Seeded training: same inputs + seed → same numbers, in either thread.
    expect(there.models.map((m) => m.cv)).toEqual(here.models.map((m) => m.cv));
    const net = there.models[0];
    expect(net.history).toEqual(here.models[0].history);
    // The history is data: one record per epoch run (at most --epochs), the manifest's own.
    expect(net.history?.length).toBeGreaterThanOrEqual(1);
    expect(net.history?.length).toBeLessThanOrEqual(3);
    for (const h of net.history ?? []) expect(Number.isFinite(h.trainLoss)).toBe(true);
    const manifest = readManifest(there.outputs.runDir);
    expect(manifest.models.cnn.history).toEqual(net.history);
    expect(net.epochs).toBe(manifest.models.cnn.epochs);
    // The learning curve reached the caller as typed epoch events through the worker (no message
    // parsing): 2 fold models then the final model, each epoch 1, 2, … of at most 3, and the final
    // model's points are its history (float64 loss, exact).
    expect(details.every((d) => d.kind === 'epoch' && d.model === 'cnn' && d.epochs === 3)).toBe(true);
    const runs = details.reduce((n, d) => n + (d.epoch === 1 ? 1 : 0), 0);
    expect(runs).toBe(3);
    const finalPoints = details.slice(-(net.history?.length ?? 0));
    expect(finalPoints.map((d) => [d.epoch, d.loss, d.valLoss])).toEqual((net.history ?? []).map((h) => [h.epoch, h.trainLoss, h.valLoss ?? null]));
    // Metrics are metrics.json's; paths point at the written files.
    const metrics = JSON.parse(readFileSync(there.outputs.metrics, 'utf8')) as Record<string, { mean: Record<string, number> }>;
    expect(net.cv.mean).toEqual(metrics.cnn.mean);
    expect(there.models[1].cv.mean).toEqual(metrics.logreg.mean);
    expect(there.outputs.manifest).toBe(join(dir, 'run-worker', 'manifest.json'));
    expect(there.comparisons.map((c) => [c.a, c.b])).toEqual([['cnn', 'logreg']].filter(() => there.comparisons.length > 0));
  });

  it('cancel stops a running train in a worker with CancelledError', async () => {
    const ac = new AbortController();
    let started = false;
    const run = runWorkflowInWorker('train', { ...trainOptions('run-cancel'), model: 'cnn', epochs: 200, patience: 200, folds: 3 }, {
      signal: ac.signal,
      progress: () => {
        // Cancel once the training has reported progress (it is really running).
        if (!started) {
          started = true;
          ac.abort();
        }
      },
    }, 20_000);
    await expect(run).rejects.toThrow(CancelledError);
    expect(started).toBe(true);
  });

  it('a job cancelled before it starts rejects with CancelledError and starts no worker', async () => {
    const ac = new AbortController();
    ac.abort();
    await expect(runWorkflowInWorker('krige', krigeOptions('pre'), { signal: ac.signal })).rejects.toThrow(CancelledError);
    expect(existsSync(join(dir, 'krige-pre.tif'))).toBe(false);
  });
});
