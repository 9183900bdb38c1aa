import { join } from 'node:path';
import { InvalidOptionError } from '../errors.ts';
import { readStack } from '../io/geotiff-read.ts';
import { bandCount } from '../util/display-names.ts';
import { writeGeoTiff } from '../io/geotiff-write.ts';
import { robustPca, type LogTransform } from '../eval/robust-pca.ts';
import { writeFileAtomic, writeJsonAtomic } from '../util/atomic-write.ts';
import { renderChart } from '../figures/chart.ts';
import { renderMapFigure } from '../figures/map-figure.ts';
import { report, throwIfCancelled, type JobContext } from '../jobs/job.ts';
import { checkWorkflowPaths, required } from './option-table.ts';
import { RPCA_OPTIONS, RPCA_PATHS, RPCA_TRANSFORMS, type RpcaWorkflowOptions } from './rpca-options.ts';
import type { RpcaWorkflowResult } from './rpca-result.ts';

export { RPCA_OPTIONS, RPCA_PATHS, type RpcaWorkflowOptions } from './rpca-options.ts';
export type { RpcaWorkflowResult } from './rpca-result.ts';

const CMD = 'rpca';

/**
 * Robust PCA (DetMCD) of an element stack after a log10 or clr transform: PC score bands, the
 * squared robust distance, loadings.json, the PC1–PC2 biplot and the PC1/PC2 score maps in the
 * output folder. Cancel (ctx.signal) is honoured during the MCD and before any file is written.
 */
