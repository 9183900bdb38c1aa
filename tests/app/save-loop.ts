/**
 * Child process of kill-during-save.test.ts: `save-loop.ts PATH K PHASE` saves version K of a
 * project to PATH (through the real saveProject → writeFileAtomic) and stops dead at PHASE of
 * that write, after printing a marker, so the parent's SIGKILL lands at a known point:
 *
 *   open    the temp file is created, nothing written
 *   write   half of the bytes written to the temp
 *   fsync   the temp is complete and fsynced, not yet renamed
 *   rename  renamed over PATH, the directory not yet fsynced
 *
 * It intercepts node:fs (syncBuiltinESMExports makes the ES-module bindings see the patch), so
 * the code under test is unchanged. Version k is self-consistent (k % 40 + 1 layers, every layer
 * naming k), so a reader can tell a torn file from a whole one. PHASE "none" saves and exits.
 */
import fs from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import type { LayerSpec } from '../../main/api/contract.ts';

export const PHASES = ['open', 'write', 'fsync', 'rename'] as const;
export type Phase = (typeof PHASES)[number];

const [path, kText, phase] = process.argv.slice(2);
const k = Number(kText);
const orig = { openSync: fs.openSync, writeSync: fs.writeSync, fsyncSync: fs.fsyncSync, renameSync: fs.renameSync };

/** Prints the marker, then blocks this thread for good: only the parent's SIGKILL ends it. */
function stop(at: string): never {
  orig.writeSync(1, `paused ${at}\n`);
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
  throw new Error('unreachable');
}

let tempFd = -1;
fs.openSync = ((p: fs.PathLike, flags?: fs.OpenMode, mode?: fs.Mode) => {
  const fd = orig.openSync(p, flags ?? 'r', mode);
  if (String(p).endsWith('.tmp') && flags === 'w') {
    tempFd = fd;
    if (phase === 'open') stop('open');
  }
  return fd;
}) as typeof fs.openSync;
fs.writeSync = ((fd: number, buffer: Uint8Array, offset?: number, length?: number) => {
  if (fd === tempFd && phase === 'write') {
    const off = offset ?? 0;
    const len = length ?? buffer.length - off;
    orig.writeSync(fd, buffer, off, Math.floor(len / 2));
    stop('write');
  }
  return orig.writeSync(fd, buffer, offset, length);
}) as typeof fs.writeSync;
fs.fsyncSync = ((fd: number) => {
  orig.fsyncSync(fd);
  if (fd === tempFd && phase === 'fsync') stop('fsync');
}) as typeof fs.fsyncSync;
fs.renameSync = ((from: fs.PathLike, to: fs.PathLike) => {
  orig.renameSync(from, to);
  if (String(from).endsWith('.tmp') && phase === 'rename') stop('rename');
}) as typeof fs.renameSync;
syncBuiltinESMExports();

// Imported after the patch so nothing binds the originals first.
const { saveProject, emptyProject } = await import('../../main/project/project-file.ts');
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
if (phase !== 'none') throw new Error(`save of version ${k} finished without reaching phase "${phase}"`);
