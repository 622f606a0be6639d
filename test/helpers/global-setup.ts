import { execFileSync } from 'node:child_process';

/**
 * Builds `dist/` once before integration suites: some tests run the real `corrente`
 * CLI as a child process, exactly as users do. `CORRENTE_TEST_SKIP_BUILD=1` skips it when
 * iterating on suites that do not run the CLI.
 */
export default function setup(): void {
  if (process.env.CORRENTE_TEST_SKIP_BUILD === '1') return;
  execFileSync('npm', ['run', 'build', '--silent'], { stdio: 'inherit' });
}
