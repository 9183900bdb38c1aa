import { WorkbenchError } from '../../errors.ts';
import type { Crs } from '../../grid/crs.ts';
import { checkUserFile, checkUserFileOrFolder } from '../../util/user-file.ts';
import type { EmitFn } from '../job-manager.ts';
import type { CrsInfo, Params, RequestName, Result } from '../contract.ts';

/** A service the request needs is not part of this build (yet), or not available on this host. */
export class NotAvailableError extends WorkbenchError {}

/** Every request, implemented: what the Electron IPC handlers and the WebSocket host call. */
export type Handlers = { [K in RequestName]: (params: Params<K>) => Promise<Result<K>> };

/** The handlers of some requests: what each area module (main/api/handlers/*.ts) returns. */
export type HandlersOf<K extends RequestName> = Pick<Handlers, K>;

export interface HandlerOptions {
  /** Per-user data folder: recent projects, the generated demo survey, autosaves of unsaved projects. */
  readonly dataDir: string;
  readonly host: 'electron' | 'browser';
  readonly emit: EmitFn;
  /** Native file dialog (Electron only). */
  readonly pickPaths?: (p: Params<'pickPaths'>) => Promise<readonly string[] | null>;
  /** Extra version strings shown in Help → About (electron, chrome, backend…). */
  readonly versions?: Readonly<Record<string, string>>;
  /** Seed of the generated demo survey. @default DEMO_SEED */
  readonly demoSeed?: number;
  /** Quiet period before an autosave copy is written. @default 2000 */
  readonly autosaveDelayMs?: number;
}

export const crsInfo = (c: Crs | null): CrsInfo | null => (c ? { epsg: c.epsg, proj4: c.proj4, name: c.name, geographic: c.geographic } : null);

/**
 * Lazily imports a module of the compute core. Services written after this file (or removed
 * from a slim build) answer NotAvailableError instead of breaking every other request.
 * The specifier is relative to this folder (main/api/handlers/).
 */
export async function optionalImport<T>(specifier: string, service: string): Promise<T> {
  try {
    return (await import(specifier)) as T;
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === 'ERR_MODULE_NOT_FOUND' && String((e as Error).message).includes(specifier.replace(/^(\.\.?\/)+/, ''))) {
      throw new NotAvailableError(`${service} is not available in this build (module ${specifier} is missing).`, { service });
    }
    throw e;
  }
}

/** The files a folder stack reader loads (main/io/geotiff-read.ts readStack). */
const RASTER_FILES = ['.tif', '.tiff'];

/**
 * Every path a request names is checked before a reader touches it (main/util/user-file.ts):
 * a regular file (symlinks resolved) or a folder of regular files, within the size limit of
 * the whole-file read that follows. A device, FIFO or huge file answers a named error instead
 * of filling memory or blocking the one event loop every window shares.
 */
export const checkRaster = (path: string) => checkUserFileOrFolder(path, 'raster', RASTER_FILES);
export const checkTable = (path: string) => checkUserFile(path, 'table');
export const checkVector = (path: string) => checkUserFile(path, 'vector');
