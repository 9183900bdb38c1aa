import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { crsFromEpsg } from '../../main/grid/crs.ts';
import type { GridSpec } from '../../main/grid/grid-spec.ts';
import { writeGeoTiff } from '../../main/io/geotiff-write.ts';
import { readGeoTiff } from '../../main/io/geotiff-read.ts';
import { CancelledError, InvalidOptionError } from '../../main/errors.ts';
import { formatHelp } from '../../main/commands/command.ts';
import { rpcaCommand } from '../../main/cli/commands/rpca.ts';
import { rpcaResultLines, rpcaWorkflow } from '../../main/workflows/rpca.ts';
import { runWorkflowInWorker } from '../../main/workflows/run-in-worker.ts';
import { runWorkflowJob } from '../../main/api/workflow-job.ts';
import { tempDir } from '../helpers/paths.ts';

/**
 * The rpca workflow called directly (issue 17 §1). References:
 * - R robustbase 0.95 covMcd(nsamp = "deterministic") on the data of tests/fixtures/rpca/mcd.json
 *   (generator tests/fixtures/rpca/make_fixture.R), run through the workflow as a log10 stack;
 * - NumPy 1.24 (Debian python3, with GDAL's Python bindings reading the GeoTIFFs written): the
 *   eigen-decomposition of the robust covariance, the scores and the squared robust distances.
 */
interface McdCase { name: string; alpha: number; n: number; p: number; x: number[][]; center: number[]; cov: number[][]; h: number; weights: number[]; mah: number[] }
const fixture = JSON.parse(readFileSync('tests/fixtures/rpca/mcd.json', 'utf8')) as { cases: McdCase[] };
const c = fixture.cases.find((k) => k.name === 'qn-n300-p4-alpha0.5')!;
// 300 cells of 4 bands: cell i holds 10^x[i] (Float32), so log10 gives back R's x to ~3e-8.
const grid: GridSpec = { originX: 565_000, originY: 4_624_000, cellSizeX: 1000, cellSizeY: 1000, rows: 15, cols: 20, crs: crsFromEpsg(32645) };
const NAMES = ['Au', 'Cu', 'As', 'Sb'];

function stackFile(): { dir: string; stack: string } {
  const dir = tempDir('rpca-wf-');
  const stack = join(dir, 'stack.tif');
  writeGeoTiff(stack, { grid, bandNames: NAMES, bands: NAMES.map((_, b) => Float32Array.from(c.x, (row) => 10 ** row[b])) });
  return { dir, stack };
}

/** NumPy's view of the written files: eigh of the covariance, scores and robust distances recomputed from the stack. */
function numpyCheck(stack: string, outDir: string): { eig: number[]; vecDots: number[]; maxScoreDiff: number; scoreScale: number; maxDistRel: number } {
  const py = [
    'import json, sys, numpy as np',
    'from osgeo import gdal',
    'stack, out = sys.argv[1], sys.argv[2]',
    'L = json.load(open(out + "/loadings.json"))',
    'def bands(f):',
    '    ds = gdal.Open(f); return np.stack([ds.GetRasterBand(i + 1).ReadAsArray().astype(float).ravel() for i in range(ds.RasterCount)], 1)',
    'X = bands(stack); S = bands(out + "/pc-scores.tif"); D = bands(out + "/robust-distance.tif")[:, 0]',
    'cov = np.array(L["covariance"]); W = np.array(L["loadings"]); c = np.array(L["center"])',
    'w, V = np.linalg.eigh(cov); order = np.argsort(w)[::-1]; w = w[order]; V = V[:, order]',
    'Y = np.log10(X) - c',
    'ref = Y @ W[:, :S.shape[1]]',
    'd2 = np.einsum("ij,jk,ik->i", Y, np.linalg.inv(cov), Y)',
    'print(json.dumps({"eig": w.tolist(), "vecDots": np.abs((V * W).sum(0)).tolist(), "maxScoreDiff": float(np.abs(S - ref).max()), "scoreScale": float(np.abs(ref).max()), "maxDistRel": float((np.abs(D - d2) / np.maximum(d2, 1)).max())}))',
  ].join('\n');
  return JSON.parse(execFileSync('/usr/bin/python3', ['-c', py, stack, outDir], { encoding: 'utf8' })) as ReturnType<typeof numpyCheck>;
}

