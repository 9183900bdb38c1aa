import type { CommandEntry } from './command.ts';

/**
 * The workbench's commands: what both the `geoanomaly` CLI (main/cli/) and the app's compute
 * jobs (main/api/command-worker.ts) run. Each entry names its module lazily, so listing the
 * commands imports none of them and running one imports only its own dependencies.
 *
 * Both main/cli and main/api import this module; it imports neither the CLI's entry nor main/api,
 * only the command modules (which live in main/cli/commands/ and never import main/api).
 * `serve` starts the app's browser host (main/api), so it is not here: the CLI adds it
 * (main/cli/commands/index.ts). tests/cli/import-boundaries.test.ts checks both rules.
 * Adding a command is one line here, in `--help` order.
 */
export const COMMANDS: readonly CommandEntry[] = [
  { name: 'info', summary: 'describe a raster, raster folder, vector layer or sample table', load: async () => (await import('../cli/commands/info.ts')).infoCommand },
  { name: 'krige', summary: 'ordinary kriging of sample points onto a grid (one band per element)', load: async () => (await import('../cli/commands/krige.ts')).krigeCommand },
  { name: 'demo-data', summary: 'write the seeded synthetic regional survey (samples, faults, deposits, truth)', load: async () => (await import('../cli/commands/demo-data.ts')).demoDataCommand },
  { name: 'faults', summary: 'distance to faults, deposit density–distance power law, fault weight map', load: async () => (await import('../cli/commands/faults.ts')).faultsCommand },
  { name: 'sites', summary: 'positive and negative training sites (3×3 blocks) as GeoJSON', load: async () => (await import('../cli/commands/sites.ts')).sitesCommand },
  { name: 'evaluate', summary: 'map-level evaluation: AUC, success-rate curve, P–A plot, C–A thresholds', load: async () => (await import('../cli/commands/evaluate.ts')).evaluateCommand },
  { name: 'rpca', summary: 'robust PCA (DetMCD) of an element stack: PC score maps and loadings', load: async () => (await import('../cli/commands/rpca.ts')).rpcaCommand },
  { name: 'train', summary: 'cross-validate and train CNN / DCN / GK-CNN / GK-DCN patch classifiers', load: async () => (await import('../cli/commands/train.ts')).trainCommand },
  { name: 'predict', summary: 'anomaly probability maps of trained models over a whole stack (streamed in tiles)', load: async () => (await import('../cli/commands/predict.ts')).predictCommand },
  { name: 'explain', summary: 'Grad-CAM heat maps and learned-offset fields of trained models (site panels + rasters)', load: async () => (await import('../cli/commands/explain.ts')).explainCommand },
  { name: 'demo', summary: 'run the whole regional workflow on the bundled demo survey (data → krige → faults → sites → train → predict → explain → evaluate)', load: async () => (await import('../cli/commands/demo.ts')).demoCommand },
  { name: 'xrf', summary: 'micro-XRF anomaly detection (MSFA-Net, RX, local RX, Auto-AD) with AUC against a truth mask', load: async () => (await import('../cli/commands/xrf.ts')).xrfCommand },
  { name: 'layout', summary: 'map layout for reports: PNG or PDF page with title, legend, scale bar, north arrow, CRS, overlays, inset', load: async () => (await import('../cli/commands/layout.ts')).layoutCommand },
  { name: 'report', summary: 'report of a training run (HTML or PDF): metrics, fold plots, maps, manifest', load: async () => (await import('../cli/commands/report.ts')).reportCommand },
];
