#!/usr/bin/env node
// Rasterises native-assets/icon.svg to the PNG sizes the installers need, with the headless
// Chromium that the browser tests use (no download, no native image library). Run after
// editing the SVG: node native-assets/render-icons.mjs — the PNGs are committed.
import { chromium } from 'playwright-core';
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

const dir = fileURLToPath(new URL('.', import.meta.url));
const svg = readFileSync(join(dir, 'icon.svg'), 'utf8');
const SIZES = [16, 32, 48, 64, 128, 256, 512, 1024];

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
});
try {
  for (const size of SIZES) {
    const page = await browser.newPage({ viewport: { width: size, height: size }, deviceScaleFactor: 1 });
    await page.setContent(`<html><body style="margin:0;background:transparent">${svg.replace('width="256" height="256"', `width="${size}" height="${size}"`)}</body></html>`);
    const png = await page.screenshot({ omitBackground: true, clip: { x: 0, y: 0, width: size, height: size } });
    writeFileSync(join(dir, `icon-${size}.png`), png);
    await page.close();
  }
  // electron-builder's default icon name (it derives .ico and .icns from the 1024 px PNG).
  writeFileSync(join(dir, 'icon.png'), readFileSync(join(dir, 'icon-1024.png')));
  // The page's favicon is the same drawing.
  writeFileSync(join(dir, '..', 'renderer', 'public', 'icon.svg'), svg);
} finally {
  await browser.close();
}
console.log(`wrote icon-{${SIZES.join(',')}}.png, icon.png and renderer/public/icon.svg from ${dir}icon.svg`);
