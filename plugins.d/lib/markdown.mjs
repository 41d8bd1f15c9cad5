// Splits Markdown (or plain text) into blocks and sections, and recognises page noise.
//
// Everything here is line-oriented and linear: each regular expression runs on one line,
// and the ones that could backtrack badly only see lines shorter than MAX_ANALYSED_LINE.

const MAX_ANALYSED_LINE = 2000;
const MAX_CHROME_LINE = 300;
const MAX_ALIASES = 8; // a run of empty headings longer than this is not an overload list

/**
 * @typedef {{type: 'heading', level: number, title: string, line: string}} HeadingBlock
 * @typedef {{type: 'code', lines: string[]}} CodeBlock
 * @typedef {{type: 'para', lines: string[]}} ParaBlock
 * @typedef {HeadingBlock | CodeBlock | ParaBlock} Block
 */

/**
 * Splits text into heading, fenced-code and paragraph blocks.
 * A fence that never closes is not a fence (its line is read as text), so one stray ``` cannot
 * swallow the rest of a document. In `plain` mode, ALL-CAPS lines after a blank line (the
 * section names of a man page) are headings too.
 * @returns {Block[]}
 */
export function parseBlocks(text, { plain = false, context7 = false } = {}) {
  const lines = text.split('\n');
  const closers = { '`': [], '~': [] };
  for (let i = 0; i < lines.length; i++) {
    const f = bareFence(lines[i]);
    if (f) closers[f.ch].push({ index: i, len: f.len });
  }
  const failedLength = { '`': Infinity, '~': Infinity };
  const findClose = (ch, len, from) => {
    if (len >= failedLength[ch]) return -1;
    const list = closers[ch];
    let lo = 0;
    let hi = list.length;
    while (lo < hi) { const mid = (lo + hi) >> 1; if (list[mid].index <= from) lo = mid + 1; else hi = mid; }
    for (let k = lo; k < list.length; k++) if (list[k].len >= len) return list[k].index;
    failedLength[ch] = Math.min(failedLength[ch], len);
    return -1;
  };

  const blocks = [];
  let para = null;
  const flush = () => { if (para) { blocks.push(para); para = null; } };
  let previousBlank = true;
  let lastLevel = 1; // of the last ATX or setext heading
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    // A Context7 snippet list: each `TITLE: …` line starts a snippet, and the dashes between
    // snippets are separators.
    if (context7) {
      if (CONTEXT7_SEPARATOR.test(line)) { flush(); previousBlank = true; continue; }
      if (line.startsWith('TITLE: ') && line.length < MAX_ANALYSED_LINE) {
        flush();
        blocks.push({ type: 'heading', level: 2, title: line.slice(7).trim(), line });
        previousBlank = false;
        continue;
      }
    }
    const open = openingFence(line);
    if (open) {
      const close = findClose(open.ch, open.len, i);
      if (close >= 0) {
        flush();
        blocks.push({ type: 'code', lines: lines.slice(i, close + 1) });
        i = close;
        previousBlank = false;
        continue;
      }
    }
    const atx = atxHeading(line);
    if (atx) {
      flush();
      blocks.push({ type: 'heading', level: atx.level, title: atx.title, line });
      lastLevel = atx.level;
      previousBlank = false;
      continue;
    }
    // A Sphinx definition term converted by a generic HTML-to-Markdown tool (markdownify keeps
    // the permalink's "¶"): `Path.glob(pattern)¶` at the start of a paragraph, its description
    // on the next line. Each API entry becomes a section, one level below the page heading,
    // deeper when indented (a method inside its class).
    if (!plain && (previousBlank || !para) && isSphinxTerm(line)) {
      flush();
      const depth = leadingSpaces(line) >= 4 ? 2 : 1;
      blocks.push({ type: 'heading', level: Math.min(6, lastLevel + depth), title: line.trim().slice(0, -1), line, term: true });
      previousBlank = false;
      continue;
    }
    if (isBlank(line)) {
      flush();
      previousBlank = true;
      continue;
    }
    const underline = setextUnderline(line);
    if (underline && para && para.lines.length === 1 && isSetextCandidate(para.lines[0])) {
      blocks.push({ type: 'heading', level: underline, title: para.lines[0].trim(), line: para.lines[0], underline: line });
      lastLevel = underline;
      para = null;
      previousBlank = false;
      continue;
    }
    if (plain && (previousBlank || !para) && isPlainHeading(line)) {
      flush();
      blocks.push({ type: 'heading', level: 2, title: line.trim(), line });
      previousBlank = false;
      continue;
    }
    if (plain && (previousBlank || !para) && isPlainSubheading(line)) {
      flush();
      blocks.push({ type: 'heading', level: 3, title: line.trim(), line });
      previousBlank = false;
      continue;
    }
    if (!para) para = { type: 'para', lines: [] };
    para.lines.push(line);
    previousBlank = false;
  }
  flush();
  return blocks;
}

