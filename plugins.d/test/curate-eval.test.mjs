// Curation evaluation on real third-party documentation: the Node.js API reference
// (Markdown, Debian's nodejs-doc) and the Python library reference (Sphinx HTML, Debian's
// python3.11-doc). Nothing here was written for curate. scripts/fetch-eval-docs fetches
// the pages into .cache/eval-docs/ (apt-get download + dpkg -x, nothing installed).
//
// Each pair is a question a user would really ask and the page that answers it, with
// must-keep snippets: exact substrings of the page (checked below) that answer the
// question — a signature, a code line, a sentence. For every pair curate must keep all of
// them, write no line that is not in the page (the closing note apart), and stay within the
// budget. Overall the median reduction must be at least 60 %.
//
// Run: node --test plugins.d/test/curate-eval.test.mjs (CURATE_EVAL_SHOW=1 prints outputs).
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import plugin, { estimateTokens } from '../curate.mjs';
import { htmlToMarkdown } from '../lib/html.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = join(HERE, '..', '..');
const CACHE = join(ROOT, '.cache', 'eval-docs');
const NOTE_START = '\n\n---\n[curated by plugboard:';
const MAX_TOKENS = 2000;

/**
 * Query/page pairs. `keep`: exact substrings of the page (for HTML, of its text) that
 * answer the query and must survive curation. `knownMiss`: a pair curate's lexical ranking
 * does not answer yet, with the reason; it runs as a `todo` test (reported, not failing)
 * and counts in the printed retention, not in the asserted one.
 */
