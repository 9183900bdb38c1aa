/**
 * Electron main process: one window, the security policy of electron/security.ts, native
 * menus, and IPC that checks the sender and forwards to the backend running in a utility
 * process (main/api/port-backend.ts), so no file decoding or computation ever blocks this
 * process. Compute jobs run in worker threads inside that backend.
 */
import { fileURLToPath, pathToFileURL } from 'node:url';
import { existsSync } from 'node:fs';
import { realpath } from 'node:fs/promises';
import { join, relative, isAbsolute } from 'node:path';
import type { ElectronModule, BrowserWindow, UtilityProcess } from './electron-api.ts';
import { windowOptions, isTrustedSender, isAllowedNavigation, allowPermission, CSP } from './security.ts';
import { menuTemplate } from './menu.ts';
import { APP_PAGE_URL, APP_SCHEME, APP_SCHEME_PRIVILEGES, resolveAppPath } from './app-protocol.ts';
import { REQUEST_NAMES, requestChannel, eventChannel, type MenuAction, type Params, type EventName } from '../main/api/contract.ts';
import type { PortReply } from '../main/api/port-backend.ts';
import type { DispatchResult } from '../main/api/handlers.ts';

const here = fileURLToPath(new URL('.', import.meta.url));
const RENDERER_DIR = join(here, '..', 'renderer', 'dist');
const PRELOAD = join(here, 'preload.cjs');
const ICON = join(here, '..', 'native-assets', 'icon-512.png');

const electron = (await import('electron' as string)) as unknown as ElectronModule & { default?: ElectronModule };
const { app, BrowserWindow: Win, ipcMain, Menu, dialog, utilityProcess, protocol, net } = electron.default ?? electron;
// Must happen before 'ready': app:// becomes a standard, secure scheme (electron/app-protocol.ts).
protocol.registerSchemesAsPrivileged([APP_SCHEME_PRIVILEGES]);

/** Serves app://workbench/… from renderer/dist only (path mapped by resolveAppPath, links checked by realpath). */
async function serveAppRequest(request: Request): Promise<Response> {
  const file = resolveAppPath(request.url, RENDERER_DIR);
  if (!file) return new Response('not found', { status: 404 });
  try {
    const [real, root] = await Promise.all([realpath(file), realpath(RENDERER_DIR)]);
    const rel = relative(root, real);
    if (rel.startsWith('..') || isAbsolute(rel)) return new Response('not found', { status: 404 });
    const r = await net.fetch(pathToFileURL(real).href);
    const headers = new Headers(r.headers);
    headers.set('Content-Security-Policy', CSP);
    return new Response(r.body, { status: r.status, headers });
  } catch {
    return new Response('not found', { status: 404 });
  }
}

