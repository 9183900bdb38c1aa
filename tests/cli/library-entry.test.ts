import { beforeAll, describe, expect, it } from 'vitest';
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';
import { REPO_ROOT, tempDir } from '../helpers/paths.ts';
import { ensureBuilt } from '../helpers/dist-build.ts';
import { gdalinfo } from '../helpers/gdal.ts';
import { tianshan } from '../helpers/shared-data.ts';

const run = promisify(execFile);
const POINTS = join(REPO_ROOT, 'tests/fixtures/vectors/points.geojson');
const TRACE_PRELOAD = join(REPO_ROOT, 'tests/helpers/module-trace.mjs');

/** Plain `node` (no --import, no loader) in the repository root, where `exports` self-reference resolves the package. */
async function plainNode(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ stdout: string; stderr: string }> {
  // Any NODE_OPTIONS vitest or a parent set (a loader, say) would defeat the point of "no loader".
  return run(process.execPath, args, { cwd: REPO_ROOT, encoding: 'utf8', timeout: 120_000, env: { ...process.env, NODE_OPTIONS: '', ...env } });
}

/** Runs `geoanomaly ARGS` (main/cli/bin.mjs) and returns stdout plus every module URL the process loaded. */
function cliWithTrace(args: string[]): Promise<{ stdout: string; modules: string[] }> {
  return nodeWithTrace([join(REPO_ROOT, 'main/cli/bin.mjs'), ...args]);
}

