/**
 * Synchronous data-parallel training on worker threads.
 *
 * Why: tfjs-backend-wasm runs one thread in Node (no wasm threads), so a single training uses one
 * core. Here N replicas of the same model (N worker threads, each with its own tfjs backend) are
 * built from the same seed. Every optimiser step:
 *   1. the batch is split into N contiguous shards; replica r computes the loss of its shard and
 *      the gradients (tf.variableGrads);
 *   2. each replica writes its gradients into its slot of a SharedArrayBuffer and waits at a
 *      barrier (Atomics) for the others;
 *   3. every replica sums the slots in the same order (replica 0, 1, …, in float64) and applies
 *      the sum with its own Adam. The inputs and the code are the same everywhere, so every
 *      replica computes bit-identical new weights: no weight broadcast is needed, only gradients
 *      travel (through shared memory, no copy, no message per step).
 * A program (`ReplicaFactory`) defines the model and the loss of a shard; its loss is the shard's
 * CONTRIBUTION to the batch loss (for a mean loss: shard mean × shard size / batch size), so the
 * sum over shards is the full-batch loss and the summed gradients are the full-batch gradient
 * (exactly, up to float summation order, for a model without per-batch statistics).
 * State that the forward pass updates without a gradient (BatchNorm moving mean/variance) is
 * averaged every step, weighted by shard size, so it also stays identical on every replica. Each
 * replica normalises its own shard (as PyTorch DDP without SyncBatchNorm does), so with BatchNorm a
 * step is not the same as a single-thread step on the whole batch.
 *
 * The coordinating thread (the caller) only schedules epochs: it writes the epoch's sample order
 * into shared memory, the replicas run all its steps among themselves, and it asks replica 0 for
 * the weights when it needs them (validation, the returned model). Cancelling (ctx.signal) sets an
 * abort flag the replicas check at every barrier and terminates the workers at once.
 */
import { Worker } from 'node:worker_threads';
import type * as tfc from '@tensorflow/tfjs-core';
import { CancelledError, InvalidOptionError, WorkbenchError, type ErrorDetails } from '../errors.ts';
import { report, throwIfCancelled, type JobContext } from '../jobs/job.ts';
import { defaultThreads, rebuildError, tsxBootstrap } from '../jobs/worker-pool.ts';
import { moduleUrl } from '../util/module-url.ts';

/** What a replica knows about itself. */
export interface ReplicaInfo {
  /** 0 … count − 1. */
  readonly index: number;
  readonly count: number;
}

/** Shared input arrays (sample data), visible to every replica without a copy. */
export type SharedArrays = Record<string, Float32Array | Int32Array>;

/** One replica of a data-parallel program (built in every worker, and in tests on the main thread). */
export interface Replica {
  /** Trainable variables, in the order gradients are exchanged. */
  readonly variables: readonly tfc.Variable[];
  /** Non-trainable state the forward pass updates (BatchNorm moving statistics): averaged every step. */
  readonly synced: readonly tfc.Variable[];
  /** Smallest shard the loss accepts (BatchNorm cannot normalise one sample: 2). A batch smaller than this is skipped. */
  readonly minShardSize: number;
  /**
   * The shard's contribution to the loss of the batch (called inside tf.variableGrads, training
   * mode): summed over the shards of a batch it must give the batch loss.
   */
  loss(shard: Int32Array, batch: Int32Array): tfc.Scalar;
  /** Everything the coordinator needs to rebuild the trained model, in a fixed order. */
  state(): tfc.Tensor[];
  dispose(): void;
}

export type ReplicaFactory<S> = (spec: S, shared: SharedArrays, info: ReplicaInfo) => Replica | Promise<Replica>;

/** Where the worker finds the factory: a module URL and the name of its exported ReplicaFactory. */
export interface ProgramRef {
  readonly module: string;
  readonly factory: string;
}

export interface DataParallelOptions<S> {
  readonly program: ProgramRef;
  /** Plain data given to the factory (structured-clone). */
  readonly spec: S;
  readonly shared: SharedArrays;
  /** Replicas (worker threads). @default defaultThreads() */
  readonly threads?: number;
  /** Adam learning rate (β1 0.9, β2 0.999, ε 1e-7: tf.train.adam's defaults). */
  readonly learningRate: number;
  /** Backend every worker starts ('wasm', 'cpu', 'tensorflow', 'auto'). @default 'wasm' */
  readonly backend?: string;
  /** Name in progress and error messages. @default 'data-parallel training' */
  readonly label?: string;
}

