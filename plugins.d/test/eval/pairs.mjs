// The evaluation's query/page pairs: plugins.d/test/eval/*.json, one file per source. Each
// file is { source, format, description, pairs: [{ page, query, keep, set, origin? }] }:
// `page` is relative to .cache/eval-docs/ (scripts/fetch-eval-docs makes it), `keep` are
// exact substrings of the page (for HTML, of curate's conversion of it) that answer the query,
// chosen by reading the page before curate was run on it, and `set` is "dev" or "test".
//
// The split was fixed before any tuning and is recorded in the files; splitOf() is the rule
// that made it, and the evaluation checks every recorded set against it, so a pair cannot
// quietly move between sets. The 35 pairs of the first evaluation (origin "v1") are dev: curate
// was already tuned on them. Every other pair is held out (test) when the first 32 bits of the
// SHA-256 of "page\nquery", read as a fraction of 2^32, are below TEST_SHARE, which puts about
// half of all pairs in each set. The pairs added when the corpus was widened (origin "v3") follow
// the same rule; the evaluation reports the held-out pairs before them on their own as well.
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
export const TEST_SHARE = 0.6;

/** "dev" or "test", by the rule above. */
export function splitOf(pair) {
  if (pair.origin === 'v1') return 'dev';
  const h = createHash('sha256').update(`${pair.page}\n${pair.query}`).digest();
  return h.readUInt32BE(0) / 2 ** 32 < TEST_SHARE ? 'test' : 'dev';
}

/** Every pair of every source file, with its `source` and `format` attached. */
export function loadPairs(dir = HERE) {
  const out = [];
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.json')).sort()) {
    const data = JSON.parse(readFileSync(join(dir, file), 'utf8'));
    for (const p of data.pairs) out.push({ ...p, source: data.source, format: data.format });
  }
  return out;
}
