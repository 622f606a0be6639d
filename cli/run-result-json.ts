/**
 * The machine-readable form of a run, shared by `migrate --json` and `status --json`.
 * Kept apart from the commands so `status` loads none of the export machinery.
 */
import type { RunStatus } from '../queues/index.js';
import { formatTableRef } from '../src/shared/table-schema.js';
import { rate } from './render.js';

/** The machine-readable result of a run (`--json`). */
export function runResultJson(run: RunStatus): object {
  return {
    runId: run.runId,
    ok: run.tables.every((t) => t.state === 'published' || t.state === 'skipped'),
    tables: run.tables.map((t) => ({
      table: formatTableRef(t.table),
      state: t.state,
      rows: t.rows,
      bytes: t.bytes,
      files: t.uris ?? [],
      checksums: t.checksums ?? [],
      verification: t.verification ?? null,
      exportSeconds: t.exportSeconds ?? null,
      verifySeconds: t.verifySeconds ?? null,
      rowsPerSecond: t.exportSeconds ? Math.round(rate(t)) : null,
      stages: t.stages ?? null,
      workDiskPeakBytes: t.workDiskPeakBytes ?? null,
      ...(t.schemaChanges ? { schemaChanges: t.schemaChanges } : {}),
      ...(t.error ? { error: t.error } : {}),
    })),
  };
}
