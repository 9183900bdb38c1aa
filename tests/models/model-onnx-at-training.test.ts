import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appendFileSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { crsFromEpsg } from '../../main/grid/crs.ts';
import type { GridSpec } from '../../main/grid/grid-spec.ts';
import { writeGeoTiff } from '../../main/io/geotiff-write.ts';
import { readGeoTiff } from '../../main/io/geotiff-read.ts';
import { buildSites } from '../../main/sites/build-sites.ts';
import { writeSitesGeoJson } from '../../main/sites/sites-geojson.ts';
import { loadableNames, readManifest } from '../../main/models/run-store.ts';
import { trainWorkflow } from '../../main/workflows/train.ts';
import { predictRunToGeoTiff } from '../../main/maps/parallel-predict.ts';
import { exportRunToOnnx, readSavedOnnx, ONNX_HEAD_FILE, ONNX_MODEL_FILE, ONNX_RECORD_FILE, ONNX_STEM_FILE } from '../../main/maps/onnx/export-run.ts';
import { Rng } from '../../main/util/rng.ts';
import { tempDir } from '../helpers/paths.ts';

/**
 * Issue 17 §2: `train` writes model.onnx (and the shared-stem graphs) for every network of the
 * run; `predict --engine onnx` uses them while onnx.json's hashes match, and exports again for
 * runs without them or whose files changed. Reference for "the same map": predict re-exporting
 * from the tfjs files, as it did before; the comparison is bit for bit.
 */
const grid: GridSpec = { originX: 500_000, originY: 4_600_000, cellSizeX: 1000, cellSizeY: 1000, rows: 16, cols: 16, crs: crsFromEpsg(32645) };
const deposits = [3 * 16 + 3, 3 * 16 + 12, 12 * 16 + 3, 12 * 16 + 12];
const negatives = [8 * 16 + 1, 1 * 16 + 8, 14 * 16 + 8, 8 * 16 + 14];
let dir = '';
let run = '';
let stack = '';
const logs: string[] = [];

beforeAll(async () => {
  dir = tempDir('onnx-at-train-');
  const rng = new Rng(8);
  const n = grid.rows * grid.cols;
  const bands = [0, 1, 2].map(() => Float32Array.from({ length: n }, () => Math.exp(rng.normal(1, 0.3))));
  for (const d of deposits) for (let dr = -1; dr <= 1; dr++) for (let dc = -1; dc <= 1; dc++) bands[0][d + dr * 16 + dc] *= 3 + rng.uniform();
  stack = join(dir, 'stack.tif');
  writeGeoTiff(stack, { grid, bandNames: ['Au', 'Cu', 'As'], bands });
  writeSitesGeoJson(join(dir, 'sites.geojson'), buildSites(grid, { depositCells: deposits, negatives: { kind: 'user', cells: negatives } }).set);
  run = join(dir, 'run');
  // Default engine (auto → onnx here); two seeds so fold and seed members are both covered.
  await trainWorkflow(
    { stack, sites: join(dir, 'sites.geojson'), model: 'cnn,dcn,logreg', epochs: 2, folds: 2, repeats: 1, patchSize: 5, seed: 3, seeds: 2, threads: 1, out: run },
    { log: (m) => logs.push(m) },
  );
}, 300_000);

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

const networks = (): string[] => loadableNames(readManifest(run), 'network');
const modelFolder = (name: string): string => join(run, 'models', name);

async function predictTo(name: string): Promise<Float32Array[]> {
  const out = join(dir, `${name}.tif`);
  await predictRunToGeoTiff(stack, out, { runDir: run, models: ['cnn', 'dcn'], threads: 1, engine: 'onnx', ensemble: 'all-folds', tileRows: 4, batchSize: 64 });
  return (await readGeoTiff(out)).bands;
}

const sameBits = (a: Float32Array, b: Float32Array): boolean => Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));