function isBlank(line) {
  for (let i = 0; i < line.length; i++) {
    const c = line.charCodeAt(i);
    if (c !== 32 && c !== 9 && c !== 13 && c !== 12 && c !== 11) return false;
  }
  return true;
}

function leadingSpaces(line) {
  let i = 0;
  while (i < line.length && i < 4 && line.charCodeAt(i) === 32) i++;
  return i;
}

function bareFence(line) {
  const f = openingFence(line);
  if (!f) return null;
  const rest = line.slice(f.end);
  return isBlank(rest) ? f : null;
}

function openingFence(line) {
  const start = leadingSpaces(line);
  if (start > 3) return null;
  const c = line[start];
  if (c !== '`' && c !== '~') return null;
  let end = start;
  while (end < line.length && line[end] === c) end++;
  const len = end - start;
  if (len < 3) return null;
  if (c === '`' && line.indexOf('`', end) >= 0) return null; // an info string may not contain a backtick
  return { ch: c, len, end };
}

function atxHeading(line) {
  const start = leadingSpaces(line);
  if (start > 3 || line[start] !== '#') return null;
  let end = start;
  while (end < line.length && line[end] === '#') end++;
  const level = end - start;
  if (level > 6) return null;
  if (end < line.length && line[end] !== ' ' && line[end] !== '\t') return null;
  let title = line.slice(end).trim();
  // A closing run of #s preceded by a space is not part of the title.
  let k = title.length;
  while (k > 0 && title[k - 1] === '#') k--;
  if (k < title.length && (k === 0 || title[k - 1] === ' ')) title = title.slice(0, k).trim();
  return { level, title };
}

function setextUnderline(line) {
  if (leadingSpaces(line) > 3 || line.length > 200) return 0;
  const t = line.trim();
  if (t.length < 2) return 0;
  const c = t[0];
  if (c !== '=' && c !== '-') return 0;
  for (let i = 0; i < t.length; i++) if (t[i] !== c) return 0;
  return c === '=' ? 1 : 2;
}

function isSetextCandidate(line) {
  if (leadingSpaces(line) > 3 || line.length > 200) return false;
  return !/^\s*(?:[-*+>|]|\d+[.)]\s)/.test(line) && /[\p{L}\p{N}]/u.test(line);
}

const CONTEXT7_SEPARATOR = /^-{40}\s*$/;

/** Whether a line is a Sphinx definition term with its permalink sign: a signature ending in "¶". */
function isSphinxTerm(line) {
  if (line.length > 600 || !line.endsWith('¶') || leadingSpaces(line) > 8) return false;
  const t = line.trim();
  return t.length > 1 && !/^[>:*+-]/.test(t) && /[\p{L}_]/u.test(t);
}

/** Whether a text is a Context7-style snippet list: `TITLE:` lines and 40-dash separators. */
export function looksLikeContext7(text) {
  const sample = text.length > 200000 ? text.slice(0, 200000) : text;
  const titles = sample.match(/^TITLE: .+\n(?:DESCRIPTION|SOURCE): /gm);
  return titles !== null && titles.length >= 2 && /^-{40}\s*$/m.test(sample);
}

