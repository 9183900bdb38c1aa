/**
 * Child process of kill-during-save.test.ts: saves versions v1, v2, … of a project to one path
 * as fast as it can, until it is killed. Each version k is self-consistent (k % 40 + 1 layers,
 * every layer naming k), so a reader can tell a torn file from a whole one.
 */
import { saveProject, emptyProject } from '../../main/project/project-file.ts';
import type { LayerSpec } from '../../main/api/contract.ts';

const [path] = process.argv.slice(2);
for (let k = 1; ; k++) {
  const layers: LayerSpec[] = Array.from({ length: (k % 40) + 1 }, (_, i) => ({
    kind: 'vector',
    id: `v${k}-layer-${i}`,
    name: `layer ${i} of version ${k} ${'x'.repeat(2000)}`,
    source: `/data/v${k}/layer-${i}.geojson`,
    visible: i % 2 === 0,
    opacity: 1,
    role: 'other',
    style: { stroke: '#000', fill: '#fff', pointRadiusPx: 3, strokeWidthPx: 1 },
  }));
  saveProject(path, { ...emptyProject(`v${k}`), layers });
  if (k === 1) process.stdout.write('ready\n');
}
