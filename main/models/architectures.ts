import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { InvalidOptionError } from '../errors.ts';
import { Rng } from '../util/rng.ts';
import type { Initializer } from '@tensorflow/tfjs-layers/dist/initializers';
import { DeformConv2D } from './deform-conv-layer.ts';

/**
 * The four patch classifiers of the GK-DCN study, built on ONE shared body and head so that the
 * comparison between them measures only the deformable layers and the geology term:
 *
 *   conv3×3 (C→64) – BN – ReLU
 *   [DCNv2 | conv3×3] 64→64 – BN – ReLU – maxpool 2
 *   [DCNv2 | conv3×3] 64→128 – BN – ReLU
 *   global average pool – dense 64 – ReLU – dropout 0.5 – dense 2 – softmax
 *
 * CNN and GK-CNN use plain convolutions in the two middle slots, DCN and GK-DCN use modulated
 * deformable convolutions (DCNv2). The network is the same for a model with and without the
 * geology term: GK-* differ only in the training loss (see geology-loss.ts), so a GK model
 * predicts from the patch alone. (The reference code gives its baselines a different head and
 * BN order; we deliberately do not copy that.)
 *
 * Every random initialiser is seeded from one Rng, and dropout draws its masks from a counter-
 * based seed, so the same seed builds the same network and trains it to the same numbers.
 */

export type ModelKind = 'cnn' | 'dcn' | 'gk-cnn' | 'gk-dcn';
export const MODEL_KINDS: readonly ModelKind[] = ['cnn', 'dcn', 'gk-cnn', 'gk-dcn'];

export interface ArchitectureOptions {
  /** Patch side in cells (rows = cols). @default 9 */
  readonly patchSize?: number;
  /** Channels of the input patches (number of bands). Required. */
  readonly channels: number;
  /** Width of the stem convolution. @default 64 */
  readonly stemFilters?: number;
  /** Widths of the [DCN | conv] stages; a 2×2 max-pool follows the first stage. @default [64, 128] */
  readonly stageFilters?: readonly number[];
  /** Units of the hidden dense layer. @default 64 */
  readonly denseUnits?: number;
  /** Dropout rate after the hidden dense layer. @default 0.5 */
  readonly dropoutRate?: number;
  /** Offset groups of the deformable layers. @default 1 */
  readonly offsetGroups?: number;
  /** Seed of every initialiser and of the dropout masks. @default 1 */
  readonly seed?: number;
}

export type CheckedArchitectureOptions = Required<ArchitectureOptions>;

export function checkArchitectureOptions(o: ArchitectureOptions): CheckedArchitectureOptions {
  const c: CheckedArchitectureOptions = {
    patchSize: o.patchSize ?? 9,
    channels: o.channels,
    stemFilters: o.stemFilters ?? 64,
    stageFilters: o.stageFilters ?? [64, 128],
    denseUnits: o.denseUnits ?? 64,
    dropoutRate: o.dropoutRate ?? 0.5,
    offsetGroups: o.offsetGroups ?? 1,
    seed: o.seed ?? 1,
  };
  const posInt = (v: number): boolean => Number.isInteger(v) && v > 0;
  if (!posInt(c.patchSize) || c.patchSize < 3) {
    throw new InvalidOptionError(`patchSize must be an integer ≥ 3, got ${c.patchSize}`);
  }
  if (!posInt(c.channels)) throw new InvalidOptionError(`channels must be a positive integer, got ${c.channels}`);
  if (!posInt(c.stemFilters)) throw new InvalidOptionError(`stemFilters must be a positive integer, got ${c.stemFilters}`);
  if (c.stageFilters.length < 1 || !c.stageFilters.every(posInt)) {
    throw new InvalidOptionError(`stageFilters must be one or more positive integers, got [${c.stageFilters.join(', ')}]`);
  }
  if (!posInt(c.denseUnits)) throw new InvalidOptionError(`denseUnits must be a positive integer, got ${c.denseUnits}`);
  if (!(c.dropoutRate >= 0 && c.dropoutRate < 1)) {
    throw new InvalidOptionError(`dropoutRate must be in [0, 1), got ${c.dropoutRate}`);
  }
  if (!posInt(c.offsetGroups) || c.stemFilters % c.offsetGroups !== 0) {
    throw new InvalidOptionError(`offsetGroups must be a positive integer dividing ${c.stemFilters}, got ${c.offsetGroups}`);
  }
  if (c.patchSize < 2) throw new InvalidOptionError(`patchSize ${c.patchSize} is too small for the 2×2 max-pool`);
  return c;
}

export function isDeformable(kind: ModelKind): boolean {
  return kind === 'dcn' || kind === 'gk-dcn';
}

export function usesGeology(kind: ModelKind): boolean {
  return kind === 'gk-cnn' || kind === 'gk-dcn';
}

