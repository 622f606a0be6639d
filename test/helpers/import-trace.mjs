// Preloaded into a CLI child with `NODE_OPTIONS=--import=<this file>` (see
// test/helpers/import-trace.ts): records the URL of every module the child resolves, one a
// line, in the file named by IMPORT_TRACE_FILE. It uses Node's own module hooks, so it
// sees what the process really loads, whatever corrente's code says it does.
import { register } from 'node:module';

register(new URL('./import-trace-hooks.mjs', import.meta.url), { data: { file: process.env.IMPORT_TRACE_FILE } });
