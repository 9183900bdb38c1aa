import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { crsFromEpsg } from '../../main/grid/crs.ts';
import type { GridSpec } from '../../main/grid/grid-spec.ts';
import { writeGeoTiff } from '../../main/io/geotiff-write.ts';
import { CancelledError, InvalidOptionError } from '../../main/errors.ts';
import { formatHelp } from '../../main/commands/command.ts';
import { sitesCommand } from '../../main/cli/commands/sites.ts';
import { sitesResultLines, sitesWorkflow, type SitesWorkflowOptions } from '../../main/workflows/sites.ts';
import { runWorkflowInWorker } from '../../main/workflows/run-in-worker.ts';
import { runWorkflowJob } from '../../main/api/workflow-job.ts';
import { REPO_ROOT, tempDir } from '../helpers/paths.ts';

/**
 * The sites workflow called directly (issue 17 §1). GDAL is the reference for what was written:
 * ogrinfo's OGR SQL counts the features (cells) and distinct siteIds (blocks) per label of the
 * GeoPackage / Shapefile, which the typed result's counts per class must equal.
 */
const FIX = join(REPO_ROOT, 'tests/fixtures/vectors');
const GRID: GridSpec = { originX: 499000, originY: 4610000, cellSizeX: 250, cellSizeY: 250, rows: 42, cols: 32, crs: crsFromEpsg(32645) };

function setup(): { dir: string; options: SitesWorkflowOptions } {
  const dir = tempDir('sites-wf-');
  const grid = join(dir, 'grid.tif');
  const band = new Float32Array(GRID.rows * GRID.cols).fill(1);
  writeGeoTiff(grid, { grid: GRID, bandNames: ['Au'], bands: [band] });
  return {
    dir,
    options: { deposits: join(FIX, 'points.geojson'), grid, faults: join(FIX, 'lines.geojson'), negatives: 'auto', seed: 3, minDepositDist: 500, minFaultDist: 300, out: join(dir, 'sites.gpkg') },
  };
}

/** One number from an OGR SQL query (ogrinfo prints "NAME (Integer) = N"). */
function ogrCount(file: string, sql: string): number {
  const out = execFileSync('ogrinfo', ['-ro', '-q', '-sql', sql, file], { encoding: 'utf8' });
  const m = /\(Integer(?:64)?\) = (\d+)/.exec(out);
  if (!m) throw new Error(`no count in ogrinfo's output for ${sql}:\n${out}`);
  return Number(m[1]);
}

