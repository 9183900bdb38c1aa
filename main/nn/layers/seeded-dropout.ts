/**
 * The tfjs side of the identity kind's one custom class (identity.ts): SeededDropout. Moved from
 * models/architectures.ts (issue 17 §2) unchanged; its serialization name stays
 * 'GeoAnomalySeededDropout', so saved models load as before.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

interface SeededDropoutArgs extends tf.serialization.ConfigDict {
  rate: number;
  seed: number;
}

/**
 * Dropout whose masks are reproducible. tfjs-layers' Dropout either draws from Math.random
 * (no seed) or, given a seed, draws the SAME mask at every step — neither trains reproducibly.
 * This layer seeds each training call with seed + callIndex, so a run repeats bit for bit.
 */
export class SeededDropout extends tfl.layers.Layer {
  static className = 'GeoAnomalySeededDropout';
  readonly rate: number;
  readonly seed: number;
  private calls = 0;

  constructor(args: { rate: number; seed: number; name?: string }) {
    super({ name: args.name });
    this.rate = args.rate;
    this.seed = args.seed;
    this.supportsMasking = true;
  }

  override computeOutputShape(inputShape: tfl.Shape | tfl.Shape[]): tfl.Shape | tfl.Shape[] {
    return inputShape;
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: { training?: boolean }): tf.Tensor {
    const x = Array.isArray(inputs) ? inputs[0] : inputs;
    if (!kwargs.training || this.rate === 0) return tf.clone(x);
    const callSeed = (this.seed + this.calls++) >>> 0;
    return tf.tidy(() => {
      const keep = tf.cast(tf.greaterEqual(tf.randomUniform(x.shape, 0, 1, 'float32', callSeed), this.rate), 'float32');
      return tf.mul(x, tf.mul(keep, 1 / (1 - this.rate)));
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    const cfg: SeededDropoutArgs = { rate: this.rate, seed: this.seed };
    return { ...super.getConfig(), ...cfg };
  }
}
tf.serialization.registerClass(SeededDropout);
