import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { krigeCommand } from '../../main/cli/commands/krige.ts';
import { krigeGrid } from '../../main/kriging/krige-grid.ts';
import { GridTooLargeError, MAX_GRID_CELLS } from '../../main/kriging/grid-size-limit.ts';
import { gridFromExtent } from '../../main/grid/grid-spec.ts';
import { crsFromEpsg } from '../../main/grid/crs.ts';
import { runCommand } from '../helpers/run-command.ts';
import { tempDir } from '../helpers/paths.ts';

/** Issue 19: `krige --cell 0.01` was an unnamed RangeError (new Float32Array of 2.4e13 cells). */
describe('krige: a cell size too small for the extent', () => {
  it('--cell 0.01 on a 2 × 1 km survey: GridTooLargeError with the grid size, the limit and a --cell that fits, before any kriging', async () => {
    const dir = tempDir();
    const file = join(dir, 'samples.csv');
    const rows = ['x,y,Au'];
    for (let i = 0; i < 20; i++) rows.push(`${500000 + (i % 5) * 500},${4600000 + Math.floor(i / 5) * (1000 / 3)},${(i * 7) % 11}`);
    writeFileSync(file, rows.join('\n'));
    const e = await runCommand(krigeCommand, ['--samples', file, '--x', 'x', '--y', 'y', '--crs', 'EPSG:32645', '--fields', 'Au', '--cell', '0.01', '--out', join(dir, 'k.tif')]).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(GridTooLargeError);
    // The samples span x 500000…502000, y 4600000…4601000: 200000 × 100000 cells of 0.01 m.
    const msg = (e as Error).message;
    expect(msg).toContain('200000 × 100000 = 20,000,000,000 cells of 0.01 m');
    expect(msg).toContain(`limit of ${MAX_GRID_CELLS.toLocaleString('en-US')} cells`);
    expect(msg).toMatch(/Give a larger --cell \(at least [\d.]+ for this extent\)/);
    const suggested = Number(/at least ([\d.]+)/.exec(msg)?.[1]);
    const g = gridFromExtent({ xmin: 500000, ymin: 4600000, xmax: 502000, ymax: 4601000 }, suggested, null);
    expect(g.rows * g.cols).toBeLessThanOrEqual(MAX_GRID_CELLS);
    expect(g.rows * g.cols).toBeGreaterThan(MAX_GRID_CELLS / 2); // the suggestion is not needlessly coarse
  });

  it('krigeGrid (the library) refuses the same grid by name', async () => {
    const grid = gridFromExtent({ xmin: 0, ymin: 0, xmax: 2000, ymax: 1000 }, 0.01, crsFromEpsg(32645));
    const input = { x: Float64Array.of(0, 1000, 2000), y: Float64Array.of(0, 500, 1000), fields: [{ name: 'Au', values: Float64Array.of(1, 2, 3) }] };
    await expect(krigeGrid(input, grid)).rejects.toThrow(GridTooLargeError);
  });
});
