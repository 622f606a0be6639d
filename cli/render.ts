/**
 * Human output: live per-table progress on a TTY, plain lines elsewhere, and the
 * closing summary table.
 */
import type { RunStatus, TableStatus } from '../queues/index.js';
import { formatTableRef } from '../src/shared/table-schema.js';

/**
 * `1234567` as `1,234,567`. Written out rather than `Intl.NumberFormat`/`toLocaleString`:
 * the first use of ICU's locale data maps ~4 MB more of the Node binary into every
 * process that prints progress, the exporting worker of `migrate --inline` among them.
 */
export function formatCount(n: number): string {
  const [whole = '', frac] = String(n).split('.');
  const grouped = whole.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return frac === undefined ? grouped : `${grouped}.${frac}`;
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(1)} ${units[i]}`;
}

function bar(fraction: number, width = 20): string {
  const f = Math.max(0, Math.min(1, fraction));
  const full = Math.round(f * width);
  return `[${'#'.repeat(full)}${'.'.repeat(width - full)}]`;
}

/** rows/s from a table's start time. */
export function rate(t: TableStatus, now = Date.now()): number {
  if (!t.startedAt || t.rows === 0) return 0;
  const seconds = (t.exportSeconds ?? (now - Date.parse(t.startedAt)) / 1000) || 1;
  return t.rows / seconds;
}

function progressLine(t: TableStatus, nameWidth: number): string {
  const name = formatTableRef(t.table).padEnd(nameWidth);
  const state = t.state.padEnd(9);
  const total = t.estimatedRows > 0 ? t.estimatedRows : 0;
  const fraction = t.state === 'published' ? 1 : total > 0 ? t.rows / total : 0;
  const rows = `${formatCount(t.rows)}${total > 0 && t.state !== 'published' ? ` / ~${formatCount(total)}` : ''} rows`;
  const speed = t.state === 'exporting' && t.rows > 0 ? `  ${formatCount(Math.round(rate(t)))} rows/s` : '';
  const err = t.state === 'failed' && t.error ? `  ${t.error.message}` : '';
  return `${name}  ${state} ${bar(fraction)} ${rows}${speed}${err}`;
}

/** Redraws the progress block in place (TTY). */
export class LiveProgress {
  #lines = 0;
  readonly #out: NodeJS.WriteStream;

  constructor(out: NodeJS.WriteStream) {
    this.#out = out;
  }

  render(run: RunStatus): void {
    const width = Math.max(...run.tables.map((t) => formatTableRef(t.table).length));
    const lines = run.tables.map((t) => progressLine(t, width));
    if (this.#lines > 0) this.#out.write(`\x1b[${this.#lines}A`);
    for (const l of lines) this.#out.write(`\x1b[2K${l.slice(0, (this.#out.columns ?? 200) - 1)}\n`);
    this.#lines = lines.length;
  }
}

/** Prints a line whenever a table changes state (non-TTY: logs, CI). */
export class StateChangePrinter {
  readonly #seen = new Map<string, string>();
  readonly #out: NodeJS.WritableStream;

  constructor(out: NodeJS.WritableStream) {
    this.#out = out;
  }

  render(run: RunStatus): void {
    for (const t of run.tables) {
      const key = formatTableRef(t.table);
      if (this.#seen.get(key) === t.state) continue;
      this.#seen.set(key, t.state);
      this.#out.write(`${key}: ${t.state}${t.state === 'failed' && t.error ? ` - ${t.error.message}` : ''}\n`);
    }
  }
}

/** The closing table: one row per table. */
export function summaryTable(run: RunStatus): string {
  const header = ['table', 'state', 'rows', 'files', 'bytes', 'export s', 'rows/s', 'verified'];
  const rows = run.tables.map((t) => [
    formatTableRef(t.table),
    t.state,
    formatCount(t.rows),
    String(t.files),
    formatBytes(t.bytes),
    t.exportSeconds !== undefined ? t.exportSeconds.toFixed(1) : '-',
    t.exportSeconds ? formatCount(Math.round(t.rows / t.exportSeconds)) : '-',
    t.verification ?? (t.state === 'failed' ? 'no' : '-'),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const fmt = (r: string[]): string => r.map((c, i) => (i >= 2 && i <= 6 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ');
  const lines = [fmt(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(fmt)];
  for (const t of run.tables) if (t.state === 'failed' && t.error) lines.push(`${formatTableRef(t.table)} failed: ${t.error.message}`);
  return lines.join('\n');
}
