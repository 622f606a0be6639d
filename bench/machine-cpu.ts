/**
 * Busy CPU seconds of the whole machine between two readings of `/proc/stat`: every process
 * a path runs counts (the COPY's Postgres backend and psql, DuckDB, corrente and its source
 * checksum query), and so does anything else running, which is why the bench records the
 * load beside it. Divided by the cores, it is the shortest wall time any schedule of that
 * work could reach on this machine: a path that needs more CPU than another cannot beat it
 * by more than the idle cores the other leaves.
 */
import { readFileSync } from 'node:fs';

/** `/proc/stat` counts in USER_HZ, which Linux fixes at 100 for user space. */
const TICKS_PER_SECOND = 100;

/**
 * Busy ticks of the `cpu` line of `/proc/stat`: user, nice, system, irq, softirq and steal
 * (guest time is already inside user); idle and iowait are not busy.
 */
export function busyTicks(procStat: string): number | undefined {
  const line = procStat.split('\n').find((l) => l.startsWith('cpu '));
  if (!line) return undefined;
  const fields = line.trim().split(/\s+/).slice(1).map(Number);
  // Older kernels end the line before irq, softirq or steal: those count as 0.
  const busy = [0, 1, 2, 5, 6, 7].filter((i) => i < fields.length).map((i) => fields[i]!);
  return busy.length >= 3 && busy.every(Number.isFinite) ? busy.reduce((a, b) => a + b, 0) : undefined;
}

function readBusyTicks(): number | undefined {
  try {
    return busyTicks(readFileSync('/proc/stat', 'utf8'));
  } catch {
    return undefined;
  }
}

/**
 * Starts counting; the function returned gives the busy CPU seconds since, or null where
 * `/proc/stat` cannot be read.
 */
export function startCpuCount(): () => number | null {
  const before = readBusyTicks();
  return () => {
    const after = readBusyTicks();
    return before === undefined || after === undefined ? null : (after - before) / TICKS_PER_SECOND;
  };
}
