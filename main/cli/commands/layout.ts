import type { Command } from '../command.ts';
import { cliOptions, optionsFromFlags } from '../../workflows/option-table.ts';
import { LAYOUT_OPTIONS, LAYOUT_PATHS, layoutResultLines, layoutWorkflow } from '../../workflows/layout.ts';

/** `geoanomaly layout`: flags → LayoutWorkflowOptions → layoutWorkflow (main/workflows/layout.ts) → printed lines. */
export const layoutCommand: Command = {
  name: 'layout',
  summary: 'map layout for reports: PNG or PDF page with title, legend, scale bar, north arrow, CRS, overlays, inset',
  usage: '--raster FILE [--band NAME] [--title T] [--paper A4|A3|Letter] [--orientation landscape|portrait] [--dpi N] [--inset] [--deposits F] [--faults F] [--sites F] --out PAGE.pdf|PAGE.png',
  paths: LAYOUT_PATHS,
  options: cliOptions(LAYOUT_OPTIONS),
  details: [
    'The PDF page has the exact paper size (A4 = 595.28 × 841.89 pt portrait) and is vector: text, legend,',
    'scale bar, north arrow, CRS and overlays are PDF text and paths, the raster one image pixel per cell.',
    'The PNG is the page image at --dpi with the DPI in its pHYs chunk; both print at paper size.',
    '',
    'Example:',
    '  geoanomaly layout --raster prob.tif --band p_gk-dcn --deposits deposits.geojson --faults faults.geojson \\',
    '    --inset --paper A4 --orientation landscape --dpi 300 --out prob-gk-dcn.pdf',
  ].join('\n'),
  async run(args, io) {
    const result = await layoutWorkflow(optionsFromFlags(LAYOUT_OPTIONS, args.values, 'layout'), { signal: io.signal, progress: io.progress, log: io.err });
    for (const line of layoutResultLines(result)) io.out(line);
    return 0;
  },
};
