import { NORMALIZATIONS } from '../xrf/cube.ts';
import type { OptionTable, OptionsOf, WorkflowPaths } from './option-table.ts';
import { queueBatchRow } from './queue-rows.ts';

/**
 * The options of "detect anomalies in a micro-XRF cube", defined once: the CLI's flags and
 * `--help` (main/cli/commands/xrf.ts) and the app's typed `xrf` request come from this table.
 * Node-free: main/xrf/cube.ts (the normalisations) imports nothing but the named errors.
 */
export const XRF_OPTIONS = {
  cube: {
    flag: 'cube',
    kind: 'string',
    description: 'cube: .mat v5 or v7.3 (data H×W×B, optional map), HDF5 .h5/.hdf5 (see --dataset), NeXus .nxs, HyperSpy .hspy, ENVI .hdr/.img, multi-band .tif, .csv (x, y, channels) or a folder of element maps (Fe-Ka.tif, Cu_Ka.bmp, "Zn Ka.txt")',
    valueName: 'FILE',
  },
  dataset: {
    flag: 'dataset',
    kind: 'string',
    description: 'HDF5 dataset holding the cube as (rows, cols, channels), e.g. /entry/data; default: the NeXus signal, the HyperSpy data, the MAT variable "data" or the only rank-3 dataset (geoanomaly info FILE.h5 lists them)',
    valueName: 'PATH',
  },
  dropBands: { flag: 'drop-bands', kind: 'string', description: 'comma list of band names to leave out after reading (dead NaN channels, sum spectra)', valueName: 'A,B' },
  truth: { flag: 'truth', kind: 'string', description: "truth mask (.tif, .png or .mat 'map'); default: the cube file's own map", valueName: 'MASK' },
  method: { flag: 'method', kind: 'string', description: 'msfa | rx | lrx | autoad | all, or a comma list', valueName: 'M', default: 'all' },
  ablation: { flag: 'ablation', kind: 'string', description: 'MSFA-Net ablation: none | no-attention | no-groups | no-orthogonal', valueName: 'A', default: 'none' },
  epochs: { flag: 'epochs', kind: 'number', description: 'MSFA-Net training epochs', valueName: 'N', default: 150 },
  seed: { flag: 'seed', kind: 'number', description: 'seed of weight init, shuffling and noise', valueName: 'N', default: 1 },
  normalize: { flag: 'normalize', kind: 'string', description: `band normalisation: ${NORMALIZATIONS.join(' | ')}`, valueName: 'N', default: 'minmax-band' },
  backend: { flag: 'backend', kind: 'string', description: 'TensorFlow.js backend: auto | wasm | cpu | tensorflow', valueName: 'B', default: 'wasm' },
  threads: { flag: 'threads', kind: 'number', description: 'MSFA-Net training threads (data-parallel replicas; 1 = this thread; default: all cores)', valueName: 'N' },
  queue: {
    flag: 'queue',
    kind: 'string',
    description:
      'run each detector method as a unit on a Redis queue (redis://[:PASSWORD@]HOST:PORT[/DB] or rediss://) served by "geoanomaly worker" on machines sharing the output folder\'s parent; same score maps and metrics (timing fields aside) as without',
    valueName: 'URL',
  },
  queueBatch: queueBatchRow('detector methods', '1', 'a method trains or scores the whole cube, so one per job'),
  out: { flag: 'out', kind: 'string', description: 'output folder (metrics.json, <method>-score.tif/.png, roc.json, separability.json/.png)', valueName: 'DIR' },
} as const satisfies OptionTable;

export type XrfWorkflowOptions = OptionsOf<typeof XRF_OPTIONS>;

/** The flags of XRF_OPTIONS that name outputs and inputs: checked before anything is computed. */
export const XRF_PATHS: WorkflowPaths = { outputs: { out: 'dir' }, inputs: ['cube', 'truth'] };
