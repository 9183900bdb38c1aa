import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { peakRssKB, peakRssOfPidKB } from '../../main/queue/peak-rss.ts';
import { REPO_ROOT } from '../helpers/paths.ts';

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
});
