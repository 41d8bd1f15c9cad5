// Path arguments confined to allowed prefixes: lexically (no `..` segment, absolute after
// resolving) and through symlinks (the real path of the deepest existing ancestor, following a
// dangling final link by hand). Anything that cannot be checked is refused: this fails closed.
import { lstatSync, readlinkSync, realpathSync } from "node:fs";
import { dirname, basename, isAbsolute, join, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";

/** Whether `path` is `prefix` itself or below it (a path boundary, so /a/b does not hold /a/bc). */
export function isWithin(path, prefix) {
  if (prefix === sep) return path.startsWith(sep);
  return path === prefix || path.startsWith(prefix.endsWith(sep) ? prefix : prefix + sep);
}

/**
 * The real location `path` designates, even when it does not exist yet: realpath of the longest
 * existing part, with symlinks on the way (dangling ones included) followed. Throws when the
 * path cannot be inspected (permissions, loops).
 */
export function realLocation(path, hops = 0) {
  if (hops > 40) throw Object.assign(new Error("too many levels of symbolic links"), { code: "ELOOP" });
  try {
    return realpathSync(path);
  } catch (error) {
    if (error.code !== "ENOENT" && error.code !== "ENOTDIR") throw error;
  }
  let stat;
  try {
    stat = lstatSync(path);
  } catch (error) {
    if (error.code !== "ENOENT" && error.code !== "ENOTDIR") throw error;
  }
  if (stat?.isSymbolicLink()) return realLocation(resolve(dirname(path), readlinkSync(path)), hops + 1);
  const parent = dirname(path);
  if (parent === path) return path;
  return join(realLocation(parent, hops), basename(path));
}

/** Real paths of the allowed prefixes (a prefix that does not exist stays as written). */
export function realPrefixes(prefixes) {
  return prefixes.map((prefix) => {
    const lexical = resolve(prefix);
    try {
      return { lexical, real: realpathSync(lexical) };
    } catch {
      return { lexical, real: lexical };
    }
  });
}

/**
 * Why `value` is not an acceptable path under `prefixes` (from realPrefixes), or null if it is.
 * `base` anchors relative paths (default: the first prefix). Reasons never repeat the value.
 */
export function pathProblem(value, prefixes, base) {
  if (typeof value !== "string") return "must be a path string";
  let path = value;
  if (/^file:/i.test(path)) {
    try {
      path = fileURLToPath(path);
    } catch {
      return "is a file: URL that does not name a local path";
    }
  }
  if (path.length === 0) return "is an empty path";
  if (path.includes("\0")) return "contains a NUL byte";
  // Refused outright rather than resolved: the kernel resolves `link/..` through the link,
  // path.resolve does not, so a lexical check of a `..` path proves nothing.
  if (path.split(/[\\/]+/).includes("..")) return "contains a \"..\" segment";
  // What a server that URL-decodes or Unicode-normalises its argument would read as `.`, `/`,
  // `\` or NUL: %2e %2f %5c %00 (also double-encoded, %252e), overlong UTF-8 (%c0%ae, %e0%80%ae),
  // and compatibility forms (fullwidth ．／＼, one-dot leader ․) that NFKC folds to `.`/`/`/`\`.
  if (/%(?:25)*(?:2e|2f|5c|00|c0|c1|e0%80)/i.test(path)) return "contains a percent-encoded \".\", \"/\", \"\\\" or NUL";
  if (/[^\x00-\x7f]/.test(path) && path.normalize("NFKC").split(/[\\/]+/).includes("..")) return "contains a \"..\" segment after Unicode normalisation";
  const absolute = isAbsolute(path) ? resolve(path) : resolve(base ?? prefixes[0]?.lexical ?? "/", path);
  const allowed = prefixes.map((p) => p.lexical).join(", ");
  if (!prefixes.some((p) => isWithin(absolute, p.lexical) || isWithin(absolute, p.real))) {
    return `is outside the allowed prefixes (${allowed})`;
  }
  let real;
  try {
    real = realLocation(absolute);
  } catch (error) {
    return `cannot be checked (${error.code ?? "error"})`;
  }
  if (!prefixes.some((p) => isWithin(real, p.real))) {
    return `resolves through a symbolic link to outside the allowed prefixes (${allowed})`;
  }
  return null;
}