if (!app.requestSingleInstanceLock()) {
  app.quit();
} else {
  app.enableSandbox();
  let win: BrowserWindow | null = null;
  let backend: UtilityProcess | null = null;
  let seq = 0;
  const pending = new Map<number, (r: DispatchResult) => void>();

  const sendEvent = (name: EventName, payload: unknown): void => {
    for (const w of Win.getAllWindows()) w.webContents.send(eventChannel(name), payload);
  };

  const startBackend = (): UtilityProcess => {
    const child = utilityProcess.fork(join(here, 'backend-process.mjs'), [app.getPath('userData')], { serviceName: 'GeoAnomaly backend' });
    child.on('message', (m) => {
      const msg = m as PortReply;
      if (msg.t === 'res') {
        pending.get(msg.id)?.(msg.reply);
        pending.delete(msg.id);
      } else if (msg.t === 'evt') sendEvent(msg.name, msg.payload);
    });
    child.on('exit', (code) => {
      for (const resolve of pending.values()) resolve({ ok: false, error: { name: 'BackendExitedError', message: `the backend process exited (code ${code}); the app restarts it on the next request`, details: { code } } });
      pending.clear();
      backend = null;
    });
    return child;
  };

  const forward = (name: string, params: unknown): Promise<DispatchResult> =>
    new Promise((resolve) => {
      backend ??= startBackend();
      const id = ++seq;
      pending.set(id, resolve);
      backend.postMessage({ t: 'req', id, name, params });
    });

  const pickPaths = async (p: Params<'pickPaths'>): Promise<string[] | null> => {
    const filters = p.extensions ? [{ name: 'Supported files', extensions: [...p.extensions] }] : undefined;
    if (p.save) {
      const r = await dialog.showSaveDialog(win ?? undefined, { title: p.title, filters });
      return r.canceled || !r.filePath ? null : [r.filePath];
    }
    const r = await dialog.showOpenDialog(win ?? undefined, { title: p.title, properties: [p.directory ? 'openDirectory' : 'openFile', 'multiSelections'], filters });
    return r.canceled ? null : r.filePaths;
  };

  for (const name of REQUEST_NAMES) {
    ipcMain.handle(requestChannel(name), async (event, params) => {
      if (!isTrustedSender(event.senderFrame?.url, RENDERER_DIR)) {
        return { ok: false, error: { name: 'UntrustedSenderError', message: 'request refused: it did not come from the workbench page', details: { url: event.senderFrame?.url ?? null } } };
      }
      if (name === 'pickPaths') {
        try {
          return { ok: true, result: await pickPaths(params as Params<'pickPaths'>) };
        } catch (e) {
          return { ok: false, error: { name: (e as Error).name, message: (e as Error).message, details: {} } };
        }
      }
      if (name === 'getAppInfo') {
        const r = await forward(name, params);
        if (r.ok) r.result = { ...(r.result as object), host: 'electron', versions: { ...(r.result as { versions: object }).versions, electron: process.versions.electron ?? '', chrome: process.versions.chrome ?? '' } };
        return r;
      }
      return forward(name, params);
    });
  }

  app.on('web-contents-created', (_e, contents) => {
    contents.setWindowOpenHandler(() => ({ action: 'deny' }));
    contents.on('will-navigate', (e, url) => {
      if (!isAllowedNavigation(url, RENDERER_DIR)) e.preventDefault();
    });
    contents.on('will-redirect', (e, url) => {
      if (!isAllowedNavigation(url, RENDERER_DIR)) e.preventDefault();
    });
    contents.on('will-attach-webview', (e) => e.preventDefault());
    contents.session.setPermissionRequestHandler((_wc, permission, callback) => callback(allowPermission(permission)));
    contents.session.setPermissionCheckHandler((_wc, permission) => allowPermission(permission));
    contents.session.webRequest.onHeadersReceived((details, callback) => {
      callback({ responseHeaders: { ...(details.responseHeaders ?? {}), 'Content-Security-Policy': [CSP] } });
    });
  });

  const about = (): void => {
    void forward('getAppInfo', {}).then((r) => {
      const info = r.ok ? (r.result as { version: string; availableServices: string[] }) : null;
      void dialog.showMessageBox(win ?? undefined, {
        type: 'info',
        title: 'About GeoAnomaly Workbench',
        message: `GeoAnomaly Workbench ${info?.version ?? app.getVersion()}`,
        detail: [
          `Electron ${process.versions.electron ?? '?'}, Chromium ${process.versions.chrome ?? '?'}, Node ${process.versions.node}`,
          `Compute backend: utility process with worker threads (TensorFlow.js backend chosen per job)`,
          `Services: ${info?.availableServices.join(', ') || 'none'}`,
        ].join('\n'),
      });
    });
  };

  const createWindow = async (): Promise<void> => {
    win = new Win(windowOptions(PRELOAD, existsSync(ICON) ? ICON : undefined));
    win.once('ready-to-show', () => win?.show());
    win.on('closed', () => (win = null));
    const send = (action: MenuAction): void => win?.webContents.send(eventChannel('menu'), { action });
    Menu.setApplicationMenu(Menu.buildFromTemplate(menuTemplate(send, { isMac: process.platform === 'darwin', devTools: !app.isPackaged, about })));
    if (!existsSync(join(RENDERER_DIR, 'index.html'))) throw new Error(`the renderer is not built (${join(RENDERER_DIR, 'index.html')} missing): run "npx vite build --config renderer/vite.config.ts"`);
    await win.loadURL(APP_PAGE_URL);
  };

  app.on('second-instance', () => {
    if (win) {
      if (win.isMinimized()) win.restore();
      win.focus();
    }
  });
  app.on('window-all-closed', () => {
    // The backend writes any pending autosave and exits by itself; kill it if it hangs.
    const b = backend;
    b?.postMessage({ t: 'shutdown' });
    if (b) setTimeout(() => b.kill(), 5000).unref();
    if (process.platform !== 'darwin') app.quit();
  });
  app.on('activate', () => {
    if (Win.getAllWindows().length === 0) void createWindow();
  });
  await app.whenReady();
  protocol.handle(APP_SCHEME, serveAppRequest);
  await createWindow();
}
