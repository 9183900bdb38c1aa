/**
 * Export of a trained patch classifier (the tfjs LayersModel the run store saves) to an ONNX
 * graph, so that prediction can run on ONNX Runtime's CPU kernels (see onnx-classifier.ts and
 * docs/prediction.md for why).
 *
 * Supported: a linear chain of
 *   SameConv2D / Conv2D ('same' stride 1 or 'valid') – DeformConv2D (DCNv1/v2, any offset groups,
 *   stride, padding, dilation) – BatchNormalization (channel axis) – ReLU / Activation –
 *   MaxPooling2D – GlobalAveragePooling2D – Dense – dropout (identity at inference),
 * which covers the four models of architectures.ts. Anything else is refused by name.
 *
 * The graph takes the windows exactly as predictMap builds them, NHWC [batch, k, k, C], transposes
 * once to NCHW (ONNX's convolution layout) and outputs the model's softmax [batch, 2].
 *
 * BatchNorm is folded into the preceding convolution at export (W' = W·γ/√(σ² + ε),
 * b' = (b − μ)·γ/√(σ² + ε) + β, computed in float64): one Conv instead of Conv + BN at run time.
 * The numbers therefore differ from tfjs by float32 rounding only (tested ≤ 1e-5 on probabilities).
 *
 * ONNX Runtime has no DeformConv kernel, so DCNv2 is expressed with standard ops (deformGraph).
 */
import type * as tfl from '@tensorflow/tfjs-layers';
import { WorkbenchError } from '../../errors.ts';
import { DeformConv2D } from '../../models/deform-conv-layer.ts';
import { SameConv2D } from '../../models/architectures.ts';
import { GraphBuilder } from '../../onnx/graph-builder.ts';
import { compositeClasses, STEM_MAPS, tapClasses, TILE_INPUT, WINDOW_INDEX, type StemSharing } from './shared-stem.ts';
import { encodeOnnxModel, ONNX_INPUT, ONNX_INT32, ONNX_OUTPUT, type OnnxModel } from '../../onnx/onnx-proto.ts';

/** The model has a layer or a configuration the exporter cannot express (named in the message). */
export class OnnxExportError extends WorkbenchError {}

/** ONNX IR version 8 / opset 17: GridSample (opset 16) with mode "bilinear" is available. */
export const ONNX_IR_VERSION = 8;
export const ONNX_OPSET = 17;

interface Weights {
  readonly shape: number[];
  readonly data: Float32Array;
}

/** The layer's weights by their unscoped name ('kernel', 'bias', 'gamma', 'moving_mean', …). */
function weightsOf(layer: tfl.layers.Layer): Map<string, Weights> {
  const values = layer.getWeights();
  const out = new Map<string, Weights>();
  layer.weights.forEach((w, i) => {
    const short = w.originalName.split('/').pop() as string;
    out.set(short, { shape: [...values[i].shape], data: Float32Array.from(values[i].dataSync() as Float32Array) });
  });
  return out;
}

function need(w: Map<string, Weights>, name: string, layer: tfl.layers.Layer): Weights {
  const v = w.get(name);
  if (!v) throw new OnnxExportError(`ONNX export: layer "${layer.name}" (${layer.getClassName()}) has no weight "${name}" (it has ${[...w.keys()].join(', ')})`);
  return v;
}

/** tfjs kernel [KH, KW, Cin, Cout] → ONNX Conv weight [Cout, Cin, KH, KW]. */
function oihw(k: Weights): Float32Array {
  const [kh, kw, cin, cout] = k.shape;
  const out = new Float32Array(k.data.length);
  for (let i = 0; i < kh; i++)
    for (let j = 0; j < kw; j++)
      for (let c = 0; c < cin; c++)
        for (let o = 0; o < cout; o++) out[((o * cin + c) * kh + i) * kw + j] = k.data[((i * kw + j) * cin + c) * cout + o];
  return out;
}

/** Output size of a convolution with pads [top, left, bottom, right]. */
function convOut(h: number, w: number, kh: number, kw: number, pads: readonly number[], strides: readonly number[], dilations: readonly number[]): { h: number; w: number } {
  return {
    h: Math.floor((h + pads[0] + pads[2] - dilations[0] * (kh - 1) - 1) / strides[0]) + 1,
    w: Math.floor((w + pads[1] + pads[3] - dilations[1] * (kw - 1) - 1) / strides[1]) + 1,
  };
}

/**
 * Rows and columns of layer i's h×w output that the rest of the network reads. A 'valid' max-pool
 * (after per-cell layers: BN, ReLU, activations, dropout) reads only the first
 * (⌊(h − p)/s⌋)·s + p rows: with 9×9 windows the 2×2 pool reads 8×8 of the first stage's 9×9
 * output, so its last row and column (21 % of that stage, ≈ 10 % of the CNN's multiply-adds) need
 * not be computed. Every other layer reads everything.
 */
function usedExtent(layers: readonly tfl.layers.Layer[], i: number, h: number, w: number): { h: number; w: number } {
  const perCell = new Set(['BatchNormalization', 'ReLU', 'Activation', 'GeoAnomalySeededDropout', 'Dropout', 'SpatialDropout2D']);
  let j = i + 1;
  while (j < layers.length && perCell.has(layers[j].getClassName())) j++;
  const next = layers[j];
  if (!next || next.getClassName() !== 'MaxPooling2D') return { h, w };
  const c = next.getConfig() as { poolSize: number[]; strides?: number[]; padding: string };
  if (c.padding !== 'valid') return { h, w };
  const [ph, pw] = c.poolSize;
  const [sh, sw] = c.strides ?? c.poolSize;
  const used = (n: number, p: number, st: number): number => (n < p ? n : Math.floor((n - p) / st) * st + p);
  return { h: used(h, ph, sh), w: used(w, pw, sw) };
}