describe('sites workflow', () => {
  it('counts per class equal GDAL\'s counts of the written GeoPackage (cells and distinct siteIds per label)', async () => {
    const { options } = setup();
    const logs: string[] = [];
    const r = await sitesWorkflow(options, { log: (m) => logs.push(m) });
    const file = options.out!;
    expect(r.outputs).toEqual({ sites: file, files: [file] });
    expect(r.format).toBe('geopackage');
    for (const [label, cls] of [[1, r.positives], [0, r.negatives]] as const) {
      expect(cls.cells, `label ${label} cells`).toBe(ogrCount(file, `SELECT COUNT(*) AS n FROM sites WHERE label = ${label}`));
      expect(cls.blocks, `label ${label} blocks`).toBe(ogrCount(file, `SELECT COUNT(DISTINCT siteId) AS n FROM sites WHERE label = ${label}`));
    }
    // 4 deposit points in 4 cells → 4 blocks; automatic negatives: one block per deposit cell, seeded.
    expect(r.depositCells).toBe(4);
    expect(r.positives.blocks).toBe(4);
    expect(r.negatives.blocks).toBe(4);
    expect(r.negativeSource).toBe('auto');
    expect(r.negativeCandidates).toBeGreaterThan(r.negatives.blocks);
    // The fixture's MultiPoint has both points in cell (35, 28): columns (506000.5 − 499000)/250 = 28.002 and 28.401, rows (4610000 − 4601000.5)/250 = 35.998 and 35.797.
    expect(r.deposits).toEqual({ file: options.deposits, cells: 4, droppedOutside: 0, duplicatesDropped: 0, merged: 1 });
    expect(r.onNodata).toEqual({ cells: 0, blocks: 0, first: [] });
    expect(r.grid).toEqual({ file: options.grid, rows: 42, cols: 32, cellSizeM: 250, crs: GRID.crs!.name });
    // Partial blocks are the full-size complement: every other block has 9 cells.
    const partial = Object.values(r.partialBlocks);
    expect(r.positives.cells + r.negatives.cells).toBe(9 * (8 - partial.length) + partial.reduce((a, b) => a + b, 0));
    const lines = sitesResultLines(r);
    expect(lines[0]).toBe(
      `sites: ${r.positives.cells} positives in 4 blocks (4 deposit cells), ${r.negatives.cells} negatives in 4 blocks (chosen among ${r.negativeCandidates} admissible centres)`,
    );
    expect(lines.at(-1)).toBe(`wrote ${file}`);
    // The same seed gives the same sites: a second run equals the first.
    const again = await sitesWorkflow({ ...options, out: file.replace('.gpkg', '-2.gpkg') });
    expect({ ...again, outputs: r.outputs }).toEqual(r);
  });

  it('writes a Shapefile: every file listed exists, and GDAL counts the same classes; user negatives are counted as read', async () => {
    const { dir, options } = setup();
    const first = await sitesWorkflow({ ...options, out: join(dir, 'auto.geojson') });
    // Negatives from a file: the automatic negatives' centres (label 0, centre true) as points.
    execFileSync('ogr2ogr', ['-f', 'GeoJSON', '-where', 'label = 0 AND centre = 1', join(dir, 'neg.geojson'), join(dir, 'auto.geojson')]);
    const r = await sitesWorkflow({ deposits: options.deposits, grid: options.grid, negatives: join(dir, 'neg.geojson'), out: join(dir, 'sites.shp') });
    expect(r.format).toBe('shapefile');
    expect(r.outputs.files.map((f) => f.slice(-4)).sort()).toEqual(['.dbf', '.prj', '.shp', '.shx']);
    for (const f of r.outputs.files) expect(existsSync(f), f).toBe(true);
    expect(r.negativeSource).toBe('user');
    expect(r.negativeCandidates).toBeUndefined();
    expect(r.negativesFile).toMatchObject({ file: join(dir, 'neg.geojson'), cells: 4, droppedOutside: 0 });
    // Same centres → same blocks as the automatic run.
    expect(r.negatives).toEqual(first.negatives);
    expect(r.positives).toEqual(first.positives);
    const shp = join(dir, 'sites.shp');
    expect(r.positives.cells).toBe(ogrCount(shp, 'SELECT COUNT(*) AS n FROM sites WHERE label = 1'));
    expect(r.negatives.cells).toBe(ogrCount(shp, 'SELECT COUNT(*) AS n FROM sites WHERE label = 0'));
    expect(sitesResultLines(r).at(-1)).toBe(`wrote ${r.outputs.files.join(', ')}`);
  });

  it('refuses bad options with the CLI\'s named errors, before writing anything', async () => {
    const { dir, options } = setup();
    await expect(sitesWorkflow({ ...options, count: 1.5 })).rejects.toThrow(new InvalidOptionError('geoanomaly sites: --count must be an integer, got 1.5'));
    await expect(sitesWorkflow({ ...options, labelsAsPoints: true, alignByIndex: '0,0' })).rejects.toThrow(/cannot be combined with --align-by-index/);
    await expect(sitesWorkflow({ ...options, out: join(dir, 'sites.kml') })).rejects.toThrow(/\.gpkg.*--out/);
    await expect(sitesWorkflow({ ...options, deposits: undefined })).rejects.toThrow('geoanomaly sites: --deposits is required. Run "geoanomaly sites --help".');
    expect(existsSync(options.out!)).toBe(false);
  });

  it('cancel during the fault distance stops it with CancelledError and writes no sites file', async () => {
    const { options } = setup();
    const ac = new AbortController();
    let progressed = 0;
    await expect(sitesWorkflow(options, { signal: ac.signal, progress: () => (progressed++, ac.abort()) })).rejects.toThrow(CancelledError);
    expect(progressed).toBeGreaterThan(0);
    expect(existsSync(options.out!)).toBe(false);
  });

  it('runs the same in a worker thread: same typed result (paths aside)', async () => {
    const a = setup();
    const here = await sitesWorkflow(a.options);
    const there = await runWorkflowInWorker('sites', { ...a.options, out: join(a.dir, 'worker.gpkg') });
    expect(there.outputs.files).toEqual([join(a.dir, 'worker.gpkg')]);
    expect({ ...there, outputs: here.outputs }).toEqual(here);
  });

  it("the app's automatic-negatives request (as renderer/src/lib/site-actions.ts sends it) gives the job's typed counts", async () => {
    const { dir, options } = setup();
    const out = join(dir, 'app.geojson');
    const job = await runWorkflowJob('sites', {
      options: { deposits: options.deposits!, grid: options.grid!, negatives: 'auto', seed: 3, out, faults: options.faults!, 'min-deposit-dist': 500, 'min-fault-dist': 300 },
    }, {});
    const done = job.workflow;
    if (done?.workflow !== 'sites') throw new Error(`expected a sites result, got ${done?.workflow}`);
    const direct = await sitesWorkflow({ ...options, out: join(dir, 'direct.geojson') });
    expect(done.result.outputs).toEqual({ sites: out, files: [out] });
    expect({ ...done.result, outputs: direct.outputs, format: direct.format }).toEqual(direct);
    expect(job.lines.slice(-sitesResultLines(done.result).length)).toEqual(sitesResultLines(done.result));
  });

  it('"geoanomaly sites --help" is what it was before the workflow (byte for byte)', () => {
    expect(formatHelp(sitesCommand)).toBe(HELP_BEFORE.join('\n'));
  });
});

