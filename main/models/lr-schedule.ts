import { InvalidOptionError } from '../errors.ts';

/**
 * Learning-rate schedules of trainModel, applied once per epoch (both engines read the rate
 * before each epoch: tfjs' Adam reads `learningRate` at every step, the ONNX engine's Adam is JS).
 *
 *  - 'constant': lr₀ throughout (the behaviour before schedules existed).
 *  - 'cosine': lr₀ · (f + (1 − f) · ½(1 + cos(π·(e − 1)/(E − 1)))) over the maximum epochs E,
 *    f = `minFactor` (SGDR's annealing without restarts, Loshchilov & Hutter 2017).
 *  - 'plateau': Keras' ReduceLROnPlateau: halve the rate when the validation loss has not improved
 *    for `plateauPatience` epochs, never below lr₀·f; without a validation split it stays at lr₀.
 */
export type LrSchedule = 'constant' | 'cosine' | 'plateau';
export const LR_SCHEDULES: readonly LrSchedule[] = ['constant', 'cosine', 'plateau'];

/** The CLI's spelling: 'none' (or 'constant'), 'cosine', 'plateau'. */
export function parseLrSchedule(spec: string): LrSchedule {
  const s = spec.trim().toLowerCase();
  if (s === 'none' || s === 'constant') return 'constant';
  if (s === 'cosine' || s === 'plateau') return s;
  throw new InvalidOptionError(`learning-rate schedule "${spec}" is not one of cosine, plateau, none (e.g. --lr-schedule cosine)`);
}

export interface LrScheduleOptions {
  readonly schedule: LrSchedule;
  readonly learningRate: number;
  readonly epochs: number;
  /** Floor as a share of lr₀. @default 0.05 */
  readonly minFactor?: number;
  /** 'plateau': epochs without improvement before the rate is halved. @default 5 */
  readonly plateauPatience?: number;
}

export class LearningRateSchedule {
  private lr: number;
  private sinceImprovement = 0;
  private bestLoss = Infinity;
  private readonly minFactor: number;
  private readonly plateauPatience: number;

  constructor(private readonly o: LrScheduleOptions) {
    if (!LR_SCHEDULES.includes(o.schedule)) throw new InvalidOptionError(`learning-rate schedule must be one of ${LR_SCHEDULES.join(', ')}, got "${String(o.schedule)}"`);
    this.minFactor = o.minFactor ?? 0.05;
    this.plateauPatience = o.plateauPatience ?? 5;
    if (!(this.minFactor > 0 && this.minFactor <= 1)) throw new InvalidOptionError(`learning-rate floor factor must be in (0, 1], got ${this.minFactor}`);
    if (!(Number.isInteger(this.plateauPatience) && this.plateauPatience >= 1)) {
      throw new InvalidOptionError(`plateau patience must be a positive integer, got ${this.plateauPatience}`);
    }
    this.lr = o.learningRate;
  }

  /** Rate of (1-based) epoch `epoch`. */
  rateFor(epoch: number): number {
    const { schedule, learningRate, epochs } = this.o;
    if (schedule === 'cosine') {
      const t = epochs > 1 ? (epoch - 1) / (epochs - 1) : 0;
      return learningRate * (this.minFactor + (1 - this.minFactor) * 0.5 * (1 + Math.cos(Math.PI * t)));
    }
    return this.lr;
  }

  /** Tells the schedule the validation loss at the end of an epoch ('plateau' only uses it). */
  observe(valLoss: number | undefined): void {
    if (this.o.schedule !== 'plateau' || valLoss === undefined) return;
    // PyTorch ReduceLROnPlateau's default threshold 1e-4 (mode 'rel'), so float noise does not count
    // as improvement (Keras' min_delta is absolute; a relative one suits losses of any scale).
    if (valLoss < this.bestLoss * (1 - 1e-4)) {
      this.bestLoss = valLoss;
      this.sinceImprovement = 0;
    } else if (++this.sinceImprovement >= this.plateauPatience) {
      this.lr = Math.max(this.o.learningRate * this.minFactor, this.lr * 0.5);
      this.sinceImprovement = 0;
    }
  }
}