/** `node --import module-trace.mjs ARGS…` (ARGS start with the script): stdout and the loaded module URLs. */
async function nodeWithTrace(args: string[]): Promise<{ stdout: string; modules: string[] }> {
  const dir = tempDir('ga-trace-');
  try {
    const trace = join(dir, 'modules.txt');
    const { stdout } = await plainNode(['--import', TRACE_PRELOAD, ...args], { GA_MODULE_TRACE: trace });
    return { stdout, modules: readFileSync(trace, 'utf8').split('\n').filter(Boolean) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Whether a module whose URL ends with `suffix` was loaded. */
const modulesFrom = (modules: string[], suffix: string): boolean => modules.some((u) => u.endsWith(suffix));

/** The loaded modules that belong to `pkg` (a path segment under node_modules). */
const fromPackage = (modules: string[], pkg: string): string[] => modules.filter((u) => u.includes(`/node_modules/${pkg}/`));

beforeAll(async () => {
  await ensureBuilt();
}, 200_000);

describe("library entry (`import … from 'geoanomaly-workbench'`, as README documents it)", () => {
  it('resolves by package name under plain node (exports → dist JS) and runs deformConv2d', async () => {
    // With zero offsets and no mask, deformConv2d is a plain 3×3 convolution: an all-ones 3×3
    // kernel over an all-ones 3×3 image with padding 1 gives the neighbour counts 4 6 4 / 6 9 6 / 4 6 4.
    const script = [
      "import { deformConv2d, initBackend, readStack, readSampleTable } from 'geoanomaly-workbench';",
      "import * as tf from '@tensorflow/tfjs-core';",
      "const resolved = import.meta.resolve('geoanomaly-workbench');",
      "await initBackend('wasm');",
      'const y = deformConv2d(tf.ones([1, 3, 3, 1]), tf.zeros([1, 3, 3, 18]), tf.ones([3, 3, 1, 1]), { padding: 1 });',
      'console.log(JSON.stringify({ resolved, shape: y.shape, values: Array.from(y.dataSync()), fns: [typeof readStack, typeof readSampleTable] }));',
    ].join('\n');
    const { stdout } = await plainNode(['--input-type=module', '-e', script]);
    const r = JSON.parse(stdout.trim().split('\n').pop() as string);
    expect(relative(REPO_ROOT, new URL(r.resolved).pathname)).toBe('dist/main/index.js');
    expect(r.shape).toEqual([1, 3, 3, 1]);
    expect(r.values).toEqual([4, 6, 4, 6, 9, 6, 4, 6, 4]); // exact: small integers in float32
    expect(r.fns).toEqual(['function', 'function']);
  });

  it('`node -e "import(\'geoanomaly-workbench\')"` (CommonJS eval, dynamic import) works with no loader', async () => {
    const { stdout } = await plainNode(['-e', "import('geoanomaly-workbench').then((m) => console.log(typeof m.readStack, typeof m.krigeGrid))"]);
    expect(stdout.trim()).toBe('function function');
  });

  it("ships .d.ts types where package.json's `types` and `exports` point", () => {
    const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { types: string; exports: { '.': { types: string; default: string } } };
    expect(pkg.exports['.'].default).toBe('./dist/main/index.js');
    for (const p of [pkg.types, pkg.exports['.'].types, pkg.exports['.'].default]) expect(existsSync(join(REPO_ROOT, p)), p).toBe(true);
  });

  it('a TypeScript consumer (moduleResolution nodenext) gets real types from the .d.ts files', async () => {
    // Inside the package folder (.tmp/ is git-ignored) so that 'geoanomaly-workbench' resolves by self-reference.
    const dir = join(REPO_ROOT, '.tmp', `consumer-${process.pid}`);
    mkdirSync(dir, { recursive: true });
    try {
      writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({
        compilerOptions: { module: 'nodenext', moduleResolution: 'nodenext', strict: true, noEmit: true, skipLibCheck: true, types: ['node'], typeRoots: [join(REPO_ROOT, 'node_modules/@types')] },
        files: ['ok.mts', 'bad.mts'],
      }));
      writeFileSync(join(dir, 'ok.mts'), "import { deformConv2d, readStack, type GridSpec } from 'geoanomaly-workbench';\nexport const f: typeof deformConv2d = deformConv2d;\nexport const g: (path: string) => Promise<unknown> = readStack;\nexport const s: GridSpec | null = null;\n");
      // Were the types missing or `any`, this assignment would pass: it must be the one error.
      writeFileSync(join(dir, 'bad.mts'), "import { readStack } from 'geoanomaly-workbench';\nexport const n: number = readStack;\n");
      const tsc = join(REPO_ROOT, 'node_modules/typescript/bin/tsc');
      const r = await run(process.execPath, [tsc, '-p', join(dir, 'tsconfig.json')], { cwd: dir, encoding: 'utf8', timeout: 180_000 }).then(() => ({ stdout: '' }), (e: { stdout: string }) => e);
      const errors = r.stdout.split('\n').filter((l) => /error TS\d+/.test(l));
      expect(errors).toHaveLength(1);
      expect(errors[0]).toMatch(/^bad\.mts\(2,14\): error TS2322: Type '\(path: string\) => Promise<RasterStack>' is not assignable to type 'number'/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 200_000);

  it("the README's library example runs under plain node and prints what its comment says", async () => {
    const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('\n## Library'));
    const block = /```js\n([\s\S]*?)```/.exec(section);
    expect(block, 'README has a ```js block under "## Library"').not.toBeNull();
    const code = (block as RegExpExecArray)[1];
    expect(code).toContain("from 'geoanomaly-workbench'");
    const { stdout } = await plainNode(['--input-type=module', '-e', code]);
    const printed = stdout.trim();
    const promised = /console\.log\(.*\); \/\/ (.*)$/m.exec(code); // the example's "// expected output" comment
    expect(promised).not.toBeNull();
    expect(printed).toBe((promised as RegExpExecArray)[1]);
    // The comment itself must be right, not merely self-consistent: neighbour counts of a 3×3 all-ones convolution.
    expect(JSON.parse(printed)).toEqual({ shape: [1, 3, 3, 1], values: [4, 6, 4, 6, 9, 6, 4, 6, 4] }); // exact integers
  });
});

describe('geoanomaly CLI from dist/ (no tsx)', () => {
  it('`--help` lists every command and loads neither tsx, TensorFlow.js nor ONNX Runtime', async () => {
    const { stdout, modules } = await cliWithTrace(['--help']);
    for (const name of ['info', 'krige', 'faults', 'sites', 'train', 'predict', 'explain', 'xrf', 'layout', 'report', 'serve']) {
      expect(stdout).toMatch(new RegExp(`^  ${name} `, 'm'));
    }
    expect(modules.some((u) => u.endsWith('/dist/main/cli/main.js'))).toBe(true);
    expect(fromPackage(modules, 'tsx')).toEqual([]);
    expect(fromPackage(modules, '@tensorflow')).toEqual([]);
    expect(fromPackage(modules, 'onnxruntime-node')).toEqual([]);
    // --help needs the command list only, not a single command module.
    expect(modules.filter((u) => u.includes('/dist/main/cli/commands/') && !u.endsWith('/index.js'))).toEqual([]);
  });

  it('`--version` reads package.json from the package root (main/util/package-root.ts resolves it from dist/ too)', async () => {
    const { stdout, modules } = await cliWithTrace(['--version']);
    const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string };
    expect(stdout.trim()).toBe(pkg.version);
    expect(modules.some((u) => u.endsWith('/dist/main/util/package-root.js'))).toBe(true);
  });

  it("the app's renderer folder resolves from dist/ to the package's renderer/ (non-TS assets)", async () => {
    const script = "const m = await import('./dist/main/api/renderer-build.js'); console.log(JSON.stringify([m.RENDERER_ROOT, m.RENDERER_DIST]));";
    const { stdout } = await plainNode(['--input-type=module', '-e', script]);
    const [root, dist] = JSON.parse(stdout.trim()) as [string, string];
    expect(relative(REPO_ROOT, root)).toBe('renderer');
    expect(relative(REPO_ROOT, dist)).toBe(join('renderer', 'dist'));
    expect(existsSync(join(root, 'vite.config.ts'))).toBe(true);
  });

  it('with GEOANOMALY_DEBUG a failing command prints a stack that names the .ts sources (dist source maps)', async () => {
    const r = await plainNode([join(REPO_ROOT, 'main/cli/bin.mjs'), 'info', join(REPO_ROOT, 'no-such-file.tif')], { GEOANOMALY_DEBUG: '1' }).then(
      () => ({ code: 0, stderr: '' }),
      (e: { code: number; stderr: string }) => e,
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('InvalidFileError');
    expect(r.stderr).toMatch(/main\/cli\/commands\/info\.ts:\d+:\d+/);
  });

  it('`info` on a vector layer reports the feature count ogrinfo reports, without TF.js or ONNX Runtime', async () => {
    const { stdout, modules } = await cliWithTrace(['info', POINTS]);
    const ogr = execFileSync('ogrinfo', ['-so', '-al', POINTS], { encoding: 'utf8' });
    const ogrCount = Number(/Feature Count: (\d+)/.exec(ogr)?.[1]); // reference: GDAL/OGR ogrinfo
    expect(ogrCount).toBeGreaterThan(0);
    expect(stdout).toMatch(new RegExp(`features:\\s+${ogrCount} `));
    expect(stdout).toContain('EPSG:32645');
    expect(modules.some((u) => u.endsWith('/dist/main/cli/commands/info.js'))).toBe(true);
    expect(fromPackage(modules, 'tsx')).toEqual([]);
    expect(fromPackage(modules, 'exceljs')).toEqual([]); // ~150 modules, loaded for .xlsx tables only
    expect(fromPackage(modules, '@tensorflow')).toEqual([]);
    expect(fromPackage(modules, 'onnxruntime-node')).toEqual([]);
  });

  it('`info` on a GeoTIFF reports the size gdalinfo reports', async () => {
    const tif = tianshan('geology_weights.tif');
    const { stdout, modules } = await cliWithTrace(['info', tif]);
    const [cols, rows] = gdalinfo(tif).size; // reference: GDAL gdalinfo -json
    expect(stdout).toContain(`${cols} cols × ${rows} rows`);
    expect(fromPackage(modules, '@tensorflow')).toEqual([]);
    expect(fromPackage(modules, 'onnxruntime-node')).toEqual([]);
  });
});

describe('worker threads start from dist/ JavaScript', () => {
  /** Every `moduleUrl('./x.ts', import.meta.url)` in main/: source file, its dist twin. */
  function workerEntries(): { source: string; target: string }[] {
    const found: { source: string; target: string }[] = [];
    const walk = (dir: string): void => {
      for (const e of readdirSync(dir, { withFileTypes: true })) {
        const p = join(dir, e.name);
        if (e.isDirectory()) walk(p);
        else if (e.name.endsWith('.ts')) {
          const text = readFileSync(p, 'utf8');
          if (p.endsWith('module-url.ts')) continue; // its doc comment shows the call
          for (const m of text.matchAll(/moduleUrl\('(\.[^']+\.ts)', import\.meta\.url\)/g)) found.push({ source: p, target: m[1] });
        }
      }
    };
    walk(join(REPO_ROOT, 'main'));
    return found;
  }

  it('each worker / replica module named through moduleUrl() exists in dist/ as .js', () => {
    const entries = workerEntries();
    const names = entries.map((e) => e.target).sort();
    // The worker entries of issue 16: kriging, prediction, cross-validation, data-parallel replicas, command jobs.
    for (const w of ['./kriging-worker.ts', './predict-worker.ts', './cv-worker.ts', './data-parallel-worker.ts', './command-worker.ts']) expect(names).toContain(w);
    for (const { source, target } of entries) {
      const dir = join(source, '..');
      expect(existsSync(join(dir, target)), `${relative(REPO_ROOT, source)} names ${target}`).toBe(true);
      const compiled = join(REPO_ROOT, 'dist', relative(REPO_ROOT, dir), target.replace(/\.ts$/, '.js'));
      expect(existsSync(compiled), `${relative(REPO_ROOT, compiled)} (worker of ${relative(REPO_ROOT, source)})`).toBe(true);
    }
  });

  it('no module locates a sibling .ts file with a bare new URL() (it would not exist in dist/)', () => {
    const offenders: string[] = [];
    const walk = (dir: string): void => {
      for (const e of readdirSync(dir, { withFileTypes: true })) {
        const p = join(dir, e.name);
        if (e.isDirectory()) walk(p);
        else if (e.name.endsWith('.ts') && /new URL\(\s*'[^']+\.ts'\s*,\s*import\.meta\.url/.test(readFileSync(p, 'utf8'))) offenders.push(relative(REPO_ROOT, p));
      }
    };
    walk(join(REPO_ROOT, 'main'));
    expect(offenders, 'use moduleUrl() from main/util/module-url.ts').toEqual([]);
  });

  it("the app's command job (command-worker) runs `info` in a worker from dist/ under plain node", async () => {
    const script = [
      "const { runCommandInWorker } = await import('./dist/main/api/command-job.js');",
      `const r = await runCommandInWorker('info', [${JSON.stringify(POINTS)}], {});`,
      'console.log(JSON.stringify(r));',
    ].join('\n');
    const { stdout } = await plainNode(['--input-type=module', '-e', script]);
    const r = JSON.parse(stdout.trim().split('\n').pop() as string) as { exitCode: number; lines: string[] };
    expect(r.exitCode).toBe(0);
    const direct = await cliWithTrace(['info', POINTS]);
    expect(r.lines.join('\n')).toBe(direct.stdout.trimEnd());
  });

  it('MSFA-Net on 2 data-parallel replicas (data-parallel-worker + replica module) from dist/ writes the same bytes as from the sources', async () => {
    const dir = tempDir('ga-dist-msfa-');
    try {
      const cube = join(REPO_ROOT, 'tests/fixtures/xrf/formats/cube.h5');
      const xrf = (out: string): string[] => [join(REPO_ROOT, 'main/cli/bin.mjs'), 'xrf', '--cube', cube, '--method', 'msfa', '--epochs', '2', '--threads', '2', '--seed', '1', '--out', join(dir, out)];
      const compiled = await nodeWithTrace(xrf('dist'));
      expect(modulesFrom(compiled.modules, '/dist/main/models/data-parallel.js')).toBe(true);
      expect(fromPackage(compiled.modules, 'tsx')).toEqual([]);
      await plainNode(xrf('source'), { GEOANOMALY_FROM_SOURCE: '1' });
      const metrics = JSON.parse(readFileSync(join(dir, 'dist', 'metrics.json'), 'utf8')) as { msfa: { backend: string; finalLoss: number } };
      expect(metrics.msfa.backend).toMatch(/× 2 data-parallel replicas$/); // the replicas really ran on worker threads
      const a = readFileSync(join(dir, 'dist', 'msfa-score.tif'));
      expect(a.equals(readFileSync(join(dir, 'source', 'msfa-score.tif')))).toBe(true); // exact: same seed, same code
      expect(gdalinfo(join(dir, 'dist', 'msfa-score.tif')).size).toEqual([5, 6]); // reference: GDAL reads the 6×5 score map
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('kriging on 2 worker threads from dist/ writes the same bytes as from the TypeScript sources', async () => {
    const dir = tempDir('ga-dist-krige-');
    try {
      const bin = join(REPO_ROOT, 'main/cli/bin.mjs');
      await plainNode([bin, 'demo-data', '--out', dir, '--samples', '200', '--seed', '3']);
      const krige = (out: string): string[] => [bin, 'krige', '--samples', join(dir, 'samples.csv'), '--x', 'x', '--y', 'y', '--crs', 'EPSG:32645', '--fields', 'Cu,Zn', '--cell', '4000', '--threads', '2', '--out', join(dir, out)];
      const compiled = await nodeWithTrace(krige('dist.tif'));
      expect(compiled.modules.some((u) => u.endsWith('/dist/main/kriging/krige-grid.js'))).toBe(true);
      expect(fromPackage(compiled.modules, 'tsx')).toEqual([]);
      // runTasks bundles the worker module with esbuild only when it really starts worker threads.
      expect(fromPackage(compiled.modules, 'esbuild').length).toBeGreaterThan(0);
      await plainNode(krige('source.tif'), { GEOANOMALY_FROM_SOURCE: '1' });
      const a = readFileSync(join(dir, 'dist.tif'));
      const b = readFileSync(join(dir, 'source.tif'));
      expect(a.length).toBeGreaterThan(0);
      expect(a.equals(b)).toBe(true); // exact: the same kriging code, compiled by tsc vs transpiled by tsx/esbuild
      expect(gdalinfo(join(dir, 'dist.tif')).bands.length).toBe(2); // reference: GDAL reads what the workers wrote
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
