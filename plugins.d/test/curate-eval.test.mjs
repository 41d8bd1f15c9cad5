// Curation evaluation on real third-party documentation, nothing of it written for curate:
// the Node.js API reference (Markdown, and the same pages as Context7-style snippet lists),
// the Python library reference (Sphinx HTML, and the same pages as mcp-server-fetch converts
// them), Linux man pages, the PostgreSQL reference (HTML) and the Go specification (HTML),
// all from Debian packages. scripts/fetch-eval-docs fetches and prepares them into
// .cache/eval-docs/ (apt-get download + dpkg-deb -x, nothing installed).
//
// The pairs are in plugins.d/test/eval/*.json (see eval/pairs.mjs): a question a user would
// ask an assistant, the page, and must-keep snippets — exact substrings of the page (for
// HTML, of curate's conversion of it, and of the page's own text) that answer the question.
// They are split into a dev set, which curate is tuned on, and a held-out test set, fixed
// before tuning. Both are reported; the targets are asserted on the held-out set:
//   - every must-keep snippet kept in at least 98 % of the pairs (automatic budget);
//   - median reduction of the page's text within 60–80 %;
//   - no line that is not in the page (the closing note apart);
//   - at a fixed 1,200-token budget: within the budget, and every must-keep snippet kept in
//     at least 95 % of the pairs.
// The two retention targets are not met yet: the test prints how far off they are and asserts
// the last measured held-out figures as floors (FLOOR), so a regression fails.
// On every pair of both sets, as invariants: a result, within its budget, fences balanced,
// every line from the page.
//
// curate runs as plugboard runs it when nothing is configured (input.maxTokens null,
// config {}: the automatic budget, docs/curate.md "The budget"), then at 1,200 tokens.
//
// Run: node --test plugins.d/test/curate-eval.test.mjs
//   CURATE_EVAL_SHOW=1       prints every output
//   CURATE_EVAL_TABLE=1      prints the per-pair table
//   CURATE_EVAL_SETS=dev     runs only the dev set (while tuning, so the held-out misses stay unseen)
//   node plugins.d/test/curate-dev-misses.mjs [auto|N]   says why each dev miss is missed
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import plugin, { estimateTokens } from '../curate.mjs';
import { htmlToMarkdown } from '../lib/html.mjs';
import { loadPairs, splitOf } from './eval/pairs.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = join(HERE, '..', '..');
const CACHE = join(ROOT, '.cache', 'eval-docs');
const NOTE_START = '\n\n---\n[curated by plugboard:';
const FIXED_MAX_TOKENS = 1200;
// The targets for the held-out set, and the floors asserted where a target is not met
// yet: the last measured figures (docs/curate.md), so that the test still fails on a
// regression. A floor is raised, never lowered, and goes once its target is met.
const TARGET = { complete: 0.98, fixedComplete: 0.95, medianMin: 0.6, medianMax: 0.8 };
const FLOOR = { complete: 115 / 124, fixedComplete: 96 / 124 };
// The held-out pairs written before the corpus was widened (no `origin`, or one before v3) keep
// their own floor, in pairs complete, so that new pairs cannot hide a regression on them.
const WIDENED = new Set(['v3']);
const ORIGINAL_FLOOR = { n: 89, complete: 81, fixedComplete: 65 };

export const PAIRS = loadPairs();

/** The text of an HTML page without tags, entities decoded and whitespace collapsed. */
function htmlText(html) {
  const entities = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ' };
  return collapse(html
    .replace(/<(script|style)\b[^]*?<\/\1>/gi, ' ')
    .replace(/<[^>]*>/g, '')
    .replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (all, e) => {
      if (e[0] !== '#') return entities[e.toLowerCase()] ?? all;
      return String.fromCodePoint(e[1] === 'x' || e[1] === 'X' ? parseInt(e.slice(2), 16) : Number(e.slice(1)));
    }));
}

/** Text with runs of whitespace made one space. */
function collapse(text) {
  return text.replace(/\s+/g, ' ');
}

