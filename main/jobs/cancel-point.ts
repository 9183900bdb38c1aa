import { throwIfCancelled, type JobContext } from './job.ts';

/**
 * How long a compute loop may run without letting the event loop turn. A SIGINT handler (the
 * CLI's Ctrl-C), a worker's `cancel` message or the app's cancelJob request can only set the
 * abort signal when the loop yields, so a loop that only calls throwIfCancelled never sees it
 * (issue 19: `xrf --method msfa --threads 1` trained on for 70 s after Ctrl-C). 50 ms keeps the
 * cancel latency far under a second while the yields cost well under 0.1 % of the run.
 */
export const CANCEL_POINT_INTERVAL_MS = 50;

let lastYield = 0;

/**
 * A cancellation point for a long loop: call it once per batch / tile / block / iteration.
 * At most every CANCEL_POINT_INTERVAL_MS it yields one macrotask (setImmediate, so pending
 * signals, timers and messages run), then throws CancelledError if `ctx.signal` is aborted.
 * `await` on an already-resolved promise is only a microtask and does not let a signal in,
 * which is why an async function is not enough by itself.
 */
export async function cancelPoint(ctx: JobContext | undefined, what: string): Promise<void> {
  const now = performance.now();
  if (now - lastYield >= CANCEL_POINT_INTERVAL_MS) {
    lastYield = now;
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  throwIfCancelled(ctx, what);
}
