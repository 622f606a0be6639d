/**
 * Decides, inside the export's snapshot, whether a table configured with `incremental:`
 * gets an incremental run (and which rows it holds) or a full one (and why). The new
 * watermark and the rows are read in the same snapshot, with the database's clock, so no
 * row can fall between them.
 */
import type { IncrementalConfig } from '../config/index.js';
import { readCurrentPointer, readWatermark, type CurrentPointer, type IncrementalInfo, type Watermark } from '../lake/index.js';
import {
  columnWindowFilter,
  describeTarget,
  mapPgError,
  parseXidSnapshot,
  readColumnMax,
  readSnapshotNow,
  readTableOid,
  readXidSnapshot,
  subtractInterval,
  watermarkKind,
  xminWindowFilter,
  type RowFilter,
  type ReadSession,
} from '../postgres/index.js';
import { formatTableRef, type TableSchema } from '../shared/table-schema.js';
import { CorrenteError } from '../shared/errors.js';
import type { ExportDeps, ExportRequest } from './export-types.js';

/**
 * Largest xid distance between the previous snapshot's xmin and the current xmax that an
 * xmin window accepts: 2^31, half the 32-bit space a row's `xmin` lives in (the filter is
 * exact up to 2^32; the margin covers ids Postgres hands out while we read).
 */
const XMIN_TRUST_LIMIT = 1n << 31n;

export type WindowPlan =
  | { kind: 'full'; info: IncrementalInfo }
  | { kind: 'incremental'; info: IncrementalInfo; filter: RowFilter; base: CurrentPointer; watermarkKind?: 'time' | 'integer' };

const MIN_BIGINT = '-9223372036854775808';

function describeOverlap(cfg: IncrementalConfig): string | undefined {
  if (!('column' in cfg) || !cfg.overlap) return undefined;
  return 'ms' in cfg.overlap ? `${cfg.overlap.ms / 1000}s` : String(cfg.overlap.count);
}

/** Why the previous watermark cannot start this run's window (undefined: it can). */
function fullReason(req: ExportRequest, cfg: IncrementalConfig, watermark: Watermark | undefined, pointer: CurrentPointer | undefined, tableOid: string, snapshotTime: string): string | undefined {
  if (req.fullRefresh) return 'full refresh requested (--full-refresh)';
  if (!pointer) return 'first export of the table';
  if (!watermark) return 'no watermark published yet';
  if (watermark.baseRunId !== pointer.runId) return `the current run ${pointer.runId} is not the base ${watermark.baseRunId} of the watermark`;
  const mode = 'mode' in cfg ? 'xmin' : 'column';
  if (watermark.mode !== mode || (mode === 'column' && watermark.column !== (cfg as { column: string }).column)) return 'the incremental mode or column changed';
  if (watermark.tableOid && tableOid && watermark.tableOid !== tableOid) return 'the source table was recreated since the watermark (new oid)';
  if (cfg.fullEvery !== undefined) {
    const age = Date.parse(snapshotTime) - Date.parse(watermark.baseSnapshotTime);
    if (age >= cfg.fullEvery) return `periodic full run: the base is ${(age / 3_600_000).toFixed(1)} h old (fullEvery)`;
  }
  return undefined;
}

/**
 * Plans the run in `session` (the export's snapshot).
 * @throws CorrenteError `CONFIG_INVALID` for a missing or unorderable watermark column,
 *   or a table without a primary key.
 */
export async function planWindow(deps: ExportDeps, session: ReadSession, schema: TableSchema, req: ExportRequest & { incremental: IncrementalConfig }): Promise<WindowPlan> {
  const cfg = req.incremental;
  const overlapCfg = 'column' in cfg ? cfg.overlap : undefined;
  const table = formatTableRef(schema.table);
  const option = `tables[${table}].incremental`;
  if (schema.primaryKey.length === 0) {
    throw new CorrenteError('CONFIG_INVALID', `${option}: ${table} has no primary key, so increments cannot be merged`, {
      table,
      option,
      hint: 'Add a primary key to the table, or remove incremental: to export it in full each time',
    });
  }
  const kind = 'column' in cfg ? watermarkKind(schema, cfg.column, `${option}.column`) : undefined;
  const bucket = deps.buckets[req.layer];
  const [pointer, watermark] = await Promise.all([readCurrentPointer(deps.store, bucket, req.table), readWatermark(deps.store, bucket, req.table)]);
  const pg = <T>(p: Promise<T>): Promise<T> =>
    p.catch((err: unknown) => {
      throw mapPgError(err, describeTarget(deps.postgresUrl), { table });
    });
  const [nowText, tableOid] = await pg(Promise.all([readSnapshotNow(session.client), readTableOid(session.client, schema)]));
  const overlap = describeOverlap(cfg);
  const common = { tableOid, ...(overlap ? { overlap } : {}) };

  // The new watermark, read in this snapshot.
  let to: string;
  let xmax: bigint | undefined;
  if (kind === 'time') to = nowText;
  else if (kind === 'integer') to = (await pg(readColumnMax(session.client, schema, (cfg as { column: string }).column))) ?? (watermark?.value ?? MIN_BIGINT);
  else {
    const snap = await pg(readXidSnapshot(session.client));
    to = snap.text;
    xmax = snap.xmax;
  }
  const info = (extra: Partial<IncrementalInfo>): IncrementalInfo => ({
    mode: kind ? 'column' : 'xmin',
    ...(kind ? { column: (cfg as { column: string }).column } : {}),
    to,
    ...common,
    ...extra,
  });

  let reason = fullReason(req, cfg, watermark, pointer, tableOid, session.snapshotTime);
  if (!reason && xmax !== undefined) {
    const previous = parseXidSnapshot(watermark!.value);
    if (!previous) reason = 'the previous snapshot in the watermark is unreadable';
    else if (xmax < previous.xmax) reason = `transaction ids went backwards (xmax ${xmax} < previous ${previous.xmax}): the database was restored or replaced`;
    else if (xmax - previous.xmin >= XMIN_TRUST_LIMIT) reason = `${xmax - previous.xmin} transactions since the previous snapshot's xmin (limit 2^31): 32-bit row xmin values may have wrapped`;
  }
  if (reason) return { kind: 'full', info: info({ fullReason: reason }) };

  const previous = watermark!.value;
  let from: string;
  let filter: RowFilter;
  if (kind === 'time') {
    const ms = overlapCfg && 'ms' in overlapCfg ? overlapCfg.ms : 0;
    from = ms > 0 ? await pg(subtractInterval(session.client, previous, ms)) : previous;
    filter = columnWindowFilter((cfg as { column: string }).column, kind, from);
  } else if (kind === 'integer') {
    const count = overlapCfg && 'count' in overlapCfg ? BigInt(overlapCfg.count) : 0n;
    const lower = BigInt(previous) - count;
    from = (lower < BigInt(MIN_BIGINT) ? BigInt(MIN_BIGINT) : lower).toString();
    filter = columnWindowFilter((cfg as { column: string }).column, kind, from);
  } else {
    const prev = parseXidSnapshot(previous)!;
    from = prev.xmin.toString();
    filter = xminWindowFilter(prev.xmin, xmax!);
  }
  return { kind: 'incremental', info: info({ from, previous, baseRunId: pointer!.runId }), filter, base: pointer!, ...(kind ? { watermarkKind: kind } : {}) };
}
