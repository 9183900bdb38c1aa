import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createHandlers, dispatch, NotAvailableError, type Handlers } from '../../main/api/handlers.ts';
import { JobManager } from '../../main/api/job-manager.ts';
import { runCommandInWorker, toArgv } from '../../main/api/command-job.ts';
import { COMPUTE_REQUESTS, REQUEST_NAMES, type Events, type RasterLayerSpec, type VectorLayerSpec } from '../../main/api/contract.ts';
import { readGeoTiff } from '../../main/io/geotiff-read.ts';
import { writeGeoTiff } from '../../main/io/geotiff-write.ts';
import { crsFromEpsg } from '../../main/grid/crs.ts';
import { CancelledError } from '../../main/errors.ts';
import { tempDir } from '../helpers/paths.ts';
import { Autosaver } from '../../main/project/autosave.ts';
import { loadProject, emptyProject } from '../../main/project/project-file.ts';

type Ev = { name: keyof Events; payload: unknown };
const events: Ev[] = [];
const dataDir = tempDir('ga-handlers-');
let handlers: Handlers;
let jobs: JobManager;
let autosaver: Autosaver;

beforeAll(() => {
  ({ handlers, jobs, autosaver } = createHandlers({ dataDir, host: 'browser', emit: (name, payload) => events.push({ name, payload }), autosaveDelayMs: 60_000 }));
});
afterAll(() => jobs.cancelAll());

describe('contract', () => {
  it('declares a handler for every request name and nothing else', () => {
    expect(Object.keys(handlers).sort()).toEqual([...REQUEST_NAMES].sort());
    for (const c of ['krige', 'faults', 'sites', 'train', 'predict', 'explain', 'evaluate', 'xrf', 'cancelJob', 'openProject', 'saveProject', 'importLayer']) {
      expect(REQUEST_NAMES).toContain(c);
    }
  });
});

