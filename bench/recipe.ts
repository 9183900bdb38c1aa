/**
 * Which training recipe reaches a plateau on the demo survey (issue 20 §1): for every seed, the
 * demo's own data, kriging, power law and sites (the calls of `geoanomaly demo`, 30 % of the
 * deposits held out), then `train --model cnn,gk-dcn` once per recipe on the same inputs. Per
 * recipe and model (--models, default cnn,gk-dcn) it reports what the issue asks to judge convergence by, from the run's
 * manifest and metrics.json: the final model's kept epoch of the epochs it ran, a and b of the
 * geology term and its loss share at the kept epoch, the validation loss at the kept epoch and
 * how much it still moved over the last 5 epochs before the kept one (a plateau: small), the run's
 * trust warnings, and the grouped CV AUC (mean ± sd over the folds: context, not the criterion).
 *
 *   npx tsx bench/recipe.ts --seeds 7,8,9 --epochs 40 --out .tmp/recipe.json
 *   npx tsx bench/recipe.ts --table .tmp/recipe.json [.tmp/recipe-b.json …]
 *
 * Results are written run by run to --out (a rerun skips what is there), recipe by recipe over all seeds.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { main } from '../main/cli/main.ts';
import { writeJsonAtomic } from '../main/util/atomic-write.ts';
import { Rng } from '../main/util/rng.ts';
import type { RunManifest } from '../main/models/run-store.ts';

const RECIPES: Record<string, string[]> = {
  defaults: ['--min-epochs', '1', '--lr-schedule', 'none', '--augment', 'none'],
  m10: ['--min-epochs', '10', '--lr-schedule', 'none', '--augment', 'none'],
  'm10-cos': ['--min-epochs', '10', '--lr-schedule', 'cosine', '--augment', 'none'],
  'm10-plat': ['--min-epochs', '10', '--lr-schedule', 'plateau', '--augment', 'none'],
  'm10-cos-dih': ['--min-epochs', '10', '--lr-schedule', 'cosine', '--augment', 'dihedral'],
  'm10-cos-noise': ['--min-epochs', '10', '--lr-schedule', 'cosine', '--augment', 'noise'],
  // One change each from the defaults (issue 20 §1, session 4).
  plateau: ['--min-epochs', '1', '--lr-schedule', 'plateau', '--augment', 'none'],
  noise: ['--min-epochs', '1', '--lr-schedule', 'none', '--augment', 'noise'],
  shift: ['--min-epochs', '1', '--lr-schedule', 'none', '--augment', 'shift'],
  p5: ['--min-epochs', '1', '--lr-schedule', 'none', '--augment', 'none', '--patience', '5'],
  p30: ['--min-epochs', '1', '--lr-schedule', 'none', '--augment', 'none', '--patience', '30'],
  // No inner early stopping: every fit runs its epochs, the count chosen per outer fold by inner grouped CV.
  fixed: ['--min-epochs', '1', '--lr-schedule', 'none', '--augment', 'none', '--val-fraction', '0', '--tune', 'epochs=10,20,40'],
  // No early stopping at a fixed 20 epochs (the defaults' final models ran 20–33): the cheap form of `fixed`.
  fixed20: ['--min-epochs', '1', '--lr-schedule', 'none', '--augment', 'none', '--val-fraction', '0', '--epochs', '20'],
  // The smoothed criterion (main/models/stopping.ts), alone and with the cosine + dihedral recipe.
  smoothed: ['--min-epochs', '1', '--lr-schedule', 'none', '--augment', 'none', '--stop-on', 'smoothed'],
  'smoothed-cos-dih': ['--min-epochs', '1', '--lr-schedule', 'cosine', '--augment', 'dihedral', '--stop-on', 'smoothed'],
};

interface ModelRow {
  readonly kept: number;
  readonly ran: number;
  readonly valAtKept?: number;
  /** max − min of the validation loss over the 5 epochs up to the kept one, relative to its value there. */
  readonly valMove?: number;
  readonly a?: number;
  readonly b?: number;
  readonly share?: number;
  readonly aucMean: number;
  readonly aucSd: number;
}
interface Row {
  readonly seed: number;
  readonly recipe: string;
  readonly models: Record<string, ModelRow>;
  readonly warnings: string[];
  readonly seconds: number;
}

async function step(args: string[]): Promise<void> {
  const code = await main(args);
  if (code !== 0) throw new Error(`geoanomaly ${args[0]} failed (${code}): ${args.join(' ')}`);
}

