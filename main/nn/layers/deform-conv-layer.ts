/**
 * DeformConv2D: modulated deformable convolution (DCNv2, Zhu et al. 2019) as a tfjs-layers layer.
 *
 * A parallel offset/mask convolution (same kernel size, stride, padding and dilation as the
 * deformable one) produces 2·G·K² offsets and G·K² mask logits per output pixel; the mask goes
 * through a sigmoid (paper eq. 3). Its weights and bias are ZERO-initialised, so a fresh layer is
 * a plain convolution with every tap weighted 0.5 and training learns the deformation from there
 * (the paper's initialisation). The sampling and its gradients are `deformConv2d`
 * (./deform-conv-op.ts), verified against torchvision.
 *
 * Follows tfjs-layers' own layers: `DeformConv2DArgs`, `static className`, shape checks in
 * `build()`, `call()` inside `tidy()`, `computeOutputShape`, `getConfig` and
 * `serialization.registerClass`, so models saved with the layer load with `loadLayersModel`.
 */
import * as tf from '@tensorflow/tfjs-core';
import { serialization } from '@tensorflow/tfjs-core';
import { initializers, layers } from '@tensorflow/tfjs-layers';
import type { LayerArgs } from '@tensorflow/tfjs-layers/dist/engine/topology';
import type { Initializer } from '@tensorflow/tfjs-layers/dist/initializers';
import type { Kwargs } from '@tensorflow/tfjs-layers/dist/types';
import type { LayerVariable } from '@tensorflow/tfjs-layers';
import { InvalidOptionError } from '../../errors.ts';
import { deformConv2d, deformConvOutSize, DeformConvShapeError } from './deform-conv-op.ts';

type Shape = (number | null)[];

/** An initializer given by tfjs-layers name ('glorotUniform', 'heNormal', 'zeros', …), instance or serialized config. */
export type InitializerSpec = string | Initializer | { className: string; config: serialization.ConfigDict };

export interface DeformConv2DArgs extends LayerArgs {
  /** Output channels. Required. */
  filters: number;
  /** Kernel size K or [KH, KW]. @default 3 */
  kernelSize?: number | [number, number];
  /** Stride. @default 1 */
  strides?: number | [number, number];
  /**
   * 'same' = symmetric zero padding dilation·(K − 1)/2 (odd kernels; output size ⌈H / stride⌉),
   * 'valid' = none, or a number of cells on each side. @default 'same'
   */
  padding?: 'same' | 'valid' | number;
  /** Dilation. Stride > 1 and dilation > 1 together are refused, as tfjs convolutions do. @default 1 */
  dilationRate?: number | [number, number];
  /** Offset groups G: channels are split into G groups that each get their own offsets. Must divide Cin. @default 1 */
  offsetGroups?: number;
  /** Add a bias per output channel. @default true */
  useBias?: boolean;
  /** Learn a modulation mask (DCNv2); false gives DCNv1 (offsets only). @default true */
  useMask?: boolean;
  /** Initializer of the deformable kernel [KH, KW, Cin, filters]. @default 'glorotUniform' */
  kernelInitializer?: InitializerSpec;
  /** Initializer of the bias. @default 'zeros' */
  biasInitializer?: InitializerSpec;
}

function pair(v: number | [number, number] | readonly number[], name: string, min: number): [number, number] {
  const p: [number, number] = typeof v === 'number' ? [v, v] : [v[0], v[1]];
  if (!p.every((n) => Number.isInteger(n) && n >= min)) {
    throw new InvalidOptionError(`DeformConv2D: ${name} must be an integer ≥ ${min} or a pair of them; found ${JSON.stringify(v)}.`, { [name]: v });
  }
  return p;
}

function resolveInitializer(spec: InitializerSpec, option: string): Initializer {
  if (typeof spec === 'string') {
    const factory = (initializers as unknown as Record<string, ((args?: object) => Initializer) | undefined>)[spec];
    if (typeof factory !== 'function') {
      throw new InvalidOptionError(`DeformConv2D: ${option} "${spec}" is not a tfjs-layers initializer name (e.g. glorotUniform, heNormal, zeros).`, { [option]: spec });
    }
    return factory({});
  }
  if ('className' in spec && typeof spec.className === 'string' && !(spec instanceof serialization.Serializable)) {
    // A serialized initializer from getConfig(): tfjs-layers registers every initializer class in
    // tfjs-core's SerializationMap, which is what its own (unexported) getInitializer uses.
    const entry = serialization.SerializationMap.getMap().classNameMap[spec.className];
    if (!entry) throw new InvalidOptionError(`DeformConv2D: unknown initializer class "${spec.className}" in ${option}.`, { [option]: spec });
    const [cls, fromConfig] = entry;
    return fromConfig(cls, spec.config) as Initializer;
  }
  return spec as Initializer;
}

function serializeInitializer(init: Initializer): serialization.ConfigDict {
  return { className: init.getClassName(), config: init.getConfig() };
}