/** The replicas' weights differ — an internal error (they must stay bit-identical). */
export class ReplicaDivergenceError extends WorkbenchError {}

export interface EpochResult {
  /** Σ over steps of (batch loss × batch size). */
  readonly lossSum: number;
  /** Samples in the steps taken (skipped remainders excluded). */
  readonly seen: number;
  readonly steps: number;
  /**
   * Mean seconds per step replica 0 spends on communication: copying its gradients out of the
   * backend into shared memory and summing all replicas' slots (waiting at the barrier and the
   * Adam update excluded).
   */
  readonly exchangeSecondsPerStep: number;
}

export interface StateArray {
  readonly values: Float32Array;
  readonly shape: number[];
}

// Layout of the control array (Int32 over a SharedArrayBuffer).
export const CTL_COUNT = 0; // replicas arrived at the barrier
export const CTL_GENERATION = 1; // barrier generation
export const CTL_ABORT = 2; // 1 = stop at the next barrier
export const CTL_STEPS = 3; // optimiser steps applied (replica 0 counts)
export const CTL_SIZE = 4;

/** Shared buffers of one trainer (made once the replicas report their sizes). */
export interface CommBuffers {
  readonly control: Int32Array;
  /** [parity][replica][gradSize + syncSize] */
  readonly slots: Float32Array;
  /** [parity][replica][2]: loss contribution, shard size */
  readonly meta: Float64Array;
  /** [parity][replica][variables]: 1 when that variable got a gradient */
  readonly hasGrad: Int32Array;
  /** the epoch's sample order */
  readonly order: Int32Array;
}

export interface WorkerInit {
  readonly program: ProgramRef;
  readonly spec: unknown;
  readonly shared: SharedArrays;
  readonly info: ReplicaInfo;
  readonly backend: string;
  readonly learningRate: number;
}

export type ToReplica =
  | { type: 'init'; comm: CommBuffers }
  | { type: 'epoch'; count: number; batchSize: number; learningRate?: number }
  | { type: 'gradients'; count: number }
  | { type: 'state'; values: boolean };

export type FromReplica =
  | { type: 'ready'; gradSize: number; syncSize: number; variables: number }
  | { type: 'inited' }
  | { type: 'progress'; step: number; steps: number }
  | { type: 'epoch'; lossSum: number; seen: number; steps: number; exchangeSeconds: number }
  | { type: 'gradients'; grads: StateArray[] }
  | { type: 'state'; hash: string; values?: StateArray[] }
  | { type: 'failed'; error: { name: string; message: string; details: ErrorDetails } };

function sharedCopy<T extends Float32Array | Int32Array>(a: T): T {
  if (a.buffer instanceof SharedArrayBuffer) return a;
  const Ctor = a.constructor as new (b: SharedArrayBuffer) => T;
  const out = new Ctor(new SharedArrayBuffer(a.byteLength));
  out.set(a as never);
  return out;
}

/**
 * A running set of replicas. Start with `DataParallelTrainer.start`, run epochs, read the state,
 * and always `close()` (also after an error: it is idempotent).
 */
export class DataParallelTrainer {
  private readonly workers: Worker[];
  private readonly label: string;
  private comm: CommBuffers | null = null;
  private failure: Error | null = null;
  private closed = false;
  private waiting: { resolve: (m: FromReplica[]) => void; reject: (e: Error) => void; got: (FromReplica | undefined)[]; left: number; onProgress?: (m: FromReplica) => void } | null = null;
  private maxSamples: number;
  /** Adam learning rate of the next epochs (a schedule of trainModel); undefined = the start value. */
  private learningRate: number | undefined;

  private constructor(workers: Worker[], label: string, maxSamples: number) {
    this.workers = workers;
    this.label = label;
    this.maxSamples = maxSamples;
    workers.forEach((w, i) => {
      w.on('message', (m: FromReplica) => this.onMessage(i, m));
      w.on('error', (e) => this.fail(e));
      w.on('exit', (code) => {
        if (!this.closed) this.fail(new WorkbenchError(`${label}: replica ${i} exited early (code ${code})`, { code }));
      });
    });
  }

