import type { Command } from '../command.ts';
import { cliOptions, optionsFromFlags } from '../../workflows/option-table.ts';
import { FAULTS_OPTIONS, FAULTS_PATHS, faultsResultLines, faultsWorkflow } from '../../workflows/faults.ts';

/** `geoanomaly faults`: flags → FaultsWorkflowOptions → faultsWorkflow (main/workflows/faults.ts) → printed lines. */
export const faultsCommand: Command = {
  name: 'faults',
  summary: 'distance to faults, deposit density–distance power law, fault weight map',
  usage:
    '--faults LINES(.shp|.geojson)|RASTER.tif --grid REF.tif --deposits POINTS|RASTER.tif [--ring METRES] ' +
    '--distance OUT_DIST.tif --weight OUT_W.tif --report POWERLAW.json',
  paths: FAULTS_PATHS,
  options: cliOptions(FAULTS_OPTIONS),
  details:
    'Rings: ring i holds distances in ((i−1)·w, i·w]; cells on a fault are in ring 1. The law m(d) = N·d^k is fitted\n' +
    'in log–log space over rings holding deposits, d = outer ring edge in km (--ring-distance mid: its middle),\n' +
    'm = deposit cells per km².\n' +
    'Example (GK-DCN case study, labels paired by index):\n' +
    '  geoanomaly faults --faults faults.geojson --grid elements/Au.tif --deposits label/Au_deposits0.tif \\\n' +
    '    --align-by-index 0,0 --distance dist.tif --weight w.tif --report powerlaw.json\n' +
    'Example (faults and deposits as layers of one GeoPackage; "geoanomaly info survey.gpkg" lists them):\n' +
    '  geoanomaly faults --faults survey.gpkg --faults-layer faults --deposits survey.gpkg --deposits-layer deposits \\\n' +
    '    --grid stack.tif --distance dist.tif --weight w.tif --report powerlaw.json',
  async run(args, io) {
    const result = await faultsWorkflow(optionsFromFlags(FAULTS_OPTIONS, args.values, 'faults'), { signal: io.signal, progress: io.progress, log: io.err });
    for (const line of faultsResultLines(result)) io.out(line);
    return 0;
  },
};
