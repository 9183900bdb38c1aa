import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import type { GridSpec } from '../grid/grid-spec.ts';
import type { RasterStack } from '../grid/raster.ts';
import { extractPatches } from '../sites/patches.ts';
import type { Site, SiteSet } from '../sites/site-blocks.ts';
import { DeformConv2D } from '../nn/layers/deform-conv-layer.ts';
import { renderMapFigure, type MapPanel } from '../figures/map-figure.ts';
import { writeFileAtomic, writeJsonAtomic } from '../util/atomic-write.ts';
import { EmptyInputError } from '../errors.ts';
import { report, throwIfCancelled, type JobContext } from '../jobs/job.ts';
import { gradCam } from './grad-cam.ts';
import { offsetField, samplingPoints } from './offset-field.ts';
import { spatialLayerNames } from './layer-chain.ts';
import type { LoadedRun } from './run-models.ts';
import { predictMapToGeoTiff, type NamedClassifier } from './predict-map.ts';
import type { StackSource } from './stack-source.ts';

/**
 * Per-site interpretability panels and map-wide explanation rasters for a trained run:
 * Grad-CAM heat maps of every model at each deposit site (the paper's Figs. 10–11 layout:
 * CNN vs DCN and GK-CNN vs GK-DCN side by side), the learned offsets of deformable models as
 * quiver panels with the modulation mask, and Grad-CAM / offset-magnitude rasters over the grid.
 */
export interface ExplainOptions {
  /** Layer for Grad-CAM / offsets; default: each model's last spatial layer (Grad-CAM) and first deformable layer (offsets). */
  readonly layer?: string;
  readonly gradcam?: boolean;
  readonly offsets?: boolean;
  /** Class explained (1 = deposit). @default 1 */
  readonly classIndex?: number;
  /** Deposit sites shown (the paper shows ten). @default 10 */
  readonly maxSites?: number;
  /** Also write map-wide rasters. @default true */
  readonly maps?: boolean;
  readonly dpi?: number;
}

export interface ExplainResult {
  readonly files: string[];
  readonly sites: { siteId: string; row: number; col: number; models: Record<string, { gradcamPeak: number; gradcamCentre: number; meanOffsetCells?: number; meanMask?: number }> }[];
}

function pickLayer(model: tfl.LayersModel, wanted: string | undefined, kind: 'gradcam' | 'offsets'): string | null {
  const spatial = spatialLayerNames(model);
  if (wanted && spatial.includes(wanted)) return wanted;
  if (kind === 'gradcam') return spatial[spatial.length - 1] ?? null;
  const dcn = model.layers.filter((l) => l instanceof DeformConv2D).map((l) => l.name);
  return dcn[0] ?? null;
}

function windowGrid(stack: GridSpec, site: Site, k: number, scale = 1): GridSpec {
  const h = (k - 1) / 2;
  return {
    ...stack,
    originX: stack.originX + (site.col - h) * stack.cellSizeX,
    originY: stack.originY - (site.row - h) * stack.cellSizeY,
    cellSizeX: stack.cellSizeX * scale,
    cellSizeY: stack.cellSizeY * scale,
    rows: Math.round(k / scale),
    cols: Math.round(k / scale),
  };
}

const PAIRS: [string, string][] = [
  ['cnn', 'dcn'],
  ['gk-cnn', 'gk-dcn'],
];