  /** Megabytes one replica writes per step (gradients + synced state, float32). */
  get megabytesPerStep(): number {
    return this.comm ? (this.comm.slots.length * 4) / (2 * this.workers.length) / 1e6 : 0;
  }

  /** Number of replicas. */
  get threads(): number {
    return this.workers.length;
  }

  /** Optimiser steps applied so far (all epochs). */
  get stepsDone(): number {
    return this.comm ? Atomics.load(this.comm.control, CTL_STEPS) : 0;
  }

  /**
   * Starts `threads` workers, builds a replica in each and allocates the shared buffers.
   * `maxSamples`: the longest epoch order that will be passed to runEpoch / gradients.
   */
  static async start<S>(o: DataParallelOptions<S>, maxSamples: number, ctx?: JobContext): Promise<DataParallelTrainer> {
    const label = o.label ?? 'data-parallel training';
    const threads = o.threads ?? defaultThreads();
    if (!(Number.isInteger(threads) && threads >= 1)) throw new InvalidOptionError(`${label}: threads must be an integer ≥ 1, got ${threads}`);
    if (!(o.learningRate > 0)) throw new InvalidOptionError(`${label}: learning rate must be > 0, got ${o.learningRate}`);
    throwIfCancelled(ctx, label);
    const shared: SharedArrays = {};
    for (const [k, v] of Object.entries(o.shared)) shared[k] = sharedCopy(v);
    const script = tsxBootstrap();
    const entry = moduleUrl('./data-parallel-worker.ts', import.meta.url).href;
    const workers: Worker[] = [];
    for (let index = 0; index < threads; index++) {
      const input: WorkerInit = { program: o.program, spec: o.spec, shared, info: { index, count: threads }, backend: o.backend ?? 'wasm', learningRate: o.learningRate };
      workers.push(new Worker(script, { eval: true, workerData: { entry, input } }));
    }
    const trainer = new DataParallelTrainer(workers, label, maxSamples);
    try {
      const ready = (await trainer.request(() => null, ctx)) as Extract<FromReplica, { type: 'ready' }>[];
      const { gradSize, syncSize, variables } = ready[0];
      if (ready.some((r) => r.gradSize !== gradSize || r.syncSize !== syncSize || r.variables !== variables)) {
        throw new ReplicaDivergenceError(`${label}: the replicas built different models (${JSON.stringify(ready)})`);
      }
      const per = gradSize + syncSize;
      const comm: CommBuffers = {
        control: new Int32Array(new SharedArrayBuffer(CTL_SIZE * 4)),
        slots: new Float32Array(new SharedArrayBuffer(2 * threads * per * 4)),
        meta: new Float64Array(new SharedArrayBuffer(2 * threads * 2 * 8)),
        hasGrad: new Int32Array(new SharedArrayBuffer(2 * threads * Math.max(1, variables) * 4)),
        order: new Int32Array(new SharedArrayBuffer(Math.max(1, maxSamples) * 4)),
      };
      trainer.comm = comm;
      await trainer.request(() => ({ type: 'init', comm }), ctx);
      return trainer;
    } catch (e) {
      await trainer.close();
      throw e;
    }
  }

  /** Sets the replicas' Adam learning rate from the next epoch on (trainModel's schedule). */
  setLearningRate(lr: number): void {
    this.learningRate = lr;
  }

  /**
   * One epoch: `order` (sample indices, already shuffled) is cut into batches of `batchSize`;
   * each batch is one synchronous step over all replicas. Resolves when every replica is done.
   */
  async runEpoch(order: ArrayLike<number>, batchSize: number, ctx?: JobContext): Promise<EpochResult> {
    this.writeOrder(order);
    const lr = this.learningRate;
    const res = (await this.request(() => ({ type: 'epoch', count: order.length, batchSize, ...(lr !== undefined ? { learningRate: lr } : {}) }), ctx, (m) => {
      if (m.type === 'progress') report(ctx, m.step / m.steps, `${this.label}: step ${m.step}/${m.steps}`);
    })) as Extract<FromReplica, { type: 'epoch' }>[];
    const r = res[0];
    return { lossSum: r.lossSum, seen: r.seen, steps: r.steps, exchangeSecondsPerStep: r.steps > 0 ? r.exchangeSeconds / r.steps : 0 };
  }

