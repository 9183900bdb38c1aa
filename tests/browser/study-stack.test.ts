import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import type { StudyState, StudyStepId } from '../../main/project/study-types.ts';
import { readGeoTiffInfo } from '../../main/io/geotiff-read.ts';
import { tempDir } from '../helpers/paths.ts';
import { runCli } from '../helpers/cli-process.ts';
import { haveChromium, openDemoSession, type Session } from './workbench-session.ts';
import { runStudyStep, setStudyOption, studyStatus, studyStatuses } from './study-wizard-ui.ts';

/**
 * The guided study started with an existing stack (issue #18: "optionally an existing stack"):
 * kriging still makes the grid that faults and sites are drawn on, but training and the
 * prediction maps read the user's stack. The stack here is `geoanomaly krige` of the demo survey
 * on the study's grid (1 km) with three elements, where the study's own kriging has two, so the
 * run's bands tell which stack it trained on. A changed stack then stales training, compare and
 * report, and nothing above them. (tests/browser/study.test.ts runs the study without a stack.)
 */
const work = tempDir('ga-browser-study-stack-');
let s: Session;
let page: Page;

const status = (step: StudyStepId): Promise<string | null> => studyStatus(page, step);
const statuses = (): Promise<Record<string, string | null>> => studyStatuses(page);
const runStep = (step: StudyStepId): Promise<void> => runStudyStep(page, step);
const setOption = (testid: string, value: string): Promise<void> => setStudyOption(page, testid, value);

describe.skipIf(!haveChromium)('guided study with an existing stack (browser host)', () => {
  beforeAll(async () => {
    s = await openDemoSession(work);
    page = s.page;
  });
  afterAll(async () => {
    await s?.close();
  });

  it('trains and maps on the given stack; a changed stack stales training, compare and report only', { timeout: 900_000 }, async () => {
    const demo = join(s.dataDir, 'demo-survey');
    const stack = join(work, 'my-stack.tif');
    await runCli('krige', '--samples', join(demo, 'samples.csv'), '--x', 'x', '--y', 'y', '--crs', 'EPSG:32645', '--fields', 'Au,Cu,As', '--cell', '1000', '--log', '--out', stack);
    const stackBands = (await readGeoTiffInfo(stack)).bandNames;
    expect(stackBands).toHaveLength(3);

    await page.click('[data-testid="study-open"]');
    await page.fill('[data-testid="study-samples"]', join(demo, 'samples.csv'));
    await page.fill('[data-testid="study-crs"]', 'EPSG:32645');
    await page.fill('[data-testid="study-faults"]', join(demo, 'faults.geojson'));
    await page.fill('[data-testid="study-deposits"]', join(demo, 'deposits.geojson'));
    await page.fill('[data-testid="study-stack"]', stack);
    await page.click('[data-testid="study-begin"]');
    await expect.poll(() => status('table'), { timeout: 60_000 }).toBe('done');

    await page.click('[data-testid="study-step-kriging"]');
    await setOption('study-fields', 'Au,Cu');
    await setOption('study-cell', '1000');
    await runStep('kriging');
    await runStep('faults');
    await runStep('sites');
    await page.click('[data-testid="study-step-training"]');
    await setOption('study-epochs', '1');
    await setOption('study-models', 'cnn');
    await runStep('training');
    await runStep('compare');
    await runStep('report');
    expect(Object.values(await statuses())).toEqual(Array(7).fill('done'));

    // The project's record of the study (saved): training and compare read the given stack.
    const target = join(work, 'study-stack.gaproj');
    await page.click('[data-testid="save-project"]');
    await page.fill('[data-testid="project-path"]', target);
    await page.click('[data-testid="project-submit"]');
    await page.locator('[data-testid="project-dialog"]').waitFor({ state: 'detached' });
    const study = (JSON.parse(readFileSync(target, 'utf8')) as { study: StudyState }).study;
    const abs = (p: string): string => (existsSync(p) ? p : join(work, p));
    expect(abs(study.inputs.stack!)).toBe(stack);
    for (const step of ['training', 'compare'] as const) expect(study.steps[step]!.inputs.filter((i) => i.role === 'stack').map((i) => abs(i.path)), step).toEqual([stack]);
    // The kriged grid (two elements) still carries the sites; the run trained on the given stack's three bands.
    const kriged = abs(study.steps.kriging!.outputs[0]);
    expect((await readGeoTiffInfo(kriged)).bandNames).toHaveLength(2);
    const runDir = abs(study.steps.training!.outputs[0]);
    const manifest = JSON.parse(readFileSync(join(runDir, 'manifest.json'), 'utf8')) as { bandNames: string[] };
    expect(manifest.bandNames).toEqual(stackBands);
    // The given stack is on the study's grid (same samples, same 1 km cell), and so are the maps.
    const grid = (g: { originX: number; originY: number; cellSizeX: number; cellSizeY: number; rows: number; cols: number }) => [g.originX, g.originY, g.cellSizeX, g.cellSizeY, g.rows, g.cols];
    const [stackInfo, krigedInfo, probInfo] = await Promise.all([readGeoTiffInfo(stack), readGeoTiffInfo(kriged), readGeoTiffInfo(abs(study.steps.compare!.outputs[0]))]);
    expect(grid(krigedInfo.grid)).toEqual(grid(stackInfo.grid));
    expect(grid(probInfo.grid)).toEqual(grid(stackInfo.grid));

    // A changed stack (one more byte after the image data: the same raster, another SHA-256).
    appendFileSync(stack, Buffer.from([0]));
    await page.click('[data-testid="study-check"]');
    await expect.poll(statuses, { timeout: 30_000 }).toEqual({ table: 'done', kriging: 'done', faults: 'done', sites: 'done', training: 'stale', compare: 'stale', report: 'stale' });
    expect(await page.textContent('[data-testid="study-run-stale"]')).toBe('Run stale steps (3)');
  });
});
