/**
 * `geoanomaly train` convergence flags and trust warnings: --min-epochs, --lr-schedule,
 * --patience, --augment, --noise-sd reach every fit and the manifest; the manifest holds each
 * final model's learning curve with a, b and the geology share (both engines); a run that
 * learns nothing carries its warnings (stderr and manifest.json `warnings`).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../main/cli/main.ts';
import { crsFromEpsg } from '../../main/grid/crs.ts';
import type { GridSpec } from '../../main/grid/grid-spec.ts';
import { writeGeoTiff } from '../../main/io/geotiff-write.ts';
import { buildSites } from '../../main/sites/build-sites.ts';
import { writeSitesGeoJson } from '../../main/sites/sites-geojson.ts';
import { readManifest } from '../../main/models/run-store.ts';
import { LearningRateSchedule } from '../../main/models/lr-schedule.ts';
import { Rng } from '../../main/util/rng.ts';
import { writeRunReport } from '../../main/export/run-report.ts';

const grid: GridSpec = { originX: 500_000, originY: 4_600_000, cellSizeX: 1000, cellSizeY: 1000, rows: 20, cols: 20, crs: crsFromEpsg(32645) };
const deposits = [4 * 20 + 4, 4 * 20 + 15, 15 * 20 + 4, 15 * 20 + 15];
const negatives = [10 * 20 + 2, 2 * 20 + 10, 17 * 20 + 10, 10 * 20 + 17];
let dir = '';

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'train-convergence-cli-'));
  // No signal in the stack (random log-normal bands): nothing to learn, so the trust checks fire.
  const rng = new Rng(4);
  const n = grid.rows * grid.cols;
  const bands = [0, 1].map(() => Float32Array.from({ length: n }, () => Math.exp(rng.normal(1, 0.3))));
  writeGeoTiff(join(dir, 'stack.tif'), { grid, bandNames: ['Au', 'Cu'], bands });
  const w = Float32Array.from({ length: n }, (_, i) => (deposits.includes(i) ? 0.9 : 0.1 + 0.1 * rng.uniform()));
  writeGeoTiff(join(dir, 'w.tif'), { grid, bandNames: ['fault_weight'], bands: [w] });
  writeSitesGeoJson(join(dir, 'sites.geojson'), buildSites(grid, { depositCells: deposits, negatives: { kind: 'user', cells: negatives } }).set);
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

const base = (out: string, extra: string[]): string[] => [
  'train', '--stack', join(dir, 'stack.tif'), '--sites', join(dir, 'sites.geojson'), '--knowledge', join(dir, 'w.tif'),
  '--folds', '2', '--repeats', '1', '--patch-size', '5', '--threads', '1', '--batch', '16', '--out', out, ...extra,
];

async function run(argv: string[]): Promise<{ code: number; err: string }> {
  const lines: string[] = [];
  const orig = process.stderr.write.bind(process.stderr);
  process.stderr.write = ((chunk: string | Uint8Array): boolean => {
    lines.push(String(chunk));
    return true;
  }) as typeof process.stderr.write;
  try {
    return { code: await main(argv), err: lines.join('') };
  } finally {
    process.stderr.write = orig;
  }
}

describe('geoanomaly train: convergence flags', () => {
  for (const engine of ['tfjs', 'onnx'] as const) {
    it(`${engine}: the flags reach the fits; the manifest holds the learning curve with a, b and the geology share`, async () => {
      const out = join(dir, `run-${engine}`);
      const { code } = await run(
        base(out, ['--model', 'gk-dcn', '--engine', engine, '--epochs', '4', '--min-epochs', '3', '--patience', '2', '--lr-schedule', 'cosine', '--augment', 'dihedral,noise,shift', '--noise-sd', '0.05', '--shift-radius', '1']),
      );
      expect(code).toBe(0);
      const m = readManifest(out);
      const train = (m.options as { train: Record<string, unknown> }).train;
      expect(train).toMatchObject({ minEpochs: 3, patience: 2, lrSchedule: 'cosine', augment: ['dihedral', 'noise', 'shift'], noiseSd: 0.05 });
      const g = m.models['gk-dcn'];
      expect(g.engine).toBe(engine);
      expect(g.epochs).toBeGreaterThanOrEqual(3); // --min-epochs 3: the kept epoch is 3 or 4
      expect(g.history).toHaveLength(4);
      const ref = new LearningRateSchedule({ schedule: 'cosine', learningRate: 1e-3, epochs: 4 });
      for (const h of g.history!) {
        expect(h.learningRate).toBe(ref.rateFor(h.epoch));
        expect(h.trainLoss).toBeGreaterThan(0);
        expect(h.valLoss).toBeGreaterThan(0);
        expect(h.geologyShare).toBeGreaterThan(0);
        expect(h.a).toHaveLength(1);
        expect(typeof h.b).toBe('number');
      }
      expect(g.geology).toEqual({ a: g.history![g.epochs - 1].a, b: g.history![g.epochs - 1].b });
      expect(g.geologyShare).toBe(g.history![g.epochs - 1].geologyShare);
      expect(Array.isArray(m.warnings)).toBe(true);
    });
  }

  it('a run that learns nothing warns on stderr and in the manifest, with the fix', async () => {
    const out = join(dir, 'run-flat');
    // lr 1e-6 for 3 epochs: the validation loss cannot move by 1%, and predictions stay one class.
    const { code, err } = await run(base(out, ['--model', 'cnn', '--engine', 'tfjs', '--epochs', '3', '--lr', '0.000001']));
    expect(code).toBe(0);
    const m = readManifest(out);
    const codes = (m.warnings ?? []).map((w) => w.code);
    expect(codes).toContain('validation-never-improves');
    for (const w of m.warnings ?? []) {
      expect(w.subject).toBe('cnn');
      expect(w.fix).toMatch(/--/);
      expect(err).toContain(`warning [${w.code}] cnn:`);
    }
    // The report lists the run's warnings, and a saturated map's (p_cnn ≤ 0.01 on 90% of the cells).
    const n = grid.rows * grid.cols;
    const prob = join(dir, 'saturated.tif');
    writeGeoTiff(prob, { grid, bandNames: ['p_cnn'], bands: [Float32Array.from({ length: n }, (_, i) => (i < 0.9 * n ? 0.001 : 0.5))] });
    const html = join(dir, 'report.html');
    const { report } = await writeRunReport(out, html, { map: prob });
    expect(report.warnings.map((w) => w.code)).toEqual([...codes, 'map-saturated']);
    const text = readFileSync(html, 'utf8');
    expect(text).toContain('Warnings: results not to trust as they stand');
    for (const c of [...codes, 'map-saturated']) expect(text).toContain(`warning [${c}]`);
    // The learning curve of the final model is plotted.
    expect(report.charts.map((c) => c.caption)).toContainEqual(expect.stringMatching(/^cnn: learning curve of the final model/));
  });

  it('bad values are refused with the flag named', async () => {
    expect((await run(base(join(dir, 'bad1'), ['--model', 'cnn', '--lr-schedule', 'step']))).err).toMatch(/--lr-schedule cosine/);
    expect((await run(base(join(dir, 'bad2'), ['--model', 'cnn', '--augment', 'rotate']))).err).toMatch(/--augment dihedral,noise/);
    expect(await main(base(join(dir, 'bad3'), ['--model', 'cnn', '--min-epochs', '0']))).not.toBe(0);
  });
});
