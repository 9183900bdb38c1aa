/**
 * One training step of a patch classifier (architectures.ts) as ONE ONNX inference graph:
 * the forward pass in training mode AND the hand-derived backward pass, so that ONNX Runtime's
 * multi-threaded CPU kernels (MLAS GEMMs) compute the loss and every gradient. ONNX Runtime for
 * Node has no training API, hence the explicit backward; Adam and the BatchNorm moving averages
 * are applied in JS (onnx-trainer.ts).
 *
 * buildTrainGraph is one chain walker: each layer is emitted by its registered kind's `trainOnnx`
 * (main/nn/layers/, registry.ts), forward now and backward (dL/dy → weight gradients, dL/dx) in
 * reverse order after the loss. The walker adds what is not a layer: the padded stem input, the
 * clipped cross-entropy and the geology term of geology-loss.ts, the softmax backward, and the
 * bookkeeping (weights as graph inputs, gradient and batch-statistic outputs, the dropout mask).
 * The shared graph pieces (im2col convolution, DCN tent-matrix sampling) are onnx/train-ops.ts.
 * Weight decay is NOT in the graph: 0.5·wd·Σkernel² and its gradient wd·kernel are added in JS.
 *
 * The graph is built for one batch size (static shapes let ONNX Runtime plan memory and pick
 * kernels); the trainer keeps one session per batch size it meets.
 */
import type * as tfl from '@tensorflow/tfjs-layers';
import { GraphBuilder } from '../../onnx/graph-builder.ts';
import { encodeOnnxModel, type OnnxValueInfo } from '../../onnx/onnx-proto.ts';
import { OnnxTrainUnsupportedError, Ops, type Act, type Backward } from '../../onnx/train-ops.ts';
import { specOf, type TrainContext } from '../../nn/layer-kind.ts';
import { linearChain } from '../../nn/linear-chain.ts';
import { layerKindOf } from '../../nn/registry.ts';
import type { SeededDropout } from '../../nn/layers/seeded-dropout.ts';

// The graph pieces moved to onnx/train-ops.ts (issue 17 §2); re-exported for existing callers.
export { emitConv, emitDeformSampling, im2col, MAX_SAMPLING_MATRIX_ELEMENTS, OnnxTrainUnsupportedError, Ops } from '../../onnx/train-ops.ts';

export const TRAIN_IR_VERSION = 8;
export const TRAIN_OPSET = 17;

/** Graph input names. */
export const IN_X = 'x';
export const IN_ONEHOT = 'onehot';
export const IN_KNOWLEDGE = 'knowledge';
export const IN_DROPOUT = 'dropout_mask';
export const IN_GEO_A = 'geo_a';
export const IN_GEO_B = 'geo_b';
export const OUT_LOSS = 'loss';
/** Optional outputs (TrainGraphOptions): the class probabilities [batch, 2] and dL/dx [batch, h, w, c]. */
export const OUT_PROBS = 'probs';
export const OUT_GRAD_X = 'grad_x';
/** The cross-entropy alone (without the geology term), an output of forward-only graphs. */
export const OUT_CE = 'ce';

export interface TrainGraphOptions {
  /** Samples per step (static in the graph). */
  readonly batch: number;
  /** λ of the geology term; 0 or nKnowledge 0 = cross-entropy only. */
  readonly lambda: number;
  /** Knowledge rasters (columns of the geology term's w); 0 = no geology term. */
  readonly nKnowledge: number;
  /**
   * Zero input channels appended so the stem's im2col rows are a multiple of this (the padded
   * kernel rows are zero; the stem's gradient is sliced back). Applies only when the first layer is a
   * convolution (LayerKind.padsInputChannels). 1 = no padding. @default 1
   */
  readonly padChannelsTo?: number;
  /**
   * 'train': tfjs' training mode (BatchNorm batch statistics, dropout masks), the step's graph.
   * 'infer': tfjs' inference mode (moving statistics, no dropout), as model.predict: the
   * validation loss. 'infer' has no backward. @default 'train'
   */
  readonly mode?: 'train' | 'infer';
  /** Forward only: the loss, the cross-entropy alone (OUT_CE) and in 'train' mode the batch statistics; no backward nodes. @default false ('infer': true) */
  readonly forwardOnly?: boolean;
  /** Also output the class probabilities (OUT_PROBS). @default false */
  readonly probabilities?: boolean;
  /** Also output dL/dx of the model input (OUT_GRAD_X; the stem then computes its dX too). @default false */
  readonly inputGradient?: boolean;
}

