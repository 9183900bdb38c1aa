import type { Command } from '../command.ts';
import { cliOptions, optionsFromFlags } from '../../workflows/option-table.ts';
import { REPORT_OPTIONS, REPORT_PATHS, reportResultLines, reportWorkflow } from '../../workflows/report.ts';

/** `geoanomaly report`: flags → ReportWorkflowOptions → reportWorkflow (main/workflows/report.ts) → printed lines. */
export const reportCommand: Command = {
  name: 'report',
  summary: 'report of a training run (HTML or PDF): metrics, fold plots, maps, manifest',
  usage: '--run RUN_DIR [--map PROB.tif] [--deposits FILE] [--title T] --out REPORT.html|REPORT.pdf',
  paths: REPORT_PATHS,
  options: cliOptions(REPORT_OPTIONS),
  details: [
    'Both formats hold the same content: run summary (seed, backend, options), mean ± sd of the seven',
    'metrics, every fold, AUC and MCC per fold, the maps, and the manifest (inputs with SHA-256,',
    'final models, package versions, options).',
    '',
    'Example:',
    '  geoanomaly report --run run1 --map prob.tif --deposits deposits.geojson --out run1-report.pdf',
  ].join('\n'),
  async run(args, io) {
    const result = await reportWorkflow(optionsFromFlags(REPORT_OPTIONS, args.values, 'report'), { signal: io.signal, progress: io.progress, log: io.err });
    for (const line of reportResultLines(result)) io.out(line);
    return 0;
  },
};