/** The demo's own steps up to `sites` (main/cli/commands/demo.ts), once per seed. */
async function prepare(dir: string, seed: number): Promise<void> {
  if (existsSync(join(dir, 'sites.geojson'))) return;
  mkdirSync(dir, { recursive: true });
  const p = (...x: string[]): string => join(dir, ...x);
  await step(['demo-data', '--out', p('data'), '--seed', String(seed)]);
  const all = JSON.parse(readFileSync(p('data', 'deposits.geojson'), 'utf8')) as { features: unknown[] };
  const order = new Rng(seed + 101).shuffle(all.features.map((_, i) => i));
  const hold = new Set(order.slice(0, Math.round(0.3 * order.length)));
  writeJsonAtomic(p('data', 'deposits-train.geojson'), { ...all, features: all.features.filter((_, i) => !hold.has(i)) });
  const demo = JSON.parse(readFileSync(p('data', 'demo.json'), 'utf8')) as { extent: { xmin: number; ymin: number; xmax: number; ymax: number } };
  const e = demo.extent;
  await step(['krige', '--samples', p('data', 'samples.csv'), '--x', 'x', '--y', 'y', '--crs', 'EPSG:32645', '--fields', 'all', '--cell', '1000',
    '--extent', `${e.xmin},${e.ymin},${e.xmax},${e.ymax}`, '--model', 'auto', '--nmax', '32', '--log', '--threads', '1', '--out', p('stack.tif')]);
  await step(['faults', '--faults', p('data', 'faults.geojson'), '--fault-where', 'favourable=true', '--grid', p('stack.tif'), '--deposits', p('data', 'deposits-train.geojson'),
    '--distance', p('dist.tif'), '--weight', p('weight.tif'), '--report', p('powerlaw.json')]);
  await step(['sites', '--deposits', p('data', 'deposits-train.geojson'), '--grid', p('stack.tif'), '--faults', p('data', 'faults.geojson'), '--fault-where', 'favourable=true',
    '--min-deposit-dist', '4000', '--min-fault-dist', '1500', '--seed', String(seed), '--out', p('sites.geojson')]);
}

function rowOf(runDir: string, MODELS: readonly string[]): Omit<Row, 'seed' | 'recipe' | 'seconds'> {
  const man = JSON.parse(readFileSync(join(runDir, 'manifest.json'), 'utf8')) as RunManifest;
  const metrics = JSON.parse(readFileSync(join(runDir, 'metrics.json'), 'utf8')) as Record<string, { mean: { auc: number }; sd: { auc: number } }>;
  const models: Record<string, ModelRow> = {};
  for (const kind of MODELS) {
    const m = man.models[kind];
    const h = m.history ?? [];
    const kept = m.epochs;
    const at = h[kept - 1];
    const window = h.slice(Math.max(0, kept - 5), kept).map((e) => e.valLoss).filter((v): v is number => v !== undefined);
    models[kind] = {
      kept,
      ran: h.length,
      ...(at?.valLoss !== undefined ? { valAtKept: at.valLoss } : {}),
      ...(window.length > 1 && at?.valLoss ? { valMove: (Math.max(...window) - Math.min(...window)) / at.valLoss } : {}),
      ...(m.geology ? { a: m.geology.a[0], b: m.geology.b } : {}),
      ...(m.geologyShare !== undefined ? { share: m.geologyShare } : {}),
      aucMean: metrics[kind].mean.auc,
      aucSd: metrics[kind].sd.auc,
    };
  }
  return { models, warnings: (man.warnings ?? []).map((w) => `${w.subject ?? ''} ${w.code}`.trim()) };
}

