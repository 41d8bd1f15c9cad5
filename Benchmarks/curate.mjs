// curate's latency on real documentation, as a warm plugin worker sees it: one process, the
// module loaded once, warm-up calls first, then N timed calls of plugin.response() on 50 KB
// and 500 KB inputs cut from the evaluation pages (the Node.js API reference in Markdown and
// the Python library reference in HTML, fetched by scripts/fetch-eval-docs).
//
//   node Benchmarks/curate.mjs [--runs 200] [--warmup 20] [--max-tokens N] [--json]
//
// The budget is curate's default, the automatic one (input.maxTokens null, as plugboard passes
// it when none is configured); --max-tokens N fixes it instead.
// Target (docs/curate.md): < 20 ms p50 for 50 KB on a warm worker.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import plugin from '../plugins.d/curate.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const option = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const RUNS = Math.max(50, option('--runs', 200));
const WARMUP = option('--warmup', 20);
const MAX_TOKENS = option('--max-tokens', null);
const TARGET_P50_50KB_MS = 20;

const cache = execFileSync(join(ROOT, 'scripts', 'fetch-eval-docs'), { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
const read = (p) => readFileSync(join(cache, p), 'utf8');

// Inputs: pages concatenated in a fixed order and cut at a line boundary near the size.
function sized(pages, bytes) {
  let text = '';
  for (let i = 0; Buffer.byteLength(text) < bytes; i++) text += (text ? '\n\n' : '') + read(pages[i % pages.length]);
  const cut = text.lastIndexOf('\n', bytes);
  return text.slice(0, cut > bytes * 0.9 ? cut : bytes);
}
const MD = ['nodejs/stream.md', 'nodejs/fs.md', 'nodejs/http.md', 'nodejs/child_process.md'];
// HTML stays one document per input (a fetched page), so the 500 KB one is a single big page.
function htmlSized(bytes) {
  const page = read('python/library/datetime.html'); // 422 KB
  const body = read('python/library/re.html');
  const html = page.replace('</body>', body.slice(body.indexOf('<body'), body.indexOf('</body>')) + '</body>');
  return bytes < html.length ? html.slice(0, html.lastIndexOf('\n', bytes)) : html;
}

const CASES = [
  { name: 'markdown 50 KB', text: sized(MD, 50 * 1024), query: 'pipeline error handling', target: TARGET_P50_50KB_MS },
  { name: 'html 50 KB', text: htmlSized(50 * 1024), query: 'parse a date string with strptime', target: TARGET_P50_50KB_MS },
  { name: 'markdown 500 KB', text: sized(MD, 500 * 1024), query: 'read a file line by line' },
  { name: 'html 500 KB', text: htmlSized(500 * 1024), query: 'find all matches of a pattern in a string' },
];

const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
const results = [];
for (const c of CASES) {
  const input = { toolName: 'get-library-docs', rawContent: c.text, maxTokens: MAX_TOKENS, metadata: { userQuery: c.query }, arguments: {}, config: {} };
  let out;
  for (let i = 0; i < WARMUP; i++) out = plugin.response(input);
  const times = [];
  for (let i = 0; i < RUNS; i++) {
    const t0 = process.hrtime.bigint();
    out = plugin.response(input);
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  times.sort((a, b) => a - b);
  results.push({
    case: c.name, bytes: Buffer.byteLength(c.text), runs: RUNS, warmup: WARMUP,
    p50: percentile(times, 50), p99: percentile(times, 99), min: times[0], max: times[times.length - 1],
    tokensIn: out.metadata.originalTokens, budget: out.metadata.maxTokens, tokensOut: out.metadata.keptTokens, target: c.target ?? null,
  });
}

if (args.includes('--json')) {
  console.log(JSON.stringify({ node: process.version, results }, null, 2));
} else {
  const f = (x) => x.toFixed(2).padStart(7);
  console.log(`curate, warm (${WARMUP} warm-up calls, ${RUNS} timed), budget ${MAX_TOKENS ?? 'automatic'}, node ${process.version}`);
  console.log('case               bytes     p50 ms  p99 ms  min ms  max ms  tokens in→out  budget  target');
  for (const r of results) {
    const verdict = r.target === null ? '' : `p50 < ${r.target} ms: ${r.p50 < r.target ? 'met' : 'MISSED'}`;
    console.log(`${r.case.padEnd(16)} ${String(r.bytes).padStart(7)} ${f(r.p50)} ${f(r.p99)} ${f(r.min)} ${f(r.max)}  ${String(r.tokensIn).padStart(6)}→${String(r.tokensOut).padEnd(5)}  ${String(r.budget).padStart(6)}  ${verdict}`);
  }
}
process.exitCode = results.every((r) => r.target === null || r.p50 < r.target) ? 0 : 1;
