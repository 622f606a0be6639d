export { createApiServer, type ApiServer } from './server.js';
export type { ApiDeps, ApiQueues } from './api-types.js';
