/**
 * One layer kind of the patch classifiers, as every engine sees it (issue 17 §2): its tfjs layer
 * (`tfjs`: the class of a custom layer, which lives beside the kind in main/nn/layers/, or the
 * tfjs-layers factory of a built-in), its normalised configuration (`spec`, read once per layer by
 * the walkers), its ONNX inference export (`inferOnnx`, walked by onnx-infer-chain.ts) and its ONNX
 * training step, forward + hand-derived backward (`trainOnnx`, walked by buildTrainGraph in
 * models/onnx-train/train-graph.ts). See docs/nn.md.
 */
import type * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { WorkbenchError } from '../errors.ts';
import type { GraphBuilder } from '../onnx/graph-builder.ts';
import type { Act, Backward, Ops } from '../onnx/train-ops.ts';
import type { Shape } from './onnx-export-support.ts';

/** Where the chain walker stands when it asks a kind to emit a layer. */
export interface InferContext {
  readonly g: GraphBuilder;
  /** The whole linear chain (a kind may look ahead: BN folding, the used extent before a pooling). */
  readonly layers: readonly tfl.layers.Layer[];
  /** Index of this layer in `layers`. */
  readonly index: number;
  /** Zero channels appended to the model input (only layer 1 sees them, see buildOnnxModel). */
  readonly padC: number;
  /** Rows and columns of this layer's h×w output that later layers read (usedExtent in onnx-infer-chain.ts): the rest need not be computed. */
  usedExtent(h: number, w: number): { h: number; w: number };
}

export interface InferResult {
  readonly x: string;
  readonly shape: Shape;
  /** Following layers this one absorbed (a BatchNormalization folded into a convolution). @default 0 */
  readonly absorbed?: number;
}

/** A weight of the model as a graph input of the training graph. */
export interface TrainParam {
  /** Graph input name. */
  readonly input: string;
  /** Index in model.weights. */
  readonly index: number;
  /** tfjs shape. */
  readonly shape: readonly number[];
}

/** Where the training-graph walker stands when it asks a kind to emit a layer. */
export interface TrainContext {
  readonly o: Ops;
  readonly layer: tfl.layers.Layer;
  /**
   * 'train': tfjs' training mode (BatchNorm on batch statistics, dropout masks) with a backward;
   * 'infer': tfjs' inference mode (moving statistics, dropout the identity) for the forward-only
   * validation graph: `backward` is then never called.
   */
  readonly mode: 'train' | 'infer';
  /** No earlier layer has trainable weights and dL/dinput is not asked for: this layer's dX is not needed. */
  readonly first: boolean;
  /** The graph input of this layer's weight `short` ('kernel', 'gamma', …); the walker adds it to the graph inputs on first use. */
  param(short: string): TrainParam;
  /** Index in model.weights of weight `short` without reading it (the BN moving statistics in 'train' mode). */
  weightIndex(short: string): number;
  /** Marks `name` as the gradient of model weight `index` (a graph output). */
  grad(index: number, name: string): void;
  /** Marks the batch mean and variance [channels] of a BatchNormalization as graph outputs, for the JS moving averages. */
  batchStats(meanParam: number, varianceParam: number, momentum: number, mean: string, variance: string): void;
  /** Declares the dropout mask input (one per graph): JS draws it as SeededDropout does. */
  dropout(units: number, rate: number): string;
}

export interface TrainResult {
  readonly y: Act;
  /** Given dL/dy, emits the layer's weight gradients (ctx.grad) and returns dL/dx (null when `first`: not needed). null: the layer is the identity here (nothing to go back through). */
  readonly backward: Backward | null;
  /** y is the model's class probabilities (a softmax): the walker appends the loss, and `backward` receives dL/dlogits. */
  readonly probabilities?: boolean;
}

/**
 * Builds a tfjs layer of the kind from its constructor arguments: a custom class's constructor
 * (`(a) => new SameConv2D(a)`) or a tfjs-layers factory (`tfl.layers.conv2d`). The argument type
 * differs per class, hence `never` here: a caller that knows the class passes its arguments `as never`.
 */
export type TfjsLayerFactory = (args: never) => tfl.layers.Layer;

/**
 * `spec` met a layer it cannot describe (a custom class name on an object that is not that class).
 * The walkers re-throw it as their engine's error (OnnxExportError, OnnxTrainUnsupportedError), so
 * the export fails with the layer named and training falls back to tfjs, as for any refused layer.
 */
export class LayerSpecError extends WorkbenchError {}

/**
 * `S` is the kind's normalised configuration: what `spec(layer)` reads from the tfjs layer once
 * (defaults applied, scalars widened to pairs), so that inferOnnx and trainOnnx do not each re-parse
 * getConfig(). Each engine still refuses, with its own error, what it cannot express.
 */
export interface LayerKind<S = unknown> {
  /** tfjs class names this kind handles (getClassName()). */
  readonly classNames: readonly string[];
  /**
   * The tfjs layer of each class name: custom classes are registered for serialization (saved models
   * load by these names). A class name tfjs-layers has no layer for (Keras' SpatialDropout2D, which a
   * converted model registers itself) has no entry.
   */
  readonly tfjs: Readonly<Record<string, TfjsLayerFactory>>;
  /** The normalised configuration of `layer` (one of `classNames`); throws LayerSpecError on an object that is not what its class name says. */
  spec(layer: tfl.layers.Layer): S;
  /** Emits the layer for inference onto `x` (shape `shape`); throws OnnxExportError on a configuration it cannot express. */
  inferOnnx(ctx: InferContext, x: string, shape: Shape, spec: S): InferResult;
  /**
   * Emits the layer's training forward onto `x` (NHWC [b, h, w, c] or [b, f]) and its backward;
   * throws OnnxTrainUnsupportedError (onnx/train-ops.ts) on a configuration it cannot express
   * (trainModel then trains with tfjs).
   */
  trainOnnx(ctx: TrainContext, x: Act, spec: S): TrainResult;
  /**
   * As the first layer, it takes the input with zero channels appended (TrainGraphOptions.padChannelsTo:
   * its kernel gets zero rows, its gradient is sliced back). The walker pads the input only for such a
   * first layer. @default false
   */
  readonly padsInputChannels?: boolean;
  /** Its output is a feature map worth explaining: Grad-CAM and the layer list of `explain` (maps/layer-chain.ts) offer it. @default false */
  readonly spatial?: boolean;
  /** Acts on each cell on its own (BatchNorm, ReLU, Activation): CAM (maps/grad-cam.ts) lets it stand between the last spatial layer and the pooling. @default false */
  readonly pointwise?: boolean;
  /** The identity at inference (the input layer, dropouts): the exporter looks through it (usedExtent). @default false */
  readonly identity?: boolean;
  /** Pools a feature map into flat features (GlobalAveragePooling2D): CAM's pooling. @default false */
  readonly globalPool?: boolean;
  /**
   * The layer's output before its fused activation (Dense: x·W + b), in tfjs: the class scores
   * Grad-CAM differentiates when this is the model's last layer (pre-softmax logits). Absent: the
   * kind has no fused activation to skip.
   */
  logits?(layer: tfl.layers.Layer, x: tf.Tensor): tf.Tensor;
}

/** `kind.spec(layer)`, a LayerSpecError re-thrown through `engineError` (the walker's own error, message unchanged). */
export function specOf<S>(kind: LayerKind<S>, layer: tfl.layers.Layer, engineError: (message: string) => Error): S {
  try {
    return kind.spec(layer);
  } catch (e) {
    if (e instanceof LayerSpecError) throw engineError(e.message);
    throw e;
  }
}
