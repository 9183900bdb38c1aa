/**
 * Skill benchmark with known truth: every network and baseline, trained with the default recipe
 * on many seeded synthetic surveys (main/demo/demo-survey.ts), scored by the map AUC at deposits
 * they never saw. Two regimes:
 *   - isotropic: round halos (sd 1.2 km both ways), deposits placed uniformly (no fault control);
 *   - fault: elongated fault-parallel halos (3 km × 0.6 km), deposits by the power law along the
 *     ore-controlling faults, plus 4 decoy anomalies without deposits.
 * Per survey: demo-data (the default 60 × 40 km area, ~700 samples, 18 deposits; 12 elements
 * kriged onto 1 km cells), 30 % of the deposits held out (seeded), faults/power law and sites from the rest,
 * `train --model all,baselines` (default recipe, --epochs below), `predict --ensemble final`,
 * `evaluate` of every band at the held-out deposits with the training cells excluded.
 * Printed: mean ± sd of the map AUC over the surveys per model, and the paired difference of
 * each network minus the best baseline (the baseline with the highest mean in that regime),
 * mean over surveys with a 95 % percentile bootstrap interval over surveys (seeded).
 *
 *   npx tsx bench/skill.ts --surveys 10 --epochs 20 --out .tmp/skill.json   (≈ 1–2 min per survey on 2 cores)
 *   npx tsx bench/skill.ts --table .tmp/skill.json
 *
 * Results are written survey by survey to --out, so an interrupted run still reports what it did.
 */
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { runWorkflow } from '../main/workflows/registry.ts';
import type { DemoDataWorkflowOptions } from '../main/workflows/demo-data-options.ts';
import { writeJsonAtomic } from '../main/util/atomic-write.ts';
import { Rng } from '../main/util/rng.ts';
import { quantileSorted } from '../main/eval/bootstrap.ts';

const NETWORKS = ['cnn', 'dcn', 'gk-cnn', 'gk-dcn'];
const BASELINES = ['index', 'pc', 'logreg', 'rf'];
const ELEMENTS = ['Au', 'Ag', 'As', 'Sb', 'Cu', 'Bi', 'Mo', 'Pb', 'Ba', 'Cr', 'La', 'SiO2'];

interface Regime {
  readonly name: string;
  /** demo-data options of the regime (main/workflows/demo-data-options.ts). */
  readonly survey: DemoDataWorkflowOptions;
}
const REGIMES: Regime[] = [
  { name: 'isotropic', survey: { haloAlong: 1200, haloAcross: 1200, faultControl: 0 } },
  { name: 'fault', survey: { haloAlong: 3000, haloAcross: 600, faultControl: 1, decoys: 4 } },
];

interface SurveyResult {
  readonly regime: string;
  readonly seed: number;
  readonly auc: Record<string, number>;
  readonly seconds: number;
}

async function runSurvey(regime: Regime, seed: number, epochs: number, threads: number, work: string): Promise<SurveyResult> {
  const t0 = performance.now();
  const d = join(work, `${regime.name}-${seed}`);
  rmSync(d, { recursive: true, force: true });
  mkdirSync(d, { recursive: true });
  const p = (...x: string[]): string => join(d, ...x);
  // Each step is the workflow the CLI command runs (main/workflows/), with typed options.
  const data = await runWorkflow('demo-data', { out: p('data'), seed, samples: 700, deposits: 18, ...regime.survey });
  const all = JSON.parse(readFileSync(data.outputs.deposits, 'utf8')) as { features: unknown[] };
  const order = new Rng(seed + 101).shuffle(all.features.map((_, i) => i));
  const hold = new Set(order.slice(0, Math.round(0.3 * order.length)));
  writeJsonAtomic(p('data', 'train.geojson'), { ...all, features: all.features.filter((_, i) => !hold.has(i)) });
  writeJsonAtomic(p('data', 'holdout.geojson'), { ...all, features: all.features.filter((_, i) => hold.has(i)) });
  const demo = JSON.parse(readFileSync(data.outputs.manifest, 'utf8')) as { extent: { xmin: number; ymin: number; xmax: number; ymax: number }; elements: string[] };
  const e = demo.extent;
  // The sample table names columns by element (units stripped): Au_ppb → Au.
  const fields = demo.elements.map((c) => c.split('_')[0]).filter((c) => ELEMENTS.includes(c)).join(',');
  const stack = (
    await runWorkflow('krige', {
      samples: data.outputs.samples, x: 'x', y: 'y', crs: 'EPSG:32645', fields, cell: 1000,
      extent: `${e.xmin},${e.ymin},${e.xmax},${e.ymax}`, model: 'auto', nmax: 24, log: true, threads, out: p('stack.tif'),
    })
  ).outputs.prediction;
  const faults = await runWorkflow('faults', {
    faults: data.outputs.faults, faultWhere: 'favourable=true', grid: stack, deposits: p('data', 'train.geojson'),
    distance: p('dist.tif'), weight: p('weight.tif'), report: p('powerlaw.json'),
  });
  const sites = await runWorkflow('sites', {
    deposits: p('data', 'train.geojson'), grid: stack, faults: data.outputs.faults, faultWhere: 'favourable=true',
    minDepositDist: 4000, minFaultDist: 1500, seed, out: p('sites.geojson'),
  });
  const run = await runWorkflow('train', {
    stack, sites: sites.outputs.sites, knowledge: [faults.outputs.weight ?? p('weight.tif')], model: 'all,baselines', epochs,
    folds: 3, repeats: 1, seed, threads, out: p('run'),
  });
  const map = (await runWorkflow('predict', { run: run.outputs.runDir, stack, ensemble: 'final', threads, out: p('prob.tif') })).outputs.map;
  const auc: Record<string, number> = {};
  for (const m of [...NETWORKS, ...BASELINES]) {
    const ev = await runWorkflow('evaluate', { map, band: `p_${m}`, deposits: p('data', 'holdout.geojson'), excludeTraining: sites.outputs.sites, out: p(`eval-${m}.json`) });
    auc[m] = ev.auc;
  }
  rmSync(d, { recursive: true, force: true });
  return { regime: regime.name, seed, auc, seconds: (performance.now() - t0) / 1000 };
}

