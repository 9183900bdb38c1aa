import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  STEP_DEPENDENCIES,
  STEP_ORDER,
  downstreamOf,
  emptyStudy,
  hashStudyInputs,
  recordStep,
  stepStatuses,
  staleSteps,
} from '../../main/project/study-steps.ts';
import { emptyProject, loadProject, saveProject, validateProjectDocument } from '../../main/project/project-file.ts';
import type { StudyState, StudyStepId } from '../../main/project/study-types.ts';
import { InvalidFileError, InvalidOptionError } from '../../main/errors.ts';
import { tempDir } from '../helpers/paths.ts';

/** Reference hash: coreutils sha256sum, not our streamed hasher. */
const sha256sum = (p: string): string => execFileSync('sha256sum', [p], { encoding: 'utf8' }).split(' ')[0];

interface Files {
  dir: string;
  samples: string;
  faults: string;
  deposits: string;
}

function files(): Files {
  const dir = tempDir('ga-study-');
  const f = { dir, samples: join(dir, 'samples.csv'), faults: join(dir, 'faults.geojson'), deposits: join(dir, 'deposits.geojson') };
  writeFileSync(f.samples, 'x,y,Au_ppb\n1,2,3\n4,5,<0.5\n');
  writeFileSync(f.faults, '{"type":"FeatureCollection","features":[]}\n');
  writeFileSync(f.deposits, '{"type":"FeatureCollection","features":[{"type":"Feature","properties":{},"geometry":{"type":"Point","coordinates":[1,2]}}]}\n');
  return f;
}

const INPUTS: Record<StudyStepId, (f: Files) => { role: string; path: string }[]> = {
  table: (f) => [{ role: 'samples', path: f.samples }],
  kriging: (f) => [{ role: 'samples', path: f.samples }],
  faults: (f) => [{ role: 'faults', path: f.faults }],
  sites: (f) => [{ role: 'deposits', path: f.deposits }],
  training: () => [],
  compare: () => [],
  report: () => [],
};

/** Runs every step once, in order, with distinct timestamps. */
async function fullStudy(f: Files): Promise<StudyState> {
  let s = emptyStudy({ samples: f.samples, faults: f.faults, deposits: f.deposits });
  let t = Date.parse('2026-12-03T10:00:00Z');
  for (const step of STEP_ORDER) {
    const startedAt = new Date(t).toISOString();
    const finishedAt = new Date((t += 1000)).toISOString();
    s = await recordStep(s, { step, inputs: INPUTS[step](f), options: { seed: 7 }, outputs: [join(f.dir, `${step}.out`)], startedAt, finishedAt });
  }
  return s;
}

const statusOf = async (s: StudyState): Promise<Record<string, string>> => Object.fromEntries(stepStatuses(s, await hashStudyInputs(s)).map((x) => [x.step, x.status]));

