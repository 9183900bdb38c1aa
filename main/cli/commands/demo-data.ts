import type { Command } from '../command.ts';
import { optionalNumber, requireString } from '../command.ts';
import { writeDemoSurvey } from '../../demo/demo-survey.ts';

export const demoDataCommand: Command = {
  name: 'demo-data',
  summary: 'write the seeded synthetic regional survey (samples, faults, deposits, truth)',
  usage: '--out DIR [--seed N] [--samples N] [--deposits N]',
  details: [
    'Writes DIR/samples.csv (id, x, y and 39 elements, EPSG:32645, "<DL" censoring),',
    'DIR/faults.geojson, DIR/deposits.geojson, DIR/anomaly-truth.tif and DIR/demo.json (the',
    'generator\'s true parameters). The same seed gives byte-identical files.',
    'Example: geoanomaly demo-data --out demo-data --seed 7',
  ].join('\n'),
  options: {
    out: { type: 'string', description: 'output folder', valueName: 'DIR' },
    seed: { type: 'string', description: 'random seed', valueName: 'N', default: '20260219' },
    samples: { type: 'string', description: 'approximate number of samples', valueName: 'N', default: '3000' },
    deposits: { type: 'string', description: 'number of deposits', valueName: 'N', default: '40' },
  },
  async run(args, io) {
    const out = requireString(args, 'out', 'demo-data');
    const files = writeDemoSurvey(
      out,
      {
        seed: optionalNumber(args, 'seed', 'demo-data'),
        sampleCount: optionalNumber(args, 'samples', 'demo-data'),
        depositCount: optionalNumber(args, 'deposits', 'demo-data'),
      },
      { signal: io.signal, progress: io.progress },
    );
    for (const [k, v] of Object.entries(files)) io.out(`${k.padEnd(9)} ${v}`);
    return 0;
  },
};
