/**
 * The data-parallel program of the patch classifiers (CNN, DCN, GK-CNN, GK-DCN): what every
 * replica builds and how it computes the loss of its shard. Used by trainModel with threads > 1.
 */
import * as tf from '@tensorflow/tfjs-core';
import { Rng } from '../util/rng.ts';
import { buildModel, SeededDropout, usesGeology, type ArchitectureOptions, type ModelKind } from './architectures.ts';
import { createGeologyVariables, totalLoss, type GeologyTermVariables } from './geology-loss.ts';
import type { JobContext } from '../jobs/job.ts';
import { DataParallelTrainer, type ProgramRef, type Replica, type ReplicaInfo, type SharedArrays } from './data-parallel.ts';
import type { CheckedTrainOptions, TrainingData } from './train.ts';
import { moduleUrl } from '../util/module-url.ts';

export interface PatchReplicaSpec {
  readonly kind: ModelKind;
  /** Complete architecture options (channels, patch size and the init seed included). */
  readonly architecture: ArchitectureOptions;
  readonly lambda: number;
  readonly weightDecay: number;
  readonly nKnowledge: number;
  /** Base of the per-replica dropout seeds. */
  readonly dropoutSeed: number;
}

export const PATCH_PROGRAM: ProgramRef = { module: moduleUrl('./data-parallel-patch.ts', import.meta.url).href, factory: 'createPatchReplica' };

/** The arrays a patch replica reads: x [n·k·k·C], labels [n] (float), knowledge [n·nKnowledge] (optional). */
export function patchSharedArrays(x: Float32Array, labels: ArrayLike<number>, knowledge?: Float32Array): SharedArrays {
  return { x, labels: Float32Array.from(labels), ...(knowledge ? { knowledge } : {}) };
}

/** Dropout seed of replica `index`: each replica draws its own masks (a seeded, per-replica stream). */
export function replicaDropoutSeed(base: number, index: number): number {
  return new Rng(base).fork(index).nextUint32() % 2147483647;
}

export function createPatchReplica(spec: PatchReplicaSpec, shared: SharedArrays, info: ReplicaInfo): Replica {
  const model = buildModel(spec.kind, spec.architecture);
  for (const layer of model.layers) {
    // The same seed on every replica would give every shard the same mask pattern.
    if (layer instanceof SeededDropout) (layer as { seed: number }).seed = replicaDropoutSeed(spec.dropoutSeed, info.index);
  }
  const geo: GeologyTermVariables | undefined = usesGeology(spec.kind) ? createGeologyVariables(spec.nKnowledge) : undefined;
  const x = shared.x as Float32Array;
  const labels = shared.labels as Float32Array;
  const knowledge = shared.knowledge as Float32Array | undefined;
  const p = spec.architecture.patchSize ?? 9;
  const C = spec.architecture.channels;
  const size = p * p * C;
  const kernels = model.trainableWeights.filter((w) => /kernel/.test(w.originalName)).map((w) => w.read());
  const variables = [...model.trainableWeights.map((w) => w.read() as tf.Variable), ...(geo ? [geo.a, geo.b] : [])];
  const synced = model.nonTrainableWeights.map((w) => w.read() as tf.Variable);
  return {
    variables,
    synced,
    minShardSize: 2,
    loss(shard, batch) {
      const n = shard.length;
      const xb = new Float32Array(n * size);
      const yb = new Float32Array(n);
      shard.forEach((s, j) => {
        xb.set(x.subarray(s * size, (s + 1) * size), j * size);
        yb[j] = labels[s];
      });
      const xt = tf.tensor4d(xb, [n, p, p, C]);
      const yt = tf.tensor1d(yb);
      let wt: tf.Tensor2D | undefined;
      if (geo && knowledge) {
        const k = spec.nKnowledge;
        const wb = new Float32Array(n * k);
        shard.forEach((s, j) => wb.set(knowledge.subarray(s * k, (s + 1) * k), j * k));
        wt = tf.tensor2d(wb, [n, k]);
      }
      // The same loss as the single-thread step (train.ts), scaled by the shard's share of the batch.
      const probs = model.apply(xt, { training: true }) as tf.Tensor2D;
      let l = totalLoss(probs, yt, spec.lambda, wt && geo ? { w: wt, vars: geo } : undefined);
      if (spec.weightDecay > 0) {
        const l2 = tf.addN(kernels.map((kk) => tf.sum(tf.square(kk))));
        l = tf.add(l, tf.mul(0.5 * spec.weightDecay, l2)) as tf.Scalar;
      }
      return tf.mul(l, n / batch.length) as tf.Scalar;
    },
    state() {
      return [...model.getWeights().map((w) => tf.clone(w)), ...(geo ? [tf.clone(geo.a), tf.clone(geo.b)] : [])];
    },
    dispose() {
      model.dispose();
      if (geo) tf.dispose([geo.a, geo.b]);
    },
  };
}

/**
 * Starts the replicas of one patch-classifier training (trainModel with threads > 1). Every worker
 * runs the backend active on the calling thread; the shared arrays are copied into shared memory
 * once.
 */
export function startPatchTrainer(
  kind: ModelKind,
  data: TrainingData,
  architecture: ArchitectureOptions,
  o: CheckedTrainOptions,
  maxSamples: number,
  ctx?: JobContext,
): Promise<DataParallelTrainer> {
  const spec: PatchReplicaSpec = {
    kind,
    architecture,
    lambda: o.lambda,
    weightDecay: o.weightDecay,
    nKnowledge: data.nKnowledge,
    dropoutSeed: new Rng(o.seed).fork(7).nextUint32(),
  };
  return DataParallelTrainer.start(
    {
      program: PATCH_PROGRAM,
      spec,
      shared: patchSharedArrays(data.x, data.labels, usesGeology(kind) ? data.knowledge : undefined),
      threads: o.threads,
      learningRate: o.learningRate,
      backend: tf.getBackend(),
      label: `training ${kind} on ${o.threads} threads`,
    },
    maxSamples,
    ctx,
  );
}
