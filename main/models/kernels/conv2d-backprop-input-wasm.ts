/**
 * Faster Conv2DBackpropInput for the wasm backend. tfjs-backend-wasm 4.22 ships one, but it is a
 * naive loop (~5× slower than the forward convolution for our 9×9×64 patches), and conv nets
 * spend a third of each training step in it. For stride 1 the input gradient is itself a
 * convolution, which XNNPACK runs fast:
 *   dx = conv2d(dy, W′, stride 1, padding (KH−1−padTop, KH−1−padBottom, KW−1−padLeft, KW−1−padRight))
 *   W′[kh, kw, co, ci] = W[KH−1−kh, KW−1−kw, ci, co]   (rotated 180°, in/out channels swapped)
 * Strides > 1 (or any padding this cannot express) go to the original wasm kernel unchanged.
 */
import { backend_util, getKernel, util } from '@tensorflow/tfjs-core';
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';

interface WasmBackendLike {
  makeOutput(shape: number[], dtype: 'float32'): TensorInfo;
  typedArrayFromHeap(info: TensorInfo): Float32Array;
  disposeData(dataId: object): boolean;
}

interface BackpropInputAttrs {
  strides: [number, number] | number;
  pad: 'valid' | 'same' | number | backend_util.ExplicitPadding;
  dataFormat: 'NHWC' | 'NCHW';
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  inputShape: [number, number, number, number];
}

export function makeConv2dBackpropInputWasmConfig(original: KernelConfig): KernelConfig {
  const kernelFunc = (args: Parameters<KernelFunc>[0]): TensorInfo | TensorInfo[] => {
    const { dy, filter } = args.inputs as { dy: TensorInfo; filter: TensorInfo };
    const attrs = args.attrs as unknown as BackpropInputAttrs;
    if (attrs.dataFormat === 'NCHW' || dy.dtype !== 'float32' || filter.dtype !== 'float32') return original.kernelFunc(args);
    const info = backend_util.computeConv2DInfo(
      attrs.inputShape,
      filter.shape as [number, number, number, number],
      attrs.strides,
      1,
      attrs.pad,
      attrs.dimRoundingMode,
      false,
      'channelsLast',
    );
    const { filterHeight: KH, filterWidth: KW, inChannels: Cin, outChannels: Cout } = info;
    const pt = KH - 1 - info.padInfo.top;
    const pb = KH - 1 - info.padInfo.bottom;
    const pl = KW - 1 - info.padInfo.left;
    const pr = KW - 1 - info.padInfo.right;
    // Output size of the transposed convolution must equal the input size, which holds for stride 1
    // whenever the forward padding is < K on each side.
    const expectH = info.outHeight + pt + pb - (KH - 1);
    const expectW = info.outWidth + pl + pr - (KW - 1);
    if (info.strideHeight !== 1 || info.strideWidth !== 1 || Math.min(pt, pb, pl, pr) < 0 || expectH !== info.inHeight || expectW !== info.inWidth) {
      return original.kernelFunc(args);
    }
    const conv = getKernel('Conv2D', 'wasm');
    if (!conv) return original.kernelFunc(args);
    const backend = args.backend as unknown as WasmBackendLike;
    const flipped = backend.makeOutput([KH, KW, Cout, Cin], 'float32');
    const fOut = backend.typedArrayFromHeap(flipped);
    const fIn = backend.typedArrayFromHeap(filter);
    for (let kh = 0; kh < KH; kh++) {
      for (let kw = 0; kw < KW; kw++) {
        const src0 = ((KH - 1 - kh) * KW + (KW - 1 - kw)) * Cin * Cout;
        const dst0 = (kh * KW + kw) * Cout * Cin;
        for (let ci = 0; ci < Cin; ci++) {
          for (let co = 0; co < Cout; co++) fOut[dst0 + co * Cin + ci] = fIn[src0 + ci * Cout + co];
        }
      }
    }
    const out = conv.kernelFunc({
      inputs: { x: dy, filter: flipped },
      backend: args.backend,
      attrs: { strides: 1, pad: [[0, 0], [pt, pb], [pl, pr], [0, 0]], dataFormat: 'NHWC', dilations: 1 },
    }) as TensorInfo;
    backend.disposeData(flipped.dataId);
    util.assert(util.arraysEqual(out.shape, attrs.inputShape), () => `Conv2DBackpropInput: got ${out.shape}, expected ${attrs.inputShape}.`);
    return out;
  };
  // Keep the original's setupFunc: it binds the wasm function the fallback path calls.
  return { kernelName: 'Conv2DBackpropInput', backendName: 'wasm', setupFunc: original.setupFunc, kernelFunc: kernelFunc as unknown as KernelFunc };
}
