import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { main } from '../../main/cli/main.ts';
import { formatHelp } from '../../main/cli/command.ts';
import { reportCommand } from '../../main/cli/commands/report.ts';
import { createHandlers } from '../../main/api/handlers.ts';
import type { Events, JobResult } from '../../main/api/contract.ts';
import { crsFromEpsg } from '../../main/grid/crs.ts';
import type { GridSpec } from '../../main/grid/grid-spec.ts';
import { writeGeoTiff } from '../../main/io/geotiff-write.ts';
import { buildSites } from '../../main/sites/build-sites.ts';
import { writeSitesGeoJson } from '../../main/sites/sites-geojson.ts';
import { readManifest } from '../../main/models/run-store.ts';
import { RunFolderError } from '../../main/export/export-errors.ts';
import { Rng } from '../../main/util/rng.ts';
import { optionsFromRequest } from '../../main/workflows/option-table.ts';
import { REPORT_OPTIONS, reportResultLines, reportWorkflow } from '../../main/workflows/report.ts';
import { runtimeImportsOutsideRepo } from '../helpers/node-free.ts';
import { REPO_ROOT, tempDir } from '../helpers/paths.ts';

/**
 * Issue 17 §1: "report" as a workflow: called directly it writes the report the CLI wrote and
 * returns what it holds as data; --help is unchanged; the app's report job returns the typed
 * result. The run: one network (cnn), 1 epoch, 2 folds × 1 repeat on a 24 × 24 synthetic stack
 * (the fixture of tests/export/metrics-report.test.ts, smaller), and its prediction map.
 */
const dir = tempDir('wf-report-');
const runDir = join(dir, 'run');
const prob = join(dir, 'prob.tif');
const sites = join(dir, 'sites.geojson');
const stack = join(dir, 'stack.tif');

