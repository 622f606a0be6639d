export {
  exportTable,
  type ExportCallOptions,
  type ExportDeps,
  type ExportProgress,
  type ExportRequest,
  type Layer,
  type StagedExport,
} from './export-table.js';
export { verifyAndPublish, fingerprintRunFiles, type VerifiedRun, type VerifyDeps, type VerifyRequest } from './verify-run.js';
export { compareFingerprints } from './compare-fingerprints.js';
export { preflightTables } from './preflight.js';
export { currentManifest, verifyPublished, type PublishedCheck, type VerifyPublishedDeps } from './verify-published.js';
export { queryPublished, type PublishedSummary } from './query-published.js';
