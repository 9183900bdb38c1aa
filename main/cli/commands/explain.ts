import type { Command } from '../command.ts';
import { cliOptions, optionsFromFlags } from '../../workflows/option-table.ts';
import { EXPLAIN_OPTIONS, EXPLAIN_PATHS, explainResultLines, explainWorkflow } from '../../workflows/explain.ts';

/** `geoanomaly explain`: flags → ExplainWorkflowOptions → explainWorkflow (main/workflows/explain.ts) → printed lines. */
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
  paths: EXPLAIN_PATHS,
  options: cliOptions(EXPLAIN_OPTIONS),
  async run(args, io) {
    const result = await explainWorkflow(optionsFromFlags(EXPLAIN_OPTIONS, args.values, 'explain'), { signal: io.signal, progress: io.progress, log: io.err });
    for (const line of explainResultLines(result)) io.out(line);
    return 0;
  },
};
