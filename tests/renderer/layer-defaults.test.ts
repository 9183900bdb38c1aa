import { describe, expect, it } from 'vitest';
import { preferredGrid, bandCount } from '../../renderer/src/lib/layer-defaults.ts';
import type { RasterLayerSpec } from '../../main/api/contract.ts';

/** Issue 18: the Faults grid defaults to the layer a user would pick, never to the synthetic truth raster while a kriged stack exists. */
const raster = (source: string, bandNames: string[]): RasterLayerSpec => ({ id: source, name: source, kind: 'raster', source, bandNames, band: bandNames[0], style: {} } as unknown as RasterLayerSpec);
const truth = raster('/d/demo-survey/anomaly-truth.tif', ['anomaly_truth']);
const krigedA = raster('/d/runs/krige-2026-12-04T01-00-00-000Z.tif', ['Au', 'Cu']);
const varianceA = raster('/d/runs/krige-2026-12-04T01-00-00-000Z-variance.tif', ['Au', 'Cu']);
const krigedB = raster('/d/runs/krige-2026-12-04T02-00-00-000Z.tif', ['Au']);

describe('preferredGrid', () => {
  it('takes the truth raster only when nothing else is loaded', () => {
    expect(preferredGrid([])).toBeNull();
    expect(preferredGrid([truth])).toBe(truth);
    expect(preferredGrid([truth, krigedA])).toBe(krigedA);
  });
  it('prefers the newest prediction stack over its variance stack and older stacks', () => {
    expect(preferredGrid([truth, krigedA, varianceA])).toBe(krigedA);
    expect(preferredGrid([truth, krigedA, varianceA, krigedB])).toBe(krigedB);
    // A variance stack alone is still better than the truth raster (same grid as its prediction).
    expect(preferredGrid([truth, varianceA])).toBe(varianceA);
  });
  it('says "1 band" and "2 bands"', () => {
    expect([bandCount(1), bandCount(2)]).toEqual(['1 band', '2 bands']);
  });
});
