import { describe, expect, it } from 'vitest';
import { comparisonsOf, comparisonText, modelEntries } from '../../renderer/src/lib/comparisons.ts';
import { formatComparison } from '../../main/eval/bootstrap.ts';

describe('compare view: comparisons from metrics.json', () => {
  const metrics = {
    cnn: { mean: { auc: 0.8 } },
    'gk-dcn': { mean: { auc: 0.83 } },
    comparisons: [
      { a: 'gk-dcn', b: 'cnn', metric: 'auc', diff: 0.03, ci95: [-0.05, 0.11], method: 'site bootstrap' },
      { a: 'gk-dcn', b: 'rf', metric: 'auc', diff: -0.12, ci95: [-0.2, -0.04], method: 'site bootstrap' },
    ],
  };
  it('prints the issue’s line, says when the interval includes 0, and matches the CLI/report wording', () => {
    const [c0, c1] = comparisonsOf(metrics);
    const t0 = comparisonText(c0);
    expect(t0.line).toBe('GK-DCN − CNN: ΔAUC +0.03 [−0.05, +0.11]');
    expect(t0.includesZero).toBe(true);
    expect(`${t0.line} (${t0.verdict})`).toBe(formatComparison({ ...c0, ci95: [c0.ci95[0], c0.ci95[1]] }));
    const t1 = comparisonText(c1);
    expect(t1.includesZero).toBe(false);
    expect(t1.verdict).toBe('RF is better');
    expect(Object.keys(modelEntries(metrics))).toEqual(['cnn', 'gk-dcn']);
    expect(comparisonsOf({ cnn: {} })).toEqual([]);
  });
});