// A man page's subsection: three spaces, then a short capitalised title without final punctuation.
function isPlainSubheading(line) {
  if (line.length > 50 || !line.startsWith('   ') || line[3] === ' ') return false;
  return /^ {3}[A-Z][A-Za-z0-9 ,&()/'-]{2,45}$/.test(line.trimEnd()) && !/[.:;,]$/.test(line.trimEnd());
}

function isPlainHeading(line) {
  if (line.length < 3 || line.length > 60 || line[0] === ' ' || line[0] === '\t') return false;
  if (!/^[A-Z][A-Z0-9 ,&()/_'-]*$/.test(line.trimEnd())) return false;
  return (line.match(/[A-Z]/g) || []).length >= 3;
}

// ---------------------------------------------------------------------------------------
// Noise

/** Links, images and the text left around them on one line. */
export function linkStats(line) {
  if (line.indexOf('](') < 0 && line.indexOf('http') < 0) return { links: 0, images: 0, linkChars: 0, residualChars: -1, residual: line, anchors: 0 };
  if (line.length > MAX_ANALYSED_LINE) return { links: 0, images: 0, linkChars: 0, residualChars: countWordChars(line), residual: line, anchors: 0 };
  let images = 0;
  let links = 0;
  let linkChars = 0;
  let anchors = 0;
  let rest = line.replace(/!\[([^\]\n]{0,500})\]\(([^)\s]{0,2000})[^)\n]{0,300}\)/g, (all, alt) => {
    images++;
    linkChars += countWordChars(alt);
    return '\u0001';
  });
  rest = rest.replace(/\[([^\]\n]{0,500})\]\(([^)\s]{0,2000})(?:\s+"[^"\n]{0,300}")?\)/g, (all, label, href) => {
    links++;
    if (href.startsWith('#')) anchors++;
    linkChars += countWordChars(label);
    return '\u0001';
  });
  rest = rest.replace(/<?https?:\/\/[^\s>)]{1,2000}>?/g, () => { links++; return '\u0001'; });
  return { links, images, linkChars, residualChars: countWordChars(rest), residual: rest, anchors };
}

/** Letters and digits in `s` (ASCII exactly; beyond ASCII, the common letter blocks). */
function countWordChars(s) {
  let k = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 128) {
      if ((c >= 48 && c <= 57) || ((c | 32) >= 97 && (c | 32) <= 122)) k++;
    } else if ((c >= 0xc0 && c < 0x2000 && c !== 0xd7 && c !== 0xf7) || (c >= 0x3040 && c < 0xa000) || (c >= 0xac00 && c < 0xd7b0)) {
      k++;
    }
  }
  return k;
}

const CHROME_LINE = [
  /skip to (?:main )?content/i,
  /\bedit (?:this|the) page\b/i,
  /\b(?:back|return) to top\b/i,
  /\bwas this (?:page|article|doc|section)[^?]{0,20} helpful\b/i,
  /^\s*(?:<sub>|<small>|_|\*)?\s*last (?:updated|modified|edited)\b/i,
  /^\s*search(?: the)?(?: docs?| documentation)?\s*(?:\.\.\.|…|⌘|ctrl)/i,
  /\breport an issue\b/i,
  /\bimprove this (?:page|doc)/i,
  /^\W*on this page\b/i,
  /^\W*(?:←\s*)?previous\W+(?:.*\W)?next\b/i,
  /^\s*(?:copyright\b|©)/i,
  /\ball rights reserved\b/i,
  /\bbuilt with (?:docusaurus|mkdocs|sphinx|hugo|jekyll|vitepress|gatsby|nextra|mintlify|gitbook|astro|starlight)\b/i,
  /\bsubscribe to (?:our|the) newsletter\b/i,
  /\bread the (?:full )?(?:release post|release notes|announcement|blog post)\b/i,
  /^\W*(?:share|tweet) (?:this|on)\b/i,
];
const COOKIE = /\bcookies?\b/i;
const CONSENT = /\b(?:accept|consent|reject|decline|preferences|settings|we use|this (?:site|website) uses)\b/i;
const LICENSE_BOILERPLATE = /permission is hereby granted|the software is provided ["“]?as is|above copyright notice|licensed under the apache license|redistribution and use in source and binary forms|gnu (?:lesser |affero )?general public license|this program is free software|without warranties or conditions of any kind/i;
// Tested only on short, trimmed lines: the optional parts around `>` would backtrack on long blank runs.
const ADMONITION_ONLY = /^>?\s*(?:\[!(?:note|tip|important|warning|caution|info|danger)\]|\*\*(?:note|tip|warning)\*\*:?)?$/i;
const TAG_ONLY = /^\s*(?:<\/?[A-Za-z][^>]{0,300}>\s*)+$/;
const LIST_MARKER = /^\s*(?:[-*+]|\d+[.)])\s+/;

