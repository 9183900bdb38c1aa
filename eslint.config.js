import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import { readdirSync } from 'node:fs';
import { posix } from 'node:path';
import { URL } from 'node:url';

/**
 * Layers of the compute core (main/), lowest first: a module may import its own folder and the
 * folders of lower layers, never a folder of the same or a higher layer (issue 17's
 * `util → grid → io → … → cli/api → renderer/electron`). Folders are relative to main/; a
 * sub-folder not listed (models/kernels, cli/commands, …) belongs to its parent's layer.
 * The order is the one today's imports follow; ARCHITECTURE.md draws it.
 */
export const LAYERS = [
  ['errors.ts'],
  ['util', 'jobs', 'types'],
  ['onnx'], // onnx/: ONNX protobuf, graph builder, runtime loader, engine choice (used by models/, maps/, xrf/)
  ['grid'],
  ['io', 'figures'],
  ['demo', 'eval', 'kriging'],
  ['faults'],
  ['sites'],
  ['nn'], // nn/: one module per layer kind (its tfjs layer class, ONNX inference export, ONNX training step) and the chain walkers; below models/ (which builds and trains networks of its layers)
  ['models'],
  ['maps'],
  ['xrf', 'export'],
  ['queue'], // queue/: the job queue (imports kriging, maps, models, xrf: the units' local code; cli/commands/worker.ts above it)
  ['project'],
  // workflows/: one typed function per user-level task (krige a table, train a run, predict a map…),
  // with its option table; the CLI's commands and the app's compute jobs are thin mappings onto them.
  ['workflows'],
  ['index.ts'], // the library entry: everything above is the app's and the CLI's
  // The front doors. The registry (commands/) names the CLI's command modules and loads them
  // lazily (a known exception below); the app's API runs them as jobs through it; the CLI adds
  // `serve`, which starts the API's browser host. tests/cli/import-boundaries.test.ts checks the
  // finer rules, including what each loads transitively.
  ['commands'],
  ['api'],
  ['cli'],
];

/**
 * Upward imports that exist today, allowed file by file so the rule passes while any new one
 * fails. Except the first, each is a module in the wrong folder (issue 17 §3 re-homes them):
 * remove the entry when the module moves. Keys and values are paths relative to main/.
 */
export const KNOWN_UPWARD_IMPORTS = {
  // By design, not a misplaced module: the registry's import() of each command module ('/*' = the whole folder).
  'commands/registry.ts': ['cli/commands/*'],
};

const MAIN = new URL('./main/', import.meta.url);
const ROOT_FILES = ['errors.ts', 'index.ts'];
const escapeRegex = (t) => t.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Folders under main/, relative ('' = main/ itself), read from disk so that a new one cannot slip past. */
function mainFolders(rel = '') {
  const out = [rel];
  for (const e of readdirSync(new URL(rel ? `${rel}/` : '.', MAIN), { withFileTypes: true })) {
    if (e.isDirectory()) out.push(...mainFolders(rel ? `${rel}/${e.name}` : e.name));
  }
  return out;
}

/** Layer of a folder or root file relative to main/: its own entry in LAYERS, else its parent's; -1 if none. */
function layerOf(rel) {
  for (let p = rel; p; p = p.includes('/') ? p.slice(0, p.lastIndexOf('/')) : '') {
    const i = LAYERS.findIndex((names) => names.includes(p));
    if (i >= 0) return i;
  }
  return -1;
}

/**
 * The restricted specifiers for the files of folder `dir` (relative to main/, '' for the root
 * files): regexes over the import specifier, which is relative, so each is built from the
 * folder's own depth. `allow` lists targets (relative to main/) exempt for this file.
 */
