import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { statSync, truncateSync } from 'node:fs';
import { writeGeoTiff } from '../../main/io/geotiff-write.ts';
import { crsFromEpsg } from '../../main/grid/crs.ts';
import { peakRssKB, peakRssOfPidKB } from '../../main/queue/peak-rss.ts';
import { REPO_ROOT, tempDir } from '../helpers/paths.ts';

/**
 * The peak RSS a worker reports with each unit (UnitReceipt.maxRssKB) must be the worker's own.
 * process.resourceUsage().maxRSS is not: on Linux a child inherits its parent's ru_maxrss across
 * fork + exec, which made the first full-size benchmark report its own ≈ 2.9 GB for every worker.
 */
describe('peak resident memory of a worker process', () => {
  it('reads VmHWM from a /proc status text', () => {
    expect(peakRssKB('Name:\tnode\nVmPeak:\t 9999 kB\nVmHWM:\t   12345 kB\nVmRSS:\t 100 kB\n')).toBe(12345);
  });

  it.skipIf(process.platform !== 'linux')('is the child\'s own peak, not the peak of the big process that spawned it', () => {
    // Hold ≥ 768 MB resident in this (parent) process while the child starts: the inherited
    // ru_maxrss would then be ≥ 768 MB, while a Node child with tsx is ≈ 40–150 MB on its own.
    const big = new Float64Array(96 * 1024 * 1024).fill(1);
    expect(peakRssOfPidKB(process.pid)).toBeGreaterThan(768 * 1024);
    const r = spawnSync(
      process.execPath,
      ['--import', 'tsx', '-e', "import('./main/queue/peak-rss.ts').then((m) => console.log(JSON.stringify({ own: m.peakRssKB(), rusage: process.resourceUsage().maxRSS })))"],
      { cwd: REPO_ROOT, encoding: 'utf8' },
    );
    expect(r.status, r.stderr).toBe(0);
    const child = JSON.parse(r.stdout.trim().split('\n').pop() as string) as { own: number; rusage: number };
    // Bound: 400 MB, far above a bare Node + tsx child, far below the parent's 768 MB.
    expect(child.own).toBeLessThan(400 * 1024);
    expect(child.own).toBeGreaterThan(0);
    expect(big[big.length - 1]).toBe(1); // keeps the allocation alive until the child has run
  });

  it.skipIf(process.platform !== 'linux')('opening a 1 GB stack for row reads (a worker\'s first tile) reads its header, not the whole file', () => {
    // The cause of the 2.9 GB workers: readGeoTiffInfo read the whole stack (plus a copy) to get the
    // grid and band names. A small GeoTIFF grown to 1 GiB with a sparse tail (no disk used): header
    // reads stay at a few MB, a whole-file read would take ≥ 1 GiB (2 GiB with the copy).
    const dir = tempDir('ga-peak-');
    const path = join(dir, 'stack.tif');
    const grid = { originX: 0, originY: 800, cellSizeX: 100, cellSizeY: 100, rows: 8, cols: 8, crs: crsFromEpsg(32645) };
    writeGeoTiff(path, { grid, bandNames: ['Au', 'Cu'], bands: [new Float32Array(64).fill(1), new Float32Array(64).fill(2)] });
    truncateSync(path, statSync(path).size + 1024 ** 3);
    const script =
      "const { openStackSource } = await import('./main/maps/stack-source.ts'); const { peakRssKB } = await import('./main/queue/peak-rss.ts');" +
      `const s = await openStackSource(${JSON.stringify(path)}); const rows = await s.readRows(2, 5, [1]); await s.close();` +
      'console.log(JSON.stringify({ peak: peakRssKB(), bands: s.bandNames, v: rows[0][0] }));';
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: REPO_ROOT, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout.trim().split('\n').pop() as string) as { peak: number; bands: string[]; v: number };
    expect(out.bands).toEqual(['Au', 'Cu']);
    expect(out.v).toBe(2);
    // Bound: 400 MB, far above a Node + tsx child (≈ 80–150 MB), far below the 1 GiB file.
    expect(out.peak).toBeLessThan(400 * 1024);
  });
});
