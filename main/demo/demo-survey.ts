import { join } from 'node:path';
import type { Feature, FeatureCollection, LineString, Point } from 'geojson';
import { Rng } from '../util/rng.ts';
import { crsFromEpsg, type Crs } from '../grid/crs.ts';
import { cellCenterX, cellCenterY, gridFromExtent, type Extent, type GridSpec } from '../grid/grid-spec.ts';
import { writeFileAtomic, writeJsonAtomic } from '../util/atomic-write.ts';
import { writeGeoTiff } from '../io/geotiff-write.ts';
import { InvalidOptionError } from '../errors.ts';
import { DEMO_ELEMENTS } from './elements.ts';
import { report, throwIfCancelled, type JobContext } from '../jobs/job.ts';

/**
 * A seeded synthetic regional geochemical survey that behaves like a real one:
 * irregular samples with 39 correlated, log-normal elements (four latent geological factors),
 * detection-limit censoring and a few missing cells; NE-trending ore-controlling faults and NW
 * cross faults; deposits placed near the ore-controlling faults so that deposit density follows
 * ρ ∝ d^k (rejection sampling with acceptance (d/dRef)^k beyond dRef); and anisotropic,
 * fault-parallel multi-element halos around the deposits. Same seed → byte-identical files.
 */
export interface DemoSurveyOptions {
  /** @default 20260219 */
  readonly seed?: number;
  /** Approximate number of samples. @default 3000 */
  readonly sampleCount?: number;
  /** @default 40 */
  readonly depositCount?: number;
  /** True exponent k of deposit density vs distance to ore-controlling faults. @default -0.7 */
  readonly powerLawK?: number;
  /** Survey area in metres. @default 60000 × 40000 */
  readonly widthM?: number;
  readonly heightM?: number;
  /** Cell size of the ground-truth anomaly raster. @default 500 */
  readonly truthCellSizeM?: number;
  /**
   * Halo sd along the controlling fault's strike and across it: their ratio is the anomalies'
   * elongation (equal = isotropic blobs). @default 2500 and 700
   */
  readonly haloAlongM?: number;
  readonly haloAcrossM?: number;
  /**
   * Strength of fault control in [0, 1]: 1 = deposits placed by the power law and the
   * hydrothermal factor raised along the ore-controlling faults (the default survey); 0 = deposits
   * placed uniformly and no fault-related enrichment; between = a mixture. @default 1
   */
  readonly faultControl?: number;
  /** Multiplier of each element's own (non-shared) noise. @default 1 */
  readonly noise?: number;
  /** Decoy anomalies: halos of the same shape and strength with no deposit (not in the truth raster). @default 0 */
  readonly decoyCount?: number;
}

export interface DemoTruth {
  readonly seed: number;
  readonly powerLawK: number;
  /** Below this distance the acceptance is 1 (the law is flat). */
  readonly powerLawRefDistanceM: number;
  readonly depositCount: number;
  readonly oreFaultIds: string[];
  readonly haloSigmaAlongM: number;
  readonly haloSigmaAcrossM: number;
  /** Present when the options differ from the default survey's. */
  readonly faultControl?: number;
  readonly noise?: number;
  readonly decoys?: { readonly x: number; readonly y: number; readonly strength: number }[];
}

export interface DemoSurvey {
  readonly crs: Crs;
  readonly extent: Extent;
  readonly header: string[];
  /** CSV rows as written (strings, with "<DL" censoring and blank missing cells). */
  readonly rows: string[][];
  readonly faults: FeatureCollection<LineString>;
  readonly deposits: FeatureCollection<Point>;
  readonly truthGrid: GridSpec;
  readonly truthBand: Float32Array;
  readonly truth: DemoTruth;
}

const ORIGIN_X = 440000;
const ORIGIN_Y = 4600000;
const REF_DISTANCE_M = 500;
const HALO_ALONG_M = 2500;
const HALO_ACROSS_M = 700;

interface Segment {
  ax: number;
  ay: number;
  bx: number;
  by: number;
}

