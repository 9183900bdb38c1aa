import { afterAll, describe, expect, it, vi } from 'vitest';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { main } from '../../main/cli/main.ts';
import { formatHelp } from '../../main/cli/command.ts';
import { layoutCommand } from '../../main/cli/commands/layout.ts';
import { createHandlers } from '../../main/api/handlers.ts';
import type { Events, JobResult } from '../../main/api/contract.ts';
import { crsFromEpsg } from '../../main/grid/crs.ts';
import type { GridSpec } from '../../main/grid/grid-spec.ts';
import { writeGeoTiff } from '../../main/io/geotiff-write.ts';
import { InvalidOptionError } from '../../main/errors.ts';
import { UnknownLayerError } from '../../main/export/export-errors.ts';
import { pageOf, pagePixels } from '../../main/export/paper.ts';
import { optionsFromRequest } from '../../main/workflows/option-table.ts';
import { LAYOUT_OPTIONS, layoutResultLines, layoutWorkflow } from '../../main/workflows/layout.ts';
import { decodePng } from '../browser/png.ts';
import { runtimeImportsOutsideRepo } from '../helpers/node-free.ts';
import { REPO_ROOT, tempDir } from '../helpers/paths.ts';

/**
 * Issue 17 §1: "layout" as a workflow: called directly it writes the page the CLI wrote and
 * returns its format, paper and size as data; --help is unchanged; the app's layout job returns
 * the typed result. References as in tests/export/map-layout.test.ts: poppler's pdfinfo for the
 * PDF page box, ISO 216 sizes for A4 (210 × 297 mm = 595.28 × 841.89 pt).
 */
const dir = tempDir('wf-layout-');
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const grid: GridSpec = { originX: 500_000, originY: 4_630_000, cellSizeX: 1000, cellSizeY: 1000, rows: 30, cols: 40, crs: crsFromEpsg(32645) };
const raster = join(dir, 'halves.tif');
writeGeoTiff(raster, { grid, bandNames: ['halves', 'p_north_south'], bands: [Float32Array.from({ length: 1200 }, (_, i) => (i % 40 < 20 ? 0 : 1)), Float32Array.from({ length: 1200 }, (_, i) => Math.floor(i / 40) / 29)] });

function pdfPageSize(file: string): [number, number] {
  const m = /Page size:\s+([\d.]+) x ([\d.]+) pts/.exec(execFileSync('pdfinfo', [file], { encoding: 'utf8' }));
  if (!m) throw new Error(`pdfinfo printed no page size for ${file}`);
  return [Number(m[1]), Number(m[2])];
}

