/**
 * The files of a `COPY ... TO <dir> (FILENAME_PATTERN 'part-{i}', RETURN_STATS true)`, read
 * from the statistics rows DuckDB returns (one per file, in no particular order).
 */

/** One Parquet file written, with DuckDB's own counts. */
export interface WrittenParquet {
  path: string;
  rows: number;
  bytes: number;
}

/** A file's path, rows and size from its statistics row. */
export function writtenFileOf(stats: Record<string, unknown>): WrittenParquet {
  return { path: String(stats.filename), rows: Number(stats.count), bytes: Number(stats.file_size_bytes) };
}

/** Files in the order of their `part-<i>` numbers. */
export function inPartOrder<T extends { path: string }>(files: T[]): T[] {
  const index = (p: string): number => Number(/part-(\d+)\.parquet$/.exec(p)?.[1] ?? 0);
  return files.sort((a, b) => index(a.path) - index(b.path));
}
