import { describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { REPO_ROOT } from '../helpers/paths.ts';

describe("library entry (`import … from 'geoanomaly-workbench'`, as README documents it)", () => {
  it('resolves by package name under the tsx loader and runs deformConv2d', async () => {
    // With zero offsets and no mask, deformConv2d is a plain 3×3 convolution: an all-ones 3×3
    // kernel over an all-ones 3×3 image with padding 1 gives the neighbour counts 4 6 4 / 6 9 6 / 4 6 4.
    const script = [
      "import { deformConv2d, initBackend, readStack, readSampleTable } from 'geoanomaly-workbench';",
      "import * as tf from '@tensorflow/tfjs-core';",
      "await initBackend('wasm');",
      'const y = deformConv2d(tf.ones([1, 3, 3, 1]), tf.zeros([1, 3, 3, 18]), tf.ones([3, 3, 1, 1]), { padding: 1 });',
      'console.log(JSON.stringify({ shape: y.shape, values: Array.from(y.dataSync()), fns: [typeof readStack, typeof readSampleTable] }));',
    ].join('\n');
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: REPO_ROOT, encoding: 'utf8' });
    const r = JSON.parse(stdout.trim().split('\n').pop() as string);
    expect(r.shape).toEqual([1, 3, 3, 1]);
    expect(r.values).toEqual([4, 6, 4, 6, 9, 6, 4, 6, 4]); // exact: small integers in float32
    expect(r.fns).toEqual(['function', 'function']);
  });
});
