import { describe, expect, it } from 'vitest';
import { JobManager } from '../../main/api/job-manager.ts';
import type { Events } from '../../main/api/contract.ts';
import { report, subJob, type JobContext } from '../../main/jobs/job.ts';

/**
 * Issue 17 §1: progress carries typed data (a learning-curve point per epoch) beside its message,
 * end to end, so the renderer parses nothing. The job manager throttles plain progress messages
 * but must deliver every epoch point.
 */
describe('typed progress detail', () => {
  it('every epoch point reaches the contract while plain messages are throttled', async () => {
    const events: Events['jobProgress'][] = [];
    // A throttle interval no test run reaches: only forced events get through.
    const jobs = new JobManager((name, payload) => {
      if (name === 'jobProgress') events.push(payload as Events['jobProgress']);
    }, 1e9);
    let finish: () => void = () => undefined;
    const jobId = jobs.start('train', async (ctx: JobContext) => {
      report(ctx, 0.01, 'reading the stack');
      report(ctx, 0.02, 'still reading');
      // Relayed through a sub-job, as cross-validation's folds do: the prefix changes the message only.
      const fold = subJob(ctx, 0, 0.5, 'fold 1/2');
      for (let e = 1; e <= 5; e++) report(fold, e / 5, `cnn epoch ${e}/5 loss ${(1 / e).toFixed(4)}`, { kind: 'epoch', model: 'cnn', epoch: e, epochs: 5, loss: 1 / e, valLoss: e === 3 ? null : 2 / e });
      report(ctx, 0.6, 'plain again');
      await new Promise<void>((r) => (finish = r));
      return { exitCode: 0, lines: [] };
    });
    await new Promise((r) => setTimeout(r, 10));
    finish();
    await new Promise((r) => setTimeout(r, 10));
    const withDetail = events.filter((e) => e.detail);
    expect(withDetail.map((e) => e.detail)).toEqual([1, 2, 3, 4, 5].map((e) => ({ kind: 'epoch', model: 'cnn', epoch: e, epochs: 5, loss: 1 / e, valLoss: e === 3 ? null : 2 / e })));
    expect(withDetail.every((e) => e.jobId === jobId)).toBe(true);
    // The sub-job's prefix and fraction mapping still apply to the message beside the data.
    expect(withDetail[0].message).toBe('fold 1/2: cnn epoch 1/5 loss 1.0000');
    expect(withDetail[4].fraction).toBeCloseTo(0.5, 12);
    // Plain messages: the first one passes, the rest fall inside the (huge) interval and are dropped.
    expect(events.filter((e) => !e.detail).map((e) => e.message)).toEqual(['reading the stack']);
  });

  // Issue 18: a burst of messages (the train workflow's "patches ready", then fold 1's first
  // batch a millisecond later) followed by a long first epoch left the UI on the burst's first
  // message, because the throttle dropped the rest. The newest held-back message now follows
  // once the interval is over; nothing follows the job's end.
  it('sends the newest message the throttle held back once the interval is over, and nothing after the job ends', async () => {
    const events: Events['jobProgress'][] = [];
    const jobs = new JobManager((name, payload) => {
      if (name === 'jobProgress') events.push(payload as Events['jobProgress']);
    }, 40);
    let finish: () => void = () => undefined;
    let reportLate: () => void = () => undefined;
    jobs.start('train', async (ctx: JobContext) => {
      report(ctx, 0, '72 patches ready');
      report(ctx, 0.01, 'fold 1/2: cnn epoch 1/30: batch 1/12');
      report(ctx, 0.02, 'fold 1/2: cnn epoch 1/30: batch 2/12');
      reportLate = () => {
        report(ctx, 0.03, 'fold 1/2: cnn epoch 1/30: batch 3/12');
        report(ctx, 0.04, 'fold 1/2: cnn epoch 1/30: batch 4/12');
      };
      // The first epoch is still running.
      await new Promise<void>((r) => (finish = r));
      return { exitCode: 0, lines: [] };
    });
    await new Promise((r) => setTimeout(r, 5));
    expect(events.map((e) => e.message)).toEqual(['72 patches ready']);
    await new Promise((r) => setTimeout(r, 120));
    expect(events.map((e) => [e.fraction, e.message])).toEqual([
      [0, '72 patches ready'],
      [0.02, 'fold 1/2: cnn epoch 1/30: batch 2/12'],
    ]);
    // The interval is over: batch 3 goes out at once, batch 4 is held back, and the job ends
    // inside the interval: batch 4 is not sent after the end.
    reportLate();
    finish();
    await new Promise((r) => setTimeout(r, 120));
    expect(events.map((e) => e.message)).toEqual(['72 patches ready', 'fold 1/2: cnn epoch 1/30: batch 2/12', 'fold 1/2: cnn epoch 1/30: batch 3/12']);
  });
});
