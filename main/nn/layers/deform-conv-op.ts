/**
 * Modulated deformable convolution (DCNv2, Zhu et al. 2019, eqs. 1–5) for TensorFlow.js, mirroring
 * `torchvision.ops.deform_conv2d` in NHWC layouts:
 *
 *   y[b, p0, o] = bias[o] + Σ_k Σ_c w[k, c, o] · m_k(p0) · x_bilinear(b, p0·s − pad + p_k·d + Δp_k(p0), c)
 *
 * No JavaScript runtime has this op (tfjs has none; onnxruntime has no DeformConv kernel), so it is
 * hand-written here. Design, chosen for speed on the wasm and cpu backends:
 *  - forward: one JS pass over Float32Arrays builds the sampled "columns" [B·Ho·Wo, KH·KW·Cin]
 *    (bilinear interpolation × mask, zero outside the input exactly as torchvision), then ONE
 *    matMul with the weight reshaped to [KH·KW·Cin, Cout] runs on the backend's GEMM (XNNPACK on
 *    wasm). The sampling "plan" (corner indices, fractional parts, mask) is kept for the backward.
 *  - backward (tf.customGrad): grad_columns = dy·Wᵀ and grad_W = columnsᵀ·dy are two GEMMs; one
 *    JS pass scatters grad_columns to x (bilinear weights × mask) and reduces it to the offset and
 *    mask gradients (torchvision's get_coordinate_weight / bilinear value). No gather anywhere, so
 *    nothing needs UnsortedSegmentSum.
 * A tfjs op chain (gatherND + mul + add per corner) would allocate a dozen [N, K²·Cin] tensors per
 * call; the JS loops touch each element once and are 5–10× faster here.
 */
import * as tf from '@tensorflow/tfjs-core';
import { WorkbenchError } from '../../errors.ts';

/** Shapes or options of a deformable convolution call are inconsistent. */
export class DeformConvShapeError extends WorkbenchError {}

export type Pair = number | readonly [number, number];

export interface DeformConv2dOptions {
  /** Bias [Cout]. @default none */
  readonly bias?: tf.Tensor1D | tf.Tensor;
  /** Modulation mask [B, Ho, Wo, G·KH·KW] (DCNv2); absent = all ones (DCNv1). @default none */
  readonly mask?: tf.Tensor4D | tf.Tensor;
  /** Stride [sh, sw] or one number for both. @default 1 */
  readonly stride?: Pair;
  /** Symmetric zero padding [ph, pw] (cells each side) or one number. @default 0 */
  readonly padding?: Pair;
  /** Dilation [dh, dw] or one number. @default 1 */
  readonly dilation?: Pair;
}

interface Geometry {
  readonly B: number;
  readonly H: number;
  readonly W: number;
  readonly C: number;
  readonly Cout: number;
  readonly KH: number;
  readonly KW: number;
  readonly Ho: number;
  readonly Wo: number;
  readonly G: number;
  readonly sh: number;
  readonly sw: number;
  readonly ph: number;
  readonly pw: number;
  readonly dh: number;
  readonly dw: number;
}

function pair(v: Pair | undefined, dflt: number, name: string, min: number): [number, number] {
  const p: [number, number] = v === undefined ? [dflt, dflt] : typeof v === 'number' ? [v, v] : [v[0], v[1]];
  if (!p.every((n) => Number.isInteger(n) && n >= min)) {
    throw new DeformConvShapeError(
      `deformConv2d: ${name} must be an integer ≥ ${min} or a pair of them; found ${JSON.stringify(v)}.`,
      { [name]: v },
    );
  }
  return p;
}

