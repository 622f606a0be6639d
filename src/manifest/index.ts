export { chunkPartKey, chunkResultKey, currentKey, encodeKeySegment, manifestKey, partKey, runIdOfKey, runPrefix, stagedKey, tablePrefix } from './layout.js';
export { MANIFEST_FORMAT, parseManifest, schemaOfManifest, type CurrentPointer, type Manifest, type ManifestFile } from './manifest.js';
export { publishManifest, readCurrentPointer, readManifest, type PublishResult } from './publish.js';
