/**
 * Benchmark (not a test): one training epoch of GK-DCN and of the plain CNN (4,096 random
 * patches 9×9×39, batch 64) and inference windows/s at batch 1,024, in our code and in PyTorch
 * 1.13 CPU (bench/train-torch.py, torchvision DeformConv2d) for the identical architecture,
 * PyTorch on 2 threads. Prints both times and the ratios.
 *
 *   npx tsx bench/train.ts [--backend wasm|cpu|tensorflow|auto] [--patches 4096] [--skip-torch]
 *                          [--onnx-threads 1,2] [--onnx-spin on|off|on,off]
 *
 * The "ours" row is the single-thread tfjs loop (engine 'tfjs', the fallback and test oracle).
 * The tfjs data-parallel rows are gone with that trainer (issue 17; their last figures are in
 * bench/results/gk-dcn.md). Wall AND process CPU seconds (all threads) are printed: on a shared
 * machine the wall ratio is only meaningful when idle.
 *
 * ONNX Runtime rows (`--onnx-threads`, default "1,2"; empty to skip): the same epoch on the onnx
 * training engine (main/models/onnx-train/, what trainModel runs with engine 'onnx'): one session
 * with N intra-op threads running the forward + backward graph, Adam and BN averages in JS. Graph
 * build + session creation (once per fit and batch size) is printed separately; one warm-up epoch
 * of two batches, then one timed epoch of the full set plus the state fetch trainModel does after
 * every epoch. Wall and process CPU seconds. `--onnx-spin on,off` adds rows with ONNX Runtime's
 * idle-thread spinning disabled (see OnnxTrainerOptions.spinning).
 *
 * Our side runs the real training code path (trainModel: Adam, geology loss, weight decay) with
 * no validation split; one small warm-up run first so that kernel set-up is not timed (PyTorch
 * gets one warm-up step too).
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend, type BackendPreference } from '../main/models/backend.ts';
import { checkTrainOptions, predictDepositProbability, trainModel, type TrainingData } from '../main/models/train.ts';
import { buildModel, usesGeology, type ModelKind } from '../main/models/architectures.ts';
import { OnnxTrainer } from '../main/models/onnx-train/onnx-trainer.ts';
import { Rng } from '../main/util/rng.ts';

const { values } = parseArgs({
  options: {
    backend: { type: 'string', default: 'auto' },
    patches: { type: 'string', default: '4096' },
    batch: { type: 'string', default: '64' },
    'infer-windows': { type: 'string', default: '8192' },
    'skip-torch': { type: 'boolean', default: false },
    models: { type: 'string', default: 'gk-dcn,cnn' },
    'onnx-threads': { type: 'string', default: '1,2' },
    'onnx-spin': { type: 'string', default: 'on' },
  },
});

const nPatches = Number(values.patches);
const batch = Number(values.batch);
const inferWindows = Number(values['infer-windows']);
const size = 9;
const channels = 39;

function randomData(n: number, seed: number): TrainingData {
  const rng = new Rng(seed);
  const x = new Float32Array(n * size * size * channels);
  for (let i = 0; i < x.length; i++) x[i] = rng.normal();
  const labels = Int32Array.from({ length: n }, () => rng.int(2));
  const knowledge = Float32Array.from({ length: n }, () => rng.uniform());
  const siteIds = Array.from({ length: n }, (_, i) => `p${i}`);
  return { x, n, patchSize: size, channels, labels, siteIds, knowledge, nKnowledge: 1 };
}

async function ours(kind: ModelKind): Promise<{ epochSeconds: number; inferenceWindowsPerSecond: number }> {
  const options = { epochs: 1, batchSize: batch, validationFraction: 0, seed: 1, engine: 'tfjs' as const };
  const warm = randomData(batch, 2);
  const w = await trainModel(kind, warm, Array.from({ length: batch }, (_, i) => i), options);
  w.model.dispose();
  const data = randomData(nPatches, 1);
  const all = Array.from({ length: nPatches }, (_, i) => i);
  const t0 = performance.now();
  const trained = await trainModel(kind, data, all, options);
  const epochSeconds = (performance.now() - t0) / 1000;
  const inf = randomData(inferWindows, 3);
  const idx = Array.from({ length: inferWindows }, (_, i) => i);
  predictDepositProbability(trained.model, inf, idx.slice(0, 1024), 1024); // warm-up
  const t1 = performance.now();
  predictDepositProbability(trained.model, inf, idx, 1024);
  const inferenceWindowsPerSecond = inferWindows / ((performance.now() - t1) / 1000);
  trained.model.dispose();
  return { epochSeconds, inferenceWindowsPerSecond };
}

/** One epoch on the ONNX Runtime training engine with `threads` intra-op threads. */
async function onnxEngine(kind: ModelKind, threads: number, spinning: boolean): Promise<{ epochSeconds: number; cpuSeconds: number; startupSeconds: number }> {
  const o = checkTrainOptions({ epochs: 1, batchSize: batch, validationFraction: 0, seed: 1 });
  const data = randomData(nPatches, 1);
  const model = buildModel(kind, { channels, patchSize: size, seed: 7 });
  const t0 = performance.now();
  const trainer = await OnnxTrainer.start(model, data, usesGeology(kind) ? { a: [0.1], b: 0 } : null, {
    learningRate: o.learningRate,
    weightDecay: o.weightDecay,
    lambda: o.lambda,
    threads,
    spinning,
  });
  try {
    await trainer.prepare(batch);
    const startupSeconds = (performance.now() - t0) / 1000;
    await trainer.runEpoch(Array.from({ length: 2 * batch }, (_, i) => i), batch); // warm-up
    const order = Array.from({ length: nPatches }, (_, i) => i);
    new Rng(3).shuffle(order);
    const c0 = process.cpuUsage();
    const t1 = performance.now();
    await trainer.runEpoch(order, batch);
    await trainer.state();
    const epochSeconds = (performance.now() - t1) / 1000;
    const c = process.cpuUsage(c0);
    return { epochSeconds, cpuSeconds: (c.user + c.system) / 1e6, startupSeconds };
  } finally {
    await trainer.close();
    model.dispose();
  }
}