function segmentsOf(line: readonly number[][]): Segment[] {
  const out: Segment[] = [];
  for (let i = 1; i < line.length; i++) out.push({ ax: line[i - 1][0], ay: line[i - 1][1], bx: line[i][0], by: line[i][1] });
  return out;
}

/** Distance from (x, y) to the nearest segment, and that segment's azimuth (radians from north). */
function nearestSegment(segs: readonly Segment[], x: number, y: number): { d: number; azimuth: number } {
  let best = Infinity;
  let az = 0;
  for (const s of segs) {
    const dx = s.bx - s.ax;
    const dy = s.by - s.ay;
    const len2 = dx * dx + dy * dy;
    const t = len2 > 0 ? Math.max(0, Math.min(1, ((x - s.ax) * dx + (y - s.ay) * dy) / len2)) : 0;
    const px = s.ax + t * dx - x;
    const py = s.ay + t * dy - y;
    const d = Math.hypot(px, py);
    if (d < best) {
      best = d;
      az = Math.atan2(dx, dy);
    }
  }
  return { d: best, azimuth: az };
}

/** A fault trace as a jittered walk with mean-reverting heading, 1 km steps, across the area. */
function walkFault(rng: Rng, extent: Extent, startX: number, startY: number, azimuthDeg: number): number[][] {
  const margin = 3000;
  const pts: number[][] = [[startX, startY]];
  let heading = azimuthDeg;
  let x = startX;
  let y = startY;
  for (let step = 0; step < 200; step++) {
    heading += rng.normal(0, 3) + 0.15 * (azimuthDeg - heading);
    const h = (heading * Math.PI) / 180;
    x += 1000 * Math.sin(h);
    y += 1000 * Math.cos(h);
    pts.push([Math.round(x), Math.round(y)]);
    if (x < extent.xmin - margin || x > extent.xmax + margin || y < extent.ymin - margin || y > extent.ymax + margin) break;
  }
  return pts;
}

/** Sum of random cosines: a stationary Gaussian random field with Gaussian covariance of length lengthM. */
function randomField(rng: Rng, lengthM: number, waves = 96): (x: number, y: number) => number {
  const wx = new Float64Array(waves);
  const wy = new Float64Array(waves);
  const ph = new Float64Array(waves);
  for (let i = 0; i < waves; i++) {
    wx[i] = rng.normal(0, 1 / lengthM);
    wy[i] = rng.normal(0, 1 / lengthM);
    ph[i] = rng.range(0, 2 * Math.PI);
  }
  const a = Math.sqrt(2 / waves);
  return (x, y) => {
    let s = 0;
    for (let i = 0; i < waves; i++) s += Math.cos(wx[i] * (x - ORIGIN_X) + wy[i] * (y - ORIGIN_Y) + ph[i]);
    return a * s;
  };
}

function formatValue(v: number): string {
  return String(Number(v.toPrecision(4)));
}