function fmt(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

/** Output size of one spatial axis, as torchvision/PyTorch compute it. */
export function deformConvOutSize(inSize: number, kernel: number, stride: number, pad: number, dilation: number): number {
  return Math.floor((inSize + 2 * pad - dilation * (kernel - 1) - 1) / stride) + 1;
}

function checkGeometry(
  x: tf.Tensor,
  offset: tf.Tensor,
  weight: tf.Tensor,
  opts: DeformConv2dOptions,
): Geometry {
  const fail = (what: string, expected: string, found: readonly number[] | string, fix: string): never => {
    throw new DeformConvShapeError(`deformConv2d: ${what} must be ${expected}; found ${typeof found === 'string' ? found : fmt(found)}. ${fix}`, {
      what,
      expected,
      found,
    });
  };
  if (x.rank !== 4) fail('x', 'rank 4 [B, H, W, Cin]', x.shape, 'Pass a batch of NHWC images.');
  if (weight.rank !== 4) fail('weight', 'rank 4 [KH, KW, Cin, Cout]', weight.shape, 'Use the tfjs conv2d filter layout.');
  if (offset.rank !== 4) fail('offset', 'rank 4 [B, Ho, Wo, 2·G·KH·KW]', offset.shape, 'Pass offsets in NHWC.');
  for (const [name, t] of [['x', x], ['offset', offset], ['weight', weight]] as const) {
    if (t.dtype !== 'float32') fail(name, 'float32', t.dtype, 'Cast with tf.cast(t, "float32").');
  }
  const [B, H, W, C] = x.shape;
  const [KH, KW, Cw, Cout] = weight.shape;
  if (Cw !== C) fail('weight', `[KH, KW, ${C}, Cout] (Cin of x)`, weight.shape, 'Match the weight to the input channels.');
  const [sh, sw] = pair(opts.stride, 1, 'stride', 1);
  const [ph, pw] = pair(opts.padding, 0, 'padding', 0);
  const [dh, dw] = pair(opts.dilation, 1, 'dilation', 1);
  const Ho = deformConvOutSize(H, KH, sh, ph, dh);
  const Wo = deformConvOutSize(W, KW, sw, pw, dw);
  if (Ho < 1 || Wo < 1) {
    fail('output size', 'at least 1×1', [Ho, Wo], `Input ${H}×${W} is too small for kernel ${KH}×${KW} with dilation ${dh},${dw} and padding ${ph},${pw}.`);
  }
  const KK = KH * KW;
  const offC = offset.shape[3] as number;
  if (offset.shape[0] !== B || offset.shape[1] !== Ho || offset.shape[2] !== Wo || offC % (2 * KK) !== 0 || offC === 0) {
    fail('offset', `[${B}, ${Ho}, ${Wo}, 2·G·${KK}]`, offset.shape, 'Its spatial size is the output size; its channels are 2·offsetGroups·KH·KW.');
  }
  const G = offC / (2 * KK);
  if (C % G !== 0) fail('offset groups', `a divisor of Cin = ${C}`, `${G} (from ${offC} offset channels)`, 'Use an offset-group count that divides the input channels.');
  if (opts.mask) {
    const m = opts.mask;
    if (m.rank !== 4 || m.shape[0] !== B || m.shape[1] !== Ho || m.shape[2] !== Wo || m.shape[3] !== G * KK) {
      fail('mask', `[${B}, ${Ho}, ${Wo}, ${G * KK}]`, m.shape, 'One modulation scalar per offset group and kernel tap.');
    }
    if (m.dtype !== 'float32') fail('mask', 'float32', m.dtype, 'Cast with tf.cast(t, "float32").');
  }
  if (opts.bias) {
    const b = opts.bias;
    if (b.rank !== 1 || b.shape[0] !== Cout) fail('bias', `[${Cout}]`, b.shape, 'One bias per output channel.');
    if (b.dtype !== 'float32') fail('bias', 'float32', b.dtype, 'Cast with tf.cast(t, "float32").');
  }
  return { B, H, W, C, Cout, KH, KW, Ho, Wo, G, sh, sw, ph, pw, dh, dw };
}

/**
 * Sampling plan: for every (output pixel n, offset group g, tap k) the four bilinear corners as
 * element indices of channel 0 of the group in x (−1 = corner outside the input), the fractional
 * parts, and the mask value. Built once in the forward and reused by the backward.
 */
interface SamplingPlan {
  readonly corners: Int32Array; // 4 per entry: (y0,x0) (y0,x1) (y1,x0) (y1,x1)
  readonly frac: Float64Array; // 2 per entry: ly, lx
  readonly maskValue: Float64Array; // 1 per entry
}

function buildPlan(g: Geometry, off: Float32Array, mask: Float32Array | null, n0: number, n1: number): SamplingPlan {
  const { H, W, C, KH, KW, Ho, Wo, G, sh, sw, ph, pw, dh, dw } = g;
  const KK = KH * KW;
  const Cg = C / G;
  const entries = (n1 - n0) * G * KK;
  const corners = new Int32Array(entries * 4);
  const frac = new Float64Array(entries * 2);
  const maskValue = new Float64Array(entries);
  let t = 0;
  for (let n = n0; n < n1; n++) {
    const ox = n % Wo;
    const oy = Math.floor(n / Wo) % Ho;
    const b = Math.floor(n / (Wo * Ho));
    const xb = b * H * W * C;
    {
      {
        const offBase = n * 2 * G * KK;
        const maskBase = n * G * KK;
        for (let gi = 0; gi < G; gi++) {
          const chan0 = xb + gi * Cg;
          for (let i = 0; i < KH; i++) {
            for (let j = 0; j < KW; j++, t++) {
              const k = gi * KK + i * KW + j;
              const py = oy * sh - ph + i * dh + off[offBase + 2 * k];
              const px = ox * sw - pw + j * dw + off[offBase + 2 * k + 1];
              maskValue[t] = mask ? mask[maskBase + k] : 1;
              const c4 = 4 * t;
              // torchvision: a point with y ≤ −1, y ≥ H, x ≤ −1 or x ≥ W samples 0. Its offset
              // gradient, however, is computed from the floor corners without that test, so a point
              // exactly on y = −1 (or x = −1) gets the one-sided derivative from row (column) 0.
              // Keeping y = −1 / x = −1 in the plan reproduces both: there the bilinear weights of the
              // valid corners are 0 (ly = 0), so value, mask gradient and x gradient stay 0.
              // The negated form also sends NaN offsets here instead of reading garbage.
              if (!(py >= -1 && py < H && px >= -1 && px < W)) {
                corners[c4] = corners[c4 + 1] = corners[c4 + 2] = corners[c4 + 3] = -1;
                frac[2 * t] = frac[2 * t + 1] = 0;
                continue;
              }
              const y0 = Math.floor(py);
              const x0 = Math.floor(px);
              frac[2 * t] = py - y0;
              frac[2 * t + 1] = px - x0;
              const y0ok = y0 >= 0;
              const y1ok = y0 + 1 <= H - 1;
              const x0ok = x0 >= 0;
              const x1ok = x0 + 1 <= W - 1;
              const r0 = chan0 + y0 * W * C;
              const r1 = r0 + W * C;
              corners[c4] = y0ok && x0ok ? r0 + x0 * C : -1;
              corners[c4 + 1] = y0ok && x1ok ? r0 + (x0 + 1) * C : -1;
              corners[c4 + 2] = y1ok && x0ok ? r1 + x0 * C : -1;
              corners[c4 + 3] = y1ok && x1ok ? r1 + (x0 + 1) * C : -1;
            }
          }
        }
      }
    }
  }
  return { corners, frac, maskValue };
}

/** columns[n − n0, k·C + c] = m · bilinear(x, p_k(n)) for channel c (group g = c / Cg), rows n0…n0 + rows of the plan. */
function buildColumns(g: Geometry, xd: Float32Array, plan: SamplingPlan, rows: number): Float32Array {
  const { C, KH, KW, G } = g;
  const KK = KH * KW;
  const Cg = C / G;
  const rowLen = KK * C;
  const N = rows;
  const cols = new Float32Array(N * rowLen);
  const { corners, frac, maskValue } = plan;
  const idx = [0, 0, 0, 0];
  const wt = [0, 0, 0, 0];
  let t = 0;
  for (let n = 0; n < N; n++) {
    for (let gi = 0; gi < G; gi++) {
      for (let k = 0; k < KK; k++, t++) {
        const dst = n * rowLen + k * C + gi * Cg;
        const c4 = 4 * t;
        const ly = frac[2 * t];
        const lx = frac[2 * t + 1];
        const m = maskValue[t];
        let nv = 0;
        if (corners[c4] >= 0) { idx[nv] = corners[c4]; wt[nv++] = (1 - ly) * (1 - lx) * m; }
        if (corners[c4 + 1] >= 0) { idx[nv] = corners[c4 + 1]; wt[nv++] = (1 - ly) * lx * m; }
        if (corners[c4 + 2] >= 0) { idx[nv] = corners[c4 + 2]; wt[nv++] = ly * (1 - lx) * m; }
        if (corners[c4 + 3] >= 0) { idx[nv] = corners[c4 + 3]; wt[nv++] = ly * lx * m; }
        // Compact the valid corners so the channel loops carry no per-element branches.
        if (nv === 4) {
          const p0 = idx[0], p1 = idx[1], p2 = idx[2], p3 = idx[3];
          const a0 = wt[0], a1 = wt[1], a2 = wt[2], a3 = wt[3];
          for (let c = 0; c < Cg; c++) cols[dst + c] = a0 * xd[p0 + c] + a1 * xd[p1 + c] + a2 * xd[p2 + c] + a3 * xd[p3 + c];
        } else if (nv === 2) {
          const p0 = idx[0], p1 = idx[1];
          const a0 = wt[0], a1 = wt[1];
          for (let c = 0; c < Cg; c++) cols[dst + c] = a0 * xd[p0 + c] + a1 * xd[p1 + c];
        } else if (nv > 0) {
          for (let c = 0; c < Cg; c++) {
            let s = 0;
            for (let q = 0; q < nv; q++) s += wt[q] * xd[idx[q] + c];
            cols[dst + c] = s;
          }
        }
        // nv === 0: the row stays zero (Float32Array starts zeroed).
      }
    }
  }
  return cols;
}

interface SamplingGrads {
  readonly gradX: Float32Array;
  readonly gradOffset: Float32Array;
  readonly gradMask: Float32Array;
}

/** Scatters grad_columns back to x and reduces it to offset and mask gradients (torchvision's rules). */
function scatterGrads(g: Geometry, xd: Float32Array, plan: SamplingPlan, gcols: Float32Array): SamplingGrads {
  const { B, H, W, C, KH, KW, Ho, Wo, G } = g;
  const KK = KH * KW;
  const Cg = C / G;
  const rowLen = KK * C;
  const N = B * Ho * Wo;
  const gradX = new Float32Array(B * H * W * C);
  const gradOffset = new Float32Array(N * 2 * G * KK);
  const gradMask = new Float32Array(N * G * KK);
  const { corners, frac, maskValue } = plan;
  let t = 0;
  for (let n = 0; n < N; n++) {
    for (let gi = 0; gi < G; gi++) {
      for (let k = 0; k < KK; k++, t++) {
        const c4 = 4 * t;
        const p00 = corners[c4], p01 = corners[c4 + 1], p10 = corners[c4 + 2], p11 = corners[c4 + 3];
        if (p00 < 0 && p01 < 0 && p10 < 0 && p11 < 0) continue;
        const src = n * rowLen + k * C + gi * Cg;
        const ly = frac[2 * t], lx = frac[2 * t + 1];
        const hy = 1 - ly, hx = 1 - lx;
        const m = maskValue[t];
        const w00 = hy * hx * m, w01 = hy * lx * m, w10 = ly * hx * m, w11 = ly * lx * m;
        let sVal = 0; // Σ_c gcol · bilinear value (mask gradient)
        let sDy = 0; // Σ_c gcol · ∂value/∂y
        let sDx = 0; // Σ_c gcol · ∂value/∂x
        // With top = hx·v00 + lx·v01 and bottom = hx·v10 + lx·v11: value = hy·top + ly·bottom,
        // ∂value/∂y = bottom − top, ∂value/∂x = hy·(v01 − v00) + ly·(v11 − v10)
        // (torchvision's get_coordinate_weight, corners outside the image read as 0).
        if (p00 >= 0 && p01 >= 0 && p10 >= 0 && p11 >= 0) {
          // Interior point (the common case): no per-channel branches.
          for (let c = 0; c < Cg; c++) {
            const gc = gcols[src + c];
            const v00 = xd[p00 + c], v01 = xd[p01 + c], v10 = xd[p10 + c], v11 = xd[p11 + c];
            gradX[p00 + c] += w00 * gc;
            gradX[p01 + c] += w01 * gc;
            gradX[p10 + c] += w10 * gc;
            gradX[p11 + c] += w11 * gc;
            const top = hx * v00 + lx * v01;
            const bottom = hx * v10 + lx * v11;
            sVal += gc * (hy * top + ly * bottom);
            sDy += gc * (bottom - top);
            sDx += gc * (hy * (v01 - v00) + ly * (v11 - v10));
          }
        } else {
          for (let c = 0; c < Cg; c++) {
            const gc = gcols[src + c];
            let v00 = 0, v01 = 0, v10 = 0, v11 = 0;
            if (p00 >= 0) { v00 = xd[p00 + c]; gradX[p00 + c] += w00 * gc; }
            if (p01 >= 0) { v01 = xd[p01 + c]; gradX[p01 + c] += w01 * gc; }
            if (p10 >= 0) { v10 = xd[p10 + c]; gradX[p10 + c] += w10 * gc; }
            if (p11 >= 0) { v11 = xd[p11 + c]; gradX[p11 + c] += w11 * gc; }
            const top = hx * v00 + lx * v01;
            const bottom = hx * v10 + lx * v11;
            sVal += gc * (hy * top + ly * bottom);
            sDy += gc * (bottom - top);
            sDx += gc * (hy * (v01 - v00) + ly * (v11 - v10));
          }
        }
        const kk = gi * KK + k;
        gradOffset[(n * G * KK + kk) * 2] = m * sDy;
        gradOffset[(n * G * KK + kk) * 2 + 1] = m * sDx;
        gradMask[n * G * KK + kk] = sVal;
      }
    }
  }
  return { gradX, gradOffset, gradMask };
}

/**
 * a·b with optional transposes. The wasm backend's BatchMatMul is fast (XNNPACK) only without
 * transpose flags — with them it runs a naive loop 10–15× slower — so on wasm the transposes are
 * done physically first (a memory-bound Transpose kernel, milliseconds).
 */
export function matMulFast(a: tf.Tensor2D, b: tf.Tensor2D, transposeA: boolean, transposeB: boolean): tf.Tensor2D {
  if (tf.getBackend() !== 'wasm' || (!transposeA && !transposeB)) return tf.matMul(a, b, transposeA, transposeB);
  return tf.tidy(() => tf.matMul(transposeA ? tf.transpose(a) : a, transposeB ? tf.transpose(b) : b));
}

/**
 * Deformable convolution v2 with torchvision's semantics (`torchvision.ops.deform_conv2d`), NHWC.
 * @param x [B, H, W, Cin] float32
 * @param offset [B, Ho, Wo, 2·G·KH·KW]; for offset group g and tap k = i·KW + j, channel
 *   2(g·KH·KW + k) is Δy (rows) and 2(g·KH·KW + k) + 1 is Δx (columns), in input cells
 * @param weight [KH, KW, Cin, Cout] (tfjs conv2d filter layout)
 * @returns [B, Ho, Wo, Cout] with Ho = ⌊(H + 2·ph − dh·(KH − 1) − 1) / sh⌋ + 1 (likewise Wo).
 * Differentiable with respect to x, offset, weight, mask and bias.
 */
export function deformConv2d(x: tf.Tensor, offset: tf.Tensor, weight: tf.Tensor, options: DeformConv2dOptions = {}): tf.Tensor4D {
  const geo = checkGeometry(x, offset, weight, options);
  const { B, C, Cout, KH, KW, Ho, Wo } = geo;
  const { mask, bias } = options;
  const N = B * Ho * Wo;
  const rowLen = KH * KW * C;
  const inputs: tf.Tensor[] = [x, offset, weight];
  if (mask) inputs.push(mask);
  if (bias) inputs.push(bias);

  // Outside gradient recording (prediction), nothing is kept for a backward pass, so the columns
  // are built and multiplied in row chunks: bounded memory for large prediction batches.
  if (!(tf.engine() as unknown as { isTapeOn(): boolean }).isTapeOn()) {
    return forwardChunked(geo, x, offset, weight, mask ?? null, bias ?? null);
  }

  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [xT, offT, wT] = args as tf.Tensor[];
    const maskT = mask ? (args[3] as tf.Tensor) : null;
    const biasT = bias ? (args[mask ? 4 : 3] as tf.Tensor) : null;
    const xd = xT.dataSync() as Float32Array;
    const plan = buildPlan(geo, offT.dataSync() as Float32Array, maskT ? (maskT.dataSync() as Float32Array) : null, 0, N);
    const cols = buildColumns(geo, xd, plan, N);
    // Runs inside the engine's tidy: the intermediate tensors here are disposed on return.
    const w2 = tf.reshape(wT, [rowLen, Cout]) as tf.Tensor2D;
    let y: tf.Tensor = tf.matMul(tf.tensor2d(cols, [N, rowLen]), w2);
    if (biasT) y = tf.add(y, biasT);
    const value = tf.reshape(y, [B, Ho, Wo, Cout]);

    const gradFunc = (dy: tf.Tensor): tf.Tensor[] => {
      const dy2 = tf.reshape(dy, [N, Cout]) as tf.Tensor2D;
      const w2b = tf.reshape(wT, [rowLen, Cout]) as tf.Tensor2D;
      const gcolsT = matMulFast(dy2, w2b, false, true);
      const gcols = gcolsT.dataSync() as Float32Array;
      gcolsT.dispose();
      const gradW = tf.reshape(matMulFast(tf.tensor2d(cols, [N, rowLen]), dy2, true, false), wT.shape);
      const s = scatterGrads(geo, xd, plan, gcols);
      const grads: tf.Tensor[] = [
        tf.tensor(s.gradX, xT.shape, 'float32'),
        tf.tensor(s.gradOffset, offT.shape, 'float32'),
        gradW,
      ];
      if (maskT) grads.push(tf.tensor(s.gradMask, maskT.shape, 'float32'));
      if (biasT) grads.push(tf.sum(dy2, 0));
      return grads;
    };
    return { value, gradFunc };
  });
  return op(...inputs) as tf.Tensor4D;
}

