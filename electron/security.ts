import { fileURLToPath, pathToFileURL } from 'node:url';
import { resolve } from 'node:path';
import { contentSecurityPolicy } from '../main/api/csp.ts';

/**
 * Security settings of the desktop window, as pure data and pure functions so they are unit
 * tested without Electron (tests/app/security.test.ts). The Electron main process applies them.
 */

/** The policy sent with every response and injected as a meta tag into the renderer's page. */
export const CSP = contentSecurityPolicy({ header: true });

export interface SecureWebPreferences {
  readonly preload: string;
  readonly contextIsolation: true;
  readonly nodeIntegration: false;
  readonly nodeIntegrationInWorker: false;
  readonly nodeIntegrationInSubFrames: false;
  readonly sandbox: true;
  readonly webSecurity: true;
  readonly allowRunningInsecureContent: false;
  readonly experimentalFeatures: false;
  readonly webviewTag: false;
  readonly navigateOnDragDrop: false;
  readonly safeDialogs: true;
  readonly spellcheck: false;
}

export interface SecureWindowOptions {
  readonly width: number;
  readonly height: number;
  readonly minWidth: number;
  readonly minHeight: number;
  readonly title: string;
  readonly show: false;
  readonly icon?: string;
  readonly webPreferences: SecureWebPreferences;
}

/** BrowserWindow options with every security flag set explicitly (no reliance on defaults). */
export function windowOptions(preloadPath: string, iconPath?: string): SecureWindowOptions {
  return {
    width: 1400,
    height: 900,
    minWidth: 900,
    minHeight: 600,
    title: 'GeoAnomaly Workbench',
    // Shown on 'ready-to-show', so the user never sees a white flash.
    show: false,
    ...(iconPath ? { icon: iconPath } : {}),
    webPreferences: {
      preload: preloadPath,
      contextIsolation: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      sandbox: true,
      webSecurity: true,
      allowRunningInsecureContent: false,
      experimentalFeatures: false,
      webviewTag: false,
      navigateOnDragDrop: false,
      safeDialogs: true,
      spellcheck: false,
    },
  };
}

/** The file:// URL of the renderer's page inside `rendererDir` (renderer/dist). */
export function appPageUrl(rendererDir: string): string {
  return pathToFileURL(resolve(rendererDir, 'index.html')).href;
}

/**
 * True only for a frame showing our own page: a file:// URL (query and hash ignored) whose
 * path is exactly renderer/dist/index.html. Every IPC handler checks this first, so a frame
 * that somehow navigated elsewhere (or an injected iframe) cannot call the backend.
 */
export function isTrustedSender(frameUrl: string | null | undefined, rendererDir: string): boolean {
  if (!frameUrl) return false;
  let url: URL;
  try {
    url = new URL(frameUrl);
  } catch {
    return false;
  }
  if (url.protocol !== 'file:' || (url.host !== '' && url.host !== 'localhost')) return false;
  let path: string;
  try {
    // URL parsing has already folded any '..' segments; query and hash are not part of the file.
    path = fileURLToPath(url.href.split(/[?#]/)[0]);
  } catch {
    return false;
  }
  return resolve(path) === resolve(rendererDir, 'index.html');
}

/**
 * Navigation policy: the window never leaves its page. Returns true when a will-navigate to
 * `url` may proceed (only a reload of the page itself).
 */
export function isAllowedNavigation(url: string, rendererDir: string): boolean {
  return isTrustedSender(url, rendererDir);
}

/** Permission requests (camera, geolocation, notifications, …): the workbench needs none. */
export function allowPermission(_permission: string): boolean {
  return false;
}
