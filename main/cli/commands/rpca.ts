import { join } from 'node:path';
import type { Command } from '../command.ts';
import { optionalNumber, optionalString, requireString } from '../command.ts';
import { readStack } from '../../io/geotiff-read.ts';
import { writeGeoTiff } from '../../io/geotiff-write.ts';
import { robustPca, type LogTransform } from '../../eval/robust-pca.ts';
import { writeFileAtomic, writeJsonAtomic } from '../../util/atomic-write.ts';
import { renderChart } from '../../figures/chart.ts';
import { renderMapFigure } from '../../figures/map-figure.ts';
import { InvalidOptionError } from '../../errors.ts';

export const rpcaCommand: Command = {
  name: 'rpca',
  summary: 'robust PCA (DetMCD) of an element stack: PC score maps and loadings',
  usage: '--stack STACK.tif|DIR --out DIR [--transform log10|clr] [--alpha A] [--components K]',
  paths: { outputs: { out: 'dir' }, inputs: ['stack'] },
  options: {
    stack: { type: 'string', description: 'element stack: multi-band GeoTIFF or folder of single-band GeoTIFFs', valueName: 'STACK' },
    out: { type: 'string', description: 'output folder (pc-scores.tif, robust-distance.tif, loadings.json, biplot.png/.svg, pc-maps.png)', valueName: 'DIR' },
    transform: { type: 'string', description: 'log10 or clr (centred log-ratio; MCD in ilr coordinates)', valueName: 'T', default: 'log10' },
    alpha: { type: 'string', description: 'MCD subset share h/n (0.5 = highest breakdown, 0.75 = more efficient)', valueName: 'A', default: '0.5' },
    components: { type: 'string', description: 'number of PC score bands to write (default all)', valueName: 'K' },
    'max-samples': { type: 'string', description: 'cells used for the MCD estimate; more are subsampled (seeded)', valueName: 'N', default: '50000' },
    seed: { type: 'string', description: 'seed of the subsample', valueName: 'N', default: '1' },
  },
  details:
    'Cells with nodata or a value ≤ 0 in any band are left out (nodata in the outputs) and counted in loadings.json.\n' +
    'loadings.json holds bands, centre, robust covariance, eigenvalues, explained variance, loadings (band × PC),\n' +
    'MCD details and PC1/PC2 of a sample of cells for the biplot.\n' +
    'Example: geoanomaly rpca --stack ../shared/data/tianshan-gkdcn/elements --transform clr --out rpca',
  async run(args, io) {
    const stackPath = requireString(args, 'stack', 'rpca');
    const outDir = requireString(args, 'out', 'rpca');
    const transform = (optionalString(args, 'transform') ?? 'log10') as LogTransform;
    if (transform !== 'log10' && transform !== 'clr') throw new InvalidOptionError(`geoanomaly rpca: --transform must be log10 or clr, got "${String(transform)}"`);
    const stack = await readStack(stackPath);
    io.progress(0, `robust PCA of ${stack.bandNames.length} bands on ${stack.grid.rows}×${stack.grid.cols} cells`);
    const r = robustPca(
      stack,
      {
        transform,
        alpha: optionalNumber(args, 'alpha', 'rpca') ?? 0.5,
        components: optionalNumber(args, 'components', 'rpca'),
        maxSamples: optionalNumber(args, 'max-samples', 'rpca') ?? 50_000,
        seed: optionalNumber(args, 'seed', 'rpca') ?? 1,
      },
      { signal: io.signal, progress: io.progress },
    );
    const scoresPath = join(outDir, 'pc-scores.tif');
    const distancePath = join(outDir, 'robust-distance.tif');
    const loadingsPath = join(outDir, 'loadings.json');
    writeGeoTiff(scoresPath, { grid: stack.grid, bandNames: r.scores.map((_, k) => `PC${k + 1}`), bands: r.scores });
    writeGeoTiff(distancePath, { grid: stack.grid, bandNames: ['robust_distance_sq'], bands: [r.robustDistance] });
    writeJsonAtomic(loadingsPath, {
      stack: stackPath,
      bands: r.bandNames,
      transform: r.transform,
      components: r.scores.map((_, k) => `PC${k + 1}`),
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
    writeFileAtomic(join(outDir, 'biplot.svg'), renderChart({ ...biplotOptions, format: 'svg' }));
    const mapsPath = join(outDir, 'pc-maps.png');
    writeFileAtomic(
      mapsPath,
      renderMapFigure(
        r.scores.slice(0, 2).map((band, k) => ({ grid: stack.grid, band, title: `PC${k + 1} (${pct(k)})`, legend: `PC${k + 1} score`, ramp: 'rdbu' as const })),
        { columns: 2, title: `Robust PC score maps (${r.transform})` },
      ),
    );
    io.progress(1, 'done');
    const top = (k: number): string =>
      r.loadings
        .map((row, b) => ({ b: r.bandNames[b], v: row[k] }))
        .sort((a, b) => Math.abs(b.v) - Math.abs(a.v))
        .slice(0, 4)
        .map((e) => `${e.b} ${e.v >= 0 ? '+' : ''}${e.v.toFixed(2)}`)
        .join(', ');
    io.out(`robust PCA (${r.transform}, DetMCD h = ${r.mcd.h} of ${r.mcd.cellsUsed} cells${r.mcd.subsampled ? ', subsampled' : ''}): ${r.cells.valid} of ${r.cells.total} cells scored`);
    for (let k = 0; k < Math.min(3, r.scores.length); k++) io.out(`  PC${k + 1} ${(r.explained[k] * 100).toFixed(1)}%: ${top(k)}`);
    io.out(`→ ${scoresPath}, ${distancePath}, ${loadingsPath}, ${biplotPath}, ${mapsPath}`);
    return 0;
  },
};
