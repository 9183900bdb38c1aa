import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { crsFromEpsg } from '../../main/grid/crs.ts';
import { cellCenterX, cellCenterY, type GridSpec } from '../../main/grid/grid-spec.ts';
import { writeGeoTiff } from '../../main/io/geotiff-write.ts';
import { readGeoTiff } from '../../main/io/geotiff-read.ts';
import { writeJsonAtomic } from '../../main/util/atomic-write.ts';
import { CancelledError, InvalidOptionError } from '../../main/errors.ts';
import { formatHelp } from '../../main/commands/command.ts';
import { faultsCommand } from '../../main/cli/commands/faults.ts';
import { faultsResultLines, faultsWorkflow, type FaultsWorkflowOptions } from '../../main/workflows/faults.ts';
import { runWorkflowInWorker } from '../../main/workflows/run-in-worker.ts';
import { runWorkflowJob } from '../../main/api/workflow-job.ts';
import { tempDir } from '../helpers/paths.ts';

/**
 * The faults workflow called directly (issue 17 §1), on a survey built so that its distance rings
 * are the ring table of tests/fixtures/faults/powerlaw-lm.json: the fitted law is checked against
 * R's lm (tests/fixtures/faults/powerlaw-lm.R), the weights against the closed form of that law.
 */
const ref = JSON.parse(readFileSync('tests/fixtures/faults/powerlaw-lm.json', 'utf8')) as {
  ringWidthM: number; cells: number[]; deposits: number[]; N: number; k: number; r2: number;
};
const crs = crsFromEpsg(32645);
const CRS_MEMBER = { type: 'name', properties: { name: 'urn:ogc:def:crs:EPSG::32645' } };
// Column 0 is nodata and holds the fault; column c (1…8) is ring c: a fault line 1 m east of
// column 0's centre puts column c's centres at c·1000 − 1 m (inside ring c, off its edge), and
// the valid rows of column c are the ring's cells (1 km² each), nodata below them.
const rows = Math.max(...ref.cells);
const grid: GridSpec = { originX: 500_000, originY: 4_600_000, cellSizeX: 1000, cellSizeY: 1000, rows, cols: ref.cells.length + 1, crs };

function survey(): { dir: string; options: FaultsWorkflowOptions } {
  const dir = tempDir('faults-wf-');
  const band = new Float32Array(grid.rows * grid.cols).fill(NaN);
  ref.cells.forEach((n, r) => {
    for (let row = 0; row < n; row++) band[row * grid.cols + r + 1] = 1;
  });
  writeGeoTiff(join(dir, 'ref.tif'), { grid, bandNames: ['Au'], bands: [band] });
  const fx = cellCenterX(grid, 0) + 1;
  writeJsonAtomic(join(dir, 'faults.geojson'), {
    type: 'FeatureCollection',
    crs: CRS_MEMBER,
    features: [{ type: 'Feature', properties: { id: 'F1' }, geometry: { type: 'LineString', coordinates: [[fx, grid.originY + 10], [fx, grid.originY - grid.rows * 1000 - 10]] } }],
  });
  const points: number[][] = [];
  ref.deposits.forEach((n, r) => {
    for (let j = 0; j < n; j++) points.push([cellCenterX(grid, r + 1), cellCenterY(grid, 7 * j)]);
  });
  writeJsonAtomic(join(dir, 'deposits.geojson'), {
    type: 'FeatureCollection',
    crs: CRS_MEMBER,
    features: points.map((p) => ({ type: 'Feature', properties: {}, geometry: { type: 'Point', coordinates: p } })),
  });
  return {
    dir,
    options: {
      faults: join(dir, 'faults.geojson'),
      grid: join(dir, 'ref.tif'),
      deposits: join(dir, 'deposits.geojson'),
      ring: ref.ringWidthM,
      distance: join(dir, 'dist.tif'),
      weight: join(dir, 'w.tif'),
      report: join(dir, 'pl.json'),
      buffers: '1500',
      buffersOut: join(dir, 'buf.tif'),
    },
  };
}

