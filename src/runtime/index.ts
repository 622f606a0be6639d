/**
 * The process runtime: one owner for the pool, the object store and whatever the edges
 * register (Redis, queues, the run store), opened lazily and closed in reverse order.
 */
export { createRuntime, withRuntime, type Runtime } from './runtime.js';
export { createReleasers, type ReleaseFailure, type Releasers } from './releasers.js';
