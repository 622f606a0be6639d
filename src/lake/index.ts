export { chunkPartKey, chunkResultKey, currentKey, encodeKeySegment, manifestKey, partKey, runIdOfKey, runPrefix, stagedKey, tablePrefix } from './layout.js';
export { currentPointerSchema, MANIFEST_FORMAT, parseManifest, schemaOfManifest, stageSecondsSchema, typeDefinitionSchema, type CurrentPointer, type Manifest, type ManifestFile, type StageSeconds } from './manifest.js';
export { publishManifest, readCurrentPointer, readManifest, type PublishResult } from './publish.js';
