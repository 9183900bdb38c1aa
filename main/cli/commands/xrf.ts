import type { Command } from '../command.ts';
import { cliOptions, optionsFromFlags } from '../../workflows/option-table.ts';
import { XRF_OPTIONS, XRF_PATHS, xrfResultLines, xrfWorkflow } from '../../workflows/xrf.ts';

/** `geoanomaly xrf`: flags → XrfWorkflowOptions → xrfWorkflow (main/workflows/xrf.ts) → printed lines. */
export const xrfCommand: Command = {
  name: 'xrf',
  summary: 'micro-XRF anomaly detection (MSFA-Net, RX, local RX, Auto-AD) with AUC against a truth mask',
  usage: '--cube FILE [--dataset PATH] [--drop-bands A,B] [--truth MASK] --method msfa|rx|lrx|autoad|all [--ablation A] [--epochs N] [--seed N] [--threads N] [--queue URL] --out DIR',
  paths: XRF_PATHS,
  options: cliOptions(XRF_OPTIONS),
  details: [
    'Writes DIR/metrics.json as { "<method>": { "auc": …, "seconds": …, … } }; "auc" only when a truth mask is known.',
    'Writes DIR/spectral-axis.json: band names, the energy (keV) / wavelength (nm) of each channel when the file gives it, pixel size in µm.',
    'Example: geoanomaly xrf --cube sample.h5 --dataset /entry/data --method rx --out runs/h5',
    'Example: geoanomaly xrf --cube scan.hdr --method rx,lrx --out runs/envi',
    'Example: geoanomaly xrf --cube ../shared/data/hyperspectral/HYDICE_data.mat --method all --seed 1 --out runs/hydice',
    'With --queue URL each method (msfa, rx, lrx, autoad) is one unit run by "geoanomaly worker" processes; the normalised cube is written once under the output folder\'s parent (.queue-<run>/, removed after) and the maps and metrics are written here as without --queue.',
  ].join('\n'),
  async run(args, io) {
    const result = await xrfWorkflow(optionsFromFlags(XRF_OPTIONS, args.values, 'xrf'), { signal: io.signal, progress: io.progress, log: io.err });
    for (const line of xrfResultLines(result)) io.out(line);
    return 0;
  },
};
