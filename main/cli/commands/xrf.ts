import { dirname, resolve } from 'node:path';
import type { Command } from '../command.ts';
import { optionalNumber, optionalString, requireString } from '../command.ts';
import { InvalidOptionError } from '../../errors.ts';
import { readCube, readTruthMask } from '../../xrf/cube-import.ts';
import { NORMALIZATIONS, type Normalization } from '../../xrf/cube.ts';
import { ABLATIONS, type Ablation } from '../../xrf/msfa-net.ts';
import { runXrfWorkflow, XRF_METHODS, type XrfMethod } from '../../xrf/workflow.ts';
import type { BackendPreference } from '../../models/backend.ts';
import { defaultThreads } from '../../jobs/worker-pool.ts';

export const xrfCommand: Command = {
  name: 'xrf',
  summary: 'micro-XRF anomaly detection (MSFA-Net, RX, local RX, Auto-AD) with AUC against a truth mask',
  usage: '--cube FILE [--dataset PATH] [--drop-bands A,B] [--truth MASK] --method msfa|rx|lrx|autoad|all [--ablation A] [--epochs N] [--seed N] [--threads N] [--queue URL] --out DIR',
  paths: { outputs: { out: 'dir' }, inputs: ['cube', 'truth'] },
  options: {
    cube: { type: 'string', description: 'cube: .mat v5 or v7.3 (data H×W×B, optional map), HDF5 .h5/.hdf5 (see --dataset), NeXus .nxs, HyperSpy .hspy, ENVI .hdr/.img, multi-band .tif, .csv (x, y, channels) or a folder of element maps (Fe-Ka.tif, Cu_Ka.bmp, "Zn Ka.txt")', valueName: 'FILE' },
    dataset: { type: 'string', description: 'HDF5 dataset holding the cube as (rows, cols, channels), e.g. /entry/data; default: the NeXus signal, the HyperSpy data, the MAT variable "data" or the only rank-3 dataset (geoanomaly info FILE.h5 lists them)', valueName: 'PATH' },
    'drop-bands': { type: 'string', description: 'comma list of band names to leave out after reading (dead NaN channels, sum spectra)', valueName: 'A,B' },
    truth: { type: 'string', description: "truth mask (.tif, .png or .mat 'map'); default: the cube file's own map", valueName: 'MASK' },
    method: { type: 'string', description: 'msfa | rx | lrx | autoad | all, or a comma list', valueName: 'M', default: 'all' },
    ablation: { type: 'string', description: 'MSFA-Net ablation: none | no-attention | no-groups | no-orthogonal', valueName: 'A', default: 'none' },
    epochs: { type: 'string', description: 'MSFA-Net training epochs', valueName: 'N', default: '150' },
    seed: { type: 'string', description: 'seed of weight init, shuffling and noise', valueName: 'N', default: '1' },
    normalize: { type: 'string', description: `band normalisation: ${NORMALIZATIONS.join(' | ')}`, valueName: 'N', default: 'minmax-band' },
    backend: { type: 'string', description: 'TensorFlow.js backend: auto | wasm | cpu | tensorflow', valueName: 'B', default: 'wasm' },
    threads: { type: 'string', description: 'MSFA-Net training threads (data-parallel replicas; 1 = this thread; default: all cores)', valueName: 'N' },
    queue: { type: 'string', description: 'run each detector method as a unit on a Redis queue (redis://[:PASSWORD@]HOST:PORT[/DB] or rediss://) served by "geoanomaly worker" on machines sharing the output folder\'s parent; same score maps and metrics (timing fields aside) as without', valueName: 'URL' },
    out: { type: 'string', description: 'output folder (metrics.json, <method>-score.tif/.png, roc.json, separability.json/.png)', valueName: 'DIR' },
  },
  details: [
    'Writes DIR/metrics.json as { "<method>": { "auc": …, "seconds": …, … } }; "auc" only when a truth mask is known.',
    'Writes DIR/spectral-axis.json: band names, the energy (keV) / wavelength (nm) of each channel when the file gives it, pixel size in µm.',
    'Example: geoanomaly xrf --cube sample.h5 --dataset /entry/data --method rx --out runs/h5',
    'Example: geoanomaly xrf --cube scan.hdr --method rx,lrx --out runs/envi',
    'Example: geoanomaly xrf --cube ../shared/data/hyperspectral/HYDICE_data.mat --method all --seed 1 --out runs/hydice',
    'With --queue URL each method (msfa, rx, lrx, autoad) is one unit run by "geoanomaly worker" processes; the normalised cube is written once under the output folder\'s parent (.queue-<run>/, removed after) and the maps and metrics are written here as without --queue.',
  ].join('\n'),
  async run(args, io) {
    const cubePath = requireString(args, 'cube', 'xrf');
    const outDir = resolve(requireString(args, 'out', 'xrf'));
    const methodArg = optionalString(args, 'method') ?? 'all';
    const methods = (methodArg === 'all' ? [...XRF_METHODS] : methodArg.split(',').map((m) => m.trim())) as XrfMethod[];
    for (const m of methods) if (!XRF_METHODS.includes(m)) throw new InvalidOptionError(`geoanomaly xrf: --method "${m}" is not one of ${XRF_METHODS.join(', ')}, all`);
    const ablation = (optionalString(args, 'ablation') ?? 'none') as Ablation;
    if (!ABLATIONS.includes(ablation)) throw new InvalidOptionError(`geoanomaly xrf: --ablation must be one of ${ABLATIONS.join(', ')}, got "${ablation}"`);
    const normalization = (optionalString(args, 'normalize') ?? 'minmax-band') as Normalization;
    if (!NORMALIZATIONS.includes(normalization)) throw new InvalidOptionError(`geoanomaly xrf: --normalize must be one of ${NORMALIZATIONS.join(', ')}, got "${normalization}"`);
    const backend = (optionalString(args, 'backend') ?? 'wasm') as BackendPreference;
    const epochs = optionalNumber(args, 'epochs', 'xrf') ?? 150;
    const seed = optionalNumber(args, 'seed', 'xrf') ?? 1;
    if (!Number.isInteger(epochs) || epochs < 1) throw new InvalidOptionError(`geoanomaly xrf: --epochs must be a positive integer, got ${epochs}`);
    if (!Number.isInteger(seed) || seed < 0) throw new InvalidOptionError(`geoanomaly xrf: --seed must be an integer ≥ 0, got ${seed}`);
    const threads = optionalNumber(args, 'threads', 'xrf') ?? defaultThreads();
    if (!Number.isInteger(threads) || threads < 1) throw new InvalidOptionError(`geoanomaly xrf: --threads must be an integer ≥ 1, got ${threads}`);
    const dropBands = (optionalString(args, 'drop-bands') ?? '').split(',').map((b) => b.trim()).filter((b) => b !== '');
    const cube = await readCube(cubePath, { dataset: optionalString(args, 'dataset'), dropBands });
    const truthPath = optionalString(args, 'truth');
    const truth = truthPath ? await readTruthMask(truthPath, cube.rows, cube.cols) : cube.truth;
    const axis = cube.spectralAxis;
    io.err(`cube ${cube.rows}×${cube.cols}×${cube.bandCount} from ${cubePath}${axis ? `; ${axis.quantity} ${axis.values[0]}…${axis.values.at(-1)} ${axis.unit}` : ''}${cube.pixelSizeUm ? `; pixel ${cube.pixelSizeUm} µm` : ''}; truth: ${truthPath ?? (cube.truth ? "the cube's own map" : 'none (no AUC)')}`);
    const queue = optionalString(args, 'queue');
    const wo = { methods, ablation, epochs, seed, normalization, truth, backend, threads, outDir };
    const jobCtx = { signal: io.signal, progress: io.progress };
    // --queue: one unit per method (main/queue/xrf-units.ts); lazily imported (bullmq only when asked).
    const metrics = queue
      ? await (await import('../../queue/xrf-units.ts')).runXrfWorkflowViaQueue(cube, wo, { url: queue, workDir: dirname(outDir), log: io.err }, jobCtx)
      : await runXrfWorkflow(cube, wo, jobCtx);
    for (const [m, v] of Object.entries(metrics)) io.out(`${m.padEnd(7)} ${v.auc !== undefined ? `AUC ${v.auc.toFixed(4)}` : 'no truth: no AUC'}  (${v.seconds.toFixed(1)} s)  ${v.scoreTiff}`);
    io.out(`metrics: ${outDir}/metrics.json`);
    return 0;
  },
};
