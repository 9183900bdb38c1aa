/**
 * The GK-DCN case study on ../shared/data/tianshan-gkdcn (southern Tianshan Au–Cu district):
 * the four models under grouped (by-site) k-fold CV and under the reference code's leaky
 * random-patch protocol. Output feeds the tables in docs/gk-dcn.md.
 *
 *   npx tsx bench/case-study.ts --protocol grouped --models all --repeats 2 --out .tmp/case-grouped.json
 *   npx tsx bench/case-study.ts --table [--max-repeats R] .tmp/case-grouped.json .tmp/case-leaky.json
 *
 * Data handling (see ../shared/data/README.md): 39 element grids log10-transformed and
 * standardised with whole-grid statistics; deposits = cells of label/Au_deposits0.tif equal to 1,
 * negatives = cells of label/non_deposits.tif equal to 0 (inverted coding), both paired with
 * the element grid by array index (0,0) as the authors did; 3×3 blocks; w = geology_weights.tif
 * paired by index the same way, read at each sample's own centre cell.
 *
 * Results are appended fold by fold to the --out JSON so a long run can be inspected (and an
 * interrupted run still reports the folds it finished).
 */
import { existsSync, readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { readGeoTiff, readStack } from '../main/io/geotiff-read.ts';
import { buildSites } from '../main/sites/build-sites.ts';
import { bandOnGridByIndex, cellsFromLabelRaster } from '../main/sites/label-cells.ts';
import { extractPatches } from '../main/sites/patches.ts';
import { initBackend, type BackendPreference } from '../main/models/backend.ts';
import { parseModelKinds } from '../main/models/architectures.ts';
import { trainingDataFrom, type TrainingData } from '../main/models/train.ts';
import { crossValidate, METRIC_NAMES, summarizeFolds, type CvProtocol, type FoldResult } from '../main/models/cross-validate.ts';
import { writeJsonAtomic } from '../main/util/atomic-write.ts';
import { summarize } from '../main/eval/folds.ts';

const DATA = new URL('../../shared/data/tianshan-gkdcn/', import.meta.url);

export async function loadTianshan(): Promise<{ data: TrainingData; summary: Record<string, unknown> }> {
  const stack = await readStack(new URL('elements', DATA).pathname);
  const align = { rows: 0, cols: 0 };
  const deposits = cellsFromLabelRaster(stack.grid, await readGeoTiff(new URL('label/Au_deposits0.tif', DATA).pathname), { value: 1, alignByIndex: align, role: 'deposit' });
  const negatives = cellsFromLabelRaster(stack.grid, await readGeoTiff(new URL('label/non_deposits.tif', DATA).pathname), { value: 0, alignByIndex: align, role: 'negative' });
  const { set, summary } = buildSites(stack.grid, { depositCells: deposits.cells, negatives: { kind: 'user', cells: negatives.cells } });
  const w = await readGeoTiff(new URL('geology_weights.tif', DATA).pathname);
  const wOnGrid = bandOnGridByIndex(stack.grid, w.grid, w.bands[0], align);
  const patches = extractPatches(stack, set, { size: 9, transform: 'log10-standardize', knowledge: [wOnGrid], knowledgeNames: ['fault_weight'] });
  return {
    data: trainingDataFrom(patches),
    summary: { ...summary, clipped: patches.clipped.filter(Boolean).length, groups: new Set(patches.groupIds).size, bands: patches.bandNames.length },
  };
}

function table(files: string[], maxRepeats: number): void {
  const fmt = (m: number, s: number): string => `${m.toFixed(3)} ± ${s.toFixed(3)}`;
  // Runs of one protocol split over several files (models run in parallel) are merged.
  type Run = { protocol: string; options: Record<string, unknown>; backend: string; models: Record<string, { folds: FoldResult[] }> };
  const byProtocol = new Map<string, Run>();
  for (const f of files) {
    const r = JSON.parse(readFileSync(f, 'utf8')) as Run;
    const prev = byProtocol.get(r.protocol);
    byProtocol.set(r.protocol, prev ? { ...prev, models: { ...prev.models, ...r.models } } : r);
  }
  for (const run of byProtocol.values()) {
    console.log(`\n${run.protocol} protocol — ${JSON.stringify(run.options)} — backend ${run.backend}\n`);
    console.log(`| model | folds | ${METRIC_NAMES.join(' | ')} |`);
    console.log(`|---|---|${METRIC_NAMES.map(() => '---').join('|')}|`);
    for (const [kind, r] of Object.entries(run.models)) {
      const folds = r.folds.filter((x) => x.repeat < maxRepeats);
      const repeats = new Set(folds.map((x) => x.repeat)).size;
      const s = summarizeFolds(folds, repeats);
      console.log(`| ${kind} | ${folds.length} | ${METRIC_NAMES.map((m) => fmt(s.mean[m], s.sd[m])).join(' | ')} |`);
    }
    console.log('\n95% t-interval of the mean over all folds (folds treated as independent, so optimistic):');
    for (const [kind, r] of Object.entries(run.models)) {
      const folds = r.folds.filter((x) => x.repeat < maxRepeats);
      const ci = (m: (typeof METRIC_NAMES)[number]): [number, number] => summarize(folds.map((f) => f.metrics[m])).ci95;
      console.log(`  ${kind}: ${METRIC_NAMES.map((m) => `${m} [${ci(m)[0].toFixed(3)}, ${ci(m)[1].toFixed(3)}]`).join(', ')}`);
    }
  }
}

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    protocol: { type: 'string', default: 'grouped' },
    models: { type: 'string', default: 'all' },
    folds: { type: 'string', default: '5' },
    repeats: { type: 'string', default: '2' },
    seed: { type: 'string', default: '1' },
    epochs: { type: 'string', default: '20' },
    patience: { type: 'string', default: '6' },
    lr: { type: 'string', default: '0.001' },
    lambda: { type: 'string', default: '1' },
    backend: { type: 'string', default: 'auto' },
    out: { type: 'string' },
    table: { type: 'boolean', default: false },
    'max-repeats': { type: 'string', default: '1000' },
  },
});