/** Column-chunk size for prediction: 4 Mi floats (16 MiB) of columns per GEMM. */
const CHUNK_ELEMENTS = 1 << 22;

function forwardChunked(
  geo: Geometry,
  x: tf.Tensor,
  offset: tf.Tensor,
  weight: tf.Tensor,
  mask: tf.Tensor | null,
  bias: tf.Tensor | null,
): tf.Tensor4D {
  const { B, C, Cout, KH, KW, Ho, Wo } = geo;
  const N = B * Ho * Wo;
  const rowLen = KH * KW * C;
  const xd = x.dataSync() as Float32Array;
  const off = offset.dataSync() as Float32Array;
  const md = mask ? (mask.dataSync() as Float32Array) : null;
  const out = new Float32Array(N * Cout);
  const chunkRows = Math.max(1, Math.floor(CHUNK_ELEMENTS / rowLen));
  const w2 = tf.reshape(weight, [rowLen, Cout]) as tf.Tensor2D;
  for (let n0 = 0; n0 < N; n0 += chunkRows) {
    const n1 = Math.min(N, n0 + chunkRows);
    const cols = buildColumns(geo, xd, buildPlan(geo, off, md, n0, n1), n1 - n0);
    const y = tf.tidy(() => tf.matMul(tf.tensor2d(cols, [n1 - n0, rowLen]), w2));
    out.set(y.dataSync() as Float32Array, n0 * Cout);
    y.dispose();
  }
  w2.dispose();
  return tf.tidy(() => {
    const y = tf.tensor4d(out, [B, Ho, Wo, Cout]);
    return bias ? tf.add(y, bias) : y;
  });
}
