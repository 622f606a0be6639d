/**
 * Removes credentials from text before it is logged, stored in Redis or shown to a user.
 */

/**
 * Hides passwords in connection strings inside `text`: `scheme://user:pw@host`, a
 * scheme-less `user:pw@host`, and libpq keyword/value `password=pw`. The password ends
 * at the last '@' before the host (drivers split there too), so a raw '@' inside it is
 * hidden as well.
 */
export function redactUrls(text: string): string {
  return text
    .replace(/([a-z][a-z0-9+.-]*:\/\/[^:/@\s]*):([^\s/]*)@/gi, '$1:***@')
    .replace(/(^|[\s'"(=,])([^\s:/@'"(=,]+):([^\s/]*)@(?=[^\s@]*$|[^\s@]*[\s'")])/g, '$1$2:***@')
    .replace(/\b(password|pass|pwd)\s*=\s*('(?:[^'\\]|\\.)*'|[^\s&;]+)/gi, '$1=***');
}

/** Replaces every occurrence of each secret (ignoring empty ones) with `***`. */
export function redactSecrets(text: string, secrets: readonly (string | undefined)[]): string {
  let out = redactUrls(text);
  for (const s of secrets) {
    if (s && s.length >= 3) out = out.split(s).join('***');
  }
  return out;
}

/**
 * A webhook URL fit for logs: scheme and host only. Webhook paths and query strings are
 * usually the secret itself (Slack, Teams, `?token=`), and user:password may sit before the host.
 */
export function redactWebhookUrl(url: string): string {
  try {
    const u = new URL(url);
    const hidden = u.pathname !== '/' || u.search !== '' || u.username !== '' ? '/***' : '/';
    return `${u.protocol}//${u.host}${hidden}`;
  } catch {
    return '***';
  }
}
