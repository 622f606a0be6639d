/**
 * The fault matrix: one row per fault case, printed as markdown at the end of the suite
 * and written to `test/faults/last-report.md`.
 */
import { writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

export const REPORT_PATH = fileURLToPath(new URL('./last-report.md', import.meta.url));

export interface FaultRow {
  /** Case letter, e.g. `a`. */
  id: string;
  fault: string;
  /** Migration runs started in the case (baseline and follow-ups included). */
  runs: number;
  /** What the product did: `published`, `failed cleanly (CODE)`, ... */
  outcome: string;
  /** `yes`: the faulted work ended published; `no`: it did not; `n/a`: a clean failure is the expected outcome. */
  recovered: 'yes' | 'no' | 'n/a';
  /** Source rows minus rows readable through `_current.json` (null: not measured). */
  rowsLost: number | null;
  /** count(*) - count(DISTINCT id) of what `_current.json` exposes. */
  duplicates: number | null;
  /** From the fault to the run published, seconds. */
  recoverSeconds: number | null;
  /** `pass`, `FAIL: ...`, `skipped: ...`, or `known bug (it.fails)`. */
  result: string;
  notes: string;
}

const cell = (v: string | number | null): string => (v === null ? '-' : String(v).replace(/\|/g, '\\|').replace(/\n/g, ' '));

export function renderMatrix(rows: readonly FaultRow[], header = '', footer = ''): string {
  const sorted = [...rows].sort((a, b) => a.id.localeCompare(b.id));
  const lines = [
    header,
    '| case | fault | runs | outcome | recovered | rows lost | duplicates | time to recover (s) | result | notes |',
    '|---|---|---:|---|---|---:|---:|---:|---|---|',
    ...sorted.map((r) =>
      `| ${cell(r.id)} | ${cell(r.fault)} | ${r.runs} | ${cell(r.outcome)} | ${r.recovered} | ${cell(r.rowsLost)} | ${cell(r.duplicates)} | ${cell(r.recoverSeconds === null ? null : r.recoverSeconds.toFixed(1))} | ${cell(r.result)} | ${cell(r.notes)} |`,
    ),
  ];
  if (footer) lines.push('', footer);
  return `${lines.filter((l, i) => i > 0 || l !== '').join('\n')}\n`;
}

export async function writeReport(rows: readonly FaultRow[], header: string, footer = ''): Promise<string> {
  const text = renderMatrix(rows, header, footer);
  await writeFile(REPORT_PATH, text);
  return text;
}
