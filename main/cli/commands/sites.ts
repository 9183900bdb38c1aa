import type { Command } from '../command.ts';
import { cliOptions, optionsFromFlags } from '../../workflows/option-table.ts';
import { SITES_OPTIONS, SITES_PATHS, sitesResultLines, sitesWorkflow } from '../../workflows/sites.ts';

/** `geoanomaly sites`: flags → SitesWorkflowOptions → sitesWorkflow (main/workflows/sites.ts) → printed lines. */
export const sitesCommand: Command = {
  name: 'sites',
  summary: 'positive and negative training sites (3×3 blocks) as GeoJSON',
  usage:
    '--deposits FILE --grid REF.tif [--faults FILE] [--negatives auto|none|FILE] [--min-deposit-dist M] ' +
    '[--min-fault-dist M] [--seed N] [--layer NAME] [--labels-as-points] --out SITES.geojson|SITES.gpkg|SITES.shp',
  paths: SITES_PATHS,
  options: cliOptions(SITES_OPTIONS),
  details:
    'Each deposit cell and its 8 neighbours become positives sharing one siteId; negatives are augmented likewise.\n' +
    'Example (GK-DCN case study, label grids paired by array index with the element grid):\n' +
    '  geoanomaly sites --deposits label/Au_deposits0.tif --grid elements/Au.tif --negatives label/non_deposits.tif \\\n' +
    '    --negative-value 0 --align-by-index 0,0 --out sites.geojson\n' +
    'Example (deposits and faults as layers of one GeoPackage, sites written as GeoPackage):\n' +
    '  geoanomaly sites --deposits survey.gpkg --deposits-layer deposits --faults survey.gpkg --faults-layer faults \\\n' +
    '    --grid stack.tif --out sites.gpkg',
  async run(args, io) {
    const result = await sitesWorkflow(optionsFromFlags(SITES_OPTIONS, args.values, 'sites'), { signal: io.signal, progress: io.progress, log: io.err });
    for (const line of sitesResultLines(result)) io.out(line);
    return 0;
  },
};
