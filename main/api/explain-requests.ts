import { existsSync, statSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../models/backend.ts';
import { DeformConv2D } from '../models/deform-conv-layer.ts';
import { readManifest, MANIFEST_FILE } from '../models/run-store.ts';
import { loadRun, type LoadedRun } from '../maps/run-models.ts';
import { matchBands } from '../maps/stack-source.ts';
import { gradCam } from '../maps/grad-cam.ts';
import { offsetField, samplingPoints } from '../maps/offset-field.ts';
import { spatialLayerNames } from '../maps/layer-chain.ts';
import { readStack } from '../io/geotiff-read.ts';
import { makeStack, type RasterStack } from '../grid/raster.ts';
import { cellCenterX, cellCenterY, cellOf, inGrid } from '../grid/grid-spec.ts';
import { extractPatches } from '../sites/patches.ts';
import type { Site } from '../sites/site-blocks.ts';
import { InvalidFileError, InvalidOptionError } from '../errors.ts';
import { checkUserFile, checkUserFileOrFolder } from '../util/user-file.ts';
import type { ExplainSiteParams, ModelSiteExplanation, SiteExplanation } from './contract.ts';

/**
 * The Compare view's per-site interpretability request: Grad-CAM of every model of a saved run
 * for the window around one clicked cell, and the learned offsets of its deformable models.
 *
 * It does exactly what `geoanomaly explain` does for a deposit site (main/maps/explain.ts): the
 * window is extracted with the run's own transform statistics (`extractPatches`, nodata filled
 * with the band mean), Grad-CAM is `gradCam` at the same default layer (the model's last
 * spatial layer) and the offsets are `offsetField` at its first deformable layer, so the numbers
 * equal the command's (tests/maps/explain-requests.test.ts). One window through 2–4 small
 * models takes tens of milliseconds, so it is answered directly instead of as a job; the
 * loaded run and stack are cached, since every click on the same run needs them again.
 */

interface CachedRun {
  readonly key: string;
  readonly run: Promise<LoadedRun>;
}
interface CachedStack {
  readonly key: string;
  readonly stack: Promise<RasterStack>;
}

let cachedRun: CachedRun | null = null;
let cachedStack: CachedStack | null = null;

const stamp = (path: string): string => `${resolve(path)}@${existsSync(path) ? statSync(path).mtimeMs : -1}`;

async function runFor(runDir: string): Promise<LoadedRun> {
  const key = stamp(join(runDir, MANIFEST_FILE));
  if (cachedRun?.key === key) return cachedRun.run;
  const old = cachedRun;
  const run = (async () => {
    await initBackend('auto');
    return loadRun(runDir);
  })();
  cachedRun = { key, run };
  run.catch(() => {
    if (cachedRun?.run === run) cachedRun = null;
  });
  // Free the previous run's weights once the new one is in place.
  if (old) void old.run.then((r) => r.models.forEach((m) => m.dispose())).catch(() => undefined);
  return run;
}

/** The stack in the run's band order (the models' channel order), as `explain` builds it. */
async function stackFor(stackPath: string, bandNames: readonly string[]): Promise<RasterStack> {
  const key = `${stamp(stackPath)}|${bandNames.join(',')}`;
  if (cachedStack?.key === key) return cachedStack.stack;
  const stack = (async () => {
    const full = await readStack(stackPath);
    const idx = matchBands({ bandNames: full.bandNames, path: stackPath }, bandNames);
    return makeStack(full.grid, [...bandNames], idx.map((i) => full.bands[i]), stackPath);
  })();
  cachedStack = { key, stack };
  stack.catch(() => {
    if (cachedStack?.stack === stack) cachedStack = null;
  });
  return stack;
}

/** The element stack a run was trained on: its manifest's `stack` input (relative paths are the run folder's). */
export function runStackPath(runDir: string): string {
  const m = readManifest(runDir);
  const input = m.inputs.find((i) => i.role === 'stack');
  if (!input) throw new InvalidFileError(join(runDir, MANIFEST_FILE), 'the manifest names no stack input', 'Give the stack the run was trained on');
  return isAbsolute(input.path) ? input.path : resolve(runDir, input.path);
}

/** The training sites a run used (its manifest's `sites` input), or null. */
export function runSitesPath(runDir: string): string | null {
  const input = readManifest(runDir).inputs.find((i) => i.role === 'sites');
  if (!input) return null;
  return isAbsolute(input.path) ? input.path : resolve(runDir, input.path);
}

export async function explainSite(p: ExplainSiteParams): Promise<SiteExplanation> {
  if (!Number.isFinite(p.x) || !Number.isFinite(p.y)) throw new InvalidOptionError(`explainSite needs finite x and y, got ${p.x}, ${p.y}`);
  const classIndex = p.classIndex ?? 1;
  if (classIndex !== 0 && classIndex !== 1) throw new InvalidOptionError(`explainSite: class must be 0 or 1, got ${classIndex}`);
  await checkUserFile(join(p.runDir, MANIFEST_FILE), 'json');
  const run = await runFor(p.runDir);
  const stackPath = p.stack ?? runStackPath(p.runDir);
  await checkUserFileOrFolder(stackPath, 'raster', ['.tif', '.tiff']);
  const stack = await stackFor(stackPath, run.bandNames);
  const g = stack.grid;
  const { row, col } = cellOf(g, p.x, p.y);
  if (!inGrid(g, row, col)) {
    throw new InvalidOptionError(`(${p.x.toFixed(1)}, ${p.y.toFixed(1)}) lies outside the ${g.rows}×${g.cols} grid of ${stackPath}; click inside the stack the run was trained on`);
  }
  const k = run.window;
  const site: Site = { row, col, label: 1, siteId: 'clicked', groupId: 'clicked', source: 'user', centre: true };
  const patches = extractPatches(stack, { grid: g, sites: [site] }, { size: k, stats: run.stats, nodata: 'fill-mean' });
  const x = tf.tensor4d(patches.x, [1, k, k, run.bandNames.length]);
  const models: ModelSiteExplanation[] = [];
  try {
    for (const [name, model] of run.models) {
      const layers = spatialLayerNames(model);
      const deformable = model.layers.filter((l) => l instanceof DeformConv2D).map((l) => l.name);
      // The layer choice of explain.ts's pickLayer: the asked layer if the model has it, else the defaults.
      const camLayer = p.layer && layers.includes(p.layer) ? p.layer : layers[layers.length - 1];
      const offLayer = p.layer && deformable.includes(p.layer) ? p.layer : (deformable[0] ?? null);
      const r = gradCam(model, x, camLayer, classIndex);
      const values = Array.from(r.maps);
      const gradcam = {
        layer: camLayer,
        size: k,
        values,
        raw: Array.from(r.raw),
        rawShape: r.layerShape,
        peak: Math.max(...r.maps),
        centre: r.maps[((k - 1) / 2) * k + (k - 1) / 2],
      };
      let offsets: ModelSiteExplanation['offsets'] = null;
      if (offLayer) {
        const f = offsetField(model, x, offLayer);
        const n = f.height * f.width;
        const taps = f.mask.length / n;
        const meanMaskPerCell = Array.from({ length: n }, (_, c) => {
          let m = 0;
          for (let t = 0; t < taps; t++) m += f.mask[c * taps + t];
          return m / taps;
        });
        let maskSum = 0;
        for (const v of f.mask) maskSum += v;
        offsets = {
          layer: offLayer,
          height: f.height,
          width: f.width,
          kernel: f.kernel,
          meanDx: Array.from(f.meanDx),
          meanDy: Array.from(f.meanDy),
          meanMagnitude: Array.from(f.meanMagnitude),
          meanMaskPerCell,
          centreTaps: samplingPoints(f, 0, Math.floor(f.height / 2), Math.floor(f.width / 2)),
          meanOffsetCells: f.meanMagnitude.reduce((a, v) => a + v, 0) / n,
          meanMask: maskSum / f.mask.length,
        };
      }
      models.push({ name, layers, deformableLayers: deformable, gradcam, offsets });
    }
  } finally {
    x.dispose();
  }
  return {
    runDir: p.runDir,
    stack: stackPath,
    row,
    col,
    x: cellCenterX(g, col),
    y: cellCenterY(g, row),
    window: k,
    cellSizeX: g.cellSizeX,
    cellSizeY: g.cellSizeY,
    classIndex,
    filledCells: patches.filled[0] ?? 0,
    models,
  };
}

/** What the Compare view needs to know about a run before the first click. */
export async function describeRun(runDir: string): Promise<{ runDir: string; models: string[]; stack: string | null; sites: string | null; window: number | null }> {
  await checkUserFile(join(runDir, MANIFEST_FILE), 'json');
  const m = readManifest(runDir);
  let stack: string | null = null;
  try {
    stack = runStackPath(runDir);
  } catch {
    stack = null;
  }
  const patch = m.patch as { size?: number };
  return { runDir, models: Object.keys(m.models), stack, sites: runSitesPath(runDir), window: patch?.size ?? null };
}
