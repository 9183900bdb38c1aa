import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { InvalidFileError, InvalidOptionError } from '../errors.ts';
import { writeFileAtomic, writeJsonAtomic } from '../util/atomic-write.ts';
import { sha256File } from '../util/file-hash.ts';
import type { SavedBaseline } from './baselines/baseline-models.ts';
import { packageRootUrl } from '../util/package-root.ts';
import type { EpochRecord } from './train.ts';
import type { TrustWarning } from '../eval/trust-checks.ts';
// Registers the custom layers so that saved models deserialize (registerClass side effects).
import './architectures.ts';

/**
 * A run directory (RUN_DIR) holds everything needed to reproduce and reuse one training run:
 *
 *   RUN_DIR/manifest.json               inputs' SHA-256, options, seed, backend, versions, band names
 *   RUN_DIR/metrics.json                cross-validation metrics per model
 *   RUN_DIR/models/<kind>/model.json    final model of each kind (trained on all sites), tfjs
 *   RUN_DIR/models/<kind>/weights.bin   "layers-model" format, loadable by tf.loadLayersModel
 *   RUN_DIR/models/<baseline>/baseline.json   a baseline (index, pc, logreg, rf), plain JSON
 *
 * Models are written through a small file IOHandler: tfjs' own `file://` handler lives in
 * tfjs-node, which is an optional native dependency we cannot assume. The files are the
 * standard tfjs format, so a browser or tfjs-node can load them as well.
 */

export const MANIFEST_FILE = 'manifest.json';
export const METRICS_FILE = 'metrics.json';

/** IOHandler writing/reading `model.json` + `weights.bin` in a directory (atomic writes). */
export function fileModelHandler(dir: string): tf.io.IOHandler {
  const modelPath = join(dir, 'model.json');
  const weightsPath = join(dir, 'weights.bin');
  return {
    async save(artifacts: tf.io.ModelArtifacts): Promise<tf.io.SaveResult> {
      if (artifacts.modelTopology instanceof ArrayBuffer) {
        throw new InvalidFileError(modelPath, 'binary model topologies are not supported', 'Save a LayersModel.');
      }
      const weightData = artifacts.weightData ? tf.io.CompositeArrayBuffer.join(artifacts.weightData) : new ArrayBuffer(0);
      const manifest: tf.io.WeightsManifestConfig = [{ paths: ['weights.bin'], weights: artifacts.weightSpecs ?? [] }];
      const json: tf.io.ModelJSON = {
        modelTopology: artifacts.modelTopology ?? {},
        format: artifacts.format ?? 'layers-model',
        generatedBy: artifacts.generatedBy,
        convertedBy: artifacts.convertedBy ?? null,
        weightsManifest: manifest,
        ...(artifacts.trainingConfig ? { trainingConfig: artifacts.trainingConfig } : {}),
        ...(artifacts.userDefinedMetadata ? { userDefinedMetadata: artifacts.userDefinedMetadata } : {}),
      };
      writeFileAtomic(weightsPath, new Uint8Array(weightData));
      writeJsonAtomic(modelPath, json);
      return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) };
    },
    async load(): Promise<tf.io.ModelArtifacts> {
      if (!existsSync(modelPath)) {
        throw new InvalidFileError(modelPath, 'no saved model here', 'Give a RUN_DIR written by "geoanomaly train".');
      }
      let json: tf.io.ModelJSON;
      try {
        json = JSON.parse(readFileSync(modelPath, 'utf8')) as tf.io.ModelJSON;
      } catch (e) {
        throw new InvalidFileError(modelPath, `not valid JSON (${(e as Error).message})`, 'Re-run training to rewrite the model.');
      }
      return tf.io.getModelArtifactsForJSON(json, async (manifest) => {
        const specs = manifest.flatMap((g) => g.weights);
        const bytes = readFileSync(join(dir, manifest[0]?.paths[0] ?? 'weights.bin'));
        const expected = specs.reduce((s, w) => s + w.shape.reduce((a, b) => a * b, 1) * 4, 0);
        if (bytes.byteLength !== expected) {
          throw new InvalidFileError(
            weightsPath,
            `holds ${bytes.byteLength} bytes but model.json describes ${expected} bytes of float32 weights`,
            'The run directory is incomplete or corrupted; re-run training.',
          );
        }
        return [specs, bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength)];
      });
    },
  };
}

export function modelDir(runDir: string, kind: string): string {
  return join(runDir, 'models', kind);
}

export async function saveModel(model: tfl.LayersModel, runDir: string, kind: string): Promise<string> {
  const dir = modelDir(runDir, kind);
  await model.save(fileModelHandler(dir));
  return dir;
}

export async function loadModel(runDir: string, kind: string): Promise<tfl.LayersModel> {
  return tfl.loadLayersModel(fileModelHandler(modelDir(runDir, kind)));
}

export const BASELINE_FILE = 'baseline.json';

