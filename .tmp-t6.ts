import { syntheticSample } from './main/xrf/synthetic.ts';
import { normalizeCube } from './main/xrf/cube.ts';
import { runMsfaNet } from './main/xrf/msfa-net.ts';
import { rocAuc } from './main/eval/metrics.ts';
import { getTf } from './main/models/backend.ts';
const s = syntheticSample({ rows: 190, cols: 190, seed: 3 });
const c = normalizeCube(s.cube, 'minmax-band');
for (const C of [128, 64]) {
const c0 = process.cpuUsage(); let t = Date.now();
const r = await runMsfaNet(c, { epochs: 2, hiddenChannels: C });
const cu = process.cpuUsage(c0);
console.log('C', C, 'wall', Date.now()-t, 'spe', r.secondsPerEpoch.toFixed(2), 'cpu s', ((cu.user+cu.system)/1e6).toFixed(2), getTf().memory().numTensors);
}