export class DeformConv2D extends layers.Layer {
  static className = 'DeformConv2D';

  readonly filters: number;
  readonly kernelSize: [number, number];
  readonly strides: [number, number];
  readonly padding: 'same' | 'valid' | number;
  readonly dilationRate: [number, number];
  readonly offsetGroups: number;
  readonly useBias: boolean;
  readonly useMask: boolean;
  readonly kernelInitializer: Initializer;
  readonly biasInitializer: Initializer;
  /** Symmetric padding [ph, pw] in cells derived from `padding`. */
  readonly pad: [number, number];

  private kernel: LayerVariable | null = null;
  private bias: LayerVariable | null = null;
  private offsetKernel: LayerVariable | null = null;
  private offsetBias: LayerVariable | null = null;

  constructor(args: DeformConv2DArgs) {
    super(args);
    if (!Number.isInteger(args.filters) || args.filters < 1) {
      throw new InvalidOptionError(`DeformConv2D: filters must be a positive integer; found ${args.filters}.`, { filters: args.filters });
    }
    this.filters = args.filters;
    this.kernelSize = pair(args.kernelSize ?? 3, 'kernelSize', 1);
    this.strides = pair(args.strides ?? 1, 'strides', 1);
    this.dilationRate = pair(args.dilationRate ?? 1, 'dilationRate', 1);
    this.padding = args.padding ?? 'same';
    this.offsetGroups = args.offsetGroups ?? 1;
    this.useBias = args.useBias ?? true;
    this.useMask = args.useMask ?? true;
    this.kernelInitializer = resolveInitializer(args.kernelInitializer ?? 'glorotUniform', 'kernelInitializer');
    this.biasInitializer = resolveInitializer(args.biasInitializer ?? 'zeros', 'biasInitializer');
    if (!Number.isInteger(this.offsetGroups) || this.offsetGroups < 1) {
      throw new InvalidOptionError(`DeformConv2D: offsetGroups must be a positive integer; found ${args.offsetGroups}.`, { offsetGroups: args.offsetGroups });
    }
    if (Math.max(...this.strides) > 1 && Math.max(...this.dilationRate) > 1) {
      throw new InvalidOptionError(
        `DeformConv2D: strides ${this.strides} and dilationRate ${this.dilationRate} are both > 1; tfjs convolutions (the offset branch) support one or the other. Use stride 1 or dilation 1.`,
        { strides: this.strides, dilationRate: this.dilationRate },
      );
    }
    const [kh, kw] = this.kernelSize;
    const [dh, dw] = this.dilationRate;
    if (this.padding === 'same') {
      if (kh % 2 === 0 || kw % 2 === 0) {
        throw new InvalidOptionError(
          `DeformConv2D: padding 'same' needs an odd kernel (symmetric padding); found kernelSize ${this.kernelSize}. Give padding as a number.`,
          { kernelSize: this.kernelSize },
        );
      }
      this.pad = [(dh * (kh - 1)) / 2, (dw * (kw - 1)) / 2];
    } else if (this.padding === 'valid') {
      this.pad = [0, 0];
    } else if (Number.isInteger(this.padding) && this.padding >= 0) {
      this.pad = [this.padding, this.padding];
    } else {
      throw new InvalidOptionError(`DeformConv2D: padding must be 'same', 'valid' or an integer ≥ 0; found ${JSON.stringify(args.padding)}.`, { padding: args.padding });
    }
  }

  /** Channels of the offset/mask branch: 2·G·K² offsets (+ G·K² mask logits with useMask). */
  get offsetChannels(): number {
    const kk = this.kernelSize[0] * this.kernelSize[1];
    return (this.useMask ? 3 : 2) * this.offsetGroups * kk;
  }

  override build(inputShape: Shape | Shape[]): void {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as Shape;
    if (shape.length !== 4) {
      throw new DeformConvShapeError(`DeformConv2D expects rank-4 input [batch, height, width, channels]; found shape [${shape.map(String).join(', ')}].`, { inputShape: shape });
    }
    const cin = shape[3];
    if (cin == null) {
      throw new DeformConvShapeError('DeformConv2D expects a known channel count (last axis); found null. Give the input shape.', { inputShape: shape });
    }
    if (cin % this.offsetGroups !== 0) {
      throw new DeformConvShapeError(`DeformConv2D: offsetGroups ${this.offsetGroups} must divide the input channels; found ${cin} channels.`, { cin, offsetGroups: this.offsetGroups });
    }
    const [kh, kw] = this.kernelSize;
    this.kernel = this.addWeight('kernel', [kh, kw, cin, this.filters], 'float32', this.kernelInitializer);
    if (this.useBias) this.bias = this.addWeight('bias', [this.filters], 'float32', this.biasInitializer);
    // Zero init: offsets start at 0 and the mask at sigmoid(0) = 0.5 (DCNv2 paper, sec. 3).
    this.offsetKernel = this.addWeight('offset_kernel', [kh, kw, cin, this.offsetChannels], 'float32', initializers.zeros());
    this.offsetBias = this.addWeight('offset_bias', [this.offsetChannels], 'float32', initializers.zeros());
    this.inputSpec = [{ ndim: 4, axes: { [-1]: cin } }];
    this.built = true;
  }

