/**
 * Renders a commander usage error (unknown option or command, missing or invalid
 * argument) as the one line the error contract promises: what is wrong, then where to
 * read the usage.
 */

/**
 * @param message - commander's message, e.g. `error: unknown option '--tabels'\n(Did you mean --tables?)`
 * @param argv - the user's arguments (without `node` and the script)
 * @param commands - the subcommand names, to point at the right `--help`
 * @returns `corrente: unknown option '--tabels' (Did you mean --tables?). Run corrente migrate --help for usage`
 */
export function usageErrorLine(message: string, argv: readonly string[], commands: readonly string[]): string {
  const what = message
    .replace(/^error:\s*/i, '')
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .join(' ')
    .replace(/[.\s]+$/, '');
  const command = argv.find((a) => commands.includes(a));
  return `corrente: ${what}. Run corrente ${command ? `${command} ` : ''}--help for usage`;
}