/** Zero-pads the input channels of an OIHW weight from cin to cpad (for the padded input, see buildOnnxModel). */
function padIn(w: Float32Array, cout: number, cin: number, cpad: number, kk: number): Float32Array {
  if (cpad === cin) return w;
  const out = new Float32Array(cout * cpad * kk);
  for (let o = 0; o < cout; o++) out.set(w.subarray(o * cin * kk, (o + 1) * cin * kk), o * cpad * kk);
  return out;
}

/** Per-channel affine y = x·scale + shift of an inference-mode BatchNormalization layer (float64). */
function batchNormAffine(layer: tfl.layers.Layer, channels: number): { scale: Float64Array; shift: Float64Array } {
  const cfg = layer.getConfig() as { axis?: number | number[]; epsilon?: number; center?: boolean; scale?: boolean };
  const axis = Array.isArray(cfg.axis) ? cfg.axis : [cfg.axis ?? -1];
  if (axis.length !== 1 || !(axis[0] === -1 || axis[0] === 3)) {
    throw new OnnxExportError(`ONNX export: BatchNormalization "${layer.name}" normalises axis ${JSON.stringify(cfg.axis)}; only the channel axis (−1) is supported`);
  }
  const w = weightsOf(layer);
  const eps = cfg.epsilon ?? 1e-3;
  const mean = need(w, 'moving_mean', layer).data;
  const variance = need(w, 'moving_variance', layer).data;
  const gamma = cfg.scale === false ? null : need(w, 'gamma', layer).data;
  const beta = cfg.center === false ? null : need(w, 'beta', layer).data;
  if (mean.length !== channels) throw new OnnxExportError(`ONNX export: BatchNormalization "${layer.name}" has ${mean.length} channels, its input ${channels}`);
  const scale = new Float64Array(channels);
  const shift = new Float64Array(channels);
  for (let c = 0; c < channels; c++) {
    scale[c] = (gamma ? gamma[c] : 1) / Math.sqrt(variance[c] + eps);
    shift[c] = (beta ? beta[c] : 0) - mean[c] * scale[c];
  }
  return { scale, shift };
}

/** Folds y·scale + shift (per output channel) into an OIHW weight and its bias. */
function foldAffine(weight: Float32Array, bias: Float32Array, affine: { scale: Float64Array; shift: Float64Array } | null): { weight: Float32Array; bias: Float32Array } {
  if (!affine) return { weight, bias };
  const cout = bias.length;
  const per = weight.length / cout;
  const w = new Float32Array(weight.length);
  const b = new Float32Array(cout);
  for (let o = 0; o < cout; o++) {
    const s = affine.scale[o];
    for (let q = 0; q < per; q++) w[o * per + q] = weight[o * per + q] * s;
    b[o] = bias[o] * s + affine.shift[o];
  }
  return { weight: w, bias: b };
}

/** Shape of the current activation: NCHW [C, H, W] (batch implicit) or flat [F]. */
type Shape = { kind: 'map'; c: number; h: number; w: number } | { kind: 'flat'; f: number };

export interface ExportOptions {
  /** Model name written into the ONNX graph. @default the LayersModel's name */
  readonly name?: string;
  /** Extra metadata_props (e.g. the run folder and model kind). @default none */
  readonly metadata?: Readonly<Record<string, string>>;
}

/** Exports the model to ONNX protobuf bytes (see the module comment for what is supported). */
export function exportToOnnx(model: tfl.LayersModel, options: ExportOptions = {}): Uint8Array {
  return encodeOnnxModel(buildOnnxModel(model, options));
}

/** The ONNX model as a plain object (before encoding). */
export function buildOnnxModel(model: tfl.LayersModel, options: ExportOptions = {}): OnnxModel {
  if (model.inputs.length !== 1 || model.outputs.length !== 1) {
    throw new OnnxExportError(`ONNX export: model "${model.name}" has ${model.inputs.length} inputs and ${model.outputs.length} outputs; one of each is supported`);
  }
  const inShape = model.inputs[0].shape;
  if (inShape.length !== 4 || inShape.slice(1).some((d) => d === null)) {
    throw new OnnxExportError(`ONNX export: model input must be [batch, rows, cols, channels] with known sizes, found [${inShape.join(', ')}]`);
  }
  const [, h0, w0, c0] = inShape as number[];
  const layers = model.layers;
  // A linear chain only: every layer's single input is the previous layer's output.
  for (let i = 1; i < layers.length; i++) {
    const inbound = layers[i].inboundNodes[0]?.inboundLayers ?? [];
    if (inbound.length !== 1 || inbound[0] !== layers[i - 1]) {
      throw new OnnxExportError(`ONNX export: layer "${layers[i].name}" does not take the previous layer's output; only a linear chain of layers is supported`);
    }
  }

  const g = new GraphBuilder();
  // Input channels are zero-padded to a multiple of 8 when the first layer is a convolution (its
  // weights get zero rows for them, so the result is unchanged): ONNX Runtime's x86 convolutions
  // (MLAS NCHWc, 8-channel blocks on AVX2) then run the stem in the blocked layout and fuse the
  // NHWC→NCHW transpose into its reorder; with 39 bands the stem otherwise falls back to a
  // per-image im2col GEMM. Measured: CNN 5,327 → 6,620 windows per CPU-second (+24 %; multiples
  // of 16/32/64 were slower).
  const firstIsConv = [SameConv2D.className, 'Conv2D'].includes(layers[1]?.getClassName());
  const padC = firstIsConv && c0 % 8 !== 0 ? 8 - (c0 % 8) : 0;
  let x = ONNX_INPUT;
  if (padC > 0) x = g.op('Pad', [x, g.int64s('pads', [0, 0, 0, 0, 0, 0, 0, padC])], {}, 'pad_channels');
  x = g.op('Transpose', [x], { perm: [0, 3, 1, 2] }, 'nchw');
  let shape: Shape = { kind: 'map', c: c0 + padC, h: h0, w: w0 };
  const out = emitChain(g, layers, 0, x, shape, padC);
  x = out.x;
  shape = out.shape;
  if (shape.kind !== 'flat') throw new OnnxExportError(`ONNX export: model "${model.name}" does not end in a flat [batch, classes] output`);
  g.nodes[g.nodes.length - 1].output[0] = ONNX_OUTPUT;
  const name = options.name ?? model.name;
  return {
    irVersion: ONNX_IR_VERSION,
    opsetVersion: ONNX_OPSET,
    producerName: 'geoanomaly-workbench',
    producerVersion: '1',
    docString: `${name}: exported from a tfjs LayersModel; BatchNorm folded into the convolutions; DeformConv2D expressed with GridSample + Conv`,
    graph: {
      name,
      node: g.nodes,
      initializer: g.initializers,
      input: [{ name: ONNX_INPUT, dims: ['batch', h0, w0, c0] }],
      output: [{ name: ONNX_OUTPUT, dims: ['batch', shape.f] }],
    },
    metadata: { source: 'tfjs-layers', ...(options.metadata ?? {}) },
  };
}