function torch(kind: ModelKind): { epochSeconds: number; inferenceWindowsPerSecond: number; torch: string } | null {
  const script = fileURLToPath(new URL('./train-torch.py', import.meta.url));
  const r = spawnSync(
    '/usr/bin/python3',
    [script, '--model', kind, '--threads', '2', '--patches', String(nPatches), '--batch', String(batch), '--infer-windows', String(inferWindows)],
    { encoding: 'utf8', env: { ...process.env, OMP_NUM_THREADS: '2', MKL_NUM_THREADS: '2' } },
  );
  if (r.status !== 0) {
    process.stderr.write(`PyTorch run failed (${r.status}): ${r.stderr}\n`);
    return null;
  }
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as { epochSeconds: number; inferenceWindowsPerSecond: number; torch: string };
}

const be = await initBackend(values.backend as BackendPreference);
console.log(`backend: ${be.detail}`);
console.log(`one epoch: ${nPatches} patches ${size}×${size}×${channels}, batch ${batch}; inference: ${inferWindows} windows at batch 1024`);
const kinds = values.models.split(',') as ModelKind[];
const onnxSpin = values['onnx-spin'].split(',').filter((t) => t !== '');
// Row keys: onnx<threads> with spinning (ONNX Runtime's default), onnx<threads>nospin without.
const onnxRows = values['onnx-threads']
  .split(',')
  .filter((t) => t !== '')
  .flatMap((t) => onnxSpin.map((spin) => ({ threads: Number(t), spinning: spin !== 'off', key: `onnx${t}${spin === 'off' ? 'nospin' : ''}` })));
const rows: Record<string, Record<string, number>> = {};
for (const kind of kinds) {
  const c0 = process.cpuUsage();
  const o = await ours(kind);
  const oursCpu = process.cpuUsage(c0);
  const t = values['skip-torch'] ? null : torch(kind);
  rows[kind] = { oursEpochS: o.epochSeconds, oursWinPerS: o.inferenceWindowsPerSecond, oursCpuS: (oursCpu.user + oursCpu.system) / 1e6 };
  if (t) Object.assign(rows[kind], { torchEpochS: t.epochSeconds, torchWinPerS: t.inferenceWindowsPerSecond });
  console.log(
    `${kind.padEnd(7)} ours ${o.epochSeconds.toFixed(2)} s/epoch, ${o.inferenceWindowsPerSecond.toFixed(0)} windows/s` +
      (t ? ` | PyTorch ${t.torch} (2 threads) ${t.epochSeconds.toFixed(2)} s/epoch, ${t.inferenceWindowsPerSecond.toFixed(0)} windows/s | ratio ours/torch epoch ${(o.epochSeconds / t.epochSeconds).toFixed(3)}` : ''),
  );
  for (const { threads, spinning, key } of onnxRows) {
    const d = await onnxEngine(kind, threads, spinning);
    rows[kind][`${key}EpochS`] = d.epochSeconds;
    rows[kind][`${key}CpuS`] = d.cpuSeconds;
    console.log(
      `${kind.padEnd(7)} onnx engine ${threads} intra-op thread(s)${spinning ? '' : ', no spinning'}: ${d.epochSeconds.toFixed(2)} s/epoch wall, ${d.cpuSeconds.toFixed(2)} CPU-s/epoch, ` +
        `graph + session start-up ${d.startupSeconds.toFixed(1)} s` +
        (t ? ` | ratio ours/torch epoch ${(d.epochSeconds / t.epochSeconds).toFixed(3)}` : ''),
    );
  }
}
const g = rows['gk-dcn'];
const c = rows.cnn;
if (g?.torchEpochS !== undefined && c?.torchEpochS !== undefined) {
  const variants = [
    ['single thread', 'oursEpochS'],
    ...onnxRows.map((r) => [`onnx engine, ${r.threads} thread(s)${r.spinning ? '' : ', no spinning'}`, `${r.key}EpochS`]),
  ] as [string, string][];
  for (const [name, key] of variants) {
    if (g[key] === undefined) continue;
    console.log(`GK-DCN epoch (${name}): ours / PyTorch GK-DCN = ${(g[key] / g.torchEpochS).toFixed(3)} (goal ≤ 0.25); ours / PyTorch plain CNN = ${(g[key] / c.torchEpochS).toFixed(3)} (goal ≤ 3)`);
  }
  console.log(`CNN epoch: ours / PyTorch CNN = ${(c.oursEpochS / c.torchEpochS).toFixed(3)}`);
  for (const r of onnxRows) {
    const v = c[`${r.key}EpochS`];
    if (v !== undefined) console.log(`CNN epoch (onnx engine, ${r.threads} thread(s)${r.spinning ? '' : ', no spinning'}): ours / PyTorch CNN = ${(v / c.torchEpochS).toFixed(3)}`);
  }
}
console.log(`tensors alive at exit: ${tf.memory().numTensors}`);
console.log(JSON.stringify(rows));
