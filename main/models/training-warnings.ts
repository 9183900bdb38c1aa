import type { CrossValidationResult } from './cross-validate.ts';
import type { EpochRecord } from './train.ts';
import { checkFoldCollapse, checkValidationImproves, type TrustWarning } from '../eval/trust-checks.ts';

/**
 * The trust checks of one trained model kind (main/eval/trust-checks.ts): predictions that
 * collapse to one class in most cross-validation folds, and a final model whose validation loss
 * never improved on its first epoch. Baselines have no learning curve: only the first applies.
 */
export function trainingWarnings(kind: string, r: { readonly cv: CrossValidationResult; readonly final?: { readonly history?: readonly EpochRecord[] } }): TrustWarning[] {
  return [...checkFoldCollapse(r.cv.folds, kind), ...(r.final?.history ? checkValidationImproves(r.final.history, kind) : [])];
}
