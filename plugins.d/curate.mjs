// curate — a response plugin that cuts large documentation results down to what the
// question needs. Deterministic and local: it detects the format (Markdown, HTML, a Context7
// snippet list, plain text), strips page chrome and boilerplate, splits the page into
// sections by heading, ranks the sections against the user's query with BM25, keeps of each
// example the variant the query asks for (lib/variants.mjs), and keeps the best sections that
// fit the token budget, in document order, ending with a note that names what was left out.
// It only selects and trims; it never writes text of its own apart from that note.
// See docs/curate.md.

import { spawn } from 'node:child_process';
import { bm25, expandQuery, identifiers, termFrequencies, termKey, terms } from './lib/bm25.mjs';
import { htmlToMarkdown, looksLikeHtml } from './lib/html.mjs';
import { buildSections, looksLikeContext7, parseBlocks } from './lib/markdown.mjs';
import { estimateTokens } from './lib/tokens.mjs';
import { alternateUnits, queryVariant, sectionStyle } from './lib/variants.mjs';

export { estimateTokens };

// Without a configured budget curate keeps at most AUTO_BUDGET_SHARE of the documentation
// on the page (its text after conversion and noise removal), never less than AUTO_MIN_TOKENS
// nor more than AUTO_MAX_TOKENS. See "The budget" in docs/curate.md.
const AUTO_BUDGET_SHARE = 0.3;
const AUTO_MIN_TOKENS = 2000;
const AUTO_MAX_TOKENS = 10000;
const DEFAULT_SUMMARIZER_TIMEOUT_MS = 10000;
const DEFAULT_MIN_RELATIVE_SCORE = 0.2;
const HEADING_WEIGHT = 2.5;
// The heading score of an API entry the query names ("copy a file": `shutil.copy()`) counts
// this much more: of the entries whose text has the query's words, that one is the answer.
// The bonus orders candidates; it does not raise the bar the others must clear.
const ENTRY_NAME_BONUS = 0.5;
// A function entry the query calls by its own name ("pack integers…": `struct.pack()`) ranks
// with the best section when it is short (at most NAMED_ENTRY_SHARE of the budget) and the
// name is distinctive (at most NAMED_ENTRY_MAX function entries carry it: an entry and its
// twin on another object, not the eight `read()`s of a file-system page). It answers in a few
// lines; the page's long sections would otherwise spend the budget first.
const NAMED_ENTRY_SHARE = 0.2;
const NAMED_ENTRY_MAX = 2;
// An entry heading: keywords ("class", "coroutine", "Class:"), a dotted name, then its
// parameters or nothing (Markdown may escape the name's underscores; Sphinx ends with ¶).
const ENTRY_TITLE = /^(?:(?:abstract|async|class|classmethod|staticmethod|coroutine|exception|function|method|property|awaitable|decorator|Class:|Event:)\s+)*`?([A-Za-z_$](?:[\w$]|\\_)*(?:\.[A-Za-z_$](?:[\w$]|\\_)*)*)(\s*\(|`?¶?\s*$)/;
// An "Examples" section, or one under it, gains EXAMPLE_SHARE of the score of the section it
// illustrates (see inheritExampleScores).
const EXAMPLE_TITLE = /\bexamples?\b/i;
const EXAMPLE_SHARE = 0.5;
const IDENTIFIER_WEIGHT = 0.6;
// A passage with code counts its matching identifiers this much more: code that calls what the
// query names (`parser.add_argument('--foo', default=42)`) shows the answer in a few lines,
// where the prose around it spends the budget describing it.
const CODE_PASSAGE_IDENTIFIER_FACTOR = 1.5;
const MAX_IDENTIFIER_HITS = 5;
const MAX_OMITTED_LISTED = 8;
const MAX_TITLE_CHARS = 48;
const MAX_RANKED_CHARS = 100000;
// A section that does not fit whole but scores at least this fraction of the best one gives
// its query-matching paragraphs and code to what is left of the budget, if that is at least
// MIN_PARTIAL_TOKENS: on API references one long entry would otherwise crowd out the next.
const PARTIAL_MIN_RELATIVE = 0.5;
// While another section scoring at least PARTIAL_MIN_RELATIVE of the best one is still out, a
// section kept in part (trimmed, or passage by passage) takes at most PART_SHARE of the budget:
// a question often touches several entries, and one long entry would crowd out the next.
const PART_SHARE = 0.5;
const MIN_PARTIAL_TOKENS = 100;
// A section costing more than this share of the budget (and more than PASSAGE_MIN_TOKENS) is
// also ranked passage by passage (a paragraph, or a paragraph with the code it introduces),
// so that the one example of a long section that answers the question can be kept alone.
const PASSAGE_SECTION_SHARE = 0.2;
const PASSAGE_MIN_TOKENS = 300;
// Sections marked deprecated or legacy, and the sections under them, rank at this fraction of
// their score: the current API comes first when it answers about as well.
const SUPERSEDED_FACTOR = 0.5;
// Sections of another API style than the one the query names rank at this fraction of their score.
const OTHER_STYLE_FACTOR = 0.7;
// A candidate whose text is more than REDUNDANCY_FLOOR similar (cosine of term counts) to a kept
// section loses up to REDUNDANCY_WEIGHT of its score, in proportion to the excess.
const REDUNDANCY_FLOOR = 0.7;
const REDUNDANCY_WEIGHT = 0.6;
// A usage example of a kept API entry found elsewhere on the page (one that also matches the
// query) ranks with the entry, right behind it: at most MAX_EXAMPLES_PER_ENTRY per entry, and
// only code blocks of at most MAX_EXAMPLE_LINES lines count as examples.
const MAX_EXAMPLES_PER_ENTRY = 2;
const MAX_EXAMPLE_LINES = 60;
// Trimming ranks the first code block of a section that matches the query this much higher:
// an entry's first example is the one that shows it in use.
const FIRST_CODE_BONUS = 1;
// A paragraph this short before code is a label ("LANGUAGE: javascript / CODE:"), not an introduction.
const MAX_LABEL_CHARS = 40;
// A man page's SYNOPSIS (and a reference page's "Synopsis") is its entry signature: taken
// first when it costs at most LEAD_SHARE of the budget.
const LEAD_SHARE = 0.25;
const LEAD_TITLE = /^synopsis$/i;
// explain: at most this many matched terms are listed per section.
const MAX_EXPLAINED_TERMS = 6;
// "> Stability: 0 - Deprecated" and "> Stability: 3 - Legacy" (Node.js), "Deprecated since
// version 3.6" (Sphinx), "**Deprecated**", "Deprecated:", "Legacy." at the start of one of a
// section's first two paragraphs.
const SUPERSEDED_MARK = /^\s*(?:>\s*)*(?:\[!\w+\]\s*)?(?:\*\*|__)?\s*(?:stability:\s*[03]\b|deprecated(?:\*\*|__)?(?:\s*[:.!]|\s+(?:since|in|as of)\b|\s*$)|legacy(?:\*\*|__)?\s*[:.])/i;

