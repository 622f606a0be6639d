/**
 * Removes credentials from text before it is logged, stored in Redis or shown to a user.
 */

/** Replaces the password in any `scheme://user:password@host` URL inside `text`. */
export function redactUrls(text: string): string {
  // The password ends at the last '@' before the host (drivers split there too), so a
  // raw '@' inside the password is hidden as well.
  return text.replace(/([a-z][a-z0-9+.-]*:\/\/[^:/@\s]*):([^\s/]*)@/gi, '$1:***@');
}

/** Replaces every occurrence of each secret (ignoring empty ones) with `***`. */
export function redactSecrets(text: string, secrets: readonly (string | undefined)[]): string {
  let out = redactUrls(text);
  for (const s of secrets) {
    if (s && s.length >= 3) out = out.split(s).join('***');
  }
  return out;
}