describe('study steps (DAG)', () => {
  it('lists the steps in an order where every step follows the steps it needs', () => {
    expect(STEP_ORDER).toEqual(['table', 'kriging', 'faults', 'sites', 'training', 'compare', 'report']);
    STEP_ORDER.forEach((s, i) => {
      for (const d of STEP_DEPENDENCIES[s]) expect(STEP_ORDER.indexOf(d), `${d} before ${s}`).toBeLessThan(i);
    });
    expect(downstreamOf('faults')).toEqual(['training', 'compare', 'report']);
    expect(downstreamOf('table')).toEqual(['kriging', 'faults', 'sites', 'training', 'compare', 'report']);
    expect(downstreamOf('report')).toEqual([]);
  });

  it('records inputs with the SHA-256 sha256sum computes, options, outputs, times and upstream stamps', async () => {
    const f = files();
    const s = await fullStudy(f);
    const faults = s.steps.faults!;
    expect(faults.inputs).toEqual([{ role: 'faults', path: f.faults, sha256: sha256sum(f.faults) }]);
    expect(faults.options).toEqual({ seed: 7 });
    expect(faults.outputs).toEqual([join(f.dir, 'faults.out')]);
    expect(faults.upstream).toEqual({ kriging: s.steps.kriging!.finishedAt });
    expect(s.steps.training!.upstream).toEqual({ kriging: s.steps.kriging!.finishedAt, faults: faults.finishedAt, sites: s.steps.sites!.finishedAt });
    expect(Object.values(await statusOf(s))).toEqual(Array(7).fill('done'));
  });

  it('refuses a step whose upstream has not run, naming it', async () => {
    const f = files();
    await expect(recordStep(emptyStudy(), { step: 'training', inputs: [], startedAt: 'a', finishedAt: 'b' })).rejects.toThrow(InvalidOptionError);
    await expect(recordStep(emptyStudy(), { step: 'kriging', inputs: [], startedAt: 'a', finishedAt: 'b' })).rejects.toThrow(/needs "table".*run Sample table before Kriging/);
    await expect(recordStep(emptyStudy(), { step: 'table', inputs: [{ role: 'samples', path: join(f.dir, 'nope.csv') }], startedAt: 'a', finishedAt: 'b' })).rejects.toThrow(/samples input .*nope\.csv does not exist/);
  });

  it('a changed faults file marks faults and everything below stale, nothing above', async () => {
    const f = files();
    const s = await fullStudy(f);
    writeFileSync(f.faults, readFileSync(f.faults, 'utf8').replace('[]', '[{"type":"Feature","properties":{},"geometry":{"type":"LineString","coordinates":[[0,0],[1,1]]}}]'));
    const statuses = stepStatuses(s, await hashStudyInputs(s));
    expect(Object.fromEntries(statuses.map((x) => [x.step, x.status]))).toEqual({ table: 'done', kriging: 'done', faults: 'stale', sites: 'done', training: 'stale', compare: 'stale', report: 'stale' });
    expect(statuses.find((x) => x.step === 'faults')!.reasons).toEqual(['faults.geojson (faults) changed since the step ran']);
    expect(statuses.find((x) => x.step === 'training')!.reasons).toEqual(['Faults is stale']);
    expect(staleSteps(statuses)).toEqual(['faults', 'training', 'compare', 'report']);
  });

  it('with an existing stack, training and compare read it: a changed stack marks them and the report stale, nothing else', async () => {
    // What study-jobs.ts records when the study was started with an existing stack: training and
    // compare read the stack instead of the kriged grid (the kriged grid still carries faults and sites).
    const f = files();
    const stack = join(f.dir, 'stack.tif');
    writeFileSync(stack, 'stack v1');
    let s = emptyStudy({ samples: f.samples, faults: f.faults, deposits: f.deposits, stack });
    let t = Date.parse('2026-12-03T10:00:00Z');
    const reads: typeof INPUTS = { ...INPUTS, training: () => [{ role: 'stack', path: stack }, { role: 'sites', path: join(f.dir, 'sites.out') }], compare: () => [{ role: 'stack', path: stack }] };
    for (const step of STEP_ORDER) {
      const startedAt = new Date(t).toISOString();
      const finishedAt = new Date((t += 1000)).toISOString();
      writeFileSync(join(f.dir, `${step}.out`), step);
      s = await recordStep(s, { step, inputs: reads[step](f), options: {}, outputs: [join(f.dir, `${step}.out`)], startedAt, finishedAt });
    }
    expect(s.inputs.stack).toBe(stack);
    expect(s.steps.training!.inputs[0]).toEqual({ role: 'stack', path: stack, sha256: sha256sum(stack) });
    expect(Object.values(await statusOf(s))).toEqual(Array(7).fill('done'));
    writeFileSync(stack, 'stack v2');
    const statuses = stepStatuses(s, await hashStudyInputs(s));
    expect(Object.fromEntries(statuses.map((x) => [x.step, x.status]))).toEqual({ table: 'done', kriging: 'done', faults: 'done', sites: 'done', training: 'stale', compare: 'stale', report: 'stale' });
    expect(statuses.find((x) => x.step === 'training')!.reasons).toEqual(['stack.tif (stack) changed since the step ran']);
    expect(staleSteps(statuses)).toEqual(['training', 'compare', 'report']);
  });

  it('a changed sample table marks all seven stale; a deleted one says it is gone', async () => {
    const f = files();
    const s = await fullStudy(f);
    writeFileSync(f.samples, 'x,y,Au_ppb\n1,2,3\n4,5,6\n');
    expect(staleSteps(stepStatuses(s, await hashStudyInputs(s)))).toEqual(STEP_ORDER);
    rmSync(f.samples);
    expect(stepStatuses(s, await hashStudyInputs(s))[0].reasons).toEqual(['samples.csv (samples) is gone']);
  });

  it('rerunning the stale steps in order makes the study whole again; rerunning one step upstream stales those below', async () => {
    const f = files();
    let s = await fullStudy(f);
    writeFileSync(f.deposits, '{"type":"FeatureCollection","features":[]}\n');
    const todo = staleSteps(stepStatuses(s, await hashStudyInputs(s)));
    expect(todo).toEqual(['sites', 'training', 'compare', 'report']);
    let t = Date.parse('2026-12-03T11:00:00Z');
    for (const step of todo) {
      s = await recordStep(s, { step, inputs: INPUTS[step](f), startedAt: new Date(t).toISOString(), finishedAt: new Date((t += 1000)).toISOString() });
    }
    expect(Object.values(await statusOf(s))).toEqual(Array(7).fill('done'));
    // Kriging again (same inputs): its outputs are new, so the four steps below it are stale.
    s = await recordStep(s, { step: 'kriging', inputs: INPUTS.kriging(f), startedAt: new Date(t).toISOString(), finishedAt: new Date((t += 1000)).toISOString() });
    const st = stepStatuses(s, await hashStudyInputs(s));
    expect(staleSteps(st)).toEqual(['faults', 'sites', 'training', 'compare', 'report']);
    expect(st.find((x) => x.step === 'faults')!.reasons).toEqual(['Kriging ran again since']);
  });

  it('steps never run are "never-run", and what needs them is stale (not done)', async () => {
    const f = files();
    const s = await recordStep(emptyStudy(), { step: 'table', inputs: INPUTS.table(f), startedAt: 'a', finishedAt: 'b' });
    expect(await statusOf(s)).toEqual({ table: 'done', kriging: 'never-run', faults: 'never-run', sites: 'never-run', training: 'never-run', compare: 'never-run', report: 'never-run' });
    expect(staleSteps(stepStatuses(s, new Map()))).toEqual([]);
  });
});