/**
 * Emits layers[start …] of a linear chain onto `x` (shape `shape`); returns the last value and its
 * shape. `padC` = zero channels appended to the model input (only the first layer, i = 1, sees them).
 */
function emitChain(g: GraphBuilder, layers: readonly tfl.layers.Layer[], start: number, x0: string, shape0: Shape, padC: number): { x: string; shape: Shape } {
  let x = x0;
  let shape: Shape = shape0;
  const map = (layer: tfl.layers.Layer): { c: number; h: number; w: number } => {
    if (shape.kind !== 'map') throw new OnnxExportError(`ONNX export: layer "${layer.name}" (${layer.getClassName()}) needs a feature map but follows a flattening layer`);
    return shape;
  };
  // A BatchNormalization right after a convolution is folded into it (see the module comment).
  const foldNext = (i: number, channels: number): { scale: Float64Array; shift: Float64Array } | null =>
    layers[i + 1]?.getClassName() === 'BatchNormalization' ? batchNormAffine(layers[i + 1], channels) : null;

  for (let i = start; i < layers.length; i++) {
    const layer = layers[i];
    const cls = layer.getClassName();
    const cfg = layer.getConfig() as Record<string, unknown>;
    if (cls === 'InputLayer') continue;
    if (cls === SameConv2D.className || cls === 'Conv2D') {
      const s = map(layer);
      const w = weightsOf(layer);
      const kernel = need(w, 'kernel', layer);
      const [kh, kw, cin, cout] = kernel.shape;
      if (cin !== s.c - (i === 1 ? padC : 0)) throw new OnnxExportError(`ONNX export: layer "${layer.name}" expects ${cin} channels, gets ${s.c}`);
      let pads = [(kh - 1) / 2, (kw - 1) / 2, (kh - 1) / 2, (kw - 1) / 2];
      let strides = [1, 1];
      let dilations = [1, 1];
      if (cls === 'Conv2D') {
        const c = cfg as { padding: string; strides: number[]; dilationRate: number | number[]; dataFormat: string; activation: string };
        const dil = typeof c.dilationRate === 'number' ? [c.dilationRate, c.dilationRate] : c.dilationRate;
        if (c.dataFormat !== 'channelsLast' || (c.padding === 'same' && (c.strides.some((v) => v !== 1) || dil.some((v) => v !== 1) || kh % 2 === 0 || kw % 2 === 0))) {
          throw new OnnxExportError(`ONNX export: Conv2D "${layer.name}" (padding ${c.padding}, strides ${c.strides}, dilation ${dil}, ${c.dataFormat}) is not supported; use 'same' with stride 1 and an odd kernel, or 'valid'`);
        }
        if (c.activation !== 'linear') throw new OnnxExportError(`ONNX export: Conv2D "${layer.name}" has a fused activation "${c.activation}"; not supported`);
        if (c.padding === 'valid') pads = [0, 0, 0, 0];
        strides = [...c.strides];
        dilations = dil;
      } else if (kh % 2 === 0 || kw % 2 === 0) {
        throw new OnnxExportError(`ONNX export: SameConv2D "${layer.name}" has an even kernel ${kh}×${kw}`);
      }
      // Output rows/columns no later layer reads are not computed (see usedExtent).
      const full = convOut(s.h, s.w, kh, kw, pads, strides, dilations);
      const used = usedExtent(layers, i, full.h, full.w);
      if (strides[0] === 1 && used.h < full.h && pads[2] >= full.h - used.h) pads = [pads[0], pads[1], pads[2] - (full.h - used.h), pads[3]];
      if (strides[1] === 1 && used.w < full.w && pads[3] >= full.w - used.w) pads = [pads[0], pads[1], pads[2], pads[3] - (full.w - used.w)];
      const bias = w.has('bias') ? need(w, 'bias', layer).data : new Float32Array(cout);
      const affine = foldNext(i, cout);
      const f = foldAffine(padIn(oihw(kernel), cout, cin, s.c, kh * kw), bias, affine);
      x = g.op('Conv', [x, g.floats(`${layer.name}_w`, [cout, s.c, kh, kw], f.weight), g.floats(`${layer.name}_b`, [cout], f.bias)], { kernel_shape: [kh, kw], pads, strides, dilations }, layer.name);
      const out = convOut(s.h, s.w, kh, kw, pads, strides, dilations);
      shape = { kind: 'map', c: cout, h: out.h, w: out.w };
      if (affine) i++;
    } else if (layer instanceof DeformConv2D) {
      const s = map(layer);
      const affine = foldNext(i, layer.filters);
      const out = deformGraph(g, x, s, layer, affine, (h, w) => usedExtent(layers, i, h, w));
      x = out.x;
      shape = { kind: 'map', c: layer.filters, h: out.h, w: out.w };
      if (affine) i++;
    } else if (cls === 'BatchNormalization') {
      // Not after a convolution (those are folded): a per-channel Mul + Add.
      const s = map(layer);
      const { scale, shift } = batchNormAffine(layer, s.c);
      x = g.op('Mul', [x, g.floats(`${layer.name}_scale`, [s.c, 1, 1], Float32Array.from(scale))]);
      x = g.op('Add', [x, g.floats(`${layer.name}_shift`, [s.c, 1, 1], Float32Array.from(shift))], {}, layer.name);
    } else if (cls === 'ReLU') {
      const c = cfg as { maxValue?: number | null };
      if (c.maxValue !== null && c.maxValue !== undefined) throw new OnnxExportError(`ONNX export: ReLU "${layer.name}" with maxValue ${c.maxValue} is not supported`);
      x = g.op('Relu', [x], {}, layer.name);
    } else if (cls === 'Activation') {
      x = activation(g, x, (cfg as { activation: string }).activation, layer, shape);
    } else if (cls === 'MaxPooling2D') {
      const s = map(layer);
      const c = cfg as { poolSize: number[]; strides: number[]; padding: string; dataFormat: string };
      if (c.dataFormat !== 'channelsLast') throw new OnnxExportError(`ONNX export: MaxPooling2D "${layer.name}" is ${c.dataFormat}; only channelsLast is supported`);
      const [ph, pw] = c.poolSize;
      const [sh, sw] = c.strides ?? c.poolSize;
      let pads = [0, 0, 0, 0];
      let ho = Math.floor((s.h - ph) / sh) + 1;
      let wo = Math.floor((s.w - pw) / sw) + 1;
      if (c.padding === 'same') {
        // tfjs/TensorFlow 'same': output ⌈n / s⌉, padding split with the extra cell at the end.
        ho = Math.ceil(s.h / sh);
        wo = Math.ceil(s.w / sw);
        const th = Math.max((ho - 1) * sh + ph - s.h, 0);
        const tw = Math.max((wo - 1) * sw + pw - s.w, 0);
        pads = [Math.floor(th / 2), Math.floor(tw / 2), th - Math.floor(th / 2), tw - Math.floor(tw / 2)];
      }
      x = g.op('MaxPool', [x], { kernel_shape: [ph, pw], strides: [sh, sw], pads }, layer.name);
      shape = { kind: 'map', c: s.c, h: ho, w: wo };
    } else if (cls === 'GlobalAveragePooling2D') {
      const s = map(layer);
      if ((cfg as { dataFormat?: string }).dataFormat === 'channelsFirst') throw new OnnxExportError(`ONNX export: GlobalAveragePooling2D "${layer.name}" is channelsFirst; not supported`);
      x = g.op('Flatten', [g.op('GlobalAveragePool', [x])], { axis: 1 }, layer.name);
      shape = { kind: 'flat', f: s.c };
    } else if (cls === 'Dense') {
      if (shape.kind !== 'flat') throw new OnnxExportError(`ONNX export: Dense "${layer.name}" on a feature map (no flattening before it) is not supported`);
      const w = weightsOf(layer);
      const kernel = need(w, 'kernel', layer);
      const [fin, units] = kernel.shape;
      if (fin !== shape.f) throw new OnnxExportError(`ONNX export: Dense "${layer.name}" expects ${fin} features, gets ${shape.f}`);
      const bias = w.has('bias') ? need(w, 'bias', layer).data : new Float32Array(units);
      x = g.op('Gemm', [x, g.floats(`${layer.name}_w`, [fin, units], kernel.data), g.floats(`${layer.name}_b`, [units], bias)], {}, layer.name);
      shape = { kind: 'flat', f: units };
      x = activation(g, x, (cfg as { activation: string }).activation, layer, shape);
    } else if (cls === 'GeoAnomalySeededDropout' || cls === 'Dropout' || cls === 'SpatialDropout2D') {
      // Inference: dropout is the identity.
    } else {
      throw new OnnxExportError(`ONNX export: layer "${layer.name}" of class ${cls} is not supported (supported: convolutions, DeformConv2D, BatchNormalization, ReLU, MaxPooling2D, GlobalAveragePooling2D, Dense, Dropout)`);
    }
  }
  return { x, shape };
}

