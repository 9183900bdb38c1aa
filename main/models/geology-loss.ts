import * as tf from '@tensorflow/tfjs-core';
import { InvalidOptionError } from '../errors.ts';

/**
 * The loss of the GK models (the paper's eqs. 6–9):
 *
 *   L_total   = L_CE + λ · L_geology
 *   P_geology = sigmoid(Σᵢ aᵢ·wᵢ + b)                 (aᵢ, b trainable; wᵢ the knowledge rasters)
 *   L_geology = ‖P_model − P_geology‖²                 (mean over the batch)
 *
 * computed PER SAMPLE: sample j's deposit probability is compared with the geology probability
 * of sample j only, where w is read at sample j's own centre cell. The reference code compares a
 * [B] vector with a [B, 1] one, which broadcasts to a B×B matrix and so pulls every prediction
 * towards the average geology of the whole batch; `brokenBroadcastGeologyLoss` reproduces that
 * bug so the tests can show the two differ.
 *
 * P_model is the deposit column of the softmax (column 1); with two classes the squared
 * distance between the two-class vectors [1−p, p] and [1−g, g] is exactly 2(p − g)², so using
 * the deposit column alone is the same objective with λ halved. We use (p − g)², the form of
 * the reference code's MSE, so λ means the same thing in both.
 */

export interface GeologyTermVariables {
  /** aᵢ, one per knowledge raster, shape [nKnowledge]. */
  readonly a: tf.Variable;
  /** b, shape []. */
  readonly b: tf.Variable;
}

/**
 * Creates aᵢ and b. Initial values follow the reference code (a = 0.1, b = 0): the geology
 * probability starts near 0.5 and the data decide how strongly w matters.
 */
export function createGeologyVariables(nKnowledge: number, initialA = 0.1, initialB = 0): GeologyTermVariables {
  if (!Number.isInteger(nKnowledge) || nKnowledge < 1) {
    throw new InvalidOptionError(`a geology term needs at least one knowledge raster, got ${nKnowledge}`);
  }
  // tf.variable keeps the initial tensor's data alive under a new handle: dispose the initial
  // tensor itself, or it is counted as leaked.
  const aInit = tf.fill([nKnowledge], initialA);
  const bInit = tf.scalar(initialB);
  const vars = { a: tf.variable(aInit, true, undefined, 'float32'), b: tf.variable(bInit, true, undefined, 'float32') };
  tf.dispose([aInit, bInit]);
  return vars;
}

/** P_geology = sigmoid(w·a + b) for w [B, nKnowledge] → [B]. */
export function geologyProbability(w: tf.Tensor2D, vars: GeologyTermVariables): tf.Tensor1D {
  return tf.tidy(() => {
    if (w.shape[1] !== vars.a.shape[0]) {
      throw new InvalidOptionError(`knowledge values have ${w.shape[1]} columns but the geology term has ${vars.a.shape[0]} coefficients`);
    }
    const z = tf.add(tf.squeeze(tf.matMul(w, tf.reshape(vars.a, [-1, 1])), [1]), vars.b);
    return tf.sigmoid(z) as tf.Tensor1D;
  });
}

/** Per-sample L_geology = mean_j (p_j − g_j)² with p [B] the deposit probabilities. */
export function geologyLoss(depositProbability: tf.Tensor1D, w: tf.Tensor2D, vars: GeologyTermVariables): tf.Scalar {
  return tf.tidy(() => {
    if (depositProbability.shape[0] !== w.shape[0]) {
      throw new InvalidOptionError(`${depositProbability.shape[0]} predictions but ${w.shape[0]} knowledge rows`);
    }
    const g = geologyProbability(w, vars);
    return tf.mean(tf.square(tf.sub(depositProbability, g))) as tf.Scalar;
  });
}

/**
 * The reference code's accidental form, kept ONLY for the test that shows the difference:
 * p [B] minus g [B, 1] broadcasts to [B, B] and averages every (p_j − g_i)² pair.
 */
export function brokenBroadcastGeologyLoss(depositProbability: tf.Tensor1D, w: tf.Tensor2D, vars: GeologyTermVariables): tf.Scalar {
  return tf.tidy(() => {
    const g = tf.reshape(geologyProbability(w, vars), [-1, 1]);
    return tf.mean(tf.square(tf.sub(depositProbability, g))) as tf.Scalar;
  });
}

/**
 * Categorical cross-entropy on softmax probabilities [B, 2] with integer labels [B], mean over
 * the batch. Probabilities are clipped to [1e-7, 1 − 1e-7] as Keras does, so a confident wrong
 * prediction gives a large finite loss instead of Infinity.
 */
export function crossEntropy(probabilities: tf.Tensor2D, labels: tf.Tensor1D): tf.Scalar {
  return tf.tidy(() => {
    const oneHot = tf.oneHot(tf.cast(labels, 'int32'), 2);
    const p = tf.clipByValue(probabilities, 1e-7, 1 - 1e-7);
    return tf.neg(tf.mean(tf.sum(tf.mul(oneHot, tf.log(p)), 1))) as tf.Scalar;
  });
}

/** L_total = L_CE + λ·L_geology (eq. 6); without knowledge (vars undefined) just L_CE. */
export function totalLoss(
  probabilities: tf.Tensor2D,
  labels: tf.Tensor1D,
  lambda: number,
  knowledge?: { readonly w: tf.Tensor2D; readonly vars: GeologyTermVariables },
): tf.Scalar {
  return tf.tidy(() => {
    const ce = crossEntropy(probabilities, labels);
    if (!knowledge || lambda === 0) return ce;
    const p = tf.squeeze(tf.slice(probabilities, [0, 1], [-1, 1]), [1]) as tf.Tensor1D;
    return tf.add(ce, tf.mul(lambda, geologyLoss(p, knowledge.w, knowledge.vars))) as tf.Scalar;
  });
}
