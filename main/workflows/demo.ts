import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { CancelledError, InvalidOptionError, WorkbenchError } from '../errors.ts';
import { writeFileAtomic, writeJsonAtomic } from '../util/atomic-write.ts';
import { Rng } from '../util/rng.ts';
import { readGeoTiff } from '../io/geotiff-read.ts';
import { layerPoints, readVector } from '../io/vector.ts';
import { renderMapFigure, type MapPanel } from '../figures/map-figure.ts';
import { report, subJob, throwIfCancelled, type JobContext } from '../jobs/job.ts';
import { checkWorkflowPaths, defaultsOf, flagsFromOptions, type OptionTable } from './option-table.ts';
import { DEMO_MODELS, DEMO_OPTIONS, DEMO_PATHS, type DemoWorkflowOptions, type DemoWorkflowResult } from './demo-options.ts';
import type { WorkflowMetricName } from './workflow-results.ts';
import { loadWorkflow, type WorkflowName, type WorkflowOptions, type WorkflowResult } from './registry.ts';

export { DEMO_MODELS, DEMO_OPTIONS, DEMO_PATHS, type DemoWorkflowOptions, type DemoWorkflowResult } from './demo-options.ts';

/** A pipeline step failed: the message names the step and the command to rerun by hand. */
export class PipelineStepError extends WorkbenchError {}

/**
 * Runs one step of the pipeline: a registered workflow with typed options, its progress mapped onto
 * [from, to] of the demo's. A failure names the step, its error and the equivalent command line
 * (generated from the workflow's own option table).
 */
async function step<K extends WorkflowName>(title: string, name: K, options: WorkflowOptions<K>, ctx: JobContext, from: number, to: number): Promise<WorkflowResult<K>> {
  throwIfCancelled(ctx, 'demo');
  const wf = await loadWorkflow(name);
  try {
    const r = await wf.run(options, { ...subJob(ctx, from, to, title), log: ctx.log });
    report(ctx, to, `${title}: done`);
    return r;
  } catch (e) {
    if (e instanceof CancelledError) throw e;
    const argv = flagsFromOptions(wf.table as OptionTable, options as Record<string, never>);
    const err = e as Error;
    throw new PipelineStepError(`step "${title}" failed: ${err.name}: ${err.message}\nRerun it alone to see why: geoanomaly ${name} ${argv.join(' ')}`, { step: title, workflow: name, cause: err.name });
  }
}

function fmt(v: unknown, digits = 3): string {
  return typeof v === 'number' && Number.isFinite(v) ? v.toFixed(digits) : '–';
}

/**
 * The whole regional workflow on the bundled demo survey: demo data → krige → faults → sites →
 * train → predict → explain → evaluate (each a workflow of main/workflows/, called with typed
 * options), then the side-by-side map figure and summary.md. 30 % of the deposits (seeded) are
 * held out: the models, the power law and the sites see only the rest, and the maps are scored on them.
 */
