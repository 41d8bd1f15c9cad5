// Tuning aid: prints why curate misses must-keep snippets on the DEV pairs only (the held-out
// pairs are never run here, so their misses stay unseen). For each miss, the section holding
// the snippet, its rank, score, cost and curate's explanation.
// Run: node plugins.d/test/curate-dev-misses.mjs [budget] (default: both the automatic budget and 1200)
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { curate, detectFormat } from '../curate.mjs';
import { htmlToMarkdown } from '../lib/html.mjs';
import { buildSections, parseBlocks } from '../lib/markdown.mjs';
import { loadPairs } from './eval/pairs.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const CACHE = join(HERE, '..', '..', '.cache', 'eval-docs');

// Under `node --test test/` this file is loaded too: it runs only when called directly.
if (process.argv[1] === fileURLToPath(import.meta.url) && !process.env.NODE_TEST_CONTEXT) {
  const budgets = process.argv[2] ? [process.argv[2] === 'auto' ? null : Number(process.argv[2])] : [null, 1200];
  for (const maxTokens of budgets) {
    for (const pair of loadPairs().filter((p) => p.set === 'dev')) {
      const raw = readFileSync(join(CACHE, pair.page), 'utf8').replace(/\r\n?/g, '\n');
      const r = curate(raw, { query: pair.query, maxTokens, explain: true });
      const missing = pair.keep.filter((k) => !r.text.includes(k));
      if (!missing.length) continue;
      const format = detectFormat(raw);
      const md = format === 'html' ? htmlToMarkdown(raw) : raw;
      const content = buildSections(parseBlocks(md, { plain: format === 'plain', context7: format === 'context7' })).filter((s) => s.content);
      const ex = r.explain.sections;
      const order = ex.map((s, i) => i).sort((a, b) => ex[b].score - ex[a].score);
      console.log(`\n=== [${maxTokens ?? 'auto'} → ${r.maxTokens}] ${pair.source} ${pair.page}: "${pair.query}" (${r.originalTokens} tokens in, kept ${r.keptTokens})`);
      console.log(`  terms: ${r.explain.query.terms.join(' ')}; threshold ${r.explain.threshold}, top ${r.explain.topScore}`);
      for (const m of missing) {
        const i = content.findIndex((s) => [s.heading?.line ?? '', ...s.blocks.map((b) => b.lines.join('\n'))].join('\n\n').includes(m));
        const e = ex[i];
        console.log(`  MISSING ${JSON.stringify(m.slice(0, 80))}`);
        if (e) console.log(`    in #${i} rank ${order.indexOf(i) + 1}: ${e.heading} — ${e.kept}, score ${e.score}, ${e.tokens} tokens, matched ${e.matched.join(',')}; ${e.reasons.join('; ')}`);
        else console.log('    (section not found)');
      }
      for (const [k, e] of ex.entries()) if (e.kept !== 'no') console.log(`    kept #${k} rank ${order.indexOf(k) + 1}: ${e.heading.slice(-70)} — ${e.kept}, score ${e.score}, ${e.tokens} t; ${e.reasons.join('; ')}`);
    }
  }
}