/** One weight of the tfjs model, in model.weights order. */
export interface ParamInfo {
  /** tfjs originalName (e.g. "stem_conv/kernel"). */
  readonly name: string;
  /** Graph input name. */
  readonly input: string;
  readonly shape: readonly number[];
  /** Graph output of its gradient (null: not trained by a gradient, i.e. BN moving statistics). */
  readonly gradOutput: string | null;
}

/** A BatchNormalization layer's moving statistics and the graph outputs of its batch statistics. */
export interface BnStatsInfo {
  readonly meanParam: number;
  readonly varianceParam: number;
  readonly momentum: number;
  readonly meanOutput: string;
  readonly varianceOutput: string;
}

export interface TrainGraph {
  readonly bytes: Uint8Array;
  readonly batch: number;
  readonly params: readonly ParamInfo[];
  readonly bnStats: readonly BnStatsInfo[];
  /** The SeededDropout layer (mask input [batch, units]); null without one or with rate 0. */
  readonly dropout: { readonly layer: SeededDropout; readonly units: number; readonly rate: number } | null;
  /** Geology gradient outputs (null without the geology term). */
  readonly geology: { readonly gradA: string; readonly gradB: string } | null;
  readonly inputs: readonly OnnxValueInfo[];
}

/**
 * Builds the training-step graph of `model` (buildModel's chain). Refuses (OnnxTrainUnsupportedError)
 * any layer or configuration it does not express.
 */
