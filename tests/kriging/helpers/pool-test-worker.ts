import { serveTasks, workerInput } from '../../../main/jobs/worker-pool.ts';
import { SingularSystemError } from '../../../main/errors.ts';

// Test worker for tests/kriging/worker-pool.test.ts: squares numbers (plus the shared offset),
// fails on request with a named error, or spins forever (to prove cancellation terminates it).
type Task = { value: number; mode: 'square' | 'fail' | 'spin' };
const input = workerInput<{ offset: number }>();

serveTasks<Task, { value: number; squared: Float64Array }>((task, ctx) => {
  if (task.mode === 'fail') throw new SingularSystemError(`task ${task.value} failed on purpose`, { value: task.value });
  if (task.mode === 'spin') {
    ctx.progress(0.5);
    for (;;) {
      // Busy loop: only terminating the thread stops it.
    }
  }
  ctx.progress(0.5);
  const squared = Float64Array.of(task.value * task.value + input.offset);
  return { result: { value: task.value, squared }, transfer: [squared.buffer] };
});
