import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { STUDY_STEP_IDS, type StudyState, type StudyStepId } from '../../main/project/study-types.ts';
import { REPO_ROOT, tempDir } from '../helpers/paths.ts';
import { haveChromium, openDemoSession, type Session } from './workbench-session.ts';
import { runStudyStep, studyStatus, studyStatuses } from './study-wizard-ui.ts';

/**
 * The guided study in Chromium through the browser host (issue #18): start from the demo
 * survey's raw files, run the seven steps (small grid, 2 epochs), save, open another project
 * and reopen this one → every step shown done; change the faults file → the steps that read
 * it (faults, sites) and those below them stale, table and kriging not; "Run stale steps" reruns exactly those (the kriging record is
 * untouched). With UPDATE_SCREENSHOTS=1 three screenshots of the study are written to docs/img/ for
 * the README (a plain test run leaves the checkout untouched).
 */
const work = tempDir('ga-browser-study-');
let s: Session;
let page: Page;
const IMG = join(REPO_ROOT, 'docs/img');

const status = (step: StudyStepId): Promise<string | null> => studyStatus(page, step);
const statuses = (): Promise<Record<string, string | null>> => studyStatuses(page);
const runStep = (step: StudyStepId): Promise<void> => runStudyStep(page, step);

async function shot(name: string): Promise<void> {
  if (process.env.UPDATE_SCREENSHOTS !== '1') return;
  await page.screenshot({ path: join(IMG, name), clip: { x: 0, y: 0, width: 1100, height: 720 } });
}

async function projectDialog(button: 'save-project' | 'open-project', path: string): Promise<void> {
  await page.click(`[data-testid="${button}"]`);
  await page.fill('[data-testid="project-path"]', path);
  await page.click('[data-testid="project-submit"]');
  await page.locator('[data-testid="project-dialog"]').waitFor({ state: 'detached' });
}