export function buildTrainGraph(model: tfl.LayersModel, options: TrainGraphOptions): TrainGraph {
  const B = options.batch;
  // BatchNorm's batch statistics need two samples; the inference-mode forward does not.
  const minBatch = options.mode === 'infer' ? 1 : 2;
  if (!(Number.isInteger(B) && B >= minBatch)) throw new OnnxTrainUnsupportedError(`ONNX training: batch must be an integer ≥ ${minBatch}, got ${B}`);
  const inShape = model.inputs[0]?.shape;
  if (model.inputs.length !== 1 || model.outputs.length !== 1 || !inShape || inShape.length !== 4 || inShape.slice(1).some((d) => d === null)) {
    throw new OnnxTrainUnsupportedError(`ONNX training: model "${model.name}" must have one NHWC input of known size and one output`);
  }
  const [, H, W, C0] = inShape as number[];
  const layers = linearChain(model, (l) => new OnnxTrainUnsupportedError(`ONNX training: layer "${l.name}" does not take the previous layer's output; only a linear chain is supported`));

  const g = new GraphBuilder();
  const o = new Ops(g);
  const inputs: OnnxValueInfo[] = [];
  const params: { name: string; input: string; shape: number[]; gradOutput: string | null }[] = [];
  const paramIndex = new Map<string, number>();
  model.weights.forEach((wt, i) => {
    const input = `w${i}`;
    params.push({ name: wt.originalName, input, shape: [...wt.shape] as number[], gradOutput: null });
    paramIndex.set(wt.originalName, i);
  });
  // A weight becomes a graph input when the graph reads it (the BN moving statistics are read in 'infer' mode only).
  const used = new Set<number>();
  const weightIndex = (layer: tfl.layers.Layer, short: string): number => {
    const full = layer.weights.find((wt) => wt.originalName.split('/').pop() === short);
    const index = full ? paramIndex.get(full.originalName) : undefined;
    if (!full || index === undefined) throw new OnnxTrainUnsupportedError(`ONNX training: layer "${layer.name}" has no weight "${short}"`);
    return index;
  };
  const param = (layer: tfl.layers.Layer, short: string): number => {
    const index = weightIndex(layer, short);
    if (!used.has(index)) {
      used.add(index);
      inputs.push({ name: params[index].input, dims: params[index].shape });
    }
    return index;
  };
  const setGrad = (index: number, name: string): void => {
    const out = `grad_${index}`;
    o.output(name, out);
    params[index].gradOutput = out;
  };

  const mode = options.mode ?? 'train';
  const forwardOnly = mode === 'infer' || options.forwardOnly === true;
  const padTo = Math.max(1, options.padChannelsTo ?? 1);
  // Only a first layer that pads its kernel to match can take the padded input (a convolution stem).
  const padsStem = layers.length > 1 && layerKindOf(layers[1].getClassName())?.padsInputChannels === true;
  const padC = !padsStem || C0 % padTo === 0 ? 0 : padTo - (C0 % padTo);
  inputs.push({ name: IN_X, dims: [B, H, W, C0] });
  inputs.push({ name: IN_ONEHOT, dims: [B, 2] });
  let x: Act = { name: padC > 0 ? o.op('Pad', [IN_X, o.i64([0, 0, 0, 0, 0, 0, 0, padC])]) : IN_X, shape: [B, H, W, C0 + padC] };
  const backward: Backward[] = [];
  const bnStats: BnStatsInfo[] = [];
  let dropout: TrainGraph['dropout'] = null;
  // Until a layer with trainable weights, dL/dx is not needed (the stem computes no dX).
  let first = options.inputGradient !== true;
  let probs: string | null = null;

  for (let i = 1; i < layers.length; i++) {
    const layer = layers[i];
    const cls = layer.getClassName();
    if (probs) throw new OnnxTrainUnsupportedError(`ONNX training: layer "${layer.name}" follows the softmax; the softmax must be the last layer`);
    const kind = layerKindOf(cls);
    if (!kind) throw new OnnxTrainUnsupportedError(`ONNX training: layer "${layer.name}" (${cls}) is not supported`);
    let trains = false;
    const ctx: TrainContext = {
      o,
      layer,
      mode,
      first,
      param: (short) => {
        const index = param(layer, short);
        if (!short.startsWith('moving_')) trains = true;
        return { input: params[index].input, index, shape: params[index].shape };
      },
      weightIndex: (short) => weightIndex(layer, short),
      grad: setGrad,
      batchStats: (meanParam, varianceParam, momentum, mean, variance) => {
        const ch = params[meanParam].shape[0];
        const meanOutput = `bn_mean_${bnStats.length}`;
        const varianceOutput = `bn_var_${bnStats.length}`;
        o.output(o.reshape(mean, [ch]), meanOutput);
        o.output(o.reshape(variance, [ch]), varianceOutput);
        bnStats.push({ meanParam, varianceParam, momentum, meanOutput, varianceOutput });
      },
      dropout: (units, rate) => {
        if (dropout) throw new OnnxTrainUnsupportedError(`ONNX training: more than one dropout layer`);
        dropout = { layer: layer as SeededDropout, units, rate };
        inputs.push({ name: IN_DROPOUT, dims: [B, units] });
        return IN_DROPOUT;
      },
    };
    const r = kind.trainOnnx(ctx, x, specOf(kind, layer, (m) => new OnnxTrainUnsupportedError(`ONNX training: ${m}`)));
    x = r.y;
    if (r.backward) backward.push(r.backward);
    if (r.probabilities) probs = r.y.name;
    if (trains) first = false;
  }
  if (!probs) throw new OnnxTrainUnsupportedError(`ONNX training: model "${model.name}" does not end in a 2-unit softmax Dense layer`);

  // Loss: CE on probabilities clipped to [1e-7, 1 − 1e-7] (crossEntropy), + λ·mean (p₁ − σ(w·a + b))².
  const lo = o.f32(1e-7);
  const hi = o.f32(1 - 1e-7);
  const pc = o.op('Clip', [probs, lo, hi]);
  const ce = o.op('Neg', [o.mean(o.sum(o.mul(IN_ONEHOT, o.op('Log', [pc])), [1], false), [0], false)]);
  // d(clip)/dp = 1 inside [lo, hi] (tfjs clipByValue's gradient), 0 where clipped.
  const inRange = forwardOnly ? '' : o.op('Cast', [o.op('Equal', [probs, pc])], { to: 1 });
  let dp = forwardOnly ? '' : o.mul(o.mul(o.op('Div', [IN_ONEHOT, pc]), o.f32(-1 / B)), inRange);
  let loss = ce;
  let geology: TrainGraph['geology'] = null;
  const nK = options.nKnowledge;
  if (nK > 0 && options.lambda > 0) {
    inputs.push({ name: IN_KNOWLEDGE, dims: [B, nK] }, { name: IN_GEO_A, dims: [nK] }, { name: IN_GEO_B, dims: [] });
    const p1 = o.slice(probs, [1], [2], [1]); // [B, 1]
    const z = o.add(o.op('MatMul', [IN_KNOWLEDGE, o.reshape(IN_GEO_A, [nK, 1])]), IN_GEO_B);
    const gp = o.op('Sigmoid', [z]);
    const diff = o.sub(p1, gp);
    loss = o.add(ce, o.mul(o.f32(options.lambda), o.mean(o.mul(diff, diff), [0, 1], false)));
    if (!forwardOnly) {
      const dDiff = o.mul(diff, o.f32((2 * options.lambda) / B));
      dp = o.add(dp, o.op('Pad', [dDiff, o.i64([0, 1, 0, 0])]));
      const dz = o.mul(o.op('Neg', [dDiff]), o.mul(gp, o.sub(o.f32(1), gp)));
      o.output(o.reshape(o.gemm(IN_KNOWLEDGE, dz, undefined, 1, 0), [nK]), 'grad_geo_a');
      o.output(o.sum(dz, [0, 1], false), 'grad_geo_b');
      geology = { gradA: 'grad_geo_a', gradB: 'grad_geo_b' };
    }
  }
  o.output(loss, OUT_LOSS);
  const outputs: OnnxValueInfo[] = [{ name: OUT_LOSS, dims: [] }];
  if (forwardOnly) {
    o.output(ce, OUT_CE);
    outputs.push({ name: OUT_CE, dims: [] });
  }
  if (!forwardOnly) {
    // Softmax backward: dz = p ⊙ (dp − Σ dp ⊙ p).
    let grad: string | null = o.mul(probs, o.sub(dp, o.sum(o.mul(dp, probs), [1], true)));
    for (let i = backward.length - 1; i >= 0 && grad; i--) grad = backward[i](grad);
    if (options.inputGradient) {
      if (!grad) throw new Error('ONNX training: the chain returned no input gradient'); // a kind broke the TrainResult contract
      o.output(padC > 0 ? o.slice(grad, [0], [C0], [3]) : grad, OUT_GRAD_X);
    }
  }

  for (const p of params) if (p.gradOutput) outputs.push({ name: p.gradOutput, dims: p.shape });
  for (const s of bnStats) {
    const ch = params[s.meanParam].shape[0];
    outputs.push({ name: s.meanOutput, dims: [ch] }, { name: s.varianceOutput, dims: [ch] });
  }
  if (geology) outputs.push({ name: geology.gradA, dims: [nK] }, { name: geology.gradB, dims: [] });
  if (options.probabilities) {
    o.output(probs, OUT_PROBS);
    outputs.push({ name: OUT_PROBS, dims: [B, 2] });
  }
  if (options.inputGradient && !forwardOnly) outputs.push({ name: OUT_GRAD_X, dims: [B, H, W, C0] });
  const bytes = encodeOnnxModel({
    irVersion: TRAIN_IR_VERSION,
    opsetVersion: TRAIN_OPSET,
    producerName: 'geoanomaly-workbench',
    producerVersion: '1',
    docString: forwardOnly ? `${model.name}: forward only (${mode} mode), batch ${B}` : `${model.name}: one training step (forward + backward), batch ${B}`,
    graph: { name: `${model.name}_train_step`, node: g.nodes, initializer: g.initializers, input: inputs, output: outputs },
    metadata: { source: 'geoanomaly onnx-train' },
  });
  return { bytes, batch: B, params, bnStats, dropout, geology, inputs };
}
