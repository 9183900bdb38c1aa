import { describe, expect, it } from 'vitest';
import { readCube } from '../../main/xrf/cube-import.ts';
import { globalRx } from '../../main/xrf/rx.ts';
import { globalRxFast } from '../../main/xrf/rx-onnx.ts';
import { syntheticSample } from '../../main/xrf/synthetic.ts';
import { rocAuc } from '../../main/eval/metrics.ts';
import { CancelledError } from '../../main/errors.ts';
import { sharedData } from '../helpers/shared-data.ts';

describe('global RX as blocked GEMMs on ONNX Runtime', () => {
  // References: numpy (pinv of the population covariance) + sklearn.metrics.roc_auc_score give
  // HYDICE 0.9762791893905921 and abu-beach-4 0.988665572954917 (tests/xrf/detectors.test.ts);
  // tolerance 1e-5 on the AUC as there. Scores against the float64 JS loops: rel 1e-6 (float64
  // GEMMs; blocks reorder the sums, measured max 1.2e-7).
  for (const [file, auc] of [['HYDICE_data.mat', 0.9762791893905921], ['abu-beach-4.mat', 0.988665572954917]] as const) {
    it(`${file}: AUC as NumPy's, scores as the JS loops`, async () => {
      const c = await readCube(sharedData(`hyperspectral/${file}`));
      // Small blocks so that several blocks (and a short last one) are summed.
      const r = await globalRxFast(c, { engine: 'onnx', blockRows: 3000 });
      expect(r.engine).toBe('onnx');
      expect(Math.abs(rocAuc(c.truth!, r.scores) - auc)).toBeLessThanOrEqual(1e-5);
      const ref = globalRx(c);
      ref.forEach((v, i) => expect(Math.abs(r.scores[i] - v)).toBeLessThanOrEqual(1e-6 * Math.max(1, v)));
    });
  }

  it('a singular covariance (a constant band) scores in the retained subspace, like the pseudo-inverse', async () => {
    const s = syntheticSample({ rows: 20, cols: 20, channels: 8, seed: 3 });
    const px = Float32Array.from(s.cube.pixels);
    for (let i = 0; i < 400; i++) px[i * 8 + 5] = 2.5;
    const cube = { ...s.cube, pixels: px };
    const r = await globalRxFast(cube, { engine: 'onnx', blockRows: 64 });
    expect(r.rank).toBe(7);
    const ref = globalRx(cube);
    ref.forEach((v, i) => expect(Math.abs(r.scores[i] - v)).toBeLessThanOrEqual(1e-6 * Math.max(1, v)));
  });

  it('falls back to the JS loops when onnxruntime-node cannot be loaded (engine auto), and checks the signal per block', async () => {
    const s = syntheticSample({ rows: 16, cols: 16, channels: 6, seed: 5 });
    const r = await globalRxFast(s.cube, { loadOrt: async () => { throw new Error('not installed'); } });
    expect(r.engine).toBe('js');
    expect(Array.from(r.scores)).toEqual(Array.from(globalRx(s.cube)));
    await expect(globalRxFast(s.cube, { engine: 'onnx', loadOrt: async () => { throw new Error('not installed'); } })).rejects.toThrow(/onnxruntime-node/);
    const ac = new AbortController();
    ac.abort();
    await expect(globalRxFast(s.cube, { engine: 'onnx', blockRows: 32 }, { signal: ac.signal })).rejects.toThrow(CancelledError);
  });
});
