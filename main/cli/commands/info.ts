import { existsSync, readFileSync, statSync } from 'node:fs';
import { extname } from 'node:path';
import type { Command } from '../command.ts';
import { optionalString } from '../command.ts';
import { readGeoTiffInfo, readStack } from '../../io/geotiff-read.ts';
import { bandStats } from '../../grid/raster.ts';
import { bandCount } from '../../util/display-names.ts';
import { gridExtent } from '../../grid/grid-spec.ts';
import { parseCrs } from '../../grid/crs.ts';
import { readVector, VECTOR_EXTENSIONS } from '../../io/vector.ts';
import { listGeoPackageLayers } from '../../io/geopackage-read.ts';
import { guessCoordinateColumns, inspectSampleTable, readTableCells } from '../../io/table.ts';
import { InvalidFileError, InvalidOptionError } from '../../errors.ts';

type Out = (l: string) => void;

const HDF5_INFO_EXT = ['.h5', '.hdf5', '.he5', '.nxs', '.nx5', '.hspy'];

/** HDF5 files (and MAT v7.3): every dataset with shape and dtype, for choosing `xrf --dataset`. Heavy import kept inside. */
async function describeHdf5(file: string, out: Out): Promise<void> {
  const { listHdf5Datasets } = await import('../../xrf/hdf5-cube.ts');
  const list = await listHdf5Datasets(file);
  out(`${file}: HDF5 file, ${list.length} dataset(s)`);
  for (const d of list) out(`  ${d.path.padEnd(40)} ${(d.shape.join('×') || 'scalar').padEnd(16)} ${d.dtype}${d.attributes.length ? `  attrs: ${d.attributes.join(', ')}` : ''}`);
}

/** ENVI header: size, interleave, data type, byte order, spectral axis (heavy import kept inside). */
async function describeEnvi(file: string, out: Out): Promise<void> {
  const { enviPair, readEnviHeader } = await import('../../xrf/envi-cube.ts');
  const { hdr, data } = enviPair(file);
  const h = readEnviHeader(hdr);
  out(`${hdr}: ENVI header, data file ${data}`);
  out(`  size:       ${h.samples} samples × ${h.lines} lines × ${h.bands} bands, ${h.interleave.toUpperCase()}, data type ${h.dataType}, byte order ${h.byteOrder}, header offset ${h.headerOffset}`);
  if (h.bandNames) out(`  bands:      ${h.bandNames.slice(0, 8).join(', ')}${h.bands > 8 ? ', …' : ''}`);
  if (h.spectralAxis) out(`  axis:       ${h.spectralAxis.quantity} ${h.spectralAxis.values[0]} … ${h.spectralAxis.values.at(-1)} ${h.spectralAxis.unit}`);
  if (h.pixelSizeUm) out(`  pixel size: ${h.pixelSizeUm} µm`);
}

function isHdf5Mat(file: string): boolean {
  return extname(file).toLowerCase() === '.mat' && readFileSync(file).subarray(0, 10).toString('latin1') === 'MATLAB 7.3';
}

async function describeRaster(path: string, out: Out): Promise<void> {
  const stack = await readStack(path);
  const g = stack.grid;
  const e = gridExtent(g);
  const isDir = statSync(path).isDirectory();
  const info = isDir ? null : await readGeoTiffInfo(path);
  out(`${path}: ${isDir ? 'folder of single-band GeoTIFFs (one stack)' : 'GeoTIFF raster'}`);
  out(`  size:      ${g.cols} cols × ${g.rows} rows, ${bandCount(stack.bands.length)}${info ? `, ${info.sampleFormat}${info.bitsPerSample}` : ''}`);
  out(`  CRS:       ${g.crs?.name ?? 'none declared'}`);
  out(`  cell size: ${g.cellSizeX} × ${g.cellSizeY}${g.crs && !g.crs.geographic ? ' m' : ''}`);
  out(`  extent:    x ${e.xmin} … ${e.xmax}, y ${e.ymin} … ${e.ymax}`);
  if (info) out(`  nodata:    ${info.nodata ?? 'none'}`);
  stack.bandNames.forEach((n, i) => {
    const s = bandStats(stack.bands[i]);
    const fmt = (v: number): string => (Number.isFinite(v) ? v.toPrecision(6) : 'n/a');
    // The band's unit where the file records one (krige writes them, issue 18).
    const unit = info?.bandUnits[i];
    out(`  band ${String(i + 1).padStart(2)} ${(unit ? `${n} (${unit})` : n).padEnd(14)} min ${fmt(s.min)}  max ${fmt(s.max)}  mean ${fmt(s.mean)}  valid ${s.validCount}/${g.rows * g.cols}`);
  });
}