/** Rows of one or more --out files (processes that ran different recipes), in RECIPES order. */
function table(files: readonly string[]): void {
  const order = Object.keys(RECIPES);
  const rows = files
    .flatMap((file) => (JSON.parse(readFileSync(file, 'utf8')) as { rows: Row[] }).rows)
    .sort((a, b) => order.indexOf(a.recipe) - order.indexOf(b.recipe) || a.seed - b.seed);
  const f = (v: number | undefined, d = 3): string => (v === undefined ? '–' : v.toFixed(d));
  console.log('| seed | recipe | CNN kept/ran | CNN val move | CNN AUC | GK-DCN kept/ran | GK-DCN val move | a | b | geology share | GK-DCN AUC | warnings |');
  console.log('|---|---|---|---|---|---|---|---|---|---|---|---|');
  for (const r of rows) {
    const c = r.models.cnn as ModelRow | undefined;
    const g = r.models['gk-dcn'];
    console.log(
      `| ${r.seed} | ${r.recipe} | ${c ? `${c.kept}/${c.ran}` : '–'} | ${f(c?.valMove, 2)} | ${c ? `${f(c.aucMean)} ± ${f(c.aucSd)}` : '–'} | ${g.kept}/${g.ran} | ${f(g.valMove, 2)} | ${f(g.a)} | ${f(g.b)} | ` +
        `${g.share === undefined ? '–' : `${(100 * g.share).toFixed(1)} %`} | ${f(g.aucMean)} ± ${f(g.aucSd)} | ${r.warnings.join(', ') || '–'} |`,
    );
  }
  // Per recipe over seeds: how often the final GK-DCN kept an epoch < 5, and the mean a − 0.1 (how far a moved).
  console.log('\n| recipe | seeds | GK-DCN kept epoch (mean) | kept < 5 | mean abs(a − 0.1) | mean share | runs with warnings | CNN AUC (mean over seeds) | GK-DCN AUC (mean over seeds) |');
  console.log('|---|---|---|---|---|---|---|---|---|');
  for (const recipe of Object.keys(RECIPES)) {
    const rs = rows.filter((r) => r.recipe === recipe);
    if (rs.length === 0) continue;
    const mean = (v: number[]): number => v.reduce((s, x) => s + x, 0) / v.length;
    const g = rs.map((r) => r.models['gk-dcn']);
    console.log(
      `| ${recipe} | ${rs.length} | ${mean(g.map((x) => x.kept)).toFixed(1)} | ${g.filter((x) => x.kept < 5).length} | ${mean(g.map((x) => Math.abs((x.a ?? 0.1) - 0.1))).toFixed(3)} | ` +
        `${(100 * mean(g.map((x) => x.share ?? 0))).toFixed(1)} % | ${rs.filter((r) => r.warnings.length > 0).length} | ${rs.every((r) => r.models.cnn) ? mean(rs.map((r) => r.models.cnn.aucMean)).toFixed(3) : '–'} | ${mean(g.map((x) => x.aucMean)).toFixed(3)} |`,
    );
  }
}

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    seeds: { type: 'string', default: '7,8,9' },
    epochs: { type: 'string', default: '40' },
    recipes: { type: 'string', default: Object.keys(RECIPES).join(',') },
    threads: { type: 'string', default: '1' },
    models: { type: 'string', default: 'cnn,gk-dcn' },
    work: { type: 'string', default: '.tmp/recipe-work' },
    out: { type: 'string', default: '.tmp/recipe.json' },
    table: { type: 'boolean', default: false },
  },
});

if (values.table) {
  table(positionals.length > 0 ? positionals : [values.out]);
} else {
  const out = values.out;
  const doc = existsSync(out) ? (JSON.parse(readFileSync(out, 'utf8')) as { rows: Row[] }) : { rows: [] as Row[] };
  // Recipe by recipe over all seeds, so an interrupted run has every seed of the first recipes.
  for (const recipe of values.recipes.split(',')) {
    if (!RECIPES[recipe]) throw new Error(`unknown recipe ${recipe}; one of ${Object.keys(RECIPES).join(', ')}`);
    for (const seed of values.seeds.split(',').map(Number)) {
      const dir = join(values.work, `seed-${seed}`);
      await prepare(dir, seed);
      if (doc.rows.some((r) => r.seed === seed && r.recipe === recipe)) continue;
      const t0 = performance.now();
      const runDir = join(dir, `run-${recipe}`);
      const models = values.models.split(',');
      await step(['train', '--stack', join(dir, 'stack.tif'), '--sites', join(dir, 'sites.geojson'), '--knowledge', join(dir, 'weight.tif'), '--model', models.join(','),
        '--epochs', values.epochs, '--folds', '3', '--repeats', '1', '--seed', String(seed), '--threads', values.threads, '--engine', 'onnx', ...RECIPES[recipe], '--out', runDir]);
      doc.rows.push({ seed, recipe, ...rowOf(runDir, models), seconds: (performance.now() - t0) / 1000 });
      writeJsonAtomic(out, doc);
    }
  }
  table([out]);
}
