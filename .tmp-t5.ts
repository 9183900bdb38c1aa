import { readCube } from './main/xrf/cube-import.ts';
import { normalizeCube } from './main/xrf/cube.ts';
import { syntheticSample } from './main/xrf/synthetic.ts';
import { runMsfaNet } from './main/xrf/msfa-net.ts';
import { globalRx } from './main/xrf/rx.ts';
import { mahalanobisScores } from './main/xrf/rx.ts';
import { spatialContrast } from './main/xrf/spatial.ts';
import { rocAuc } from './main/eval/metrics.ts';
const epochs = Number(process.argv[2] ?? 30);
const cubes: [string, any][] = [];
for (const f of ['HYDICE_data.mat','abu-beach-4.mat']) cubes.push([f, await readCube('../shared/data/hyperspectral/'+f)]);
cubes.push(['synthetic', syntheticSample({ seed: 7 }).cube]);
for (const [f, c0] of cubes) {
  const c = normalizeCube(c0, 'minmax-band');
  const t = Date.now();
  const r = await runMsfaNet(c, { epochs, spatialWeight: 0 });
  const T = c.truth!;
  const rxres = r.scores;
  console.log(f, 'ms', Date.now()-t, 'spe', r.secondsPerEpoch.toFixed(3), 'loss', r.lossHistory[0].toExponential(2), r.lossHistory.at(-1)!.toExponential(2),
    'clusters', r.pseudo.clusterCount, 'em', r.pseudo.endmemberCount,
    '\n  RX', rocAuc(T, globalRx(c)).toFixed(4), 'recErr', rocAuc(T, r.reconstructionError).toFixed(4), 'resRX', rocAuc(T, rxres).toFixed(4),
    'div', rocAuc(T, r.pseudo.divergence).toFixed(4),
    'sp.3', rocAuc(T, spatialContrast(rxres, c.rows, c.cols, 0.3)).toFixed(4), 'sp.5', rocAuc(T, spatialContrast(rxres, c.rows, c.cols, 0.5)).toFixed(4),
    'recErr-sp.5', rocAuc(T, spatialContrast(r.reconstructionError, c.rows, c.cols, 0.5)).toFixed(4), 'pseudoAnomHit', [...r.pseudo.pseudoAnomaly].reduce((a,v,i)=>a+(v&&T[i]?1:0),0), '/', T.reduce((a,b)=>a+b,0));
}
