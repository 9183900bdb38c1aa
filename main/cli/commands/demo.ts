import { existsSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { Command, CliIo } from '../command.ts';
import { optionalNumber, optionalString } from '../command.ts';
import { InvalidOptionError, WorkbenchError } from '../../errors.ts';
import { writeFileAtomic, writeJsonAtomic } from '../../util/atomic-write.ts';
import { Rng } from '../../util/rng.ts';
import { readGeoTiff } from '../../io/geotiff-read.ts';
import { readVector, layerPoints } from '../../io/vector.ts';
import { renderMapFigure, type MapPanel } from '../../figures/map-figure.ts';

/** A pipeline step failed: the message names the step and the command to rerun by hand. */
export class PipelineStepError extends WorkbenchError {}

interface Step {
  readonly title: string;
  readonly args: string[];
  /** Share of the whole run's time, for the progress bar. */
  readonly weight: number;
}

async function runStep(step: Step, io: CliIo, from: number, to: number): Promise<void> {
  const { COMMANDS } = await import('../../commands/registry.ts');
  const [name, ...rest] = step.args;
  const entry = COMMANDS.find((c) => c.name === name);
  if (!entry) throw new PipelineStepError(`pipeline step "${step.title}" needs the "${name}" command, which this build lacks`);
  const cmd = await entry.load();
  const { parseCommandArgs } = await import('../command.ts');
  const lines: string[] = [];
  const code = await cmd.run(parseCommandArgs(cmd, rest), {
    out: (l) => lines.push(l),
    err: (l) => lines.push(l),
    progress: (f, m) => io.progress(from + (to - from) * f, `${step.title}: ${m}`),
    signal: io.signal,
  });
  if (code !== 0) {
    throw new PipelineStepError(`step "${step.title}" failed (exit ${code}). Rerun it alone to see why: geoanomaly ${step.args.join(' ')}\n${lines.slice(-10).join('\n')}`);
  }
  io.progress(to, `${step.title}: done`);
}

function fmt(v: unknown, digits = 3): string {
  return typeof v === 'number' && Number.isFinite(v) ? v.toFixed(digits) : '–';
}

export const demoCommand: Command = {
  name: 'demo',
  summary: 'run the whole regional workflow on the bundled demo survey (data → krige → faults → sites → train → predict → explain → evaluate)',
  usage: '--out DIR [--seed N] [--epochs N] [--folds K] [--repeats R] [--cell METRES]',
  details: [
    'Writes DIR/summary.md (metrics table and where each figure is) and, below DIR: data/ (the survey),',
    'grids/ (kriged 39-element stack, variances, LOO-CV), knowledge/ (fault distance, weight map, power law),',
    'sites.geojson, run/ (cross-validated models, metrics.json, manifest.json), maps/ (probability GeoTIFF and',
    'figure), explain/ (Grad-CAM and offset panels), eval/ (success-rate, P–A and C–A per model).',
    'Example: geoanomaly demo --out demo-run',
  ].join('\n'),
  options: {
    out: { type: 'string', description: 'output folder', valueName: 'DIR', default: 'demo-run' },
    seed: { type: 'string', description: 'seed of the survey, sites, folds and training', valueName: 'N', default: '7' },
    epochs: { type: 'string', description: 'maximum training epochs per fit', valueName: 'N', default: '12' },
    folds: { type: 'string', description: 'cross-validation folds', valueName: 'K', default: '3' },
    repeats: { type: 'string', description: 'cross-validation repeats', valueName: 'R', default: '1' },
    cell: { type: 'string', description: 'grid cell size in metres', valueName: 'M', default: '1000' },
    backend: { type: 'string', description: 'auto | wasm | cpu | tensorflow', valueName: 'NAME', default: 'auto' },
  },
  async run(args, io) {
    const out = optionalString(args, 'out') ?? 'demo-run';
    const seed = String(optionalNumber(args, 'seed', 'demo') ?? 7);
    const epochs = String(optionalNumber(args, 'epochs', 'demo') ?? 12);
    const folds = String(optionalNumber(args, 'folds', 'demo') ?? 3);
    const repeats = String(optionalNumber(args, 'repeats', 'demo') ?? 1);
    const cell = optionalNumber(args, 'cell', 'demo') ?? 1000;
    if (!(cell >= 100)) throw new InvalidOptionError('geoanomaly demo: --cell must be at least 100 m');
    const backend = optionalString(args, 'backend') ?? 'auto';
    const p = (...parts: string[]): string => join(out, ...parts);
    const t0 = performance.now();

    await runStep({ title: 'demo data', args: ['demo-data', '--out', p('data'), '--seed', seed], weight: 1 }, io, 0, 0.02);
    // Hold out 30 % of the deposits (seeded): the models, the power law and the sites see only the
    // rest, so the maps are evaluated against deposits they never saw.
    const allDeposits = JSON.parse(readFileSync(p('data', 'deposits.geojson'), 'utf8')) as { features: unknown[] };
    const order = new Rng(Number(seed) + 101).shuffle(allDeposits.features.map((_, i) => i));
    const nHold = Math.round(0.3 * order.length);
    const holdSet = new Set(order.slice(0, nHold));
    writeJsonAtomic(p('data', 'deposits-train.geojson'), { ...allDeposits, features: allDeposits.features.filter((_, i) => !holdSet.has(i)) });
    writeJsonAtomic(p('data', 'deposits-holdout.geojson'), { ...allDeposits, features: allDeposits.features.filter((_, i) => holdSet.has(i)) });
    const demo = JSON.parse(readFileSync(p('data', 'demo.json'), 'utf8')) as { extent: { xmin: number; ymin: number; xmax: number; ymax: number }; truth: { powerLawK: number } };
    const e = demo.extent;
    const steps: Step[] = [
      {
        title: 'kriging',
        args: ['krige', '--samples', p('data', 'samples.csv'), '--x', 'x', '--y', 'y', '--crs', 'EPSG:32645', '--fields', 'all', '--cell', String(cell),
          '--extent', `${e.xmin},${e.ymin},${e.xmax},${e.ymax}`, '--model', 'auto', '--nmax', '32', '--log',
          '--out', p('grids', 'stack.tif'), '--variance', p('grids', 'variance.tif'), '--cv', p('grids', 'cv.json')],
        weight: 10,
      },
      {
        title: 'faults',
        args: ['faults', '--faults', p('data', 'faults.geojson'), '--fault-where', 'favourable=true', '--grid', p('grids', 'stack.tif'),
          '--deposits', p('data', 'deposits-train.geojson'), '--distance', p('knowledge', 'fault-distance.tif'), '--weight', p('knowledge', 'fault-weight.tif'),
          '--report', p('knowledge', 'powerlaw.json')],
        weight: 2,
      },
      {
        title: 'sites',
        args: ['sites', '--deposits', p('data', 'deposits-train.geojson'), '--grid', p('grids', 'stack.tif'), '--faults', p('data', 'faults.geojson'),
          // Negatives ≥ 4 km from deposits and ≥ 1.5 km from ore-controlling faults: the demo area
          // (60 × 40 km, 40 deposits) has too few cells for the CLI's stricter defaults.
          '--fault-where', 'favourable=true', '--min-deposit-dist', '4000', '--min-fault-dist', '1500', '--seed', seed, '--out', p('sites.geojson')],
        weight: 1,
      },
      {
        title: 'training',
        args: ['train', '--stack', p('grids', 'stack.tif'), '--sites', p('sites.geojson'), '--knowledge', p('knowledge', 'fault-weight.tif'),
          '--model', 'all', '--epochs', epochs, '--folds', folds, '--repeats', repeats, '--seed', seed, '--backend', backend, '--out', p('run')],
        weight: 60,
      },
      {
        title: 'prediction',
        args: ['predict', '--run', p('run'), '--stack', p('grids', 'stack.tif'), '--model', 'all', '--difference', 'gk-dcn,gk-cnn', '--backend', backend, '--out', p('maps', 'probability.tif')],
        weight: 10,
      },
      {
        title: 'explanations',
        args: ['explain', '--run', p('run'), '--stack', p('grids', 'stack.tif'), '--sites', p('sites.geojson'), '--max-sites', '6', '--backend', backend, '--out', p('explain')],
        weight: 10,
      },
    ];
    for (const m of ['cnn', 'dcn', 'gk-cnn', 'gk-dcn']) {
      steps.push({
        title: `evaluation ${m}`,
        args: ['evaluate', '--map', p('maps', 'probability.tif'), '--band', `p_${m}`, '--deposits', p('data', 'deposits-holdout.geojson'), '--exclude-training', p('sites.geojson'),
          '--classes', p('eval', `ca-classes-${m}.tif`), '--out', p('eval', `${m}.json`)],
        weight: 1,
      });
    }
    const total = steps.reduce((s, x) => s + x.weight, 0);
    let done = 0;
    for (const s of steps) {
      const from = 0.02 + (0.95 * done) / total;
      done += s.weight;
      await runStep(s, io, from, 0.02 + (0.95 * done) / total);
    }

    // Side-by-side probability maps with deposits and ore-controlling faults.
    const prob = await readGeoTiff(p('maps', 'probability.tif'));
    const deposits = layerPoints(await readVector(p('data', 'deposits-train.geojson')));
    const heldOut = layerPoints(await readVector(p('data', 'deposits-holdout.geojson')));
    const faults = await readVector(p('data', 'faults.geojson'));
    const lines = faults.features.filter((f) => f.geometry.type === 'LineString').map((f) => (f.geometry as { coordinates: number[][] }).coordinates);
    const panels: MapPanel[] = ['cnn', 'dcn', 'gk-cnn', 'gk-dcn'].map((m) => ({
      grid: prob.grid,
      band: prob.bands[prob.bandNames.indexOf(`p_${m}`)],
      title: m.toUpperCase(),
      legend: 'P(deposit)',
      stretch: { fixed: [0, 1] as [number, number] },
      points: [
        { ...deposits, style: 'positive' as const },
        { ...heldOut, style: 'deposit' as const },
      ],
      lines: [{ lines, colour: '#ffffff' }],
    }));
    const figure = { columns: 2, title: 'Deposit probability: CNN, DCN, GK-CNN, GK-DCN (demo survey)' };
    writeFileAtomic(p('maps', 'probability-maps.png'), renderMapFigure(panels, figure));
    writeFileAtomic(p('maps', 'probability-maps.svg'), renderMapFigure(panels, { ...figure, format: 'svg' }));

    // Summary.
    const metrics = JSON.parse(readFileSync(p('run', 'metrics.json'), 'utf8')) as Record<string, { mean: Record<string, number>; sd: Record<string, number> }>;
    const power = JSON.parse(readFileSync(p('knowledge', 'powerlaw.json'), 'utf8')) as { N: number; k: number; r2: number };
    const keys = ['acc', 'auc', 'kappa', 'mcc', 'precision', 'recall', 'f1'];
    const rows = Object.entries(metrics).filter(([m]) => m !== 'comparisons').map(([m, v]) => `| ${m} | ${keys.map((k) => `${fmt(v.mean?.[k])} ± ${fmt(v.sd?.[k])}`).join(' | ')} |`);
    const evalRows = ['cnn', 'dcn', 'gk-cnn', 'gk-dcn']
      .filter((m) => existsSync(p('eval', `${m}.json`)))
      .map((m) => {
        const ev = JSON.parse(readFileSync(p('eval', `${m}.json`), 'utf8')) as { auc?: number; successRate?: { auc?: number }; paIntersection?: { areaShare?: number; depositShare?: number } };
        return `| ${m} | ${fmt(ev.auc)} | ${fmt(ev.successRate?.auc)} |`;
      });
    const rel = (f: string): string => relative(out, f);
    const minutes = (performance.now() - t0) / 60000;
    const summary = [
      '# GeoAnomaly Workbench — demo run',
      '',
      `Synthetic regional survey (seed ${seed}), EPSG:32645, ${cell} m cells. Finished in ${minutes.toFixed(1)} min.`,
      '',
      '## Fault knowledge',
      `Deposit density vs distance to the ore-controlling faults: ρ = ${fmt(power.N)}·d^${fmt(power.k)} (R² ${fmt(power.r2)}); the generator's true exponent is ${demo.truth.powerLawK}.`,
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
      `- Kriged stack: ${rel(p('grids', 'stack.tif'))} (variance ${rel(p('grids', 'variance.tif'))}, LOO-CV ${rel(p('grids', 'cv.json'))})`,
      `- Fault distance / weight map: ${rel(p('knowledge', 'fault-distance.tif'))}, ${rel(p('knowledge', 'fault-weight.tif'))}; power law ${rel(p('knowledge', 'powerlaw.json'))}`,
      `- Sites: ${rel(p('sites.geojson'))}; run manifest and models: ${rel(p('run'))}/`,
      `- Probability maps: ${rel(p('maps', 'probability.tif'))} (figure ${rel(p('maps', 'probability-maps.png'))} and .svg: orange dots = training deposits, red triangles = held-out deposits)`,
      `- Grad-CAM and offsets: ${rel(p('explain'))}/ (gradcam-cnn-vs-dcn.png, gradcam-gk-cnn-vs-gk-dcn.png, offsets-*.png, explain-maps.tif)`,
      `- Evaluation: ${rel(p('eval'))}/<model>.json and C–A classes rasters`,
      '',
    ].join('\n');
    writeFileAtomic(p('summary.md'), summary);
    io.progress(1, 'demo finished');
    io.out(summary);
    return 0;
  },
};
