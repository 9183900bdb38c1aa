import { statSync } from 'node:fs';
import type { Command } from '../command.ts';
import { readGeoTiffInfo, readGeoTiff } from '../../io/geotiff-read.ts';
import { bandStats } from '../../grid/raster.ts';
import { gridExtent } from '../../grid/grid-spec.ts';

async function describeRaster(file: string, out: (l: string) => void): Promise<void> {
  const info = await readGeoTiffInfo(file);
  const g = info.grid;
  const e = gridExtent(g);
  out(`${file}: GeoTIFF raster`);
  out(`  size:      ${g.cols} cols × ${g.rows} rows, ${info.bandCount} band(s), ${info.sampleFormat}${info.bitsPerSample}`);
  out(`  CRS:       ${g.crs?.name ?? 'none declared'}`);
  out(`  cell size: ${g.cellSizeX} × ${g.cellSizeY}${g.crs && !g.crs.geographic ? ' m' : ''}`);
  out(`  extent:    x ${e.xmin} … ${e.xmax}, y ${e.ymin} … ${e.ymax}`);
  out(`  nodata:    ${info.nodata ?? 'none'}`);
  const stack = await readGeoTiff(file);
  stack.bandNames.forEach((n, i) => {
    const s = bandStats(stack.bands[i]);
    out(`  band ${String(i + 1).padStart(2)} ${n.padEnd(12)} min ${s.min.toPrecision(6)} max ${s.max.toPrecision(6)} mean ${s.mean.toPrecision(6)} valid ${s.validCount}`);
  });
}

export const infoCommand: Command = {
  name: 'info',
  summary: 'describe a raster, vector layer or sample table',
  usage: 'FILE [--x COL --y COL --crs EPSG:N]',
  options: {
    x: { type: 'string', description: 'x column of a sample table', valueName: 'COL' },
    y: { type: 'string', description: 'y column of a sample table', valueName: 'COL' },
    crs: { type: 'string', description: 'CRS of a sample table (EPSG:N or proj4)', valueName: 'CRS' },
  },
  async run(args, io) {
    const file = args.positionals[0];
    if (!file) {
      io.err('geoanomaly info: give a FILE. Run "geoanomaly info --help".');
      return 2;
    }
    statSync(file);
    await describeRaster(file, io.out);
    return 0;
  },
};
