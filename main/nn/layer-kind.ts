/**
 * One layer kind of the patch classifiers, as the engines see it (issue 17 §2): its ONNX
 * inference export (`inferOnnx`, walked by onnx-infer-chain.ts) and its ONNX training step,
 * forward + hand-derived backward (`trainOnnx`, walked by buildTrainGraph in
 * models/onnx-train/train-graph.ts). The tfjs layer itself still lives in models/ (architectures.ts,
 * deform-conv-layer.ts) — see docs/nn.md.
 */
import type * as tfl from '@tensorflow/tfjs-layers';
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

export interface LayerKind {
  /** tfjs class names this kind handles (getClassName()). */
  readonly classNames: readonly string[];
  /** Emits the layer for inference onto `x` (shape `shape`); throws OnnxExportError on a configuration it cannot express. */
  inferOnnx(ctx: InferContext, x: string, shape: Shape): InferResult;
  /**
   * Emits the layer's training forward onto `x` (NHWC [b, h, w, c] or [b, f]) and its backward;
   * throws OnnxTrainUnsupportedError (onnx/train-ops.ts) on a configuration it cannot express
   * (trainModel then trains with tfjs).
   */
  trainOnnx(ctx: TrainContext, x: Act): TrainResult;
  /**
   * As the first layer, it takes the input with zero channels appended (TrainGraphOptions.padChannelsTo:
   * its kernel gets zero rows, its gradient is sliced back). The walker pads the input only for such a
   * first layer. @default false
   */
  readonly padsInputChannels?: boolean;
}
