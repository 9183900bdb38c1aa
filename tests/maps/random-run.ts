import { join } from 'node:path';
import { buildModel, type ArchitectureOptions, type ModelKind } from '../../main/models/architectures.ts';
import { packageVersions, saveModel, writeManifest } from '../../main/models/run-store.ts';
import type { TransformStats } from '../../main/sites/band-transform.ts';

/**
 * Writes a run folder (manifest + models) of randomly initialised models of the real
 * architecture, as "geoanomaly train" would lay it out: enough for prediction code and its
 * benchmark, which need the models' shapes and costs, not trained weights.
 */
export async function writeRandomRun(
  runDir: string,
  kinds: readonly ModelKind[],
  stats: TransformStats,
  architecture: Omit<ArchitectureOptions, 'channels'> & { readonly patchSize: number },
  seed = 1,
): Promise<void> {
  const models: Record<string, { path: string; epochs: number }> = {};
  for (const [i, kind] of kinds.entries()) {
    const model = buildModel(kind, { ...architecture, channels: stats.bandNames.length, seed: seed + i });
    models[kind] = { path: join(await saveModel(model, runDir, kind), 'model.json'), epochs: 0 };
    model.dispose();
  }
  writeManifest(runDir, {
    format: 'geoanomaly-run/1',
    createdAt: new Date(0).toISOString(),
    inputs: [],
    seed,
    options: { randomInitialised: true },
    backend: { name: 'none', detail: 'random initialisation, not trained' },
    packages: packageVersions(),
    bandNames: [...stats.bandNames],
    patch: { size: architecture.patchSize, transform: stats.transform, stats },
    models,
  });
}
