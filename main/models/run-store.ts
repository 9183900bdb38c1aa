import { createHash } from 'node:crypto';
import { createReadStream, existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { InvalidFileError } from '../errors.ts';
import { writeFileAtomic, writeJsonAtomic } from '../util/atomic-write.ts';
import { packageRootUrl } from '../util/package-root.ts';
// Registers the custom layers so that saved models deserialize (registerClass side effects).
import './architectures.ts';

/**
 * A run directory (RUN_DIR) holds everything needed to reproduce and reuse one training run:
 *
 *   RUN_DIR/manifest.json               inputs' SHA-256, options, seed, backend, versions, band names
 *   RUN_DIR/metrics.json                cross-validation metrics per model
 *   RUN_DIR/models/<kind>/model.json    final model of each kind (trained on all sites), tfjs
 *   RUN_DIR/models/<kind>/weights.bin   "layers-model" format, loadable by tf.loadLayersModel
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

export interface InputRecord {
  /** What the input is: 'stack', 'sites', 'knowledge'. */
  readonly role: string;
  readonly path: string;
  readonly bytes: number;
  readonly sha256: string;
}

/** SHA-256 of a file, streamed (stacks can be large). */
export async function sha256File(path: string): Promise<string> {
  const h = createHash('sha256');
  await new Promise<void>((res, rej) => {
    createReadStream(path)
      .on('data', (c) => h.update(c))
      .on('end', () => res())
      .on('error', rej);
  });
  return h.digest('hex');
}

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
  readonly models: Record<string, { readonly path: string; readonly geology?: { a: number[]; b: number }; readonly epochs: number; readonly engine?: 'tfjs' | 'onnx' }>;
  readonly metrics?: unknown;
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
