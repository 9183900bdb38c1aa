import type { Command } from '../command.ts';
import { optionalString, requireString } from '../command.ts';
import { writeRunReport } from '../../export/run-report.ts';
import { LAYER_OPTION, inputLayerOptions, layerFor } from '../layer-options.ts';
import { parseCrs } from '../../grid/crs.ts';

export const reportCommand: Command = {
  name: 'report',
  summary: 'report of a training run (HTML or PDF): metrics, fold plots, maps, manifest',
  usage: '--run RUN_DIR [--map PROB.tif] [--deposits FILE] [--title T] --out REPORT.html|REPORT.pdf',
  paths: { outputs: { out: 'file' }, inputs: ['run', 'map', 'deposits'] },
  options: {
    run: { type: 'string', description: 'run directory written by "geoanomaly train" (metrics.json, manifest.json)', valueName: 'RUN_DIR' },
    map: { type: 'string', description: 'probability map of the run ("geoanomaly predict" output): one map per band', valueName: 'PROB.tif' },
    deposits: { type: 'string', description: 'deposit points drawn on the maps', valueName: 'FILE' },
    crs: { type: 'string', description: 'CRS of the --deposits layer if it declares none (EPSG:N or proj4); declared CRSs are reprojected onto the map\'s (logged)', valueName: 'CRS' },
    title: { type: 'string', description: 'report title (default: "Training run <folder>")', valueName: 'TEXT' },
    out: { type: 'string', description: '.html (self-contained, images inlined) or .pdf (A4, paginated)', valueName: 'FILE' },
    ...LAYER_OPTION,
    ...inputLayerOptions('deposits'),
  },
  details: [
    'Both formats hold the same content: run summary (seed, backend, options), mean ± sd of the seven',
    'metrics, every fold, AUC and MCC per fold, the maps, and the manifest (inputs with SHA-256,',
    'final models, package versions, options).',
    '',
    'Example:',
    '  geoanomaly report --run run1 --map prob.tif --deposits deposits.geojson --out run1-report.pdf',
  ].join('\n'),
  async run(args, io) {
    const crsText = optionalString(args, 'crs');
    const r = await writeRunReport(
      requireString(args, 'run', 'report'),
      requireString(args, 'out', 'report'),
      { map: optionalString(args, 'map'), deposits: optionalString(args, 'deposits'), depositsLayer: layerFor(args, 'deposits'), title: optionalString(args, 'title'), crs: crsText ? parseCrs(crsText) : undefined },
      { signal: io.signal, progress: io.progress, log: io.err },
    );
    io.out(`wrote ${r.path} (${r.format.toUpperCase()}: ${Object.keys(r.report.metrics).length} model(s), ${r.report.charts.length} plot(s), ${r.report.maps.length} map figure(s))`);
    return 0;
  },
};
