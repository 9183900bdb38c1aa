import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { loadBaseline, loadModel, loadableNames, networkNames, readManifest, type RunManifest } from '../models/run-store.ts';
import { baselineScorer } from '../models/baselines/baseline-models.ts';
import type { TransformStats } from '../sites/band-transform.ts';
import { InvalidFileError, InvalidOptionError } from '../errors.ts';
import type { NamedClassifier } from './predict-map.ts';

/** A trained run, ready to predict: its models, band order, patch size and transform statistics. */
export interface LoadedRun {
  readonly runDir: string;
  readonly manifest: RunManifest;
  readonly window: number;
  readonly bandNames: string[];
  readonly stats: TransformStats;
  readonly models: Map<string, tfl.LayersModel>;
}

/** JSON has no NaN: statistics that are "not applicable" come back as null. */
function revive(values: unknown): number[] {
  return (values as (number | null)[]).map((v) => (v === null ? NaN : v));
}

/** The run's patch size and transform statistics (what predicting any of its models needs). */
export function runTransform(runDir: string, manifest: RunManifest): { window: number; stats: TransformStats } {
  const patch = manifest.patch as { size?: number; stats?: Record<string, unknown> };
  if (!patch?.size || !patch.stats) {
    throw new InvalidFileError(`${runDir}/manifest.json`, 'the manifest has no patch size / transform statistics', 'Re-run "geoanomaly train" with this version');
  }
  const s = patch.stats;
  const stats: TransformStats = {
    transform: s.transform as TransformStats['transform'],
    bandNames: s.bandNames as string[],
    floors: revive(s.floors),
    flooredCells: s.flooredCells as number[],
    means: revive(s.means),
    stds: revive(s.stds),
  };
  return { window: patch.size, stats };
}

/**
 * The networks `kinds` names in the run (all its networks for none or ['all']); a name the run
 * does not hold is an InvalidOptionError listing what it has.
 */
export function runNetworkNames(runDir: string, manifest: RunManifest, kinds?: readonly string[]): string[] {
  const available = networkNames(manifest);
  const loadable = loadableNames(manifest, 'network');
  const wanted = kinds && kinds.length > 0 && !(kinds.length === 1 && kinds[0] === 'all') ? [...kinds] : available;
  const missing = wanted.filter((k) => !loadable.includes(k));
  if (missing.length > 0) throw new InvalidOptionError(`run ${runDir} has no trained model ${missing.join(', ')} (it has ${available.join(', ')})`);
  return wanted;
}

/** Loads the run's networks (tfjs models); baselines are loaded by baselineClassifiers. */
export async function loadRun(runDir: string, kinds?: readonly string[]): Promise<LoadedRun> {
  const manifest = readManifest(runDir);
  const { window, stats } = runTransform(runDir, manifest);
  const wanted = runNetworkNames(runDir, manifest, kinds);
  const models = new Map<string, tfl.LayersModel>();
  for (const k of wanted) models.set(k, await loadModel(runDir, k));
  return { runDir, manifest, window, bandNames: manifest.bandNames, stats, models };
}

/** Deposit probability (softmax column 1) per window, batched, in inference mode. */
export function modelClassifier(name: string, model: tfl.LayersModel, window: number, channels: number): NamedClassifier {
  return {
    name,
    classify: (x, n) => {
      const p = tf.tidy(() => {
        const probs = model.predict(tf.tensor4d(x, [n, window, window, channels]), { batchSize: n }) as tf.Tensor2D;
        return tf.squeeze(tf.slice(probs, [0, 1], [-1, 1]), [1]);
      });
      const out = p.dataSync() as Float32Array;
      p.dispose();
      return out;
    },
  };
}

export function runClassifiers(run: LoadedRun): NamedClassifier[] {
  return [...run.models].map(([name, m]) => modelClassifier(name, m, run.window, run.bandNames.length));
}

/** Window classifiers of the run's baselines (models/<kind>/baseline.json): same windows, same transform as the networks. */
export function baselineClassifiers(runDir: string, names: readonly string[], window: number, channels: number): NamedClassifier[] {
  return names.map((name) => {
    const saved = loadBaseline(runDir, name);
    if (saved.patchSize !== window || saved.bandNames.length !== channels) {
      throw new InvalidFileError(`${runDir}/models/${name}/baseline.json`, `was trained on ${saved.patchSize}-cell windows of ${saved.bandNames.length} bands, the run has ${window} and ${channels}`, 'Re-run training.');
    }
    const scorer = baselineScorer(saved.model);
    return { name, classify: (x: Float32Array, n: number) => scorer.score(x, n, window, channels) };
  });
}
