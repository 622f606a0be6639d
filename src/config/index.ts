export { loadConfig, type LoadConfigOptions } from './load-config.js';
export type {
  ApiConfig,
  Config,
  ConfigInput,
  ExportConfig,
  PostgresConfig,
  RedisConfig,
  StorageConfig,
  TableConfig,
  TransformConfig,
} from './schema.js';
export { configuredTables, resolveTables, splitTableList, type TableTarget } from './tables.js';
export { expandSelection, selectionNeedsCatalog, tableSelection, type ExpandedSelection, type SelectionEntry, type TableSelection } from './table-selection.js';
export { isTimeZone, nextFireTimes } from './schedules.js';
export type { HistoryConfig, PipelinesConfig } from './schema.js';
export { CATCHUP_POLICIES, OVERLAP_POLICIES, durationMs, TASK_KINDS, type AlertsConfig, type PipelineConfig, type PipelineTask, type TaskKind } from './pipeline-schema.js';
export { assertPipelinesValid, downstreamOf, intervalEndingAtOrBefore, intervalsEndingIn, intervalsStartingIn, parseDateIn, taskOrder, type Interval } from './pipelines.js';
export { parseDuration, type IncrementalConfig } from './incremental.js';
export { configFilePath } from './config-file.js';
