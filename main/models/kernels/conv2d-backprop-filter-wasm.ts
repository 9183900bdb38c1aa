/**
 * Conv2DBackpropFilter for the wasm backend, which ships Conv2D and Conv2DBackpropInput but not
 * this kernel (tfjs 4.22), so `conv2d`'s filter gradient throws on wasm and no conv net can train.
 *
 * Method: im2col + one GEMM on the backend's own BatchMatMul (XNNPACK), after a physical transpose:
 *   cols[n, (kh·KW + kw)·Cin + ci] = x[b, oy·sH − padTop + kh·dH, ox·sW − padLeft + kw·dW, ci]  (0 outside)
 *   dW[(kh, kw, ci), co] = Σ_n cols[n, ·] · dy[n, co]      (n = (b, oy, ox))
 * The row order of cols matches the [KH, KW, Cin, Cout] filter layout, so the GEMM result is the
 * filter gradient without a transpose. The im2col loop is hand-written because tfjs has no
 * im2col op on wasm (ExtractImagePatches is not implemented there).
 */
import { backend_util, getKernel, util } from '@tensorflow/tfjs-core';
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';

/** The subset of BackendWasm this kernel uses (the class is not exported with types we can name). */
interface WasmBackendLike {
  makeOutput(shape: number[], dtype: 'float32'): TensorInfo;
  typedArrayFromHeap(info: TensorInfo): Float32Array;
  disposeData(dataId: object): boolean;
}

interface BackpropFilterAttrs {
  strides: [number, number] | number;
  pad: 'valid' | 'same' | number | backend_util.ExplicitPadding;
  dataFormat: 'NHWC' | 'NCHW';
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  filterShape: [number, number, number, number];
}

function conv2dBackpropFilterWasm(args: Parameters<KernelFunc>[0]): TensorInfo {
  const { x, dy } = args.inputs as { x: TensorInfo; dy: TensorInfo };
  const attrs = args.attrs as unknown as BackpropFilterAttrs;
  const backend = args.backend as unknown as WasmBackendLike;
  if (attrs.dataFormat === 'NCHW') {
    throw new Error('Conv2DBackpropFilter on wasm supports NHWC only (the wasm Conv2D kernel is NHWC-only too).');
  }
  if (x.dtype !== 'float32' || dy.dtype !== 'float32') {
    throw new Error(`Conv2DBackpropFilter on wasm expects float32 x and dy; found ${x.dtype} and ${dy.dtype}.`);
  }
  const info = backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    attrs.filterShape,
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
    false,
    'channelsLast',
  );
  const { batchSize, inHeight, inWidth, inChannels, outHeight, outWidth, outChannels } = info;
  const { filterHeight, filterWidth, strideHeight, strideWidth, dilationHeight, dilationWidth } = info;
  const padTop = info.padInfo.top;
  const padLeft = info.padInfo.left;
  util.assert(
    util.arraysEqual(dy.shape, [batchSize, outHeight, outWidth, outChannels]),
    () => `Conv2DBackpropFilter: dy shape ${dy.shape} does not match the forward output ${[batchSize, outHeight, outWidth, outChannels]}.`,
  );

  const rows = batchSize * outHeight * outWidth;
  const rowLen = filterHeight * filterWidth * inChannels;
  const cols = backend.makeOutput([rows, rowLen], 'float32');
  // Views are taken after every allocation: growing the wasm heap detaches older views.
  const colsV = backend.typedArrayFromHeap(cols);
  const xV = backend.typedArrayFromHeap(x);
  let r = 0;
  for (let b = 0; b < batchSize; b++) {
    const xb = b * inHeight * inWidth * inChannels;
    for (let oy = 0; oy < outHeight; oy++) {
      for (let ox = 0; ox < outWidth; ox++, r++) {
        let o = r * rowLen;
        for (let kh = 0; kh < filterHeight; kh++) {
          const iy = oy * strideHeight - padTop + kh * dilationHeight;
          const rowInside = iy >= 0 && iy < inHeight;
          for (let kw = 0; kw < filterWidth; kw++) {
            const ix = ox * strideWidth - padLeft + kw * dilationWidth;
            if (rowInside && ix >= 0 && ix < inWidth) {
              const src = xb + (iy * inWidth + ix) * inChannels;
              colsV.set(xV.subarray(src, src + inChannels), o);
            } else {
              colsV.fill(0, o, o + inChannels);
            }
            o += inChannels;
          }
        }
      }
    }
  }

  // The wasm BatchMatMul is XNNPACK-fast only without transpose flags (with transposeA it runs a
  // naive loop ~10× slower), so transpose cols physically first with the wasm Transpose kernel.
  const matMul = getKernel('BatchMatMul', 'wasm');
  const transpose = getKernel('Transpose', 'wasm');
  if (!matMul || !transpose) throw new Error('the wasm BatchMatMul/Transpose kernels are not registered; import @tensorflow/tfjs-backend-wasm first.');
  const colsT = transpose.kernelFunc({ inputs: { x: cols }, backend: args.backend, attrs: { perm: [1, 0] } }) as TensorInfo;
  backend.disposeData(cols.dataId);
  const dy2: TensorInfo = { dataId: dy.dataId, shape: [rows, outChannels], dtype: 'float32' };
  const out = matMul.kernelFunc({
    inputs: { a: colsT, b: dy2 },
    backend: args.backend,
    attrs: { transposeA: false, transposeB: false },
  }) as TensorInfo;
  backend.disposeData(colsT.dataId);
  out.shape = [...attrs.filterShape];
  return out;
}

export const conv2dBackpropFilterWasmConfig: KernelConfig = {
  kernelName: 'Conv2DBackpropFilter',
  backendName: 'wasm',
  kernelFunc: conv2dBackpropFilterWasm as unknown as KernelFunc,
};
