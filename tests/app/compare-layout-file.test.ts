import { describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { InvalidFileError } from '../../main/errors.ts';
import { compareLayoutProblem, sameCompareLayout, type CompareLayout } from '../../main/project/compare-layout.ts';
import { emptyProject, loadProject, saveProject } from '../../main/project/project-file.ts';
import { tempDir } from '../helpers/paths.ts';

/**
 * The Compare tab's layout in the project file (issue #18): saved and read back unchanged, an
 * older file without it still opens, and a damaged one is refused by name (file, problem, fix).
 * The browser flow (autosave, reopen) is tests/browser/working-day.test.ts.
 */
const layout: CompareLayout = { mode: 4, layerId: 'probability-1', paneLayers: ['', 'truth-2', '', ''], bands: ['p_cnn', 'anomaly_truth', 'sd_cnn', 'sd_cnn'], swipePercent: 37.5 };

describe('compare layout in the project file', () => {
  it('is saved (atomically, through saveProject) and read back unchanged', () => {
    const dir = tempDir('ga-compare-layout-');
    const path = saveProject(join(dir, 'p.gaproj'), { ...emptyProject('P'), compare: layout });
    expect((JSON.parse(readFileSync(path, 'utf8')) as { compare: CompareLayout }).compare).toEqual(layout);
    expect(loadProject(path).document.compare).toEqual(layout);
  });

  it('a file without a layout (older workbench, or never compared) opens with none; version 1 files may carry one', () => {
    const dir = tempDir('ga-compare-layout-');
    const plain = saveProject(join(dir, 'plain.gaproj'), emptyProject('Plain'));
    expect(loadProject(plain).document.compare).toBeUndefined();
    const v1 = join(dir, 'v1.gaproj');
    writeFileSync(v1, JSON.stringify({ ...emptyProject('Old'), version: 1, compare: { ...layout, mode: 'swipe', bands: ['p_cnn', 'p_dcn'] } }));
    expect(loadProject(v1).document.compare?.mode).toBe('swipe');
  });

  const bad: [string, unknown, RegExp][] = [
    ['a 3-map mode', { ...layout, mode: 3 }, /compare layout mode is 3, expected 2, 4 or "swipe"/],
    ['a divider beyond 100 %', { ...layout, swipePercent: 150 }, /"swipePercent" is 150, expected a number in 0…100/],
    ['a missing divider', { ...layout, swipePercent: undefined }, /"swipePercent" is missing/],
    ['five panes', { ...layout, paneLayers: ['', '', '', '', ''] }, /"paneLayers" must be a list of at most 4 layer ids/],
    ['a band that is not a name', { ...layout, bands: ['p_cnn', 7] }, /"bands" must be a list of at most 4 band names/],
    ['no shared layer id', { ...layout, layerId: null }, /has no "layerId"/],
    ['a list instead of an object', [layout], /"compare" layout is not an object/],
  ];
  for (const [what, compare, message] of bad) {
    it(`refuses ${what}, naming the file and the fix`, () => {
      const dir = tempDir('ga-compare-layout-');
      const path = join(dir, 'bad.gaproj');
      writeFileSync(path, JSON.stringify({ ...emptyProject('Bad'), compare }));
      let err: unknown = null;
      try {
        loadProject(path);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(InvalidFileError);
      expect((err as Error).message).toMatch(message);
      expect((err as Error).message).toContain(path);
      expect((err as Error).message).toMatch(/autosave copy/);
      expect(compareLayoutProblem(compare)).not.toBeNull();
    });
  }

  it('a layout the workbench writes passes the check; sameCompareLayout compares every field', () => {
    expect(compareLayoutProblem(layout)).toBeNull();
    expect(sameCompareLayout(layout, { ...layout, paneLayers: [...layout.paneLayers] })).toBe(true);
    expect(sameCompareLayout(layout, { ...layout, bands: ['p_cnn', 'anomaly_truth', 'sd_cnn', 'p_cnn'] })).toBe(false);
    expect(sameCompareLayout(layout, { ...layout, swipePercent: 37 })).toBe(false);
    expect(sameCompareLayout(layout, { ...layout, mode: 2 })).toBe(false);
    expect(sameCompareLayout(undefined, null)).toBe(true);
    expect(sameCompareLayout(layout, undefined)).toBe(false);
  });
});
