import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createHandlers, dispatch, type Handlers } from '../../main/api/handlers.ts';
import type { Autosaver } from '../../main/project/autosave.ts';
import { emptyProject, loadProject } from '../../main/project/project-file.ts';
import { emptyStudy } from '../../main/project/study-steps.ts';
import type { StudyState } from '../../main/project/study-types.ts';
import type { SiteCentre } from '../../main/api/contract.ts';
import { REPO_ROOT, tempDir } from '../helpers/paths.ts';

// 20 × 20 grid of 1 km cells, origin (500000, 4600000) (tests/fixtures/mask/make_mask_fixture.py).
const STACK = join(REPO_ROOT, 'tests/fixtures/mask/stack.tif');
const cell = (row: number, col: number): { x: number; y: number } => ({ x: 500000 + (col + 0.5) * 1000, y: 4600000 - (row + 0.5) * 1000 });
const site = (id: string, row: number, col: number, label: 0 | 1): SiteCentre => ({ id, ...cell(row, col), label, source: 'user' });

let handlers: Handlers;
let autosaver: Autosaver;
let dir: string;

beforeEach(() => {
  dir = tempDir('ga-study-req-');
  ({ handlers, autosaver } = createHandlers({ dataDir: join(dir, 'data'), host: 'browser', emit: () => {}, autosaveDelayMs: 60_000 }));
});
afterEach(() => {
  autosaver.dispose();
});

const sitesFiles = (): string[] => readdirSync(dir).filter((f) => f.includes('.sites.')).sort();

describe('autosaveSession: the digitized sites are autosaved with the project', () => {
  it('writes the sites to a new file the autosave copy names; the superseded file goes only after the copy is written', async () => {
    const project = join(dir, 'survey.gaproj');
    const document = emptyProject('survey');
    const sites = { gridSource: STACK, gridLayerId: 'stack', centres: [site('U1', 2, 3, 1), site('U2', 10, 10, 0)] };
    const a = await handlers.autosaveSession({ path: project, document, sites });
    expect(a.path).toBe(join(dir, 'survey.autosave.gaproj'));
    expect(existsSync(a.sitesPath!)).toBe(true);
    expect(autosaver.flush()).toBe(a.path);
    const copy = loadProject(a.path).document;
    expect(copy.sites).toEqual([{ id: 'digitized-sites', name: 'Digitized sites', source: a.sitesPath, gridLayerId: 'stack' }]);
    // Reference: OGR reads the sites file; one positive and one negative block of 3 × 3 cells each.
    const info = execFileSync('ogrinfo', ['-so', '-al', a.sitesPath!], { encoding: 'utf8' });
    expect(info).toMatch(/Feature Count: 18/);
    const back = await handlers.readSites({ path: a.sitesPath!, gridSource: STACK });
    expect(back.sites.map((s) => [s.x, s.y, s.label])).toEqual(expect.arrayContaining([[cell(2, 3).x, cell(2, 3).y, 1], [cell(10, 10).x, cell(10, 10).y, 0]]));

    // Same sites again: no new file.
    expect((await handlers.autosaveSession({ path: project, document, sites })).sitesPath).toBe(a.sitesPath);
    // A moved site: a new file; until the copy naming it is written, the old one stays (the copy on disk names it).
    const b = await handlers.autosaveSession({ path: project, document, sites: { ...sites, centres: [site('U1', 4, 4, 1)] } });
    expect(b.sitesPath).not.toBe(a.sitesPath);
    expect(existsSync(a.sitesPath!) && existsSync(b.sitesPath!)).toBe(true);
    expect(loadProject(a.path).document.sites[0].source).toBe(a.sitesPath);
    autosaver.flush();
    expect(loadProject(a.path).document.sites[0].source).toBe(b.sitesPath);
    expect(sitesFiles()).toEqual([b.sitesPath!.slice(dir.length + 1)]);

    // All sites deleted: the set leaves the copy, and its file goes with the next write.
    const c = await handlers.autosaveSession({ path: project, document, sites: { ...sites, centres: [] } });
    expect(c.sitesPath).toBeNull();
    autosaver.flush();
    expect(loadProject(a.path).document.sites).toEqual([]);
    expect(sitesFiles()).toEqual([]);
  });

  it('keeps layer styling, runs and the study in the copy, and leaves other site sets alone', async () => {
    const study: StudyState = { ...emptyStudy({ samples: join(dir, 's.csv') }), current: 'kriging' };
    const document = { ...emptyProject('p'), sites: [{ id: 'run-sites', name: 'Run sites', source: join(dir, 'run.geojson') }], study };
    const r = await handlers.autosaveSession({ path: null, document, sites: { gridSource: STACK, gridLayerId: 'stack', centres: [site('U1', 1, 1, 1)] } });
    expect(r.path).toBe(join(dir, 'data', 'unsaved.autosave.gaproj'));
    autosaver.flush();
    const copy = loadProject(r.path).document;
    expect(copy.study).toEqual(study);
    expect(copy.sites.map((s) => s.id)).toEqual(['run-sites', 'digitized-sites']);
  });
});

describe('study requests through dispatch', () => {
  it('records steps, reports stale steps after an input changes, and summarises the table', async () => {
    const samples = join(dir, 'samples.csv');
    copyFileSync(join(REPO_ROOT, 'tests/fixtures/project/samples.csv'), samples);
    const faults = join(dir, 'faults.geojson');
    writeFileSync(faults, '{"type":"FeatureCollection","features":[]}');
    let study = emptyStudy({ samples, faults });
    const run = (step: string, inputs: { role: string; path: string }[], t: number) => ({ step, inputs, startedAt: new Date(t).toISOString(), finishedAt: new Date(t + 1).toISOString() });
    for (const [i, [step, inputs]] of ([['table', [{ role: 'samples', path: samples }]], ['kriging', [{ role: 'samples', path: samples }]], ['faults', [{ role: 'faults', path: faults }]]] as const).entries()) {
      const r = await dispatch(handlers, 'recordStudyStep', { study, run: run(step, [...inputs], 1000 * i) });
      expect(r.ok, JSON.stringify(r)).toBe(true);
      study = (r as { result: StudyState }).result;
    }
    writeFileSync(faults, readFileSync(faults, 'utf8') + '\n');
    const s = await dispatch(handlers, 'studyStatus', { study });
    expect(s).toMatchObject({ ok: true, result: { stale: ['faults'] } });
    const bad = await dispatch(handlers, 'recordStudyStep', { study, run: run('report', [], 0) });
    expect(bad).toMatchObject({ ok: false, error: { name: 'InvalidOptionError' } });
    const t = await dispatch(handlers, 'studyTableSummary', { path: samples, table: { x: 'x', y: 'y', crs: 'EPSG:32633' } });
    expect(t.ok).toBe(true);
    expect((t as { result: { elements: { name: string; censored: number }[] } }).result.elements.map((e) => [e.name, e.censored])).toEqual([['Au', 4], ['Cu', 1], ['As', 0]]);
  });
});
