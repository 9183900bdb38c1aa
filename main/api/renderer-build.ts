import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { packageRootUrl } from '../util/package-root.ts';

/** renderer/ and its build output, located from the package root so any working directory (and dist/) works. */
export const RENDERER_ROOT = fileURLToPath(new URL('renderer/', packageRootUrl()));
export const RENDERER_DIST = join(RENDERER_ROOT, 'dist');

/**
 * Builds the renderer with Vite when its output is missing (or `force`), and returns the
 * output folder. Vite is a development dependency: installed apps ship a prebuilt renderer.
 */
export async function ensureRendererBuilt(options: { force?: boolean; log?: (line: string) => void } = {}): Promise<string> {
  if (!options.force && existsSync(join(RENDERER_DIST, 'index.html'))) return RENDERER_DIST;
  options.log?.(`building the renderer into ${RENDERER_DIST} …`);
  let vite: typeof import('vite');
  try {
    vite = await import('vite');
  } catch {
    throw new Error(`${RENDERER_DIST} is missing and Vite is not installed to build it. Run "npm install" then "npx vite build renderer".`);
  }
  await vite.build({ configFile: join(RENDERER_ROOT, 'vite.config.ts'), root: RENDERER_ROOT, logLevel: 'warn' });
  return RENDERER_DIST;
}
