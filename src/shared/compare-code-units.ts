/**
 * Orders strings by UTF-16 code unit, as `<` does: the same order on every machine and
 * locale, with no ICU collation data loaded (unlike `localeCompare`).
 */
export function compareCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
