/**
 * Worker thread of the data-parallel trainer (see data-parallel.ts): starts its own tfjs backend,
 * builds one replica from the program's factory, then runs epochs in lock-step with the other
 * replicas through shared memory.
 */
import { isMainThread, parentPort } from 'node:worker_threads';
import { CancelledError, WorkbenchError, serializeError } from '../errors.ts';
import { workerInput } from '../jobs/worker-pool.ts';
import { getTf, initBackend, type BackendPreference } from './backend.ts';
import {
  CTL_ABORT,
  CTL_COUNT,
  CTL_GENERATION,
  CTL_STEPS,
  shardBounds,
  stateHash,
  type CommBuffers,
  type FromReplica,
  type Replica,
  type ReplicaFactory,
  type StateArray,
  type ToReplica,
  type WorkerInit,
} from './data-parallel.ts';

const input = workerInput<WorkerInit>();
const port = parentPort;
const tf = getTf();

function post(m: FromReplica, transfer: ArrayBuffer[] = []): void {
  port!.postMessage(m, transfer);
}

/** Waits until all `count` replicas arrived; throws CancelledError when the coordinator aborts. */
function barrier(ctl: Int32Array, count: number): void {
  const gen = Atomics.load(ctl, CTL_GENERATION);
  if (Atomics.add(ctl, CTL_COUNT, 1) === count - 1) {
    Atomics.store(ctl, CTL_COUNT, 0);
    Atomics.add(ctl, CTL_GENERATION, 1);
    Atomics.notify(ctl, CTL_GENERATION);
    return;
  }
  while (Atomics.load(ctl, CTL_GENERATION) === gen) {
    if (Atomics.load(ctl, CTL_ABORT) !== 0) throw new CancelledError('data-parallel training');
    // A timeout, so an abort flag set without a notify is still seen.
    Atomics.wait(ctl, CTL_GENERATION, gen, 200);
  }
}

class ReplicaRunner {
  readonly sizes: number[];
  readonly syncSizes: number[];
  readonly gradSize: number;
  readonly syncSize: number;
  readonly optimizer: ReturnType<typeof tf.train.adam>;
  comm: CommBuffers | null = null;
  /**
   * Steps exchanged so far (the same on every replica). Slots alternate between two buffers by
   * its parity: a replica can only write step k + 1 after passing step k's barrier, i.e. after
   * every replica finished reading step k − 1 — the buffer it overwrites — so one barrier per step
   * is enough.
   */
  private parity = 0;

  constructor(readonly replica: Replica) {
    this.sizes = replica.variables.map((v) => v.size);
    this.syncSizes = replica.synced.map((v) => v.size);
    this.gradSize = this.sizes.reduce((a, b) => a + b, 0);
    this.syncSize = this.syncSizes.reduce((a, b) => a + b, 0);
    this.optimizer = tf.train.adam(input.learningRate);
    this.sum = new Float64Array(this.gradSize + this.syncSize);
    this.summed = new Float32Array(this.gradSize + this.syncSize);
  }

  private readonly sum: Float64Array;
  private readonly summed: Float32Array;

  private get per(): number {
    return this.gradSize + this.syncSize;
  }

  /**
   * Computes this replica's share of one batch and writes it into slot `parity`, then waits for
   * the others. Returns the batch loss and the summed gradients (float32, variable order; null
   * where no replica had a gradient) and the averaged synced state.
   */
  private exchange(batch: Int32Array, parity: number): { loss: number; grads: (Float32Array | null)[]; synced: Float32Array[]; exchangeSeconds: number } {
    const comm = this.comm!;
    const { index, count } = input.info;
    const V = this.sizes.length;
    const len = batch.length;
    const active = Math.max(1, Math.min(count, Math.floor(len / this.replica.minShardSize)));
    const slot = (p: number, r: number): number => (p * count + r) * this.per;
    const metaAt = (p: number, r: number): number => (p * count + r) * 2;
    const flagAt = (p: number, r: number): number => (p * count + r) * Math.max(1, V);
    let writeSeconds = 0;
    if (index < active) {
      const [lo, hi] = shardBounds(len, active, index);
      const shard = batch.subarray(lo, hi);
      tf.tidy(() => {
        const { value, grads } = tf.variableGrads(() => this.replica.loss(shard, batch), [...this.replica.variables]);
        const t0 = performance.now();
        let off = slot(parity, index);
        this.replica.variables.forEach((v, k) => {
          const g = grads[v.name];
          // No gradient (variable not on this loss's path): zeros, not last step's values.
          if (g) comm.slots.set(g.dataSync() as Float32Array, off);
          else comm.slots.fill(0, off, off + this.sizes[k]);
          comm.hasGrad[flagAt(parity, index) + k] = g ? 1 : 0;
          off += this.sizes[k];
        });
        for (const s of this.replica.synced) {
          comm.slots.set(s.dataSync() as Float32Array, off);
          off += s.size;
        }
        comm.meta[metaAt(parity, index)] = value.dataSync()[0];
        comm.meta[metaAt(parity, index) + 1] = hi - lo;
        writeSeconds = (performance.now() - t0) / 1000;
      });
    } else {
      comm.meta[metaAt(parity, index) + 1] = 0;
    }
    barrier(comm.control, count);
    const t1 = performance.now();
    // Sum in replica order, in float64: the same numbers on every replica.
    let loss = 0;
    const sum = this.sum;
    const any = new Uint8Array(V);
    const G = this.gradSize;
    for (let r = 0; r < active; r++) {
      loss += comm.meta[metaAt(parity, r)];
      const w = comm.meta[metaAt(parity, r) + 1] / len;
      const src = comm.slots.subarray(slot(parity, r), slot(parity, r) + this.per);
      // Replica 0's slot is converted natively, the others added in one pass each (the
      // read-modify-write loop is the cost of the exchange: ~0.4 ms per 0.7 MB).
      if (r === 0) sum.set(src.subarray(0, G));
      else for (let i = 0; i < G; i++) sum[i] += src[i];
      for (let i = G; i < this.per; i++) sum[i] = (r === 0 ? 0 : sum[i]) + w * src[i];
      for (let k = 0; k < V; k++) any[k] |= comm.hasGrad[flagAt(parity, r) + k];
    }
    // Reused buffer: the gradient tensors made from it are disposed before the next step.
    const f32 = this.summed;
    f32.set(sum);
    const grads: (Float32Array | null)[] = [];
    let off = 0;
    for (let k = 0; k < V; k++) {
      grads.push(any[k] ? f32.subarray(off, off + this.sizes[k]) : null);
      off += this.sizes[k];
    }
    const synced: Float32Array[] = this.syncSizes.map((s) => {
      // A copy: a variable assigned from it keeps the array (cpu backend).
      const a = f32.slice(off, off + s);
      off += s;
      return a;
    });
    return { loss, grads, synced, exchangeSeconds: writeSeconds + (performance.now() - t1) / 1000 };
  }

