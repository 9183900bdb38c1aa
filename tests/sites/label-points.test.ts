import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { main } from '../../main/cli/main.ts';
import { readGeoTiff } from '../../main/io/geotiff-read.ts';
import { writeGeoTiff } from '../../main/io/geotiff-write.ts';
import { cellsFromLabelRaster } from '../../main/sites/label-cells.ts';
import { REPO_ROOT, tempDir } from '../helpers/paths.ts';

// Fixture: tests/fixtures/label-points/make_label_points.py (gdal_rasterize, gdalwarp, osr).
const FIX = join(REPO_ROOT, 'tests/fixtures/label-points');
const expected = JSON.parse(readFileSync(join(FIX, 'expected.json'), 'utf8')) as Record<string, { cells: number[]; marked: number }>;
let dir = '';

beforeAll(() => {
  dir = tempDir('label-points-');
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

async function stderrOf(argv: string[]): Promise<{ code: number; err: string }> {
  const lines: string[] = [];
  const spy = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => (lines.push(String(chunk)), true));
  try {
    return { code: await main(argv), err: lines.join('') };
  } finally {
    spy.mockRestore();
  }
}

function depositCentres(path: string): number[] {
  const fc = JSON.parse(readFileSync(path, 'utf8')) as { features: { properties: { label: number; centre: boolean; row: number; col: number } }[] };
  return fc.features.filter((f) => f.properties.label === 1 && f.properties.centre).map((f) => f.properties.row * 30 + f.properties.col).sort((a, b) => a - b);
}

describe('sites --deposits LABELS.tif --labels-as-points', () => {
  it('the "labels on another grid" error offers --labels-as-points instead of resampling', async () => {
    const ref = await readGeoTiff(join(FIX, 'ref.tif'));
    const label = await readGeoTiff(join(FIX, 'label-250m.tif'));
    expect(() => cellsFromLabelRaster(ref.grid, label)).toThrow(/drops or smears.*--labels-as-points.*--align-by-index/);
    const r = await stderrOf(['sites', '--deposits', join(FIX, 'label-250m.tif'), '--grid', join(FIX, 'ref.tif'), '--negatives', 'none', '--out', join(dir, 's0.geojson')]);
    expect(r.code).not.toBe(0);
    expect(r.err).toMatch(/GridMismatchError: .*label-250m\.tif is not aligned with the reference grid.*--labels-as-points/);
  });

  for (const file of ['label-250m.tif', 'label-utm44.tif']) {
    it(`places the marked cells of ${file} in the reference cells GDAL/osr put their centres in`, async () => {
      const out = join(dir, `${file}.geojson`);
      const r = await stderrOf(['sites', '--deposits', join(FIX, file), '--grid', join(FIX, 'ref.tif'), '--labels-as-points', '--negatives', 'none', '--out', out]);
      expect(r.code, r.err).toBe(0);
      // Reference: expected.json from osr.CoordinateTransformation + floor on the reference grid (exact cells).
      expect(depositCentres(out)).toEqual(expected[file].cells);
      expect(expected[file].cells).toHaveLength(expected[file].marked);
    });
  }

  it('evaluate --labels-as-points scores the deposits of a label raster on another grid', async () => {
    const out = join(dir, 'eval.json');
    const r = await stderrOf(['evaluate', '--map', join(FIX, 'ref.tif'), '--deposits', join(FIX, 'label-utm44.tif'), '--labels-as-points', '--out', out]);
    expect(r.code, r.err).toBe(0);
    expect(JSON.parse(readFileSync(out, 'utf8')).counts.depositCells).toBe(expected['label-utm44.tif'].cells.length);
  });

  it('warns when block cells fall on nodata of the grid, naming --nodata', async () => {
    const ref = await readGeoTiff(join(FIX, 'ref.tif'));
    const band = Float32Array.from(ref.bands[0]);
    band[expected['label-250m.tif'].cells[0] + 1] = NaN; // a neighbour of the first deposit
    writeGeoTiff(join(dir, 'holes.tif'), { grid: ref.grid, bandNames: ['Au'], bands: [band] });
    const r = await stderrOf(['sites', '--deposits', join(FIX, 'deposits.geojson'), '--grid', join(dir, 'holes.tif'), '--negatives', 'none', '--out', join(dir, 'h.geojson')]);
    expect(r.code).toBe(0);
    expect(r.err).toMatch(/warning: 1 block cell\(s\) of 1 block\(s\) fall on nodata.*--nodata fill-mean.*--nodata skip/);
  });
});