/** Saves a baseline model (models/baselines/baseline-models.ts) as RUN_DIR/models/<kind>/baseline.json. */
export function saveBaseline(runDir: string, kind: string, saved: SavedBaseline): string {
  const path = join(modelDir(runDir, kind), BASELINE_FILE);
  writeJsonAtomic(path, saved);
  return path;
}

export function loadBaseline(runDir: string, kind: string): SavedBaseline {
  const path = join(modelDir(runDir, kind), BASELINE_FILE);
  if (!existsSync(path)) throw new InvalidFileError(path, `no saved baseline "${kind}" here`, 'Re-run "geoanomaly train --model … ' + kind + '".');
  let saved: SavedBaseline;
  try {
    saved = JSON.parse(readFileSync(path, 'utf8')) as SavedBaseline;
  } catch (e) {
    throw new InvalidFileError(path, `not valid JSON (${(e as Error).message})`, 'Re-run training to rewrite the model.');
  }
  if (saved.format !== 'geoanomaly-baseline/1') {
    throw new InvalidFileError(path, `format is "${String(saved.format)}", expected "geoanomaly-baseline/1"`, 'Re-run training with this version.');
  }
  return saved;
}

/** Whether a manifest model entry is a baseline (its file is baseline.json, not a tfjs model). */
export function isBaselineEntry(entry: RunManifest['models'][string] | undefined): boolean {
  return entry?.type === 'baseline';
}

/** Names of the run's networks (tfjs models; baselines and ensemble members excluded). */
export function networkNames(manifest: RunManifest): string[] {
  return Object.entries(manifest.models).filter(([, v]) => v.type !== 'baseline').map(([k]) => k);
}

/** One CV fold model kept for the ensemble: loadable as model `name` (= "<kind>/fold-r<R>-f<F>", a folder under models/). */
export interface EnsembleMember {
  readonly name: string;
  readonly path: string;
  readonly repeat: number;
  readonly fold: number;
}

export function foldModelName(kind: string, repeat: number, fold: number): string {
  return `${kind}/fold-r${repeat}-f${fold}`;
}

/**
 * Which models `predict` averages per model: 'folds' = the final model and the CV fold models of
 * the first repeat (each site held out exactly once; k + 1 members), 'all-folds' = the final
 * model and the fold models of every repeat, 'final' = the final model alone (sd 0).
 */
export type EnsembleMode = 'folds' | 'all-folds' | 'final' | 'seeds';
export const ENSEMBLE_MODES: readonly EnsembleMode[] = ['folds', 'all-folds', 'final', 'seeds'];

/** A further final model trained on all sites with another seed (train --seeds N): loadable as "<kind>/seed-<s>". */
export interface SeedMember {
  readonly name: string;
  readonly path: string;
  readonly seed: number;
}

/**
 * Loadable model names of the ensemble of `kind` (the final model first). 'seeds' = the final
 * model and the run's seed members (train --seeds N); `seeds` caps the count (predict --seeds N)
 * and must not exceed what the run stored for a network. A baseline has no seed members (its fit
 * is deterministic or seeded once): its 'seeds' ensemble is the final model alone.
 */
export function ensembleMembers(manifest: RunManifest, kind: string, mode: EnsembleMode, seeds?: number): string[] {
  const members = manifest.models[kind]?.members ?? [];
  if (mode === 'final') return [kind];
  if (mode === 'seeds') {
    const list = [kind, ...(manifest.models[kind]?.seeds ?? []).map((m) => m.name)];
    if (seeds === undefined) return list;
    if (list.length < seeds && manifest.models[kind]?.type !== 'baseline') {
      throw new InvalidOptionError(`predict --seeds ${seeds}: the run stores ${list.length} seed(s) of ${kind} (the final model${list.length > 1 ? ` + ${list.length - 1} seed member(s)` : ''}); re-train with "geoanomaly train --seeds ${seeds}" or ask for fewer`, { kind, stored: list.length, wanted: seeds });
    }
    return list.slice(0, seeds);
  }
  return [kind, ...members.filter((m) => mode === 'all-folds' || m.repeat === 0).map((m) => m.name)];
}

/** Every model name the run can load: its models and their ensemble members. */
export function loadableNames(manifest: RunManifest, type?: 'network' | 'baseline'): string[] {
  return Object.entries(manifest.models)
    .filter(([, v]) => type === undefined || (type === 'baseline') === (v.type === 'baseline'))
    .flatMap(([k, v]) => [k, ...(v.members ?? []).map((m) => m.name), ...(v.seeds ?? []).map((m) => m.name)]);
}

export interface InputRecord {
  /** What the input is: 'stack', 'sites', 'knowledge'. */
  readonly role: string;
  readonly path: string;
  readonly bytes: number;
  readonly sha256: string;
}

export { sha256File };

