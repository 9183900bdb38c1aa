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
 *
 * Each layer is emitted by its kind (main/nn/layers/, walked by nn/onnx-infer-chain.ts).
 */
import type * as tfl from '@tensorflow/tfjs-layers';
import { convKind } from '../../nn/layers/conv.ts';
import { reluKind } from '../../nn/layers/relu.ts';
import { linearChain } from '../../nn/linear-chain.ts';
import { emitChain, usedExtent } from '../../nn/onnx-infer-chain.ts';
import { foldAffine, need, oihw, OnnxExportError, ONNX_IR_VERSION, ONNX_OPSET, padIn, weightsOf, type Shape, type Weights } from '../../nn/onnx-export-support.ts';
import { batchNormAffine } from '../../nn/layers/batch-norm.ts';
import { GraphBuilder } from '../../onnx/graph-builder.ts';
import { compositeClasses, STEM_MAPS, tapClasses, TILE_INPUT, WINDOW_INDEX, type StemSharing } from './shared-stem.ts';
import { encodeOnnxModel, ONNX_INPUT, ONNX_INT32, ONNX_OUTPUT, type OnnxModel } from '../../onnx/onnx-proto.ts';

export { OnnxExportError, ONNX_IR_VERSION, ONNX_OPSET };

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
  // A linear chain only: every layer's single input is the previous layer's output.
  const layers = linearChain(model, (l) => new OnnxExportError(`ONNX export: layer "${l.name}" does not take the previous layer's output; only a linear chain of layers is supported`));

  const g = new GraphBuilder();
  // Input channels are zero-padded to a multiple of 8 when the first layer is a convolution (its
  // weights get zero rows for them, so the result is unchanged): ONNX Runtime's x86 convolutions
  // (MLAS NCHWc, 8-channel blocks on AVX2) then run the stem in the blocked layout and fuse the
  // NHWC→NCHW transpose into its reorder; with 39 bands the stem otherwise falls back to a
  // per-image im2col GEMM. Measured: CNN 5,327 → 6,620 windows per CPU-second (+24 %; multiples
  // of 16/32/64 were slower).
  const firstIsConv = convKind.classNames.includes(layers[1]?.getClassName());
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
  if (!convKind.classNames.includes(layer.getClassName())) return null;
  const c = convKind.spec(layer);
  if (c.padding !== 'same' || c.dataFormat !== 'channelsLast' || c.activation !== 'linear' || c.strides.some((v) => v !== 1) || c.dilations.some((v) => v !== 1)) return null;
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
  const relu = r && reluKind.classNames.includes(r.getClassName()) && reluKind.spec(r).maxValue === null ? r.name : null;
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
