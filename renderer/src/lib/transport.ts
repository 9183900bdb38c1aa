import type { EventName, Events, Params, RequestName, Result, WorkbenchApi, ContractError } from '../../../main/api/contract.ts';
import { decodeMessage, encodeMessage } from '../../../main/api/wire.ts';

/** A rejected request: the backend's named error, rebuilt on this side of the contract. */
export class ContractRequestError extends Error {
  readonly details: Record<string, unknown>;
  constructor(e: ContractError) {
    super(e.message);
    this.name = e.name;
    this.details = e.details;
  }
}

declare global {
  interface Window {
    /** Set by the Electron preload (contextBridge); absent in the browser host. */
    workbench?: WorkbenchApi;
  }
}

type Listener = (payload: unknown) => void;

/**
 * The contract over the browser host's WebSocket: same WorkbenchApi as the Electron preload.
 * The per-launch token comes from the page URL (?token=…), which only the user who started
 * `geoanomaly serve` has seen.
 */
export function connectWebSocket(url: string): Promise<WorkbenchApi> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.binaryType = 'arraybuffer';
    let nextId = 1;
    const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
    const listeners = new Map<string, Set<Listener>>();
    const api: WorkbenchApi = {
      request<K extends RequestName>(name: K, params: Params<K>): Promise<Result<K>> {
        return new Promise<Result<K>>((res, rej) => {
          if (ws.readyState !== WebSocket.OPEN) {
            rej(new ContractRequestError({ name: 'ConnectionError', message: 'The connection to the workbench backend is closed; restart "geoanomaly serve" and reload.', details: {} }));
            return;
          }
          const id = nextId++;
          pending.set(id, { resolve: res as (v: unknown) => void, reject: rej });
          ws.send(encodeMessage({ t: 'req', id, name, params }));
        });
      },
      on<E extends EventName>(name: E, listener: (payload: Events[E]) => void): () => void {
        const set = listeners.get(name) ?? new Set<Listener>();
        set.add(listener as Listener);
        listeners.set(name, set);
        return () => set.delete(listener as Listener);
      },
    };
    ws.onopen = () => resolve(api);
    ws.onerror = () => reject(new Error(`cannot connect to the workbench backend at ${url.replace(/token=[^&]+/, 'token=…')} (wrong or expired token? restart "geoanomaly serve" and open the URL it prints)`));
    ws.onclose = () => {
      for (const p of pending.values()) p.reject(new ContractRequestError({ name: 'ConnectionError', message: 'The workbench backend closed the connection.', details: {} }));
      pending.clear();
    };
    ws.onmessage = (ev: MessageEvent<ArrayBuffer>) => {
      const msg = decodeMessage(ev.data);
      if (msg.t === 'res') {
        const p = pending.get(msg.id);
        if (!p) return;
        pending.delete(msg.id);
        if (msg.ok) p.resolve(msg.result);
        else p.reject(new ContractRequestError(msg.error));
      } else if (msg.t === 'evt') {
        for (const l of listeners.get(msg.name) ?? []) l(msg.payload);
      }
    };
  });
}

/** The Electron preload's object when present, else the browser host's WebSocket. */
export async function connect(): Promise<WorkbenchApi> {
  if (window.workbench) return wrapElectron(window.workbench);
  const token = new URLSearchParams(location.search).get('token') ?? '';
  const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
  return connectWebSocket(`${scheme}://${location.host}/ws?token=${encodeURIComponent(token)}`);
}

/** Electron's invoke rejects with a plain Error whose message carries our serialized error. */
function wrapElectron(api: WorkbenchApi): WorkbenchApi {
  return {
    async request(name, params) {
      try {
        return await api.request(name, params);
      } catch (e) {
        const m = /\{"name".*\}$/.exec((e as Error).message);
        if (m) throw new ContractRequestError(JSON.parse(m[0]) as ContractError);
        throw e;
      }
    },
    on: (name, listener) => api.on(name, listener),
  };
}