function activation(g: GraphBuilder, x: string, name: string, layer: tfl.layers.Layer, shape: Shape): string {
  switch (name) {
    case 'linear':
      return x;
    case 'relu':
      return g.op('Relu', [x]);
    case 'sigmoid':
      return g.op('Sigmoid', [x]);
    case 'softmax':
      // tfjs' softmax is over the last axis; only defined here for flat [batch, classes].
      if (shape.kind !== 'flat') throw new OnnxExportError(`ONNX export: softmax of layer "${layer.name}" on a feature map is not supported`);
      return g.op('Softmax', [x], { axis: -1 });
    default:
      throw new OnnxExportError(`ONNX export: activation "${name}" of layer "${layer.name}" is not supported (linear, relu, sigmoid, softmax)`);
  }
}

/**
 * DeformConv2D (torchvision semantics, see deform-conv-op.ts) with standard ONNX ops.
 *
 *  1. The offset branch is a Conv whose output channels are re-ordered and scaled at export so
 *     it directly yields GridSample coordinates: per offset group g and tap (i, j) the pair
 *     (x, y) — GridSample wants x first, while our offsets store channel 2k = Δy, 2k + 1 = Δx —
 *     multiplied by 2/W and 2/H. Adding the constant tap position (2·(o·s − pad + tap·dil) + 1)/n − 1
 *     gives normalised coordinates with align_corners = 0, i.e. the input cell
 *     p = o·s − pad + tap·dil + Δ exactly. (align_corners = 0 because it also works for 1-cell inputs.)
 *  2. The coordinates are laid out as an "expanded" image [N·G, Ho·KH, Wo·KW, 2]: output cell
 *     (oy, ox) owns the KH×KW block at (oy·KH + i, ox·KW + j). GridSample (bilinear, zeros
 *     padding) samples every group's channels there: zero outside the input and bilinear with
 *     missing corners read as 0, which is torchvision's rule (a point at y ≤ −1 or y ≥ H has no
 *     corner inside, so it reads 0 as well).
 *  3. The modulation mask (sigmoid of the mask branch, same tap order) is laid out the same way
 *     and multiplied in.
 *  4. A Conv with the deformable kernel, kernel KH×KW and stride (KH, KW), over the expanded
 *     image computes Σ_k Σ_c w[k, c, o] · m_k · x(p_k) per output cell; BN is folded into it.
 */