export const PAIRS = [
  // Node.js API reference (Markdown).
  {
    page: 'nodejs/fs.md',
    query: 'read a file line by line',
    keep: [
      '#### `filehandle.readLines([options])`',
      'Convenience method to create a `readline` interface and stream over the file.',
      'for await (const line of file.readLines()) {',
    ],
  },
  {
    page: 'nodejs/http.md',
    query: 'set a timeout on an outgoing http request',
    keep: [
      '### `request.setTimeout(timeout[, callback])`',
      '* `timeout` {number} Milliseconds before a request times out.',
    ],
  },
  {
    page: 'nodejs/child_process.md',
    query: 'spawn a child process with stdio inherit',
    keep: [
      "5. `'inherit'`: Pass through the corresponding stdio stream to/from the",
      "spawn('prg', [], { stdio: 'inherit' });",
    ],
  },
  {
    page: 'nodejs/child_process.md',
    query: 'run a shell command and get its stdout',
    knownMiss: 'spawn() (1,583 tokens) outscores exec() by 2 % and fills the budget; exec() is kept trimmed, without its example',
    keep: [
      '### `child_process.exec(command[, options][, callback])`',
      "exec('cat *.js missing_file | wc -l', (error, stdout, stderr) => {",
    ],
  },
  {
    page: 'nodejs/stream.md',
    query: 'pipeline error handling',
    keep: [
      '### `stream.pipeline(source[, ...transforms], destination, callback)`',
      "console.error('Pipeline failed.', err);",
    ],
  },
  {
    page: 'nodejs/events.md',
    query: 'wait for an event once with a promise',
    keep: [
      '## `events.once(emitter, name[, options])`',
      "const [value] = await once(ee, 'myevent');",
    ],
  },
  {
    page: 'nodejs/crypto.md',
    query: 'generate a random UUID',
    keep: [
      '### `crypto.randomUUID([options])`',
      'Generates a random [RFC 4122][] version 4 UUID. The UUID is generated using a',
    ],
  },
  {
    page: 'nodejs/url.md',
    query: 'get a query string parameter from a URL',
    knownMiss: 'the words match the legacy url.parse(urlString, parseQueryString) entries better than URLSearchParams',
    keep: [
      "const myURL = new URL('https://example.org/?abc=123');",
      "console.log(myURL.searchParams.get('abc'));",
    ],
  },
  {
    page: 'nodejs/path.md',
    query: 'join path segments',
    keep: [
      '## `path.join([...paths])`',
      "path.join('/foo', 'bar', 'baz/asdf', 'quux', '..');",
    ],
  },
  {
    page: 'nodejs/timers.md',
    query: 'await setTimeout with promises',
    keep: [
      '### `timersPromises.setTimeout([delay[, value[, options]]])`',
      "const res = await setTimeout(100, 'result');",
    ],
  },
  {
    page: 'nodejs/worker_threads.md',
    query: 'send messages between the main thread and a worker',
    knownMiss: '"main thread" and "message" are spread over many entries; the parentPort example ranks 6th',
    keep: [
      "worker.postMessage('Hello, world!');",
      'parentPort.postMessage(message);',
    ],
  },
  {
    page: 'nodejs/buffer.md',
    query: 'convert a buffer to a base64 string',
    knownMiss: 'buf.toString() is kept, but the base64 example sits in the 1,650-token "Buffers and character encodings" section',
    keep: [
      '### `buf.toString([encoding[, start[, end]]])`',
      "console.log(buf.toString('base64'));",
    ],
  },
  {
    page: 'nodejs/dns.md',
    query: 'resolve a hostname to an IP address',
    knownMiss: 'the page says "lookup" where the question says "resolve"; the dns.resolve*() family wins',
    keep: [
      '## `dns.lookup(hostname[, options], callback)`',
      "dns.lookup('example.org', (err, address, family) => {",
    ],
  },
  // Python library reference (Sphinx HTML, as a web-fetch tool would return it).
  {
    page: 'python/library/pathlib.html',
    query: 'list files matching a glob pattern',
    keep: [
      'Path.glob(pattern)',
      ">>> sorted(Path('.').glob('*.py'))",
    ],
  },
  {
    page: 'python/library/json.html',
    query: 'pretty print JSON with indentation',
    keep: [
      ">>> print(json.dumps({'4': 5, '6': 7}, sort_keys=True, indent=4))",
    ],
  },
  {
    page: 'python/library/subprocess.html',
    query: 'run a command and capture its output',
    keep: [
      'subprocess.run(args, *, stdin=None, input=None, stdout=None, stderr=None, capture_output=False',
      'If capture_output is true, stdout and stderr will be captured.',
      '>>> subprocess.run(["ls", "-l", "/dev/null"], capture_output=True)',
    ],
  },
  {
    page: 'python/library/asyncio-task.html',
    query: 'run coroutines concurrently with gather',
    keep: [
      'awaitable asyncio.gather(*aws, return_exceptions=False)',
      'Run [awaitable objects](#asyncio-awaitables) in the aws sequence concurrently.',
    ],
  },
  {
    page: 'python/library/argparse.html',
    query: 'default value for an optional argument',
    keep: [
      ">>> parser.add_argument('--foo', default=42)",
    ],
  },
  {
    page: 'python/library/re.html',
    query: 'find all matches of a pattern in a string',
    keep: [
      're.findall(pattern, string, flags=0)',
      ">>> re.findall(r'\\bf[a-z]*', 'which foot or hand fell fastest')",
    ],
  },
  {
    page: 'python/library/datetime.html',
    query: 'parse a date string with strptime',
    keep: [
      'classmethod datetime.strptime(date_string, format)',
      'Return a [`datetime`](#datetime.datetime) corresponding to date_string, parsed according to format.',
    ],
  },
  {
    page: 'python/library/itertools.html',
    query: 'group consecutive items with groupby',
    keep: [
      'itertools.groupby(iterable, key=None)',
      'for k, g in groupby(data, keyfunc):',
    ],
  },
  {
    page: 'python/library/logging.html',
    query: 'configure logging to write to a file',
    keep: [
      'logging.basicConfig(**kwargs)',
      'Specifies that a [`FileHandler`](logging.handlers.html#logging.FileHandler) be created, using the specified filename',
    ],
  },
  {
    page: 'python/library/collections.html',
    query: 'count occurrences and get the most common elements',
    keep: [
      'class collections.Counter([iterable-or-mapping])',
      ">>> Counter('abracadabra').most_common(3)",
    ],
  },
];

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

const rows = [];
const show = process.env.CURATE_EVAL_SHOW === '1';

