// A small, forgiving HTML → Markdown-ish converter for documentation pages.
//
// One linear pass with indexOf; no regular expression ever runs over the whole
// input, and an element stack (an array, not recursion) survives arbitrarily deep
// nesting. Page chrome (script, style, nav, page-level header/footer, aside,
// cookie banners, sidebars, tables of contents) is dropped while converting.

const VOID = new Set(['area', 'base', 'br', 'col', 'embed', 'hr', 'img', 'input', 'link', 'meta', 'param', 'source', 'track', 'wbr']);
// Dropped with everything inside them.
const SKIP = new Set(['script', 'style', 'noscript', 'template', 'svg', 'math', 'iframe', 'object', 'canvas', 'nav', 'aside', 'form', 'button', 'select', 'textarea', 'dialog', 'head']);
// Dropped unless they sit inside <main> or <article> (there they hold the page title or a byline).
const CHROME = new Set(['header', 'footer']);
const BLOCK = new Set(['p', 'div', 'section', 'article', 'main', 'ul', 'ol', 'dl', 'table', 'blockquote', 'figure', 'figcaption', 'details', 'summary', 'body', 'html', 'center', 'address', 'fieldset', 'caption']);
const ROLE_SKIP = /^(navigation|banner|contentinfo|search|complementary|dialog|alertdialog)$/i;
const CHROME_WORDS = 'cookie|cookies|consent|gdpr|sidebar|sidenav|navbar|nav|menu|breadcrumbs?|toc|table-of-contents|anchor|hash-link|headerlink|permalink|heading-anchor|skip-link|skip-to-content|edit-page|edit-this-page|feedback|pagination|pager|announcement|banner|footer|header-anchor|share|social|newsletter|ad|ads|advert';
const CLASS_SKIP = new RegExp(`(?:^|[\\s_-])(${CHROME_WORDS})(?:$|[\\s_-])`, 'i');
// An id is most often a content anchor made from a title (DocBook's `SQL-FOR-UPDATE-SHARE`,
// Sphinx's `cookie-objects`): it names chrome only when it is made of chrome words alone, give
// or take a placement word (`site-footer`, `cookie-consent`, `main-menu`).
const PLACE_WORDS = 'site|page|main|top|bottom|global|primary|mobile|left|right|wrapper|container|bar|area|box|links|buttons|dialog';
const ID_SKIP = new RegExp(`^(?:(?:${PLACE_WORDS})[_-])*(?:${CHROME_WORDS})(?:[_-](?:${CHROME_WORDS}|${PLACE_WORDS}))*$`, 'i');
// Inside a heading only permalink anchors are chrome: Sphinx wraps the title itself in
// <a class="toc-backref">, which CLASS_SKIP would drop with the title.
const HEADING_CLASS_SKIP = /(?:^|[\s_-])(anchor|hash-link|headerlink|permalink|heading-anchor|header-anchor)(?:$|[\s_-])/i;
const HIDDEN = /display\s*:\s*none|visibility\s*:\s*hidden/i;

const ENTITIES = {
  amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ', ndash: '–', mdash: '—', hellip: '…', copy: '©',
  reg: '®', trade: '™', laquo: '«', raquo: '»', lsquo: '‘', rsquo: '’', ldquo: '“', rdquo: '”', bull: '•',
  middot: '·', rarr: '→', larr: '←', uarr: '↑', darr: '↓', times: '×', para: '¶', sect: '§', deg: '°', shy: '',
  zwj: '', zwnj: '', ensp: ' ', emsp: ' ', thinsp: ' ',
};

/** Decodes the common named and all numeric character references. */
export function decodeEntities(text) {
  if (text.indexOf('&') < 0) return text;
  return text.replace(/&(#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z]{2,8});/g, (all, name) => {
    if (name[0] === '#') {
      const code = name[1] === 'x' || name[1] === 'X' ? parseInt(name.slice(2), 16) : parseInt(name.slice(1), 10);
      if (!Number.isFinite(code) || code <= 0 || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) return '\ufffd';
      return String.fromCodePoint(code);
    }
    const v = ENTITIES[name.toLowerCase()];
    return v === undefined ? all : v;
  });
}

