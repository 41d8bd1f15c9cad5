// Variants of one example: documentation often shows the same code twice or more in a row —
// as an ES module and as CommonJS (the Node.js docs' ```mjs / ```cjs pairs, Context7's
// LANGUAGE/CODE pairs), with promises and with a callback. curate keeps the variant the query
// names and, when it names none, the modern one (ES modules, promises); the others are
// left out of what is kept, so they cost no budget.
//
// Everything here is linear and looks at most MAX_SCANNED_LINES lines of a code block.

const MAX_SCANNED_LINES = 80;
const MAX_LABEL_CHARS = 60; // a paragraph between two variants, such as "LANGUAGE: javascript / CODE:"

const ESM = /^\s*(?:import\s[^(]|import\s*\{|export\s+(?:default|const|function|class|async|\{))|\bawait import\(/;
const CJS = /\brequire\(\s*['"`]|\bmodule\.exports\b|^\s*exports\.\w+\s*=/;
const PROMISE = /\bawait\s|\.then\(|\bnew Promise\b|\/promises['"`]|\bPromise\.(?:all|race|any|allSettled)\(/;
const CALLBACK = /\(\s*(?:err|error)\s*[,)]|\bfunction\s*\(\s*(?:err|error)\b|\bcallback\s*\)/;

/** A code block's variant: { module: 'esm' | 'cjs' | null, style: 'promise' | 'callback' | null }. */
export function codeVariant(block) {
  const fence = block.lines[0] ?? '';
  let module = /^\s*(?:```|~~~)\s*mjs\b/.test(fence) ? 'esm' : /^\s*(?:```|~~~)\s*cjs\b/.test(fence) ? 'cjs' : null;
  let esm = false;
  let cjs = false;
  let promise = false;
  let callback = false;
  const n = Math.min(block.lines.length, MAX_SCANNED_LINES);
  for (let i = 1; i < n; i++) {
    const line = block.lines[i];
    if (line.length > 400) continue;
    if (!esm && ESM.test(line)) esm = true;
    if (!cjs && CJS.test(line)) cjs = true;
    if (!promise && PROMISE.test(line)) promise = true;
    if (!callback && CALLBACK.test(line)) callback = true;
  }
  if (!module && esm !== cjs) module = esm ? 'esm' : 'cjs';
  const style = promise === callback ? null : promise ? 'promise' : 'callback';
  return { module, style };
}

/**
 * What the query asks for: { module, style }, each named by the query or, failing that, the
 * modern default (ES modules, promises). `named` tells which ones the query named.
 */
export function queryVariant(query) {
  const q = query.toLowerCase();
  const module = /\b(?:commonjs|cjs|require\(?\)?)(?:\b|$)/.test(q) ? 'cjs'
    : /\b(?:esm|es ?modules?|ecmascript modules?|mjs|import statements?)\b/.test(q) ? 'esm' : null;
  const style = /\bcallbacks?\b/.test(q) ? 'callback'
    : /\b(?:promises?|await|async(?:\/await)?)\b/.test(q) ? 'promise'
    : /\bsync(?:hronous(?:ly)?)?\b/.test(q) && !/\b(?:non-?|without )blocking\b/.test(q) ? 'sync' : null;
  return { module: module ?? 'esm', style: style ?? 'promise', named: { module: module !== null, style: style !== null } };
}

/**
 * Groups of variants in a section's units: runs of code blocks with only short labels between
 * them that differ in module system or style. For each group, the units to leave out for
 * `want` (queryVariant), with the reason.
 * @param {Array<{blocks: object[], index: number}>} units
 * @returns {Map<object, string>} unit → why it was left out
 */
export function alternateUnits(units, want) {
  const out = new Map();
  let run = [];
  const close = () => {
    if (run.length >= 2) choose(run, want, out);
    run = [];
  };
  for (const u of units) {
    const code = u.blocks.find((b) => b.type === 'code');
    const onlyLabel = u.blocks.every((b) => b.type === 'code' || b.lines.join(' ').length <= MAX_LABEL_CHARS);
    if (!code) {
      if (u.blocks.every((b) => b.lines.join(' ').length <= MAX_LABEL_CHARS)) continue; // a label between variants
      close();
      continue;
    }
    // A unit whose paragraph introduces its code starts a new run; a label does not.
    if (run.length > 0 && !onlyLabel) close();
    run.push({ unit: u, variant: (u.variant ??= codeVariant(code)), lead: !onlyLabel });
  }
  close();
  return out;
}

function choose(run, want, out) {
  const modules = new Set(run.map((r) => r.variant.module).filter(Boolean));
  const styles = new Set(run.map((r) => r.variant.style).filter(Boolean));
  // What the query names decides; the defaults when it names nothing that tells these apart.
  const splitsModule = modules.size > 1 && modules.has(want.module);
  const splitsStyle = styles.size > 1 && styles.has(want.style);
  const namedDecides = (want.named.module && splitsModule) || (want.named.style && splitsStyle);
  const byModule = splitsModule && (!namedDecides || want.named.module);
  const byStyle = splitsStyle && (!namedDecides || want.named.style);
  if (!byModule && !byStyle) return;
  for (const r of run) {
    const reasons = [];
    if (byModule && r.variant.module && r.variant.module !== want.module) reasons.push(`${r.variant.module === 'cjs' ? 'CommonJS' : 'ES module'} variant (${want.named.module ? 'query asks for' : 'default'} ${want.module === 'esm' ? 'ES module' : 'CommonJS'})`);
    if (byStyle && r.variant.style && r.variant.style !== want.style) reasons.push(`${r.variant.style} variant (${want.named.style ? 'query asks for' : 'default'} ${want.style})`);
    // The unit that carries the introduction stays: its paragraph is not a variant.
    if (reasons.length && !r.lead) out.set(r.unit, reasons.join(', '));
  }
}

/**
 * The API style a section's heading path names: the Node.js docs file their entries under
 * "Promises API", "Callback API" and "Synchronous API", and name them `fsPromises.readFile()`,
 * `fs.readFileSync()`. Null when it names none.
 */
export function sectionStyle(path) {
  if (path.length > 2000) return null;
  if (/\bSynchronous API\b|\wSync\(/.test(path)) return 'sync';
  if (/\bPromises? API\b|[a-z]Promises\.\w|\bpromises\b/.test(path)) return 'promise';
  if (/\bCallback API\b/.test(path)) return 'callback';
  return null;
}