// formatHelp(sitesCommand) at 16c07c4, before the command became a front door onto sitesWorkflow.
const HELP_BEFORE = [
  "geoanomaly sites — positive and negative training sites (3×3 blocks) as GeoJSON",
  "",
  "Usage: geoanomaly sites --deposits FILE --grid REF.tif [--faults FILE] [--negatives auto|none|FILE] [--min-deposit-dist M] [--min-fault-dist M] [--seed N] [--layer NAME] [--labels-as-points] --out SITES.geojson|SITES.gpkg|SITES.shp",
  "",
  "Options:",
  "  --deposits FILE                deposit points (GeoJSON, Shapefile, GeoPackage, FlatGeobuf, KML/KMZ) or deposit raster",
  "  --grid REF.tif                 reference GeoTIFF (the element grid the patches are cut from)",
  "  --faults FILE                  fault lines or fault raster, for the minimum fault distance of automatic negatives",
  "  --negatives auto|none|FILE     auto, none, or a file of negative centres (points or a raster) (default auto)",
  "  --min-deposit-dist M           automatic negatives: minimum distance to any deposit, metres (default 10 cells)",
  "  --min-fault-dist M             automatic negatives: minimum distance to any fault, metres (default 5 cells when --faults is given)",
  "  --count N                      number of negative blocks (default: one per deposit cell)",
  "  --seed N                       random seed of the automatic selection (default 1)",
  "  --block-radius R               block half-width in cells (1 = 3×3 blocks, 0 = single cells) (default 1)",
  "  --deposit-value V              raster value marking a deposit (default 1)",
  "  --negative-value V             raster value marking a negative (the GK-DCN raster uses 0) (default 1)",
  "  --fault-where KEY=VALUE        use only fault features whose property KEY equals VALUE (e.g. favourable=true)",
  "  --align-by-index R,C           pair label rasters on another grid by array index: their cell (r,c) is grid cell (r+R, c+C)",
  "  --labels-as-points             label rasters on another grid: each marked cell (deposits: non-zero; negatives: --negative-value) becomes a point at its centre in the raster's own georeferencing, placed in the grid cell that holds it (no resampling)",
  "  --crs CRS                      CRS of vector inputs that declare none (EPSG:N or proj4); declared CRSs are reprojected onto the grid's (logged)",
  "  --drop-outside                 drop deposits/negatives outside the grid (reported) instead of failing",
  "  --out SITES.geojson|.gpkg|.shp output sites file: .geojson, .gpkg (GeoPackage, layer \"sites\") or .shp (ESRI Shapefile with .prj)",
  "  --layer NAME                   layer of a multi-layer vector input (GeoPackage) for every input without its own --INPUT-layer; see \"geoanomaly info FILE.gpkg\"",
  "  --deposits-layer NAME          layer of --deposits when it is a GeoPackage holding several layers",
  "  --faults-layer NAME            layer of --faults when it is a GeoPackage holding several layers",
  "  --negatives-layer NAME         layer of --negatives when it is a GeoPackage holding several layers",
  "  --dedupe first|refuse          deposit (or negative) points of different features in one grid cell: refuse (an error listing the cells) or first (keep the first feature of each cell, report the rest) (default refuse)",
  "  --help, -h                     show this help",
  "",
  "Each deposit cell and its 8 neighbours become positives sharing one siteId; negatives are augmented likewise.",
  "Example (GK-DCN case study, label grids paired by array index with the element grid):",
  "  geoanomaly sites --deposits label/Au_deposits0.tif --grid elements/Au.tif --negatives label/non_deposits.tif \\",
  "    --negative-value 0 --align-by-index 0,0 --out sites.geojson",
  "Example (deposits and faults as layers of one GeoPackage, sites written as GeoPackage):",
  "  geoanomaly sites --deposits survey.gpkg --deposits-layer deposits --faults survey.gpkg --faults-layer faults \\",
  "    --grid stack.tif --out sites.gpkg",
];
