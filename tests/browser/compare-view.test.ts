import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Locator, Page } from 'playwright-core';
import { explainSite } from '../../main/api/explain-requests.ts';
import { attributeSite } from '../../main/api/run-insight-requests.ts';
import { gradCamPixels } from '../../renderer/src/lib/explain-draw.ts';
import { readGeoTiffInfo } from '../../main/io/geotiff-read.ts';
import { tempDir } from '../helpers/paths.ts';
import { runCli } from '../helpers/cli-process.ts';
import { decodePng, diffImages, type Image } from './png.ts';
import { expectedImage } from './screenshot-compare.ts';
import { haveChromium, mapIdle, openSession, type Session } from './workbench-session.ts';

/**
 * The Compare tab (issue #9) in Chromium against the real backend, on the demo survey with a
 * small run trained by the CLI in the test set-up (4 kriged elements at 1 km, deposits + automatic
 * negatives, CNN + DCN for 1 epoch with 2 folds, probability maps): the swipe divider (slider,
 * keyboard, drag) changes exactly the pixels it uncovers; a click on a deposit opens one Grad-CAM
 * panel per model and a quiver for the DCN with the numbers the backend computes for that site;
 * robust PCA from the UI gives one biplot arrow per element and the PC2 layer; `evaluate` from the
 * UI gives the C–A plot with editable breaks and the success-rate curve whose AUC is EVAL.json's.
 */
const work = tempDir('ga-browser-compare-');
/** Screenshot comparison as in workbench.test.ts: a channel off by > 40 makes a pixel differ; ≤ 2 % may. */
const CHANNEL_TOLERANCE = 40;
const MAX_DIFF_FRACTION = 0.02;
const ELEMENTS = ['Au', 'Cu', 'As', 'Sb'];

let s: Session;
let page: Page;
const fx = {
  dir: join(work, 'fixture'),
  get stack() {
    return join(this.dir, 'stack.tif');
  },
  get sites() {
    return join(this.dir, 'sites.geojson');
  },
  get run() {
    return join(this.dir, 'train-test.run');
  },
  get prob() {
    return join(this.dir, 'train-test.run-probability.tif');
  },
  get holdout() {
    return join(this.dir, 'deposits-holdout.geojson');
  },
};

const cli = runCli;

/** The demo survey (same seed as the app's), a 1 km stack of 4 elements, sites, a 1-epoch run, its probability maps. */
async function buildFixture(): Promise<void> {
  mkdirSync(fx.dir, { recursive: true });
  await cli('demo-data', '--out', fx.dir);
  // Every third deposit is held out for the map evaluation (never a training site), as `geoanomaly demo` does.
  const all = JSON.parse(readFileSync(join(fx.dir, 'deposits.geojson'), 'utf8')) as { features: unknown[] };
  writeFileSync(fx.holdout, JSON.stringify({ ...all, features: all.features.filter((_, i) => i % 3 === 0) }));
  writeFileSync(join(fx.dir, 'deposits-train.geojson'), JSON.stringify({ ...all, features: all.features.filter((_, i) => i % 3 !== 0) }));
  await cli('krige', '--samples', join(fx.dir, 'samples.csv'), '--x', 'x', '--y', 'y', '--crs', 'EPSG:32645', '--fields', ELEMENTS.join(','), '--cell', '1000', '--nmax', '16', '--log', '--out', fx.stack);
  await cli('sites', '--deposits', join(fx.dir, 'deposits-train.geojson'), '--grid', fx.stack, '--negatives', 'auto', '--min-deposit-dist', '5000', '--seed', '3', '--out', fx.sites);
  await cli('train', '--stack', fx.stack, '--sites', fx.sites, '--model', 'cnn,dcn', '--epochs', '1', '--folds', '2', '--repeats', '1', '--seed', '5', '--threads', '1', '--out', fx.run);
  await cli('predict', '--run', fx.run, '--stack', fx.stack, '--model', 'all', '--threads', '1', '--out', fx.prob);
}

