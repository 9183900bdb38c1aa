import { mkdirSync } from 'node:fs';
import { InvalidOptionError, serializeError } from '../errors.ts';
import { Autosaver } from '../project/autosave.ts';
import { JobManager } from './job-manager.ts';
import { createStudyHandlers } from './study-requests.ts';
import { isComputeRequest, isRequestName, type ContractError, type Requests } from './contract.ts';
import type { HandlerOptions, Handlers } from './handlers/common.ts';
import { createProjectHandlers } from './handlers/project.ts';
import { createLayerHandlers, createLayerSources } from './handlers/layers.ts';
import { createComputeHandlers } from './handlers/compute.ts';
import { createXrfHandlers } from './handlers/xrf.ts';
import { createExportHandlers } from './handlers/export.ts';
import { createExplainHandlers } from './handlers/explain.ts';
import { createSiteHandlers } from './handlers/sites.ts';

export { NotAvailableError, type HandlerOptions, type Handlers } from './handlers/common.ts';
export { DEMO_SEED } from './handlers/project.ts';

/** Serialises any thrown value for the contract. */
export function toContractError(e: unknown): ContractError {
  return serializeError(e);
}

/**
 * Builds the request handlers; `jobs` and `autosaver` are exposed for shutdown and tests.
 * Each area of the contract has its module under main/api/handlers/ (project, layers, compute,
 * xrf, export, explain, sites; study: main/api/study-requests.ts) returning its part of
 * `Handlers`; the composed object below fails to compile if any request of the contract is missing.
 */
export function createHandlers(options: HandlerOptions): { handlers: Handlers; jobs: JobManager; autosaver: Autosaver } {
  const { dataDir, emit } = options;
  const jobs = new JobManager(emit);
  const autosaver = new Autosaver({
    delayMs: options.autosaveDelayMs ?? 2000,
    onError: (e) => emit('log', { level: 'warn', message: `Autosave failed: ${serializeError(e).message}`, time: new Date().toISOString() }),
  });
  mkdirSync(dataDir, { recursive: true });

  const sources = createLayerSources();
  const layers = createLayerHandlers(options, sources);
  const handlers: Handlers = {
    ...createStudyHandlers({ dataDir, autosaver }),
    ...createProjectHandlers(options, autosaver, sources, layers.importLayer),
    ...layers,
    ...createComputeHandlers(jobs),
    ...createXrfHandlers(dataDir),
    ...createExportHandlers(),
    ...createExplainHandlers(),
    ...createSiteHandlers(),
  };
  return { handlers, jobs, autosaver };
}

export type DispatchResult = { ok: true; result: unknown } | { ok: false; error: ContractError };

/**
 * Validates a request coming from outside (IPC or WebSocket) and runs it. Unknown names and
 * non-object params are rejected here, so handlers only ever see well-formed calls.
 */
export async function dispatch(handlers: Handlers, name: unknown, params: unknown): Promise<DispatchResult> {
  try {
    if (!isRequestName(name)) throw new InvalidOptionError(`unknown request ${JSON.stringify(name)}`, { name });
    if (params === null || typeof params !== 'object' || Array.isArray(params)) {
      throw new InvalidOptionError(`request ${name} needs one params object, got ${params === null ? 'null' : typeof params}`, { name });
    }
    if (isComputeRequest(name)) {
      const o = (params as { options?: unknown }).options;
      if (o === null || typeof o !== 'object' || Array.isArray(o)) throw new InvalidOptionError(`request ${name} needs params.options (the command's flags)`, { name });
    }
    const fn = handlers[name] as (p: unknown) => Promise<unknown>;
    return { ok: true, result: await fn(params) };
  } catch (e) {
    return { ok: false, error: toContractError(e) };
  }
}

export type { Requests };
