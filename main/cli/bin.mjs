#!/usr/bin/env node
// Entry point of the `geoanomaly` command. It runs the compiled JavaScript in dist/ (`npm run
// build`, which `npm ci` runs through `prepare`): plain Node, no loader, so `--help` starts in
// about the time Node itself takes.
//
// Fallback: in a development checkout where dist/ is missing, or older than a source file under
// main/ (sources edited since the last build), it runs the TypeScript sources through tsx's loader
// (a runtime dependency) instead. Without this, an edit-then-test loop would silently run stale
// compiled code; with it, the CLI, the tests and the workers always execute the current sources.
// The staleness check stats the ~300 source files: a few milliseconds.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

// A closed pipe (`geoanomaly info … | head`) is a normal way to stop reading, not an error.
process.stdout.on('error', (e) => {
  if (e.code === 'EPIPE') process.exit(0);
  throw e;
});

const here = new URL('./', import.meta.url); // ROOT/main/cli/
const root = new URL('../../', here);
// Written by `npm run build` after tsc succeeds (tsc alone rewrites nothing when nothing changed).
const stamp = fileURLToPath(new URL('dist/.build-stamp', root));
const compiledMain = new URL('dist/main/cli/main.js', root);

/** Newest modification time (ms) of the .ts files under `dir`. */
function newestSource(dir) {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = `${dir}/${e.name}`;
    if (e.isDirectory()) newest = Math.max(newest, newestSource(p));
    else if (e.name.endsWith('.ts')) newest = Math.max(newest, statSync(p).mtimeMs);
  }
  return newest;
}

function distIsCurrent() {
  if (process.env.GEOANOMALY_FROM_SOURCE === '1') return false;
  if (!existsSync(stamp) || !existsSync(fileURLToPath(compiledMain))) return false;
  const sources = fileURLToPath(new URL('main', root));
  // An installed package may ship dist/ alone; then there is nothing to be stale against.
  return !existsSync(sources) || statSync(stamp).mtimeMs >= newestSource(sources);
}

let main;
if (distIsCurrent()) {
  // Stack traces (printed with GEOANOMALY_DEBUG) then name the .ts sources through dist's source
  // maps; only then, since Node reads each module's map as it loads when this is on.
  if (process.env.GEOANOMALY_DEBUG) process.setSourceMapsEnabled(true);
  ({ main } = await import(compiledMain.href));
} else {
  const { register } = await import('tsx/esm/api');
  register();
  ({ main } = await import('./main.ts'));
}
process.exitCode = await main(process.argv.slice(2));