async function importLayer(kind: 'raster' | 'vector', path: string): Promise<void> {
  await page.click('[data-testid="import-layer"]');
  await page.selectOption('[data-testid="import-kind"]', kind);
  await page.fill('[data-testid="import-path"]', path);
  await page.click('[data-testid="import-submit"]');
  await page.waitForSelector('[data-testid="import-dialog"]', { state: 'detached' });
}

const shot = async (l: Locator): Promise<Image> => decodePng(await l.screenshot({ animations: 'disabled' }));

async function expectScreenshot(l: Locator, name: string): Promise<void> {
  const png = await l.screenshot({ animations: 'disabled' });
  const expected = expectedImage(name, png);
  const a = decodePng(png);
  const b = decodePng(expected);
  expect([a.width, a.height], `${name}: size`).toEqual([b.width, b.height]);
  const diff = diffImages(a, b, CHANNEL_TOLERANCE);
  if (diff.fraction > MAX_DIFF_FRACTION) writeFileSync(join(work, `actual-${name}`), png);
  expect(diff.fraction, `${name}: ${diff.differing} pixels differ (actual saved in ${work})`).toBeLessThanOrEqual(MAX_DIFF_FRACTION);
}

/** Fraction of pixels differing (channel > 40) within columns [x0, x1) of two same-size images. */
function diffColumns(a: Image, b: Image, x0: number, x1: number): number {
  let n = 0;
  let d = 0;
  for (let y = 0; y < a.height; y++) {
    for (let x = Math.max(0, Math.round(x0)); x < Math.min(a.width, Math.round(x1)); x++) {
      const i = (y * a.width + x) * 4;
      n++;
      if ([0, 1, 2, 3].some((c) => Math.abs(a.data[i + c] - b.data[i + c]) > CHANNEL_TOLERANCE)) d++;
    }
  }
  return d / n;
}

const runsFiles = (re: RegExp): string[] =>
  readdirSync(join(s.dataDir, 'runs'))
    .filter((f) => re.test(f))
    .sort();

