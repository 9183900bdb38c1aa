import { InvalidOptionError } from '../errors.ts';
import { Rng } from '../util/rng.ts';
import type { TrainingData } from './train.ts';

/**
 * Leak-free training-set augmentation. Every augmented copy is made from, and only from, a
 * sample that is already in the FIT set of one training call, and carries that sample's site
 * (group) id: copies never reach a test fold or the early-stopping validation sites, because
 * trainModel augments after both splits and scores validation on the untouched originals.
 *
 *  - 'dihedral': each epoch, every fit patch is replaced by one of the 8 symmetries of the square
 *    (rotations by 0/90/180/270° and their mirror images), drawn per sample; the centre cell and
 *    so the knowledge value w stay the same.
 *  - 'noise': each epoch, N(0, noiseSd²) is added to every value (standardised units after the
 *    default log10-standardize transform, so 0.1 = a tenth of a band's whole-grid sd).
 *  - 'shift': the paper's sliding-window augmentation. Extra windows centred on cells around each
 *    site's 3×3 block (main/sites/patches.ts `shiftRadius`) are appended to the fit set when their
 *    parent sample is in it; they have their own w (their own centre cell).
 */
export type Augmentation = 'dihedral' | 'noise' | 'shift';
export const AUGMENTATIONS: readonly Augmentation[] = ['dihedral', 'noise', 'shift'];

/** Parses `none` or a comma list of augmentations. */
export function parseAugmentations(spec: string): Augmentation[] {
  const parts = spec.split(',').map((s) => s.trim().toLowerCase()).filter((s) => s !== '');
  if (parts.length === 0 || (parts.length === 1 && parts[0] === 'none')) return [];
  for (const p of parts) {
    if (!(AUGMENTATIONS as readonly string[]).includes(p)) {
      throw new InvalidOptionError(`augmentation "${p}" is not one of none, ${AUGMENTATIONS.join(', ')} (e.g. --augment dihedral,noise)`);
    }
  }
  return [...new Set(parts)] as Augmentation[];
}

/**
 * Source coordinates of output cell (py, px) under dihedral transform t ∈ 0..7 of a k×k window:
 * bit 2 transposes, bit 0 flips rows, bit 1 flips columns (the 8 elements of D4).
 */
export function dihedralSource(t: number, py: number, px: number, k: number): [number, number] {
  let a = py;
  let b = px;
  if (t & 4) [a, b] = [b, a];
  if (t & 1) a = k - 1 - a;
  if (t & 2) b = k - 1 - b;
  return [a, b];
}

/** Writes dihedral transform t of patch `src` (k×k×C, NHWC) into `dst`. */
export function dihedralPatch(src: Float32Array, dst: Float32Array, k: number, channels: number, t: number): void {
  for (let py = 0; py < k; py++) {
    for (let px = 0; px < k; px++) {
      const [a, b] = dihedralSource(t, py, px, k);
      const s = (a * k + b) * channels;
      const d = (py * k + px) * channels;
      for (let c = 0; c < channels; c++) dst[d + c] = src[s + c];
    }
  }
}

export interface AugmentedSet {
  /** Training data whose first data.n samples are the originals, followed by the selected shift windows; x is rewritten by `redraw`. */
  readonly data: TrainingData;
  /** Indices into `data` to fit on: the original fit samples and their shift windows. */
  readonly fit: number[];
  /** Original sample each index of `data` was made from (itself for originals). */
  readonly parent: Int32Array;
  /** Redraws the per-epoch transforms (dihedral, noise) of every fit sample in place. */
  redraw(): void;
}

/**
 * The augmented fit set of one training call, or null without augmentation (the training then
 * runs on `data` itself, bit-identical to a run without this option).
 */
export function augmentFitSet(data: TrainingData, fit: readonly number[], augment: readonly Augmentation[], noiseSd: number, seed: number): AugmentedSet | null {
  if (augment.length === 0) return null;
  if (!(noiseSd >= 0 && Number.isFinite(noiseSd))) throw new InvalidOptionError(`noise sd must be ≥ 0, got ${noiseSd}`);
  const per = data.patchSize * data.patchSize * data.channels;
  const inFit = new Uint8Array(data.n);
  for (const i of fit) inFit[i] = 1;
  const extras: number[] = [];
  const ex = data.shiftWindows;
  if (augment.includes('shift')) {
    if (!ex) throw new InvalidOptionError('augmentation "shift" needs shift windows from the patch extraction (extractPatches shiftRadius ≥ 1)');
    for (let j = 0; j < ex.parent.length; j++) if (inFit[ex.parent[j]]) extras.push(j);
  }
  const n = data.n + extras.length;
  const source = new Float32Array(n * per);
  source.set(data.x.subarray(0, data.n * per));
  extras.forEach((j, e) => source.set(ex!.x.subarray(j * per, (j + 1) * per), (data.n + e) * per));
  const parent = new Int32Array(n);
  for (let i = 0; i < data.n; i++) parent[i] = i;
  extras.forEach((j, e) => (parent[data.n + e] = ex!.parent[j]));
  const labels = Float32Array.from(parent, (p) => data.labels[p]);
  const siteIds = Array.from(parent, (p) => data.siteIds[p]);
  let knowledge = data.knowledge;
  if (knowledge && extras.length > 0) {
    const k = data.nKnowledge;
    const kw = new Float32Array(n * k);
    kw.set(knowledge.subarray(0, data.n * k));
    extras.forEach((j, e) => kw.set(ex!.knowledge!.subarray(j * k, (j + 1) * k), (data.n + e) * k));
    knowledge = kw;
  }
  const x = Float32Array.from(source);
  const out: TrainingData = { x, n, patchSize: data.patchSize, channels: data.channels, labels, siteIds, knowledge, nKnowledge: data.nKnowledge };
  const fitAll = [...fit, ...extras.map((_, e) => data.n + e)];
  const rng = new Rng(seed);
  const dihedral = augment.includes('dihedral');
  const noise = augment.includes('noise') && noiseSd > 0;
  return {
    data: out,
    fit: fitAll,
    parent,
    redraw(): void {
      if (!dihedral && !noise) return;
      for (const i of fitAll) {
        const src = source.subarray(i * per, (i + 1) * per);
        const dst = x.subarray(i * per, (i + 1) * per);
        if (dihedral) dihedralPatch(src, dst, data.patchSize, data.channels, rng.int(8));
        else dst.set(src);
        if (noise) for (let v = 0; v < per; v++) dst[v] += noiseSd * rng.normal();
      }
    },
  };
}