export async function demoWorkflow(o: DemoWorkflowOptions, ctx: JobContext = {}): Promise<DemoWorkflowResult> {
  const d = defaultsOf(DEMO_OPTIONS) as { out: string; seed: number; epochs: number; folds: number; repeats: number; cell: number; backend: string };
  const out = o.out ?? d.out;
  const seed = o.seed ?? d.seed;
  const epochs = o.epochs ?? d.epochs;
  const folds = o.folds ?? d.folds;
  const repeats = o.repeats ?? d.repeats;
  const cell = o.cell ?? d.cell;
  const backend = o.backend ?? d.backend;
  if (!(cell >= 100)) throw new InvalidOptionError('geoanomaly demo: --cell must be at least 100 m');
  checkWorkflowPaths(DEMO_OPTIONS, DEMO_PATHS, { ...o, out });
  const p = (...parts: string[]): string => join(out, ...parts);
  const t0 = performance.now();

  const data = await step('demo data', 'demo-data', { out: p('data'), seed }, ctx, 0, 0.02);
  const allDeposits = JSON.parse(readFileSync(data.outputs.deposits, 'utf8')) as { features: unknown[] };
  const order = new Rng(seed + 101).shuffle(allDeposits.features.map((_, i) => i));
  const nHold = Math.round(0.3 * order.length);
  const holdSet = new Set(order.slice(0, nHold));
  const trainDeposits = p('data', 'deposits-train.geojson');
  const holdDeposits = p('data', 'deposits-holdout.geojson');
  writeJsonAtomic(trainDeposits, { ...allDeposits, features: allDeposits.features.filter((_, i) => !holdSet.has(i)) });
  writeJsonAtomic(holdDeposits, { ...allDeposits, features: allDeposits.features.filter((_, i) => holdSet.has(i)) });
  const demo = JSON.parse(readFileSync(data.outputs.manifest, 'utf8')) as { extent: { xmin: number; ymin: number; xmax: number; ymax: number }; truth: { powerLawK: number } };
  const e = demo.extent;

  // Progress: each step's share of the run's time (measured on the default demo), after the 2 % of the data.
  const weights = { krige: 10, faults: 2, sites: 1, train: 60, predict: 10, explain: 10, evaluate: 1 };
  const total = weights.krige + weights.faults + weights.sites + weights.train + weights.predict + weights.explain + DEMO_MODELS.length * weights.evaluate;
  let done = 0;
  const span = (w: number): [number, number] => {
    const from = 0.02 + (0.95 * done) / total;
    done += w;
    return [from, 0.02 + (0.95 * done) / total];
  };

  const kriged = await step(
    'kriging',
    'krige',
    {
      samples: data.outputs.samples, x: 'x', y: 'y', crs: 'EPSG:32645', fields: 'all', cell,
      extent: `${e.xmin},${e.ymin},${e.xmax},${e.ymax}`, model: 'auto', nmax: 32, log: true,
      out: p('grids', 'stack.tif'), variance: p('grids', 'variance.tif'), cv: p('grids', 'cv.json'),
    },
    ctx,
    ...span(weights.krige),
  );
  const stack = kriged.outputs.prediction;
  const faults = await step(
    'faults',
    'faults',
    {
      faults: data.outputs.faults, faultWhere: 'favourable=true', grid: stack, deposits: trainDeposits,
      distance: p('knowledge', 'fault-distance.tif'), weight: p('knowledge', 'fault-weight.tif'), report: p('knowledge', 'powerlaw.json'),
    },
    ctx,
    ...span(weights.faults),
  );
  const sites = await step(
    'sites',
    'sites',
    {
      deposits: trainDeposits, grid: stack, faults: data.outputs.faults,
      // Negatives ≥ 4 km from deposits and ≥ 1.5 km from ore-controlling faults: the demo area
      // (60 × 40 km, 40 deposits) has too few cells for the CLI's stricter defaults.
      faultWhere: 'favourable=true', minDepositDist: 4000, minFaultDist: 1500, seed, out: p('sites.geojson'),
    },
    ctx,
    ...span(weights.sites),
  );
  const weightMap = faults.outputs.weight as string;
  const trained = await step(
    'training',
    'train',
    { stack, sites: sites.outputs.sites, knowledge: [weightMap], model: 'all', epochs, folds, repeats, seed, backend, out: p('run') },
    ctx,
    ...span(weights.train),
  );
  const predicted = await step(
    'prediction',
    'predict',
    { run: trained.outputs.runDir, stack, model: 'all', difference: 'gk-dcn,gk-cnn', backend, out: p('maps', 'probability.tif') },
    ctx,
    ...span(weights.predict),
  );
  const explained = await step(
    'explanations',
    'explain',
    { run: trained.outputs.runDir, stack, sites: sites.outputs.sites, maxSites: 6, backend, out: p('explain') },
    ctx,
    ...span(weights.explain),
  );
  // Without `at`, explain explains the whole run (the site variant is the app's).
  if (!('outputs' in explained)) throw new PipelineStepError('step "explanations" returned a site explanation, not the run\'s', { step: 'explanations' });
  const heldOut: Record<string, { auc: number; successRateAuc: number }> = {};
  const evaluations: Record<string, string> = {};
  for (const m of DEMO_MODELS) {
    const ev = await step(
      `evaluation ${m}`,
      'evaluate',
      { map: predicted.outputs.map, band: `p_${m}`, deposits: holdDeposits, excludeTraining: sites.outputs.sites, classes: p('eval', `ca-classes-${m}.tif`), out: p('eval', `${m}.json`) },
      ctx,
      ...span(weights.evaluate),
    );
    heldOut[m] = { auc: ev.auc, successRateAuc: ev.successRateAuc };
    evaluations[m] = ev.outputs.evaluation;
  }

  // Side-by-side probability maps with deposits and ore-controlling faults.
  const prob = await readGeoTiff(predicted.outputs.map);
  const trainPoints = layerPoints(await readVector(trainDeposits));
  const heldOutPoints = layerPoints(await readVector(holdDeposits));
  const faultLayer = await readVector(data.outputs.faults);
  const lines = faultLayer.features.filter((f) => f.geometry.type === 'LineString').map((f) => (f.geometry as { coordinates: number[][] }).coordinates);
  const panels: MapPanel[] = DEMO_MODELS.map((m) => ({
    grid: prob.grid,
    band: prob.bands[prob.bandNames.indexOf(`p_${m}`)],
    title: m.toUpperCase(),
    legend: 'P(deposit)',
    stretch: { fixed: [0, 1] as [number, number] },
    points: [
      { ...trainPoints, style: 'positive' as const },
      { ...heldOutPoints, style: 'deposit' as const },
    ],
    lines: [{ lines, colour: '#ffffff' }],
  }));
  const figure = { columns: 2, title: 'Deposit probability: CNN, DCN, GK-CNN, GK-DCN (demo survey)' };
  writeFileAtomic(p('maps', 'probability-maps.png'), renderMapFigure(panels, figure));
  writeFileAtomic(p('maps', 'probability-maps.svg'), renderMapFigure(panels, { ...figure, format: 'svg' }));

  // Summary, from the steps' typed results.
  const law = faults.fit;
  if (!law) throw new PipelineStepError('step "faults" fitted no power law (the demo always gives deposits)', { step: 'faults' });
  const cv = Object.fromEntries(trained.models.map((m) => [m.kind, { mean: m.cv.mean, sd: m.cv.sd }]));
  const keys: readonly WorkflowMetricName[] = ['acc', 'auc', 'kappa', 'mcc', 'precision', 'recall', 'f1'];
  const rows = Object.entries(cv).map(([m, v]) => `| ${m} | ${keys.map((k) => `${fmt(v.mean?.[k])} ± ${fmt(v.sd?.[k])}`).join(' | ')} |`);
  const evalRows = DEMO_MODELS.map((m) => `| ${m} | ${fmt(heldOut[m].auc)} | ${fmt(heldOut[m].successRateAuc)} |`);
  const rel = (f: string): string => relative(out, f);
  const minutes = (performance.now() - t0) / 60000;
  const summary = [
    '# GeoAnomaly Workbench — demo run',
    '',
    `Synthetic regional survey (seed ${seed}), EPSG:32645, ${cell} m cells. Finished in ${minutes.toFixed(1)} min.`,
    '',
    '## Fault knowledge',
    `Deposit density vs distance to the ore-controlling faults: ρ = ${fmt(law.N)}·d^${fmt(law.k)} (R² ${fmt(law.r2)}); the generator's true exponent is ${demo.truth.powerLawK}.`,
    '',
    `## Patch classifiers (grouped ${folds}-fold CV × ${repeats}, mean ± sd over folds)`,
    '',
    `| model | ${keys.join(' | ')} |`,
    `|---|${keys.map(() => '---').join('|')}|`,
    ...rows,
    '',
    `## Maps against the ${nHold} held-out deposits (training-site cells excluded)`,
    '',
    '| model | ROC AUC | success-rate AUC |',
    '|---|---|---|',
    ...evalRows,
    '',
    '## Where things are',
    `- Kriged stack: ${rel(stack)} (variance ${rel(kriged.outputs.variance ?? p('grids', 'variance.tif'))}, LOO-CV ${rel(kriged.outputs.cv ?? p('grids', 'cv.json'))})`,
    `- Fault distance / weight map: ${rel(faults.outputs.distance ?? p('knowledge', 'fault-distance.tif'))}, ${rel(weightMap)}; power law ${rel(faults.outputs.report ?? p('knowledge', 'powerlaw.json'))}`,
    `- Sites: ${rel(sites.outputs.sites)}; run manifest and models: ${rel(trained.outputs.runDir)}/`,
    `- Probability maps: ${rel(predicted.outputs.map)} (figure ${rel(p('maps', 'probability-maps.png'))} and .svg: orange dots = training deposits, red triangles = held-out deposits)`,
    `- Grad-CAM and offsets: ${rel(explained.outputs.dir)}/ (gradcam-cnn-vs-dcn.png, gradcam-gk-cnn-vs-gk-dcn.png, offsets-*.png, explain-maps.tif)`,
    `- Evaluation: ${rel(p('eval'))}/<model>.json and C–A classes rasters`,
    '',
  ].join('\n');
  const summaryPath = p('summary.md');
  writeFileAtomic(summaryPath, summary);
  report(ctx, 1, 'demo finished');
  return {
    outputs: {
      dir: out, summary: summaryPath, stack, powerLaw: faults.outputs.report ?? p('knowledge', 'powerlaw.json'), sites: sites.outputs.sites,
      runDir: trained.outputs.runDir, probability: predicted.outputs.map, figure: p('maps', 'probability-maps.png'), explain: explained.outputs.dir, evaluations,
    },
    seed,
    powerLaw: { N: law.N, k: law.k, r2: law.r2, trueK: demo.truth.powerLawK },
    cv,
    heldOut,
    heldOutDeposits: nHold,
    minutes,
    summary,
  };
}

/** The CLI prints the summary. */
export function demoResultLines(r: DemoWorkflowResult): string[] {
  return [r.summary];
}
