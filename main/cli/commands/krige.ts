import type { Command } from '../command.ts';
import { cliOptions, optionsFromFlags } from '../../workflows/option-table.ts';
import { DEFAULT_NMAX, GLOBAL_LIMIT, KRIGE_OPTIONS, KRIGE_PATHS, krigeResultLines, krigeWorkflow } from '../../workflows/krige.ts';

/** `geoanomaly krige`: flags → KrigeWorkflowOptions → krigeWorkflow (main/workflows/krige.ts) → printed lines. */
export const krigeCommand: Command = {
  name: 'krige',
  summary: 'ordinary kriging of sample points onto a grid (one band per element)',
  usage:
    '--samples FILE --x COL --y COL --crs EPSG:N --fields A,B|all (--cell METRES [--extent xmin,ymin,xmax,ymax] | --like GRID.tif) ' +
    '[--model auto|sph|exp|gau | --variogram MODEL:NUGGET:PSILL:RANGE] [--nmax N] [--maxdist M] [--log] --out STACK.tif [--variance VAR.tif] [--cv CV.json] [--extrapolation-mask MASK.tif]',
  details: [
    'Fits a variogram per element (weighted least squares, gstat fit.method 7) unless --variogram fixes one',
    'in gstat\'s parameterisation: "sph:0.05:0.59:897" = nugget 0.05, partial sill 0.59, range 897 m; for exp',
    'and gau RANGE is gstat\'s a (practical range / 3, resp. / √3). A fixed model applies to every element.',
    `Without --nmax: global kriging up to ${GLOBAL_LIMIT} samples, a ${DEFAULT_NMAX}-point neighbourhood above.`,
    'With --log, elements are kriged as log(value) and predictions back-transformed (lognormal kriging);',
    'the --variance stack and the --cv errors are then on the log scale.',
    'Without --extent or --like the grid covers the samples\' bounding box, snapped outward to whole cells.',
    'Example: geoanomaly krige --samples demo/samples.csv --x x --y y --crs EPSG:32645 --fields all \\',
    '           --cell 1000 --log --out grids.tif --variance grids-var.tif --cv cv.json',
  ].join('\n'),
  paths: KRIGE_PATHS,
  options: cliOptions(KRIGE_OPTIONS),
  async run(args, io) {
    const result = await krigeWorkflow(optionsFromFlags(KRIGE_OPTIONS, args.values, 'krige'), { signal: io.signal, progress: io.progress, log: io.err });
    for (const line of krigeResultLines(result)) io.out(line);
    return 0;
  },
};