function deformGraph(
  g: GraphBuilder,
  x: string,
  s: { c: number; h: number; w: number },
  layer: DeformConv2D,
  affine: { scale: Float64Array; shift: Float64Array } | null,
  usedOf: (h: number, w: number) => { h: number; w: number },
): { x: string; h: number; w: number } {
  const [kh, kw] = layer.kernelSize;
  const [sh, sw] = layer.strides;
  const [ph, pw] = layer.pad;
  const [dh, dw] = layer.dilationRate;
  const G = layer.offsetGroups;
  const C = s.c;
  const K = kh * kw;
  const cout = layer.filters;
  const full = convOut(s.h, s.w, kh, kw, [ph, pw, ph, pw], [sh, sw], [dh, dw]);
  if (full.h < 1 || full.w < 1) throw new OnnxExportError(`ONNX export: DeformConv2D "${layer.name}" has no output for a ${s.h}×${s.w} input`);
  // Only the output cells later layers read (usedExtent): fewer rows/columns of offsets and samples.
  const used = usedOf(full.h, full.w);
  const cutH = sh === 1 && ph >= full.h - used.h ? full.h - used.h : 0;
  const cutW = sw === 1 && pw >= full.w - used.w ? full.w - used.w : 0;
  const ho = full.h - cutH;
  const wo = full.w - cutW;
  const w = weightsOf(layer);
  const kernel = need(w, 'kernel', layer);
  if (kernel.shape[2] !== C) throw new OnnxExportError(`ONNX export: DeformConv2D "${layer.name}" expects ${kernel.shape[2]} channels, gets ${C}`);
  const offK = need(w, 'offset_kernel', layer);
  const offB = need(w, 'offset_bias', layer).data;
  const offW = oihw(offK); // [offsetChannels, C, KH, KW]
  const per = C * kh * kw;
  const convAttrs = { kernel_shape: [kh, kw], pads: [ph, pw, ph - cutH, pw - cutW], strides: [sh, sw], dilations: [dh, dw] };

  // 1. Coordinate branch: channel q = ((g·KH + i)·KW + j)·2 + xy, from our channel 2(g·K + k) + (1 − xy).
  const nq = G * K * 2;
  const gridW = new Float32Array(nq * per);
  const gridB = new Float32Array(nq);
  for (let gi = 0; gi < G; gi++) {
    for (let k = 0; k < K; k++) {
      for (let xy = 0; xy < 2; xy++) {
        const q = (gi * K + k) * 2 + xy;
        const src = 2 * (gi * K + k) + (xy === 0 ? 1 : 0);
        const scale = xy === 0 ? 2 / s.w : 2 / s.h;
        for (let e = 0; e < per; e++) gridW[q * per + e] = offW[src * per + e] * scale;
        gridB[q] = offB[src] * scale;
      }
    }
  }
  let grid = g.op('Conv', [x, g.floats(`${layer.name}_grid_w`, [nq, C, kh, kw], gridW), g.floats(`${layer.name}_grid_b`, [nq], gridB)], convAttrs, `${layer.name}_offsets`);
  // [N, G·K·2, Ho, Wo] → [N, G, KH, KW, 2, Ho, Wo] → [N, G, Ho, KH, Wo, KW, 2] → [N·G, Ho·KH, Wo·KW, 2]
  grid = g.reshape(grid, [-1, G, kh, kw, 2, ho, wo]);
  grid = g.op('Transpose', [grid], { perm: [0, 1, 5, 2, 6, 3, 4] });
  grid = g.reshape(grid, [-1, ho * kh, wo * kw, 2]);
  const base = new Float32Array(ho * kh * wo * kw * 2);
  for (let oy = 0; oy < ho; oy++)
    for (let i = 0; i < kh; i++)
      for (let ox = 0; ox < wo; ox++)
        for (let j = 0; j < kw; j++) {
          const e = (((oy * kh + i) * wo + ox) * kw + j) * 2;
          base[e] = (2 * (ox * sw - pw + j * dw) + 1) / s.w - 1;
          base[e + 1] = (2 * (oy * sh - ph + i * dh) + 1) / s.h - 1;
        }
  grid = g.op('Add', [grid, g.floats(`${layer.name}_taps`, [1, ho * kh, wo * kw, 2], base)], {}, `${layer.name}_grid`);

  // 2. Sampling: the groups' channels become batch entries so each group uses its own grid.
  const xg = G === 1 ? x : g.reshape(x, [-1, C / G, s.h, s.w]);
  let sampled = g.op('GridSample', [xg, grid], { mode: 'bilinear', padding_mode: 'zeros', align_corners: 0 }, `${layer.name}_sampled`);

  // 3. Modulation mask: channels g·K + k of the mask branch (our channels 2·G·K …), sigmoid.
  if (layer.useMask) {
    const nm = G * K;
    const maskW = offW.slice(2 * G * K * per, 3 * G * K * per);
    const maskB = offB.slice(2 * G * K, 3 * G * K);
    let mask = g.op('Conv', [x, g.floats(`${layer.name}_mask_w`, [nm, C, kh, kw], maskW), g.floats(`${layer.name}_mask_b`, [nm], maskB)], convAttrs, `${layer.name}_mask_logits`);
    mask = g.op('Sigmoid', [mask]);
    // [N, G·K, Ho, Wo] → [N, G, KH, KW, Ho, Wo] → [N, G, Ho, KH, Wo, KW] → [N·G, 1, Ho·KH, Wo·KW]
    mask = g.reshape(mask, [-1, G, kh, kw, ho, wo]);
    mask = g.op('Transpose', [mask], { perm: [0, 1, 4, 2, 5, 3] });
    mask = g.reshape(mask, [-1, 1, ho * kh, wo * kw]);
    sampled = g.op('Mul', [sampled, mask], {}, `${layer.name}_modulated`);
  }
  if (G !== 1) sampled = g.reshape(sampled, [-1, C, ho * kh, wo * kw]);

  // 4. The deformable kernel as a stride-KH×KW convolution over the expanded image (+ folded BN).
  const bias = layer.useBias ? need(w, 'bias', layer).data : new Float32Array(cout);
  const f = foldAffine(oihw(kernel), bias, affine);
  const y = g.op('Conv', [sampled, g.floats(`${layer.name}_w`, [cout, C, kh, kw], f.weight), g.floats(`${layer.name}_b`, [cout], f.bias)], { kernel_shape: [kh, kw], strides: [kh, kw], pads: [0, 0, 0, 0] }, layer.name);
  return { x: y, h: ho, w: wo };
}