describe('study in the project file', () => {
  it('saves the study with paths relative to the project and opens it with absolute ones, unchanged', async () => {
    const f = files();
    const study = await fullStudy(f);
    const path = saveProject(join(f.dir, 'p.gaproj'), { ...emptyProject('p'), study });
    const onDisk = JSON.parse(readFileSync(path, 'utf8')) as { version: number; study: StudyState };
    expect(onDisk.version).toBe(2);
    expect(onDisk.study.inputs.faults).toBe('faults.geojson');
    expect(onDisk.study.steps.faults!.inputs[0].path).toBe('faults.geojson');
    expect(onDisk.study.steps.report!.outputs).toEqual(['report.out']);
    expect(loadProject(path).document.study).toEqual(study);
  });

  it('opens a version-1 project (no study) as version 2', () => {
    const dir = tempDir('ga-study-');
    const path = join(dir, 'old.gaproj');
    writeFileSync(path, JSON.stringify({ format: 'geoanomaly-project', version: 1, name: 'old', crs: null, layers: [], sites: [], runs: [], view: null }));
    const p = loadProject(path);
    expect(p.document.version).toBe(2);
    expect(p.document.study).toBeUndefined();
  });

  it('rejects a broken study section with a named error that says what is wrong', () => {
    const base = { format: 'geoanomaly-project', version: 2, name: 'p', crs: null, layers: [], sites: [], runs: [], view: null };
    const bad = (study: unknown): (() => unknown) => () => validateProjectDocument({ ...base, study }, '/x/p.gaproj');
    expect(bad({ inputs: {}, steps: {}, current: 'nowhere' })).toThrow(/current step is "nowhere"/);
    expect(bad({ inputs: { samples: null, faults: null, deposits: null, stack: null }, steps: { oops: {} }, current: 'table' })).toThrow(/unknown step "oops"/);
    expect(bad({ inputs: { samples: null, faults: null, deposits: null, stack: null }, steps: { table: { step: 'table', inputs: [{ role: 'samples', path: 'a.csv', sha256: 'abc' }], outputs: [], startedAt: 'a', finishedAt: 'b', upstream: {} } }, current: 'table' })).toThrow(/inputs without a path and SHA-256/);
    expect(bad({ inputs: {}, steps: {}, current: 'nowhere' })).toThrow(InvalidFileError);
    expect(() => validateProjectDocument({ ...base, version: 1, study: emptyStudy() }, '/x/p.gaproj')).toThrow(/version 1 but has a "study"/);
    expect(() => validateProjectDocument({ ...base, version: 3 }, '/x/p.gaproj')).toThrow(/version 3 is newer than this workbench understands \(2\)/);
  });
});