export function parseModelKinds(spec: string): ModelKind[] {
  if (spec === 'all') return [...MODEL_KINDS];
  const kinds = spec.split(',').map((s) => s.trim().toLowerCase());
  for (const k of kinds) {
    if (!(MODEL_KINDS as readonly string[]).includes(k)) {
      throw new InvalidOptionError(`unknown model "${k}": expected one of ${MODEL_KINDS.join(', ')} or all`);
    }
  }
  return kinds as ModelKind[];
}

interface SeededDropoutArgs extends tf.serialization.ConfigDict {
  rate: number;
  seed: number;
}

/**
 * Dropout whose masks are reproducible. tfjs-layers' Dropout either draws from Math.random
 * (no seed) or, given a seed, draws the SAME mask at every step — neither trains reproducibly.
 * This layer seeds each training call with seed + callIndex, so a run repeats bit for bit.
 */
export class SeededDropout extends tfl.layers.Layer {
  static className = 'GeoAnomalySeededDropout';
  readonly rate: number;
  readonly seed: number;
  private calls = 0;

  constructor(args: { rate: number; seed: number; name?: string }) {
    super({ name: args.name });
    this.rate = args.rate;
    this.seed = args.seed;
    this.supportsMasking = true;
  }

  override computeOutputShape(inputShape: tfl.Shape | tfl.Shape[]): tfl.Shape | tfl.Shape[] {
    return inputShape;
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: { training?: boolean }): tf.Tensor {
    const x = Array.isArray(inputs) ? inputs[0] : inputs;
    if (!kwargs.training || this.rate === 0) return tf.clone(x);
    const callSeed = (this.seed + this.calls++) >>> 0;
    return tf.tidy(() => {
      const keep = tf.cast(tf.greaterEqual(tf.randomUniform(x.shape, 0, 1, 'float32', callSeed), this.rate), 'float32');
      return tf.mul(x, tf.mul(keep, 1 / (1 - this.rate)));
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    const cfg: SeededDropoutArgs = { rate: this.rate, seed: this.seed };
    return { ...super.getConfig(), ...cfg };
  }
}
tf.serialization.registerClass(SeededDropout);

/**
 * 3×3 (any odd K) stride-1 'same' convolution with a hand-written gradient.
 *
 * Why not tfjs-layers' conv2d: on the wasm backend (our default) its backward pass is the slow
 * part of training — Conv2DBackpropInput is a scalar loop and matMul with transpose flags is
 * ~10× slower than an explicit transpose followed by matMul. Here
 *   dx = conv2d(dy, kernel rotated 180° with in/out swapped)    (XNNPACK forward conv)
 *   dW = transpose(im2col(x)) · dy                              (explicit transpose, one GEMM)
 * which measured 4.3× faster for one 64→64 layer on 64 patches 9×9 (fwd + bwd, same numbers:
 * dx identical, dW to float32 rounding). Forward is tf.conv2d itself.
 */
export class SameConv2D extends tfl.layers.Layer {
  static className = 'GeoAnomalySameConv2D';
  readonly filters: number;
  readonly kernelSize: number;
  readonly useBias: boolean;
  readonly kernelInitializer: Initializer;
  private kernel: tfl.LayerVariable | null = null;
  private bias: tfl.LayerVariable | null = null;

  constructor(args: { filters: number; kernelSize?: number; useBias?: boolean; kernelInitializer?: Initializer; name?: string }) {
    super({ name: args.name });
    this.filters = args.filters;
    this.kernelSize = args.kernelSize ?? 3;
    this.useBias = args.useBias ?? true;
    this.kernelInitializer = args.kernelInitializer ?? tfl.initializers.glorotUniform({});
    if (!(Number.isInteger(this.kernelSize) && this.kernelSize % 2 === 1)) {
      throw new InvalidOptionError(`SameConv2D: kernelSize must be an odd integer, got ${this.kernelSize}`);
    }
  }

  override build(inputShape: tfl.Shape | tfl.Shape[]): void {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tfl.Shape;
    const cin = shape[shape.length - 1];
    if (cin === null || cin === undefined) throw new InvalidOptionError('SameConv2D: the channel dimension of the input must be known');
    const k = this.kernelSize;
    this.kernel = this.addWeight('kernel', [k, k, cin, this.filters], 'float32', this.kernelInitializer);
    if (this.useBias) this.bias = this.addWeight('bias', [this.filters], 'float32', tfl.initializers.zeros());
    this.built = true;
  }

  override computeOutputShape(inputShape: tfl.Shape | tfl.Shape[]): tfl.Shape {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tfl.Shape;
    return [...shape.slice(0, -1), this.filters];
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const x = (Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor4D;
    return tf.tidy(() => {
      const y = sameConv(x, this.kernel!.read() as tf.Tensor4D);
      return this.bias ? tf.add(y, this.bias.read()) : y;
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return {
      ...super.getConfig(),
      filters: this.filters,
      kernelSize: this.kernelSize,
      useBias: this.useBias,
    };
  }
}
tf.serialization.registerClass(SameConv2D);

const sameConv: (x: tf.Tensor4D, w: tf.Tensor4D) => tf.Tensor4D = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const x = args[0] as tf.Tensor4D;
  const w = args[1] as tf.Tensor4D;
  (args[2] as tf.GradSaveFunc)([x, w]);
  return {
    value: tf.conv2d(x, w, 1, 'same'),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [xs, ws] = saved as [tf.Tensor4D, tf.Tensor4D];
      const [b, h, wd, c] = xs.shape;
      const [kh, kw, , co] = ws.shape;
      const half = (kh - 1) / 2;
      const wFlip = tf.transpose(tf.reverse(ws, [0, 1]), [0, 1, 3, 2]) as tf.Tensor4D;
      const dx = tf.conv2d(dy as tf.Tensor4D, wFlip, 1, 'same');
      const xp = tf.pad(xs, [[0, 0], [half, half], [half, half], [0, 0]]);
      const cols: tf.Tensor[] = [];
      for (let i = 0; i < kh; i++) for (let j = 0; j < kw; j++) cols.push(tf.slice(xp, [0, i, j, 0], [b, h, wd, c]));
      const im2col = tf.reshape(tf.concat(cols, 3), [b * h * wd, kh * kw * c]);
      const dw = tf.reshape(tf.matMul(tf.transpose(im2col), tf.reshape(dy, [b * h * wd, co])), [kh, kw, c, co]);
      return [dx, dw];
    },
  };
}) as (x: tf.Tensor4D, w: tf.Tensor4D) => tf.Tensor4D;

/**
 * Builds one of the four models. The output is the softmax over [non-deposit, deposit];
 * column 1 is the deposit probability used as the anomaly score.
 */
export function buildModel(kind: ModelKind, options: ArchitectureOptions): tfl.LayersModel {
  if (!(MODEL_KINDS as readonly string[]).includes(kind)) {
    throw new InvalidOptionError(`unknown model "${String(kind)}": expected one of ${MODEL_KINDS.join(', ')}`);
  }
  const o = checkArchitectureOptions(options);
  const rng = new Rng(o.seed);
  const initSeed = (): number => rng.nextUint32() % 2147483647;
  const deformable = isDeformable(kind);

  const input = tfl.input({ shape: [o.patchSize, o.patchSize, o.channels], name: 'patch' });
  const bn = (): tfl.layers.Layer =>
    // PyTorch's BatchNorm2d defaults (momentum 0.1 ≙ Keras 0.9, eps 1e-5): with ~100 optimiser
    // steps per fold, Keras' 0.99 would leave the moving statistics mostly at their init.
    tfl.layers.batchNormalization({ axis: -1, momentum: 0.9, epsilon: 1e-5 });
  // Stable layer names ('stem_conv', 'conv1'/'dcn1', 'conv2'/'dcn2') so Grad-CAM and offset maps
  // can be asked for by name (`geoanomaly explain --layer dcn2`).
  const conv = (filters: number, name: string): tfl.layers.Layer =>
    new SameConv2D({ filters, kernelSize: 3, useBias: true, name, kernelInitializer: tfl.initializers.glorotUniform({ seed: initSeed() }) });

  let h = conv(o.stemFilters, 'stem_conv').apply(input) as tfl.SymbolicTensor;
  h = bn().apply(h) as tfl.SymbolicTensor;
  h = tfl.layers.reLU().apply(h) as tfl.SymbolicTensor;
  o.stageFilters.forEach((filters, stage) => {
    const layer = deformable
      ? new DeformConv2D({
          filters,
          kernelSize: 3,
          strides: 1,
          padding: 'same',
          offsetGroups: o.offsetGroups,
          useBias: true,
          useMask: true,
          name: `dcn${stage + 1}`,
          kernelInitializer: tfl.initializers.glorotUniform({ seed: initSeed() }),
        })
      : conv(filters, `conv${stage + 1}`);
    h = layer.apply(h) as tfl.SymbolicTensor;
    h = bn().apply(h) as tfl.SymbolicTensor;
    h = tfl.layers.reLU().apply(h) as tfl.SymbolicTensor;
    if (stage === 0) h = tfl.layers.maxPooling2d({ poolSize: 2, strides: 2, padding: 'valid' }).apply(h) as tfl.SymbolicTensor;
  });
  h = tfl.layers.globalAveragePooling2d({}).apply(h) as tfl.SymbolicTensor;
  h = tfl.layers
    .dense({ units: o.denseUnits, activation: 'relu', kernelInitializer: tfl.initializers.glorotUniform({ seed: initSeed() }) })
    .apply(h) as tfl.SymbolicTensor;
  h = new SeededDropout({ rate: o.dropoutRate, seed: initSeed() }).apply(h) as tfl.SymbolicTensor;
  const out = tfl.layers
    .dense({ units: 2, activation: 'softmax', kernelInitializer: tfl.initializers.glorotUniform({ seed: initSeed() }), name: 'probabilities' })
    .apply(h) as tfl.SymbolicTensor;
  return tfl.model({ inputs: input, outputs: out, name: kind });
}
