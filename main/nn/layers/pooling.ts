/**
 * MaxPooling2D (inference: channelsLast, 'valid' or TensorFlow 'same'; training: 2×2 stride 2
 * 'valid' as four strided Slices + Max, the gradient to the FIRST maximal element in row-major
 * window order, tfjs' maxPoolPositions: strict ">" while scanning) and GlobalAveragePooling2D (→ flat).
 */
import * as tfl from '@tensorflow/tfjs-layers';
import { OnnxTrainUnsupportedError } from '../../onnx/train-ops.ts';
import type { LayerKind } from '../layer-kind.ts';
import { OnnxExportError } from '../onnx-export-support.ts';
import { featureMap } from './shape-guards.ts';

/** A max-pooling's configuration; strides default to the pool size, as tfjs-layers. */
export interface MaxPoolSpec {
  readonly poolSize: readonly number[];
  readonly strides: readonly number[];
  readonly padding: string;
  readonly dataFormat: string;
}

export function maxPoolSpec(layer: tfl.layers.Layer): MaxPoolSpec {
  const c = layer.getConfig() as { poolSize: number[]; strides?: number[]; padding: string; dataFormat: string };
  return { poolSize: c.poolSize, strides: c.strides ?? c.poolSize, padding: c.padding, dataFormat: c.dataFormat };
}

export const maxPoolKind: LayerKind<MaxPoolSpec> = {
  classNames: ['MaxPooling2D'],
  tfjs: { MaxPooling2D: tfl.layers.maxPooling2d },
  spec: maxPoolSpec,
  inferOnnx({ g, layers, index }, x, shape, c) {
    const layer = layers[index];
    const s = featureMap(layer, shape);
    if (c.dataFormat !== 'channelsLast') throw new OnnxExportError(`ONNX export: MaxPooling2D "${layer.name}" is ${c.dataFormat}; only channelsLast is supported`);
    const [ph, pw] = c.poolSize;
    const [sh, sw] = c.strides;
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
    return { x: g.op('MaxPool', [x], { kernel_shape: [ph, pw], strides: [sh, sw], pads }, layer.name), shape: { kind: 'map', c: s.c, h: ho, w: wo } };
  },
  trainOnnx({ o, layer }, x, c) {
    const strides = c.strides;
    if (c.poolSize[0] !== 2 || c.poolSize[1] !== 2 || strides[0] !== 2 || strides[1] !== 2 || c.padding !== 'valid' || x.shape.length !== 4) {
      throw new OnnxTrainUnsupportedError(`ONNX training: MaxPooling2D "${layer.name}" must be 2×2, stride 2, padding valid`);
    }
    const [b, h, w, ch] = x.shape;
    const ho = Math.floor(h / 2);
    const wo = Math.floor(w / 2);
    if (ho < 1 || wo < 1) throw new OnnxTrainUnsupportedError(`ONNX training: MaxPooling2D "${layer.name}" on a ${h}×${w} map`);
    const part = (dy: number, dx: number): string => o.slice(x.name, [dy, dx], [2 * ho, 2 * wo], [1, 2], [2, 2]);
    const parts = [part(0, 0), part(0, 1), part(1, 0), part(1, 1)];
    const m = o.op('Max', parts);
    return {
      y: { name: m, shape: [b, ho, wo, ch] },
      backward: (dm) => {
        // First maximal element in row-major window order receives the gradient (tfjs' rule).
        const zero = o.f32(0);
        let taken: string | null = null;
        const routed: string[] = [];
        parts.forEach((p, q) => {
          let sel: string;
          if (q === parts.length - 1) sel = o.op('Not', [taken!]);
          else {
            const eq = o.op('Equal', [p, m]);
            sel = taken ? o.op('And', [eq, o.op('Not', [taken])]) : eq;
            taken = taken ? o.op('Or', [taken, sel]) : sel;
          }
          routed.push(o.unsqueeze(o.op('Where', [sel, dm, zero]), [2, 4])); // [b, ho, 1, wo, 1, c]
        });
        const row0 = o.concat([routed[0], routed[1]], 4);
        const row1 = o.concat([routed[2], routed[3]], 4);
        let dx = o.reshape(o.concat([row0, row1], 2), [b, 2 * ho, 2 * wo, ch]);
        if (h !== 2 * ho || w !== 2 * wo) dx = o.op('Pad', [dx, o.i64([0, 0, 0, 0, 0, h - 2 * ho, w - 2 * wo, 0])]);
        return dx;
      },
    };
  },
};

/** The data format, channelsLast when not given (tfjs-layers' default). */
export interface GlobalAveragePoolSpec {
  readonly dataFormat: string;
}

export const globalAveragePoolKind: LayerKind<GlobalAveragePoolSpec> = {
  classNames: ['GlobalAveragePooling2D'],
  globalPool: true,
  tfjs: { GlobalAveragePooling2D: tfl.layers.globalAveragePooling2d },
  spec: (layer) => ({ dataFormat: (layer.getConfig() as { dataFormat?: string }).dataFormat ?? 'channelsLast' }),
  inferOnnx({ g, layers, index }, x, shape, spec) {
    const layer = layers[index];
    const s = featureMap(layer, shape);
    if (spec.dataFormat === 'channelsFirst') throw new OnnxExportError(`ONNX export: GlobalAveragePooling2D "${layer.name}" is channelsFirst; not supported`);
    return { x: g.op('Flatten', [g.op('GlobalAveragePool', [x])], { axis: 1 }, layer.name), shape: { kind: 'flat', f: s.c } };
  },
  trainOnnx({ o, layer }, x, spec) {
    if (x.shape.length !== 4) throw new OnnxTrainUnsupportedError(`ONNX training: "${layer.name}" needs a feature map`);
    if (spec.dataFormat === 'channelsFirst') throw new OnnxTrainUnsupportedError(`ONNX training: GlobalAveragePooling2D "${layer.name}" is channelsFirst; not supported`);
    const [b, h, w, ch] = x.shape;
    const y = o.mean(x.name, [1, 2], false);
    return { y: { name: y, shape: [b, ch] }, backward: (dy) => o.op('Expand', [o.mul(o.reshape(dy, [b, 1, 1, ch]), o.f32(1 / (h * w))), o.i64([b, h, w, ch])]) };
  },
};
