// Preload (`node --import ./tests/helpers/module-trace.mjs …`) that writes the URL of every module
// the process loads to the file named by $GA_MODULE_TRACE, one per line. ES modules are recorded
// by a load hook (module-trace-hooks.mjs); CommonJS files required from other CommonJS files
// never reach that hook, so the require cache is appended at exit as well.
import Module, { register } from 'node:module';
import { appendFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

register('./module-trace-hooks.mjs', import.meta.url);
process.on('exit', () => {
  const cjs = Object.keys(Module._cache).map((f) => pathToFileURL(f).href);
  appendFileSync(process.env.GA_MODULE_TRACE, cjs.join('\n') + '\n');
});
