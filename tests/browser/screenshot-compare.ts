import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import type { Locator } from 'playwright-core';
import { REPO_ROOT } from '../helpers/paths.ts';
import { decodePng, diffImages } from './png.ts';

/**
 * Screenshot of one panel element against a committed image (tests/browser/expected/), with the
 * tolerance of workbench.test.ts: a pixel differs when a channel differs by > 40; ≤ 1 % may
 * differ. UPDATE_SCREENSHOTS=1 (npm run test:update-screenshots) rewrites the expected image.
 */
// Committed expected images of every browser test (their comparisons all go through expectedImage).
const EXPECTED = join(REPO_ROOT, 'tests/browser/expected');
const CHANNEL_TOLERANCE = 40;
const MAX_DIFF_FRACTION = 0.01;

/**
 * The committed expected image tests/browser/expected/NAME. With UPDATE_SCREENSHOTS=1 it is first
 * rewritten from `png`; otherwise a missing one fails everywhere (not only in CI): writing it on
 * the fly would make the comparison pass against itself and hide a lost image.
 */
export function expectedImage(name: string, png: Buffer): Buffer {
  const file = join(EXPECTED, name);
  if (process.env.UPDATE_SCREENSHOTS === '1') {
    mkdirSync(EXPECTED, { recursive: true });
    writeFileSync(file, png);
  }
  if (!existsSync(file)) throw new Error(`expected image ${file} is missing: run \`npm run test:update-screenshots\` (UPDATE_SCREENSHOTS=1), check the new image and commit it`);
  return readFileSync(file);
}

export async function expectElementScreenshot(el: Locator, name: string, work: string): Promise<Buffer> {
  const png = await el.screenshot({ animations: 'disabled' });
  const actual = decodePng(png);
  const expected = decodePng(expectedImage(name, png));
  const sameSize = actual.width === expected.width && actual.height === expected.height;
  if (!sameSize) writeFileSync(join(work, `actual-${name}`), png);
  expect(sameSize, `${name}: ${actual.width}×${actual.height}, expected ${expected.width}×${expected.height} (actual saved in ${work})`).toBe(true);
  const diff = diffImages(actual, expected, CHANNEL_TOLERANCE);
  if (diff.fraction > MAX_DIFF_FRACTION) writeFileSync(join(work, `actual-${name}`), png);
  expect(diff.fraction, `${name}: ${diff.differing} pixels differ (actual saved in ${work})`).toBeLessThanOrEqual(MAX_DIFF_FRACTION);
  return png;
}

/** Share of non-white pixels of a PNG screenshot (a chart that drew nothing is blank). */
export function inkFraction(png: Buffer): number {
  const img = decodePng(png);
  let ink = 0;
  for (let i = 0; i < img.width * img.height; i++) if (img.data[i * 4] < 200 || img.data[i * 4 + 1] < 200 || img.data[i * 4 + 2] < 200) ink++;
  return ink / (img.width * img.height);
}
