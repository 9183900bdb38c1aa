import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../main/cli/main.ts';
import { writeGeoTiff } from '../../main/io/geotiff-write.ts';
import { normalizeCube } from '../../main/xrf/cube.ts';
import { pixelGrid } from '../../main/xrf/detection-output.ts';
import { runMsfaNet } from '../../main/xrf/msfa-net.ts';
import { syntheticSample } from '../../main/xrf/synthetic.ts';

describe('MSFA-Net data-parallel training', () => {
  it('2 threads follow the 1-thread loss curve (no BatchNorm: only float order differs) and repeat exactly', async () => {
    const s = syntheticSample({ rows: 40, cols: 40, channels: 24, seed: 3 });
    const cube = normalizeCube(s.cube, 'minmax-band');
    // Batches of 300 pixels: ~5 steps per epoch, so the gradients of many steps are exchanged.
    const o = { epochs: 3, batchSize: 300, hiddenChannels: 16, latentDim: 8, seed: 2 };
    const one = await runMsfaNet(cube, { ...o, threads: 1 });
    const two = await runMsfaNet(cube, { ...o, threads: 2 });
    const again = await runMsfaNet(cube, { ...o, threads: 2 });
    expect(two.lossHistory).toHaveLength(3);
    expect(two.lossHistory[2]).toBeLessThan(two.lossHistory[0]);
    // Reference: the single-thread loop. The summed shard gradients equal the batch gradient up
    // to float32 rounding (see tests/models/data-parallel.test.ts), which Adam carries over
    // 15 steps: relative 1e-4 per epoch loss, 1e-3 per score (observed ~1e-6).
    one.lossHistory.forEach((v, i) => expect(Math.abs(two.lossHistory[i] - v) / v).toBeLessThanOrEqual(1e-4));
    const rel = Math.max(...Array.from(one.reconstructionError, (v, i) => Math.abs(two.reconstructionError[i] - v) / Math.max(v, 1e-6)));
    expect(rel).toBeLessThanOrEqual(1e-3);
    // Same seed and thread count: identical numbers.
    expect(Array.from(again.scores)).toEqual(Array.from(two.scores));
    expect(again.lossHistory).toEqual(two.lossHistory);
    expect(two.options.threads).toBe(2);
    expect(two.backend).toMatch(/2 data-parallel replicas/);
  });

  it('geoanomaly xrf --threads 2 trains MSFA-Net on 2 replicas and records it in metrics.json; --threads 0 is a usage error', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'xrf-dp-'));
    const s = syntheticSample({ rows: 16, cols: 16, channels: 10, seed: 1 });
    const { rows, cols, bandCount: B, pixels } = s.cube;
    const bands = Array.from({ length: B }, (_, b) => Float32Array.from({ length: rows * cols }, (_, i) => pixels[i * B + b]));
    writeGeoTiff(join(dir, 'cube.tif'), { grid: pixelGrid(rows, cols), bandNames: s.cube.bandNames, bands });
    expect(await main(['xrf', '--cube', join(dir, 'cube.tif'), '--method', 'msfa', '--epochs', '2', '--threads', '2', '--out', join(dir, 'm')])).toBe(0);
    const m = JSON.parse(readFileSync(join(dir, 'm', 'metrics.json'), 'utf8'));
    expect([m.msfa.threads, m.msfa.epochs]).toEqual([2, 2]);
    expect(m.msfa.cpuSecondsPerEpoch).toBeGreaterThan(0);
    expect(await main(['xrf', '--cube', join(dir, 'cube.tif'), '--method', 'msfa', '--threads', '0', '--out', join(dir, 'o')])).toBe(2);
  });
});
