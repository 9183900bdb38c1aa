import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { compositeRgba } from '../../main/api/xrf-requests.ts';
import { readCube } from '../../main/xrf/cube-import.ts';
import { tempDir } from '../helpers/paths.ts';
import { separabilitySeries, xrfRocLines } from '../../renderer/src/lib/chart-data.ts';
import { haveChromium, openDemoSession, type DemoSession } from './workbench-session.ts';
import { expectElementScreenshot, inkFraction } from './screenshot-compare.ts';

/**
 * The Micro-XRF panel in Chromium against the real backend: the seeded synthetic sample, its RGB
 * composite (pixels equal to the backend's own stretch), RX + MSFA-Net (2 epochs) as an xrf job,
 * maps side by side, the AUC table against metrics.json, ROC and separability charts drawn by
 * Chart.js under the renderer's CSP with the run's files as their data (legend and labels compared,
 * not pixels: MSFA-Net's numbers vary by machine), keyboard reachability.
 */
const work = tempDir('ga-browser-xrf-');
let s: DemoSession;
let page: Page;
let cspViolations: string[] = [];

describe.skipIf(!haveChromium)('Micro-XRF panel (browser host)', () => {
  beforeAll(async () => {
    s = await openDemoSession(work);
    page = s.page;
    cspViolations = s.cspViolations;
  });
  afterAll(async () => {
    await s?.close();
  });

  it('the panel’s controls are reachable with Tab from its tab button', async () => {
    await page.click('[data-testid="tab-xrf"]');
    await page.focus('[data-testid="tab-xrf"]');
    const reached = new Set<string>();
    for (let i = 0; i < 40 && !reached.has('xrf-synthetic'); i++) {
      await page.keyboard.press('Tab');
      reached.add(await page.evaluate(() => (globalThis as unknown as { document: { activeElement: { getAttribute(a: string): string | null } | null } }).document.activeElement?.getAttribute('data-testid') ?? ''));
    }
    expect(reached.has('xrf-cube-path')).toBe(true);
    expect(reached.has('xrf-load')).toBe(true);
    expect(reached.has('xrf-synthetic')).toBe(true);
  });

  it('synthetic sample → size and bands, RGB composite equal to the backend’s percentile stretch', async () => {
    await page.fill('[data-testid="xrf-synth-seed"]', '7');
    await page.fill('[data-testid="xrf-synth-size"]', '48');
    await page.click('[data-testid="xrf-synthetic"]');
    await page.waitForSelector('[data-testid="xrf-composite"]');
    expect(await page.locator('[data-testid="xrf-cube-error"]').count()).toBe(0);
    const info = page.locator('[data-testid="xrf-cube-info"]');
    expect([await info.getAttribute('data-rows'), await info.getAttribute('data-cols'), await info.getAttribute('data-bands')]).toEqual(['48', '48', '100']);
    // Default composite: the channels nearest Cu, Fe and Si Kα (78, 60, 10 of 100 over 0.8–10 keV).
    expect(await page.getAttribute('[data-testid="xrf-composite"]', 'data-bands')).toBe('78,60,10');
    // Reference: compositeRgba on the same file read here (numpy-percentile stretch); canvas pixels must be identical.
    const cubePath = join(s.dataDir, 'xrf-synthetic', 'seed-7-48x48x100', 'cube.tif');
    const ref = compositeRgba(await readCube(cubePath), [78, 60, 10], [2, 98]);
    const drawn = await page.locator('[data-testid="xrf-composite"] canvas').evaluate((c) => {
      const canvas = c as unknown as { width: number; height: number; getContext(k: '2d'): { getImageData(x: number, y: number, w: number, h: number): { data: ArrayLike<number> } } };
      return [canvas.width, canvas.height, Array.from(canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data)] as const;
    });
    expect([drawn[0], drawn[1]]).toEqual([48, 48]);
    expect(drawn[2]).toEqual(Array.from(ref.rgba));
    // Another band choice redraws.
    await page.selectOption('[data-testid="xrf-band-red"]', '0');
    await expect.poll(() => page.getAttribute('[data-testid="xrf-composite"]', 'data-bands')).toBe('0,60,10');
  });

  it('runs RX and MSFA-Net (2 epochs): maps side by side, AUC table = metrics.json, ROC and box plot drawn', async () => {
    await page.uncheck('[data-testid="xrf-panel"] input[data-method="lrx"]').catch(() => {});
    await page.uncheck('[data-testid="xrf-panel"] input[data-method="autoad"]').catch(() => {});
    await page.check('[data-testid="xrf-panel"] input[data-method="rx"]');
    await page.check('[data-testid="xrf-panel"] input[data-method="msfa"]');
    await page.fill('[data-testid="xrf-epochs"]', '2');
    await page.fill('[data-testid="xrf-seed"]', '1');
    // One MSFA-Net training thread: the same numbers on every machine (the screenshot compares the maps).
    await page.fill('[data-testid="xrf-threads"]', '1');
    await page.click('[data-testid="xrf-run"]');
    await page.waitForSelector('[data-testid="xrf-progress"]');
    await page.waitForSelector('[data-testid="xrf-auc-table"]', { timeout: 240_000 });
    expect(await page.locator('[data-testid="xrf-error"]').count()).toBe(0);

    const [outName] = readdirSync(join(s.dataDir, 'runs')).filter((f) => /^xrf-.*\.run$/.test(f));
    const metrics = JSON.parse(readFileSync(join(s.dataDir, 'runs', outName, 'metrics.json'), 'utf8')) as Record<string, { auc: number }>;
    expect(Object.keys(metrics)).toEqual(['msfa', 'rx']);
    const rows = await page.locator('[data-testid="xrf-auc-row"]').evaluateAll((els) => els.map((e) => [e.getAttribute('data-method'), Number(e.getAttribute('data-auc'))] as const));
    expect(rows.map((r) => r[0])).toEqual(['msfa', 'rx']);
    // The table's AUC is metrics.json's number (≤ 1e-12: it crosses as JSON text).
    for (const [m, auc] of rows) expect(Math.abs(auc - metrics[m as string].auc)).toBeLessThanOrEqual(1e-12);
    expect(metrics.rx.auc).toBeGreaterThan(0.5);

    await page.waitForSelector('[data-testid="xrf-map"][data-method="rx"]');
    expect(await page.getAttribute('[data-testid="xrf-maps"]', 'data-count')).toBe('2');
    // Side by side: the two maps share a row.
    const boxes = await page.locator('[data-testid="xrf-map"] canvas').evaluateAll((els) => els.map((e) => (e as unknown as { getBoundingClientRect(): { top: number; left: number } }).getBoundingClientRect()).map((b) => [b.top, b.left]));
    expect(boxes[0][0]).toBe(boxes[1][0]);
    expect(boxes[1][1]).toBeGreaterThan(boxes[0][1]);

    const roc = page.locator('[data-testid="xrf-roc-chart"]');
    const box = page.locator('[data-testid="xrf-box-plot"]');
    expect(await roc.getAttribute('data-series')).toBe('2');
    expect(await box.getAttribute('data-series')).toBe('2'); // background and anomaly
    expect(Number(await roc.getAttribute('data-rendered'))).toBeGreaterThan(0);
    // Chart.js drew on its canvases under the CSP (no eval, no remote): they hold ink, and no CSP violation was logged.
    expect(inkFraction(await roc.screenshot())).toBeGreaterThan(0.02);
    expect(inkFraction(await box.screenshot())).toBeGreaterThan(0.02);
    expect(cspViolations).toEqual([]);

    // The charts' data, not their pixels (MSFA-Net's scores, hence its curve and box, vary with the
    // machine's thread timing): the ROC legend is chart-data.ts's lines of this run's roc.json with
    // metrics.json's AUCs, and the box plot has one box pair per method of separability.json.
    const runDir = join(s.dataDir, 'runs', outName);
    const runRoc = JSON.parse(readFileSync(join(runDir, 'roc.json'), 'utf8')) as Parameters<typeof xrfRocLines>[0];
    const expectedRoc = xrfRocLines(runRoc, Object.fromEntries(Object.entries(metrics).map(([k, v]) => [k, v.auc])));
    expect(((await roc.getAttribute('aria-label')) ?? '').split(': ')[1].split('; ')).toEqual(expectedRoc.map((l) => l.name));
    expect(expectedRoc.map((l) => l.name.split(' ')[0]).sort()).toEqual(['msfa', 'rx']);
    const sep = separabilitySeries(JSON.parse(readFileSync(join(runDir, 'separability.json'), 'utf8')) as Parameters<typeof separabilitySeries>[0]);
    expect(sep.labels.slice().sort()).toEqual(['msfa', 'rx']);
    expect(await box.getAttribute('aria-label')).toBe(`Separability (scores scaled to 0–1): box plots of ${sep.series.map((x) => x.name).join(', ')} per ${sep.labels.join(', ')}`);
    // RX's anomaly box sits above its background box (AUC > 0.5 above): medians of the scaled scores.
    const rxAt = sep.labels.indexOf('rx');
    expect(sep.series[1].data[rxAt].median).toBeGreaterThan(sep.series[0].data[rxAt].median);

    await expectElementScreenshot(page.locator('[data-testid="xrf-maps"]'), 'xrf-maps.png', work);

    // The finished job is recorded in the project's runs (Jobs tab).
    await page.click('[data-testid="tab-jobs"]');
    await expect.poll(() => page.locator('[data-testid="run"][data-kind="xrf"]').count()).toBe(1);
  }, 300_000);

  it('cancels a long MSFA-Net run from the panel: CancelledError, job cancelled, results cleared', async () => {
    await page.click('[data-testid="tab-xrf"]');
    await page.uncheck('[data-testid="xrf-panel"] input[data-method="rx"]');
    await page.fill('[data-testid="xrf-epochs"]', '5000');
    await page.click('[data-testid="xrf-run"]');
    await page.waitForSelector('[data-testid="xrf-cancel"]');
    await page.click('[data-testid="xrf-cancel"]');
    await expect.poll(() => page.textContent('[data-testid="xrf-error"]').catch(() => ''), { timeout: 60_000 }).toContain('CancelledError');
    expect(await page.locator('[data-testid="xrf-auc-table"]').count()).toBe(0);
    await page.click('[data-testid="tab-jobs"]');
    expect(await page.locator('[data-testid="job"][data-kind="xrf"][data-state="cancelled"]').count()).toBe(1);
    // A cancelled job is not recorded as a run: still the one finished xrf run.
    expect(await page.locator('[data-testid="run"][data-kind="xrf"]').count()).toBe(1);
  }, 120_000);
});
