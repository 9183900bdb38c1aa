import { isAbsolute, relative, resolve, sep } from 'node:path';

/**
 * The renderer is served from a custom `app://workbench/` origin (issue 19), not file://. A
 * file:// page shares its origin with every local file, and Electron grants file:// extra
 * privileges (the GrantFileProtocolExtraPrivileges fuse, switched off in build/after-pack.cjs);
 * `app://workbench/` is its own origin and maps only onto the renderer build (renderer/dist).
 * Pure functions and data, unit-tested without Electron (tests/app/electron-packaging.test.ts);
 * electron/app.ts registers the scheme and serves it with protocol.handle + net.fetch.
 */
export const APP_SCHEME = 'app';
export const APP_HOST = 'workbench';
export const APP_ORIGIN = `${APP_SCHEME}://${APP_HOST}`;
export const APP_PAGE_URL = `${APP_ORIGIN}/index.html`;

/**
 * For protocol.registerSchemesAsPrivileged (before app 'ready'): `standard` gives the scheme
 * real origins and relative URL resolution (the page's ./assets/… load), `secure` makes it a
 * secure context like https, `supportFetchAPI` lets the page fetch its own assets.
 * No `bypassCSP`, no `corsEnabled`: the page's CSP applies and other origins cannot read it.
 */
export const APP_SCHEME_PRIVILEGES = {
  scheme: APP_SCHEME,
  privileges: { standard: true, secure: true, supportFetchAPI: true, stream: true },
} as const;

/**
 * The file of `rendererDir` that `requestUrl` names, or null when it names nothing we serve:
 * another scheme or host, an undecodable or NUL-carrying path, a backslash (a Windows
 * separator smuggled in), or a path that resolves outside `rendererDir` (`..`, encoded or not;
 * an absolute path). `/` is index.html; query and hash are ignored. Symbolic links inside the
 * build are checked by the caller with realpath (this function touches no file).
 */
export function resolveAppPath(requestUrl: string, rendererDir: string): string | null {
  let url: URL;
  try {
    url = new URL(requestUrl);
  } catch {
    return null;
  }
  if (url.protocol !== `${APP_SCHEME}:` || url.host !== APP_HOST || url.username || url.password || url.port) return null;
  let path: string;
  try {
    path = decodeURIComponent(url.pathname);
  } catch {
    return null;
  }
  if (path.includes('\0') || path.includes('\\')) return null;
  if (path === '' || path === '/') path = '/index.html';
  const root = resolve(rendererDir);
  const file = resolve(root, '.' + path);
  const rel = relative(root, file);
  if (rel === '' || rel.startsWith('..') || isAbsolute(rel) || rel.split(sep).includes('..')) return null;
  return file;
}
