import { describe, expect, it } from 'vitest';
import * as lib from '../../main/index.ts';
import { WorkbenchError } from '../../main/errors.ts';
import { EXPLAIN_OPTIONS } from '../../main/workflows/explain-options.ts';

/**
 * The curated public surface of main/index.ts (ARCHITECTURE.md "Library entry"): the workflows
 * are reachable through the registry, the named errors are WorkbenchErrors, and engine plumbing
 * stays out (it changes with the engines; the workflows are the stable way to reach it).
 */
describe('library entry surface (main/index.ts)', () => {
  it('exposes the workflows through the registry, each with its option table', async () => {
    for (const name of ['krige', 'train', 'predict', 'explain'] as const) {
      expect(lib.WORKFLOW_NAMES).toContain(name);
      expect(lib.isWorkflowName(name)).toBe(true);
    }
    expect(lib.isWorkflowName('no-such-workflow')).toBe(false);
    const explain = await lib.loadWorkflow('explain');
    expect(explain.table).toBe(EXPLAIN_OPTIONS);
    expect(typeof lib.runWorkflow).toBe('function');
    expect(typeof lib.runWorkflowInWorker).toBe('function');
  });

  it('exports the named errors as WorkbenchError subclasses (they cross the contract as {name, message, details})', () => {
    const errors = Object.entries(lib).filter(([k, v]) => /^[A-Z]\w*Error$/.test(k) && typeof v === 'function');
    expect(errors.length).toBeGreaterThan(20);
    const notWorkbench = errors.filter(([, v]) => !((v as { prototype: unknown }).prototype instanceof WorkbenchError) && v !== WorkbenchError).map(([k]) => k);
    expect(notWorkbench).toEqual([]);
  });

  it('leaves engine plumbing out', () => {
    const internals = [
      'runTasks', 'serveTasks', 'workerInput', 'planTiles', 'defaultTileRows', 'DataParallelTrainer', 'OnnxTrainer', 'buildTrainGraph',
      'buildOnnxModel', 'buildTileModels', 'tapClasses', 'windowIndexPlan', 'onnxTileClassifier', 'loadOrt', 'SameConv2D', 'SeededDropout',
      'geologyLoss', 'writeManifest', 'saveModel', 'fileModelHandler',
    ];
    expect(internals.filter((k) => k in lib)).toEqual([]);
  });
});
