import type { Command } from '../command.ts';
import { optionalNumber, optionalString, requireString } from '../command.ts';
import { initBackend, type BackendPreference } from '../../models/backend.ts';
import { predictRunToGeoTiff } from '../../maps/parallel-predict.ts';
import { defaultThreads } from '../../jobs/worker-pool.ts';
import { readGeoTiff, readGeoTiffInfo } from '../../io/geotiff-read.ts';
import { checkSaturatedMap, formatWarning } from '../../eval/trust-checks.ts';
import { InvalidOptionError } from '../../errors.ts';
import { checkEngine, DEFAULT_ENGINE, resolveEngine } from '../../onnx/onnx-run.ts';
import { ENSEMBLE_MODES, readManifest, type EnsembleMode } from '../../models/run-store.ts';

export const predictCommand: Command = {
  name: 'predict',
  summary: 'anomaly probability maps of trained models over a whole stack (streamed in tiles)',
  usage: '--run RUN_DIR --stack STACK.tif|DIR [--model NAME|all] [--ensemble folds|all-folds|final|seeds] [--seeds N] [--difference A,B] [--threads N] [--engine auto|tfjs|onnx] [--mask AREA.tif|.gpkg] --out PROB.tif',
  details: [
    'Ensembles (default --ensemble folds): p_<model> is the mean deposit probability of the final model and the',
    'CV fold models of the first repeat (k + 1 members), sd_<model> their standard deviation (n − 1); all-folds',
    'uses the fold models of every repeat; final = the final model alone (sd 0). Baselines (index, pc, logreg,',
    'rf) are predicted through the same windows. Band order: p_<model>…, diff_A_minus_B, sd_<model>…, window_mask.',
    'Writes one Float32 band per model (p_<model>, the deposit probability), an optional',
    'difference band (diff_A_minus_B) and window_mask (bit 1: the window left the grid and was',
    'reflect-padded; bit 2: it held nodata filled with the band mean). Nodata centre cells stay',
    'nodata. Bands of the stack are matched to the model by name.',
    'Tiles of rows are predicted on --threads worker threads (each loads the models itself; the',
    'output is bit-identical for any thread count).',
    'Engines: tfjs runs the saved models on the tfjs backend; onnx exports them to ONNX (BatchNorm',
    'folded, DCN as GridSample + Conv) and runs onnxruntime-node on the CPU (optional package,',
    'install with ONNXRUNTIME_NODE_INSTALL=skip); auto = onnx when onnxruntime-node loads, else tfjs.',
    'The engine that ran is logged and written into the GeoTIFF metadata (prediction_engine).',
    'With --queue URL the tiles run on "geoanomaly worker" processes (any machine sharing the files).',
    'A p_<model> band whose probabilities are ≤ 0.01 or ≥ 0.99 over more than half the grid is warned about on',
    'stderr ("warning [map-saturated] …", with the fix); "geoanomaly report --map" lists the same warning.',
    'Example: geoanomaly predict --run run --stack stack.tif --model all --difference gk-dcn,gk-cnn --out prob.tif',
  ].join('\n'),
  paths: { outputs: { out: 'file' }, inputs: ['run', 'stack'] },
  options: {
    run: { type: 'string', description: 'run folder written by "geoanomaly train"', valueName: 'RUN_DIR' },
    stack: { type: 'string', description: 'element stack (multiband GeoTIFF or folder of GeoTIFFs)', valueName: 'PATH' },
    model: { type: 'string', description: 'model name(s), comma separated, or all', valueName: 'NAME', default: 'all' },
    difference: { type: 'string', description: 'add a difference band A − B of two models', valueName: 'A,B' },
    ensemble: {
      type: 'string',
      description: 'members averaged per model: folds (final + first-repeat fold models), all-folds (every fold model), final (the final model only); writes sd_<model> bands',
      valueName: 'MODE',
      default: 'folds',
    },
    batch: { type: 'string', description: 'windows per inference batch', valueName: 'N', default: '1024' },
    backend: { type: 'string', description: 'auto | wasm | cpu | tensorflow', valueName: 'NAME', default: 'auto' },
    threads: { type: 'string', description: 'worker threads (1 = predict in the main thread; default: all cores)', valueName: 'N' },
    engine: { type: 'string', description: 'auto | tfjs | onnx (auto = onnx when onnxruntime-node loads)', valueName: 'NAME', default: DEFAULT_ENGINE },
    'intra-op-threads': { type: 'string', description: 'engine onnx: ONNX Runtime threads per worker thread', valueName: 'N', default: '1' },
    'save-onnx': { type: 'boolean', description: 'engine onnx: also write RUN_DIR/models/<model>/model.onnx' },
    seeds: {
      type: 'string',
      description: 'average N seeds instead: the final model + the N − 1 seed members of each network (train --seeds N); p_<model> = mean, sd_<model> = sd over the seeds (baselines: their final model)',
      valueName: 'N',
    },
    mask: { type: 'string', description: 'study-area mask: a GeoTIFF on the stack grid (inside = non-zero, finite) or polygons (.gpkg, .geojson, …); cells outside are nodata in every window and in the map', valueName: 'AREA.tif|.gpkg' },
    out: { type: 'string', description: 'output GeoTIFF', valueName: 'PROB.tif' },
    queue: { type: 'string', description: 'run the tiles as units on a Redis queue (redis://[:PASSWORD@]HOST:PORT[/DB] or rediss://) served by "geoanomaly worker"; same bits as without', valueName: 'URL' },
  },
  async run(args, io) {
    const runDir = requireString(args, 'run', 'predict');
    const stackPath = requireString(args, 'stack', 'predict');
    const out = requireString(args, 'out', 'predict');
    const backend = (optionalString(args, 'backend') ?? 'auto') as BackendPreference;
    io.err(`backend: ${(await initBackend(backend)).detail}`);
    const models = (optionalString(args, 'model') ?? 'all').split(',').map((s) => s.trim());
    const diff = optionalString(args, 'difference')?.split(',').map((s) => s.trim());
    if (diff && diff.length !== 2) throw new InvalidOptionError('geoanomaly predict: --difference takes two model names, e.g. gk-dcn,gk-cnn');
    const threads = optionalNumber(args, 'threads', 'predict') ?? defaultThreads();
    const seeds = optionalNumber(args, 'seeds', 'predict');
    if (seeds !== undefined && !(Number.isInteger(seeds) && seeds >= 1)) throw new InvalidOptionError(`geoanomaly predict: --seeds must be an integer ≥ 1, got ${seeds}`);
    const ensemble = (seeds !== undefined ? 'seeds' : (optionalString(args, 'ensemble') ?? 'folds')) as EnsembleMode;
    if (!ENSEMBLE_MODES.includes(ensemble)) throw new InvalidOptionError(`geoanomaly predict: --ensemble must be one of ${ENSEMBLE_MODES.join(', ')}, got "${ensemble}"`);
    const enginePreference = checkEngine(optionalString(args, 'engine'));
    const engine = await resolveEngine(enginePreference);
    io.err(`engine: ${engine.detail}`);
    const trainedMask = (readManifest(runDir).options as { mask?: string | null }).mask;
    if (trainedMask && !optionalString(args, 'mask')) io.err(`predict: the run was trained with --mask ${trainedMask}; pass --mask to leave the cells outside the study area nodata in the map`);
    const t0 = performance.now();
    const queue = optionalString(args, 'queue');
    // --queue: the same tiles as units on the queue (main/queue/predict-units.ts); lazily imported.
    const predictTo = queue
      ? async (...a: Parameters<typeof predictRunToGeoTiff>) => (await import('../../queue/predict-units.ts')).predictRunToGeoTiffViaQueue(a[0], a[1], { ...a[2], queue, log: io.err }, a[3])
      : predictRunToGeoTiff;
    const { bandNames, modelNames, members } = await predictTo(
      stackPath,
      out,
      {
        runDir,
        models,
        threads,
        backend,
        engine: enginePreference,
        intraOpThreads: optionalNumber(args, 'intra-op-threads', 'predict'),
        saveOnnx: args.values['save-onnx'] === true,
        batchSize: optionalNumber(args, 'batch', 'predict'),
        difference: diff as [string, string] | undefined,
        ensemble,
        ...(seeds !== undefined ? { seeds } : {}),
        mask: optionalString(args, 'mask'),
      },
      { signal: io.signal, progress: io.progress },
    );
    const secs = (performance.now() - t0) / 1000;
    io.err(`ensemble ${ensemble}: ${modelNames.map((k) => `${k} ${members[k].length} member(s)`).join(', ')}`);
    const info = await readGeoTiffInfo(out);
    const windows = info.grid.rows * info.grid.cols * Object.values(members).reduce((a, m) => a + m.length, 0);
    io.out(`${out}: ${bandNames.join(', ')} on ${info.grid.rows}×${info.grid.cols} cells (${info.grid.crs?.name ?? 'no CRS'})`);
    // Trust check: a p_<model> band at ≤ 0.01 or ≥ 0.99 over most of the grid ranks nothing there.
    const written = await readGeoTiff(out);
    written.bandNames.forEach((b, i) => {
      if (/^p_/.test(b)) for (const w of checkSaturatedMap(written.bands[i], b.slice(2))) io.err(formatWarning(w));
    });
    io.out(`${windows} windows in ${secs.toFixed(1)} s (${(windows / secs).toFixed(0)} windows/s, ${threads} thread${threads === 1 ? '' : 's'}, worker start-up included); engine ${engine.detail}`);
    return 0;
  },
};
