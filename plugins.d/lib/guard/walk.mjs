// Structural walks over MCP values: every string, with a readable location, skipping binary
// payloads (`data` of image and audio blocks, `blob` of resource contents).

/** Deeper than plugboard's JSON parser accepts (512), so never met in real traffic. */
export const MAX_DEPTH = 1000;

/** Thrown by mapStrings beyond MAX_DEPTH: callers decide whether that fails open or closed. */
export class TooDeepError extends Error {
  constructor(location) {
    super(`nested more than ${MAX_DEPTH} levels deep (at ${location.slice(0, 80)}…)`);
  }
}

/** Whether `key` of `parent` holds base64 binary rather than text. */
export function isBinaryField(parent, key) {
  if (key === "blob") return true;
  return key === "data" && (parent?.type === "image" || parent?.type === "audio");
}

/**
 * Rebuilds `value` with every string passed through `visit(string, location)`; `visit` returns
 * the replacement (or the same string). Objects are copied only along changed paths, so an
 * unchanged value comes back identical (===). Throws TooDeepError past MAX_DEPTH levels.
 * With `keys: true` object keys are visited too, at `<location>{key}`, and renamed in place;
 * with `binary: true` binary payload fields are visited like any other (tool arguments
 * have no binary blocks, so there a field named `blob` is just a name).
 */
export function mapStrings(value, visit, location = "", depth = 0, options = {}) {
  if (typeof value === "string") return visit(value, location);
  if (value === null || typeof value !== "object") return value;
  if (depth > MAX_DEPTH) throw new TooDeepError(location);
  if (Array.isArray(value)) {
    let copy;
    for (let i = 0; i < value.length; i += 1) {
      const next = mapStrings(value[i], visit, `${location}[${i}]`, depth + 1, options);
      if (next !== value[i]) (copy ??= value.slice())[i] = next;
    }
    return copy ?? value;
  }
  let copy;
  let names = null; // key → new name, for keys `visit` changed
  for (const key of Object.keys(value)) {
    if (!options.binary && isBinaryField(value, key)) continue;
    const child = value[key];
    const at = location ? `${location}.${key}` : key;
    const next = mapStrings(child, visit, at, depth + 1, options);
    if (next !== child) (copy ??= { ...value })[key] = next;
    if (options.keys) {
      const name = visit(key, `${location}{key}`);
      if (name !== key) (names ??= new Map()).set(key, name);
    }
  }
  if (names) {
    // Rebuilt in the original key order.
    const source = copy ?? value;
    copy = {};
    for (const key of Object.keys(source)) copy[names.get(key) ?? key] = source[key];
  }
  return copy ?? value;
}