  /**
   * The summed gradients of ONE batch (`batch`, split over the replicas as in a step) without
   * applying them: the exactness check of the mechanism (tests). The forward pass updates
   * BatchNorm moving statistics; they are averaged as in a step, so the replicas stay equal.
   */
  async gradients(batch: ArrayLike<number>, ctx?: JobContext): Promise<StateArray[]> {
    this.writeOrder(batch);
    const res = (await this.request(() => ({ type: 'gradients', count: batch.length }), ctx)) as Extract<FromReplica, { type: 'gradients' }>[];
    return res[0].grads;
  }

  /**
   * The replicas' state (replica 0's values), after checking that every replica holds
   * bit-identical weights (a hash of each replica's state): ReplicaDivergenceError otherwise.
   */
  async state(ctx?: JobContext): Promise<StateArray[]> {
    const res = (await this.request((i) => ({ type: 'state', values: i === 0 }), ctx)) as Extract<FromReplica, { type: 'state' }>[];
    const hashes = res.map((r) => r.hash);
    if (hashes.some((h) => h !== hashes[0])) throw new ReplicaDivergenceError(`${this.label}: replica weights differ (state hashes ${hashes.join(', ')})`);
    return res[0].values!;
  }

  /** Terminates the workers (idempotent). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.comm) {
      Atomics.store(this.comm.control, CTL_ABORT, 1);
      Atomics.notify(this.comm.control, CTL_GENERATION);
    }
    await Promise.all(this.workers.map((w) => w.terminate().catch(() => 0)));
  }

  private writeOrder(order: ArrayLike<number>): void {
    if (!this.comm) throw new WorkbenchError(`${this.label}: not started`);
    if (order.length > this.maxSamples) throw new InvalidOptionError(`${this.label}: ${order.length} samples in one epoch, more than the ${this.maxSamples} the trainer was started for`);
    for (let i = 0; i < order.length; i++) this.comm.order[i] = order[i];
  }

  private onMessage(i: number, m: FromReplica): void {
    const w = this.waiting;
    if (m.type === 'failed') {
      this.fail(rebuildError(m.error));
      return;
    }
    if (!w) return;
    if (m.type === 'progress') {
      w.onProgress?.(m);
      return;
    }
    if (w.got[i] === undefined) {
      w.got[i] = m;
      if (--w.left === 0) {
        this.waiting = null;
        w.resolve(w.got as FromReplica[]);
      }
    }
  }

  private fail(e: Error): void {
    if (this.failure) return;
    this.failure = e;
    const w = this.waiting;
    this.waiting = null;
    void this.close().then(() => w?.reject(e));
  }

  /** Sends a message to every worker (none when `msg` gives null) and waits for one answer from each. */
  private async request(msg: (i: number) => ToReplica | null, ctx?: JobContext, onProgress?: (m: FromReplica) => void): Promise<FromReplica[]> {
    throwIfCancelled(ctx, this.label);
    if (this.failure) throw this.failure;
    if (this.closed) throw new WorkbenchError(`${this.label}: the trainer is closed`);
    const done = new Promise<FromReplica[]>((resolve, reject) => {
      this.waiting = { resolve, reject, got: new Array(this.workers.length), left: this.workers.length, onProgress };
    });
    const onAbort = (): void => this.fail(new CancelledError(this.label));
    ctx?.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      this.workers.forEach((w, i) => {
        const m = msg(i);
        if (m) w.postMessage(m);
      });
      return await done;
    } finally {
      ctx?.signal?.removeEventListener('abort', onAbort);
    }
  }
}

/** FNV-1a over the bytes of the state arrays: equal hashes ⇔ (practically) bit-identical weights. */
export function stateHash(arrays: readonly Float32Array[]): string {
  let h = 0x811c9dc5;
  for (const a of arrays) {
    const u = new Uint32Array(a.buffer, a.byteOffset, a.length);
    for (let i = 0; i < u.length; i++) h = Math.imul(h ^ u[i], 0x01000193) >>> 0;
  }
  return h.toString(16).padStart(8, '0');
}

/** Contiguous shard [lo, hi) of replica `r` among `active` shards of a batch of `len` samples. */
export function shardBounds(len: number, active: number, r: number): [number, number] {
  return [Math.floor((r * len) / active), Math.floor(((r + 1) * len) / active)];
}
