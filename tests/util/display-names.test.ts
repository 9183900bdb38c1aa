import { describe, expect, it } from 'vitest';
import { bandCount, bandDisplayName, krigeDisplayName, modelLabel, rasterDisplayName, pendingTrainRunName, recordedTrainRun, runDisplayName, splitStampedName, squaredUnit, withRunDisplayNames } from '../../main/util/display-names.ts';

/** Readable names from the file names the app writes (renderer runOutputPath: `<stem>-<ISO stamp>.<ext>`). */
describe('display names', () => {
  it('splits the stamp the app puts in output names, keeping the stem', () => {
    expect(splitStampedName('/data/runs/train-2026-12-03T07-11-41-113Z.run')).toEqual({ stem: 'train', stamp: '2026-12-03 07:11' });
    expect(splitStampedName('krige-2026-12-03T07-11-05-966Z.tif')).toEqual({ stem: 'krige', stamp: '2026-12-03 07:11' });
    expect(splitStampedName('C:\\data\\fault-distance-2026-01-09T23-59-00-000Z.tif')).toEqual({ stem: 'fault-distance', stamp: '2026-01-09 23:59' });
    expect(splitStampedName('demo_stack.tif')).toEqual({ stem: 'demo_stack', stamp: null });
  });

  it('names prediction bands for their model and run', () => {
    expect(modelLabel('gk-dcn')).toBe('GK-DCN');
    expect(modelLabel('logreg')).toBe('LogReg');
    expect(bandDisplayName('p_gk-dcn', { runNumber: 3, folds: 5 })).toBe('GK-DCN probability (run 3, 5-fold)');
    expect(bandDisplayName('p_cnn')).toBe('CNN probability');
    expect(bandDisplayName('sd_cnn', { folds: 5 })).toBe('CNN uncertainty (sd) (5-fold)');
    expect(bandDisplayName('diff_gk-dcn_cnn')).toBe('GK-DCN − CNN difference');
    expect(bandDisplayName('Au', undefined, 'ppm')).toBe('Au (ppm)');
    expect(bandDisplayName('Au')).toBe('Au');
  });

  it('names kriging outputs for their fields and units, runs for their models and CV', () => {
    expect(krigeDisplayName(['Au', 'Cu'], ['ppb', 'ppm'])).toBe('Kriged Au, Cu (ppb, ppm)');
    expect(krigeDisplayName(['Au', 'Cu'], ['ppb'])).toBe('Kriged Au, Cu (ppb, –)');
    expect(krigeDisplayName(['Au', 'Cu'])).toBe('Kriged Au, Cu');
    expect(runDisplayName(['cnn', 'gk-dcn'], { runNumber: 3, folds: 5, repeats: 2 })).toBe('Training run 3: CNN, GK-DCN (5-fold × 2)');
    expect(runDisplayName(['cnn'], { folds: 5, repeats: 1 })).toBe('Training run: CNN (5-fold)');
  });

  it('names raster layers: predictions, kriging outputs, other stamped outputs, and plain files as they are', () => {
    const run = { runNumber: 2, folds: 5 };
    expect(rasterDisplayName({ path: '/d/runs/predict-2026-12-03T07-12-00-000Z.tif', bandNames: ['p_gk-dcn', 'sd_gk-dcn', 'window_mask'], run })).toBe('GK-DCN probability (run 2, 5-fold)');
    expect(rasterDisplayName({ path: 'prob.tif', bandNames: ['p_cnn', 'p_gk-dcn', 'window_mask'], run })).toBe('Probability: CNN, GK-DCN (run 2, 5-fold)');
    expect(rasterDisplayName({ path: '/d/runs/krige-2026-12-03T07-11-05-966Z.tif', bandNames: ['Au', 'Cu'], units: ['ppb', 'ppm'] })).toBe('Kriged Au, Cu (ppb, ppm)');
    expect(rasterDisplayName({ path: '/d/runs/fault-distance-2026-12-03T07-11-05-966Z.tif', bandNames: ['distance'] })).toBe('Fault distance, 2026-12-03 07:11');
    expect(rasterDisplayName({ path: '/d/runs/rpca-2026-12-03T07-11-05-966Z.out', bandNames: ['pc1'] })).toBe('Robust PCA, 2026-12-03 07:11');
    // A band that is not a model output: not a prediction, the file keeps its name.
    expect(rasterDisplayName({ path: '/d/stack.tif', bandNames: ['p_cnn', 'Au'] })).toBe('stack');
    expect(rasterDisplayName({ path: '/d/demo_stack', bandNames: ['Au'] })).toBe('demo_stack');
  });

  // Issue 18: a kriged stack imported by hand is named from what the file records (krige's
  // KRIGING/CONTENT metadata and the band units), whatever it is called.
  it('names kriging outputs from their metadata and band units: prediction, variance, extrapolation mask', () => {
    const kriging = { KRIGING: 'ordinary kriging', VARIOGRAM_Au: 'sph:0.1:1:3000' };
    expect(rasterDisplayName({ path: '/d/au-cu.tif', bandNames: ['Au', 'Cu'], units: ['ppb', 'ppm'], metadata: kriging })).toBe('Kriged Au, Cu (ppb, ppm)');
    expect(rasterDisplayName({ path: '/d/study-krige-2026-12-03T07-11-05-966Z.tif', bandNames: ['Au'], units: [null], metadata: kriging })).toBe('Kriged Au');
    expect(rasterDisplayName({ path: '/d/v.tif', bandNames: ['Au', 'Cu'], units: ['ppb²', 'ppm²'], metadata: { ...kriging, CONTENT: 'kriging variance' } })).toBe('Kriging variance Au, Cu (ppb², ppm²)');
    expect(rasterDisplayName({ path: '/d/v.tif', bandNames: ['Au'], metadata: { ...kriging, CONTENT: 'kriging variance (log scale)' } })).toBe('Kriging variance Au, log scale');
    // The app's variance beside its prediction, named by the file alone (an older file without metadata).
    expect(rasterDisplayName({ path: '/d/runs/krige-2026-12-03T07-11-05-966Z-variance.tif', bandNames: ['Au', 'Cu'] })).toBe('Kriging variance Au, Cu');
    expect(rasterDisplayName({ path: '/d/m.tif', bandNames: ['extrapolated_Au', 'extrapolated_Cu'], metadata: { ...kriging, CONTENT: 'extrapolation mask: 1 = outside the convex hull or beyond the practical range' } })).toBe('Kriging extrapolation mask: Au, Cu');
    // Units without krige's metadata: a plain file keeps its name.
    expect(rasterDisplayName({ path: '/d/stack.tif', bandNames: ['Au'], units: ['ppb'] })).toBe('stack');
    expect(squaredUnit('ppm')).toBe('ppm²');
    expect(squaredUnit('g/t')).toBe('(g/t)²');
  });

  it('counts bands in the singular and plural: "(1 band)", never "(1 bands)"', () => {
    expect(bandCount(1)).toBe('1 band');
    expect(bandCount(0)).toBe('0 bands');
    expect(bandCount(39)).toBe('39 bands');
  });

  it('names recorded runs: training runs numbered in order, kriging runs by fields; a given name is kept', () => {
    const runs = withRunDisplayNames([
      { kind: 'krige', request: { options: { fields: 'Au,Cu', out: '/r/krige-1.tif' } } },
      { kind: 'train', request: { options: { model: 'cnn,gk-dcn', folds: '5', repeats: '2' } } },
      { kind: 'sites', request: { options: {} } },
      { kind: 'train', request: { options: { model: 'all' } } },
      { kind: 'train', request: { options: { model: 'cnn' } }, displayName: 'My baseline run' },
    ]);
    expect(runs.map((r) => r.displayName)).toEqual([
      'Kriged Au, Cu',
      'Training run 1: CNN, GK-DCN (5-fold × 2)',
      undefined,
      // train's defaults: --folds 5 --repeats 3
      'Training run 2: CNN, DCN, GK-CNN, GK-DCN (5-fold × 3)',
      'My baseline run',
    ]);
  });

  it('finds the recorded training run of a run folder, numbered as the run list numbers it', () => {
    const runs = [
      { kind: 'krige', request: { options: { fields: 'Au', out: '/r/krige-1.tif' } } },
      { kind: 'train', request: { options: { model: 'cnn', folds: 4, repeats: 1, out: '/r/train-a.run' } } },
      { kind: 'train', request: { options: { model: 'gk-dcn,cnn', out: '/r/train-b.run' } } },
      { kind: 'train', request: { options: { model: 'cnn', out: '/r/train-c.run' } }, displayName: 'Mine' },
    ];
    expect(recordedTrainRun(runs, '/r/train-b.run')).toEqual({ displayName: 'Training run 2: GK-DCN, CNN (5-fold × 3)', context: { runNumber: 2, folds: 5, repeats: 3 } });
    expect(recordedTrainRun(runs, '/r/train-a.run')).toEqual({ displayName: 'Training run 1: CNN (4-fold)', context: { runNumber: 1, folds: 4, repeats: 1 } });
    // A name the user gave is the run's name; its maps still say which run they come from.
    expect(recordedTrainRun(runs, '/r/train-c.run')).toEqual({ displayName: 'Mine', context: { runNumber: 3, folds: 5, repeats: 3 } });
    expect(recordedTrainRun(runs, '/r/krige-1.tif')).toBeNull();
    expect(recordedTrainRun(runs, '/elsewhere/train-x.run')).toBeNull();
    // The same numbers withRunDisplayNames gives the run list.
    expect(withRunDisplayNames(runs).filter((r) => r.kind === 'train').map((r) => r.displayName)).toEqual([
      'Training run 1: CNN (4-fold)', 'Training run 2: GK-DCN, CNN (5-fold × 3)', 'Mine',
    ]);
  });

  it('names a train request while it runs, before it has a number', () => {
    expect(pendingTrainRunName({ model: 'cnn,gk-dcn', folds: 5, repeats: 2 })).toBe('Training run: CNN, GK-DCN (5-fold × 2)');
    expect(pendingTrainRunName({})).toBe('Training run: CNN, DCN, GK-CNN, GK-DCN (5-fold × 3)');
  });
});