describe('request handlers', () => {
  it('open the demo survey on first start: generated once, then reopened from the data folder', async () => {
    const p = await handlers.openDemoProject({});
    expect(p.path).toBe(join(dataDir, 'demo-survey', 'demo-survey.gaproj'));
    expect(p.document.crs?.epsg).toBe(32645);
    expect(p.document.layers.map((l) => l.kind)).toEqual(['raster', 'vector', 'vector', 'vector']);
    expect((p.document.layers[1] as VectorLayerSpec).role).toBe('faults');
    const again = await handlers.openDemoProject({});
    expect(again.document.layers.map((l) => l.id)).toEqual(p.document.layers.map((l) => l.id));
    expect((await handlers.listRecentProjects({})).map((r) => r.path)).toEqual([p.path]);
  });

  it('getRasterBand returns the file\'s Float32 values bit for bit (reference: readGeoTiff)', async () => {
    const p = await handlers.openDemoProject({});
    const layer = p.document.layers[0] as RasterLayerSpec;
    const band = await handlers.getRasterBand({ source: layer.source, band: layer.band });
    const ref = await readGeoTiff(layer.source);
    expect(band.values).toBeInstanceOf(Float32Array);
    expect(band.grid.rows * band.grid.cols).toBe(band.values.length);
    expect(Array.from(band.values)).toEqual(Array.from(ref.bands[0]));
    expect(band.grid.originX).toBe(ref.grid.originX);
  });

  it('getVectorData returns samples as GeoJSON points in the requested CRS', async () => {
    const p = await handlers.openDemoProject({});
    const samples = p.document.layers[2] as VectorLayerSpec;
    const v = await handlers.getVectorData({ source: samples.source, table: samples.table, targetCrs: 'EPSG:32645' });
    const csvRows = readFileSync(samples.source, 'utf8').trim().split('\n').length - 1;
    expect(v.geojson.features.length).toBe(csvRows);
    const first = v.geojson.features[0] as { geometry: { coordinates: number[] } };
    const csvFirst = readFileSync(samples.source, 'utf8').split('\n')[1].split(',');
    expect(first.geometry.coordinates).toEqual([Number(csvFirst[1]), Number(csvFirst[2])]);
  });

  it('importLayer reads a GeoTIFF\'s band names and names the file and the fix for a corrupt one', async () => {
    const tif = join(dataDir, 'two-bands.tif');
    const grid = { originX: 450000, originY: 4630000, cellSizeX: 1000, cellSizeY: 1000, rows: 3, cols: 4, crs: crsFromEpsg(32645) };
    writeGeoTiff(tif, { grid, bandNames: ['Au', 'Cu'], bands: [new Float32Array(12).fill(1), new Float32Array(12).fill(2)] });
    const l = await handlers.importLayer({ kind: 'raster', path: tif });
    expect(l).toMatchObject({ kind: 'raster', bandNames: ['Au', 'Cu'], band: 'Au', visible: true, opacity: 1 });
    const bad = join(dataDir, 'corrupt.tif');
    writeFileSync(bad, 'II*\0 this is not a tiff');
    const r = await dispatch(handlers, 'importLayer', { kind: 'raster', path: bad });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error.name).toBe('InvalidFileError');
    expect(r.error.message).toContain(bad);
    expect(r.error.message).toMatch(/re-export/);
    expect(r.error.details).toMatchObject({ file: bad });
  });

  it('save → open round-trips a project with sources stored relative to it', async () => {
    const demo = await handlers.openDemoProject({});
    const target = join(dataDir, 'projects', 'copy.gaproj');
    const saved = await handlers.saveProject({ path: target, document: { ...demo.document, name: 'Copy' } });
    expect(saved.path).toBe(target);
    const onDisk = JSON.parse(readFileSync(target, 'utf8')) as { layers: { source: string }[] };
    expect(onDisk.layers[0].source).toBe('../demo-survey/anomaly-truth.tif');
    const back = await handlers.openProject({ path: target });
    expect(back.document.name).toBe('Copy');
    expect(back.document.layers.map((l) => l.source)).toEqual(demo.document.layers.map((l) => l.source));
    expect((await handlers.listRecentProjects({}))[0].path).toBe(target);
    const auto = await handlers.autosaveProject({ path: target, document: back.document });
    expect(auto.path).toBe(join(dataDir, 'projects', 'copy.autosave.gaproj'));
    expect(existsSync(auto.path)).toBe(false);
    // Shutdown writes the pending autosave; the user's own file is never touched by it.
    const before = readFileSync(target, 'utf8');
    expect(autosaver.flush()).toBe(auto.path);
    expect(loadProject(auto.path).document.name).toBe('Copy');
    expect(readFileSync(target, 'utf8')).toBe(before);
  });

  it('dispatch rejects malformed calls as {name, message, details}', async () => {
    expect(await dispatch(handlers, 'evalCode', {})).toMatchObject({ ok: false, error: { name: 'InvalidOptionError' } });
    expect(await dispatch(handlers, 'openProject', null)).toMatchObject({ ok: false, error: { name: 'InvalidOptionError' } });
    expect(await dispatch(handlers, 'krige', { options: 'x' })).toMatchObject({ ok: false, error: { name: 'InvalidOptionError' } });
    expect(await dispatch(handlers, 'pickPaths', { title: 't' })).toMatchObject({ ok: false, error: { name: 'NotAvailableError' } });
  });

  it('krige runs as a job over the contract: progress events, jobDone, a GeoTIFF the raster import reads', async () => {
    const info = await handlers.getAppInfo({});
    expect(info.availableServices).toContain('krige');
    const demo = await handlers.openDemoProject({});
    const samples = demo.document.layers[2] as VectorLayerSpec;
    const out = join(dataDir, 'krige', 'au-cu.tif');
    const first = events.length;
    const { jobId } = await handlers.krige({
      options: { samples: samples.source, x: 'x', y: 'y', crs: 'EPSG:32645', fields: 'Au,Cu', cell: 4000, log: true, nmax: 16, threads: 1, out },
    });
    await jobs.settled(jobId);
    const mine = events.slice(first).filter((e) => (e.payload as { jobId?: string }).jobId === jobId);
    const last = mine[mine.length - 1];
    expect(last.name, JSON.stringify(last.payload)).toBe('jobDone');
    expect(mine.filter((e) => e.name === 'jobProgress').length).toBeGreaterThan(0);
    const layer = await handlers.importLayer({ kind: 'raster', path: out });
    expect(layer).toMatchObject({ kind: 'raster', bandNames: ['Au', 'Cu'] });
  });

  it('a cancelled compute job ends with jobFailed(CancelledError)', async () => {
    const demo = await handlers.openDemoProject({});
    const samples = demo.document.layers[2] as VectorLayerSpec;
    const first = events.length;
    const { jobId } = await handlers.krige({
      options: { samples: samples.source, x: 'x', y: 'y', crs: 'EPSG:32645', fields: 'all', cell: 250, threads: 1, out: join(dataDir, 'krige', 'never.tif') },
    });
    expect((await handlers.cancelJob({ jobId })).cancelled).toBe(true);
    await jobs.settled(jobId);
    const end = events.slice(first).filter((e) => (e.payload as { jobId?: string }).jobId === jobId && e.name !== 'jobProgress');
    expect(end).toEqual([{ name: 'jobFailed', payload: { jobId, error: { name: 'CancelledError', message: 'krige was cancelled', details: { what: 'krige' } } } }]);
    expect((await handlers.listJobs({})).find((j) => j.jobId === jobId)?.state).toBe('cancelled');
  });

  it('every compute request is served by its command: a job that runs `geoanomaly NAME` (its own option errors come back)', async () => {
    const info = await handlers.getAppInfo({});
    // This build registers a command for every compute request, so none answers NotAvailableError.
    expect([...info.availableServices].sort()).toEqual([...COMPUTE_REQUESTS].sort());
    for (const name of COMPUTE_REQUESTS) {
      const first = events.length;
      // An unknown flag: the command's own parser must reject it, which proves the request reached that command.
      const { jobId } = await handlers[name]({ options: { 'no-such-flag': 1 } });
      await jobs.settled(jobId);
      const end = events.slice(first).filter((e) => (e.payload as { jobId?: string }).jobId === jobId && e.name !== 'jobProgress');
      expect(end.map((e) => e.name), name).toEqual(['jobFailed']);
      const error = (end[0].payload as { error: { name: string; message: string } }).error;
      expect(error.name, `${name}: ${error.message}`).not.toBe(NotAvailableError.name);
      expect(error.message, name).toContain('no-such-flag');
    }
  });
});

