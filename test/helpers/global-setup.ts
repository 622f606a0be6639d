import { execFileSync } from 'node:child_process';

/**
 * Builds `dist/` once before integration suites: some tests run the real `corrente`
 * CLI as a child process, exactly as users do.
 */
export default function setup(): void {
  execFileSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { stdio: 'inherit' });
}
