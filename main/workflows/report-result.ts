/**
 * The typed result of the report workflow (main/workflows/report.ts), as the app's contract
 * carries it (main/api/contract.ts JobResult.workflow). Plain data, free of Node and library
 * imports: the renderer's type check reads this file.
 */
import type { WorkflowWarning } from './workflow-results.ts';

/** What "report" wrote: the file, its format and what it holds. */
export interface ReportWorkflowResult {
  readonly outputs: { readonly report: string };
  readonly format: 'html' | 'pdf';
  readonly title: string;
  readonly runDir: string;
  /** The run's models, in metrics.json's order. */
  readonly models: readonly string[];
  /** The captions of the plots (fold metrics, learning curves) and of the map figures. */
  readonly charts: readonly string[];
  readonly maps: readonly string[];
  /** The run's trust warnings and those of the map, as the report lists them. */
  readonly warnings: readonly WorkflowWarning[];
}
