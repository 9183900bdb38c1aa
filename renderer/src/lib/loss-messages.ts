// Pure (no DOM, no Svelte): shared by the Training panel and its Node tests.

/** One point of a live loss curve, parsed from the progress message of main/models/train.ts. */
export interface LossPoint {
  readonly model: string;
  readonly epoch: number;
  readonly loss: number;
  readonly valLoss: number | null;
}

const LOSS_MESSAGE = /(\S+) epoch (\d+)\/\d+ loss ([\d.eE+-]+)(?: val ([\d.eE+-]+))?/;

/** "cnn epoch 3/60 loss 0.5123 val 0.6011" → a point; other messages → null. */
export function parseLossMessage(message: string): LossPoint | null {
  const m = LOSS_MESSAGE.exec(message);
  if (!m) return null;
  return { model: m[1], epoch: Number(m[2]), loss: Number(m[3]), valLoss: m[4] === undefined ? null : Number(m[4]) };
}
