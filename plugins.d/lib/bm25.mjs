// Tokenizing, light stemming and BM25 scoring for curate's section ranking.

import { DERIVED, FOLDS, IRREGULAR, RELATED } from './vocabulary.mjs';

const STOPWORDS = new Set(
  ('a an and are as at be but by can could do does for from how i if in into is it its me my no not of on or ' +
    'our so than that the their them then there these they this to us was we what when where which while who ' +
    'why will with would you your')
    .split(' '),
);

const MAX_TOKEN_LENGTH = 40; // longer runs are hashes, base64 or minified code

/**
 * Folds English inflections so that "retries", "retried" and "retrying" meet "retry",
 * and "parsing", "parsed" and "parses" meet "parse". Deliberately crude: it only has to
 * map a query word and the document's word to the same key.
 */
const stemCache = new Map();

export function stem(word) {
  let w = stemCache.get(word);
  if (w !== undefined) return w;
  w = stemUncached(word);
  if (stemCache.size > 50000) stemCache.clear();
  stemCache.set(word, w);
  return w;
}

function stemUncached(word) {
  let w = IRREGULAR.get(word) ?? word;
  if (w.length <= 3 || /\d/.test(w)) return w;
  if (w.endsWith('ies') && w.length > 4) w = w.slice(0, -3) + 'y';
  else if (w.endsWith('ied') && w.length > 4) w = w.slice(0, -3) + 'y';
  else if (w.endsWith('sses')) w = w.slice(0, -2);
  else if (/(?:ch|sh|x|z)es$/.test(w)) w = w.slice(0, -2);
  // -ing and -ed only come off a stem with a vowel: "string" and "shred" stay whole.
  else if (w.endsWith('ing') && w.length > 5 && hasVowel(w, 3)) w = undouble(w.slice(0, -3));
  else if (w.endsWith('ed') && w.length > 4 && hasVowel(w, 2)) w = undouble(w.slice(0, -2));
  else if (w.endsWith('s') && !/(?:ss|us|is)$/.test(w)) w = w.slice(0, -1);
  if (w.length > 4 && w.endsWith('e')) w = w.slice(0, -1);
  return w;
}

function hasVowel(w, suffix) {
  return /[aeiouy]/.test(w.slice(0, w.length - suffix));
}

function undouble(w) {
  const n = w.length;
  if (n > 3 && w[n - 1] === w[n - 2] && !'lsz'.includes(w[n - 1]) && !/[aeiou]/.test(w[n - 1])) return w.slice(0, -1);
  // British doubling: "cancelled", "labelled", "modelled" meet "canceled", "label", "model".
  if (n > 5 && w.endsWith('ell')) return w.slice(0, -1);
  return w;
}

const FOLD = new Map();
for (const [canonical, ...variants] of [...FOLDS, ...DERIVED]) {
  for (const v of variants) if (stem(v) !== stem(canonical)) FOLD.set(stem(v), stem(canonical));
}

/** The index term of a lower-cased word: stemmed, then abbreviations folded ("params" → parameter). */
export function termKey(lower) {
  const s = stem(lower);
  return FOLD.get(s) ?? s;
}

const RELATED_WEIGHT = 0.5;
const RELATED_TERMS = new Map(); // term → terms it brings in
function relate(from, to) {
  if (from === to) return;
  let set = RELATED_TERMS.get(from);
  if (!set) RELATED_TERMS.set(from, (set = new Set()));
  set.add(to);
}
for (const group of RELATED) {
  const keys = group.map(termKey);
  for (const a of keys) for (const b of keys) relate(a, b);
}

/**
 * The query as BM25 reads it: one group per query term, holding the term (weight 1) and the
 * terms related to it (see vocabulary.mjs; weight RELATED_WEIGHT) that the query does not
 * have itself. A group scores its best member, so a page using three words for one intent
 * counts once. `weights` maps every term of the query to its weight.
 * @param {string[]} queryTerms distinct terms
 * @returns {{groups: Array<Array<[string, number]>>, weights: Map<string, number>, size: number}}
 */
export function expandQuery(queryTerms) {
  const own = new Set(queryTerms);
  const weights = new Map();
  const groups = queryTerms.map((t) => {
    const group = [[t, 1]];
    for (const r of RELATED_TERMS.get(t) ?? []) if (!own.has(r)) group.push([r, RELATED_WEIGHT]);
    return group;
  });
  for (const group of groups) for (const [t, w] of group) weights.set(t, Math.max(w, weights.get(t) ?? 0));
  return { groups, weights, size: queryTerms.length };
}

// A lower-case name ending in one of these abbreviations is read as two words too: `readdir`
// (read, dir), `signalfd`, `getenv`, `sockaddr`, `getaddrinfo`, `buflen`, `recvmsg`. They were
// chosen because, on documentation, hardly any English word ends in them.
const ABBREVIATED_TAIL = /^([a-z]{3,})(dir|fd|addr|buf|env|info|len|msg)$/;

/**
 * Splits an identifier into its lower-cased parts: "maxRetryAfter" → max, retry, after; "to_iso"
 * → to, iso; "readdir" → read, dir.
 */
export function identifierParts(word) {
  const parts = word
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .toLowerCase()
    .split(/[_\s]+/)
    .filter(Boolean);
  return parts.flatMap((part) => {
    const tail = part.length > 5 ? ABBREVIATED_TAIL.exec(part) : null;
    return tail ? [tail[1], tail[2]] : [part];
  });
}