/** Whether `text` looks like an HTML document or fragment rather than Markdown or plain text. */
export function looksLikeHtml(text) {
  const head = text.slice(0, 2048).trimStart().toLowerCase();
  if (head.startsWith('<!doctype html') || head.startsWith('<html') || head.startsWith('<?xml') && head.includes('<html')) return true;
  const sample = text.length > 200000 ? text.slice(0, 200000) : text;
  // Markdown with HTML blocks in it (the tables of constants in the Node.js docs): it opens with
  // an ATX heading and has more of them, where an HTML page or fragment opens with a tag.
  if (/^#{1,6}[ \t]\S/.test(head) && (sample.match(/^#{1,6}[ \t]\S/gm) || []).length >= 3) return false;
  const blockTags = sample.match(/<(?:p|div|h[1-6]|li|section|article|table|tr|pre|br)[\s>/]/gi);
  if (!blockTags || blockTags.length < 8) return false;
  const lines = sample.split('\n', 100000).length;
  const fences = (sample.match(/^ {0,3}```/gm) || []).length;
  return blockTags.length >= Math.max(8, lines * 0.1) && fences < blockTags.length / 4;
}

const ATTRIBUTE_PATTERNS = new Map();
function attribute(tag, name) {
  // `tag` is one tag's source (at most MAX_TAG characters), so this regex stays cheap.
  let re = ATTRIBUTE_PATTERNS.get(name);
  if (!re) {
    re = new RegExp(`\\s${name}\\s*=\\s*(?:"([^"]*)"|'([^']*)'|([^\\s>]+))`, 'i');
    ATTRIBUTE_PATTERNS.set(name, re);
  }
  const m = re.exec(tag);
  return m ? decodeEntities(m[1] ?? m[2] ?? m[3] ?? '') : null;
}

const MAX_TAG = 4096;

/**
 * Converts HTML to Markdown-ish text: ATX headings, paragraphs, `- ` list items, fenced
 * code for <pre>, `inline code`, [links](href), ![images](src) and pipe-table rows.
 */
export function htmlToMarkdown(html) {
  const out = [];
  const stack = []; // open element names
  const counts = new Map(); // name → how many are open (close tags of unopened elements cost O(1))
  let skipDepth = -1; // stack length at which a skipped element was opened, or -1
  let pre = 0; // open <pre> elements
  let fenceOpen = false;
  let fenceLang = '';
  let heading = 0;
  let lastHeading = 1; // level of the last <h1>–<h6>, for <dt id> entries below it
  let entryHeading = false; // the open heading is a <dt id> entry
  let mainDepth = 0; // open main/article elements
  const lists = []; // {ordered, n}
  let linkHref = null;
  let i = 0;
  const n = html.length;

  const emit = (s) => { if (skipDepth < 0) out.push(s); };
  const push = (name) => { stack.push(name); counts.set(name, (counts.get(name) || 0) + 1); };
  const pop = () => {
    const name = stack.pop();
    counts.set(name, counts.get(name) - 1);
    const skipped = skipDepth >= 0;
    if (skipped && stack.length < skipDepth) skipDepth = -1;
    closeEffects(name, skipped);
    return name;
  };
  const closeEffects = (name, skipped) => {
    if (skipped) {
      if (name === 'pre') pre = Math.max(0, pre - 1);
      if (name === 'main' || name === 'article') mainDepth = Math.max(0, mainDepth - 1);
      if (name === 'ul' || name === 'ol') lists.pop();
      return;
    }
    if (/^h[1-6]$/.test(name) || (name === 'dt' && entryHeading)) { heading = 0; entryHeading = false; emit('\n\n'); }
    else if (name === 'pre') {
      pre = Math.max(0, pre - 1);
      if (pre === 0 && fenceOpen) { emit('\n```\n\n'); fenceOpen = false; }
    } else if (name === 'a') {
      if (linkHref !== null && !heading) emit(`](${linkHref})`);
      linkHref = null;
    } else if (name === 'code' && pre === 0) emit('`');
    else if (name === 'ul' || name === 'ol') { lists.pop(); emit('\n\n'); }
    else if (name === 'td' || name === 'th') emit(' |');
    else if (name === 'main' || name === 'article') { mainDepth = Math.max(0, mainDepth - 1); emit('\n\n'); }
    else if (name === 'tr') { /* the next row opens on a new line */ }
    else if (name === 'li' || name === 'dt' || name === 'dd') { /* the next item opens on a new line */ }
    else if (BLOCK.has(name)) emit('\n\n');
  };
  const text = (s) => {
    if (skipDepth >= 0 || s.length === 0) return;
    if (pre > 0) {
      if (!fenceOpen) {
        emit(`\n\n\`\`\`${fenceLang}\n`);
        fenceOpen = true;
        s = s.replace(/^\n/, '');
      }
      emit(decodeEntities(s));
      return;
    }
    let t = decodeEntities(s.replace(/\s+/g, ' '));
    if (heading) t = t.replace(/\n/g, ' ');
    if (t) emit(t);
  };

  while (i < n) {
    const lt = html.indexOf('<', i);
    if (lt < 0) { text(html.slice(i)); break; }
    if (lt > i) text(html.slice(i, lt));
    i = lt;
    const next = html.charCodeAt(i + 1);
    // Comments, CDATA, doctype, processing instructions.
    if (html.startsWith('<!--', i)) {
      const end = html.indexOf('-->', i + 4);
      i = end < 0 ? n : end + 3;
      continue;
    }
    if (next === 33 /* ! */ || next === 63 /* ? */) {
      const end = html.indexOf('>', i + 2);
      i = end < 0 ? n : end + 1;
      continue;
    }
    const closing = next === 47; /* / */
    const nameStart = closing ? i + 2 : i + 1;
    const c0 = html.charCodeAt(nameStart);
    const isLetter = (c0 >= 65 && c0 <= 90) || (c0 >= 97 && c0 <= 122);
    if (!isLetter) { text('<'); i += 1; continue; }
    // Find the end of the tag, honouring quotes but giving up at the next '<' or after MAX_TAG.
    let j = nameStart;
    let quote = 0;
    let end = -1;
    const limit = Math.min(n, i + MAX_TAG);
    for (; j < limit; j++) {
      const c = html.charCodeAt(j);
      if (quote) { if (c === quote) quote = 0; else if (c === 60) break; continue; }
      if (c === 34 || c === 39) quote = c;
      else if (c === 62) { end = j; break; }
      else if (c === 60) break;
    }
    if (end < 0) { text('<'); i += 1; continue; }
    const tag = html.slice(i, end + 1);
    i = end + 1;
    let k = nameStart;
    while (k < end) {
      const c = html.charCodeAt(k);
      if (c === 32 || c === 9 || c === 10 || c === 13 || c === 47 || c === 62) break;
      k++;
    }
    const name = html.slice(nameStart, k).toLowerCase();

    if (closing) {
      if (!counts.get(name)) continue; // stray close tag
      while (stack.length && stack[stack.length - 1] !== name) pop();
      if (stack.length) pop();
      continue;
    }

    // Raw-text elements: skip straight to their close tag.
    if (name === 'script' || name === 'style' || name === 'textarea' || name === 'title') {
      const close = indexOfCaseless(html, `</${name}`, i);
      i = close < 0 ? n : Math.max(i, html.indexOf('>', close) + 1 || n);
      continue;
    }

    // Implied closes that matter for sloppy HTML.
    if ((name === 'li' && stack[stack.length - 1] === 'li') || (name === 'p' && stack[stack.length - 1] === 'p')) pop();

    const selfClosing = VOID.has(name) || tag.endsWith('/>');
    if (!selfClosing) push(name);

    if (skipDepth < 0 && !selfClosing) {
      const role = attribute(tag, 'role');
      const cls = attribute(tag, 'class') || '';
      const id = attribute(tag, 'id') || '';
      const style = attribute(tag, 'style');
      const hidden = / hidden(?:\s|=|>|\/)/i.test(tag) || attribute(tag, 'aria-hidden') === 'true' || (style && HIDDEN.test(style));
      if (SKIP.has(name) || (CHROME.has(name) && mainDepth === 0) || hidden || (role && ROLE_SKIP.test(role)) ||
          (name !== 'body' && name !== 'html' && name !== 'main' && name !== 'article' && name !== 'pre' && name !== 'code' && (heading ? HEADING_CLASS_SKIP.test(cls) : CLASS_SKIP.test(cls) || ID_SKIP.test(id)))) {
        skipDepth = stack.length;
      }
    }
    if (name === 'main' || name === 'article') mainDepth++;
    if (skipDepth >= 0) {
      if (name === 'pre') pre++;
      if (name === 'ul' || name === 'ol') lists.push({ ordered: name === 'ol', n: 0 });
      continue;
    }

    if (/^h[1-6]$/.test(name)) {
      heading = Number(name[1]);
      lastHeading = heading;
      emit(`\n\n${'#'.repeat(heading)} `);
    } else if (name === 'dt' && !heading && isEntryTerm(tag)) {
      // An anchored definition term is an API entry (Sphinx `py function`/`class`/`method`,
      // javadoc, Doxygen): a heading below the page's last one, nested by <dl> depth.
      heading = Math.min(6, lastHeading + (counts.get('dl') || 1));
      entryHeading = true;
      emit(`\n\n${'#'.repeat(heading)} `);
    } else if (name === 'pre') {
      pre++;
      if (pre === 1) {
        fenceLang = languageOf(tag);
        fenceOpen = false;
      }
    } else if (name === 'code') {
      if (pre > 0) { if (!fenceOpen && !fenceLang) fenceLang = languageOf(tag); }
      else emit('`');
    } else if (name === 'br') emit(pre > 0 ? '\n' : '\n');
    else if (name === 'hr') emit('\n\n');
    else if (name === 'ul' || name === 'ol') { lists.push({ ordered: name === 'ol', n: 0 }); emit('\n'); }
    else if (name === 'li') {
      const list = lists[lists.length - 1];
      const indent = '  '.repeat(Math.max(0, Math.min(lists.length - 1, 8)));
      if (list && list.ordered) { list.n++; emit(`\n${indent}${list.n}. `); } else emit(`\n${indent}- `);
    } else if (name === 'tr') emit('\n|');
    else if (name === 'td' || name === 'th') emit(' ');
    else if (name === 'a') {
      const href = attribute(tag, 'href');
      if (href !== null && !heading && !/^\s*javascript:/i.test(href)) { linkHref = href.replace(/[()\s]/g, encodeURIComponent); emit('['); }
      else linkHref = null;
    } else if (name === 'img') {
      const alt = attribute(tag, 'alt') || '';
      const src = attribute(tag, 'src') || '';
      emit(`![${alt.replace(/[\[\]\n]/g, ' ')}](${src.replace(/[()\s]/g, encodeURIComponent)})`);
    } else if (name === 'blockquote') emit('\n\n> ');
    else if (name === 'dt') emit('\n');
    else if (name === 'dd') emit('\n  ');
    else if (BLOCK.has(name)) emit('\n\n');
  }
  if (fenceOpen && skipDepth < 0) out.push('\n```\n');
  return tidy(out.join(''));
}

/** A `<dt>` that is an anchor target (has an id) and not a footnote or citation label. */
function isEntryTerm(tag) {
  const id = attribute(tag, 'id');
  if (!id) return false;
  return !/(?:^|\s)(?:label|footnote|citation)(?:\s|$)/i.test(attribute(tag, 'class') || '');
}

function indexOfCaseless(html, needle, from) {
  // Scans for "</name" in either case without lower-casing the whole input.
  const first = needle.slice(0, 2);
  let p = html.indexOf(first, from);
  while (p >= 0) {
    if (html.substr(p, needle.length).toLowerCase() === needle) return p;
    p = html.indexOf(first, p + 1);
  }
  return -1;
}

function languageOf(tag) {
  const cls = attribute(tag, 'class') || attribute(tag, 'data-lang') || '';
  const m = /(?:^|\s)(?:language|lang)-([A-Za-z0-9_+#-]{1,20})/.exec(cls);
  return m ? m[1] : '';
}

/** Trims trailing spaces, collapses runs of blank lines and drops blank list items and table rows. */
function tidy(md) {
  const lines = md.split('\n');
  const kept = [];
  let blank = true;
  let inFence = false;
  for (let line of lines) {
    if (/^```/.test(line)) inFence = !inFence;
    if (!inFence) {
      line = line.trimEnd();
      if (line.charCodeAt(0) === 32 && line.charCodeAt(1) !== 32) line = line.slice(1);
      if (line.charCodeAt(0) === 35) line = line.replace(/^(#{1,6}) {2,}/, '$1 ');
      if (/^\s*(?:[-*]|\d+\.)\s*$/.test(line) || /^\|[\s|]*$/.test(line) || /^#{1,6}\s*$/.test(line) || /^>\s*$/.test(line)) line = '';
    }
    if (!inFence && line.trim() === '') {
      if (!blank) kept.push('');
      blank = true;
      continue;
    }
    kept.push(line);
    blank = false;
  }
  while (kept.length && kept[kept.length - 1] === '') kept.pop();
  return kept.join('\n');
}