export function generateDemoSurvey(options: DemoSurveyOptions = {}, ctx?: JobContext): DemoSurvey {
  const seed = options.seed ?? 20260219;
  const sampleCount = options.sampleCount ?? 3000;
  const depositCount = options.depositCount ?? 40;
  const k = options.powerLawK ?? -0.7;
  const widthM = options.widthM ?? 60000;
  const heightM = options.heightM ?? 40000;
  const truthCell = options.truthCellSizeM ?? 500;
  const haloAlong = options.haloAlongM ?? HALO_ALONG_M;
  const haloAcross = options.haloAcrossM ?? HALO_ACROSS_M;
  const faultControl = options.faultControl ?? 1;
  const noise = options.noise ?? 1;
  const decoyCount = options.decoyCount ?? 0;
  if (!(sampleCount >= 50 && depositCount >= 3 && k < 0 && widthM >= 10000 && heightM >= 10000)) {
    throw new InvalidOptionError('demo survey needs ≥ 50 samples, ≥ 3 deposits, k < 0 and an area of at least 10 × 10 km', { sampleCount, depositCount, k, widthM, heightM });
  }
  if (!(haloAlong >= 100 && haloAcross >= 100)) throw new InvalidOptionError(`demo survey: halo sds must be ≥ 100 m (--halo-along, --halo-across), got ${haloAlong} and ${haloAcross}`);
  if (!(faultControl >= 0 && faultControl <= 1)) throw new InvalidOptionError(`demo survey: fault control must be in [0, 1] (--fault-control), got ${faultControl}`);
  if (!(noise >= 0 && Number.isFinite(noise))) throw new InvalidOptionError(`demo survey: noise must be ≥ 0 (--noise), got ${noise}`);
  if (!(Number.isInteger(decoyCount) && decoyCount >= 0)) throw new InvalidOptionError(`demo survey: decoys must be an integer ≥ 0 (--decoys), got ${decoyCount}`);
  const root = new Rng(seed);
  const crs = crsFromEpsg(32645);
  const extent: Extent = { xmin: ORIGIN_X, ymin: ORIGIN_Y, xmax: ORIGIN_X + widthM, ymax: ORIGIN_Y + heightM };

  // Faults: three NE-trending ore-controlling faults and three NW cross faults.
  const fr = root.fork(1);
  const faultFeatures: Feature<LineString>[] = [];
  const oreSegs: Segment[] = [];
  const oreIds: string[] = [];
  for (let i = 0; i < 6; i++) {
    const ore = i < 3;
    const az = ore ? fr.range(50, 70) : fr.range(-50, -30);
    const sx = ore ? extent.xmin + widthM * (0.05 + 0.3 * i) + fr.range(-2000, 2000) : extent.xmin + widthM * (0.3 + 0.25 * (i - 3)) + fr.range(-3000, 3000);
    const sy = ore ? extent.ymin - 2000 : extent.ymin - 2000;
    const line = walkFault(fr, extent, sx, sy, az);
    const id = `F${i + 1}`;
    if (ore) {
      oreSegs.push(...segmentsOf(line));
      oreIds.push(id);
    }
    faultFeatures.push({
      type: 'Feature',
      geometry: { type: 'LineString', coordinates: line },
      properties: { id, name: ore ? `Ore-controlling fault ${id}` : `Cross fault ${id}`, favourable: ore, kind: ore ? 'ore-controlling' : 'cross' },
    });
  }
  report(ctx, 0.1, 'faults');
  throwIfCancelled(ctx, 'demo data');

  // Deposits: uniform candidates thinned by (d/dRef)^k, so density ∝ d^k beyond dRef.
  const dr = root.fork(2);
  const deposits: { x: number; y: number; strength: number; azimuth: number }[] = [];
  const border = 2500;
  let attempts = 0;
  while (deposits.length < depositCount) {
    if (++attempts > 5_000_000) throw new InvalidOptionError('could not place the requested deposits; lower depositCount');
    const x = dr.range(extent.xmin + border, extent.xmax - border);
    const y = dr.range(extent.ymin + border, extent.ymax - border);
    const { d, azimuth } = nearestSegment(oreSegs, x, y);
    // faultControl = 1 leaves the power-law acceptance exactly as it is (default output unchanged).
    const accept = faultControl * (d <= REF_DISTANCE_M ? 1 : Math.pow(d / REF_DISTANCE_M, k)) + (1 - faultControl);
    if (dr.uniform() < accept) deposits.push({ x: Math.round(x), y: Math.round(y), strength: dr.range(0.45, 1.0), azimuth });
  }
  report(ctx, 0.25, 'deposits');

  // Decoys: uniform positions, fault-parallel like the deposits' halos, from their own stream (a
  // fresh Rng of the seed, forked with label 6: forking `root` would advance it and change every
  // later draw of the default survey).
  const decoyRng = new Rng(seed).fork(6);
  const decoys: { x: number; y: number; strength: number; azimuth: number }[] = [];
  for (let i = 0; i < decoyCount; i++) {
    const x = decoyRng.range(extent.xmin + border, extent.xmax - border);
    const y = decoyRng.range(extent.ymin + border, extent.ymax - border);
    decoys.push({ x: Math.round(x), y: Math.round(y), strength: decoyRng.range(0.45, 1.0), azimuth: nearestSegment(oreSegs, x, y).azimuth });
  }

  const haloOf = (sources: readonly { x: number; y: number; strength: number; azimuth: number }[], x: number, y: number, h0 = 0): number => {
    let h = h0;
    for (const dep of sources) {
      const dx = x - dep.x;
      const dy = y - dep.y;
      const along = dx * Math.sin(dep.azimuth) + dy * Math.cos(dep.azimuth);
      const across = dx * Math.cos(dep.azimuth) - dy * Math.sin(dep.azimuth);
      const q = (along * along) / (haloAlong * haloAlong) + (across * across) / (haloAcross * haloAcross);
      if (q < 30) h = Math.max(h, dep.strength * Math.exp(-0.5 * q));
    }
    return h;
  };
  /** Mineralisation halo (the truth raster): deposits only. */
  const haloAt = (x: number, y: number): number => haloOf(deposits, x, y);
  /** What the samples see: deposits and decoys. */
  const geochemHaloAt = (x: number, y: number): number => (decoys.length > 0 ? haloOf(decoys, x, y, haloAt(x, y)) : haloAt(x, y));

  // Samples: a jittered lattice with gaps plus scattered infill — irregular like a real survey.
  const sr = root.fork(3);
  const spacing = Math.sqrt((widthM * heightM) / (sampleCount * 0.95));
  const xs: number[] = [];
  const ys: number[] = [];
  for (let yy = extent.ymin + spacing / 2; yy < extent.ymax; yy += spacing) {
    for (let xx = extent.xmin + spacing / 2; xx < extent.xmax; xx += spacing) {
      if (sr.uniform() < 0.1) continue;
      xs.push(Math.round(xx + sr.range(-0.45, 0.45) * spacing));
      ys.push(Math.round(yy + sr.range(-0.45, 0.45) * spacing));
    }
  }
  while (xs.length < sampleCount) {
    xs.push(Math.round(sr.range(extent.xmin, extent.xmax)));
    ys.push(Math.round(sr.range(extent.ymin, extent.ymax)));
  }
  const n = xs.length;

  // Latent geological factors; the hydrothermal one is enhanced along ore-controlling faults.
  const lr = root.fork(4);
  const fields = [randomField(lr, 9000), randomField(lr, 11000), randomField(lr, 6000), randomField(lr, 4000)];
  const er = root.fork(5);
  const header = ['id', 'x', 'y', ...DEMO_ELEMENTS.map((e) => `${e.name}_${e.unit === '%' ? 'pct' : e.unit}`)];
  const rows: string[][] = [];
  for (let i = 0; i < n; i++) {
    const x = xs[i];
    const y = ys[i];
    const dFault = nearestSegment(oreSegs, x, y).d;
    const z = fields.map((f) => f(x, y));
    z[3] += 0.8 * faultControl * Math.exp(-dFault / 1500);
    const halo = geochemHaloAt(x, y);
    const row = [`S${String(i + 1).padStart(5, '0')}`, String(x), String(y)];
    for (const el of DEMO_ELEMENTS) {
      const shared = el.loadings.reduce((s, l, f) => s + l * z[f], 0);
      const own = Math.sqrt(Math.max(0.15, 1 - el.loadings.reduce((s, l) => s + l * l, 0)));
      const logV = Math.log(el.median) + el.logSd * (shared + own * er.normal() * noise) + el.halo * halo * (1 + 0.15 * er.normal());
      const v = Math.exp(logV);
      if (er.uniform() < 0.004) row.push('');
      else if (v < el.detectionLimit) row.push(`<${el.detectionLimit}`);
      else row.push(formatValue(v));
    }
    rows.push(row);
    if (i % 500 === 0) {
      report(ctx, 0.25 + 0.6 * (i / n), `samples ${i}/${n}`);
      throwIfCancelled(ctx, 'demo data');
    }
  }

  // Ground truth: the halo intensity on a regular grid.
  const truthGrid = gridFromExtent(extent, truthCell, crs);
  const truthBand = new Float32Array(truthGrid.rows * truthGrid.cols);
  for (let r = 0; r < truthGrid.rows; r++) {
    for (let c = 0; c < truthGrid.cols; c++) truthBand[r * truthGrid.cols + c] = haloAt(cellCenterX(truthGrid, c), cellCenterY(truthGrid, r));
  }
  report(ctx, 0.95, 'truth grid');

  const depositFeatures: Feature<Point>[] = deposits.map((d, i) => ({
    type: 'Feature',
    geometry: { type: 'Point', coordinates: [d.x, d.y] },
    properties: { id: `D${String(i + 1).padStart(2, '0')}`, name: `Au-Cu occurrence D${i + 1}`, strength: Number(d.strength.toFixed(3)) },
  }));
  const named = (fc: FeatureCollection): FeatureCollection & { crs: unknown } => ({
    ...fc,
    crs: { type: 'name', properties: { name: 'urn:ogc:def:crs:EPSG::32645' } },
  });
  return {
    crs,
    extent,
    header,
    rows,
    faults: named({ type: 'FeatureCollection', features: faultFeatures }) as FeatureCollection<LineString>,
    deposits: named({ type: 'FeatureCollection', features: depositFeatures }) as FeatureCollection<Point>,
    truthGrid,
    truthBand,
    truth: {
      seed,
      powerLawK: k,
      powerLawRefDistanceM: REF_DISTANCE_M,
      depositCount,
      oreFaultIds: oreIds,
      haloSigmaAlongM: haloAlong,
      haloSigmaAcrossM: haloAcross,
      ...(faultControl !== 1 ? { faultControl } : {}),
      ...(noise !== 1 ? { noise } : {}),
      ...(decoys.length > 0 ? { decoys: decoys.map((d) => ({ x: d.x, y: d.y, strength: Number(d.strength.toFixed(3)) })) } : {}),
    },
  };
}

