import { describe, expect, it } from 'vitest';
import { workflowResultOf, type PredictWorkflowResult } from '../../main/workflows/workflow-results.ts';

/** Issue 17 §1: the renderer finds a job's files through its typed result; a job without one is an error, never a guessed path. */
describe('workflowResultOf', () => {
  const predict = { outputs: { map: '/runs/a-probability.tif' } } as unknown as PredictWorkflowResult;
  it('returns the result of the named workflow', () => {
    expect(workflowResultOf({ workflow: { workflow: 'predict', result: predict } }, 'predict').outputs.map).toBe('/runs/a-probability.tif');
  });
  it('refuses a job of another workflow, or one with no typed result', () => {
    expect(() => workflowResultOf({ workflow: { workflow: 'predict', result: predict } }, 'train')).toThrow('the train job returned no typed train result (got predict)');
    expect(() => workflowResultOf({}, 'train')).toThrow('(got none)');
    expect(() => workflowResultOf(null, 'krige')).toThrow('(got none)');
  });
});
