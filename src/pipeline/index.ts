export type { ExportCallOptions, ExportDeps, ExportProgress, ExportRequest, Layer, StagedExport } from './export-types.js';
export { exportChunk, exportTable, finalizeChunks, type ChunkResult, type ChunkSpec, type ExportOutcome, type HeldSnapshot } from './export-table.js';
export { verifyAndPublish, fingerprintRunFiles, type VerifiedRun, type VerifyDeps, type VerifyRequest } from './verify-run.js';
export { compareFingerprints } from './compare-fingerprints.js';
export { preflightTables } from './preflight.js';
export { resolveSelection } from './resolve-selection.js';
export { currentManifest, verifyPublished, type PublishedCheck, type VerifyPublishedDeps } from './verify-published.js';
export { queryPublished, type PublishedSummary } from './query-published.js';
export { collectGarbage, type BucketUploads, type GarbageOptions, type GarbageReport, type KeptNote, type RemovalReason, type RemovedRun, type TableGarbage } from './collect-garbage.js';
export { restoreTable, type RestoreDeps, type RestoreRequest, type RestoreResult } from './restore-table.js';
export { CATALOG_FILE, currentTablesByLayer, defaultCacheDir, findCurrentTable, openLakeQuery, refreshLocalCatalog, refreshLocalCatalogQuietly, type LakeQueryOptions, type LayerBuckets, type LayerTable } from './lake-catalog.js';
export {
  assertInputsPublished,
  buildModel,
  createTransformDeps,
  failedOutcome,
  needsOf,
  planTransform,
  runTransforms,
  skippedOutcome,
  USABLE_STATUSES,
  type ModelStatus,
  type TransformModelOutcome,
  type TransformPlan,
  type TransformRunOptions,
  type TransformRunResult,
} from './transform-run.js';
export { normaliseType, quarantineTableRef, runModel, type ModelOutcome, type RunModelRequest, type TestOutcome, type TransformDeps } from './transform-model.js';
export { currentRun, currentSourceRun, localFilesOf, modelTableRef, type InputDeps, type LakeInput } from './transform-inputs.js';
export { queryCurrent } from './query-current.js';
export { trimCache } from './cached-files.js';
export { incrementManifests, readTableState, stateManifest, writeMergedParquet } from './lake-state.js';
export { checkDuckdb, checkPostgres, checkStorage, type CheckResult, type CheckStatus } from './doctor-checks.js';
export { commandLogOf, runCommand, type CommandResult, type RunCommandOptions } from './run-command.js';
export { postWebhook, type PostWebhookOptions, type WebhookResult } from './post-webhook.js';
export { publishFiles, PUBLISH_FORMATS, type PublishFilesRequest, type PublishFilesResult, type PublishFormat } from './publish-files.js';
export { makeWorkDir, sweepStaleWorkDirs } from './work-dir.js';