function restrictedSpecifiers(dir, layer, folders, allow = []) {
  const here = dir || '.';
  const out = [];
  const add = (targetDir, fileRegex, what) => {
    const rel = posix.relative(here, targetDir || '.');
    const prefix = rel === '' ? '\\.' : rel.startsWith('..') ? escapeRegex(rel) : `\\./${escapeRegex(rel)}`;
    if (allow.includes(`${targetDir}/*`)) return;
    const exempt = allow.filter((a) => posix.dirname(a) === (targetDir || '.')).map((a) => escapeRegex(posix.basename(a)));
    const file = exempt.length ? `(?!(?:${exempt.join('|')})$)${fileRegex}` : fileRegex;
    out.push({ regex: `^${prefix}/${file}$`, what });
  };
  for (const f of folders) {
    if (f === '' || f === dir || layerOf(f) < layer) continue;
    // Sub-folders of one top folder in the same layer (models/, models/kernels/, …) are one module group.
    if (dir !== '' && layerOf(f) === layerOf(dir) && f.split('/')[0] === dir.split('/')[0]) continue;
    add(f, '[^/]+', `main/${f}/ (layer ${layerOf(f)})`);
  }
  for (const f of ROOT_FILES) if (dir !== '' && layerOf(f) >= layer) add('', escapeRegex(f), `main/${f} (layer ${layerOf(f)})`);
  for (const top of ['renderer', 'electron']) {
    out.push({ regex: `^${escapeRegex(posix.relative(here, `../${top}`))}/`, what: `${top}/ (above main/)` });
  }
  return out;
}

/** `no-restricted-imports` (import, export-from) and `no-restricted-syntax` (import() calls) for one file glob. */
function layerRules(files, dir, layer, specifiers) {
  const message = (what) =>
    `layering (LAYERS in eslint.config.js): main/${dir || files[0].slice(5)} is in layer ${layer} and may not import ${what}: only lower layers. Move the shared code down instead.`;
  return {
    files,
    rules: {
      'no-restricted-imports': ['error', {
        paths: [{ name: 'electron', message: 'main/ is a pure compute core: no Electron imports.' }],
        patterns: specifiers.map((s) => ({ regex: s.regex, message: message(s.what) })),
      }],
      // esquery's regex literal cannot hold '/': \u002F is the same character to RegExp.
      'no-restricted-syntax': ['error', ...specifiers.map((s) => ({
        selector: `ImportExpression[source.value=/${s.regex.replaceAll('/', '\\u002F')}/]`,
        message: message(s.what),
      }))],
    },
  };
}

/**
 * One config object per folder of main/ (its direct files, so that relative specifiers have a
 * known depth), one per root file, then one per file with KNOWN_UPWARD_IMPORTS (later objects
 * replace the rule options of earlier ones for the files they match).
 */
function layeringConfigs() {
  const folders = mainFolders();
  const unplaced = folders.filter((f) => f !== '' && layerOf(f) < 0);
  if (unplaced.length) throw new Error(`eslint.config.js: main/${unplaced.join(', main/')} is in no layer: add it to LAYERS`);
  const configs = [];
  for (const dir of folders.filter((f) => f !== '')) configs.push(layerRules([`main/${dir}/*.ts`], dir, layerOf(dir), restrictedSpecifiers(dir, layerOf(dir), folders)));
  for (const f of ROOT_FILES) configs.push(layerRules([`main/${f}`], '', layerOf(f), restrictedSpecifiers('', layerOf(f), folders)));
  for (const [from, allow] of Object.entries(KNOWN_UPWARD_IMPORTS)) {
    const dir = posix.dirname(from);
    configs.push(layerRules([`main/${from}`], dir, layerOf(dir), restrictedSpecifiers(dir, layerOf(dir), folders, allow)));
  }
  return configs;
}

export default tseslint.config(
  { ignores: ['node_modules/**', 'dist/**', 'demo-run/**', '.tmp/**', 'out/**', 'renderer/dist/**', '**/*.svelte', 'tests/fixtures/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { ecmaVersion: 2023, sourceType: 'module', globals: { console: 'readonly', process: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'warn',
      'no-constant-condition': ['error', { checkLoops: false }],
    },
  },
  ...layeringConfigs(),
  {
    files: ['**/*.mjs', '**/*.cjs', 'tests/**/*.ts', 'bench/**/*.ts'],
    languageOptions: { globals: { console: 'readonly', process: 'readonly', URL: 'readonly' } },
  },
);
