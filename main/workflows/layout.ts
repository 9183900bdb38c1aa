import { InvalidOptionError } from '../errors.ts';
import { parseCrs } from '../grid/crs.ts';
import { parseExtent, writeMapLayout } from '../export/map-layout.ts';
import type { Orientation, PaperName } from '../export/paper.ts';
import type { StretchKind } from '../figures/stretch.ts';
import type { JobContext } from '../jobs/job.ts';
import { checkWorkflowPaths, required } from './option-table.ts';
import { LAYOUT_OPTIONS, LAYOUT_PATHS, type LayoutWorkflowOptions } from './layout-options.ts';
import type { LayoutWorkflowResult } from './layout-result.ts';

export { LAYOUT_OPTIONS, LAYOUT_PATHS, type LayoutWorkflowOptions } from './layout-options.ts';
export type { LayoutWorkflowResult } from './layout-result.ts';

/** An overlay's layer: its own `--<input>-layer`, else `--layer`; errors quote the input's own flag. */
const layerChoice = (own: string | undefined, generic: string | undefined, input: string) => ({ layer: own || generic || undefined, layerFlag: `--${input}-layer` });

/**
 * A map layout page for reports (main/export/map-layout.ts): one band of a raster with title,
 * legend, scale bar, north arrow, CRS, optional overlays and inset, as a vector PDF or a PNG at
 * the DPI. Written atomically; progress and notes (reprojected overlays) go to `ctx`.
 */
export async function layoutWorkflow(o: LayoutWorkflowOptions, ctx: JobContext = {}): Promise<LayoutWorkflowResult> {
  checkWorkflowPaths(LAYOUT_OPTIONS, LAYOUT_PATHS, o);
  const cmd = 'layout';
  const out = required(o.out, 'out', cmd);
  const pct = (o.percentiles || LAYOUT_OPTIONS.percentiles.default).split(',').map(Number);
  if (pct.length !== 2 || pct.some((v) => !Number.isFinite(v))) throw new InvalidOptionError('geoanomaly layout: --percentiles must be two numbers LOW,HIGH');
  const dpi = o.dpi ?? LAYOUT_OPTIONS.dpi.default;
  const r = await writeMapLayout(
    out,
    {
      raster: required(o.raster, 'raster', cmd),
      band: o.band || undefined,
      title: o.title || undefined,
      units: o.units || undefined,
      ramp: o.ramp || undefined,
      stretch: (o.stretch || undefined) as StretchKind | undefined,
      percentiles: [pct[0], pct[1]],
      paper: (o.paper || LAYOUT_OPTIONS.paper.default) as PaperName,
      orientation: (o.orientation || LAYOUT_OPTIONS.orientation.default) as Orientation,
      dpi,
      inset: o.inset === true,
      extent: o.extent ? parseExtent(o.extent) : undefined,
      deposits: o.deposits || undefined,
      faults: o.faults || undefined,
      sites: o.sites || undefined,
      overlayLayers: { deposits: layerChoice(o.depositsLayer, o.layer, 'deposits'), faults: layerChoice(o.faultsLayer, o.layer, 'faults'), sites: layerChoice(o.sitesLayer, o.layer, 'sites') },
      crs: o.crs ? parseCrs(o.crs) : undefined,
    },
    { signal: ctx.signal, progress: ctx.progress, log: ctx.log },
  );
  const p = r.page;
  return {
    outputs: { page: r.path },
    format: r.format,
    page: { paper: p.paper, orientation: p.orientation, widthMm: p.widthMm, heightMm: p.heightMm, widthPt: p.widthPt, heightPt: p.heightPt },
    widthPx: r.widthPx,
    heightPx: r.heightPx,
    dpi,
    band: r.band,
    title: r.title,
  };
}

/** The line "geoanomaly layout" prints on stdout for a result. */
export function layoutResultLines(r: LayoutWorkflowResult): string[] {
  const p = r.page;
  return [`wrote ${r.outputs.page}: ${r.format.toUpperCase()} ${p.paper} ${p.orientation} (${p.widthPt.toFixed(2)} × ${p.heightPt.toFixed(2)} pt), ${r.widthPx} × ${r.heightPx} px`];
}
