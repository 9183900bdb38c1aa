import { describe, expect, it, vi } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../main/cli/main.ts';
import { formatHelp } from '../../main/cli/command.ts';
import { xrfCommand } from '../../main/cli/commands/xrf.ts';
import { syntheticSample } from '../../main/xrf/synthetic.ts';
import { normalizeCube } from '../../main/xrf/cube.ts';
import { globalRx, localRx } from '../../main/xrf/rx.ts';
import { pixelGrid } from '../../main/xrf/detection-output.ts';
import { encodePng } from '../../main/xrf/png.ts';
import { writeGeoTiff } from '../../main/io/geotiff-write.ts';
import { rocAuc } from '../../main/eval/metrics.ts';
import { InvalidOptionError } from '../../main/errors.ts';
import { optionsFromRequest } from '../../main/workflows/option-table.ts';
import { runWorkflowInWorker } from '../../main/workflows/run-in-worker.ts';
import { XRF_OPTIONS, xrfResultLines, xrfWorkflow } from '../../main/workflows/xrf.ts';
import { runtimeImportsOutsideRepo } from '../helpers/node-free.ts';
import { REPO_ROOT } from '../helpers/paths.ts';

/**
 * Issue 17 §1: "xrf" as a workflow: called directly it writes what the CLI wrote and returns the
 * metrics and output paths as data; --help is unchanged; it runs the same in a worker.
 * The references are those of tests/xrf/cli.test.ts (the detectors called directly).
 */
const tmp = (): string => mkdtempSync(join(tmpdir(), 'wf-xrf-'));

function writeCubeTiff(path: string, s: ReturnType<typeof syntheticSample>): void {
  const { rows, cols, bandCount: B, pixels } = s.cube;
  const bands = Array.from({ length: B }, (_, b) => Float32Array.from({ length: rows * cols }, (_, i) => pixels[i * B + b]));
  writeGeoTiff(path, { grid: pixelGrid(rows, cols), bandNames: s.cube.bandNames, bands });
}