describe.skipIf(!haveChromium)('guided study (browser host)', () => {
  beforeAll(async () => {
    s = await openDemoSession(work);
    page = s.page;
  });
  afterAll(async () => {
    await s?.close();
  });

  it('raw files → seven recorded steps → reopen shows them → a changed faults file reruns only the steps below it', { timeout: 900_000 }, async () => {
    const demo = join(s.dataDir, 'demo-survey');
    const faults = join(demo, 'faults.geojson');
    await page.click('[data-testid="study-open"]');
    await page.fill('[data-testid="study-samples"]', join(demo, 'samples.csv'));
    await page.fill('[data-testid="study-crs"]', 'EPSG:32645');
    await page.fill('[data-testid="study-faults"]', faults);
    await page.fill('[data-testid="study-deposits"]', join(demo, 'deposits.geojson'));
    await page.click('[data-testid="study-begin"]');
    await expect.poll(() => status('table'), { timeout: 60_000 }).toBe('done');
    await page.click('[data-testid="study-step-table"]');
    await page.locator('[data-testid="study-table-summary"]').waitFor();
    // Step 1: the demo's table has units from its headers and censored cells ("<DL", main/demo/demo-survey.ts).
    const rows = await page.locator('[data-testid="study-table-summary"] tbody tr').count();
    expect(rows).toBeGreaterThan(1);
    const censored = await page.locator('[data-testid^="study-censored-"]').allTextContents();
    expect(censored.map(Number).some((n) => n > 0)).toBe(true);
    expect(await page.getAttribute('[data-testid^="study-histogram-"] >> nth=0', 'data-bins')).toBe('20');
    // Its pictures: a histogram and a normal probability plot for every element of the table.
    expect(await page.locator('[data-testid="study-pane"] [data-testid^="study-histogram-"]').count()).toBe(rows);
    expect(await page.locator('[data-testid="study-pane"] [data-testid^="study-probplot-"]').count()).toBe(rows);
    expect(await page.locator('[data-testid="study-pane"] [data-testid^="study-probplot-"] >> nth=0').locator('circle').count()).toBeGreaterThan(1);
    await shot('study-1-table.png');

    await page.click('[data-testid="study-step-kriging"]');
    await page.fill('[data-testid="study-fields"]', (await page.inputValue('[data-testid="study-fields"]')).split(',').slice(0, 2).join(','));
    await page.locator('[data-testid="study-fields"]').dispatchEvent('change');
    // 1 km cells, as tests/browser/whole-workflow.test.ts: a small grid keeps every step short.
    await page.fill('[data-testid="study-cell"]', '1000');
    await page.locator('[data-testid="study-cell"]').dispatchEvent('change');
    await runStep('kriging');
    // Step 2's picture: the experimental variogram (lag points) with the fitted model curve.
    // (A finished step hands the pane to the next one: go back to it.)
    await page.click('[data-testid="study-step-kriging"]');
    await page.locator('[data-testid="study-pane"] [data-testid="variogram-plot"]').waitFor();
    expect(await page.locator('[data-testid="study-pane"] [data-testid="variogram-point"]').count()).toBeGreaterThan(1);
    expect(await page.locator('[data-testid="study-pane"] [data-testid="variogram-model"]').count()).toBe(1);
    await runStep('faults');
    await page.click('[data-testid="study-step-faults"]');
    await page.locator('[data-testid="study-pane"] svg').first().waitFor();
    await shot('study-2-faults.png');
    await runStep('sites');
    // Step 4's picture: the site cells per class (checked against the sites file once the project is saved).
    await page.click('[data-testid="study-step-sites"]');
    const siteCounts = /^(\d+) positive · (\d+) negative sites \(blocks\)$/.exec((await page.textContent('[data-testid="study-pane"] [data-testid="study-site-counts"]')) ?? '');
    expect(siteCounts, 'the sites step shows its counts per class').not.toBeNull();
    const [positives, negatives] = [Number(siteCounts![1]), Number(siteCounts![2])];
    expect(positives).toBeGreaterThan(0);
    expect(negatives).toBeGreaterThan(0);
    await page.click('[data-testid="study-step-training"]');
    await page.fill('[data-testid="study-epochs"]', '2');
    await page.locator('[data-testid="study-epochs"]').dispatchEvent('change');
    await page.fill('[data-testid="study-models"]', 'cnn');
    await page.locator('[data-testid="study-models"]').dispatchEvent('change');
    await runStep('training');
    await page.click('[data-testid="study-step-training"]');
    // Step 5's picture: the learning curve, a loss per epoch of the fit (2 epochs).
    expect(Number(await page.getAttribute('[data-testid="study-pane"] [data-testid="loss-plot"]', 'data-points'))).toBeGreaterThanOrEqual(2);
    await shot('study-3-training.png');
    await runStep('compare');
    await runStep('report');
    expect(Object.values(await statuses())).toEqual(Array(7).fill('done'));

    // Save, leave, reopen: where the study stands is shown.
    const target = join(work, 'study.gaproj');
    await projectDialog('save-project', target);
    const saved = JSON.parse(readFileSync(target, 'utf8')) as { version: number; study: StudyState };
    expect(saved.version).toBe(2);
    expect(Object.keys(saved.study.steps).sort()).toEqual([...STUDY_STEP_IDS].sort());
    // The counts step 4 showed are the sites file's, per class (label 1 = positive): one block
    // centre per site (the file has a point per cell of each block, main/sites/sites-geojson.ts).
    const sitesFile = saved.study.steps.sites!.outputs[0];
    const centres = (JSON.parse(readFileSync(existsSync(sitesFile) ? sitesFile : join(work, sitesFile), 'utf8')) as { features: { properties: { label: number; centre: boolean } }[] }).features.filter((f) => f.properties.centre);
    expect([centres.filter((f) => f.properties.label === 1).length, centres.filter((f) => f.properties.label !== 1).length]).toEqual([positives, negatives]);
    const report = saved.study.steps.report!.outputs[0];
    expect(existsSync(join(work, report)) || existsSync(report)).toBe(true);
    await page.click('button:has-text("New")');
    await expect.poll(() => page.textContent('[data-testid="study-open"]')).toBe('New study…');
    await projectDialog('open-project', target);
    await expect.poll(() => page.textContent('[data-testid="study-open"]'), { timeout: 30_000 }).toBe('Study 7/7');
    if (!(await page.locator('[data-testid="study-wizard"]').count())) await page.click('[data-testid="study-open"]');
    expect(Object.values(await statuses())).toEqual(Array(7).fill('done'));

    // A changed input: the faults file (one more fault-free byte changes its SHA-256). Faults and
    // sites read it (negatives keep away from faults), training and below hang under them.
    appendFileSync(faults, '\n');
    await page.click('[data-testid="study-check"]');
    await expect.poll(statuses, { timeout: 30_000 }).toEqual({ table: 'done', kriging: 'done', faults: 'stale', sites: 'stale', training: 'stale', compare: 'stale', report: 'stale' });
    expect(await page.textContent('[data-testid="study-run-stale"]')).toBe('Run stale steps (5)');
    await page.click('[data-testid="study-run-stale"]');
    await expect.poll(() => page.getAttribute('[data-testid="study-wizard"]', 'data-rerun'), { timeout: 600_000, interval: 1000 }).toBe('faults,sites,training,compare,report');
    expect(Object.values(await statuses())).toEqual(Array(7).fill('done'));
    await projectDialog('save-project', target);
    const after = JSON.parse(readFileSync(target, 'utf8')) as { study: StudyState };
    // Steps above the change kept their records; the five that read it or hang below have new ones.
    for (const step of ['table', 'kriging'] as const) expect(after.study.steps[step]).toEqual(saved.study.steps[step]);
    for (const step of ['faults', 'sites', 'training', 'compare', 'report'] as const) expect(after.study.steps[step]!.finishedAt > saved.study.steps[step]!.finishedAt).toBe(true);
    writeFileSync(join(work, 'done'), '');
  });
});
