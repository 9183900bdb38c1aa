import { contentSecurityPolicy } from '../main/api/csp.ts';
import { APP_HOST, APP_PAGE_URL, APP_SCHEME } from './app-protocol.ts';

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

/**
 * The URL of the renderer's page: app://workbench/index.html, served from `rendererDir`
 * (renderer/dist) by electron/app.ts through electron/app-protocol.ts. Not file:// (issue 19).
 */
export function appPageUrl(_rendererDir: string): string {
  return APP_PAGE_URL;
}

/**
 * True only for a frame showing our own page: app://workbench/index.html (query and hash
 * ignored). Every IPC handler checks this first, so a frame that somehow navigated elsewhere
 * (or an injected iframe, or a file:// page) cannot call the backend.
 */
export function isTrustedSender(frameUrl: string | null | undefined, _rendererDir: string): boolean {
  if (!frameUrl) return false;
  let url: URL;
  try {
    url = new URL(frameUrl);
  } catch {
    return false;
  }
  // URL parsing has already folded any '..' segments (also %2e%2e).
  return url.protocol === `${APP_SCHEME}:` && url.host === APP_HOST && !url.username && !url.password && url.pathname === '/index.html';
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
