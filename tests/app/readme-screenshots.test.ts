import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../helpers/paths.ts';

/**
 * Issue 18, "Done when": the README's app section shows the guided study in three screenshots.
 * The images must exist, be PNGs of the size tests/browser/study.test.ts captures (its 1100 × 720
 * clip of the browser window) and be the ones that test writes with UPDATE_SCREENSHOTS=1, so a
 * rerun of the study refreshes exactly what the README shows.
 */
const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
const studyTest = readFileSync(join(REPO_ROOT, 'tests/browser/study.test.ts'), 'utf8');

/** Width and height from a PNG's IHDR chunk (after the 8-byte signature and the chunk's length and type). */
function pngSize(file: string): [number, number] {
  const b = readFileSync(file);
  expect(b.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])), `${file} is not a PNG`).toBe(true);
  expect(b.subarray(12, 16).toString('latin1')).toBe('IHDR');
  return [b.readUInt32BE(16), b.readUInt32BE(20)];
}

describe('README: the guided study in three screenshots', () => {
  it('the app section shows three study screenshots that exist, are 1100 × 720 PNGs and are written by tests/browser/study.test.ts', () => {
    const start = readme.indexOf('**A guided study**');
    expect(start, 'README has no "A guided study" paragraph').toBeGreaterThan(-1);
    // The section runs to the next heading.
    const rest = readme.slice(start);
    const section = rest.slice(0, rest.search(/\n#{1,6} /) === -1 ? rest.length : rest.search(/\n#{1,6} /));
    const images = [...section.matchAll(/!\[([^\]]+)\]\((docs\/img\/[^)]+\.png)\)/g)].map((m) => ({ alt: m[1], path: m[2] }));
    expect(images.map((i) => i.path)).toHaveLength(3);
    expect(new Set(images.map((i) => i.path)).size).toBe(3);
    for (const { alt, path } of images) {
      expect(alt.trim().length, `${path} has no alt text`).toBeGreaterThan(0);
      const file = join(REPO_ROOT, path);
      expect(existsSync(file), `${path} is missing: run UPDATE_SCREENSHOTS=1 npx vitest run tests/browser/study.test.ts`).toBe(true);
      expect(pngSize(file)).toEqual([1100, 720]);
      const name = path.slice('docs/img/'.length);
      expect(studyTest, `tests/browser/study.test.ts does not write ${name}`).toContain(`shot('${name}')`);
    }
  });
});
