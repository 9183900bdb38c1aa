import type { Command } from '../command.ts';
import { cliOptions, optionsFromFlags } from '../../workflows/option-table.ts';
import { DEMO_DATA_OPTIONS, DEMO_DATA_PATHS, demoDataResultLines, demoDataWorkflow } from '../../workflows/demo-data.ts';

/** `geoanomaly demo-data`: flags → DemoDataWorkflowOptions → demoDataWorkflow (main/workflows/demo-data.ts) → printed lines. */
export const demoDataCommand: Command = {
  name: 'demo-data',
  summary: 'write the seeded synthetic regional survey (samples, faults, deposits, truth)',
  usage: '--out DIR [--seed N] [--samples N] [--deposits N] [--halo-along M] [--halo-across M] [--fault-control X] [--noise X] [--decoys N]',
  details: [
    'Writes DIR/samples.csv (id, x, y and 39 elements, EPSG:32645, "<DL" censoring),',
    'DIR/faults.geojson, DIR/deposits.geojson, DIR/anomaly-truth.tif and DIR/demo.json (the',
    'generator\'s true parameters). The same seed gives byte-identical files; without the regime options',
    'the files are those of the default survey. Regimes of the skill benchmark (bench/skill.ts): isotropic blobs',
    '(--halo-along 1200 --halo-across 1200 --fault-control 0) and elongated fault-controlled anomalies (defaults).',
    'Example: geoanomaly demo-data --out demo-data --seed 7',
  ].join('\n'),
  paths: DEMO_DATA_PATHS,
  options: cliOptions(DEMO_DATA_OPTIONS),
  async run(args, io) {
    const result = await demoDataWorkflow(optionsFromFlags(DEMO_DATA_OPTIONS, args.values, 'demo-data'), { signal: io.signal, progress: io.progress, log: io.err });
    for (const line of demoDataResultLines(result)) io.out(line);
    return 0;
  },
};
