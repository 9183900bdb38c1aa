import { initBackend, getTf } from './main/models/backend.ts';
await initBackend('wasm');
const tf = getTf();
const mm = tf.customGrad((a: any, b: any, save: any) => { save([a, b]); return { value: tf.matMul(a, b), gradFunc: (dy: any, saved: any) => [tf.matMul(dy, tf.transpose(saved[1])), tf.matMul(tf.transpose(saved[0]), dy)] }; }) as any;
const x = tf.randomUniform([36000, 100]) as any;
const w = tf.variable(tf.randomUniform([100, 128])) as any;
const w2 = tf.variable(tf.randomUniform([128, 100])) as any;
const T = (name: string, f: () => any) => { const c0 = process.cpuUsage(); const t = performance.now(); const r = f(); (Array.isArray(r) ? r : [r]).forEach((q: any) => q.dataSync()); const c = process.cpuUsage(c0); console.log(name, 'wall', (performance.now()-t).toFixed(1), 'cpu', ((c.user+c.system)/1000).toFixed(1)); };
const opt = tf.train.adam(0.001);
for (let k=0;k<3;k++){
T('step custom', () => opt.minimize(() => tf.mean(tf.squaredDifference(mm(tf.leakyRelu(mm(x, w), 0.2), w2), x)), true, [w, w2]));
T('step builtin', () => opt.minimize(() => tf.mean(tf.squaredDifference(tf.matMul(tf.leakyRelu(tf.matMul(x, w), 0.2), w2), x)), true, [w, w2]));
T('matMul', () => tf.matMul(x, w));
T('matMul tA', () => tf.matMul(x, x, true, false));
}
