import type { TrainingData } from '../../main/models/train.ts';
import { Rng } from '../../main/util/rng.ts';

/**
 * Small synthetic patch sets for the model tests (not a test file). `sites` blocks of `perSite`
 * patches each, alternating label 1/0; deposit patches carry +`signal` in channel 0 so a
 * network can learn the classes; knowledge w is 0.8 at deposits and 0.2 elsewhere plus noise.
 */
export function toyData(options: { sites?: number; perSite?: number; patchSize?: number; channels?: number; signal?: number; seed?: number } = {}): TrainingData {
  const sites = options.sites ?? 10;
  const perSite = options.perSite ?? 4;
  const k = options.patchSize ?? 5;
  const C = options.channels ?? 3;
  const signal = options.signal ?? 1.5;
  const rng = new Rng(options.seed ?? 11);
  const n = sites * perSite;
  const x = new Float32Array(n * k * k * C);
  const labels = new Int32Array(n);
  const siteIds: string[] = [];
  const knowledge = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const site = Math.floor(i / perSite);
    labels[i] = site % 2 === 0 ? 1 : 0;
    siteIds.push(`S${site}`);
    knowledge[i] = (labels[i] ? 0.8 : 0.2) + 0.1 * rng.uniform();
    for (let j = 0; j < k * k * C; j++) x[i * k * k * C + j] = rng.normal() + (labels[i] === 1 && j % C === 0 ? signal : 0);
  }
  return { x, n, patchSize: k, channels: C, labels, siteIds, knowledge, nKnowledge: 1 };
}

/** A tiny network so tests stay fast. */
export const TINY = { stemFilters: 4, stageFilters: [4, 8], denseUnits: 4 } as const;
