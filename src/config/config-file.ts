/**
 * Which YAML file the configuration comes from, for processes that watch it for changes
 * (`corrente scheduler`): the same rule `loadConfig` applies.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';

/**
 * The config file path: `file` if given, else `CORRENTE_CONFIG`, else `./corrente.yaml`
 * when it exists; undefined when there is none.
 */
export function configFilePath(file?: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const chosen = file ?? env.CORRENTE_CONFIG;
  if (chosen) return resolve(chosen);
  return existsSync('corrente.yaml') ? resolve('corrente.yaml') : undefined;
}
