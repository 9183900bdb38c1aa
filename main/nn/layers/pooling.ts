/** MaxPooling2D (channelsLast, 'valid' or TensorFlow 'same') and GlobalAveragePooling2D (→ flat). */
import type { LayerKind } from '../layer-kind.ts';
import { OnnxExportError } from '../onnx-export-support.ts';
import { featureMap } from './shape-guards.ts';

export const maxPoolKind: LayerKind = {
  classNames: ['MaxPooling2D'],
  inferOnnx({ g, layers, index }, x, shape) {
    const layer = layers[index];
    const s = featureMap(layer, shape);
    const c = layer.getConfig() as { poolSize: number[]; strides: number[]; padding: string; dataFormat: string };
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
    return { x: g.op('MaxPool', [x], { kernel_shape: [ph, pw], strides: [sh, sw], pads }, layer.name), shape: { kind: 'map', c: s.c, h: ho, w: wo } };
  },
};

export const globalAveragePoolKind: LayerKind = {
  classNames: ['GlobalAveragePooling2D'],
  inferOnnx({ g, layers, index }, x, shape) {
    const layer = layers[index];
    const s = featureMap(layer, shape);
    if ((layer.getConfig() as { dataFormat?: string }).dataFormat === 'channelsFirst') throw new OnnxExportError(`ONNX export: GlobalAveragePooling2D "${layer.name}" is channelsFirst; not supported`);
    return { x: g.op('Flatten', [g.op('GlobalAveragePool', [x])], { axis: 1 }, layer.name), shape: { kind: 'flat', f: s.c } };
  },
};
