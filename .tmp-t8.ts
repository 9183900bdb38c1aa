import { initBackend, getTf } from './main/models/backend.ts';
await initBackend('wasm');
const tf = getTf();
const T = (name: string, f: () => any) => { f().dataSync(); const c0 = process.cpuUsage(); const r = f(); r.dataSync(); const c = process.cpuUsage(c0); console.log(name, 'cpu', ((c.user+c.system)/1000).toFixed(1)); };
const x = tf.randomUniform([36000, 100]); const xt = tf.transpose(x); const dy = tf.randomUniform([36000, 128]); const w = tf.randomUniform([100,128]); const dyt = tf.transpose(dy);
T('x·w [36000x100]·[100x128]', () => tf.matMul(x as any, w as any));
T('xT·dy [100x36000]·[36000x128]', () => tf.matMul(xt as any, dy as any));
T('dyT·x [128x36000]·[36000x100] then T', () => tf.transpose(tf.matMul(dyt as any, x as any)));
T('dy·wT [36000x128]·[128x100]', () => tf.matMul(dy as any, tf.transpose(w) as any));
// reduce-based alternative for xT·dy: chunked
T('xT·dy chunked 9x4000', () => { let acc: any = null; for (let s=0;s<36000;s+=4000){ const a = tf.slice(xt as any,[0,s],[100,4000]); const b = tf.slice(dy as any,[s,0],[4000,128]); const p = tf.matMul(a as any,b as any); acc = acc? tf.add(acc,p):p;} return acc; });