/** Why a line is page chrome rather than content, or null. */
export function lineNoise(line) {
  return classifyLine(line).noise;
}

const NOT_NOISE = { noise: null, lone: false };

/** A line's noise kind (or null), and whether it is a lone link (part of a link list). */
function classifyLine(line) {
  const noise = lineNoiseOnly(line);
  if (noise) return { noise, lone: false };
  if (line.length > MAX_ANALYSED_LINE || (line.indexOf('](') < 0 && line.indexOf('http') < 0)) return NOT_NOISE;
  const s = linkStats(line.trim());
  const lone = s.links + s.images === 1 && countWordChars(s.residual.replace(LIST_MARKER, '')) <= 2;
  return lone ? { noise: null, lone } : NOT_NOISE;
}

function lineNoiseOnly(line) {
  const t = line.trim();
  if (!t) return null;
  const compact = t.replace(/\s+/g, '');
  if (/^(?:-{3,}|\*{3,}|_{3,})$/.test(compact)) return 'rule';
  if (t.length <= MAX_ANALYSED_LINE && TAG_ONLY.test(t)) return 'html';
  if (t.length <= MAX_CHROME_LINE) {
    for (const re of CHROME_LINE) if (re.test(t)) return 'chrome';
  }
  if (t.length <= 1000 && COOKIE.test(t) && CONSENT.test(t)) return 'cookie';
  if (t.length > MAX_ANALYSED_LINE) return null;
  const s = linkStats(t);
  const linkish = s.links + s.images;
  if (linkish === 0) return null;
  // (linkStats reports residualChars -1 when it skipped the line; linkish is then 0.)
  const residual = s.residual.replace(LIST_MARKER, '');
  const residualChars = countWordChars(residual);
  if (s.images > 0 && residualChars <= 3) return 'badge';
  if (linkish === 1 && residualChars === 0 && LIST_MARKER.test(t) && s.anchors === 1) return 'toc';
  if (linkish >= 2 && residualChars < 0.4 * (residualChars + s.linkChars)) return 'links';
  if (s.links >= 1 && /[›»]/.test(t) && t.length < MAX_CHROME_LINE) return 'breadcrumb';
  return null;
}

/**
 * Removes noise lines from a paragraph; returns the lines left, or null when the whole
 * paragraph is noise (a link list, license text, an admonition left empty).
 */
export function cleanParagraph(lines) {
  const joined = lines.length < 200 ? lines.join(' ') : lines.slice(0, 200).join(' ');
  if (joined.length < 20000 && LICENSE_BOILERPLATE.test(joined)) return null;
  const kept = [];
  let lone = 0;
  for (const line of lines) {
    const c = classifyLine(line);
    if (c.noise) continue;
    if (c.lone) lone++;
    kept.push(line);
  }
  if (kept.length === 0) return null;
  if (kept.length >= 2 && lone / kept.length >= 0.6) return null;
  if (kept.every((l) => l.length < 200 && ADMONITION_ONLY.test(l.trim()))) return null;
  if (kept.every((l) => !/[\p{L}\p{N}]/u.test(l))) return null;
  if (isCommentOnly(kept)) return null;
  return kept;
}

/**
 * Whether a paragraph is nothing but HTML comments (`<!-- YAML … -->` metadata in the Node.js
 * docs, `<!-- prettier-ignore -->`): invisible on the rendered page, so not content.
 */
function isCommentOnly(lines) {
  const text = lines.join('\n');
  let i = 0;
  while (i < text.length) {
    while (i < text.length && isBlank(text[i])) i++;
    if (i >= text.length) return true;
    if (!text.startsWith('<!--', i)) return false;
    const end = text.indexOf('-->', i + 4);
    if (end < 0) return false;
    i = end + 3;
  }
  return true;
}

