/**
 * Peak resident memory of a child process, read from Linux /proc.
 *
 * Two sources, the larger wins:
 *   - `VmHWM` (the kernel's own high-water mark), read at every poll and once more right
 *     before the harness stops the process (`captureHighWaterMark`): exact, except that a
 *     process exiting on its own may rise in its last poll interval;
 *   - `VmRSS` polled every 100 ms (`RssSampler`), in case `VmHWM` is not available.
 */
import { readFileSync } from 'node:fs';

type StatusField = 'VmHWM' | 'VmRSS';

/** Fields of /proc/<pid>/status in kB (absent when the process is gone, or not Linux). */
function readStatus(pid: number): Partial<Record<StatusField, number>> {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return {};
  }
  const out: Partial<Record<StatusField, number>> = {};
  for (const field of ['VmHWM', 'VmRSS'] as const) {
    const m = new RegExp(`^${field}:\\s+(\\d+)\\s+kB`, 'm').exec(text);
    if (m) out[field] = Number(m[1]);
  }
  return out;
}

/** Our own peak (used by the measurement children to report themselves). */
export function selfPeakKb(): number | undefined {
  return readStatus(process.pid).VmHWM;
}

export function kbToMb(kb: number | undefined): number | null {
  return kb === undefined ? null : Math.round((kb / 1024) * 10) / 10;
}

/** Polls VmRSS of one pid every `intervalMs` and keeps the maximum. */
export class RssSampler {
  private maxKb = 0;
  private hwmKb = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(
    readonly pid: number,
    intervalMs = 100,
  ) {
    this.sample();
    this.timer = setInterval(() => this.sample(), intervalMs);
    this.timer.unref();
  }

  private sample(): void {
    const { VmRSS: rss, VmHWM: hwm } = readStatus(this.pid);
    if (rss !== undefined && rss > this.maxKb) this.maxKb = rss;
    if (hwm !== undefined && hwm > this.hwmKb) this.hwmKb = hwm;
  }

  /** Reads VmHWM now (call while the process is still alive, right before stopping it). */
  captureHighWaterMark(): void {
    this.sample();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** Peak RSS in kB (max of VmHWM if captured and the polled VmRSS), or undefined if never seen. */
  get peakKb(): number | undefined {
    const v = Math.max(this.maxKb, this.hwmKb);
    return v > 0 ? v : undefined;
  }

  get source(): 'VmHWM' | 'VmRSS-poll' {
    return this.hwmKb >= this.maxKb && this.hwmKb > 0 ? 'VmHWM' : 'VmRSS-poll';
  }
}
