/**
 * Seconds per stage of an export, summed over its files (and ranges: stages of parallel
 * ranges add up, so the sum can exceed the wall time). Comparing them tells what bounds
 * a run: `read` (Postgres and the network), `convert` (DuckDB), `upload` (storage).
 * A neutral type: the lake's manifest stores it and the run store reports it.
 */
export interface StageSeconds {
  /** Reading the COPY stream into DuckDB's pipe, waiting on Postgres included. */
  read: number;
  /** Reading held back because DuckDB was behind (its pipe full). */
  readPaused: number;
  /** DuckDB's time not overlapped by reading: finishing after the last row, rows too wide for the pipe. */
  convert: number;
  /** Hashing and uploading Parquet files. */
  upload: number;
  /** Waiting, after the last file, for the source checksums (verification on). */
  checksumWait: number;
}
