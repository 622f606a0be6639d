/**
 * SQL models over the lake (silver and gold): definitions, options, the DAG, selectors,
 * and the SQL of data tests. Pure except for reading the transforms directory; running
 * models is `src/pipeline`'s job.
 */
export { loadTransformProject, shippedTransformsDir } from './load-project.js';
export { buildModelGraph, closest, singularTestsOf, parseRelationshipTarget, sourcesRead, type ModelGraph } from './model-graph.js';
export { selectModels, renderMermaid } from './select-models.js';
export { modelOptionsSchema, SEVERITIES, type ColumnOptions, type ColumnTest, type ModelOptions, type ModelTest, type QuarantineRule, type Severity } from './model-options.js';
export { extractCalls, lineAt, locateOption, parseModelFile, parseModelOptions, renderSql, type ParsedModelFile, type SourceLocation, type TemplateCall } from './parse-model.js';
export { MODEL_LAYERS, refsOf, sourcesOf, type ModelDef, type ModelLayer, type SingularTestDef, type TransformProject } from './model-types.js';
export { buildDataTests, type DataTest } from './data-test-sql.js';
