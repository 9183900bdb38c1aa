import { join } from 'node:path';
import type { ModelKind } from './architectures.ts';
import { trainModel, type TrainingData, type TrainOptions } from './train.ts';
import { saveModel, type SeedMember } from './run-store.ts';
import { report, subJob, throwIfCancelled, type JobContext } from '../jobs/job.ts';
import { InvalidOptionError } from '../errors.ts';

/**
 * `train --seeds N`: N − 1 further final models of each network, trained on all sites exactly as
 * the final model (same options, same tuned settings) with other seeds, saved as
 * models/<kind>/seed-<s>/. `predict --seeds N` averages the final model and these (p_<model>)
 * and writes their spread (sd_<model>): the uncertainty due to initialisation, dropout and
 * shuffling alone, where the fold ensemble also varies the training sites.
 */

/** Seed of member s (1 … N − 1): the run seed plus a large odd stride, so members never reuse the CV fold seeds' neighbourhood. */
export function seedMemberSeed(seed: number, s: number): number {
  return seed + 104_729 * s;
}

export function seedMemberName(kind: string, s: number): string {
  return `${kind}/seed-${s}`;
}

export function checkSeeds(v: number | undefined): number {
  const n = v ?? 1;
  if (!(Number.isInteger(n) && n >= 1)) throw new InvalidOptionError(`geoanomaly train: --seeds must be an integer ≥ 1, got ${v}`);
  return n;
}

/** Trains and saves the seed members of one network; returns their manifest records. */
export async function trainSeedMembers(
  kind: ModelKind,
  data: TrainingData,
  train: TrainOptions,
  opts: { readonly seed: number; readonly seeds: number; readonly runDir: string },
  ctx?: JobContext,
): Promise<SeedMember[]> {
  const all = Array.from({ length: data.n }, (_, i) => i);
  const out: SeedMember[] = [];
  for (let s = 1; s < opts.seeds; s++) {
    throwIfCancelled(ctx, `seed members of ${kind}`);
    const seed = seedMemberSeed(opts.seed, s);
    const trained = await trainModel(kind, data, all, { ...train, seed }, subJob(ctx, (s - 1) / (opts.seeds - 1), s / (opts.seeds - 1), `${kind} seed ${s + 1}/${opts.seeds}`));
    try {
      const name = seedMemberName(kind, s);
      await saveModel(trained.model, opts.runDir, name);
      out.push({ name, path: join('models', name, 'model.json'), seed });
    } finally {
      trained.model.dispose();
    }
    report(ctx, s / (opts.seeds - 1), `${kind}: seed member ${s + 1}/${opts.seeds} saved`);
  }
  return out;
}
