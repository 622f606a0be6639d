/**
 * What every command starts from: the validated config (file + env + flags) and a logger.
 */
import { loadConfig, type Config } from '../src/config/index.js';
import type { Logger } from '../src/shared/logger.js';
import { createLogger } from './logger.js';

export interface GlobalFlags {
  config?: string;
  logLevel?: string;
}

export interface CliContext {
  config: Readonly<Config>;
  logger: Logger;
}

/**
 * @param quietByDefault - commands with a live display log only warnings unless a level
 *   is asked for, so log lines do not tear the progress bars.
 * @param checkSchedules - see `LoadConfigOptions.checkSchedules`.
 */
export function createCliContext(flags: GlobalFlags, overrides: Record<string, unknown> = {}, quietByDefault = false, checkSchedules = true): CliContext {
  const config = loadConfig({
    ...(flags.config ? { file: flags.config } : {}),
    overrides: { ...overrides, ...(flags.logLevel ? { log: { level: flags.logLevel } } : {}) },
    checkSchedules,
  });
  const level = config.log.level ?? (quietByDefault ? 'warn' : 'info');
  return { config, logger: createLogger(level) };
}
