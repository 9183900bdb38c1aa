/**
 * Time left of a running job, shown beside its progress in the Jobs tab and the study wizard
 * (issue 18: every long step shows progress and ETA). A linear extrapolation of the elapsed time
 * over the fraction done; null below 2 % (too early to say anything useful) and at or past 100 %.
 */
export function etaSeconds(startedAt: number, fraction: number, now: number = Date.now()): number | null {
  if (!(fraction >= 0.02 && fraction < 1)) return null;
  return Math.round(((now - startedAt) / 1000 / fraction) * (1 - fraction));
}

/** " · about N s left", or nothing while no ETA is known. */
export function etaText(startedAt: number, fraction: number, now: number = Date.now()): string {
  const eta = etaSeconds(startedAt, fraction, now);
  return eta !== null ? ` · about ${eta} s left` : '';
}
