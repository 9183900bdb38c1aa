/**
 * The narrow slice of Electron's API the shell uses, typed here so `tsc` passes without the
 * electron package (an optional dependency whose binary cannot always be downloaded). The
 * shell imports 'electron' dynamically and views it through these interfaces.
 */
export interface IpcMainInvokeEvent {
  readonly senderFrame: { readonly url: string } | null;
}

export interface WebContents {
  send(channel: string, payload: unknown): void;
  setWindowOpenHandler(handler: (details: { url: string }) => { action: 'deny' }): void;
  on(event: 'will-navigate' | 'will-redirect', listener: (e: { preventDefault(): void }, url: string) => void): void;
  on(event: 'will-attach-webview', listener: (e: { preventDefault(): void }) => void): void;
  readonly session: Session;
}

export interface Session {
  setPermissionRequestHandler(handler: (wc: unknown, permission: string, callback: (granted: boolean) => void) => void): void;
  setPermissionCheckHandler(handler: (wc: unknown, permission: string) => boolean): void;
  readonly webRequest: {
    onHeadersReceived(listener: (details: { responseHeaders?: Record<string, string[]> }, callback: (r: { responseHeaders: Record<string, string[]> }) => void) => void): void;
  };
}

export interface BrowserWindow {
  readonly webContents: WebContents;
  loadFile(path: string): Promise<void>;
  loadURL(url: string): Promise<void>;
  once(event: 'ready-to-show', listener: () => void): void;
  on(event: 'closed', listener: () => void): void;
  show(): void;
  focus(): void;
  restore(): void;
  isMinimized(): boolean;
}

export interface MenuItemOptions {
  label?: string;
  role?: string;
  type?: 'separator' | 'submenu' | 'normal';
  accelerator?: string;
  submenu?: MenuItemOptions[];
  click?: () => void;
}

export interface UtilityProcess {
  postMessage(message: unknown): void;
  on(event: 'message', listener: (message: unknown) => void): void;
  on(event: 'exit', listener: (code: number) => void): void;
  kill(): boolean;
}

export interface ElectronModule {
  readonly app: {
    requestSingleInstanceLock(): boolean;
    quit(): void;
    enableSandbox(): void;
    whenReady(): Promise<void>;
    getPath(name: 'userData'): string;
    getVersion(): string;
    readonly isPackaged: boolean;
    on(event: 'second-instance' | 'window-all-closed' | 'activate' | 'before-quit', listener: () => void): void;
    on(event: 'web-contents-created', listener: (e: unknown, contents: WebContents) => void): void;
  };
  readonly BrowserWindow: (new (options: unknown) => BrowserWindow) & { getAllWindows(): BrowserWindow[]; getFocusedWindow(): BrowserWindow | null };
  readonly ipcMain: { handle(channel: string, listener: (event: IpcMainInvokeEvent, params: unknown) => Promise<unknown>): void };
  readonly Menu: { buildFromTemplate(template: MenuItemOptions[]): unknown; setApplicationMenu(menu: unknown): void };
  readonly dialog: {
    showOpenDialog(win: BrowserWindow | undefined, options: { title: string; properties: string[]; filters?: { name: string; extensions: string[] }[] }): Promise<{ canceled: boolean; filePaths: string[] }>;
    showSaveDialog(win: BrowserWindow | undefined, options: { title: string; filters?: { name: string; extensions: string[] }[] }): Promise<{ canceled: boolean; filePath?: string }>;
    showMessageBox(win: BrowserWindow | undefined, options: { type: string; title: string; message: string; detail: string }): Promise<unknown>;
  };
  readonly protocol: {
    registerSchemesAsPrivileged(schemes: readonly { readonly scheme: string; readonly privileges: Readonly<Record<string, boolean>> }[]): void;
    handle(scheme: string, handler: (request: Request) => Response | Promise<Response>): void;
  };
  readonly net: { fetch(url: string): Promise<Response> };
  readonly utilityProcess: { fork(modulePath: string, args?: string[], options?: { serviceName?: string; execArgv?: string[]; cwd?: string }): UtilityProcess };
}
