import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createHandlers } from '../../main/api/handlers.ts';
import { parseCommandArgs } from '../../main/cli/command.ts';
import { infoCommand } from '../../main/cli/commands/info.ts';
import { krigeCommand } from '../../main/cli/commands/krige.ts';
import { readGeoTiffInfo } from '../../main/io/geotiff-read.ts';
import { writeGeoTiff } from '../../main/io/geotiff-write.ts';
import { Rng } from '../../main/util/rng.ts';

/**
 * Issue 18: a kriged GeoTIFF imported by hand (Import layer, not the krige job) is named with
 * its units. `krige` records each band's unit from the table's header (Au_ppb) as GDAL's band
 * unit type, GDAL reads it back, and the import path names the layer from it and from krige's
 * KRIGING metadata, whatever the file is called.
 */
const dir = mkdtempSync(join(tmpdir(), 'krige-units-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function gdalUnits(file: string): (string | null)[] {
  const info = JSON.parse(execFileSync('gdalinfo', ['-json', file], { encoding: 'utf8' })) as { bands: { unit?: string }[] };
  return info.bands.map((b) => b.unit ?? null);
}

describe('krige records band units', () => {
  it('writes UNITTYPE per band (GDAL reads it), and a renamed copy imported by hand is "Kriged Au, Cu, Zn (ppb, ppm, –)"', async () => {
    const rng = new Rng(4);
    const lines = ['x,y,Au_ppb,Cu_ppm,Zn'];
    for (let i = 0; i < 60; i++) lines.push(`${500_000 + rng.uniform() * 9000},${4_400_000 + rng.uniform() * 9000},${(5 + rng.uniform() * 10).toFixed(3)},${(20 + rng.uniform() * 30).toFixed(3)},${(50 + rng.uniform() * 40).toFixed(3)}`);
    const csv = join(dir, 'samples.csv');
    writeFileSync(csv, lines.join('\n') + '\n');
    const out = join(dir, 'krige-out.tif');
    const variance = join(dir, 'krige-out-variance.tif');
    const io = { out: () => undefined, err: () => undefined, progress: () => undefined, signal: new AbortController().signal };
    const argv = ['--samples', csv, '--x', 'x', '--y', 'y', '--crs', 'EPSG:32645', '--fields', 'Au,Cu,Zn', '--cell', '1000', '--variance', variance, '--threads', '1'];
    expect(await krigeCommand.run(parseCommandArgs(krigeCommand, [...argv, '--out', out]), io)).toBe(0);

    // GDAL (the reference reader) sees the units; our reader gives the same.
    expect(gdalUnits(out)).toEqual(['ppb', 'ppm', null]);
    expect(gdalUnits(variance)).toEqual(['ppb²', 'ppm²', null]);
    const info = await readGeoTiffInfo(out);
    expect(info.bandUnits).toEqual(['ppb', 'ppm', null]);
    expect(info.metadata.KRIGING).toBe('ordinary kriging');
    // `geoanomaly info` shows them beside the band names, and counts bands in words that agree.
    const infoLines: string[] = [];
    expect(await infoCommand.run(parseCommandArgs(infoCommand, [out]), { ...io, out: (l) => infoLines.push(l) })).toBe(0);
    expect(infoLines.find((l) => l.includes('size:'))).toMatch(/, 3 bands, float32$/);
    expect(infoLines.filter((l) => /^ {2}band /.test(l)).map((l) => l.split(/\s+min /)[0].trim())).toEqual(['band  1 Au (ppb)', 'band  2 Cu (ppm)', 'band  3 Zn']);
    const single = join(dir, 'one.tif');
    writeGeoTiff(single, { grid: info.grid, bandNames: ['Au'], bands: [new Float32Array(info.grid.rows * info.grid.cols).fill(1)] }, { bandUnits: ['ppb'] });
    const one: string[] = [];
    expect(await infoCommand.run(parseCommandArgs(infoCommand, [single]), { ...io, out: (l) => one.push(l) })).toBe(0);
    expect(one.find((l) => l.includes('size:'))).toMatch(/, 1 band, float32$/);

    // Imported by hand under names that say nothing about kriging.
    const mine = join(dir, 'au-cu-zn.tif');
    const mineVar = join(dir, 'au-cu-zn-var.tif');
    copyFileSync(out, mine);
    copyFileSync(variance, mineVar);
    const { handlers } = createHandlers({ dataDir: join(dir, 'data'), host: 'browser', emit: () => undefined, autosaveDelayMs: 60_000 });
    const layer = await handlers.importLayer({ kind: 'raster', path: mine });
    expect([layer.name, layer.displayName]).toEqual(['au-cu-zn', 'Kriged Au, Cu, Zn (ppb, ppm, –)']);
    const varLayer = await handlers.importLayer({ kind: 'raster', path: mineVar });
    expect(varLayer.displayName).toBe('Kriging variance Au, Cu, Zn (ppb², ppm², –)');

    // --log: the variance is on the log scale and has no unit; the prediction keeps its units.
    const logOut = join(dir, 'log.tif');
    const logVar = join(dir, 'log-var.tif');
    const logArgv = argv.map((a) => (a === variance ? logVar : a));
    expect(await krigeCommand.run(parseCommandArgs(krigeCommand, [...logArgv, '--log', '--out', logOut]), io)).toBe(0);
    expect(gdalUnits(logOut)).toEqual(['ppb', 'ppm', null]);
    expect(gdalUnits(logVar)).toEqual([null, null, null]);
    expect((await handlers.importLayer({ kind: 'raster', path: logVar })).displayName).toBe('Kriging variance Au, Cu, Zn, log scale');
  }, 120_000);
});
