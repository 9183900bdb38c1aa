import type { Command } from '../command.ts';
import { cliOptions, optionsFromFlags } from '../../workflows/option-table.ts';
import { PREDICT_OPTIONS, PREDICT_PATHS, predictResultLines, predictWorkflow } from '../../workflows/predict.ts';

/** `geoanomaly predict`: flags → PredictWorkflowOptions → predictWorkflow (main/workflows/predict.ts) → printed lines. */
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
    'folded, DCN as GridSample + Conv) and runs onnxruntime-node on the CPU (a dependency;',
    'install with ONNXRUNTIME_NODE_INSTALL=skip); auto = onnx when onnxruntime-node loads, else tfjs.',
    'The engine that ran is logged and written into the GeoTIFF metadata (prediction_engine).',
    'With --queue URL the tiles run on "geoanomaly worker" processes (any machine sharing the files).',
    'A p_<model> band whose probabilities are ≤ 0.01 or ≥ 0.99 over more than half the grid is warned about on',
    'stderr ("warning [map-saturated] …", with the fix); "geoanomaly report --map" lists the same warning.',
    'Example: geoanomaly predict --run run --stack stack.tif --model all --difference gk-dcn,gk-cnn --out prob.tif',
  ].join('\n'),
  paths: PREDICT_PATHS,
  options: cliOptions(PREDICT_OPTIONS),
  async run(args, io) {
    const result = await predictWorkflow(optionsFromFlags(PREDICT_OPTIONS, args.values, 'predict'), { signal: io.signal, progress: io.progress, log: io.err });
    for (const line of predictResultLines(result)) io.out(line);
    return 0;
  },
};