describe('autosave', () => {
  it('writes once, after edits pause', () => {
    vi.useFakeTimers();
    try {
      const dir = tempDir('ga-autosave-');
      const a = new Autosaver({ delayMs: 1000 });
      const path = join(dir, 'p.autosave.gaproj');
      for (let i = 0; i < 5; i++) {
        a.changed(path, emptyProject(`edit ${i}`));
        vi.advanceTimersByTime(500);
        expect(existsSync(path)).toBe(false);
      }
      vi.advanceTimersByTime(600);
      expect(loadProject(path).document.name).toBe('edit 4');
      expect(a.flush()).toBeNull();
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('jobs', () => {
  it('stream progress and end with exactly one jobDone', async () => {
    const seen: Ev[] = [];
    const m = new JobManager((name, payload) => seen.push({ name, payload }), 0);
    const id = m.start('test', async (ctx) => {
      for (let i = 1; i <= 4; i++) ctx.progress?.(i / 4, `step ${i}`);
      return { exitCode: 0, lines: ['ok'] };
    });
    await m.settled(id);
    expect(seen.filter((e) => e.name === 'jobProgress').map((e) => (e.payload as { fraction: number }).fraction)).toEqual([0.25, 0.5, 0.75, 1]);
    expect(seen.filter((e) => e.name === 'jobDone')).toEqual([{ name: 'jobDone', payload: { jobId: id, result: { exitCode: 0, lines: ['ok'] } } }]);
    expect(m.list()[0]).toMatchObject({ jobId: id, state: 'done', fraction: 1 });
  });

  it('cancel aborts the signal and ends with jobFailed(CancelledError)', async () => {
    const seen: Ev[] = [];
    const m = new JobManager((name, payload) => seen.push({ name, payload }), 0);
    const id = m.start('slow', (ctx) => new Promise((_res, rej) => ctx.signal?.addEventListener('abort', () => rej(new CancelledError('slow')))));
    expect(m.cancel(id)).toBe(true);
    await m.settled(id);
    expect(seen).toEqual([{ name: 'jobFailed', payload: { jobId: id, error: { name: 'CancelledError', message: 'slow was cancelled', details: { what: 'slow' } } } }]);
    expect(m.cancel(id)).toBe(false);
  });

  it('run a real CLI command in a worker thread (the path every compute request takes)', async () => {
    const tif = join(dataDir, 'worker.tif');
    const grid = { originX: 0, originY: 30, cellSizeX: 10, cellSizeY: 10, rows: 3, cols: 2, crs: crsFromEpsg(32645) };
    writeGeoTiff(tif, { grid, bandNames: ['Zn'], bands: [new Float32Array([1, 2, 3, 4, 5, 6])] });
    expect(toArgv({ options: { out: 'x', seed: 3, verbose: true, quiet: false, band: ['a', 'b'] }, positionals: ['p'] })).toEqual(['--out', 'x', '--seed', '3', '--verbose', '--band', 'a', '--band', 'b', 'p']);
    const r = await runCommandInWorker('info', [tif], {});
    expect(r.exitCode).toBe(0);
    expect(r.lines.join('\n')).toContain('2 cols × 3 rows');
    expect(r.lines.join('\n')).toMatch(/min 1\.0+\s+max 6\.0+\s+mean 3\.50*\s/);
    await expect(runCommandInWorker('no-such-command', [], {})).rejects.toThrow(/no command "no-such-command"/);
  });
});
