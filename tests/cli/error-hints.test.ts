import { afterAll, describe, expect, it } from 'vitest';
import { readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { COMMANDS } from '../../main/commands/registry.ts';
import type { Command } from '../../main/commands/command.ts';
import { serveCommand } from '../../main/cli/commands/serve.ts';
import { main } from '../../main/cli/main.ts';
import { crsFromEpsg } from '../../main/grid/crs.ts';
import { writeGeoTiff } from '../../main/io/geotiff-write.ts';
import { buildSites } from '../../main/sites/build-sites.ts';
import { sitesToGeoJson } from '../../main/sites/sites-geojson.ts';
import { REPO_ROOT, tempDir } from '../helpers/paths.ts';

/**
 * Issue 19: every error hint must name a flag that exists (the sites-without-CRS hint told the
 * user to pass --crs to `train`, which had no such option). Hints are checked three ways:
 * statically over the sources, per command where a message names its command, and by running
 * commands into their errors and checking (and following) the flags the error names.
 */
const commands: Command[] = [...(await Promise.all(COMMANDS.map((e) => e.load()))), serveCommand];
const byName = new Map(commands.map((c) => [c.name, c]));
const flagsOf = (c: Command): Set<string> => new Set([...Object.keys(c.options), 'help']);
const anyFlag = new Set(commands.flatMap((c) => [...flagsOf(c)]));
/** Not command flags: the top-level `--version`, Node's own `--import`. */
const NOT_COMMAND_FLAGS = new Set(['version', 'import']);
const FLAG = /(?<![\w-])--([a-z][a-z0-9-]*)(?![\w.(])/g;

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? sources(p) : p.endsWith('.ts') ? [p] : [];
  });
}

/** String and template literals of a line (crude, one line at a time: messages are one line each here). */
function literals(line: string): string[] {
  return [...line.matchAll(/'((?:[^'\\]|\\.)*)'|"((?:[^"\\]|\\.)*)"|`((?:[^`\\]|\\.)*)`/g)].map((m) => m[1] ?? m[2] ?? m[3] ?? '');
}

const dir = tempDir('error-hints-');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function run(args: string[]): Promise<{ code: number; stderr: string }> {
  const chunks: string[] = [];
  const write = process.stderr.write.bind(process.stderr);
  const out = process.stdout.write.bind(process.stdout);
  process.stderr.write = ((c: string | Uint8Array) => (chunks.push(String(c)), true)) as typeof process.stderr.write;
  process.stdout.write = (() => true) as typeof process.stdout.write;
  try {
    return { code: await main(args), stderr: chunks.join('') };
  } finally {
    process.stderr.write = write;
    process.stdout.write = out;
  }
}

function flagsIn(text: string): string[] {
  return [...text.matchAll(FLAG)].map((m) => m[1]);
}

describe('error hints name flags that exist', () => {
  it('every --flag in a string of main/ is an option of some command', () => {
    const unknown: string[] = [];
    for (const file of sources(join(REPO_ROOT, 'main'))) {
      readFileSync(file, 'utf8').split('\n').forEach((line, i) => {
        for (const lit of literals(line)) for (const f of flagsIn(lit)) if (!anyFlag.has(f) && !NOT_COMMAND_FLAGS.has(f)) unknown.push(`${relative(REPO_ROOT, file)}:${i + 1} --${f}`);
      });
    }
    expect(unknown).toEqual([]);
  });

  it('a message that names its command ("geoanomaly CMD …") names only that command\'s flags', () => {
    const wrong: string[] = [];
    for (const file of sources(join(REPO_ROOT, 'main'))) {
      readFileSync(file, 'utf8').split('\n').forEach((line, i) => {
        for (const lit of literals(line)) {
          // Each "geoanomaly CMD" starts a span that runs to the next one.
          const parts = lit.split(/(?=geoanomaly [a-z-]+)/);
          for (const part of parts) {
            const m = /^geoanomaly ([a-z-]+)/.exec(part);
            const cmd = m ? byName.get(m[1]) : undefined;
            if (!cmd) continue;
            for (const f of flagsIn(part)) if (!flagsOf(cmd).has(f)) wrong.push(`${relative(REPO_ROOT, file)}:${i + 1} geoanomaly ${cmd.name} --${f}`);
          }
        }
      });
    }
    expect(wrong).toEqual([]);
  });

  it('each command run without its required options names only its own flags', async () => {
    for (const cmd of commands) {
      if (cmd.name === 'serve' || cmd.name === 'demo' || cmd.name === 'demo-data') continue; // these start work with defaults
      const r = await run([cmd.name]);
      expect(r.code, `${cmd.name}: ${r.stderr}`).not.toBe(0);
      for (const f of flagsIn(r.stderr)) expect(flagsOf(cmd).has(f), `${cmd.name}: ${r.stderr}`).toBe(true);
    }
  }, 120_000);

  // The hint of the issue: sites GeoJSON without a CRS member given to `train`. Its flags must be
  // train's, and the command the hint suggests must get past the error. `train --crs` is added by
  // the CRS work of issue 19 (another branch); until then this case reproduces the bug (the hint
  // names --crs, train has none) and is skipped, so it runs from the merge on.
  it.runIf(byName.get('train')?.options.crs !== undefined)('train with sites that declare no CRS: the hint names train flags, and following it works', async () => {
    const grid = { originX: 500_000, originY: 4_600_000, cellSizeX: 1000, cellSizeY: 1000, rows: 20, cols: 20, crs: crsFromEpsg(32645) };
    const at = (r: number, c: number): number => r * grid.cols + c;
    const n = grid.rows * grid.cols;
    writeGeoTiff(join(dir, 'stack.tif'), { grid, bandNames: ['Au', 'Cu'], bands: [0, 1].map((b) => Float32Array.from({ length: n }, (_, i) => 1 + ((i * (b + 3)) % 7))) });
    const fc = sitesToGeoJson(buildSites(grid, { depositCells: [at(4, 4), at(15, 15)], negatives: { kind: 'user', cells: [at(4, 15), at(15, 4)] } }).set);
    delete fc.crs;
    writeFileSync(join(dir, 'sites.geojson'), JSON.stringify(fc));
    const args = ['train', '--stack', join(dir, 'stack.tif'), '--sites', join(dir, 'sites.geojson'), '--model', 'cnn', '--epochs', '1', '--folds', '2', '--repeats', '1', '--patch-size', '3', '--threads', '1', '--out', join(dir, 'run')];
    const r = await run(args);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/CRS/);
    const named = flagsIn(r.stderr);
    expect(named.length, r.stderr).toBeGreaterThan(0);
    for (const f of named) expect(byName.get('train')?.options[f], `train --${f} (hint: ${r.stderr})`).toBeDefined();
    // Follow the hint: the flag it names, with the grid's EPSG code.
    const flag = named[0];
    const followed = await run([...args, `--${flag}`, 'EPSG:32645']);
    expect(followed.stderr).not.toMatch(/declares no CRS/);
    expect(followed.code, followed.stderr).toBe(0);
  }, 300_000);
});
