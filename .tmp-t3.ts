import { readFileSync } from 'node:fs';
import { dbscan } from './main/xrf/dbscan.ts';
import clustering from 'density-clustering';
const fx = JSON.parse(readFileSync('tests/fixtures/xrf/dbscan-sklearn.json','utf8'));
for (const c of fx.cases) {
  const r = dbscan(Float64Array.from(c.points), c.dims, c.eps, c.minSamples);
  let diff=0, cdiff=0;
  for (let i=0;i<c.labels.length;i++){ if (r.labels[i]!==c.labels[i]) diff++; if (r.isCore[i]!==c.core[i]) cdiff++; }
  console.log(c.name, 'label diffs', diff, 'core diffs', cdiff, r.clusterCount);
}
// scaling
import { Rng } from './main/util/rng.ts';
const rng = new Rng(1);
for (const n of [5000, 20000]) {
  const pts: number[][] = []; const flat = new Float64Array(n*3);
  for (let i=0;i<n;i++){ const k=rng.int(4); const p=[0.2+0.2*k+rng.normal(0,0.04), 0.5+rng.normal(0,0.04), 0.3+0.1*k+rng.normal(0,0.04)]; pts.push(p); flat.set(p,i*3);}  
  let t=Date.now(); const D = new (clustering as any).DBSCAN(); D.run(pts, 0.1, 25); const td=Date.now()-t;
  t=Date.now(); dbscan(flat,3,0.1,25); console.log(n,'density-clustering ms',td,'grid ms',Date.now()-t);
}
const n=250000; const flat=new Float64Array(n*3); for (let i=0;i<n;i++){const k=rng.int(4); flat.set([0.2+0.2*k+rng.normal(0,0.04), 0.5+rng.normal(0,0.04), 0.3+0.1*k+rng.normal(0,0.04)],i*3);}
let t=Date.now(); const r=dbscan(flat,3,0.1,25); console.log('grid 250k ms', Date.now()-t, r.clusterCount);