/** Input records of a file, or of every file in a folder (e.g. a folder of single-band GeoTIFFs). */
export async function describeInput(role: string, path: string): Promise<InputRecord[]> {
  const st = statSync(path);
  if (!st.isDirectory()) return [{ role, path: resolve(path), bytes: st.size, sha256: await sha256File(path) }];
  const out: InputRecord[] = [];
  for (const name of readdirSync(path).sort()) {
    const p = join(path, name);
    const s = statSync(p);
    if (s.isFile()) out.push({ role, path: resolve(p), bytes: s.size, sha256: await sha256File(p) });
  }
  return out;
}

/** Versions of the packages that determine the numbers. */
export function packageVersions(): Record<string, string> {
  const root = packageRootUrl();
  const read = (rel: string): string => {
    try {
      return (JSON.parse(readFileSync(new URL(rel, root), 'utf8')) as { version: string }).version;
    } catch {
      return 'unknown';
    }
  };
  return {
    'geoanomaly-workbench': read('package.json'),
    '@tensorflow/tfjs-core': read('node_modules/@tensorflow/tfjs-core/package.json'),
    '@tensorflow/tfjs-layers': read('node_modules/@tensorflow/tfjs-layers/package.json'),
    '@tensorflow/tfjs-backend-wasm': read('node_modules/@tensorflow/tfjs-backend-wasm/package.json'),
    '@tensorflow/tfjs-backend-cpu': read('node_modules/@tensorflow/tfjs-backend-cpu/package.json'),
    node: process.versions.node,
  };
}

export interface RunManifest {
  readonly format: 'geoanomaly-run/1';
  readonly createdAt: string;
  readonly command?: string;
  readonly inputs: InputRecord[];
  readonly seed: number;
  readonly options: Record<string, unknown>;
  readonly backend: { readonly name: string; readonly detail: string };
  /** What computed the training steps (geoanomaly train --engine); absent in runs written before it existed. */
  readonly engine?: { readonly requested: string; readonly name: 'tfjs' | 'onnx'; readonly detail: string };
  readonly packages: Record<string, string>;
  /** Stack band names in the order the models expect them; prediction matches bands by name. */
  readonly bandNames: string[];
  /** Patch size and the band transform with its whole-grid statistics (needed to predict). */
  readonly patch: Record<string, unknown>;
  /** Final models (trained on all sites), relative paths, with their geology coefficients. */
  readonly models: Record<
    string,
    {
      readonly path: string;
      readonly geology?: { a: number[]; b: number };
      /** gk-*: λ·L_geology / (L_CE + λ·L_geology) at the kept epoch (train.ts EpochRecord.geologyShare). */
      readonly geologyShare?: number;
      /** The final model's learning curve: train/validation loss, learning rate, geology share, a and b per epoch. */
      readonly history?: EpochRecord[];
      readonly stoppedEarly?: boolean;
      readonly epochs: number;
      readonly engine?: 'tfjs' | 'onnx';
      /** 'baseline': models/<kind>/baseline.json; absent or 'network': a tfjs model. */
      readonly type?: 'network' | 'baseline';
      /**
       * Ensemble members of this model (paths relative to RUN_DIR, tfjs or baseline files of the
       * same type): the CV fold models, which `predict` averages with the final model.
       */
      readonly members?: EnsembleMember[];
      /** Further final models with other seeds (train --seeds N), averaged by predict --seeds N. */
      readonly seeds?: SeedMember[];
      /** Nested tuning (train --tune): the settings chosen for the final model and for every outer fold, with the inner CV's AUC per candidate. */
      readonly tuning?: { readonly final: Record<string, number>; readonly folds: { readonly repeat: number; readonly fold: number; readonly chosen: Record<string, number>; readonly candidates: { settings: Record<string, number>; innerAuc: number }[] }[] };
    }
  >;
  readonly metrics?: unknown;
  /** Trust warnings of the run (main/eval/trust-checks.ts), each with its fix; [] or absent when none. */
  readonly warnings?: TrustWarning[];
}

export function writeManifest(runDir: string, manifest: RunManifest): void {
  const rel = { ...manifest, models: Object.fromEntries(Object.entries(manifest.models).map(([k, v]) => [k, { ...v, path: relative(runDir, resolve(runDir, v.path)) || '.' }])) };
  writeJsonAtomic(join(runDir, MANIFEST_FILE), rel);
}

export function readManifest(runDir: string): RunManifest {
  const p = join(runDir, MANIFEST_FILE);
  if (!existsSync(p)) throw new InvalidFileError(p, 'no run manifest here', 'Give a RUN_DIR written by "geoanomaly train".');
  const m = JSON.parse(readFileSync(p, 'utf8')) as RunManifest;
  if (m.format !== 'geoanomaly-run/1') {
    throw new InvalidFileError(p, `format is "${String(m.format)}", expected "geoanomaly-run/1"`, 'Re-run training with this version.');
  }
  return m;
}