/**
 * Terms of a text: case-folded, stemmed, stopwords dropped. An identifier contributes itself
 * and its parts; a hyphenated word contributes its parts and the joined form ("back-off" →
 * back, off, backoff). They are appended to `out` when given. Two words joined count only when
 * neither is a stopword, unless `phrases` (for headings and the query, where "durations and
 * intervals" meets its heading word by word; in running text "to an" is noise).
 */
export function terms(text, out = [], { phrases = false } = {}) {
  if (!text) return out;
  const re = /[A-Za-z0-9_]+(?:-[A-Za-z0-9_]+)*/g;
  let m;
  let previous = null; // the last plain word and where it ended, for compounds
  let previousEnd = -1;
  while ((m = re.exec(text)) !== null) {
    const raw = m[0];
    if (raw.length > MAX_TOKEN_LENGTH * 2) { previous = null; continue; }
    // Two plain words separated by one space also count joined ("time zone" → timezone).
    const plainWord = /^[A-Za-z]{2,20}$/.test(raw);
    if (plainWord && previous && m.index === previousEnd + 1 && text.charCodeAt(previousEnd) === 32 && (phrases || (!STOPWORDS.has(raw.toLowerCase()) && !STOPWORDS.has(previous.toLowerCase())))) {
      pushWord(out, previous + raw, true);
    }
    // A lone letter that is not a word of its own joins the next word ("n largest" → nlargest).
    previous = plainWord || (/^[A-Za-z]$/.test(raw) && !STOPWORDS.has(raw.toLowerCase())) ? raw : null;
    previousEnd = m.index + raw.length;
    const pieces = raw.includes('-') ? raw.split('-') : [raw];
    if (pieces.length > 1 && pieces.length <= 3) pushWord(out, pieces.join(''));
    for (const piece of pieces) {
      if (!piece || piece.length > MAX_TOKEN_LENGTH) continue;
      pushWord(out, piece);
      if (/[a-z][A-Z]|_/.test(piece) || (piece.length > 5 && ABBREVIATED_TAIL.test(piece))) {
        for (const part of identifierParts(piece)) if (part !== piece.toLowerCase()) pushWord(out, part);
      }
    }
  }
  return out;
}

function pushWord(out, word, compound = false) {
  const lower = word.toLowerCase();
  if (compound) { out.push(termKey(lower)); return; }
  if (lower.length < 2 && !/\d/.test(lower)) return;
  if (STOPWORDS.has(lower)) return;
  out.push(termKey(lower));
}

const SHAPED = /[a-z][A-Z]|[A-Za-z]_[A-Za-z]/;

/**
 * Code identifiers in a text: camelCase, PascalCase with an inner capital, snake_case,
 * dotted calls and `name(` call sites, each mapped to the terms of its parts.
 */
export function identifiers(text) {
  const found = new Map();
  if (!text) return found;
  const re = /[A-Za-z_$][A-Za-z0-9_$]*(?:\.[A-Za-z_$][A-Za-z0-9_$]*)*(\s*\()?/g;
  let m;
  while ((m = re.exec(text)) !== null) {
    const isCall = m[1] !== undefined;
    const whole = isCall ? m[0].slice(0, m[0].length - m[1].length) : m[0];
    if (whole.length > MAX_TOKEN_LENGTH * 2) continue;
    // Most words are neither calls nor shaped like identifiers: skip them without splitting.
    if (!isCall && !SHAPED.test(whole)) continue;
    for (const name of whole.split('.')) {
      if (found.has(name)) continue;
      const shaped = /[a-z][A-Z]/.test(name) || /[A-Za-z]_[A-Za-z]/.test(name);
      if (!shaped && !isCall) continue;
      if (name.length < 3) continue;
      found.set(name, identifierParts(name.replace(/\$/g, '')).map(termKey));
    }
  }
  return found;
}

/** Term frequencies of a list of terms. */
export function termFrequencies(list) {
  const tf = new Map();
  for (const t of list) tf.set(t, (tf.get(t) || 0) + 1);
  return tf;
}

/**
 * Okapi BM25 over a list of documents, each a list of terms.
 * Returns a function scoring one document index against a query (see expandQuery); its
 * `passage(tf, length, query)` scores a piece of a document (term frequencies and length)
 * with the collection's statistics, so pieces and documents compare, and
 * `frequencies(index)` gives a document's term counts.
 */
export function bm25(docs, { k1 = 1.2, b = 0.75 } = {}) {
  const n = docs.length;
  const df = new Map();
  const tfs = docs.map((doc) => {
    const tf = termFrequencies(doc);
    for (const t of tf.keys()) df.set(t, (df.get(t) || 0) + 1);
    return tf;
  });
  const lengths = docs.map((d) => d.length);
  const avg = lengths.reduce((a, x) => a + x, 0) / Math.max(1, n) || 1;
  const idf = (t) => {
    const d = df.get(t) || 0;
    return Math.log(1 + (n - d + 0.5) / (d + 0.5));
  };
  const score = (tf, length, query) => {
    let total = 0;
    const norm = k1 * (1 - b + (b * length) / avg);
    for (const group of query.groups) {
      let best = 0;
      for (const [q, weight] of group) {
        const f = tf.get(q);
        if (f) best = Math.max(best, (weight * idf(q) * f * (k1 + 1)) / (f + norm));
      }
      total += best;
    }
    return total;
  };
  const scorer = (index, query) => score(tfs[index], lengths[index], query);
  scorer.passage = score;
  scorer.frequencies = (index) => tfs[index];
  return scorer;
}
