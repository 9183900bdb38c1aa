import { describe, expect, it } from 'vitest';
import { etaSeconds, etaText } from '../../renderer/src/lib/job-eta.ts';

describe('job ETA (renderer/src/lib/job-eta.ts)', () => {
  it('extrapolates the elapsed time linearly: 25 % done after 10 s → 30 s left; none below 2 % or when done', () => {
    const t0 = 1_000_000;
    expect(etaSeconds(t0, 0.25, t0 + 10_000)).toBe(30);
    expect(etaSeconds(t0, 0.5, t0 + 10_000)).toBe(10);
    // 2 % after 1 s: 1 / 0.02 × 0.98 = 49 s.
    expect(etaSeconds(t0, 0.02, t0 + 1_000)).toBe(49);
    expect(etaSeconds(t0, 0.019, t0 + 1_000)).toBeNull();
    expect(etaSeconds(t0, 1, t0 + 1_000)).toBeNull();
    expect(etaSeconds(t0, Number.NaN, t0 + 1_000)).toBeNull();
    expect(etaText(t0, 0.25, t0 + 10_000)).toBe(' · about 30 s left');
    expect(etaText(t0, 0, t0 + 10_000)).toBe('');
  });
});