/** A GeoPackage: every feature layer (name, geometry type, feature count, CRS); with --layer, that layer in full. */
async function describeGeoPackage(file: string, layerName: string | undefined, crsText: string | undefined, out: Out): Promise<void> {
  const layers = await listGeoPackageLayers(file);
  out(`${file}: GeoPackage, ${layers.length} feature layer(s)`);
  const w = Math.max(5, ...layers.map((l) => l.name.length));
  out(`  ${'layer'.padEnd(w)}  ${'geometry'.padEnd(18)} ${'features'.padStart(8)}  CRS`);
  for (const l of layers) out(`  ${l.name.padEnd(w)}  ${l.geometryType.padEnd(18)} ${String(l.featureCount).padStart(8)}  ${l.srsName}`);
  if (layerName !== undefined) await describeVector(file, crsText, out, layerName);
  else if (layers.length > 1) out('  Commands reading this file need --layer NAME (or --faults-layer, --deposits-layer, … per input).');
  else if (layers.length === 1) await describeVector(file, crsText, out, layers[0].name);
}

async function describeVector(file: string, crsText: string | undefined, out: Out, layerName?: string): Promise<void> {
  const layer = await readVector(file, { assumeCrs: crsText ? parseCrs(crsText) : undefined, allowEmpty: true, layer: layerName });
  const kinds = new Map<string, number>();
  for (const f of layer.features) kinds.set(f.geometry.type, (kinds.get(f.geometry.type) ?? 0) + 1);
  const props = new Set<string>();
  for (const f of layer.features.slice(0, 100)) Object.keys(f.properties ?? {}).forEach((k) => props.add(k));
  out(`${file}: vector layer${layerName !== undefined ? ` ${layerName}` : ''}`);
  out(`  CRS:        ${layer.crs?.name ?? 'none declared (give --crs)'}`);
  // An empty layer is said in words: commands that need features refuse it (EmptyInputError).
  if (layer.features.length === 0) out('  features:   0 features — the layer is empty; commands that need a layer (sites, faults, …) will refuse it');
  else out(`  features:   ${layer.features.length} (${[...kinds].map(([k, n]) => `${n} ${k}`).join(', ')})`);
  out(`  attributes: ${[...props].join(', ') || 'none'}`);
}

async function describeTable(file: string, xCol: string | undefined, yCol: string | undefined, crsText: string | undefined, out: Out): Promise<void> {
  let x = xCol;
  let y = yCol;
  if (!x || !y) {
    const { header } = await readTableCells(file);
    const g = guessCoordinateColumns(header);
    x = x ?? g.x ?? undefined;
    y = y ?? g.y ?? undefined;
    if (!x || !y) {
      throw new InvalidOptionError(`${file}: cannot tell which columns hold the coordinates; give --x COL --y COL (columns: ${header.join(', ')})`);
    }
  }
  const t = await inspectSampleTable(file, { x, y, crs: crsText ? parseCrs(crsText) : undefined });
  out(`${file}: sample table`);
  out(`  rows:        ${t.rowCount}`);
  out(`  coordinates: x = ${x}, y = ${y}; CRS ${t.crs?.name ?? 'not declared (give --crs EPSG:N)'}`);
  if (t.crs?.geographic) out('  warning:     geographic coordinates (degrees): choose a projected CRS for kriging and distances');
  if (t.duplicateLocations > 0) out(`  warning:     ${t.duplicateLocations} sample(s) share coordinates with another sample`);
  const xmin = Math.min(...t.x);
  const xmax = Math.max(...t.x);
  const ymin = Math.min(...t.y);
  const ymax = Math.max(...t.y);
  out(`  extent:      x ${xmin} … ${xmax}, y ${ymin} … ${ymax}`);
  out(`  element columns (${t.columns.length}):`);
  out(`    ${'column'.padEnd(10)} ${'unit'.padEnd(6)} ${'censored'.padStart(8)} ${'missing'.padStart(8)} ${'min'.padStart(10)} ${'median'.padStart(10)} ${'max'.padStart(10)}`);
  for (const c of t.columns) {
    const v = Array.from(t.values[c]).filter(Number.isFinite).sort((a, b) => a - b);
    const med = v.length ? v[Math.floor(v.length / 2)] : NaN;
    const f = (n: number): string => (Number.isFinite(n) ? n.toPrecision(4) : 'n/a').padStart(10);
    out(`    ${c.padEnd(10)} ${(t.units[c] ?? '?').padEnd(6)} ${String(t.censored[c]).padStart(8)} ${String(t.missing[c]).padStart(8)} ${f(v[0])} ${f(med)} ${f(v[v.length - 1])}`);
  }
  const attrs = Object.keys(t.attributes);
  if (attrs.length) out(`  text columns: ${attrs.join(', ')}`);
}

