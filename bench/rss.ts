/**
 * Peak resident memory of a child process, read from Linux /proc.
 *
 * Two sources, the larger wins:
 *   - `VmHWM` (the kernel's own high-water mark) read right before the process exits
 *     (`readPeakKb`), exact but only available while the process is alive;
 *   - `VmRSS` polled every 100 ms (`RssSampler`), which keeps working if the process
 *     exits on its own before we can read `VmHWM`.
 */
import { readFileSync } from 'node:fs';

/** A field of /proc/<pid>/status in kB, or undefined if the process is gone (or not Linux). */
export function readStatusKb(pid: number, field: 'VmHWM' | 'VmRSS'): number | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/status`, 'utf8');
    const m = new RegExp(`^${field}:\\s+(\\d+)\\s+kB`, 'm').exec(text);
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** Our own peak (used by the measurement children to report themselves). */
export function selfPeakKb(): number | undefined {
  return readStatusKb(process.pid, 'VmHWM');
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
    const rss = readStatusKb(this.pid, 'VmRSS');
    if (rss !== undefined && rss > this.maxKb) this.maxKb = rss;
  }

  /** Reads VmHWM now (call while the process is still alive, right before stopping it). */
  captureHighWaterMark(): void {
    const hwm = readStatusKb(this.pid, 'VmHWM');
    if (hwm !== undefined && hwm > this.hwmKb) this.hwmKb = hwm;
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