describe('layout workflow', () => {
  it('keeps "geoanomaly layout --help" byte-identical (tests/fixtures/help/layout.txt, captured before the move)', () => {
    expect(formatHelp(layoutCommand)).toBe(readFileSync(join(REPO_ROOT, 'tests/fixtures/help/layout.txt'), 'utf8'));
  });

  it('has its option table and result type Node-free (the renderer may import them): no node: or package import, even transitively', () => {
    expect(runtimeImportsOutsideRepo('main/workflows/layout-options.ts')).toEqual([]);
    expect(runtimeImportsOutsideRepo('main/workflows/layout-result.ts')).toEqual([]);
    // The workflow itself is not (it reads and writes files): the check sees its imports.
    expect(runtimeImportsOutsideRepo('main/workflows/layout.ts').some((i) => / → node:/.test(i))).toBe(true);
  });

  it('PDF: the page box is A4 portrait (pdfinfo, ±1 pt) and the result says so', async () => {
    const out = join(dir, 'page.pdf');
    const r = await layoutWorkflow({ raster, band: 'p_north_south', paper: 'A4', orientation: 'portrait', dpi: 72, inset: true, title: 'Layout test', out });
    expect(r.outputs).toEqual({ page: out });
    expect(r.format).toBe('pdf');
    expect([r.band, r.title, r.dpi]).toEqual(['p_north_south', 'Layout test', 72]);
    expect(r.page.paper).toBe('A4');
    expect(r.page.orientation).toBe('portrait');
    const [w, h] = pdfPageSize(out);
    expect(Math.abs(w - 595.28)).toBeLessThanOrEqual(1);
    expect(Math.abs(h - 841.89)).toBeLessThanOrEqual(1);
    expect(Math.abs(r.page.widthPt - w)).toBeLessThanOrEqual(1);
    expect(Math.abs(r.page.heightPt - h)).toBeLessThanOrEqual(1);
  });

  it('PNG: page pixels = paper × DPI; the CLI writes the same page and prints layoutResultLines', async () => {
    const out = join(dir, 'page.png');
    const r = await layoutWorkflow({ raster, band: 'halves', dpi: 100, out });
    const img = decodePng(readFileSync(out));
    // A4 landscape (the default) at 100 DPI: 297 mm × 100 / 25.4 = 1169.3 → 1169; 210 mm → 826.8 → 827.
    expect([img.width, img.height]).toEqual([1169, 827]);
    expect([r.widthPx, r.heightPx]).toEqual([1169, 827]);
    const expected = pagePixels(pageOf('A4', 'landscape'), 100);
    expect([r.widthPx, r.heightPx]).toEqual([expected.width, expected.height]);
    const cliOut = join(dir, 'page-cli.png');
    const printed: string[] = [];
    const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => (printed.push(String(chunk)), true));
    try {
      expect(await main(['layout', '--raster', raster, '--band', 'halves', '--dpi', '100', '--out', cliOut])).toBe(0);
    } finally {
      spy.mockRestore();
    }
    expect(printed.join('')).toBe(`${layoutResultLines({ ...r, outputs: { page: cliOut } }).join('\n')}\n`);
    // Same inputs, same drawing: the two PNGs are the same bytes.
    expect(readFileSync(cliOut)).toEqual(readFileSync(out));
  });

  it('the app\'s layout job runs the workflow and returns its typed result', async () => {
    const events: { name: keyof Events; payload: unknown }[] = [];
    const { handlers, jobs } = createHandlers({ dataDir: join(dir, 'data'), host: 'browser', emit: (name, payload) => events.push({ name, payload }), autosaveDelayMs: 60_000 });
    const out = join(dir, 'job.png');
    const { jobId } = await handlers.layout({ options: { raster, band: 'p_north_south', inset: true, dpi: 72, out } });
    await jobs.settled(jobId);
    const done = events.find((e) => e.name === 'jobDone' && (e.payload as { jobId: string }).jobId === jobId);
    expect(done, JSON.stringify(events.filter((e) => e.name === 'jobFailed'))).toBeDefined();
    const result = (done!.payload as { result: JobResult }).result;
    expect(result.workflow?.workflow).toBe('layout');
    if (result.workflow?.workflow !== 'layout') return;
    expect(result.workflow.result.outputs.page).toBe(out);
    expect(result.workflow.result.widthPx).toBe(842); // A4 landscape at 72 DPI: 841.9 px
    expect(decodePng(readFileSync(out)).width).toBe(842);
    expect(result.lines.at(-1)).toBe(layoutResultLines(result.workflow.result)[0]);
  });

  it('refuses what the CLI refuses, by name', async () => {
    await expect(layoutWorkflow({ raster, percentiles: '2', out: join(dir, 'x.pdf') })).rejects.toThrow(new InvalidOptionError('geoanomaly layout: --percentiles must be two numbers LOW,HIGH'));
    await expect(layoutWorkflow({ raster, band: 'Au', out: join(dir, 'x.pdf') })).rejects.toThrow(UnknownLayerError);
    await expect(layoutWorkflow({ raster, dpi: 10, out: join(dir, 'x.pdf') })).rejects.toThrow(InvalidOptionError);
    await expect(layoutWorkflow({ raster })).rejects.toThrow(/--out is required/);
    expect(() => optionsFromRequest(LAYOUT_OPTIONS, { raster, dpi: 'high' }, 'layout')).toThrow(/--dpi must be a number, got "high"/);
    expect(optionsFromRequest(LAYOUT_OPTIONS, { raster, 'faults-layer': 'f', inset: true, dpi: 300 }, 'layout')).toEqual({ raster, faultsLayer: 'f', inset: true, dpi: 300 });
    expect(existsSync(join(dir, 'x.pdf'))).toBe(false);
  });
});
