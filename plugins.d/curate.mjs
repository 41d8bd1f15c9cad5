// curate — a response plugin that cuts large documentation results down to what the
// question needs. Deterministic and local: it detects the format (Markdown, HTML, plain
// text), strips page chrome and boilerplate, splits the page into sections by heading,
// ranks the sections against the user's query with BM25, and keeps the best ones that fit
// the token budget, in document order, ending with a note that names what was left out.
// It only selects and trims; it never writes text of its own apart from that note.
// See docs/curate.md.

import { spawnSync } from 'node:child_process';
import { bm25, identifiers, terms } from './lib/bm25.mjs';
import { htmlToMarkdown, looksLikeHtml } from './lib/html.mjs';
import { buildSections, parseBlocks } from './lib/markdown.mjs';
import { estimateTokens } from './lib/tokens.mjs';

export { estimateTokens };

const DEFAULT_MAX_TOKENS = 2000;
const DEFAULT_SUMMARIZER_TIMEOUT_MS = 10000;
const DEFAULT_MIN_RELATIVE_SCORE = 0.2;
const HEADING_WEIGHT = 2.5;
const IDENTIFIER_WEIGHT = 0.6;
const MAX_OMITTED_LISTED = 8;
const MAX_TITLE_CHARS = 48;
const MAX_RANKED_CHARS = 100000;
// A section that does not fit whole but scores at least this fraction of the best one gives
// its query-matching paragraphs and code to what is left of the budget, if that is at least
// MIN_PARTIAL_TOKENS: on API references one long entry would otherwise crowd out the next.
const PARTIAL_MIN_RELATIVE = 0.5;
const MIN_PARTIAL_TOKENS = 100;