/** The two graphs of the shared-stem path (see buildTileModels). */
export interface TileModels {
  readonly stem: OnnxModel;
  readonly head: OnnxModel;
  readonly sharing: StemSharing;
}

export interface TileExportOptions extends ExportOptions {
  /**
   * Also share the first stage's convolution when it is a 'same' stride-1 convolution (the CNNs;
   * the DCNs' deformable first stage stays per window). @default true
   */
  readonly shareStage1?: boolean;
}

/** A 'same' stride-1 (SameConv2D or Conv2D), odd-kernel, linear convolution: its kernel and bias, else null. */
function sameConvWeights(layer: tfl.layers.Layer | undefined): { kernel: Weights; bias: Float32Array } | null {
  if (!layer) return null;
  const cls = layer.getClassName();
  if (cls !== SameConv2D.className && cls !== 'Conv2D') return null;
  if (cls === 'Conv2D') {
    const c = layer.getConfig() as { padding: string; strides: number[]; dilationRate: number | number[]; dataFormat: string; activation: string };
    const dil = typeof c.dilationRate === 'number' ? [c.dilationRate, c.dilationRate] : c.dilationRate;
    if (c.padding !== 'same' || c.dataFormat !== 'channelsLast' || c.activation !== 'linear' || c.strides.some((v) => v !== 1) || dil.some((v) => v !== 1)) return null;
  }
  const w = weightsOf(layer);
  const kernel = need(w, 'kernel', layer);
  if (kernel.shape[0] % 2 === 0 || kernel.shape[1] % 2 === 0) return null;
  return { kernel, bias: w.has('bias') ? need(w, 'bias', layer).data : new Float32Array(kernel.shape[3]) };
}

/** The convolution at layers[i] folded with a following BatchNormalization; `next` = the first layer after them (and after a plain ReLU, `relu`). */
function foldedConvAt(layers: readonly tfl.layers.Layer[], i: number, conv: { kernel: Weights; bias: Float32Array }, cpad: number): { weight: Float32Array; bias: Float32Array; relu: string | null; next: number } {
  const [kh, kw, cin, cout] = conv.kernel.shape;
  let next = i + 1;
  const affine = layers[next]?.getClassName() === 'BatchNormalization' ? batchNormAffine(layers[next], cout) : null;
  if (affine) next++;
  const f = foldAffine(padIn(oihw(conv.kernel), cout, cin, cpad, kh * kw), conv.bias, affine);
  const r = layers[next];
  const relu = r?.getClassName() === 'ReLU' && ((r.getConfig() as { maxValue?: number | null }).maxValue ?? null) === null ? r.name : null;
  if (relu) next++;
  return { ...f, relu, next };
}

/**
 * The shared-stem form of a model whose first layer is a 'same' stride-1 convolution with an
 * odd kernel (all four architectures), or null for any other model (those keep the per-window
 * graph). Exact, not an approximation of the per-window network:
 *
 * every window is zero-padded at its OWN border, so the stem at window position p = (py, px)
 * sums exactly the taps that stay inside the window; there are only a few such tap sets (9 for a
 * 3×3 stem: first/middle/last row × first/middle/last column). The stem graph convolves one
 * reflect-padded tile ONCE with (classes × F) output channels — class g uses the stem kernel with
 * the taps outside its set zeroed (BatchNorm folded, ReLU applied). The zeroed taps contribute
 * exact zeros, and the tile-edge zero padding of this convolution is never read by a class that
 * includes that tap (a class without dy = −1 is only read at window row 0, etc.).
 *
 * When the first stage is a 'same' stride-1 convolution too (CNN, GK-CNN), it is shared the same
 * way: its output at window position q sums the taps t inside the window, and tap t reads the
 * stem at q + t from the stem class of q + t. Positions with the same list of (tap, stem class)
 * form a class (4 × 4 for 3×3 kernels on the 8 × 8 positions the max-pool reads:
 * q = 0, 1, 2…6, 7 per axis); each class map is a sum of "pieces" — a convolution of one stem
 * class map with the sub-kernel of the taps that read it, on exactly the rows and columns where
 * windows read that class (so no padding is ever read) — plus the folded bias, then ReLU.
 *
 * The head graph takes, per window position, the row of the shared maps given by
 * windowIndexPlan (a Gather with indices built by the runtime) and runs the rest of the
 * per-window network unchanged, so each window's result equals the per-window graph's up to the
 * summation order (tested ≤ 1e-5 on probabilities).
 */
