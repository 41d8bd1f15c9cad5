// paths — rewrites path prefixes in results (e.g. a containerised server's /workspace → the
// host's /home/me/project), structurally: every string of the parsed result, text blocks that
// hold JSON parsed and re-serialised rather than edited as text. Reference: docs/guard.md.
//
//   [[servers.NAME.plugins.response]]
//   plugin = "paths"
//   config = { map = { "/workspace" = "/home/me/project" } }
//
// With `reverse = true` in a request-phase entry, arguments are mapped the other way.

import { TooDeepError, mapStrings } from "./lib/guard/walk.mjs";

const PLUGBOARD_KEYS = new Set(["max_tokens", "maxTokens", "max_tokens_argument", "query_argument"]);
// Characters that continue a path component: a prefix ends at a boundary only when the next
// character is none of these (or is a `.`/`,` ending a sentence).
const NAME = "A-Za-z0-9_~+@%\\-";
const escape = (text) => text.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");

const compiled = new Map();

function trimSlash(path) {
  return path.length > 1 ? path.replace(/\/+$/, "") || "/" : path;
}

/** A rewriter for one direction: `pairs` is [[from, to], …]. */
function rewriter(pairs) {
  if (pairs.length === 0) return null;
  const targets = new Map(pairs);
  const alternatives = [...targets.keys()].sort((a, b) => b.length - a.length).map(escape).join("|");
  // Start: not inside another path or word, except right after `file://`. End: a boundary.
  const pattern = new RegExp(
    `(?<=^|[^${NAME}./]|file://)(?:${alternatives})(?=$|/|[^${NAME}.]|\\.(?:$|[^${NAME}./]))`,
    "g",
  );
  return (text) => {
    let count = 0;
    const out = text.replace(pattern, (match, offset, whole) => {
      count += 1;
      const to = targets.get(match);
      // Mapping onto "/" must not double the slash that follows: /a/x → /x, not //x.
      return to === "/" && whole[offset + match.length] === "/" ? "" : to;
    });
    return { text: out, count };
  };
}

function compile(config) {
  const key = JSON.stringify(config ?? null);
  let found = compiled.get(key);
  if (found) return found;
  const c = config ?? {};
  const unknown = Object.keys(c).find((k) => !PLUGBOARD_KEYS.has(k) && k !== "map" && k !== "reverse");
  if (unknown !== undefined) throw new Error(`paths config: unknown key "${unknown}" (known: map, reverse)`);
  const map = c.map ?? {};
  if (map === null || typeof map !== "object" || Array.isArray(map)) throw new Error("paths config: map must be a table of path = path");
  const pairs = [];
  for (const [from, to] of Object.entries(map)) {
    if (!from.startsWith("/") || from.replace(/\/+$/, "") === "") {
      throw new Error(`paths config: map key "${from}" must be an absolute path other than "/"`);
    }
    if (typeof to !== "string" || to.length === 0) throw new Error(`paths config: map."${from}" must be a non-empty string`);
    pairs.push([trimSlash(from), trimSlash(to)]);
  }
  if (c.reverse !== undefined && typeof c.reverse !== "boolean") throw new Error("paths config: reverse must be a boolean");
  let backward = null;
  if (c.reverse) {
    const seen = new Map();
    for (const [from, to] of pairs) {
      if (seen.has(to)) throw new Error(`paths config: reverse mapping is ambiguous: "${seen.get(to)}" and "${from}" both map to "${to}"`);
      if (to === "/") throw new Error(`paths config: reverse mapping cannot start from "/" (map."${from}")`);
      seen.set(to, from);
    }
    backward = rewriter(pairs.map(([from, to]) => [to, from]));
  }
  found = { forward: rewriter(pairs), backward };
  if (compiled.size > 64) compiled.clear();
  compiled.set(key, found);
  return found;
}

/** Rewrites every string in `value`; a string holding a JSON object or array is rewritten inside. */
function rewriteValue(value, rewrite) {
  let count = 0;
  const next = mapStrings(value, (text) => {
    const json = rewriteJSONText(text, rewrite);
    if (json) {
      count += json.count;
      return json.text;
    }
    const { text: out, count: n } = rewrite(text);
    count += n;
    return out;
  });
  return { value: next, count };
}

/**
 * For text that is a JSON object or array: the text with each string *value* rewritten in place
 * (decoded, rewritten, re-encoded), so formatting, keys and large numbers stay exactly as they
 * were. Null when the text is not JSON.
 */
function rewriteJSONText(text, rewrite) {
  const first = text.trimStart()[0];
  if (first !== "{" && first !== "[") return null;
  try {
    JSON.parse(text);
  } catch {
    return null;
  }
  // Valid JSON has quotes only around string tokens, so a scan from quote to quote finds them all.
  let out = "";
  let count = 0;
  let last = 0;
  let i = text.indexOf('"');
  while (i >= 0) {
    let end = i + 1;
    while (text[end] !== '"') end += text[end] === "\\" ? 2 : 1;
    let after = end + 1;
    while (after < text.length && " \t\r\n".includes(text[after])) after += 1;
    if (text[after] !== ":") {
      const value = JSON.parse(text.slice(i, end + 1));
      const rewritten = rewriteJSONText(value, rewrite) ?? rewrite(value);
      if (rewritten.count) {
        out += text.slice(last, i) + JSON.stringify(rewritten.text);
        last = end + 1;
        count += rewritten.count;
      }
    }
    i = text.indexOf('"', end + 1);
  }
  return { text: count ? out + text.slice(last) : text, count };
}

export default {
  init(config) {
    compile(config);
  },

  request(input) {
    const { backward } = compile(input.config);
    if (!backward || !input.arguments) return null;
    return softly(() => {
      const { value, count } = rewriteValue(input.arguments, backward);
      return count ? { arguments: value } : null;
    });
  },

  response(input) {
    return softly(() => respond(input));
  },
};

/** A value too deep to walk leaves the content unchanged, reported as a soft error. */
function softly(body) {
  try {
    return body();
  } catch (error) {
    if (error instanceof TooDeepError) return { error: `paths: left unchanged: ${error.message}` };
    throw error;
  }
}

function respond(input) {
  const { forward } = compile(input.config);
  if (!forward) return null;
  const result = input.result;
  if (result === null || typeof result !== "object" || Array.isArray(result)) {
    const { value, count } = rewriteValue(input.rawContent ?? "", forward);
    return count ? { text: value, metadata: { rewritten: count } } : null;
  }
  const { value, count } = rewriteValue(result, forward);
  return count ? { result: value, metadata: { rewritten: count } } : null;
}
