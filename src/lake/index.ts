export {
  chunkPartKey,
  chunkResultKey,
  CURRENT_FILE,
  currentKey,
  currentKeyUnder,
  encodeKeySegment,
  MANIFEST_FILE,
  manifestKey,
  partKey,
  placeOfKey,
  runIdOfKey,
  runPrefix,
  runPrefixUnder,
  STAGED_FILE,
  stagedKey,
  incrementalPlanKey,
  tablePrefix,
  tombstonesKey,
  watermarkKey,
  type KeyPlace,
} from './layout.js';
export {
  assertValidRunId,
  newRunId,
  parseRunId,
  RUN_ID_PATTERN,
  runIdTime,
  scheduledRunId,
  STAMPED_KINDS,
  type ParsedRunId,
  type RunKind,
  type StampedRunKind,
} from './run-id.js';
export {
  assertGcOptions,
  gcFact,
  gcFactKeys,
  newestTimestampIn,
  parsePointer,
  planGc,
  pointerRuns,
  type GcFact,
  type GcFacts,
  type GcPlanOptions,
  type KeptNote,
  type PlannedRemoval,
  type RemovalReason,
  type TablePlan,
} from './gc-plan.js';
export { lineageSchema, type Lineage, type SchemaChange } from './manifest.js';
export { diffColumns } from './schema-changes.js';
export { incrementalInfoSchema, type IncrementalInfo, type PointerIncrement } from './manifest.js';
export { advanceWatermark, readWatermark, type Watermark } from './watermark.js';
export { currentPointerSchema, MANIFEST_FORMAT, parseManifest, schemaOfManifest, stageSecondsSchema, typeDefinitionSchema, type CurrentPointer, type Manifest, type ManifestFile, type StageSeconds } from './manifest.js';
export { publishManifest, readCurrentPointer, readManifest, type PublishResult } from './publish.js';
export { decodeKeySegment, listCurrentTables, type CurrentTable } from './current-tables.js';
