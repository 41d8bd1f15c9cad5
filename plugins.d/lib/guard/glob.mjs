// Whole-name globs, the same dialect as plugboard's config (docs/config.md): `*` any run of
// characters, `?` one character, `[abc]` one of the listed, `[a-z]` a range, `[!a]` not listed.

/** Compiles one glob to an anchored RegExp; throws on an unterminated `[`. */
export function globToRegExp(glob, { ignoreCase = false } = {}) {
  if (typeof glob !== "string") throw new TypeError(`a glob must be a string, found ${typeof glob}`);
  let source = "";
  for (let i = 0; i < glob.length; i += 1) {
    const c = glob[i];
    if (c === "*") source += "[\\s\\S]*";
    else if (c === "?") source += "[\\s\\S]";
    else if (c === "[") {
      const end = glob.indexOf("]", i + 2);
      if (end < 0) throw new SyntaxError(`unterminated "[" in glob "${glob}"`);
      let body = glob.slice(i + 1, end);
      const negated = body.startsWith("!");
      if (negated) body = body.slice(1);
      source += `[${negated ? "^" : ""}${body.replace(/[\\\]^]/g, "\\$&")}]`;
      i = end;
    } else source += c.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
  }
  return new RegExp(`^(?:${source})$`, ignoreCase ? "iu" : "u");
}

/** A predicate matching any of `globs` (an empty list matches nothing). */
export function globMatcher(globs, what = "globs", { ignoreCase = false } = {}) {
  if (globs === undefined || globs === null) return () => false;
  if (!Array.isArray(globs)) throw new TypeError(`${what} must be an array of globs`);
  const patterns = globs.map((glob) => globToRegExp(glob, { ignoreCase }));
  return (name) => typeof name === "string" && patterns.some((p) => p.test(name));
}
