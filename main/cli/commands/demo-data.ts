import type { Command } from '../command.ts';
import { optionalNumber, requireString } from '../command.ts';
import { writeDemoSurvey } from '../../demo/demo-survey.ts';

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
  options: {
    out: { type: 'string', description: 'output folder', valueName: 'DIR' },
    seed: { type: 'string', description: 'random seed', valueName: 'N', default: '20260219' },
    samples: { type: 'string', description: 'approximate number of samples', valueName: 'N', default: '3000' },
    deposits: { type: 'string', description: 'number of deposits', valueName: 'N', default: '40' },
    'halo-along': { type: 'string', description: 'anomaly halo sd along the fault strike (elongation = along / across)', valueName: 'M', default: '2500' },
    'halo-across': { type: 'string', description: 'anomaly halo sd across the fault strike', valueName: 'M', default: '700' },
    'fault-control': { type: 'string', description: 'strength of fault control in [0, 1]: deposits by the power law and fault-related enrichment (1) or uniform (0)', valueName: 'X', default: '1' },
    noise: { type: 'string', description: 'multiplier of each element\'s own noise', valueName: 'X', default: '1' },
    decoys: { type: 'string', description: 'decoy anomalies: halos without a deposit (not in the truth raster)', valueName: 'N', default: '0' },
  },
  async run(args, io) {
    const out = requireString(args, 'out', 'demo-data');
    const files = writeDemoSurvey(
      out,
      {
        seed: optionalNumber(args, 'seed', 'demo-data'),
        sampleCount: optionalNumber(args, 'samples', 'demo-data'),
        depositCount: optionalNumber(args, 'deposits', 'demo-data'),
        haloAlongM: optionalNumber(args, 'halo-along', 'demo-data'),
        haloAcrossM: optionalNumber(args, 'halo-across', 'demo-data'),
        faultControl: optionalNumber(args, 'fault-control', 'demo-data'),
        noise: optionalNumber(args, 'noise', 'demo-data'),
        decoyCount: optionalNumber(args, 'decoys', 'demo-data'),
      },
      { signal: io.signal, progress: io.progress },
    );
    for (const [k, v] of Object.entries(files)) io.out(`${k.padEnd(9)} ${v}`);
    return 0;
  },
};
