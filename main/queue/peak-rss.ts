import { readFileSync } from 'node:fs';

/**
 * Peak resident memory of THIS process (KB), as a worker reports it with each unit.
 *
 * Why not process.resourceUsage().maxRSS alone: on Linux, getrusage's ru_maxrss lives in the
 * process's signal struct, which survives fork + exec, so a child starts with its PARENT's peak
 * (measured: a node child of a 1.6 GB parent reports maxRSS 1,530 MB while its own VmHWM is
 * 39 MB). A worker spawned by a big process (the benchmark, after its local 3,000 × 3,000 run)
 * then reports the parent's peak: that was the "2.9 GB per worker" of the first full-size run.
 * /proc/self/status VmHWM is the high-water mark of this process's own address space (reset by
 * exec), so it is the figure to report; other systems fall back to maxRSS.
 */
export function peakRssKB(statusText?: string): number {
  let text = statusText;
  if (text === undefined) {
    try {
      text = readFileSync('/proc/self/status', 'utf8');
    } catch {
      return process.resourceUsage().maxRSS;
    }
  }
  const m = /^VmHWM:\s+(\d+)\s+kB/m.exec(text);
  return m ? Number(m[1]) : process.resourceUsage().maxRSS;
}

/** Peak resident memory (KB) of another process by pid (Linux /proc), or null where unavailable. */
export function peakRssOfPidKB(pid: number): number | null {
  try {
    const m = /^VmHWM:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}