export async function explainRun(run: LoadedRun, stack: RasterStack, sites: SiteSet, source: StackSource, outDir: string, options: ExplainOptions = {}, ctx?: JobContext): Promise<ExplainResult> {
  const k = run.window;
  const cls = options.classIndex ?? 1;
  const doCam = options.gradcam ?? true;
  const doOff = options.offsets ?? true;
  const centres = sites.sites.filter((s) => s.centre && s.label === 1).slice(0, options.maxSites ?? 10);
  if (centres.length === 0) throw new EmptyInputError('sites', 'no deposit (label 1) block centre among the sites', 'Give the sites file the model was trained with');
  const patches = extractPatches(stack, { grid: sites.grid, sites: centres }, { size: k, stats: run.stats, nodata: 'fill-mean' });
  const C = run.bandNames.length;
  const x = tf.tensor4d(patches.x, [centres.length, k, k, C]);
  const files: string[] = [];
  const perSite: ExplainResult['sites'] = centres.map((s) => ({ siteId: s.siteId, row: s.row, col: s.col, models: {} }));
  const camPanels = new Map<string, MapPanel[]>();
  const offsetPanels = new Map<string, MapPanel[]>();
  const offsetLayers = new Map<string, string>();
  const modulationPanels = new Map<string, MapPanel[]>();
  try {
    let step = 0;
    for (const [name, model] of run.models) {
      throwIfCancelled(ctx, 'explain');
      report(ctx, (0.5 * step++) / run.models.size, `explaining ${name}`);
      if (doCam) {
        const layer = pickLayer(model, options.layer, 'gradcam');
        if (layer) {
          const r = gradCam(model, x, layer, cls);
          const panels: MapPanel[] = [];
          centres.forEach((s, i) => {
            const map = r.maps.slice(i * k * k, (i + 1) * k * k);
            const peak = Math.max(...map);
            perSite[i].models[name] = { gradcamPeak: peak, gradcamCentre: map[((k - 1) / 2) * k + (k - 1) / 2] };
            panels.push({
              grid: windowGrid(stack.grid, s, k),
              band: peak > 0 ? map.map((v) => v / peak) : map,
              title: `${s.siteId} · ${name}`,
              legend: 'Grad-CAM',
              ramp: 'hot',
              stretch: { fixed: [0, 1] },
              points: [{ x: [stack.grid.originX + (s.col + 0.5) * stack.grid.cellSizeX], y: [stack.grid.originY - (s.row + 0.5) * stack.grid.cellSizeY], style: 'deposit' }],
            });
          });
          camPanels.set(name, panels);
        }
      }
      if (doOff) {
        const layer = pickLayer(model, options.layer, 'offsets');
        if (layer && model.getLayer(layer) instanceof DeformConv2D) {
          const f = offsetField(model, x, layer);
          const scale = k / f.height;
          const panels: MapPanel[] = [];
          const maskPanels: MapPanel[] = [];
          centres.forEach((s, i) => {
            const g = windowGrid(stack.grid, s, k, scale);
            const n = f.height * f.width;
            const mag = f.meanMagnitude.slice(i * n, (i + 1) * n);
            const xs: number[] = [];
            const ys: number[] = [];
            const dxs: number[] = [];
            const dys: number[] = [];
            for (let yy = 0; yy < f.height; yy++) {
              for (let xx = 0; xx < f.width; xx++) {
                const cell = i * n + yy * f.width + xx;
                xs.push(g.originX + (xx + 0.5) * g.cellSizeX);
                ys.push(g.originY - (yy + 0.5) * g.cellSizeY);
                // Offsets are in input cells of the layer: Δx east, Δy down the rows (south).
                dxs.push(f.meanDx[cell] * g.cellSizeX);
                dys.push(-f.meanDy[cell] * g.cellSizeY);
              }
            }
            let maskSum = 0;
            for (let t = i * n * (f.mask.length / (f.n * n)); t < (i + 1) * n * (f.mask.length / (f.n * n)); t++) maskSum += f.mask[t];
            const meanMask = maskSum / (n * (f.mask.length / (f.n * n)));
            const meanOff = mag.reduce((a, v) => a + v, 0) / n;
            perSite[i].models[name] = { ...(perSite[i].models[name] ?? { gradcamPeak: NaN, gradcamCentre: NaN }), meanOffsetCells: meanOff, meanMask };
            // The centre cell's taps: arrows from the regular 3×3 sampling grid to the learned points.
            const cy = Math.floor(f.height / 2);
            const cx = Math.floor(f.width / 2);
            const taps = samplingPoints(f, i, cy, cx);
            const tapArrows = {
              x: taps.map((t) => g.originX + (t.col - t.dx + 0.5) * g.cellSizeX),
              y: taps.map((t) => g.originY - (t.row - t.dy + 0.5) * g.cellSizeY),
              dx: taps.map((t) => t.dx * g.cellSizeX),
              dy: taps.map((t) => -t.dy * g.cellSizeY),
              colour: '#ff3b30',
            };
            panels.push({
              grid: g,
              band: mag,
              title: `${s.siteId} · ${name}`,
              legend: 'mean |Δp| (cells)',
              ramp: 'viridis',
              stretch: { kind: 'minmax' },
              arrows: [{ x: xs, y: ys, dx: dxs, dy: dys, colour: '#ffffff' }, tapArrows],
            });
            const taps2 = f.mask.length / (f.n * n);
            const meanMaskCells = Float32Array.from({ length: n }, (_, c) => {
              let m = 0;
              for (let t = 0; t < taps2; t++) m += f.mask[(i * n + c) * taps2 + t];
              return m / taps2;
            });
            maskPanels.push({ grid: g, band: meanMaskCells, title: `${s.siteId} · ${name}`, legend: 'mean mask', ramp: 'magma', stretch: { fixed: [0, 1] } });
          });
          offsetPanels.set(name, panels);
          modulationPanels.set(name, maskPanels);
          offsetLayers.set(name, layer);
        }
      }
    }
    const dpi = options.dpi ?? 150;
    const write = (file: string, panels: MapPanel[], columns: number, title: string): void => {
      const path = join(outDir, file);
      writeFileAtomic(path, renderMapFigure(panels, { columns, title, panelWidth: 170, dpi }));
      files.push(path);
    };
    for (const [a, b] of PAIRS) {
      const pa = camPanels.get(a);
      const pb = camPanels.get(b);
      if (pa && pb) write(`gradcam-${a}-vs-${b}.png`, pa.flatMap((p, i) => [p, pb[i]]), 2, `Grad-CAM (class ${cls}) at deposit sites: ${a.toUpperCase()} vs ${b.toUpperCase()}`);
    }
    if (camPanels.size > 0) {
      const names = [...camPanels.keys()];
      write('gradcam-sites.png', centres.flatMap((_, i) => names.map((n) => (camPanels.get(n) as MapPanel[])[i])), names.length, `Grad-CAM (class ${cls}) at deposit sites: ${names.join(', ')}`);
    }
    for (const [name, panels] of offsetPanels) {
      write(`offsets-${name}.png`, panels, Math.min(5, panels.length), `Offsets of ${name} (${offsetLayers.get(name)}): mean shift per cell (white), centre-cell sampling (red)`);
      write(`modulation-${name}.png`, modulationPanels.get(name) ?? [], Math.min(5, panels.length), `Modulation mask of ${name} (${offsetLayers.get(name)}): mean over taps per cell`);
    }
  } finally {
    x.dispose();
  }

  if (options.maps ?? true) {
    const classifiers: NamedClassifier[] = [];
    for (const [name, model] of run.models) {
      const camLayer = doCam ? pickLayer(model, options.layer, 'gradcam') : null;
      if (camLayer) {
        classifiers.push({
          name: `gradcam_${name}`,
          classify: (w, n) => {
            const t = tf.tensor4d(w, [n, k, k, C]);
            const r = gradCam(model, t, camLayer, cls);
            t.dispose();
            const c = ((k - 1) / 2) * k + (k - 1) / 2;
            return Float32Array.from({ length: n }, (_, i) => r.maps[i * k * k + c]);
          },
        });
      }
      const offLayer = doOff ? pickLayer(model, options.layer, 'offsets') : null;
      if (offLayer && model.getLayer(offLayer) instanceof DeformConv2D) {
        classifiers.push({
          name: `offset_magnitude_${name}`,
          classify: (w, n) => {
            const t = tf.tensor4d(w, [n, k, k, C]);
            const f = offsetField(model, t, offLayer);
            t.dispose();
            const cy = Math.floor(f.height / 2);
            const cx = Math.floor(f.width / 2);
            return Float32Array.from({ length: n }, (_, i) => f.meanMagnitude[(i * f.height + cy) * f.width + cx]);
          },
        });
      }
    }
    if (classifiers.length > 0) {
      const path = join(outDir, 'explain-maps.tif');
      await predictMapToGeoTiff(source, classifiers, { window: k, bandNames: run.bandNames, stats: run.stats, batchSize: 256, bandPrefix: '' }, path, {
        signal: ctx?.signal,
        progress: (f, m) => report(ctx, 0.5 + 0.5 * f, `explanation rasters: ${m}`),
      });
      files.push(path);
    }
  }
  const json = join(outDir, 'explain.json');
  writeJsonAtomic(json, { classIndex: cls, layer: options.layer ?? 'default', sites: perSite, files: files.map((f) => f.slice(outDir.length + 1)) });
  files.push(json);
  report(ctx, 1, 'explanations written');
  return { files, sites: perSite };
}