describe('faults workflow', () => {
  it('fits the law of R lm on the ring table (1e-10), returns it typed, as the report and the CLI lines say', async () => {
    const { options } = survey();
    const logs: string[] = [];
    const r = await faultsWorkflow(options, { log: (m) => logs.push(m) });
    const fit = r.fit!;
    // Reference: R 4.2 lm(log10 m ~ log10 d), tests/fixtures/faults/powerlaw-lm.R. Tolerance 1e-10 relative.
    expect(Math.abs(fit.k - ref.k)).toBeLessThan(1e-10 * Math.abs(ref.k));
    expect(Math.abs(fit.N - ref.N)).toBeLessThan(1e-10 * ref.N);
    expect(Math.abs(fit.r2 - ref.r2)).toBeLessThan(1e-10);
    expect(fit.rings.map((x) => x.cells)).toEqual(ref.cells);
    expect(fit.rings.map((x) => x.deposits)).toEqual(ref.deposits);
    expect(fit.rings.map((x) => x.usedInFit)).toEqual(ref.deposits.map((d) => d > 0));
    expect(fit.maxRing).toBe(ref.cells.length);
    expect(r.deposits).toEqual({ file: options.deposits, cells: 20, droppedOutside: 0, duplicatesDropped: 0 });
    expect(r.faults).toEqual({ file: options.faults, kind: 'lines', elements: 1, elementsInGrid: 1 });
    // Weights, normalisation max: w_i = m(i km)/m(1 km) = i^k (k < 0), from R's k to 1e-9.
    expect(r.weight.givenK).toBe(false);
    expect(r.weight.ringWeights).toHaveLength(8);
    r.weight.ringWeights.forEach((w, i) => expect(Math.abs(w - (i + 1) ** ref.k)).toBeLessThan(1e-9));
    // R² = 0.85 is above the trust check's threshold and k < 0: no warnings.
    expect(r.warnings).toEqual([]);
    // The typed result is the report's numbers, exactly.
    const report = JSON.parse(readFileSync(options.report!, 'utf8'));
    expect(report.N).toBe(fit.N);
    expect(report.k).toBe(fit.k);
    expect(report.r2).toBe(fit.r2);
    expect(report.rings).toEqual(fit.rings);
    expect(report.weight.ringWeights).toEqual(r.weight.ringWeights);
    expect(r.outputs).toEqual({ distance: options.distance, weight: options.weight, buffers: options.buffersOut, report: options.report });
    // The files: distances c·1000 − 1 m in column c, nodata in column 0; the buffer of 1500 m holds column 1 only.
    const d = await readGeoTiff(options.distance!);
    expect(Number.isNaN(d.bands[0][0])).toBe(true);
    for (let c = 1; c < grid.cols; c++) expect(d.bands[0][c]).toBe(c * 1000 - 1);
    const b = await readGeoTiff(options.buffersOut!);
    expect(b.bandNames).toEqual(['buffer_1500m']);
    expect(Array.from(b.bands[0].slice(1, 4))).toEqual([1, 0, 0]);
    const w = await readGeoTiff(options.weight!);
    for (let c = 1; c < grid.cols; c++) expect(w.bands[0][c]).toBe(Math.fround(r.weight.ringWeights[c - 1]));
    expect(faultsResultLines(r)).toEqual([
      'faults: 1 segments (1 in the grid)',
      `power law: m(d) = ${fit.N.toPrecision(4)}·d^${fit.k.toFixed(4)}  (R² = ${fit.r2.toFixed(4)}, 20 deposit cells, 7 rings fitted)`,
      `wrote ${options.distance}`,
      `wrote ${options.weight}`,
      `wrote ${options.buffersOut}`,
      `wrote ${options.report}`,
    ]);
  });

  it('a given k needs no deposits: no fit, no trust warnings, the weights are i^k over 12 rings', async () => {
    const { dir, options } = survey();
    const r = await faultsWorkflow({ faults: options.faults, grid: options.grid, k: -0.5, weight: join(dir, 'wk.tif') });
    expect(r.fit).toBeNull();
    expect(r.deposits).toBeNull();
    expect(r.weight).toMatchObject({ k: -0.5, givenK: true, maxRing: 12, normalisation: 'max', ringDistance: 'outer' });
    r.weight.ringWeights.forEach((w, i) => expect(Math.abs(w - (i + 1) ** -0.5)).toBeLessThan(1e-12));
    expect(faultsResultLines(r)).toEqual(['faults: 1 segments (1 in the grid)', `wrote ${join(dir, 'wk.tif')}`]);
  });

  it('refuses bad options with the CLI\'s named errors, before reading anything', async () => {
    const { options } = survey();
    await expect(faultsWorkflow({ ...options, deposits: undefined })).rejects.toThrow(new InvalidOptionError('geoanomaly faults: give --deposits to fit the power law, or --k to use a known exponent'));
    await expect(faultsWorkflow({ faults: options.faults, grid: options.grid, deposits: options.deposits })).rejects.toThrow(/nothing to write/);
    await expect(faultsWorkflow({ ...options, normalisation: 'sum' })).rejects.toThrow('geoanomaly faults: --normalisation must be "max" or "minmax", got "sum"');
    await expect(faultsWorkflow({ ...options, dedupe: 'last' })).rejects.toThrow('geoanomaly faults: --dedupe must be "first" or "refuse", got "last"');
    await expect(faultsWorkflow({ ...options, faults: undefined })).rejects.toThrow('geoanomaly faults: --faults is required. Run "geoanomaly faults --help".');
  });

  it('cancel during the distance computation stops it with CancelledError and writes no file', async () => {
    const { options } = survey();
    const ac = new AbortController();
    let progressed = 0;
    const run = faultsWorkflow(options, { signal: ac.signal, progress: () => (progressed++, ac.abort()) });
    await expect(run).rejects.toThrow(CancelledError);
    expect(progressed).toBeGreaterThan(0);
    for (const f of [options.distance, options.weight, options.report, options.buffersOut]) expect(existsSync(f!)).toBe(false);
  });

  it('runs the same in a worker thread: same typed result (paths aside)', async () => {
    const a = survey();
    const b = survey();
    const here = await faultsWorkflow(a.options);
    const there = await runWorkflowInWorker('faults', b.options);
    expect({ ...there, outputs: {}, faults: { ...there.faults, file: '' }, grid: { ...there.grid, file: '' }, deposits: { ...there.deposits, file: '' } }).toEqual({
      ...here,
      outputs: {},
      faults: { ...here.faults, file: '' },
      grid: { ...here.grid, file: '' },
      deposits: { ...here.deposits, file: '' },
    });
  });

  it("the app's request (flag → value, as renderer/src/lib/fault-actions.ts sends it) gives the job's typed fit", async () => {
    const { options } = survey();
    const job = await runWorkflowJob('faults', {
      options: { faults: options.faults!, grid: options.grid!, deposits: options.deposits!, distance: options.distance!, weight: options.weight!, report: options.report!, normalisation: 'max', ring: 1000, 'min-ring': 1, 'max-ring': 8, 'ring-distance': 'outer' },
    }, {});
    expect(job.exitCode).toBe(0);
    const done = job.workflow;
    if (done?.workflow !== 'faults') throw new Error(`expected a faults result, got ${done?.workflow}`);
    expect(Math.abs(done.result.fit!.k - ref.k)).toBeLessThan(1e-10 * Math.abs(ref.k)); // R lm, as above
    expect(done.result.outputs).toEqual({ distance: options.distance, weight: options.weight, report: options.report });
    // The job's lines end with the CLI's.
    expect(job.lines.slice(-5)).toEqual(faultsResultLines(done.result));
  });

  it('"geoanomaly faults --help" is what it was before the workflow (byte for byte)', () => {
    expect(formatHelp(faultsCommand)).toBe(HELP_BEFORE.join('\n'));
  });
});

