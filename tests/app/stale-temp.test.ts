import { afterAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../../main/util/atomic-write.ts';
import { parseTempName, processAlive, removeStaleTemps, STALE_TEMP_AGE_MS, tempPathFor } from '../../main/util/stale-temp.ts';
import { GeoTiffWriter } from '../../main/io/geotiff-write.ts';
import { crsFromEpsg } from '../../main/grid/crs.ts';
import { emptyProject, loadProject, saveProject } from '../../main/project/project-file.ts';
import { tempDir } from '../helpers/paths.ts';

const dir = tempDir('stale-temp-');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The PID of a process that has exited (a finished child): no longer alive. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  const pid = Number(r.stdout);
  expect(processAlive(pid)).toBe(false);
  return pid;
}

function fakeTemp(folder: string, target: string, pid: number, startedMs = Date.now()): string {
  const p = join(folder, `.${target}.${pid}.${startedMs.toString(36)}.tmp`);
  writeFileSync(p, 'partial');
  return p;
}

describe('stale temporary files of killed writes (issue 19)', () => {
  it('parses exactly our pattern and nothing else', () => {
    const t = tempPathFor(join(dir, 'stack.tif'), 1_700_000_000_000);
    expect(parseTempName(t.slice(dir.length + 1))).toEqual({ target: 'stack.tif', pid: process.pid, startedMs: 1_700_000_000_000 });
    expect(parseTempName('.stack.tif.tmp')).toBeUndefined();
    expect(parseTempName('stack.123.abc.tmp')).toBeUndefined(); // no leading dot: not ours
    expect(parseTempName('.stack.tif.123.ABC.tmp')).toBeUndefined(); // base36 of Date.now() is lower case
  });

  it('the next atomic write of a path removes its stale temp (dead PID) and keeps live and foreign ones', () => {
    const folder = join(dir, 'write');
    mkdirSync(folder);
    const stale = fakeTemp(folder, 'a.json', deadPid());
    const otherTarget = fakeTemp(folder, 'b.json', deadPid());
    const live = fakeTemp(folder, 'a.json', process.ppid); // the test runner's parent: alive
    writeFileSync(join(folder, '.a.json.notes.tmp'), 'user file'); // not our pattern
    writeFileAtomic(join(folder, 'a.json'), '{}');
    expect(existsSync(stale)).toBe(false);
    expect(existsSync(live)).toBe(true);
    expect(existsSync(otherTarget)).toBe(true); // only temps of the path written
    expect(existsSync(join(folder, '.a.json.notes.tmp'))).toBe(true);
  });

  it('a temp of a live PID older than STALE_TEMP_AGE_MS is removed (PID reused)', () => {
    const folder = join(dir, 'old');
    mkdirSync(folder);
    const old = fakeTemp(folder, 'x.tif', process.ppid, Date.now() - STALE_TEMP_AGE_MS - 60_000);
    expect(removeStaleTemps(folder, 'x.tif')).toEqual([old]);
  });

  it('GeoTiffWriter removes the stale temp of its path when it starts', () => {
    const folder = join(dir, 'tiff');
    mkdirSync(folder);
    const stale = fakeTemp(folder, 'p.tif', deadPid());
    const w = new GeoTiffWriter(join(folder, 'p.tif'), { originX: 0, originY: 10, cellSizeX: 1, cellSizeY: 1, rows: 2, cols: 2, crs: crsFromEpsg(32645) }, ['a']);
    expect(existsSync(stale)).toBe(false);
    w.writeRows(0, 0, new Float32Array(4));
    w.close();
    expect(readdirSync(folder).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('opening a project sweeps its folder of stale temps (any target), keeping the project', () => {
    const folder = join(dir, 'project');
    mkdirSync(folder);
    const path = saveProject(join(folder, 'p.gaproj'), emptyProject('P'));
    const stale = [fakeTemp(folder, 'p.gaproj', deadPid()), fakeTemp(folder, 'p.autosave.gaproj', deadPid()), fakeTemp(folder, 'export.tif', deadPid())];
    const opened = loadProject(path);
    expect(opened.document.name).toBe('P');
    for (const s of stale) expect(existsSync(s), s).toBe(false);
  });
});
