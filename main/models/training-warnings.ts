import type { CrossValidationResult } from './cross-validate.ts';
import { checkTrainOptions, type EpochRecord } from './train.ts';
import { EarlyStopping } from './stopping.ts';
import { checkFoldCollapse, checkFoldValidation, checkValidationImproves, type TrustWarning } from '../eval/trust-checks.ts';

/**
 * The trust checks of one trained model kind (main/eval/trust-checks.ts): predictions that
 * collapse to one class in most cross-validation folds, folds that kept their first eligible
 * epoch, and a final model whose validation loss never improved on its first epoch. Baselines
 * have no epochs: only the first applies. One 'validation-never-improves' warning per model at
 * most (the final model's, which names its curve, else the folds').
 */
export function trainingWarnings(kind: string, r: { readonly cv: CrossValidationResult; readonly final?: { readonly history?: readonly EpochRecord[] } }): TrustWarning[] {
  const out = checkFoldCollapse(r.cv.folds, kind);
  if (!r.final?.history) return out;
  // Defaults applied as trainModel applied them (nested tuning may have changed epochs per fold).
  const t = checkTrainOptions(r.cv.options.train);
  const final = checkValidationImproves(r.final.history, kind);
  // The first epoch the criterion could keep: --min-epochs, or the smoothing window with --stop-on smoothed.
  const first = EarlyStopping.firstEligibleEpoch(t, t.epochs);
  const folds = t.validationFraction > 0 ? checkFoldValidation(r.cv.folds, first, t.epochs, kind) : [];
  return [...out, ...(final.length > 0 ? final : folds)];
}