describe('xrf workflow', () => {
  it('keeps "geoanomaly xrf --help" byte-identical (tests/fixtures/help/xrf.txt, captured before the move)', () => {
    expect(formatHelp(xrfCommand)).toBe(readFileSync(join(REPO_ROOT, 'tests/fixtures/help/xrf.txt'), 'utf8'));
  });

  it('has its option table and result type Node-free (the renderer may import them): no node: or package import, even transitively', () => {
    expect(runtimeImportsOutsideRepo('main/workflows/xrf-options.ts')).toEqual([]);
    expect(runtimeImportsOutsideRepo('main/workflows/xrf-result.ts')).toEqual([]);
    // The workflow itself is not (it reads and writes files): the check sees its imports.
    expect(runtimeImportsOutsideRepo('main/workflows/xrf.ts').some((i) => / → node:/.test(i))).toBe(true);
  });

  it('scores a TIFF cube against a PNG mask and returns every metric and output path as data', async () => {
    const dir = tmp();
    const s = syntheticSample({ rows: 32, cols: 36, channels: 20, seed: 8 });
    writeCubeTiff(join(dir, 'cube.tif'), s);
    const truth = s.cube.truth!;
    writeFileSync(join(dir, 'mask.png'), encodePng({ width: 36, height: 32, channels: 1, pixels: Uint8Array.from(truth, (v) => v * 255) }));
    const out = join(dir, 'out');
    const logs: string[] = [];
    const r = await xrfWorkflow({ cube: join(dir, 'cube.tif'), truth: join(dir, 'mask.png'), method: 'rx,lrx', threads: 1, out }, { log: (l) => logs.push(l) });
    expect(Object.keys(r.methods)).toEqual(['rx', 'lrx']);
    // Reference: the detectors on the min–max normalised cube (the default); LRX exact, RX (float64
    // GEMMs on ONNX Runtime vs the JS loops, tests/xrf/rx-fast.test.ts) within 1e-9.
    const x = normalizeCube(s.cube, 'minmax-band');
    expect(Math.abs(r.methods.rx.auc! - rocAuc(truth, globalRx(x)))).toBeLessThanOrEqual(1e-9);
    expect(r.methods.lrx.auc).toBe(rocAuc(truth, localRx(x)));
    expect(r.outputs).toEqual({
      dir: out,
      metrics: join(out, 'metrics.json'),
      spectralAxis: join(out, 'spectral-axis.json'),
      roc: join(out, 'roc.json'),
      separability: join(out, 'separability.json'),
      separabilityPlot: join(out, 'separability.png'),
    });
    for (const p of Object.values(r.outputs)) expect(existsSync(p)).toBe(true);
    expect(r.methods.rx.scoreTiff).toBe(join(out, 'rx-score.tif'));
    expect(existsSync(r.methods.lrx.scorePng)).toBe(true);
    // The result's metrics are metrics.json's, and the truth is named.
    expect(JSON.parse(readFileSync(r.outputs.metrics, 'utf8'))).toEqual(r.methods);
    expect(r.truth).toBe(join(dir, 'mask.png'));
    expect(r.cube).toEqual({ source: join(dir, 'cube.tif'), rows: 32, cols: 36, bands: 20, pixelSizeUm: null });
    expect(logs.some((l) => l.startsWith('cube 32×36×20 from '))).toBe(true);
    expect(xrfResultLines(r).at(-1)).toBe(`metrics: ${out}/metrics.json`);
  });

  it('without a truth mask: no AUC, no ROC files; the CLI prints xrfResultLines; a worker gives the same maps', async () => {
    const dir = tmp();
    const s = syntheticSample({ rows: 16, cols: 16, channels: 10, seed: 1 });
    writeCubeTiff(join(dir, 'cube.tif'), s);
    const r = await xrfWorkflow({ cube: join(dir, 'cube.tif'), method: 'lrx', out: join(dir, 'o') });
    expect(r.methods.lrx.auc).toBeUndefined();
    expect(r.truth).toBeNull();
    expect(r.outputs.roc).toBeUndefined();
    expect(existsSync(join(dir, 'o', 'roc.json'))).toBe(false);
    const printed: string[] = [];
    const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => (printed.push(String(chunk)), true));
    try {
      expect(await main(['xrf', '--cube', join(dir, 'cube.tif'), '--method', 'lrx', '--out', join(dir, 'cli')])).toBe(0);
    } finally {
      spy.mockRestore();
    }
    const cli = JSON.parse(readFileSync(join(dir, 'cli', 'metrics.json'), 'utf8'));
    const expected = xrfResultLines({ ...r, outputs: { ...r.outputs, dir: join(dir, 'cli') }, methods: { lrx: { ...r.methods.lrx, seconds: cli.lrx.seconds, scoreTiff: join(dir, 'cli', 'lrx-score.tif') } } });
    expect(printed.join('')).toBe(expected.map((l) => `${l}\n`).join(''));
    const there = await runWorkflowInWorker('xrf', { cube: join(dir, 'cube.tif'), method: 'lrx', out: join(dir, 'w') });
    expect(readFileSync(there.methods.lrx.scoreTiff)).toEqual(readFileSync(r.methods.lrx.scoreTiff));
    expect({ ...there.methods.lrx, seconds: 0, scoreTiff: '', scorePng: '' }).toEqual({ ...r.methods.lrx, seconds: 0, scoreTiff: '', scorePng: '' });
  });

  it('refuses what the CLI refuses, by name', async () => {
    const dir = tmp();
    const s = syntheticSample({ rows: 8, cols: 8, channels: 4, seed: 2 });
    writeCubeTiff(join(dir, 'cube.tif'), s);
    const cube = join(dir, 'cube.tif');
    await expect(xrfWorkflow({ cube, method: 'pca', out: join(dir, 'o') })).rejects.toThrow(new InvalidOptionError('geoanomaly xrf: --method "pca" is not one of msfa, rx, lrx, autoad, all'));
    await expect(xrfWorkflow({ cube, method: 'rx', ablation: 'nothing', out: join(dir, 'o') })).rejects.toThrow(/--ablation must be one of none, no-attention, no-groups, no-orthogonal, got "nothing"/);
    await expect(xrfWorkflow({ cube, method: 'rx', epochs: 0, out: join(dir, 'o') })).rejects.toThrow(/--epochs must be a positive integer, got 0/);
    await expect(xrfWorkflow({ method: 'rx', out: join(dir, 'o') })).rejects.toThrow(/--cube is required/);
    expect(() => optionsFromRequest(XRF_OPTIONS, { cube, epochs: 'many' }, 'xrf')).toThrow(/--epochs must be a number, got "many"/);
    expect(optionsFromRequest(XRF_OPTIONS, { cube, 'drop-bands': 'a,b', epochs: 3 }, 'xrf')).toEqual({ cube, dropBands: 'a,b', epochs: 3 });
  });
});
