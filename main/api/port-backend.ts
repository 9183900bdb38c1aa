import { createHandlers, dispatch, type HandlerOptions } from './handlers.ts';
import type { EmitFn } from './job-manager.ts';
import type { Events } from './contract.ts';

/**
 * The backend behind a message port: what the Electron utility process runs, so file reading,
 * decoding and job bookkeeping never block the Electron main process (which only checks the
 * sender and forwards). Messages are structured-cloned, so typed arrays cross without JSON.
 */
export interface PortLike {
  on(event: 'message', listener: (e: { data: unknown }) => void): void;
  postMessage(message: unknown): void;
}

export type PortRequest =
  | { readonly t: 'req'; readonly id: number; readonly name: string; readonly params: unknown }
  /** The app is quitting: cancel jobs, write the pending autosave, then call onShutdown. */
  | { readonly t: 'shutdown' };
export type PortReply =
  | { readonly t: 'res'; readonly id: number; readonly reply: Awaited<ReturnType<typeof dispatch>> }
  | { readonly t: 'evt'; readonly name: keyof Events; readonly payload: unknown };

export function serveOverPort(port: PortLike, options: Omit<HandlerOptions, 'emit'>, onShutdown: () => void = () => undefined): void {
  const emit: EmitFn = (name, payload) => port.postMessage({ t: 'evt', name, payload } satisfies PortReply);
  const { handlers, jobs, autosaver } = createHandlers({ ...options, emit });
  port.on('message', (e) => {
    const m = e.data as PortRequest;
    if (m?.t === 'shutdown') {
      jobs.cancelAll();
      autosaver.flush();
      onShutdown();
      return;
    }
    if (!m || m.t !== 'req' || typeof m.id !== 'number') return;
    void dispatch(handlers, m.name, m.params).then((reply) => port.postMessage({ t: 'res', id: m.id, reply } satisfies PortReply));
  });
}
