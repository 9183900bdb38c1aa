import { beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initBackend } from '../../main/models/backend.ts';
import { describeInput, loadModel, packageVersions, readManifest, saveModel, sha256File, writeManifest } from '../../main/models/run-store.ts';
import { predictDepositProbability, trainModel } from '../../main/models/train.ts';
import { InvalidFileError } from '../../main/errors.ts';
import { TINY, toyData } from './toy-data.ts';

beforeAll(async () => {
  await initBackend('wasm');
});

describe('run store', () => {
  it('saves and reloads trained CNN and GK-DCN models with bit-identical predictions', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'run-store-'));
    try {
      const data = toyData({ sites: 6, perSite: 3 });
      const idx = Array.from({ length: data.n }, (_, i) => i);
      for (const kind of ['cnn', 'gk-dcn'] as const) {
        const t = await trainModel(kind, data, idx, { epochs: 2, batchSize: 8, architecture: TINY, seed: 3 });
        const before = predictDepositProbability(t.model, data, idx);
        await saveModel(t.model, dir, kind);
        t.model.dispose();
        const loaded = await loadModel(dir, kind);
        const after = predictDepositProbability(loaded, data, idx);
        expect(Array.from(after)).toEqual(Array.from(before));
        // The files are plain tfjs "layers-model" JSON + binary weights.
        const json = JSON.parse(readFileSync(join(dir, 'models', kind, 'model.json'), 'utf8')) as { format: string; weightsManifest: { paths: string[] }[] };
        expect(json.format).toBe('layers-model');
        expect(json.weightsManifest[0].paths).toEqual(['weights.bin']);
        loaded.dispose();
      }
      // A truncated weights file is a named error that says what is wrong.
      truncateSync(join(dir, 'models', 'cnn', 'weights.bin'), 10);
      await expect(loadModel(dir, 'cnn')).rejects.toThrow(InvalidFileError);
      await expect(loadModel(dir, 'dcn')).rejects.toThrow(/no saved model here/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('hashes inputs with SHA-256 exactly as coreutils sha256sum does, files and folders', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'run-hash-'));
    try {
      writeFileSync(join(dir, 'a.txt'), 'abc');
      writeFileSync(join(dir, 'b.bin'), Buffer.alloc(70_000, 7));
      // Reference: the FIPS 180-2 test vector for "abc" and `sha256sum` for the larger file.
      expect(await sha256File(join(dir, 'a.txt'))).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
      const ref = execFileSync('sha256sum', [join(dir, 'b.bin')], { encoding: 'utf8' }).split(' ')[0];
      expect(await sha256File(join(dir, 'b.bin'))).toBe(ref);
      const folder = await describeInput('stack', dir);
      expect(folder.map((r) => [r.bytes, r.sha256])).toEqual([
        [3, 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad'],
        [70_000, ref],
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('writes and reads the run manifest, and refuses a foreign one', () => {
    const dir = mkdtempSync(join(tmpdir(), 'run-manifest-'));
    try {
      const versions = packageVersions();
      expect(versions['@tensorflow/tfjs-core']).toBe('4.22.0');
      writeManifest(dir, {
        format: 'geoanomaly-run/1',
        createdAt: '2026-01-01T00:00:00.000Z',
        inputs: [],
        seed: 7,
        options: { epochs: 3 },
        backend: { name: 'wasm', detail: 'wasm' },
        packages: versions,
        bandNames: ['Au', 'Cu'],
        patch: { size: 9 },
        models: { cnn: { path: join(dir, 'models', 'cnn', 'model.json'), epochs: 3 } },
      });
      const m = readManifest(dir);
      expect(m.seed).toBe(7);
      expect(m.bandNames).toEqual(['Au', 'Cu']);
      expect(m.models.cnn.path).toBe(join('models', 'cnn', 'model.json'));
      writeFileSync(join(dir, 'manifest.json'), JSON.stringify({ format: 'other' }));
      expect(() => readManifest(dir)).toThrow(InvalidFileError);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
