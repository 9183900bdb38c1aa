#!/usr/bin/env node
// Entry point of the `geoanomaly` command. The sources are TypeScript run through tsx's
// loader (a runtime dependency), so the CLI, tests and workers execute the same files.
import { register } from 'tsx/esm/api';

// A closed pipe (`geoanomaly info … | head`) is a normal way to stop reading, not an error.
process.stdout.on('error', (e) => {
  if (e.code === 'EPIPE') process.exit(0);
  throw e;
});
register();
const { main } = await import('./main.ts');
process.exitCode = await main(process.argv.slice(2));