/** Markdown text as the page shows it: links reduced to their labels, code ticks dropped. */
function unlinked(text) {
  return text.replace(/\[([^\]\n]*)\]\([^)\s]*\)/g, '$1').replace(/`/g, '');
}

function body(text) {
  const i = text.indexOf(NOTE_START);
  return i >= 0 ? text.slice(0, i) : text;
}

const show = process.env.CURATE_EVAL_SHOW === '1';
const pages = new Map(); // page → { raw, reference, lines, textTokens }

function page(name) {
  let p = pages.get(name);
  if (!p) {
    const raw = readFileSync(join(CACHE, name), 'utf8');
    const reference = name.endsWith('.html') ? htmlToMarkdown(raw) : raw;
    p = { raw, reference, lines: new Set(reference.split('\n').map((l) => l.trimEnd())), textTokens: estimateTokens(reference) };
    pages.set(name, p);
  }
  return p;
}

/**
 * Curates one pair's page at `maxTokens` (null: the automatic budget) and measures it:
 * budget, lines not in the page, fences, snippets kept.
 */
function curatePair(pair, maxTokens) {
  const p = page(pair.page);
  const input = {
    toolName: 'fetch',
    rawContent: p.raw,
    maxTokens,
    metadata: { requestId: 1, timestamp: '2026-01-01T00:00:00Z', serverName: 'docs', phase: 'response', userQuery: pair.query },
    method: 'tools/call',
    arguments: {},
    result: { content: [{ type: 'text', text: p.raw }] },
    config: {},
  };
  const out = plugin.response(input);
  const name = `${pair.source} ${pair.page.replace(/^.*\//, '')}: "${pair.query}"`;
  if (!out) {
    // curate leaves a result within the budget (the automatic one is at least 2,000 tokens)
    // alone: the page passes whole, so every snippet is kept and nothing is saved.
    const tokensIn = estimateTokens(p.raw);
    if (tokensIn > (maxTokens ?? 2000)) return { name, out: null, problems: ['no curated result'], kept: 0, total: pair.keep.length, missing: pair.keep };
    return { name, out: { text: p.raw, metadata: { reduction: 0 } }, problems: [], fabricated: 0, format: 'unchanged', tokensIn, textTokens: p.textTokens, budget: maxTokens ?? 2000, tokensOut: tokensIn, reduction: 0, textReduction: Math.round((1 - tokensIn / p.textTokens) * 1000) / 1000, kept: pair.keep.length, total: pair.keep.length, missing: [] };
  }
  if (show) console.log(`\n===== ${name} (${maxTokens ?? 'auto'})\n${out.text}\n`);
  const problems = [];
  const budget = out.metadata.maxTokens;
  if (maxTokens !== null && budget !== maxTokens) problems.push(`budget ${budget}, not the configured ${maxTokens}`);
  const tokensOut = estimateTokens(out.text);
  if (tokensOut > budget) problems.push(`over budget: ${tokensOut} > ${budget}`);
  if (!out.text.slice(out.text.indexOf(NOTE_START)).startsWith(NOTE_START)) problems.push('closing note missing');
  const fabricated = body(out.text).split('\n').filter((l) => l.trim() !== '' && !p.lines.has(l.trimEnd()));
  if (fabricated.length) problems.push(`${fabricated.length} line(s) not in the page, e.g. ${JSON.stringify(fabricated[0].slice(0, 120))}`);
  if ((body(out.text).match(/^ {0,3}```/gm) || []).length % 2) problems.push('unbalanced code fences');
  const missing = pair.keep.filter((s) => !out.text.includes(s));
  return {
    name,
    out,
    problems,
    fabricated: fabricated.length,
    format: out.metadata.format,
    tokensIn: out.metadata.originalTokens,
    textTokens: p.textTokens,
    budget,
    tokensOut,
    reduction: out.metadata.reduction,
    textReduction: Math.round((1 - tokensOut / p.textTokens) * 1000) / 1000,
    kept: pair.keep.length - missing.length,
    total: pair.keep.length,
    missing,
  };
}

const median = (list) => {
  const sorted = [...list].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};
const pct = (x) => `${(x * 100).toFixed(1)} %`;

/** Runs a set at both budgets and summarises it. */
function evaluate(pairs) {
  const auto = pairs.map((p) => ({ pair: p, ...curatePair(p, null) }));
  const fixed = pairs.map((p) => ({ pair: p, ...curatePair(p, FIXED_MAX_TOKENS) }));
  const complete = (rows) => rows.filter((r) => r.out && r.kept === r.total).length;
  const sources = [...new Set(pairs.map((p) => p.source))];
  return {
    auto,
    fixed,
    n: pairs.length,
    complete: complete(auto),
    fixedComplete: complete(fixed),
    snippets: [auto.reduce((a, r) => a + r.kept, 0), auto.reduce((a, r) => a + r.total, 0)],
    medianText: median(auto.filter((r) => r.out).map((r) => r.textReduction)),
    medianReceived: median(auto.filter((r) => r.out).map((r) => r.reduction)),
    fixedMedianText: median(fixed.filter((r) => r.out).map((r) => r.textReduction)),
    fabricated: [...auto, ...fixed].reduce((a, r) => a + (r.fabricated ?? 0), 0),
    overBudget: [...auto, ...fixed].filter((r) => r.out && r.tokensOut > r.budget).length,
    bySource: sources.map((s) => {
      const a = auto.filter((r) => r.pair.source === s);
      const f = fixed.filter((r) => r.pair.source === s);
      return { source: s, n: a.length, complete: complete(a), fixedComplete: complete(f), medianText: median(a.filter((r) => r.out).map((r) => r.textReduction)) };
    }),
  };
}

/** How many of a set's pairs written before the corpus was widened are complete, at both budgets. */
function originalPairs(e) {
  const isOriginal = (r) => !WIDENED.has(r.pair.origin);
  const complete = (rows) => rows.filter((r) => isOriginal(r) && r.out && r.kept === r.total).length;
  return { n: e.auto.filter(isOriginal).length, complete: complete(e.auto), fixedComplete: complete(e.fixed) };
}

function report(label, e) {
  const lines = [
    '',
    `${label}: ${e.n} pairs. Automatic budget: ${e.complete}/${e.n} pairs complete (${pct(e.complete / e.n)}), ` +
      `${e.snippets[0]}/${e.snippets[1]} snippets; median reduction of the text ${pct(e.medianText)}, as received ${pct(e.medianReceived)}. ` +
      `At ${FIXED_MAX_TOKENS} tokens: ${e.fixedComplete}/${e.n} complete (${pct(e.fixedComplete / e.n)}), median reduction of the text ${pct(e.fixedMedianText)}. ` +
      `Lines not in the page: ${e.fabricated}; over budget: ${e.overBudget}.`,
    '| Source | Pairs | Complete (auto) | Complete (1200) | Median reduction of the text |',
    '|---|---:|---:|---:|---:|',
    ...e.bySource.map((s) => `| ${s.source} | ${s.n} | ${s.complete} | ${s.fixedComplete} | ${pct(s.medianText)} |`),
  ];
  const misses = [
    ...e.auto.filter((r) => r.kept < r.total).map((r) => `  auto: ${r.name} — missing ${r.missing?.map((m) => JSON.stringify(m.slice(0, 70))).join(', ') ?? 'all'}`),
    ...e.fixed.filter((r) => r.kept < r.total).map((r) => `  ${FIXED_MAX_TOKENS}: ${r.name} — missing ${r.missing?.map((m) => JSON.stringify(m.slice(0, 70))).join(', ') ?? 'all'}`),
  ];
  if (misses.length) lines.push('Incomplete:', ...misses);
  if (process.env.CURATE_EVAL_TABLE === '1') {
    lines.push('', '| Pair | Format | Tokens in | Text | Budget | Out | Of the text | Kept | Out at 1200 | Kept at 1200 |', '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|');
    e.auto.forEach((r, i) => {
      const f = e.fixed[i];
      lines.push(`| ${r.name} | ${r.format} | ${r.tokensIn} | ${r.textTokens} | ${r.budget} | ${r.tokensOut} | ${pct(r.textReduction)} | ${r.kept}/${r.total} | ${f.tokensOut} | ${f.kept}/${f.total} |`);
    });
  }
  console.log(lines.join('\n'));
}

describe('curate on real documentation: the pairs', () => {
  before(() => {
    execFileSync(join(ROOT, 'scripts', 'fetch-eval-docs'), { stdio: ['ignore', 'ignore', 'inherit'], timeout: 600000 });
  }, { timeout: 610000 });

  test('at least 150 pairs over at least six sources; the recorded split is the fixed rule; both sets cover every source', () => {
    assert.ok(PAIRS.length >= 150, `${PAIRS.length} pairs`);
    const sources = new Set(PAIRS.map((p) => p.source));
    assert.ok(sources.size >= 6, `${sources.size} sources`);
    for (const p of PAIRS) assert.equal(p.set, splitOf(p), `${p.page} "${p.query}": recorded in ${p.set}, the rule says ${splitOf(p)}`);
    for (const set of ['dev', 'test']) {
      assert.deepEqual(new Set(PAIRS.filter((p) => p.set === set).map((p) => p.source)), sources, `${set} misses a source`);
    }
    const keys = PAIRS.map((p) => `${p.page}\n${p.query}`);
    assert.equal(new Set(keys).size, keys.length, 'a pair appears twice');
  });

  test('every must-keep snippet is in its page', () => {
    const absent = [];
    for (const pair of PAIRS) {
      const p = page(pair.page);
      for (const snippet of pair.keep) {
        if (!p.reference.includes(snippet)) absent.push(`${pair.page}: ${snippet}`);
        // For HTML, the snippet is also in the page's own text, independently of the converter
        // (a heading's `#` marks are the converter's).
        else if (pair.page.endsWith('.html') && !htmlText(p.raw).includes(collapse(unlinked(snippet.replace(/^#{1,6} /, ''))))) absent.push(`${pair.page} (HTML text): ${snippet}`);
      }
    }
    assert.deepEqual(absent, []);
  });
});

const SETS = (process.env.CURATE_EVAL_SETS || 'dev,test').split(',');

for (const set of ['dev', 'test'].filter((s) => SETS.includes(s))) {
  const label = set === 'dev' ? 'dev set (tuned on)' : 'held-out test set';
  describe(`curate on real documentation: ${label}`, () => {
    test(set === 'dev' ? 'invariants on every pair; figures reported' : 'invariants on every pair; the targets', () => {
      const e = evaluate(PAIRS.filter((p) => p.set === set));
      report(label, e);
      const broken = [...e.auto, ...e.fixed].filter((r) => r.problems.length).map((r) => `${r.name} (${r.budget ?? '?'}): ${r.problems.join('; ')}`);
      assert.deepEqual(broken, [], 'results that break an invariant');
      if (set === 'dev') return;
      const original = originalPairs(e);
      console.log(`\nHeld-out pairs before the corpus was widened: ${original.n}. Automatic budget: ${original.complete}/${original.n} complete; ` +
        `at ${FIXED_MAX_TOKENS} tokens: ${original.fixedComplete}/${original.n} complete.`);
      assert.equal(original.n, ORIGINAL_FLOOR.n, 'held-out pairs before the corpus was widened');
      assert.ok(original.complete >= ORIGINAL_FLOOR.complete, `${original.complete}/${original.n} of the earlier held-out pairs complete (floor ${ORIGINAL_FLOOR.complete})`);
      assert.ok(original.fixedComplete >= ORIGINAL_FLOOR.fixedComplete, `at ${FIXED_MAX_TOKENS} tokens ${original.fixedComplete}/${original.n} of the earlier held-out pairs complete (floor ${ORIGINAL_FLOOR.fixedComplete})`);
      const status = (value, target) => `${pct(value)} (target ${pct(target)}: ${value >= target ? 'met' : 'NOT met'})`;
      console.log(`\nHeld-out targets: every must-keep kept in ${status(e.complete / e.n, TARGET.complete)}; ` +
        `at ${FIXED_MAX_TOKENS} tokens in ${status(e.fixedComplete / e.n, TARGET.fixedComplete)}; ` +
        `median reduction of the text ${pct(e.medianText)} (target 60–80 %: ${e.medianText >= TARGET.medianMin && e.medianText <= TARGET.medianMax ? 'met' : 'NOT met'}).`);
      assert.ok(e.complete / e.n >= Math.min(TARGET.complete, FLOOR.complete), `every must-keep snippet kept in ${pct(e.complete / e.n)} of the pairs (floor ${pct(FLOOR.complete)}, target ${pct(TARGET.complete)})`);
      assert.ok(e.medianText >= TARGET.medianMin && e.medianText <= TARGET.medianMax, `median reduction of the text ${pct(e.medianText)} outside 60–80 %`);
      assert.ok(e.fixedComplete / e.n >= Math.min(TARGET.fixedComplete, FLOOR.fixedComplete), `at ${FIXED_MAX_TOKENS} tokens every must-keep snippet kept in ${pct(e.fixedComplete / e.n)} of the pairs (floor ${pct(FLOOR.fixedComplete)}, target ${pct(TARGET.fixedComplete)})`);
    });
  });
}