export async function rpcaWorkflow(o: RpcaWorkflowOptions, ctx: JobContext = {}): Promise<RpcaWorkflowResult> {
  checkWorkflowPaths(RPCA_OPTIONS, RPCA_PATHS, o);
  const stackPath = required(o.stack, 'stack', CMD);
  const outDir = required(o.out, 'out', CMD);
  const transform = o.transform ?? RPCA_OPTIONS.transform.default;
  if (!(RPCA_TRANSFORMS as readonly string[]).includes(transform)) throw new InvalidOptionError(`geoanomaly rpca: --transform must be log10 or clr, got "${transform}"`);
  const stack = await readStack(stackPath);
  report(ctx, 0, `robust PCA of ${bandCount(stack.bandNames.length)} on ${stack.grid.rows}×${stack.grid.cols} cells`);
  const r = robustPca(
    stack,
    {
      transform: transform as LogTransform,
      alpha: o.alpha ?? RPCA_OPTIONS.alpha.default,
      components: o.components,
      maxSamples: o.maxSamples ?? RPCA_OPTIONS.maxSamples.default,
      seed: o.seed ?? RPCA_OPTIONS.seed.default,
    },
    { signal: ctx.signal, progress: ctx.progress },
  );
  // A cancel that came while the scores were computed stops here, before the first file is written.
  throwIfCancelled(ctx, 'robust PCA');
  const components = r.scores.map((_, k) => `PC${k + 1}`);
  const scoresPath = join(outDir, 'pc-scores.tif');
  const distancePath = join(outDir, 'robust-distance.tif');
  const loadingsPath = join(outDir, 'loadings.json');
  writeGeoTiff(scoresPath, { grid: stack.grid, bandNames: components, bands: r.scores });
  writeGeoTiff(distancePath, { grid: stack.grid, bandNames: ['robust_distance_sq'], bands: [r.robustDistance] });
  writeJsonAtomic(loadingsPath, {
    stack: stackPath,
    bands: r.bandNames,
    transform: r.transform,
    components,
    center: r.center,
    covariance: r.covariance,
    eigenvalues: r.eigenvalues,
    explained: r.explained,
    loadings: r.loadings,
    distanceCutoff: r.distanceCutoff,
    mcd: r.mcd,
    cells: r.cells,
    biplot: r.biplot,
    outputs: { scores: scoresPath, robustDistance: distancePath },
  });
  // Figures: the PC1–PC2 biplot (cell scores + loading arrows scaled to the score cloud) and the
  // PC1/PC2 score maps (the paper's PC2 map of the Au–Cu assemblage).
  const maxScore = Math.max(1e-12, ...r.biplot.pc1.map(Math.abs), ...r.biplot.pc2.map(Math.abs));
  const maxLoad = Math.max(1e-12, ...r.loadings.map((row) => Math.hypot(row[0], row[1] ?? 0)));
  const f = (0.9 * maxScore) / maxLoad;
  const pct = (k: number): string => `${((r.explained[k] ?? 0) * 100).toFixed(1)}%`;
  const biplotPath = join(outDir, 'biplot.png');
  const biplotSvgPath = join(outDir, 'biplot.svg');
  const biplotOptions = {
    title: `Robust PCA biplot (${r.transform}, DetMCD)`,
    xLabel: `PC1 (${pct(0)})`,
    yLabel: `PC2 (${pct(1)})`,
    series: [{ kind: 'scatter' as const, x: r.biplot.pc1, y: r.biplot.pc2, label: 'cells (sample)', colour: '#7f9fbf' }],
    arrows: r.loadings.map((row, b) => ({ x: row[0] * f, y: (row[1] ?? 0) * f, label: r.bandNames[b] })),
    equalAspect: true,
    width: 720,
    height: 620,
  };
  writeFileAtomic(biplotPath, renderChart(biplotOptions));
  writeFileAtomic(biplotSvgPath, renderChart({ ...biplotOptions, format: 'svg' }));
  const mapsPath = join(outDir, 'pc-maps.png');
  writeFileAtomic(
    mapsPath,
    renderMapFigure(
      r.scores.slice(0, 2).map((band, k) => ({ grid: stack.grid, band, title: `PC${k + 1} (${pct(k)})`, legend: `PC${k + 1} score`, ramp: 'rdbu' as const })),
      { columns: 2, title: `Robust PC score maps (${r.transform})` },
    ),
  );
  report(ctx, 1, 'done');
  const { alpha, h, cellsUsed, subsampled, seed, outliers } = r.mcd;
  return {
    outputs: { dir: outDir, scores: scoresPath, robustDistance: distancePath, loadings: loadingsPath, biplot: biplotPath, biplotSvg: biplotSvgPath, maps: mapsPath },
    stack: stackPath,
    bands: [...r.bandNames],
    transform: r.transform,
    components,
    center: [...r.center],
    covariance: r.covariance.map((row) => [...row]),
    eigenvalues: [...r.eigenvalues],
    explained: [...r.explained],
    loadings: r.loadings.map((row) => [...row]),
    distanceCutoff: r.distanceCutoff,
    mcd: { alpha, h, cellsUsed, subsampled, seed, outliers },
    cells: { ...r.cells },
  };
}

/** The lines "geoanomaly rpca" prints on stdout for a result (tests and scripts read them). */
export function rpcaResultLines(r: RpcaWorkflowResult): string[] {
  const top = (k: number): string =>
    r.loadings
      .map((row, b) => ({ b: r.bands[b], v: row[k] }))
      .sort((a, b) => Math.abs(b.v) - Math.abs(a.v))
      .slice(0, 4)
      .map((e) => `${e.b} ${e.v >= 0 ? '+' : ''}${e.v.toFixed(2)}`)
      .join(', ');
  const lines = [`robust PCA (${r.transform}, DetMCD h = ${r.mcd.h} of ${r.mcd.cellsUsed} cells${r.mcd.subsampled ? ', subsampled' : ''}): ${r.cells.valid} of ${r.cells.total} cells scored`];
  for (let k = 0; k < Math.min(3, r.components.length); k++) lines.push(`  PC${k + 1} ${(r.explained[k] * 100).toFixed(1)}%: ${top(k)}`);
  const o = r.outputs;
  lines.push(`→ ${o.scores}, ${o.robustDistance}, ${o.loadings}, ${o.biplot}, ${o.maps}`);
  return lines;
}
