/**
 * Learning-rate schedules (main/models/lr-schedule.ts) against the documented formulas:
 * PyTorch's CosineAnnealingLR (η_t = η_min + ½(η_max − η_min)(1 + cos(π·T_cur/T_max)), here with
 * T_cur = epoch − 1, T_max = epochs − 1, η_min = minFactor·lr₀) and Keras' ReduceLROnPlateau
 * (factor 0.5; reduce once `patience` epochs in a row brought no improvement; wait resets after a
 * reduction; min_lr = minFactor·lr₀), with PyTorch's relative threshold 1e-4 as "improvement".
 */
import { describe, expect, it } from 'vitest';
import { LearningRateSchedule } from '../../main/models/lr-schedule.ts';
import { InvalidOptionError } from '../../main/errors.ts';

describe('learning-rate schedules', () => {
  it('cosine follows CosineAnnealingLR from lr₀ to minFactor·lr₀ (rel. 1e-12)', () => {
    const lr0 = 3e-3;
    const E = 11;
    const f = 0.05;
    const s = new LearningRateSchedule({ schedule: 'cosine', learningRate: lr0, epochs: E, minFactor: f });
    const etaMin = f * lr0;
    for (let e = 1; e <= E; e++) {
      const ref = etaMin + 0.5 * (lr0 - etaMin) * (1 + Math.cos((Math.PI * (e - 1)) / (E - 1)));
      expect(Math.abs(s.rateFor(e) - ref) / ref).toBeLessThan(1e-12);
    }
    expect(s.rateFor(1)).toBeCloseTo(lr0, 15);
    expect(s.rateFor(6)).toBeCloseTo((lr0 + etaMin) / 2, 15); // half-way: the mean of the two ends
    expect(s.rateFor(E)).toBeCloseTo(etaMin, 15);
    s.observe(10); // the validation loss does not change a cosine schedule
    expect(s.rateFor(2)).toBeCloseTo(etaMin + 0.5 * (lr0 - etaMin) * (1 + Math.cos(Math.PI / 10)), 15);
  });

  it('plateau halves after `patience` epochs without improvement, resets, and stops at the floor', () => {
    const lr0 = 1e-3;
    const s = new LearningRateSchedule({ schedule: 'plateau', learningRate: lr0, epochs: 100, plateauPatience: 2, minFactor: 0.2 });
    // Hand simulation of ReduceLROnPlateau(factor=0.5, patience=2, min_lr=2e-4, threshold=1e-4 rel).
    const losses = [1.0, 0.9, 0.95, 0.9, 0.89995, 0.89994, 0.8, 0.85, 0.81, 0.82, 0.83];
    const expected: number[] = [];
    let lr = lr0;
    let best = Infinity;
    let wait = 0;
    for (const l of losses) {
      expected.push(lr);
      if (l < best * (1 - 1e-4)) {
        best = l;
        wait = 0;
      } else if (++wait >= 2) {
        lr = Math.max(0.2 * lr0, lr * 0.5);
        wait = 0;
      }
    }
    const got = losses.map((l, i) => {
      const r = s.rateFor(i + 1);
      s.observe(l);
      return r;
    });
    expect(got).toEqual(expected);
    // The sequence above really exercises the rule: two halvings, then the floor.
    expect(got.slice(0, 4)).toEqual([1e-3, 1e-3, 1e-3, 1e-3]);
    expect(got[4]).toBe(5e-4); // 0.95, 0.9 did not beat 0.9 → halved before epoch 5
    expect(got[6]).toBe(2.5e-4); // 0.89995, 0.89994 are within the 1e-4 threshold of 0.9: no improvement
    expect(got[9]).toBe(2e-4); // 0.85, 0.81 did not beat 0.8 → halved to 1.25e-4, held at the floor
    expect(got[got.length - 1]).toBe(2e-4); // floor minFactor·lr₀
  });

  it('constant and plateau without validation keep lr₀; bad options are refused', () => {
    const c = new LearningRateSchedule({ schedule: 'constant', learningRate: 1e-3, epochs: 5 });
    const p = new LearningRateSchedule({ schedule: 'plateau', learningRate: 1e-3, epochs: 5, plateauPatience: 1 });
    for (let e = 1; e <= 5; e++) {
      expect(c.rateFor(e)).toBe(1e-3);
      expect(p.rateFor(e)).toBe(1e-3);
      c.observe(1);
      p.observe(undefined);
    }
    expect(() => new LearningRateSchedule({ schedule: 'step' as never, learningRate: 1e-3, epochs: 5 })).toThrow(InvalidOptionError);
    expect(() => new LearningRateSchedule({ schedule: 'cosine', learningRate: 1e-3, epochs: 5, minFactor: 0 })).toThrow(InvalidOptionError);
    expect(() => new LearningRateSchedule({ schedule: 'plateau', learningRate: 1e-3, epochs: 5, plateauPatience: 0 })).toThrow(InvalidOptionError);
  });
});
