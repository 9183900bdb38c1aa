import { InvalidOptionError } from '../errors.ts';

/**
 * Early-stopping criteria of trainModel (docs/gk-dcn.md, "Training that converges").
 *
 *  - 'raw': the per-epoch validation loss. An epoch improves when its loss is below the best so
 *    far; training stops after `patience` epochs without one. This is what trainModel always did.
 *    With 1–3 validation sites per class the per-epoch loss jumps by 20–300 % within a few
 *    epochs, so a single lucky low epoch early on is never beaten and becomes the kept one.
 *  - 'smoothed': the trailing mean of the validation loss over the last `window` epochs (all
 *    `window` must exist, so the first eligible epoch is max(minEpochs, window)). An epoch
 *    improves when that mean is below (1 − minRelImprovement) × the best mean so far (PyTorch
 *    ReduceLROnPlateau's relative threshold); training stops after `patience` epochs without
 *    one. Averaging `window` epochs divides the sd of independent epoch-to-epoch noise by
 *    √window, and the relative threshold keeps a flat noisy curve from "improving" by ever
 *    smaller record lows, so it stops on a plateau; a falling curve keeps beating its own mean,
 *    so it keeps training. The kept weights are those at the end of the best window (the mean
 *    lags the trend by (window − 1)/2 epochs, which is immaterial on a plateau).
 */
export type StopOn = 'raw' | 'smoothed';
export const STOP_ON: readonly StopOn[] = ['raw', 'smoothed'];

/** The CLI's spelling of --stop-on. */
export function parseStopOn(spec: string): StopOn {
  const s = spec.trim().toLowerCase();
  if (s === 'raw' || s === 'smoothed') return s;
  throw new InvalidOptionError(`early-stopping criterion "${spec}" is not one of raw, smoothed (e.g. --stop-on smoothed)`);
}

export interface StoppingOptions {
  readonly stopOn: StopOn;
  /** Epochs without improvement (counted from the first eligible epoch) before stopping. */
  readonly patience: number;
  /** First epoch that may be kept or counted (1-based). */
  readonly minEpochs: number;
  /** 'smoothed': epochs in the trailing mean. @default 5 */
  readonly window?: number;
  /** 'smoothed': relative decrease of the mean that counts as improvement. @default 0.01 */
  readonly minRelImprovement?: number;
}

export const SMOOTHED_DEFAULTS = { window: 5, minRelImprovement: 0.01 } as const;

/** What one epoch's validation loss means for early stopping. */
export interface StoppingStep {
  /** The monitored value this epoch (the raw loss, or the trailing mean; undefined before it exists). */
  readonly monitored?: number;
  /** This epoch is the new best: keep its weights. */
  readonly improved: boolean;
  /** Patience ran out: stop after this epoch. */
  readonly stop: boolean;
}

export class EarlyStopping {
  private readonly window: number;
  private readonly minRel: number;
  private readonly recent: number[] = [];
  private best = Infinity;
  private sinceBest = 0;
  private bestEpochSeen = 0;

  constructor(private readonly o: StoppingOptions) {
    if (!STOP_ON.includes(o.stopOn)) throw new InvalidOptionError(`early-stopping criterion must be one of ${STOP_ON.join(', ')}, got "${String(o.stopOn)}"`);
    if (!(Number.isInteger(o.patience) && o.patience >= 1)) throw new InvalidOptionError(`patience must be a positive integer, got ${o.patience}`);
    if (!(Number.isInteger(o.minEpochs) && o.minEpochs >= 1)) throw new InvalidOptionError(`minimum epochs must be a positive integer, got ${o.minEpochs}`);
    this.window = o.window ?? SMOOTHED_DEFAULTS.window;
    this.minRel = o.minRelImprovement ?? SMOOTHED_DEFAULTS.minRelImprovement;
    if (!(Number.isInteger(this.window) && this.window >= 1)) throw new InvalidOptionError(`smoothing window must be a positive integer, got ${this.window}`);
    if (!(this.minRel >= 0 && this.minRel < 1)) throw new InvalidOptionError(`minimum relative improvement must be in [0, 1), got ${this.minRel}`);
  }

  /** First epoch that can be kept, for a run of at most `epochs` epochs. */
  static firstEligibleEpoch(o: Pick<StoppingOptions, 'stopOn' | 'minEpochs' | 'window'>, epochs: number): number {
    const w = o.stopOn === 'smoothed' ? (o.window ?? SMOOTHED_DEFAULTS.window) : 1;
    return Math.max(1, Math.min(epochs, Math.max(o.minEpochs, w)));
  }

  /** The 1-based epoch of the best monitored value so far (0 = none yet). */
  get bestEpoch(): number {
    return this.bestEpochSeen;
  }

  /**
   * Feeds epoch `epoch`'s validation loss. `lastEpoch` = the run's maximum epochs: when the run
   * is shorter than the window, its last epoch is eligible with a partial mean, so a short run
   * still keeps its best rather than nothing.
   */
  observe(epoch: number, valLoss: number, lastEpoch = Infinity): StoppingStep {
    // A NaN loss never improves (comparisons with NaN are false) and counts against patience.
    let monitored: number | undefined;
    let eligible = epoch >= this.o.minEpochs;
    if (this.o.stopOn === 'raw') {
      monitored = valLoss;
    } else {
      this.recent.push(valLoss);
      if (this.recent.length > this.window) this.recent.shift();
      const full = this.recent.length === this.window || epoch >= lastEpoch;
      monitored = this.recent.reduce((s, v) => s + v, 0) / this.recent.length;
      eligible &&= full;
    }
    if (!eligible) return { monitored, improved: false, stop: false };
    const threshold = this.o.stopOn === 'raw' ? this.best : this.best * (1 - this.minRel);
    if (monitored < threshold) {
      this.best = monitored;
      this.sinceBest = 0;
      this.bestEpochSeen = epoch;
      return { monitored, improved: true, stop: false };
    }
    this.sinceBest++;
    return { monitored, improved: false, stop: this.sinceBest >= this.o.patience };
  }
}
