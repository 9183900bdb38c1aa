import * as tfl from '@tensorflow/tfjs-layers';
import { InvalidOptionError } from '../errors.ts';
import { Rng } from '../util/rng.ts';
import { DeformConv2D } from '../nn/layers/deform-conv-layer.ts';
import { SameConv2D } from '../nn/layers/same-conv2d.ts';
import { SeededDropout } from '../nn/layers/seeded-dropout.ts';

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
