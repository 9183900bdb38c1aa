import type { GridSpec } from '../grid/grid-spec.ts';
import { cellCenterX, cellCenterY } from '../grid/grid-spec.ts';
import { makeTransform, sameCrs } from '../grid/crs.ts';
import type { RasterStack } from '../grid/raster.ts';
import { CrsError, InvalidOptionError } from '../errors.ts';
import { cellsFromPoints, type LabelCells, type OutsidePolicy, type SiteRole } from './label-cells.ts';

/**
 * `sites --labels-as-points`: a label raster on ANOTHER grid read as points. Each marked cell
 * becomes the point at its centre in the label raster's own georeferencing (reprojected when its
 * CRS differs from the reference grid's), and the points then take the normal sites path
 * (cellsFromPoints: the reference cell that holds each point). Nothing is resampled, so a sparse
 * deposit cell is neither dropped (nearest resampling can skip it) nor smeared over its
 * neighbours (bilinear); two label cells in one reference cell count once (reported as merged).
 */
export function cellsFromLabelPoints(
  reference: GridSpec,
  label: RasterStack & { readonly nodata?: number | null },
  options: { readonly role?: SiteRole; readonly value?: number | 'non-zero'; readonly outside?: OutsidePolicy } = {},
): LabelCells {
  const role = options.role ?? 'deposit';
  const source = label.source ?? `${role} raster`;
  if (label.bands.length !== 1) throw new InvalidOptionError(`${source}: a label raster needs exactly one band, found ${label.bands.length}`);
  const value = options.value ?? 'non-zero';
  const lg = label.grid;
  const band = label.bands[0];
  let toRef: ((xy: readonly [number, number]) => [number, number]) | null = null;
  if (lg.crs && reference.crs && !sameCrs(lg.crs, reference.crs)) toRef = makeTransform(lg.crs, reference.crs);
  else if ((lg.crs === null) !== (reference.crs === null)) {
    throw new CrsError(`${source}: ${lg.crs ? 'the reference grid' : 'the label raster'} declares no CRS, so the label cells cannot be placed as points; give both files a CRS (gdal_edit.py -a_srs EPSG:N)`, { source });
  }
  const x: number[] = [];
  const y: number[] = [];
  for (let i = 0; i < band.length; i++) {
    const v = band[i];
    const marked = value === 'non-zero' ? Number.isFinite(v) && v !== 0 && v !== label.nodata : v === value;
    if (!marked) continue;
    const p: [number, number] = [cellCenterX(lg, i % lg.cols), cellCenterY(lg, Math.floor(i / lg.cols))];
    const q = toRef ? toRef(p) : p;
    x.push(q[0]);
    y.push(q[1]);
  }
  if (x.length === 0) throw new InvalidOptionError(`${source}: no cell is marked (${value === 'non-zero' ? 'non-zero' : `value ${value}`}); give the value that marks the sites`, { source, value });
  return cellsFromPoints(reference, x, y, { role, source: `${source} (cells as points)`, outside: options.outside });
}