  private apply(grads: (Float32Array | null)[], synced: Float32Array[]): void {
    tf.tidy(() => {
      const named: Record<string, ReturnType<typeof tf.tensor>> = {};
      this.replica.variables.forEach((v, k) => {
        const g = grads[k];
        if (g) named[v.name] = tf.tensor(g, v.shape);
      });
      this.optimizer.applyGradients(named as Parameters<typeof this.optimizer.applyGradients>[0]);
      this.replica.synced.forEach((v, k) => v.assign(tf.tensor(synced[k], v.shape)));
    });
  }

  epoch(count: number, batchSize: number): FromReplica {
    const comm = this.comm!;
    const order = comm.order.subarray(0, count);
    const batches: Int32Array[] = [];
    for (let s = 0; s < count; s += batchSize) {
      const b = order.subarray(s, Math.min(count, s + batchSize));
      // The single-thread loop's rule: a batch too small to normalise is skipped.
      if (b.length >= this.replica.minShardSize) batches.push(b);
    }
    let lossSum = 0;
    let seen = 0;
    let exchangeSeconds = 0;
    let lastPost = 0;
    batches.forEach((b, step) => {
      const r = this.exchange(b, this.parity++ & 1);
      this.apply(r.grads, r.synced);
      exchangeSeconds += r.exchangeSeconds;
      lossSum += r.loss * b.length;
      seen += b.length;
      if (input.info.index === 0) {
        Atomics.add(comm.control, CTL_STEPS, 1);
        const now = performance.now();
        if (now - lastPost > 200 || step === batches.length - 1) {
          lastPost = now;
          post({ type: 'progress', step: step + 1, steps: batches.length });
        }
      }
    });
    return { type: 'epoch', lossSum, seen, steps: batches.length, exchangeSeconds };
  }

  gradients(count: number): FromReplica {
    const batch = this.comm!.order.slice(0, count);
    const r = this.exchange(batch, this.parity++ & 1);
    // The forward pass moved each replica's BatchNorm statistics: make them equal again.
    tf.tidy(() => this.replica.synced.forEach((v, k) => v.assign(tf.tensor(r.synced[k], v.shape))));
    const grads: StateArray[] = this.replica.variables.map((v, k) => ({ values: r.grads[k] ? r.grads[k]!.slice() : new Float32Array(v.size), shape: [...v.shape] }));
    return { type: 'gradients', grads };
  }

  state(values: boolean): FromReplica {
    const tensors = this.replica.state();
    const arrays = tensors.map((t) => ({ values: (t.dataSync() as Float32Array).slice(), shape: [...t.shape] }));
    tf.dispose(tensors);
    return { type: 'state', hash: stateHash(arrays.map((a) => a.values)), ...(values ? { values: arrays } : {}) };
  }
}

async function main(): Promise<void> {
  if (isMainThread || !port) return;
  let runner: ReplicaRunner | null = null;
  port.on('message', (m: ToReplica) => {
    try {
      if (!runner) throw new WorkbenchError('data-parallel replica: message before the replica was built');
      if (m.type === 'init') {
        runner.comm = m.comm;
        post({ type: 'inited' });
      } else if (m.type === 'epoch') {
        // tf.train.adam reads this.learningRate at every step (adam_optimizer.js), so a schedule is one assignment.
        if (m.learningRate !== undefined) (runner.optimizer as unknown as { learningRate: number }).learningRate = m.learningRate;
        post(runner.epoch(m.count, m.batchSize));
      }
      else if (m.type === 'gradients') post(runner.gradients(m.count));
      else if (m.type === 'state') post(runner.state(m.values));
    } catch (e) {
      post({ type: 'failed', error: serializeError(e) });
    }
  });
  try {
    await initBackend(input.backend as BackendPreference);
    const mod = (await import(input.program.module)) as Record<string, unknown>;
    const factory = mod[input.program.factory] as ReplicaFactory<unknown> | undefined;
    if (typeof factory !== 'function') throw new WorkbenchError(`data-parallel replica: ${input.program.module} exports no function "${input.program.factory}"`);
    const replica = await factory(input.spec, input.shared, input.info);
    runner = new ReplicaRunner(replica);
    post({ type: 'ready', gradSize: runner.gradSize, syncSize: runner.syncSize, variables: runner.sizes.length });
  } catch (e) {
    post({ type: 'failed', error: serializeError(e) });
  }
}

void main();
