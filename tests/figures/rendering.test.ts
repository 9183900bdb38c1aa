import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { loadImage, createCanvas } from '@napi-rs/canvas';
import { FIGURE_CASES } from './figure-cases.ts';

async function pixels(png: Buffer): Promise<{ w: number; h: number; data: Uint8ClampedArray }> {
  const img = await loadImage(png);
  const c = createCanvas(img.width, img.height);
  const ctx = c.getContext('2d');
  ctx.drawImage(img, 0, 0);
  return { w: img.width, h: img.height, data: ctx.getImageData(0, 0, img.width, img.height).data };
}

describe('rendering regression (compared with reviewed images, like OpenLayers rendering tests)', () => {
  for (const [name, render] of Object.entries(FIGURE_CASES)) {
    it(`${name} matches tests/fixtures/figures/${name}.png`, async () => {
      const got = await pixels(render());
      const want = await pixels(readFileSync(new URL(`../fixtures/figures/${name}.png`, import.meta.url)));
      expect([got.w, got.h]).toEqual([want.w, want.h]);
      // Tolerance: font antialiasing may differ slightly between FreeType builds; at most 0.5% of
      // pixels may differ by more than 48 in any channel.
      let off = 0;
      for (let i = 0; i < got.data.length; i += 4) {
        const d = Math.max(Math.abs(got.data[i] - want.data[i]), Math.abs(got.data[i + 1] - want.data[i + 1]), Math.abs(got.data[i + 2] - want.data[i + 2]));
        if (d > 48) off++;
      }
      expect(off / (got.w * got.h)).toBeLessThan(0.005);
    });
  }

  it('writes the requested DPI into the PNG (pHYs chunk)', () => {
    const png = FIGURE_CASES['two-panels']();
    const at = png.indexOf(Buffer.from('pHYs'));
    expect(at).toBeGreaterThan(0);
    expect(png.readUInt32BE(at + 4)).toBe(Math.round(96 / 0.0254));
  });
});

describe('vector (SVG) figures', () => {
  it('charts and map panels export as SVG with vector paths (text as paths) and the raster embedded', async () => {
    const { renderChart } = await import('../../main/figures/chart.ts');
    const { renderMapFigure } = await import('../../main/figures/map-figure.ts');
    const { crsFromEpsg } = await import('../../main/grid/crs.ts');
    const svg = renderChart({ title: 'ROC', xLabel: 'FPR', yLabel: 'TPR', series: [{ kind: 'line', x: [0, 0.2, 1], y: [0, 0.8, 1], label: 'model' }], format: 'svg' }).toString('utf8');
    expect(svg).toMatch(/^(<\?xml[^>]*>\s*)?<svg[\s\S]*<\/svg>\s*$/);
    expect(svg).toMatch(/<path[^>]+d="[^"]{200,}"/); // glyph outlines: text became paths
    expect(svg).not.toMatch(/<text/); // no font needed to view it
    expect(svg).not.toMatch(/<image/); // a chart is pure vector
    const grid = { originX: 0, originY: 400, cellSizeX: 100, cellSizeY: 100, rows: 4, cols: 4, crs: crsFromEpsg(32645) };
    const map = renderMapFigure([{ grid, band: Float32Array.from({ length: 16 }, (_, i) => i), title: 'P', legend: 'P(deposit)' }], { format: 'svg' }).toString('utf8');
    expect(map).toMatch(/<image/); // the raster
    expect(map).toMatch(/<path[^>]+d="[^"]{200,}"/); // legend text, scale bar, north arrow as vectors
    expect(map).not.toMatch(/<text/);
  });
});