// ---------------------------------------------------------------------------------------
// Sections

const NOISE_TITLE = /^(?:table of contents|contents|toc|on this page|in this article|licen[cs]e|licensing|copyright|sponsors?|backers|contributors|all contributors|acknowledge?ments?|credits|footer|navigation)$/;

/** A heading's title as plain text: links reduced to their labels, emphasis, code ticks and emoji removed. */
export function plainTitle(title) {
  let t = title.length > 500 ? title.slice(0, 500) : title;
  t = t.replace(/!\[([^\]]*)\]\([^)]*\)/g, '$1').replace(/\[([^\]]*)\]\([^)]*\)/g, '$1');
  t = t.replace(/<\/?(?:a|span|code|em|strong|b|i|u|sub|sup|small|img|br|kbd|mark|del|ins)\b[^>]{0,200}>/gi, '').replace(/[`*]/g, '');
  t = t.replace(/[\p{Extended_Pictographic}\u{FE0F}]/gu, '').replace(/\s+/g, ' ').trim();
  return t;
}

function isNoiseTitle(title) {
  const t = plainTitle(title).toLowerCase().replace(/[^\p{L}\p{N} ]/gu, '').trim();
  return NOISE_TITLE.test(t);
}

/** Text normalised for duplicate detection. */
export function normalise(text) {
  return text.toLowerCase().replace(/^[\s>]+/gm, '').replace(/\s+/g, ' ').trim();
}

/**
 * Groups blocks into sections: one per heading (up to the next heading of any level), plus
 * an untitled one for text before the first heading. Noise lines and paragraphs are removed,
 * sections under a noise heading (Table of Contents, License, Sponsors…) are marked noise, and
 * repeated paragraphs, code blocks and whole sections are marked duplicates.
 */
export function buildSections(blocks) {
  const sections = [];
  const headingStack = []; // {level, title, line, noise, node}
  let current = { index: 0, heading: null, ancestors: [], blocks: [], noise: false };
  sections.push(current);
  const seenBlocks = new Set();
  for (const block of blocks) {
    if (block.type === 'heading') {
      while (headingStack.length && headingStack[headingStack.length - 1].level >= block.level) headingStack.pop();
      const inheritedNoise = headingStack.some((h) => h.noise);
      const node = { level: block.level, title: plainTitle(block.title) || block.title.trim(), line: block.line, underline: block.underline ?? null, noise: inheritedNoise || isNoiseTitle(block.title), hasKept: false, aliases: [] };
      // Headings of one level with nothing between them share the body that follows (the
      // Node.js docs list an API's overloads so): the earlier ones are aliases of the last.
      const previous = current.heading;
      if (previous && current.blocks.length === 0 && previous.level === block.level && !previous.noise && !node.noise && previous.aliases.length < MAX_ALIASES) {
        node.aliases = [...previous.aliases, previous];
        previous.aliasOf = node;
      }
      current = { index: sections.length, heading: node, ancestors: headingStack.slice(), blocks: [], noise: node.noise };
      headingStack.push(node);
      sections.push(current);
      continue;
    }
    if (current.noise) continue;
    if (block.type === 'para') {
      const kept = cleanParagraph(block.lines);
      if (!kept) continue;
      const key = normalise(kept.join('\n'));
      if (key.length >= 120) {
        if (seenBlocks.has(key)) continue;
        seenBlocks.add(key);
      }
      current.blocks.push({ type: 'para', lines: kept });
    } else {
      const key = block.lines.join('\n');
      if (key.length >= 80) {
        if (seenBlocks.has(key)) continue;
        seenBlocks.add(key);
      }
      current.blocks.push(block);
    }
  }
  const seenSections = new Set();
  for (const s of sections) {
    s.content = !s.noise && s.blocks.length > 0;
    if (!s.content) continue;
    const key = normalise(s.blocks.map((b) => b.lines.join('\n')).join('\n'));
    if (key.length >= 40 && seenSections.has(key)) s.content = false;
    else seenSections.add(key);
  }
  return sections;
}
