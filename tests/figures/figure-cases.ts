import { crsFromEpsg } from '../../main/grid/crs.ts';
import type { GridSpec } from '../../main/grid/grid-spec.ts';
import { renderMapFigure } from '../../main/figures/map-figure.ts';

/**
 * Fixed inputs of the rendering regression cases (OpenLayers-style): each case renders a
 * deterministic figure; tests compare it with the reviewed image in tests/fixtures/figures,
 * which `make-expected.ts` regenerates after a deliberate change.
 */
const grid: GridSpec = { originX: 500000, originY: 4640000, cellSizeX: 1000, cellSizeY: 1000, rows: 30, cols: 45, crs: crsFromEpsg(32645) };

function field(kind: 'smooth' | 'other'): Float32Array {
  const b = new Float32Array(grid.rows * grid.cols);
  for (let r = 0; r < grid.rows; r++) {
    for (let c = 0; c < grid.cols; c++) {
      const u = (c - 20) / 8;
      const v = (r - 14) / 5;
      b[r * grid.cols + c] = kind === 'smooth' ? Math.exp(-(u * u + v * v) / 2) : 0.5 + 0.5 * Math.sin(c / 4) * Math.cos(r / 3);
    }
  }
  b[0] = NaN; // one nodata cell, drawn grey
  return b;
}

export const FIGURE_CASES: Record<string, () => Buffer> = {
  'two-panels': () =>
    renderMapFigure(
      [
        {
          grid,
          band: field('smooth'),
          title: 'CNN',
          legend: 'P(deposit)',
          stretch: { fixed: [0, 1] },
          points: [
            { x: [520500, 510500], y: [4625500, 4632500], style: 'deposit' },
            { x: [530500], y: [4620500], style: 'negative' },
            { x: [521500], y: [4626500], style: 'positive' },
          ],
          lines: [{ lines: [[[500000, 4615000], [545000, 4635000]]] }],
        },
        { grid, band: field('other'), title: 'DCN', legend: 'P(deposit)', ramp: 'magma', stretch: { kind: 'minmax' } },
      ],
      { title: 'Rendering case: two panels', dpi: 96, panelWidth: 300 },
    ),
};
