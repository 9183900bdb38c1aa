// Loader hook of module-trace.mjs: records each ES module (or CommonJS entry imported from ESM) as it loads.
import { appendFileSync } from 'node:fs';

export async function load(url, context, nextLoad) {
  appendFileSync(process.env.GA_MODULE_TRACE, url + '\n');
  return nextLoad(url, context);
}
