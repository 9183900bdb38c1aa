/**
 * Micro-XRF workflow benchmark and results table.
 *
 *   npx tsx bench/xrf.ts timing [--epochs N] [--skip-rx] [--threads 1,2] [--rows 500]
 *                                              seconds/epoch and total for MSFA-Net on a 500×500×100
 *                                              synthetic cube, single thread and data-parallel on
 *                                              N worker threads (ratios in the same run); global RX
 *                                              on 1000×1000×100
 *   npx tsx bench/xrf.ts rx [--side 1000] [--bands 100] [--threads 2] [--with-js]
 *                                              global RX on a side×side×bands synthetic cube: the GEMM
 *                                              path (main/xrf/rx-onnx.ts, ONNX Runtime) against NumPy
 *                                              (bench/peers/rx_numpy.py, the same algorithm, same cube,
 *                                              same run); scores compared; --with-js adds the JS loops
 *   npx tsx bench/xrf.ts results [--seeds 1,2] [--epochs 150] [--out FILE]
 *                                              AUC of RX, LRX, Auto-AD, MSFA-Net and its ablations on
 *                                              HYDICE, abu-beach-4 (../shared) and the synthetic sample
 *
 * Wall time and process CPU time are both printed: on a shared machine wall time includes waiting
 * for the CPU. The machine must not be loaded for the wall numbers to mean anything.
 */
import { parseArgs } from 'node:util';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { globalRxFast } from '../main/xrf/rx-onnx.ts';
import { writeJsonAtomic } from '../main/util/atomic-write.ts';
import { readCube } from '../main/xrf/cube-import.ts';
import { normalizeCube, type SpectralCube } from '../main/xrf/cube.ts';
import { syntheticSample } from '../main/xrf/synthetic.ts';
import { globalRx, localRx } from '../main/xrf/rx.ts';
import { runMsfaNet, ABLATIONS } from '../main/xrf/msfa-net.ts';
import { runAutoAd } from '../main/xrf/auto-ad.ts';
import { rocAuc } from '../main/eval/metrics.ts';

const { values, positionals } = parseArgs({
  args: process.argv.slice(2),
  allowPositionals: true,
  options: { threads: { type: 'string' }, rows: { type: 'string' }, epochs: { type: 'string' }, seeds: { type: 'string' }, out: { type: 'string' }, datasets: { type: 'string' }, methods: { type: 'string' }, 'skip-rx': { type: 'boolean' }, side: { type: 'string' }, bands: { type: 'string' }, 'with-js': { type: 'boolean' } },
});
const mode = positionals[0] ?? 'timing';

function clock(): { wallS: () => number; cpuS: () => number } {
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  return {
    wallS: () => (performance.now() - t0) / 1000,
    cpuS: () => {
      const c = process.cpuUsage(c0);
      return (c.user + c.system) / 1e6;
    },
  };
}

async function timing(): Promise<void> {
  const epochs = Number(values.epochs ?? 3);
  const side = Number(values.rows ?? 500);
  const threadList = (values.threads ?? '1,2').split(',').map(Number);
  let k = clock();
  const big = syntheticSample({ rows: side, cols: side, channels: 100, seed: 1 });
  console.log(`synthetic ${side}×${side}×100: generated in ${k.wallS().toFixed(1)} s wall`);
  const cube = normalizeCube(big.cube, 'minmax-band');
  const perEpoch: Record<number, { wall: number; cpu: number }> = {};
  for (const threads of threadList) {
    k = clock();
    const r = await runMsfaNet(cube, { epochs, threads });
    const wall = k.wallS(), cpu = k.cpuS();
    perEpoch[threads] = { wall: r.secondsPerEpoch, cpu: r.cpuSecondsPerEpoch };
    console.log(`MSFA-Net ${epochs} epochs on ${side}×${side}×100, ${threads} thread(s) (${r.backend}): ${wall.toFixed(1)} s wall, ${cpu.toFixed(1)} s CPU in all; replica start-up ${r.startupSeconds.toFixed(1)} s`);
    console.log(`  training loop: ${r.secondsPerEpoch.toFixed(2)} s/epoch wall, ${r.cpuSecondsPerEpoch.toFixed(2)} CPU-s/epoch (all threads) → 150 epochs ≈ ${((r.secondsPerEpoch * 150) / 60).toFixed(1)} min wall (goal ≤ 6 min, issue 15)`);
  }
  const base = perEpoch[threadList[0]];
  for (const t of threadList.slice(1)) {
    console.log(`  speed-up ${t} threads vs ${threadList[0]}: ${(base.wall / perEpoch[t].wall).toFixed(2)}× wall; CPU-s/epoch ratio ${(perEpoch[t].cpu / base.cpu).toFixed(2)} (1.00 = no parallel overhead)`);
  }
  if (values['skip-rx']) return;
  await rxBench();
}

