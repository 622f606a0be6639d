export type { ExportCallOptions, ExportDeps, ExportProgress, ExportRequest, Layer, StagedExport } from './export-types.js';
export { exportChunk, exportTable, finalizeChunks, type ChunkResult, type ChunkSpec, type ExportOutcome, type HeldSnapshot } from './export-table.js';
export { verifyAndPublish, fingerprintRunFiles, type VerifiedRun, type VerifyDeps, type VerifyRequest } from './verify-run.js';
export { compareFingerprints } from './compare-fingerprints.js';
export { preflightTables } from './preflight.js';
export { currentManifest, verifyPublished, type PublishedCheck, type VerifyPublishedDeps } from './verify-published.js';
export { queryPublished, type PublishedSummary } from './query-published.js';
export { collectGarbage, type BucketUploads, type GarbageOptions, type GarbageReport, type KeptNote, type RemovalReason, type RemovedRun, type TableGarbage } from './collect-garbage.js';
export { restoreTable, type RestoreDeps, type RestoreRequest, type RestoreResult } from './restore-table.js';
