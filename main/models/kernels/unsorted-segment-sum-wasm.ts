/**
 * UnsortedSegmentSum for the wasm backend (absent in tfjs-backend-wasm 4.22). It is the gradient
 * of `gather`, so without it any model that gathers inside the differentiated function (an
 * embedding, a gathered batch) throws on wasm. Our own layers avoid gather in gradient paths;
 * this kernel keeps other code from failing. A plain scatter-add loop: memory-bound, no GEMM to
 * delegate to, so JavaScript over the heap views is as fast as a tfjs op chain would be.
 */
import { util } from '@tensorflow/tfjs-core';
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';

interface WasmBackendLike {
  makeOutput(shape: number[], dtype: 'float32' | 'int32'): TensorInfo;
  typedArrayFromHeap(info: TensorInfo): Float32Array | Int32Array;
}

function unsortedSegmentSumWasm(args: Parameters<KernelFunc>[0]): TensorInfo {
  const { x, segmentIds } = args.inputs as { x: TensorInfo; segmentIds: TensorInfo };
  const { numSegments } = args.attrs as unknown as { numSegments: number };
  const backend = args.backend as unknown as WasmBackendLike;
  if (x.dtype !== 'float32' && x.dtype !== 'int32') {
    throw new Error(`UnsortedSegmentSum on wasm supports float32 and int32 x; found ${x.dtype}.`);
  }
  const idRank = segmentIds.shape.length;
  util.assert(
    util.arraysEqual(x.shape.slice(0, idRank), segmentIds.shape),
    () => `UnsortedSegmentSum: segmentIds shape ${segmentIds.shape} must be a prefix of x shape ${x.shape}.`,
  );
  const inner = util.sizeFromShape(x.shape.slice(idRank));
  const outShape = [numSegments, ...x.shape.slice(idRank)];
  const out = backend.makeOutput(outShape, x.dtype);
  const outV = backend.typedArrayFromHeap(out);
  const xV = backend.typedArrayFromHeap(x);
  const ids = backend.typedArrayFromHeap(segmentIds);
  outV.fill(0);
  for (let i = 0; i < ids.length; i++) {
    const s = ids[i];
    if (s < 0 || s >= numSegments) continue; // TensorFlow drops out-of-range ids
    const src = i * inner;
    const dst = s * inner;
    for (let j = 0; j < inner; j++) outV[dst + j] += xV[src + j];
  }
  return out;
}

export const unsortedSegmentSumWasmConfig: KernelConfig = {
  kernelName: 'UnsortedSegmentSum',
  backendName: 'wasm',
  kernelFunc: unsortedSegmentSumWasm as unknown as KernelFunc,
};