async function rxBench(): Promise<void> {
  const side = Number(values.side ?? 1000);
  const B = Number(values.bands ?? 100);
  const threads = Number(values.threads ?? 2);
  const n = side * side;
  let k = clock();
  const rx = syntheticSample({ rows: side, cols: side, channels: B, seed: 2, supersample: 1 });
  console.log(`synthetic ${side}×${side}×${B}: generated in ${k.wallS().toFixed(1)} s wall`);
  const dir = mkdtempSync(join(tmpdir(), 'bench-rx-'));
  try {
    const cubeFile = join(dir, 'cube.f32');
    const px = rx.cube.pixels;
    writeFileSync(cubeFile, new Uint8Array(px.buffer, px.byteOffset, px.byteLength));
    // Warm-up of both sides (ORT session creation, BLAS thread start) on a small slice is not
    // counted; each timed run starts from the cube in memory.
    await globalRxFast({ rows: 64, cols: 64, bandCount: B, pixels: px.subarray(0, 64 * 64 * B) }, { threads });
    k = clock();
    const fast = await globalRxFast(rx.cube, { threads, engine: 'onnx' });
    const fastWall = k.wallS(), fastCpu = k.cpuS();
    console.log(`global RX (GEMM, ONNX Runtime ${threads} threads) on ${side}×${side}×${B}: ${fastWall.toFixed(2)} s wall, ${fastCpu.toFixed(2)} s CPU; rank ${fast.rank}`);
    const scoresFile = join(dir, 'scores.f64');
    const peerOut = execFileSync('/usr/bin/python3', ['bench/peers/rx_numpy.py', cubeFile, String(n), String(B), '32768', scoresFile], { encoding: 'utf8' });
    const peer = JSON.parse(peerOut.trim().split('\n').at(-1) as string) as { total_s: number; covariance_s: number; scores_s: number; blas: string };
    console.log(`global RX (NumPy ${peer.blas}) on the same cube: ${peer.total_s.toFixed(2)} s (covariance ${peer.covariance_s.toFixed(2)} s, scores ${peer.scores_s.toFixed(2)} s; excludes reading the cube)`);
    const ref = new Float64Array(readFileSync(scoresFile).buffer.slice(0));
    let maxRel = 0;
    for (let i = 0; i < n; i++) maxRel = Math.max(maxRel, Math.abs(fast.scores[i] - ref[i]) / Math.max(1, ref[i]));
    console.log(`  scores vs NumPy: max |Δ|/max(1, score) = ${maxRel.toExponential(2)}`);
    console.log(`  ratio ours/NumPy: ${(fastWall / peer.total_s).toFixed(2)}× (goal ≤ 1.5×); absolute ${fastWall.toFixed(2)} s (goal ≤ 5 s)`);
    if (values['with-js']) {
      k = clock();
      globalRx(rx.cube);
      const jsWall = k.wallS();
      console.log(`global RX (JS loops, one thread): ${jsWall.toFixed(1)} s wall, ${k.cpuS().toFixed(1)} s CPU → GEMM path ${(jsWall / fastWall).toFixed(1)}× faster`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function results(): Promise<void> {
  const seeds = (values.seeds ?? '1,2').split(',').map(Number);
  const epochs = Number(values.epochs ?? 150);
  const wanted = (values.datasets ?? 'HYDICE,abu-beach-4,synthetic').split(',');
  const methods = (values.methods ?? ['rx', 'lrx', 'autoad', ...ABLATIONS.map((a) => `msfa/${a}`)].join(',')).split(',');
  const sets: [string, () => Promise<SpectralCube>][] = [
    ['HYDICE', () => readCube('../shared/data/hyperspectral/HYDICE_data.mat')],
    ['abu-beach-4', () => readCube('../shared/data/hyperspectral/abu-beach-4.mat')],
    ['synthetic', async () => syntheticSample({ rows: 128, cols: 128, seed: 7 }).cube],
  ];
  const table: Record<string, Record<string, number | number[]>> = {};
  for (const [name, load] of sets.filter(([n]) => wanted.includes(n))) {
    const cube = normalizeCube(await load(), 'minmax-band');
    const truth = cube.truth as Uint8Array;
    const row: Record<string, number | number[]> = {};
    if (methods.includes('rx')) row.rx = rocAuc(truth, globalRx(cube));
    if (methods.includes('lrx')) row.lrx = rocAuc(truth, localRx(cube));
    console.log(name, 'rx', row.rx, 'lrx', row.lrx);
    for (const ablation of ABLATIONS.filter((a) => methods.includes(`msfa/${a}`))) {
      const aucs: number[] = [];
      for (const seed of seeds) {
        const k = clock();
        const r = await runMsfaNet(cube, { epochs, seed, ablation });
        aucs.push(rocAuc(truth, r.scores));
        console.log(name, `msfa/${ablation}`, 'seed', seed, aucs.at(-1)?.toFixed(4), `${k.wallS().toFixed(0)} s wall`);
      }
      row[`msfa/${ablation}`] = aucs;
    }
    const ad: number[] = [];
    for (const seed of methods.includes('autoad') ? seeds : []) {
      const k = clock();
      const r = await runAutoAd(cube, { seed });
      ad.push(rocAuc(truth, r.scores));
      console.log(name, 'autoad seed', seed, ad.at(-1)?.toFixed(4), `${r.iterations} iterations, ${k.wallS().toFixed(0)} s wall`);
    }
    if (ad.length) row.autoad = ad;
    table[name] = row;
    if (values.out) writeJsonAtomic(values.out, { epochs, seeds, table });
  }
  console.log(JSON.stringify(table, null, 1));
}

await (mode === 'results' ? results() : mode === 'rx' ? rxBench() : timing());
