import { describe, expect, it } from 'vitest';
import type { ProjectDocument } from '../../main/api/contract.ts';
import { DIGITIZED_SITES_ID, predictionNaming, runOutputs, runRecord, sitesPathFor, trainingRunDir, withRun, withSiteSet } from '../../renderer/src/lib/project-records.ts';
import { defaultCompositeBands, xrfRequest } from '../../renderer/src/lib/xrf-params.ts';

const doc: ProjectDocument = { format: 'geoanomaly-project', version: 1, name: 'p', crs: null, layers: [], sites: [{ id: 'other', name: 'x', source: '/a.geojson' }], runs: [], view: null };

describe('project records (runs and site sets kept in the project)', () => {
  it('records a finished job with its output flags and UTC times; a run id is kept once', () => {
    const request = { options: { stack: '/s.tif', sites: '/x.geojson', out: '/runs/train-1.run', epochs: 2 } };
    const r = runRecord({ jobId: 'job-1', kind: 'train', request, startedAt: Date.UTC(2026, 10, 23, 10, 0, 0), endedAt: Date.UTC(2026, 10, 23, 10, 1, 30) });
    expect(r).toEqual({ id: 'job-1', kind: 'train', startedAt: '2026-11-23T10:00:00.000Z', finishedAt: '2026-11-23T10:01:30.000Z', request, outputs: ['/runs/train-1.run'] });
    expect(trainingRunDir(r)).toBe('/runs/train-1.run');
    const d1 = withRun(doc, r);
    expect(d1.runs).toEqual([r]);
    expect(withRun(d1, r)).toBe(d1);
    expect(runOutputs({ options: { out: '/k.tif', variance: '/v.tif', cv: '/cv.json', samples: '/in.csv' } })).toEqual(['/k.tif', '/v.tif', '/cv.json']);
    expect(trainingRunDir({ ...r, kind: 'krige' })).toBeNull();
  });

  it('keeps the digitized site set beside the project and replaces only that set', () => {
    expect(sitesPathFor('/p/my survey.gaproj')).toBe('/p/my survey.sites.geojson');
    const spec = { id: DIGITIZED_SITES_ID, name: 'Digitized sites', source: '/p/s.geojson', gridLayerId: 'g1' };
    const d = withSiteSet(doc, spec);
    expect(d.sites).toEqual([doc.sites[0], spec]);
    expect(withSiteSet(withSiteSet(d, { ...spec, source: '/q.geojson' }), null).sites).toEqual([doc.sites[0]]);
  });
});

describe('naming a prediction after the recorded run it maps', () => {
  const train = (id: string, out: string, options: Record<string, string | number> = {}) => ({
    ...runRecord({ jobId: id, kind: 'train', request: { options: { model: 'cnn,dcn', folds: 2, repeats: 1, out, ...options } }, startedAt: 0, endedAt: 1 }),
  });
  const withRuns = { ...doc, runs: [train('j1', '/d/runs/train-a.run'), runRecord({ jobId: 'k', kind: 'krige', request: { options: { fields: 'Au', out: '/d/k.tif' } }, startedAt: 0, endedAt: 1 }), train('j2', '/d/runs/train-b.run', { model: 'gk-dcn', folds: 5, repeats: 3 })] };

  it('titles the job with the run\'s readable name and numbers the layer as the run list does', () => {
    expect(predictionNaming(withRuns, '/d/runs/train-b.run', 'Prediction maps')).toEqual({
      title: 'Prediction maps: Training run 2: GK-DCN (5-fold × 3)',
      run: { runNumber: 2, folds: 5, repeats: 3 },
    });
    expect(predictionNaming(withRuns, '/d/runs/train-a.run', 'Study · prediction maps').title).toBe('Study · prediction maps: Training run 1: CNN, DCN (2-fold)');
  });

  it('keeps the plain title for a run folder the project did not record, or no project', () => {
    expect(predictionNaming(withRuns, '/elsewhere/train-z.run', 'Prediction maps')).toEqual({ title: 'Prediction maps' });
    expect(predictionNaming(null, '/d/runs/train-a.run', 'Prediction maps')).toEqual({ title: 'Prediction maps' });
  });
});

describe('Micro-XRF panel parameters', () => {
  it('maps the panel to the xrf command flags', () => {
    const base = { cube: '/c.tif', truth: '', methods: ['rx', 'msfa'] as const, ablation: 'none' as const, epochs: 2, seed: 1, threads: null };
    expect(xrfRequest({ ...base, methods: ['msfa', 'rx'] }, '/out').options).toEqual({ cube: '/c.tif', method: 'msfa,rx', ablation: 'none', epochs: 2, seed: 1, out: '/out' });
    expect(xrfRequest({ ...base, methods: ['msfa', 'rx', 'lrx', 'autoad'], truth: '/t.tif', threads: 2 }, '/o').options).toMatchObject({ method: 'all', truth: '/t.tif', threads: 2 });
    expect(xrfRequest({ ...base, dataset: '/entry/data' }, '/o').options.dataset).toBe('/entry/data');
    expect('dataset' in xrfRequest({ ...base, dataset: '' }, '/o').options).toBe(false);
  });

  it('picks the Cu, Fe and Si Kα channels for the default composite', () => {
    // Channels 0.8–10 keV in 100 bins of 0.092 keV (the synthetic sample's names): Cu Kα 8.048 → bin 78 (8.022 keV),
    // Fe Kα 6.404 → bin 60 (6.366), Si Kα 1.740 → bin 10 (1.766).
    const names = Array.from({ length: 100 }, (_, c) => `${(0.8 + ((c + 0.5) * 9.2) / 100).toFixed(3)}keV`);
    expect(defaultCompositeBands(names)).toEqual([78, 60, 10]);
    expect(defaultCompositeBands(['Si', 'Fe', 'Cu', 'S'])).toEqual([2, 1, 0]);
    expect(defaultCompositeBands(['a', 'b', 'c', 'd', 'e'])).toEqual([4, 2, 0]);
  });
});