/** Which of "html", "context7" (a Context7-style snippet list), "markdown" or "plain" a text is. */
export function detectFormat(text) {
  if (looksLikeHtml(text)) return 'html';
  if (looksLikeContext7(text)) return 'context7';
  const sample = text.length > 300000 ? text.slice(0, 300000) : text;
  if (/^ {0,3}#{1,6}[ \t]/m.test(sample) || /^ {0,3}(?:```|~~~)/m.test(sample) || /\[[^\]\n]{1,200}\]\([^)\s]{1,500}\)/.test(sample)) return 'markdown';
  return 'plain';
}

/**
 * Curates `text` for `query` within `maxTokens` (when not a positive number: the automatic
 * budget, see autoBudget). Pure: the plugin's `response` wraps it.
 * @returns {{text: string, markdown: string, format: string, originalTokens: number, keptTokens: number,
 *   maxTokens: number, sectionsKept: number, sectionsTotal: number, omitted: string[], trimmed: boolean,
 *   explain?: object}} `explain` only when asked (see explainSections)
 */
export function curate(text, { query = '', maxTokens = null, keepSectionsMatching = [], minRelativeScore = DEFAULT_MIN_RELATIVE_SCORE, explain = false } = {}) {
  const original = text.replace(/\r\n?/g, '\n');
  const originalTokens = estimateTokens(original);
  const format = detectFormat(original);
  const markdown = format === 'html' ? htmlToMarkdown(original) : original;
  const sections = buildSections(parseBlocks(markdown, { plain: format === 'plain', context7: format === 'context7' }));
  const content = sections.filter((s) => s.content);
  for (const s of content) prepareSection(s);
  markSuperseded(sections);
  const limit = Number.isFinite(maxTokens) && maxTokens > 0 ? Math.floor(maxTokens)
    : autoBudget(content.reduce((a, s) => a + ownHeadingTokens(s) + s.bodyCost, 0));
  const reserve = Math.min(150, Math.floor(limit / 3));
  const budget = Math.max(1, limit - reserve);
  // Variants of one example (ES module and CommonJS, promise and callback): the ones the query
  // does not ask for are left out of every section, and cost nothing.
  const want = queryVariant(query);
  for (const s of content) {
    s.alternates = alternateUnits(s.units, want);
    if (s.alternates.size === 0) continue;
    s.units = s.units.filter((u) => !s.alternates.has(u));
    s.bodyCost = unitsCost(s.units);
  }

  // Ranking: BM25 over section text and over heading paths, plus matching code identifiers.
  const queryTerms = [...new Set(terms(query, [], { phrases: true }))];
  const q = expandQuery(queryTerms);
  const bodyScore = bm25(content.map((s) => s.terms));
  const headScore = bm25(content.map((s) => terms([...s.ancestors, s.heading].flatMap(titlesOf).join(' '), [], { phrases: true })), { b: 0.3 });
  const pins = compilePatterns(keepSectionsMatching);
  content.forEach((s, i) => {
    s.tf = bodyScore.frequencies(i);
    // A section of another API style than the one the query names ("with promises": the
    // Callback API's twin of the entry) ranks lower.
    const style = want.named.style ? sectionStyle(pathOf(s)) : null;
    s.otherStyle = style !== null && style !== want.style;
    s.factor = (s.superseded ? SUPERSEDED_FACTOR : 1) * (s.otherStyle ? OTHER_STYLE_FACTOR : 1);
    s.headingScore = HEADING_WEIGHT * headScore(i, q);
    s.entry = entryName(s.heading);
    s.bonus = s.entry ? s.factor * ENTRY_NAME_BONUS * (q.weights.get(termKey(s.entry.name.toLowerCase())) ?? 0) * s.headingScore : 0;
    s.score = s.factor * (bodyScore(i, q) + s.headingScore + IDENTIFIER_WEIGHT * identifierHits(s.ids, q.weights)) + s.bonus;
    s.pinned = pins.length > 0 && pins.some((re) => re.test(pathOf(s)));
    s.lead = !s.pinned && q.size > 0 && s.heading !== null && LEAD_TITLE.test(s.heading.title) && s.bodyCost <= budget * LEAD_SHARE;
  });
  inheritExampleScores(content, q.size);
  // Passages of long sections compete with whole sections, under the same heading score.
  const passages = [];
  const passageMin = Math.max(PASSAGE_MIN_TOKENS, budget * PASSAGE_SECTION_SHARE);
  if (q.size > 0) {
    for (const s of content) {
      if (s.bodyCost <= passageMin || s.units.length < 2) continue;
      for (const u of s.units) {
        const body = bodyScore.passage(unitFrequencies(u), unitTerms(u).length, q);
        if (body === 0) continue;
        const idWeight = IDENTIFIER_WEIGHT * (hasCode(u) ? CODE_PASSAGE_IDENTIFIER_FACTOR : 1);
        passages.push({ section: s, unit: u, score: s.factor * (body + s.headingScore + idWeight * identifierHits(unitIdentifiers(u), q.weights)) + s.bonus });
      }
    }
  }
  const top = [...content, ...passages].reduce((m, c) => Math.max(m, c.score - (c.section ?? c).bonus), 0);
  const threshold = top > 0 ? top * minRelativeScore : 0;
  raiseNamedEntries(content, query, q, { top, threshold, budget });
  const candidates = [
    ...content.filter((s) => s.pinned || s.lead || top === 0 || s.score >= threshold).map((s) => ({ section: s, unit: null, score: s.score })),
    ...passages.filter((p) => p.score >= threshold),
  ].sort(byRank);

  // Greedy selection by score. A section's cost includes the headings it brings in; a passage
  // joins what is kept of its section, and a section taken whole later absorbs its passages.
  // A kept API entry brings its usage examples from elsewhere on the page in right behind it.
  const emittedHeadings = new Set();
  const kept = new Map(); // section → { whole, units: Set, cut: a block cut to fit, or null }
  // With `explain`, why each section was kept or not: section → list of reasons.
  const why = explain ? new Map() : null;
  const because = (sec, reason) => {
    if (!why) return;
    let list = why.get(sec);
    if (!list) why.set(sec, (list = []));
    if (!list.includes(reason)) list.push(reason);
  };
  let keptRanked = 0; // kept sections other than lead ones
  const examples = usageExamples(content);
  const pending = []; // examples of kept entries and candidates that lost score, best first
  let used = 0;
  let first = null;
  const requeue = (item) => {
    const at = pending.findIndex((p) => byRank(item, p) < 0);
    pending.splice(at < 0 ? pending.length : at, 0, item);
  };
  const withExamples = new Set(); // entries whose examples are queued
  const admit = (c, entry, cost) => {
    const s = c.section;
    if (!kept.has(s)) for (const l of headingLinesFor(s, emittedHeadings)) emittedHeadings.add(l);
    if (!kept.has(s) && !s.lead) keptRanked++;
    kept.set(s, entry);
    used += cost;
    if (!s.lead) first ??= s;
    if (why) {
      because(s, s.pinned ? 'pinned by keep_sections_matching' : s.lead && !c.unit ? 'synopsis of the page, taken first'
        : c.example ? `usage example of a kept entry` : c.unit ? 'passage matching the query' : entry.whole ? 'matches the query' : 'matches the query; trimmed to fit the budget');
    }
    if (c.example || withExamples.has(s)) return;
    withExamples.add(s);
    // Only examples in sections relevant on their own, and matching the query themselves.
    const relevant = (u) => bodyScore.passage(unitFrequencies(u), unitTerms(u).length, q);
    for (const e of examples(s, relevant, (x) => x.score >= threshold)) {
      const item = { section: e.section, unit: e.unit, score: s.score, example: true };
      requeue(item);
    }
  };
  for (let i = 0; i < candidates.length || pending.length > 0;) {
    const c = pending.length > 0 && (i >= candidates.length || byRank(pending[0], candidates[i]) < 0) ? pending.shift() : candidates[i++];
    const s = c.section;
    const have = kept.get(s);
    if (have?.whole) continue;
    const headingCost = have ? 0 : headingLinesFor(s, emittedHeadings).reduce((a, l) => a + estimateTokens(l) + 1, 0);
    const left = budget - used - headingCost;
    const haveUnits = have ? have.units : new Set();
    const partialAllowed = keptRanked === 0 || (!s.pinned && top > 0 && s.score >= top * PARTIAL_MIN_RELATIVE && left >= MIN_PARTIAL_TOKENS);
    // A section that may not be kept in part can still give its best passage to what is left,
    // unless it is a near copy of a kept one (see below): that passage would repeat it.
    const bestPassageOnly = !c.unit && !partialAllowed && !s.pinned && left > 0 && !(c.score < c.base);
    if (c.unit ? haveUnits.has(c.unit) || c.unit.cost > left : s.bodyCost - unitsCost(haveUnits) > left && !partialAllowed && !bestPassageOnly) {
      if (!c.unit) because(s, `did not fit the budget (${s.bodyCost} tokens, ${Math.max(0, left)} left)`);
      else if (!haveUnits.has(c.unit)) because(s, `a passage did not fit the budget (${c.unit.cost} tokens, ${Math.max(0, left)} left)`);
      continue;
    }
    // What repeats a kept section (the promise twin of a callback API, the sync twin of an
    // async one) loses score by how much it repeats, and waits for its new turn.
    if (!c.example && !s.pinned && c.seen !== kept.size) {
      c.seen = kept.size;
      c.base ??= c.score;
      const excess = Math.max(0, redundancy(s, kept) - REDUNDANCY_FLOOR);
      const score = (c.base - (excess > 0 && twinKept(s, kept) ? s.bonus : 0)) * (1 - REDUNDANCY_WEIGHT * excess / (1 - REDUNDANCY_FLOOR));
      if (score < c.score) {
        because(s, `near copy of a kept section: score lowered from ${round(c.base)} to ${round(score)}`);
        c.score = score;
        requeue(c);
        continue;
      }
    }
    // A section kept in part stops at its share of the budget while a close rival is still out.
    const rivalOut = candidates.some((o) => o.section !== s && !o.unit && !kept.get(o.section)?.whole && o.score >= top * PARTIAL_MIN_RELATIVE);
    const partRoom = rivalOut ? Math.floor(budget * PART_SHARE) - unitsCost(haveUnits) : Infinity;
    if (c.unit && c.unit.cost > partRoom) {
      because(s, `a passage did not fit the share of the budget a section kept in part may take (${c.unit.cost} tokens, ${Math.max(0, partRoom)} left)`);
      continue;
    }
    if (c.unit) {
      admit(c, { whole: false, units: new Set([...haveUnits, c.unit]), cut: null }, headingCost + c.unit.cost);
      continue;
    }
    const haveCost = unitsCost(haveUnits);
    if (s.bodyCost - haveCost <= left) {
      admit(c, { whole: true, units: new Set(s.units), cut: null }, headingCost + s.bodyCost - haveCost);
    } else {
      // Trimmed, it leaves room for the next sections when they score close to it.
      const r = trimSection(s, Math.min(left, partRoom), q.weights, { matchingOnly: keptRanked > 0, exclude: haveUnits, maxUnits: bestPassageOnly ? 1 : Infinity });
      if (r.units.length === 0 && !r.cut) { because(s, `did not fit the budget (${s.bodyCost} tokens, ${Math.max(0, left)} left) and no part of it that matches fits`); continue; }
      admit(c, { whole: false, units: new Set([...haveUnits, ...r.units]), cut: r.cut }, headingCost + unitsCost(r.units) + (r.cut ? blockTokens(r.cut) + 1 : 0));
    }
  }

  // Render in document order; drop the weakest section while the estimate overshoots.
  let body = render(sections, kept);
  while (estimateTokens(body) > budget && kept.size > 1) {
    const weakest = [...kept.keys()].sort((a, b) => a.score - b.score || b.index - a.index)[0];
    kept.delete(weakest);
    because(weakest, 'dropped again: the rendered text overshot the budget');
    body = render(sections, kept);
  }
  const keptTokens = estimateTokens(body);
  for (const s of kept.keys()) for (const a of [...s.ancestors, s.heading]) if (a) a.hasKept = true;
  const omitted = omittedTitles(content, kept);
  const trimmed = [...kept.values()].filter((e) => !e.whole).length;
  const firstTrimmed = first !== null && kept.has(first) && !kept.get(first).whole;
  // The note gets what the body left of the budget: fewer omitted titles when space is short.
  let note = '';
  for (let listed = MAX_OMITTED_LISTED; listed >= 0; listed--) {
    note = noteFor({ kept: kept.size, total: content.length, keptTokens, originalTokens, omitted, trimmed, firstTrimmed, listed });
    if (keptTokens + 2 + estimateTokens(note) <= limit) break;
  }
  return {
    text: (body ? body + '\n\n' : '') + note,
    markdown,
    format,
    originalTokens,
    keptTokens,
    maxTokens: limit,
    sectionsKept: kept.size,
    sectionsTotal: content.length,
    omitted,
    trimmed: trimmed > 0,
    ...(why ? { explain: explainSections(content, kept, why, { q, threshold, top, want, limit, budget }) } : {}),
  };
}

const round = (x) => Math.round(x * 100) / 100;

/**
 * The per-section explanation (`metadata.explain`): for each content section in document
 * order, its heading path, whether it was kept (whole, in part, or not), its score and the
 * reasons — the query terms it matched, the threshold, the budget, the variants left out.
 */
function explainSections(content, kept, why, { q, threshold, top, want, limit, budget }) {
  const sections = content.map((s) => {
    const entry = kept.get(s);
    const reasons = [...(why.get(s) ?? [])];
    const matched = [...q.weights].filter(([t]) => s.tf.has(t)).sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
      .slice(0, MAX_EXPLAINED_TERMS).map(([t]) => t);
    if (!entry && !reasons.length) {
      if (matched.length === 0) reasons.push('no query term matches');
      else if (s.score < threshold) reasons.push(`score below min_relative_score (${round(s.score)} < ${round(threshold)})`);
      else reasons.push('not reached: the budget was spent');
    }
    if (s.superseded) reasons.push('marked deprecated or legacy: score halved');
    if (s.otherStyle) reasons.push(`another API style than the query's (${want.style}): score lowered`);
    if (s.alternates.size) reasons.push(...new Set([...s.alternates.values()].map((r) => `left out ${r}`)));
    return {
      heading: pathOf(s) || '(introduction)',
      kept: !entry ? 'no' : entry.whole ? 'whole' : 'part',
      score: round(s.score),
      tokens: s.bodyCost,
      matched,
      reasons,
    };
  });
  return {
    query: { terms: [...q.weights.keys()].slice(0, 40), variant: { module: want.module, style: want.style, named: want.named } },
    budget: { maxTokens: limit, forBody: budget },
    threshold: round(threshold),
    topScore: round(top),
    sections,
  };
}

/** How much of `s` a kept section already says: the highest cosine similarity of their term counts. */
function redundancy(s, kept) {
  const a = vectorOf(s);
  let best = 0;
  for (const other of kept.keys()) {
    if (other === s) continue;
    const b = vectorOf(other);
    let dot = 0;
    const [small, large] = a.tf.size <= b.tf.size ? [a.tf, b.tf] : [b.tf, a.tf];
    for (const [t, f] of small) { const g = large.get(t); if (g) dot += f * g; }
    if (a.norm > 0 && b.norm > 0) best = Math.max(best, dot / (a.norm * b.norm));
  }
  return best;
}

function vectorOf(s) {
  if (!s.vector) {
    const tf = s.tf;
    let sum = 0;
    for (const f of tf.values()) sum += f * f;
    s.vector = { tf, norm: Math.sqrt(sum) };
  }
  return s.vector;
}

/** Candidate order: pinned sections, then a small synopsis, then score, then document order. */
function byRank(a, b) {
  return Number(b.section.pinned && !b.unit) - Number(a.section.pinned && !a.unit)
    || Number(b.section.lead && !b.unit) - Number(a.section.lead && !a.unit) || b.score - a.score
    || a.section.index - b.section.index || (a.unit ? a.unit.index : -1) - (b.unit ? b.unit.index : -1);
}

/**
 * Usage examples of API entries: for a section whose heading names a call (`dns.lookup(…)`,
 * `re.findall(…)`, `class collections.Counter(…)`), the code units of other `eligible`
 * sections that demonstrate it (the paragraph introducing the code names it in backticks,
 * or, for code with no such paragraph, it is the first call, setup such as `require`, `import`
 * and printing aside), at most MAX_EXAMPLES_PER_ENTRY, best-matching (by `score`, which must
 * be positive) first. Module introductions and "Examples" sections show an API in use away
 * from its entry.
 * @returns {(s: object, score: (unit: object) => number, eligible: (s: object) => boolean) => Array<{section: object, unit: object}>}
 */
function usageExamples(content) {
  let index = null; // call key → [{section, unit}]
  const build = () => {
    index = new Map();
    for (const s of content) {
      for (const u of s.units) {
        const code = u.blocks.find((b) => b.type === 'code');
        if (!code || code.lines.length > MAX_EXAMPLE_LINES) continue;
        const keys = new Set();
        // A short label before the code ("LANGUAGE: javascript / CODE:" in a Context7 list) is
        // not an introduction: the code's first call says what it shows.
        const para = u.blocks[0].type === 'para' ? u.blocks[0].lines.join(' ') : '';
        const intro = para.length > MAX_LABEL_CHARS || para.includes('`') ? para : '';
        if (intro.length < 5000) {
          for (const span of intro.matchAll(CODE_SPAN)) for (const m of span[1].matchAll(CALL)) for (const k of callKeys(m[1])) keys.add(k);
        }
        const main = intro ? null : firstCall(code.lines);
        if (main) for (const k of callKeys(main)) keys.add(k);
        for (const k of keys) {
          let list = index.get(k);
          if (!list) index.set(k, (list = []));
          list.push({ section: s, unit: u });
        }
      }
    }
  };
  return (s, score, eligible) => {
    const title = s.heading ? s.heading.title : '';
    const m = title.length < 500 ? title.match(ONE_CALL) : null;
    // Constructors are left out: examples of everything else begin by constructing the object.
    if (!m || /^[A-Z]/.test(m[1].slice(m[1].lastIndexOf('.') + 1))) return [];
    const key = callKeys(m[1])[0];
    if (!key) return [];
    if (!index) build();
    const found = (index.get(key) ?? []).filter((e) => e.section !== s && eligible(e.section));
    return found.map((e) => ({ e, score: score(e.unit) })).filter((x) => x.score > 0)
      .sort((a, b) => b.score - a.score || a.e.section.index - b.e.section.index || a.e.unit.index - b.e.unit.index)
      .slice(0, MAX_EXAMPLES_PER_ENTRY).map((x) => x.e);
  };
}

// A call: a (dotted) name followed by "(".
const CALL = /([A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)*)\s*\(/g;
const ONE_CALL = /([A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)*)\s*\(/;
const CODE_SPAN = /`([^`\n]{1,200})`/g;
// Calls that set an example up or print its result rather than show the API.
const SETUP_CALL = /^(?:require|import|console\.\w+|print|printf|println|puts|log|assert|describe|it|test|expect|new|function|if|for|while|switch|return|catch)$/;

/** The first call in code that is not setup (imports, printing), as its dotted name, or null. */
function firstCall(lines) {
  for (const line of lines) {
    if (line.length > 500) continue;
    for (const m of line.matchAll(CALL)) {
      if (!SETUP_CALL.test(m[1])) return m[1];
    }
  }
  return null;
}

/**
 * The keys a call is indexed by: its last name when that is distinctive (six characters or
 * more: `lookup`, `toString`, `findall`), and its last two names (`path.join`, `re.sub`), as
 * short names (`get`, `run`) are called on everything. The first key is the one an entry is
 * looked up by.
 */
function callKeys(dotted) {
  const names = dotted.split('.');
  const last = names[names.length - 1];
  const keys = [];
  if (names.length >= 2) keys.push(`${names[names.length - 2]}.${last}`);
  if (last.length >= 6) keys.unshift(last);
  return keys;
}

/** The budget when none is configured: AUTO_BUDGET_SHARE of the page's documentation, within bounds. */
export function autoBudget(contentTokens) {
  return Math.min(AUTO_MAX_TOKENS, Math.max(AUTO_MIN_TOKENS, Math.round(contentTokens * AUTO_BUDGET_SHARE)));
}

/**
 * Splits a section into units — a paragraph, a code block, or a paragraph together with the
 * code block it introduces — and gathers the section's terms (each unit's are a slice of
 * them, see unitTerms) and code identifiers, once.
 * Ranking reads at most the first MAX_RANKED_CHARS of a section: enough to judge it, and bounded.
 */
function prepareSection(s) {
  const units = [];
  for (const b of s.blocks) {
    const last = units[units.length - 1];
    if (b.type === 'code' && last && last.blocks.length === 1 && last.blocks[0].type === 'para') last.blocks.push(b);
    else units.push({ section: s, index: units.length, blocks: [b] });
  }
  const title = s.heading ? s.heading.title : '';
  const all = terms(title);
  const texts = [title];
  let room = MAX_RANKED_CHARS - title.length - 1;
  for (const u of units) {
    u.cost = 0;
    const start = all.length;
    for (const b of u.blocks) {
      u.cost += blockTokens(b) + 1;
      if (room <= 0) continue;
      let t = b.lines.join('\n');
      if (t.length > room) t = t.slice(0, room);
      room -= t.length + 1;
      texts.push(t);
      terms(t, all);
    }
    u.range = [start, all.length];
  }
  s.units = units;
  s.terms = all;
  s.ids = identifiers(texts.join('\n'));
  s.bodyCost = unitsCost(units);
}

/** A unit's terms (a slice of its section's). */
function unitTerms(u) {
  return (u.terms ??= u.section.terms.slice(u.range[0], u.range[1]));
}

/** A unit's term counts, for scoring it as a passage. */
function unitFrequencies(u) {
  return (u.tf ??= termFrequencies(unitTerms(u)));
}

/** A unit's code identifiers, read when it is ranked as a passage. */
function unitIdentifiers(u) {
  if (!u.ids) {
    const t = u.blocks.map((b) => b.lines.join('\n')).join('\n');
    u.ids = identifiers(t.length > MAX_RANKED_CHARS ? t.slice(0, MAX_RANKED_CHARS) : t);
  }
  return u.ids;
}

/** Marks sections whose first paragraphs say they are deprecated or legacy, and those under them. */
function markSuperseded(sections) {
  const marked = new Set(); // heading nodes of marked sections
  for (const s of sections) {
    const own = s.blocks.slice(0, 2).some((b) => b.type === 'para' && b.lines[0].length < 2000 && SUPERSEDED_MARK.test(b.lines[0]));
    s.superseded = own || s.ancestors.some((a) => marked.has(a));
    if (s.superseded && s.heading) marked.add(s.heading);
  }
}

/**
 * An "Examples" section (or one under it) shows in use what the section above it describes,
 * in code that seldom uses the words of a question: it gains EXAMPLE_SHARE of that section's
 * score, or of the page's first section when it has none above it.
 */
function inheritExampleScores(content, querySize) {
  if (querySize === 0 || content.length === 0) return;
  const byHeading = new Map(content.filter((s) => s.heading).map((s) => [s.heading, s]));
  const page = content.find((s) => s.heading) ?? content[0];
  for (const s of content) {
    const path = [...s.ancestors, s.heading].filter(Boolean);
    const at = path.findIndex((h) => EXAMPLE_TITLE.test(h.title));
    if (at < 0) continue;
    let parent = null;
    for (let k = at - 1; k >= 0 && !parent; k--) parent = byHeading.get(path[k]) ?? null;
    parent ??= page === s ? null : page;
    if (!parent) continue;
    s.score += EXAMPLE_SHARE * parent.score * s.factor;
  }
}

/**
 * The API entry a heading is (`shutil.copy(src, dst)`, `class asyncio.subprocess.Process`):
 * its dotted path and its own name, or null.
 */
function entryName(heading) {
  const m = heading ? ENTRY_TITLE.exec(heading.title) : null;
  if (!m || !(m[2].includes('(') || m[1].includes('.'))) return null;
  const path = m[1].replace(/\\_/g, '_');
  return { path, name: path.slice(path.lastIndexOf('.') + 1), call: m[2].includes('(') };
}

/**
 * Raises the short function entries the query calls by their own name (see NAMED_ENTRY_SHARE),
 * among those that clear the threshold, to the top score plus their entry-name bonus: they
 * rank first. The threshold stays as it was.
 */
function raiseNamedEntries(content, query, q, { top, threshold, budget }) {
  const words = new Set(query.toLowerCase().match(/[\w$]+/g) ?? []);
  const named = (s) => s.entry?.call && words.has(s.entry.name.toLowerCase()) && q.weights.get(termKey(s.entry.name.toLowerCase())) === 1;
  const byName = new Map();
  for (const s of content) if (named(s)) byName.set(s.entry.name, [...(byName.get(s.entry.name) ?? []), s]);
  for (const entries of byName.values()) {
    if (entries.length > NAMED_ENTRY_MAX) continue;
    for (const s of entries) if (s.score >= threshold && s.bodyCost <= budget * NAMED_ENTRY_SHARE) s.score = Math.max(s.score, top * s.factor + s.bonus);
  }
}

/**
 * Whether a kept section is the twin of `s`'s entry: the same name on another object
 * (`storePromises.load` for `store.load`). Its entry-name bonus is then spent; another
 * snippet of the same entry keeps it.
 */
function twinKept(s, kept) {
  if (!s.entry) return false;
  for (const other of kept.keys()) if (other.entry && other.entry.name === s.entry.name && other.entry.path !== s.entry.path) return true;
  return false;
}

/** Code identifiers with a part among the query's terms, each counted at its best weight; at most MAX_IDENTIFIER_HITS. */
function identifierHits(ids, weights) {
  if (weights.size === 0) return 0;
  let hits = 0;
  for (const parts of ids.values()) {
    let best = 0;
    for (const p of parts) best = Math.max(best, weights.get(p) ?? 0);
    hits += best;
  }
  return Math.min(MAX_IDENTIFIER_HITS, hits);
}

function hasCode(u) {
  return u.blocks.some((b) => b.type === 'code');
}

function unitsCost(units) {
  let cost = 0;
  for (const u of units) cost += u.cost;
  return cost;
}

function ownHeadingTokens(s) {
  if (!s.heading) return 0;
  return (s.heading.aliases.length ? [...s.heading.aliases, s.heading] : [s.heading]).reduce((a, h) => a + estimateTokens(h.line) + 1, 0);
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
 * Keeps what fits of a section larger than the budget: its units (see prepareSection),
 * best-matching first (at most `maxUnits` of them), in document order. Code is never cut; as
 * a last resort a lone paragraph is cut by lines, and a lone line at a word boundary.
 * @returns {{units: object[], cut: object | null}} the units chosen (none of `exclude`), or a cut block
 */
function trimSection(s, budget, weights, { matchingOnly = false, exclude = new Set(), maxUnits = Infinity } = {}) {
  const none = { units: [], cut: null };
  if (budget <= 0) return none;
  const ranked = s.units.filter((u) => !exclude.has(u)).map((u) => {
    const present = unitFrequencies(u);
    let match = 0;
    for (const [t, w] of weights) if (present.has(t)) match += w;
    const code = hasCode(u);
    // Code ranks by how its identifiers match the query too (`rl.question`, `readFile`).
    const ids = code ? IDENTIFIER_WEIGHT * identifierHits(unitIdentifiers(u), weights) : 0;
    return { u, match, code, rank: match + ids + (code ? 0.5 : 0) + (u.index === 0 ? 0.25 : 0) };
  });
  const firstCode = ranked.find((r) => r.code && r.match > 0);
  if (firstCode) firstCode.rank += FIRST_CODE_BONUS;
  let left = budget;
  const chosen = [];
  // The units that contain a query term, when there are any: what does not match is no part of
  // the answer, and the budget it would take is better left to the next section.
  const onlyMatching = matchingOnly || ranked.some((r) => r.match > 0);
  for (const r of ranked.sort((a, b) => b.rank - a.rank || a.u.index - b.u.index)) {
    if (chosen.length >= maxUnits) break;
    if (onlyMatching && r.match === 0) continue;
    if (r.u.cost <= left) { chosen.push(r.u); left -= r.u.cost; }
  }
  if (chosen.length > 0) return { units: chosen, cut: null };
  if (matchingOnly || exclude.size > 0) return none;
  const firstProse = s.blocks.find((b) => b.type === 'para');
  if (!firstProse) return none;
  const lines = [];
  let room = budget;
  for (const line of firstProse.lines) {
    const cost = estimateTokens(line) + 1;
    if (cost <= room) { lines.push(line); room -= cost; continue; }
    if (lines.length === 0) lines.push(cutAtWord(line, room));
    break;
  }
  return lines.length && lines[0] ? { units: [], cut: { type: 'para', lines } } : none;
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
    const entry = kept.get(s);
    if (!entry) continue;
    for (const h of headingLinesFor(s, emitted)) { emitted.add(h); parts.push(h); }
    const blocks = entry.whole ? (s.alternates.size ? s.units.flatMap((u) => u.blocks) : s.blocks)
      : entry.cut ? [entry.cut]
      : [...entry.units].sort((a, b) => a.index - b.index).flatMap((u) => u.blocks);
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

/**
 * Pipes `text` to an external summarizer; resolves to its output, or an error message.
 * Asynchronous, so that the worker keeps answering its heartbeat while the command runs: a
 * slow summarizer ends in the documented soft error, not in a worker killed as hung.
 */
export function runSummarizer(command, text, timeoutMs) {
  return new Promise((resolve) => {
    const fail = (why) => ({ error: `summarizer "${command}" ${why}` });
    // Its own process group, so that a timeout ends the shell and whatever it started.
    const child = spawn(command, { shell: true, stdio: ['pipe', 'pipe', 'pipe'], detached: true });
    let out = '';
    let err = '';
    let settled = false;
    const finish = (result) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(result);
    };
    const stop = () => { try { process.kill(-child.pid, 'SIGKILL'); } catch { /* already gone */ } };
    const timer = setTimeout(() => { stop(); finish(fail(`failed: timed out after ${timeoutMs} ms`)); }, timeoutMs);
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk) => {
      out += chunk;
      if (out.length > MAX_SUMMARY_CHARS) { stop(); finish(fail(`failed: printed more than ${MAX_SUMMARY_CHARS} characters`)); }
    });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk) => { if (err.length < 4096) err += chunk; });
    child.on('error', (error) => finish(fail(`failed: ${error.message}`)));
    // EPIPE only means the command exited without reading all of its input; its status says the rest.
    child.stdin.on('error', () => {});
    child.on('close', (status, signal) => {
      if (status !== 0) return finish(fail(`exited with ${status ?? signal}${err ? `: ${err.trim().slice(0, 200)}` : ''}`));
      const text = out.trim();
      finish(text ? { text } : fail('printed nothing'));
    });
    child.stdin.end(text);
  });
}

const MAX_SUMMARY_CHARS = 16 * 1024 * 1024;

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
    // With no budget configured curate sets its own, which is at least AUTO_MIN_TOKENS.
    const maxTokens = positiveNumber(input.maxTokens, config.max_tokens);
    if (estimateTokens(raw) <= (maxTokens ?? AUTO_MIN_TOKENS)) return null;
    const query = queryFrom(input);
    const minRelative = typeof config.min_relative_score === 'number' ? Math.min(1, Math.max(0, config.min_relative_score)) : DEFAULT_MIN_RELATIVE_SCORE;
    const explain = config.explain === true;
    const r = curate(raw, { query, maxTokens, keepSectionsMatching: config.keep_sections_matching, minRelativeScore: minRelative, explain });
    let text = r.text;
    let keptTokens = r.keptTokens;
    const metadata = {
      originalTokens: r.originalTokens,
      keptTokens,
      reduction: 0,
      sectionsKept: r.sectionsKept,
      sectionsTotal: r.sectionsTotal,
      maxTokens: r.maxTokens,
      query,
      format: r.format,
    };
    if (explain) metadata.explain = r.explain;
    const command = config.summarizer === false ? null
      : typeof config.summarizer === 'string' && config.summarizer.trim() ? config.summarizer
      : process.env.PLUGBOARD_CURATE_SUMMARIZER || null;
    const finish = () => {
      if (estimateTokens(text) >= r.originalTokens) return null;
      metadata.keptTokens = keptTokens;
      metadata.reduction = Math.round((1 - keptTokens / Math.max(1, r.originalTokens)) * 1000) / 1000;
      return { text, metadata };
    };
    if (!command) return finish();
    const timeout = positiveNumber(config.summarizer_timeout_ms) ?? DEFAULT_SUMMARIZER_TIMEOUT_MS;
    return runSummarizer(command, text, timeout).then((s) => {
      if (s.text) { text = s.text; keptTokens = estimateTokens(text); metadata.summarized = true; }
      else metadata.summarizerError = s.error;
      return finish();
    });
  },
};