beforeAll(async () => {
  const grid: GridSpec = { originX: 500_000, originY: 4_600_000, cellSizeX: 1000, cellSizeY: 1000, rows: 24, cols: 24, crs: crsFromEpsg(32645) };
  const rng = new Rng(2);
  const bands = [0, 1].map(() => Float32Array.from({ length: 576 }, () => Math.exp(rng.normal(1, 0.3))));
  writeGeoTiff(stack, { grid, bandNames: ['Au', 'Cu'], bands });
  writeSitesGeoJson(sites, buildSites(grid, { depositCells: [125, 138, 437, 450], negatives: { kind: 'user', cells: [266, 59, 515, 285] } }).set);
  const common = ['--epochs', '1', '--folds', '2', '--repeats', '1', '--patch-size', '5', '--seed', '3', '--threads', '1'];
  expect(await main(['train', '--stack', stack, '--sites', sites, '--model', 'cnn,logreg', ...common, '--out', runDir])).toBe(0);
  expect(await main(['predict', '--run', runDir, '--stack', stack, '--model', 'cnn', '--threads', '1', '--out', prob])).toBe(0);
}, 180_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('report workflow', () => {
  it('keeps "geoanomaly report --help" byte-identical (tests/fixtures/help/report.txt, captured before the move)', () => {
    expect(formatHelp(reportCommand)).toBe(readFileSync(join(REPO_ROOT, 'tests/fixtures/help/report.txt'), 'utf8'));
  });

  it('has its option table and result type Node-free (the renderer may import them): no node: or package import, even transitively', () => {
    expect(runtimeImportsOutsideRepo('main/workflows/report-options.ts')).toEqual([]);
    expect(runtimeImportsOutsideRepo('main/workflows/report-result.ts')).toEqual([]);
    // The workflow itself is not (it reads and writes files): the check sees its imports.
    expect(runtimeImportsOutsideRepo('main/workflows/report.ts').some((i) => / → node:/.test(i))).toBe(true);
  });

  it('HTML: returns the models, the figures and the warnings the file holds; the CLI prints reportResultLines', async () => {
    const out = join(dir, 'report.html');
    const r = await reportWorkflow({ run: runDir, map: prob, deposits: sites, out });
    expect(r.outputs).toEqual({ report: out });
    expect(r.format).toBe('html');
    expect(r.runDir).toBe(runDir);
    expect(r.models).toEqual(['cnn', 'logreg']);
    // Two fold plots (AUC, MCC), cnn's learning curve; one map figure.
    expect(r.charts).toHaveLength(3);
    expect(r.charts[2].split(':')[0]).toBe('cnn');
    expect(r.maps).toHaveLength(1);
    const html = readFileSync(out, 'utf8');
    expect(html).toContain(`<h1>${r.title}</h1>`);
    // Every figure of the file is one of the result's, in order.
    const images = [...html.matchAll(/src="data:image\/png;base64,/g)];
    expect(images).toHaveLength(r.charts.length + r.maps.length);
    expect(r.warnings.map((w) => w.code)).toEqual(expect.arrayContaining((readManifest(runDir).warnings ?? []).map((w) => w.code)));
    for (const w of r.warnings) expect(html).toContain(`warning [${w.code}]`);
    const cliOut = join(dir, 'report-cli.html');
    const printed: string[] = [];
    const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => (printed.push(String(chunk)), true));
    try {
      expect(await main(['report', '--run', runDir, '--map', prob, '--deposits', sites, '--out', cliOut])).toBe(0);
    } finally {
      spy.mockRestore();
    }
    expect(printed.join('')).toBe(`${reportResultLines({ ...r, outputs: { report: cliOut } }).join('\n')}\n`);
    expect(printed.join('')).toBe(`wrote ${cliOut} (HTML: 2 model(s), 3 plot(s), 1 map figure(s))\n`);
  });

  it('PDF: pages of A4 (pdfinfo, ±1 pt), through the app\'s report job with its typed result', async () => {
    const events: { name: keyof Events; payload: unknown }[] = [];
    const { handlers, jobs } = createHandlers({ dataDir: join(dir, 'data'), host: 'browser', emit: (name, payload) => events.push({ name, payload }), autosaveDelayMs: 60_000 });
    const out = join(dir, 'job-report.pdf');
    const { jobId } = await handlers.report({ options: { run: runDir, title: 'Report test', out } });
    await jobs.settled(jobId);
    const done = events.find((e) => e.name === 'jobDone' && (e.payload as { jobId: string }).jobId === jobId);
    expect(done, JSON.stringify(events.filter((e) => e.name === 'jobFailed'))).toBeDefined();
    const result = (done!.payload as { result: JobResult }).result;
    expect(result.workflow?.workflow).toBe('report');
    if (result.workflow?.workflow !== 'report') return;
    expect(result.workflow.result).toMatchObject({ outputs: { report: out }, format: 'pdf', title: 'Report test', models: ['cnn', 'logreg'], maps: [] });
    // Reference page box: ISO 216 A4 portrait, 595.28 × 841.89 pt.
    const m = /Page size:\s+([\d.]+) x ([\d.]+) pts/.exec(execFileSync('pdfinfo', [out], { encoding: 'utf8' }));
    expect(m).not.toBeNull();
    expect(Math.abs(Number(m![1]) - 595.28)).toBeLessThanOrEqual(1);
    expect(Math.abs(Number(m![2]) - 841.89)).toBeLessThanOrEqual(1);
    expect(result.lines.at(-1)).toBe(reportResultLines(result.workflow.result)[0]);
  });

  it('refuses what the CLI refuses, by name', async () => {
    await expect(reportWorkflow({ run: dir, out: join(dir, 'x.html') })).rejects.toThrow(RunFolderError);
    await expect(reportWorkflow({ run: runDir, out: join(dir, 'x.docx') })).rejects.toThrow(/\.html or \.pdf/);
    await expect(reportWorkflow({ out: join(dir, 'x.html') })).rejects.toThrow(/--run is required/);
    expect(() => optionsFromRequest(REPORT_OPTIONS, { run: runDir, band: 'x' }, 'report')).toThrow(/unknown option "--band"/);
    expect(optionsFromRequest(REPORT_OPTIONS, { run: runDir, 'deposits-layer': 'd' }, 'report')).toEqual({ run: runDir, depositsLayer: 'd' });
    expect(existsSync(join(dir, 'x.html'))).toBe(false);
  });
});