export const infoCommand: Command = {
  name: 'info',
  summary: 'describe a raster, raster folder, vector layer, sample table or HDF5 file',
  usage: 'FILE [--x COL --y COL --crs EPSG:N] [--layer NAME]',
  details: [
    'Examples:',
    '  geoanomaly info stack.tif',
    '  geoanomaly info ../shared/data/tianshan-gkdcn/elements     (a folder of single-band GeoTIFFs)',
    '  geoanomaly info faults.geojson',
    '  geoanomaly info survey.gpkg                (its layers: name, geometry type, feature count, CRS)',
    '  geoanomaly info survey.gpkg --layer faults (one layer in full)',
    '  geoanomaly info samples.csv --x x --y y --crs EPSG:32645',
    '  geoanomaly info scan.h5        (HDF5, NeXus .nxs, HyperSpy .hspy, MATLAB v7.3 .mat: datasets, shapes, dtypes)',
    '  geoanomaly info scan.hdr       (ENVI header: size, interleave, data type, spectral axis)',
    'Exit status 0 when the file is readable, 1 with a named error otherwise.',
  ].join('\n'),
  options: {
    x: { type: 'string', description: 'x column of a sample table (guessed from x/easting if absent)', valueName: 'COL' },
    y: { type: 'string', description: 'y column of a sample table (guessed from y/northing if absent)', valueName: 'COL' },
    crs: { type: 'string', description: 'CRS of a sample table or of a layer without one (EPSG:N or proj4)', valueName: 'CRS' },
    layer: { type: 'string', description: 'GeoPackage: describe this layer in full (without it: the list of layers)', valueName: 'NAME' },
  },
  async run(args, io) {
    const file = args.positionals[0];
    if (!file) throw new InvalidOptionError('geoanomaly info: give a FILE. Run "geoanomaly info --help".');
    if (!existsSync(file)) throw new InvalidFileError(file, 'no such file or folder', 'Check the path');
    const ext = extname(file).toLowerCase();
    const crs = optionalString(args, 'crs');
    if (!statSync(file).isDirectory() && (HDF5_INFO_EXT.includes(ext) || isHdf5Mat(file))) await describeHdf5(file, io.out);
    else if (ext === '.hdr') await describeEnvi(file, io.out);
    else if (statSync(file).isDirectory() || ext === '.tif' || ext === '.tiff') await describeRaster(file, io.out);
    else if (ext === '.gpkg') await describeGeoPackage(file, optionalString(args, 'layer'), crs, io.out);
    else if (VECTOR_EXTENSIONS.includes(ext)) await describeVector(file, crs, io.out);
    else if (['.csv', '.tsv', '.txt', '.xlsx'].includes(ext)) await describeTable(file, optionalString(args, 'x'), optionalString(args, 'y'), crs, io.out);
    else throw new InvalidFileError(file, `unknown file type "${ext}"`, 'Give a GeoTIFF (.tif), a folder of GeoTIFFs, GeoJSON, a Shapefile (.shp/.zip), GeoPackage (.gpkg), FlatGeobuf (.fgb), KML/KMZ, a table (.csv/.tsv/.xlsx), an HDF5 file (.h5/.nxs/.hspy) or an ENVI header (.hdr)');
    return 0;
  },
};
