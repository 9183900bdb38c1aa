import type { Command } from '../command.ts';
import { cliOptions, optionsFromFlags } from '../../workflows/option-table.ts';
import { DEMO_OPTIONS, DEMO_PATHS, demoResultLines, demoWorkflow } from '../../workflows/demo.ts';

export { PipelineStepError } from '../../workflows/demo.ts';

/** `geoanomaly demo`: flags → DemoWorkflowOptions → demoWorkflow (main/workflows/demo.ts, which runs the other workflows) → the summary. */
export const demoCommand: Command = {
  name: 'demo',
  summary: 'run the whole regional workflow on the bundled demo survey (data → krige → faults → sites → train → predict → explain → evaluate)',
  usage: '--out DIR [--seed N] [--epochs N] [--folds K] [--repeats R] [--cell METRES]',
  details: [
    'Writes DIR/summary.md (metrics table and where each figure is) and, below DIR: data/ (the survey),',
    'grids/ (kriged 39-element stack, variances, LOO-CV), knowledge/ (fault distance, weight map, power law),',
    'sites.geojson, run/ (cross-validated models, metrics.json, manifest.json), maps/ (probability GeoTIFF and',
    'figure), explain/ (Grad-CAM and offset panels), eval/ (success-rate, P–A and C–A per model).',
    'Example: geoanomaly demo --out demo-run',
  ].join('\n'),
  paths: DEMO_PATHS,
  options: cliOptions(DEMO_OPTIONS),
  async run(args, io) {
    const result = await demoWorkflow(optionsFromFlags(DEMO_OPTIONS, args.values, 'demo'), { signal: io.signal, progress: io.progress, log: io.err });
    for (const line of demoResultLines(result)) io.out(line);
    return 0;
  },
};
