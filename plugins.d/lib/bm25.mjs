// Tokenizing, light stemming and BM25 scoring for curate's section ranking.

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
  let w = word;
  if (w.length <= 3 || /\d/.test(w)) return w;
  if (w.endsWith('ies') && w.length > 4) w = w.slice(0, -3) + 'y';
  else if (w.endsWith('ied') && w.length > 4) w = w.slice(0, -3) + 'y';
  else if (w.endsWith('sses')) w = w.slice(0, -2);
  else if (/(?:ch|sh|x|z)es$/.test(w)) w = w.slice(0, -2);
  else if (w.endsWith('ing') && w.length > 5) w = undouble(w.slice(0, -3));
  else if (w.endsWith('ed') && w.length > 4) w = undouble(w.slice(0, -2));
  else if (w.endsWith('s') && !/(?:ss|us|is)$/.test(w)) w = w.slice(0, -1);
  if (w.length > 4 && w.endsWith('e')) w = w.slice(0, -1);
  return w;
}

function undouble(w) {
  const n = w.length;
  if (n > 3 && w[n - 1] === w[n - 2] && !'lsz'.includes(w[n - 1]) && !/[aeiou]/.test(w[n - 1])) return w.slice(0, -1);
  return w;
}

/** Splits an identifier into its lower-cased parts: "maxRetryAfter" → max, retry, after; "to_iso" → to, iso. */
export function identifierParts(word) {
  return word
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .toLowerCase()
    .split(/[_\s]+/)
    .filter(Boolean);
}

/**
 * Terms of a text: case-folded, stemmed, stopwords dropped. An identifier contributes itself
 * and its parts; a hyphenated word contributes its parts and the joined form ("back-off" →
 * back, off, backoff).
 */
export function terms(text) {
  const out = [];
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
    if (plainWord && previous && m.index === previousEnd + 1 && text.charCodeAt(previousEnd) === 32) {
      pushWord(out, previous + raw, true);
    }
    previous = plainWord ? raw : null;
    previousEnd = m.index + raw.length;
    const pieces = raw.includes('-') ? raw.split('-') : [raw];
    if (pieces.length > 1 && pieces.length <= 3) pushWord(out, pieces.join(''));
    for (const piece of pieces) {
      if (!piece || piece.length > MAX_TOKEN_LENGTH) continue;
      pushWord(out, piece);
      if (/[a-z][A-Z]|_/.test(piece)) {
        for (const part of identifierParts(piece)) if (part !== piece.toLowerCase()) pushWord(out, part);
      }
    }
  }
  return out;
}

function pushWord(out, word, compound = false) {
  const lower = word.toLowerCase();
  if (compound) { out.push(stem(lower)); return; }
  if (lower.length < 2 && !/\d/.test(lower)) return;
  if (STOPWORDS.has(lower)) return;
  out.push(stem(lower));
}

/**
 * Code identifiers in a text: camelCase, PascalCase with an inner capital, snake_case,
 * dotted calls and `name(` call sites, each mapped to the stemmed terms of its parts.
 */
export function identifiers(text) {
  const found = new Map();
  if (!text) return found;
  const re = /[A-Za-z_$][A-Za-z0-9_$]*(?:\.[A-Za-z_$][A-Za-z0-9_$]*)*(\s*\()?/g;
  let m;
  while ((m = re.exec(text)) !== null) {
    const whole = m[0].replace(/\s*\($/, '');
    if (whole.length > MAX_TOKEN_LENGTH * 2) continue;
    const isCall = m[1] !== undefined;
    for (const name of whole.split('.')) {
      if (found.has(name)) continue;
      const shaped = /[a-z][A-Z]/.test(name) || /[A-Za-z]_[A-Za-z]/.test(name);
      if (!shaped && !isCall) continue;
      if (name.length < 3) continue;
      found.set(name, identifierParts(name.replace(/\$/g, '')).map(stem));
    }
  }
  return found;
}

/**
 * Okapi BM25 over a list of documents, each a list of terms.
 * Returns a function scoring one document index against a list of query terms.
 */
export function bm25(docs, { k1 = 1.2, b = 0.75 } = {}) {
  const n = docs.length;
  const df = new Map();
  const tfs = docs.map((doc) => {
    const tf = new Map();
    for (const t of doc) tf.set(t, (tf.get(t) || 0) + 1);
    for (const t of tf.keys()) df.set(t, (df.get(t) || 0) + 1);
    return tf;
  });
  const lengths = docs.map((d) => d.length);
  const avg = lengths.reduce((a, x) => a + x, 0) / Math.max(1, n) || 1;
  const idf = (t) => {
    const d = df.get(t) || 0;
    return Math.log(1 + (n - d + 0.5) / (d + 0.5));
  };
  return (index, queryTerms) => {
    const tf = tfs[index];
    let score = 0;
    for (const q of queryTerms) {
      const f = tf.get(q);
      if (!f) continue;
      score += (idf(q) * f * (k1 + 1)) / (f + k1 * (1 - b + (b * lengths[index]) / avg));
    }
    return score;
  };
}
