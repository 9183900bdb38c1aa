import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { histogram, summarizeTable } from '../../main/project/table-summary.ts';
import { parseCrs } from '../../main/grid/crs.ts';
import { InvalidOptionError } from '../../main/errors.ts';
import { REPO_ROOT } from '../helpers/paths.ts';

const DIR = join(REPO_ROOT, 'tests/fixtures/project');
interface Expected {
  unit: string;
  count: number;
  censored: number;
  missing: number;
  min: number;
  max: number;
  log10: boolean;
  edges: number[];
  counts: number[];
  osm: number[];
  osr: number[];
}
const expected = JSON.parse(readFileSync(join(DIR, 'expected.json'), 'utf8')) as Record<string, Expected> & { extent: unknown };

const close = (a: readonly number[], b: readonly number[], tol: number): void => {
  expect(a.length).toBe(b.length);
  a.forEach((v, i) => expect(Math.abs(v - b[i]), `index ${i}: ${v} vs ${b[i]}`).toBeLessThanOrEqual(tol));
};

describe('study step 1: table summary', () => {
  it('matches numpy.histogram and scipy.stats.probplot per element, with units and censored counts', async () => {
    const s = await summarizeTable(join(DIR, 'samples.csv'), { x: 'x', y: 'y', crs: parseCrs('EPSG:32633') });
    expect(s.rows).toBe(60);
    // numpy min/max of the x and y columns the generator wrote (exact: the CSV's own decimals).
    expect(s.extent).toEqual(expected.extent as unknown as number[]);
    expect(s.elements.map((e) => e.name)).toEqual(['Au', 'Cu', 'As']);
    for (const e of s.elements) {
      const r = expected[e.name] as Expected;
      expect({ unit: e.unit, count: e.count, censored: e.censored, missing: e.missing, log10: e.log10 }).toEqual({ unit: r.unit, count: r.count, censored: r.censored, missing: r.missing, log10: r.log10 });
      expect(e.min).toBeCloseTo(r.min, 12);
      expect(e.max).toBeCloseTo(r.max, 12);
      // numpy.histogram: edges to 1e-12 (same linspace arithmetic up to rounding), counts exact.
      close(e.edges, r.edges, 1e-12);
      expect(e.counts).toEqual(r.counts);
      // scipy.stats.probplot osm: AS 241 qnorm vs scipy's ndtri, both ~1e-15 relative; 1e-9 absolute.
      close(e.quantiles, r.osm, 1e-9);
      close(e.sorted, r.osr, 1e-12);
    }
  });

  it('numpy.histogram edge cases: max in the last bin, a constant column, bad bins named', () => {
    // numpy.histogram([0, 1, 2, 3], bins=3) → counts [1, 1, 2], edges [0, 1, 2, 3].
    expect(histogram([0, 1, 2, 3], 3)).toEqual({ edges: [0, 1, 2, 3], counts: [1, 1, 2] });
    // numpy.histogram([5, 5], bins=2) → counts [0, 2], edges [4.5, 5, 5.5].
    expect(histogram([5, 5], 2)).toEqual({ edges: [4.5, 5, 5.5], counts: [0, 2] });
    expect(() => histogram([1], 0)).toThrow(InvalidOptionError);
  });
});
