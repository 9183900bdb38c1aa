import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * URL (ending in '/') of the package's root folder, the one holding package.json and renderer/.
 * This module runs from the sources (ROOT/main/util/) or from the compiled build
 * (ROOT/dist/main/util/), so a fixed '../../' from import.meta.url would be wrong in one of them.
 */
export function packageRootUrl(): URL {
  const above = new URL('../../', import.meta.url);
  if (above.pathname.endsWith('/dist/') && !existsSync(fileURLToPath(new URL('package.json', above)))) return new URL('../', above);
  return above;
}