export function buildTileModels(model: tfl.LayersModel, options: TileExportOptions = {}): TileModels | null {
  const inShape = model.inputs[0]?.shape ?? [];
  if (model.inputs.length !== 1 || model.outputs.length !== 1 || inShape.length !== 4 || inShape.slice(1).some((d) => d === null)) return null;
  const [, h0, w0, c0] = inShape as number[];
  const layers = model.layers;
  if (layers[0]?.getClassName() !== 'InputLayer') return null;
  const stemConv = sameConvWeights(layers[1]);
  if (!stemConv || stemConv.kernel.shape[2] !== c0) return null;
  // Everything after the stem must be exportable per window; buildOnnxModel checks that (throws by name).
  buildOnnxModel(model, options);

  const [kh, kw, , cout] = stemConv.kernel.shape;
  const padC = c0 % 8 !== 0 ? 8 - (c0 % 8) : 0; // as buildOnnxModel: MLAS' blocked NCHWc stem
  const cpad = c0 + padC;
  const sh = (kh - 1) / 2;
  const sw = (kw - 1) / 2;
  const rowsT = tapClasses(h0, sh);
  const colsT = tapClasses(w0, sw);
  const nStemCols = colsT.ranges.length;
  const stemClasses = rowsT.ranges.length * nStemCols;
  const stem = foldedConvAt(layers, 1, stemConv, cpad);
  // Class g = (row class, column class): the folded kernel with the taps outside both ranges zeroed.
  const per = cpad * kh * kw;
  const classW = new Float32Array(stemClasses * cout * per);
  const classB = new Float32Array(stemClasses * cout);
  for (let rc = 0; rc < rowsT.ranges.length; rc++) {
    for (let cc = 0; cc < nStemCols; cc++) {
      const gi = rc * nStemCols + cc;
      const [ylo, yhi] = rowsT.ranges[rc];
      const [xlo, xhi] = colsT.ranges[cc];
      const src = stem.weight;
      for (let o = 0; o < cout; o++) {
        const dst = (gi * cout + o) * per;
        classB[gi * cout + o] = stem.bias[o];
        for (let c = 0; c < cpad; c++)
          for (let i = ylo + sh; i <= yhi + sh; i++)
            for (let j = xlo + sw; j <= xhi + sw; j++) {
              const e = (c * kh + i) * kw + j;
              classW[dst + e] = src[o * per + e];
            }
      }
    }
  }
  const name = options.name ?? model.name;
  const meta = { source: 'tfjs-layers', ...(options.metadata ?? {}) };
  const wrap = (graph: OnnxModel['graph'], doc: string): OnnxModel => ({
    irVersion: ONNX_IR_VERSION,
    opsetVersion: ONNX_OPSET,
    producerName: 'geoanomaly-workbench',
    producerVersion: '1',
    docString: doc,
    graph,
    metadata: meta,
  });

  // Stem graph: tile NHWC → NCHW (+ zero channels) → one Conv with classes·F outputs (+ ReLU).
  const gs = new GraphBuilder();
  let x = TILE_INPUT;
  if (padC > 0) x = gs.op('Pad', [x, gs.int64s('pads', [0, 0, 0, 0, 0, 0, 0, padC])], {}, 'pad_channels');
  x = gs.op('Transpose', [x], { perm: [0, 3, 1, 2] }, 'nchw');
  x = gs.op('Conv', [x, gs.floats(`${layers[1].name}_classes_w`, [stemClasses * cout, cpad, kh, kw], classW), gs.floats(`${layers[1].name}_classes_b`, [stemClasses * cout], classB)], { kernel_shape: [kh, kw], pads: [sh, sw, sh, sw] }, `${layers[1].name}_classes`);
  if (stem.relu) x = gs.op('Relu', [x], {}, stem.relu);

  let next = stem.next;
  let sharing: StemSharing;
  let headShape: { c: number; h: number; w: number };
  const stage1 = (options.shareStage1 ?? true) && stem.relu ? sameConvWeights(layers[next]) : null;
  if (stage1 && stage1.kernel.shape[2] === cout) {
    // Second shared layer: the composite classes of the first stage (see the function comment).
    const i1 = next;
    const [kh2, kw2, , cout2] = stage1.kernel.shape;
    const used = usedExtent(layers, i1, h0, w0);
    const rowsC = compositeClasses(h0, rowsT.classOf, (kh2 - 1) / 2, used.h);
    const colsC = compositeClasses(w0, colsT.classOf, (kw2 - 1) / 2, used.w);
    const s1 = foldedConvAt(layers, i1, stage1, cout);
    const stemMap = new Map<number, string>();
    const stemClassMap = (sc: number): string => {
      if (!stemMap.has(sc)) stemMap.set(sc, gs.op('Slice', [x, gs.int64s('starts', [sc * cout]), gs.int64s('ends', [(sc + 1) * cout]), gs.int64s('axes', [1])], {}, `stem_class_${sc}`));
      return stemMap.get(sc) as string;
    };
    // End of a slice relative to the tile's end: −e, or "to the end" for e = 0.
    const endOf = (e: number): number => (e === 0 ? Number.MAX_SAFE_INTEGER : -e);
    const flats: string[] = [];
    const regions = new Map<string, string>();
    const rowRange: [number, number][] = [];
    const colRange: [number, number][] = [];
    for (let a = 0; a < rowsC.pieces.length; a++) {
      for (let b = 0; b < colsC.pieces.length; b++) {
        const [qy0, qy1] = rowsC.range[a];
        const [qx0, qx1] = colsC.range[b];
        rowRange.push([qy0, qy1]);
        colRange.push([qx0, qx1]);
        const parts: string[] = [];
        for (const rp of rowsC.pieces[a]) {
          for (const cp of colsC.pieces[b]) {
            // Sub-kernel of taps rp.d0…rp.d1 × cp.d0…cp.d1 on stem class (rp, cp), over the stem rows
            // qy0 + d0 … (R − 1 + qy1) + d1 (R = window rows of the tile): output rows qy0 … R − 1 + qy1.
            const ny = rp.d1 - rp.d0 + 1;
            const nx = cp.d1 - cp.d0 + 1;
            const sub = new Float32Array(cout2 * cout * ny * nx);
            const i0 = rp.d0 + (kh2 >> 1);
            const j0 = cp.d0 + (kw2 >> 1);
            const src = s1.weight;
            let e = 0;
            for (let oc = 0; oc < cout2 * cout; oc++) {
              const from = oc * kh2 * kw2; // OIHW: (o, c) pairs are consecutive kh2·kw2 blocks
              for (let i = 0; i < ny; i++) for (let j = 0; j < nx; j++) sub[e++] = src[from + (i0 + i) * kw2 + j0 + j];
            }
            const sc = rp.stemClass * nStemCols + cp.stemClass;
            const starts = [qy0 + rp.d0, qx0 + cp.d0];
            const ends = [endOf(h0 - 1 - qy1 - rp.d1), endOf(w0 - 1 - qx1 - cp.d1)];
            // Pieces of different classes often read the same region of a stem class: one Slice each.
            const key = `${sc}:${starts}:${ends}`;
            if (!regions.has(key)) regions.set(key, gs.op('Slice', [stemClassMap(sc), gs.int64s('starts', starts), gs.int64s('ends', ends), gs.int64s('axes', [2, 3])]));
            const input = regions.get(key) as string;
            const wName = gs.floats(`${layers[i1].name}_c${a}_${b}_w`, [cout2, cout, ny, nx], sub);
            const inputs = parts.length === 0 ? [input, wName, gs.floats(`${layers[i1].name}_c${a}_${b}_b`, [cout2], s1.bias)] : [input, wName];
            parts.push(gs.op('Conv', inputs, { kernel_shape: [ny, nx] }, `${layers[i1].name}_c${a}_${b}_piece`));
          }
        }
        let y = parts.length === 1 ? parts[0] : gs.op('Sum', parts);
        if (s1.relu) y = gs.op('Relu', [y]);
        // [1, F2, Hg, Wg] → [1, Hg, Wg, F2] → [Hg·Wg, F2] (this order lets ONNX Runtime fold the
        // transpose into the reorder out of its blocked NCHWc layout)
        flats.push(gs.reshape(gs.op('Transpose', [y], { perm: [0, 2, 3, 1] }), [-1, cout2]));
      }
    }
    gs.op('Concat', flats, { axis: 0 });
    const positionClass: number[] = [];
    for (let qy = 0; qy < used.h; qy++) for (let qx = 0; qx < used.w; qx++) positionClass.push(rowsC.classOf[qy] * colsC.pieces.length + colsC.classOf[qx]);
    sharing = { windowRows: h0, windowCols: w0, channels: c0, filters: cout2, sharedLayers: 2, positionRows: used.h, positionCols: used.w, positionClass, rowRange, colRange };
    headShape = { c: cout2, h: used.h, w: used.w };
    next = s1.next;
  } else {
    // [1, classes·F, rows, cols] → [classes, F, rows, cols] (0 = keep that input dimension) → [classes, rows, cols, F]
    x = gs.reshape(x, [stemClasses, cout, 0, 0]);
    gs.op('Transpose', [x], { perm: [0, 2, 3, 1] });
    const positionClass: number[] = [];
    for (let py = 0; py < h0; py++) for (let px = 0; px < w0; px++) positionClass.push(rowsT.classOf[py] * nStemCols + colsT.classOf[px]);
    const full = Array.from({ length: stemClasses }, (): [number, number] => [0, h0 - 1]);
    const fullC = Array.from({ length: stemClasses }, (): [number, number] => [0, w0 - 1]);
    sharing = { windowRows: h0, windowCols: w0, channels: c0, filters: cout, sharedLayers: 1, positionRows: h0, positionCols: w0, positionClass, rowRange: full, colRange: fullC };
    headShape = { c: cout, h: h0, w: w0 };
  }
  gs.nodes[gs.nodes.length - 1].output[0] = STEM_MAPS;
  const stemModel = wrap(
    { name: `${name}_stem`, node: gs.nodes, initializer: gs.initializers, input: [{ name: TILE_INPUT, dims: [1, 'rows', 'cols', c0] }], output: [{ name: STEM_MAPS, dims: sharing.sharedLayers === 1 ? [stemClasses, 'rows', 'cols', cout] : ['cells', sharing.filters] }] },
    `${name}: the first ${sharing.sharedLayers} convolution(s) of every tap class over one padded tile (shared between overlapping windows)`,
  );

  // Head graph: Gather the windows' shared activations → NCHW → the rest of the per-window network.
  const gh = new GraphBuilder();
  let y = gh.op('Gather', [STEM_MAPS, WINDOW_INDEX], { axis: 0 }, 'window_maps'); // [batch, rows, cols, F]
  y = gh.op('Transpose', [y], { perm: [0, 3, 1, 2] }, 'nchw');
  const out = emitChain(gh, layers, next, y, { kind: 'map', ...headShape }, 0);
  if (out.shape.kind !== 'flat') throw new OnnxExportError(`ONNX export: model "${model.name}" does not end in a flat [batch, classes] output`);
  gh.nodes[gh.nodes.length - 1].output[0] = ONNX_OUTPUT;
  const headModel = wrap(
    {
      name: `${name}_head`,
      node: gh.nodes,
      initializer: gh.initializers,
      input: [
        { name: STEM_MAPS, dims: ['cells', sharing.filters] },
        { name: WINDOW_INDEX, dims: ['batch', sharing.positionRows, sharing.positionCols], elemType: ONNX_INT32 },
      ],
      output: [{ name: ONNX_OUTPUT, dims: ['batch', out.shape.f] }],
    },
    `${name}: the per-window network after the shared layers (windows read the shared maps)`,
  );
  return { stem: stemModel, head: headModel, sharing };
}

/** buildTileModels, encoded: the stem and head graphs as ONNX bytes, or null (per-window graph only). */
export function exportTileModels(model: tfl.LayersModel, options: TileExportOptions = {}): { stem: Uint8Array; head: Uint8Array; sharing: StemSharing } | null {
  const t = buildTileModels(model, options);
  return t && { stem: encodeOnnxModel(t.stem), head: encodeOnnxModel(t.head), sharing: t.sharing };
}
