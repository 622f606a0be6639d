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
