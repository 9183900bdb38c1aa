/**
 * One layer kind of the patch classifiers, as the engines see it (issue 17 §2). Today a kind
 * carries its ONNX inference export; the tfjs layer and the ONNX training graph still live in
 * models/ (architectures.ts, onnx-train/train-graph.ts) — see docs/nn.md for what is left.
 */
import type * as tfl from '@tensorflow/tfjs-layers';
import type { GraphBuilder } from '../onnx/graph-builder.ts';
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

export interface LayerKind {
  /** tfjs class names this kind handles (getClassName()). */
  readonly classNames: readonly string[];
  /** Emits the layer for inference onto `x` (shape `shape`); throws OnnxExportError on a configuration it cannot express. */
  inferOnnx(ctx: InferContext, x: string, shape: Shape): InferResult;
}