  /** Offsets [B, Ho, Wo, 2·G·K²] (torchvision order) and mask [B, Ho, Wo, G·K²] (null without useMask). */
  private offsetsAndMask(x: tf.Tensor4D): { offset: tf.Tensor4D; mask: tf.Tensor4D | null } {
    if (!this.offsetKernel || !this.offsetBias) throw new Error('DeformConv2D used before build().');
    const [ph, pw] = this.pad;
    let raw: tf.Tensor4D;
    if (this.dilationRate[0] === 1 && this.dilationRate[1] === 1) {
      const pad: [[number, number], [number, number], [number, number], [number, number]] = [[0, 0], [ph, ph], [pw, pw], [0, 0]];
      raw = tf.add(tf.conv2d(x, this.offsetKernel.read() as tf.Tensor4D, this.strides, pad, 'NHWC'), this.offsetBias.read());
    } else {
      // tfjs has no conv2d gradient for dilation > 1; a deformable convolution with zero offsets
      // is exactly the dilated convolution and has all gradients.
      const [b, h, w] = x.shape;
      const [kh, kw] = this.kernelSize;
      const ho = deformConvOutSize(h, kh, this.strides[0], ph, this.dilationRate[0]);
      const wo = deformConvOutSize(w, kw, this.strides[1], pw, this.dilationRate[1]);
      raw = deformConv2d(x, tf.zeros([b, ho, wo, 2 * kh * kw]), this.offsetKernel.read(), {
        bias: this.offsetBias.read(),
        stride: this.strides,
        padding: this.pad,
        dilation: this.dilationRate,
      });
    }
    const nOff = 2 * this.offsetGroups * this.kernelSize[0] * this.kernelSize[1];
    if (!this.useMask) return { offset: raw, mask: null };
    const offset = tf.slice(raw, [0, 0, 0, 0], [-1, -1, -1, nOff]);
    const mask = tf.sigmoid(tf.slice(raw, [0, 0, 0, nOff], [-1, -1, -1, -1]));
    return { offset, mask };
  }

  override call(inputs: tf.Tensor | tf.Tensor[], _kwargs: Kwargs): tf.Tensor {
    return tf.tidy(() => {
      if (!this.kernel) throw new Error('DeformConv2D used before build().');
      const x = (Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor4D;
      const { offset, mask } = this.offsetsAndMask(x);
      return deformConv2d(x, offset, this.kernel.read(), {
        bias: this.bias ? this.bias.read() : undefined,
        mask: mask ?? undefined,
        stride: this.strides,
        padding: this.pad,
        dilation: this.dilationRate,
      });
    });
  }

  /**
   * The learned sampling of this layer for input `x` (for the interpretability maps): offsets
   * [B, Ho, Wo, 2·G·K²] in input cells, channel 2(g·K² + k) = Δy (rows), +1 = Δx (columns), and
   * mask [B, Ho, Wo, G·K²] in (0, 1) (all ones without useMask). The caller disposes both.
   */
  computeOffsetsAndMask(x: tf.Tensor4D): { offset: tf.Tensor4D; mask: tf.Tensor4D } {
    if (!this.built) this.build(x.shape);
    return tf.tidy(() => {
      const { offset, mask } = this.offsetsAndMask(x);
      const [b, ho, wo] = offset.shape;
      return { offset, mask: mask ?? tf.ones([b, ho, wo, this.offsetGroups * this.kernelSize[0] * this.kernelSize[1]]) };
    });
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as Shape;
    const [kh, kw] = this.kernelSize;
    const out = (n: number | null, k: number, s: number, p: number, d: number): number | null => (n == null ? null : deformConvOutSize(n, k, s, p, d));
    return [
      shape[0],
      out(shape[1], kh, this.strides[0], this.pad[0], this.dilationRate[0]),
      out(shape[2], kw, this.strides[1], this.pad[1], this.dilationRate[1]),
      this.filters,
    ];
  }

  override getConfig(): serialization.ConfigDict {
    const config: serialization.ConfigDict = {
      filters: this.filters,
      kernelSize: this.kernelSize,
      strides: this.strides,
      padding: this.padding,
      dilationRate: this.dilationRate,
      offsetGroups: this.offsetGroups,
      useBias: this.useBias,
      useMask: this.useMask,
      kernelInitializer: serializeInitializer(this.kernelInitializer),
      biasInitializer: serializeInitializer(this.biasInitializer),
    };
    return { ...super.getConfig(), ...config };
  }
}

serialization.registerClass(DeformConv2D);