/** Which of "html", "markdown" or "plain" a text is. */
export function detectFormat(text) {
  if (looksLikeHtml(text)) return 'html';
  const sample = text.length > 300000 ? text.slice(0, 300000) : text;
  if (/^ {0,3}#{1,6}[ \t]/m.test(sample) || /^ {0,3}(?:```|~~~)/m.test(sample) || /\[[^\]\n]{1,200}\]\([^)\s]{1,500}\)/.test(sample)) return 'markdown';
  return 'plain';
}

/**
 * Curates `text` for `query` within `maxTokens`. Pure: the plugin's `response` wraps it.
 * @returns {{text: string, markdown: string, format: string, originalTokens: number, keptTokens: number,
 *   sectionsKept: number, sectionsTotal: number, omitted: string[], trimmed: boolean}}
 */
export function curate(text, { query = '', maxTokens = DEFAULT_MAX_TOKENS, keepSectionsMatching = [], minRelativeScore = DEFAULT_MIN_RELATIVE_SCORE } = {}) {
  const original = text.replace(/\r\n?/g, '\n');
  const originalTokens = estimateTokens(original);
  const format = detectFormat(original);
  const markdown = format === 'html' ? htmlToMarkdown(original) : original;
  const sections = buildSections(parseBlocks(markdown, { plain: format === 'plain' }));
  const content = sections.filter((s) => s.content);

  // Ranking.
  const queryTerms = [...new Set(terms(query))];
  // Ranking reads at most the first MAX_RANKED_CHARS of a section: enough to judge it, and bounded.
  const sectionText = (s) => {
    const t = (s.heading ? s.heading.title + '\n' : '') + s.blocks.map((b) => b.lines.join('\n')).join('\n');
    return t.length > MAX_RANKED_CHARS ? t.slice(0, MAX_RANKED_CHARS) : t;
  };
  const texts = content.map(sectionText);
  const bodyTerms = texts.map((t) => terms(t));
  const headTerms = content.map((s) => terms([...s.ancestors, s.heading].flatMap(titlesOf).join(' ')));
  const bodyScore = bm25(bodyTerms);
  const headScore = bm25(headTerms, { b: 0.3 });
  const querySet = new Set(queryTerms);
  const pins = compilePatterns(keepSectionsMatching);
  content.forEach((s, i) => {
    let identifierHits = 0;
    if (querySet.size) {
      const ids = identifiers(texts[i]);
      for (const parts of ids.values()) if (parts.some((p) => querySet.has(p))) identifierHits++;
    }
    s.score = bodyScore(i, queryTerms) + HEADING_WEIGHT * headScore(i, queryTerms) + IDENTIFIER_WEIGHT * Math.min(5, identifierHits);
    s.pinned = pins.length > 0 && pins.some((re) => re.test(pathOf(s)));
    s.queryTerms = queryTerms;
  });

  const reserve = Math.min(150, Math.floor(maxTokens / 3));
  const budget = Math.max(1, maxTokens - reserve);
  const top = content.reduce((m, s) => Math.max(m, s.score), 0);
  const threshold = top > 0 ? top * minRelativeScore : 0;
  const candidates = content
    .filter((s) => s.pinned || top === 0 || s.score >= threshold)
    .sort((a, b) => Number(b.pinned) - Number(a.pinned) || b.score - a.score || a.index - b.index);

  // Greedy selection by score; the cost of a section includes the ancestor headings it brings in.
  const emittedHeadings = new Set();
  const kept = new Map(); // section → blocks kept (all, or a trimmed subset)
  let used = 0;
  let trimmed = 0;
  let firstTrimmed = false;
  for (const s of candidates) {
    const headingCost = headingLinesFor(s, emittedHeadings).reduce((a, l) => a + estimateTokens(l) + 1, 0);
    const bodyCost = s.blocks.reduce((a, b) => a + blockTokens(b) + 1, 0);
    if (used + headingCost + bodyCost <= budget) {
      kept.set(s, s.blocks);
    } else if (kept.size === 0) {
      const blocks = trimSection(s, budget - used - headingCost, queryTerms);
      if (blocks.length === 0) continue;
      kept.set(s, blocks);
      trimmed++;
      firstTrimmed = true;
    } else if (!s.pinned && top > 0 && s.score >= top * PARTIAL_MIN_RELATIVE && budget - used - headingCost >= MIN_PARTIAL_TOKENS) {
      const blocks = trimSection(s, budget - used - headingCost, queryTerms, { matchingOnly: true });
      if (blocks.length === 0) continue;
      kept.set(s, blocks);
      trimmed++;
    } else {
      continue;
    }
    for (const l of headingLinesFor(s, emittedHeadings)) emittedHeadings.add(l);
    used += headingCost + kept.get(s).reduce((a, b) => a + blockTokens(b) + 1, 0);
  }

  // Render in document order; drop the weakest section while the estimate overshoots.
  let body = render(sections, kept);
  while (estimateTokens(body) > budget && kept.size > 1) {
    const weakest = [...kept.keys()].sort((a, b) => a.score - b.score || b.index - a.index)[0];
    kept.delete(weakest);
    body = render(sections, kept);
  }
  const keptTokens = estimateTokens(body);
  for (const s of kept.keys()) for (const a of [...s.ancestors, s.heading]) if (a) a.hasKept = true;
  const omitted = omittedTitles(content, kept);
  // The note gets what the body left of the budget: fewer omitted titles when space is short.
  let note = '';
  for (let listed = MAX_OMITTED_LISTED; listed >= 0; listed--) {
    note = noteFor({ kept: kept.size, total: content.length, keptTokens, originalTokens, omitted, trimmed: [...kept.keys()].filter((s) => kept.get(s) !== s.blocks).length, firstTrimmed, listed });
    if (keptTokens + 2 + estimateTokens(note) <= maxTokens) break;
  }
  return {
    text: (body ? body + '\n\n' : '') + note,
    markdown,
    format,
    originalTokens,
    keptTokens,
    sectionsKept: kept.size,
    sectionsTotal: content.length,
    omitted,
    trimmed: trimmed > 0,
  };
}

function compilePatterns(list) {
  const arr = Array.isArray(list) ? list : typeof list === 'string' ? [list] : [];
  const out = [];
  for (const p of arr) {
    if (typeof p !== 'string' || !p) continue;
    try { out.push(new RegExp(p, 'i')); } catch { out.push(new RegExp(p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'), 'i')); }
  }
  return out;
}

/** A heading's title and those of its aliases (headings it shares its body with). */
function titlesOf(h) {
  if (!h) return [];
  return h.aliases && h.aliases.length ? [...h.aliases.map((a) => a.title), h.title] : [h.title];
}

function pathOf(s) {
  return [...s.ancestors.map((a) => a.title), s.heading ? s.heading.title : ''].filter(Boolean).join(' › ');
}

function blockTokens(b) {
  if (b.tokens === undefined) b.tokens = estimateTokens(b.lines.join('\n'), { code: b.type === 'code' });
  return b.tokens;
}

/** Source lines of the headings (ancestors first) that keeping `s` would add. */
function headingLinesFor(s, emitted) {
  const out = [];
  for (const h of [...s.ancestors, s.heading]) {
    if (!h) continue;
    for (const a of h.aliases && h.aliases.length ? [...h.aliases, h] : [h]) {
      const text = a.underline ? `${a.line}\n${a.underline}` : a.line;
      if (!emitted.has(text)) out.push(text);
    }
  }
  return out;
}

/**
 * Keeps what fits of a section larger than the budget: its paragraphs and code blocks as
 * units (a code block together with the paragraph that introduces it), best-matching first,
 * in document order. Code is never cut; as a last resort a lone paragraph is cut by lines,
 * and a lone line at a word boundary.
 */
function trimSection(s, budget, queryTerms, { matchingOnly = false } = {}) {
  if (budget <= 0) return [];
  const units = [];
  for (const b of s.blocks) {
    const last = units[units.length - 1];
    if (b.type === 'code' && last && last.blocks.length === 1 && last.blocks[0].type === 'para') last.blocks.push(b);
    else units.push({ blocks: [b] });
  }
  const q = new Set(queryTerms);
  units.forEach((u, i) => {
    u.index = i;
    u.cost = u.blocks.reduce((a, b) => a + blockTokens(b) + 1, 0);
    const text = u.blocks.map((b) => b.lines.join('\n')).join('\n');
    const ts = new Set(terms(text.length > MAX_RANKED_CHARS ? text.slice(0, MAX_RANKED_CHARS) : text));
    u.score = [...q].filter((t) => ts.has(t)).length + (u.blocks.some((b) => b.type === 'code') ? 0.5 : 0) + (i === 0 ? 0.25 : 0);
  });
  let left = budget;
  const chosen = new Set();
  for (const u of [...units].sort((a, b) => b.score - a.score || a.index - b.index)) {
    if (matchingOnly && u.score < 1) break;
    if (u.cost <= left) { chosen.add(u); left -= u.cost; }
  }
  if (chosen.size === 0) {
    if (matchingOnly) return [];
    const firstProse = s.blocks.find((b) => b.type === 'para');
    if (!firstProse) return [];
    const lines = [];
    let room = budget;
    for (const line of firstProse.lines) {
      const cost = estimateTokens(line) + 1;
      if (cost <= room) { lines.push(line); room -= cost; continue; }
      if (lines.length === 0) lines.push(cutAtWord(line, room));
      break;
    }
    return lines.length && lines[0] ? [{ type: 'para', lines }] : [];
  }
  return units.filter((u) => chosen.has(u)).flatMap((u) => u.blocks);
}

/** The longest prefix of `line` within about `tokens` tokens, ending at a word boundary when one is near. */
function cutAtWord(line, tokens) {
  let hi = Math.min(line.length, Math.max(0, tokens) * 4);
  while (hi > 0 && estimateTokens(line.slice(0, hi)) > tokens) hi = Math.floor(hi * 0.9);
  const space = line.lastIndexOf(' ', hi);
  return line.slice(0, space > hi * 0.8 ? space : hi).trimEnd();
}

function render(sections, kept) {
  const parts = [];
  const emitted = new Set();
  for (const s of sections) {
    const blocks = kept.get(s);
    if (!blocks) continue;
    for (const h of headingLinesFor(s, emitted)) { emitted.add(h); parts.push(h); }
    for (const b of blocks) parts.push(b.lines.join('\n'));
  }
  return parts.join('\n\n');
}

/** Titles of what was left out: for each omitted section, its highest ancestor with nothing kept below it. */
function omittedTitles(content, kept) {
  const titles = [];
  const listed = new Set();
  for (const s of content) {
    if (kept.has(s) || (s.heading && s.heading.hasKept)) continue; // its heading is shown above kept subsections
    let node = null;
    for (const h of [...s.ancestors, s.heading]) if (h && !h.hasKept) { node = h; break; }
    const key = node ?? s;
    if (listed.has(key)) continue;
    listed.add(key);
    titles.push(node ? node.title : s.heading ? s.heading.title : '(introduction)');
  }
  return titles;
}

function shorten(title) {
  const t = title.replace(/"/g, "'");
  return t.length > MAX_TITLE_CHARS ? t.slice(0, MAX_TITLE_CHARS - 1).trimEnd() + '…' : t;
}

function noteFor({ kept, total, keptTokens, originalTokens, omitted, trimmed, firstTrimmed, listed }) {
  let note = `---\n[curated by plugboard: kept ${kept} of ${total} sections (~${keptTokens} of ~${originalTokens} tokens)`;
  if (trimmed === 1 && firstTrimmed) note += ', the first one trimmed';
  else if (trimmed > 0) note += `, ${trimmed === 1 ? 'one' : trimmed} of them trimmed`;
  if (omitted.length) {
    const shown = omitted.slice(0, listed).map((t) => `"${shorten(t)}"`);
    const more = omitted.length - shown.length;
    const list = shown.length ? `${shown.join(', ')}${more > 0 ? `, … and ${more} more` : ''}` : `${more} section${more === 1 ? '' : 's'}`;
    note += `. Omitted: ${list} — ask for a topic to see them.]`;
  } else {
    note += '; navigation and boilerplate removed.]';
  }
  return note;
}

/** Pipes `text` to an external summarizer; returns its output, or an error message. */
export function runSummarizer(command, text, timeoutMs) {
  const r = spawnSync(command, {
    shell: true,
    input: text,
    encoding: 'utf8',
    timeout: timeoutMs,
    maxBuffer: 16 * 1024 * 1024,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  // EPIPE only means the command exited without reading all of its input; its status says the rest.
  if (r.error && !(r.error.code === 'EPIPE' && r.status !== null)) return { error: `summarizer "${command}" failed: ${r.error.code === 'ETIMEDOUT' ? `timed out after ${timeoutMs} ms` : r.error.message}` };
  if (r.status !== 0) return { error: `summarizer "${command}" exited with ${r.status ?? r.signal}${r.stderr ? `: ${r.stderr.trim().slice(0, 200)}` : ''}` };
  const out = (r.stdout || '').trim();
  if (!out) return { error: `summarizer "${command}" printed nothing` };
  return { text: out };
}

function queryFrom(input) {
  if (typeof input.metadata?.userQuery === 'string' && input.metadata.userQuery.trim()) return input.metadata.userQuery.trim();
  const args = input.arguments && typeof input.arguments === 'object' ? input.arguments : {};
  for (const key of ['topic', 'query', 'q', 'question', 'prompt', 'search']) {
    if (typeof args[key] === 'string' && args[key].trim()) return args[key].trim();
  }
  return typeof input.toolName === 'string' ? input.toolName : '';
}

function positiveNumber(...values) {
  for (const v of values) {
    const n = typeof v === 'string' ? Number(v) : v;
    if (typeof n === 'number' && Number.isFinite(n) && n > 0) return Math.floor(n);
  }
  return null;
}

export default {
  response(input) {
    const raw = input?.rawContent;
    if (typeof raw !== 'string' || raw.length === 0) return null;
    const config = input.config && typeof input.config === 'object' ? input.config : {};
    const maxTokens = positiveNumber(input.maxTokens, config.max_tokens) ?? DEFAULT_MAX_TOKENS;
    if (estimateTokens(raw) <= maxTokens) return null;
    const query = queryFrom(input);
    const minRelative = typeof config.min_relative_score === 'number' ? Math.min(1, Math.max(0, config.min_relative_score)) : DEFAULT_MIN_RELATIVE_SCORE;
    const r = curate(raw, { query, maxTokens, keepSectionsMatching: config.keep_sections_matching, minRelativeScore: minRelative });
    let text = r.text;
    let keptTokens = r.keptTokens;
    const metadata = {
      originalTokens: r.originalTokens,
      keptTokens,
      reduction: 0,
      sectionsKept: r.sectionsKept,
      sectionsTotal: r.sectionsTotal,
      query,
      format: r.format,
    };
    const command = config.summarizer === false ? null
      : typeof config.summarizer === 'string' && config.summarizer.trim() ? config.summarizer
      : process.env.PLUGBOARD_CURATE_SUMMARIZER || null;
    if (command) {
      const timeout = positiveNumber(config.summarizer_timeout_ms) ?? DEFAULT_SUMMARIZER_TIMEOUT_MS;
      const s = runSummarizer(command, text, timeout);
      if (s.text) { text = s.text; keptTokens = estimateTokens(text); metadata.summarized = true; }
      else metadata.summarizerError = s.error;
    }
    if (estimateTokens(text) >= r.originalTokens) return null;
    metadata.keptTokens = keptTokens;
    metadata.reduction = Math.round((1 - keptTokens / Math.max(1, r.originalTokens)) * 1000) / 1000;
    return { text, metadata };
  },
};