if (values.table) {
  table(positionals, Number(values['max-repeats']));
} else {
  const be = await initBackend(values.backend as BackendPreference);
  const { data, summary } = await loadTianshan();
  console.log(`backend ${be.detail}; ${data.n} patches, ${JSON.stringify(summary)}`);
  const protocol = values.protocol as CvProtocol;
  const options = {
    folds: Number(values.folds),
    repeats: Number(values.repeats),
    seed: Number(values.seed),
    protocol,
    train: { epochs: Number(values.epochs), patience: Number(values.patience), learningRate: Number(values.lr), lambda: Number(values.lambda) },
  };
  const out = values.out ?? `.tmp/case-${protocol}.json`;
  const run = existsSync(out) ? (JSON.parse(readFileSync(out, 'utf8')) as { models: Record<string, { folds: FoldResult[] }> }) : { models: {} };
  for (const kind of parseModelKinds(values.models)) {
    const t0 = performance.now();
    let last = '';
    const r = await crossValidate(kind, data, options, {
      progress: (f, m) => {
        const line = m.replace(/ epoch.*/, '');
        if (line !== last) process.stderr.write(`[${(f * 100).toFixed(0)}%] ${line}\n`);
        last = line;
      },
    });
    run.models[kind] = { folds: r.folds.map((f) => ({ ...f, roc: undefined as never })) };
    writeJsonAtomic(out, { protocol, options, backend: be.detail, data: summary, ...run });
    const s = r.mean;
    console.log(`${kind} ${protocol}: ${METRIC_NAMES.map((m) => `${m} ${s[m].toFixed(3)}±${r.sd[m].toFixed(3)}`).join(' ')} (${((performance.now() - t0) / 1000).toFixed(0)} s)`);
  }
}
