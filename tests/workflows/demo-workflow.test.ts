import { afterAll, describe, expect, it } from 'vitest';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { formatHelp } from '../../main/commands/command.ts';
import { demoCommand } from '../../main/cli/commands/demo.ts';
import { demoDataCommand } from '../../main/cli/commands/demo-data.ts';
import { demoDataWorkflow, demoDataResultLines } from '../../main/workflows/demo-data.ts';
import { demoWorkflow } from '../../main/workflows/demo.ts';
import { runWorkflow, WORKFLOW_NAMES } from '../../main/workflows/registry.ts';
import { InvalidOptionError } from '../../main/errors.ts';
import { REPO_ROOT, tempDir } from '../helpers/paths.ts';

/**
 * Issue 17 §1: demo-data and demo are workflows (typed options and result); demo runs the other
 * workflows with typed options instead of chaining CLI argv; both `--help` texts are unchanged.
 * The whole pipeline's numbers are checked by tests/cli/demo-pipeline.test.ts (the CLI runs this workflow).
 */
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('demo-data and demo workflows', () => {
  it('keep "geoanomaly demo --help" and "demo-data --help" byte-identical (tests/fixtures/help/, captured before the move)', () => {
    expect(formatHelp(demoCommand)).toBe(readFileSync(join(REPO_ROOT, 'tests/fixtures/help/demo.txt'), 'utf8'));
    expect(formatHelp(demoDataCommand)).toBe(readFileSync(join(REPO_ROOT, 'tests/fixtures/help/demo-data.txt'), 'utf8'));
    expect(WORKFLOW_NAMES).toEqual(expect.arrayContaining(['demo-data', 'demo']));
  });

  it('demo-data: the table defaults given or left out write the same bytes, and the result names the files', async () => {
    const a = tempDir('ga-demo-data-a-');
    const b = tempDir('ga-demo-data-b-');
    dirs.push(a, b);
    const ra = await demoDataWorkflow({ out: a, seed: 11, samples: 400 });
    // The same survey with every regime option spelled out at its documented default.
    const rb = await runWorkflow('demo-data', { out: b, seed: 11, samples: 400, deposits: 40, haloAlong: 2500, haloAcross: 700, faultControl: 1, noise: 1, decoys: 0 });
    expect(ra.seed).toBe(11);
    for (const k of ['samples', 'faults', 'deposits', 'truth'] as const) {
      expect(ra.outputs[k].startsWith(a)).toBe(true);
      expect(readFileSync(ra.outputs[k]).equals(readFileSync(rb.outputs[k])), k).toBe(true);
    }
    // 40 deposits, as the table's default says.
    expect((JSON.parse(readFileSync(ra.outputs.deposits, 'utf8')) as { features: unknown[] }).features).toHaveLength(40);
    expect(demoDataResultLines(ra)[0]).toBe(`samples   ${join(a, 'samples.csv')}`);
  });

  it('demo refuses a cell below 100 m with the CLI\'s named error, before writing anything', async () => {
    const out = join(tempDir('ga-demo-bad-'), 'run');
    dirs.push(out);
    await expect(demoWorkflow({ out, cell: 50 })).rejects.toThrow(new InvalidOptionError('geoanomaly demo: --cell must be at least 100 m'));
  });
});
