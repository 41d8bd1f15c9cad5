// Credential detectors shared by guard's two phases. Every pattern starts with a literal or a
// bounded class so a 2 MB string is scanned in linear time; matches are replaced in order, so a
// later kind never sees an earlier kind's `[REDACTED:…]` marker as a secret.

/**
 * kind, pattern (global), how a match is replaced (the whole match unless `replace` says), and
 * optionally a substring without which the pattern cannot match (a cheap pre-check).
 */
export const SECRET_KINDS = [
  {
    kind: "private_key",
    // The body is base64 and optional `Name: value` headers; the END line is optional so a
    // truncated key is still caught.
    pattern: /-----BEGIN[A-Z0-9 ]{0,40} PRIVATE KEY(?: BLOCK)?-----(?:\s*[A-Za-z-]{1,40}:[^\n]{0,200})*[A-Za-z0-9+/=\s]*(?:-----END[A-Z0-9 ]{0,40} PRIVATE KEY(?: BLOCK)?-----)?/g,
  },
  { kind: "aws_access_key", pattern: /\b(?:AKIA|ASIA)[0-9A-Z]{16}\b/g },
  { kind: "github_token", pattern: /\b(?:gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{22,255})\b/g },
  { kind: "anthropic_key", pattern: /\bsk-ant-[A-Za-z0-9_-]{20,}/g },
  { kind: "openai_key", pattern: /\bsk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,}/g },
  { kind: "stripe_key", pattern: /\b[rs]k_live_[0-9A-Za-z]{16,}/g },
  { kind: "slack_token", pattern: /\bxox[abpr]-[A-Za-z0-9-]{10,}/g },
  { kind: "google_api_key", pattern: /\bAIza[0-9A-Za-z_-]{35}(?![0-9A-Za-z_-])/g },
  { kind: "jwt", pattern: /\beyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*/g },
  {
    kind: "bearer_token",
    pattern: /\b(Bearer\s+)([A-Za-z0-9._~+/-]{16,}=*)/gi,
    replace: (marker, match, prefix) => `${prefix}${marker}`,
  },
  {
    kind: "url_password",
    hint: "://",
    // scheme://user:password@host, anchored on "://" (the scheme is checked behind it) so
    // long runs of letters and dots cost nothing.
    pattern: /(?<=[A-Za-z][A-Za-z0-9+.-]{0,31}):\/\/([^\s:/?#@[\]]{1,256}):([^\s/?#@]{1,256})@/g,
    replace: (marker, match, user, password) => (password.startsWith("[REDACTED:") ? match : `://${user}:${marker}@`),
  },
];

/**
 * Finds and replaces secrets in one string.
 * Returns `{ text, kinds }`: the text with each secret replaced by `[REDACTED:<kind>]`, and the
 * kinds found (each once, in detection order). `kinds` is empty and `text` identical when clean.
 */
export function redactSecrets(text) {
  const kinds = [];
  let out = text;
  for (const { kind, pattern, replace, hint } of SECRET_KINDS) {
    if (hint && !out.includes(hint)) continue;
    const marker = `[REDACTED:${kind}]`;
    let found = false;
    pattern.lastIndex = 0;
    out = out.replace(pattern, (match, ...groups) => {
      const replaced = replace ? replace(marker, match, ...groups) : marker;
      if (replaced !== match) found = true;
      return replaced;
    });
    if (found) kinds.push(kind);
  }
  const encoded = redactEncodedSecrets(out);
  if (encoded.kinds.length) {
    out = encoded.text;
    kinds.push(...encoded.kinds);
  }
  return { text: out, kinds };
}

// Base64 runs long enough to hold a credential, and short enough to decode cheaply.
const BASE64_RUN = /[A-Za-z0-9+/_-]{24,65536}={0,2}/g;

/** Whether decoded bytes read as text (so a run of letters that only looks like base64 is skipped). */
function printable(text) {
  let ok = 0;
  for (let i = 0; i < text.length; i += 1) {
    const c = text.charCodeAt(i);
    if ((c >= 32 && c < 127) || c === 9 || c === 10 || c === 13) ok += 1;
  }
  return ok >= text.length * 0.9;
}

function findKinds(text) {
  const kinds = [];
  for (const { kind, pattern, hint } of SECRET_KINDS) {
    if (hint && !text.includes(hint)) continue;
    pattern.lastIndex = 0;
    if (pattern.test(text)) kinds.push(kind);
    pattern.lastIndex = 0;
  }
  return kinds;
}

/**
 * Replaces base64 (or base64url) runs whose decoded text holds a secret by
 * `[REDACTED:<kind>]`; the kinds are reported as `<kind> (base64)`.
 */
export function redactEncodedSecrets(text) {
  const kinds = [];
  if (text.length < 24) return { text, kinds };
  const out = text.replace(BASE64_RUN, (run) => {
    const decoded = Buffer.from(run, "base64").toString("latin1");
    if (decoded.length < 16 || !printable(decoded)) return run;
    const found = findKinds(decoded);
    if (!found.length) return run;
    for (const kind of found) if (!kinds.includes(`${kind} (base64)`)) kinds.push(`${kind} (base64)`);
    return `[REDACTED:${found[0]}]`;
  });
  return { text: kinds.length ? out : text, kinds };
}

/**
 * Secrets that only appear when neighbouring strings are joined: the string items of one
 * array, or the string values of one object in key order (`"sk-ant-"` + `"api03…"`). Call it
 * on values already redacted string by string, so what it finds spans pieces. Returns
 * `{ kind, location }` for each container, `location` as mapStrings writes it.
 */
export function splitSecrets(value, location = "", depth = 0, found = []) {
  if (value === null || typeof value !== "object" || depth > 1000) return found;
  const entries = Array.isArray(value)
    ? value.map((v, i) => [`${location}[${i}]`, v])
    : Object.keys(value).map((k) => [location ? `${location}.${k}` : k, value[k]]);
  const strings = entries.filter(([, v]) => typeof v === "string").map(([, v]) => v);
  if (strings.length >= 2) {
    const joined = strings.join("");
    for (const kind of findKinds(joined)) found.push({ kind, location: location || "{}" });
    for (const kind of redactEncodedSecrets(joined).kinds) found.push({ kind, location: location || "{}" });
  }
  for (const [at, v] of entries) splitSecrets(v, at, depth + 1, found);
  return found;
}
