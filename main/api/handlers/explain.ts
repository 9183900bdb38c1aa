import type { HandlersOf } from './common.ts';

/** Interpretability (Compare view): a run's description, one cell explained (the explain workflow), run insight and attribution. */

type ExplainHandlers = HandlersOf<'describeRun' | 'explainSite' | 'runInsight' | 'attributeSite'>;

export function createExplainHandlers(): ExplainHandlers {
  return {
    async describeRun(p) {
      const { describeRun } = await import('../explain-requests.ts');
      return describeRun(p.runDir);
    },
    async explainSite(p) {
      const { explainSite } = await import('../explain-requests.ts');
      return explainSite(p);
    },
    async runInsight(p) {
      const { runInsight } = await import('../run-insight-requests.ts');
      return runInsight(p.runDir);
    },
    async attributeSite(p) {
      const { attributeSite } = await import('../run-insight-requests.ts');
      return attributeSite(p);
    },
  };
}
