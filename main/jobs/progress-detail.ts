/**
 * Typed progress payloads that travel beside a progress message: data the app plots, so that no
 * caller parses numbers back out of message text. Node-free and type-only: the contract (and so
 * the renderer) imports it.
 */

/** One epoch of one model's training: a point of the live learning curve. */
export interface EpochProgress {
  readonly kind: 'epoch';
  /** Model kind being trained (cnn, dcn, gk-cnn, gk-dcn). */
  readonly model: string;
  /** 1-based epoch that just ended, of `epochs` at most. */
  readonly epoch: number;
  readonly epochs: number;
  /** Mean training loss of the epoch. */
  readonly loss: number;
  /** Validation loss after the epoch, or null when the run holds out no validation sites. */
  readonly valLoss: number | null;
}

/** Everything a progress event may carry as data (one kind today; the union grows with new plots). */
export type ProgressDetail = EpochProgress;