export interface DemoFiles {
  readonly samples: string;
  readonly faults: string;
  readonly deposits: string;
  readonly truth: string;
  readonly manifest: string;
}

/** Writes the demo survey in the formats the app itself reads. */
export function writeDemoSurvey(dir: string, options: DemoSurveyOptions = {}, ctx?: JobContext): DemoFiles {
  const s = generateDemoSurvey(options, ctx);
  const files: DemoFiles = {
    samples: join(dir, 'samples.csv'),
    faults: join(dir, 'faults.geojson'),
    deposits: join(dir, 'deposits.geojson'),
    truth: join(dir, 'anomaly-truth.tif'),
    manifest: join(dir, 'demo.json'),
  };
  writeFileAtomic(files.samples, [s.header, ...s.rows].map((r) => r.join(',')).join('\n') + '\n');
  writeJsonAtomic(files.faults, s.faults);
  writeJsonAtomic(files.deposits, s.deposits);
  writeGeoTiff(files.truth, { grid: s.truthGrid, bandNames: ['anomaly_truth'], bands: [s.truthBand] }, { nodata: -9999 });
  writeJsonAtomic(files.manifest, {
    description: 'Synthetic regional geochemical survey generated by GeoAnomaly Workbench (geoanomaly demo-data).',
    crs: 'EPSG:32645',
    extent: s.extent,
    sampleCount: s.rows.length,
    elements: s.header.slice(3),
    xColumn: 'x',
    yColumn: 'y',
    suggestedCellSizeM: 500,
    files: { samples: 'samples.csv', faults: 'faults.geojson', deposits: 'deposits.geojson', truth: 'anomaly-truth.tif' },
    truth: s.truth,
  });
  report(ctx, 1, 'demo data written');
  return files;
}