const maxRel = (a: readonly (readonly number[])[], b: number[][]): number => {
  let m = 0;
  a.forEach((row, i) => row.forEach((v, j) => (m = Math.max(m, Math.abs(v - b[i][j]) / Math.sqrt(b[i][i] * b[j][j])))));
  return m;
};

describe('rpca workflow', () => {
  it('robust centre, covariance, subset size and outliers of R covMcd; PCs, scores and distances of NumPy', async () => {
    const { dir, stack } = stackFile();
    const out = join(dir, 'rpca');
    const r = await rpcaWorkflow({ stack, out, transform: 'log10', alpha: c.alpha });
    // R: same h, same outliers (weight 0), centre to 1e-8 and covariance to 1e-7 of √(σ_ii σ_jj)
    // (the Float32 stack moves log10 values by up to ~3e-8, averaging out over the subset;
    // measured 6.8e-10 and 2.1e-9).
    expect(r.mcd.h).toBe(c.h);
    expect(r.mcd.cellsUsed).toBe(c.n);
    expect(r.mcd.subsampled).toBe(false);
    expect(r.mcd.outliers).toBe(c.weights.filter((w) => w === 0).length);
    r.center.forEach((v, b) => expect(Math.abs(v - c.center[b]), `centre ${b}`).toBeLessThan(1e-8));
    expect(maxRel(r.covariance, c.cov)).toBeLessThan(1e-7);
    const d = await readGeoTiff(r.outputs.robustDistance);
    let worst = 0;
    c.mah.forEach((m, i) => (worst = Math.max(worst, Math.abs(d.bands[0][i] - m) / Math.max(m, 1))));
    expect(worst).toBeLessThan(1e-6); // R's $mah; the band is Float32 (measured 1.1e-7)
    expect(r.cells).toEqual({ total: 300, valid: 300, nodata: 0, nonPositive: 0 });

    // NumPy on the files: eigenvalues to 1e-10 relative, eigenvectors up to sign (|cos| = 1 to 1e-9),
    // scores to 1e-6 of their range (Float32 bands), squared distances to 1e-5 relative.
    const np = numpyCheck(stack, out);
    np.eig.forEach((v, k) => expect(Math.abs(r.eigenvalues[k] - v) / np.eig[0], `eigenvalue ${k}`).toBeLessThan(1e-10));
    np.vecDots.forEach((v, k) => expect(Math.abs(v - 1), `PC${k + 1}`).toBeLessThan(1e-9));
    expect(np.maxScoreDiff / np.scoreScale).toBeLessThan(1e-6);
    expect(np.maxDistRel).toBeLessThan(1e-5);
    const total = r.eigenvalues.reduce((a, b) => a + b, 0);
    r.explained.forEach((e, k) => expect(e).toBeCloseTo(r.eigenvalues[k] / total, 12));

    // The typed result is loadings.json's numbers, exactly; the files are all there.
    const json = JSON.parse(readFileSync(r.outputs.loadings, 'utf8'));
    for (const k of ['bands', 'components', 'center', 'covariance', 'eigenvalues', 'explained', 'loadings', 'distanceCutoff', 'cells'] as const) expect(r[k], k).toEqual(json[k]);
    expect(r.mcd).toEqual({ alpha: json.mcd.alpha, h: json.mcd.h, cellsUsed: json.mcd.cellsUsed, subsampled: json.mcd.subsampled, seed: json.mcd.seed, outliers: json.mcd.outliers });
    expect(readdirSync(out).sort()).toEqual(['biplot.png', 'biplot.svg', 'loadings.json', 'pc-maps.png', 'pc-scores.tif', 'robust-distance.tif']);
    expect(r.components).toEqual(['PC1', 'PC2', 'PC3', 'PC4']);
    const lines = rpcaResultLines(r);
    expect(lines[0]).toBe(`robust PCA (log10, DetMCD h = ${c.h} of 300 cells): 300 of 300 cells scored`);
    expect(lines).toHaveLength(5);
    expect(lines[1]).toMatch(new RegExp(`^  PC1 ${(r.explained[0] * 100).toFixed(1)}%: `));
    expect(lines.at(-1)).toBe(`→ ${r.outputs.scores}, ${r.outputs.robustDistance}, ${r.outputs.loadings}, ${r.outputs.biplot}, ${r.outputs.maps}`);
  });

  it('refuses a bad transform with the CLI\'s named error, before reading the stack', async () => {
    const { dir } = stackFile();
    const e = await rpcaWorkflow({ stack: join(dir, 'missing.tif'), out: join(dir, 'o'), transform: 'sqrt' }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(InvalidOptionError);
    expect((e as Error).message).toBe('geoanomaly rpca: --transform must be log10 or clr, got "sqrt"');
  });

  it('cancel during the robust estimate stops it with CancelledError and writes no file', async () => {
    const { dir, stack } = stackFile();
    const out = join(dir, 'rpca-cancel');
    const ac = new AbortController();
    let progressed = 0;
    await expect(rpcaWorkflow({ stack, out }, { signal: ac.signal, progress: () => (progressed++, ac.abort()) })).rejects.toThrow(CancelledError);
    expect(progressed).toBeGreaterThan(0);
    expect(existsSync(out) ? readdirSync(out) : []).toEqual([]);
  });

  it('runs the same in a worker thread: same typed result (paths aside), clr too', async () => {
    const { dir, stack } = stackFile();
    const here = await rpcaWorkflow({ stack, out: join(dir, 'here'), transform: 'clr', components: 2 });
    const there = await runWorkflowInWorker('rpca', { stack, out: join(dir, 'there'), transform: 'clr', components: 2 });
    expect(there.outputs.dir).toBe(join(dir, 'there'));
    expect({ ...there, outputs: here.outputs }).toEqual(here);
    expect(here.components).toEqual(['PC1', 'PC2']);
    expect(here.bands).toEqual(NAMES);
  });

  it("the app's request (as renderer/src/lib/rpca-actions.ts sends it) gives the job's typed result and files", async () => {
    const { dir, stack } = stackFile();
    const out = join(dir, 'app');
    const job = await runWorkflowJob('rpca', { options: { stack, transform: 'log10', alpha: 0.5, seed: 1, out } }, {});
    const done = job.workflow;
    if (done?.workflow !== 'rpca') throw new Error(`expected an rpca result, got ${done?.workflow}`);
    expect(done.result.mcd.h).toBe(c.h); // R covMcd, as above
    expect(done.result.outputs.scores).toBe(join(out, 'pc-scores.tif'));
    expect(JSON.parse(readFileSync(done.result.outputs.loadings, 'utf8')).outputs.scores).toBe(done.result.outputs.scores);
    expect(job.lines.slice(-5)).toEqual(rpcaResultLines(done.result));
  });

  it('"geoanomaly rpca --help" is what it was before the workflow (byte for byte)', () => {
    expect(formatHelp(rpcaCommand)).toBe(HELP_BEFORE.join('\n'));
  });
});

// formatHelp(rpcaCommand) at 16c07c4, before the command became a front door onto rpcaWorkflow.
const HELP_BEFORE = [
  "geoanomaly rpca — robust PCA (DetMCD) of an element stack: PC score maps and loadings",
  "",
  "Usage: geoanomaly rpca --stack STACK.tif|DIR --out DIR [--transform log10|clr] [--alpha A] [--components K]",
  "",
  "Options:",
  "  --stack STACK                  element stack: multi-band GeoTIFF or folder of single-band GeoTIFFs",
  "  --out DIR                      output folder (pc-scores.tif, robust-distance.tif, loadings.json, biplot.png/.svg, pc-maps.png)",
  "  --transform T                  log10 or clr (centred log-ratio; MCD in ilr coordinates) (default log10)",
  "  --alpha A                      MCD subset share h/n (0.5 = highest breakdown, 0.75 = more efficient) (default 0.5)",
  "  --components K                 number of PC score bands to write (default all)",
  "  --max-samples N                cells used for the MCD estimate; more are subsampled (seeded) (default 50000)",
  "  --seed N                       seed of the subsample (default 1)",
  "  --help, -h                     show this help",
  "",
  "Cells with nodata or a value ≤ 0 in any band are left out (nodata in the outputs) and counted in loadings.json.",
  "loadings.json holds bands, centre, robust covariance, eigenvalues, explained variance, loadings (band × PC),",
  "MCD details and PC1/PC2 of a sample of cells for the biplot.",
  "Example: geoanomaly rpca --stack ../shared/data/tianshan-gkdcn/elements --transform clr --out rpca",
];
