import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { writeGeoTiff } from '../../main/io/geotiff-write.ts';
import { readGeoTiff } from '../../main/io/geotiff-read.ts';
import { transformStack } from '../../main/sites/band-transform.ts';
import { blocksAround, mergeSites } from '../../main/sites/site-blocks.ts';
import { writeSitesGeoJson } from '../../main/sites/sites-geojson.ts';
import { crsFromEpsg } from '../../main/grid/crs.ts';
import { cellCenterX, cellCenterY, type GridSpec } from '../../main/grid/grid-spec.ts';
import { Rng } from '../../main/util/rng.ts';
import { CancelledError, InvalidOptionError } from '../../main/errors.ts';
import { initBackend } from '../../main/models/backend.ts';
import { formatHelp } from '../../main/commands/command.ts';
import { explainCommand } from '../../main/cli/commands/explain.ts';
import { explainResultLines, explainWorkflow, type ExplainRunResult, type ExplainWorkflowResult, type SiteExplanation } from '../../main/workflows/explain.ts';
import { runWorkflow } from '../../main/workflows/registry.ts';
import { createHandlers } from '../../main/api/handlers.ts';
import type { JobResult } from '../../main/api/contract.ts';
import { REPO_ROOT, tempDir } from '../helpers/paths.ts';
import { writeRandomRun } from '../maps/random-run.ts';

/**
 * The explain workflow (issue 17 §1), called directly: the whole run (what `geoanomaly explain`
 * writes) and one cell (what the app's explainSite answers) are one function, and they agree.
 * The fixture and the assertions are those of tests/maps/explain-requests.test.ts, where the
 * reference is the command: explain.json holds each deposit site's Grad-CAM peak and centre
 * value and each DCN's mean offset magnitude and mask; explain-maps.tif holds, at every cell,
 * Grad-CAM at the window centre and the centre cell's mean offset magnitude. The cell path must
 * give the same numbers (1e-6 absolute: float32 values of the same kernels, the run path in a
 * batch of windows or map tiles, the cell path one window at a time).
 */
const TOL = 1e-6;
const names = ['Au', 'Cu', 'As'];
const grid: GridSpec = { originX: 500_000, originY: 4_802_000, cellSizeX: 200, cellSizeY: 200, rows: 24, cols: 21, crs: crsFromEpsg(32645) };
let dir = '';
let stackPath = '';
let runDir = '';
let sitesPath = '';