describe('curate on real documentation (nodejs-doc, python3.11-doc)', () => {
  before(() => {
    execFileSync(join(ROOT, 'scripts', 'fetch-eval-docs'), { stdio: ['ignore', 'ignore', 'inherit'], timeout: 300000 });
  }, { timeout: 310000 });

  for (const pair of PAIRS) {
    const name = `${pair.page.replace(/^.*\//, '')}: "${pair.query}"`;
    test(name, { todo: pair.knownMiss }, () => {
      const raw = readFileSync(join(CACHE, pair.page), 'utf8');
      const isHtml = pair.page.endsWith('.html');
      // The text curate selects from: the page itself, or curate's conversion of the HTML page.
      const reference = isHtml ? htmlToMarkdown(raw) : raw;
      for (const snippet of pair.keep) {
        assert.ok(reference.includes(snippet), `must-keep snippet not in the page: ${snippet}`);
        // For HTML, the snippet is also in the page's own text, independently of the converter.
        if (isHtml) assert.ok(htmlText(raw).includes(collapse(unlinked(snippet))), `must-keep snippet not in the HTML text: ${snippet}`);
      }

      const input = {
        toolName: 'fetch',
        rawContent: raw,
        maxTokens: MAX_TOKENS,
        metadata: { requestId: 1, timestamp: '2026-01-01T00:00:00Z', serverName: 'docs', phase: 'response', userQuery: pair.query },
        method: 'tools/call',
        arguments: {},
        result: { content: [{ type: 'text', text: raw }] },
        config: {},
      };
      const out = plugin.response(input);
      assert.ok(out, 'expected a curated result');
      if (show) console.log(`\n===== ${name}\n${out.text}\n`);
      const kept = pair.keep.filter((s) => out.text.includes(s));
      rows.push({ name, knownMiss: pair.knownMiss, format: out.metadata.format, tokensIn: out.metadata.originalTokens, tokensOut: estimateTokens(out.text), reduction: out.metadata.reduction, kept: kept.length, total: pair.keep.length });

      const missing = pair.keep.filter((s) => !out.text.includes(s));
      assert.deepEqual(missing, [], `must-keep snippets dropped (kept ${kept.length}/${pair.keep.length})`);
      assert.ok(estimateTokens(out.text) <= MAX_TOKENS, `over budget: ${estimateTokens(out.text)}`);
      assert.ok(out.text.slice(out.text.indexOf(NOTE_START)).startsWith(NOTE_START), 'closing note missing');
      // No line of its own: every line is a line of the page (headings included).
      const lines = new Set(reference.split('\n').map((l) => l.trimEnd()));
      for (const line of body(out.text).split('\n')) {
        if (line.trim() === '') continue;
        assert.ok(lines.has(line.trimEnd()), `line not in the page: ${JSON.stringify(line.slice(0, 120))}`);
      }
      // Code fences stay balanced.
      assert.equal((body(out.text).match(/^ {0,3}```/gm) || []).length % 2, 0, 'unbalanced code fences');
    });
  }

  test('overall: every must-keep snippet retained, median reduction at least 60 %', () => {
    assert.equal(rows.length, PAIRS.length, 'some pairs did not run');
    const sum = (list, key) => list.reduce((a, r) => a + r[key], 0);
    const kept = sum(rows, 'kept');
    const total = sum(rows, 'total');
    const held = rows.filter((r) => !r.knownMiss);
    const reductions = rows.map((r) => r.reduction).sort((a, b) => a - b);
    const mid = reductions.length >> 1;
    const median = reductions.length % 2 ? reductions[mid] : (reductions[mid - 1] + reductions[mid]) / 2;
    const pct = (x) => `${(x * 100).toFixed(1)} %`;
    const table = [
      '',
      '| Pair | Format | Tokens in | Tokens out | Reduction | Retained |',
      '|---|---|---:|---:|---:|---:|',
      ...rows.map((r) => `| ${r.name}${r.knownMiss ? ' (known miss)' : ''} | ${r.format} | ${r.tokensIn} | ${r.tokensOut} | ${pct(r.reduction)} | ${r.kept}/${r.total} |`),
      '',
      `Overall: ${rows.length} pairs, median reduction ${pct(median)} (min ${pct(reductions[0])}, max ${pct(reductions[reductions.length - 1])}), ` +
        `retained ${kept}/${total} snippets (${pct(kept / total)}); ${rows.filter((r) => r.kept === r.total).length}/${rows.length} pairs complete.`,
      `Without the ${rows.length - held.length} known misses: retained ${sum(held, 'kept')}/${sum(held, 'total')}.`,
      ...rows.filter((r) => r.knownMiss).map((r) => `Known miss, ${r.name}: ${r.knownMiss}${r.kept === r.total ? ' — NOW COMPLETE: remove knownMiss' : ''}`),
    ];
    console.log(table.join('\n'));
    assert.equal(sum(held, 'kept'), sum(held, 'total'), 'retention below 100 % outside the known misses');
    assert.ok(median >= 0.6, `median reduction ${pct(median)} < 60 %`);
  });
});