describe('model.onnx written at training time', () => {
  it('train writes model.onnx and onnx.json for every network (final, folds, seeds); the CNN also gets its shared-stem graphs; baselines none', () => {
    const names = networks();
    expect(names).toEqual(['cnn', 'cnn/fold-r0-f0', 'cnn/fold-r0-f1', 'cnn/seed-1', 'dcn', 'dcn/fold-r0-f0', 'dcn/fold-r0-f1', 'dcn/seed-1']);
    for (const name of names) {
      expect(existsSync(join(modelFolder(name), ONNX_MODEL_FILE)), name).toBe(true);
      expect(existsSync(join(modelFolder(name), ONNX_RECORD_FILE)), name).toBe(true);
      // Both models start with a 'same' stride-1 convolution, so both get shared-stem graphs (the DCN: its stem only).
      expect(existsSync(join(modelFolder(name), ONNX_STEM_FILE)), name).toBe(true);
      expect(existsSync(join(modelFolder(name), ONNX_HEAD_FILE)), name).toBe(true);
    }
    expect(existsSync(join(modelFolder('logreg'), ONNX_MODEL_FILE))).toBe(false);
    expect(logs.some((m) => /^model\.onnx written for 8 network\(s\) in \d/.test(m))).toBe(true);
  });

  it('predict uses the saved graphs; with them gone it re-exports the same bytes and writes the same map bits', async () => {
    const saved = await exportRunToOnnx(run, ['cnn', 'dcn']);
    expect(saved.origin).toEqual({ cnn: 'saved', dcn: 'saved' });
    const withSaved = await predictTo('with-saved');

    // An old run (before issue 17): no onnx.json anywhere, so every graph is exported again.
    const records = networks().map((n) => join(modelFolder(n), ONNX_RECORD_FILE));
    const kept = records.map((p) => readFileSync(p));
    for (const p of records) rmSync(p);
    const fresh = await exportRunToOnnx(run, ['cnn', 'dcn']);
    expect(fresh.origin).toEqual({ cnn: 'exported', dcn: 'exported' });
    // The training-time export is the predict-time one: the same bytes, graph for graph.
    for (let m = 0; m < 2; m++) {
      expect(Buffer.from(fresh.models[m].bytes).equals(Buffer.from(saved.models[m].bytes))).toBe(true);
      expect(Buffer.from(fresh.models[m].tile!.stem).equals(Buffer.from(saved.models[m].tile!.stem))).toBe(true);
      expect(Buffer.from(fresh.models[m].tile!.head).equals(Buffer.from(saved.models[m].tile!.head))).toBe(true);
      expect(fresh.models[m].tile!.sharing).toEqual(saved.models[m].tile!.sharing);
    }
    const reExported = await predictTo('re-exported');
    expect(withSaved.length).toBe(5); // p_cnn, p_dcn, sd_cnn, sd_dcn, window_mask
    for (let b = 0; b < withSaved.length; b++) expect(sameBits(withSaved[b], reExported[b]), `band ${b}`).toBe(true);
    // The probabilities vary over the map, so equal bits are not equal constants.
    expect(new Set(Array.from(withSaved[0]).filter((v) => !Number.isNaN(v))).size).toBeGreaterThan(20);
    records.forEach((p, i) => writeFileSync(p, kept[i]));
    expect((await exportRunToOnnx(run, ['cnn', 'dcn'])).origin).toEqual({ cnn: 'saved', dcn: 'saved' });
  });

  it('a changed graph, changed tfjs weights or a record without the shared-stem graphs is not trusted: that model is exported again', async () => {
    const folder = modelFolder('cnn');
    expect(readSavedOnnx(run, 'cnn')).not.toBeNull();
    // A graph file that changed after training.
    const graph = readFileSync(join(folder, ONNX_MODEL_FILE));
    appendFileSync(join(folder, ONNX_MODEL_FILE), Buffer.from([0]));
    expect(readSavedOnnx(run, 'cnn')).toBeNull();
    expect((await exportRunToOnnx(run, ['cnn', 'dcn'])).origin).toEqual({ cnn: 'exported', dcn: 'saved' });
    writeFileSync(join(folder, ONNX_MODEL_FILE), graph);
    // The tfjs weights changed since the export (onnx.json's source hash no longer matches).
    const weights = readFileSync(join(folder, 'weights.bin'));
    const changed = Buffer.from(weights);
    changed[changed.length - 1] ^= 1;
    writeFileSync(join(folder, 'weights.bin'), changed);
    expect(readSavedOnnx(run, 'cnn')).toBeNull();
    writeFileSync(join(folder, 'weights.bin'), weights);
    // Shared-stem graphs wanted but missing: exported again; without shareStem the per-window graph is used.
    const stem = readFileSync(join(folder, ONNX_STEM_FILE));
    rmSync(join(folder, ONNX_STEM_FILE));
    expect(readSavedOnnx(run, 'cnn')).toBeNull();
    expect(readSavedOnnx(run, 'cnn', false)?.bytes).toEqual(new Uint8Array(graph));
    writeFileSync(join(folder, ONNX_STEM_FILE), stem);
    expect(readSavedOnnx(run, 'cnn')).not.toBeNull();
  });
});
