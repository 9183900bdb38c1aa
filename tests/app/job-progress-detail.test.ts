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
});
