/**
 * Dense on flat features (Gemm) with its fused activation. Training: linear, relu, or the
 * model's closing 2-unit softmax, whose backward receives dL/dlogits from the loss (train-graph.ts).
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { OnnxTrainUnsupportedError } from '../../onnx/train-ops.ts';
import type { LayerKind } from '../layer-kind.ts';
import { activation, need, OnnxExportError, weightsOf, type Shape } from '../onnx-export-support.ts';

/** Units, the fused activation by its serialized name ('linear' when not given) and whether a bias is added. */
export interface DenseSpec {
  readonly units: number;
  readonly activation: string;
  readonly useBias: boolean;
}

export const denseKind: LayerKind<DenseSpec> = {
  classNames: ['Dense'],
  tfjs: { Dense: tfl.layers.dense },
  logits(layer, x) {
    // The class layer carries the softmax; Grad-CAM differentiates the class score before it.
    const [kernel, bias] = layer.getWeights();
    const z = tf.matMul(x as tf.Tensor2D, kernel as tf.Tensor2D);
    return bias ? tf.add(z, bias) : z;
  },
  spec(layer) {
    const c = layer.getConfig() as { activation?: string; useBias?: boolean; units: number };
    return { units: c.units, activation: c.activation ?? 'linear', useBias: c.useBias !== false };
  },
  inferOnnx({ g, layers, index }, x, shape, spec) {
    const layer = layers[index];
    if (shape.kind !== 'flat') throw new OnnxExportError(`ONNX export: Dense "${layer.name}" on a feature map (no flattening before it) is not supported`);
    const w = weightsOf(layer);
    const kernel = need(w, 'kernel', layer);
    const [fin, units] = kernel.shape;
    if (fin !== shape.f) throw new OnnxExportError(`ONNX export: Dense "${layer.name}" expects ${fin} features, gets ${shape.f}`);
    const bias = w.has('bias') ? need(w, 'bias', layer).data : new Float32Array(units);
    const y = g.op('Gemm', [x, g.floats(`${layer.name}_w`, [fin, units], kernel.data), g.floats(`${layer.name}_b`, [units], bias)], {}, layer.name);
    const out: Shape = { kind: 'flat', f: units };
    return { x: activation(g, y, spec.activation, layer, out), shape: out };
  },
  trainOnnx(ctx, x, spec) {
    const { o, layer } = ctx;
    if (x.shape.length !== 2) throw new OnnxTrainUnsupportedError(`ONNX training: Dense "${layer.name}" must follow a pooling layer (flat input)`);
    const act = spec.activation;
    if (!['linear', 'relu', 'softmax'].includes(act)) throw new OnnxTrainUnsupportedError(`ONNX training: Dense "${layer.name}" activation ${act} is not supported`);
    const kp = ctx.param('kernel');
    const bp = spec.useBias ? ctx.param('bias') : null;
    const xin = x.name;
    const z = o.gemm(xin, kp.input, bp?.input);
    const units = spec.units;
    const b = x.shape[0];
    const back = (dz: string): string => {
      ctx.grad(kp.index, o.gemm(xin, dz, undefined, 1, 0));
      if (bp) ctx.grad(bp.index, o.sum(dz, [0], false));
      return o.gemm(dz, kp.input, undefined, 0, 1);
    };
    if (act === 'relu') {
      const y = o.op('Relu', [z]);
      return { y: { name: y, shape: [b, units] }, backward: (dy) => back(o.mul(dy, o.op('Sign', [y]))) };
    }
    if (act === 'softmax') {
      if (units !== 2) throw new OnnxTrainUnsupportedError(`ONNX training: the softmax layer must have 2 units, "${layer.name}" has ${units}`);
      return { y: { name: o.op('Softmax', [z], { axis: 1 }), shape: [b, units] }, backward: back, probabilities: true };
    }
    return { y: { name: z, shape: [b, units] }, backward: back };
  },
};
