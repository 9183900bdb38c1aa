import { InvalidOptionError } from '../../errors.ts';
import { MODEL_KINDS, type ModelKind } from '../architectures.ts';
import { BASELINE_KINDS, type BaselineKind } from './baseline-models.ts';

/**
 * `train --model` list: networks (cnn, dcn, gk-cnn, gk-dcn; `all` = the four) and baselines
 * (index, pc, logreg, rf; `baselines` = the four), comma separated, in the order given,
 * duplicates dropped.
 */
export function parseModelList(spec: string): { networks: ModelKind[]; baselines: BaselineKind[] } {
  const networks: ModelKind[] = [];
  const baselines: BaselineKind[] = [];
  const tokens = spec.split(',').map((s) => s.trim().toLowerCase()).filter((s) => s !== '');
  if (tokens.length === 0) throw new InvalidOptionError('--model is empty: give e.g. all, baselines, or a list such as gk-dcn,cnn,rf');
  for (const t of tokens) {
    const add = (k: string): void => {
      if ((MODEL_KINDS as readonly string[]).includes(k)) {
        if (!networks.includes(k as ModelKind)) networks.push(k as ModelKind);
      } else if (!baselines.includes(k as BaselineKind)) baselines.push(k as BaselineKind);
    };
    if (t === 'all') MODEL_KINDS.forEach(add);
    else if (t === 'baselines') BASELINE_KINDS.forEach(add);
    else if ((MODEL_KINDS as readonly string[]).includes(t) || (BASELINE_KINDS as readonly string[]).includes(t)) add(t);
    else throw new InvalidOptionError(`unknown model "${t}" in --model: expected ${MODEL_KINDS.join(', ')}, all, ${BASELINE_KINDS.join(', ')} or baselines (comma separated)`);
  }
  return { networks, baselines };
}

/**
 * The order of paired comparisons: later networks first (gk-dcn − cnn, the paper's claim, reads
 * as a positive number when it holds), then the baselines, so every network is compared as
 * "network − baseline".
 */
export function comparisonOrder(names: readonly string[]): string[] {
  const nets = MODEL_KINDS.filter((k) => names.includes(k)).reverse();
  const base = BASELINE_KINDS.filter((k) => names.includes(k)).reverse();
  return [...nets, ...base];
}
