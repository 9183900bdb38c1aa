import { parseCrs } from '../grid/crs.ts';
import { writeRunReport } from '../export/run-report.ts';
import type { JobContext } from '../jobs/job.ts';
import { checkWorkflowPaths, required } from './option-table.ts';
import { REPORT_OPTIONS, REPORT_PATHS, type ReportWorkflowOptions } from './report-options.ts';
import type { ReportWorkflowResult } from './report-result.ts';

export { REPORT_OPTIONS, REPORT_PATHS, type ReportWorkflowOptions } from './report-options.ts';
export type { ReportWorkflowResult } from './report-result.ts';

/**
 * The report of a training run (main/export/run-report.ts) as self-contained HTML or paginated
 * PDF: metrics, fold plots, learning curves, maps of `map` with `deposits`, the manifest.
 * Written atomically; progress and notes (reprojected deposits) go to `ctx`.
 */
export async function reportWorkflow(o: ReportWorkflowOptions, ctx: JobContext = {}): Promise<ReportWorkflowResult> {
  checkWorkflowPaths(REPORT_OPTIONS, REPORT_PATHS, o);
  const cmd = 'report';
  const r = await writeRunReport(
    required(o.run, 'run', cmd),
    required(o.out, 'out', cmd),
    {
      map: o.map || undefined,
      deposits: o.deposits || undefined,
      // --deposits-layer, else --layer; errors quote --deposits-layer.
      depositsLayer: { layer: o.depositsLayer || o.layer || undefined, layerFlag: '--deposits-layer' },
      title: o.title || undefined,
      crs: o.crs ? parseCrs(o.crs) : undefined,
    },
    { signal: ctx.signal, progress: ctx.progress, log: ctx.log },
  );
  return {
    outputs: { report: r.path },
    format: r.format,
    title: r.report.title,
    runDir: r.report.runDir,
    models: Object.keys(r.report.metrics),
    charts: r.report.charts.map((c) => c.caption),
    maps: r.report.maps.map((m) => m.caption),
    warnings: r.report.warnings,
  };
}

/** The line "geoanomaly report" prints on stdout for a result. */
export function reportResultLines(r: ReportWorkflowResult): string[] {
  return [`wrote ${r.outputs.report} (${r.format.toUpperCase()}: ${r.models.length} model(s), ${r.charts.length} plot(s), ${r.maps.length} map figure(s))`];
}