function meanSd(v: readonly number[]): { mean: number; sd: number } {
  const mean = v.reduce((a, b) => a + b, 0) / v.length;
  const sd = v.length > 1 ? Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / (v.length - 1)) : NaN;
  return { mean, sd };
}

/** 95 % percentile bootstrap over surveys of the mean paired difference (seeded). */
function surveyBootstrap(d: readonly number[], seed = 1, reps = 4000): [number, number] {
  const rng = new Rng(seed);
  const means = new Float64Array(reps);
  for (let r = 0; r < reps; r++) {
    let s = 0;
    for (let j = 0; j < d.length; j++) s += d[rng.int(d.length)];
    means[r] = s / d.length;
  }
  means.sort();
  return [quantileSorted(means, 0.025), quantileSorted(means, 0.975)];
}

export function table(results: readonly SurveyResult[]): string {
  const out: string[] = [];
  const sign = (v: number): string => `${v >= 0 ? '+' : '−'}${Math.abs(v).toFixed(3)}`;
  for (const regime of REGIMES.map((r) => r.name)) {
    const rs = results.filter((r) => r.regime === regime);
    if (rs.length === 0) continue;
    out.push(`\n### Regime ${regime}: map AUC at held-out deposits, ${rs.length} surveys (seeds ${rs.map((r) => r.seed).join(', ')})\n`);
    out.push('| model | mean ± sd |', '|---|---|');
    const stats = Object.fromEntries([...NETWORKS, ...BASELINES].map((m) => [m, meanSd(rs.map((r) => r.auc[m]))]));
    for (const m of [...NETWORKS, ...BASELINES]) out.push(`| ${m} | ${stats[m].mean.toFixed(3)} ± ${stats[m].sd.toFixed(3)} |`);
    const best = BASELINES.reduce((a, b) => (stats[b].mean > stats[a].mean ? b : a));
    out.push('', `Paired differences, network − best baseline (${best}), mean over surveys [95 % bootstrap interval over surveys]:`, '');
    for (const m of NETWORKS) {
      const d = rs.map((r) => r.auc[m] - r.auc[best]);
      const ci = surveyBootstrap(d);
      const verdict = ci[0] <= 0 && ci[1] >= 0 ? 'interval includes 0' : ci[0] > 0 ? `${m} better` : `${best} better`;
      out.push(`- ${m.toUpperCase()} − ${best.toUpperCase()}: ΔAUC ${sign(meanSd(d).mean)} [${sign(ci[0])}, ${sign(ci[1])}] (${verdict})`);
    }
    const g = rs.map((r) => r.auc['gk-dcn'] - r.auc.cnn);
    const cg = surveyBootstrap(g);
    out.push(`- GK-DCN − CNN: ΔAUC ${sign(meanSd(g).mean)} [${sign(cg[0])}, ${sign(cg[1])}]`);
  }
  return out.join('\n');
}

async function runBench(): Promise<void> {
  const { values } = parseArgs({
    options: {
      surveys: { type: 'string', default: '10' },
      epochs: { type: 'string', default: '20' },
      threads: { type: 'string', default: '2' },
      regimes: { type: 'string', default: 'isotropic,fault' },
      out: { type: 'string', default: '.tmp/skill.json' },
      work: { type: 'string', default: '.tmp/skill-work' },
      table: { type: 'boolean', default: false },
    },
    allowPositionals: true,
  });
  const outPath = values.out as string;
  const prior: SurveyResult[] = existsSync(outPath) ? (JSON.parse(readFileSync(outPath, 'utf8')) as { results: SurveyResult[] }).results : [];
  if (values.table) {
    console.log(table(prior));
    return;
  }
  const surveys = Number(values.surveys);
  const wanted = (values.regimes as string).split(',');
  const results = [...prior];
  for (let s = 1; s <= surveys; s++) {
    for (const regime of REGIMES.filter((r) => wanted.includes(r.name))) {
      if (results.some((r) => r.regime === regime.name && r.seed === s)) continue;
      const r = await runSurvey(regime, s, Number(values.epochs), Number(values.threads), values.work as string);
      results.push(r);
      writeJsonAtomic(outPath, { epochs: Number(values.epochs), results });
      console.error(`[skill] ${regime.name} seed ${s}: ${Object.entries(r.auc).map(([k, v]) => `${k} ${v.toFixed(3)}`).join(', ')} (${r.seconds.toFixed(0)} s)`);
    }
  }
  console.log(table(results));
}

await runBench();