beforeAll(async () => {
  await initBackend('auto'); // what the workflow uses; the random models are built on it
  dir = tempDir('ga-explain-workflow-');
  const rng = new Rng(23);
  const n = grid.rows * grid.cols;
  const stack = { grid, bandNames: names, bands: names.map(() => Float32Array.from({ length: n }, () => Math.exp(rng.normal(1, 0.7)))) };
  stackPath = join(dir, 'stack.tif');
  writeGeoTiff(stackPath, stack);
  const { stats } = transformStack(stack, { transform: 'log10-standardize' });
  runDir = join(dir, 'run');
  await writeRandomRun(runDir, ['cnn', 'dcn'], stats, { patchSize: 9, stemFilters: 8, stageFilters: [8, 8], denseUnits: 8 }, 7);
  // Deposit centres inside and at the edge of the grid (the edge one has a reflected window).
  const deposits = [5 * grid.cols + 6, 12 * grid.cols + 14, 1 * grid.cols + 19];
  const set = mergeSites(grid, blocksAround(grid, deposits, { label: 1, source: 'deposit' }), blocksAround(grid, [20 * grid.cols + 3], { label: 0, source: 'auto' }));
  sitesPath = join(dir, 'sites.geojson');
  writeSitesGeoJson(sitesPath, set);
}, 120_000);

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('explain workflow', () => {
  it('keeps `geoanomaly explain --help` byte-identical to the command before the workflow existed', () => {
    // tests/fixtures/help/explain.txt: formatHelp(explainCommand) at commit 16c07c4 (tests/fixtures/help/README.md).
    expect(formatHelp(explainCommand)).toBe(readFileSync(join(REPO_ROOT, 'tests/fixtures/help/explain.txt'), 'utf8'));
  });

  it('explains the whole run, and each cell alone gives the numbers of explain.json and explain-maps.tif', async () => {
    const out = join(dir, 'explain');
    const logged: string[] = [];
    const r = await explainWorkflow({ run: runDir, stack: stackPath, sites: sitesPath, out }, { log: (m) => logged.push(m) });
    if (r.mode !== 'run') throw new Error(`expected the whole-run result, got ${r.mode}`);
    expect(logged[0]).toMatch(/^backend: /);
    // The typed result is what explain.json says, and it names every file written.
    const ref = JSON.parse(readFileSync(join(out, 'explain.json'), 'utf8')) as { sites: ExplainRunResult['sites'] };
    expect(ref.sites).toHaveLength(3);
    expect(r.sites).toEqual(ref.sites);
    expect(r.outputs).toEqual({ dir: out, json: join(out, 'explain.json'), maps: join(out, 'explain-maps.tif') });
    for (const f of r.files) expect(existsSync(f), f).toBe(true);
    expect(r.files).toContain(join(out, 'gradcam-cnn-vs-dcn.png'));
    expect(r.files).toContain(join(out, 'offsets-dcn.png'));
    expect(explainResultLines(r)).toEqual(r.files);

    let nonZero = 0;
    for (const s of ref.sites) {
      // A point anywhere in the cell explains that cell: off the centre.
      const c = await explainWorkflow({ run: runDir, stack: stackPath, at: { x: cellCenterX(grid, s.col) + 60, y: cellCenterY(grid, s.row) - 40 } });
      if (c.mode !== 'site') throw new Error(`expected one cell, got ${c.mode}`);
      const site: SiteExplanation = c.site;
      expect([site.row, site.col]).toEqual([s.row, s.col]);
      expect(site.models.map((m) => m.name)).toEqual(['cnn', 'dcn']);
      for (const m of site.models) {
        const e = s.models[m.name];
        expect(Math.abs(m.gradcam.peak - e.gradcamPeak)).toBeLessThanOrEqual(TOL);
        expect(Math.abs(m.gradcam.centre - e.gradcamCentre)).toBeLessThanOrEqual(TOL);
        expect(m.gradcam.values).toHaveLength(81);
        expect(Math.max(...m.gradcam.values)).toBe(m.gradcam.peak);
        if (m.gradcam.peak > 0) nonZero++;
        if (m.name === 'dcn') {
          expect(Math.abs((m.offsets?.meanOffsetCells ?? NaN) - (e.meanOffsetCells ?? NaN))).toBeLessThanOrEqual(TOL);
          expect(Math.abs((m.offsets?.meanMask ?? NaN) - (e.meanMask ?? NaN))).toBeLessThanOrEqual(TOL);
          expect(m.offsets?.centreTaps).toHaveLength(9);
        } else {
          expect(m.offsets).toBeNull();
        }
      }
    }
    // Random-initialised models still give non-trivial heat maps (else the comparison proves little).
    expect(nonZero).toBeGreaterThan(0);

    // Any cell, not only deposits, through the registry (the app's path): = the explanation rasters.
    const maps = await readGeoTiff(join(out, 'explain-maps.tif'));
    for (const [row, col] of [
      [0, 0],
      [10, 7],
      [23, 20],
    ]) {
      const c = await runWorkflow('explain', { run: runDir, stack: stackPath, at: { x: cellCenterX(grid, col), y: cellCenterY(grid, row) } });
      if (c.mode !== 'site') throw new Error(`expected one cell, got ${c.mode}`);
      const cell = row * grid.cols + col;
      for (const m of c.site.models) expect(Math.abs(m.gradcam.centre - maps.bands[maps.bandNames.indexOf(`gradcam_${m.name}`)][cell])).toBeLessThanOrEqual(TOL);
      const dcn = c.site.models.find((m) => m.name === 'dcn')?.offsets;
      if (!dcn) throw new Error('dcn has no offsets');
      const centre = Math.floor(dcn.height / 2) * dcn.width + Math.floor(dcn.width / 2);
      expect(Math.abs(dcn.meanMagnitude[centre] - maps.bands[maps.bandNames.indexOf('offset_magnitude_dcn')][cell])).toBeLessThanOrEqual(TOL);
      expect(explainResultLines(c)[0]).toContain(`cell row ${row}, col ${col}`);
    }

    // A chosen layer, class 0 and one model are honoured at a cell.
    const c0 = await explainWorkflow({ run: runDir, stack: stackPath, layer: 'stem_conv', classIndex: 0, model: 'dcn', at: { x: cellCenterX(grid, 6), y: cellCenterY(grid, 5) } });
    if (c0.mode !== 'site') throw new Error('expected one cell');
    expect(c0.site.classIndex).toBe(0);
    expect(c0.site.models.map((m) => [m.name, m.gradcam.layer])).toEqual([['dcn', 'stem_conv']]);
    expect(c0.site.models[0].offsets?.layer).toBe(c0.site.models[0].deformableLayers[0]);
  }, 300_000);

  it('refuses what does not apply or cannot be right before computing anything', async () => {
    const at = { x: cellCenterX(grid, 6), y: cellCenterY(grid, 5) };
    // A point outside the grid, a class other than 0/1, and whole-run options at a point.
    await expect(explainWorkflow({ run: runDir, stack: stackPath, at: { x: grid.originX - 1000, y: grid.originY } })).rejects.toThrow(/outside the 24×21 grid/);
    await expect(explainWorkflow({ run: runDir, stack: stackPath, classIndex: 2, at })).rejects.toThrow(/class must be 0 or 1, got 2/);
    await expect(explainWorkflow({ run: runDir, stack: stackPath, out: join(dir, 'x'), noMaps: true, at })).rejects.toThrow(/--out, --no-maps apply to the whole run only/);
    // An unknown attribution method is refused before the Grad-CAM panels are written.
    const out = join(dir, 'bad-attribution');
    await expect(explainWorkflow({ run: runDir, stack: stackPath, sites: sitesPath, out, attribution: 'shap' })).rejects.toThrow(InvalidOptionError);
    await expect(explainWorkflow({ run: runDir, stack: stackPath, sites: sitesPath, out, attribution: 'shap' })).rejects.toThrow(/--attribution must be one of ig, occlusion, got "shap"/);
    expect(existsSync(out)).toBe(false);
    // The missing required flag is named as the command always named it.
    await expect(explainWorkflow({ run: runDir, stack: stackPath, out })).rejects.toThrow(/--sites is required/);
  });

  it('stops on cancel with CancelledError and writes no explain.json', async () => {
    const ac = new AbortController();
    ac.abort();
    const out = join(dir, 'cancelled');
    await expect(explainWorkflow({ run: runDir, stack: stackPath, sites: sitesPath, out }, { signal: ac.signal })).rejects.toThrow(CancelledError);
    expect(existsSync(join(out, 'explain.json'))).toBe(false);
  }, 60_000);

  it("runs as the app's explain job in a worker (typed result, numbers of the calling thread); explainSite is the workflow at a point", async () => {
    const options = { run: runDir, stack: stackPath, sites: sitesPath, gradcam: true, noMaps: true, maxSites: 2 } as const;
    const here = await explainWorkflow({ ...options, out: join(dir, 'here') });
    if (here.mode !== 'run') throw new Error('expected a whole-run result');
    const events: { name: string; payload: unknown }[] = [];
    const { handlers, jobs } = createHandlers({ dataDir: join(dir, 'app-data'), host: 'browser', emit: (name, payload) => events.push({ name, payload }), autosaveDelayMs: 60_000 });
    // The request carries the CLI's flags (contract ComputeJobRequest); the worker parses them with EXPLAIN_OPTIONS.
    const out = join(dir, 'there');
    const { jobId } = await handlers.explain({ options: { run: runDir, stack: stackPath, sites: sitesPath, gradcam: true, 'no-maps': true, 'max-sites': 2, out } });
    await jobs.settled(jobId);
    const done = events.find((e) => e.name === 'jobDone' && (e.payload as { jobId: string }).jobId === jobId);
    expect(done, JSON.stringify(events.filter((e) => e.name === 'jobFailed'))).toBeDefined();
    const result = (done?.payload as { result: JobResult }).result;
    expect(result.workflow?.workflow).toBe('explain');
    const there = result.workflow?.result as ExplainWorkflowResult;
    if (there.mode !== 'run') throw new Error('expected a whole-run result');
    expect(result.lines).toEqual(expect.arrayContaining(explainResultLines(there)));
    expect(there.sites.map((s) => s.siteId)).toEqual(here.sites.map((s) => s.siteId));
    expect(there.sites).toHaveLength(2);
    there.sites.forEach((s, i) => {
      for (const [name, m] of Object.entries(s.models)) {
        expect(Math.abs(m.gradcamPeak - here.sites[i].models[name].gradcamPeak)).toBeLessThanOrEqual(TOL);
        expect(Math.abs(m.gradcamCentre - here.sites[i].models[name].gradcamCentre)).toBeLessThanOrEqual(TOL);
      }
    });
    expect(there.outputs.maps).toBeUndefined();
    expect(existsSync(join(out, 'explain-maps.tif'))).toBe(false);

    // explainSite over the contract = the workflow at the point of the first deposit site.
    const s0 = here.sites[0];
    const clicked = await handlers.explainSite({ runDir, stack: stackPath, x: cellCenterX(grid, s0.col), y: cellCenterY(grid, s0.row) });
    expect([clicked.row, clicked.col]).toEqual([s0.row, s0.col]);
    for (const m of clicked.models) expect(Math.abs(m.gradcam.peak - s0.models[m.name].gradcamPeak)).toBeLessThanOrEqual(TOL);
  }, 120_000);
});
