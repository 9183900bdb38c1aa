import type { Command } from '../command.ts';
import { optionalNumber, optionalString, requireString } from '../command.ts';
import { initBackend, type BackendPreference } from '../../models/backend.ts';
import { parseCrs } from '../../grid/crs.ts';
import { loadRun } from '../../maps/run-models.ts';
import { openStackSource, matchBands } from '../../maps/stack-source.ts';
import { explainRun } from '../../maps/explain.ts';
import { attributeRun, ATTRIBUTION_METHODS, type AttributionMethod } from '../../maps/attribution.ts';
import { InvalidOptionError } from '../../errors.ts';
import { readStack } from '../../io/geotiff-read.ts';
import { readSitesGeoJson, sitesReadNote } from '../../sites/sites-geojson.ts';
import { DEDUPE_FIRST_FLAG, dedupeOf, dedupeOption } from '../dedupe-option.ts';
import { makeStack } from '../../grid/raster.ts';
import { inputLayerOptions, layerFor } from '../layer-options.ts';

export const explainCommand: Command = {
  name: 'explain',
  summary: 'Grad-CAM heat maps and learned-offset fields of trained models (site panels + rasters)',
  usage: '--run RUN_DIR --stack STACK.tif|DIR --sites SITES.geojson [--model NAME|all] [--layer NAME] [--gradcam] [--offsets] [--class 1] [--max-sites 10] [--attribution ig|occlusion [--ig-steps N]] --out DIR',
  details: [
    'Writes DIR/gradcam-sites.png (rows: deposit sites, columns: models), DIR/gradcam-cnn-vs-dcn.png and',
    'gradcam-gk-cnn-vs-gk-dcn.png (the paper\'s Figs. 10–11 layout), DIR/offsets-<model>.png (mean learned',
    'sampling displacement per cell, with the centre cell\'s sampling points) and DIR/modulation-<model>.png',
    '(mean modulation mask) for deformable models, DIR/explain-maps.tif',
    '(Grad-CAM at each cell\'s window centre and offset magnitude, per model) and DIR/explain.json.',
    'Without --gradcam/--offsets both are produced. Layers are named stem_conv, conv1/dcn1, conv2/dcn2.',
    'With --attribution: DIR/attribution-sites.json and .csv (per deposit site, each element\'s attribution to P(deposit) and',
    'a band ranking by mean |attribution|; ig = integrated gradients, occlusion = drop when the band is set to its mean)',
    'and DIR/attribution-<model>.tif (occlusion per element at every cell) unless --no-maps is given.',
    'Example: geoanomaly explain --run run1 --stack stack.tif --sites sites.geojson --layer dcn2 --out explain',
  ].join('\n'),
  paths: { outputs: { out: 'dir' }, inputs: ['run', 'stack', 'sites'] },
  options: {
    run: { type: 'string', description: 'run folder written by "geoanomaly train"', valueName: 'RUN_DIR' },
    stack: { type: 'string', description: 'element stack the run was trained on', valueName: 'PATH' },
    crs: { type: 'string', description: 'CRS of the --sites layer if it declares none (EPSG:N or proj4); declared CRSs are reprojected onto the stack\'s (logged)', valueName: 'CRS' },
    sites: { type: 'string', description: 'training sites GeoJSON (deposit block centres are explained)', valueName: 'FILE' },
    model: { type: 'string', description: 'model name(s), comma separated, or all', valueName: 'NAME', default: 'all' },
    layer: { type: 'string', description: 'layer to explain (default: last convolutional / first deformable layer)', valueName: 'NAME' },
    gradcam: { type: 'boolean', description: 'Grad-CAM only (with --offsets: both)' },
    offsets: { type: 'boolean', description: 'offset fields only (with --gradcam: both)' },
    class: { type: 'string', description: 'class to explain: 1 deposit, 0 non-deposit', valueName: 'C', default: '1' },
    'max-sites': { type: 'string', description: 'deposit sites shown', valueName: 'N', default: '10' },
    attribution: {
      type: 'string',
      description: 'per-element attribution beside Grad-CAM: ig (integrated gradients against the all-mean window) or occlusion (drop in P when one element is set to its mean)',
      valueName: 'ig|occlusion',
    },
    'ig-steps': { type: 'string', description: 'integrated-gradients steps (midpoint rule)', valueName: 'N', default: '64' },
    'no-maps': { type: 'boolean', description: 'skip the map-wide explanation rasters' },
    backend: { type: 'string', description: 'auto | wasm | cpu | tensorflow', valueName: 'NAME', default: 'auto' },
    out: { type: 'string', description: 'output folder', valueName: 'DIR' },
    ...inputLayerOptions('sites'),
    ...dedupeOption('two or more sites'),
  },
  async run(args, io) {
    const runDir = requireString(args, 'run', 'explain');
    const stackPath = requireString(args, 'stack', 'explain');
    const sitesPath = requireString(args, 'sites', 'explain');
    const out = requireString(args, 'out', 'explain');
    const backend = await initBackend((optionalString(args, 'backend') ?? 'auto') as BackendPreference);
    io.err(`backend: ${backend.detail}`);
    const run = await loadRun(runDir, (optionalString(args, 'model') ?? 'all').split(',').map((s) => s.trim()));
    const full = await readStack(stackPath);
    const idx = matchBands({ bandNames: full.bandNames, path: stackPath }, run.bandNames);
    const stack = makeStack(full.grid, [...run.bandNames], idx.map((i) => full.bands[i]), stackPath);
    const sitesCrs = optionalString(args, 'crs');
    const sites = await readSitesGeoJson(sitesPath, stack.grid, { assumeCrs: sitesCrs ? parseCrs(sitesCrs) : undefined, log: (m) => io.err(`explain: ${m}`), ...layerFor(args, 'sites', { generic: false }), dedupe: dedupeOf(args, 'explain'), dedupeFlag: DEDUPE_FIRST_FLAG });
    const note = sitesReadNote(sitesPath, sites);
    if (note) io.err(`explain: ${note}`);
    const onlyCam = args.values.gradcam === true;
    const onlyOff = args.values.offsets === true;
    const source = await openStackSource(stackPath);
    try {
      const r = await explainRun(
        run,
        stack,
        sites,
        source,
        out,
        {
          layer: optionalString(args, 'layer'),
          gradcam: onlyCam || !onlyOff,
          offsets: onlyOff || !onlyCam,
          classIndex: optionalNumber(args, 'class', 'explain'),
          maxSites: optionalNumber(args, 'max-sites', 'explain'),
          maps: args.values['no-maps'] !== true,
        },
        { signal: io.signal, progress: io.progress },
      );
      for (const f of r.files) io.out(f);
      const method = optionalString(args, 'attribution');
      if (method !== undefined) {
        if (!(ATTRIBUTION_METHODS as readonly string[]).includes(method)) throw new InvalidOptionError(`geoanomaly explain: --attribution must be one of ${ATTRIBUTION_METHODS.join(', ')}, got "${method}"`);
        const a = await attributeRun(run, stack, sites, source, out, { method: method as AttributionMethod, steps: optionalNumber(args, 'ig-steps', 'explain'), classIndex: optionalNumber(args, 'class', 'explain'), maps: args.values['no-maps'] !== true }, { signal: io.signal, progress: io.progress });
        for (const [name, m] of Object.entries(a.models)) io.out(`${name.padEnd(7)} ${method} band ranking: ${m.ranking.map((r) => `${r.band} ${r.meanAbs.toFixed(4)}`).join(', ')}`);
        for (const f of a.files) io.out(f);
      }
    } finally {
      await source.close();
    }
    return 0;
  },
};