describe.skipIf(!haveChromium)('Compare view: swipe, site panels, RPCA, C–A and success rate (browser host)', () => {
  beforeAll(async () => {
    // The renderer build and the CLI run are independent: do them at the same time.
    const [session] = await Promise.all([openSession(work), buildFixture()]);
    s = session;
    page = s.page;
    await page.goto(s.host.url);
    await page.waitForSelector('[data-testid="layer"]');
    await mapIdle(page);
    await importLayer('raster', fx.stack);
    await importLayer('raster', fx.prob);
    await importLayer('vector', fx.holdout);
    await page.click('[data-testid="tab-compare"]');
    await page.waitForSelector('[data-testid="compare-view"]');
  }, 400_000);
  afterAll(async () => {
    await s?.close();
  });

  it('swipe: one map with two bands; the divider (slider, keyboard, drag) changes only the pixels it uncovers', async () => {
    await page.click('[data-testid="compare-swipe"]');
    await page.waitForSelector('[data-testid="swipe-view"]');
    // Defaults: the newest multiband layer (the prediction), p_cnn left, p_dcn right.
    await expect.poll(() => page.inputValue('[data-testid="swipe-band-left"]')).toBe('p_cnn');
    expect(await page.inputValue('[data-testid="swipe-band-right"]')).toBe('p_dcn');
    // The two 1-epoch models' maps look alike; two elements (Au | Cu) make the divider's effect plain.
    await page.selectOption('[data-testid="compare-layer"]', { label: 'stack' });
    await expect.poll(() => page.inputValue('[data-testid="swipe-band-left"]')).toBe('Au');
    expect(await page.inputValue('[data-testid="swipe-band-right"]')).toBe('Cu');
    const map = page.locator('[data-testid="swipe-map"]');
    await page.waitForTimeout(800);
    const at50 = await shot(map);
    await page.fill('[data-testid="swipe-range"]', '20');
    expect(Number(await page.getAttribute('[data-testid="swipe-view"]', 'data-percent'))).toBe(20);
    await page.waitForTimeout(400);
    const at20 = await shot(map);
    const w = at50.width;
    // Between 20 % and 50 % the left band (CNN) now shows instead of the right one (DCN): the two
    // models' maps differ, so many pixels change; left of 20 % and right of 50 % nothing changes
    // (4 px kept clear of the two divider lines).
    const uncovered = diffColumns(at50, at20, 0.2 * w + 4, 0.5 * w - 4);
    expect(uncovered).toBeGreaterThan(0.05);
    expect(diffColumns(at50, at20, 0, 0.2 * w - 4)).toBeLessThanOrEqual(0.002);
    expect(diffColumns(at50, at20, 0.5 * w + 4, w)).toBeLessThanOrEqual(0.002);
    // Keyboard: the slider moves in 0.5 % steps.
    await page.focus('[data-testid="swipe-range"]');
    await page.keyboard.press('ArrowRight');
    await page.keyboard.press('ArrowRight');
    expect(Number(await page.getAttribute('[data-testid="swipe-view"]', 'data-percent'))).toBe(21);
    // Drag the divider's handle to 70 % of the map width.
    const handle = await page.locator('[data-testid="swipe-handle"]').boundingBox();
    const box = await map.boundingBox();
    if (!handle || !box) throw new Error('swipe map has no box');
    await page.mouse.move(handle.x + handle.width / 2, handle.y + handle.height / 2);
    await page.mouse.down();
    await page.mouse.move(box.x + 0.7 * box.width, handle.y + handle.height / 2, { steps: 5 });
    await page.mouse.up();
    expect(Math.abs(Number(await page.getAttribute('[data-testid="swipe-view"]', 'data-percent')) - 70)).toBeLessThanOrEqual(0.2);
    await page.waitForTimeout(400);
    const at70 = await shot(map);
    expect(diffColumns(at20, at70, 0.2 * w + 4, 0.7 * w - 4)).toBeGreaterThan(0.05);
    expect(diffColumns(at20, at70, 0.7 * w + 4, w)).toBeLessThanOrEqual(0.002);
    await page.selectOption('[data-testid="compare-layer"]', { label: 'train-test.run-probability' });
  });

  it('a click on a deposit opens Grad-CAM per model and the DCN quiver with the backend numbers', async () => {
    await page.click('[data-testid="compare-2"]');
    await page.waitForSelector('[data-testid="compare-map"]');
    await expect.poll(() => page.locator('[data-testid="compare-band"]').evaluateAll((els) => els.map((e) => (e as unknown as { value: string }).value))).toEqual(['p_cnn', 'p_dcn']);
    // The run is taken from the probability layer's name (<run>-probability.tif).
    await expect.poll(() => page.textContent('[data-testid="compare-run-info"]')).toContain('Models cnn, dcn');
    await page.waitForTimeout(800);
    const view = page.locator('[data-testid="compare-view"]');
    await page.mouse.move(0, 0);
    await expectScreenshot(view, 'compare-maps.png');

    // A deposit well inside the grid, located on screen from the view's centre and resolution.
    const deposits = JSON.parse(readFileSync(join(fx.dir, 'deposits.geojson'), 'utf8')) as { features: { geometry: { coordinates: [number, number] } }[] };
    const info = await readGeoTiffInfo(fx.stack);
    const g = info.grid;
    const [dx, dy] = deposits.features
      .map((f) => f.geometry.coordinates)
      .find(([x, y]) => x > g.originX + 10 * g.cellSizeX && x < g.originX + (g.cols - 10) * g.cellSizeX && y < g.originY - 10 * g.cellSizeY && y > g.originY - (g.rows - 10) * g.cellSizeY) ?? [NaN, NaN];
    expect(Number.isFinite(dx)).toBe(true);
    const res = Number(await view.getAttribute('data-resolution'));
    const cx = Number(await view.getAttribute('data-center-x'));
    const cy = Number(await view.getAttribute('data-center-y'));
    const left = await page.locator('[data-testid="compare-map"]').first().boundingBox();
    if (!left) throw new Error('compare map has no box');
    // 3 px off the deposit: the click snaps to it.
    await page.mouse.click(left.x + left.width / 2 + (dx - cx) / res + 3, left.y + left.height / 2 - (dy - cy) / res - 2);
    await page.waitForSelector('[data-testid="site-model"]', { timeout: 60_000 });
    const panel = page.locator('[data-testid="site-panels"]');
    expect(await page.locator('[data-testid="site-error"]').count()).toBe(0);

    // Reference: the backend request for the same site (the same code `geoanomaly explain` runs;
    // tests/maps/explain-requests.test.ts checks it against the command to 1e-6).
    const ref = await explainSite({ runDir: fx.run, x: dx, y: dy });
    expect(await page.textContent('[data-testid="site-title"]')).toBe(`Cell row ${ref.row}, col ${ref.col}`);
    const cams = page.locator('[data-testid="gradcam-panel"]');
    expect(await cams.count()).toBe(2);
    const got = await cams.evaluateAll((els) => els.map((e) => [e.getAttribute('data-model'), e.getAttribute('data-layer'), Number(e.getAttribute('data-peak')), Number(e.getAttribute('data-centre'))]));
    // Exact: the numbers cross the contract unchanged (JSON / wire round trip of doubles).
    expect(got).toEqual(ref.models.map((m) => [m.name, m.gradcam.layer, m.gradcam.peak, m.gradcam.centre]));
    expect(ref.models.some((m) => m.gradcam.peak > 0)).toBe(true);
    // Every heat-map cell is drawn from the returned values: the canvas pixels equal the ramp of value / peak (exact bytes).
    type Canvas2d = { width: number; height: number; getContext(k: '2d'): { getImageData(x: number, y: number, w: number, h: number): { data: ArrayLike<number> } } };
    const pixels = await page.locator('[data-testid="gradcam-canvas"]').evaluateAll((els) =>
      els.map((e) => {
        const c = e as unknown as Canvas2d;
        return Array.from(c.getContext('2d').getImageData(0, 0, c.width, c.height).data);
      }),
    );
    expect(pixels).toEqual(ref.models.map((m) => Array.from(gradCamPixels(m.gradcam.values, m.gradcam.size, m.gradcam.peak))));
    const quivers = page.locator('[data-testid="quiver-panel"]');
    expect(await quivers.count()).toBe(1);
    const dcn = ref.models.find((m) => m.name === 'dcn')?.offsets;
    if (!dcn) throw new Error('the DCN has no offsets');
    expect(await quivers.getAttribute('data-model')).toBe('dcn');
    expect(Number(await quivers.getAttribute('data-mean-offset'))).toBe(dcn.meanOffsetCells);
    expect(Number(await quivers.getAttribute('data-mean-mask'))).toBe(dcn.meanMask);
    expect(await quivers.locator('[data-testid="quiver-arrow"]').count()).toBe(dcn.height * dcn.width);
    expect(await quivers.locator('[data-testid="quiver-tap"]').count()).toBe(9);
    await expectScreenshot(panel, 'compare-site-panel.png');

    // Per-element attribution beside Grad-CAM (issue #20), on request: the bars are the backend's
    // occlusion numbers for this cell (tests/api/run-insight-requests.test.ts checks them against
    // `geoanomaly explain --attribution occlusion` to 1e-6), in order, for both networks.
    await page.click('[data-testid="site-attribute"]');
    const attr = page.locator('[data-testid="attribution-panel"]');
    await expect.poll(() => attr.count(), { timeout: 60_000 }).toBe(2);
    expect(await page.locator('[data-testid="attribution-error"]').count()).toBe(0);
    const refAttr = await attributeSite({ runDir: fx.run, x: dx, y: dy });
    type El = { getAttribute(n: string): string | null; querySelectorAll(s: string): ArrayLike<El> };
    const shown = await attr.evaluateAll((els) =>
      els.map((e) => {
        const el = e as unknown as El;
        return [el.getAttribute('data-model'), Number(el.getAttribute('data-p')), Array.from(el.querySelectorAll('[data-testid="attribution-row"]')).map((r) => [r.getAttribute('data-band'), Number(r.getAttribute('data-value'))])];
      }),
    );
    // Exact: doubles cross the contract unchanged; the panel shows the 8 largest |Δp|.
    expect(shown).toEqual(refAttr.models.map((m) => [m.name, m.p, m.elements.slice(0, 8).map((e) => [e.band, e.value])]));

    // Another layer: Grad-CAM of the stem convolution, recomputed on the backend.
    await page.selectOption('[data-testid="site-layer"]', 'stem_conv');
    await expect.poll(() => cams.evaluateAll((els) => els.map((e) => e.getAttribute('data-layer')))).toEqual(['stem_conv', 'stem_conv']);
    const ref2 = await explainSite({ runDir: fx.run, x: dx, y: dy, layer: 'stem_conv' });
    expect(await cams.evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-peak'))))).toEqual(ref2.models.map((m) => m.gradcam.peak));
    await page.click('[data-testid="site-close"]');
    expect(await page.locator('[data-testid="site-panels"]').count()).toBe(0);
  });

  it('robust PCA from the panel: one biplot arrow per element, the PC2 layer shown in compare', async () => {
    await page.selectOption('[data-testid="rpca-stack"]', { label: 'stack (4 bands)' });
    await page.click('[data-testid="rpca-run"]');
    await page.waitForSelector('[data-testid="biplot"], [data-testid="rpca-error"]', { timeout: 120_000 });
    expect(await page.locator('[data-testid="rpca-error"]').allTextContents()).toEqual([]);
    const [outDir] = runsFiles(/^rpca-.*\.out$/);
    const loadings = JSON.parse(readFileSync(join(s.dataDir, 'runs', outDir, 'loadings.json'), 'utf8')) as { bands: string[]; loadings: number[][] };
    expect(loadings.bands).toEqual(ELEMENTS);
    expect(Number(await page.getAttribute('[data-testid="biplot"]', 'data-arrows'))).toBe(4);
    const rows = await page.locator('[data-testid="biplot-arrow"]').evaluateAll((els) => els.map((e) => [e.getAttribute('data-element'), Number(e.getAttribute('data-pc1')), Number(e.getAttribute('data-pc2'))]));
    expect(rows).toEqual(loadings.bands.map((b, i) => [b, loadings.loadings[i][0], loadings.loadings[i][1]]));
    // PC2 beside PC1 in the compare maps.
    await expect.poll(() => page.locator('[data-testid="compare-band"]').evaluateAll((els) => els.map((e) => (e as unknown as { value: string }).value))).toEqual(['PC2', 'PC1']);
    await page.click('[data-testid="tab-layers"]');
    expect(await page.locator('[data-testid="layer"][data-layer^="PC scores"]').count()).toBe(1);
    await page.click('[data-testid="tab-compare"]');
  });

  it('evaluate from the panel: C–A plot with editable breaks, success-rate AUC = EVAL.json', async () => {
    await page.selectOption('[data-testid="eval-map"]', { label: 'train-test.run-probability' });
    await page.selectOption('[data-testid="eval-band"]', 'p_cnn');
    await page.selectOption('[data-testid="eval-deposits"]', { label: 'deposits-holdout' });
    expect(await page.inputValue('[data-testid="eval-sites"]')).toBe('');
    await page.click('[data-testid="eval-run"]');
    await page.waitForSelector('[data-testid="success-rate"], [data-testid="eval-error"]', { timeout: 120_000 });
    expect(await page.locator('[data-testid="eval-error"]').allTextContents()).toEqual([]);
    const files = runsFiles(/^evaluate-.*\.json$/);
    expect(files).toHaveLength(1);
    const ev = JSON.parse(readFileSync(join(s.dataDir, 'runs', files[0]), 'utf8')) as { auc: number; successRate: { auc: number }; caBreaks: number[]; ca: { source: string }; inputs: { band: string; deposits: string; excludeTraining: string | null }; counts: { excludedCells: number } };
    expect(ev.inputs.band).toBe('p_cnn');
    expect(ev.inputs.deposits).toBe(fx.holdout);
    // The training sites of the run (its manifest's input) were excluded by default.
    expect(ev.inputs.excludeTraining).toBe(fx.sites);
    expect(ev.counts.excludedCells).toBeGreaterThan(0);
    expect(Math.abs(Number(await page.getAttribute('[data-testid="success-rate-auc"]', 'data-value')) - ev.successRate.auc)).toBeLessThanOrEqual(1e-12);
    expect(Math.abs(Number(await page.getAttribute('[data-testid="eval-auc"]', 'data-value')) - ev.auc)).toBeLessThanOrEqual(1e-12);
    expect(await page.textContent('[data-testid="success-rate-auc"]')).toBe(ev.successRate.auc.toFixed(4));
    const ca = page.locator('[data-testid="ca-plot"]');
    expect(Number(await ca.getAttribute('data-breaks'))).toBe(ev.caBreaks.length);
    expect(await ca.getAttribute('data-source')).toBe('auto');
    await page.click('[data-testid="tab-layers"]');
    expect(await page.locator('[data-testid="layer"][data-layer="C–A classes (p_cnn)"]').count()).toBe(1);
    await page.click('[data-testid="tab-compare"]');

    // Typed breaks re-classify: a new evaluation with exactly these breaks, the classes layer replaced.
    await page.fill('[data-testid="ca-breaks"]', '0.3, 0.6');
    await page.click('[data-testid="ca-apply"]');
    await expect.poll(() => runsFiles(/^evaluate-.*\.json$/).length, { timeout: 60_000 }).toBe(2);
    await expect.poll(() => ca.getAttribute('data-source'), { timeout: 60_000 }).toBe('user');
    const typed = JSON.parse(readFileSync(join(s.dataDir, 'runs', runsFiles(/^evaluate-.*\.json$/)[1]), 'utf8')) as { caBreaks: number[]; successRate: { auc: number } };
    expect(typed.caBreaks).toEqual([0.3, 0.6]);
    expect(typed.successRate.auc).toBe(ev.successRate.auc); // breaks do not change the ranking
    // Dragging the second break to the right re-classifies again with a larger value.
    await expect.poll(async () => (await ca.getAttribute('data-break-px'))?.split(',').length ?? 0).toBe(2);
    const px = ((await ca.getAttribute('data-break-px')) ?? '').split(',').map(Number);
    const canvas = await page.locator('[data-testid="ca-canvas"]').boundingBox();
    if (!canvas) throw new Error('C–A canvas has no box');
    const y = canvas.y + canvas.height / 2;
    await page.mouse.move(canvas.x + px[1], y);
    await page.mouse.down();
    await page.mouse.move(canvas.x + px[1] + 15, y, { steps: 4 });
    await page.mouse.up();
    await expect.poll(() => runsFiles(/^evaluate-.*\.json$/).length, { timeout: 60_000 }).toBe(3);
    await expect.poll(() => page.locator('[data-testid="eval-run"]').textContent(), { timeout: 60_000 }).toBe('Evaluate');
    const dragged = JSON.parse(readFileSync(join(s.dataDir, 'runs', runsFiles(/^evaluate-.*\.json$/)[2]), 'utf8')) as { caBreaks: number[] };
    expect(dragged.caBreaks[0]).toBe(0.3);
    expect(dragged.caBreaks[1]).toBeGreaterThan(0.6);
    await page.click('[data-testid="tab-layers"]');
    expect(await page.locator('[data-testid="layer"][data-layer="C–A classes (p_cnn)"]').count()).toBe(1);
    await page.click('[data-testid="tab-compare"]');
  });
});