// formatHelp(faultsCommand) at 16c07c4, before the command became a front door onto faultsWorkflow.
const HELP_BEFORE = [
  "geoanomaly faults — distance to faults, deposit density–distance power law, fault weight map",
  "",
  "Usage: geoanomaly faults --faults LINES(.shp|.geojson)|RASTER.tif --grid REF.tif --deposits POINTS|RASTER.tif [--ring METRES] --distance OUT_DIST.tif --weight OUT_W.tif --report POWERLAW.json",
  "",
  "Options:",
  "  --faults FILE                  fault traces (GeoJSON/Shapefile lines) or a fault raster (non-zero = fault)",
  "  --grid REF.tif                 reference GeoTIFF: its grid (projected CRS) and nodata mask are used",
  "  --deposits FILE                deposit points (GeoJSON/Shapefile) or deposit raster",
  "  --deposit-value V              raster value marking a deposit (default 1)",
  "  --ring METRES                  ring width in metres (default: one cell)",
  "  --min-ring N                   first ring used in the fit (skip a flat near-fault zone) (default 1)",
  "  --ring-distance outer|mid      distance a ring stands for in the law: outer (edge, the paper's) or mid (default outer)",
  "  --max-ring N                   last ring fitted and weighted; farther cells take its weight (default: ring of the farthest deposit)",
  "  --k K                          use this exponent for the weight map instead of fitting one (no --deposits needed)",
  "  --normalisation max|minmax     weight normalisation: max (w = m(d)/m_max) or minmax (as the case study) (default max)",
  "  --distance OUT.tif             output distance-to-fault GeoTIFF (metres)",
  "  --weight OUT.tif               output weight map GeoTIFF (0–1)",
  "  --report OUT.json              output JSON with N, k, r2 and the per-ring counts and areas",
  "  --buffers W1,W2,…              fault buffer widths in metres, comma-separated",
  "  --buffers-out OUT.tif          output GeoTIFF with one 0/1 band per buffer width",
  "  --fault-threshold V            fault raster: cells with value ≥ V are faults (for continuous rasters; default: every non-zero cell)",
  "  --fault-where KEY=VALUE        use only fault features whose property KEY equals VALUE (e.g. favourable=true)",
  "  --align-by-index R,C           pair a deposit/fault raster on another grid by array index: its cell (r,c) is grid cell (r+R, c+C)",
  "  --crs CRS                      CRS of vector inputs that declare none (EPSG:N or proj4); declared CRSs are reprojected onto the grid's (logged)",
  "  --drop-outside                 drop deposits outside the grid (reported) instead of failing",
  "  --layer NAME                   layer of a multi-layer vector input (GeoPackage) for every input without its own --INPUT-layer; see \"geoanomaly info FILE.gpkg\"",
  "  --faults-layer NAME            layer of --faults when it is a GeoPackage holding several layers",
  "  --deposits-layer NAME          layer of --deposits when it is a GeoPackage holding several layers",
  "  --dedupe first|refuse          deposit points of different features in one grid cell: refuse (an error listing the cells) or first (keep the first feature of each cell, report the rest) (default refuse)",
  "  --help, -h                     show this help",
  "",
  "Rings: ring i holds distances in ((i−1)·w, i·w]; cells on a fault are in ring 1. The law m(d) = N·d^k is fitted",
  "in log–log space over rings holding deposits, d = outer ring edge in km (--ring-distance mid: its middle),",
  "m = deposit cells per km².",
  "Example (GK-DCN case study, labels paired by index):",
  "  geoanomaly faults --faults faults.geojson --grid elements/Au.tif --deposits label/Au_deposits0.tif \\",
  "    --align-by-index 0,0 --distance dist.tif --weight w.tif --report powerlaw.json",
  "Example (faults and deposits as layers of one GeoPackage; \"geoanomaly info survey.gpkg\" lists them):",
  "  geoanomaly faults --faults survey.gpkg --faults-layer faults --deposits survey.gpkg --deposits-layer deposits \\",
  "    --grid stack.tif --distance dist.tif --weight w.tif --report powerlaw.json",
];
